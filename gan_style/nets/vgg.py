"""VGG-19 and VGG-16 feature extractors with taps by the field's layer names (Simonyan & Zisserman 2015).

Used by Gatys (content and Gram style losses), AdaIN (encoder and mean-std losses) and perceptual losses
(VGG-19), and by the PatchGAN style network, whose recipe uses Johnson et al.'s VGG-16 loss network.
Two networks (``arch``):

- ``vgg19`` (default): 2, 2, 4, 4, 4 convolutions per block, names :data:`VGG19_LAYERS`;
- ``vgg16``: 2, 2, 3, 3, 3 convolutions per block, names :data:`VGG16_LAYERS`.

The same name can mean another depth in the two networks: conv1_1 ... relu3_3 are the same positions
(with different weights), but from conv4_1 on every VGG-19 name lies one convolution deeper (after
conv3_4), from conv5_1 on two (after conv4_4 too): Johnson et al.'s relu4_3 is VGG-16's 10th convolution,
VGG-19's relu4_3 its 11th. relu3_4, relu4_4 and relu5_4 exist in VGG-19 only.

Two weight layouts are understood:

- ``torchvision``: ``torchvision.models.vgg19().features`` / ``vgg16().features`` (3x3 convs with zero
  padding, max pooling), fed ImageNet-normalized RGB; "imagenet" weights are torchvision's
  ``IMAGENET1K_V1`` (``vgg19-dcbb9e9d.pth``, ``vgg16-397923af.pth``), downloaded once into the torch hub
  cache;
- ``adain`` (VGG-19 only): the ``vgg_normalised.pth`` of the AdaIN code (Huang & Belongie 2017), converted
  from the Caffe model: a leading 1x1 conv that does the Caffe preprocessing, reflection padding,
  ceil-mode pooling, fed RGB in [0, 1].

Either way :class:`VGGFeatures` takes images in [-1, 1] and converts them itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import torch
from torch import Tensor, nn

from gan_style.errors import FileMissingError, WeightsUnavailableError
from gan_style.io.download import download_to_hub_cache, hub_cache_path
from gan_style.nets.reference import read_weights_file

__all__ = [
    "VGG16_LAYERS",
    "VGG19_LAYERS",
    "VGG_ARCHS",
    "VGGArch",
    "VGGFeatures",
    "WeightsUnavailableError",
    "imagenet_vgg16_path",
    "imagenet_vgg19_path",
    "vgg_layers",
    "IMAGENET_VGG16_URL",
    "IMAGENET_VGG19_URL",
]

VGGArch = Literal["vgg19", "vgg16"]
_BLOCKS = {"vgg19": (2, 2, 4, 4, 4), "vgg16": (2, 2, 3, 3, 3)}  # convs per block
_CHANNELS = (64, 128, 256, 512, 512)
_TITLES = {"vgg19": "VGG-19", "vgg16": "VGG-16"}
VGG_ARCHS: tuple[str, ...] = tuple(_BLOCKS)
"""The networks :class:`VGGFeatures` builds: ``vgg19``, ``vgg16``."""


def _layer_names(blocks: tuple[int, ...]) -> list[str]:
    names = []
    for block, n in enumerate(blocks, start=1):
        for i in range(1, n + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


VGG19_LAYERS: tuple[str, ...] = tuple(_layer_names(_BLOCKS["vgg19"]))
"""conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..., relu5_4, pool5 (37 names)."""

VGG16_LAYERS: tuple[str, ...] = tuple(_layer_names(_BLOCKS["vgg16"]))
"""conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..., relu5_3, pool5 (31 names; the order of
``torchvision.models.vgg16().features``, whose module ``i`` is name ``i``)."""

_LAYERS = {"vgg19": VGG19_LAYERS, "vgg16": VGG16_LAYERS}

IMAGENET_VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
"""torchvision's ``VGG19_Weights.IMAGENET1K_V1`` file."""

IMAGENET_VGG16_URL = "https://download.pytorch.org/models/vgg16-397923af.pth"
"""torchvision's ``VGG16_Weights.IMAGENET1K_V1`` file."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg_layers(arch: str) -> tuple[str, ...]:
    """The tap names of ``arch``: :data:`VGG19_LAYERS` for ``"vgg19"``, :data:`VGG16_LAYERS` for ``"vgg16"``.

    Raises:
        ValueError: an ``arch`` other than those of :data:`VGG_ARCHS`.
    """
    if arch not in _LAYERS:
        raise ValueError(f"arch must be one of {', '.join(VGG_ARCHS)}, got {arch!r}")
    return _LAYERS[arch]


def imagenet_vgg19_path() -> Path:
    """Where the ImageNet VGG-19 weights live in the torch hub cache (``$TORCH_HOME/hub/checkpoints``)."""
    return hub_cache_path(IMAGENET_VGG19_URL)


def imagenet_vgg16_path() -> Path:
    """Where the ImageNet VGG-16 weights live in the torch hub cache (``$TORCH_HOME/hub/checkpoints``)."""
    return hub_cache_path(IMAGENET_VGG16_URL)


def _download_imagenet(arch: str) -> dict[str, Tensor]:
    # the URLs are read at call time, so tests can point them at a local server
    url, size = (IMAGENET_VGG16_URL, "528 MB") if arch == "vgg16" else (IMAGENET_VGG19_URL, "548 MB")
    path = download_to_hub_cache(
        url,
        f"the ImageNet {_TITLES[arch]} weights ({os.path.basename(url)}, {size})",
        "give the file's path in the method's setting (Gatys, PatchGAN style: model.vgg_weights, "
        "AdaIN: model.encoder_weights)",
    )
    return read_weights_file(path)


def _strip(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """torchvision ``vgg19()`` state dicts name the convs ``features.N``; keep those, drop the classifier."""
    return {k.removeprefix("features."): v for k, v in state.items() if not k.startswith("classifier.")}


def _layout_of(state: Mapping[str, Tensor]) -> str:
    first = state.get("0.weight")
    if first is not None and tuple(first.shape) == (3, 3, 1, 1):
        return "adain"
    return "torchvision"


def _torchvision_conv_indices(arch: str) -> list[int]:
    """Module indices of the convolutions in ``torchvision.models.<arch>().features``."""
    return [i for i, name in enumerate(_LAYERS[arch]) if name.startswith("conv")]


def _archs_fitting(state: Mapping[str, Tensor]) -> list[str]:
    """The networks whose torchvision layout a state dict fits by its convolution indices: a full features
    state dict fits one, a truncated one (up to relu3_3 or shallower) may fit both."""
    convs = sorted({int(k.split(".")[0]) for k in state if k.endswith(".weight") and k.split(".")[0].isdigit()})
    return [arch for arch in VGG_ARCHS if convs and convs == _torchvision_conv_indices(arch)[: len(convs)]]


class VGGFeatures(nn.Module):
    """Frozen VGG-19 or VGG-16 returning the activations at ``layers``, truncated after the deepest one.

    Input (N, 3, H, W) in [-1, 1]; output ``{name: (N, C, H / 2^k, W / 2^k)}`` for each requested name,
    e.g. relu4_1 has 512 channels at 1/8 resolution. Taps read activations before any later in-place
    ReLU, so ``conv4_2`` is the pre-activation map. The network is always in eval mode and its parameters
    have ``requires_grad=False``; gradients still flow to the input (Gatys optimizes the image).

    Args:
        layers: tap names of the chosen network, from :data:`VGG19_LAYERS` or :data:`VGG16_LAYERS` (default
            relu1_1, relu2_1, relu3_1, relu4_1, relu5_1, which both networks have). A name means its
            position in ``arch``: VGG-19's relu4_3 lies deeper than VGG-16's (module docstring).
        weights: ``"imagenet"`` (default: torchvision's ImageNet weights of ``arch`` from the hub cache,
            downloaded on first use), a path to a weights file (a torchvision ``vgg19`` / ``vgg16`` state dict
            or its ``features`` part, or the AdaIN ``vgg_normalised.pth``, recognised by its layout), or None
            (random weights, for tests).
        pooling: ``max`` (default) or ``avg`` (Gatys et al. 2016 found average pooling gives slightly
            better results for synthesis).
        layout: ``torchvision`` or ``adain``; None (default) takes it from the weights file (``torchvision``
            for "imagenet" and None). ``adain`` needs ``arch="vgg19"``.
        defer: build the network now but load the weights only at :meth:`load_pretrained` (False: load them
            now). Methods pass True and call it from ``setup``, so a missing download fails with its own
            message, not inside config parsing.
        arch: the network, ``vgg19`` (default) or ``vgg16`` (Johnson et al.'s loss network). A torchvision
            weights file holding the other network is refused naming the setting to change, when its
            convolutions tell (a file of the layers up to relu3_3 fits both and is taken as it is).

    Raises:
        ValueError: an unknown arch, layer name, pooling or layout, the adain layout with VGG-16, or weights
            that do not fit.
        WeightsUnavailableError: "imagenet" weights not cached and not downloadable (offline).
        FileNotFoundError: a weights path that does not exist.
    """

    def __init__(
        self,
        layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
        weights: str | None = "imagenet",
        pooling: Literal["max", "avg"] = "max",
        layout: Literal["torchvision", "adain"] | None = None,
        defer: bool = False,
        arch: VGGArch = "vgg19",
    ) -> None:
        super().__init__()
        names = vgg_layers(arch)
        title = _TITLES[arch]
        layers = list(layers)
        unknown = [name for name in layers if name not in names]
        if unknown or not layers:
            other = [n for n in unknown if any(n in _LAYERS[a] for a in VGG_ARCHS if a != arch)]
            hint = f" ({', '.join(other)} exist in the other network: choose it with arch)" if other else ""
            raise ValueError(f"unknown {title} layer names {unknown or '(none given)'}{hint}; use {', '.join(names)}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        state: dict[str, Tensor] | None = None
        if weights is not None and weights != "imagenet" and (not defer or layout is None) and Path(weights).is_file():
            state = _strip(read_weights_file(weights))
            layout = layout or _layout_of(state)
        elif weights is not None and weights != "imagenet" and not defer:
            raise FileMissingError(f"{title} weights file '{weights}' does not exist")
        layout = layout or "torchvision"
        if layout not in ("torchvision", "adain"):
            raise ValueError(f"layout must be 'torchvision' or 'adain', got {layout!r}")
        if layout == "adain" and arch != "vgg19":
            source = f" (weights {weights!r} are the AdaIN vgg_normalised.pth, a VGG-19)" if state is not None else ""
            raise ValueError(f"the adain layout is VGG-19 only, got arch={arch!r}{source}; use arch='vgg19'")
        self.arch = arch
        self.layout = layout
        self.layers = layers
        self.weights_source = weights
        depth = max(names.index(name) for name in layers) + 1
        self.body, taps = self._build(layout, pooling, depth, arch)
        # only the requested taps are kept during forward, so other activations are freed as soon as possible
        self._tap_index = {i: name for i, name in taps.items() if name in set(layers)}
        # a ReLU may overwrite its convolution's output (autograd does not need it) unless that output is a tap
        for i, module in enumerate(self.body):
            if isinstance(module, nn.ReLU) and i - 1 not in self._tap_index:
                module.inplace = True
        self._pending_state = state
        self._loaded = weights is None
        if not defer:
            self.load_pretrained()
        self.requires_grad_(False)
        self.eval()
        if layout == "torchvision":
            self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @staticmethod
    def _build(layout: str, pooling: str, depth: int, arch: str = "vgg19") -> tuple[nn.Sequential, dict[int, str]]:
        """Modules in the weight layout's order up to the ``depth``-th name, and module index -> tap name."""
        modules: list[nn.Module] = [nn.Conv2d(3, 3, 1)] if layout == "adain" else []  # Caffe preprocessing
        taps: dict[int, str] = {}
        in_ch = 3
        for name in _LAYERS[arch][:depth]:
            kind, block = name[:4], int(name[4]) - 1
            if kind == "conv":
                out_ch = _CHANNELS[block]
                if layout == "adain":
                    modules += [nn.ReflectionPad2d(1), nn.Conv2d(in_ch, out_ch, 3)]
                else:
                    modules.append(nn.Conv2d(in_ch, out_ch, 3, padding=1))
                in_ch = out_ch
            elif kind == "relu":
                modules.append(nn.ReLU())
            else:
                pool_cls = nn.MaxPool2d if pooling == "max" else nn.AvgPool2d
                modules.append(pool_cls(2, 2, ceil_mode=layout == "adain"))
            taps[len(modules) - 1] = name
        return nn.Sequential(*modules), taps

    def load_pretrained(self) -> None:
        """Load the weights named by ``weights`` (once; a no-op for random weights or when loaded).

        Raises:
            WeightsUnavailableError: "imagenet" weights neither cached nor downloadable.
            FileNotFoundError / ValueError: a missing, unreadable or unfitting weights file (ValueError also
                for a torchvision file of the other network).
        """
        if self._loaded:
            return
        source = self.weights_source
        if self._pending_state is not None:
            state = self._pending_state
        elif source == "imagenet":
            state = _strip(_download_imagenet(self.arch))
        else:
            if not Path(source).is_file():
                raise FileMissingError(f"{_TITLES[self.arch]} weights file '{source}' does not exist")

            state = _strip(read_weights_file(source))
        self._load(state, source)
        self._pending_state = None
        self._loaded = True

    def _load(self, state: dict[str, Tensor], source: str | None) -> None:
        title = _TITLES[self.arch]
        if self.layout == "torchvision":
            fitting = _archs_fitting(state)
            if fitting and self.arch not in fitting:
                other = fitting[0]
                raise ValueError(
                    f"{title} weights {source!r} hold a {_TITLES[other]} (torchvision layout, by its convolutions); "
                    f"choose arch='{other}' (PatchGAN style: model.loss_network: {other}) or give {title} weights"
                )
        expected = self.body.state_dict()
        missing = [k for k in expected if k not in state]
        bad = [k for k in expected if k in state and state[k].shape != expected[k].shape]
        if missing or bad:
            use = (
                "torchvision's vgg19 weights or the AdaIN vgg_normalised.pth"
                if self.arch == "vgg19"
                else ("torchvision's vgg16 weights")
            )
            raise ValueError(
                f"{title} weights {source!r} do not fit the {self.layout} layout: missing {missing[:6]}, "
                f"shape mismatches {bad[:6]}; use {use}"
            )
        self.body.load_state_dict({k: state[k] for k in expected})

    def train(self, mode: bool = True) -> VGGFeatures:
        """Stays in eval mode: the extractor is frozen."""
        return super().train(False)

    def forward(self, x: Tensor, layers: Sequence[str] | None = None) -> dict[str, Tensor]:
        """(N, 3, H, W) in [-1, 1] -> {tap name: feature map}.

        ``layers``: a subset of ``self.layers`` to return (None: all of them); the pass stops at the deepest
        one and keeps no other activation, e.g. AdaIN's inference needs relu4_1 only.

        Raises:
            ValueError: a name in ``layers`` that is not one of ``self.layers``.
        """
        taps = self._tap_index
        if layers is not None:
            wanted = set(layers)
            if not wanted <= set(self.layers):
                raise ValueError(
                    f"layers {sorted(wanted - set(self.layers))} are not taps of this extractor {self.layers}"
                )
            taps = {i: name for i, name in taps.items() if name in wanted}
        names = self.layers if layers is None else list(layers)
        last = max(taps) if taps else -1
        x = (x + 1) / 2
        if self.layout == "torchvision":
            x = (x - self.mean) / self.std
        out: dict[str, Tensor] = {}
        for i, module in enumerate(self.body):
            if i > last:
                break
            x = module(x)
            if i in taps:
                out[taps[i]] = x
        return {name: out[name] for name in names}
