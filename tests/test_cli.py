"""The ``gan-style`` command end to end on the bundled sample images: through ``python -m gan_style`` in
subprocesses (``gan_style``) where a real process matters, otherwise through ``gan_style.cli.main`` in this process
(``gan_style_in_process``, the same command without the interpreter start-up)."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from PIL import Image

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process

RECIPE = str(REPO / "gan_style" / "recipes" / "cyclegan.yaml")


def gan_style(*args, cwd, env_extra=None, check=True):
    """``python -m gan_style ARGS`` in a new interpreter; ``conftest.gan_style_in_process`` runs the same in this
    process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB")}
    env.update(env_extra or {})
    proc = subprocess.run(
        [sys.executable, "-m", "gan_style", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"gan-style {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


def base_args(run_dir):
    return [
        "--config",
        RECIPE,
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run_dir}",
    ]


def test_fit_then_predict_through_the_cli(tmp_path):
    run = tmp_path / "run"
    csv_piece = str(REPO / "gan_style" / "recipes" / "loggers" / "csv.yaml")
    gan_style(
        "fit",
        *base_args(run),
        "--config",
        csv_piece,
        "--trainer.max_steps=6",
        "--trainer.log_every_n_steps=1",
        "--trainer.limit_train_batches=3",
        "--trainer.limit_val_batches=1",
        cwd=tmp_path,
    )
    last = run / "checkpoints" / "last.ckpt"
    assert last.is_file()
    ckpt = torch.load(last, map_location="cpu", weights_only=True)  # readable without running code
    assert ckpt["global_step"] == 6 and len(ckpt["optimizer_states"]) == 2
    assert ckpt["hyper_parameters"]["_class_path"] == "gan_style.methods.CycleGAN"
    assert ckpt["hyper_parameters"]["generator_ab"]["init_args"]["ngf"] == 8
    grids = sorted((run / "samples").glob("train_step*.png"))
    assert grids, "no sample grid written"
    with Image.open(grids[-1]) as grid:
        assert grid.size[0] > grid.size[1]  # 6 columns: real_A fake_B rec_A real_B fake_A rec_B
    metrics = next((run / "logs").rglob("metrics.csv"))
    rows = list(csv.DictReader(metrics.open()))
    losses = [float(r["train/loss_g"]) for r in rows if r.get("train/loss_g")]
    assert len(losses) >= 3 and all(v == v and v > 0 for v in losses)
    assert any(r.get("val/loss_cycle_a") for r in rows)
    assert next(run.rglob("config.yaml")).is_file()

    proc = gan_style("test", *base_args(run), f"--ckpt_path={last}", cwd=tmp_path)
    assert "test/loss_g" in proc.stdout and "test/loss_cycle_a" in proc.stdout

    out = tmp_path / "translated"
    gan_style(
        "predict",
        *base_args(run),
        f"--ckpt_path={last}",
        "--trainer.callbacks+=gan_style.callbacks.ImageWriter",
        f"--trainer.callbacks.output_dir={out}",
        cwd=tmp_path,
    )
    written = sorted(p.name for p in out.iterdir())
    assert written == ["newyork.png", "sailboat.png"]  # every testA image, A -> B
    with Image.open(out / "newyork.png") as img:
        assert img.size == (455, 286) and img.mode == "RGB"  # the photo's own size, not the 32-pixel training crop
    # the default writer in the recipe writes into the run folder
    assert sorted(p.name for p in (run / "predictions").iterdir()) == ["newyork.png", "sailboat.png"]


def test_resume_with_ckpt_path_last(tmp_path):
    run = tmp_path / "run"
    gan_style_in_process(
        "fit",
        *base_args(run),
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=3",
        "--trainer.limit_val_batches=1",
        cwd=tmp_path,
    )
    first = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert (first["epoch"], first["global_step"]) == (1, 6)  # saved when training ended: 1 epoch done
    proc = gan_style_in_process(
        "fit",
        *base_args(run),
        "--trainer.max_epochs=2",
        "--trainer.limit_train_batches=3",
        "--trainer.limit_val_batches=1",
        "--ckpt_path=last",
        cwd=tmp_path,
    )
    assert "Restored all states from the checkpoint" in proc.stdout + proc.stderr
    second = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert (second["epoch"], second["global_step"]) == (2, 12)  # continued, not restarted
    assert second["lr_schedulers"][0]["last_epoch"] == 2


def test_print_config_composes_recipes(tmp_path):
    proc = gan_style_in_process(
        "fit",
        "--config",
        RECIPE,
        "--config",
        str(REPO / "gan_style" / "recipes" / "loggers" / "csv.yaml"),
        "--print_config",
        cwd=tmp_path,
    )
    assert "gan_style.methods.CycleGAN" in proc.stdout and "CSVLogger" in proc.stdout
    assert "lambda_cycle: 10.0" in proc.stdout and "gan_mode: lsgan" in proc.stdout


def test_bad_setting_is_a_clear_error(tmp_path):
    proc = gan_style_in_process("fit", "--config", RECIPE, "--model.init_args.gan_mode=wgan", cwd=tmp_path, check=False)
    assert proc.returncode != 0 and "gan_mode" in proc.stderr
    proc = gan_style_in_process(
        "fit",
        "--config",
        RECIPE,
        f"--data.init_args.root={tmp_path / 'nowhere'}",
        "--trainer.max_steps=1",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode != 0 and "nowhere" in proc.stderr and "does not exist" in proc.stderr


def test_the_in_process_runner_captures_like_a_process_and_leaves_this_one_as_it_was(tmp_path):
    import gan_style.commands.lightning_cli  # noqa: F401  (importing Lightning sets torch's environment variables: done before the snapshot)

    environ, cwd, path, argv = dict(os.environ), os.getcwd(), list(sys.path), list(sys.argv)
    rng = torch.random.get_rng_state()
    proc = gan_style_in_process(
        "fit",
        "--config",
        RECIPE,
        f"--data.init_args.root={tmp_path / 'nowhere'}",
        "--trainer.max_steps=1",
        "--trainer.limit_train_batches=1",
        cwd=tmp_path,
        env_extra={"PYTHONPATH": str(tmp_path / "extra")},
        check=False,
    )
    assert proc.returncode == 2
    # Lightning's log messages (lightning.fabric's and lightning.pytorch's loggers) and the one-line error
    assert "Seed set to 0" in proc.stderr and "`Trainer(limit_train_batches=" in proc.stderr
    assert proc.stderr.rstrip().splitlines()[-1].startswith("gan-style: error: dataset root")
    assert dict(os.environ) == environ  # the recipe's seed_everything set PL_GLOBAL_SEED in it
    assert (os.getcwd(), sys.path, sys.argv) == (cwd, path, argv)
    assert torch.equal(torch.random.get_rng_state(), rng)


@pytest.mark.parametrize(
    "entry", [[sys.executable, "-m", "gan_style"], [str(Path(sys.executable).parent / "gan-style")]]
)
def test_entry_points_show_help(entry, tmp_path):
    if not Path(entry[0]).exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run([*entry, "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0
    listed = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ") and line.split()]
    for command in ("fit", "validate", "test", "predict", "stylize", "pretrained", "export", "download", "evaluate"):
        assert command in listed, command
    assert "compare" in listed and "recipes" in listed


def test_recipes_are_found_by_name_from_any_folder(tmp_path):
    """Installed recipes: ``cyclegan+demo/cpu`` and ``recipes/cyclegan.yaml`` resolve outside the source tree;
    ``gan-style recipes`` lists them with their first comment line."""
    proc = gan_style_in_process("recipes", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert any(line.startswith("cyclegan ") and "Zhu et al." in line for line in lines)
    assert any(line.startswith("demo/cpu ") for line in lines)
    by_name = gan_style_in_process("fit", "--config", "cyclegan+demo/cpu", "--print_config", cwd=tmp_path)
    by_path = gan_style_in_process(
        "fit", "--config", "recipes/cyclegan.yaml", "--config=recipes/demo/cpu.yaml", "--print_config", cwd=tmp_path
    )
    assert by_name.stdout == by_path.stdout and "max_steps: 1000" in by_name.stdout
    proc = gan_style_in_process("fit", "--config", "cyclegann", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "an installed recipe by name: adain, cut, cyclegan" in proc.stderr


def test_a_misspelt_command_is_one_line_with_the_nearest(tmp_path):
    proc = gan_style_in_process("stylze", "--content", "x.jpg", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "gan-style: error: unknown command 'stylze'; did you mean 'stylize' or 'sample'? (gan-style --help lists the "
        "commands: fit, validate, test, predict, stylize, sample, demo, pretrained, export, download, evaluate, compare, "
        "recipes)"
    ]
    proc = gan_style_in_process(cwd=tmp_path, check=False)  # no command: the overview, status 2
    assert proc.returncode == 2 and "usage: gan-style COMMAND" in proc.stdout


def test_wandb_logs_offline_without_an_account(tmp_path):
    run = tmp_path / "run"
    home = tmp_path / "home"  # no ~/.netrc, so no W&B credentials
    home.mkdir()
    gan_style(
        "fit",
        *base_args(run),
        "--config",
        str(REPO / "gan_style" / "recipes" / "loggers" / "wandb.yaml"),
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=1",
        cwd=tmp_path,
        env_extra={"HOME": str(home), "WANDB_DIR": str(run)},
    )
    runs = list((run / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    files = list(runs[0].glob("*.wandb"))
    assert files, "no offline run file written"
    # the run record (protobuf strings): name from the recipe, group = method, tags, the resolved config,
    # logged metrics and the sample grid as an image
    data = files[0].read_bytes()
    for expected in [b"cyclegan", b"CycleGAN", b"photo2painting", b"precision-32-true", b"lambda_cycle"]:
        assert expected in data, expected
    for expected in [b"train/loss_g", b"samples/train", b"trainer/global_step"]:
        assert expected in data, expected


def test_pix2pix_fit_test_and_predict(tmp_path):
    from conftest import FACADES_ROOT, TINY_PIX2PIX_CLI_ARGS

    run = tmp_path / "run"
    args = [
        "--config",
        str(REPO / "gan_style" / "recipes" / "pix2pix.yaml"),
        *TINY_PIX2PIX_CLI_ARGS,
        f"--data.init_args.root={FACADES_ROOT}",
        f"--trainer.default_root_dir={run}",
    ]
    gan_style_in_process(
        "fit",
        *args,
        "--trainer.max_epochs=1",
        "--trainer.limit_train_batches=4",
        "--trainer.limit_val_batches=2",
        cwd=tmp_path,
    )
    last = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 8 and ckpt["hyper_parameters"]["_class_path"] == "gan_style.methods.Pix2Pix"
    proc = gan_style_in_process("test", *args, f"--ckpt_path={last}", "--trainer.limit_test_batches=3", cwd=tmp_path)
    for key in ("test/psnr", "test/ssim", "test/l1"):
        assert key in proc.stdout
    gan_style_in_process("predict", *args, f"--ckpt_path={last}", cwd=tmp_path)
    written = sorted((run / "predictions").iterdir())
    assert len(written) == 25  # every test pair, labels -> photo
    with Image.open(written[0]) as img:
        assert img.size == (32, 32)


def test_a_default_fit_prints_nothing_a_user_cannot_act_on(tmp_path):
    """Lightning's "GPU available: False" / "TPU available: False" lines, its advertising tip and a deprecation
    warning from inside Lightning are not shown; the seed line and the end of the run are."""
    proc = gan_style_in_process("fit", *base_args(tmp_path / "run"), "--trainer.max_steps=1", cwd=tmp_path)
    output = proc.stdout + proc.stderr
    for noise in ("GPU available: False", "TPU available: False", "litlogger", "LeafSpec"):
        assert noise not in output, noise
    assert "Seed set to 0" in output and "`max_steps=1` reached" in output
