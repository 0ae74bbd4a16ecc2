"""Published models against the reference code: ``gan_style.from_pretrained`` and the reference projects'
own inference paths on the same photo, one JSON line per family.

    python benchmarks/pretrained_parity.py --reference_dir /tmp/refs
    python benchmarks/pretrained_parity.py --reference_dir /tmp/refs --time      # + `gan-style stylize` seconds

For each family a file is built in the exact published layout from the REFERENCE project's own network
definition with seeded random weights, put at the official URL's path in a temporary folder, served by a
local HTTP server (``http.server`` in a thread) and fetched by ``from_pretrained`` through
``$GAN_STYLE_MIRROR`` into a temporary ``$TORCH_HOME``; then the reference inference path and ours run on the
same 256x256 photo:

- ``cyclegan`` (``cyclegan/horse2zebra``): junyanz ``ResnetGenerator`` (9 blocks, instance norm without
  running statistics, no dropout), with the InstanceNorm ``running_mean`` / ``running_var`` /
  ``num_batches_tracked`` keys the zoo files carry; the reference loads it as ``BaseModel.load_networks``
  does (those keys dropped) and runs ``netG(real)`` under ``no_grad`` (``TestModel.forward``) on
  ``Normalize(0.5, 0.5)(ToTensor(photo))``. The junyanz classes get master's norm layers (instance norm
  without running statistics, batch norm with them): the checkout's ``get_norm_layer`` when it is master's,
  else master's partials (the JSON says which).
- ``pix2pix`` (``pix2pix/facades_label2photo``): junyanz ``UnetGenerator`` (unet_256, batch norm, dropout)
  in train mode, as ``test.py`` without ``--eval`` runs ``Pix2PixModel.test``; ``torch.manual_seed`` is set
  to the same value right before each forward, so both draw the same dropout masks when their dropout layers
  run in the same order (checked: ``dropout_masks_match``). The eval-mode difference (running statistics, no
  dropout) is reported too. Two file layouts (``--pix2pix_layouts``): ``torch>=0.4.1`` (with the BatchNorm
  ``num_batches_tracked`` keys) and ``torch<=0.4.0`` (without them; ``load_state_dict`` fills them in, so the
  reference loads both).
- ``adain`` (``adain/coco_wikiart``): pytorch-AdaIN ``net.decoder`` -> ``decoder.pth`` and ``net.vgg`` ->
  ``vgg_normalised.pth``; the reference is ``test.py``'s ``style_transfer(vgg, decoder, content, style, 1.0)``
  (read out of ``test.py`` with ``ast``, since that script parses arguments at import) with ``vgg`` cut at
  relu4_1, content and style in [0, 1]; its output (not clamped) is mapped to [-1, 1] as ``2 y - 1``.
- ``fast_neural_style`` (``fast_neural_style/candy``): pytorch/examples ``TransformerNet`` state dicts with the
  legacy ``in*.running_mean/var`` keys, in ``saved_models.zip`` as ``saved_models/<name>.pth``; the reference
  is ``neural_style.py``'s own ``stylize(args)`` (read out with ``ast``; ``utils.load_image`` / ``save_image``
  replaced so it gets the photo and hands back its unclamped output), working on 0-255 pixels; mapped to
  [-1, 1] as ``y / 127.5 - 1`` and also reported in 0-255 units.

Fields: ``max_abs_diff`` compares the raw outputs in [-1, 1] (ours taken by a forward hook on the network
before the stylizer clamps, since the AdaIN and fast-neural-style references do not clamp; CycleGAN and
pix2pix end in tanh, so clamping changes nothing), ``max_abs_diff_clamped`` compares what the user gets (our
stylizer's clamped output against the reference clamped to [-1, 1], as its image saving does). The goal is
``max_abs_diff <= 1e-4``. ``input_max_abs_diff`` is how far the two inputs are apart (the reference's
``ToTensor``/``Normalize`` or ``* 255`` against our ``to_tensor`` and ``(x + 1) * 127.5``, in [-1, 1] units);
``same_input_max_abs_diff`` feeds our network the reference's own input tensor, which takes that rounding
out (CycleGAN, pix2pix, fast neural style). A layout our converter refuses gives a line with ``error``.

``--time`` adds, per family, the wall-clock seconds of ``gan-style stylize --pretrained NAME --content
<512x512 photo> --size 512 --output_dir <tmp>`` run as a subprocess (the files are already cached, no
download; ``$GAN_STYLE_MIRROR`` is unset for it; torch's default threads, as the command uses), from the
command's start to its exit, and when the image was written (its mtime).

Nothing of the reference code lives in this repository; it is imported at run time from ``--reference_dir``:
``junyanz/models/networks.py`` (github.com/junyanz/pytorch-CycleGAN-and-pix2pix), ``adain/`` (net.py,
function.py, test.py: github.com/naoto0804/pytorch-AdaIN) and
``examples/fast_neural_style/neural_style/`` (transformer_net.py, neural_style.py: github.com/pytorch/examples).
A missing checkout skips its family (a note on stderr). See benchmarks/README.md for the set-up.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import copy
import functools
import http.server
import importlib.util
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import types
import urllib.parse
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import Tensor, nn

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "examples/data/photo2painting/testA/newyork.jpg"
STYLE = REPO / "examples/data/photo2painting/testB/starry_night_crop.jpg"
GOAL = 1e-4

#: family -> the catalogue entry built, served and compared
MODELS = {
    "cyclegan": "cyclegan/horse2zebra",
    "pix2pix": "pix2pix/facades_label2photo",
    "adain": "adain/coco_wikiart",
    "fast_neural_style": "fast_neural_style/candy",
}
#: family -> the file layouts built (the first is the default; PyTorch's version at saving time decides some keys)
LAYOUTS = {
    "cyclegan": ("in_running_stats",),  # InstanceNorm running_mean/var/num_batches_tracked in every norm layer
    "pix2pix": ("torch>=0.4.1", "torch<=0.4.0"),  # with / without BatchNorm num_batches_tracked
    "adain": ("release",),
    "fast_neural_style": ("release",),  # with the legacy in*.running_mean/var keys
}
FAST_NEURAL_STYLE_NAMES = ("candy", "mosaic", "rain_princess", "udnie")  # what saved_models.zip holds


# --- the reference code, imported from --reference_dir ----------------------------------------------------------
def _module_from(path: Path, name: str) -> types.ModuleType:
    """Import the file ``path`` as a module called ``name`` (no ``sys.path`` entry needed)."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function_from(path: Path, name: str, namespace: dict[str, Any]) -> Callable:
    """The top-level function ``name`` of the script ``path``, compiled alone into ``namespace`` (the rest of
    the script, e.g. its argument parsing, does not run)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            exec(compile(ast.Module(body=[node], type_ignores=[]), str(path), "exec"), namespace)
            return namespace[name]
    raise ValueError(f"{path} defines no function {name!r}")


def load_references(root: Path) -> tuple[dict[str, types.SimpleNamespace], dict[str, str]]:
    """family -> the reference modules it needs, and family -> why it is skipped (a missing checkout)."""
    refs: dict[str, types.SimpleNamespace] = {}
    missing: dict[str, str] = {}
    networks = root / "junyanz" / "models" / "networks.py"
    if networks.is_file():
        with contextlib.redirect_stdout(sys.stderr):
            junyanz = _module_from(networks, "junyanz_networks")
        refs["cyclegan"] = refs["pix2pix"] = types.SimpleNamespace(networks=junyanz, path=networks)
    else:
        missing["cyclegan"] = missing["pix2pix"] = f"{networks} not found"
    adain = root / "adain"
    if all((adain / f).is_file() for f in ("net.py", "function.py", "test.py")):
        sys.path.insert(0, str(adain))  # net.py imports `function`
        refs["adain"] = types.SimpleNamespace(
            net=importlib.import_module("net"), function=importlib.import_module("function"), test_py=adain / "test.py"
        )
    else:
        missing["adain"] = f"{adain}/net.py, function.py or test.py not found"
    neural_style = root / "examples" / "fast_neural_style" / "neural_style"
    if all((neural_style / f).is_file() for f in ("transformer_net.py", "neural_style.py")):
        refs["fast_neural_style"] = types.SimpleNamespace(
            transformer_net=_module_from(neural_style / "transformer_net.py", "examples_transformer_net"),
            neural_style_py=neural_style / "neural_style.py",
        )
    else:
        missing["fast_neural_style"] = f"{neural_style}/transformer_net.py or neural_style.py not found"
    return refs, missing


# --- the images ----------------------------------------------------------------------------------------------------
def load_photo(path: Path, size: int) -> Image.Image:
    """An RGB photo resized to ``size`` x ``size`` (bicubic)."""
    return Image.open(path).convert("RGB").resize((size, size), Image.BICUBIC)


def to_unit(img: Image.Image) -> Tensor:
    """torchvision's ``ToTensor``: (1, 3, H, W) in [0, 1], what the reference scripts start from."""
    from torchvision import transforms

    return transforms.ToTensor()(img).unsqueeze(0)


def to_ours(img: Image.Image) -> Tensor:
    """gan-style's ``to_tensor``: (1, 3, H, W) in [-1, 1]."""
    from gan_style.data import to_tensor

    return to_tensor(img).unsqueeze(0)


# --- random weights in the published layouts ----------------------------------------------------------------------
def randomize_norms(net: nn.Module, generator: torch.Generator) -> None:
    """Give every affine norm layer random scales and shifts, and batch norms random running statistics, so the
    comparison exercises them (the reference constructors leave them at 1, 0)."""
    for m in net.modules():
        if isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)):
            with torch.no_grad():
                if m.weight is not None:
                    m.weight.copy_(1 + 0.2 * torch.randn(m.weight.shape, generator=generator))
                    m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=generator))
                if isinstance(m, nn.BatchNorm2d):
                    m.running_mean.copy_(0.2 * torch.randn(m.running_mean.shape, generator=generator))
                    m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=generator))


def save_bytes(obj: Any) -> bytes:
    """``torch.save`` into memory."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def norm_layers(networks: types.ModuleType) -> tuple[Callable, Callable, str]:
    """(instance, batch) norm layer factories for the junyanz classes: the checkout's ``get_norm_layer`` when it
    is master's (instance norm without running statistics, batch norm tracking them), else master's partials;
    and a note saying which."""
    standard_instance = functools.partial(nn.InstanceNorm2d, affine=False, track_running_stats=False)
    standard_batch = functools.partial(nn.BatchNorm2d, affine=True, track_running_stats=True)
    with contextlib.redirect_stdout(sys.stderr):
        instance, batch = networks.get_norm_layer("instance"), networks.get_norm_layer("batch")

    def settings(p: Any) -> tuple:
        probe = p(4)
        return type(probe), probe.affine, probe.track_running_stats

    same = settings(instance) == settings(standard_instance) and settings(batch) == settings(standard_batch)
    if same:
        return instance, batch, "the checkout's get_norm_layer (master's)"
    note = (
        f"the checkout's get_norm_layer differs from master's (instance: affine={settings(instance)[1]}, "
        f"track_running_stats={settings(instance)[2]}); master's partials used: InstanceNorm2d(affine=False, "
        "track_running_stats=False), BatchNorm2d(affine=True, track_running_stats=True)"
    )
    return standard_instance, standard_batch, note


def cyclegan_published(ref: types.SimpleNamespace, seed: int) -> tuple[bytes, dict]:
    """``<name>.pth`` of the CycleGAN zoo: the junyanz ``ResnetGenerator`` state dict (9 blocks, instance norm)
    with the InstanceNorm ``running_mean`` / ``running_var`` / ``num_batches_tracked`` keys the zoo files carry
    (saved when ``get_norm_layer`` built instance norm with ``track_running_stats=True``; junyanz issues #318,
    #461 list them), zeros and ones."""
    instance, _, note = norm_layers(ref.networks)
    torch.manual_seed(seed)
    net = ref.networks.ResnetGenerator(3, 3, 64, norm_layer=instance, use_dropout=False, n_blocks=9)
    with torch.no_grad():  # final conv x3: the tanh input spreads over ~[-3, 3] instead of staying near 0
        net.model[-2].weight.mul_(3.0)
    state = dict(net.state_dict())
    legacy = 0
    for name, m in net.named_modules():
        if isinstance(m, nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.zeros(m.num_features)
            state[f"{name}.running_var"] = torch.ones(m.num_features)
            state[f"{name}.num_batches_tracked"] = torch.tensor(0)
            legacy += 3
    return save_bytes(state), {"norm_layers": note, "keys": len(state), "legacy_instance_norm_keys": legacy}


def pix2pix_published(ref: types.SimpleNamespace, seed: int, layout: str = LAYOUTS["pix2pix"][0]) -> tuple[bytes, dict]:
    """``<name>.pth`` of the pix2pix zoo: the junyanz ``UnetGenerator`` state dict (unet_256, batch norm with
    random running statistics, dropout); with ``layout`` ``torch<=0.4.0`` without the BatchNorm
    ``num_batches_tracked`` keys, as PyTorch before 0.4.1 saved it (``torch.nn.Module.load_state_dict`` fills
    them in for such files)."""
    _, batch, note = norm_layers(ref.networks)
    torch.manual_seed(seed)
    net = ref.networks.UnetGenerator(3, 3, 8, 64, norm_layer=batch, use_dropout=True)
    randomize_norms(net, torch.Generator().manual_seed(seed))
    state = dict(net.state_dict())
    if layout == "torch<=0.4.0":
        state = {k: v for k, v in state.items() if not k.endswith(".num_batches_tracked")}
    return save_bytes(state), {"norm_layers": note, "keys": len(state)}


def adain_published(ref: types.SimpleNamespace, seed: int) -> tuple[dict[str, bytes], dict]:
    """``decoder.pth`` and ``vgg_normalised.pth`` of the pytorch-AdaIN release: state dicts of ``net.decoder``
    and of the whole ``net.vgg`` (to relu5_4), random: He-normal convolutions so that relu4_1 features keep
    their scale, the decoder's last convolution scaled so its output spreads around 0.5."""
    torch.manual_seed(seed)
    vgg, decoder = copy.deepcopy(ref.net.vgg), copy.deepcopy(ref.net.decoder)
    for m in [*vgg.modules(), *decoder.modules()]:
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.uniform_(m.bias, -0.05, 0.05)
    with torch.no_grad():
        last = decoder[-1]
        last.weight.mul_(0.1)
        last.bias.fill_(0.5)
    files = {"decoder": save_bytes(dict(decoder.state_dict())), "encoder": save_bytes(dict(vgg.state_dict()))}
    return files, {"decoder_keys": len(decoder.state_dict()), "vgg_keys": len(vgg.state_dict())}


def fast_neural_style_state(ref: types.SimpleNamespace, seed: int) -> dict[str, Tensor]:
    """One ``saved_models/<name>.pth``: a ``TransformerNet`` state dict, random (instance-norm scales and shifts
    too; the last convolution scaled so the output spreads over 0-255), with the legacy
    ``in*.running_mean/var`` keys the published files carry."""
    torch.manual_seed(seed)
    net = ref.transformer_net.TransformerNet()
    randomize_norms(net, torch.Generator().manual_seed(seed))
    with torch.no_grad():
        net.deconv3.conv2d.weight.mul_(150.0)
        net.deconv3.conv2d.bias.fill_(127.5)
    state = dict(net.state_dict())
    for name, m in net.named_modules():
        if isinstance(m, nn.InstanceNorm2d):
            state[f"{name}.running_mean"] = torch.zeros(m.num_features)
            state[f"{name}.running_var"] = torch.ones(m.num_features)
    return state


def fast_neural_style_published(ref: types.SimpleNamespace, seed: int) -> tuple[bytes, dict]:
    """``saved_models.zip`` as published: ``saved_models/<name>.pth`` for the four styles (seeds seed..seed+3)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for i, name in enumerate(FAST_NEURAL_STYLE_NAMES):
            zf.writestr(f"saved_models/{name}.pth", save_bytes(fast_neural_style_state(ref, seed + i)))
    return buffer.getvalue(), {"members": [f"saved_models/{n}.pth" for n in FAST_NEURAL_STYLE_NAMES]}


# --- serving them ----------------------------------------------------------------------------------------------------
def url_path(url: str) -> str:
    """The path of an official URL, as a mirror serves it (query left out: a static server ignores it)."""
    return urllib.parse.urlsplit(url).path


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002  (the base class's name)
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """``http.server`` on 127.0.0.1 (random port) serving ``folder`` from a thread; yields its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def publish(family: str, ref: types.SimpleNamespace, seed: int, root: Path, layout: str) -> dict:
    """Write the family's published files (in ``layout``, see :data:`LAYOUTS`) under ``root`` at their official
    URL paths; returns what was built."""
    from gan_style.pretrained import resolve_pretrained

    entry = resolve_pretrained(MODELS[family])
    if family == "adain":
        data, info = adain_published(ref, seed)
    else:
        if family == "pix2pix":
            blob, info = pix2pix_published(ref, seed, layout)
        else:
            blob, info = {"cyclegan": cyclegan_published}.get(family, fast_neural_style_published)(ref, seed)
        data = dict.fromkeys(entry.files, blob)
    for role, published in entry.files.items():
        target = root / url_path(published.url).lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data[role])
        info.setdefault("served", []).append(url_path(published.url))
    return info


# --- the reference inference paths ------------------------------------------------------------------------------
def junyanz_load(net: nn.Module, path: Path) -> nn.Module:
    """Load a zoo file as ``BaseModel.load_networks`` does: drop ``_metadata`` and, for InstanceNorm layers
    without running statistics, the ``running_mean`` / ``running_var`` / ``num_batches_tracked`` keys of older
    PyTorch (``__patch_instance_norm_state_dict``), then ``load_state_dict`` (strict)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    if hasattr(state, "_metadata"):
        del state._metadata
    modules = dict(net.named_modules())
    for key in list(state):
        prefix, _, leaf = key.rpartition(".")
        m = modules.get(prefix)
        if type(m).__name__.startswith("InstanceNorm"):
            if (leaf in ("running_mean", "running_var") and getattr(m, leaf) is None) or leaf == "num_batches_tracked":
                state.pop(key)
    net.load_state_dict(state)
    return net


def dropout_recorder(net: nn.Module) -> tuple[list[Tensor], list]:
    """Forward hooks on the ``nn.Dropout`` layers of ``net`` recording, call by call, which elements were kept."""
    masks: list[Tensor] = []

    def hook(module: nn.Module, inputs: tuple[Tensor, ...], output: Tensor) -> None:
        if module.training:
            masks.append((output != 0) | (inputs[0] == 0))

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.Dropout)]
    return masks, handles


def run_reference(
    family: str, ref: types.SimpleNamespace, files: dict[str, Path], photo: Image.Image, style: Image.Image, seed: int
) -> dict:
    """The reference's output in [-1, 1] (unclamped), plus what ran and, for pix2pix, its eval-mode output and
    dropout masks."""
    out: dict[str, Any] = {}
    if family in ("cyclegan", "pix2pix"):
        from torchvision import transforms

        instance, batch, _ = norm_layers(ref.networks)
        real = transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))(to_unit(photo))  # as get_transform
        if family == "cyclegan":
            net = junyanz_load(
                ref.networks.ResnetGenerator(3, 3, 64, norm_layer=instance, n_blocks=9), files["generator"]
            )
            with torch.no_grad():  # TestModel.test(): forward() = netG(real) under no_grad, modules as created
                out["y"] = net(real)
            out["x"] = real
            out["ran"] = "junyanz ResnetGenerator(9 blocks, instance norm) netG(real) as TestModel.test(), no_grad"
            return out

        def unet() -> nn.Module:
            return junyanz_load(
                ref.networks.UnetGenerator(3, 3, 8, 64, norm_layer=batch, use_dropout=True), files["generator"]
            )

        net = unet()  # train mode, as test.py leaves it without --eval
        masks, handles = dropout_recorder(net)
        torch.manual_seed(seed)
        with torch.no_grad():  # Pix2PixModel.test(): forward() = netG(real_A) under no_grad
            out["y"] = net(real)
        for h in handles:
            h.remove()
        out["masks"] = masks
        out["x"] = real
        net = unet().eval()  # fresh: the train-mode pass above moved its running statistics
        with torch.no_grad():
            out["y_eval"] = net(real)
        out["ran"] = (
            "junyanz UnetGenerator(unet_256, batch norm, dropout) netG(real_A) as Pix2PixModel.test() without "
            f"--eval (train mode: batch statistics, dropout), torch.manual_seed({seed}) right before; also eval()"
        )
        return out
    if family == "adain":
        vgg, decoder = copy.deepcopy(ref.net.vgg), copy.deepcopy(ref.net.decoder)
        decoder.eval()
        vgg.eval()
        decoder.load_state_dict(torch.load(files["decoder"], weights_only=True))
        vgg.load_state_dict(torch.load(files["encoder"], weights_only=True))
        vgg = nn.Sequential(*list(vgg.children())[:31])  # up to relu4_1, as test.py
        namespace = {
            "torch": torch,
            "adaptive_instance_normalization": ref.function.adaptive_instance_normalization,
            "device": torch.device("cpu"),
        }
        style_transfer = function_from(ref.test_py, "style_transfer", namespace)
        content = to_unit(photo)
        with torch.no_grad():
            y = style_transfer(vgg, decoder, content, to_unit(style), 1.0)
        out["y"] = y * 2.0 - 1.0
        out["x"] = content
        out["ran"] = (
            "naoto0804 test.py style_transfer(vgg[:31], decoder, content, style, alpha=1.0), [0, 1] in, no_grad"
        )
        return out
    # fast neural style: neural_style.py's stylize(args), with its image reading and writing replaced
    from torchvision import transforms

    saved: dict[str, Tensor] = {}

    class CapturedNet(ref.transformer_net.TransformerNet):  # the reference's network, its input kept
        def forward(self, X: Tensor) -> Tensor:  # noqa: N803  (the reference's argument name)
            saved["x"] = X
            return super().forward(X)

    def save_image(filename: str, data: Tensor) -> None:
        saved["y"] = data.clone()

    utils = types.SimpleNamespace(load_image=lambda filename, size=None, scale=None: photo, save_image=save_image)
    namespace = {
        "torch": torch,
        "re": re,
        "transforms": transforms,
        "utils": utils,
        "TransformerNet": CapturedNet,
    }
    stylize = function_from(ref.neural_style_py, "stylize", namespace)
    args = types.SimpleNamespace(
        accel=False, cuda=0, mps=False, content_image="<photo>", content_scale=None, model=str(files["generator"]),
        export_onnx=None, output_image="<captured>",
    )  # fmt: skip
    with contextlib.redirect_stdout(sys.stderr):
        stylize(args)
    y255 = saved["y"].unsqueeze(0)
    out["y"] = y255 / 127.5 - 1.0
    out["y255"] = y255
    out["x"] = saved["x"]
    out["ran"] = "pytorch/examples neural_style.py stylize(args) (TransformerNet on ToTensor*255, not clamped)"
    return out


# --- ours --------------------------------------------------------------------------------------------------------
def run_ours(family: str, stylizer: nn.Module, photo: Image.Image, style: Image.Image, seed: int) -> dict:
    """Our stylizer's output as returned (clamped) and before the clamp (a hook on its network), in [-1, 1]."""
    raw: dict[str, Tensor] = {}
    net = stylizer.decoder if family == "adain" else stylizer.generator
    handle = net.register_forward_hook(lambda module, inputs, output: raw.__setitem__("y", output))
    x = to_ours(photo)
    out: dict[str, Any] = {}
    masks, handles = dropout_recorder(stylizer) if family == "pix2pix" else ([], [])
    torch.manual_seed(seed)
    with torch.no_grad():
        out["y_clamped"] = stylizer(x, [to_ours(style)]) if family == "adain" else stylizer(x)
    handle.remove()
    for h in handles:
        h.remove()
    out["y"] = raw["y"] * 2.0 - 1.0 if family == "adain" else raw["y"]  # the AdaIN decoder gives [0, 1]
    out["x"] = x
    if family == "pix2pix":
        out["masks"] = masks
        stylizer.eval_mode = True  # the usual eval mode: running statistics, no dropout
        with torch.no_grad():
            out["y_eval"] = stylizer(x)
        stylizer.eval_mode = False
    return out


def same_input(family: str, stylizer: nn.Module, ref_out: dict, seed: int) -> dict:
    """Our network fed the reference's own input tensor (no conversion of ours in between), against the
    reference's output: what is left when the input rounding is taken out. CycleGAN, pix2pix: the stylizer on
    the reference's normalized input; fast neural style: our network on the reference's 0-255 input; AdaIN: not
    done (our encoder converts [-1, 1] itself)."""
    if family == "adain":
        return {}
    with torch.no_grad():
        if family == "fast_neural_style":
            y = stylizer.generator.net(ref_out["x"]) / 127.5 - 1.0  # PixelRange255's network, 0-255 in and out
        else:
            torch.manual_seed(seed)
            y = stylizer(ref_out["x"])  # tanh output: the clamp changes nothing
    return {"same_input_max_abs_diff": max_abs(ref_out["y"], y)}


# --- timing the command --------------------------------------------------------------------------------------
def stylize_command() -> list[str]:
    """How to start ``gan-style``: the venv's console script, else ``python -m gan_style``."""
    exe = shutil.which("gan-style", path=str(Path(sys.executable).parent)) or shutil.which("gan-style")
    return [exe] if exe else [sys.executable, "-m", "gan_style"]


def time_startup(env: dict[str, str], runs: int) -> float:
    """Seconds of ``gan-style stylize --help`` (interpreter start, imports, argument parsing; no model, no
    image), the fastest of ``runs``: the fixed part of every ``stylize`` command."""
    seconds = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([*stylize_command(), "stylize", "--help"], env=env, capture_output=True, check=True)
        seconds.append(time.perf_counter() - t0)
    return round(min(seconds), 3)


def time_stylize(name: str, content: Path, style: Path | None, env: dict[str, str], runs: int, tmp: Path) -> dict:
    """Seconds of ``gan-style stylize --pretrained name --content content --size 512`` as a subprocess, from the
    command's start to its exit, ``runs`` times; and when the image was written (its mtime)."""
    command = stylize_command()
    seconds, written = [], []
    for i in range(runs):
        out_dir = tmp / f"stylized_{name.replace('/', '_')}_{i}"
        cmd = [*command, "stylize", "--pretrained", name, "--content", str(content), "--size", "512"]
        cmd += ["--output_dir", str(out_dir)] + (["--style", str(style)] if style else [])
        start = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        seconds.append(round(time.perf_counter() - t0, 3))
        images = sorted(out_dir.glob("*.png"))
        if proc.returncode != 0 or len(images) != 1:
            raise RuntimeError(f"{' '.join(cmd)} failed (rc {proc.returncode}): {proc.stderr[-2000:]}")
        with Image.open(images[0]) as im:
            size = im.size
        written.append(round(images[0].stat().st_mtime - start, 3))
    shown = ["gan-style", *cmd[len(command) :]]
    return {
        "stylize_command": " ".join(shown),
        "stylize_seconds": min(seconds),
        "stylize_seconds_all": seconds,
        "image_written_after_s": written,
        "stylize_output_size": list(size),
    }


# --- the comparison ------------------------------------------------------------------------------------------
def max_abs(a: Tensor, b: Tensor) -> float:
    """Largest absolute difference of two tensors of the same shape (float64)."""
    return float((a.double() - b.double()).abs().max())


def compare(family: str, ref_out: dict, ours: dict) -> dict:
    """The JSON fields of one family's comparison."""
    y_ref, y = ref_out["y"], ours["y"]
    row: dict[str, Any] = {
        "reference_shape": list(y_ref.shape),
        "ours_shape": list(ours["y_clamped"].shape),
    }
    if y_ref.shape != y.shape:
        row["error"] = f"shapes differ: reference {tuple(y_ref.shape)}, ours {tuple(y.shape)}"
        return row
    diff = max_abs(y_ref, y)
    row["max_abs_diff"] = diff
    row["mean_abs_diff"] = float((y_ref.double() - y.double()).abs().mean())
    row["compared"] = (
        "raw outputs in [-1, 1], before any clamp (the reference does not clamp)"
        if family in ("adain", "fast_neural_style")
        else "tanh outputs in [-1, 1] (no clamp involved)"
    )
    row["max_abs_diff_clamped"] = max_abs(y_ref.clamp(-1, 1), ours["y_clamped"])
    x_ref = ref_out["x"]  # the reference's input, in [-1, 1] units
    x_ref = x_ref * 2.0 - 1.0 if family == "adain" else x_ref / 127.5 - 1.0 if family == "fast_neural_style" else x_ref
    row["input_max_abs_diff"] = max_abs(x_ref, ours["x"])
    row["reference_range"] = [round(float(y_ref.min()), 4), round(float(y_ref.max()), 4)]
    row["reference_std"] = round(float(y_ref.std()), 4)
    if family == "fast_neural_style":
        row["max_abs_diff_0_255"] = max_abs(ref_out["y255"], (y + 1.0) * 127.5)
    if family == "pix2pix":
        ref_masks, our_masks = ref_out["masks"], ours["masks"]
        row["dropout_calls"] = [len(ref_masks), len(our_masks)]
        row["dropout_masks_match"] = len(ref_masks) == len(our_masks) and all(
            a.shape == b.shape and bool(torch.equal(a, b)) for a, b in zip(ref_masks, our_masks)
        )
        row["max_abs_diff_eval"] = max_abs(ref_out["y_eval"], ours["y_eval"])
    row["meets_goal"] = diff <= GOAL
    return row


def main() -> None:
    """Parse the options, then build, serve, load and compare each family; one JSON line per family and layout."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--reference_dir", default="/tmp/refs", help="where the reference checkouts are (/tmp/refs)")
    p.add_argument("--families", nargs="+", default=list(MODELS), choices=list(MODELS))
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and of pix2pix's dropout (0)")
    p.add_argument("--size", type=int, default=256, help="side of the compared photo in pixels (256)")
    p.add_argument("--photo", type=Path, default=PHOTO, help="the content photo")
    p.add_argument("--style", type=Path, default=STYLE, help="the AdaIN style image")
    p.add_argument("--time", action="store_true", help="also time `gan-style stylize` at 512x512 per family")
    p.add_argument("--time_runs", type=int, default=2, help="runs of the command per family with --time (2)")
    p.add_argument(
        "--pix2pix_layouts",
        nargs="+",
        default=list(LAYOUTS["pix2pix"]),
        choices=LAYOUTS["pix2pix"],
        help="pix2pix files with (torch>=0.4.1) and/or without (torch<=0.4.0) num_batches_tracked (both)",
    )
    p.add_argument("--keep", type=Path, default=None, help="work in this folder and keep it (default: a temp dir)")
    a = p.parse_args()

    root = Path(a.reference_dir)
    if not root.is_dir():
        raise SystemExit(f"reference directory {root} does not exist; see benchmarks/README.md to set it up")
    refs, missing = load_references(root)
    for family in a.families:
        if family in missing:
            print(f"{family} skipped: {missing[family]}", file=sys.stderr)
    families = [f for f in a.families if f in refs]

    import gan_style

    photo, style = load_photo(a.photo, a.size), load_photo(a.style, a.size)
    with contextlib.ExitStack() as stack:
        work = a.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pretrained_parity_")))
        work.mkdir(parents=True, exist_ok=True)
        served = work / "served"
        base = stack.enter_context(serve(served))
        os.environ["GAN_STYLE_MIRROR"] = base
        photo512 = work / "photo_512.png"
        load_photo(a.photo, 512).save(photo512)
        startup = None
        if a.time:
            startup = time_startup({k: v for k, v in os.environ.items() if k != "GAN_STYLE_MIRROR"}, a.time_runs)
        cases = [(f, layout) for f in families for layout in (a.pix2pix_layouts if f == "pix2pix" else LAYOUTS[f])]
        for family, layout in cases:
            name = MODELS[family]
            row: dict[str, Any] = {"family": family, "model": name, "layout": layout, "seed": a.seed, "size": a.size}
            os.environ["TORCH_HOME"] = str(work / "torch_home" / re.sub(r"[^\w.-]", "_", f"{family}-{layout}"))
            row["published"] = publish(family, refs[family], a.seed, served, layout)
            from gan_style.pretrained import download_pretrained

            files = download_pretrained(name, progress=False)  # through the mirror: the paths ours read
            ref_out = run_reference(family, refs[family], files, photo, style, a.seed)
            row["reference"] = ref_out["ran"]
            try:
                stylizer = gan_style.from_pretrained(name, progress=False)
            except Exception as exc:  # a layout our converter refuses: say so, the reference ran
                row.update({"error": f"{type(exc).__name__}: {exc}", "reference_shape": list(ref_out["y"].shape)})
                row["meets_goal"] = False
                print(json.dumps(row), flush=True)
                continue
            ours = run_ours(family, stylizer, photo, style, a.seed)
            row["ours"] = f"gan_style.from_pretrained({name!r}) -> {type(stylizer).__name__}"
            row.update(compare(family, ref_out, ours))
            if "error" not in row:
                row.update(same_input(family, stylizer, ref_out, a.seed))
            if a.time and layout == LAYOUTS[family][0]:
                env = {k: v for k, v in os.environ.items() if k != "GAN_STYLE_MIRROR"}  # cached: no download
                row["threads"] = torch.get_num_threads()
                row["startup_seconds"] = startup  # `gan-style stylize --help`, for scale
                row.update(time_stylize(name, photo512, a.style if family == "adain" else None, env, a.time_runs, work))
            row.update({"torch": torch.__version__, "machine": f"{platform.machine()}, {os.cpu_count()} CPUs"})
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
