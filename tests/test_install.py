"""The first hour from a real install: the package built and installed into a fresh virtual environment in a
folder outside the repository, then used from there as a newcomer would (recipes by name, a short fit on the
installed sample data, predict from the checkpoint alone, the Python API, the help, a misspelt command)."""

import importlib.util
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from conftest import REPO

#: shrinks the demo recipe's networks and run for the test (the recipes themselves are used as installed)
TINY = [
    "--model.init_args.generator_ab.init_args.ngf=8",  # the demo recipe's U-Net, narrower
    "--model.init_args.generator_ba.init_args.ngf=8",
    "--model.init_args.discriminator_a.init_args.ndf=8",
    "--model.init_args.discriminator_b.init_args.ndf=8",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.max_steps=4",
]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh virtual environment with gan-style built from this checkout and installed as a wheel (not
    editable), its dependencies taken from the test's own environment (no download)."""
    env_dir = tmp_path_factory.mktemp("fresh") / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # dependencies (torch, Lightning ...) from this environment, after the fresh environment's own packages
    Path(site, "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    wheels = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
    )
    wheel = next(wheels.glob("gan_style-*.whl"))
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)],
        check=True,
        capture_output=True,
    )
    return env_dir


def _run(env_dir: Path, *args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{env_dir / 'bin'}:{env['PATH']}", WANDB_MODE="offline", OMP_NUM_THREADS="2")
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def test_first_hour_from_a_fresh_install(installed, tmp_path):
    work = tmp_path / "newcomer"  # an empty folder outside the repository
    work.mkdir()
    gan_style = str(installed / "bin" / "gan-style")
    python = str(installed / "bin" / "python")

    where = _run(installed, python, "-c", "import gan_style; print(gan_style.__file__)", cwd=work).stdout
    assert str(installed) in where and str(REPO) not in where  # the installed copy, not the checkout

    recipes = _run(installed, gan_style, "recipes", cwd=work).stdout
    assert "cyclegan" in recipes and "demo/cpu" in recipes

    overview = _run(installed, gan_style, "--help", cwd=work).stdout
    for command in ("fit", "predict", "stylize", "demo", "pretrained", "export", "download", "evaluate", "compare"):
        assert f"\n  {command} " in overview, command

    misspelt = _run(installed, gan_style, "stylise", cwd=work, check=False)
    assert misspelt.returncode == 2 and "did you mean 'stylize'?" in misspelt.stderr

    # the recipes by name, on the sample data installed with the package (examples/data does not exist here)
    fit = _run(installed, gan_style, "fit", "--config", "cyclegan", "--config", "demo/cpu", *TINY, cwd=work)
    assert "Traceback" not in fit.stderr
    checkpoint = work / "runs" / "cyclegan" / "checkpoints" / "last.ckpt"
    assert checkpoint.is_file()
    samples = sorted(p.name for p in (work / "runs" / "cyclegan" / "samples").iterdir())
    assert samples and all(name.startswith(("train_step", "val_")) for name in samples)

    # predict from the checkpoint alone: the installed test photos, at their aspect ratio
    _run(installed, gan_style, "predict", "--ckpt_path", str(checkpoint), cwd=work)
    predictions = work / "runs" / "cyclegan" / "predictions"
    assert sorted(p.name for p in predictions.iterdir()) == ["newyork.png", "sailboat.png"]

    # the Python API in three lines, on a PIL image of an odd size
    api = _run(
        installed,
        python,
        "-c",
        "import gan_style; from PIL import Image\n"
        f"model = gan_style.load({str(checkpoint)!r})\n"
        "out = model(Image.new('RGB', (45, 29), 'gray')); print(type(out).__name__, out.size)",
        cwd=work,
    )
    assert api.stdout.strip().splitlines()[-1] == "Image (45, 29)"

    # the demo page's example photos: the sample images installed with the package (a wheel has no examples/data)
    if importlib.util.find_spec("gradio") is not None:
        examples = _run(
            installed,
            python,
            "-c",
            "from gan_style.demo.app import bundled_examples\n"
            "content, styles = bundled_examples(); print(len(content), len(styles), content[0])",
            cwd=work,
        ).stdout.split()
        assert int(examples[0]) > 0 and int(examples[1]) > 0 and str(installed) in examples[2]
