"""The catalogue of published models: one :class:`PretrainedModel` per name, in the manner of timm's
``pretrained_cfg``: where each file is published, its checksum where the publisher gives one, the licence,
the paper, the network settings the file needs, and the input size and range the model was trained with.

The entries live with their family's converter, one module per family (:mod:`gan_style.pretrained.families`),
registered in :mod:`gan_style.pretrained.registry`; importing this module registers them all.

Names are ``<family>/<model>`` (``cyclegan/horse2zebra``); the model part alone is accepted where only one
family has it (``horse2zebra``, but not ``sat2map``, which CycleGAN and pix2pix both publish).
"""

from __future__ import annotations

import gan_style.pretrained.families  # noqa: F401  (registers every family's entries and converter)
from gan_style.errors import DownloadSettingError
from gan_style.pretrained.registry import CATALOGUE, PretrainedModel, PublishedFile

__all__ = ["CATALOGUE", "PretrainedModel", "PublishedFile", "list_pretrained", "resolve_pretrained"]


def list_pretrained() -> list[PretrainedModel]:
    """Every catalogue entry, grouped by family in catalogue order."""
    return list(CATALOGUE.values())


def resolve_pretrained(name: str) -> PretrainedModel:
    """The catalogue entry called ``name``: a full name (``cyclegan/horse2zebra``), a model name that only one
    family publishes (``horse2zebra``), or a family that publishes one model (``adain``); case-insensitive,
    ``-`` read as ``_``.

    Raises:
        DownloadSettingError (a ValueError): no such model, or a short name several families publish; the
            message lists the candidates or the close matches.
    """
    import difflib

    key = name.strip().lower().replace("-", "_")
    if key in CATALOGUE:
        return CATALOGUE[key]
    matches = [entry for entry in CATALOGUE.values() if entry.short_name == key]
    family = [entry for entry in CATALOGUE.values() if entry.family == key]
    if not matches and len(family) == 1:
        return family[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DownloadSettingError(
            f"pretrained model '{name}' is published by several families: "
            f"{', '.join(m.name for m in matches)}; give the full name"
        )
    if family:
        raise DownloadSettingError(
            f"'{name}' publishes several models: {', '.join(e.name for e in family)}; give one of them"
        )
    close = difflib.get_close_matches(key, [*CATALOGUE, *{e.short_name for e in CATALOGUE.values()}], n=4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise DownloadSettingError(f"unknown pretrained model '{name}'{hint} (`gan-style pretrained` lists them all)")
