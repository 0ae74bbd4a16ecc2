"""``PerOptimizerMixedPrecision``: float16 mixed precision with one gradient scaler per optimizer."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
from lightning.pytorch.plugins.precision import MixedPrecision
from lightning.pytorch.plugins.precision.precision import Precision

__all__ = ["PerOptimizerMixedPrecision"]


class PerOptimizerMixedPrecision(MixedPrecision):
    """Lightning precision plugin for ``16-mixed`` training with one ``torch.amp.GradScaler`` per optimizer.

    A GAN steps a generator and a discriminator optimizer each batch. With Lightning's ``16-mixed`` there is
    one scaler: an overflow in the discriminator's gradients halves the loss scale of the generator too
    and skips nothing of it, and the two losses, of very different magnitudes, share one scale. Here each
    optimizer has its own scaler (Micikevicius et al. 2018, "Mixed Precision Training"; PyTorch AMP
    recipe "multiple models, losses and optimizers"): its loss is scaled with it, an inf/NaN in its own
    gradients skips only its own step and lowers only its own scale.

    The optimizer being stepped is the one passed to :meth:`gan_style.methods.GanStyleModule.backward_step`
    (which records it before ``manual_backward``); a backward outside it (automatic optimization, a
    single optimizer) uses the first optimizer's scaler. Scalers are saved in checkpoints, in optimizer
    order, so a resumed run continues with the same scales.

    The ``gan-style`` command uses this plugin for ``--trainer.precision 16-mixed``. In Python:
    ``Trainer(plugins=[PerOptimizerMixedPrecision("cuda")])`` (no ``precision=`` argument).

    Args:
        device: ``"cuda"`` or ``"cpu"``, the autocast and scaler device.
        init_scale: initial loss scale of every scaler (2**16, torch's default).
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16) -> None:
        self.init_scale = init_scale
        super().__init__("16-mixed", device, scaler=torch.amp.GradScaler(device=device, init_scale=init_scale))
        self.scalers: list[torch.amp.GradScaler] = [self.scaler]
        self._pending_state: list[dict[str, Any]] | None = None

    def scaler_for(self, optimizer: Any, model: L.LightningModule | None) -> torch.amp.GradScaler:
        """The scaler of ``optimizer`` (a torch optimizer or Lightning's wrapper), by its index in
        ``trainer.optimizers``; the first one for an unknown optimizer."""
        optimizer = getattr(optimizer, "optimizer", optimizer)
        trainer = getattr(model, "_trainer", None) if model is not None else None
        optimizers = list(trainer.optimizers) if trainer is not None else []
        index = next((i for i, opt in enumerate(optimizers) if opt is optimizer), 0)
        while len(self.scalers) <= index:
            self.scalers.append(torch.amp.GradScaler(device=self.device, init_scale=self.init_scale))
        if self._pending_state is not None and len(self.scalers) >= len(self._pending_state):
            for scaler, state in zip(self.scalers, self._pending_state):
                scaler.load_state_dict(state)
            self._pending_state = None
        return self.scalers[index]

    def pre_backward(self, tensor: torch.Tensor, module: L.LightningModule) -> torch.Tensor:  # type: ignore[override]
        from gan_style.methods.base import GanStyleModule

        # the documented hand-off: GanStyleModule.backward_step sets active_optimizer around manual_backward
        active = module.active_optimizer if isinstance(module, GanStyleModule) else None
        scaler = self.scaler_for(active, module)
        return Precision.pre_backward(self, scaler.scale(tensor), module)

    def optimizer_step(self, optimizer: Any, model: L.LightningModule, closure: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        self.scaler = self.scaler_for(optimizer, model)  # MixedPrecision's step logic, with this optimizer's scaler
        return super().optimizer_step(optimizer, model=model, closure=closure, **kwargs)

    def state_dict(self) -> dict[str, Any]:
        return {"scalers": [scaler.state_dict() for scaler in self.scalers]}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        states = state_dict.get("scalers")
        if states is None:  # a checkpoint of Lightning's single-scaler 16-mixed: every optimizer starts from it
            states = [state_dict]
        while len(self.scalers) < len(states):
            self.scalers.append(torch.amp.GradScaler(device=self.device, init_scale=self.init_scale))
        for scaler, state in zip(self.scalers, states):
            scaler.load_state_dict(state)
