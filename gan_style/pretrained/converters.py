"""One converter per published layout: the downloaded files of a catalogue entry -> gan-style's networks,
wrapped in the method's :class:`~gan_style.inference.Stylizer`.

- ``cyclegan``: the reference code's ``ResnetGenerator`` state dict (the keys of
  :class:`gan_style.nets.ResnetGenerator`; legacy InstanceNorm running-statistics keys dropped);
- ``pix2pix``: its ``UnetGenerator`` (batch norm, dropout) state dict, run as the reference ``test.py`` runs it
  (test-batch statistics, dropout on: :class:`gan_style.methods.pix2pix.Pix2PixStylizer`);
- ``adain``: ``decoder.pth`` into :class:`gan_style.nets.AdaINDecoder` and ``vgg_normalised.pth`` into the
  normalised VGG-19 encoder it was trained with (:class:`gan_style.nets.VGGFeatures`, ``layout="adain"``);
- ``fast_neural_style``: the PyTorch examples' ``TransformerNet`` (keys ``conv1.conv2d.weight``, ``in1.weight``,
  ``res1.conv1.conv2d.weight`` ..., legacy ``in*.running_mean`` / ``running_var`` keys) into
  :class:`gan_style.nets.TransformationNetwork` without tanh, working in [0, 255] as that code does;
- ``cut``: the CUT code's anti-aliased ``ResnetGenerator`` state dict (``latest_net_G.pth``, blur ``filt`` buffers
  included) into :class:`gan_style.nets.cut.CUTGenerator`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path

from torch import Tensor, nn

from gan_style.errors import GanStyleError, UnreadableFileError
from gan_style.inference.stylizer import GeneratorStylizer, Stylizer
from gan_style.nets import AdaINDecoder, ResnetGenerator, TransformationNetwork, UnetGenerator, VGGFeatures
from gan_style.nets.reference import load_reference_state_dict, read_weights_file

__all__ = ["CONVERTERS", "PixelRange255", "fast_neural_style_state_dict"]


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


def _load(net: nn.Module, path: Path, name: str, state: Mapping[str, Tensor] | None = None) -> nn.Module:
    try:
        return load_reference_state_dict(net, state if state is not None else path)
    except GanStyleError:  # unsafe, unreadable or missing file: its own message
        raise
    except ValueError as err:
        raise UnreadableFileError(
            f"'{path}' does not have the layout of the published {name} ({err}); delete it to download it again"
        ) from None


def _cyclegan(files: dict[str, Path], settings: dict, name: str) -> Stylizer:
    net = ResnetGenerator(**settings)
    return GeneratorStylizer(_load(net, files["generator"], name), name=f"{name} (CycleGAN generator)")


def _pix2pix(files: dict[str, Path], settings: dict, name: str) -> Stylizer:
    from gan_style.methods.pix2pix import Pix2PixStylizer

    net = UnetGenerator(**settings)
    return Pix2PixStylizer(_load(net, files["generator"], name))


def _adain(files: dict[str, Path], settings: dict, name: str) -> Stylizer:
    from gan_style.methods.adain import AdaINStylizer

    try:
        encoder = VGGFeatures(["relu4_1"], weights=os.fspath(files["encoder"]), layout=settings["encoder_layout"])
    except GanStyleError:
        raise
    except ValueError as err:
        raise UnreadableFileError(
            f"'{files['encoder']}' is not the normalised VGG-19 the published AdaIN decoder was trained with "
            f"({err}); delete it to download it again"
        ) from None
    return AdaINStylizer(encoder, _load(AdaINDecoder(), files["decoder"], name))


def _fast_neural_style(files: dict[str, Path], settings: dict, name: str) -> Stylizer:
    path = files["generator"]
    state = fast_neural_style_state_dict(read_weights_file(path))
    net = _load(TransformationNetwork(**settings, output_activation="none"), path, name, state)
    return GeneratorStylizer(PixelRange255(net), name=f"{name} (fast neural style)")


def _cut(files: dict[str, Path], settings: dict, name: str) -> Stylizer:
    from gan_style.nets.cut import CUTGenerator

    net = CUTGenerator(**settings)
    return GeneratorStylizer(_load(net, files["generator"], name), name=f"{name} (CUT generator)")


#: family -> builder(files by role, network settings, model name) -> Stylizer
CONVERTERS: dict[str, Callable[[dict[str, Path], dict, str], Stylizer]] = {
    "cyclegan": _cyclegan,
    "pix2pix": _pix2pix,
    "adain": _adain,
    "fast_neural_style": _fast_neural_style,
    "cut": _cut,
}
