"""Writing files atomically: a temporary file beside the target, flushed, then renamed over it in one step.

After a crash at any moment the target holds either its previous content or the new content in full, never a
partial file. Every writer of a user-visible file in gan-style (checkpoints, images, reports, exported models,
metadata) goes through :func:`atomic_write`.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import torch

__all__ = ["atomic_torch_save", "atomic_write", "remove_stale_temporaries", "temporary_path", "writer_alive"]


def temporary_path(target: str | os.PathLike) -> Path:
    """A hidden, unused name beside ``target`` (``.<name>.tmp-<pid>-<random>``), in the same folder so that
    the final rename stays on one file system."""
    target = Path(target)
    return target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def writer_alive(temporary: str | os.PathLike) -> bool:
    """Whether the process that created the temporary file ``temporary`` (named by :func:`temporary_path`, or the
    older ``.<name>.tmp-<pid>``) still runs on this machine; False when the name holds no pid."""
    pid = Path(temporary).name.rpartition(".tmp-")[2].split("-")[0]
    if not pid.isdigit():
        return False
    if int(pid) == os.getpid():
        return False  # this process is not writing it now: a leftover of an earlier, failed save
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists (owned by another user) or cannot be asked: leave the file alone
        return True
    return True


#: The names :func:`temporary_path` gives (``.<name>.tmp-<pid>-<8 hex>``), and the older ``.<name>.tmp-<pid>``.
_TEMPORARY_NAME = re.compile(r"^\..+\.tmp-\d+(-[0-9a-f]{8})?$")


def remove_stale_temporaries(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Remove the temporary files that writers killed before their rename left in ``folder``: only files named as
    :func:`temporary_path` names them (``.<name>.tmp-<pid>-<8 hex>``) whose writer process is gone
    (:func:`writer_alive`); a live writer's file, and any other file, is left alone. Returns the removed paths.

    Args:
        folder: the folder to clean; a missing folder is fine (nothing removed).
        recursive: also its subfolders (False).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in (folder.rglob if recursive else folder.glob)(".*.tmp-*"):
        if _TEMPORARY_NAME.match(path.name) and path.is_file() and not writer_alive(path):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fsync_folder(folder: Path) -> None:
    try:  # make the rename itself durable
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # some file systems do not support fsync on folders
        pass


@contextlib.contextmanager
def atomic_write(target: str | os.PathLike, mode: str = "wb", encoding: str | None = None) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``target`` for writing; on a clean exit it is flushed, synced and renamed
    to ``target`` (replacing it); on an exception it is removed and ``target`` is left as it was.

    Example: ``with atomic_write(path, "w", encoding="utf-8") as f: f.write(text)``; Pillow images:
    ``with atomic_write(path) as f: image.save(f, format="PNG")``.

    Args:
        target: the final file; its folder is created if needed.
        mode: ``"wb"`` (default) or ``"w"`` (text).
        encoding: text encoding for ``mode="w"`` (None: binary, or the locale's for text).

    Raises:
        ValueError: ``mode`` is not a write mode (``"w"``, ``"wb"``).
        OSError: from the file system (a full disk, no permission); the target is untouched.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', got {mode!r}")
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(target)
    try:
        with open(tmp, mode, encoding=encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` through :func:`atomic_write`: after a crash at any moment, ``path`` holds
    either its previous content or ``obj`` in full. Temporary files left by a killed writer of the same target
    (``.<name>.tmp-<pid>...``) are removed on the next save, only when their writer process is gone (a
    temporary file of a live writer is left alone). The folder is created if needed."""
    target = Path(path)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        if not writer_alive(stale):
            stale.unlink(missing_ok=True)
    with atomic_write(target) as f:
        torch.save(obj, f)
