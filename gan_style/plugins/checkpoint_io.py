"""``AtomicCheckpointIO``: Lightning checkpoints written atomically and read with ``weights_only=True``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lightning.fabric.plugins import TorchCheckpointIO
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from gan_style.errors import CheckpointWriteError, UnsafeFileError
from gan_style.io.atomic import atomic_torch_save
from gan_style.io.untrusted import is_local, safe_load

__all__ = ["AtomicCheckpointIO", "NoRetryAfterWriteError"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning ``CheckpointIO`` that writes local checkpoints atomically and reads them safely.

    Saving a local path uses :func:`atomic_torch_save`; remote paths (``s3://`` ...) fall back to Lightning's
    own writer. Loading uses :func:`safe_load` (``weights_only=True``) unless the caller passes
    ``weights_only=False`` explicitly (``trainer.fit(..., weights_only=False)`` for a checkpoint you trust that
    stores objects).

    Use outside the command line: ``Trainer(plugins=[AtomicCheckpointIO()])``.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        """Write ``checkpoint`` to ``path``: atomically (:func:`atomic_torch_save`) for a local path.

        Raises:
            CheckpointWriteError: the file system refused the write (a full disk, a quota, an I/O error, no
                permission); nothing partial is left under ``path`` and its previous content is kept.
        """
        if storage_options is not None or not is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        local = os.fspath(path).removeprefix("file://")
        try:
            atomic_torch_save(checkpoint, local)
        except OSError as err:
            kept = f"the previous '{local}' is kept" if os.path.exists(local) else "nothing was written under its name"
            raise CheckpointWriteError(
                f"could not write checkpoint '{local}': {err.strerror or err}; {kept}. Free space (or choose another "
                "--trainer.default_root_dir) and resume with --ckpt_path last"
            ) from err

    def load_checkpoint(
        self,
        path: Any,
        map_location: Callable | Any = lambda storage, loc: storage,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        """Read a checkpoint with :func:`~gan_style.io.untrusted.safe_load` (``weights_only=True``); a remote path
        (``http://``, ``s3://`` ...) is refused unless ``weights_only=False`` is passed explicitly for a file
        you trust (Lightning reads remote files with ``weights_only=False``, which can run code).

        Raises:
            UnsafeFileError: a remote path without an explicit ``weights_only=False``; or from ``safe_load``.
        """
        if weights_only is False:
            return super().load_checkpoint(path, map_location=map_location, weights_only=False)
        if not is_local(path):
            raise UnsafeFileError(
                f"checkpoint '{path}' is remote; it is not loaded (Lightning reads remote files with "
                "weights_only=False, which can run code). Download it and give its local path"
            )
        return safe_load(os.fspath(path).removeprefix("file://"), map_location=map_location)


class NoRetryAfterWriteError(Callback):
    """When a run stops because a checkpoint could not be written (:class:`CheckpointWriteError`: a full disk),
    its ``ModelCheckpoint`` callbacks do not try to save again on that exception (``save_on_exception``), which
    would fail the same way and hide the first error; the newest complete checkpoints stay as they are.
    Lightning runs checkpoint callbacks after the others, so this one acts first."""

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if isinstance(exception, CheckpointWriteError):
            for callback in trainer.checkpoint_callbacks:
                if isinstance(callback, ModelCheckpoint):
                    callback.save_on_exception = False
