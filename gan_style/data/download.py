"""The standard CycleGAN and pix2pix datasets: the catalogue of the official archives and
:func:`download_dataset`, which picks the archive, where it goes and which layout it must have.

Examples::

    from gan_style.data.download import download_dataset
    download_dataset("horse2zebra")                      # -> Path("datasets/horse2zebra")
    download_dataset("pix2pix/facades", root="/data")    # -> Path("/data/facades_pix2pix")

Command line: ``gan-style download horse2zebra`` (:mod:`gan_style.commands.download`). The resumable,
verified download is :func:`gan_style.io.download.download_file`, the safe extraction
:func:`gan_style.io.archive.extract_archive`; the error classes live in :mod:`gan_style.errors` and are
importable from here too.

Names are ``<family>/<name>`` (``cyclegan/horse2zebra``, ``pix2pix/facades``); the bare name is enough
when only one family has it (``facades``, ``maps`` and ``cityscapes`` exist in both). A dataset goes to
``<root>/<name>``, or ``<root>/<name>_<family>`` for those three shared names, so both copies can live
side by side.

Checksums: the CycleGAN archives carry the sha256 and size published by TensorFlow Datasets; the other
archives have no published checksum, so they are checked by size (when the server reports it) and by the
archive's own CRCs at extraction, and the sha256 computed after downloading is printed so it can be
recorded and passed back with ``sha256=`` / ``--sha256``.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gan_style.errors import (
    ArchiveError,
    ChecksumError,
    DownloadError,
    DownloadSettingError,
    OfflineError,
    UnsafeArchiveError,
)
from gan_style.io.archive import extract_archive
from gan_style.io.download import check_sha256, download_file, offline_message

__all__ = [
    "DATASETS",
    "ArchiveError",
    "ChecksumError",
    "DatasetInfo",
    "DownloadError",
    "DownloadSettingError",
    "OfflineError",
    "UnsafeArchiveError",
    "download_dataset",
    "list_datasets",
    "resolve_dataset",
]

Kind = Literal["unpaired", "paired-aligned", "images"]

CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"


# ------------------------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class DatasetInfo:
    """One downloadable dataset.

    Attributes:
        key: ``<family>/<name>``, e.g. ``cyclegan/horse2zebra``.
        kind: ``unpaired`` (``trainA/ trainB/ testA/ testB/``, CycleGAN recipe), ``paired-aligned``
            (``train/ val/ test/`` of A|B side-by-side images, pix2pix recipe) or ``images`` (plain photos,
            no training layout).
        url: where the archive is downloaded from.
        folder: the dataset folder's name under the download root.
        size: archive size in bytes, or None when not published.
        sha256: archive sha256 (hex), or None when not published.
        layout: sub-folders a complete copy must have (checked before skipping a download).
        direction: ``AtoB`` / ``BtoA`` for the pix2pix recipe (A is the left half), None: the recipe's.
        note: one line shown by ``--list`` and after the download.
        restricted: why the archive is not fetched from the network (license); a copy placed in the
            download root by the user is still verified and extracted. None: downloadable.
    """

    key: str
    kind: Kind
    url: str
    folder: str
    size: int | None = None
    sha256: str | None = None
    layout: tuple[str, ...] = ()
    direction: Literal["AtoB", "BtoA"] | None = None
    note: str = ""
    restricted: str | None = None

    @property
    def family(self) -> str:
        """``cyclegan`` or ``pix2pix``."""
        return self.key.split("/", 1)[0]

    @property
    def name(self) -> str:
        """The official name, e.g. ``horse2zebra``."""
        return self.key.split("/", 1)[1]

    @property
    def filename(self) -> str:
        """The archive's file name, e.g. ``horse2zebra.zip``."""
        return self.url.rsplit("/", 1)[-1]


# Sizes (bytes) and sha256 of the CycleGAN zips: TensorFlow Datasets, tensorflow/datasets
# tensorflow_datasets/url_checksums/cycle_gan.txt, published for the same files under their former
# address https://people.eecs.berkeley.edu/~taesung_park/CycleGAN/datasets/<name>.zip (the reference
# repository's download script later moved to efrosgans.eecs.berkeley.edu without other changes).
# No published checksum was found for ae_photos, mini, mini_pix2pix, mini_colorization, grumpifycat or
# any pix2pix tarball: those stay None.
_CYCLEGAN_CHECKSUMS: dict[str, tuple[int, str]] = {
    "apple2orange": (78456409, "845a191e9af8926408ea597001cd03a452e3300a1f44a79fe329b3d59f6e3eb8"),
    "cezanne2photo": (279885071, "3a6c10ca21f9485862f1cbd707744b9dc258954a04631271d23a3605eeb63cff"),
    "cityscapes": (279601602, "d2f6910fd056c1ee9873777ae838e7ac4a2c833598ae62a04188e5ab2f4ea036"),
    "facades": (35135868, "9a31ebf3a31b9b5cd195dd5bf62e9308e00cb94604d1019e3889ac84248695c0"),
    "horse2zebra": (116867962, "a74d9d392eecca9966b51287a76ca126af473d9de4f3e8fc0e9cda08fa1730a1"),
    "iphone2dslr_flower": (339964458, "8fcb5e374d631b107e1d961b8c4cd0a186aa2a4ff3e279923f4c426128de7113"),
    "maps": (1476754427, "639534f69dbf9f36bef8d6292a7698006361221f83f0285d7c9ca78afe6e8a9e"),
    "monet2photo": (305231073, "88f91b00fc228f97c9411fbf1880ec1d119c98f1722e4cfcfaa2fb35fac05b04"),
    "summer2winter_yosemite": (132640856, "167fe1726807a9d22bd106b4a6c0bd7953b688af924ac1bf967439c4961e49f9"),
    "ukiyoe2photo": (292946532, "02a2a2fb5ecf425ca1bf86aca7304377da64a2a1d3b86df54eb65e4068bf3b08"),
    "vangogh2photo": (306590349, "362c3473e70be0944bda08d49d660eafdc2854df55d697835b8186d1d79caaff"),
}

# The reference scripts refuse to fetch Cityscapes (both families) for license reasons.
_CITYSCAPES = (
    "the Cityscapes license does not allow redistribution, so the reference download scripts do not fetch "
    "it: register at https://www.cityscapes-dataset.com, download gtFine_trainvaltest.zip and "
    "leftImg8bit_trainvaltest.zip, and build the dataset with the reference repository's "
    "datasets/prepare_cityscapes_dataset.py (junyanz/pytorch-CycleGAN-and-pix2pix)"
)

_UNPAIRED = ("trainA", "trainB")
# name: (kind, layout, note)
_CYCLEGAN: dict[str, tuple[Kind, tuple[str, ...], str]] = {
    "apple2orange": ("unpaired", _UNPAIRED, "ImageNet apples <-> oranges"),
    "summer2winter_yosemite": ("unpaired", _UNPAIRED, "Flickr Yosemite summer <-> winter"),
    "horse2zebra": ("unpaired", _UNPAIRED, "ImageNet horses <-> zebras"),
    "monet2photo": ("unpaired", _UNPAIRED, "Monet paintings <-> Flickr photos"),
    "cezanne2photo": ("unpaired", _UNPAIRED, "Cezanne paintings <-> Flickr photos"),
    "ukiyoe2photo": ("unpaired", _UNPAIRED, "Ukiyo-e prints <-> Flickr photos"),
    "vangogh2photo": ("unpaired", _UNPAIRED, "Van Gogh paintings <-> Flickr photos"),
    "maps": ("unpaired", _UNPAIRED, "aerial photos <-> Google Maps"),
    "cityscapes": ("unpaired", _UNPAIRED, "street photos <-> semantic labels"),
    "facades": ("unpaired", _UNPAIRED, "CMP facade photos <-> labels"),
    "iphone2dslr_flower": ("unpaired", _UNPAIRED, "iPhone <-> DSLR flower photos"),
    "ae_photos": ("images", (), "photos to try trained models on"),
    "mini": ("unpaired", _UNPAIRED, "a few images, for smoke tests"),
    "mini_pix2pix": ("paired-aligned", ("train",), "a few aligned pairs, for smoke tests"),
    "mini_colorization": ("images", (), "a few colour photos (colorization smoke tests)"),
    "grumpifycat": ("unpaired", _UNPAIRED, "Russian Blue cats <-> Grumpy Cat (CUT paper)"),
}
# name: (direction for the pix2pix recipe, note); A is the left half of each image.
_PIX2PIX: dict[str, tuple[Literal["AtoB", "BtoA"], str]] = {
    "cityscapes": ("BtoA", "labels -> street photos (A: photo, B: labels)"),
    "night2day": ("AtoB", "night -> day webcam frames"),
    "edges2handbags": ("AtoB", "edge maps -> handbag photos"),
    "edges2shoes": ("AtoB", "edge maps -> shoe photos"),
    "facades": ("BtoA", "labels -> facade photos (A: photo, B: labels)"),
    "maps": ("AtoB", "aerial photos -> Google Maps (A: aerial, B: map)"),
}


def _build_registry() -> dict[str, DatasetInfo]:
    shared = set(_CYCLEGAN) & set(_PIX2PIX)
    registry: dict[str, DatasetInfo] = {}
    for name, (kind, layout, note) in _CYCLEGAN.items():
        size, sha = _CYCLEGAN_CHECKSUMS.get(name, (None, None))
        registry[f"cyclegan/{name}"] = DatasetInfo(
            key=f"cyclegan/{name}",
            kind=kind,
            url=CYCLEGAN_URL.format(name=name),
            folder=f"{name}_cyclegan" if name in shared else name,
            size=size,
            sha256=sha,
            layout=layout,
            note=note,
            restricted=_CITYSCAPES if name == "cityscapes" else None,
        )
    for name, (direction, note) in _PIX2PIX.items():
        registry[f"pix2pix/{name}"] = DatasetInfo(
            key=f"pix2pix/{name}",
            kind="paired-aligned",
            url=PIX2PIX_URL.format(name=name),
            folder=f"{name}_pix2pix" if name in shared else name,
            layout=("train",),
            direction=direction,
            note=note,
            restricted=_CITYSCAPES if name == "cityscapes" else None,
        )
    return registry


DATASETS: dict[str, DatasetInfo] = _build_registry()
"""Every known dataset by key (``cyclegan/horse2zebra``). Tests and mirrors may replace entries."""


def list_datasets() -> list[DatasetInfo]:
    """All registered datasets.

    Returns:
        The entries of :data:`DATASETS`, CycleGAN first, in registry order.
    """
    return list(DATASETS.values())


def resolve_dataset(name: str) -> DatasetInfo:
    """Find a dataset by key (``pix2pix/facades``) or by bare name when only one family has it.

    Args:
        name: ``<family>/<name>`` or ``<name>``; case and surrounding spaces are ignored.

    Returns:
        The dataset's :class:`DatasetInfo`.

    Raises:
        DownloadSettingError (a ValueError): unknown name (the message lists close matches and all
            names), or a bare name that exists in both families (the message lists both keys).
    """
    wanted = name.strip().lower()
    if wanted in DATASETS:
        return DATASETS[wanted]
    matches = [info for info in DATASETS.values() if info.name == wanted]
    if len(matches) == 1:
        return matches[0]
    if matches:
        choices = "; ".join(f"{m.key} ({m.kind}: {m.note})" for m in matches)
        raise DownloadSettingError(
            f"'{name}' is the name of {len(matches)} datasets: {choices}. Give the full name: "
            f"{' or '.join(m.key for m in matches)}"
        )
    import difflib

    names = sorted({info.key for info in DATASETS.values()} | {info.name for info in DATASETS.values()})
    close = difflib.get_close_matches(wanted, names, n=3)
    hint = f" Did you mean {' or '.join(close)}?" if close else ""
    raise DownloadSettingError(
        f"unknown dataset '{name}'.{hint} Known datasets: {', '.join(DATASETS)} "
        "(the part after the slash is enough when it is unique; `gan-style download --list` shows them all)"
    )


# ------------------------------------------------------------------------------------------- download


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


def _looks_complete(folder: Path, info: DatasetInfo) -> list[str]:
    """The required sub-folders that are missing or empty (empty list: complete)."""
    if not info.layout:
        return [] if any(folder.iterdir()) else ["any file"]
    return [f"{d}/" for d in info.layout if not ((folder / d).is_dir() and any((folder / d).iterdir()))]


def download_dataset(
    name: str,
    root: str | os.PathLike = "datasets",
    sha256: str | None = None,
    url: str | None = None,
    force: bool = False,
    keep_archive: bool = False,
    progress: bool = True,
    timeout: float = 60.0,
    log: Callable[[str], None] | None = _stderr,
) -> Path:
    """Download, verify and extract a standard CycleGAN or pix2pix dataset; return its folder.

    The archive is downloaded to ``<root>/<file>`` (resumable, see
    :func:`gan_style.io.download.download_file`), checked against its published sha256 and size when known,
    extracted safely (:func:`gan_style.io.archive.extract_archive`) to ``<root>/<folder>``
    (``DatasetInfo.folder``: the name, or ``<name>_<family>`` for facades, maps and cityscapes), and then
    deleted unless ``keep_archive``. An archive already at ``<root>/<file>`` (copied there by hand, e.g. on
    an offline machine) is verified and extracted without network. A dataset
    folder that already has its layout (``trainA/ trainB/`` or ``train/``) is left alone.

    Args:
        name: ``cyclegan/horse2zebra``, ``pix2pix/facades`` or a unique bare name (``horse2zebra``).
        root: download folder ("datasets").
        sha256: expected sha256 of the archive, replacing the registry's (and its size check); None: the
            registry's value, if any.
        url: a mirror of the same archive (the registry's checksum still applies); None: the official URL.
        force: replace an existing dataset folder (re-extract; the archive is downloaded only if absent).
        keep_archive: keep the archive after extraction (False: delete it, as the reference scripts do).
        progress: show progress bars (True).
        timeout: network timeout in seconds (60).
        log: receives one-line status messages (default: stderr); None: silent.

    Returns:
        The dataset folder, e.g. ``Path("datasets/horse2zebra")``.

    Raises:
        DownloadSettingError (a ValueError): unknown or ambiguous ``name``; malformed ``sha256``.
        OfflineError: no network and no archive in ``root`` (the message says where to put it).
        ChecksumError: the archive's sha256/size differ. DownloadError: HTTP errors, broken connections,
            a restricted dataset (Cityscapes) without a local archive, or an existing folder that does
            not look complete (use ``force``).
        UnsafeArchiveError / ArchiveError: a dangerous or damaged archive (nothing is extracted).
        OSError: writing failed (a full disk, a ``root`` that is a file, no permission).
    """
    info = resolve_dataset(name)
    say = log or (lambda _message: None)
    root = Path(root)
    folder, archive = root / info.folder, root / info.filename
    if folder.exists() and not force:
        missing = _looks_complete(folder, info) if folder.is_dir() else ["a folder"]
        if not missing:
            say(f"{info.key} is already in {folder}; nothing to do (--force re-extracts it)")
            return folder
        raise DownloadError(
            f"'{folder}' exists but does not look like a complete {info.key} (no {', '.join(missing)}); move it "
            "away, or run again with --force to replace it"
        )
    expected_sha = check_sha256(sha256) if sha256 is not None else info.sha256
    expected_size = None if sha256 is not None else info.size
    source = url or info.url
    if archive.is_file():
        say(f"using the archive already at {archive}")
    elif info.restricted and url is None:
        raise DownloadError(
            f"{info.key} is not downloaded automatically: {info.restricted}. If you have its archive, put it at {archive} and run again"
        )
    for stale in root.glob(f".{info.folder}.extracting-*"):  # left by a killed earlier run
        shutil.rmtree(stale, ignore_errors=True)
    try:
        actual = download_file(source, archive, expected_sha, expected_size, progress, timeout)
    except OfflineError as exc:
        message = offline_message(source, archive, exc.reason, expected_sha, f"extracts it to {folder}")
        raise OfflineError(message, source, exc.reason) from None
    if expected_sha is None:
        say(f"{archive.name}: no published sha256 to compare with; this copy's sha256 is {actual}")
    say(f"extracting {archive} to {folder}")
    extract_archive(archive, folder, replace=force)
    missing = _looks_complete(folder, info)
    if missing:
        say(f"note: {folder} has no {', '.join(missing)}; check the layout before training on it")
    if not keep_archive:
        archive.unlink()
    return folder
