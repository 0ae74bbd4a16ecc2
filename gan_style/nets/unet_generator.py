"""The U-Net generator of pix2pix (Isola et al. 2017, Sec. 3.2.1 and Appendix 6.1.1)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from gan_style.errors import InvalidSettingError
from gan_style.nets.init import InitType, init_weights
from gan_style.nets.norm import NormType, norm_layer, uses_bias

__all__ = ["UnetGenerator", "UnetSkipConnectionBlock"]


class UnetSkipConnectionBlock(nn.Module):
    """One level of the U-Net: downsample, the inner levels (``submodule``), upsample, and a skip.

    ``down: [LeakyReLU 0.2], Conv4x4 s2, [norm]`` then ``submodule`` then ``up: ReLU, ConvTranspose4x4 s2,
    norm | tanh, [Dropout 0.5]``; every level but the outermost returns ``cat([x, up(...)], 1)``, so its
    parent's transposed conv takes ``2 * inner_nc`` channels. The layer order gives the reference
    code's state-dict keys (``model.1.weight`` for a middle level's down conv, ``model.3`` its submodule,
    ``model.5`` its up conv, ``model.6`` its up norm).

    Shape: (N, input_nc, H, W) -> (N, outer_nc + input_nc, H, W), or (N, outer_nc, H, W) when outermost.
    """

    def __init__(
        self,
        outer_nc: int,
        inner_nc: int,
        input_nc: int | None = None,
        submodule: nn.Module | None = None,
        outermost: bool = False,
        innermost: bool = False,
        norm: NormType = "batch",
        use_dropout: bool = False,
    ) -> None:
        super().__init__()
        self.outermost = outermost
        bias = uses_bias(norm)
        input_nc = outer_nc if input_nc is None else input_nc
        down_conv = nn.Conv2d(input_nc, inner_nc, 4, stride=2, padding=1, bias=bias)
        if outermost:
            layers = [
                down_conv,
                submodule,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1),
                nn.Tanh(),
            ]
        elif innermost:
            layers = [
                nn.LeakyReLU(0.2, True),
                down_conv,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias),
                norm_layer(norm, outer_nc),
            ]
        else:
            layers = [
                nn.LeakyReLU(0.2, True),
                down_conv,
                norm_layer(norm, inner_nc),
                submodule,
                nn.ReLU(True),
                nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=bias),
                norm_layer(norm, outer_nc),
            ]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(nn.Module):
    """U-Net encoder-decoder with skips between mirrored levels (pix2pix).

    Encoder C64-C128-C256-C512-C512-C512-C512-C512 at ``num_downs=8`` ("unet_256"; 7 levels for
    "unet_128"), decoder mirrored, each decoder level concatenated with its encoder level, dropout 0.5 in
    the ``num_downs - 5`` innermost decoder levels below the bottleneck, tanh output.

    Input (N, input_nc, H, W) in [-1, 1] with H and W divisible by ``2 ** num_downs`` (256 for unet_256);
    output (N, output_nc, H, W) in [-1, 1]. unet_256 with batch norm and dropout has 54,413,955
    parameters; state-dict keys follow the reference code (``model.model.0.weight``,
    ``model.model.1.model.1.weight``, ...), so its published ``latest_net_G.pth`` files load with
    :func:`gan_style.nets.load_reference_state_dict`.

    Args:
        input_nc: channels of the input image (3).
        output_nc: channels of the output image (3).
        num_downs: downsamplings (8 for 256x256 inputs, 7 for 128x128; at least 5).
        ngf: filters of the outermost level (64).
        norm: ``batch`` (default, as in pix2pix), ``instance`` or ``none``.
        use_dropout: dropout in the inner decoder levels (True, as in the paper, where it is the noise z).
        init_type: weight initialization, ``normal`` (default), ``xavier``, ``kaiming`` or ``orthogonal``; see
            :func:`gan_style.nets.init_weights`.
        init_gain: scale of the initial weights: the standard deviation for ``normal`` (also of the batch-norm
            weights around 1), the gain for ``xavier`` / ``orthogonal``; unused by ``kaiming`` (0.02).

    Raises:
        ValueError: ``num_downs < 5``, an unknown norm or init type; at ``forward``, a spatial size not
            divisible by ``2 ** num_downs`` (:class:`~gan_style.errors.InvalidSettingError`, a ``ValueError``).
    """

    def __init__(
        self,
        input_nc: int = 3,
        output_nc: int = 3,
        num_downs: int = 8,
        ngf: int = 64,
        norm: NormType = "batch",
        use_dropout: bool = True,
        init_type: InitType = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError(f"num_downs must be >= 5, got {num_downs}")
        self.num_downs = num_downs
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, norm=norm, use_dropout=use_dropout)
        block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block, norm=norm)
        block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block, norm=norm)
        self.model = UnetSkipConnectionBlock(
            output_nc, ngf, input_nc=input_nc, submodule=block, outermost=True, norm=norm
        )
        init_weights(self, init_type, init_gain)

    @property
    def size_multiple(self) -> int:
        """Height and width must be multiples of ``2 ** num_downs`` (256 for unet_256); read by
        :func:`gan_style.inference.size_multiple_of`."""
        return 2**self.num_downs

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) in [-1, 1] -> (N, output_nc, H, W) in [-1, 1]."""
        step = 2**self.num_downs
        if x.shape[-1] % step or x.shape[-2] % step:
            raise InvalidSettingError(
                f"UnetGenerator with num_downs={self.num_downs} needs height and width divisible by {step}, "
                f"got {tuple(x.shape[-2:])}; set crop_size to a multiple of {step} or use fewer num_downs"
            )
        return self.model(x)
