"""Exact resume at every checkpoint position: a run resumed from a checkpoint taken anywhere (mid-epoch, on an
epoch's last batch, after its validation, at its end, after SIGTERM during validation, at the end of a finished
run that is then extended) trains on the same batches, runs the same validations and ends with the same
weights, bit for bit, as the run that was never stopped. CycleGAN (manual optimization, two updates a batch,
learning rate decayed per epoch) and AdaIN (automatic optimization, decayed per step)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from conftest import SAMPLE_ROOT, quiet_trainer, tiny_cyclegan_kwargs
from gan_style.callbacks import StaleFileCleanup
from gan_style.data import ContentStyleDataModule, UnpairedImageDataModule
from gan_style.methods import AdaIN, CycleGAN

BATCHES = 3  # 3 A and 3 B images, batch size 1: 3 batches an epoch
EPOCHS = 3
#: optimizer steps a batch: CycleGAN updates the generators and the discriminators
UPDATES = {"cyclegan": 2, "adain": 1}


def _steps_per_epoch(method: str) -> int:
    return UPDATES[method] * BATCHES


def _max_steps(method: str) -> int:
    return EPOCHS * _steps_per_epoch(method)


def _model_and_data(method: str, data_root: Path):
    if method == "cyclegan":
        model = CycleGAN(**tiny_cyclegan_kwargs(), n_epochs=1, n_epochs_decay=3)
        data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    else:
        model = AdaIN(encoder_weights=None, lr_decay=0.1)
        data = ContentStyleDataModule(
            content_dir=str(data_root / "trainA"),
            style_dir=str(data_root / "trainB"),
            load_size=36,
            crop_size=32,
            epoch_length=BATCHES,
            num_val=1,
            batch_size=1,
            num_workers=0,
        )
    return model, data


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("resume_data")
    for split, count in (("trainA", BATCHES), ("trainB", BATCHES), ("testA", 1), ("testB", 1)):
        (root / split).mkdir()
        for path in sorted((SAMPLE_ROOT / split).iterdir())[:count]:
            shutil.copy(path, root / split / path.name)
    return root


class Journal(Callback):
    """Records what a run does, in order: each training batch (epoch, batch index, A image, learning rate
    of the first optimizer) and each validation (epoch)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        path = batch["A_path"] if "A_path" in batch else batch["content_path"]
        self.events.append(("train", trainer.current_epoch, batch_idx, Path(path[0]).name, lr))

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self.events.append(("validate", trainer.current_epoch))


class SaveAt(Callback):
    """Saves ``path`` once, at ``position`` in epoch ``epoch``."""

    def __init__(self, position: str, path: Path, epoch: int = 0) -> None:
        self.position, self.path, self.epoch = position, path, epoch

    def _save(self, trainer, position: str) -> None:
        if position == self.position and trainer.current_epoch == self.epoch and not self.path.exists():
            trainer.save_checkpoint(self.path)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if batch_idx == 1:
            self._save(trainer, "mid_epoch")
        if trainer.is_last_batch:
            self._save(trainer, "last_batch")

    def on_validation_end(self, trainer, pl_module) -> None:
        if not trainer.sanity_checking:
            self._save(trainer, "validation_end")

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        self._save(trainer, "train_epoch_end")


class SigtermInValidation(Callback):
    """Sends this process SIGTERM during the validation of epoch ``epoch`` (Lightning finishes the batch and
    stops; ``ModelCheckpoint(save_on_exception=True)`` saves)."""

    def __init__(self, epoch: int = 0) -> None:
        self.epoch = epoch
        self.sent = False

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if not trainer.sanity_checking and trainer.current_epoch == self.epoch and not self.sent:
            self.sent = True
            os.kill(os.getpid(), signal.SIGTERM)


def _fit(
    make_trainer,
    method: str,
    data_root: Path,
    root: Path,
    max_steps: int,
    callbacks=(),
    ckpt_path=None,
    by_epochs=False,
):
    """Fit a tiny ``method`` for ``max_steps`` optimizer steps (as ``max_epochs`` when ``by_epochs``); return
    (model, trainer, journal events)."""
    L.seed_everything(7, verbose=False)
    model, data = _model_and_data(method, data_root)
    journal = Journal()
    trainer = make_trainer(
        default_root_dir=root,
        **({"max_epochs": max_steps // _steps_per_epoch(method)} if by_epochs else {"max_steps": max_steps}),
        limit_val_batches=1,
        num_sanity_val_steps=0,
        callbacks=[journal, *callbacks],
        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in callbacks),
    )
    trainer.fit(model, data, ckpt_path=ckpt_path)
    return model, trainer, journal.events


@pytest.fixture(scope="module", params=sorted(UPDATES))
def method(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, data_root, method) -> tuple:
    root = tmp_path_factory.mktemp(f"uninterrupted_{method}")
    model, trainer, events = _fit(lambda **kw: quiet_trainer(root, **kw), method, data_root, root, _max_steps(method))
    assert trainer.current_epoch == EPOCHS
    return {k: v.clone() for k, v in model.state_dict().items()}, events


def _assert_continues(uninterrupted, method, model, trainer, events, step: int) -> None:
    weights, full = uninterrupted
    assert trainer.global_step == _max_steps(method)
    assert trainer.current_epoch == EPOCHS
    assert events == full[len(full) - len(events) :], "the resumed run did other batches or validations"
    trained = [e for e in full if e[0] == "train"]
    assert len([e for e in events if e[0] == "train"]) == len(trained) - step // UPDATES[method]
    state = model.state_dict()
    assert [k for k in weights if not torch.equal(weights[k], state[k])] == []


@pytest.mark.parametrize("by_epochs", [False, True], ids=["max_steps", "max_epochs"])
@pytest.mark.parametrize("position", ["mid_epoch", "last_batch", "validation_end", "train_epoch_end"])
def test_resume_from_any_position_in_an_epoch_is_exact(
    make_trainer, method, data_root, tmp_path, uninterrupted, position, by_epochs
):
    ckpt = tmp_path / f"{position}.ckpt"
    first, total = tmp_path / "first", _max_steps(method)
    _fit(make_trainer, method, data_root, first, total, [SaveAt(position, ckpt)], by_epochs=by_epochs)
    step = torch.load(ckpt, weights_only=True)["global_step"]
    assert step == UPDATES[method] * (2 if position == "mid_epoch" else BATCHES)
    model, trainer, events = _fit(
        make_trainer, method, data_root, tmp_path / "resumed", total, ckpt_path=ckpt, by_epochs=by_epochs
    )
    _assert_continues(uninterrupted, method, model, trainer, events, step)


def test_resume_after_sigterm_during_validation_is_exact(make_trainer, method, data_root, tmp_path, uninterrupted):
    saver = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True, save_on_exception=True, every_n_train_steps=1000)
    total = _max_steps(method)
    with pytest.raises(SystemExit):
        _fit(make_trainer, method, data_root, tmp_path / "first", total, [saver, SigtermInValidation()])
    ckpt = tmp_path / "ck" / "last.ckpt"
    step = torch.load(ckpt, weights_only=True)["global_step"]
    assert step == _steps_per_epoch(method)
    model, trainer, events = _fit(make_trainer, method, data_root, tmp_path / "resumed", total, ckpt_path=ckpt)
    _assert_continues(uninterrupted, method, model, trainer, events, step)


@pytest.mark.parametrize(
    "first_batches, by_epochs",
    [(BATCHES, False), (BATCHES + 1, False), (BATCHES, True)],
    ids=["max_steps_at_epoch_end", "max_steps_mid_epoch", "max_epochs"],
)
def test_a_finished_run_extended_is_exact(
    make_trainer, method, data_root, tmp_path, uninterrupted, first_batches, by_epochs
):
    saver = ModelCheckpoint(dirpath=tmp_path / "ck", save_last=True, every_n_train_steps=1000)
    first_steps = UPDATES[method] * first_batches
    _fit(make_trainer, method, data_root, tmp_path / "first", first_steps, [saver], by_epochs=by_epochs)
    ckpt = tmp_path / "ck" / "last.ckpt"
    assert torch.load(ckpt, weights_only=True)["global_step"] == first_steps
    model, trainer, events = _fit(
        make_trainer, method, data_root, tmp_path / "resumed", _max_steps(method), ckpt_path=ckpt, by_epochs=by_epochs
    )
    _assert_continues(uninterrupted, method, model, trainer, events, first_steps)


# --- what interrupted runs leave behind ---------------------------------------------------------------------


class FailAtStep(Callback):
    """Raises at the end of the batch that reaches optimizer step ``step`` (an interrupted run)."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == self.step:
            raise RuntimeError("interrupted")


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_resumed_run_removes_what_the_interrupted_run_provably_left(make_trainer, data_root, tmp_path):
    """The interrupted run leaves: the file save_on_exception writes (never tracked by save_top_k: 1), and
    temporary files of writers killed mid-write. The resumed run removes exactly those; another callback's
    snapshots, a live writer's temporary file and the user's own files stay."""
    folder = tmp_path / "run" / "checkpoints"

    def callbacks():
        newest = ModelCheckpoint(
            dirpath=folder, every_n_train_steps=4, save_top_k=1, save_last=True, save_on_exception=True
        )
        snapshots = ModelCheckpoint(dirpath=folder, filename="snapshot-{step}", every_n_train_steps=6, save_top_k=-1)
        return [newest, snapshots]

    with pytest.raises(RuntimeError, match="interrupted"):
        _fit(make_trainer, "cyclegan", data_root, tmp_path / "run", 18, [*callbacks(), FailAtStep(10)])
    assert sorted(p.name for p in folder.iterdir()) == [
        "epoch=1-step=10.ckpt",  # written on the exception: an orphan for save_top_k: 1
        "epoch=1-step=8.ckpt",
        "last.ckpt",
        "snapshot-step=6.ckpt",
    ]
    dead, live = _dead_pid(), 1  # pid 1 always runs
    stale = [
        folder / f".last.ckpt.tmp-{dead}-0a1b2c3d",
        tmp_path / "run" / "samples" / f".grid.png.tmp-{dead}-9f8e7d6c",
    ]
    kept = [
        folder / f".epoch=1-step=8.ckpt.tmp-{live}-5e6f7a8b",  # a live writer's
        folder / "mine.ckpt",  # the user's
        folder / f".notes.tmp-{dead}-draft",  # not a name gan-style writes
        tmp_path / "run" / "data" / f".photo.png.tmp-{dead}-0a1b2c3d",  # outside the folders a run writes to
    ]
    for path in stale + kept:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"partial")

    with pytest.warns(UserWarning, match=r"removed 3 file\(s\) left by an interrupted run") as record:
        _fit(
            make_trainer,
            "cyclegan",
            data_root,
            tmp_path / "run",
            18,
            [*callbacks(), StaleFileCleanup()],
            ckpt_path=folder / "last.ckpt",
        )
    message = next(str(w.message) for w in record if "removed" in str(w.message))
    assert str(folder / "epoch=1-step=10.ckpt") in message and all(str(p) in message for p in stale)
    assert not any(p.exists() for p in stale)
    assert all(p.exists() for p in kept)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == [
        "epoch=2-step=16.ckpt",
        "last.ckpt",
        "mine.ckpt",
        "snapshot-step=12.ckpt",
        "snapshot-step=18.ckpt",
        "snapshot-step=6.ckpt",
    ]
