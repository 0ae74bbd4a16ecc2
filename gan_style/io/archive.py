"""Safe extraction of downloaded zip and tar archives.

Every member is vetted before it is written: absolute paths, ``..`` components, paths resolving outside the
target, links (symbolic or hard) and special files are refused, and the whole archive is extracted into a
temporary folder that is moved into place only when everything succeeded. Pooch's ``Unzip``/``Untar``
processors extract everything with ``extractall`` (tar's ``data`` filter only on Python >= 3.12) straight
into their target, so they are not used here.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

from gan_style.errors import ArchiveError, UnsafeArchiveError

__all__ = ["extract_archive"]

_TAR_HAS_FILTER = hasattr(tarfile, "data_filter")  # Python >= 3.10.12 / 3.11.4 / 3.12


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
    into a temporary folder beside ``target_dir`` (``.<name>.extracting-*``) and moved into place only
    when all of it succeeded, so a failed or interrupted extraction leaves no partial dataset.

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
        OSError: writing failed (a full disk, no permission); nothing is left behind.
    """
    archive, target = Path(archive), Path(target_dir)
    if not archive.is_file():
        raise FileNotFoundError(f"archive '{archive}' does not exist")
    if target.exists() and not replace:
        raise FileExistsError(f"'{target}' already exists; remove it or extract with replace=True (--force)")
    with open(archive, "rb") as f:
        head = f.read(4)
    # a zip starts with a local file header (or is an empty zip); zipfile.is_zipfile alone also accepts a tar
    # whose last member is a zip (a PyTorch .pth file, e.g.)
    if head in (b"PK\x03\x04", b"PK\x05\x06") and zipfile.is_zipfile(archive):
        extract = _extract_zip
    elif tarfile.is_tarfile(archive):
        extract = _extract_tar
    else:
        raise ArchiveError(f"'{archive}' is neither a zip nor a tar archive (damaged or not an archive); delete it")
    target.parent.mkdir(parents=True, exist_ok=True)
    # A folder, created exclusively: mkdtemp rather than gan_style.io.atomic, whose helpers handle files.
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
