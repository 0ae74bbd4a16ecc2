"""``AtomicCheckpointIO``: Lightning checkpoints written atomically and read with ``weights_only=True``."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from lightning.fabric.plugins import TorchCheckpointIO

from gan_style.errors import UnsafeFileError
from gan_style.io.atomic import atomic_torch_save
from gan_style.io.untrusted import is_local, safe_load

__all__ = ["AtomicCheckpointIO"]


class AtomicCheckpointIO(TorchCheckpointIO):
    """Lightning ``CheckpointIO`` that writes local checkpoints atomically and reads them safely.

    Saving a local path uses :func:`atomic_torch_save`; remote paths (``s3://`` ...) fall back to Lightning's
    own writer. Loading uses :func:`safe_load` (``weights_only=True``) unless the caller passes
    ``weights_only=False`` explicitly (``trainer.fit(..., weights_only=False)`` for a checkpoint you trust that
    stores objects).

    Use outside the command line: ``Trainer(plugins=[AtomicCheckpointIO()])``.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None) -> None:
        if storage_options is not None or not is_local(path):
            super().save_checkpoint(checkpoint, path, storage_options)
            return
        atomic_torch_save(checkpoint, os.fspath(path).removeprefix("file://"))

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
