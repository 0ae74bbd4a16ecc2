"""PatchGAN discriminators (Isola et al. 2017, Sec. 3.2.2 and Appendix 6.1.2; used by CycleGAN)."""

from __future__ import annotations

from torch import Tensor, nn

from gan_style.nets.init import InitType, init_weights
from gan_style.nets.norm import NormType, norm_layer, uses_bias

__all__ = ["NLayerDiscriminator", "PixelDiscriminator", "receptive_field"]


class NLayerDiscriminator(nn.Module):
    """PatchGAN: a fully convolutional classifier that scores every overlapping image patch.

    C64-C128-C256-C512 at ``n_layers=3`` (4x4 convs; stride 2 for all but the last two; LeakyReLU 0.2;
    no norm on the first layer), then a 4x4 conv to one channel. Each output element sees a 70x70 input
    patch at ``n_layers=3`` (34x34 at 2, 16x16 at 1; see :func:`receptive_field`).

    Input (N, input_nc, H, W) in [-1, 1]; output raw scores (logits) of shape (N, 1, H', W'), e.g. 30x30
    for a 256x256 input at ``n_layers=3``. No sigmoid: the loss applies it (see ``GANLoss``). Key layout
    ``model.{i}.weight`` as in the reference code, 2,764,737 parameters at the defaults with instance norm.

    Args:
        input_nc: input channels (3; 6 for a conditional discriminator on concat(A, B)).
        ndf: filters in the first layer (64).
        n_layers: strided conv layers (3; must be >= 1).
        norm: ``batch`` (pix2pix), ``instance`` (CycleGAN) or ``none``.
        init_type: weight initialization, ``normal`` (default), ``xavier``, ``kaiming`` or ``orthogonal``; see
            :func:`gan_style.nets.init_weights`.
        init_gain: scale of the initial weights: the standard deviation for ``normal`` (also of the batch-norm
            weights around 1), the gain for ``xavier`` / ``orthogonal``; unused by ``kaiming`` (0.02).
        spectral_norm: wrap every convolution in spectral normalization (Miyato et al. 2018), usually
            with ``norm="none"``; False (default) keeps the reference key layout.

    Raises:
        ValueError: for ``n_layers < 1`` or an unknown norm or init type.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: NormType = "instance",
        init_type: InitType = "normal",
        init_gain: float = 0.02,
        spectral_norm: bool = False,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        bias = uses_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2**n, 8)
            stride = 2 if n < n_layers else 1
            layers += [
                nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1, bias=bias),
                norm_layer(norm, ndf * mult),
                nn.LeakyReLU(0.2, True),
            ]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)
        init_weights(self, init_type, init_gain)
        if spectral_norm:
            for i, m in enumerate(self.model):
                if isinstance(m, nn.Conv2d):
                    self.model[i] = nn.utils.parametrizations.spectral_norm(m)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) -> (N, 1, H', W') patch scores (logits)."""

        return self.model(x)


class PixelDiscriminator(nn.Module):
    """1x1 PatchGAN ("PixelGAN", Isola et al. 2017, Sec. 4.4): judges each pixel's colour alone.

    Conv1x1(input_nc -> ndf), LeakyReLU 0.2, Conv1x1(ndf -> 2 ndf), norm, LeakyReLU 0.2, Conv1x1(2 ndf -> 1).
    Input (N, input_nc, H, W); output logits (N, 1, H, W). Keys ``net.{i}.weight`` as in the reference code.

    Args:
        input_nc: input channels (3).
        ndf: filters of the first layer (64).
        norm: ``batch``, ``instance`` (default) or ``none``.
        init_type: weight initialization, ``normal`` (default), ``xavier``, ``kaiming`` or ``orthogonal``; see
            :func:`gan_style.nets.init_weights`.
        init_gain: scale of the initial weights: the standard deviation for ``normal`` (also of the batch-norm
            weights around 1), the gain for ``xavier`` / ``orthogonal``; unused by ``kaiming`` (0.02).
    """

    def __init__(
        self,
        input_nc: int = 3,
        ndf: int = 64,
        norm: NormType = "instance",
        init_type: InitType = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        bias = uses_bias(norm)
        self.net = nn.Sequential(
            nn.Conv2d(input_nc, ndf, 1),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 1, bias=bias),
            norm_layer(norm, ndf * 2),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, 1, 1, bias=bias),
        )
        init_weights(self, init_type, init_gain)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) -> (N, 1, H, W) per-pixel logits."""
        return self.net(x)


def receptive_field(net: nn.Module) -> int:
    """Receptive field in input pixels of one output element of a plain conv stack (square kernels).

    Walks the ``Conv2d`` layers in order: ``r += (k - 1) * j; j *= s`` with ``j`` the accumulated stride.
    """
    r, j = 1, 1
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            k, s, d = m.kernel_size[0], m.stride[0], m.dilation[0]
            r += (k - 1) * d * j
            j *= s
    return r
