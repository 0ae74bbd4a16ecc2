"""Published models one call away: ``gan_style.from_pretrained("horse2zebra")`` and
``gan-style stylize --pretrained horse2zebra --content photos/``.

Each name is a catalogue entry (:mod:`gan_style.pretrained.catalogue`: URL, checksum, licence, paper, network
settings, input size and range); its files are downloaded once into ``$TORCH_HOME/hub/gan_style/<family>/``
(resumable, size and checksum checked, archives extracted safely), read with ``weights_only=True``, and turned
into gan-style's networks by the converter of their layout. A family's entries and converter live in one module of
:mod:`gan_style.pretrained.families`, registered by decorator (:mod:`gan_style.pretrained.registry`). The
result is the method's :class:`~gan_style.inference.Stylizer`, the module every consumer uses; nothing on this path
imports the training code (Lightning, :mod:`gan_style.methods`).

``GAN_STYLE_MIRROR=<base URL>`` fetches every file from a mirror: the official URL's scheme and host are
replaced by the base URL's (its path, if any, goes in front of the official path; the query is kept).
"""

from __future__ import annotations

import os
import sys
import urllib.parse
from pathlib import Path

import torch

from gan_style.inference.stylizer import Stylizer
from gan_style.pretrained.catalogue import (
    CATALOGUE,
    PretrainedModel,
    PublishedFile,
    list_pretrained,
    resolve_pretrained,
)

__all__ = [
    "CATALOGUE",
    "MIRROR_VARIABLE",
    "PretrainedModel",
    "PublishedFile",
    "cache_dir",
    "cached_path",
    "download_pretrained",
    "from_pretrained",
    "is_cached",
    "list_pretrained",
    "mirror_url",
    "resolve_pretrained",
]

#: The environment variable naming a mirror's base URL.
MIRROR_VARIABLE = "GAN_STYLE_MIRROR"


def cache_dir() -> Path:
    """``$TORCH_HOME/hub/gan_style``: where published files are kept, one subfolder per family (the folder
    follows ``$TORCH_HOME``, as torchvision's and torchmetrics' weights do)."""
    return Path(torch.hub.get_dir()) / "gan_style"


def mirror_url(url: str) -> str:
    """``url`` as fetched: unchanged, or with its scheme and host replaced by ``$GAN_STYLE_MIRROR``'s (a base
    URL such as ``http://127.0.0.1:8000`` or ``https://mirror.example.org/models``, whose path goes in front of
    the official path; the official query is kept).

    Raises:
        DownloadSettingError (a ValueError): ``$GAN_STYLE_MIRROR`` is not an http(s) URL.
    """
    from gan_style.errors import DownloadSettingError

    base = os.environ.get(MIRROR_VARIABLE, "").strip()
    if not base:
        return url
    mirror = urllib.parse.urlsplit(base)
    if mirror.scheme not in ("http", "https") or not mirror.netloc:
        raise DownloadSettingError(
            f"{MIRROR_VARIABLE}={base!r} is not an http(s) base URL such as http://127.0.0.1:8000 or "
            "https://mirror.example.org/models"
        )
    official = urllib.parse.urlsplit(url)
    path = mirror.path.rstrip("/") + official.path
    return urllib.parse.urlunsplit((mirror.scheme, mirror.netloc, path, official.query, ""))


def _local_paths(entry: PretrainedModel) -> dict[str, tuple[Path, Path]]:
    """role -> (downloaded file, file the converter reads: the file itself or the archive member)."""
    folder = cache_dir() / entry.family
    paths = {}
    for role, published in entry.files.items():
        download = folder / published.filename
        used = download
        if published.member:
            used = download.with_suffix("") / published.member  # extracted beside the archive
        paths[role] = (download, used)
    return paths


def cached_path(name: str | PretrainedModel, role: str) -> Path:
    """Where the file of ``role`` of a published model is read from once downloaded (it may not exist yet), e.g.
    ``cached_path("adain", "encoder")`` -> ``$TORCH_HOME/hub/gan_style/adain/vgg_normalised.pth``.

    Raises:
        DownloadSettingError: an unknown or ambiguous name.
        KeyError: a role the model does not have.
    """
    entry = name if isinstance(name, PretrainedModel) else resolve_pretrained(name)
    return _local_paths(entry)[role][1]


def is_cached(name: str | PretrainedModel) -> bool:
    """Whether every file of the model is in the cache (no download needed)."""
    entry = name if isinstance(name, PretrainedModel) else resolve_pretrained(name)
    return all(used.is_file() for _, used in _local_paths(entry).values())


def download_pretrained(
    name: str | PretrainedModel, progress: bool = True, roles: list[str] | None = None
) -> dict[str, Path]:
    """The local files of a published model, downloaded into :func:`cache_dir` when missing.

    A download is resumed from its partial file, checked against the published sha256 (where there is one;
    otherwise the sha256 computed is printed on stderr, to pin it), and renamed into place only when complete;
    an archive is extracted safely (:func:`gan_style.io.archive.extract_archive`).

    Args:
        name: a catalogue name (:func:`resolve_pretrained`) or entry.
        progress: progress bars on stderr (True).
        roles: only these files (e.g. ``["encoder"]`` of AdaIN); None (default): all of the model's files.

    Returns:
        role -> the file the converter reads (``{"generator": .../horse2zebra.pth}``).

    Raises:
        DownloadSettingError: an unknown or ambiguous name, or a bad ``$GAN_STYLE_MIRROR``.
        OfflineError: a file is missing and the server cannot be reached; the message names the URL and the
            exact path where to put the file, after which the same command works offline.
        DownloadError, ChecksumError: see :func:`gan_style.io.download.download_file`.
        ArchiveError: a damaged archive.
    """
    from gan_style.io.archive import extract_archive
    from gan_style.io.download import download_file

    entry = name if isinstance(name, PretrainedModel) else resolve_pretrained(name)
    result: dict[str, Path] = {}
    for role, (download, used) in _local_paths(entry).items():
        if roles is not None and role not in roles:
            continue
        published = entry.files[role]
        if not used.is_file():
            if not download.is_file():
                sha256 = download_file(mirror_url(published.url), download, sha256=published.sha256, progress=progress)
                if published.sha256 is None:
                    print(
                        f"gan-style: downloaded {download} (sha256 {sha256}; the publisher gives none to check "
                        "against)",
                        file=sys.stderr,
                    )
            if published.member:
                extract_archive(
                    download,
                    download.with_suffix(""),
                    strip_single_folder=False,
                    replace=True,
                )
        result[role] = used
    return result


def from_pretrained(name: str, device: str | torch.device = "cpu", progress: bool = True) -> Stylizer:
    """A published model, ready to run: the method's :class:`~gan_style.inference.Stylizer` in eval mode.

    ``name`` is a catalogue name, a model folder (``config.json`` + ``model.safetensors``, written by
    ``gan-style export --formats [safetensors]``), or ``hf://owner/name[@revision]``, such a folder on the
    Hugging Face Hub (:mod:`gan_style.pretrained.folder`). A folder in the working directory whose name is also a
    catalogue name is taken as the folder when it holds ``config.json``.

    ``stylizer(content)`` (translation and single-style models) or ``stylizer(content, [style])`` (AdaIN) maps
    (N, 3, H, W) images in [-1, 1] to outputs in [-1, 1]; H and W must be multiples of
    ``stylizer.size_multiple`` (4 for the CycleGAN ResNet and the fast-neural-style network, 256 for the pix2pix
    U-Net, any size for AdaIN). The models were trained on ``entry.input_size`` (256) pixel crops and run on
    other sizes too. Example::

        import gan_style
        from gan_style.data import load_image, to_tensor, to_image

        horse2zebra = gan_style.from_pretrained("horse2zebra")
        zebra = horse2zebra(to_tensor(load_image("horse.jpg").resize((256, 256))).unsqueeze(0))
        to_image(zebra[0]).save("zebra.png")

    Args:
        name: a catalogue name, ``cyclegan/horse2zebra`` or ``horse2zebra`` (``gan-style pretrained`` lists
            them); a model folder's path; or ``hf://owner/name[@revision]``.
        device: where it runs ("cpu").
        progress: progress bars on stderr while downloading (True).

    Raises:
        DownloadSettingError: an unknown or ambiguous name.
        OfflineError, DownloadError, ChecksumError: see :func:`download_pretrained`.
        UnreadableFileError: a cached file that does not have the published layout (the message says to delete
            it); UnsafeFileError: a file that would run code when unpickled, or a model folder naming a class
            outside gan-style and the methods made known.
        FileMissingError: a model folder without its files, or a Hub repository or file that does not exist.
    """
    from gan_style.pretrained.converters import CONVERTERS
    from gan_style.pretrained.folder import CONFIG_FILE, HUB_PREFIX, hub_folder, load_model_folder

    if name.startswith(HUB_PREFIX):
        return load_model_folder(hub_folder(name), device)
    if (Path(name) / CONFIG_FILE).is_file():
        return load_model_folder(name, device)
    entry = resolve_pretrained(name)
    files = download_pretrained(entry, progress=progress)
    stylizer = CONVERTERS[entry.family](files, dict(entry.settings), entry.name)
    stylizer.pretrained = entry  # what it is, for callers that show it
    if stylizer.default_size is None and entry.family in ("cyclegan", "pix2pix"):
        stylizer.default_size = entry.input_size  # their test.py runs at the training size
    return stylizer.to(device).eval()
