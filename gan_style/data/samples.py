"""The small sample datasets installed with gan-style, so that the recipes run from any folder.

The recipes' default data paths are ``examples/data/...`` (the sample sets in the source tree: photos and
paintings for CycleGAN, AdaIN and the PatchGAN style network, facade label maps for Pix2Pix; sources and
licences in ``examples/data/SOURCES.md``). The same files are installed with the package
(``gan_style/sample_data``), and :func:`resolve_data_path` uses that copy when such a path does not exist
where the command runs. ``gan-style download sample`` copies them into a folder of your own.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["SAMPLE_PREFIX", "copy_samples", "resolve_data_path", "sample_data_dir"]

#: The prefix of the recipes' sample paths, relative to the folder a command runs in.
SAMPLE_PREFIX = "examples/data"


def sample_data_dir() -> Path:
    """The folder of the sample sets installed with the package (``<site-packages>/gan_style/sample_data``)."""
    return Path(__file__).resolve().parent.parent / "sample_data"


def resolve_data_path(path: str | os.PathLike) -> Path:
    """``path`` as a :class:`~pathlib.Path`: as given when it exists; a relative path under ``examples/data/``
    that does not exist here becomes the installed copy of that sample (when the package has it). Any other
    path is returned as given (the data module's own check names it when it is missing)."""
    given = Path(path)
    if given.exists() or given.is_absolute():
        return given
    parts = Path(os.path.normpath(given)).parts
    prefix = Path(SAMPLE_PREFIX).parts
    if parts[: len(prefix)] == prefix:
        installed = sample_data_dir().joinpath(*parts[len(prefix) :])
        if installed.exists():
            return installed
    return given


def copy_samples(destination: str | os.PathLike = "examples/data") -> Path:
    """Copy the installed sample sets into ``destination`` (default ``examples/data``, the path the recipes
    name, so they then use the copy) and return it.

    Raises:
        FileExistsError: ``destination`` exists and is not empty (nothing is overwritten).
        FileNotFoundError: the package was installed without its sample data.
    """
    source = sample_data_dir()
    if not source.is_dir():
        raise FileNotFoundError(f"the sample data is not installed with gan-style (no folder '{source}')")
    target = Path(destination)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"'{target}' exists and is not empty")
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target
