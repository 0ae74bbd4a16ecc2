"""A 2-process DDP fit on CPU (gloo) through the command: the processes' weights stay identical."""

from __future__ import annotations

import os

import torch
from test_cli import gan_style

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS


def test_two_process_ddp_cyclegan_keeps_ranks_identical(tmp_path):
    run = tmp_path / "run"
    tests_dir = str(REPO / "tests")
    pythonpath = os.pathsep.join(p for p in (tests_dir, os.environ.get("PYTHONPATH")) if p)
    gan_style(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.accelerator=cpu",
        "--trainer.strategy=ddp",
        "--trainer.devices=2",
        "--trainer.max_steps=8",
        "--trainer.limit_val_batches=1",
        "--trainer.logger=false",
        "--trainer.callbacks+=ddp_helpers.RankWeights",
        # the recipe's step checkpoint comes every 200 steps; one more every 4 steps (top 1 kept) makes a
        # step checkpoint in this 8-step run, saved mid-epoch at step 4 and replaced at step 8
        "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
        "--trainer.callbacks.every_n_train_steps=4",
        cwd=tmp_path,
        env_extra={"PYTHONPATH": pythonpath, "OMP_NUM_THREADS": "1"},
    )
    ranks = [torch.load(run / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["world_size"] == ranks[1]["world_size"] == 2
    # gradients are averaged, so both processes hold the same weights after every step ...
    for key, value in ranks[0]["state_dict"].items():
        assert torch.equal(value, ranks[1]["state_dict"][key]), key
    # ... which moved away from the start
    fresh = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert fresh["global_step"] == 8
    for key, value in fresh["state_dict"].items():
        assert torch.equal(value, ranks[0]["state_dict"][key]), key
    # each process trained on its own shard of the seeded order, and kept its own image pool
    assert len(ranks[0]["paths"]) == len(ranks[1]["paths"]) == 4
    assert set(ranks[0]["paths"]).isdisjoint(ranks[1]["paths"])
    assert not torch.equal(ranks[0]["pool_a"], ranks[1]["pool_a"])
    # the checkpoint is written once (by rank 0): one step checkpoint and last.ckpt, no second copy (such as
    # last-v1.ckpt) and no leftover temporary file, and both hold the final step and rank 0's image pools
    checkpoints = run / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["epoch=0-step=8.ckpt", "last.ckpt"]
    for name in ("epoch=0-step=8.ckpt", "last.ckpt"):
        saved = torch.load(checkpoints / name, weights_only=True)
        assert saved["global_step"] == 8, name
        assert torch.equal(saved["image_pools"]["a"]["images"], ranks[0]["pool_a"]), name


def test_two_process_ddp_munit_keeps_ranks_identical(tmp_path):
    """MUNIT's manual D-then-G step (random style codes drawn in each process) under DDP: gradients averaged, so the
    ranks' weights stay equal after training on disjoint shards, and the checkpoint holds them."""
    run = tmp_path / "run"
    tests_dir = str(REPO / "tests")
    pythonpath = os.pathsep.join(p for p in (tests_dir, os.environ.get("PYTHONPATH")) if p)
    gan_style(
        "fit",
        "--config",
        "munit",
        "--config",
        "demo/munit",
        f"--data.init_args.root={SAMPLE_ROOT}",
        "--data.init_args.num_workers=0",
        f"--trainer.default_root_dir={run}",
        "--trainer.accelerator=cpu",
        "--trainer.strategy=ddp",
        "--trainer.devices=2",
        "--trainer.max_steps=4",
        "--trainer.limit_val_batches=0",
        "--trainer.logger=false",
        "--trainer.enable_progress_bar=false",
        "--trainer.callbacks+=ddp_helpers.RankWeights",
        cwd=tmp_path,
        env_extra={"PYTHONPATH": pythonpath, "OMP_NUM_THREADS": "1"},
    )
    ranks = [torch.load(run / f"rank{r}.pt", weights_only=True) for r in (0, 1)]
    assert ranks[0]["world_size"] == ranks[1]["world_size"] == 2
    for key, value in ranks[0]["state_dict"].items():
        assert torch.equal(value, ranks[1]["state_dict"][key]), key
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == 4  # 2 batches, a D and a G step each
    assert len(ranks[0]["paths"]) == len(ranks[1]["paths"]) == 2
    assert set(ranks[0]["paths"]).isdisjoint(ranks[1]["paths"])
    for key, value in last["state_dict"].items():
        assert torch.equal(value, ranks[0]["state_dict"][key]), key
