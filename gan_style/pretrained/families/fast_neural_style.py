"""The PyTorch examples' fast-neural-style models (Johnson et al. 2016 with instance normalization) and their
converter.

Layout: the examples' ``TransformerNet`` (keys ``conv1.conv2d.weight``, ``in1.weight``, ``res1.conv1.conv2d.weight``
..., legacy ``in*.running_mean`` / ``running_var`` keys) in ``saved_models.zip``, renamed into
:class:`gan_style.nets.TransformationNetwork` without tanh and run in [0, 255] as that code does
(:class:`PixelRange255`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from torch import Tensor, nn

from gan_style.errors import UnreadableFileError
from gan_style.inference.stylizer import GeneratorStylizer, Stylizer
from gan_style.nets import TransformationNetwork
from gan_style.nets.reference import read_weights_file
from gan_style.pretrained.converters import load_published
from gan_style.pretrained.registry import PretrainedModel, PublishedFile, register_family

__all__ = ["ENTRIES", "PixelRange255", "convert", "fast_neural_style_state_dict"]

PAPER = (
    "Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and Super-Resolution. ECCV 2016 "
    "(arXiv:1603.08155), with instance normalization (Ulyanov, Vedaldi, Lempitsky 2016, arXiv:1607.08022)"
)
ARCHIVE = "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"

#: model -> what it does (one network per style, trained with that style image).
MODELS = {
    "candy": "the style of 'candy'",
    "mosaic": "the style of 'mosaic'",
    "rain_princess": "the style of Leonid Afremov's 'Rain Princess'",
    "udnie": "the style of Francis Picabia's 'Udnie'",
}

ENTRIES = [
    PretrainedModel(
        name=f"fast_neural_style/{model}",
        family="fast_neural_style",
        method="fast neural style (Johnson network)",
        task=task,
        files={"generator": PublishedFile(ARCHIVE, size_mb=26.9, member=f"saved_models/{model}.pth")},
        settings={"channels": 32, "n_residual": 5},
        input_range="[0, 255]",
        licence="BSD-3-Clause (pytorch/examples)",
        paper=PAPER,
        source="https://github.com/pytorch/examples/tree/main/fast_neural_style",
    )
    for model, task in MODELS.items()
]


class PixelRange255(nn.Module):
    """Runs a network that works on [0, 255] pixels from [-1, 1] images: ``net((x + 1) * 127.5) / 127.5 - 1``.

    Input (N, 3, H, W) in [-1, 1]; output (N, 3, H, W), [-1, 1] where the network's output is in [0, 255]
    (callers clamp, as the original code clamps to [0, 255] when saving). ``size_multiple`` 4: two stride-2
    convolutions, as in the original network.

    Args:
        net: the network (e.g. :class:`~gan_style.nets.TransformationNetwork` with ``output_activation="none"``).
    """

    size_multiple = 4

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: Tensor) -> Tensor:
        return self.net((x + 1.0) * 127.5) / 127.5 - 1.0


def fast_neural_style_state_dict(state: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """The PyTorch examples' fast-neural-style ``TransformerNet`` state dict in the key layout of
    :class:`gan_style.nets.TransformationNetwork` (same weights, renamed); the running-statistics keys that
    PyTorch < 0.4 saved for its instance-norm layers (``in1.running_mean`` ...) are dropped, as that code does.

    Raises:
        UnreadableFileError: a key that is not part of that network (the message names it).
    """
    top = {"conv1": "head.1", "conv2": "down1.1", "conv3": "down2.1", "deconv1": "up1.1", "deconv2": "up2.1"}
    top.update({"deconv3": "tail.1", "in1": "head.2", "in2": "down1.2", "in3": "down2.2", "in4": "up1.2"})
    top["in5"] = "up2.2"
    out: dict[str, Tensor] = {}
    for key, value in state.items():
        if re.search(r"(^|\.)in\d\.running_(mean|var)$|(^|\.)in\d\.num_batches_tracked$", key):
            continue
        parts = key.split(".")
        if parts[0] in top and (parts[1] in ("weight", "bias") or parts[1] == "conv2d"):
            out[f"{top[parts[0]]}.{parts[-1]}"] = value
            continue
        found = re.fullmatch(r"res(\d)\.(conv1|in1|conv2|in2)\.(?:conv2d\.)?(weight|bias)", key)
        if found:
            block, layer, leaf = int(found[1]) - 1, found[2], found[3]
            position = {"conv1": "0.1", "in1": "0.2", "conv2": "1.1", "in2": "1.2"}[layer]
            out[f"residual.{block}.body.{position}.{leaf}"] = value
            continue
        raise UnreadableFileError(f"key '{key}' is not part of the fast-neural-style TransformerNet")
    return out


@register_family("fast_neural_style", ENTRIES)
def convert(files: dict[str, Path], settings: dict[str, Any], name: str) -> Stylizer:
    """The archive's ``saved_models/<model>.pth``, renamed, in a :class:`PixelRange255` network."""
    path = files["generator"]
    state = fast_neural_style_state_dict(read_weights_file(path))
    net = load_published(TransformationNetwork(**settings, output_activation="none"), path, name, state)
    return GeneratorStylizer(PixelRange255(net), name=f"{name} (fast neural style)")
