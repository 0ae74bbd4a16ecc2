"""Weights & Biases runs that compare: named from their recipes, grouped by method, tagged, with the resolved
config and the final metrics.

- :func:`wandb_run_settings`: the name, group, job type and tags of a run from its resolved config, used by the
  ``gan-style`` command for every ``WandbLogger`` a recipe configures (the recipe's own values win);
- :class:`WandbConfigAndSummary`: LightningCLI's config-saving callback (``config.yaml`` in the log folder,
  replaced on resume) that also stores its model and data sections in every checkpoint (``gan_style_config``: so
  ``predict`` / ``test`` / ``validate`` run from a checkpoint alone), puts it into each W&B run's config, and
  puts the final value of every logged metric (``val/fid``, ``test/psnr`` ...) into the W&B run's summary.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any

import lightning as L
from lightning.pytorch.cli import SaveConfigCallback

from gan_style.errors import MissingDependencyError

__all__ = ["CHECKPOINT_CONFIG_KEY", "WandbConfigAndSummary", "require_wandb", "wandb_run_settings"]

from gan_style.loading.sources import CHECKPOINT_CONFIG_KEY  # noqa: E402 - the checkpoint format's own name

#: Recipe pieces that choose a logger, not the experiment: left out of run names.
LOGGER_RECIPES = ("wandb", "csv", "tensorboard")


def _as_list(value: Any) -> list:
    if value is None or isinstance(value, bool):
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def require_wandb() -> None:
    """Refuse, in one line, a run that asks for W&B logging when ``wandb`` (the ``wandb`` extra) is not installed.

    Raises:
        MissingDependencyError: ``wandb`` is not installed; the message says ``pip install "gan-style[wandb]"``.
    """
    if importlib.util.find_spec("wandb") is None:
        raise MissingDependencyError(
            "the config logs to Weights & Biases (WandbLogger, e.g. --config loggers/wandb) but the package 'wandb' "
            'is not installed: pip install "gan-style[wandb]"'
        )


def wandb_run_settings(config: Any, subcommand: str | None) -> dict[str, Any]:
    """How a W&B run is described, from the resolved config of one subcommand. The ``gan-style`` command calls it
    for every ``WandbLogger`` of a config before anything is built, so it first checks that ``wandb`` is installed
    (:func:`require_wandb`).

    Args:
        config: the subcommand's config namespace (``model``, ``data``, ``trainer``, ``config`` = the recipe
            files given with ``--config``).
        subcommand: ``fit``, ``test`` ... (None: ``"run"``).

    Returns:
        ``{"name": recipe stems joined by "+" ("cyclegan+cpu"), "group": the method class ("CycleGAN"),
        "job_type": the subcommand, "tags": [method, recipes..., dataset folder, "precision-<p>"]}`` (tags at
        most 64 characters each, without duplicates).

    Raises:
        MissingDependencyError: ``wandb`` is not installed (``pip install "gan-style[wandb]"``).
    """
    require_wandb()
    model = config.get("model")
    method = str(getattr(model, "class_path", "") or type(model).__name__).rpartition(".")[2] or "model"
    recipes = [os.path.splitext(os.path.basename(str(p)))[0] for p in _as_list(config.get("config"))]
    recipes = [r for r in recipes if r not in LOGGER_RECIPES] or [method.lower()]
    data = config.get("data")
    root = getattr(getattr(data, "init_args", None), "root", None) if data is not None else None
    dataset = os.path.basename(os.path.normpath(str(root))) if root else None
    trainer = config.get("trainer") or {}
    tags = [method, *recipes, *([dataset] if dataset else []), f"precision-{trainer.get('precision') or '32-true'}"]
    return {
        "name": "+".join(dict.fromkeys(recipes)),
        "group": method,
        "job_type": str(subcommand or "run"),
        "tags": list(dict.fromkeys(str(t)[:64] for t in tags)),
    }


def _wandb_loggers(trainer: L.Trainer) -> list:
    from lightning.pytorch.loggers import WandbLogger

    if not trainer.is_global_zero:
        return []
    return [logger for logger in trainer.loggers if isinstance(logger, WandbLogger)]


class WandbConfigAndSummary(SaveConfigCallback):
    """LightningCLI's ``SaveConfigCallback`` (same arguments) that also fills each W&B run, on rank 0:

    - at setup (:meth:`save_config`, Lightning's hook for logging the config), the run config gets the full
      resolved config under ``gan_style``;
    - at teardown of every stage, the run summary gets the final value of every scalar logged metric and
      ``trainer/global_step``.

    Every checkpoint of a ``fit`` gets the model and data sections of the resolved config, as plain data, under
    :data:`CHECKPOINT_CONFIG_KEY` (read back, validated, by :func:`gan_style.loading.sources.carried_config`). ``config.yaml`` is written by ``fit`` only: ``predict``,
    ``test`` and ``validate`` of a run leave the training run's file as it is.

    Without a ``WandbLogger`` it only writes ``config.yaml`` and the checkpoint entry.
    """

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage == "fit":
            super().setup(trainer, pl_module, stage)
        elif trainer.is_global_zero and not self.already_saved:
            self.save_config(trainer, pl_module, stage)
            self.already_saved = True

    def on_save_checkpoint(self, trainer: L.Trainer, pl_module: L.LightningModule, checkpoint: dict[str, Any]) -> None:
        import yaml

        resolved = yaml.safe_load(self.parser.dump(self.config, skip_none=False, skip_link_targets=False))
        # the model and data sections only: all a checkpoint may supply to predict / test / validate
        checkpoint[CHECKPOINT_CONFIG_KEY] = {k: resolved[k] for k in ("model", "data") if k in resolved}

    def save_config(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        loggers = _wandb_loggers(trainer)
        if not loggers:
            return
        import yaml

        resolved = yaml.safe_load(self.parser.dump(self.config, skip_none=False, skip_link_targets=False))
        for logger in loggers:
            logger.experiment.config.update({"gan_style": resolved}, allow_val_change=True)

    def teardown(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        loggers = _wandb_loggers(trainer)
        if not loggers:
            return
        metrics = {
            k: float(v)
            for k, v in trainer.callback_metrics.items()
            if k != "step" and getattr(v, "numel", lambda: 1)() == 1
        }
        metrics["trainer/global_step"] = trainer.global_step
        for logger in loggers:
            logger.experiment.summary.update(metrics)
