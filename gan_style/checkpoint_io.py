"""Reading untrusted weight files safely and writing checkpoints atomically.

- :func:`safe_load`: ``torch.load(weights_only=True)`` with clear errors: a pickle that would run code is
  refused (:class:`~gan_style.errors.UnsafeFileError`), a truncated or foreign file is named
  (:class:`~gan_style.errors.UnreadableFileError`).
- :class:`AtomicCheckpointIO`: Lightning ``CheckpointIO`` plugin (the ``gan-style`` command installs it
  unless a recipe names another one). A checkpoint is written to a temporary file beside its target,
  flushed to disk and renamed over the target in one step, so a process killed while saving leaves either
  the previous checkpoint or the new one, never a partial file. Loading goes through :func:`safe_load`.
- :func:`hub_cache_path` / :func:`download_to_hub_cache`: published weights (VGG-19, the FID Inception-v3)
  kept once in the torch hub cache, with an offline error that says where to put the file.
"""

from __future__ import annotations

import os
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from lightning.fabric.plugins import TorchCheckpointIO

from gan_style.errors import DatasetNotFoundError, UnreadableFileError, UnsafeFileError, WeightsUnavailableError

__all__ = ["AtomicCheckpointIO", "atomic_torch_save", "download_to_hub_cache", "hub_cache_path", "safe_load"]


def hub_cache_path(url: str) -> Path:
    """Where the file at ``url`` is kept in the torch hub cache: ``$TORCH_HOME/hub/checkpoints/<file name>``
    (the folder torchvision and torchmetrics use, so a file they downloaded is found here too)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def download_to_hub_cache(url: str, what: str, otherwise: str) -> Path:
    """The hub-cache copy of ``url`` (:func:`hub_cache_path`), downloaded with a progress bar when missing.

    The download goes to a temporary file beside the target, renamed when complete (``torch.hub``), so an
    interrupted download leaves no partial file.

    Args:
        url: the published file.
        what: how the error names the file, e.g. ``"the ImageNet VGG-19 weights (vgg19-dcbb9e9d.pth, 548 MB)"``.
        otherwise: the other way to supply the file, appended to the error (a setting naming a local copy).

    Raises:
        WeightsUnavailableError: the file is not cached and could not be downloaded (offline, HTTP error, a
            full disk); the message names the URL, the cache path and ``otherwise``.
    """
    path = hub_cache_path(url)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), progress=True)
        except Exception as exc:  # URLError, timeouts, HTTP errors, a full disk
            raise WeightsUnavailableError(
                f"{what} are not in the torch hub cache and could not be downloaded from {url} "
                f"({type(exc).__name__}: {exc}). Download that file on a machine with internet access and copy "
                f"it to {path} (the cache folder follows $TORCH_HOME), or {otherwise}"
            ) from None
    return path


def _is_local(path: str | os.PathLike) -> bool:
    return "://" not in os.fspath(path) or os.fspath(path).startswith("file://")


def safe_load(path: str | os.PathLike, map_location: Any = "cpu", what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` with errors that name the file.

    Only tensors, containers and plain Python values are rebuilt; any other object in the pickle (a class
    whose unpickling would import and run code) is refused before it runs.

    Args:
        path: a local file written by ``torch.save``.
        map_location: passed to ``torch.load`` (default ``"cpu"``).
        what: how the file is called in messages (``"checkpoint"``, ``"weights file"`` ...).

    Raises:
        DatasetNotFoundError: ``path`` does not exist (a ``FileNotFoundError``).
        UnsafeFileError: the file holds objects other than plain data (``weights_only`` refused it).
        UnreadableFileError: the file is empty, truncated or not a PyTorch file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise DatasetNotFoundError(f"{what} '{path}' does not exist")
    if os.path.getsize(path) == 0:
        raise UnreadableFileError(f"{what} '{path}' is empty (0 bytes); it was not written completely. Delete it")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).strip().splitlines()
        reason = next(
            (line for line in detail if "GLOBAL" in line or "Unsupported" in line), detail[0] if detail else ""
        )
        raise UnsafeFileError(
            f"refused to load {what} '{path}': it contains objects other than tensors and plain data, which "
            f"could run code when loaded ({reason.strip()}). Only load files from sources you trust; gan-style "
            "reads checkpoints and weights with torch.load(weights_only=True)"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UnreadableFileError(
            f"cannot read {what} '{path}' ({type(exc).__name__}: {str(exc).strip().splitlines()[0]}); the "
            "file is truncated, corrupt or not a PyTorch file"
        ) from None


def atomic_torch_save(obj: Any, path: str | os.PathLike) -> None:
    """``torch.save(obj, path)`` through a temporary file in the same folder, fsync and ``os.replace``.

    After a crash at any moment, ``path`` holds either its previous content or ``obj`` in full. Temporary
    files left by a killed writer of the same target (``.<name>.tmp-<pid>``) are removed on the next save.
    The folder is created if needed.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        stale.unlink(missing_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # some file systems do not support fsync on folders
        pass


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning ``CheckpointIO`` that writes local checkpoints atomically and reads them safely.

    Saving a local path uses :func:`atomic_torch_save`; remote paths (``s3://`` ...) fall back to Lightning's
    own writer. Loading uses :func:`safe_load` (``weights_only=True``) unless the caller passes
    ``weights_only=False`` explicitly (``trainer.fit(..., weights_only=False)`` for a checkpoint you trust that
    stores objects).

    Use outside the command line: ``Trainer(plugins=[AtomicCheckpointIO()])``.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not _is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        atomic_torch_save(checkpoint, os.fspath(path).removeprefix("file://"))

    def load_checkpoint(
        self,
        path: Any,
        map_location: Callable | Any = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        if weights_only is False or not _is_local(path):
            return super().load_checkpoint(path, map_location=map_location, weights_only=weights_only)
        return safe_load(os.fspath(path).removeprefix("file://"), map_location=map_location)
