"""``RunSummary`` files and ``gan-style compare`` on two real runs (CycleGAN and Pix2Pix) made here."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from conftest import FACADES_ROOT, REPO, SAMPLE_ROOT, TINY_CLI_ARGS, TINY_PIX2PIX_CLI_ARGS, gan_style_in_process
from gan_style.commands.compare import main as compare_main


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    cyclegan, pix2pix = tmp / "cyclegan_run", tmp / "pix2pix_run"
    common = ["--trainer.limit_val_batches=1", "--trainer.logger=false"]
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={cyclegan}",
        "--trainer.max_steps=16",
        *common,
        cwd=tmp,
    )
    p2p = [
        "--config",
        str(REPO / "gan_style" / "recipes" / "pix2pix.yaml"),
        *TINY_PIX2PIX_CLI_ARGS,
        f"--data.init_args.root={FACADES_ROOT}",
        f"--trainer.default_root_dir={pix2pix}",
        *common,
    ]
    gan_style_in_process("fit", *p2p, "--trainer.max_epochs=1", "--trainer.limit_train_batches=8", cwd=tmp)
    gan_style_in_process("test", *p2p, "--ckpt_path=last", "--trainer.limit_test_batches=2", cwd=tmp)
    return tmp, cyclegan, pix2pix


def test_run_summary_holds_steps_throughput_and_test_metrics(runs):
    _, cyclegan, pix2pix = runs
    summary = json.loads((pix2pix / "metrics.json").read_text())
    assert summary["method"] == "gan_style.methods.pix2pix.Pix2Pix"
    assert summary["global_step"] == 16  # 8 batches, D and G each
    metrics = summary["metrics"]
    for key in ("test/psnr", "test/ssim", "val/psnr", "train/loss_g"):
        assert isinstance(metrics[key], float), key
    assert metrics["train/images_per_s"] > 0  # 3 measured batches after the 5 warm-up ones
    assert json.loads((cyclegan / "metrics.json").read_text())["global_step"] == 16


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_compare_writes_a_table_and_a_grid(runs, fmt):
    tmp, cyclegan, pix2pix = runs
    inputs = sorted((SAMPLE_ROOT / "testA").iterdir())[:2]
    out = tmp / f"report.{fmt}"
    args = [str(cyclegan), str(pix2pix), f"--output={out}", "--inputs", *map(str, inputs), "--size=64"]
    if fmt == "md":
        gan_style_in_process("compare", *args, cwd=tmp)  # through the command line once
    else:
        compare_main(args)
    text = out.read_text()
    psnr = json.loads((pix2pix / "metrics.json").read_text())["metrics"]["test/psnr"]
    for expected in ("CycleGAN", "Pix2Pix", "photo2painting", "facades", f"{psnr:.4g}", "report.png"):
        assert expected in text, expected
    if fmt == "md":
        rows = [line for line in text.splitlines() if line.startswith("| ")]
        assert len(rows) == 3 and rows[0].startswith("| run | method | dataset | steps | fid")
        assert "| 16 |" in rows[1] and "| 16 |" in rows[2]
    with Image.open(tmp / "report.png") as grid:
        assert grid.size == (2 * 64, 3 * 64)  # columns: inputs; rows: inputs, then each run


def test_compare_says_which_run_lacks_metrics_json(runs, tmp_path, capsys):
    """A run folder with only a checkpoint (an interrupted run): its row shows '-' and '?', and a note in the
    report and on stderr says metrics.json (and config.yaml) is missing and what to do."""
    _, cyclegan, _ = runs
    partial = tmp_path / "interrupted"
    (partial / "checkpoints").mkdir(parents=True)
    (partial / "checkpoints" / "last.ckpt").write_bytes((cyclegan / "checkpoints" / "last.ckpt").read_bytes())
    out = tmp_path / "report.md"
    compare_main(
        [str(cyclegan), str(partial), f"--output={out}", "--inputs", str(SAMPLE_ROOT / "testA" / "newyork.jpg")]
    )
    text, err = out.read_text(), capsys.readouterr().err
    row = next(line for line in text.splitlines() if line.startswith("| interrupted |"))
    assert row.startswith("| interrupted | ? | ? | 16 | - |")
    note = (
        "interrupted: no metrics.json (written when a run ends: this one was interrupted, is still running or "
        "was not evaluated), so its metrics are '-'; run gan-style test with its config and --ckpt_path to compute "
        "them; no config.yaml, so its method and dataset may show '?'"
    )
    assert f"- {note}" in text.splitlines()
    assert f"compare: note: {note}" in err.splitlines()
    assert "cyclegan_run:" not in text  # a complete run gets no note


def test_compare_errors_name_the_folder(tmp_path, capsys):
    """One line ``gan-style compare: error: ...``, status 2 for a bad request (gan_style.commands.runner)."""
    with pytest.raises(SystemExit) as exit_info:
        compare_main([str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("gan-style compare: error: run folder")
    assert "missing' does not exist" in err and err.count("\n") == 1
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exit_info:
        compare_main(["--runs", f"[{tmp_path / 'empty'}]"])  # the flag form works too
    assert exit_info.value.code == 2 and "is it a gan-style run folder" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        compare_main([str(tmp_path / "empty"), "--output", "report.txt"])
    assert exit_info.value.code == 2 and "must end in .md or .html" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:  # malformed: the parser's message
        compare_main([str(tmp_path / "empty"), "--size", "big"])
    assert exit_info.value.code == 2 and "size" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["a", "b", "--output", "r.md"], ["--runs", '["a", "b"]', "--output", "r.md"]),
        (["a", "--inputs", "x, y.png", "z", "--size=64", "b"], ["--runs", '["a", "b"]', "--inputs", '["x, y.png", "z"]', "--size=64"]),
        (["a", "--style", "[s.jpg]", "--max_inputs", "-1"], ["--runs", '["a"]', "--style", "[s.jpg]", "--max_inputs", "-1"]),
        (["--output", "r.md", "--", "-odd"], ["--runs", '["-odd"]', "--output", "r.md"]),
        (["--help"], ["--help"]),
    ],
)  # fmt: skip
def test_classic_command_line_becomes_flags(args, expected):
    from gan_style.commands.runner import flag_form

    assert flag_form(args, positional="runs", many=True, lists=["inputs", "style"]) == expected
