"""``RunSummary``: a run's final metrics and training throughput in ``<run>/metrics.json``."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_only

from gan_style.io.atomic import atomic_write

__all__ = ["RunSummary", "read_run_summary"]

SUMMARY_FILE = "metrics.json"


def _batch_size(batch: Any) -> int:
    if isinstance(batch, torch.Tensor):
        return int(batch.shape[0])
    if isinstance(batch, dict):
        for value in batch.values():
            if isinstance(value, torch.Tensor) and value.dim() == 4:
                return int(value.shape[0])
    if isinstance(batch, (list, tuple)) and batch:
        return _batch_size(batch[0])
    return 1


def read_run_summary(run_dir: str | os.PathLike) -> dict[str, Any]:
    """The content of ``<run_dir>/metrics.json`` ({} when the run has none)."""
    path = Path(run_dir) / SUMMARY_FILE
    if not path.is_file():
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class RunSummary(L.Callback):
    """Write a run's final metrics to ``<default_root_dir>/metrics.json`` (rank 0, atomically).

    After ``fit``, ``validate`` and ``test`` the file holds every scalar in ``trainer.callback_metrics``
    (``val/fid``, ``test/psnr``, ``train/loss_g`` ...) merged with what earlier commands of the same run wrote,
    the global step and epoch, the method class, and the training throughput: ``train/images_per_s``,
    images (batch size x processes) per second of wall time over the training batches after the first
    ``warmup`` of each fit (data loading included, validation excluded). The throughput is also logged at
    every epoch end. ``gan-style compare`` reads these files; the ``gan-style`` command adds this callback to
    every run.

    Args:
        warmup: training batches left out of the throughput at the start of each fit (5).
    """

    def __init__(self, warmup: int = 5) -> None:
        self.warmup = warmup
        self._images = 0
        self._seconds = 0.0
        self._seen = 0
        self._start: float | None = None

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._images, self._seconds, self._seen = 0, 0.0, 0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if self._start is None:
            return
        self._seen += 1
        if self._seen > self.warmup:
            self._seconds += time.perf_counter() - self._start
            self._images += _batch_size(batch) * trainer.world_size
        self._start = None

    @property
    def images_per_s(self) -> float | None:
        """Training images per second measured so far (None before any measured batch)."""
        return self._images / self._seconds if self._seconds > 0 else None

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.images_per_s is not None:
            pl_module.log("train/images_per_s", self.images_per_s, rank_zero_only=True)

    def on_fit_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module, "fit")

    def on_validation_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.state.fn == "validate":
            self._write(trainer, pl_module, "validate")

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._write(trainer, pl_module, "test")

    @rank_zero_only
    def _write(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if trainer.sanity_checking or trainer.fast_dev_run:
            return
        root = Path(trainer.default_root_dir)
        summary = read_run_summary(root)
        metrics = dict(summary.get("metrics", {}))
        for key, value in trainer.callback_metrics.items():
            if key == "step":  # the x-axis of the logged scalars (global_step, kept below), not a metric
                continue
            if isinstance(value, torch.Tensor) and value.numel() == 1:
                metrics[key] = float(value)
            elif isinstance(value, (int, float)):
                metrics[key] = float(value)
        if stage == "fit" and self.images_per_s is not None:
            metrics["train/images_per_s"] = self.images_per_s
        unavailable = dict(summary.get("unavailable_metrics", {}))
        for callback in trainer.callbacks:
            unavailable.update(getattr(callback, "unavailable_metrics", None) or {})
        if unavailable:  # metrics the run could not compute, and why (gan-style compare shows it)
            summary["unavailable_metrics"] = dict(sorted(unavailable.items()))
        summary.update(
            method=f"{type(pl_module).__module__}.{type(pl_module).__qualname__}",
            global_step=int(trainer.global_step) if stage == "fit" else summary.get("global_step", 0),
            epoch=int(trainer.current_epoch) if stage == "fit" else summary.get("epoch", 0),
            metrics=dict(sorted(metrics.items())),
            updated=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        with atomic_write(root / SUMMARY_FILE, "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2)
