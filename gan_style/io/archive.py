"""Safe extraction of downloaded zip and tar archives.

Every member is vetted before it is written: absolute paths, ``..`` components, paths resolving outside the
target, links (symbolic or hard) and special files are refused, and the whole archive is extracted into a
temporary folder that is moved into place only when everything succeeded. Pooch's ``Unzip``/``Untar``
processors extract everything with ``extractall`` (tar's ``data`` filter only on Python >= 3.12) straight
into their target, so they are not used here.

Decompression bombs (a small archive that expands to far more than a disk holds, or to millions of files) stop at
size caps (:data:`MAX_EXTRACT_BYTES`, :data:`MAX_MEMBER_BYTES`, :data:`MAX_MEMBERS`): checked from the members'
headers before a member is written (for a zip, all of them before anything is written), and again on the bytes
actually written, so a header that understates a member's size does not get past them.
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
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gan_style.errors import ArchiveError, InvalidSettingError, UnsafeArchiveError

__all__ = ["MAX_EXTRACT_BYTES", "MAX_MEMBERS", "MAX_MEMBER_BYTES", "extract_archive"]

_TAR_HAS_FILTER = hasattr(tarfile, "data_filter")  # Python >= 3.10.12 / 3.11.4 / 3.12

#: The most bytes :func:`extract_archive` writes for one archive, all members together (uncompressed), unless
#: given ``max_bytes``: 32 GiB, several times the largest catalogued dataset (pix2pix ``edges2handbags``, about
#: 8.6 GB).
MAX_EXTRACT_BYTES = 32 * 1024**3
#: The most bytes one member may have, uncompressed, unless given ``max_member_bytes``: 4 GiB (dataset images are a
#: few MB, published weights a few hundred MB).
MAX_MEMBER_BYTES = 4 * 1024**3
#: The most members (files and folders) one archive may have, unless given ``max_members``: 1 000 000 (the largest
#: catalogued dataset has about 140 000).
MAX_MEMBERS = 1_000_000
_CHUNK = 1024 * 1024  # bytes read and written at a time


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


def _size(n: int) -> str:
    """``n`` bytes for a message: ``"34359738368 bytes (32.0 GiB)"``."""
    for unit, scale in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= scale:
            return f"{n} bytes ({n / scale:.1f} {unit})"
    return f"{n} bytes"


@dataclass
class _Caps:
    """The size caps of one extraction and what has been counted against them."""

    archive: Path
    max_bytes: int
    max_member_bytes: int
    max_members: int
    members: int = 0  # members admitted
    declared: int = 0  # bytes the admitted members' headers declare
    written: int = 0  # bytes written

    def _over(self, what: str, limit: str) -> UnsafeArchiveError:
        return UnsafeArchiveError(
            f"refusing to extract '{self.archive}': {what}, over the limit of {limit}; nothing was extracted. It may "
            "be a decompression bomb: delete it, or if you trust it pass a larger limit to "
            "gan_style.io.archive.extract_archive"
        )

    def admit(self, name: str, size: int) -> None:
        """Count a member from its header, before it is written.

        Raises:
            UnsafeArchiveError: too many members, the member or all of them together too large.
        """
        self.members += 1
        if self.members > self.max_members:
            raise self._over(f"it has more than {self.max_members} members", f"{self.max_members} (max_members)")
        if size > self.max_member_bytes:
            raise self._over(
                f"member {name!r} is {_size(size)}", f"{_size(self.max_member_bytes)} per member (max_member_bytes)"
            )
        self.declared += size
        if self.declared > self.max_bytes:
            raise self._over(
                f"its members add up to {_size(self.declared)} by {name!r}",
                f"{_size(self.max_bytes)} in all (max_bytes)",
            )

    def copy(self, source: IO[bytes], target: Path, name: str) -> None:
        """Write ``source`` to ``target``, counting the bytes actually read against the caps as they stream (never
        more than one chunk past a cap is read, and nothing past it is written).

        Raises:
            UnsafeArchiveError: the member, or all members together, went over a cap.
        """
        member = 0
        with open(target, "wb") as out:
            while True:
                room = min(self.max_member_bytes - member, self.max_bytes - self.written)
                chunk = source.read(min(_CHUNK, room + 1))
                if not chunk:
                    return
                member += len(chunk)
                self.written += len(chunk)
                if member > self.max_member_bytes:
                    raise self._over(
                        f"member {name!r} expands to more than its header says ({_size(member)} so far)",
                        f"{_size(self.max_member_bytes)} per member (max_member_bytes)",
                    )
                if self.written > self.max_bytes:
                    raise self._over(
                        f"its members expand to more than their headers say ({_size(self.written)} so far, at "
                        f"{name!r})",
                        f"{_size(self.max_bytes)} in all (max_bytes)",
                    )
                out.write(chunk)


def _extract_zip(archive: Path, dest: Path, caps: _Caps) -> None:
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
            caps.admit(name, info.file_size)  # the central directory's sizes: all checked before anything is written
            members.append(info)
        for info in members:  # reading each member checks its CRC-32 (BadZipFile on a mismatch)
            path = dest / info.filename
            if info.is_dir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as source:
                caps.copy(source, path, info.filename)


def _extract_tar(archive: Path, dest: Path, caps: _Caps) -> None:
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
            caps.admit(name, member.size)  # a sparse member's size is its expanded size
            # tarfile's data filter where Python has it (its FilterError, a TarError, is reported as unsafe by
            # extract_archive); on Python < 3.10.12 / 3.11.4 the checks above are the whole protection
            checked = tarfile.data_filter(member, str(dest)) if _TAR_HAS_FILTER else member
            path = dest / checked.name
            if member.isdir():
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            source = tf.extractfile(member)
            if source is None:  # not a regular file: refused above; kept as a guard
                raise _refuse(archive, name, "not a regular file")
            with source:
                caps.copy(source, path, name)
            os.chmod(path, ((checked.mode or 0o644) & 0o755) | 0o600)  # as the data filter: no setuid bits, owner rw
            os.utime(path, (member.mtime, member.mtime))


def extract_archive(
    archive: str | os.PathLike,
    target_dir: str | os.PathLike,
    strip_single_folder: bool = True,
    replace: bool = False,
    max_bytes: int | None = None,
    max_member_bytes: int | None = None,
    max_members: int | None = None,
) -> Path:
    """Safely extract a ``.zip``, ``.tar.gz``, ``.tgz`` or ``.tar`` archive into ``target_dir``.

    Members with an absolute path, a ``..`` component, a path resolving outside the target, links
    (symbolic or hard, also zip symlinks) and devices, fifos or sockets are refused before anything is
    written; tar members also go through ``tarfile``'s ``data`` filter where Python has it. Zip CRC-32s
    are checked while reading. ``__MACOSX/`` entries of zip files are skipped. Everything is extracted
    into a temporary folder beside ``target_dir`` (``.<name>.extracting-*``) and moved into place only
    when all of it succeeded, so a failed or interrupted extraction leaves no partial dataset.

    Decompression bombs stop at size caps: the uncompressed bytes of all members together, of one member, and the
    number of members (files and folders). They are checked from the headers (a zip's central directory, all of it
    before anything is written; each tar header before its member is written) and again on the bytes as they are
    written, so a member that expands to more than its header says stops at the cap too.

    Args:
        archive: the archive file (format detected from its content).
        target_dir: the folder to create.
        strip_single_folder: when every member sits under one top-level folder (``horse2zebra/trainA/...``),
            that folder's content becomes ``target_dir``'s content (True).
        replace: replace an existing ``target_dir`` (False); the old folder is removed only after the new
            one is in place.
        max_bytes: the most bytes to write, all members together, uncompressed (None: :data:`MAX_EXTRACT_BYTES`,
            32 GiB, read at each call).
        max_member_bytes: the most bytes of one member, uncompressed (None: :data:`MAX_MEMBER_BYTES`, 4 GiB).
        max_members: the most members, files and folders (None: :data:`MAX_MEMBERS`, 1 000 000).

    Returns:
        ``target_dir`` as a Path.

    Raises:
        FileNotFoundError: no such archive.
        FileExistsError: ``target_dir`` exists and ``replace`` is False.
        UnsafeArchiveError: an unsafe member (the message names the archive and the member), or an archive over
            a size cap (the message names the archive, the cap and the keyword that raises it); nothing is left
            under ``target_dir`` (an existing one is kept) nor beside it.
        InvalidSettingError: a cap that is not an integer >= 1.
        ArchiveError: not a zip or tar file, or damaged/truncated (CRC error, unexpected end of data).
        OSError: writing failed (a full disk, no permission); nothing is left behind.
    """
    archive, target = Path(archive), Path(target_dir)
    caps = _Caps(
        archive,
        MAX_EXTRACT_BYTES if max_bytes is None else max_bytes,
        MAX_MEMBER_BYTES if max_member_bytes is None else max_member_bytes,
        MAX_MEMBERS if max_members is None else max_members,
    )
    for setting, value in (
        ("max_bytes", caps.max_bytes),
        ("max_member_bytes", caps.max_member_bytes),
        ("max_members", caps.max_members),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InvalidSettingError(f"extract_archive: {setting} must be an integer >= 1, got {value!r}")
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
            extract(archive, staging, caps)
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
