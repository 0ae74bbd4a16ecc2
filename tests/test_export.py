"""``gan-style export``: TorchScript and ONNX files that compute what the trained method computes.

Checkpoints come from tiny in-process ``gan-style fit`` runs (the real path: their hyper-parameters hold the
networks' class_path configs, so :func:`load_method` rebuilds them). Every exported file is loaded and run
here again on inputs of another size than the traced one, and compared with the method's own inference.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
import torch

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, TINY_PIX2PIX_CLI_ARGS

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

from gan_style.commands import export as export_module  # noqa: E402
from gan_style.commands.export import (  # noqa: E402
    ExportCheckError,
    ExportError,
    MissingDependencyError,
    export,
    export_wrapper,
    exportable_networks,
)
from gan_style.errors import GanStyleError  # noqa: E402
from gan_style.inference import ImageToImageExport  # noqa: E402
from gan_style.methods import load_method  # noqa: E402

ATOL = 1e-4

pytestmark = [
    pytest.mark.filterwarnings(r"ignore:`torch\.jit\.\w+` is deprecated:FutureWarning"),  # loading the .pt files
    pytest.mark.filterwarnings("ignore:Found \\d+ module\\(s\\) in eval mode:UserWarning"),  # frozen VGG in the fits
]

FIT_ARGS = {
    "cyclegan": [
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
    ],
    "pix2pix": [
        "--config",
        str(REPO / "gan_style" / "recipes" / "pix2pix.yaml"),
        *TINY_PIX2PIX_CLI_ARGS,
        f"--data.init_args.root={REPO / 'examples' / 'data' / 'facades'}",
    ],
    "patchgan": [
        "--config",
        str(REPO / "gan_style" / "recipes" / "patchgan.yaml"),
        "--model.init_args.vgg_weights=null",
        "--model.init_args.generator.init_args.channels=8",
        "--model.init_args.generator.init_args.n_residual=1",
        "--model.init_args.discriminator.init_args.ndf=8",
        f"--data.init_args.content_dir={SAMPLE_ROOT / 'trainA'}",
        f"--data.init_args.style_dir={REPO / 'examples' / 'data' / 'style' / 'starry_night'}",
        "--data.init_args.load_size=40",
        "--data.init_args.crop_size=32",
        "--data.init_args.batch_size=2",
        "--data.init_args.num_workers=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
    ],
    "adain": [
        "--config",
        str(REPO / "gan_style" / "recipes" / "adain.yaml"),
        "--model.init_args.encoder_weights=null",  # random VGG: no download
        f"--data.init_args.content_dir={SAMPLE_ROOT / 'trainA'}",
        f"--data.init_args.style_dir={SAMPLE_ROOT / 'trainB'}",
        "--data.init_args.load_size=40",
        "--data.init_args.crop_size=32",
        "--data.init_args.batch_size=2",
        "--data.init_args.num_workers=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
    ],
}


def _fit(kind: str, root: Path) -> Path:
    """``gan-style fit`` in this process for two steps; returns ``<run>/checkpoints/last.ckpt``."""
    from gan_style.cli import main

    run = root / kind
    environ, rng, argv = dict(os.environ), torch.random.get_rng_state(), sys.argv
    sys.argv = [argv[0]]  # pytest's own arguments are not the CLI's
    try:  # the recipes' seed_everything sets PL_GLOBAL_SEED and the global RNG: keep other tests unaffected
        main(
            [
                "fit",
                *FIT_ARGS[kind],
                f"--trainer.default_root_dir={run}",
                "--trainer.max_steps=2",
                "--trainer.limit_val_batches=0",
            ]
        )
    finally:
        sys.argv = argv
        os.environ.clear()
        os.environ.update(environ)
        torch.random.set_rng_state(rng)
    ckpt = run / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    return ckpt


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory, tiny_cyclegan_checkpoint) -> dict[str, Path]:
    """The CycleGAN run is the session's ``tiny_cyclegan_checkpoint`` (the same 2-step fit of ``FIT_ARGS``'s
    arguments, shared with test_stylize); the other methods are fitted here."""
    root = tmp_path_factory.mktemp("export_runs")
    return {kind: tiny_cyclegan_checkpoint if kind == "cyclegan" else _fit(kind, root) for kind in FIT_ARGS}


def _images(*shape: int, seed: int = 1) -> torch.Tensor:
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def _run_exported(written: dict[str, Path], inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Outputs of the exported files, run the way a user would (torch.jit.load, onnxruntime on CPU)."""
    outputs = {}
    if "torchscript" in written:
        scripted = torch.jit.load(str(written["torchscript"]), map_location="cpu")
        with torch.no_grad():
            outputs["torchscript"] = scripted(*inputs.values())
    if "onnx" in written:
        session = ort.InferenceSession(str(written["onnx"]), providers=["CPUExecutionProvider"])
        assert [i.name for i in session.get_inputs()] == list(inputs)
        assert [o.name for o in session.get_outputs()] == ["output"]
        result = session.run(None, {k: v.numpy() for k, v in inputs.items()})[0]
        outputs["onnx"] = torch.from_numpy(result)
    return outputs


def _assert_matches(outputs: dict[str, torch.Tensor], expected: torch.Tensor) -> dict[str, float]:
    diffs = {}
    for fmt, got in outputs.items():
        assert got.shape == expected.shape, (fmt, got.shape, expected.shape)
        diffs[fmt] = float((got - expected).abs().max())
        assert diffs[fmt] <= ATOL, (fmt, diffs[fmt])
    return diffs


def _metadata(written: dict[str, Path]) -> dict:
    return json.loads(written["metadata"].read_text())


@pytest.mark.parametrize("network", ["generator_ab", "generator_ba"])
def test_cyclegan_both_directions(checkpoints, tmp_path, network, capsys):
    out = tmp_path / "exported"
    kwargs = {} if network == "generator_ab" else {"network": network}  # generator_ab is the default
    written = export(str(checkpoints["cyclegan"]), output_dir=str(out), height=32, width=40, **kwargs)

    stem = f"cyclegan_{network}"
    assert {k: p.name for k, p in written.items()} == {
        "torchscript": f"{stem}.pt",
        "onnx": f"{stem}.onnx",
        "metadata": f"{stem}.json",
    }
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written.values())  # no temp files left
    printed = capsys.readouterr().out
    assert str(written["onnx"]) in printed and "check passed" in printed

    model = load_method(checkpoints["cyclegan"])
    x = _images(3, 3, 44, 52)  # traced at 1 x 32 x 40: another batch, height and width (multiples of 4)
    with torch.no_grad():
        expected = getattr(model, network)(x)
    _assert_matches(_run_exported(written, {"image": x}), expected)

    meta = _metadata(written)
    assert meta["method"] == "CycleGAN" and meta["network"] == network
    assert meta["files"] == {"torchscript": f"{stem}.pt", "onnx": f"{stem}.onnx"}
    assert meta["inputs"] == [
        {"name": "image", "shape": ["batch", 3, "height", "width"], "dtype": "float32", "range": [-1.0, 1.0]}
    ]
    assert meta["outputs"] == [{"name": "output", "shape": ["batch", 3, "height", "width"], "range": [-1.0, 1.0]}]
    assert meta["value_range"] == [-1.0, 1.0] and meta["opset"] == 17 and meta["dynamic"] is True
    assert meta["size_multiple"] == 4 and meta["trace_shape"] == [1, 3, 32, 40]
    check = meta["check"]
    assert check["done"] and check["input_shape"] == [2, 3, 36, 48] and check["atol"] == 1e-4
    assert set(check["max_abs_diff"]) == {"torchscript", "onnx"}
    assert all(0 <= d <= 1e-4 for d in check["max_abs_diff"].values())


def test_pix2pix_unet_in_eval_mode(checkpoints, tmp_path):
    written = export(str(checkpoints["pix2pix"]), output_dir=str(tmp_path), height=32, width=64)
    model = load_method(checkpoints["pix2pix"])
    x = _images(2, 3, 64, 32)  # multiples of 2^5, other sides than traced
    with torch.no_grad():
        expected = model.generator.eval()(x)  # running batch-norm statistics, no dropout: deterministic
    _assert_matches(_run_exported(written, {"image": x}), expected)
    meta = _metadata(written)
    assert meta["network"] == "generator" and meta["size_multiple"] == 32 and meta["mode"] == "eval"
    assert any("eval_mode is false" in note for note in meta["notes"])  # the recipe's paper-style inference
    with pytest.raises(ExportError, match="divisible by 32"):
        export(str(checkpoints["pix2pix"]), output_dir=str(tmp_path / "bad"), height=48, width=64)


def test_patchgan_style_generator_any_size(checkpoints, tmp_path):
    written = export(str(checkpoints["patchgan"]), output_dir=str(tmp_path), height=32, width=32)
    model = load_method(checkpoints["patchgan"])
    x = _images(2, 3, 67, 45)  # odd sides: the resize-convolutions must follow the input's exact size
    with torch.no_grad():
        expected = model.generator(x)
    assert expected.shape == (2, 3, 67, 45)
    _assert_matches(_run_exported(written, {"image": x}), expected)
    assert _metadata(written)["check"]["input_shape"] == [2, 3, 33, 35]  # the export's own check: odd too


def test_adain_stylizer_with_content_style_alpha(checkpoints, tmp_path):
    written = export(str(checkpoints["adain"]), output_dir=str(tmp_path), height=32, width=48)
    assert written["onnx"].name == "adain_stylizer.onnx"
    model = load_method(checkpoints["adain"])
    content, style = _images(2, 3, 37, 29), _images(1, 3, 24, 40, seed=2)  # odd: the output is resized
    alpha = torch.tensor([1.0, 0.3])  # one value per image
    with torch.no_grad():
        expected = torch.cat(
            [
                model.stylizer()(content[i : i + 1], [style], alpha=float(a), preserve_color="none")
                for i, a in enumerate(alpha)
            ]
        )
    outputs = _run_exported(written, {"content": content, "style": style, "alpha": alpha})
    _assert_matches(outputs, expected)
    # a single alpha for the whole batch
    single = _run_exported(written, {"content": content, "style": style, "alpha": torch.tensor([0.3])})
    with torch.no_grad():
        expected_single = model.stylizer()(content, [style], alpha=0.3, preserve_color="none")
    _assert_matches(single, expected_single)

    meta = _metadata(written)
    assert [i["name"] for i in meta["inputs"]] == ["content", "style", "alpha"]
    assert meta["inputs"][1]["shape"] == ["style_batch", 3, "style_height", "style_width"]
    assert meta["inputs"][2] == {"name": "alpha", "shape": ["alpha_batch"], "dtype": "float32", "range": [0.0, 1.0]}
    assert meta["alpha_default"] == 1.0


def test_one_format_and_fixed_shape(checkpoints, tmp_path):
    written = export(
        str(checkpoints["patchgan"]), output_dir=str(tmp_path), formats=["onnx"], dynamic=False, height=24, width=20
    )
    assert set(written) == {"onnx", "metadata"} and not list(tmp_path.glob("*.pt"))
    meta = _metadata(written)
    assert meta["inputs"][0]["shape"] == [1, 3, 24, 20] and meta["check"]["input_shape"] == [1, 3, 24, 20]
    session = ort.InferenceSession(str(written["onnx"]), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [1, 3, 24, 20]


def test_cli_main(checkpoints, tmp_path, capsys):
    from gan_style.cli import main as gan_style_main

    out = tmp_path / "cli"
    gan_style_main(
        [
            "export",
            "--checkpoint",
            str(checkpoints["cyclegan"]),
            "--formats",
            "[torchscript]",
            "--network",
            "generator_ba",
            "--height",
            "32",
            "--width",
            "32",
            "--output_dir",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert str(out / "cyclegan_generator_ba.pt") in printed and "torchscript" in printed
    assert sorted(p.name for p in out.iterdir()) == ["cyclegan_generator_ba.json", "cyclegan_generator_ba.pt"]

    with pytest.raises(SystemExit) as exc:
        export_module.main(["--checkpoint", str(checkpoints["cyclegan"]), "--network", "generator"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "generator_ab, generator_ba" in err and "Traceback" not in err


def test_a_run_folder_given_as_checkpoint_names_the_file_to_give(checkpoints, tmp_path, capsys):
    run = checkpoints["cyclegan"].parent.parent  # <run>/checkpoints/last.ckpt
    with pytest.raises(SystemExit) as exc:
        export_module.main(["--checkpoint", str(run), "--output_dir", str(tmp_path / "x")])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"gan-style export: error: checkpoint '{run}' is a folder; give a checkpoint file such as "
        f"{run / 'checkpoints' / 'last.ckpt'}"
    )
    assert not (tmp_path / "x").exists()


def test_unknown_network_lists_the_choices(checkpoints, tmp_path):
    with pytest.raises(ExportError, match="choose one of: generator_ab, generator_ba") as exc:
        export(str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "x"), network="discriminator_a")
    assert isinstance(exc.value, ValueError) and isinstance(exc.value, GanStyleError)
    with pytest.raises(ExportError, match="unknown export format"):
        export(str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "x"), formats=["tflite"])
    assert not (tmp_path / "x").exists()
    model = load_method(checkpoints["adain"])
    assert exportable_networks(model) == ("stylizer",)
    with pytest.raises(ExportError, match="choose one of: stylizer"):
        export_wrapper(model, "decoder")


def test_gatys_has_nothing_to_export(tmp_path, monkeypatch):
    from gan_style.methods import Gatys

    gatys = Gatys(
        content=str(SAMPLE_ROOT / "testA" / "sailboat.jpg"),
        style=str(SAMPLE_ROOT / "testB" / "starry_night_crop.jpg"),
        image_size=16,
        vgg_weights=None,
    )
    assert exportable_networks(gatys) == ()
    monkeypatch.setattr("gan_style.loading.load_method", lambda *args, **kwargs: gatys)
    with pytest.raises(ExportError, match="Gatys has no trained network.*--method gatys"):
        export("gatys.ckpt", output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_failed_check_writes_nothing(checkpoints, tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    previous = out / "cyclegan_generator_ab.onnx"
    previous.write_bytes(b"an earlier export")
    original = ImageToImageExport.forward

    def drifting_forward(self, image):  # what the exporters trace differs from what eager PyTorch computes
        y = original(self, image)
        return y + 1e-2 if torch.jit.is_tracing() else y

    monkeypatch.setattr(ImageToImageExport, "forward", drifting_forward)
    with pytest.raises(ExportCheckError, match=r"torchscript: max abs diff 0\.01.*onnx: max abs diff 0\.01") as exc:
        export(str(checkpoints["cyclegan"]), output_dir=str(out), height=32, width=32)
    assert "nothing was written" in str(exc.value)
    assert sorted(p.name for p in out.iterdir()) == ["cyclegan_generator_ab.onnx"]  # no temp file, no sidecar
    assert previous.read_bytes() == b"an earlier export"


def test_missing_onnxruntime_says_what_to_install(checkpoints, tmp_path, monkeypatch):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "onnxruntime" else find_spec(name, *a)
    )
    with pytest.raises(MissingDependencyError, match="pip install onnxruntime") as exc:
        export(str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "out"), formats=["onnx"])
    assert isinstance(exc.value, ImportError)
    assert not (tmp_path / "out").exists()
    # TorchScript alone, or ONNX without the check, needs no onnxruntime
    written = export(
        str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "ts"), formats=["torchscript"], height=32, width=32
    )
    assert written["torchscript"].is_file()
    written = export(
        str(checkpoints["cyclegan"]),
        output_dir=str(tmp_path / "nocheck"),
        formats=["onnx"],
        check=False,
        height=32,
        width=32,
    )
    meta = _metadata(written)
    assert meta["check"]["done"] is False and meta["check"]["max_abs_diff"] == {"onnx": None}


def test_dynamo_exporter(checkpoints, tmp_path):
    """The torch.export-based ONNX exporter (``dynamo: true``), where ``onnxscript`` is installed."""
    pytest.importorskip("onnxscript")
    written = export(
        str(checkpoints["patchgan"]),
        output_dir=str(tmp_path),
        formats=["onnx"],
        dynamo=True,
        opset=18,
        height=32,
        width=32,
    )
    model = load_method(checkpoints["patchgan"])
    x = _images(2, 3, 45, 67)
    with torch.no_grad():
        expected = model.generator(x)
    _assert_matches(_run_exported(written, {"image": x}), expected)
    assert _metadata(written)["onnx_exporter"] == "dynamo"


def test_default_export_without_onnx_writes_torchscript_and_says_onnx_was_skipped(
    checkpoints, tmp_path, monkeypatch, capsys
):
    """On a base install (no onnx), the default export still writes and checks TorchScript, and names what it
    skipped and what to install; asking for ONNX by name stays an error."""
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnx" else find_spec(name, *a))
    written = export(str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "out"), height=32, width=32)
    assert written["torchscript"].is_file() and "onnx" not in written
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "cyclegan_generator_ab.json",
        "cyclegan_generator_ab.pt",
    ]
    out = capsys.readouterr().out
    assert "export: ONNX skipped: onnx not installed (pip install onnx" in out
    with pytest.raises(MissingDependencyError, match="pip install onnx"):
        export(str(checkpoints["cyclegan"]), output_dir=str(tmp_path / "x"), formats=["onnx"])


def test_a_second_export_into_the_same_folder_keeps_the_first_ones_record(tiny_cyclegan_checkpoint, tmp_path, capsys):
    """``--formats [torchscript]`` then ``--formats [onnx]`` of the same network into one folder: the JSON record
    describes both files (each with its own check), instead of the second replacing the first one's record."""
    out, stem = tmp_path / "out", "cyclegan_generator_ab"
    checkpoint = str(tiny_cyclegan_checkpoint)
    export(checkpoint, output_dir=str(out), formats=["torchscript"], height=32, width=32)
    written = export(checkpoint, output_dir=str(out), formats=["onnx"], height=32, width=32, opset=17)
    assert f"{stem}.json keeps the record of the earlier torchscript export" in capsys.readouterr().out
    meta = _metadata(written)
    assert sorted(p.name for p in out.iterdir()) == [f"{stem}.json", f"{stem}.onnx", f"{stem}.pt"]
    assert meta["files"] == {"torchscript": f"{stem}.pt", "onnx": f"{stem}.onnx"}
    assert set(meta["check"]["max_abs_diff"]) == {"torchscript", "onnx"}
    assert all(0 <= d <= ATOL for d in meta["check"]["max_abs_diff"].values())
    assert meta["opset"] == 17 and meta["formats"]["torchscript"]["checkpoint"] == checkpoint
    assert meta["formats"]["onnx"]["opset"] == 17 and "opset" not in meta["formats"]["torchscript"]
    # a third export of one format replaces that format's record only; a removed file's record goes
    (out / f"{stem}.onnx").unlink()
    meta = _metadata(export(checkpoint, output_dir=str(out), formats=["torchscript"], height=32, width=40))
    assert meta["files"] == {"torchscript": f"{stem}.pt"} and meta["opset"] is None
    assert meta["formats"]["torchscript"]["trace_shape"] == [1, 3, 32, 40]
