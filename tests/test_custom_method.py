"""A method written outside gan_style (the tutorial's ``examples/custom_method.py``) is a full citizen: fit,
stylize (whole and tiled), export and compare through the command line, made known with ``--import``; without
it, commands that read its checkpoint refuse it with a message saying how to make it known."""

from __future__ import annotations

import json
import os

import pytest
import torch
from PIL import Image
from test_cli import gan_style

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process

EXAMPLES = REPO / "examples"


def _run(*args, cwd, check=True):
    env = {"PYTHONPATH": os.pathsep.join([str(EXAMPLES), os.environ.get("PYTHONPATH", "")])}
    return gan_style_in_process(*args, cwd=cwd, env_extra=env, check=check)


@pytest.fixture(scope="module")
def custom_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("custom")
    run = tmp / "run"
    args = [
        "--config",
        str(EXAMPLES / "custom_method.yaml"),
        "--model.init_args.generator.init_args.ngf=8",
        "--model.init_args.generator.init_args.n_blocks=1",
        f"--data.init_args.root={SAMPLE_ROOT}",
        "--data.init_args.load_size=36",
        "--data.init_args.crop_size=32",
        "--data.init_args.num_workers=0",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={run}",
    ]
    _run("fit", *args, "--trainer.max_steps=4", "--trainer.limit_val_batches=1", cwd=tmp)
    _run("predict", *args, "--ckpt_path=last", cwd=tmp)
    return tmp, run


def test_the_example_method_fits_and_predicts_like_a_built_in_one(custom_run):
    tmp, run = custom_run
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 4 and ckpt["hyper_parameters"]["_class_path"] == "custom_method.SelfRegularizedGAN"
    assert any((run / "samples").glob("train_step*.png"))
    assert sorted(p.name for p in (run / "predictions").iterdir()) == ["newyork.png", "sailboat.png"]


def test_the_example_method_goes_through_fit_stylize_export_compare(custom_run):
    tmp, run = custom_run
    ckpt = run / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert saved["gan_style_class"] == "custom_method.SelfRegularizedGAN"

    content = SAMPLE_ROOT / "testA" / "sailboat.jpg"
    whole, tiled = tmp / "whole", tmp / "tiled"
    _run("stylize", "--import", "custom_method", "--checkpoint", str(ckpt), "--content", str(content),
         "--size", "50", "--output_dir", str(whole), cwd=tmp)  # fmt: skip
    with Image.open(whole / "sailboat.png") as img:
        assert img.size == (50, 50)  # the requested size: the network ran at 48 x 48, sized back
    _run("stylize", "--import=custom_method", "--checkpoint", str(ckpt), "--content", str(content),
         "--size", "70", "--tile", "32", "--tile_overlap", "8", "--output_dir", str(tiled), cwd=tmp)  # fmt: skip
    with Image.open(tiled / "sailboat.png") as img:
        assert img.size == (70, 70)  # tiles keep the exact size

    exported = tmp / "exported"
    _run("export", "--import", "custom_method", "--checkpoint", str(ckpt), "--output_dir", str(exported),
         "--height", "32", "--width", "32", cwd=tmp)  # fmt: skip
    meta = json.loads((exported / "selfregularizedgan_generator.json").read_text())
    assert meta["class_path"] == "custom_method.SelfRegularizedGAN" and meta["size_multiple"] == 4
    assert max(meta["check"]["max_abs_diff"].values()) <= 1e-4
    ts = torch.jit.load(str(exported / "selfregularizedgan_generator.pt"))
    assert ts(torch.zeros(1, 3, 36, 44)).shape == (1, 3, 36, 44)

    report = tmp / "report.md"
    _run("compare", "--import", "custom_method", str(run), "--output", str(report),
         "--inputs", str(content), "--size", "32", cwd=tmp)  # fmt: skip
    assert "SelfRegularizedGAN" in report.read_text() and report.with_suffix(".png").is_file()


def test_without_import_its_checkpoint_is_refused_with_the_way_to_make_it_known(custom_run):
    tmp, run = custom_run
    ckpt = run / "checkpoints" / "last.ckpt"
    proc = gan_style("stylize", "--checkpoint", str(ckpt), "--content", str(SAMPLE_ROOT / "testA"),
                     "--output_dir", str(tmp / "x"), cwd=tmp, check=False)  # fmt: skip
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "custom_method.SelfRegularizedGAN" in lines[0] and "--import" in lines[0]
    assert not (tmp / "x").exists()
    proc = gan_style("stylize", "--import", "no_such_module_anywhere", "--checkpoint", str(ckpt),
                     "--content", str(SAMPLE_ROOT / "testA"), cwd=tmp, check=False)  # fmt: skip
    assert proc.returncode == 2 and "--import no_such_module_anywhere" in proc.stderr


# --- the tutorial's worked example: DCGAN in one file (examples/dcgan_example.py) ----------------------------------


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_the_dcgan_example_goes_through_fit_sample_export_compare(tmp_path, monkeypatch):
    """The DCGAN of docs/adding_a_method.md, written outside gan_style, trained on the digits through the command line
    with its own recipe (4 steps, narrow networks), then drawn from, exported and compared like the built-in one."""
    source = (EXAMPLES / "dcgan_example.py").read_text().splitlines()
    assert len(source) <= 200  # the tutorial calls it a short file: keep it one
    run = tmp_path / "dcgan_example"
    _run("fit", "--config", str(EXAMPLES / "dcgan_example.yaml"),
         "--model.init_args.generator.init_args.ngf=8", "--model.init_args.discriminator.init_args.ndf=8",
         "--data.init_args.batch_size=16", "--trainer.max_steps=4", "--trainer.limit_val_batches=1",
         "--trainer.enable_progress_bar=false", f"--trainer.default_root_dir={run}", cwd=tmp_path)  # fmt: skip
    ckpt = run / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert saved["global_step"] == 4 and saved["gan_style_class"] == "dcgan_example.TinyDCGAN"
    assert any((run / "samples").glob("train_step*.png"))

    out = tmp_path / "samples"
    proc = _run("sample", "--import", "dcgan_example", "--checkpoint", str(ckpt), "--num_samples", "8",
                "--output_dir", str(out), cwd=tmp_path)  # fmt: skip
    assert "wrote 8 sample(s) of 32x32" in proc.stdout
    assert sorted(p.name for p in out.glob("sample_*.png")) == [f"sample_{i:04d}.png" for i in range(8)]
    for name in ("sample_0000.png", "sample_0007.png"):
        with Image.open(out / name) as img:
            assert img.size == (32, 32) and img.mode == "L"  # the digits' one channel, at the generator's size
    assert (out / "grid.png").is_file() and (out / "interpolation.png").is_file()

    exported = tmp_path / "exported"
    _run("export", "--import", "dcgan_example", "--checkpoint", str(ckpt), "--output_dir", str(exported),
         "--formats", "[torchscript]", cwd=tmp_path)  # fmt: skip
    meta = json.loads((exported / "tinydcgan_generator.json").read_text())
    assert meta["network"] == "generator" and meta["inputs"][0]["name"] == "latent"
    from gan_style.loading import load_method
    from gan_style.methods.dcgan import UnconditionalGenerator

    monkeypatch.syspath_prepend(str(EXAMPLES))
    model = load_method(ckpt, "cpu", imports=["dcgan_example"])
    assert isinstance(model, UnconditionalGenerator) and model.latent_size == 100
    z = torch.randn(2, model.latent_size, generator=torch.Generator().manual_seed(0))
    model.train()
    expected = model.generate(z)
    assert model.generator.training and not expected.requires_grad  # generate: eval mode inside, the mode restored
    scripted = torch.jit.load(str(exported / "tinydcgan_generator.pt"))
    got = scripted(z)
    assert got.shape == (2, 1, 32, 32) and torch.allclose(got, expected, atol=1e-5)

    report = tmp_path / "comparison.md"
    _run("compare", "--import", "dcgan_example", str(run), "--output", str(report), cwd=tmp_path)
    rows = [line for line in report.read_text().splitlines() if line.startswith("| dcgan_example |")]
    assert len(rows) == 1 and "| TinyDCGAN |" in rows[0]  # the run, named by its method's class
