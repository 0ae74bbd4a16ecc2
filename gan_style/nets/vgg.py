"""VGG-19 feature extractor with taps by the field's layer names (Simonyan & Zisserman 2015).

Used by Gatys (content and Gram style losses), AdaIN (encoder and mean-std losses) and perceptual losses.
Two weight layouts are understood:

- ``torchvision``: ``torchvision.models.vgg19().features`` (3x3 convs with zero padding, max pooling),
  fed ImageNet-normalized RGB; "imagenet" weights are torchvision's ``IMAGENET1K_V1``
  (``vgg19-dcbb9e9d.pth``), downloaded once into the torch hub cache;
- ``adain``: the ``vgg_normalised.pth`` of the AdaIN code (Huang & Belongie 2017), converted from the
  Caffe model: a leading 1x1 conv that does the Caffe preprocessing, reflection padding, ceil-mode
  pooling, fed RGB in [0, 1].

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

__all__ = ["VGG19_LAYERS", "VGGFeatures", "WeightsUnavailableError", "imagenet_vgg19_path", "IMAGENET_VGG19_URL"]

_BLOCKS = (2, 2, 4, 4, 4)  # convs per block in VGG-19
_CHANNELS = (64, 128, 256, 512, 512)


def _layer_names() -> list[str]:
    names = []
    for block, n in enumerate(_BLOCKS, start=1):
        for i in range(1, n + 1):
            names += [f"conv{block}_{i}", f"relu{block}_{i}"]
        names.append(f"pool{block}")
    return names


VGG19_LAYERS: tuple[str, ...] = tuple(_layer_names())
"""conv1_1, relu1_1, conv1_2, relu1_2, pool1, conv2_1, ..., relu5_4, pool5 (37 names)."""

IMAGENET_VGG19_URL = "https://download.pytorch.org/models/vgg19-dcbb9e9d.pth"
"""torchvision's ``VGG19_Weights.IMAGENET1K_V1`` file."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_vgg19_path() -> Path:
    """Where the ImageNet VGG-19 weights live in the torch hub cache (``$TORCH_HOME/hub/checkpoints``)."""
    return hub_cache_path(IMAGENET_VGG19_URL)


def _download_imagenet_vgg19() -> dict[str, Tensor]:
    url = IMAGENET_VGG19_URL  # read at call time, so tests can point it at a local server
    path = download_to_hub_cache(
        url,
        f"the ImageNet VGG-19 weights ({os.path.basename(url)}, 548 MB)",
        "give the file's path in the method's setting (Gatys: model.vgg_weights, AdaIN: model.encoder_weights)",
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


class VGGFeatures(nn.Module):
    """Frozen VGG-19 returning the activations at ``layers``, truncated after the deepest one.

    Input (N, 3, H, W) in [-1, 1]; output ``{name: (N, C, H / 2^k, W / 2^k)}`` for each requested name,
    e.g. relu4_1 has 512 channels at 1/8 resolution. Taps read activations before any later in-place
    ReLU, so ``conv4_2`` is the pre-activation map. The network is always in eval mode and its parameters
    have ``requires_grad=False``; gradients still flow to the input (Gatys optimizes the image).

    Args:
        layers: tap names from :data:`VGG19_LAYERS` (default relu1_1, relu2_1, relu3_1, relu4_1, relu5_1).
        weights: ``"imagenet"`` (torchvision's ImageNet weights from the hub cache, downloaded on first
            use), a path to a weights file (torchvision ``vgg19`` / ``features`` state dict, or the AdaIN
            ``vgg_normalised.pth``, recognised by its layout), or None (random weights, for tests).
        pooling: ``max`` (default) or ``avg`` (Gatys et al. 2016 found average pooling gives slightly
            better results for synthesis).
        layout: ``torchvision`` or ``adain``; None takes it from the weights file (``torchvision`` for
            "imagenet" and None).
        defer: build the network now but load the weights only at :meth:`load_pretrained` (methods call
            it from ``setup``, so a missing download fails with its own message, not inside config parsing).

    Raises:
        ValueError: an unknown layer name, pooling or layout, or weights that do not fit.
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
    ) -> None:
        super().__init__()
        layers = list(layers)
        unknown = [name for name in layers if name not in VGG19_LAYERS]
        if unknown or not layers:
            raise ValueError(f"unknown VGG-19 layer names {unknown or '(none given)'}; use {', '.join(VGG19_LAYERS)}")
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', got {pooling!r}")
        state: dict[str, Tensor] | None = None
        if weights is not None and weights != "imagenet" and (not defer or layout is None) and Path(weights).is_file():
            state = _strip(read_weights_file(weights))
            layout = layout or _layout_of(state)
        elif weights is not None and weights != "imagenet" and not defer:
            raise FileMissingError(f"VGG-19 weights file '{weights}' does not exist")
        layout = layout or "torchvision"
        if layout not in ("torchvision", "adain"):
            raise ValueError(f"layout must be 'torchvision' or 'adain', got {layout!r}")
        self.layout = layout
        self.layers = layers
        self.weights_source = weights
        depth = max(VGG19_LAYERS.index(name) for name in layers) + 1
        self.body, taps = self._build(layout, pooling, depth)
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
    def _build(layout: str, pooling: str, depth: int) -> tuple[nn.Sequential, dict[int, str]]:
        """Modules in the weight layout's order up to the ``depth``-th name, and module index -> tap name."""
        modules: list[nn.Module] = [nn.Conv2d(3, 3, 1)] if layout == "adain" else []  # Caffe preprocessing
        taps: dict[int, str] = {}
        in_ch = 3
        for name in VGG19_LAYERS[:depth]:
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
            FileNotFoundError / ValueError: a missing, unreadable or unfitting weights file.
        """
        if self._loaded:
            return
        source = self.weights_source
        if self._pending_state is not None:
            state = self._pending_state
        elif source == "imagenet":
            state = _strip(_download_imagenet_vgg19())
        else:
            if not Path(source).is_file():
                raise FileMissingError(f"VGG-19 weights file '{source}' does not exist")

            state = _strip(read_weights_file(source))
        self._load(state, source)
        self._pending_state = None
        self._loaded = True

    def _load(self, state: dict[str, Tensor], source: str | None) -> None:
        expected = self.body.state_dict()
        missing = [k for k in expected if k not in state]
        bad = [k for k in expected if k in state and state[k].shape != expected[k].shape]
        if missing or bad:
            raise ValueError(
                f"VGG-19 weights {source!r} do not fit the {self.layout} layout: missing {missing[:6]}, "
                f"shape mismatches {bad[:6]}; use torchvision's vgg19 weights or the AdaIN vgg_normalised.pth"
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
