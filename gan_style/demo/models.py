"""The models a demo page offers: loaded once, from the command line only (checkpoints, published models, Gatys).

A source that cannot be loaded (a published model that is not cached while offline, a missing checkpoint) need not
stop the page: :func:`load_models` can skip it and say why in one line, so the page starts with the others."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from gan_style.errors import FileMissingError, GanStyleError
from gan_style.inference.stylizer import Stylizer

__all__ = ["DemoModel", "find_checkpoint", "load_models"]


@dataclass
class DemoModel:
    """One entry of the page's model list.

    Attributes:
        name: the unique name shown on the page (``"CycleGAN · cyclegan/last.ckpt · generator_ab"``).
        method: the method it belongs to, for grouping (``"CycleGAN"``, ``"AdaIN"``, ``"Gatys"``).
        stylizer: its :class:`~gan_style.inference.Stylizer`, in eval mode on the demo's device (Gatys: a template;
            each request gets a fresh one from :meth:`stylizer_for`).
        options: the ``gan-style stylize`` options that select the same model (``["--checkpoint", "c.ckpt"]``).
        optimization: for ``--method gatys``: the keyword arguments of
            :class:`~gan_style.methods.gatys.GatysStylizer` besides ``size``; None (default) for a trained model.
    """

    name: str
    method: str
    stylizer: Stylizer
    options: list[str] = field(default_factory=list)
    optimization: dict[str, Any] | None = None

    def stylizer_for(self, size: int | str | None) -> Stylizer:
        """The stylizer to run at ``size`` (``"auto"``, pixels, or None): :attr:`stylizer` itself, or for Gatys a
        new one optimizing at that size (512 for ``"auto"``), as ``gan-style stylize --method gatys`` builds it."""
        if self.optimization is None:
            return self.stylizer
        return type(self.stylizer)(size=512 if size == "auto" else size, **self.optimization)


def find_checkpoint(run_or_checkpoint: str | os.PathLike) -> Path:
    """The checkpoint file ``run_or_checkpoint`` names: the file itself, or in a run folder
    (``trainer.default_root_dir``) its ``checkpoints/last.ckpt``, else its newest ``*.ckpt``.

    Raises:
        FileMissingError: neither a file nor a folder holding a checkpoint.
    """
    path = Path(run_or_checkpoint)
    if path.is_file():
        return path
    if path.is_dir():
        last = path / "checkpoints" / "last.ckpt"
        if last.is_file():
            return last
        found = sorted(path.glob("**/*.ckpt"), key=os.path.getmtime)
        if found:
            return found[-1]
        raise FileMissingError(
            f"run folder '{path}' holds no checkpoint (*.ckpt); give a checkpoint file or the folder of a run "
            "trained with gan-style fit"
        )
    raise FileMissingError(f"checkpoint '{path}' does not exist; give a checkpoint file or a run folder")


def _checkpoint_label(checkpoint: Path) -> str:
    parent = checkpoint.parent
    run = parent.parent if parent.name == "checkpoints" else parent
    return f"{run.name}/{checkpoint.name}" if run.name else checkpoint.name


def load_models(
    checkpoints: Sequence[str] = (),
    pretrained: Sequence[str] = (),
    methods: Sequence[str] = (),
    device: str | torch.device = "cpu",
    gatys: dict[str, Any] | None = None,
    failures: list[str] | None = None,
) -> list[DemoModel]:
    """Load the models to offer, grouped by method (sorted by method, then in the order given).

    A checkpoint's method offers each of its networks (CycleGAN: ``generator_ab`` and ``generator_ba``), loaded
    as :func:`gan_style.loading.load_stylizer` loads them (eval mode; the training size recorded in the
    checkpoint as ``default_size``); a ``pretrained`` source is anything :func:`gan_style.loading.load_stylizer`
    takes (a published name, a model folder, ``hf://owner/name``, a checkpoint or run folder); ``gatys`` is Gatys
    optimization (:data:`gan_style.methods.OPTIMIZATION_METHODS`).

    Args:
        checkpoints: checkpoint files or run folders (:func:`find_checkpoint`); empty (default): none.
        pretrained: published model names or model folders (``gan-style pretrained`` lists names); empty
            (default): none.
        methods: optimization methods by name (``"gatys"``); empty (default): none.
        device: where the models run ("cpu").
        gatys: keyword arguments of the Gatys stylizer besides ``size`` (``num_iterations``, ``vgg_weights``,
            ``style_weight``); None (default): its defaults.
        failures: None (default): the first source that cannot be loaded raises its error. A list: a source that
            cannot be loaded (any gan-style error: missing, unsafe or unreadable file, not cached and offline ...)
            is skipped and one line per such source is appended (``--pretrained horse2zebra: <why>``); the error is
            raised only when no model loads at all (the first one; the lines of the others are appended).

    Returns:
        The models; names are unique.

    Raises:
        FileMissingError, UnsafeFileError, UnreadableFileError: a missing, unsafe or unreadable checkpoint.
        InferenceUnavailableError: a checkpoint's method hands out no stylizer.
        DownloadSettingError, OfflineError: an unknown published name, or one not cached that cannot be downloaded.
        ValueError: an unknown method name, or no model at all.
    """
    from gan_style.methods import OPTIMIZATION_METHODS

    dev = torch.device(device)
    models: list[DemoModel] = []
    errors: list[tuple[str, GanStyleError]] = []
    for given in checkpoints:
        try:
            models += _checkpoint_models(given, dev)
        except GanStyleError as exc:
            if failures is None:
                raise
            errors.append((f"--checkpoint {given}", exc))
    for name in pretrained:
        try:
            models.append(_pretrained_model(name, dev))
        except GanStyleError as exc:
            if failures is None:
                raise
            errors.append((f"--pretrained {name}", exc))
    for name in methods:
        if name not in OPTIMIZATION_METHODS:
            raise ValueError(f"unknown method {name!r} for --method; choose one of: {', '.join(OPTIMIZATION_METHODS)}")
        settings = dict(gatys or {})
        try:
            stylizer = OPTIMIZATION_METHODS[name](size=512, **settings)
        except GanStyleError as exc:  # its VGG weights not cached while offline ...
            if failures is None:
                raise
            errors.append((f"--method {name}", exc))
            continue
        options = ["--method", name] + [f"--{k}={'null' if v is None else v}" for k, v in settings.items()]
        models.append(DemoModel(stylizer.describe(), stylizer.describe(), stylizer, options, settings))
    if errors and failures is not None:  # only collected with a list: without one the first error was raised
        failures.extend(f"{source}: {exc}" for source, exc in (errors[1:] if not models else errors))
        if not models:  # nothing to offer: the first error stops the command, the others were said
            raise errors[0][1]
    if not models:
        raise ValueError("give at least one model: --checkpoint RUN_OR_CKPT, --pretrained NAME or --method gatys")
    seen: dict[str, int] = {}
    for model in models:
        if model.name in seen:
            seen[model.name] += 1
            model.name = f"{model.name} ({seen[model.name]})"
        else:
            seen[model.name] = 1
    order = {method: i for i, method in reversed(list(enumerate(m.method for m in models)))}
    return sorted(models, key=lambda m: order[m.method])


def _checkpoint_models(given: str, device: torch.device) -> list[DemoModel]:
    """Every network of the method of the checkpoint (or run folder) ``given``, one entry each, loaded as
    ``gan-style stylize --checkpoint`` loads it (:func:`gan_style.loading.load_stylizer`: the network alone for the
    built-in generator methods, the data's recorded scaling attached, ``default_size`` the training size)."""
    from gan_style.loading import load_method, load_stylizer, read_checkpoint
    from gan_style.loading.stylizers import plan_for

    checkpoint = find_checkpoint(given)
    data = read_checkpoint(checkpoint)
    settings = data.get("hyper_parameters")
    plan = plan_for(data.get("gan_style_class")) or plan_for(
        settings.get("_class_path") if isinstance(settings, dict) else None
    )
    if plan is not None:  # a built-in generator method: its networks are known without building it
        method, networks = plan.name, plan.networks
    else:  # any other method: built once to ask which networks it offers
        model = load_method(checkpoint, device)
        method, networks = type(model).__name__, tuple(model.stylizer_networks)
    models = []
    for network in networks or (None,):
        stylizer = load_stylizer(checkpoint, network, device).eval()
        name = f"{method} · {_checkpoint_label(checkpoint)}" + (f" · {network}" if len(networks) > 1 else "")
        options = ["--checkpoint", str(checkpoint)] + (["--network", network] if network else [])
        models.append(DemoModel(name, method, stylizer, options))
    return models


def _pretrained_model(source: str, device: torch.device) -> DemoModel:
    """The model of a ``--pretrained`` source, through the one loader (:func:`gan_style.loading.load_stylizer`):
    named after its catalogue entry for a published name, else after its stylizer and the source."""
    from gan_style.errors import DownloadSettingError
    from gan_style.loading import load_stylizer
    from gan_style.pretrained import resolve_pretrained

    stylizer = load_stylizer(source, None, device).eval()
    entry = None
    if not (Path(source).exists() or str(source).startswith("hf://")):  # else a folder, a checkpoint or a Hub id
        with contextlib.suppress(DownloadSettingError):
            entry = resolve_pretrained(source)
    method, label = (entry.method, entry.name) if entry is not None else (stylizer.describe(), str(source))
    return DemoModel(f"{method} · {label}", method, stylizer, ["--pretrained", str(source)])
