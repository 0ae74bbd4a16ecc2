"""``LearningRateMonitor``: Lightning's learning-rate monitor with curves named after the networks and plotted
against optimizer steps."""

from __future__ import annotations

import os
from typing import Any

import lightning as L
from lightning.pytorch.callbacks import LearningRateMonitor as _LightningLearningRateMonitor
from torch import nn

__all__ = ["LearningRateMonitor", "optimizer_network_names"]


def optimizer_network_names(module: nn.Module, optimizers: list[Any]) -> list[str]:
    """A name per optimizer: the network(s) whose parameters it updates, by the module's attribute names.

    One network gives its name (``decoder``); several with a common prefix give the prefix without its trailing
    ``_`` (``generator_ab`` + ``generator_ba`` -> ``generator``, ``discriminator_a`` + ``discriminator_b`` ->
    ``discriminator``); others are joined with ``+``. An optimizer whose parameters belong to no child module is
    ``optimizer<i>``. Names repeated across optimizers get ``-1``, ``-2`` ... appended.
    """
    owner: dict[int, str] = {}
    for child_name, child in module.named_children():
        for p in child.parameters():
            owner.setdefault(id(p), child_name)
    names: list[str] = []
    for i, optimizer in enumerate(optimizers):
        networks = list(
            dict.fromkeys(owner[id(p)] for g in optimizer.param_groups for p in g["params"] if id(p) in owner)
        )
        if not networks:
            name = f"optimizer{i}"
        elif len(networks) == 1:
            name = networks[0]
        else:
            prefix = os.path.commonprefix(networks).rstrip("_")
            name = prefix if prefix else "+".join(networks)
        count = sum(1 for n in names if n == name or n.startswith(f"{name}-"))
        names.append(f"{name}-{count}" if count else name)
    return names


class LearningRateMonitor(_LightningLearningRateMonitor):
    """Lightning's ``LearningRateMonitor`` (same arguments: ``logging_interval`` ``"step"``, ``"epoch"`` or None,
    ``log_momentum`` False, ``log_weight_decay`` False), with two differences:

    - a scheduler without a ``name`` of its own logs as ``lr/<network>`` (``lr/generator``,
      ``lr/discriminator``, ``lr/decoder``: :func:`optimizer_network_names`) instead of ``lr-Adam`` /
      ``lr-Adam-1``;
    - values are logged at ``trainer.global_step`` (optimizer steps), the x-axis of gan-style's other scalars,
      samples and checkpoints, instead of Lightning's count of batches.
    """

    def on_train_start(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        names = optimizer_network_names(trainer.lightning_module, trainer.optimizers)
        for config in trainer.lr_scheduler_configs:
            if config.name is None:
                optimizer = config.scheduler.optimizer
                index = next((i for i, o in enumerate(trainer.optimizers) if o is optimizer), None)
                if index is not None:
                    config.name = f"lr/{names[index]}"
        super().on_train_start(trainer, *args, **kwargs)

    def _log(self, trainer: L.Trainer, interval: str) -> None:
        stats = self._extract_stats(trainer, interval)
        if stats:
            for logger in trainer.loggers:
                logger.log_metrics(stats, step=trainer.global_step)

    def on_train_batch_start(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if trainer._logger_connector.should_update_logs and self.logging_interval != "epoch":
            self._log(trainer, "step" if self.logging_interval is None else "any")

    def on_train_epoch_start(self, trainer: L.Trainer, *args: Any, **kwargs: Any) -> None:
        if self.logging_interval != "step":
            self._log(trainer, "epoch" if self.logging_interval is None else "any")
