"""Settings read from a file as a validated plain specification, checked before anything is imported or built.

What comes from outside (a checkpoint's ``hyper_parameters``, the config a checkpoint carries, a model folder's
``config.json``) is plain data: JSON scalars, lists and mappings. This module turns it into a :class:`ClassSpec`
tree by these rules, and refuses anything else with one :class:`~gan_style.errors.ModelConfigError` line that
names the file and the key:

- A class is named only where the constructor's signature takes a class (a network, a loss): a mapping
  ``{"class_path": ..., "init_args": {...}}``. The class must already be imported, be defined in gan-style or in
  the package of a method the user made known (:mod:`gan_style.loading.plugins`), not start with an underscore,
  and be a subclass of the annotated type. Nothing is imported to find it (gan-style's own modules are imported
  first, by gan-style).
- Every other value is checked against the constructor's type hints (``int``, ``float``, ``bool``, ``str``,
  ``Literal``, unions, lists, tuples, mappings). A string is a string: it is never read as YAML, a class path or
  a file to include, so a network given as a string is refused.
- Unknown keys, missing required settings, names with a leading underscore, nesting deeper than
  :data:`MAX_DEPTH`, more than :data:`MAX_NODES` values and strings longer than :data:`MAX_STRING` are refused.

Only a validated :class:`ClassSpec` is built (:meth:`ClassSpec.build`), directly, by calling the classes: never
through a generic instantiation of the file's data. The trust model is written up in ``docs/reliability.md``.
"""

from __future__ import annotations

import collections.abc
import enum
import importlib
import inspect
import os
import pkgutil
import re
import sys
import types
import typing
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from gan_style.errors import ModelConfigError
from gan_style.loading.plugins import known_packages

__all__ = [
    "INSTANTIATOR",
    "MAX_DEPTH",
    "MAX_NETWORK_INT",
    "MAX_NODES",
    "MAX_STRING",
    "ClassSpec",
    "check_plain",
    "class_spec",
    "import_own_classes",
    "method_spec",
    "resolve_class",
]

#: Deepest nesting of lists and mappings accepted in a file's settings.
MAX_DEPTH = 32
#: Most values (scalars, lists, mappings together) accepted in a file's settings.
MAX_NODES = 100_000
#: Longest string accepted in a file's settings, in characters.
MAX_STRING = 4096
#: Largest integer setting of a network (``torch.nn.Module``) read from a file: channel and block counts bound the
#: memory and time a build takes, before the weights are compared with the file's (4096 channels is 16x the
#: largest published generator).
MAX_NETWORK_INT = 4096
#: The instantiator LightningCLI records in checkpoint hyper-parameters; the only one accepted.
INSTANTIATOR = "lightning.pytorch.cli.instantiate_module"

# a dotted name whose every part starts with a letter (no dunders, no private names)
_CLASS_PATH = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)+")
_SETTING_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def key_in_path(key: object) -> str:
    """A file's mapping key as a part of a dotted setting path in an error message.

    A plain name (letters, digits, ``_`` and ``-``, at most 80 characters) is written as is, so
    ``model.init_args.lr`` reads as the file does; any other key is written as ``[repr]``, cut to 80
    characters, so newlines or control characters in a crafted file cannot break the one-line message.

    Args:
        key: the key as read from the file (any type).

    Returns:
        ``".name"`` or ``"['odd key']"``, ready to be appended to the path so far.
    """
    if isinstance(key, str) and len(key) <= 80 and re.fullmatch(r"[A-Za-z0-9_\-]+", key):
        return f".{key}"
    return f"[{str(key)[:80]!r}]"


_OWN_PACKAGES = ("gan_style.nets", "gan_style.losses", "gan_style.data", "gan_style.methods")
_PLAIN_SCALARS = (str, int, float, bool, type(None))


def import_own_classes() -> None:
    """Import gan-style's own networks, losses, DataModules and every method module, so that their classes can be
    named by files (the only imports the loader makes; none is chosen by a file)."""
    for name in _OWN_PACKAGES:
        package = importlib.import_module(name)
        if hasattr(package, "load_all"):  # a package whose classes are imported on first use
            package.load_all()
        for info in pkgutil.iter_modules(package.__path__, prefix=f"{name}."):
            if name == "gan_style.methods" and not info.name.rpartition(".")[2].startswith("_"):
                importlib.import_module(info.name)


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"


def _expected(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return " or ".join(_expected(a) for a in typing.get_args(hint))
    if origin is typing.Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(hint))
    if hint is type(None) or hint is None:
        return "null"
    if isinstance(hint, type) and issubclass(hint, PurePath):
        return "a path string"
    if hint in (str, int, float, bool):
        return {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}[hint]
    if origin in (list, tuple, collections.abc.Sequence) or hint in (list, tuple):
        return "a list"
    if origin in (dict, collections.abc.Mapping) or hint is dict:
        return "a mapping"
    if isinstance(hint, type):
        return f"a {hint.__name__} given as a mapping {{class_path, init_args}}"
    return str(hint)


def check_plain(value: Any, source: str, where: str) -> None:
    """Check that ``value`` is plain data within the limits, without recursion (a file nested 200,000 deep is
    refused, not a ``RecursionError``).

    Plain data is ``None``, booleans, integers, floats, strings of at most :data:`MAX_STRING` characters, and
    lists, tuples and string-keyed mappings of plain data, nested at most :data:`MAX_DEPTH` deep, with at most
    :data:`MAX_NODES` values in all.

    Args:
        value: the data read from the file.
        source: how messages name the file (``"checkpoint 'last.ckpt'"``).
        where: the key path of ``value`` in the file (``"hyper_parameters"``).

    Raises:
        ModelConfigError: the first value that breaks a rule, named by its key path.
    """
    stack: list[tuple[Any, str, int]] = [(value, where, 0)]
    count = 0
    while stack:
        item, here, depth = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise ModelConfigError(f"{source}: {where} holds more than {MAX_NODES} values; the file was not loaded")
        if depth > MAX_DEPTH:
            raise ModelConfigError(
                f"{source}: {here} is nested more than {MAX_DEPTH} levels deep; the file was not loaded"
            )
        if isinstance(item, str):
            if len(item) > MAX_STRING:
                raise ModelConfigError(
                    f"{source}: {here} is a string of {len(item)} characters (at most {MAX_STRING}); the file was not "
                    "loaded"
                )
        elif isinstance(item, dict):
            for key, sub in item.items():
                if not isinstance(key, str):
                    raise ModelConfigError(f"{source}: {here} has a key that is not a string ({key!r})")
                stack.append((sub, f"{here}{key_in_path(key)}", depth + 1))
        elif isinstance(item, (list, tuple)):
            for i, sub in enumerate(item):
                stack.append((sub, f"{here}[{i}]", depth + 1))
        elif not isinstance(item, _PLAIN_SCALARS):
            raise ModelConfigError(
                f"{source}: {here} is {_describe(item)}, not plain data (numbers, strings, lists, mappings); the file "
                "was not loaded"
            )


def resolve_class(path: Any, base: type, source: str, where: str) -> type:
    """The class named by ``path``, looked up among the classes already imported, never imported for the file.

    Args:
        path: the dotted class path from the file (``"gan_style.nets.ResnetGenerator"``).
        base: the class it must derive from (the annotated type; ``LightningModule`` for a method).
        source: how messages name the file.
        where: the key path of ``path`` in the file.

    Returns:
        The class.

    Raises:
        ModelConfigError: not a string, not a dotted name of public parts, outside gan-style and the methods made
            known, not imported, not a class defined there, or not a subclass of ``base``.
    """
    if not isinstance(path, str) or len(path) > 256 or not _CLASS_PATH.fullmatch(path):
        shown = repr(path) if isinstance(path, str) and len(path) <= 80 else _describe(path)
        raise ModelConfigError(
            f"{source}: {where} is {shown}, not a class path of public names (package.module.Class); the file was "
            "not loaded"
        )
    module_name, _, name = path.rpartition(".")
    known = known_packages()
    outside = (
        f"{source} names the class {path!r} ({where}), outside gan-style and the methods made known; refusing to "
        "build it. If it is your own method, make it known with --import <its module>, an entry point in the group "
        "gan_style.methods, or by importing it before loading"
    )
    if module_name.split(".")[0] not in known:
        raise ModelConfigError(outside)
    module = sys.modules.get(module_name)
    cls = vars(module).get(name) if isinstance(module, types.ModuleType) else None
    if not isinstance(cls, type) or str(getattr(cls, "__module__", "")).split(".")[0] not in known:
        raise ModelConfigError(outside)
    if not issubclass(cls, base):
        raise ModelConfigError(
            f"{source}: {where} names {path!r}, which is not a {base.__name__}; the file was not loaded"
        )
    return cls


@dataclass(frozen=True)
class ClassSpec:
    """A validated class and its settings: what :meth:`build` calls, and nothing else.

    Attributes:
        cls: the class (gan-style's own or a known method's package).
        init_args: setting name -> validated value: plain data, a :class:`ClassSpec`, or lists, tuples and mappings
            of them.
    """

    cls: type
    init_args: dict[str, Any] = field(default_factory=dict)

    @property
    def class_path(self) -> str:
        """``module.Class`` of :attr:`cls`."""
        return f"{self.cls.__module__}.{self.cls.__qualname__}"

    def to_config(self) -> dict[str, Any]:
        """``{"class_path": ..., "init_args": {...}}`` as plain data (nested classes the same way)."""
        return {"class_path": self.class_path, "init_args": _to_plain(self.init_args)}

    def plain_init_args(self) -> dict[str, Any]:
        """:attr:`init_args` as plain data (nested classes as ``class_path`` / ``init_args`` mappings)."""
        return _to_plain(self.init_args)

    def build(self) -> Any:
        """Call :attr:`cls` with :attr:`init_args`, nested classes built first.

        The classes' own checks run here: a value a class refuses raises that class's error (usually a
        ``ValueError``), which :func:`gan_style.loading.sources.build_method` turns into one line.
        """
        return self.cls(**{key: _build(value) for key, value in self.init_args.items()})


def _to_plain(value: Any) -> Any:
    if isinstance(value, ClassSpec):
        return value.to_config()
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _build(value: Any) -> Any:
    if isinstance(value, ClassSpec):
        return value.build()
    if isinstance(value, dict):
        return {k: _build(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_build(v) for v in value)
    if isinstance(value, list):
        return [_build(v) for v in value]
    return value


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # an annotation that cannot be evaluated: those settings are checked as plain data
        return {}


def _no_class_paths(value: Any, source: str, where: str) -> Any:
    """A value of a setting typed ``Any`` (or untyped): plain data that names no class."""
    stack = [(value, where)]
    while stack:
        item, here = stack.pop()
        if isinstance(item, dict):
            for key, sub in item.items():
                if key in ("class_path", "_class_path", "__path__", "dict_kwargs"):
                    raise ModelConfigError(
                        f"{source}: {here}{key_in_path(key)}: a class is named only where the setting takes one; the file was "
                        "not loaded"
                    )
                stack.append((sub, f"{here}{key_in_path(key)}"))
        elif isinstance(item, (list, tuple)):
            stack.extend((sub, f"{here}[{i}]") for i, sub in enumerate(item))
    return value


def _check(value: Any, hint: Any, source: str, where: str, depth: int) -> Any:
    """``value`` checked against the type hint ``hint``; returns it with nested classes as :class:`ClassSpec`."""
    if depth > MAX_DEPTH:
        raise ModelConfigError(f"{source}: {where} is nested more than {MAX_DEPTH} levels deep")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        return _check(value, args[0], source, where, depth)
    if hint is Any or hint is inspect.Parameter.empty or isinstance(hint, (typing.TypeVar, typing.ForwardRef, str)):
        return _no_class_paths(value, source, where)
    wrong = ModelConfigError(
        f"{source}: {where} must be {_expected(hint)}, got {_describe(value)}; the file was not loaded"
    )
    if hint is None or hint is type(None):
        if value is not None:
            raise wrong
        return None
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        matching: list[ModelConfigError] = []  # errors of the arms of the value's own kind (a mapping for a class)
        for arm in args:
            if arm is type(None):
                continue
            try:
                return _check(value, arm, source, where, depth)
            except ModelConfigError as err:
                if _kind(arm) == _kind(value):
                    matching.append(err)
        if len(matching) == 1:
            raise matching[0]
        raise wrong
    if origin is typing.Literal:
        if any(type(value) is type(a) and value == a for a in args):
            return value
        raise wrong
    if hint is bool:
        if not isinstance(value, bool):
            raise wrong
        return value
    if hint is int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise wrong
        return value
    if hint is float:
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise wrong
        return float(value)
    if hint is str or hint is os.PathLike or (isinstance(hint, type) and issubclass(hint, PurePath)):
        if not isinstance(value, str):
            raise wrong
        return value
    if origin is tuple or hint is tuple:
        if not isinstance(value, (list, tuple)):
            raise wrong
        if args and not (len(args) == 2 and args[1] is Ellipsis):
            if len(value) != len(args):
                raise ModelConfigError(
                    f"{source}: {where} must be a list of {len(args)} values, got {len(value)}; the file was not loaded"
                )
            return tuple(_check(v, a, source, f"{where}[{i}]", depth + 1) for i, (v, a) in enumerate(zip(value, args)))
        item = args[0] if args else Any
        return tuple(_check(v, item, source, f"{where}[{i}]", depth + 1) for i, v in enumerate(value))
    if origin in (list, collections.abc.Sequence, collections.abc.MutableSequence, collections.abc.Iterable) or (
        hint in (list, collections.abc.Sequence)
    ):
        if not isinstance(value, (list, tuple)):
            raise wrong
        item = args[0] if args else Any
        return [_check(v, item, source, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping) or hint in (
        dict,
        collections.abc.Mapping,
    ):
        if not isinstance(value, dict):
            raise wrong
        item = args[1] if len(args) == 2 else Any
        return {
            k: _check(v, item, source, f"{where}{key_in_path(k)}", depth + 1)
            for k, v in value.items()
            if isinstance(k, str) or _raise(wrong)
        }
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        for member in hint:
            if type(member.value) is type(value) and member.value == value:
                return member
        raise wrong
    if isinstance(hint, type) and hint not in (bytes, bytearray, complex, type, object):
        if not isinstance(value, dict):
            raise wrong
        return class_spec(value, hint, source, where, depth + 1)
    raise ModelConfigError(f"{source}: {where} has a type ({hint}) that files cannot set; the file was not loaded")


def _kind(value_or_hint: Any) -> str:
    """``"mapping"``, ``"list"`` or ``"scalar"``: the shape of a value, or the shape a type hint asks for."""
    hint = value_or_hint
    origin = typing.get_origin(hint)
    if isinstance(hint, dict) or origin in (dict, collections.abc.Mapping, collections.abc.MutableMapping):
        return "mapping"
    if isinstance(hint, (list, tuple)) or origin in (list, tuple, collections.abc.Sequence):
        return "list"
    if isinstance(hint, type):
        if hint in (dict, collections.abc.Mapping):
            return "mapping"
        if hint in (list, tuple):
            return "list"
        if hint not in _PLAIN_SCALARS and not issubclass(hint, (PurePath, enum.Enum)):
            return "mapping"  # a class, given as {class_path, init_args}
    return "scalar"


def _raise(error: Exception) -> bool:
    raise error


def _init_args(cls: type, args: Any, source: str, where: str, depth: int) -> dict[str, Any]:
    """``args`` checked against the signature of ``cls.__init__``."""
    if not isinstance(args, dict):
        raise ModelConfigError(f"{source}: {where} must be a mapping of settings, got {_describe(args)}")
    try:
        parameters = dict(inspect.signature(cls.__init__).parameters)
    except (TypeError, ValueError):
        raise ModelConfigError(f"{source}: {where}: the settings of {cls.__name__} cannot be checked") from None
    parameters.pop("self", None)
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    named = {
        k: p
        for k, p in parameters.items()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    }
    hints = _type_hints(cls)
    checked: dict[str, Any] = {}
    for key, value in args.items():
        here = f"{where}{key_in_path(key)}"
        if not isinstance(key, str) or not _SETTING_NAME.fullmatch(key):
            raise ModelConfigError(
                f"{source}: {where} has the key {str(key)[:80]!r}, not a setting name; the file was not loaded"
            )
        if key not in named and not takes_any:
            raise ModelConfigError(
                f"{source}: {here} is not a setting of {cls.__name__} (it takes {', '.join(named) or 'none'}); the "
                "file was not loaded"
            )
        checked[key] = _check(value, hints.get(key, Any), source, here, depth)
    missing = [k for k, p in named.items() if p.default is inspect.Parameter.empty and k not in checked]
    if missing:
        raise ModelConfigError(
            f"{source}: {where} lacks the required setting(s) {', '.join(missing)} of {cls.__name__}; the file was "
            "not loaded"
        )
    return checked


def class_spec(value: Any, base: type, source: str, where: str, depth: int = 0) -> ClassSpec:
    """A component given as ``{"class_path": ..., "init_args": {...}}`` (``init_args`` optional), validated.

    Args:
        value: the mapping from the file.
        base: the class the component must derive from (the setting's annotated type).
        source: how messages name the file.
        where: its key path in the file.
        depth: its nesting depth (deeper than :data:`MAX_DEPTH` is refused).

    Returns:
        The :class:`ClassSpec`.

    Raises:
        ModelConfigError: not a mapping (a string is refused, never parsed), other keys, or a class or setting
            that breaks the module's rules.
    """
    if not isinstance(value, dict):
        raise ModelConfigError(
            f"{source}: {where} must be a {base.__name__} given as a mapping {{class_path, init_args}}, got "
            f"{_describe(value)}; the file was not loaded"
        )
    extra = sorted(repr(str(k)[:80]) for k in value if k not in ("class_path", "init_args"))
    if extra:
        raise ModelConfigError(
            f"{source}: {where} has the key(s) {', '.join(extra)}; a component holds only class_path and init_args"
        )
    if "class_path" not in value:
        raise ModelConfigError(f"{source}: {where} has no class_path; the file was not loaded")
    cls = resolve_class(value["class_path"], base, source, f"{where}.class_path")
    args = value.get("init_args")
    checked = _init_args(cls, {} if args is None else args, source, f"{where}.init_args", depth + 1)
    if _is_network(cls):
        for key, item in checked.items():
            if isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_NETWORK_INT:
                raise ModelConfigError(
                    f"{source}: {where}.init_args.{key} is {item}, more than a network setting read from a file may "
                    f"be ({MAX_NETWORK_INT}); the file was not loaded"
                )
    return ClassSpec(cls, checked)


def _is_network(cls: type) -> bool:
    import torch.nn as nn

    return issubclass(cls, nn.Module) and not any(c.__name__ in ("LightningModule",) for c in cls.__mro__)


def method_spec(
    hyper_parameters: Any, source: str, class_path: Any = None, where: str = "hyper_parameters"
) -> ClassSpec:
    """A method's class and settings from the flat layout Lightning stores (``hyper_parameters`` of a checkpoint,
    of a model folder's ``config.json``): ``{"_class_path": ..., "_instantiator": ..., setting: value, ...}``.

    Args:
        hyper_parameters: the mapping from the file.
        source: how messages name the file.
        class_path: the method's class path recorded beside it (``gan_style_class``), or None; when both are
            given, ``_class_path`` must name the same class.
        where: the key path of ``hyper_parameters`` in the file (``"hyper_parameters"``).

    Returns:
        The :class:`ClassSpec` of the method (a ``LightningModule``).

    Raises:
        ModelConfigError: no class recorded, an instantiator other than LightningCLI's, or anything
            :func:`class_spec` refuses.
    """
    from lightning.pytorch import LightningModule

    import_own_classes()
    if hyper_parameters is None:
        hyper_parameters = {}
    if not isinstance(hyper_parameters, dict):
        raise ModelConfigError(f"{source}: {where} must be a mapping of settings, got {_describe(hyper_parameters)}")
    check_plain(hyper_parameters, source, where)
    settings = dict(hyper_parameters)
    instantiator = settings.pop("_instantiator", None)
    if instantiator is not None and instantiator != INSTANTIATOR:
        shown = repr(instantiator) if isinstance(instantiator, str) and len(instantiator) < 80 else "another"
        raise ModelConfigError(
            f"{source} names the instantiator {shown} ({where}._instantiator); only {INSTANTIATOR} is accepted. The "
            "file was not loaded"
        )
    stored = settings.pop("_class_path", None)
    chosen = class_path if class_path is not None else stored
    if chosen is None:
        raise ModelConfigError(
            f"{source} records no method class; checkpoints written by `gan-style fit` and model folders written by "
            "`gan-style export` record it"
        )
    cls = resolve_class(chosen, LightningModule, source, "gan_style_class" if class_path is not None else where)
    if stored is not None and class_path is not None:
        other = resolve_class(stored, LightningModule, source, f"{where}._class_path")
        if other is not cls:
            raise ModelConfigError(f"{source}: {where}._class_path ({stored!r}) is not the recorded class {chosen!r}")
    return ClassSpec(cls, _init_args(cls, settings, source, where, 1))
