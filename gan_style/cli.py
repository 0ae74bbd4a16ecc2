"""The ``gan-style`` command: a light dispatcher that parses and dispatches before anything heavy is imported.

Examples::

    gan-style fit --config cyclegan --config demo/cpu
    gan-style predict --ckpt_path runs/cyclegan/checkpoints/last.ckpt
    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photo.jpg --style art.jpg
    gan-style stylize --help

Every command is a row of :data:`COMMANDS`. ``fit``, ``validate``, ``test`` and ``predict`` are Lightning's
(:mod:`gan_style.commands.lightning_cli`, imported only when one of them runs); every other command ``NAME`` is
``gan_style.commands.NAME.main``, whose options are parsed from a function's signature
(:mod:`gan_style.commands.runner`). ``gan-style --help``, a misspelt command, the ``--help`` of every command but
Lightning's four and the import of a command module import neither torch nor Lightning: commands import what
they use, when they run.

Names that moved out of this module (``GanStyleCLI``, ``config_from_checkpoint``, ``list_recipes`` ...) are still
importable from it; they load their module on first use.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any, NamedTuple, NoReturn

__all__ = ["COMMANDS", "Command", "is_lightning_command", "main", "overview_help", "unknown_command_message"]

#: Exit status of a bad request (:mod:`gan_style.commands.runner`, which is not imported for ``--help``).
_EXIT_BAD_REQUEST = 2


class Command(NamedTuple):
    """One ``gan-style`` command: its section of ``gan-style --help``, its one-line summary and, for a command
    that cannot run without arguments, what it says when given none (one line, status 2)."""

    section: str
    summary: str
    needs: str | None = None


_LIGHTNING = "training and evaluation (Lightning; a recipe with --config):"
_MODELS = "using models:"
_DATA = "data and evaluation:"

#: Every command, in the order ``gan-style --help`` shows them: the one list of command names. The commands of
#: the Lightning section run through :func:`gan_style.commands.lightning_cli.run`; any other ``NAME`` through
#: ``gan_style.commands.NAME.main``.
COMMANDS: dict[str, Command] = {
    "fit": Command(
        _LIGHTNING,
        "train a method from a recipe (--config cyclegan, by name or file); resume with --ckpt_path last",
        "give a recipe: gan-style fit --config cyclegan (gan-style recipes lists them)",
    ),
    "validate": Command(
        _LIGHTNING,
        "one pass over the validation set of a checkpoint",
        "give a checkpoint: gan-style validate --ckpt_path runs/NAME/checkpoints/last.ckpt (or a recipe: --config)",
    ),
    "test": Command(
        _LIGHTNING,
        "the evaluation metrics of a checkpoint on the test set",
        "give a checkpoint: gan-style test --ckpt_path runs/NAME/checkpoints/last.ckpt (or a recipe: --config)",
    ),
    "predict": Command(
        _LIGHTNING,
        "translate or stylize a folder with a checkpoint (--ckpt_path FILE is enough), written as images",
        "give a checkpoint: gan-style predict --ckpt_path runs/NAME/checkpoints/last.ckpt (or a recipe: --config)",
    ),
    "stylize": Command(_MODELS, "stylize or translate images: a checkpoint, a published model (--pretrained) or Gatys"),
    "sample": Command(
        _MODELS,
        "images drawn from noise by a generator (DCGAN checkpoints): a grid, single images, a latent interpolation",
        "give a checkpoint: gan-style sample --checkpoint runs/dcgan/checkpoints/last.ckpt --num_samples 64",
    ),
    "demo": Command(_MODELS, "a local web page (Gradio) to try checkpoints and published models in a browser"),
    "pretrained": Command(
        _MODELS, "the published models (CycleGAN and pix2pix zoos, AdaIN, fast neural style); show or download one"
    ),
    "export": Command(
        _MODELS, "a trained generator as TorchScript, ONNX or a safetensors model folder, checked by running it"
    ),
    "download": Command(
        _DATA, "a standard CycleGAN or pix2pix dataset, verified and extracted; or the bundled samples (sample)"
    ),
    "evaluate": Command(_DATA, "FID, KID, LPIPS, ArtFID, PSNR / SSIM between image folders"),
    "compare": Command(_DATA, "a Markdown or HTML report comparing runs: metrics table and outputs on the same inputs"),
    "recipes": Command(_DATA, "the installed recipes, usable by name from any folder (--config cyclegan+demo/cpu)"),
}

#: Names that moved to the module of their concern, importable from here as before (loaded on first use).
_MOVED = {
    "GanStyleCLI": "gan_style.commands.lightning_cli",
    "ArgumentParser": "gan_style.commands.lightning_cli",
    "EXIT_TERMINATED": "gan_style.commands.lightning_cli",
    "MANUAL_CHECKPOINT_WARNING": "gan_style.commands.lightning_cli",
    "config_from_checkpoint": "gan_style.commands.lightning_cli",
    "latest_log_version": "gan_style.commands.lightning_cli",
    "recipe_for_method": "gan_style.commands.lightning_cli",
    "check_config_files": "gan_style.commands.recipes",
    "expand_recipes": "gan_style.commands.recipes",
    "list_recipes": "gan_style.commands.recipes",
    "recipes_dir": "gan_style.commands.recipes",
    "resolve_recipe": "gan_style.commands.recipes",
}


def __getattr__(name: str) -> Any:  # PEP 562: the moved names, imported when first used
    if name in _MOVED:
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_lightning_command(name: str) -> bool:
    """Whether ``name`` is one of Lightning's commands (``fit``, ``validate``, ``test``, ``predict``)."""
    command = COMMANDS.get(name)
    return command is not None and command.section == _LIGHTNING


def overview_help() -> str:
    """The text of ``gan-style --help``: every command with one line, by section, and where each one's options
    are."""
    width = max(map(len, COMMANDS))
    lines = [
        "usage: gan-style COMMAND [options]       (gan-style COMMAND --help: the command's options)",
        "",
        "gan-style: neural style transfer and image-to-image translation (CycleGAN, CUT, Pix2Pix, AdaIN, Gatys,",
        "the PatchGAN style network) and image generation (DCGAN) with PyTorch Lightning.",
        "",
    ]
    section = None
    for name, command in COMMANDS.items():
        if command.section != section:
            section = command.section
            lines.append(section)
        lines.append(f"  {name.ljust(width)}  {command.summary}")
    lines += [
        "",
        "Every command takes --import MODULE (methods of your own). Errors are one line; exit status 0 done,",
        "1 failed, 2 bad request, 130 interrupted, 143 stopped by SIGTERM. Set GAN_STYLE_TRACEBACK=1 for tracebacks.",
        "Examples:",
        "  gan-style fit --config cyclegan --config demo/cpu                 # a few minutes on the bundled samples",
        "  gan-style fit --config cyclegan --data.init_args.root datasets/horse2zebra",
        "  gan-style stylize --pretrained horse2zebra --content photos/",
    ]
    return "\n".join(lines)


def unknown_command_message(word: str) -> str:
    """One line for a command that does not exist, with the nearest ones."""
    import difflib

    close = difflib.get_close_matches(word, list(COMMANDS), n=2, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown command {word!r}{hint} (gan-style --help lists the commands: {', '.join(COMMANDS)})"


def one_line_warning(
    message: Warning | str, category: type[Warning], filename: str, lineno: int, line: str | None = None
) -> str:
    """Warnings during a ``gan-style`` command print as ``gan-style: warning: <message>``, without the source
    file and line of the library that raised them (``GAN_STYLE_TRACEBACK=1`` keeps Python's format)."""
    return f"gan-style: warning: {message}\n"


class _QuietLightningInfo(logging.Filter):
    """Drops Lightning's start-up lines a user cannot act on: "GPU available: False", "TPU available: False ...",
    and its advertising tip. "GPU available: True, used: False" stays (a GPU left unused is worth knowing)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = str(record.getMessage())
        if message.startswith("💡 Tip"):
            return False
        if message.startswith(("GPU available: False", "TPU available: False", "HPU available: False")):
            return False
        if message.startswith("Trainer already configured with model summary callbacks"):
            return False  # gan-style's own summary (RunModelSummary) replaces Lightning's
        return True


@contextlib.contextmanager
def _command_output() -> Iterator[None]:
    """While a command runs: warnings as one line (:func:`one_line_warning`, unless ``GAN_STYLE_TRACEBACK``) and
    without Lightning's start-up lines a user cannot act on (``fit`` and ``predict``, and commands that optimize
    with a Trainer such as ``stylize --method gatys``). Naming a logger imports nothing."""
    quiet = _QuietLightningInfo()
    lightning_log = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    lightning_log.addFilter(quiet)
    format_warning = warnings.formatwarning
    if not os.environ.get("GAN_STYLE_TRACEBACK"):
        warnings.formatwarning = one_line_warning
    try:
        yield
    finally:
        lightning_log.removeFilter(quiet)
        warnings.formatwarning = format_warning


def _pop_imports(argv: list[str]) -> tuple[list[str], list[str]]:
    """Split ``--import MODULE`` / ``--import=MODULE`` (any command, repeatable) from the other arguments.

    Raises:
        ValueError: ``--import`` without a module name.
    """
    rest, modules = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--import":
            if i + 1 >= len(argv):
                raise ValueError("--import needs a module name, e.g. --import my_package.my_method")
            modules.append(argv[i + 1])
            i += 2
            continue
        if arg.startswith("--import="):
            modules.append(arg.split("=", 1)[1])
        else:
            rest.append(arg)
        i += 1
    return rest, modules


def _fail(prog: str, exc: BaseException) -> NoReturn:
    """Print a handled error as one line and exit with its status; re-raise anything else (or everything with
    ``GAN_STYLE_TRACEBACK=1``)."""
    from gan_style.commands.runner import exit_status, handled, print_error

    if os.environ.get("GAN_STYLE_TRACEBACK") or not handled(exc):
        raise exc
    print_error(prog, exc)
    raise SystemExit(exit_status(exc)) from None


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style`` and ``python -m gan_style``.

    Every command accepts ``--import MODULE`` (repeatable): the module is imported first, making the methods it
    defines known (as do installed packages declaring the entry-point group ``gan_style.methods``, loaded here
    for a command that runs; ``--help`` of a command other than Lightning's imports neither). Errors print as one
    line with the exit status of :mod:`gan_style.commands.runner` (``GAN_STYLE_TRACEBACK=1`` shows the
    traceback).
    """
    argv = sys.argv[1:] if args is None else list(args)
    first = argv[0] if argv else ""
    try:
        argv, modules = _pop_imports(argv)
    except ValueError as exc:
        _fail(f"gan-style {first}" if first in COMMANDS and not is_lightning_command(first) else "gan-style", exc)
    if not argv or argv[0] in ("-h", "--help"):
        print(overview_help())
        raise SystemExit(0 if argv else _EXIT_BAD_REQUEST)
    name = argv[0]
    if not name.startswith("-") and name not in COMMANDS:
        print(f"gan-style: error: {unknown_command_message(name)}", file=sys.stderr)
        raise SystemExit(_EXIT_BAD_REQUEST)
    needs = COMMANDS[name].needs if name in COMMANDS else None
    if len(argv) == 1 and needs:
        print(f"gan-style {name}: error: {needs}", file=sys.stderr)
        raise SystemExit(_EXIT_BAD_REQUEST)
    lightning = name not in COMMANDS or is_lightning_command(name)  # options first: Lightning's parser says so
    prog = "gan-style" if lightning else f"gan-style {name}"
    with _command_output():
        if lightning:
            from gan_style.commands.lightning_cli import run

            run(argv, modules, from_sys_argv=args is None)
            return
        rest = argv[1:]
        if not ("-h" in rest or "--help" in rest):  # a command's help is its signature: no plugins needed
            try:
                from gan_style.loading.plugins import import_modules, load_plugins

                load_plugins()
                import_modules(modules)
            except Exception as exc:
                _fail(prog, exc)
        importlib.import_module(f"gan_style.commands.{name}").main(rest)


if __name__ == "__main__":
    main()
