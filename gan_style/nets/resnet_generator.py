"""The ResNet-based image-to-image generator of CycleGAN (Zhu et al. 2017, Appendix 7.2), after the
transformation network of Johnson et al. 2016."""

from __future__ import annotations

from typing import Literal

from torch import Tensor, nn

from gan_style.nets.init import InitType, init_weights
from gan_style.nets.norm import NormType, norm_layer, uses_bias

__all__ = ["ResnetGenerator", "ResnetBlock"]

PaddingType = Literal["reflect", "replicate", "zero"]


def _padding(padding_type: PaddingType, size: int) -> tuple[list[nn.Module], int]:
    """Explicit padding layers and the conv's own padding for ``padding_type``."""
    if padding_type == "reflect":
        return [nn.ReflectionPad2d(size)], 0
    if padding_type == "replicate":
        return [nn.ReplicationPad2d(size)], 0
    if padding_type == "zero":
        return [], size
    raise ValueError(f"padding_type {padding_type!r} is not supported; choose reflect, replicate or zero")


class ResnetBlock(nn.Module):
    """``x + conv_block(x)`` with conv_block = pad, conv3x3, norm, ReLU, [dropout 0.5], pad, conv3x3, norm.

    Shape: (N, dim, H, W) -> (N, dim, H, W). State-dict keys ``conv_block.{i}.weight`` follow the reference
    CycleGAN/pix2pix layout (with reflection padding the convs sit at indices 1 and 5, 6 with dropout).
    """

    def __init__(self, dim: int, padding_type: PaddingType, norm: NormType, use_dropout: bool) -> None:
        super().__init__()
        bias = uses_bias(norm)
        layers: list[nn.Module] = []
        pad, p = _padding(padding_type, 1)
        layers += pad + [nn.Conv2d(dim, dim, 3, padding=p, bias=bias), norm_layer(norm, dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        pad, p = _padding(padding_type, 1)
        layers += pad + [nn.Conv2d(dim, dim, 3, padding=p, bias=bias), norm_layer(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.conv_block(x)


class ResnetGenerator(nn.Module):
    """c7s1-64, d128, d256, ``n_blocks`` x R256, u128, u64, c7s1-3, tanh (Zhu et al. 2017, Appendix 7.2).

    Input (N, input_nc, H, W) in [-1, 1], output (N, output_nc, H, W) in [-1, 1]; H and W should be
    multiples of 4 (two stride-2 downsamplings; other sizes come back rounded to them). ``n_blocks=9`` is
    the paper's network for 256x256 images ("resnet_9blocks", 11,378,179 parameters with instance norm),
    6 for 128x128 ("resnet_6blocks").

    The state dict uses the reference code's key layout (``model.1.weight``, ``model.10.conv_block.1.weight``,
    ...), so its published ``latest_net_G.pth`` files load with
    :func:`gan_style.nets.load_reference_state_dict`.

    Args:
        input_nc: channels of the input image (3).
        output_nc: channels of the output image (3).
        ngf: filters in the first conv layer (64).
        norm: ``instance`` (default, as in CycleGAN), ``batch`` or ``none``.
        use_dropout: dropout 0.5 inside each residual block (False).
        n_blocks: residual blocks (9; must be >= 0).
        padding_type: ``reflect`` (default), ``replicate`` or ``zero``.
        init_type: weight initialization, ``normal`` (default), ``xavier``, ``kaiming`` or ``orthogonal``; see
            :func:`gan_style.nets.init_weights`.
        init_gain: scale of the initial weights: the standard deviation for ``normal`` (also of the batch-norm
            weights around 1), the gain for ``xavier`` / ``orthogonal``; unused by ``kaiming`` (0.02).

    Raises:
        ValueError: for ``n_blocks < 0`` or an unknown norm, padding or init type.
    """

    #: Height and width must be multiples of this (two stride-2 levels); read by
    #: :func:`gan_style.inference.size_multiple_of`.
    size_multiple: int = 4

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        ngf: int = 64,
        norm: NormType = "instance",
        use_dropout: bool = False,
        n_blocks: int = 9,
        padding_type: PaddingType = "reflect",
        init_type: InitType = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError(f"n_blocks must be >= 0, got {n_blocks}")
        bias = uses_bias(norm)
        layers: list[nn.Module] = [
            nn.ReflectionPad2d(3),
            nn.Conv2d(input_nc, ngf, 7, padding=0, bias=bias),
            norm_layer(norm, ngf),
            nn.ReLU(True),
        ]
        n_downsampling = 2
        for i in range(n_downsampling):
            mult = 2**i
            layers += [
                nn.Conv2d(ngf * mult, ngf * mult * 2, 3, stride=2, padding=1, bias=bias),
                norm_layer(norm, ngf * mult * 2),
                nn.ReLU(True),
            ]
        mult = 2**n_downsampling
        layers += [ResnetBlock(ngf * mult, padding_type, norm, use_dropout) for _ in range(n_blocks)]
        for i in range(n_downsampling):
            mult = 2 ** (n_downsampling - i)
            layers += [
                nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                norm_layer(norm, ngf * mult // 2),
                nn.ReLU(True),
            ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self, init_type, init_gain)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) in [-1, 1] -> (N, output_nc, H, W) in [-1, 1]."""
        return self.model(x)
