"""Pix2Pix inference as the paper tests (Isola et al., CVPR 2017, Sec. 3.3): :class:`Pix2PixStylizer`, used by every
consumer of a trained :class:`gan_style.methods.pix2pix.Pix2Pix` and by the published pix2pix models
(``gan-style stylize --pretrained edges2shoes``).

It lives below :mod:`gan_style.methods` so that running a published model imports no training code (Lightning, the
methods); the method hands it out through ``stylizer()`` and re-exports it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from torch import Tensor, nn

from gan_style.inference.stylizer import GeneratorStylizer, ImageToImageExport

__all__ = ["Pix2PixStylizer", "training_mode_without_updates"]


@contextlib.contextmanager
def training_mode_without_updates(net: nn.Module) -> Iterator[None]:
    """Run ``net`` in training mode (dropout on, batch statistics) without changing its running stats."""
    was_training = net.training
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [(m.momentum, m.num_batches_tracked.clone() if m.num_batches_tracked is not None else None) for m in norms]
    net.train()
    for m in norms:
        m.momentum = 0.0  # running = (1 - 0) * running + 0 * batch: unchanged
    try:
        yield
    finally:
        for m, (momentum, tracked) in zip(norms, saved):
            m.momentum = momentum
            if tracked is not None:
                m.num_batches_tracked.copy_(tracked)
        net.train(was_training)


class Pix2PixStylizer(GeneratorStylizer):
    """Pix2Pix inference: ``G(x)``, clamped to [-1, 1], in the mode the paper tests in.

    Args:
        generator: the U-Net (or any generator).
        eval_mode: False (the paper, the default): batch norm normalizes with the statistics of the input and
            dropout stays on (Isola et al. 2017, Sec. 3.3), without touching the running statistics; True: the
            usual eval mode. Exported files always use eval mode (the metadata notes it when this is False).
    """

    def __init__(self, generator: nn.Module, eval_mode: bool = False) -> None:
        super().__init__(generator, name="Pix2Pix generator")
        self.eval_mode = eval_mode

    def run(self, content: Tensor, styles: list[Tensor], **controls: Any) -> Tensor:
        if self.eval_mode:
            return self.generator(content).clamp(-1.0, 1.0)
        with training_mode_without_updates(self.generator):
            return self.generator(content).clamp(-1.0, 1.0)

    def export_module(self) -> ImageToImageExport:
        """``image`` -> ``output`` through G in eval mode (running statistics, no dropout), whatever ``eval_mode``."""
        return ImageToImageExport(GeneratorStylizer(self.generator), notes=self.export_notes())

    def export_notes(self) -> list[str]:
        if self.eval_mode:
            return []
        return [
            "exported in eval mode (batch-norm running statistics, no dropout); this checkpoint's eval_mode "
            "is false, so `gan-style predict` / `stylize` use test-batch statistics and dropout instead"
        ]
