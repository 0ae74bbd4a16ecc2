"""``gan-style recipes``: the recipes installed with gan-style, usable by name from any folder.

Examples::

    gan-style recipes
    gan-style fit --config cyclegan --config demo/cpu        # the same as --config cyclegan+demo/cpu
    gan-style fit --config recipes/cyclegan.yaml             # the path in the source tree works too
"""

from __future__ import annotations

__all__ = ["main", "recipes_command"]


def _summary(path) -> str:
    """The recipe's first comment line, without the ``#``."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            return line.lstrip("#").strip()
        if line.strip():
            break
    return ""


def recipes_command() -> dict[str, str]:
    """Print each installed recipe's name and its first comment line; return them (name -> summary)."""
    from gan_style.cli import list_recipes, recipes_dir

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
