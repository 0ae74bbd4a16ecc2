"""One loader for trained methods from outside: a checkpoint file or a model folder (``config.json`` +
``model.safetensors``; a Hub repository is downloaded as one), turned into a validated
:class:`~gan_style.loading.spec.ClassSpec` before anything is built, then built directly and given its weights.

A file chooses the method's settings and its weights, nothing else (``docs/reliability.md``): the tensors are read
with ``torch.load(weights_only=True)`` or safetensors (no code), the settings by :mod:`gan_style.loading.spec`
(no string is parsed, no class outside gan-style and the methods made known), and a model is built only when the
file holds as many weights as the settings ask for, so a file cannot make the loader allocate more memory than
its own size.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gan_style.errors import FileMissingError, GanStyleError, ModelConfigError, UnreadableFileError
from gan_style.loading.plugins import import_modules
from gan_style.loading.spec import ClassSpec, method_spec
from gan_style.loading.stylizers import SCALING_KEY, attach_scaling

__all__ = [
    "CARRIED_SECTIONS",
    "CHECKPOINT_CONFIG_KEY",
    "build_method",
    "carried_config",
    "checkpoint_spec",
    "load_method",
    "load_stylizer",
    "read_checkpoint",
]


def read_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """A checkpoint file read as plain data (``torch.load(weights_only=True)``).

    Raises:
        FileMissingError: no such file, or a folder (the message names ``checkpoints/last.ckpt`` inside it).
        UnsafeFileError: a pickle that would run code.
        UnreadableFileError: empty, truncated, not a PyTorch file, or not a mapping.
    """
    from gan_style.io.untrusted import safe_load

    path = Path(path)
    if path.is_dir():
        raise FileMissingError(
            f"checkpoint '{path}' is a folder; give a checkpoint file such as {path / 'checkpoints' / 'last.ckpt'}"
        )
    checkpoint = safe_load(path)
    if not isinstance(checkpoint, dict):
        raise UnreadableFileError(
            f"'{path}' is not a gan-style checkpoint (it holds {type(checkpoint).__name__}, not a mapping); give a "
            "checkpoint written by `gan-style fit`"
        )
    return checkpoint


def checkpoint_spec(checkpoint: Mapping[str, Any], source: str) -> ClassSpec:
    """The validated method class and settings of a checkpoint read by :func:`read_checkpoint`.

    Args:
        checkpoint: the checkpoint's data.
        source: how messages name it (``"checkpoint 'last.ckpt'"``).

    Raises:
        ModelConfigError: no method recorded (not written by ``gan-style fit``), or settings that
            :func:`gan_style.loading.spec.method_spec` refuses.
    """
    class_path = checkpoint.get("gan_style_class")
    hyper_parameters = checkpoint.get("hyper_parameters")
    if class_path is None and not (isinstance(hyper_parameters, dict) and "_class_path" in hyper_parameters):
        raise ModelConfigError(
            f"{source} is not a gan-style checkpoint (no model class recorded); checkpoints written by "
            "`gan-style fit` record it. Weights of the reference code load through the recipes' "
            "model.reference_weights instead."
        )
    return method_spec(hyper_parameters, source, class_path)


def _state_dict(state: Any, source: str) -> dict[str, Any]:
    import torch

    if not isinstance(state, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise UnreadableFileError(f"{source} holds no state dict of named tensors; it is not a gan-style model")
    return dict(state)


def _check_size(spec: ClassSpec, state: Mapping[str, Any], source: str) -> None:
    """Refuse settings that would build a model with more values than the file holds weights (a file of a few
    bytes must not make the loader allocate gigabytes); the model is built on PyTorch's ``meta`` device to count."""
    import torch

    try:
        with torch.device("meta"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            probe = spec.build()
        frozen = tuple(f"{name}." for name in getattr(probe, "frozen_networks", ()))  # rebuilt by the code
        wanted = sum(t.numel() for k, t in probe.state_dict().items() if not k.startswith(frozen))
    except GanStyleError:
        raise
    except Exception:  # a class that cannot be built on the meta device: the real build reports its settings
        return
    held = sum(t.numel() for t in state.values())
    if wanted > held:
        raise ModelConfigError(
            f"{source}: its settings build a {spec.cls.__name__} of {wanted:,} values but the file holds {held:,} "
            "weights; the settings do not belong to these weights. The file was not loaded"
        )


def build_method(spec: ClassSpec, state: Any, source: str, checkpoint: Mapping[str, Any] | None = None) -> Any:
    """Build the method of a validated ``spec`` and load its weights (strict), in eval mode on the CPU.

    The model's ``hparams`` record the settings as plain data with the class path, as when ``gan-style fit``
    built it, so that it can be exported again.

    Args:
        spec: from :func:`checkpoint_spec` or :func:`gan_style.loading.spec.method_spec`.
        state: the state dict read from the file (parameter name -> tensor).
        source: how messages name the file.
        checkpoint: the whole checkpoint, given to the method's ``on_load_checkpoint`` (None for a model folder).

    Raises:
        ModelConfigError: settings the method refuses, or that build a model bigger than the file's weights.
        UnreadableFileError: weights that do not fit the model.
    """
    state = _state_dict(state, source)
    _check_size(spec, state, source)
    try:
        from lightning.pytorch.core.mixins.hparams_mixin import _given_hyperparameters_context

        from gan_style.loading.spec import INSTANTIATOR

        hparams = {"_class_path": spec.class_path, **spec.plain_init_args()}
        with _given_hyperparameters_context(hparams=hparams, instantiator=INSTANTIATOR):
            model = spec.build()
    except GanStyleError:
        raise
    except (ValueError, TypeError, KeyError, RuntimeError, AttributeError, IndexError, OverflowError) as err:
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ModelConfigError(f"{source}: {spec.cls.__name__} refused the file's settings ({detail})") from None
    if checkpoint is not None:
        try:
            model.on_load_checkpoint({**checkpoint, "state_dict": state})  # may add frozen networks' weights
        except GanStyleError:
            raise
        except (ValueError, TypeError, KeyError, RuntimeError, AttributeError, IndexError) as err:
            raise UnreadableFileError(
                f"{source}: its training state is not readable ({type(err).__name__}: {str(err)[:200]})"
            ) from None
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as err:
        first = str(err).strip().splitlines()[0]
        raise UnreadableFileError(
            f"{source}: the weights do not fit {spec.cls.__name__} as configured ({first})"
        ) from None
    return model.eval()


def load_method(checkpoint: str | os.PathLike, device: Any = "cpu", imports: Sequence[str] = ()) -> Any:
    """Rebuild the method stored in a gan-style (Lightning) checkpoint, in eval mode on ``device``.

    The file is read with ``weights_only=True``; its settings become a validated specification
    (:mod:`gan_style.loading.spec`) before anything is built; the classes are then called directly.

    Args:
        checkpoint: a ``.ckpt`` written by ``gan-style fit``.
        device: where the model goes (``"cpu"``).
        imports: modules to import first (``--import``), making methods of your own known (default: none).

    Returns:
        The ``LightningModule``.

    Raises:
        FileMissingError: no such file, or a folder.
        UnsafeFileError: a pickle that would run code; ModelConfigError (an UnsafeFileError): settings outside the
            trust rules (a foreign class, a network given as a string, an unknown key ...), or no method recorded.
        UnreadableFileError: truncated, not a PyTorch file, or weights that do not fit.
        PluginError: an ``imports`` module cannot be imported.
    """
    import_modules(imports)
    source = f"checkpoint '{checkpoint}'"
    data = read_checkpoint(checkpoint)
    spec = checkpoint_spec(data, source)
    model = build_method(spec, data.get("state_dict"), source, checkpoint=data)
    return model.to(device).eval()


#: The checkpoint entry holding the model and data sections of the resolved ``fit`` config (a mapping; YAML text in
#: older checkpoints), written by :class:`gan_style.callbacks.wandb.WandbConfigAndSummary`.
CHECKPOINT_CONFIG_KEY = "gan_style_config"
#: The sections of a carried config that a checkpoint may supply (the rest comes from the command line and recipes).
CARRIED_SECTIONS = ("model", "data")
#: Largest carried config read, in characters (the resolved config of a recipe is a few kilobytes).
MAX_CARRIED_CONFIG = 1 << 20


def carried_config(checkpoint: Mapping[str, Any], source: str) -> dict[str, Any] | None:
    """The model and data sections of the training config a checkpoint carries (``gan_style_config``), validated.

    The method must be a ``LightningModule`` and the DataModule a ``LightningDataModule`` of gan-style or of a
    method made known, with settings checked against their signatures (:func:`gan_style.loading.spec.class_spec`).
    Any other section (trainer, callbacks, loggers, profiler, plugins, output folders) is ignored, with one warning
    naming the sections. Older checkpoints hold the config as YAML text, read with PyYAML's safe loader as one
    document of plain data (at most :data:`MAX_CARRIED_CONFIG` characters); its values are never parsed.

    Args:
        checkpoint: the checkpoint's data (:func:`read_checkpoint`).
        source: how messages name it.

    Returns:
        ``{"model": {"class_path", "init_args"}, "data": {...}}`` as plain data (``data`` when carried), or None
        when the checkpoint carries no config.

    Raises:
        ModelConfigError: a section outside the trust rules; UnreadableFileError: text that is not YAML.
    """
    import lightning as L

    from gan_style.loading.spec import check_plain, class_spec, import_own_classes

    raw = checkpoint.get(CHECKPOINT_CONFIG_KEY)
    if raw is None:
        return None
    if isinstance(raw, str):
        import yaml

        if len(raw) > MAX_CARRIED_CONFIG:
            raise UnreadableFileError(f"{source}: its {CHECKPOINT_CONFIG_KEY} is longer than a training config")
        try:
            raw = yaml.safe_load(raw)
        except (yaml.YAMLError, RecursionError) as err:
            raise UnreadableFileError(
                f"{source}: its {CHECKPOINT_CONFIG_KEY} is not readable ({type(err).__name__})"
            ) from None
    if not isinstance(raw, dict) or "model" not in raw:
        raise ModelConfigError(f"{source}: {CHECKPOINT_CONFIG_KEY} must be a mapping with a model section")
    check_plain(raw, source, CHECKPOINT_CONFIG_KEY)
    ignored = sorted(str(k)[:40] for k in raw if k not in CARRIED_SECTIONS and k not in ("ckpt_path", "config"))
    if ignored:
        warnings.warn(
            f"{source} carries the section(s) {', '.join(ignored)} in its training config; ignored: a checkpoint "
            "supplies the model and data settings only (the trainer, callbacks, loggers and output folders come from "
            "the command line and the installed recipes)",
            stacklevel=2,
        )
    import_own_classes()
    config = {
        "model": class_spec(raw["model"], L.LightningModule, source, f"{CHECKPOINT_CONFIG_KEY}.model").to_config()
    }
    if raw.get("data") is not None:
        data = class_spec(raw["data"], L.LightningDataModule, source, f"{CHECKPOINT_CONFIG_KEY}.data")
        config["data"] = data.to_config()
    return config


def _light_stylizer(data: Mapping[str, Any], path: Path, network: str | None) -> Any:
    """The stylizer of a built-in method's checkpoint built without the method (:mod:`gan_style.loading.stylizers`),
    or None when the checkpoint needs the whole method."""
    from gan_style.loading.stylizers import read_stylizer

    state = data.get("state_dict")
    if not isinstance(state, Mapping) or not all(isinstance(k, str) for k in state):
        return None

    def weights(prefix: str) -> dict[str, Any]:
        return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

    stylizer = read_stylizer(
        data.get("gan_style_class"), data.get("hyper_parameters"), weights, network, f"checkpoint '{path}'"
    )
    if stylizer is not None and stylizer.default_size is None:
        size = data.get("gan_style_image_size")
        stylizer.default_size = size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None
    return stylizer if stylizer is None else attach_scaling(stylizer, data.get(SCALING_KEY), network, f"'{path}'")


def load_stylizer(source: str | os.PathLike, network: str | None = None, device: Any = "cpu", progress: bool = True):
    """A model from any kind of source, as its :class:`~gan_style.inference.Stylizer` in eval mode on ``device``:
    the one loader every door (``stylize``, the demo, ``gan_style.load``, ``compare``) uses.

    Sources, tried in this order:

    - ``hf://owner/name[@revision]``: a model folder on the Hugging Face Hub;
    - a model folder (``config.json`` + ``model.safetensors``, written by ``gan-style export``);
    - a run folder (``checkpoints/last.ckpt`` inside it, or ``last.ckpt`` in a checkpoints folder);
    - a checkpoint file written by ``gan-style fit``;
    - a published model's name (``horse2zebra``, ``adain``; ``gan-style pretrained`` lists them).

    Args:
        source: what to load.
        network: which network of a method runs (CycleGAN: ``generator_ab`` or ``generator_ba``); None (default):
            the method's default, or the one a model folder names. Published models have one network.
        device: where it runs (``"cpu"``).
        progress: progress bars while downloading a published model (True).

    Raises:
        FileMissingError: a folder that is neither a run folder nor a model folder; a missing file.
        DownloadSettingError: an unknown name (one that looks like ``owner/name`` is told to write
            ``hf://owner/name``).
        UnsafeFileError, ModelConfigError, UnreadableFileError: see :func:`load_method`.
        InferenceUnavailableError: the method hands out no stylizer.
    """
    from gan_style.errors import DownloadSettingError
    from gan_style.pretrained.folder import CONFIG_FILE, HUB_PREFIX, hub_folder, load_model_folder

    text = os.fspath(source)
    if text.startswith(HUB_PREFIX):
        return load_model_folder(hub_folder(text), device, network)
    path = Path(text)
    if path.is_dir():
        if (path / CONFIG_FILE).is_file():
            return load_model_folder(path, device, network)
        for candidate in (path / "checkpoints" / "last.ckpt", path / "last.ckpt"):
            if candidate.is_file():
                path = candidate
                break
        else:
            raise FileMissingError(
                f"'{path}' is a folder but neither a run folder (no checkpoints/last.ckpt) nor a model folder (no "
                f"{CONFIG_FILE}); give a checkpoint file, a run folder, a model folder or a published model's name"
            )
    if path.is_file():
        data = read_checkpoint(path)
        stylizer = _light_stylizer(data, path, network)
        if stylizer is not None:
            return stylizer.to(device)
        source = f"checkpoint '{path}'"
        model = build_method(checkpoint_spec(data, source), data.get("state_dict"), source, checkpoint=data)
        stylizer = model.stylizer(network).eval()
        if stylizer.default_size is None:
            stylizer.default_size = model.trained_image_size()
        return attach_scaling(stylizer, data.get(SCALING_KEY), network, source).to(device)
    from gan_style.pretrained import from_pretrained

    if network is not None:
        raise ValueError(
            f"network picks a network of a checkpoint's method; '{text}' is a published model, which has one"
        )
    try:
        return from_pretrained(text, device, progress=progress)
    except DownloadSettingError as err:
        parts = text.split("/")
        if len(parts) == 2 and all(parts) and not text.startswith((".", "/")):
            raise DownloadSettingError(
                f"{err}; '{text}' is no file or folder here either. For a model on the Hugging Face Hub write "
                f"hf://{text}"
            ) from None
        raise DownloadSettingError(f"{err}; '{text}' is no file or folder here either") from None
