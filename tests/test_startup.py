"""The ``gan-style`` command starts at once: ``--help``, every command's ``--help`` other than Lightning's four and a
misspelt command import neither torch nor Lightning (checked in fresh processes, never timed; the times are
``benchmarks/startup.py``'s); the dispatcher's one table of commands; the hint of ``fit`` without arguments; the
line a finished ``fit`` ends with."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import pytest

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process
from gan_style.cli import COMMANDS, is_lightning_command, overview_help

#: What a fresh process runs: ``gan_style.cli.main`` on its arguments, then one JSON line with the exit status and
#: the heavy modules it imported.
_PROBE = """
import json, sys
from gan_style.cli import main
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as exc:
    code = exc.code
heavy = sorted(m for m in ("torch", "torchvision", "lightning", "pytorch_lightning") if m in sys.modules)
print("\\n" + json.dumps({"code": code, "heavy": heavy}))
"""

LIGHT_COMMANDS = [name for name in COMMANDS if not is_lightning_command(name)]


def probe(*args: str, cwd) -> tuple[dict, str, str]:
    """``gan-style ARGS`` in a fresh interpreter: (``{"code", "heavy"}``, stdout before the report, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, cwd=cwd, timeout=300, check=False
    )
    out, _, report = proc.stdout.rstrip().rpartition("\n")
    assert proc.returncode == 0, proc.stderr
    return json.loads(report), out, proc.stderr


def test_the_dispatcher_imports_nothing_heavy(tmp_path):
    code = "import sys, gan_style, gan_style.cli, gan_style.commands.runner, gan_style.commands.help"
    proc = subprocess.run(
        [sys.executable, "-c", f"{code}; print(sorted(m for m in ('torch', 'lightning') if m in sys.modules))"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
        check=True,
    )
    assert proc.stdout.strip() == "[]"


def test_overview_help_imports_neither_torch_nor_lightning(tmp_path):
    report, out, _ = probe("--help", cwd=tmp_path)
    assert report == {"code": 0, "heavy": []}
    assert out.startswith("usage: gan-style COMMAND")


@pytest.mark.parametrize("command", LIGHT_COMMANDS)
def test_command_help_imports_neither_torch_nor_lightning(command, tmp_path):
    """The help is parsed from the command function's signature; the command module imports torch only inside
    its functions (stylize, export, pretrained ... import no Lightning even when they run, but that is slower to
    check and is not this test's)."""
    report, out, err = probe(command, "--help", cwd=tmp_path)
    assert report == {"code": 0, "heavy": []}, err
    assert out.startswith(f"usage: gan-style {command}"), out[:200]


def test_a_misspelt_command_imports_nothing_heavy_and_names_the_nearest(tmp_path):
    report, out, err = probe("fitt", cwd=tmp_path)
    assert report == {"code": 2, "heavy": []}
    assert out == ""
    assert err.strip().splitlines() == [err.strip()]  # one line
    assert err.startswith("gan-style: error: unknown command 'fitt'; did you mean 'fit'")


def test_fit_without_arguments_says_to_give_a_recipe(tmp_path):
    report, out, err = probe("fit", cwd=tmp_path)
    assert report == {"code": 2, "heavy": []}
    assert out == ""
    assert (
        err.strip()
        == "gan-style fit: error: give a recipe: gan-style fit --config cyclegan (gan-style recipes lists them)"
    )


@pytest.mark.parametrize("command", [name for name in COMMANDS if is_lightning_command(name) and name != "fit"])
def test_other_lightning_commands_without_arguments_say_what_to_give(command, tmp_path):
    report, _, err = probe(command, cwd=tmp_path)
    assert report["code"] == 2 and report["heavy"] == []
    assert len(err.strip().splitlines()) == 1 and "--ckpt_path" in err and "--config" in err


def test_import_options_are_taken_from_any_place_and_checked(tmp_path):
    """``--import`` is popped before dispatch (``gan-style --import m stylize ...`` is the stylize command);
    ``--import`` without a module is one line, status 2, before anything heavy."""
    report, out, _ = probe("--import", "nowhere_module", "recipes", "--help", cwd=tmp_path)
    assert report == {"code": 0, "heavy": []} and out.startswith("usage: gan-style recipes")
    report, _, err = probe("stylize", "--import", cwd=tmp_path)
    assert report == {"code": 2, "heavy": []}
    assert err.strip() == "gan-style stylize: error: --import needs a module name, e.g. --import my_package.my_method"


def test_the_overview_lists_every_command_exactly_once():
    listed = [line.split()[0] for line in overview_help().splitlines() if line.startswith("  ") and line.split()]
    listed = [word for word in listed if word.isidentifier()]  # the command rows, not the examples
    assert sorted(listed) == sorted(COMMANDS)
    assert len(listed) == len(set(listed))
    assert [name for name in COMMANDS if is_lightning_command(name)] == ["fit", "validate", "test", "predict"]


def test_every_light_command_has_a_module_with_main():
    for name in LIGHT_COMMANDS:
        assert (REPO / "gan_style" / "commands" / f"{name}.py").is_file(), name


def test_moved_names_stay_importable_from_the_cli_module():
    import gan_style.cli as cli
    from gan_style.commands.recipes import list_recipes

    assert cli.list_recipes is list_recipes
    assert "cyclegan" in cli.list_recipes()
    with pytest.raises(AttributeError):
        cli.no_such_name  # noqa: B018


def test_the_next_steps_line_names_the_checkpoint_and_the_commands():
    from gan_style.commands.lightning_cli import next_steps_message

    assert next_steps_message([], None) is None
    line = next_steps_message(["/elsewhere/my run/checkpoints/last.ckpt"], SimpleNamespace(stylizer_networks=("g",)))
    assert line == (
        "gan-style fit: done; checkpoint '/elsewhere/my run/checkpoints/last.ckpt'. Next: gan-style predict "
        "--ckpt_path '/elsewhere/my run/checkpoints/last.ckpt', or gan-style stylize --checkpoint "
        "'/elsewhere/my run/checkpoints/last.ckpt' --content photo.jpg"
    )
    gatys = next_steps_message(["/x/last.ckpt"], SimpleNamespace(stylizer_networks=()))
    assert gatys is not None and "stylize" not in gatys
    # an unconditional generator (DCGAN) has no input to predict from: sample is its next command
    noise = SimpleNamespace(latent_size=8, sample_latents=lambda n, generator=None: None, generate=lambda z: None)
    assert next_steps_message(["/x/last.ckpt"], noise) == (
        "gan-style fit: done; checkpoint /x/last.ckpt. Next: gan-style sample --checkpoint /x/last.ckpt --num_samples 64"
    )
    # a method of your own: the next commands make it known with --import, as fit did
    from gan_style.methods import GanStyleModule

    mine = type("Refiner", (GanStyleModule,), {"__module__": "my_pkg.refiner", "stylizer_networks": ("g",)})
    line = next_steps_message(["/x/last.ckpt"], mine.__new__(mine))
    assert line == (
        "gan-style fit: done; checkpoint /x/last.ckpt. Next: gan-style predict --import my_pkg.refiner --ckpt_path "
        "/x/last.ckpt, or gan-style stylize --import my_pkg.refiner --checkpoint /x/last.ckpt --content photo.jpg"
    )


def test_a_finished_fit_ends_with_its_checkpoint_and_the_next_commands(tmp_path):
    proc = gan_style_in_process(
        "fit",
        "--config",
        "cyclegan",
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        "--trainer.default_root_dir=runs/tiny",
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=0",
        "--trainer.logger=false",
        cwd=tmp_path,
    )
    last = proc.stdout.strip().splitlines()[-1]
    path = "runs/tiny/checkpoints/last.ckpt"
    assert (tmp_path / path).is_file()
    assert last == (
        f"gan-style fit: done; checkpoint {path}. Next: gan-style predict --ckpt_path {path}, "
        f"or gan-style stylize --checkpoint {path} --content photo.jpg"
    )


def test_fit_help_is_lightnings(tmp_path):
    proc = gan_style_in_process("fit", "--help", cwd=tmp_path)
    assert proc.stdout.startswith("usage: gan-style [options] fit")
    assert "--trainer.max_steps" in proc.stdout and "--ckpt_path" in proc.stdout
