"""The recipes installed with gan-style (``gan_style/recipes/*.yaml``), usable by name from any folder, and the
``gan-style recipes`` command that lists them.

Examples::

    gan-style recipes
    gan-style fit --config cyclegan --config demo/cpu        # the same as --config cyclegan+demo/cpu
    gan-style fit --config recipes/cyclegan.yaml             # the path in the source tree works too

Everything here is light (no torch, no Lightning): the ``gan-style`` dispatcher and the Lightning commands
(:mod:`gan_style.commands.lightning_cli`) use it before anything heavy is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "check_config_files",
    "expand_recipes",
    "list_recipes",
    "main",
    "recipes_command",
    "recipes_dir",
    "resolve_recipe",
]


def recipes_dir() -> Path:
    """The folder of the recipes installed with the package (``gan_style/recipes``)."""
    return Path(__file__).resolve().parent.parent / "recipes"


def list_recipes() -> dict[str, Path]:
    """Installed recipes by name (``cyclegan``, ``demo/cpu``, ``loggers/wandb`` ...): the path inside
    :func:`recipes_dir` without ``.yaml``."""
    root = recipes_dir()
    return {p.relative_to(root).with_suffix("").as_posix(): p for p in sorted(root.rglob("*.yaml"))}


def resolve_recipe(value: str) -> list[str]:
    """The config file(s) a ``--config`` value names: an existing file as it is; otherwise installed recipes by
    name, ``cyclegan``, ``demo/cpu``, ``recipes/cyclegan.yaml`` (the path in the source tree), several joined by
    ``+`` (``cyclegan+demo/cpu``), so recipes work from any folder. A value that is neither stays as it is (the
    check that follows names it)."""
    if os.path.isfile(value):
        return [value]
    known = list_recipes()
    names = [part.strip() for part in value.split("+")]
    resolved = []
    for name in names:
        key = name.removeprefix("./").removeprefix("recipes/").removesuffix(".yaml").removesuffix(".yml")
        if key not in known:
            return [value]
        resolved.append(str(known[key]))
    return resolved


def expand_recipes(argv: list[str]) -> list[str]:
    """``argv`` with every ``--config`` / ``-c`` value replaced by the file(s) :func:`resolve_recipe` finds (one
    ``--config`` per file)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg in ("--config", "-c") and i + 1 < len(argv):
            for path in resolve_recipe(argv[i + 1]):
                out += [arg, path]
            i += 2
            continue
        if arg.startswith("--config="):
            for path in resolve_recipe(arg.split("=", 1)[1]):
                out += ["--config", path]
            i += 1
            continue
        out.append(arg)
        i += 1
    return out


def check_config_files(argv: list[str]) -> None:
    """Read every ``--config FILE`` / ``--config=FILE`` / ``-c FILE`` of a ``fit`` / ``validate`` / ``test`` /
    ``predict`` command line as YAML first, so that a syntax error is reported with the file's name and the
    position (jsonargparse reports it as an anonymous string).

    Raises:
        FileMissingError: a config file that does not exist.
        InvalidSettingError: a config file that is not valid YAML; the message names the file, the line and
            column, and the problem.
    """
    import yaml

    from gan_style.errors import FileMissingError, InvalidSettingError

    paths = []
    for i, arg in enumerate(argv):
        if arg in ("--config", "-c") and i + 1 < len(argv):
            paths.append(argv[i + 1])
        elif arg.startswith("--config="):
            paths.append(arg.split("=", 1)[1])
    for path in paths:
        if not os.path.isfile(path):
            raise FileMissingError(
                f"config file '{path}' does not exist; give a file, or an installed recipe by name: "
                f"{', '.join(list_recipes())} (gan-style recipes lists them)"
            )
        try:
            with open(path, encoding="utf-8") as f:
                yaml.safe_load(f)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(err, "problem", None) or str(err)
            context = getattr(err, "context", None)
            also = f" ({context})" if context else ""
            raise InvalidSettingError(
                f"config file '{path}' is not valid YAML{where}: {problem}{also}; fix the file"
            ) from None
        except UnicodeDecodeError as err:
            raise InvalidSettingError(f"config file '{path}' is not UTF-8 text ({err.reason}); fix the file") from None


def _summary(path: Path) -> str:
    """The recipe's first comment line, without the ``#``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line.strip():
            break
    return ""


def recipes_command() -> dict[str, str]:
    """Print each installed recipe's name and its first comment line; return them (name -> summary)."""
    found = {name: _summary(path) for name, path in list_recipes().items()}
    width = max(map(len, found))
    for name, summary in found.items():
        print(f"{name.ljust(width)}  {summary}")
    print(
        f"\nUse them by name from any folder: gan-style fit --config cyclegan --config demo/cpu (or cyclegan+demo/cpu); "
        f"they live in {recipes_dir()}"
    )
    return found


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style recipes``; errors as one line (:mod:`gan_style.commands.runner`)."""
    from gan_style.commands.runner import run_command

    run_command(recipes_command, args, "gan-style recipes")
