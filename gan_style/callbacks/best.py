"""``BestCheckpoint``: ``best.ckpt``, the checkpoint of the validation with the best value of one logged metric."""

from __future__ import annotations

import os
from typing import Any, Literal

import lightning as L
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.utilities import rank_zero_warn

__all__ = ["BestCheckpoint"]


class BestCheckpoint(ModelCheckpoint):
    """Keep ``<run>/checkpoints/best.ckpt``: the checkpoint written at the end of the validation whose ``monitor``
    value was the best so far (lowest with ``mode="min"``, highest with ``"max"``), replaced whenever a later
    validation beats it. It sits next to ``last.ckpt`` and the periodic snapshots of the recipes' other
    ``ModelCheckpoint`` callbacks and is a complete checkpoint: ``gan-style stylize --checkpoint``, ``predict
    --ckpt_path``, ``test --ckpt_path`` and ``fit --ckpt_path`` take it.

    This is Lightning's :class:`~lightning.pytorch.callbacks.ModelCheckpoint` with ``monitor``, ``save_top_k=1``, a
    fixed file name and no ``last.ckpt`` of its own, and three differences:

    - without ``dirpath`` it writes into ``<trainer.default_root_dir>/checkpoints``, where the recipes' other
      checkpoints go;
    - the name stays ``best.ckpt`` (no ``best-v1.ckpt`` when a file of that name exists: a new run in an old run
      folder replaces it at its first comparison);
    - a validation that did not log ``monitor`` is skipped with one warning saying why, instead of stopping the run
      (a run without validation, e.g. on a dataset without test folders, keeps no ``best.ckpt`` and says nothing).
      ``val/fid``, ``val/kid`` and ``val/artfid`` come from :class:`~gan_style.callbacks.EvaluationMetrics`, which
      leaves them out when the Inception or LPIPS weights are neither cached nor downloadable (the warning then
      repeats the reason it recorded), and which computes them only every ``every_n_epochs``-th validation epoch:
      give this callback the same ``every_n_epochs``.

    Its state (the best value, the file, the metric) is saved in every checkpoint and restored with ``--ckpt_path``,
    so a resumed run keeps comparing against the best of the run it continues and picks the same ``best.ckpt`` as
    a run that was never interrupted.

    Args:
        monitor: the logged metric that decides, e.g. ``"val/fid"``, ``"val/l1"``, ``"val/artfid"`` (required).
        mode: ``"min"`` (default: lower is better, as FID, KID, L1, LPIPS, ArtFID) or ``"max"`` (PSNR, SSIM).
        every_n_epochs: compare at the end of every n-th epoch's validation (1).
        filename: the file name without ``.ckpt`` (``"best"``).
        dirpath: the folder (None, the default: ``<trainer.default_root_dir>/checkpoints``).
        **kwargs: any other :class:`~lightning.pytorch.callbacks.ModelCheckpoint` argument except ``save_top_k``,
            ``save_last``, ``auto_insert_metric_name`` and ``enable_version_counter`` (e.g. ``save_weights_only``,
            ``verbose``).

    Raises:
        ValueError: ``mode`` other than min / max, ``every_n_epochs`` < 1, an empty ``monitor`` or ``filename``, or
            one of the fixed arguments in ``kwargs``.
    """

    def __init__(
        self,
        monitor: str,
        mode: Literal["min", "max"] = "min",
        every_n_epochs: int = 1,
        filename: str = "best",
        dirpath: str | os.PathLike | None = None,
        **kwargs: Any,
    ) -> None:
        fixed = sorted({"save_top_k", "save_last", "auto_insert_metric_name", "enable_version_counter"} & set(kwargs))
        if fixed:
            raise ValueError(f"BestCheckpoint keeps one file of a fixed name; leave out {', '.join(fixed)}")
        if not monitor or not filename:
            raise ValueError("BestCheckpoint needs a monitor (a logged metric such as val/fid) and a filename")
        if mode not in ("min", "max"):
            raise ValueError(f"BestCheckpoint mode must be 'min' or 'max', got {mode!r}")
        if isinstance(every_n_epochs, bool) or not isinstance(every_n_epochs, int) or every_n_epochs < 1:
            raise ValueError(f"BestCheckpoint every_n_epochs must be an integer >= 1, got {every_n_epochs!r}")
        super().__init__(
            dirpath=dirpath,
            filename=filename,
            monitor=monitor,
            mode=mode,
            every_n_epochs=every_n_epochs,
            save_top_k=1,
            save_last=False,
            auto_insert_metric_name=False,
            enable_version_counter=False,
            **kwargs,
        )
        self._said_missing = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.dirpath is None:  # beside last.ckpt, not in the logger's version folder (Lightning's default)
            self.dirpath = os.path.realpath(os.path.join(trainer.default_root_dir, "checkpoints"))
        super().setup(trainer, pl_module, stage)

    def _why_missing(self, trainer: L.Trainer) -> str:
        """The reason :class:`~gan_style.callbacks.EvaluationMetrics` recorded for leaving the monitored metric out,
        or a general one."""
        name = str(self.monitor).partition("/")[2]
        for callback in trainer.callbacks:
            reason = getattr(callback, "unavailable_metrics", {}).get(name)
            if reason:
                return f"it is not computed: {reason}"
        return "no validation logged it yet (check the metric's name and its callback's every_n_epochs)"

    def _save_topk_checkpoint(self, trainer: L.Trainer, monitor_candidates: dict[str, Any]) -> None:
        # the one place Lightning compares the monitored value; a missing value is skipped here, not an error
        if self.monitor not in monitor_candidates:
            batches = trainer.num_val_batches
            if trainer.limit_val_batches == 0 or not (sum(batches) if isinstance(batches, list) else batches):
                return  # a run without validation (the DataModule said so): nothing to compare, nothing to say
            if not self._said_missing:
                self._said_missing = True
                rank_zero_warn(
                    f"{self.filename}.ckpt by {self.monitor} is not kept at step {trainer.global_step}: {self._why_missing(trainer)}; "
                    "last.ckpt and the snapshots are written as usual"
                )
            return
        super()._save_topk_checkpoint(trainer, monitor_candidates)
