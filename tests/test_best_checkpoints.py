"""``best.ckpt``: :class:`gan_style.callbacks.best.BestCheckpoint` keeps the checkpoint of the best validation, a run
resumed from ``last.ckpt`` keeps the same one as a run never stopped, a metric that was not logged is skipped with one
warning, and every recipe that validates declares a metric its method really logs."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import lightning as L
import pytest
import torch
import yaml
from lightning.pytorch.callbacks import Callback, ModelCheckpoint

from conftest import REPO, SAMPLE_ROOT, quiet_trainer, tiny_cyclegan_kwargs
from gan_style.callbacks.best import BestCheckpoint
from gan_style.data import UnpairedImageDataModule
from gan_style.methods import CycleGAN

#: the value a made-up validation metric takes in each epoch: the best (lowest) comes early, in epoch 1
SCORES = [3.0, 1.0, 2.0, 4.0]


class Score(Callback):
    """Logs ``val/score`` = ``SCORES[epoch]`` at the end of every validation, and records (epoch, step, value)."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, float]] = []

    def on_validation_epoch_end(self, trainer, pl_module) -> None:
        if trainer.sanity_checking:
            return
        value = SCORES[trainer.current_epoch]
        pl_module.log("val/score", torch.tensor(value))
        self.seen.append((trainer.current_epoch, trainer.global_step, value))


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("best_data")
    for split, count in (("trainA", 1), ("trainB", 1), ("testA", 1), ("testB", 1)):  # 1 batch, 2 steps an epoch
        (root / split).mkdir()
        for path in sorted((SAMPLE_ROOT / split).iterdir())[:count]:
            shutil.copy(path, root / split / path.name)
    return root


def _fit(root: Path, data_root: Path, epochs: int, callbacks: list, ckpt_path=None) -> L.Trainer:
    L.seed_everything(3, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs(), n_epochs=2, n_epochs_decay=2)
    data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    trainer = quiet_trainer(
        root,
        max_epochs=epochs,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        callbacks=callbacks,
        enable_checkpointing=True,
    )
    trainer.fit(model, data, ckpt_path=ckpt_path)
    return trainer


def _savers(folder: Path) -> list:
    return [
        BestCheckpoint(monitor="val/score", dirpath=folder),
        ModelCheckpoint(dirpath=folder, save_last=True, every_n_train_steps=1000),
    ]


def test_best_is_the_lowest_validation_and_a_resumed_run_keeps_the_same(tmp_path, data_root):
    whole, score = tmp_path / "whole", Score()
    trainer = _fit(whole, data_root, len(SCORES), [score, *_savers(whole / "ck")])
    best = trainer.checkpoint_callbacks[0]
    assert [v for _, _, v in score.seen] == SCORES
    epoch, step, value = min(score.seen, key=lambda s: s[2])
    assert epoch == 1 and best.best_model_path == str(whole / "ck" / "best.ckpt")
    assert float(best.best_model_score) == value
    kept = torch.load(whole / "ck" / "best.ckpt", weights_only=True)
    assert kept["global_step"] == step and kept["epoch"] == epoch
    assert sorted(p.name for p in (whole / "ck").iterdir()) == ["best.ckpt", "last.ckpt"]  # one best, no best-v1

    # stopped after epoch 2 (whose 2.0 is worse than epoch 1's 1.0), then resumed from last.ckpt to the end: a run
    # that forgot the best value would have taken epoch 2's checkpoint
    parts = tmp_path / "parts"
    _fit(parts, data_root, 3, [Score(), *_savers(parts / "ck")])
    first = torch.load(parts / "ck" / "best.ckpt", weights_only=True)
    assert first["global_step"] == step
    resumed = _fit(
        parts, data_root, len(SCORES), [Score(), *_savers(parts / "ck")], ckpt_path=parts / "ck" / "last.ckpt"
    )
    assert float(resumed.checkpoint_callbacks[0].best_model_score) == value
    again = torch.load(parts / "ck" / "best.ckpt", weights_only=True)
    assert (again["global_step"], again["epoch"]) == (kept["global_step"], kept["epoch"])
    assert all(torch.equal(again["state_dict"][k], t) for k, t in kept["state_dict"].items())
    assert torch.load(parts / "ck" / "last.ckpt", weights_only=True)["global_step"] == trainer.global_step


class Unavailable(Callback):
    """Stands in for EvaluationMetrics on a machine without the Inception weights."""

    unavailable_metrics = {"fid": "the FID Inception-v3 weights are not in /cache and could not be downloaded"}


def test_a_metric_that_was_not_logged_is_skipped_with_one_warning(tmp_path, data_root):
    folder = tmp_path / "ck"
    with pytest.warns(
        UserWarning, match=r"best\.ckpt by val/fid is not kept at step 2: it is not computed: the FID"
    ) as record:
        _fit(
            tmp_path,
            data_root,
            2,
            [Unavailable(), BestCheckpoint(monitor="val/fid", dirpath=folder), *_savers(folder)[1:]],
        )
    assert len([w for w in record if "is not kept" in str(w.message)]) == 1  # said once, not at every validation
    assert sorted(p.name for p in folder.iterdir()) == ["last.ckpt"]  # the run went on and saved the rest


def test_a_run_without_validation_keeps_no_best_and_says_nothing(tmp_path, data_root, recwarn):
    folder = tmp_path / "ck"
    L.seed_everything(3, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs())
    data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    trainer = quiet_trainer(
        tmp_path, max_epochs=1, limit_val_batches=0, callbacks=_savers(folder), enable_checkpointing=True
    )
    trainer.fit(model, data)
    assert not [w for w in recwarn if "is not kept" in str(w.message)]
    assert sorted(p.name for p in folder.iterdir()) == ["last.ckpt"]


def test_without_dirpath_it_writes_beside_the_run_checkpoints(tmp_path, data_root):
    trainer = _fit(tmp_path, data_root, 1, [Score(), BestCheckpoint(monitor="val/score", mode="max")])
    assert trainer.checkpoint_callbacks[0].dirpath == str((tmp_path / "checkpoints").resolve())
    assert (tmp_path / "checkpoints" / "best.ckpt").is_file()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"monitor": "val/fid", "mode": "lowest"}, "mode must be 'min' or 'max'"),
        ({"monitor": "val/fid", "every_n_epochs": 0}, "every_n_epochs must be an integer >= 1"),
        ({"monitor": ""}, "needs a monitor"),
        ({"monitor": "val/fid", "save_top_k": 3}, "leave out save_top_k"),
    ],
)
def test_settings_it_cannot_keep_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BestCheckpoint(**kwargs)


#: recipe -> the metric that picks best.ckpt; recipes without validation (sincut: no test folders; gatys: no
#: checkpoints) have none
EXPECTED = {
    "cyclegan": "val/fid",
    "cut": "val/fid",
    "fastcut": "val/fid",
    "pix2pix": "val/l1",  # logged by Pix2Pix's own validation_step (tests/test_evaluate_checkpoints.py fits it)
    "adain": "val/artfid",
    "patchgan": "val/artfid",
    "unit": "val/fid",
    "munit": "val/fid",
    "dcgan": "val/fid",
    "sincut": None,
    "gatys": None,
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_recipe_keeps_best_by_a_metric_its_method_logs(name):
    recipe = yaml.safe_load((REPO / "gan_style" / "recipes" / f"{name}.yaml").read_text())
    callbacks = recipe["trainer"].get("callbacks") or []
    best = [c for c in callbacks if c["class_path"] == "gan_style.callbacks.best.BestCheckpoint"]
    if EXPECTED[name] is None:
        assert best == []
        return
    assert len(best) == 1 and callbacks[0] is best[0]  # first: the run's end still names last.ckpt
    args = best[0]["init_args"]
    assert args["monitor"] == EXPECTED[name] and args["mode"] == "min"
    metric = args["monitor"].removeprefix("val/")
    if metric != "l1":  # from EvaluationMetrics: a metric of the method, compared when it is computed
        module, _, cls = recipe["model"]["class_path"].rpartition(".")
        method = getattr(importlib.import_module(module), cls)
        assert metric in method.evaluation_metrics
        evaluation = next(c for c in callbacks if c["class_path"] == "gan_style.callbacks.EvaluationMetrics")
        assert args["every_n_epochs"] == evaluation["init_args"]["every_n_epochs"]
