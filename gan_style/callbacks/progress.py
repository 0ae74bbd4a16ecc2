"""What ``gan-style fit`` prints while it trains: a progress bar over the whole run, a model summary without
empty columns."""

from __future__ import annotations

import logging
import math
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import ModelSummary, TQDMProgressBar

__all__ = ["RunModelSummary", "RunProgressBar", "optimizer_steps_per_batch", "run_total_steps"]

log = logging.getLogger("lightning.pytorch.callbacks.model_summary")  # printed where Lightning prints it


def optimizer_steps_per_batch(pl_module: L.LightningModule) -> int:
    """Optimizer steps (``trainer.global_step`` increments) per training batch: the number of optimizers under
    manual optimization (a GAN steps its generator and its discriminator once per batch), else 1."""
    if pl_module.automatic_optimization:
        return 1
    optimizers = pl_module.trainer.optimizers if pl_module._trainer is not None else []
    return max(1, len(optimizers))


def run_total_steps(trainer: L.Trainer, pl_module: L.LightningModule) -> int | None:
    """The optimizer steps the whole run will take: ``max_steps`` when set, else ``max_epochs`` x training batches
    per epoch x :func:`optimizer_steps_per_batch`, whichever ends the run first; None when neither is finite."""
    candidates = []
    if trainer.max_steps is not None and trainer.max_steps >= 0:
        candidates.append(trainer.max_steps)
    batches = trainer.num_training_batches
    if trainer.max_epochs is not None and trainer.max_epochs >= 0 and math.isfinite(batches):
        candidates.append(int(trainer.max_epochs * batches * optimizer_steps_per_batch(pl_module)))
    return min(candidates) if candidates else None


class RunProgressBar(TQDMProgressBar):
    """Lightning's tqdm progress bar, counting the whole run instead of one epoch.

    The training bar's position is the optimizer step (``trainer.global_step``: the x-axis of the logged
    scalars, the sample file names and ``max_steps``) out of :func:`run_total_steps`, so its rate and ETA are
    the whole run's; its description is ``epoch E/N`` (E counted from 1; N the epochs the run will take,
    ``max_epochs`` or fewer when ``max_steps`` ends it first). A resumed run starts at its step. The logger's version
    number (``v_num``) is not shown. Validation, test and predict bars are Lightning's.

    Args:
        refresh_rate: update the bar every this many batches (1).
        process_position: the bar's line when several processes print bars (0).
        leave: keep the bar of each epoch on screen (False: one bar for the run).
    """

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self._run_total: int | None = None
        self._steps_per_batch = 1

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._run_total = run_total_steps(trainer, pl_module)
        self._steps_per_batch = optimizer_steps_per_batch(pl_module)
        bar = self.train_progress_bar
        bar.reset(total=self._run_total)
        bar.unit = "step"
        bar.initial = trainer.global_step
        bar.n = trainer.global_step

    def _describe(self, trainer: L.Trainer) -> str:
        epochs = trainer.max_epochs if trainer.max_epochs is not None and trainer.max_epochs >= 0 else None
        per_epoch = trainer.num_training_batches * self._steps_per_batch
        if self._run_total is not None and math.isfinite(per_epoch) and per_epoch > 0:
            by_steps = math.ceil(self._run_total / per_epoch)  # max_steps may end the run first
            epochs = min(epochs, by_steps) if epochs else by_steps
        return f"epoch {trainer.current_epoch + 1}" + (f"/{epochs}" if epochs else "")

    def on_train_epoch_start(self, trainer: L.Trainer, *_: Any) -> None:
        if self._leave:
            super().on_train_epoch_start(trainer)
            return
        self.train_progress_bar.set_description(self._describe(trainer))

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self._leave:
            super().on_train_batch_end(trainer, pl_module, outputs, batch, batch_idx)
            return
        bar = self.train_progress_bar
        if bar is not None and not bar.disable and self._should_update(batch_idx + 1, self.total_train_batches):
            bar.n = trainer.global_step
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            bar.refresh()

    def get_metrics(self, trainer: L.Trainer, pl_module: L.LightningModule) -> dict[str, Any]:
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


class RunModelSummary(ModelSummary):
    """Lightning's model summary (same arguments), without the FLOPs column and total when they are all 0
    (Lightning counts FLOPs only for a module that sets ``example_input_array``, which a method with several
    networks does not).

    Args:
        max_depth: depth of nested modules shown (1: the method's networks); 0 turns the summary off.
    """

    @staticmethod
    def summarize(
        summary_data: list[tuple[str, list[str]]],
        total_parameters: int,
        trainable_parameters: int,
        model_size: float,
        total_training_modes: dict[str, int],
        total_flops: int,
        **summarize_kwargs: Any,
    ) -> None:
        if total_flops:
            ModelSummary.summarize(
                summary_data, total_parameters, trainable_parameters, model_size, total_training_modes, total_flops
            )
            return
        from lightning.pytorch.utilities.model_summary.model_summary import _format_summary_table

        columns = [column for column in summary_data if column[0] != "FLOPs"]
        table = _format_summary_table(
            total_parameters, trainable_parameters, model_size, total_training_modes, 0, *columns
        )
        lines = [line for line in table.splitlines() if not line.rstrip().endswith("Total Flops")]
        log.info("\n" + "\n".join(lines))
