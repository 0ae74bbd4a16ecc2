"""Pixel-wise reconstruction losses (cycle consistency, identity, L1 to the target)."""

from __future__ import annotations

from torch import nn

from gan_style.losses.registry import register_loss

__all__ = ["L1Loss", "MSELoss"]


@register_loss("l1")
class L1Loss(nn.L1Loss):
    """Mean absolute error ``mean(|x - y|)`` over every element of two tensors of one shape.

    Used for cycle consistency and identity (CycleGAN, Zhu et al. 2017, Eq. 2 and Sec. 5.2) and for the
    pix2pix reconstruction term (Isola et al. 2017, Eq. 3). Images are expected in [-1, 1], so the loss
    lies in [0, 2].
    """


@register_loss("mse")
class MSELoss(nn.MSELoss):
    """Mean squared error ``mean((x - y)^2)`` over every element of two tensors of one shape."""
