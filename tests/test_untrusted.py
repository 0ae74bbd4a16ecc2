"""Untrusted files: checkpoints and weights that would run code are refused before the code runs."""

from __future__ import annotations

import os

import pytest
import torch
from test_cli import gan_style

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS
from gan_style.errors import UnreadableFileError, UnsafeFileError
from gan_style.io.untrusted import safe_load
from gan_style.methods import load_method
from gan_style.nets import ResnetGenerator, VGGFeatures, load_reference_state_dict, read_weights_file
from gan_style.plugins.checkpoint_io import AtomicCheckpointIO


class _RunsCode:
    """Unpickling this object calls ``os.mkdir(marker)``: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.fixture
def evil(tmp_path):
    """A file saved with torch.save whose unpickling would create the folder ``marker``."""
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _RunsCode(str(marker))}, path)
    return path, marker


def test_unpickling_the_fixture_really_runs_code(evil):
    path, marker = evil
    torch.load(path, weights_only=False)  # what an unsafe loader would do
    assert marker.is_dir()


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(lambda p: safe_load(p), id="safe_load"),
        pytest.param(read_weights_file, id="read_weights_file"),
        pytest.param(lambda p: load_reference_state_dict(ResnetGenerator(ngf=8, n_blocks=1), p), id="reference"),
        pytest.param(lambda p: VGGFeatures(["relu1_1"], weights=str(p)), id="vgg_weights"),
        pytest.param(load_method, id="stylize_checkpoint"),
        pytest.param(lambda p: AtomicCheckpointIO().load_checkpoint(p), id="lightning_checkpoint_io"),
    ],
)
def test_a_pickle_that_would_run_code_is_refused(evil, load):
    path, marker = evil
    with pytest.raises(UnsafeFileError, match="refused to load") as err:
        load(path)
    assert str(path) in str(err.value) and "mkdir" in str(err.value)
    assert not marker.exists()


def test_resuming_from_a_malicious_checkpoint_is_a_clear_error(evil, tmp_path):
    path, marker = evil
    proc = gan_style(
        "fit",
        "--config",
        str(REPO / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={tmp_path / 'run'}",
        "--trainer.max_steps=2",
        f"--ckpt_path={path}",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert f"gan-style: error: refused to load checkpoint '{path}'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_truncated_and_empty_files_are_named(tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"w": torch.arange(1000.0)}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:300])
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="truncated.pth.*truncated, corrupt or not a PyTorch file"):
        read_weights_file(truncated)
    with pytest.raises(UnreadableFileError, match="empty.pth' is empty"):
        safe_load(empty)
    with pytest.raises(FileNotFoundError, match="missing.pth' does not exist"):
        safe_load(tmp_path / "missing.pth")
    assert torch.equal(read_weights_file(good)["w"], torch.arange(1000.0))


def test_stylize_refuses_a_class_outside_gan_style(tmp_path):
    path = tmp_path / "foreign.ckpt"
    torch.save({"gan_style_class": "antigravity.Fly", "state_dict": {}}, path)
    with pytest.raises(UnsafeFileError, match="outside gan_style"):
        load_method(path)
    torch.save({"gan_style_class": "gan_style.nets.ResnetGenerator", "state_dict": {}}, path)
    with pytest.raises(ValueError, match="not a LightningModule"):
        load_method(path)
