"""The networks of UNIT (Liu, Breuel & Kautz, NeurIPS 2017) and MUNIT (Huang, Liu, Belongie & Kautz, ECCV 2018),
as in the authors' code (github.com/NVlabs/MUNIT, ``networks.py``): same layers in the same order, same
hyper-parameters, same parameter shapes and the same forward computation.

- :class:`MUNITGenerator` (the code's ``AdaINGen``): a content encoder (instance norm, residual blocks), a style
  encoder (global average pooling to an 8-d style code), and a decoder whose residual blocks use adaptive instance
  normalization with parameters produced from the style code by an MLP; layer norm in the upsampling blocks.
- :class:`UNITGenerator` (the code's ``VAEGen``): the same content encoder and a decoder with instance-norm residual
  blocks; the encoder's output is the mean of a Gaussian with unit variance (the code's "reduced VAE").
- :class:`MultiScaleDiscriminator` (the code's ``MsImageDis``): the same PatchGAN-like network at ``num_scales``
  image scales (each 2x smaller, average pooling), returning one score map per scale.

The attribute names follow the code's, so state dicts have the layout of its snapshots (``gen_XXXXXXXX.pt`` and
``dis_XXXXXXXX.pt`` hold ``{"a": gen_a / dis_a state dict, "b": gen_b / dis_b state dict}``, and the published
``edges2shoes.pt`` ... the generators'): ``enc_style.model.{i}.conv.weight``, ``enc_content.model.{i}...``,
``dec.model.0.model.{j}.model.{k}.norm.running_mean`` (the AdaIN layers' unused buffers, kept so files load
strictly), ``mlp.model.{i}.fc.weight``, ``cnns.{s}.{i}.conv.weight``. :func:`load_reference_pair` reads such a file.

Names of the settings here and in the code's configs (``gen:`` / ``dis:`` sections):

==================  =============  =========================================================================
this code           code config    meaning
==================  =============  =========================================================================
``input_nc``        input_dim_a/b  image channels
``ngf`` / ``ndf``   dim            filters of the first layer (64)
``style_dim``       style_dim      length of the style code (8)
``n_downsample``    n_downsample   downsampling steps of the content encoder = upsampling steps of the decoder (2)
``n_res``           n_res          residual blocks in the content encoder and in the decoder (4)
``mlp_dim``         mlp_dim        width of the MLP that maps the style code to AdaIN parameters (256)
``activation``      activ          relu (generators), lrelu (discriminator, slope 0.2)
``padding_type``    pad_type       reflect, replicate or zero
``n_layer``         n_layer        strided convolutions per scale of the discriminator (4)
``num_scales``      num_scales     scales of the discriminator (3)
``norm``            norm           discriminator normalization: none, bn, in, ln
==================  =============  =========================================================================

Images are float tensors in [-1, 1], (N, C, H, W); the decoders end in tanh.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Literal

import torch
from torch import Tensor, nn

from gan_style.errors import UnreadableFileError
from gan_style.io.untrusted import safe_load
from gan_style.nets.init import InitType, init_weights
from gan_style.nets.reference import load_reference_state_dict

__all__ = [
    "ACTIVATIONS",
    "AdaptiveInstanceNorm2d",
    "ContentEncoder",
    "ConvBlock",
    "Decoder",
    "LayerNorm2d",
    "LinearBlock",
    "MLP",
    "MUNITGenerator",
    "MUNIT_NORMS",
    "MultiScaleDiscriminator",
    "ResidualBlock",
    "ResidualBlocks",
    "StyleEncoder",
    "UNITGenerator",
    "load_reference_pair",
]

#: Normalizations of :class:`ConvBlock`, named as in the code: none, ``bn`` (batch), ``in`` (instance, no affine
#: parameters, no running statistics), ``ln`` (:class:`LayerNorm2d`), ``adain`` (:class:`AdaptiveInstanceNorm2d`).
MUNIT_NORMS = ("none", "bn", "in", "ln", "adain")
MunitNorm = Literal["none", "bn", "in", "ln", "adain"]
#: Activations, named as in the code (``lrelu``: LeakyReLU with slope 0.2).
ACTIVATIONS = ("relu", "lrelu", "prelu", "selu", "tanh", "none")
Activation = Literal["relu", "lrelu", "prelu", "selu", "tanh", "none"]
PADDINGS = ("reflect", "replicate", "zero")
MunitPadding = Literal["reflect", "replicate", "zero"]


def _choice(name: str, value: str, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ValueError(f"{name} {value!r} is not supported; choose one of {', '.join(choices)}")
    return value


def _positive(name: str, value: int, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _activation(name: str) -> nn.Module | None:
    _choice("activation", name, ACTIVATIONS)
    return {
        "relu": lambda: nn.ReLU(inplace=True),
        "lrelu": lambda: nn.LeakyReLU(0.2, inplace=True),
        "prelu": nn.PReLU,
        "selu": lambda: nn.SELU(inplace=True),
        "tanh": nn.Tanh,
        "none": lambda: None,
    }[name]()


# --- normalization --------------------------------------------------------------------------------------------


class AdaptiveInstanceNorm2d(nn.Module):
    """Adaptive instance normalization with per-sample parameters (Huang & Belongie 2017, as in MUNIT's decoder):
    ``y = gamma * (x - mu(x)) / sqrt(var(x) + eps) + beta``, with ``mu`` and the biased ``var`` per sample and
    channel over H x W, and ``gamma``, ``beta`` of shape (N, C) given at each call (from the style code's MLP).

    The normalization is an ``nn.InstanceNorm2d`` without affine parameters (``instance_norm``), so tiled
    inference and video (:mod:`gan_style.inference.tiling`, :mod:`gan_style.inference.temporal`) can switch it to
    whole-image or time-averaged statistics like any instance norm. The code computes the same with
    ``F.batch_norm`` on a (1, N*C, H, W) view. The buffers ``running_mean`` / ``running_var`` (C,) are never read;
    they exist because the code's layer has them, so its files load strictly.

    Args:
        num_features: channels C.
        eps: added to the variance (1e-5).
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = _positive("num_features", num_features)
        self.instance_norm = nn.InstanceNorm2d(num_features, eps=eps, affine=False, track_running_stats=False)
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: Tensor, weight: Tensor, bias: Tensor) -> Tensor:
        """``x`` (N, C, H, W), ``weight`` = gamma and ``bias`` = beta (N, C) -> (N, C, H, W)."""
        return self.instance_norm(x) * weight[:, :, None, None] + bias[:, :, None, None]

    def extra_repr(self) -> str:
        return str(self.num_features)


class LayerNorm2d(nn.Module):
    """The code's layer normalization (``networks.py`` ``LayerNorm``), used in the decoder's upsampling blocks:
    ``y = gamma_c * (x - m) / (s + eps) + beta_c`` with ``m`` and ``s`` the mean and the *unbiased* standard
    deviation of each sample over all of (C, H, W), ``eps`` added to ``s`` (not to the variance).

    Parameters ``gamma`` (C,), initialized U[0, 1) as in the code, and ``beta`` (C,), zeros.

    Args:
        num_features: channels C.
        eps: added to the standard deviation (1e-5).
    """

    def __init__(self, num_features: int, eps: float = 1e-5) -> None:
        super().__init__()
        self.num_features = _positive("num_features", num_features)
        self.eps = eps
        self.gamma = nn.Parameter(torch.empty(num_features).uniform_())
        self.beta = nn.Parameter(torch.zeros(num_features))

    def forward(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, C, H, W)."""
        flat = x.reshape(x.shape[0], -1)
        mean = flat.mean(1).view(-1, 1, 1, 1)
        std = flat.std(1).view(-1, 1, 1, 1)
        return (x - mean) / (std + self.eps) * self.gamma.view(1, -1, 1, 1) + self.beta.view(1, -1, 1, 1)

    def extra_repr(self) -> str:
        return str(self.num_features)


def _norm(norm: str, channels: int) -> nn.Module | None:
    _choice("norm", norm, MUNIT_NORMS)
    if norm == "bn":
        return nn.BatchNorm2d(channels)
    if norm == "in":
        return nn.InstanceNorm2d(channels)
    if norm == "ln":
        return LayerNorm2d(channels)
    if norm == "adain":
        return AdaptiveInstanceNorm2d(channels)
    return None


# --- blocks ---------------------------------------------------------------------------------------------------


class ConvBlock(nn.Module):
    """Padding, convolution (with bias), normalization, activation: the code's ``Conv2dBlock``.

    Shape: (N, in_dim, H, W) -> (N, out_dim, (H + 2 padding - kernel_size) // stride + 1, ...).

    Args:
        in_dim: input channels.
        out_dim: output channels.
        kernel_size: square kernel side.
        stride: convolution stride.
        padding: pixels of padding on each side (0).
        norm: one of :data:`MUNIT_NORMS` (``none``).
        activation: one of :data:`ACTIVATIONS` (``relu``).
        padding_type: ``reflect``, ``replicate`` or ``zero`` (``zero``).

    Raises:
        ValueError: an unknown norm, activation or padding type.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        kernel_size: int,
        stride: int,
        padding: int = 0,
        norm: MunitNorm = "none",
        activation: Activation = "relu",
        padding_type: MunitPadding = "zero",
    ) -> None:
        super().__init__()
        pad = {"reflect": nn.ReflectionPad2d, "replicate": nn.ReplicationPad2d, "zero": nn.ZeroPad2d}
        self.pad = pad[_choice("padding_type", padding_type, PADDINGS)](padding)
        self.norm = _norm(norm, out_dim)
        self.activation = _activation(activation)
        self.conv = nn.Conv2d(in_dim, out_dim, kernel_size, stride, bias=True)

    @property
    def adaptive(self) -> bool:
        """Whether the normalization is AdaIN (its parameters come with each call)."""
        return isinstance(self.norm, AdaptiveInstanceNorm2d)

    def forward(self, x: Tensor, style: tuple[Tensor, Tensor] | None = None) -> Tensor:
        """``x`` (N, in_dim, H, W); ``style``: (weight, bias), each (N, out_dim), for an AdaIN block (else None).

        Raises:
            ValueError: an AdaIN block called without ``style``.
        """
        x = self.conv(self.pad(x))
        if self.norm is not None:
            if self.adaptive:
                if style is None:
                    raise ValueError("an AdaIN block needs its (weight, bias) parameters; decode with a style code")
                x = self.norm(x, *style)
            else:
                x = self.norm(x)
        if self.activation is not None:
            x = self.activation(x)
        return x


class LinearBlock(nn.Module):
    """A fully connected layer (with bias) and an activation: the code's ``LinearBlock`` without normalization
    (the only form its networks use). (N, in_dim) -> (N, out_dim).

    Args:
        in_dim: input features.
        out_dim: output features.
        activation: one of :data:`ACTIVATIONS` (``relu``).
    """

    def __init__(self, in_dim: int, out_dim: int, activation: Activation = "relu") -> None:
        super().__init__()
        self.fc = nn.Linear(in_dim, out_dim, bias=True)
        self.activation = _activation(activation)

    def forward(self, x: Tensor) -> Tensor:
        x = self.fc(x)
        return self.activation(x) if self.activation is not None else x


class ResidualBlock(nn.Module):
    """``x + B(A(x))``: two 3x3 :class:`ConvBlock` s, the activation after the first only (the code's ``ResBlock``).

    Args:
        dim: channels (kept).
        norm: normalization of both convolutions (``in``; ``adain`` in MUNIT's decoder).
        activation: activation after the first convolution (``relu``).
        padding_type: ``reflect``, ``replicate`` or ``zero`` (``zero``).
    """

    def __init__(
        self, dim: int, norm: MunitNorm = "in", activation: Activation = "relu", padding_type: MunitPadding = "zero"
    ) -> None:
        super().__init__()
        self.model = nn.Sequential(
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation=activation, padding_type=padding_type),
            ConvBlock(dim, dim, 3, 1, 1, norm=norm, activation="none", padding_type=padding_type),
        )

    def forward(self, x: Tensor, styles: Iterator[tuple[Tensor, Tensor]] | None = None) -> Tensor:
        """``x`` (N, dim, H, W); ``styles``: an iterator giving each AdaIN block its (weight, bias), in order."""
        out = x
        for block in self.model:
            out = block(out, next(styles) if block.adaptive and styles is not None else None)
        return out + x


class ResidualBlocks(nn.Module):
    """``num_blocks`` :class:`ResidualBlock` s in a row (the code's ``ResBlocks``); same arguments.

    Args:
        num_blocks: number of blocks (>= 0).
        dim: channels.
        norm: normalization (``in``).
        activation: activation (``relu``).
        padding_type: padding (``zero``).
    """

    def __init__(
        self,
        num_blocks: int,
        dim: int,
        norm: MunitNorm = "in",
        activation: Activation = "relu",
        padding_type: MunitPadding = "zero",
    ) -> None:
        super().__init__()
        self.model = nn.Sequential(*[ResidualBlock(dim, norm, activation, padding_type) for _ in range(num_blocks)])

    def forward(self, x: Tensor, styles: Iterator[tuple[Tensor, Tensor]] | None = None) -> Tensor:
        for block in self.model:
            x = block(x, styles)
        return x


class MLP(nn.Module):
    """The MLP that maps a style code to the decoder's AdaIN parameters (the code's ``MLP``): ``n_blk`` linear
    layers, ``activation`` after all but the last. (N, in_dim, 1, 1) or (N, in_dim) -> (N, out_dim).

    Args:
        in_dim: input features (the style code's length).
        out_dim: output features (:attr:`Decoder.num_adain_params`).
        dim: hidden width (``mlp_dim``, 256 in the configs).
        n_blk: number of linear layers (3, as in ``AdaINGen``; >= 2).
        activation: hidden activation (``relu``).

    Raises:
        ValueError: ``n_blk < 2``.
    """

    def __init__(self, in_dim: int, out_dim: int, dim: int, n_blk: int = 3, activation: Activation = "relu") -> None:
        super().__init__()
        _positive("n_blk", n_blk, 2)
        layers = [LinearBlock(in_dim, dim, activation)]
        layers += [LinearBlock(dim, dim, activation) for _ in range(n_blk - 2)]
        layers.append(LinearBlock(dim, out_dim, "none"))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x.reshape(x.shape[0], -1))


# --- encoders and decoder -------------------------------------------------------------------------------------


class StyleEncoder(nn.Module):
    """MUNIT's style encoder (the code's ``StyleEncoder``): a 7x7 convolution, two
    stride-2 4x4 convolutions doubling the channels, ``n_downsample - 2`` more at the same width, global average
    pooling and a 1x1 convolution to the style code. No normalization (it would remove the style).

    Shape: (N, input_nc, H, W) -> (N, style_dim, 1, 1); H and W at least 2^n_downsample.

    Args:
        n_downsample: stride-2 convolutions (4 in ``AdaINGen``; >= 2).
        input_nc: image channels (3).
        dim: filters of the first convolution (64).
        style_dim: style code length (8).
        norm: normalization of the convolutions (``none``, as in the code).
        activation: ``relu``.
        padding_type: ``reflect``.

    Raises:
        ValueError: ``n_downsample < 2``, or an unknown norm, activation or padding type.
    """

    def __init__(
        self,
        n_downsample: int = 4,
        input_nc: int = 3,
        dim: int = 64,
        style_dim: int = 8,
        norm: MunitNorm = "none",
        activation: Activation = "relu",
        padding_type: MunitPadding = "reflect",
    ) -> None:
        super().__init__()
        _positive("n_downsample", n_downsample, 2)
        options = dict(norm=norm, activation=activation, padding_type=padding_type)
        layers: list[nn.Module] = [ConvBlock(input_nc, dim, 7, 1, 3, **options)]
        for _ in range(2):
            layers.append(ConvBlock(dim, 2 * dim, 4, 2, 1, **options))
            dim *= 2
        layers += [ConvBlock(dim, dim, 4, 2, 1, **options) for _ in range(n_downsample - 2)]
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(dim, style_dim, 1, 1, 0)]
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class ContentEncoder(nn.Module):
    """The content encoder of MUNIT and the encoder of UNIT (the code's ``ContentEncoder``): a 7x7 convolution,
    ``n_downsample`` stride-2 4x4 convolutions doubling the channels, ``n_res`` residual blocks; instance norm
    and ReLU throughout.

    Shape: (N, input_nc, H, W) -> (N, dim * 2^n_downsample, H / 2^n_downsample, W / 2^n_downsample) for H, W
    multiples of 2^n_downsample.

    Args:
        n_downsample: stride-2 convolutions (2).
        n_res: residual blocks (4).
        input_nc: image channels (3).
        dim: filters of the first convolution (64).
        norm: ``in`` (as in the code).
        activation: ``relu``.
        padding_type: ``reflect``.
    """

    def __init__(
        self,
        n_downsample: int = 2,
        n_res: int = 4,
        input_nc: int = 3,
        dim: int = 64,
        norm: MunitNorm = "in",
        activation: Activation = "relu",
        padding_type: MunitPadding = "reflect",
    ) -> None:
        super().__init__()
        _positive("n_downsample", n_downsample, 0)
        _positive("n_res", n_res, 0)
        options = dict(norm=norm, activation=activation, padding_type=padding_type)
        layers: list[nn.Module] = [ConvBlock(input_nc, dim, 7, 1, 3, **options)]
        for _ in range(n_downsample):
            layers.append(ConvBlock(dim, 2 * dim, 4, 2, 1, **options))
            dim *= 2
        layers.append(ResidualBlocks(n_res, dim, norm, activation, padding_type))
        self.model = nn.Sequential(*layers)
        self.output_dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)


class Decoder(nn.Module):
    """The decoder of MUNIT and UNIT (the code's ``Decoder``): ``n_res`` residual blocks with ``res_norm``
    (``adain`` in MUNIT, ``in`` in UNIT), then ``n_upsample`` times nearest 2x upsampling and a 5x5 convolution
    halving the channels with :class:`LayerNorm2d`, then a 7x7 convolution to the image and tanh.

    Shape: (N, dim, h, w) -> (N, output_nc, h * 2^n_upsample, w * 2^n_upsample) in [-1, 1].

    Args:
        n_upsample: upsampling steps (2).
        n_res: residual blocks (4).
        dim: input channels (the content code's).
        output_nc: image channels (3).
        res_norm: ``adain`` (MUNIT) or ``in`` (UNIT), any of :data:`MUNIT_NORMS`.
        activation: ``relu``.
        padding_type: ``reflect`` in the configs (the code's default argument is ``zero``, never used).
    """

    def __init__(
        self,
        n_upsample: int = 2,
        n_res: int = 4,
        dim: int = 256,
        output_nc: int = 3,
        res_norm: MunitNorm = "adain",
        activation: Activation = "relu",
        padding_type: MunitPadding = "reflect",
    ) -> None:
        super().__init__()
        _positive("n_upsample", n_upsample, 0)
        layers: list[nn.Module] = [ResidualBlocks(n_res, dim, res_norm, activation, padding_type)]
        for _ in range(n_upsample):
            layers += [
                nn.Upsample(scale_factor=2),
                ConvBlock(dim, dim // 2, 5, 1, 2, norm="ln", activation=activation, padding_type=padding_type),
            ]
            dim //= 2
        layers.append(ConvBlock(dim, output_nc, 7, 1, 3, norm="none", activation="tanh", padding_type=padding_type))
        self.model = nn.Sequential(*layers)

    def adain_layers(self) -> list[AdaptiveInstanceNorm2d]:
        """The AdaIN layers in the order the code assigns them parameters (module order)."""
        return [m for m in self.modules() if isinstance(m, AdaptiveInstanceNorm2d)]

    @property
    def num_adain_params(self) -> int:
        """How many AdaIN parameters one sample needs: 2 C per AdaIN layer (0 without AdaIN)."""
        return sum(2 * m.num_features for m in self.adain_layers())

    def split_adain_params(self, params: Tensor) -> list[tuple[Tensor, Tensor]]:
        """``params`` (N, :attr:`num_adain_params`) -> one (weight, bias) pair of (N, C) per AdaIN layer.

        The code's layout (``assign_adain_params``): for each layer in module order, C biases (the mean beta) then
        C weights (the standard deviation gamma).

        Raises:
            ValueError: ``params`` is not (N, num_adain_params).
        """
        if params.dim() != 2 or params.shape[1] != self.num_adain_params:
            raise ValueError(f"AdaIN parameters must be (N, {self.num_adain_params}), got {tuple(params.shape)}")
        pairs, start = [], 0
        for layer in self.adain_layers():
            c = layer.num_features
            bias, weight = params[:, start : start + c], params[:, start + c : start + 2 * c]
            pairs.append((weight, bias))
            start += 2 * c
        return pairs

    def forward(self, x: Tensor, adain_params: Tensor | None = None) -> Tensor:
        """``x`` (N, dim, h, w); ``adain_params`` (N, :attr:`num_adain_params`) when the decoder has AdaIN layers.

        Raises:
            ValueError: AdaIN layers without ``adain_params``, or parameters of the wrong shape.
        """
        styles = None
        if self.num_adain_params:
            if adain_params is None:
                raise ValueError("this decoder has AdaIN layers: give adain_params (from the style code's MLP)")
            styles = iter(self.split_adain_params(adain_params))
        for layer in self.model:
            x = layer(x, styles) if isinstance(layer, ResidualBlocks) else layer(x)
        return x


# --- generators ---------------------------------------------------------------------------------------------------


class MUNITGenerator(nn.Module):
    """MUNIT's auto-encoder of one domain (Huang et al. 2018; the code's ``AdaINGen``).

    ``encode(x) -> (c, s)``: content code c = E^c(x), (N, ngf * 2^n_downsample, H / 2^n_downsample, W /
    2^n_downsample), and style code s = E^s(x), (N, style_dim, 1, 1); ``decode(c, s) -> x'``: G(c, s), (N,
    input_nc, H, W) in [-1, 1], with the AdaIN parameters ``mlp(s)``; ``forward(x)`` = ``decode(*encode(x))``,
    the within-domain reconstruction. Translation A -> B decodes A's content code with B's generator and a style
    code of B (drawn from N(0, I) or encoded from an example).

    Layers as in the code: style encoder with 4 downsamplings and no normalization; content encoder and decoder
    with ``n_downsample`` down/upsamplings and ``n_res`` residual blocks (instance norm / AdaIN); MLP of 3 layers.
    Weights initialized with ``init_type`` as the trainer does (``init: kaiming`` in every config: Kaiming-normal,
    fan_in, biases 0; the layer norms' gamma U[0, 1)). 15.0 M parameters at the defaults.

    Args:
        input_nc: image channels (3).
        ngf: filters of the first convolution of both encoders (``dim``, 64).
        style_dim: style code length (8).
        n_downsample: content encoder downsamplings / decoder upsamplings (2).
        n_res: residual blocks of the content encoder and of the decoder (4).
        mlp_dim: hidden width of the MLP (256).
        activation: ``relu`` (any of :data:`ACTIVATIONS`).
        padding_type: ``reflect``, ``replicate`` or ``zero`` (``reflect``).
        init_type: ``kaiming`` (default), ``normal``, ``xavier`` or ``orthogonal``; see
            :func:`gan_style.nets.init_weights`.
        init_gain: standard deviation for ``normal``, gain for ``xavier`` / ``orthogonal`` (0.02; the code's
            ``gaussian`` is ``normal`` 0.02, its ``xavier`` and ``orthogonal`` use gain sqrt(2)).

    Raises:
        ValueError: a count out of range, or an unknown activation, padding or init type.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ngf: int = 64,
        style_dim: int = 8,
        n_downsample: int = 2,
        n_res: int = 4,
        mlp_dim: int = 256,
        activation: Activation = "relu",
        padding_type: MunitPadding = "reflect",
        init_type: InitType = "kaiming",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        for name, value in (("input_nc", input_nc), ("ngf", ngf), ("style_dim", style_dim), ("mlp_dim", mlp_dim)):
            _positive(name, value)
        self.style_dim = style_dim
        self.n_downsample = _positive("n_downsample", n_downsample, 0)
        self.enc_style = StyleEncoder(4, input_nc, ngf, style_dim, "none", activation, padding_type)
        self.enc_content = ContentEncoder(n_downsample, n_res, input_nc, ngf, "in", activation, padding_type)
        self.dec = Decoder(
            n_downsample, n_res, self.enc_content.output_dim, input_nc, "adain", activation, padding_type
        )
        self.mlp = MLP(style_dim, self.dec.num_adain_params, mlp_dim, 3, activation)
        init_weights(self, init_type, init_gain)

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of 2^n_downsample (4 at the defaults); read by
        :func:`gan_style.inference.size_multiple_of`."""
        return 2**self.n_downsample

    def encode(self, images: Tensor) -> tuple[Tensor, Tensor]:
        """(content code, style code) of ``images`` (N, input_nc, H, W) in [-1, 1]."""
        return self.enc_content(images), self.enc_style(images)

    def encode_content(self, images: Tensor) -> Tensor:
        """E^c(images): (N, ngf * 2^n_downsample, H / 2^n_downsample, W / 2^n_downsample)."""
        return self.enc_content(images)

    def encode_style(self, images: Tensor) -> Tensor:
        """E^s(images): (N, style_dim, 1, 1); images of any size of at least 16 x 16 pixels."""
        return self.enc_style(images)

    def decode(self, content: Tensor, style: Tensor) -> Tensor:
        """G(content, style): ``content`` (N, C, h, w), ``style`` (N, style_dim, 1, 1) or (N, style_dim) -> images
        (N, input_nc, h * 2^n_downsample, w * 2^n_downsample) in [-1, 1]."""
        return self.dec(content, self.mlp(style))

    def forward(self, images: Tensor) -> Tensor:
        """Within-domain reconstruction ``decode(*encode(images))``, same shape as ``images``."""
        content, style = self.encode(images)
        return self.decode(content, style)


class UNITGenerator(nn.Module):
    """UNIT's VAE of one domain (Liu et al. 2017; the code's ``VAEGen``): encoder E (the
    :class:`ContentEncoder`) and generator G (the :class:`Decoder` with instance-norm residual blocks).

    ``encode(x)`` returns the mean mu of q(z | x) = N(mu, I), (N, ngf * 2^n_downsample, H / 2^n_downsample,
    W / 2^n_downsample): the code's "reduced VAE" fixes the variance to 1, so a sample is ``mu + n`` with
    ``n ~ N(0, I)`` (drawn by the training procedure); ``decode(z)`` maps a latent to images in [-1, 1];
    ``forward(x)`` = ``decode(encode(x))``, the deterministic reconstruction (the code's eval-mode forward).
    Translation A -> B is ``gen_b.decode(gen_a.encode(x_a))`` (shared latent space).

    The paper shares the last encoder layers and the first decoder layers between the two domains; the code used
    for its results (NVlabs/MUNIT ``VAEGen``, and ``mingyuliutw/UNIT``) does not, and neither does this network.
    11.1 M parameters at the defaults.

    Args:
        input_nc: image channels (3).
        ngf: filters of the first convolution (``dim``, 64).
        n_downsample: downsamplings / upsamplings (2).
        n_res: residual blocks of the encoder and of the decoder (4).
        activation: ``relu``.
        padding_type: ``reflect``.
        init_type: ``kaiming`` (default, as in the configs), ``normal``, ``xavier`` or ``orthogonal``.
        init_gain: see :class:`MUNITGenerator` (0.02).

    Raises:
        ValueError: a count out of range, or an unknown activation, padding or init type.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ngf: int = 64,
        n_downsample: int = 2,
        n_res: int = 4,
        activation: Activation = "relu",
        padding_type: MunitPadding = "reflect",
        init_type: InitType = "kaiming",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        _positive("input_nc", input_nc)
        _positive("ngf", ngf)
        self.n_downsample = _positive("n_downsample", n_downsample, 0)
        self.enc = ContentEncoder(n_downsample, n_res, input_nc, ngf, "in", activation, padding_type)
        self.dec = Decoder(n_downsample, n_res, self.enc.output_dim, input_nc, "in", activation, padding_type)
        init_weights(self, init_type, init_gain)

    @property
    def size_multiple(self) -> int:
        """Image sides must be multiples of 2^n_downsample (4 at the defaults)."""
        return 2**self.n_downsample

    def encode(self, images: Tensor) -> Tensor:
        """The latent mean mu = E(images), (N, C, h, w)."""
        return self.enc(images)

    def decode(self, latent: Tensor) -> Tensor:
        """G(latent): (N, C, h, w) -> (N, input_nc, h * 2^n_downsample, w * 2^n_downsample) in [-1, 1]."""
        return self.dec(latent)

    def forward(self, images: Tensor) -> Tensor:
        """Deterministic reconstruction ``decode(encode(images))``."""
        return self.decode(self.encode(images))


# --- discriminator ------------------------------------------------------------------------------------------------


class MultiScaleDiscriminator(nn.Module):
    """The multi-scale discriminator of MUNIT and UNIT (the code's ``MsImageDis``; Wang et al. 2018's pix2pixHD
    design): ``num_scales`` copies of one network, the s-th judging the image average-pooled s times (3x3, stride
    2, padding 1, padding not counted).

    Each network: a 4x4 stride-2 convolution to ``ndf`` channels without normalization, ``n_layer - 1`` more
    doubling the channels with ``norm``, ``activation`` after each, then a 1x1 convolution to one channel.

    Shape: (N, input_nc, H, W) -> a list of ``num_scales`` raw score maps (N, 1, H / 2^(n_layer + s), ...);
    the sides must be at least 2^(n_layer + num_scales - 1) pixels (64 at the defaults). The losses (least
    squares or non-saturating, summed over the scales) are the training procedure's
    (:mod:`gan_style.methods.munit`). 8.3 M parameters at the defaults.

    Args:
        input_nc: image channels (3).
        ndf: filters of the first convolution (``dim``, 64).
        n_layer: strided convolutions per scale (4; >= 1).
        num_scales: scales (3; >= 1).
        norm: ``none`` (default, as in the configs), ``bn``, ``in`` or ``ln``.
        activation: ``lrelu`` (slope 0.2).
        padding_type: ``reflect``.
        init_type: ``normal`` (default: the code's ``gaussian``, N(0, 0.02)), ``xavier``, ``kaiming`` or
            ``orthogonal``.
        init_gain: standard deviation for ``normal`` (0.02).

    Raises:
        ValueError: ``n_layer`` or ``num_scales`` below 1, ``norm="adain"``, or an unknown norm, activation, padding
            or init type.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ndf: int = 64,
        n_layer: int = 4,
        num_scales: int = 3,
        norm: Literal["none", "bn", "in", "ln"] = "none",
        activation: Activation = "lrelu",
        padding_type: MunitPadding = "reflect",
        init_type: InitType = "normal",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        self.n_layer = _positive("n_layer", n_layer)
        self.num_scales = _positive("num_scales", num_scales)
        if norm == "adain":
            raise ValueError("norm 'adain' is not supported by the discriminator; choose one of none, bn, in, ln")
        self.downsample = nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)
        self.cnns = nn.ModuleList()
        for _ in range(num_scales):
            dim = ndf
            layers: list[nn.Module] = [ConvBlock(input_nc, dim, 4, 2, 1, "none", activation, padding_type)]
            for _ in range(n_layer - 1):
                layers.append(ConvBlock(dim, dim * 2, 4, 2, 1, norm, activation, padding_type))
                dim *= 2
            layers.append(nn.Conv2d(dim, 1, 1, 1, 0))
            self.cnns.append(nn.Sequential(*layers))
        init_weights(self, init_type, init_gain)

    @property
    def min_size(self) -> int:
        """The smallest image side the discriminator takes: 2^(n_layer + num_scales - 1)."""
        return 2 ** (self.n_layer + self.num_scales - 1)

    def forward(self, x: Tensor) -> list[Tensor]:
        """Score maps of every scale, finest first.

        Raises:
            ValueError: an image side below :attr:`min_size`.
        """
        if min(x.shape[-2:]) < self.min_size:
            raise ValueError(
                f"MultiScaleDiscriminator (n_layer {self.n_layer}, num_scales {self.num_scales}) needs images of at "
                f"least {self.min_size}x{self.min_size} pixels, got {x.shape[-1]}x{x.shape[-2]}; use larger crops or "
                "fewer n_layer / num_scales"
            )
        outputs = []
        for net in self.cnns:
            outputs.append(net(x))
            x = self.downsample(x)
        return outputs


# --- the code's files ---------------------------------------------------------------------------------------------


def load_reference_pair(
    net_a: nn.Module, net_b: nn.Module, source: str | os.PathLike | Mapping[str, Mapping[str, Tensor]]
) -> None:
    """Load a file of the MUNIT / UNIT code holding ``{"a": state dict, "b": state dict}`` into ``net_a`` and
    ``net_b`` (in place, strictly): a snapshot ``gen_XXXXXXXX.pt`` (generators) or ``dis_XXXXXXXX.pt``
    (discriminators), or a published model such as ``edges2shoes.pt``. The file is read with
    ``torch.load(weights_only=True)``; the instance-norm running statistics that files written by PyTorch 0.3
    hold are dropped (the code's ``pytorch03_to_pytorch04``).

    Args:
        net_a: the network of domain A (``gen_a`` / ``dis_a`` in the code).
        net_b: the network of domain B.
        source: a file path, or the loaded mapping.

    Raises:
        FileMissingError / UnsafeFileError / UnreadableFileError: see :func:`gan_style.io.untrusted.safe_load`.
        UnreadableFileError: the file is not a mapping with keys ``a`` and ``b`` of state dicts.
        ValueError: keys or shapes that do not fit the networks (see
            :func:`gan_style.nets.load_reference_state_dict`; usually other ``ngf`` / ``n_res`` / ``style_dim``).
    """
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<mapping>"
    data = safe_load(source, what="MUNIT/UNIT weights file") if isinstance(source, (str, os.PathLike)) else source
    ok = isinstance(data, Mapping) and all(
        isinstance(data.get(k), Mapping) and all(isinstance(v, Tensor) for v in data[k].values()) for k in ("a", "b")
    )
    if not ok:
        raise UnreadableFileError(
            f"'{name}' is not a MUNIT/UNIT weights file: it must hold {{'a': state dict, 'b': state dict}} "
            "(the code's gen_XXXXXXXX.pt or dis_XXXXXXXX.pt)"
        )
    load_reference_state_dict(net_a, dict(data["a"]))
    load_reference_state_dict(net_b, dict(data["b"]))
