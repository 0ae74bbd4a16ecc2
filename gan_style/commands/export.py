"""``gan-style export``: a trained generator as TorchScript and ONNX, checked by running the exported files.

Examples::

    gan-style export --checkpoint runs/cyclegan/checkpoints/last.ckpt   # generator_ab: TorchScript, and ONNX if installed
    gan-style export --checkpoint runs/cyclegan/checkpoints/last.ckpt --network generator_ba --formats [onnx]
    gan-style export --checkpoint runs/pix2pix/checkpoints/last.ckpt --output_dir models/
    gan-style export --checkpoint runs/adain/checkpoints/last.ckpt --height 512 --width 512

What is exported is the export form of the method's stylizer
(:meth:`gan_style.inference.Stylizer.export_module`), chosen with ``--network`` among the method's
``stylizer_networks`` (the first is the default). For the built-in methods:

- CycleGAN: ``generator_ab`` or ``generator_ba``; ``image`` (N, 3, H, W) -> ``output`` (N, 3, H, W), H and W
  multiples of 4;
- Pix2Pix: ``generator``; the same, H and W multiples of 2^num_downs (256 for unet_256);
- PatchGANStyle: ``generator``; the same, any H and W;
- AdaIN: ``stylizer`` (VGG encoder + AdaIN + decoder); ``content`` (N, 3, H, W), ``style`` (1 or N, 3, h, w),
  ``alpha`` (1,) or (N,) -> ``output`` (N, 3, H, W), any sizes of 8 pixels or more;
- a method of your own: whatever its stylizer's ``export_module()`` returns (``image`` -> ``output`` for a
  :class:`~gan_style.inference.GeneratorStylizer`);
- a method that generates from noise (DCGAN, or one of your own satisfying
  :class:`gan_style.methods.dcgan.UnconditionalGenerator`): ``generator``; ``latent`` (N, latent_size), drawn as
  the method's ``sample_latents`` draws it (DCGAN: N(0, I), or U[-1, 1] for ``noise: uniform``) -> ``output``
  (N, C, S, S), its ``generate`` in eval mode; only the batch is dynamic, and no model folder is written.

Every exported model takes and returns float32 RGB images in [-1, 1], NCHW; outputs are clamped to [-1, 1].
Convert at the edges: ``x = pixels / 127.5 - 1`` (pixels uint8 RGB) and ``pixels = round((y + 1) * 127.5)``.
Networks run in eval mode: batch norm uses its running statistics and dropout is off (Pix2Pix trained with
``eval_mode: false`` predicts with batch statistics and dropout instead, so its exported outputs differ from
``gan-style predict``; the sidecar says so). AdaIN's ``alpha`` in [0, 1] is the content-style trade-off
(Eq. 14), one value or one per image; style colour preservation is not part of the exported graph.

Files, written atomically (a temporary file renamed into place; nothing is replaced unless every check passes):
``<output_dir>/<method>_<network>.pt`` (TorchScript, ``torch.jit.load``), ``.onnx`` (ONNX) and ``.json``
(input/output names and shapes, value range, opset, the check's max abs differences); with ``safetensors``, the
folder ``<output_dir>/<method>_<network>/`` (``config.json`` + ``model.safetensors``: the method's settings and
weights, no pickle) that ``gan-style stylize --pretrained FOLDER`` and ``gan_style.from_pretrained`` load
(:mod:`gan_style.pretrained.folder`), checked by loading it back and running it. The ``.json`` is one record per
network and folder: a later export of the same network into the same folder (another ``--formats``) adds its
formats to it and keeps the earlier ones whose files are still there (``formats``: each file's checkpoint, traced
shape and check).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from gan_style.errors import (
    ExportCheckError,
    ExportError,
    InferenceUnavailableError,
    MissingDependencyError,
)

if TYPE_CHECKING:  # torch and the methods are imported when the command runs, not for --help
    from torch import Tensor, nn

    from gan_style.inference.stylizer import ExportModule

__all__ = [
    "ExportCheckError",
    "ExportError",
    "FORMATS",
    "MissingDependencyError",
    "export",
    "export_wrapper",
    "exportable_networks",
    "main",
]

Format = Literal["torchscript", "onnx", "safetensors"]
FORMATS: tuple[str, ...] = ("torchscript", "onnx", "safetensors")
#: what each format writes after ``<output_dir>/<method>_<network>``: a file suffix, or "" for a folder
SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx", "safetensors": ""}


# --- choosing what to export ------------------------------------------------------------------------------


def exportable_networks(model: nn.Module) -> tuple[str, ...]:
    """The ``network`` names :func:`export` accepts for ``model``, the default first: the method's
    ``stylizer_networks`` (CycleGAN ``generator_ab``, ``generator_ba``; AdaIN ``stylizer``), ``("generator",)``
    for a method that generates from noise (DCGAN); empty for a method without a trained network (Gatys)."""
    try:
        name, _ = export_wrapper(model)
    except ExportError:
        return ()
    return (name,) if name == GENERATOR else tuple(model.stylizer_networks)


#: The network name of a method that generates images from noise (:class:`LatentToImageExport`).
GENERATOR = "generator"


def _generates(model: nn.Module) -> bool:
    """Whether ``model`` draws images from noise and hands out no stylizer (DCGAN)."""
    from gan_style.methods.dcgan import UnconditionalGenerator

    return isinstance(model, UnconditionalGenerator) and not getattr(model, "stylizer_networks", ())


def latent_export(model: nn.Module) -> ExportModule:
    """The export form of a method that generates from noise: ``latent`` (N, latent_size) -> ``output``
    (N, C, S, S) in [-1, 1], the method's ``generate`` (eval mode, no gradients) traced once.

    The method's ``generator`` network, when it has one, is the exported module's submodule; anything else
    ``generate`` reads is recorded in the graph as constants (the method's parameters are frozen first).
    """
    import torch
    from torch import nn

    from gan_style.inference.stylizer import ExportModule

    class LatentToImageExport(ExportModule):
        input_names = ("latent",)
        output_names = ("output",)

        def __init__(self, method: nn.Module) -> None:
            super().__init__()
            object.__setattr__(self, "method", method.requires_grad_(False).eval())  # not a submodule
            network = getattr(method, "generator", None)
            if isinstance(network, nn.Module):
                self.generator = network
            self.latent_size = int(method.latent_size)

        def forward(self, latent: Tensor) -> Tensor:
            return self.method.generate(latent).clamp(-1, 1)

        def example_inputs(self, batch: int, height: int, width: int, generator: torch.Generator) -> tuple[Tensor]:
            return (torch.randn(batch, self.latent_size, generator=generator),)

        def dynamic_axes(self) -> dict[str, dict[int, str]]:
            return {"latent": {0: "batch"}, "output": {0: "batch"}}

        def notes(self) -> list[str]:
            return ["draw latent as the method's sample_latents does (DCGAN: N(0, I); U[-1, 1] with noise: uniform)"]

        def metadata(self) -> dict[str, object]:
            return {"latent_size": self.latent_size}

    return LatentToImageExport(model)


def export_wrapper(model: nn.Module, network: str | None = None) -> tuple[str, ExportModule]:
    """``(network name, module to export)`` for a trained method: the export form of its stylizer
    (:meth:`gan_style.inference.Stylizer.export_module`), in eval mode, without gradients.

    Args:
        model: a method (:class:`gan_style.methods.GanStyleModule`), e.g. from
            :func:`gan_style.methods.load_method`.
        network: one of the method's ``stylizer_networks`` (None: the default, the first).

    Raises:
        ExportError: a method with nothing to export (Gatys optimizes each image; a method that hands out no
            stylizer), or an unknown ``network`` (the message lists the choices).
    """
    from gan_style.methods.base import GanStyleModule

    if not isinstance(model, GanStyleModule):
        raise ExportError(f"{type(model).__name__} is not a gan-style method (GanStyleModule); nothing to export")
    if _generates(model):
        if network not in (None, GENERATOR):
            raise ExportError(
                f"{type(model).__name__} generates from noise; its one network to export is {GENERATOR!r}, not "
                f"{network!r}"
            )
        return GENERATOR, latent_export(model).eval()
    try:
        stylizer = model.stylizer(network)
        wrapper = stylizer.export_module()
    except (InferenceUnavailableError, ValueError) as exc:
        raise ExportError(str(exc)) from None
    name = network or model.stylizer_networks[0]
    return name, wrapper.eval().requires_grad_(False)


def _check_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """A size other than (height, width) for checking dynamic axes: one step of ``multiple`` taller and two
    wider, or, when any size works, odd sides (which exercise the exact-size resizing)."""
    if multiple > 1:
        return height + multiple, width + 2 * multiple
    return height + (1 if height % 2 == 0 else 2), width + (3 if width % 2 == 0 else 2)


# --- dependencies, warnings, files ---------------------------------------------------------------------

_INSTALL_HINT = "pip install 'gan-style[export]'"


def _require(module: str, why: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(
            f"{why} needs the package '{module}', which is not installed: pip install {module} (or {_INSTALL_HINT})"
        )


def _shape(tensor_shape: Sequence[int], axes: dict[int, str] | None) -> list[int | str]:
    """A shape with the dynamic axes named (``["batch", 3, "height", "width"]``)."""
    return [axes[i] if axes and i in axes else int(n) for i, n in enumerate(tensor_shape)]


def _max_abs_diff(got: Tensor, expected: Tensor) -> float:
    if got.shape != expected.shape:
        return math.inf
    return float((got.double() - expected.double()).abs().max()) if got.numel() else 0.0


def _run_onnx(path: Path, names: Sequence[str], inputs: tuple[Tensor, ...]) -> Tensor:
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only
    session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    feed = {name: x.detach().cpu().numpy() for name, x in zip(names, inputs)}
    return torch.from_numpy(session.run(None, feed)[0])


# --- the command -------------------------------------------------------------------------------------------


def _move_into_place(tmp: Path, target: Path) -> None:
    """Rename a finished file or folder to ``target``; an existing folder there is replaced, removed only after."""
    if tmp.is_dir() and target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True) if old.is_dir() else old.unlink(missing_ok=True)
        return
    os.replace(tmp, target)


def export(
    checkpoint: str,
    output_dir: str = "exported",
    formats: Sequence[Format] | Format | None = None,
    network: str | None = None,
    height: int = 256,
    width: int = 256,
    opset: int = 17,
    dynamic: bool = True,
    check: bool = True,
    atol: float = 1e-4,
    dynamo: bool = False,
) -> dict[str, Path]:
    """Export a trained generator as TorchScript and/or ONNX, and check each file by running it.

    The generator is the method's (AdaIN: encoder + AdaIN + decoder as one module); each exported file is
    loaded, run and compared with the PyTorch model.

    The exported model takes images (N, 3, H, W) float32 in [-1, 1] and returns the same (see the module
    docstring for each method's inputs and outputs). It is traced at batch 1 and ``height`` x ``width``; with
    ``dynamic`` the batch, height and width are free (ONNX dynamic axes; the traced TorchScript follows the
    input's shape), and the check runs on a batch of 2 at another size (odd sides where the network takes
    any size, e.g. 257 x 259; one multiple larger otherwise), so a size frozen into the graph fails it.

    Args:
        checkpoint: a checkpoint written by ``gan-style fit``.
        output_dir: folder for ``<method>_<network>.pt`` / ``.onnx`` / ``.json`` (created; "exported").
        formats: ``torchscript``, ``onnx`` and/or ``safetensors`` (a model folder for ``--pretrained``); None
            (the default): TorchScript, and ONNX when the packages it needs are installed (``onnx``, plus
            ``onnxruntime`` for the check); a skipped ONNX export is said, with what to install. Formats named
            explicitly (``[onnx]`` on the command line) are required.
        network: what to export: CycleGAN ``generator_ab`` (default) or ``generator_ba``; Pix2Pix and
            PatchGANStyle ``generator``; AdaIN ``stylizer``. None takes the default.
        height: height of the traced input, in pixels (256); a multiple of 2^num_downs for a U-Net, of 4 for ResNet.
        width: width of the traced input, in pixels (256); a multiple of 2^num_downs for a U-Net, of 4 for ResNet.
        opset: ONNX opset version (17; the dynamo exporter needs 18 or more).
        dynamic: free batch, height and width (True); False fixes the traced shape.
        check: load and run each exported file and compare with PyTorch (True). ONNX is run with
            onnxruntime on CPU.
        atol: largest absolute difference the check accepts, in the [-1, 1] output range (1e-4).
        dynamo: export ONNX with torch's dynamo (``torch.export``) exporter, which needs ``onnxscript``,
            instead of the TorchScript-based one (False; both are checked the same way).

    Returns:
        ``{"torchscript": path, "onnx": path, "metadata": path}`` for what was written.

    Raises:
        ExportError (a ValueError): an unknown format or network (the message lists the choices), a method
            with nothing to export (Gatys), a size the network cannot take, bad ``opset``/``atol``, or an
            exporter failure.
        ExportCheckError: an exported file disagrees with PyTorch; the message gives each format's max abs
            difference, and no file is written (existing ones are left as they were).
        MissingDependencyError: ``onnx`` (ONNX export), ``onnxruntime`` (ONNX check) or ``onnxscript``
            (``dynamo``) not installed; the message says what to ``pip install``.
        DatasetNotFoundError, UnsafeFileError, UnreadableFileError, ValueError: from
            :func:`~gan_style.commands.stylize.load_method` (missing, unsafe or foreign checkpoint).
    """
    import torch

    from gan_style.inference.onnx import export_onnx, quiet_export
    from gan_style.inference.stylizer import size_multiple_of
    from gan_style.io.atomic import atomic_write, temporary_path
    from gan_style.loading import load_method

    skipped = None
    if formats is None:
        wanted = ["torchscript"]
        needed = ["onnx"] + (["onnxruntime"] if check else []) + (["onnxscript"] if dynamo else [])
        missing = [m for m in needed if importlib.util.find_spec(m) is None]
        if missing:
            skipped = (
                f"ONNX skipped: {' and '.join(missing)} not installed (pip install {' '.join(missing)}, or "
                f"{_INSTALL_HINT})"
            )
        else:
            wanted.append("onnx")
    else:
        wanted = [formats] if isinstance(formats, str) else list(formats)
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown or not wanted:
        raise ExportError(f"unknown export format(s) {unknown or '(none given)'}; choose from {', '.join(FORMATS)}")
    wanted = [f for f in FORMATS if f in wanted]  # fixed order, no duplicates
    if height < 1 or width < 1:
        raise ExportError(f"height and width must be >= 1, got {height} x {width}")
    if not (atol >= 0 and math.isfinite(atol)):
        raise ExportError(f"atol must be a finite number >= 0, got {atol}")
    if "onnx" in wanted:
        if not 7 <= opset <= 30:
            raise ExportError(f"opset must be an ONNX opset version such as 17, got {opset}")
        _require("onnx", "ONNX export")
        if dynamo:
            _require("onnxscript", "the dynamo ONNX exporter (dynamo: true)")
        if check:
            _require("onnxruntime", "checking the exported ONNX model")

    model = load_method(checkpoint, "cpu")
    name, wrapper = export_wrapper(model, network)
    from_noise = wrapper.input_names == ("latent",)
    if from_noise and "safetensors" in wanted:
        raise ExportError(
            f"{type(model).__name__} generates from noise: a model folder is for stylize --pretrained, which it cannot "
            "run; export torchscript and onnx"
        )
    multiple = 1 if from_noise else size_multiple_of(wrapper)
    if height % multiple or width % multiple:
        raise ExportError(
            f"{type(model).__name__}.{name} needs height and width divisible by {multiple}, got {height} x {width}"
        )
    gen = torch.Generator().manual_seed(0)
    trace_inputs = wrapper.example_inputs(1, height, width, gen)
    check_h, check_w = _check_size(height, width, multiple) if dynamic else (height, width)
    check_inputs = wrapper.example_inputs(2 if dynamic else 1, check_h, check_w, gen)

    with torch.no_grad(), quiet_export():  # the reference output, before anything is written
        try:
            expected = wrapper(*check_inputs)
        except Exception as exc:
            raise ExportError(
                f"{type(model).__name__}.{name} cannot run on an input of {tuple(check_inputs[0].shape)} "
                f"(from height {height}, width {width}): {type(exc).__name__}: {exc}"
            ) from exc
        n, h, w = check_inputs[0].shape[0], *(expected.shape[-2:] if from_noise else check_inputs[0].shape[-2:])
        if expected.dim() != 4 or expected.shape[0] != n or tuple(expected.shape[-2:]) != (h, w):
            raise ExportCheckError(
                f"{type(model).__name__}.{name} returned shape {tuple(expected.shape)} for an input of "
                f"{tuple(check_inputs[0].shape)}; exported models must return (N, C, H, W) at the input's size"
            )

    out_dir = Path(output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{type(model).__name__.lower()}_{name}"
    targets = {fmt: out_dir / f"{stem}{SUFFIXES[fmt]}" for fmt in wanted}
    temps: dict[str, Path] = {}
    diffs: dict[str, float | None] = {fmt: None for fmt in wanted}
    try:
        with torch.no_grad(), quiet_export():
            if "torchscript" in wanted:
                temps["torchscript"] = temporary_path(targets["torchscript"])
                try:
                    traced = torch.jit.trace(wrapper, trace_inputs, check_trace=False)
                except Exception as exc:
                    raise ExportError(f"TorchScript tracing failed: {type(exc).__name__}: {exc}") from exc
                traced.save(str(temps["torchscript"]))
                if check:
                    loaded = torch.jit.load(str(temps["torchscript"]), map_location="cpu")
                    try:
                        got = loaded(*check_inputs)
                    except Exception as exc:
                        raise ExportCheckError(
                            f"the exported {stem}.pt could not run on an input of {tuple(check_inputs[0].shape)}: "
                            f"{type(exc).__name__}: {exc}"
                        ) from exc
                    diffs["torchscript"] = _max_abs_diff(got, expected)
            if "safetensors" in wanted:
                from gan_style.pretrained.folder import load_model_folder, save_model_folder

                temps["safetensors"] = temporary_path(targets["safetensors"])
                from gan_style.io.untrusted import safe_load

                stored = safe_load(checkpoint)
                settings = stored.get("hyper_parameters")  # networks as class_path configs
                scaling = stored.get("gan_style_scaling")  # the data's values, for data other than 8-bit RGB
                save_model_folder(model, temps["safetensors"], name, str(checkpoint), settings, scaling)
                if check:
                    try:
                        got = load_model_folder(temps["safetensors"], "cpu").export_module()(*check_inputs)
                    except Exception as exc:
                        raise ExportCheckError(
                            f"the exported model folder {stem} could not be loaded and run: {type(exc).__name__}: {exc}"
                        ) from exc
                    diffs["safetensors"] = _max_abs_diff(got, expected)
            if "onnx" in wanted:
                temps["onnx"] = temporary_path(targets["onnx"])
                export_onnx(wrapper, trace_inputs, temps["onnx"], opset, dynamic, dynamo)
                if check:
                    try:
                        got = _run_onnx(temps["onnx"], wrapper.input_names, check_inputs)
                    except Exception as exc:
                        raise ExportCheckError(
                            f"onnxruntime could not run the exported {stem}.onnx on an input of "
                            f"{tuple(check_inputs[0].shape)}: {type(exc).__name__}: {exc}"
                        ) from exc
                    diffs["onnx"] = _max_abs_diff(got, expected)
        failed = {f: d for f, d in diffs.items() if d is not None and not d <= atol}
        if failed:
            detail = ", ".join(
                f"{f}: {'shape differs' if math.isinf(d) else f'max abs diff {d:.3g}'}" for f, d in failed.items()
            )
            raise ExportCheckError(
                f"the exported {stem} disagrees with PyTorch on an input of {tuple(check_inputs[0].shape)} "
                f"({detail}; atol {atol:g}); nothing was written. If the difference is rounding, a larger "
                "--atol accepts it; if the network only traces correctly at one size, export with --dynamic false"
            )
        for fmt in wanted:
            _move_into_place(temps.pop(fmt), targets[fmt])
    finally:
        for tmp in temps.values():
            shutil.rmtree(tmp, ignore_errors=True) if tmp.is_dir() else tmp.unlink(missing_ok=True)

    axes = wrapper.dynamic_axes() if dynamic else {}
    notes = wrapper.notes()
    meta = {
        "method": type(model).__name__,
        "class_path": f"{type(model).__module__}.{type(model).__qualname__}",
        "network": name,
        "checkpoint": str(checkpoint),
        "files": {fmt: targets[fmt].name for fmt in wanted},
        "inputs": [
            {"name": n, "shape": _shape(x.shape, axes.get(n)), "dtype": "float32"}
            for n, x in zip(wrapper.input_names, trace_inputs)
        ],
        "outputs": [
            {
                "name": wrapper.output_names[0],
                "shape": _shape(
                    tuple(expected.shape) if from_noise else expected.shape[:2] + (height, width), axes.get("output")
                ),
            }
        ],
        "value_range": [-1.0, 1.0],
        "layout": "NCHW; pixels = round((y + 1) * 127.5)"
        if from_noise
        else "NCHW, RGB; x = pixels / 127.5 - 1, pixels = round((y + 1) * 127.5)",
        "size_multiple": multiple,
        "trace_shape": list(trace_inputs[0].shape),
        "dynamic": dynamic,
        "opset": opset if "onnx" in wanted else None,
        "onnx_exporter": ("dynamo" if dynamo else "torchscript") if "onnx" in wanted else None,
        "mode": "eval",
        "check": {
            "done": check,
            "input_shape": list(check_inputs[0].shape) if check else None,
            "atol": atol,
            "max_abs_diff": diffs,
        },
        "torch_version": torch.__version__,
        "notes": notes,
    }
    extra = dict(wrapper.metadata())
    ranges = extra.pop("input_ranges", {})
    meta.update(extra)
    for entry in meta["inputs"]:
        if not from_noise:  # a latent has a distribution, not a range
            entry["range"] = list(ranges.get(entry["name"], [-1.0, 1.0]))
    meta["outputs"][0]["range"] = [-1.0, 1.0]
    meta["formats"] = {
        fmt: {
            "file": targets[fmt].name,
            "checkpoint": str(checkpoint),
            "trace_shape": meta["trace_shape"],
            "dynamic": dynamic,
            "max_abs_diff": diffs[fmt],
            **({"opset": opset, "onnx_exporter": meta["onnx_exporter"]} if fmt == "onnx" else {}),
        }
        for fmt in wanted
    }
    meta_path = out_dir / f"{stem}.json"
    kept = _keep_earlier_formats(meta_path, meta)
    with atomic_write(meta_path, "w", encoding="utf-8") as f:
        f.write(json.dumps(meta, indent=2) + "\n")

    written = {**targets, "metadata": meta_path}
    print(f"export: {type(model).__name__}.{name} -> " + ", ".join(str(p) for p in written.values()))
    if check:
        result = ", ".join(f"{f} {d:.2g}" for f, d in diffs.items())
        print(
            f"export: check passed on an input of {tuple(check_inputs[0].shape)}: max |exported - PyTorch| "
            f"{result} (atol {atol:g})"
        )
    else:
        print("export: not checked (--check false)")
    for note in notes:
        print(f"export: note: {note}")
    if kept:
        print(f"export: {meta_path.name} keeps the record of the earlier {', '.join(kept)} export of {stem} too")
    if skipped:
        print(f"export: {skipped}")
    return written


def _keep_earlier_formats(meta_path: Path, meta: dict) -> list[str]:
    """Merge into ``meta`` (this export's record, its ``formats`` filled) the formats an earlier export of the same
    network wrote beside it and this one did not replace (``--formats [torchscript]``, then ``--formats [onnx]``):
    their entries in ``files``, ``formats`` and ``check.max_abs_diff``, and ONNX's ``opset``, kept while their files
    are still there. Everything else in ``meta`` describes this export.

    Returns:
        The formats kept from the earlier record (none when there is no readable earlier record of this method's
        network).
    """
    try:
        earlier = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(earlier, dict) or (earlier.get("class_path"), earlier.get("network")) != (
        meta["class_path"],
        meta["network"],
    ):
        return []
    check = earlier.get("check") if isinstance(earlier.get("check"), dict) else {}
    records = earlier.get("formats")
    if not isinstance(records, dict):  # a record written before per-format entries: rebuild them from its fields
        records = {
            fmt: {
                "file": file,
                "checkpoint": earlier.get("checkpoint"),
                "trace_shape": earlier.get("trace_shape"),
                "dynamic": earlier.get("dynamic"),
                "max_abs_diff": (check.get("max_abs_diff") or {}).get(fmt),
                **(
                    {"opset": earlier.get("opset"), "onnx_exporter": earlier.get("onnx_exporter")}
                    if fmt == "onnx"
                    else {}
                ),
            }
            for fmt, file in (earlier.get("files") or {}).items()
        }
    kept = {
        fmt: record
        for fmt, record in records.items()
        if fmt in FORMATS
        and fmt not in meta["formats"]
        and isinstance(record, dict)
        and isinstance(record.get("file"), str)
        and (meta_path.parent / record["file"]).exists()
    }
    order = [fmt for fmt in FORMATS if fmt in kept or fmt in meta["formats"]]
    merged = {**kept, **meta["formats"]}
    meta["formats"] = {fmt: merged[fmt] for fmt in order}
    meta["files"] = {fmt: merged[fmt]["file"] for fmt in order}
    meta["check"]["max_abs_diff"] = {fmt: merged[fmt].get("max_abs_diff") for fmt in order}
    if "onnx" in kept:
        meta["opset"], meta["onnx_exporter"] = kept["onnx"].get("opset"), kept["onnx"].get("onnx_exporter")
    return [fmt for fmt in FORMATS if fmt in kept]


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style export``: arguments parsed from :func:`export`'s signature; errors as one
    line, exit status 2 for a bad request or file (unknown network, missing checkpoint ...), 1 for a failed
    check or a missing package (:mod:`gan_style.commands.runner`)."""
    from gan_style.commands.runner import run_command

    run_command(export, args, "gan-style export")
