"""Which methods gan-style knows: its own and those the user made known (plugins).

A method is known when its class is a :class:`~gan_style.methods.GanStyleModule` subclass (or
:class:`~gan_style.methods.Gatys`) defined in gan-style, or one the user made known:

- their own code imports it (defining a ``GanStyleModule`` subclass registers it);
- an installed package declares it under the entry-point group ``gan_style.methods`` (Python's plugin
  convention: ``[project.entry-points."gan_style.methods"] my_method = "my_package.my_method"``), loaded by
  :func:`load_plugins` (the ``gan-style`` command does it at start);
- the user names its module on the command line: ``gan-style <subcommand> --import my_package.my_method``
  (repeatable, every subcommand), :func:`import_modules`.

A file never causes an import by itself: every class it names must already be imported and defined in
gan-style or in the package of a known method (:mod:`gan_style.loading.spec` checks it before anything is built).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points

from gan_style.errors import PluginError

__all__ = ["ENTRY_POINT_GROUP", "import_modules", "known_packages", "load_plugins", "register_method"]

#: The entry-point group under which installed packages declare their methods.
ENTRY_POINT_GROUP = "gan_style.methods"

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
