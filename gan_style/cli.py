"""The ``gan-style`` command: a LightningCLI whose recipes pick a method and a DataModule by class_path.

Examples::

    gan-style fit --config recipes/cyclegan.yaml
    gan-style fit --config recipes/cyclegan.yaml --config recipes/loggers/wandb.yaml --trainer.max_epochs 5
    gan-style fit --config recipes/cyclegan.yaml --ckpt_path last          # resume
    gan-style predict --config recipes/cyclegan.yaml --ckpt_path runs/cyclegan/checkpoints/last.ckpt
    gan-style fit --config recipes/cyclegan.yaml --print_config            # the fully resolved config
    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photo.jpg --style art.jpg

The run folder is ``trainer.default_root_dir``: unless a recipe says otherwise, checkpoints go to
``<run>/checkpoints`` (so ``--ckpt_path last`` finds them across runs), logger files under ``<run>``,
sample grids to ``<run>/samples`` and predictions to ``<run>/predictions``.
"""

from __future__ import annotations

import netrc
import os
import re
import sys
from typing import Any

import torch
from lightning.fabric.plugins import CheckpointIO
from lightning.pytorch import Trainer
from lightning.pytorch.callbacks import Callback, ModelCheckpoint
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.plugins.precision.precision import Precision
from lightning.pytorch.utilities.exceptions import SIGTERMException

import gan_style.callbacks  # noqa: F401  (makes short class names resolvable in configs)
import gan_style.data  # noqa: F401
import gan_style.methods  # noqa: F401
from gan_style.callbacks import RunSummary
from gan_style.errors import GanStyleError, InvalidSettingError
from gan_style.io.untrusted import safe_load
from gan_style.plugins.checkpoint_io import AtomicCheckpointIO
from gan_style.plugins.precision import PerOptimizerMixedPrecision

#: Exit status after SIGTERM: the run saved its state and stopped before finishing (128 + SIGTERM).
EXIT_TERMINATED = 143

__all__ = ["GanStyleCLI", "main"]

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


class GanStyleCLI(LightningCLI):
    """LightningCLI with gan-style's defaults.

    - any LightningModule and LightningDataModule by ``class_path`` (subclass mode);
    - methods configure their own optimizers (``--optimizer`` is not added);
    - the resolved config is saved as ``config.yaml`` in the log folder, replaced on resume;
    - ``ModelCheckpoint`` callbacks without ``dirpath`` write to ``<default_root_dir>/checkpoints``, and
      loggers whose ``save_dir`` is ``.`` (WandbLogger's default) write under ``default_root_dir``;
    - checkpoints are written atomically and read with ``weights_only=True``
      (:class:`~gan_style.plugins.AtomicCheckpointIO`) unless ``trainer.plugins`` names another
      ``CheckpointIO``;
    - on SIGTERM (a scheduler's preemption, ``kill``), the run stops after the current batch; a
      ``ModelCheckpoint`` with ``save_on_exception: true`` (the recipes' ``last.ckpt`` one) saves it, and the
      process exits with status 143 after saying how to resume.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subclass_mode_model", True)
        kwargs.setdefault("subclass_mode_data", True)
        kwargs.setdefault("auto_configure_optimizers", False)
        kwargs.setdefault("save_config_kwargs", {"overwrite": True})
        kwargs.setdefault("trainer_defaults", {"callbacks": [RunSummary()]})
        kwargs.setdefault(
            "parser_kwargs",
            {
                "description": "gan-style: style transfer and image-to-image translation. "
                "Inference with any trained method or Gatys: gan-style stylize --help"
            },
        )
        super().__init__(*args, **kwargs)

    def before_instantiate_classes(self) -> None:
        config = self.config.get(self.config.get("subcommand"), self.config)
        trainer = config.get("trainer")
        if trainer is None:
            return
        root = trainer.get("default_root_dir") or os.getcwd()
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
                self._describe_wandb_run(config, logger)

    def _describe_wandb_run(self, config: Any, logger: Any) -> None:
        """Name, group and tag a W&B run from its method, recipes and dataset, unless the recipe set them:
        group = method class (``CycleGAN``), name = recipe stems (``cyclegan+cpu``), tags = method, recipes,
        dataset folder, precision; ``job_type`` = the subcommand (fit, test ...)."""
        model = config.get("model")
        method = str(getattr(model, "class_path", "") or type(model).__name__).rpartition(".")[2] or "model"
        recipes = [os.path.splitext(os.path.basename(str(p)))[0] for p in _as_list(config.get("config"))]
        recipes = [r for r in recipes if r not in ("wandb", "csv", "tensorboard")] or [method.lower()]
        data = config.get("data")
        root = getattr(getattr(data, "init_args", None), "root", None) if data is not None else None
        dataset = os.path.basename(os.path.normpath(str(root))) if root else None
        if logger.init_args.get("name") is None:
            logger.init_args.name = "+".join(dict.fromkeys(recipes))
        extra = dict(logger.get("dict_kwargs") or {})
        extra.setdefault("group", method)
        extra.setdefault("job_type", str(self.config.get("subcommand") or "run"))
        tags = [
            method,
            *recipes,
            *([dataset] if dataset else []),
            f"precision-{config.trainer.get('precision') or '32-true'}",
        ]
        extra.setdefault("tags", list(dict.fromkeys(str(t)[:64] for t in tags)))
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
        try:
            super()._parse_ckpt_path()  # reads the checkpoint's hyper-parameters with weights_only=True
        except Exception:
            subcommand = self.config.get("subcommand")
            path = self.config[subcommand].get("ckpt_path") if subcommand else None
            if path:
                safe_load(path)  # raises the error that names the file and says why (unsafe, truncated ...)
            raise

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
        return super()._instantiate_trainer(config, callbacks)

    def _wandb_loggers(self) -> list:
        from lightning.pytorch.loggers import WandbLogger

        trainer = getattr(self, "trainer", None)
        if trainer is None or trainer.global_rank != 0:
            return []
        return [lg for lg in trainer.loggers if isinstance(lg, WandbLogger)]

    def _wandb_start(self, subcommand: str) -> None:
        """The full resolved config (what ``--print_config`` shows) in the W&B run's config."""
        loggers = self._wandb_loggers()
        if not loggers:
            return
        import yaml

        dumped = yaml.safe_load(self.parser.dump(self.config, skip_none=False, skip_link_targets=False))
        resolved = dumped.get(subcommand, dumped)
        for logger in loggers:
            logger.experiment.config.update({"gan_style": resolved}, allow_val_change=True)

    def _wandb_finish(self) -> None:
        """The final value of every logged metric in the W&B run summary (``val/fid``, ``test/psnr`` ...)."""
        loggers = self._wandb_loggers()
        if not loggers:
            return
        metrics = {
            k: float(v) for k, v in self.trainer.callback_metrics.items() if getattr(v, "numel", lambda: 1)() == 1
        }
        metrics["trainer/global_step"] = self.trainer.global_step
        for logger in loggers:
            logger.experiment.summary.update(metrics)

    def _run_subcommand(self, subcommand: str) -> None:
        try:
            self._wandb_start(subcommand)
            super()._run_subcommand(subcommand)
            self._wandb_finish()
        except SIGTERMException:
            trainer = self.trainer
            saved = [
                cb.last_model_path or cb.best_model_path
                for cb in trainer.checkpoint_callbacks
                if isinstance(cb, ModelCheckpoint) and (cb.last_model_path or cb.best_model_path)
            ]
            where = f"the newest checkpoint is {saved[-1]}" if saved else "no checkpoint was saved"
            print(
                f"gan-style: stopped by SIGTERM at optimizer step {trainer.global_step} (epoch {trainer.current_epoch}); "
                f"{where}. Resume with the same command and --ckpt_path last",
                file=sys.stderr,
            )
            raise SystemExit(EXIT_TERMINATED) from None


def _error_message(exc: BaseException) -> str:
    """The message of ``exc``; for an error re-raised from a DataLoader worker (whose message embeds the
    worker's traceback), the original message only."""
    text = str(exc)
    if "Original Traceback" in text:
        pattern = re.compile(rf"(?:[\w.]+\.)?{re.escape(type(exc).__name__)}: (.*)")
        found = [m[1] for m in map(pattern.fullmatch, text.strip().splitlines()) if m]
        if found:
            return found[-1]
    return text


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style`` and ``python -m gan_style``.

    W&B never prompts for a login: without an API key (``WANDB_API_KEY`` or ``wandb login``), runs are
    logged offline (``WANDB_MODE=offline``) and can be uploaded later with ``wandb sync``.
    """
    if "WANDB_MODE" not in os.environ and not _wandb_has_credentials():
        os.environ["WANDB_MODE"] = "offline"
    argv = sys.argv[1:] if args is None else list(args)
    if argv and argv[0] == "stylize":
        from gan_style.commands.stylize import main as stylize_main

        stylize_main(argv[1:])
        return
    if argv and argv[0] in ("download", "compare", "evaluate", "export"):
        import importlib

        importlib.import_module(f"gan_style.commands.{argv[0]}").main(argv[1:])
        return
    try:
        GanStyleCLI(args=args)
    except GanStyleError as exc:  # bad input, missing weights, NaN loss: the message says what to do
        if os.environ.get("GAN_STYLE_TRACEBACK"):
            raise
        print(f"gan-style: error: {_error_message(exc)}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
