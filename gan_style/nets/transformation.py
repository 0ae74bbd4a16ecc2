"""The image transformation network of fast style transfer (Johnson, Alahi & Fei-Fei, ECCV 2016),
with resize-convolution upsampling (Odena, Dumoulin & Olah, "Deconvolution and Checkerboard Artifacts",
Distill 2016)."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.nets.init import InitType, init_weights

__all__ = ["TransformationNetwork"]


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, norm: bool = True, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.ReflectionPad2d(kernel // 2), nn.Conv2d(cin, cout, kernel, stride)]
    if norm:
        layers.append(nn.InstanceNorm2d(cout, affine=True))
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_conv(channels, channels, 3), _conv(channels, channels, 3, relu=False))

    def forward(self, x: Tensor) -> Tensor:
        return x + self.body(x)


class TransformationNetwork(nn.Module):
    """c9s1-32, d64, d128, ``n_residual`` x R128, u64, u32, c9s1-3, tanh (Johnson et al. 2016, Sec. 3.1 and
    supplementary Table 1), with instance norm (Ulyanov et al. 2016) and reflection padding.

    Upsampling is nearest-neighbour resizing followed by a 3x3 convolution (no transposed convolutions,
    hence no checkerboard artifacts); each upsampling resizes to the exact size of the matching encoder
    level, so any input size comes back unchanged, odd sizes included.

    Input (N, 3, H, W) in [-1, 1]; output (N, 3, H, W) in [-1, 1] (with ``output_activation="none"``
    the last convolution's output as it is: the PyTorch fast-neural-style network, which works in [0, 255]).

    Args:
        channels: filters of the first layer (32); the next levels use 2x and 4x.
        n_residual: residual blocks (5).
        init_type: weight initialisation, see :func:`gan_style.nets.init_weights` (``"normal"``).
        init_gain: its scale (0.02).
        output_activation: ``"tanh"`` (default) or ``"none"``.
    """

    def __init__(
        self,
        channels: int = 32,
        n_residual: int = 5,
        init_type: InitType = "normal",
        init_gain: float = 0.02,
        output_activation: Literal["tanh", "none"] = "tanh",
    ) -> None:
        super().__init__()
        if n_residual < 0 or channels < 1:
            raise ValueError(f"channels must be >= 1 and n_residual >= 0, got {channels} and {n_residual}")
        if output_activation not in ("tanh", "none"):
            raise ValueError(f"output_activation must be 'tanh' or 'none', got {output_activation!r}")
        self.output_activation = output_activation
        c = channels
        self.head = _conv(3, c, 9)
        self.down1 = _conv(c, 2 * c, 3, stride=2)
        self.down2 = _conv(2 * c, 4 * c, 3, stride=2)
        self.residual = nn.Sequential(*[_Residual(4 * c) for _ in range(n_residual)])
        self.up1 = _conv(4 * c, 2 * c, 3)
        self.up2 = _conv(2 * c, c, 3)
        self.tail = _conv(c, 3, 9, norm=False, relu=False)
        init_weights(self, init_type, init_gain)
        for m in self.modules():  # affine instance norm starts as the identity
            if isinstance(m, nn.InstanceNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1]."""
        h0 = self.head(x)

        h1 = self.down1(h0)
        h = self.residual(self.down2(h1))
        h = self.up1(F.interpolate(h, size=h1.shape[-2:], mode="nearest"))
        h = self.up2(F.interpolate(h, size=h0.shape[-2:], mode="nearest"))
        out = self.tail(h)
        return out.tanh() if self.output_activation == "tanh" else out
