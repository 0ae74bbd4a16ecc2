"""``scripts/reproduce.py``: every row of docs/results.md prints the commands that reproduce it, and a row run with
``--tiny`` on the bundled sample data goes end to end (fit, ``evaluate --checkpoints``) and appends its result."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from PIL import Image

from conftest import FACADES_ROOT, REPO


def _script():
    spec = importlib.util.spec_from_file_location("reproduce", REPO / "scripts" / "reproduce.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


reproduce = _script()


@pytest.mark.parametrize("name", sorted(reproduce.ROWS))
def test_each_row_prints_its_commands_and_is_in_the_results_page(name, tmp_path, capsys):
    row = reproduce.ROWS[name]
    assert reproduce.reproduce(name, dry_run=True, out=tmp_path) is None
    lines = [line[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")]
    assert lines[0] == f"gan-style download {row.dataset} --root datasets"
    assert f"gan-style stylize --pretrained {row.pretrained} --content " in lines[-2]
    assert lines[-1].startswith(f"gan-style evaluate --generated {tmp_path / name / 'generated'} --reference ")
    assert "--metrics fid kid" in lines[-1] and lines[-1].endswith(f"--output {tmp_path / name / 'metrics.json'}")
    if reproduce.evaluate_has_protocol():
        assert "--protocol legacy" in lines[-1]
    reproduce.reproduce(name, mode="fit", dry_run=True, out=tmp_path)
    fit = [line[2:] for line in capsys.readouterr().out.splitlines() if line.startswith("$ ")]
    assert fit[1].startswith(f"gan-style fit --config {row.recipe} --data.init_args.root=datasets/{row.folder} ")
    assert fit[2].startswith(f"gan-style evaluate --checkpoints {tmp_path / name / 'run'} --metrics fid kid")
    assert not any(tmp_path.iterdir())  # a dry run writes nothing
    page = (REPO / "docs" / "results.md").read_text()
    assert f"`{name}`" in page and row.pretrained in page and f"--config {row.recipe}" in page


def test_split_cuts_aligned_pairs_into_two_folders(tmp_path):
    a, b = reproduce.split_aligned_folder(FACADES_ROOT / "test", tmp_path)
    names = sorted(p.name for p in a.iterdir())
    assert len(names) == 25 and names == sorted(p.name for p in b.iterdir())
    with Image.open(next(FACADES_ROOT.joinpath("test").iterdir())) as whole, Image.open(a / names[0]) as half:
        assert half.size == (whole.size[0] // 2, whole.size[1])


def test_a_tiny_row_runs_end_to_end_and_appends_its_result(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results.jsonl"
    record = reproduce.reproduce(
        "pix2pix-facades",
        tiny=True,
        out=tmp_path / "out",
        results=results,
        metrics=["psnr", "ssim"],
        extra=["--device", "cpu"],
    )
    printed = capsys.readouterr().out
    assert "$ gan-style fit --config pix2pix" in printed and "$ gan-style evaluate --checkpoints" in printed
    lines = results.read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0]) == record
    table = json.loads((tmp_path / "out" / "pix2pix-facades" / "run" / "evaluation" / "checkpoints.json").read_text())
    best = max(table["rows"], key=lambda r: r["metrics"]["psnr"])
    assert record["mode"] == "fit" and record["tiny"] and record["metric"] == "psnr"
    assert record["value"] == best["metrics"]["psnr"] and record["checkpoint"] == table["best"]["checkpoint"]
    assert record["images"] == 4 and record["within_tolerance"] is None  # PSNR is not the row's FID
    assert {"best.ckpt", "last.ckpt", "snapshot-epoch=0.ckpt", "snapshot-epoch=1.ckpt"} <= {
        r["checkpoint"] for r in table["rows"]
    }
    assert (tmp_path / "out" / "pix2pix-facades" / "run" / "evaluation" / "checkpoints.png").is_file()
