"""Weight initialization of the CycleGAN/pix2pix family (Zhu et al. 2017, Isola et al. 2017, Sec. 6.2)."""

from __future__ import annotations

from typing import Literal

from torch import nn

__all__ = ["init_weights", "INIT_TYPES", "InitType"]

INIT_TYPES = ("normal", "xavier", "kaiming", "orthogonal")
InitType = Literal["normal", "xavier", "kaiming", "orthogonal"]


def init_weights(net: nn.Module, init_type: InitType = "normal", init_gain: float = 0.02) -> nn.Module:
    """Initialize ``net`` in place and return it.

    Conv / ConvTranspose / Linear weights: ``normal`` N(0, init_gain), ``xavier`` Xavier-normal with gain
    ``init_gain``, ``kaiming`` Kaiming-normal (fan_in, a=0), ``orthogonal`` with gain ``init_gain``; their
    biases 0. BatchNorm weights N(1, init_gain), biases 0. The reference code's defaults are ``normal`` with
    gain 0.02.

    Raises:
        ValueError: for an unknown ``init_type``.
    """
    if init_type not in INIT_TYPES:
        raise ValueError(f"init_type {init_type!r} is not supported; choose one of {', '.join(INIT_TYPES)}")

    def init_fn(m: nn.Module) -> None:
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            if init_type == "normal":
                nn.init.normal_(m.weight, 0.0, init_gain)
            elif init_type == "xavier":
                nn.init.xavier_normal_(m.weight, gain=init_gain)
            elif init_type == "kaiming":
                nn.init.kaiming_normal_(m.weight, a=0, mode="fan_in")
            else:
                nn.init.orthogonal_(m.weight, gain=init_gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, init_gain)
            nn.init.zeros_(m.bias)

    net.apply(init_fn)
    return net
