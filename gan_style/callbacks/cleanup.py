"""``StaleFileCleanup``: a run cleans what earlier runs killed in its folder provably left behind."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from gan_style.io.atomic import remove_stale_temporaries

__all__ = ["StaleFileCleanup", "superseded_checkpoints"]


def _position(path: Path) -> tuple[int, int] | None:
    """(epoch, global_step) stored in the checkpoint ``path``, read without loading its tensors; None when it
    cannot be read as a plain-data checkpoint."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        return int(checkpoint["epoch"]), int(checkpoint["global_step"])
    except Exception:  # not ours to judge: a file that cannot be read is left alone
        return None


def superseded_checkpoints(trainer: Any, callback: ModelCheckpoint) -> list[Path]:
    """The checkpoint files in ``callback``'s folder that it wrote itself and no longer keeps.

    ``save_top_k`` keeps the k best (the newest, without ``monitor``) and deletes the others as it goes, but two
    kinds of file escape it: the file ``save_on_exception`` writes (SIGTERM, Ctrl-C, an error), which top-k never
    tracks, and files a killed run wrote after its newest ``last.ckpt``. A file counts as superseded only when all
    of these hold:

    - ``callback`` keeps a bounded number of files (``save_top_k >= 1``);
    - its name is exactly what ``callback`` names a checkpoint of that file's epoch and step
      (``format_checkpoint_name``), and what no other ``ModelCheckpoint`` of the run writing into the same folder
      would name it (so another callback's files are never touched);
    - ``callback``'s state was restored from the checkpoint the run resumed from (it knows which files it keeps:
      ``best_k_models``, ``best_model_path``, ``last_model_path``), it does not keep this one, and this one is not
      the checkpoint resumed from;
    - its step is not after the run's current step, or the run resumed from ``last.ckpt``: then a file of a later
      step was written by a run killed before its ``last.ckpt``, and this run writes that step again.

    Args:
        trainer: the Lightning trainer, after its state was restored (``on_train_start``).
        callback: one of its ``ModelCheckpoint`` callbacks.

    Returns:
        The paths, sorted.
    """
    if callback.save_top_k < 1 or not callback.dirpath or not os.path.isdir(callback.dirpath):
        return []
    if not (callback.best_k_models or callback.best_model_path):
        return []  # nothing restored: which files it keeps is unknown
    folder = Path(callback.dirpath)
    others = [
        cb
        for cb in trainer.checkpoint_callbacks
        if isinstance(cb, ModelCheckpoint) and cb is not callback and cb.dirpath and Path(cb.dirpath) == folder
    ]
    kept = {
        Path(p).resolve() for p in [*callback.best_k_models, callback.best_model_path, callback.last_model_path] if p
    }
    resumed_from_last = False
    if trainer.ckpt_path:
        kept.add(Path(trainer.ckpt_path).resolve())
        resumed_from_last = Path(trainer.ckpt_path).name.startswith(callback.CHECKPOINT_NAME_LAST)
    found = []
    for path in sorted(folder.glob(f"*{callback.FILE_EXTENSION}")):
        if not path.is_file() or path.resolve() in kept or path.name.startswith(callback.CHECKPOINT_NAME_LAST):
            continue
        position = _position(path)
        if position is None or (position[1] > trainer.global_step and not resumed_from_last):
            continue
        metrics = {"epoch": torch.tensor(position[0]), "step": torch.tensor(position[1])}
        try:
            own = Path(callback.format_checkpoint_name(metrics)).name == path.name
            shared = any(Path(cb.format_checkpoint_name(metrics)).name == path.name for cb in others)
        except Exception:  # a name template with other metrics: not provably this callback's
            continue
        if own and not shared:
            found.append(path)
    return found


class StaleFileCleanup(Callback):
    """At the start of training, removes what killed runs provably left in the run folder.

    - hidden temporary files of interrupted writes (``.<name>.tmp-<pid>-<8 hex>``: checkpoints, sample images,
      predictions, run summaries) whose writer process is gone (:func:`gan_style.io.atomic.remove_stale_temporaries`),
      in the run folder, its ``samples/`` and ``predictions/`` and the checkpoint folders;
    - when resuming, checkpoint files a bounded ``ModelCheckpoint`` (``save_top_k >= 1``) wrote and no longer
      keeps (:func:`superseded_checkpoints`).

    Each removal is reported in one warning naming the files. The ``gan-style`` command adds this callback to
    every run; it acts on the main process only.
    """

    def on_train_start(self, trainer: Any, pl_module: Any) -> None:
        if not trainer.is_global_zero:
            return
        root = Path(trainer.default_root_dir)
        # where a run writes: the run folder itself (config, metrics), its sample grids and predictions, and the
        # checkpoint folders; not the whole tree below the run folder (it may be the working directory)
        folders = {root: False, root / "samples": True, root / "predictions": True}
        folders.update({Path(cb.dirpath): False for cb in trainer.checkpoint_callbacks if getattr(cb, "dirpath", None)})
        removed: list[Path] = []
        for folder, recursive in sorted(folders.items()):
            removed += remove_stale_temporaries(folder, recursive=recursive)
        if trainer.ckpt_path:
            for callback in trainer.checkpoint_callbacks:
                if isinstance(callback, ModelCheckpoint):
                    for path in superseded_checkpoints(trainer, callback):
                        path.unlink(missing_ok=True)
                        removed.append(path)
        if removed:
            names = ", ".join(str(p) for p in sorted(set(removed)))
            warnings.warn(
                f"removed {len(set(removed))} file(s) left by an interrupted run: {names}", UserWarning, stacklevel=2
            )
