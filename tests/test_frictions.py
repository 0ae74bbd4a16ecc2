"""What a newcomer hit on the way in (issue 27, part 7): the method tables, the demo of an installed package, a
demo that starts with the models that load, the result shown at its size and ``--share``, ``compare``'s output,
and an install without the optional loggers. (The metrics warning, ``export``'s JSON and the ``pretrained`` table
are tested in test_evaluation_callback.py, test_export.py and test_pretrained.py.)"""

from __future__ import annotations

import importlib.util
import re
import tempfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process

RECIPES = sorted(p.stem for p in (REPO / "gan_style" / "recipes").glob("*.yaml"))


# --- 1. the method tables ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_every_installed_recipe_has_a_row_in_the_method_table(page):
    rows = [line for line in (REPO / page).read_text(encoding="utf-8").splitlines() if line.startswith("|")]
    assert rows and {"cut", "fastcut", "sincut"} <= set(RECIPES)
    missing = [stem for stem in RECIPES if not any(f"recipes/{stem}.yaml`" in row for row in rows)]
    assert not missing, f"{page}: no table row names recipes/{missing}.yaml"


def test_the_index_table_links_each_method_page():
    text = (REPO / "docs" / "index.md").read_text(encoding="utf-8")
    for stem in RECIPES:
        row = next(line for line in text.splitlines() if line.startswith("|") and f"recipes/{stem}.yaml`" in line)
        page = re.search(r"\]\((methods/[a-z0-9_]+\.md)", row)
        assert page and (REPO / "docs" / page.group(1)).is_file(), row


# --- 2.-4. the demo ----------------------------------------------------------------------------------------------


def test_demo_examples_are_the_sample_images_installed_with_the_package(tmp_path, monkeypatch):
    """A wheel install has no examples/data beside the package, only gan_style/sample_data: the page's examples
    come from there."""
    pytest.importorskip("gradio")
    from gan_style.data import samples
    from gan_style.demo.app import bundled_examples

    installed = tmp_path / "site-packages" / "gan_style" / "sample_data"
    for folder, name in [("testA", "photo.jpg"), ("trainA", "train.jpg"), ("testB", "painting.jpg")]:
        (installed / "photo2painting" / folder).mkdir(parents=True)
        Image.new("RGB", (8, 8)).save(installed / "photo2painting" / folder / name)
    monkeypatch.setattr(samples, "sample_data_dir", lambda: installed)
    contents, styles = bundled_examples()
    assert [p.name for p in contents] == ["photo.jpg", "train.jpg"] and [p.name for p in styles] == ["painting.jpg"]
    assert all(p.is_relative_to(installed) for p in [*contents, *styles])


def _tiny_gatys() -> dict:
    return {"num_iterations": 1, "vgg_weights": None, "style_weight": 1e6}  # random VGG: nothing to download


def test_demo_starts_with_the_models_that_load_and_names_the_others(tmp_path, monkeypatch, dead_url):
    """A published model that is neither cached nor downloadable and a missing run folder are left out with one
    line each; the models that load are offered; only when none loads does the first error stop the command."""
    from gan_style.demo.models import load_models
    from gan_style.errors import FileMissingError, OfflineError

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))  # nothing cached
    monkeypatch.setenv("GAN_STYLE_MIRROR", dead_url.rsplit("/", 1)[0] + "/")  # and no network
    failures: list[str] = []
    models = load_models(["no/such/run"], ["horse2zebra"], ["gatys"], "cpu", _tiny_gatys(), failures)
    assert [m.method for m in models] == ["Gatys"]
    assert len(failures) == 2 and all("\n" not in line for line in failures)
    assert failures[0].startswith("--checkpoint no/such/run: checkpoint 'no/such/run' does not exist")
    assert failures[1].startswith("--pretrained horse2zebra: ")
    with pytest.raises(OfflineError):  # without the list, as before: the first error stops
        load_models([], ["horse2zebra"], [], "cpu")
    failures = []
    with pytest.raises(FileMissingError):  # nothing loads: the first error, and a line for the other
        load_models(["no/such/run"], ["horse2zebra"], [], "cpu", failures=failures)
    assert len(failures) == 1 and failures[0].startswith("--pretrained horse2zebra: ")


def test_demo_command_says_what_did_not_load_shows_results_at_full_size_and_shares(
    tmp_path, monkeypatch, dead_url, capsys
):
    """``gan-style demo --pretrained <unreachable> --method gatys --share``: one line for the model left out, the
    page starts (with it listed), the result box has no fixed height and the launch gets ``share=True``."""
    gr = pytest.importorskip("gradio")
    from gan_style.commands import demo as demo_command

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("GAN_STYLE_MIRROR", dead_url.rsplit("/", 1)[0] + "/")
    launched: dict = {}
    pages: list = []

    def launch(self, **kwargs):
        launched.update(kwargs)
        pages.append(self)

    monkeypatch.setattr(gr.Blocks, "launch", launch)
    monkeypatch.setattr(demo_command, "_check_port", lambda host, port: None)
    demo_command.main(
        [
            "--pretrained",
            "horse2zebra",
            "--method",
            "gatys",
            "--vgg_weights",
            "null",
            "--num_iterations",
            "1",
            "--share",
        ]
    )
    captured = capsys.readouterr()
    assert [line for line in captured.err.splitlines() if "not loaded" in line][0].startswith(
        "gan-style demo: not loaded: --pretrained horse2zebra: "
    )
    assert "1 model(s) on cpu" in captured.out and launched["share"] is True
    page = pages[0]
    result = next(b for b in page.blocks.values() if getattr(b, "elem_id", None) == "result")
    assert result.height is None and "fullscreen" in result.buttons and result.format == "png"
    note = next(b for b in page.blocks.values() if getattr(b, "elem_id", None) == "not-loaded")
    assert "--pretrained horse2zebra" in note.value


# --- 7. compare --------------------------------------------------------------------------------------------------


def test_compare_prints_no_temporary_folder(tiny_cyclegan_checkpoint, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch-folder"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # where a temporary folder would be made
    run = tiny_cyclegan_checkpoint.parents[1]
    proc = gan_style_in_process(
        "compare",
        str(run),
        "--inputs",
        str(SAMPLE_ROOT / "testA"),
        "--size",
        "32",
        "--output",
        "report.md",
        cwd=tmp_path,
    )
    assert "scratch-folder" not in proc.stdout + proc.stderr and "stylize:" not in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "compare: wrote report.md and report.png"


# --- 9. the install: CPU-only PyTorch, optional loggers ----------------------------------------------------------


def test_loggers_are_optional_extras_and_the_cpu_install_is_documented():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    names = [re.split(r"[<>=\[; ]", d)[0].lower() for d in project["dependencies"]]
    assert "wandb" not in names and "tensorboard" not in names
    extras = project["optional-dependencies"]
    assert [re.split(r"[<>=]", d)[0] for d in extras["wandb"]] == ["wandb"]
    assert [re.split(r"[<>=]", d)[0] for d in extras["tensorboard"]] == ["tensorboard"]
    dev = [re.split(r"[<>=\[]", d)[0] for d in extras["dev"]]
    assert "wandb" in dev and "tensorboard" in dev
    for page in ("README.md", "docs/index.md"):
        assert "--index-url https://download.pytorch.org/whl/cpu" in (REPO / page).read_text(encoding="utf-8"), page
    # no recipe needs them: the logger pieces name W&B (an extra, said below) and CSV only
    loggers = "\n".join(p.read_text() for p in (REPO / "gan_style" / "recipes").rglob("*.yaml"))
    assert "TensorBoardLogger" not in loggers


def _without(monkeypatch, *modules: str) -> None:
    """As if ``modules`` were not installed, for the checks that look for them (``importlib.util.find_spec``)."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name in modules else find_spec(name, *a))


def _fit_args(run: Path) -> list[str]:
    return [
        "--config",
        "cyclegan",
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.limit_val_batches=0",
    ]


def test_without_wandb_a_wandb_recipe_says_how_to_install_it_in_one_line(tmp_path, monkeypatch):
    _without(monkeypatch, "wandb")
    proc = gan_style_in_process(
        "fit",
        *_fit_args(tmp_path / "run"),
        "--config",
        "loggers/wandb",
        "--trainer.max_steps=1",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == (
        "gan-style: error: the config logs to Weights & Biases (WandbLogger, e.g. --config loggers/wandb) but the "
        "package 'wandb' is not installed: pip install \"gan-style[wandb]\""
    )
    assert "Traceback" not in proc.stderr


def test_without_tensorboard_runs_and_resumed_runs_log_to_csv(tmp_path, monkeypatch):
    """A base install (no tensorboard): fit, and fit --ckpt_path last (which logs into the run's own version_N),
    run with Lightning's CSV logger, without its long notice."""
    _without(monkeypatch, "tensorboard", "tensorboardX")
    run = tmp_path / "run"
    first = gan_style_in_process("fit", *_fit_args(run), "--trainer.max_steps=2", cwd=tmp_path)
    resumed = gan_style_in_process("fit", *_fit_args(run), "--trainer.max_steps=4", "--ckpt_path=last", cwd=tmp_path)
    logs = run / "lightning_logs"
    assert [p.name for p in logs.iterdir()] == ["version_0"]  # the resumed run logs into the same folder
    assert (logs / "version_0" / "hparams.yaml").is_file() and not list(logs.rglob("events.out.tfevents*"))
    assert "tensorboardX" not in first.stderr + resumed.stderr
