"""``gan-style evaluate --checkpoints RUN`` on tiny runs trained here by ``gan-style fit`` from the recipes: the table
(printed, CSV, JSON) and the plot written into the run folder, the best checkpoint equal to the best row of the table,
the content-hash cache that skips finished checkpoints, and one-line errors for a run folder that is not one. No
network: PSNR / SSIM need no weights, and KID runs on a small injected feature network."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from conftest import FACADES_ROOT, REPO, SAMPLE_ROOT, TINY_CLI_ARGS, TINY_PIX2PIX_CLI_ARGS, gan_style_in_process
from gan_style.commands.checkpoints_eval import evaluate_checkpoints
from gan_style.commands.evaluate import main

RECIPES = REPO / "gan_style" / "recipes"
#: a snapshot at every epoch, so the run has several checkpoints to compare
SNAPSHOTS = [
    "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
    "--trainer.callbacks.every_n_epochs=1",
    "--trainer.callbacks.save_top_k=-1",
    "--trainer.callbacks.filename=snapshot-{epoch}",
]


class SmallFeatures(nn.Module):
    """4x4 average pooling and a fixed random projection to 8-d (a stand-in for the Inception)."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(48, 8)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(8, 48, generator=torch.Generator().manual_seed(0)) / 4)
            self.proj.bias.zero_()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(F.adaptive_avg_pool2d(x, 4).flatten(1))


@pytest.fixture(scope="module")
def pix2pix_run(tmp_path_factory) -> Path:
    """A Pix2Pix run of 3 epochs of 2 batches from the recipe: snapshots at each epoch, last.ckpt, best.ckpt."""
    tmp = tmp_path_factory.mktemp("pix2pix_run")
    run = tmp / "runs" / "pix2pix"
    gan_style_in_process(
        "fit",
        "--config",
        str(RECIPES / "pix2pix.yaml"),
        *TINY_PIX2PIX_CLI_ARGS,
        f"--data.init_args.root={FACADES_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.max_epochs=3",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=2",
        *SNAPSHOTS,
        cwd=tmp,
    )
    return run


def test_every_checkpoint_measured_the_best_named_and_the_cache_reused(pix2pix_run, tmp_path, capsys):
    names = sorted(p.name for p in (pix2pix_run / "checkpoints").glob("*.ckpt"))
    assert "best.ckpt" in names and "last.ckpt" in names and len([n for n in names if n.startswith("snapshot")]) == 3

    main(["--checkpoints", str(pix2pix_run), "--metrics", "psnr", "ssim", "--max_images", "3", "--device", "cpu"])
    printed = capsys.readouterr()
    out = pix2pix_run / "evaluation"
    record = json.loads((out / "checkpoints.json").read_text())
    rows = record["rows"]
    assert sorted(r["checkpoint"] for r in rows) == names
    assert all(set(r["metrics"]) == {"psnr", "ssim"} and r["images"] == 3 and not r["cached"] for r in rows)
    assert [r["global_step"] for r in rows] == sorted(r["global_step"] for r in rows)  # ordered by step
    # the best is the highest PSNR (higher is better) of the table, as written to the CSV
    with open(out / "checkpoints.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [t["checkpoint"] for t in table] == [r["checkpoint"] for r in rows]
    top = max(float(t["psnr"]) for t in table)
    winners = [t["checkpoint"] for t in table if float(t["psnr"]) == top]
    assert record["select"] == "psnr" and record["better"] == "higher"
    assert record["best"]["checkpoint"] == winners[0]
    assert [t["checkpoint"] for t in table if t["best"] == "1"] == [winners[0]]
    assert f"best: {winners[0]}" in printed.out and "psnr" in printed.out.splitlines()[1]
    # last.ckpt is a copy of the newest snapshot's state: the same outputs, the same values
    last = next(r for r in rows if r["checkpoint"] == "last.ckpt")
    newest = next(r for r in rows if r["checkpoint"] != "last.ckpt" and r["global_step"] == last["global_step"])
    assert last["metrics"] == pytest.approx(newest["metrics"])
    with Image.open(out / "checkpoints.png") as plot:
        assert plot.size[0] == 900 and plot.size[1] > 400  # one panel per metric
    assert not (out / "images").exists()  # the outputs are removed once measured

    # a second run measures nothing again, and a copy under another name is known by its content (sha256)
    shutil.copy(pix2pix_run / "checkpoints" / "best.ckpt", pix2pix_run / "checkpoints" / "copy.ckpt")
    again = evaluate_checkpoints(pix2pix_run, metrics=["psnr", "ssim"], max_images=3, device="cpu", progress=False)
    by_name = {r["checkpoint"]: r for r in again["rows"]}
    assert all(r["cached"] for r in by_name.values())
    assert by_name["copy.ckpt"]["same_as"] == "best.ckpt" and by_name["best.ckpt"]["same_as"] is None
    assert {n: r["metrics"] for n, r in by_name.items() if n != "copy.ckpt"} == {
        r["checkpoint"]: r["metrics"] for r in rows
    }
    assert by_name["copy.ckpt"]["metrics"] == by_name["best.ckpt"]["metrics"]
    assert len(list((out / "cache").glob("*.json"))) == len(names)  # one record per content and settings
    assert not (out / "images").exists()  # nothing was generated
    # an evaluation stopped half-way: only the checkpoints without a cached record are measured again
    first = next(r for r in rows if r["checkpoint"] == "snapshot-epoch=0.ckpt")
    next((out / "cache").glob(f"{first['sha256']}-*.json")).unlink()
    resumed = evaluate_checkpoints(pix2pix_run, metrics=["psnr", "ssim"], max_images=3, device="cpu", progress=False)
    assert [r["checkpoint"] for r in resumed["rows"] if not r["cached"]] == ["snapshot-epoch=0.ckpt"]
    assert next(r for r in resumed["rows"] if not r["cached"])["metrics"] == first["metrics"]  # seeded: the same
    # other settings are other results: SSIM of 2 images is measured afresh (the copy once), and selected by its
    # own direction
    ssim = evaluate_checkpoints(pix2pix_run, metrics=["ssim"], max_images=2, device="cpu", progress=False)
    assert [r["checkpoint"] for r in ssim["rows"] if r["cached"]] == ["copy.ckpt"]
    assert ssim["best"]["metrics"]["ssim"] == max(r["metrics"]["ssim"] for r in ssim["rows"])


def test_an_unpaired_run_is_measured_against_its_test_domain(tmp_path):
    run = tmp_path / "runs" / "cyclegan"
    gan_style_in_process(
        "fit",
        "--config",
        str(RECIPES / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.max_epochs=2",
        "--trainer.limit_train_batches=2",
        "--trainer.limit_val_batches=1",
        *SNAPSHOTS,
        cwd=tmp_path,
    )
    record = evaluate_checkpoints(
        run, metrics=["kid"], kid_subset_size=2, device="cpu", progress=False, feature_network=SmallFeatures()
    )
    rows = record["rows"]
    assert sorted(r["checkpoint"] for r in rows) == ["last.ckpt", "snapshot-epoch=0.ckpt", "snapshot-epoch=1.ckpt"]
    assert all(r["images"] == 2 for r in rows)  # testA's two photos, each at its own size
    kids = [r["metrics"]["kid"] for r in rows]
    assert record["best"]["metrics"]["kid"] == min(kids) and record["better"] == "lower"
    assert record["settings"]["test_set"] == "unpaired" and record["settings"]["feature_network"]


def one_line_error(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gan-style evaluate: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_bad_run_folders_are_one_line_errors_naming_the_path_and_the_fix(pix2pix_run, tmp_path, capsys):
    missing = tmp_path / "nowhere"
    err = one_line_error(capsys, ["--checkpoints", str(missing)])
    assert f"'{missing}' does not exist" in err and "trainer.default_root_dir" in err
    empty = tmp_path / "empty"
    (empty / "checkpoints").mkdir(parents=True)
    err = one_line_error(capsys, ["--checkpoints", str(empty)])
    assert "holds no checkpoints" in err and str(empty) in err and "gan-style fit" in err
    last = pix2pix_run / "checkpoints" / "last.ckpt"
    err = one_line_error(capsys, ["--checkpoints", str(last)])
    assert "is a file" in err and f"--checkpoints {pix2pix_run}" in err
    no_data = tmp_path / "no_data"
    no_data.mkdir()
    err = one_line_error(capsys, ["--checkpoints", str(pix2pix_run), "--data_root", str(no_data), "--metrics", "psnr"])
    assert str(no_data) in err and "--data_root" in err
    err = one_line_error(capsys, ["--checkpoints", str(pix2pix_run), "--generated", str(tmp_path)])
    assert "one of them" in err
    err = one_line_error(capsys, ["--checkpoints", str(pix2pix_run), "--metrics", "psnr", "--select", "fid"])
    assert "--select fid is not among the measured metrics" in err
