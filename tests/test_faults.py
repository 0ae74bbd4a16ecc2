"""Faults: SIGKILL and SIGTERM mid-epoch, atomic checkpoints, non-finite losses, determinism."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process, tiny_cyclegan_kwargs
from gan_style.data import UnpairedImageDataModule
from gan_style.errors import CheckpointWriteError, NonFiniteLossError
from gan_style.io.atomic import atomic_torch_save
from gan_style.methods import CycleGAN
from gan_style.plugins.checkpoint_io import AtomicCheckpointIO

MAX_STEPS = 48  # 8 A x 18 B sample images: 18 batches = 36 optimizer steps an epoch, so 1.33 epochs

CHECKPOINTS_YAML = """\
trainer:
  callbacks:
    - class_path: lightning.pytorch.callbacks.ModelCheckpoint
      init_args: {every_n_train_steps: 4, save_top_k: 1, save_last: true, save_on_exception: true}
"""


def _fit_args(tmp_path: Path, run_dir: Path) -> list[str]:
    ck = tmp_path / "checkpoints.yaml"
    ck.write_text(CHECKPOINTS_YAML)
    return [
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        "--config",
        str(ck),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run_dir}",
        f"--trainer.max_steps={MAX_STEPS}",
        "--trainer.logger=false",
        "--trainer.limit_val_batches=1",
    ]


def _load(path: Path) -> dict:
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("uninterrupted")
    gan_style_in_process(*_fit_args(tmp, tmp / "run"), cwd=tmp)
    return _load(tmp / "run" / "checkpoints" / "last.ckpt")


def _start_and_signal(tmp_path: Path, run_dir: Path, sig: int) -> tuple[subprocess.Popen, int]:
    """Start a fit, wait for its first step checkpoint, then send ``sig``; return the process and the step
    of the newest checkpoint at that moment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gan_style", *_fit_args(tmp_path, run_dir)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    last = run_dir / "checkpoints" / "last.ckpt"
    deadline = time.monotonic() + 300
    while not last.exists():
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "no checkpoint appeared"
        time.sleep(0.02)
    time.sleep(0.3)  # a few more batches: the signal lands between checkpoints, in the middle of epoch 0
    os.kill(proc.pid, sig)
    return proc, _load(last)["global_step"]


def _assert_same_weights(a: dict, b: dict) -> None:
    assert a["global_step"] == b["global_step"] == MAX_STEPS
    assert a["state_dict"].keys() == b["state_dict"].keys()
    for key in a["state_dict"]:
        assert torch.equal(a["state_dict"][key], b["state_dict"][key]), key


def test_sigkill_mid_epoch_then_resume_ends_like_an_uninterrupted_run(tmp_path, uninterrupted):
    run = tmp_path / "run"
    proc, _ = _start_and_signal(tmp_path, run, signal.SIGKILL)
    proc.communicate(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    killed_at = _load(run / "checkpoints" / "last.ckpt")["global_step"]
    assert 0 < killed_at < 36, "the kill should land inside the first epoch"
    for ckpt in (run / "checkpoints").glob("*.ckpt"):
        _load(ckpt)  # every visible checkpoint is complete

    gan_style_in_process(*_fit_args(tmp_path, run), "--ckpt_path=last", cwd=tmp_path)  # the resume: no signal
    _assert_same_weights(_load(run / "checkpoints" / "last.ckpt"), uninterrupted)


@pytest.mark.parametrize(
    "sig, status, name",
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C (SIGINT)")],
    ids=["sigterm", "sigint"],
)
def test_sigterm_and_ctrl_c_save_a_whole_batch_exit_and_resume(tmp_path, uninterrupted, sig, status, name):
    run = tmp_path / "run"
    proc, step_before = _start_and_signal(tmp_path, run, sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == status, stderr[-3000:]
    assert f"stopped by {name} at optimizer step" in stderr and "--ckpt_path last" in stderr
    assert "Traceback" not in stderr
    saved = _load(run / "checkpoints" / "last.ckpt")
    assert step_before <= saved["global_step"] < MAX_STEPS  # saved at the batch where the signal arrived
    assert saved["global_step"] % 2 == 0  # a whole batch: the generator and the discriminator update
    assert f"optimizer step {saved['global_step']} " in stderr

    gan_style_in_process(*_fit_args(tmp_path, run), "--ckpt_path=last", cwd=tmp_path)  # the resume: no signal
    _assert_same_weights(_load(run / "checkpoints" / "last.ckpt"), uninterrupted)


# --- atomic checkpoints --------------------------------------------------------------------------------


def test_a_kill_during_saving_never_leaves_a_partial_checkpoint(tmp_path):
    """A child saves 16 MB checkpoints to one path in a loop and is killed at an arbitrary moment; the file
    at the path is always one complete checkpoint. The next save removes the killed writer's temp file."""
    target = tmp_path / "last.ckpt"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import torch
                from gan_style.io.atomic import atomic_torch_save
                i = 0
                while True:
                    atomic_torch_save({{"i": i, "w": torch.full((4_000_000,), float(i))}}, {str(target)!r})
                    i += 1
                """
            ),
        ],
        cwd=REPO,
    )
    deadline = time.monotonic() + 120
    while not target.exists():
        assert child.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.7)
    child.kill()
    child.wait(timeout=30)
    ckpt = _load(target)
    assert ckpt["i"] >= 0 and torch.equal(ckpt["w"], torch.full((4_000_000,), float(ckpt["i"])))
    atomic_torch_save({"i": -1}, target)
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_a_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    target = tmp_path / "last.ckpt"
    io = AtomicCheckpointIO()
    io.save_checkpoint({"step": 1}, target)

    def broken_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(CheckpointWriteError, match=r"No space left on device; the previous .*last.ckpt' is kept"):
        io.save_checkpoint({"step": 2}, target)
    monkeypatch.undo()
    assert io.load_checkpoint(target) == {"step": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_a_full_disk_during_fit_stops_with_one_line_and_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    """The disk fills up after the first checkpoint: the run stops with status 1 and one line naming the file,
    does not retry on the way out, and the newest complete checkpoint stays readable; no partial file is left."""
    real_save, calls = torch.save, []

    def filling_disk(obj, f, *args, **kwargs):
        calls.append(1)
        if len(calls) > 2:  # after step 4's two files (epoch=0-step=4.ckpt and last.ckpt)
            f.write(b"PK\x03\x04 partial")
            raise OSError(28, "No space left on device")
        real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, "save", filling_disk)
    run = tmp_path / "run"
    result = gan_style_in_process(*_fit_args(tmp_path, run), cwd=tmp_path, check=False)
    monkeypatch.undo()
    assert result.returncode == 1, result.stderr[-3000:]
    last = run / "checkpoints" / "last.ckpt"
    step8 = run / "checkpoints" / "epoch=0-step=8.ckpt"
    assert [line for line in result.stderr.splitlines() if "error:" in line] == [
        f"gan-style: error: could not write checkpoint '{step8}': No space left on device; nothing was written "
        "under its name. Free space (or choose another --trainer.default_root_dir) and resume with --ckpt_path last"
    ]
    assert "Traceback" not in result.stderr
    assert len(calls) == 3  # step 4's files written, step 8's refused, no retry on the way out
    assert _load(last)["global_step"] == 4
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["epoch=0-step=4.ckpt", "last.ckpt"]


def test_an_unwritable_run_folder_is_refused_with_one_line(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = gan_style_in_process(*_fit_args(tmp_path, blocker / "run"), cwd=tmp_path, check=False)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"gan-style: error: run folder '{blocker / 'run'}' cannot be written: Not a directory; choose a writable "
        "folder with --trainer.default_root_dir"
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file permissions do not bind root")
def test_a_read_only_run_folder_is_refused_with_one_line(tmp_path):
    parent = tmp_path / "read_only"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        result = gan_style_in_process(*_fit_args(tmp_path, parent / "run"), cwd=tmp_path, check=False)
    finally:
        parent.chmod(0o755)
    assert result.returncode == 2
    assert "cannot be written: Permission denied" in result.stderr.strip().splitlines()[-1]


# --- non-finite losses ---------------------------------------------------------------------------------


class NaNCycle(CycleGAN):
    """CycleGAN whose cycle loss of domain A is NaN in the batches ``nan_batch`` .. ``nan_batch + times - 1``;
    ``snapshots[b]`` holds generator_ab's weights at the start of batch ``b``."""

    def __init__(self, nan_batch: int, times: int = 1000, **kwargs):
        super().__init__(**tiny_cyclegan_kwargs(), **kwargs)
        self.nan_batch, self.times = nan_batch, times
        self.snapshots: dict[int, dict[str, torch.Tensor]] = {}
        self.batches = -1

    def generator_loss(self, real_a, real_b, out):
        loss, logs = super().generator_loss(real_a, real_b, out)
        if self.training and self.nan_batch <= self.batches < self.nan_batch + self.times:
            loss = loss + torch.tensor(float("nan"))
            logs["loss_cycle_a"] = torch.tensor(float("nan"))
        return loss, logs

    def on_train_batch_start(self, batch, batch_idx):
        self.batches += 1
        self.snapshots[self.batches] = {k: v.clone() for k, v in self.generator_ab.state_dict().items()}


def _trainer(make_trainer, max_steps):
    return make_trainer(max_steps=max_steps, limit_val_batches=0, num_sanity_val_steps=0)


def _tiny_data():
    return UnpairedImageDataModule(root=str(SAMPLE_ROOT), load_size=36, crop_size=32, num_workers=0)


def test_a_nan_loss_stops_naming_the_step_and_the_term(make_trainer):
    L.seed_everything(0, verbose=False)
    model = NaNCycle(nan_batch=2)
    with pytest.raises(NonFiniteLossError) as err:
        _trainer(make_trainer, 20).fit(model, _tiny_data())
    message = str(err.value)
    assert "optimizer step 4 " in message and "batch 2" in message
    assert "loss_cycle_a = nan" in message and "on_nonfinite_loss: skip" in message
    for param in model.parameters():
        assert torch.isfinite(param).all()
    # the generators were not updated by the failing step
    for key, value in model.generator_ab.state_dict().items():
        assert torch.equal(value, model.snapshots[2][key]), key


def test_skip_policy_leaves_the_weights_unchanged_and_continues(make_trainer):
    L.seed_everything(0, verbose=False)
    model = NaNCycle(nan_batch=2, times=1, on_nonfinite_loss="skip")
    with pytest.warns(RuntimeWarning, match=r"optimizer step 4 .*loss_cycle_a = nan.*skipped"):
        trainer = _trainer(make_trainer, 12)
        trainer.fit(model, _tiny_data())
    assert model.skipped_steps == 1
    # batch 2: the generators' update skipped (weights equal before and after), the discriminators' applied
    for key, value in model.snapshots[2].items():
        assert torch.equal(value, model.snapshots[3][key]), key
    assert any(not torch.equal(v, model.snapshots[4][k]) for k, v in model.snapshots[3].items())
    # every batch made two updates except the skipped one (max_steps is checked between batches)
    assert trainer.global_step == 2 * (model.batches + 1) - 1 >= 12
    assert all(torch.isfinite(p).all() for p in model.parameters())


class NaNDiscriminator(CycleGAN):
    """CycleGAN whose discriminator loss is NaN from batch ``nan_batch`` on (the generator update of that batch,
    made first, is applied)."""

    def __init__(self, nan_batch: int):
        super().__init__(**tiny_cyclegan_kwargs())
        self.nan_batch = nan_batch

    def discriminator_loss(self, *args, **kwargs):
        loss, logs = super().discriminator_loss(*args, **kwargs)
        if self.training and self.trainer.fit_loop.epoch_loop.batch_progress.total.ready > self.nan_batch:
            loss = loss + torch.tensor(float("nan"))
        return loss, logs


@pytest.mark.parametrize("model_class", [NaNCycle, NaNDiscriminator], ids=["generator_step", "discriminator_step"])
def test_a_nan_stop_never_saves_half_a_batch(make_trainer, tmp_path, model_class):
    """A stop at the generator update (the batch's first) is saved on exception: a whole batch. A stop at the
    discriminator update, after the generator's was applied, is not: the newest checkpoint is the previous
    step checkpoint, and the message names it."""
    L.seed_everything(0, verbose=False)
    saver = ModelCheckpoint(
        dirpath=tmp_path / "ck", every_n_train_steps=4, save_top_k=-1, save_last=True, save_on_exception=True
    )
    trainer = make_trainer(
        max_steps=40, limit_val_batches=0, num_sanity_val_steps=0, callbacks=[saver], enable_checkpointing=True
    )
    with pytest.raises(NonFiniteLossError) as err:
        trainer.fit(model_class(nan_batch=5), _tiny_data())
    steps = {path.name: _load(path)["global_step"] for path in (tmp_path / "ck").glob("*.ckpt")}
    assert all(step % 2 == 0 for step in steps.values()), steps
    if model_class is NaNCycle:
        assert steps["last.ckpt"] == 10  # saved on the exception, after batches 0..4
    else:
        assert steps["last.ckpt"] == 8  # the step checkpoint of batch 3; batch 5's generator update is not saved
        assert "no checkpoint of the half-done batch is written; the newest checkpoint is" in str(err.value)
        assert str(tmp_path / "ck" / "last.ckpt") in str(err.value)


def test_unknown_nonfinite_policy_is_refused():
    with pytest.raises(ValueError, match="on_nonfinite_loss"):
        CycleGAN(**tiny_cyclegan_kwargs(), on_nonfinite_loss="ignore")


# --- determinism ---------------------------------------------------------------------------------------


def test_two_seeded_deterministic_runs_give_identical_weights(tmp_path, make_trainer):
    states = []
    for run in range(2):
        L.seed_everything(123, verbose=False)
        model = CycleGAN(**tiny_cyclegan_kwargs())
        trainer = make_trainer(
            default_root_dir=tmp_path / str(run),
            max_steps=10,
            deterministic=True,
            limit_val_batches=0,
            num_sanity_val_steps=0,
        )
        trainer.fit(model, _tiny_data())
        states.append(model.state_dict())
    assert states[0].keys() == states[1].keys()
    for key in states[0]:
        assert torch.equal(states[0][key], states[1][key]), key
    L.seed_everything(123, verbose=False)
    fresh = CycleGAN(**tiny_cyclegan_kwargs()).state_dict()
    assert any(not torch.equal(fresh[k], states[0][k]) for k in fresh if k.endswith("weight"))  # it trained
    assert all(torch.isfinite(v).all() for v in states[0].values() if v.is_floating_point())
