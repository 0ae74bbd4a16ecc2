"""One writer per run folder: a lock held for the whole run, naming its holder.

A second ``gan-style fit`` / ``test`` / ``predict`` into a run folder that a running process holds is refused
before it writes anything, with a message naming that process (:class:`~gan_style.errors.RunFolderInUseError`).
The lock is an OS file lock (``filelock``): it is released when its process ends, also after ``kill -9``, so
a folder is never locked by a dead run.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

from gan_style.errors import RunFolderInUseError, UnwritableFolderError

__all__ = ["LOCK_FILE", "pid_alive", "run_folder_lock"]

#: The lock file inside a run folder; ``<LOCK_FILE>.json`` beside it describes the holder.
LOCK_FILE = ".gan-style.lock"


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` runs on this machine (signal 0: no effect on the process)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def run_folder_lock(folder: str | os.PathLike) -> Iterator[Path]:
    """Hold the lock of the run folder ``folder`` (created if needed) while the block runs.

    Args:
        folder: the run folder (``trainer.default_root_dir``).

    Yields:
        The lock file's path.

    Raises:
        RunFolderInUseError: another process holds the folder; the message names its pid, host, command and
            start time, and what to do.
        UnwritableFolderError: the folder cannot be created or written (no permission, a read-only file system,
            a file in the way).
    """
    folder = Path(folder)
    path = folder / LOCK_FILE
    info = path.with_name(LOCK_FILE + ".json")
    lock = FileLock(str(path), timeout=0)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        lock.acquire()
    except Timeout:
        try:
            holder = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            holder = {}
        who = (
            f"process {holder.get('pid', '?')} on {holder.get('host', '?')} (started "
            f"{holder.get('started', '?')}: {holder.get('command', '?')})"
            if holder
            else "another process"
        )
        raise RunFolderInUseError(
            f"run folder '{folder}' is in use by {who}; wait for it to finish, stop it, or give another "
            "--trainer.default_root_dir"
        ) from None
    except OSError as err:
        reason = err.strerror or str(err)
        where = f" ('{err.filename}')" if err.filename and os.fspath(err.filename) != os.fspath(folder) else ""
        raise UnwritableFolderError(
            f"run folder '{folder}' cannot be written: {reason}{where}; choose a writable folder with "
            "--trainer.default_root_dir"
        ) from None
    try:
        info.write_text(
            json.dumps(
                {
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                    "command": " ".join(["gan-style", *sys.argv[1:]])[:500],
                }
            ),
            encoding="utf-8",
        )
        yield path
    finally:
        info.unlink(missing_ok=True)
        lock.release()
