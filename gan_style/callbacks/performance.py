"""``Performance``: channels-last memory format and ``torch.compile`` for a method's networks."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from torch import nn

__all__ = ["Performance"]


def _to_channels_last(batch: Any) -> None:
    if isinstance(batch, dict):
        for key, value in batch.items():
            if isinstance(value, torch.Tensor) and value.dim() == 4:
                batch[key] = value.contiguous(memory_format=torch.channels_last)


class Performance(L.Callback):
    """Speed settings that change no result beyond floating-point rounding.

    - ``channels_last``: the method's parameters and every 4-D image tensor of a batch (dict batches, as all
      gan-style DataModules give) use the NHWC memory format, which cuDNN's fastest convolution kernels
      and tensor cores prefer (mostly with ``16-mixed`` / ``bf16-mixed`` on recent GPUs);
    - ``compile``: ``torch.compile`` of each trainable network of the method (``nn.Module.compile``, in
      place, so state-dict keys and checkpoints are unchanged); frozen loss networks (VGG) are compiled
      too when ``compile_frozen``. The first steps are slow while graphs compile.

    Use it from a recipe::

        trainer:
          callbacks+:
            - class_path: gan_style.callbacks.Performance
              init_args: {channels_last: true, compile: true}

    Args:
        channels_last: NHWC parameters and inputs (False).
        compile: compile the networks (False).
        compile_mode: ``torch.compile`` mode (None: default; ``"max-autotune"`` tries more kernels).
        compile_backend: ``torch.compile`` backend (``"inductor"``).
        compile_frozen: also compile networks whose parameters are all frozen (False).
    """

    def __init__(
        self,
        channels_last: bool = False,
        compile: bool = False,
        compile_mode: str | None = None,
        compile_backend: str = "inductor",
        compile_frozen: bool = False,
    ) -> None:
        self.channels_last = channels_last
        self.compile = compile
        self.compile_mode = compile_mode
        self.compile_backend = compile_backend
        self.compile_frozen = compile_frozen
        self.compiled: list[str] = []

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if self.channels_last:
            pl_module.to(memory_format=torch.channels_last)
        if self.compile and not self.compiled:
            for name, child in pl_module.named_children():
                params = list(child.parameters())
                if not isinstance(child, nn.Module) or not params:
                    continue
                if not self.compile_frozen and not any(p.requires_grad for p in params):
                    continue
                child.compile(mode=self.compile_mode, backend=self.compile_backend)
                self.compiled.append(name)

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self.channels_last:
            _to_channels_last(batch)

    def on_validation_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        if self.channels_last:
            _to_channels_last(batch)

    def on_test_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        if self.channels_last:
            _to_channels_last(batch)

    def on_predict_batch_start(self, trainer, pl_module, batch, batch_idx, dataloader_idx=0) -> None:
        if self.channels_last:
            _to_channels_last(batch)
