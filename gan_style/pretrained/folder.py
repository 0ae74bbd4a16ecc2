"""Model folders: a trained method as ``config.json`` (plain JSON: the method's class and settings, which network
runs) plus ``model.safetensors`` (its weights), with no pickle anywhere, read by the one loader
(:mod:`gan_style.loading`). ``gan-style export --formats
[safetensors]`` writes one from a checkpoint; ``--pretrained FOLDER``, ``--pretrained hf://owner/name`` (a Hugging
Face Hub repository holding such a folder) and ``gan_style.from_pretrained`` load it.

The folder holds the method's whole state dict, frozen feature networks included (AdaIN's VGG encoder), so it
runs without any other download. ``config.json`` becomes a validated specification before anything is built, as a
checkpoint's settings do (:mod:`gan_style.loading.spec`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch

from gan_style.errors import FileMissingError, ModelConfigError, OfflineError, UnreadableFileError
from gan_style.inference.stylizer import Stylizer

__all__ = [
    "CONFIG_FILE",
    "FOLDER_FORMAT",
    "HUB_PREFIX",
    "WEIGHTS_FILE",
    "hub_folder",
    "load_model_folder",
    "save_model_folder",
]

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
#: ``config.json``'s ``format`` value.
FOLDER_FORMAT = "gan-style-model"
#: ``--pretrained hf://owner/name[@revision]`` names a Hugging Face Hub repository.
HUB_PREFIX = "hf://"
#: Largest ``config.json`` read, in bytes (a model config is a few kilobytes).
MAX_CONFIG_BYTES = 1 << 20
_CONFIG_KEYS = {"format", "version", "gan_style_class", "hyper_parameters", "network", "source", "scaling"}


def _plain(value: Any) -> Any:
    """``value`` as JSON data (tuples become lists); raises TypeError for anything else."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not plain data")


def save_model_folder(
    model: Any,
    folder: str | os.PathLike,
    network: str | None = None,
    source: str = "",
    hyper_parameters: dict[str, Any] | None = None,
    scaling: dict[str, Any] | None = None,
) -> Path:
    """Write ``model`` (a :class:`~gan_style.methods.GanStyleModule`) as a model folder: ``config.json`` and
    ``model.safetensors``. The folder is written beside its target and renamed into place when complete (an
    existing folder of that name is replaced only then).

    Args:
        model: the trained method.
        folder: the folder to write.
        network: which of ``model.stylizer_networks`` the folder runs (None, the default: the method's default).
        source: where the model came from, recorded in ``config.json`` (e.g. the checkpoint path; "").
        hyper_parameters: the settings that rebuild ``model``, networks as ``class_path`` / ``init_args`` configs:
            a gan-style checkpoint's ``hyper_parameters`` (what ``gan-style export`` passes). None (default):
            ``model.hparams``, which holds network configs only when the model was built from them (a model
            loaded with ``load_from_checkpoint`` holds the built networks instead: pass the checkpoint's).
        scaling: how the training data's values map to [-1, 1], ``{"A": ..., "B": ...}`` as a checkpoint's
            ``gan_style_scaling`` records it (None, the default: 8-bit RGB data); the loader gives it to the stylizer.

    Returns:
        The folder.

    Raises:
        ValueError: settings that are not plain data (network objects passed from Python are not stored in
            ``hparams``: give them as ``class_path`` configs, as the recipes do), or an unknown ``network``.
    """
    from safetensors.torch import save_file

    model.check_stylizer_network(network)
    try:
        hyper_parameters = _plain(dict(model.hparams if hyper_parameters is None else hyper_parameters))
    except TypeError as err:
        raise ValueError(f"{type(model).__name__}'s settings cannot be written as JSON ({err})") from None
    config = {
        "format": FOLDER_FORMAT,
        "version": 1,
        "gan_style_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "hyper_parameters": hyper_parameters,
        "network": network,
        "source": source,
    }
    if scaling is not None:
        config["scaling"] = _plain(dict(scaling))
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    target = Path(folder)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-{os.getpid()}-", dir=target.parent))
    try:
        save_file(state, str(tmp / WEIGHTS_FILE), metadata={"format": FOLDER_FORMAT})
        (tmp / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def load_model_folder(
    folder: str | os.PathLike, device: str | torch.device = "cpu", network: str | None = None
) -> Stylizer:
    """The stylizer of the method stored in a model folder, in eval mode on ``device``.

    Args:
        folder: a folder holding ``config.json`` and ``model.safetensors`` (:func:`save_model_folder`).
        device: where it runs ("cpu").
        network: which network runs (None, the default: the one ``config.json`` names, else the method's default).

    Raises:
        FileMissingError: a missing folder, ``config.json`` or ``model.safetensors``.
        UnreadableFileError: ``config.json`` that is not a gan-style model config (not JSON, over 1 MiB), or weights
            that are not safetensors or do not fit.
        ModelConfigError (an UnsafeFileError): settings outside the trust rules of :mod:`gan_style.loading.spec`
            (a foreign class, a network given as a string, an unknown key or type); nothing is built.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from gan_style.loading.sources import build_method
    from gan_style.loading.spec import check_plain, method_spec
    from gan_style.loading.stylizers import attach_scaling, read_stylizer

    folder = Path(folder)
    config_path, weights_path = folder / CONFIG_FILE, folder / WEIGHTS_FILE
    for path in (config_path, weights_path):
        if not path.is_file():
            raise FileMissingError(
                f"model folder '{folder}' has no {path.name}; a model folder holds {CONFIG_FILE} and {WEIGHTS_FILE} "
                "(gan-style export --formats [safetensors] writes one)"
            )
    source = f"'{config_path}'"
    if config_path.stat().st_size > MAX_CONFIG_BYTES:
        raise UnreadableFileError(
            f"{source} is {config_path.stat().st_size:,} bytes, more than a model config holds ({MAX_CONFIG_BYTES:,})"
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        reason = "nested too deeply" if isinstance(err, RecursionError) else str(err)
        raise UnreadableFileError(f"{source} is not valid JSON ({reason})") from None
    if not isinstance(config, dict) or config.get("format") != FOLDER_FORMAT or "gan_style_class" not in config:
        raise UnreadableFileError(f"{source} is not a gan-style model config (format {FOLDER_FORMAT!r})")
    check_plain(config, source, "config")
    unknown = sorted(set(config) - _CONFIG_KEYS)
    if unknown:
        raise ModelConfigError(
            f"{source} has the unknown key(s) {', '.join(k[:40] for k in unknown)}; a model config holds "
            f"{', '.join(sorted(_CONFIG_KEYS))}"
        )
    for key in ("network", "source"):
        if config.get(key) is not None and not isinstance(config[key], str):
            raise ModelConfigError(f"{source}: {key} must be a string or null")
    chosen = network if network is not None else config.get("network")

    def read_weights() -> dict[str, torch.Tensor]:
        try:
            return load_file(str(weights_path))
        except (SafetensorError, OSError, ValueError) as err:
            first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise UnreadableFileError(f"'{weights_path}' is not a readable safetensors file ({first})") from None

    state: dict[str, torch.Tensor] = {}

    def weights(prefix: str) -> dict[str, torch.Tensor]:
        state.update(state or read_weights())
        return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

    try:
        stylizer = read_stylizer(config["gan_style_class"], config.get("hyper_parameters"), weights, chosen, source)
        if stylizer is None:
            spec = method_spec(config.get("hyper_parameters"), source, config["gan_style_class"])
            model = build_method(spec, state or read_weights(), f"'{weights_path}'")
            stylizer = model.stylizer(chosen)
    except ValueError as err:
        if network is not None or chosen is None:
            raise
        # the network named by the file, not by the caller: the file is at fault
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else type(err).__name__
        raise ModelConfigError(f"{source}: network names no network of the method that can run ({first})") from None
    return attach_scaling(stylizer, config.get("scaling"), chosen, source).to(device).eval()


def hub_folder(spec: str) -> Path:
    """The local copy of a model folder on the Hugging Face Hub: ``hf://owner/name`` or ``hf://owner/name@revision``,
    downloaded (``config.json`` and ``model.safetensors``) into the Hub cache by ``huggingface_hub``, which honours
    ``HF_ENDPOINT`` (another Hub server), ``HF_HUB_OFFLINE=1`` (cache only) and ``HF_TOKEN``.

    Raises:
        ValueError: ``spec`` is not ``hf://owner/name[@revision]``.
        OfflineError: the Hub cannot be reached and the files are not cached.
        FileMissingError: the repository or a file does not exist there.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError, RepositoryNotFoundError

    repo = spec[len(HUB_PREFIX) :] if spec.startswith(HUB_PREFIX) else spec
    repo, _, revision = repo.partition("@")
    if repo.count("/") != 1 or not all(repo.split("/")):
        raise ValueError(f"'{spec}' is not a Hub model: write hf://owner/name or hf://owner/name@revision")
    paths = []
    for filename in (CONFIG_FILE, WEIGHTS_FILE):
        try:
            paths.append(Path(hf_hub_download(repo, filename, revision=revision or None)))
        except LocalEntryNotFoundError as err:
            raise OfflineError(
                f"could not reach the Hugging Face Hub for {spec} ({filename}) and it is not in the Hub cache "
                f"({err}); connect, or download it elsewhere with `huggingface-cli download {repo}` and copy the "
                "Hub cache folder (HF_HOME) here, or give the model folder's path to --pretrained",
                spec,
                str(err),
            ) from None
        except (RepositoryNotFoundError, EntryNotFoundError) as err:
            raise FileMissingError(f"{spec}: {filename} was not found on the Hub ({type(err).__name__})") from None
    return paths[0].parent
