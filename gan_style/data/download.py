"""The standard CycleGAN and pix2pix datasets: a registry of the official archives, a resumable and
verified download, and safe extraction.

Examples::

    from gan_style.data.download import download_dataset
    download_dataset("horse2zebra")                      # -> Path("datasets/horse2zebra")
    download_dataset("pix2pix/facades", root="/data")    # -> Path("/data/facades_pix2pix")

Command line: ``gan-style download horse2zebra`` (:mod:`gan_style.commands.download`).

Names are ``<family>/<name>`` (``cyclegan/horse2zebra``, ``pix2pix/facades``); the bare name is enough
when only one family has it (``facades``, ``maps`` and ``cityscapes`` exist in both). A dataset goes to
``<root>/<name>``, or ``<root>/<name>_<family>`` for those three shared names, so both copies can live
side by side.

Checksums: the CycleGAN archives carry the sha256 and size published by TensorFlow Datasets; the other
archives have no published checksum, so they are checked by size (when the server reports it) and by the
archive's own CRCs at extraction, and the sha256 computed while downloading is printed so it can be
recorded and passed back with ``sha256=`` / ``--sha256``.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import stat
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tqdm import tqdm

from gan_style.errors import GanStyleError, UnreadableFileError, UnsafeFileError

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
    "download_file",
    "extract_archive",
    "file_sha256",
    "list_datasets",
    "resolve_dataset",
]

Kind = Literal["unpaired", "paired-aligned", "images"]

CYCLEGAN_URL = "http://efrosgans.eecs.berkeley.edu/cyclegan/datasets/{name}.zip"
PIX2PIX_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets/{name}.tar.gz"

_CHUNK = 1 << 20  # bytes read and hashed at a time
_USER_AGENT = "gan-style (dataset download; Python urllib)"
_TAR_HAS_FILTER = hasattr(tarfile, "data_filter")  # Python >= 3.10.12 / 3.11.4 / 3.12


# --------------------------------------------------------------------------------------------- errors
# All derive from gan_style.errors.GanStyleError (printed by the command without a traceback) and from
# the built-in a caller would expect: RuntimeError for downloads, ValueError for names, bad files.


class DownloadError(GanStyleError, RuntimeError):
    """A download could not be completed; the message names the URL, the file and what to do."""


class OfflineError(DownloadError):
    """The server could not be reached (no network, DNS failure, refused connection, timeout).

    Attributes: ``url`` and ``reason`` (e.g. ``"timed out"``), besides the message.
    """

    def __init__(self, message: str, url: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.url, self.reason = url, reason


class ChecksumError(DownloadError, UnsafeFileError):
    """A file's sha256 or size differs from the expected value."""


class DownloadSettingError(GanStyleError, ValueError):
    """An unknown or ambiguous dataset name, or a malformed sha256."""


class ArchiveError(UnreadableFileError):
    """An archive is damaged, truncated or not a zip/tar file."""


class UnsafeArchiveError(ArchiveError, UnsafeFileError):
    """An archive member would be written outside the target folder, or is a link or special file."""


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
    """All registered datasets, CycleGAN first, in registry order."""
    return list(DATASETS.values())


def resolve_dataset(name: str) -> DatasetInfo:
    """Find a dataset by key (``pix2pix/facades``) or by bare name when only one family has it.

    Args:
        name: ``<family>/<name>`` or ``<name>``; case and surrounding spaces are ignored.

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


def _check_sha256(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip().lower()
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise DownloadSettingError(f"sha256 must be 64 hexadecimal characters, got {value!r}")
    return value


def file_sha256(path: str | os.PathLike, progress: bool = False) -> str:
    """The sha256 (hex) of a file, read in 1 MiB chunks.

    Args:
        path: the file.
        progress: show a progress bar (False).

    Raises:
        OSError: the file cannot be read.
    """
    path = Path(path)
    digest = hashlib.sha256()
    with (
        open(path, "rb") as f,
        tqdm(
            total=path.stat().st_size,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"verifying {path.name}",
            disable=not progress,
        ) as bar,
    ):
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _verify(path: Path, actual_sha: str, sha256: str | None, expected_size: int | None) -> str | None:
    """Return a description of the mismatch, or None when the file matches."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return f"its size is {size} bytes, expected {expected_size} bytes (sha256 {actual_sha})"
    if sha256 is not None and actual_sha != sha256:
        return f"its sha256 is {actual_sha}, expected {sha256}"
    return None


class _Interrupted(Exception):
    """The response stream stopped early (the .part file keeps what arrived)."""

    def __init__(self, reason: str, received: int, total: int | None) -> None:
        super().__init__(reason)
        self.reason, self.received, self.total = reason, received, total


class _Unreachable(Exception):
    """No response at all (DNS, refused, timeout, reset before the headers)."""


def _unreachable_reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or exc
    if isinstance(reason, TimeoutError) or isinstance(exc, TimeoutError):
        return "timed out"
    return f"{type(reason).__name__}: {reason}"


def _offline_message(url: str, dest: Path, reason: str, sha256: str | None, then: str) -> str:
    part = dest.with_name(dest.name + ".part")
    kept = ""
    if part.is_file() and part.stat().st_size:
        kept = f" The partial download {part} ({part.stat().st_size} bytes) is kept and resumed next time."
    check = f" against sha256 {sha256}" if sha256 else ""
    return (
        f"could not reach {url} ({reason}); this machine looks offline (or the server is down). To continue "
        f"without network here: download {url} on a machine with internet access, put the file at {dest}, "
        f"and run the same command again: it checks the file{check} and {then} without downloading.{kept}"
    )


def _parse_content_range(value: str | None) -> tuple[int | None, int | None]:
    """``bytes 100-199/1000`` -> (100, 1000); ``bytes */1000`` -> (None, 1000)."""
    match = re.fullmatch(r"\s*bytes\s+(?:(\d+)-\d+|\*)/(\d+|\*)\s*", value or "")
    if not match:
        return None, None
    start = int(match.group(1)) if match.group(1) is not None else None
    total = int(match.group(2)) if match.group(2) != "*" else None
    return start, total


def _fetch(url: str, dest: Path, part: Path, expected_size: int | None, progress: bool, timeout: float) -> str:
    """One HTTP request that continues ``part`` (Range) or restarts it; returns the sha256 of the whole
    part file. Raises _Unreachable (no response), _Interrupted (the stream stopped early) or
    DownloadError (an HTTP error); errors writing the file (a full disk) propagate unchanged."""
    offset = part.stat().st_size if part.is_file() else 0
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:
            # Nothing left after `offset`: complete when the server's size says so, else start over.
            _, total = _parse_content_range(exc.headers.get("Content-Range"))
            exc.close()
            if total == offset or (total is None and expected_size == offset):
                return file_sha256(part, progress)
            part.unlink()
            return _fetch(url, dest, part, expected_size, progress, timeout)
        exc.close()
        raise DownloadError(
            f"{url} answered HTTP {exc.code} {exc.reason}; the file may have moved. Check the address, or "
            f"download it by other means and put it at {dest}"
        ) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Unreachable(_unreachable_reason(exc)) from None
    with response:
        dest.parent.mkdir(parents=True, exist_ok=True)  # only once the server answered
        length = response.headers.get("Content-Length")
        length = int(length) if length and length.isdigit() else None
        digest = hashlib.sha256()
        if offset and response.status == 206:
            start, total = _parse_content_range(response.headers.get("Content-Range"))
            if start != offset:  # a range we did not ask for: start over
                response.close()
                part.unlink()
                return _fetch(url, dest, part, expected_size, progress, timeout)
            if total is None and length is not None:
                total = offset + length
            with open(part, "rb") as f:  # the hash covers the bytes already on disk
                while chunk := f.read(_CHUNK):
                    digest.update(chunk)
            mode = "ab"
        elif response.status == 200:
            offset, total, mode = 0, length, "wb"  # no Range support (or a fresh start): from zero
        else:
            raise DownloadError(f"{url} answered HTTP {response.status} {response.reason}, expected 200 or 206")
        announced = total is not None
        if total is None:
            total = expected_size  # the completeness check when the server does not say
        received = offset
        with (
            open(part, mode) as f,
            tqdm(
                total=total,
                initial=offset,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                disable=not progress,
            ) as bar,
        ):
            try:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except (OSError, http.client.HTTPException) as exc:  # reset, timeout, IncompleteRead
                        raise _Interrupted(_unreachable_reason(exc), received, total) from None
                    if not chunk:
                        break
                    f.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            finally:
                f.flush()
                os.fsync(f.fileno())
        if total is not None and received < total:
            raise _Interrupted("the server closed the connection", received, total)
        if announced and received > total:
            raise DownloadError(f"{url} sent {received} bytes but announced {total}; run again to restart")
    return digest.hexdigest()


def download_file(
    url: str,
    dest: str | os.PathLike,
    sha256: str | None = None,
    expected_size: int | None = None,
    progress: bool = True,
    timeout: float = 60.0,
    retries: int = 3,
) -> str:
    """Download ``url`` to ``dest`` with resume and verification; return the file's sha256.

    Bytes go to ``<dest>.part``; a ``.part`` left by an earlier run is continued with an HTTP
    ``Range: bytes=N-`` request (a 206 answer appends, a 200 answer restarts from zero, a 416 answer
    means the part is already complete when its size equals the server's). The sha256 is computed while
    streaming. Only a complete file whose size and sha256 match is renamed to ``dest`` (``os.replace``),
    so ``dest`` is never partial. When ``dest`` already exists it is verified and no network is used.

    Args:
        url: http(s) address.
        dest: the final file path; its folder is created.
        sha256: expected sha256 (64 hex characters), None: not checked.
        expected_size: expected size in bytes, None: not checked; also the completeness check when the
            server sends no Content-Length.
        progress: show a tqdm progress bar on stderr (True).
        timeout: seconds to wait for the connection and for each read (60).
        retries: how many times a broken connection is resumed automatically (3), with 0..5 s pauses.

    Returns:
        The sha256 (hex) of ``dest``.

    Raises:
        OfflineError: the server cannot be reached; the message says where to put a copy downloaded
            elsewhere. A partial ``.part`` is kept for the next run.
        DownloadError: an HTTP error (404, ...) or a connection that kept breaking; the ``.part`` file is
            kept and the next call resumes it.
        ChecksumError: size or sha256 differ. A fresh download is moved to ``<dest>.sha256-mismatch``
            (nothing is lost: rename it to ``dest`` and pass its sha256 to accept it; the next call
            downloads afresh); an existing ``dest`` is left untouched.
        DownloadSettingError (a ValueError): ``sha256`` is not 64 hexadecimal characters.
    """
    sha256 = _check_sha256(sha256)
    dest = Path(dest)
    if dest.is_file():
        actual = file_sha256(dest, progress)
        problem = _verify(dest, actual, sha256, expected_size)
        if problem:
            raise ChecksumError(
                f"'{dest}' does not match: {problem}. The file was left as it is. If it is damaged or "
                f"incomplete, delete it and run again to download {url}; if you trust it (e.g. the dataset "
                f"was re-published), run again with --sha256 {actual}"
            )
        return actual
    part = dest.with_name(dest.name + ".part")
    attempt = 0
    while True:
        try:
            actual = _fetch(url, dest, part, expected_size, progress, timeout)
            break
        except _Interrupted as exc:
            if attempt >= retries:
                of = f" of {exc.total}" if exc.total is not None else ""
                raise DownloadError(
                    f"the download of {url} broke off after {exc.received}{of} bytes ({exc.reason}); the "
                    f"partial file {part} is kept: run the same command again to resume it"
                ) from None
            time.sleep(min(attempt, 5))
            attempt += 1
        except _Unreachable as exc:
            reason = str(exc)
            raise OfflineError(_offline_message(url, dest, reason, sha256, "uses it"), url, reason) from None
    problem = _verify(part, actual, sha256, expected_size)
    if problem:
        bad = dest.with_name(dest.name + ".sha256-mismatch")
        os.replace(part, bad)
        raise ChecksumError(
            f"downloaded {url} but {problem}: the file is damaged or the server's copy changed. It was "
            f"not used; it is kept as {bad}. Run again to download it afresh, or, if you trust this copy "
            f"(e.g. the dataset was re-published), rename it to {dest} and run again with --sha256 {actual}"
        )
    os.replace(part, dest)
    return actual


# ------------------------------------------------------------------------------------------- extract


def _member_problem(name: str) -> str | None:
    """Why an archive member's name is unsafe, or None."""
    if not name or "\x00" in name:
        return "an empty or invalid name"
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return "an absolute path"
    if ".." in re.split(r"[/\\]", name):
        return "a '..' component that leaves the target folder"
    return None


def _inside(base: Path, name: str) -> bool:
    return (base / name).resolve().is_relative_to(base.resolve())


def _refuse(archive: Path, member: str, problem: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(
        f"refusing to extract '{archive}': member {member!r} is {problem}. Nothing was extracted; the "
        "archive is not a genuine copy of the dataset, delete it"
    )


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        members = []
        for info in zf.infolist():
            name = info.filename
            if name.startswith("__MACOSX/"):  # macOS resource forks, not data
                continue
            problem = _member_problem(name)
            if problem is None and not _inside(dest, name):
                problem = "a path that resolves outside the target folder"
            mode = info.external_attr >> 16
            if problem is None and stat.S_ISLNK(mode):
                problem = "a symbolic link"
            elif problem is None and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                problem = "a special file (device, fifo or socket)"
            if problem:
                raise _refuse(archive, name, problem)
            members.append(info)
        for info in members:  # reading each member checks its CRC-32 (BadZipFile on a mismatch)
            zf.extract(info, dest)


def _extract_tar(archive: Path, dest: Path) -> None:
    # Stream mode decompresses once; every member is checked before it is written, and the temporary
    # folder is discarded on any error, so a refused archive leaves nothing behind.
    with tarfile.open(archive, "r|*") as tf:
        for member in tf:
            name = member.name
            problem = _member_problem(name)
            if problem is None and not _inside(dest, name):
                problem = "a path that resolves outside the target folder"
            if problem is None and (member.issym() or member.islnk()):
                problem = f"a {'symbolic' if member.issym() else 'hard'} link to {member.linkname!r}"
            elif problem is None and not (member.isfile() or member.isdir()):
                problem = "a special file (device, fifo or socket)"
            if problem:
                raise _refuse(archive, name, problem)
            if _TAR_HAS_FILTER:
                tf.extract(member, dest, filter="data")
            else:  # Python < 3.10.12 / 3.11.4: the checks above are the whole protection
                tf.extract(member, dest)


def extract_archive(
    archive: str | os.PathLike,
    target_dir: str | os.PathLike,
    strip_single_folder: bool = True,
    replace: bool = False,
) -> Path:
    """Safely extract a ``.zip``, ``.tar.gz``, ``.tgz`` or ``.tar`` archive into ``target_dir``.

    Members with an absolute path, a ``..`` component, a path resolving outside the target, links
    (symbolic or hard, also zip symlinks) and devices, fifos or sockets are refused before anything is
    written; tar members also go through ``tarfile``'s ``data`` filter where Python has it. Zip CRC-32s
    are checked while reading. ``__MACOSX/`` entries of zip files are skipped. Everything is extracted
    into a temporary folder beside ``target_dir`` and moved into place only when all of it succeeded, so
    a failed or interrupted extraction leaves no partial dataset.

    Args:
        archive: the archive file (format detected from its content).
        target_dir: the folder to create.
        strip_single_folder: when every member sits under one top-level folder (``horse2zebra/trainA/...``),
            that folder's content becomes ``target_dir``'s content (True).
        replace: replace an existing ``target_dir`` (False); the old folder is removed only after the new
            one is in place.

    Returns:
        ``target_dir`` as a Path.

    Raises:
        FileNotFoundError: no such archive.
        FileExistsError: ``target_dir`` exists and ``replace`` is False.
        UnsafeArchiveError: an unsafe member (the message names the archive and the member).
        ArchiveError: not a zip or tar file, or damaged/truncated (CRC error, unexpected end of data).
    """
    archive, target = Path(archive), Path(target_dir)
    if not archive.is_file():
        raise FileNotFoundError(f"archive '{archive}' does not exist")
    if target.exists() and not replace:
        raise FileExistsError(f"'{target}' already exists; remove it or extract with replace=True (--force)")
    if zipfile.is_zipfile(archive):
        extract = _extract_zip
    elif tarfile.is_tarfile(archive):
        extract = _extract_tar
    else:
        raise ArchiveError(f"'{archive}' is neither a zip nor a tar archive (damaged or not an archive); delete it")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.extracting-", dir=target.parent))
    try:
        staging = tmp / "content"  # made with the usual permissions (mkdtemp's folder is private)
        staging.mkdir()
        try:
            extract(archive, staging)
        except UnsafeArchiveError:
            raise
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
            # tarfile.FilterError (the data filter) is a TarError: report it as unsafe
            if _TAR_HAS_FILTER and isinstance(exc, tarfile.FilterError):
                raise UnsafeArchiveError(f"refusing to extract '{archive}': {exc}") from None
            raise ArchiveError(
                f"'{archive}' is damaged or incomplete ({type(exc).__name__}: {exc}); nothing was extracted. "
                "Delete it and run again to download it afresh"
            ) from None
        content = staging
        entries = list(staging.iterdir())
        if strip_single_folder and len(entries) == 1 and entries[0].is_dir():
            content = entries[0]
        if target.exists():  # replace: the old copy moves into the temporary folder, removed below
            os.replace(target, tmp / "previous")
            try:
                os.replace(content, target)
            except OSError:
                os.replace(tmp / "previous", target)
                raise
        else:
            os.replace(content, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# ------------------------------------------------------------------------------------------- datasets


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

    The archive is downloaded to ``<root>/<file>`` (resumable, see :func:`download_file`), checked
    against its published sha256 and size when known, extracted safely (:func:`extract_archive`) to
    ``<root>/<folder>`` (``DatasetInfo.folder``: the name, or ``<name>_<family>`` for facades, maps and
    cityscapes), and then deleted unless ``keep_archive``. An archive already at ``<root>/<file>`` (copied
    there by hand, e.g. on an offline machine) is verified and extracted without network. A dataset
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
    expected_sha = _check_sha256(sha256) if sha256 is not None else info.sha256
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
        message = _offline_message(source, archive, exc.reason, expected_sha, f"extracts it to {folder}")
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
