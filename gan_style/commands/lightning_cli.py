"""``gan-style fit / validate / test / predict``: a LightningCLI whose recipes pick a method and a DataModule by
class_path. Imported only when one of these four commands runs (its ``--help`` included): the ``gan-style``
dispatcher (:mod:`gan_style.cli`) parses and dispatches without torch or Lightning.

Examples::

    gan-style fit --config recipes/cyclegan.yaml
    gan-style fit --config recipes/cyclegan.yaml --config recipes/loggers/wandb.yaml --trainer.max_epochs 5
    gan-style fit --config recipes/cyclegan.yaml --ckpt_path last          # resume
    gan-style predict --config recipes/cyclegan.yaml --ckpt_path runs/cyclegan/checkpoints/last.ckpt
    gan-style fit --config recipes/cyclegan.yaml --print_config            # the fully resolved config

The run folder is ``trainer.default_root_dir``: unless a recipe says otherwise, checkpoints go to
``<run>/checkpoints`` (so ``--ckpt_path last`` finds them across runs), logger files under ``<run>``,
sample grids to ``<run>/samples`` and predictions to ``<run>/predictions``. A finished ``fit`` prints one line
naming its ``last.ckpt`` and the commands that use it (``predict``, ``stylize``).
"""

from __future__ import annotations

import contextlib
import netrc
import os
import shlex
import signal
import sys
import threading
import warnings
from pathlib import Path
from typing import Any

import torch
from jsonargparse import Namespace
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, ModelSummary, ProgressBar
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.plugins.precision.precision import Precision
from lightning.pytorch.utilities.exceptions import SIGTERMException

import gan_style.callbacks  # noqa: F401  (makes short class names resolvable in configs)
import gan_style.data  # noqa: F401
import gan_style.methods  # noqa: F401
from gan_style.callbacks import RunSummary
from gan_style.callbacks.cleanup import StaleFileCleanup
from gan_style.callbacks.progress import RunModelSummary, RunProgressBar
from gan_style.callbacks.wandb import WandbConfigAndSummary, wandb_run_settings
from gan_style.commands.help import HelpFormatter, OneLineErrors
from gan_style.commands.recipes import check_config_files, expand_recipes, recipes_dir
from gan_style.commands.runner import EXIT_INTERRUPTED, exit_status, handled, print_error
from gan_style.errors import GanStyleError, InvalidSettingError, UnsafeFileError
from gan_style.io.lock import run_folder_lock
from gan_style.io.untrusted import is_local
from gan_style.loading.plugins import import_modules, load_plugins
from gan_style.methods.gatys import NO_OPTIMIZER_WARNING
from gan_style.plugins.checkpoint_io import AtomicCheckpointIO, NoRetryAfterWriteError
from gan_style.plugins.precision import PerOptimizerMixedPrecision

gan_style.data.load_all()  # the DataModules, imported on first use elsewhere, by their short names here

__all__ = [
    "EXIT_TERMINATED",
    "ArgumentParser",
    "GanStyleCLI",
    "config_from_checkpoint",
    "latest_log_version",
    "link_network_channels",
    "recipe_for_method",
    "run",
]

#: Exit status after SIGTERM: the run saved its state and stopped before finishing (128 + SIGTERM).
EXIT_TERMINATED = 143

_CHECKPOINT_CLASSES = {
    "lightning.pytorch.callbacks.ModelCheckpoint",
    "ModelCheckpoint",
    "lightning.pytorch.callbacks.model_checkpoint.ModelCheckpoint",
}


def _wandb_has_credentials() -> bool:
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        host = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai").split("://")[-1].split("/")[0]
        return netrc.netrc().authenticators(host) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def _as_list(value: Any) -> list:
    if value is None or isinstance(value, bool):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


class ArgumentParser(OneLineErrors, LightningArgumentParser):
    """Lightning's argument parser whose help (also ``--model.help CLASS``, which builds parsers of this class)
    is formatted by :class:`gan_style.commands.help.HelpFormatter`, with one-line errors naming the nearest
    options (:class:`gan_style.commands.help.OneLineErrors`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)


class GanStyleCLI(LightningCLI):
    """LightningCLI with gan-style's defaults.

    - any LightningModule and LightningDataModule by ``class_path`` (subclass mode);
    - methods configure their own optimizers (``--optimizer`` is not added);
    - the resolved config is saved as ``config.yaml`` in the log folder, replaced on resume, and W&B runs are
      named from the recipes (:func:`gan_style.callbacks.wandb.wandb_run_settings`) and get the resolved config
      and the final metrics (:class:`gan_style.callbacks.wandb.WandbConfigAndSummary`);
    - ``ModelCheckpoint`` callbacks without ``dirpath`` write to ``<default_root_dir>/checkpoints``, and
      loggers whose ``save_dir`` is ``.`` (WandbLogger's default) write under ``default_root_dir``;
    - checkpoints are written atomically and read with ``weights_only=True``
      (:class:`~gan_style.plugins.AtomicCheckpointIO`) unless ``trainer.plugins`` names another
      ``CheckpointIO``; a write the file system refuses (a full disk) stops the run with one line, keeping the
      previous checkpoint, and is not retried on the way out (:class:`~gan_style.plugins.NoRetryAfterWriteError`);
    - training starts by removing what killed runs provably left in the run folder: temporary files of dead
      writers and, when resuming, checkpoints a ``save_top_k`` callback wrote and no longer keeps
      (:class:`~gan_style.callbacks.StaleFileCleanup`);
    - on SIGTERM (a scheduler's preemption, ``kill``), the run stops after the current batch; a
      ``ModelCheckpoint`` with ``save_on_exception: true`` (the recipes' ``last.ckpt`` one) saves it, and the
      process exits with status 143 after saying how to resume;
    - the networks take their channel counts from the data (:func:`link_network_channels`): a data module with
      ``channels`` fills the ``input_nc`` / ``output_nc`` of the networks the method declares in its
      ``network_channels``; a value given in a recipe, on the command line or by a checkpoint that contradicts
      the data is one line naming both.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parser_class", ArgumentParser)
        kwargs.setdefault("subclass_mode_model", True)
        kwargs.setdefault("subclass_mode_data", True)
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("save_config_callback", WandbConfigAndSummary)
        kwargs.setdefault("trainer_defaults", {"callbacks": [RunSummary()]})
        kwargs.setdefault(
            "parser_kwargs",
            {
                "prog": "gan-style",
                "description": "gan-style: style transfer and image-to-image translation. "
                "Inference with any trained method or Gatys: gan-style stylize --help",
            },
        )
        super().__init__(*args, **kwargs)

    def parse_arguments(self, parser: LightningArgumentParser, args: Any) -> None:
        """Lightning's parsing; the arguments are kept so that :meth:`explicit_config` can tell the values a recipe
        or the command line gave from the defaults."""
        self._arguments = (parser, list(sys.argv[1:]) if args is None else args)
        super().parse_arguments(parser, args)

    def explicit_config(self) -> Namespace | None:
        """The config of the values given by the recipes and the command line, without defaults (parsed again, on
        demand); None when that parse fails."""
        parser, args = getattr(self, "_arguments", (None, None))
        if parser is None:
            return None
        try:
            if isinstance(args, (dict, Namespace)):
                return parser.parse_object(args, defaults=False)
            return parser.parse_args(args, defaults=False)
        except (SystemExit, Exception):  # noqa: BLE001 - unknown: every differing value is then taken as given
            return None

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.config.get("subcommand"), self.config)
        subcommand = self.config.get("subcommand")
        checkpoint = getattr(self, "_checkpoint_source", None)
        link_network_channels(config, lambda: _section(self.explicit_config(), subcommand), checkpoint)
        trainer = config.get("trainer")
        if trainer is None:
            return
        root = trainer.get("default_root_dir") or os.getcwd()
        subcommand = self.config.get("subcommand")
        if trainer.get("logger") in (None, True):  # Lightning's default TensorBoard logger
            if subcommand == "predict":
                trainer.logger = False  # predict logs nothing: no new lightning_logs/version_N
            else:
                import importlib.util

                # Lightning's own choice: TensorBoard when installed (the tensorboard extra), else CSV files in the
                # same lightning_logs/version_N; named here so that Lightning's long fallback notice is not printed
                tensorboard = any(importlib.util.find_spec(m) is not None for m in ("tensorboard", "tensorboardX"))
                kind = "TensorBoardLogger" if tensorboard else "CSVLogger"
                version = latest_log_version(root)
                if version is not None and (subcommand in ("test", "validate") or config.get("ckpt_path")):
                    # the run's own log folder, not a new version_N
                    trainer.logger = Namespace(
                        class_path=f"lightning.pytorch.loggers.{kind}",
                        init_args=Namespace(save_dir=root, name="lightning_logs", version=version),
                    )
                elif not tensorboard:
                    trainer.logger = Namespace(
                        class_path="lightning.pytorch.loggers.CSVLogger",
                        init_args=Namespace(save_dir=root, name="lightning_logs"),
                    )
        if trainer.get("logger") is False and isinstance(trainer.get("callbacks"), list):
            # LearningRateMonitor refuses to run without a logger; with logging off there is nothing to monitor
            trainer.callbacks = [
                cb for cb in trainer.callbacks if not str(getattr(cb, "class_path", "")).endswith("LearningRateMonitor")
            ]
        for callback in _as_list(trainer.get("callbacks")):
            if getattr(callback, "class_path", None) in _CHECKPOINT_CLASSES:
                if callback.init_args.get("dirpath") is None:
                    callback.init_args.dirpath = os.path.join(root, "checkpoints")
        for logger in _as_list(trainer.get("logger")):
            init_args = getattr(logger, "init_args", None)
            if init_args is not None and "save_dir" in init_args and init_args.get("save_dir") in (None, ".", "./"):
                init_args.save_dir = root
            if str(getattr(logger, "class_path", "")).endswith("WandbLogger"):
                # name, group, job type and tags from the recipes, unless the recipe set them
                settings = wandb_run_settings(config, self.config.get("subcommand"))
                if logger.init_args.get("name") is None:
                    logger.init_args.name = settings.pop("name")
                settings.pop("name", None)
                extra = dict(logger.get("dict_kwargs") or {})
                for key, value in settings.items():
                    extra.setdefault(key, value)
                logger.dict_kwargs = extra

    def instantiate_classes(self) -> None:
        try:
            super().instantiate_classes()
        except ValueError as exc:  # a class refused a value (lr: -1, batch_size: 0 ...): name it, no traceback
            if isinstance(exc, GanStyleError):
                raise
            cause: BaseException = exc
            while "Does not validate against any of the Union subtypes" in str(cause) and isinstance(
                cause.__cause__, ValueError
            ):
                cause = cause.__cause__
            raise InvalidSettingError(str(cause)) from exc

    def _parse_ckpt_path(self) -> None:
        """Before the run: refuse a remote checkpoint (Lightning would read it with ``weights_only=False``), read a
        local one as plain data, and turn the method settings it records into a validated specification
        (:mod:`gan_style.loading.spec`) that replaces the model section. Lightning's own merge, which parses the
        file's data with jsonargparse, is not used."""
        subcommand = self.config.get("subcommand")
        path = self.config[subcommand].get("ckpt_path") if subcommand else None
        if path and path not in ("last", "best", "hpc", "registry") and not is_local(str(path)):
            raise UnsafeFileError(
                f"--ckpt_path {path}: remote checkpoints are not loaded (Lightning reads them with "
                "weights_only=False, which can run code); download the file and give its local path"
            )
        self._checkpoint_source: str | None = None
        if not (path and os.path.isfile(str(path))):
            return
        from gan_style.loading import checkpoint_spec, read_checkpoint

        checkpoint = read_checkpoint(path)  # the error names the file and says why (unsafe, truncated ...)
        hyper_parameters = checkpoint.get("hyper_parameters")
        recorded = checkpoint.get("gan_style_class") or (
            isinstance(hyper_parameters, dict) and hyper_parameters.get("_class_path")
        )
        if recorded:  # a checkpoint without a recorded class keeps the recipe's model section
            spec = checkpoint_spec(checkpoint, f"checkpoint '{path}'")
            self.config = self.parser.parse_object({subcommand: {"model": spec.to_config()}}, self.config)
            self._checkpoint_source = f"checkpoint '{path}'"  # its networks are what it was trained with

    def _instantiate_trainer(self, config: dict[str, Any], callbacks: list[Callback]) -> Trainer:
        plugins = _as_list(config.get("plugins"))
        if not any(isinstance(p, CheckpointIO) for p in plugins):
            plugins = [*plugins, AtomicCheckpointIO()]
        if str(config.get("precision")) in ("16-mixed", "16") and not any(isinstance(p, Precision) for p in plugins):
            # one gradient scaler per optimizer (generator and discriminator) instead of Lightning's single one
            accelerator = str(config.get("accelerator") or "auto")
            on_gpu = accelerator in ("auto", "gpu", "cuda") and torch.cuda.is_available()
            plugins.append(PerOptimizerMixedPrecision("cuda" if on_gpu else "cpu"))
            config["precision"] = None
        config["plugins"] = plugins
        model = getattr(self, "model", None)
        if config.get("strategy") == "ddp" and model is not None and not model.automatic_optimization:
            # a GAN's generator step leaves the discriminators without gradients (and vice versa): DDP must
            # look for parameters a backward did not reach
            config["strategy"] = "ddp_find_unused_parameters_true"
        extra = [NoRetryAfterWriteError(), StaleFileCleanup()]
        given = [*_as_list(config.get("callbacks")), *callbacks]
        if config.get("enable_progress_bar") is not False and not any(isinstance(c, ProgressBar) for c in given):
            extra.append(RunProgressBar())  # the whole run's progress, in optimizer steps
        if config.get("enable_model_summary") is not False and not any(isinstance(c, ModelSummary) for c in given):
            extra.append(RunModelSummary())
        return super()._instantiate_trainer(config, [*callbacks, *extra])

    def _run_subcommand(self, subcommand: str) -> None:
        # one writer per run folder: the launching process holds it (DDP workers of the same run do not)
        primary = os.environ.get("LOCAL_RANK", "0") == "0" and os.environ.get("NODE_RANK", "0") == "0"
        lock = run_folder_lock(self.trainer.default_root_dir) if primary else contextlib.nullcontext()
        interrupt = _CtrlCStopsLikeSigterm()
        try:
            with lock, interrupt:
                super()._run_subcommand(subcommand)
        except SIGTERMException:
            trainer = self.trainer
            saved = _saved_checkpoints(trainer)
            where = f"the newest checkpoint is {saved[-1]}" if saved else "no checkpoint was saved"
            what = "Ctrl-C (SIGINT)" if interrupt.received else "SIGTERM"
            print(
                f"gan-style: stopped by {what} at optimizer step {trainer.global_step} (epoch {trainer.current_epoch}); "
                f"{where}. Resume with the same command and --ckpt_path last",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_INTERRUPTED if interrupt.received else EXIT_TERMINATED) from None
        if subcommand == "fit" and self.trainer.is_global_zero and self.trainer.state.status == "finished":
            message = next_steps_message(_saved_checkpoints(self.trainer), self.model)
            if message:
                print(message)


def _section(config: Any, subcommand: str | None) -> Any:
    if config is None:
        return None
    return config.get(subcommand, config) if subcommand else config


def _get(config: Any, dotted: str) -> Any:
    """``config[a][b]...`` for ``dotted`` = ``"a.b..."`` on nested Namespaces or dicts; None where a key is missing."""
    value = config
    for key in dotted.split("."):
        if value is None:
            return None
        value = value.get(key) if hasattr(value, "get") else None
    return value


def _import_class(class_path: Any) -> type | None:
    import importlib

    if not isinstance(class_path, str) or "." not in class_path:
        return None
    module, _, name = class_path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None


def _domain_bands(domain: str, channels: tuple[int, int]) -> int:
    """The band count a network reads or writes: ``"A"``, ``"B"``, or ``"A+B"`` (A and B stacked)."""
    return sum(channels[0 if part == "A" else 1] for part in domain.split("+"))


def link_network_channels(config: Any, explicit: Any, checkpoint: str | None = None) -> None:
    """Give the method's networks the channel counts of the data, in ``config`` (the subcommand's section).

    The data module's ``channels`` (``data.init_args.channels``: one band count, or ``[A, B]``) and the method's
    class attribute ``network_channels`` (network setting -> (domain read, domain written or None), a domain being
    ``"A"``, ``"B"`` or ``"A+B"``: CycleGAN's ``generator_ba`` reads B and writes A, Pix2Pix's discriminator reads
    concat(A, B)) give each declared network its ``input_nc`` and ``output_nc``. A value that differs from the data's
    is filled in when it is a default; one given by a recipe or the command line, or by the checkpoint a run resumes
    or predicts with, is refused. Nothing happens for a data module without ``channels``, or for a method that
    declares no ``network_channels`` (DCGAN, which reads ``channels`` itself).

    Args:
        config: the subcommand's config (a Namespace with ``model`` and ``data``); changed in place.
        explicit: a callable returning the same section parsed without defaults (the values given), or None when
            that is not known (every differing value is then taken as given).
        checkpoint: how to name the checkpoint the model section came from (``"checkpoint 'last.ckpt'"``), or None.

    Raises:
        InvalidSettingError: one line naming the network setting and the data setting: a given ``input_nc`` /
            ``output_nc`` (or a checkpoint's network) that contradicts the data; a network left to the method's
            default, or one without an ``input_nc`` / ``output_nc`` setting, for data that is not 3-band; or
            channels other than 3 for a method that declares no ``network_channels``.
    """
    import inspect

    from gan_style.data.base import channel_pair

    data_args = _get(config, "data.init_args")
    given = data_args.get("channels") if data_args is not None and hasattr(data_args, "get") else None
    model = _get(config, "model")
    if given is None or model is None:
        return
    channels = channel_pair(given)
    shown = f"data.init_args.channels {list(channels) if channels[0] != channels[1] else channels[0]}"
    method = _import_class(model.get("class_path"))
    declared = getattr(method, "network_channels", None)
    name = getattr(method, "__name__", "the method")
    if not declared:  # the method's networks do not follow the data here (it may read the channels itself)
        return
    init_args = model.get("init_args")
    explicit_model = None
    for setting, (reads, writes) in declared.items():
        network = init_args.get(setting) if init_args is not None else None
        wanted = {"input_nc": _domain_bands(reads, channels)}
        if writes is not None:
            wanted["output_nc"] = _domain_bands(writes, channels)
        where = f"model.init_args.{setting}"
        if network is None:
            if channels != (3, 3):
                raise InvalidSettingError(
                    f"{where} is not given, so {name} builds its default network for 3-band data, but {shown}; give "
                    f"the network in the recipe (class_path and init_args) so that its channels follow the data"
                )
            continue
        network = network.clone()  # a recipe's YAML alias may share one section between two networks
        init_args[setting] = network
        network_class = _import_class(network.get("class_path"))
        network_args = network.get("init_args")
        parameters = inspect.signature(network_class).parameters if network_class is not None else {}
        for key, value in wanted.items():
            domain = reads if key == "input_nc" else writes
            what = f"{setting} {'reads' if key == 'input_nc' else 'writes'} {value} band(s) (domain {domain})"
            if key not in parameters:
                if channels != (3, 3):
                    raise InvalidSettingError(
                        f"{where} ({getattr(network_class, '__name__', network.get('class_path'))}) has no {key} "
                        f"setting, but with {shown} the {what}; use a network that takes {key}"
                    )
                continue
            current = network_args.get(key) if network_args is not None else None
            if current == value:
                continue
            if checkpoint is not None:
                raise InvalidSettingError(
                    f"{checkpoint} holds networks for other data: its {setting} has {key} {current}, but with {shown} "
                    f"the {what}; use data with the channels it was trained on, or train a new model"
                )
            if explicit_model is None:
                found = explicit() if callable(explicit) else None
                explicit_model = _get(found, "model") if found is not None else False
            given_value = (
                _get(explicit_model, f"init_args.{setting}.init_args.{key}") if explicit_model is not False else current
            )
            same_class = explicit_model is False or _get(explicit_model, f"init_args.{setting}.class_path") in (
                None,
                network.get("class_path"),
            )
            if given_value is not None and same_class:
                raise InvalidSettingError(
                    f"{where}.init_args.{key} is {current}, but with {shown} the {what}; remove {key} (it follows the "
                    f"data) or set it to {value}"
                )
            if network_args is None:
                network.init_args = network_args = Namespace()
            network_args[key] = value


def _saved_checkpoints(trainer: Trainer) -> list[str]:
    """The checkpoints the run's ``ModelCheckpoint`` callbacks saved: each one's ``last.ckpt``, else its best."""
    return [
        cb.last_model_path or cb.best_model_path
        for cb in trainer.checkpoint_callbacks
        if isinstance(cb, ModelCheckpoint) and (cb.last_model_path or cb.best_model_path)
    ]


def next_steps_message(saved: list[str], model: Any) -> str | None:
    """The line a finished ``fit`` prints: the checkpoint it saved (the last callback's ``last.ckpt``, relative to
    the working folder when it lies inside it) and the commands that use it, ``predict`` and, for a method with a
    stylizer, ``stylize``, or ``sample`` for an unconditional generator (DCGAN); None when nothing was saved."""
    if not saved:
        return None
    path = os.path.abspath(saved[-1])
    relative = os.path.relpath(path)
    shown = shlex.quote(relative if not relative.startswith(os.pardir) else path)
    from gan_style.methods.dcgan import UnconditionalGenerator

    module = type(model).__module__
    # a method of your own is made known to the next command as it was to this one
    own = isinstance(model, LightningModule) and not module.startswith("gan_style.")
    known = f" --import {shlex.quote(module)}" if own else ""
    if isinstance(model, UnconditionalGenerator):  # images from noise: no input to predict from
        return (
            f"gan-style fit: done; checkpoint {shown}. Next: gan-style sample{known} --checkpoint {shown} "
            "--num_samples 64"
        )
    line = f"gan-style fit: done; checkpoint {shown}. Next: gan-style predict{known} --ckpt_path {shown}"
    if getattr(model, "stylizer_networks", ()):
        line += f", or gan-style stylize{known} --checkpoint {shown} --content photo.jpg"
    return line


class _CtrlCStopsLikeSigterm:
    """While a run is under way, the first Ctrl-C (SIGINT) stops it as SIGTERM does: the current batch (the
    generator and the discriminator update) finishes, a ``ModelCheckpoint`` with ``save_on_exception`` saves,
    and the command prints the resume hint and exits with status 130. It is turned into a SIGTERM to this
    process, which Lightning's own handler turns into a stop at the end of the batch (synchronised across DDP
    processes). A second Ctrl-C, or one before Lightning listens for SIGTERM (while the run is being set up),
    interrupts at once (``KeyboardInterrupt``). Outside the main thread it does nothing."""

    def __init__(self) -> None:
        self.received = False
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _CtrlCStopsLikeSigterm:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        listening = signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        if self.received or not listening:
            raise KeyboardInterrupt
        self.received = True
        print(
            "gan-style: Ctrl-C: finishing the current batch and saving (press Ctrl-C again to stop at once)",
            file=sys.stderr,
        )
        os.kill(os.getpid(), signal.SIGTERM)

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)
            self._installed = False


#: Lightning's warning that step checkpoints under manual optimization hold the weights after the step's
#: updates: the state the resume logic expects (the restored run continues with the next batch).
MANUAL_CHECKPOINT_WARNING = "Using ModelCheckpoint with manual optimization and every_n_train_steps"


def latest_log_version(root: str | os.PathLike) -> int | None:
    """The highest N of ``<root>/lightning_logs/version_N`` (the run's TensorBoard folder), or None."""
    folder = Path(root) / "lightning_logs"
    versions = [
        int(p.name.removeprefix("version_"))
        for p in (folder.iterdir() if folder.is_dir() else [])
        if p.is_dir() and p.name.startswith("version_") and p.name.removeprefix("version_").isdigit()
    ]
    return max(versions) if versions else None


def _option_value(argv: list[str], name: str) -> str | None:
    """The value of ``--name VALUE`` / ``--name=VALUE`` in ``argv`` (the last one), or None."""
    value = None
    for i, arg in enumerate(argv):
        if arg == name and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(name + "="):
            value = arg.split("=", 1)[1]
    return value


def recipe_for_method(class_path: str) -> Path | None:
    """The installed top-level recipe (``cyclegan.yaml`` ...) whose model is the class ``class_path``, or None
    (a method of the user's own). Several recipes of one class (CUT, FastCUT, SinCUT): the first by name."""
    import yaml

    from gan_style.loading.spec import resolve_class

    target = resolve_class(class_path, object, "the checkpoint", "model.class_path")
    for path in sorted(recipes_dir().glob("*.yaml")):
        with open(path, encoding="utf-8") as f:
            recipe = yaml.safe_load(f) or {}
        named = (recipe.get("model") or {}).get("class_path") if isinstance(recipe, dict) else None
        module, _, name = str(named).rpartition(".")
        if getattr(sys.modules.get(module), name, None) is target:
            return path
    return None


def config_from_checkpoint(argv: list[str]) -> tuple[list[str], str | None]:
    """For ``predict`` / ``test`` / ``validate`` with ``--ckpt_path FILE`` and no ``--config``: the command line
    completed from the checkpoint. The checkpoint supplies the model and data sections only, validated
    (:func:`gan_style.loading.sources.carried_config`) and written to a temporary YAML file whose path is returned
    (the caller removes it). The trainer, callbacks, loggers and output locations come from the installed recipe of
    the checkpoint's method (:func:`recipe_for_method`) and the command line. The run folder
    (``trainer.default_root_dir``) is where the checkpoint lies: the parent of its ``checkpoints`` folder, else its
    own folder (predictions and logs go beside it, also when the run was copied or moved); the command line can
    change it.

    Returns:
        ``(argv, temporary file)``: ``argv`` unchanged and None when the command gives its own ``--config`` or no
        checkpoint file.

    Raises:
        InvalidSettingError: the checkpoint carries no config (written outside ``gan-style fit``); the message
            says to give the training recipes with ``--config``.
        UnsafeFileError, ModelConfigError, UnreadableFileError: an unsafe or unreadable checkpoint, or a carried
            config outside the trust rules (:mod:`gan_style.loading.spec`).
    """
    import tempfile

    import yaml

    from gan_style.loading.sources import carried_config, read_checkpoint

    if not argv or argv[0] not in ("predict", "test", "validate"):
        return argv, None
    if any(a in ("--config", "-c") or a.startswith("--config=") for a in argv):
        return argv, None
    path = _option_value(argv, "--ckpt_path")
    if not path or not os.path.isfile(path):
        return argv, None
    config = carried_config(read_checkpoint(path), f"checkpoint '{path}'")
    if config is None:
        raise InvalidSettingError(
            f"checkpoint '{path}' carries no training config (it was not written by gan-style fit); give the "
            f"recipes it was trained with, e.g. gan-style {argv[0]} --config cyclegan --ckpt_path {path}"
        )
    folder = os.path.dirname(os.path.abspath(path))
    run = os.path.dirname(folder) if os.path.basename(folder) == "checkpoints" else folder
    recipe = recipe_for_method(config["model"]["class_path"])
    fd, tmp = tempfile.mkstemp(prefix="gan-style-checkpoint-config-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        yaml.safe_dump(config, f, sort_keys=False)
    recipes = ["--config", str(recipe)] if recipe is not None else []
    return [argv[0], *recipes, "--config", tmp, f"--trainer.default_root_dir={run}", *argv[1:]], tmp


def run(argv: list[str], modules: list[str], from_sys_argv: bool = False) -> None:
    """Run ``gan-style fit / validate / test / predict ...`` (``argv``: the command and its arguments, without
    ``--import``), after importing ``modules`` and the installed plugins (:mod:`gan_style.loading.plugins`).

    ``--config`` values are installed recipes by name or files (:mod:`gan_style.commands.recipes`), each read as
    YAML first; ``predict`` / ``test`` / ``validate`` with ``--ckpt_path FILE`` alone get the checkpoint's model
    and data (:func:`config_from_checkpoint`). W&B never prompts for a login: without an API key
    (``WANDB_API_KEY`` or ``wandb login``), runs are logged offline (``WANDB_MODE=offline``) and can be uploaded
    later with ``wandb sync``. Errors print as one line with the exit status of :mod:`gan_style.commands.runner`.

    Args:
        argv: the command line after ``gan-style``.
        modules: the ``--import`` modules.
        from_sys_argv: let LightningCLI read ``sys.argv`` (set to ``argv``), as the ``gan-style`` program does.
    """
    if "WANDB_MODE" not in os.environ and not _wandb_has_credentials():
        os.environ["WANDB_MODE"] = "offline"
    prog = "gan-style"
    stored_config = None
    try:
        try:
            argv = expand_recipes(argv)
            check_config_files(argv)
            argv, stored_config = config_from_checkpoint(argv)  # the checkpoint's model and data come first
            load_plugins()
            import_modules(modules)
        except Exception as exc:
            if os.environ.get("GAN_STYLE_TRACEBACK") or not handled(exc):
                raise
            print_error(prog, exc)
            raise SystemExit(exit_status(exc)) from None
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=MANUAL_CHECKPOINT_WARNING)
            warnings.filterwarnings("ignore", message=NO_OPTIMIZER_WARNING)
            # a deprecation inside Lightning itself, raised while it walks batches: nothing a user can act on
            warnings.filterwarnings("ignore", message=r"`isinstance\(treespec, LeafSpec\)` is deprecated")
            if from_sys_argv:  # LightningCLI reads sys.argv itself (less the --import options)
                sys.argv[1:] = argv
                GanStyleCLI()
            else:
                GanStyleCLI(args=argv)
    except GanStyleError as exc:  # bad input, missing weights, NaN loss: the message says what to do
        if os.environ.get("GAN_STYLE_TRACEBACK"):
            raise
        print_error(prog, exc)
        raise SystemExit(exit_status(exc)) from None
    finally:
        if stored_config is not None:
            with contextlib.suppress(OSError):
                os.remove(stored_config)
