"""Which methods gan-style knows, and rebuilding a method from a checkpoint without running foreign code.

A method is known when its class is a :class:`~gan_style.methods.GanStyleModule` subclass (or
:class:`~gan_style.methods.Gatys`) defined in gan-style, or one the user made known:

- their own code imports it (defining a ``GanStyleModule`` subclass registers it);
- an installed package declares it under the entry-point group ``gan_style.methods`` (Python's plugin
  convention: ``[project.entry-points."gan_style.methods"] my_method = "my_package.my_method"``), loaded by
  :func:`load_plugins` (the ``gan-style`` command does it at start);
- the user names its module on the command line: ``gan-style <subcommand> --import my_package.my_method``
  (repeatable, every subcommand), :func:`import_modules`.

A checkpoint never causes an import by itself: every class path it names (the method, and at every depth of
its hyper-parameters the ``class_path`` of networks and other components, and the ``_instantiator``) must
resolve to a module of gan-style or of a known method's package, already imported, before anything is built
(:func:`check_class_paths`).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import lightning as L
import torch

from gan_style.errors import FileMissingError, PluginError, UnsafeFileError
from gan_style.io.untrusted import safe_load

__all__ = [
    "ENTRY_POINT_GROUP",
    "check_class_paths",
    "import_modules",
    "known_packages",
    "load_method",
    "load_plugins",
    "register_method",
]

#: The entry-point group under which installed packages declare their methods.
ENTRY_POINT_GROUP = "gan_style.methods"

#: The instantiator LightningCLI records in checkpoint hyper-parameters; the only one accepted.
_INSTANTIATOR = "lightning.pytorch.cli.instantiate_module"

_KNOWN_PACKAGES: set[str] = {"gan_style"}
_LOADED_PLUGINS = False


def register_method(cls: type) -> type:
    """Make the package of the method class ``cls`` known (its top-level package, e.g. ``my_package`` for
    ``my_package.methods.MyMethod``), so checkpoints may name its classes. Called for every
    ``GanStyleModule`` subclass when it is defined; returns ``cls`` (usable as a decorator)."""
    module = getattr(cls, "__module__", "") or ""
    if module and module != "__main__":
        _KNOWN_PACKAGES.add(module.split(".")[0])
    elif module == "__main__":
        _KNOWN_PACKAGES.add("__main__")
    return cls


def known_packages() -> tuple[str, ...]:
    """The top-level packages whose classes checkpoints may name: ``gan_style`` and those of known methods."""
    return tuple(sorted(_KNOWN_PACKAGES))


def import_modules(names: Iterable[str]) -> None:
    """Import the modules the user named (``--import my_package.my_method``), making their methods known.

    The current folder is searched too (as ``python -m`` does), so a method file beside the recipe works.

    Raises:
        PluginError: a module cannot be imported (the message names it and the import error).
    """
    for name in names:
        if os.getcwd() not in sys.path and "" not in sys.path:
            sys.path.insert(0, os.getcwd())
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise PluginError(
                f"--import {name}: cannot import that module ({type(exc).__name__}: {exc}); give an importable "
                "module name (a package installed in this environment, or a file NAME.py in the current folder or "
                "on PYTHONPATH)"
            ) from None
        _KNOWN_PACKAGES.add(module.__name__.split(".")[0])


def load_plugins() -> list[str]:
    """Import the methods that installed packages declare under :data:`ENTRY_POINT_GROUP` (once).

    Returns:
        The entry-point names loaded.

    Raises:
        PluginError: a declared plugin fails to import (the message names the plugin and its package).
    """
    global _LOADED_PLUGINS
    loaded: list[str] = []
    if _LOADED_PLUGINS:
        return loaded
    _LOADED_PLUGINS = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:
            dist = getattr(getattr(ep, "dist", None), "name", "an installed package")
            raise PluginError(
                f"the gan-style plugin {ep.name!r} ({ep.value}, declared by {dist}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        _KNOWN_PACKAGES.add(ep.value.split(":")[0].split(".")[0])
        loaded.append(ep.name)
    return loaded


def _class_paths(value: Any, where: str = "hyper_parameters") -> Iterator[tuple[str, str]]:
    """Every (location, class path) a checkpoint's hyper-parameters name: ``class_path``, ``_class_path`` and
    ``_instantiator`` entries, at any depth of dicts and lists."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}"
            if key in ("class_path", "_class_path", "_instantiator") and isinstance(item, str):
                yield here, item
            else:
                yield from _class_paths(item, here)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _class_paths(item, f"{where}[{i}]")


def check_class_paths(checkpoint: dict[str, Any], source: str | os.PathLike = "checkpoint") -> None:
    """Refuse a checkpoint whose hyper-parameters name a class outside gan-style and the known methods.

    Every ``class_path`` / ``_class_path`` at every depth must lie in a package of :func:`known_packages`
    (nothing is imported here); ``_instantiator`` must be LightningCLI's. Call it before anything in the
    checkpoint is instantiated.

    Args:
        checkpoint: the loaded checkpoint (a dict read with ``weights_only=True``).
        source: how messages name the file.

    Raises:
        UnsafeFileError: a refused class path; the message names it, where it appears and how to make a
            method of your own known.
    """
    known = set(_KNOWN_PACKAGES)
    entries = list(_class_paths(checkpoint.get("hyper_parameters", {})))
    if checkpoint.get("gan_style_class"):
        entries.append(("gan_style_class", checkpoint["gan_style_class"]))
    for where, path in entries:
        if where.endswith("_instantiator"):
            if path != _INSTANTIATOR:
                raise UnsafeFileError(
                    f"checkpoint '{source}' names the instantiator {path!r} ({where}); only {_INSTANTIATOR} is "
                    "accepted. The file was not loaded"
                )
            continue
        module = path.rpartition(".")[0]
        if not module or module.split(".")[0] not in known:
            raise UnsafeFileError(
                f"checkpoint '{source}' names the class {path!r} ({where}), outside gan-style and the methods made "
                "known; refusing to build it. If it is your own method, make it known with --import "
                "<its module>, an entry point in the group gan_style.methods, or by importing it before loading"
            )


def load_method(
    checkpoint: str | os.PathLike, device: str | torch.device = "cpu", imports: Sequence[str] = ()
) -> L.LightningModule:
    """Rebuild the method stored in a gan-style (Lightning) checkpoint, in eval mode on ``device``.

    The file is read with ``weights_only=True``; every class it names is checked by :func:`check_class_paths`
    before anything is instantiated (a checkpoint cannot make this function import or build foreign code).

    Args:
        checkpoint: a ``.ckpt`` written by ``gan-style fit``.
        device: where the model goes (``"cpu"``).
        imports: modules to import first (``--import``), making methods of your own known.

    Raises:
        FileMissingError: no such file, or a folder (a ``FileNotFoundError``).
        UnsafeFileError: a pickle that would run code, or a class outside gan-style and the known methods.
        UnreadableFileError: truncated or not a PyTorch file.
        PluginError: an ``imports`` module cannot be imported.
        ValueError: not a gan-style checkpoint, or the class is not a LightningModule.
    """
    import_modules(imports)
    path = Path(checkpoint)
    if path.is_dir():
        raise FileMissingError(
            f"checkpoint '{path}' is a folder; give a checkpoint file such as {path / 'checkpoints' / 'last.ckpt'}"
        )
    ckpt = safe_load(path)
    class_path = None
    if isinstance(ckpt, dict):
        class_path = ckpt.get("gan_style_class") or ckpt.get("hyper_parameters", {}).get("_class_path")
    if not class_path:
        raise ValueError(
            f"'{path}' is not a gan-style checkpoint (no model class recorded); checkpoints written by "
            "`gan-style fit` record it. Weights of the reference code load through the recipes' "
            "model.reference_weights instead."
        )
    check_class_paths(ckpt, path)
    module_name, _, class_name = class_path.rpartition(".")
    cls = getattr(importlib.import_module(module_name), class_name, None)  # already imported: checked above
    if not (isinstance(cls, type) and issubclass(cls, L.LightningModule)):
        raise ValueError(f"checkpoint '{path}' names {class_path!r}, which is not a LightningModule class")
    model = cls.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return model.to(device).eval()
