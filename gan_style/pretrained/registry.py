"""The registry of published models, in the manner of timm's ``_registry.py``: a dict of entries, a dict of
converters, and a decorator that fills both and fails loudly.

Each family of published files (``cyclegan``, ``pix2pix``, ``adain`` ...) is one module of
:mod:`gan_style.pretrained.families` holding its catalogue entries and the converter of its layout::

    ENTRIES = [PretrainedModel(name="cyclegan/horse2zebra", family="cyclegan", ...), ...]


    @register_family("cyclegan", ENTRIES)
    def convert(files: dict[str, Path], settings: dict, name: str) -> Stylizer: ...

Registering a family or an entry name twice, or an entry under another family, is an error (a second
registration would silently shadow the first one). This module imports no family and nothing heavy: the
catalogue is complete once :mod:`gan_style.pretrained.families` is imported (:mod:`gan_style.pretrained` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from gan_style.inference.stylizer import Stylizer

__all__ = ["CATALOGUE", "CONVERTERS", "Converter", "PretrainedModel", "PublishedFile", "register_family"]


@dataclass(frozen=True)
class PublishedFile:
    """One file as its publisher serves it.

    Attributes:
        url: the official address.
        sha256: the publisher's sha256, or None where none is published (then the one computed on the first
            download is printed, to pin it with ``--sha256`` or in a mirror).
        size_mb: approximate size in megabytes (10^6 bytes), from the network's parameter count; shown in
            listings, not checked.
        member: for an archive, the file inside it that this model uses (None: the file itself).
    """

    url: str
    sha256: str | None = None
    size_mb: float | None = None
    member: str | None = None

    @property
    def filename(self) -> str:
        """The file name in the cache: the URL's last path component without its query."""
        return self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PretrainedModel:
    """A published model and what it takes to run it.

    Attributes:
        name: ``<family>/<model>``, e.g. ``cyclegan/horse2zebra``.
        family: ``cyclegan``, ``pix2pix``, ``adain``, ``fast_neural_style`` or ``cut``: the module of
            :mod:`gan_style.pretrained.families` whose converter builds the stylizer, and the cache subfolder.
        method: the method in words (``CycleGAN``).
        task: what it does, e.g. ``horse -> zebra``.
        files: role -> :class:`PublishedFile` (``generator``; AdaIN: ``decoder`` and ``encoder``).
        settings: the network settings the files need (``{"n_blocks": 9, "norm": "instance"}``).
        input_size: the image size (pixels, square crops) it was trained at.
        input_range: the pixel range of the original code's input (``[-1, 1]``, ``[0, 1]``, ``[0, 255]``);
            gan-style always takes [-1, 1] and converts.
        takes_style: whether it needs style images (AdaIN: any style; the others: the style is in the weights).
        licence: the licence of the published code and weights (the training images have their own terms).
        paper: the paper the model follows.
        source: the project that publishes it.
    """

    name: str
    family: str
    method: str
    task: str
    files: dict[str, PublishedFile]
    settings: dict[str, Any] = field(default_factory=dict)
    input_size: int = 256
    input_range: str = "[-1, 1]"
    takes_style: bool = False
    licence: str = ""
    paper: str = ""
    source: str = ""

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]

    @property
    def size_mb(self) -> float:
        """Approximate download size in megabytes (all files; an archive counts once)."""
        seen: dict[str, float] = {}
        for f in self.files.values():
            seen[f.url] = f.size_mb or 0.0
        return sum(seen.values())


#: A family's converter: (downloaded files by role, network settings, model name) -> the method's Stylizer.
Converter = Callable[[dict[str, Path], dict[str, Any], str], "Stylizer"]
C = TypeVar("C", bound=Converter)

#: Every published model by its full name, in registration order (family by family).
CATALOGUE: dict[str, PretrainedModel] = {}

#: family -> its converter.
CONVERTERS: dict[str, Converter] = {}


def register_family(family: str, entries: Iterable[PretrainedModel]) -> Callable[[C], C]:
    """Decorator registering a family's converter under ``family`` and its catalogue ``entries``.

    Raises:
        ValueError: ``family`` already registered, an entry of another family, or an entry name registered
            twice (in this call or before); nothing is registered then.
    """
    entries = list(entries)

    def decorator(converter: C) -> C:
        if family in CONVERTERS:
            raise ValueError(
                f"published-model family {family!r} is already registered (by {CONVERTERS[family].__module__}); "
                f"registered: {', '.join(CONVERTERS)}"
            )
        names: set[str] = set()
        for entry in entries:
            if entry.family != family or not entry.name.startswith(f"{family}/"):
                raise ValueError(f"entry {entry.name!r} (family {entry.family!r}) registered under family {family!r}")
            if entry.name in CATALOGUE or entry.name in names:
                raise ValueError(f"published model {entry.name!r} is already registered")
            names.add(entry.name)
        CONVERTERS[family] = converter
        CATALOGUE.update((entry.name, entry) for entry in entries)
        return converter

    return decorator
