"""The networks of CUT / FastCUT (Park, Efros, Zhang & Zhu, "Contrastive Learning for Unpaired Image-to-Image
Translation", ECCV 2020, arXiv:2007.15651; code: github.com/taesungp/contrastive-unpaired-translation).

- :class:`CUTGenerator`: CycleGAN's resnet_9blocks generator with the anti-aliased down- and up-sampling of
  the CUT code (Zhang, "Making Convolutional Networks Shift-Invariant Again", ICML 2019): a stride-1
  convolution followed by a fixed binomial blur with stride 2 instead of a stride-2 convolution, and a fixed
  [1, 3, 3, 1] transposed blur followed by a stride-1 convolution instead of a transposed convolution. Its
  :meth:`~CUTGenerator.encode` returns the features PatchNCE compares (``nce_layers``).
- :class:`PatchSampleMLP`: the patch-sampling projection head ``H_l`` of the paper (Sec. 3.1, "mlp_sample" in the
  code): samples the same patch locations of the input's and the output's features, passes each layer's
  feature vectors through a two-layer MLP (256 channels) and L2-normalises them.
- :class:`CUTDiscriminator`: the 70x70 PatchGAN with the same anti-aliased downsampling.

State-dict layouts are those of the CUT code's ``latest_net_G.pth`` / ``latest_net_F.pth`` / ``latest_net_D.pth``
(``model.{i}.weight``, the blur layers' ``model.{i}.filt`` buffers, ``mlp_{l}.{0,2}.weight``), so the published
files load with :func:`gan_style.nets.load_reference_state_dict`.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.nets.init import InitType, init_weights
from gan_style.nets.norm import NormType, norm_layer, uses_bias
from gan_style.nets.resnet_generator import PaddingType, ResnetBlock

__all__ = ["BlurDownsample", "BlurUpsample", "CUTDiscriminator", "CUTGenerator", "PatchSampleMLP", "binomial_filter"]


def binomial_filter(size: int) -> Tensor:
    """The normalised 2-d binomial filter ``outer(b, b) / sum`` with ``b`` the ``size``-th row of Pascal's
    triangle (3: [1, 2, 1], 4: [1, 3, 3, 1]); shape (size, size), float32, summing to 1.

    Raises:
        ValueError: ``size`` outside 1..7 (the sizes the CUT code offers).
    """
    if not 1 <= size <= 7:
        raise ValueError(f"binomial filter size must be 1..7, got {size}")
    row = torch.tensor([_binomial(size - 1, k) for k in range(size)], dtype=torch.float64)
    filt = row[:, None] * row[None, :]
    return (filt / filt.sum()).float()


def _binomial(n: int, k: int) -> float:
    out = 1.0
    for i in range(k):
        out = out * (n - i) / (i + 1)
    return out


class BlurDownsample(nn.Module):
    """Anti-aliased downsampling by 2 (Zhang 2019): reflection padding 1, then a depthwise 3x3 binomial blur
    ([1, 2, 1] outer itself / 16) with stride 2.

    Shape: (N, channels, H, W) -> (N, channels, ceil(H / 2), ceil(W / 2)). The fixed filter is a persistent
    buffer ``filt`` of shape (channels, 1, 3, 3), as in the CUT code's ``Downsample``, so its state dict holds it.

    Args:
        channels: input and output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.register_buffer("filt", binomial_filter(3)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="reflect")
        return F.conv2d(x, self.filt.to(x.dtype), stride=2, groups=self.channels)


class BlurUpsample(nn.Module):
    """Anti-aliased upsampling by 2 (the CUT code's ``Upsample``): replicate padding 1, a depthwise transposed
    convolution with the 4x4 binomial filter ([1, 3, 3, 1] outer itself / 64, times 4 so a constant image stays
    constant), stride 2, padding 2, then the first row and column and the last row and column dropped.

    Shape: (N, channels, H, W) -> (N, channels, 2H, 2W). Buffer ``filt``: (channels, 1, 4, 4).

    Args:
        channels: input and output channels.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.channels = channels
        self.register_buffer("filt", (binomial_filter(4) * 4)[None, None].repeat(channels, 1, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        x = F.pad(x, (1, 1, 1, 1), mode="replicate")
        y = F.conv_transpose2d(x, self.filt.to(x.dtype), stride=2, padding=2, groups=self.channels)
        return y[:, :, 1:-1, 1:-1]


class CUTGenerator(nn.Module):
    """The CUT generator: resnet_9blocks with anti-aliased sampling (the CUT code's ``ResnetGenerator``).

    Layers of ``self.model`` (indices used by ``nce_layers``; with the defaults, anti-aliased both ways)::

        0 ReflectionPad2d(3)  1 Conv7x7(input_nc -> ngf)  2 norm  3 ReLU
        4 Conv3x3(ngf -> 2ngf)  5 norm  6 ReLU  7 BlurDownsample
        8 Conv3x3(2ngf -> 4ngf)  9 norm  10 ReLU  11 BlurDownsample
        12 .. 11 + n_blocks: ResnetBlock(4ngf)
        then per level: BlurUpsample, Conv3x3 (halving channels), norm, ReLU; ReflectionPad2d(3), Conv7x7, Tanh

    The paper's PatchNCE layers 0, 4, 8, 12, 16 are thus the padded input image (RGB), the first and second
    downsampling convolutions, and the outputs of the first and fifth residual blocks (Sec. 3.1, "Implementation
    details" of the code). ``no_antialias`` uses stride-2 convolutions (indices shift: 4, 7 are the convs and the
    blocks start at 10), ``no_antialias_up`` transposed convolutions, as CycleGAN's generator.

    Input (N, input_nc, H, W) in [-1, 1], H and W multiples of 4; output (N, output_nc, H, W) in [-1, 1].
    11,378,179 parameters at the defaults (the same as CycleGAN's resnet_9blocks) plus the blur buffers.

    Args:
        input_nc: input channels (3).
        output_nc: output channels (3).
        ngf: filters of the first convolution (64).
        norm: ``instance`` (default, the CUT code's ``normG``), ``batch`` or ``none``.
        use_dropout: dropout 0.5 in each residual block (False; the CUT code's ``no_dropout`` is True).
        n_blocks: residual blocks (9; >= 0).
        padding_type: padding inside the residual blocks, ``reflect`` (default), ``replicate`` or ``zero``.
        no_antialias: stride-2 convolutions instead of convolution + blur downsampling (False).
        no_antialias_up: transposed convolutions instead of blur upsampling + convolution (False).
        init_type: ``xavier`` (default, the CUT code's ``init_type``), ``normal``, ``kaiming`` or ``orthogonal``.
        init_gain: scale of the initial weights (0.02).

    Raises:
        ValueError: ``n_blocks < 0`` or an unknown norm, padding or init type.
    """

    #: Height and width must be multiples of this (two factor-2 levels).
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
        no_antialias: bool = False,
        no_antialias_up: bool = False,
        init_type: InitType = "xavier",
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
        for i in range(2):
            c = ngf * 2**i
            if no_antialias:
                layers += [
                    nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=bias),
                    norm_layer(norm, 2 * c),
                    nn.ReLU(True),
                ]
            else:
                layers += [
                    nn.Conv2d(c, 2 * c, 3, stride=1, padding=1, bias=bias),
                    norm_layer(norm, 2 * c),
                    nn.ReLU(True),
                    BlurDownsample(2 * c),
                ]
        layers += [ResnetBlock(4 * ngf, padding_type, norm, use_dropout) for _ in range(n_blocks)]
        for i in range(2):
            c = ngf * 2 ** (2 - i)
            if no_antialias_up:
                layers += [
                    nn.ConvTranspose2d(c, c // 2, 3, stride=2, padding=1, output_padding=1, bias=bias),
                    norm_layer(norm, c // 2),
                    nn.ReLU(True),
                ]
            else:
                layers += [
                    BlurUpsample(c),
                    nn.Conv2d(c, c // 2, 3, stride=1, padding=1, bias=bias),
                    norm_layer(norm, c // 2),
                    nn.ReLU(True),
                ]
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7, padding=0), nn.Tanh()]
        self.model = nn.Sequential(*layers)
        init_weights(self, init_type, init_gain)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) in [-1, 1] -> (N, output_nc, H, W) in [-1, 1]."""
        return self.model(x)

    def encode(self, x: Tensor, layers: Sequence[int]) -> list[Tensor]:
        """The outputs of ``self.model[i]`` for each ``i`` in ``layers`` (in the order of the layers), running the
        network only as far as the deepest one (the CUT code's ``forward(x, layers, encode_only=True)``).

        Args:
            x: (N, input_nc, H, W) in [-1, 1].
            layers: layer indices, increasing, each in ``0 .. len(self.model) - 1``.

        Returns:
            One (N, C_l, H_l, W_l) tensor per layer (layer 0: the reflection-padded input, (N, input_nc, H + 6, W + 6)).

        Raises:
            ValueError: ``layers`` empty, not increasing, or out of range.
        """
        layers = list(layers)
        if not layers or sorted(set(layers)) != layers or layers[0] < 0 or layers[-1] >= len(self.model):
            raise ValueError(
                f"nce layers must be distinct increasing indices in 0..{len(self.model) - 1} of the generator, "
                f"got {layers}"
            )
        wanted = set(layers)
        feats = []
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i in wanted:
                feats.append(x)
                if i == layers[-1]:
                    break
        return feats


class PatchSampleMLP(nn.Module):
    """Patch sampling and projection head ``H_l`` of PatchNCE (Park et al. 2020, Sec. 3.1 and Appendix C.1: "a
    two-layer MLP with 256 units"; the CUT code's ``PatchSampleF`` with ``netF=mlp_sample``).

    For each layer ``l`` with features (N, C_l, H_l, W_l): pick ``num_patches`` spatial locations (the same for
    every image of the batch; drawn at random without replacement, or given), gather their feature vectors to
    (N * P, C_l) (image-major: rows ``n * P .. n * P + P - 1`` belong to image ``n``), pass them through
    ``mlp_l`` = Linear(C_l, nc), ReLU, Linear(nc, nc) (when ``use_mlp``), and L2-normalise each row
    (``v / (||v||_2 + 1e-7)``).

    Built eagerly from the channel counts ``in_channels`` (the CUT code creates the MLPs lazily at the first
    forward): so the head's parameters exist from construction, the optimizer that ``configure_optimizers``
    builds holds them, DDP registers them when it wraps the model, and every checkpoint contains them.
    Key layout ``mlp_{l}.0.weight``, ``mlp_{l}.0.bias``, ``mlp_{l}.2.weight``, ``mlp_{l}.2.bias`` (the CUT code's
    ``latest_net_F.pth``).

    Args:
        in_channels: channels C_l of each layer's features, in the order they are passed (e.g. (3, 128, 256,
            256, 256) for :class:`CUTGenerator` at ngf 64 and layers 0, 4, 8, 12, 16).
        nc: width of the MLP and of the output vectors (256, the CUT code's ``netF_nc``).
        use_mlp: project with the MLPs (True, ``mlp_sample``); False samples and normalises only (``sample``,
            output width C_l).
        init_type: initialization of the MLPs, ``xavier`` (default, the CUT code's), ``normal``, ``kaiming`` or
            ``orthogonal``.
        init_gain: scale of the initial weights (0.02).

    Raises:
        ValueError: empty ``in_channels`` or ``nc < 1``.
    """

    def __init__(
        self,
        in_channels: Sequence[int],
        nc: int = 256,
        use_mlp: bool = True,
        init_type: InitType = "xavier",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        in_channels = [int(c) for c in in_channels]
        if not in_channels or nc < 1:
            raise ValueError(f"PatchSampleMLP needs at least one layer and nc >= 1, got {in_channels} and {nc}")
        self.in_channels = in_channels
        self.nc = nc
        self.use_mlp = use_mlp
        if use_mlp:
            for i, c in enumerate(in_channels):
                setattr(self, f"mlp_{i}", nn.Sequential(nn.Linear(c, nc), nn.ReLU(), nn.Linear(nc, nc)))
            init_weights(self, init_type, init_gain)

    @staticmethod
    def sample_ids(feats: Sequence[Tensor], num_patches: int, generator: torch.Generator | None = None) -> list[Tensor]:
        """Random patch locations per layer: ``randperm(H_l * W_l)[:min(num_patches, H_l * W_l)]`` drawn on the
        CPU from ``generator`` (None: the global torch generator, saved in gan-style checkpoints), as int64."""
        ids = []
        for feat in feats:
            n = feat.shape[2] * feat.shape[3]
            ids.append(torch.randperm(n, generator=generator)[: min(num_patches, n)])
        return ids

    def forward(
        self,
        feats: Sequence[Tensor],
        num_patches: int = 256,
        patch_ids: Sequence[Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[list[Tensor], list[Tensor]]:
        """Sample, project and normalise.

        Args:
            feats: one (N, C_l, H_l, W_l) tensor per layer, C_l = ``in_channels[l]``.
            num_patches: locations per layer and image (256, the CUT code's ``num_patches``; >= 1).
            patch_ids: locations to use (one int64 tensor of flat indices ``h * W_l + w`` per layer); None (the
                default): drawn with :meth:`sample_ids`.
            generator: the random generator for drawing them (None: the global one).

        Returns:
            ``(vectors, ids)``: per layer an (N * P_l, nc) tensor of unit rows (C_l without the MLP) and the
            locations used.

        Raises:
            ValueError: ``num_patches < 1`` or a number of feature maps other than ``len(in_channels)``.
        """
        if num_patches < 1:
            raise ValueError(f"num_patches must be >= 1, got {num_patches}")
        if len(feats) != len(self.in_channels):
            raise ValueError(
                f"PatchSampleMLP was built for {len(self.in_channels)} layers, got {len(feats)} feature maps"
            )
        if patch_ids is None:
            patch_ids = self.sample_ids(feats, num_patches, generator)
        out, used = [], []
        for i, (feat, ids) in enumerate(zip(feats, patch_ids)):
            ids = ids.to(device=feat.device, dtype=torch.long)
            rows = feat.flatten(2).transpose(1, 2)[:, ids, :].flatten(0, 1)  # (N * P, C): image-major
            if self.use_mlp:
                rows = getattr(self, f"mlp_{i}")(rows)
            norm = rows.pow(2).sum(1, keepdim=True).sqrt()
            out.append(rows / (norm + 1e-7))
            used.append(ids)
        return out, used


class CUTDiscriminator(nn.Module):
    """The CUT code's PatchGAN (``NLayerDiscriminator`` with anti-aliasing): 4x4 convolutions with stride 1
    followed by :class:`BlurDownsample` where CycleGAN's PatchGAN has stride 2; LeakyReLU 0.2; no norm on the first
    layer; a final 4x4 convolution to one channel of logits.

    Layout at ``n_layers=3`` (``model.{i}``): 0 conv(input_nc -> ndf), 1 LReLU, 2 blur; then for n = 1, 2: conv,
    norm, LReLU, blur; then conv(4ndf -> 8ndf), norm, LReLU, conv(8ndf -> 1). With ``no_antialias`` it is
    exactly :class:`gan_style.nets.NLayerDiscriminator` (stride-2 convolutions, same keys).

    Input (N, input_nc, H, W) in [-1, 1]; output (N, 1, H', W') logits (no sigmoid; 30x30 at 256x256, with or
    without the blur).

    Args:
        input_nc: input channels (3).
        ndf: filters of the first layer (64).
        n_layers: downsampling layers (3; >= 1).
        norm: ``instance`` (default, the CUT code's ``normD``), ``batch`` or ``none``.
        no_antialias: stride-2 convolutions instead of convolution + blur (False).
        init_type: ``xavier`` (default, the CUT code's), ``normal``, ``kaiming`` or ``orthogonal``.
        init_gain: scale of the initial weights (0.02).

    Raises:
        ValueError: ``n_layers < 1`` or an unknown norm or init type.
    """

    def __init__(
        self,
        input_nc: int = 3,
        ndf: int = 64,
        n_layers: int = 3,
        norm: NormType = "instance",
        no_antialias: bool = False,
        init_type: InitType = "xavier",
        init_gain: float = 0.02,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be >= 1, got {n_layers}")
        bias = uses_bias(norm)
        if no_antialias:
            layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        else:
            layers = [nn.Conv2d(input_nc, ndf, 4, stride=1, padding=1), nn.LeakyReLU(0.2, True), BlurDownsample(ndf)]
        mult = 1
        for n in range(1, n_layers):
            prev, mult = mult, min(2**n, 8)
            if no_antialias:
                layers += [
                    nn.Conv2d(ndf * prev, ndf * mult, 4, stride=2, padding=1, bias=bias),
                    norm_layer(norm, ndf * mult),
                    nn.LeakyReLU(0.2, True),
                ]
            else:
                layers += [
                    nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=bias),
                    norm_layer(norm, ndf * mult),
                    nn.LeakyReLU(0.2, True),
                    BlurDownsample(ndf * mult),
                ]
        prev, mult = mult, min(2**n_layers, 8)
        layers += [
            nn.Conv2d(ndf * prev, ndf * mult, 4, stride=1, padding=1, bias=bias),
            norm_layer(norm, ndf * mult),
            nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1),
        ]
        self.model = nn.Sequential(*layers)
        init_weights(self, init_type, init_gain)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, H, W) -> (N, 1, H', W') patch logits."""
        return self.model(x)
