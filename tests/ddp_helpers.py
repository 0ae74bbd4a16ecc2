"""Callbacks used by tests/test_ddp.py inside the DDP processes (imported by class path)."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch


class RankWeights(L.Callback):
    """At the end of fit, every process saves its weights, image pool A (None for a method without one) and the
    sample indices it trained on to ``<default_root_dir>/rank<r>.pt``."""

    def __init__(self) -> None:
        self.indices: list[str] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.indices.extend(batch["A_path"])

    def on_fit_end(self, trainer, pl_module) -> None:
        state = {
            "state_dict": {k: v.detach().cpu() for k, v in pl_module.state_dict().items()},
            "pool_a": pl_module.pool_a.state_dict()["images"] if hasattr(pl_module, "pool_a") else None,
            "paths": self.indices,
            "world_size": trainer.world_size,
        }
        torch.save(state, Path(trainer.default_root_dir) / f"rank{trainer.global_rank}.pt")
