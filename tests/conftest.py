"""Shared fixtures: tiny image folders, tiny networks, the bundled sample set."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "examples" / "data" / "photo2painting"

# Keep CPU tests predictable on small machines.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


def write_image(path: Path, size=(40, 36), mode="RGB", seed=0) -> Path:
    """Write a random image of ``size`` (w, h) and ``mode`` to ``path``."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr, "RGB").convert(mode).save(path)
    return path


@pytest.fixture
def tiny_unpaired(tmp_path: Path) -> Path:
    """root/{trainA: 3, trainB: 2, testA: 2, testB: 1} small random PNG images."""
    root = tmp_path / "data"
    counts = {"trainA": 3, "trainB": 2, "testA": 2, "testB": 1}
    for i, (folder, n) in enumerate(counts.items()):
        for j in range(n):
            write_image(root / folder / f"{folder}_{j}.png", seed=10 * i + j)
    return root


@pytest.fixture
def sample_root() -> Path:
    return SAMPLE_ROOT


@pytest.fixture
def make_trainer(tmp_path: Path):
    """A factory for quiet single-process CPU Lightning trainers: ``make_trainer(**overrides) -> L.Trainer``.

    Defaults: ``accelerator="cpu"``, ``devices=1``, no logger, no checkpointing, no progress bar, no model
    summary, and ``default_root_dir=tmp_path`` (the test's own temporary folder, so nothing is written to
    the working directory). Every keyword given overrides the default of the same name and any other keyword
    goes to ``L.Trainer`` as it is; the run's length (``max_steps``/``max_epochs``), validation limits and
    callbacks are for each test to choose. Pass ``enable_checkpointing=True`` together with a
    ``ModelCheckpoint`` callback (Lightning refuses one while checkpointing is off)."""
    import lightning as L

    def make(**overrides) -> L.Trainer:
        options = dict(
            accelerator="cpu",
            devices=1,
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            default_root_dir=tmp_path,
        )
        options.update(overrides)
        return L.Trainer(**options)

    return make


def tiny_cyclegan_kwargs() -> dict:
    """CycleGAN keyword arguments with networks small enough for CPU tests."""
    from gan_style.nets import NLayerDiscriminator, ResnetGenerator

    return dict(
        generator_ab=ResnetGenerator(ngf=8, n_blocks=1),
        generator_ba=ResnetGenerator(ngf=8, n_blocks=1),
        discriminator_a=NLayerDiscriminator(ndf=8, n_layers=1),
        discriminator_b=NLayerDiscriminator(ndf=8, n_layers=1),
    )


# CLI overrides that shrink the recipe's networks and images for subprocess tests.
TINY_CLI_ARGS = [
    "--model.init_args.generator_ab.init_args.ngf=8",
    "--model.init_args.generator_ab.init_args.n_blocks=1",
    "--model.init_args.generator_ba.init_args.ngf=8",
    "--model.init_args.generator_ba.init_args.n_blocks=1",
    "--model.init_args.discriminator_a.init_args.ndf=8",
    "--model.init_args.discriminator_a.init_args.n_layers=1",
    "--model.init_args.discriminator_b.init_args.ndf=8",
    "--model.init_args.discriminator_b.init_args.n_layers=1",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


FACADES_ROOT = REPO / "examples" / "data" / "facades"


@pytest.fixture
def facades_root() -> Path:
    return FACADES_ROOT


def tiny_pix2pix_kwargs() -> dict:
    """Pix2Pix keyword arguments with networks small enough for CPU tests (32x32 inputs)."""
    from gan_style.nets import NLayerDiscriminator, UnetGenerator

    return dict(
        generator=UnetGenerator(num_downs=5, ngf=8),
        discriminator=NLayerDiscriminator(input_nc=6, ndf=8, n_layers=1, norm="batch"),
    )


TINY_PIX2PIX_CLI_ARGS = [
    "--model.init_args.generator.init_args.num_downs=5",
    "--model.init_args.generator.init_args.ngf=8",
    "--model.init_args.discriminator.init_args.ndf=8",
    "--model.init_args.discriminator.init_args.n_layers=1",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]
