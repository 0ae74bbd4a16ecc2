"""What every gan-style method shares: learning-rate policy, sample images, prediction, exact resume."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from typing import Any, Literal

import lightning as L
import torch
from torch import Tensor, nn

from gan_style.errors import InferenceUnavailableError, NonFiniteLossError
from gan_style.inference.stylizer import Stylizer
from gan_style.losses.augment import DiffAugment, augmented
from gan_style.methods.resume import normalize_fit_loop_state
from gan_style.nets import load_reference_state_dict

__all__ = [
    "GanStyleModule",
    "LinearDecay",
    "NonFinitePolicy",
    "check_loss_finite",
    "check_n_critic",
    "generator_step_due",
]

#: What a method does when a training loss is NaN or infinite: ``"stop"`` raises
#: :class:`~gan_style.errors.NonFiniteLossError` naming the step and the loss term; ``"skip"`` leaves the
#: weights and optimizer state unchanged for that update, warns, and counts it in ``train/skipped_steps``.
#: A stop at a later update of a batch whose earlier update was applied (a discriminator step after the
#: generator step) writes no checkpoint of that half-done batch: the newest checkpoint stays a whole batch.
NonFinitePolicy = Literal["stop", "skip"]


def check_loss_finite(
    module: L.LightningModule,
    loss: Tensor,
    terms: Mapping[str, Tensor] | None,
    policy: NonFinitePolicy = "stop",
    skipped: int = 0,
) -> tuple[bool, int]:
    """Check a training ``loss`` (scalar tensor) of ``module`` before it is applied.

    Returns ``(finite, skipped)``. When the loss is NaN or infinite on any process (under DDP the decision is
    shared, so all processes skip or stop together): ``policy="stop"`` raises; ``"skip"`` warns naming the
    same facts and returns ``(False, skipped + 1)``.

    Args:
        module: the LightningModule (its trainer gives the step, epoch and batch for the message).
        loss: the scalar loss about to be back-propagated.
        terms: the logged loss terms; the non-finite ones are named in the message.
        policy: ``"stop"`` or ``"skip"`` (:data:`NonFinitePolicy`).
        skipped: updates skipped so far.

    Raises:
        NonFiniteLossError: the loss is not finite and ``policy`` is ``"stop"``; the message names the optimizer
            step, epoch, batch and the non-finite terms with their values.
    """
    finite = bool(torch.isfinite(loss.detach()).all())
    trainer = module._trainer
    if trainer is not None:
        finite = trainer.strategy.reduce_boolean_decision(finite, all=True)
    if finite:
        return True, skipped
    terms = dict(terms or {})
    bad = [name for name, value in terms.items() if not bool(torch.isfinite(torch.as_tensor(value)).all())]
    values = ", ".join(f"{name} = {float(torch.as_tensor(terms[name]).float().mean())}" for name in bad)
    where = "during training"
    if trainer is not None:
        batch = trainer.fit_loop.epoch_loop.batch_progress.current.ready - 1
        where = f"at optimizer step {trainer.global_step} (epoch {trainer.current_epoch}, batch {batch})"
    total = float(loss.detach().float())
    if bad:
        what = f"loss terms {values}"
    elif trainer is not None and trainer.world_size > 1 and math.isfinite(total):
        what = f"the loss on another process (here {total})"
    else:
        what = f"the total loss ({total}; no logged term is non-finite)"
    if policy == "skip":
        warnings.warn(
            f"non-finite loss {where}: {what}; this update was skipped (skipped so far: {skipped + 1})",
            RuntimeWarning,
            stacklevel=3,
        )
        return False, skipped + 1
    hint = "Lower the learning rate or the loss weights, or check the inputs"
    if "on_nonfinite_loss" in getattr(module, "hparams", {}):
        hint += ", or set model.init_args.on_nonfinite_loss: skip to skip such updates"
    raise NonFiniteLossError(
        f"non-finite loss {where}: {what}. The update was not applied, so the weights are still finite. {hint}"
    )


def check_n_critic(n_critic: Any) -> None:
    """Refuse an ``n_critic`` that is not an integer >= 1.

    Raises:
        ValueError: ``n_critic`` is not an ``int`` (a bool is refused too) or is below 1.
    """
    if isinstance(n_critic, bool) or not isinstance(n_critic, int) or n_critic < 1:
        raise ValueError(f"n_critic (discriminator steps per generator step) must be an integer >= 1, got {n_critic!r}")


def generator_step_due(module: L.LightningModule, n_critic: int) -> bool:
    """Whether the generator steps on the current training batch: on every ``n_critic``-th batch of the run.

    Batches are counted over the whole run, across epochs, with the trainer's own batch counter (restored on
    resume, so a resumed run keeps the cadence); the current batch is number ``total.ready`` (from 1), and the
    generator steps when it is a multiple of ``n_critic``. Always True for ``n_critic == 1``.

    Args:
        module: the LightningModule, attached to a trainer that is fitting.
        n_critic: discriminator steps per generator step (>= 1).
    """
    if n_critic == 1:
        return True
    return module.trainer.fit_loop.epoch_loop.batch_progress.total.ready % n_critic == 0


class LinearDecay:
    """Learning-rate factor for ``LambdaLR``: 1.0 for ``n_epochs`` epochs, then linear decay to 0 over
    ``n_epochs_decay`` epochs (CycleGAN, Zhu et al. 2017, Sec. 4; pix2pix code's ``linear`` policy).

    ``factor(e) = 1 - max(0, e + 1 - n_epochs) / (n_epochs_decay + 1)`` for the 0-based epoch ``e``, so
    the first ``n_epochs`` epochs run at the base rate and the last at ``1 / (n_epochs_decay + 1)`` of it.

    This is the reference code's lambda rule (``1 - max(0, epoch + epoch_count - n_epochs) /
    (n_epochs_decay + 1)``, ``epoch_count`` 1) evaluated at the number of epochs done before epoch ``e``. The
    reference's ``train.py`` steps its scheduler at the *start* of each epoch, so it evaluates the rule one
    step further: its epoch ``e`` runs at ``factor(e + 1)``, its 100th epoch already decayed and its last
    (200th) epoch at learning rate 0, a whole epoch without updates. gan-style keeps the paper's text
    ("the same learning rate for the first 100 epochs and linearly decay the rate to zero over the next 100
    epochs", Sec. 4 / Appendix 7.1): every epoch trains, and the rate reaches 0 after the last one.
    ``tests/test_schedules.py`` checks the whole 200-epoch table against the reference rule.

    A class rather than a lambda, so scheduler state pickles into checkpoints.

    Args:
        n_epochs: epochs at the base rate (100 in the paper), >= 0.
        n_epochs_decay: epochs of linear decay after them (100 in the paper), >= 0.

    Raises:
        ValueError: a negative number of epochs.
    """

    def __init__(self, n_epochs: int, n_epochs_decay: int) -> None:
        if n_epochs < 0 or n_epochs_decay < 0:
            raise ValueError(f"n_epochs and n_epochs_decay must be >= 0, got {n_epochs} and {n_epochs_decay}")
        self.n_epochs = n_epochs
        self.n_epochs_decay = n_epochs_decay

    def __call__(self, epoch: int) -> float:
        return max(0.0, 1.0 - max(0, epoch + 1 - self.n_epochs) / float(self.n_epochs_decay + 1))


class GanStyleModule(L.LightningModule):
    """Base LightningModule of the image-to-image methods; its public subclass API, in one place.

    A subclass implements its training procedure (``training_step``, ``configure_optimizers``, ...) and:

    - :meth:`stylizer` (with :attr:`stylizer_networks`): the inference hook. It returns the method's
      :class:`~gan_style.inference.Stylizer`, the one module every consumer uses (``gan-style stylize``, tiles,
      ``export``, ``compare``, predict). For a plain generator: ``return GeneratorStylizer(self.generator)``;
    - :meth:`sample_images`: named (N, 3, H, W) tensors in [-1, 1] for sample grids
      (``gan_style.callbacks.SampleGrid``), e.g. real_A, fake_B, rec_A;
    - :meth:`evaluation_images` (with :attr:`evaluation_metrics`): images for FID / KID / LPIPS ...

    Helpers a subclass calls: :meth:`check_settings` and :meth:`save_hyperparameters_plain` in ``__init__``;
    :meth:`backward_step` (one guarded optimizer update under manual optimization: never applies a NaN or
    infinite loss, see :data:`NonFinitePolicy`; the policy is the hyper-parameter ``on_nonfinite_loss``,
    ``"stop"`` when a method does not declare it) or :meth:`loss_is_finite` (automatic optimization);
    :meth:`step_schedulers_at_epoch_end` (under manual optimization Lightning does not step schedulers);
    :meth:`adam`. Frozen pretrained networks are declared in :attr:`frozen_networks`. An adversarial method sets
    :attr:`diffaugment` from its ``diffaugment`` setting and calls its discriminators through
    :meth:`augmented_discriminator`.

    Given here: ``predict_step`` (returns ``{"images", "paths"}`` for ``gan_style.callbacks.ImageWriter``, from
    :meth:`translate`, which runs the stylizer), loading ``reference_weights`` in ``setup``, and the global
    torch RNG state in checkpoints, restored when training starts, so a resumed run draws the same random
    numbers as an uninterrupted one.
    """

    #: Frozen pretrained networks (``VGGFeatures`` built with ``defer=True``): attribute name -> the
    #: hyper-parameter naming their weight source. Their weights load in ``setup`` (so a missing download
    #: fails with its own message), and they are left out of checkpoints when that source is named,
    #: to be rebuilt from it on load.
    frozen_networks: dict[str, str] = {}

    #: Metrics :class:`~gan_style.callbacks.EvaluationMetrics` computes for this method by default (names
    #: of :data:`gan_style.metrics.METRIC_NAMES`), from :meth:`evaluation_images`.
    evaluation_metrics: tuple[str, ...] = ()

    #: Metric names the method logs itself under ``val/`` and ``test/`` (EvaluationMetrics refuses them).
    self_logged_metrics: tuple[str, ...] = ()

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """Images for the evaluation metrics of a validation or test batch, each (N, 3, H, W) in [-1, 1]:
        ``generated`` (the method's output), ``reference`` (real images of the target distribution, for
        FID / KID; for style transfer the style images), optionally ``paired`` (ground truth of the same
        shape, PSNR / SSIM) and ``content`` (what the output should keep, LPIPS / ArtFID). Called under
        ``torch.no_grad()``."""
        raise NotImplementedError(f"{type(self).__name__} defines no evaluation_images(batch)")

    #: The names :meth:`stylizer` accepts, the default first (CycleGAN: ``("generator_ab", "generator_ba")``);
    #: ``gan-style export --network`` offers them. Empty: the method hands out no stylizer.
    stylizer_networks: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Defining a subclass makes its package known (:func:`gan_style.loading.plugins.register_method`), so
        checkpoints of the method load in this process."""
        super().__init_subclass__(**kwargs)
        from gan_style.loading.plugins import register_method

        register_method(cls)

    def __init__(self) -> None:
        super().__init__()
        self._pending_rng: dict[str, Any] | None = None
        self.active_optimizer: Any = None
        self.skipped_steps = 0
        self._applied: tuple[int, int] = (-1, 0)  # (training batch counter, updates applied in it)
        #: DiffAugment of the discriminators' inputs (``DiffAugment.from_setting(diffaugment)``), or None.
        self.diffaugment: DiffAugment | None = None

    # --- the inference hook ------------------------------------------------------------------------------
    def stylizer(self, network: str | None = None) -> Stylizer:
        """The method's inference module (:class:`~gan_style.inference.Stylizer`): content (N, 3, H, W) in
        [-1, 1] (plus style images and controls when the method takes them) -> output (N, C, H, W) in [-1, 1],
        sharing this model's networks (no copy). Consumers call it under ``torch.no_grad()`` with the model in
        eval mode.

        Args:
            network: one of :attr:`stylizer_networks` (None, the default: the first), for methods with several
                (CycleGAN's two directions).

        Raises:
            InferenceUnavailableError: the method defines no stylizer (override this method).
            ValueError: an unknown ``network`` (the message lists the choices).
        """
        raise InferenceUnavailableError(
            f"{type(self).__name__} hands out no stylizer, so it cannot be stylized, tiled, exported or compared; "
            "define stylizer() in the method (for a generator: return GeneratorStylizer(self.generator)), see "
            "docs/adding_a_method.md"
        )

    def trained_image_size(self) -> int | None:
        """The side (pixels) of the images this model trains on: the data module's training crop
        (:attr:`gan_style.data.ImageTransform.output_size`), or the one a loaded checkpoint recorded
        (``gan_style_image_size``); None when unknown (variable sizes, no data module). Consumers run the model
        at that size by default (:attr:`gan_style.inference.Stylizer.default_size`)."""
        trainer = self._trainer
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        size = getattr(getattr(datamodule, "train_transform", None), "output_size", None)
        return size if isinstance(size, int) else getattr(self, "_trained_image_size", None)

    def check_stylizer_network(self, network: str | None) -> str:
        """The :attr:`stylizer_networks` name ``network`` stands for (None: the default, the first).

        Raises:
            ValueError: ``network`` is not one of :attr:`stylizer_networks`.
        """
        choices = self.stylizer_networks
        if network is None and choices:
            return choices[0]
        if network not in choices:
            raise ValueError(
                f"{type(self).__name__} has no network {network!r} to run; choose one of: {', '.join(choices) or '(none)'}"
            )
        return network

    def translate(self, batch: dict[str, Any]) -> tuple[Tensor, list[str]]:
        """Outputs (N, C, H, W) in [-1, 1] of a predict batch through :meth:`stylizer`, and the input paths.

        Outputs have the inputs' size (the one runner's sizing, :meth:`stylize_batch`), or the shorter side the
        DataModule's ``predict_size`` asks for.

        The content is ``batch["content"]`` or else ``batch["A"]`` (paths under ``"<key>_path"``); a stylizer
        that takes style images gets ``batch["style"]``, pairwise (content i with style i). Override for other
        batch layouts (CycleGAN translates ``"B"`` batches with ``generator_ba``).

        Raises:
            KeyError: the batch has neither ``"content"`` nor ``"A"``, or no ``"style"`` for a stylizer that
                needs one.
        """
        key = "content" if "content" in batch else "A"
        if key not in batch:
            raise KeyError(f"{type(self).__name__} predicts from a batch with 'content' or 'A', got {sorted(batch)}")
        stylizer = self.stylizer()
        if stylizer.takes_style and "style" not in batch:
            raise KeyError(f"{type(self).__name__} needs a 'style' entry in predict batches, got {sorted(batch)}")
        size = self.predict_size()
        return self.stylize_batch(stylizer, batch[key], batch.get("style"), size), batch.get(f"{key}_path", [])

    def predict_size(self) -> int | None:
        """The shorter side of ``predict`` outputs: the DataModule's ``predict_size_for_runner`` when it has one
        (unpaired data: its ``predict_size``), else None (the inputs' own size)."""
        trainer = self._trainer
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        return getattr(datamodule, "predict_size_for_runner", None)

    @staticmethod
    def stylize_batch(
        stylizer: Stylizer, content: Tensor, styles: Tensor | None = None, size: int | None = None
    ) -> Tensor:
        """``stylizer`` on ``content`` (N, C, H, W) in [-1, 1] of any size, one image at a time through the one
        runner of every door (:class:`gan_style.inference.run.Runner`), returning (N, C_out, H_out, W_out) in
        [-1, 1] on ``content``'s device: the inputs' own size (``size`` None, the default) or the shorter side
        ``size``, so ``predict`` gives the pixels ``gan-style stylize`` gives. A stylizer that takes style images
        gets ``styles`` (N, 3, h, w) pairwise, content i with style i.
        """
        from gan_style.inference.run import Runner

        runner = Runner(stylizer, size=size, device=content.device, max_pixels=None, expected_calls=len(content))
        outputs = []
        for i in range(content.shape[0]):
            pair = runner.prepare_styles([styles[i : i + 1]]) if stylizer.takes_style and styles is not None else None
            outputs.append(runner(content[i : i + 1], pair))
        return torch.cat(outputs).to(content.device)

    def save_hyperparameters_plain(self) -> None:
        """``save_hyperparameters`` of the subclass's ``__init__``, minus network instances.

        Under ``gan-style`` (LightningCLI) networks arrive as class_path configs and are stored, so
        ``load_from_checkpoint`` rebuilds them; network objects passed from Python are not stored (they
        would make the checkpoint unreadable with ``weights_only=True``): pass them again to
        ``load_from_checkpoint``.
        """
        import inspect

        with warnings.catch_warnings():  # the network objects are dropped just below
            warnings.filterwarnings("ignore", message=".*is an instance of `nn.Module`")
            self.save_hyperparameters(frame=inspect.currentframe().f_back)
        for key in [k for k, v in self.hparams.items() if isinstance(v, nn.Module)]:
            del self.hparams[key]
            self._hparams_initial.pop(key, None)
        policy = self.hparams.get("on_nonfinite_loss", "stop")
        if policy not in ("stop", "skip"):
            raise ValueError(f"on_nonfinite_loss must be 'stop' or 'skip', got {policy!r}")

    # shared behaviour ---------------------------------------------------------------------------------
    def check_settings(
        self,
        non_negative: dict[str, float],
        reference_weights: dict[str, str] | None = None,
        networks: tuple[str, ...] = (),
    ) -> None:
        """Refuse bad settings in ``__init__``, before anything is built.

        Args:
            non_negative: settings that must be numbers >= 0 (name -> value), e.g. ``{"lr": lr}``.
            reference_weights: the ``reference_weights`` setting (network name -> weights file), or None.
            networks: the network names ``reference_weights`` may use.

        Raises:
            ValueError: a negative or NaN value in ``non_negative`` (naming it), or an unknown network name in
                ``reference_weights`` (listing the known ones).
        """
        for name, value in non_negative.items():
            if not value >= 0:  # also rejects NaN
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        unknown = set(reference_weights or {}) - set(networks)
        if unknown:
            raise ValueError(f"reference_weights names unknown networks {sorted(unknown)}; use {', '.join(networks)}")

    def setup(self, stage: str) -> None:
        """Load frozen pretrained networks, then ``reference_weights`` (network name -> published weights
        file) once, before any Lightning checkpoint given with ``ckpt_path`` is restored over them."""
        self.check_image_sizes()
        for attr in self.frozen_networks:
            getattr(self, attr).load_pretrained()
        weights = self.hparams.get("reference_weights") if hasattr(self, "hparams") else None
        if not weights or getattr(self, "_reference_loaded", False):
            return
        for name, path in weights.items():
            load_reference_state_dict(getattr(self, name), path)
        self._reference_loaded = True

    def check_image_sizes(self, datamodule: Any = None) -> None:
        """Refuse, before training or evaluation starts, an image size some network of this method cannot take.

        The sizes are those the data module's ``train_transform`` and ``eval_transform`` produce
        (:attr:`gan_style.data.ImageTransform.output_size`: ``crop_size`` in the cropping modes); each network
        (direct submodule) declaring a ``size_multiple`` (:func:`~gan_style.inference.size_multiple_of`: 4 for
        the ResNet generator, 2^num_downs for the U-Net) needs a multiple of it. Modes without a fixed size
        (``scale_width``, ``none``) are not checked here.

        Args:
            datamodule: the data module (None, the default: the trainer's).

        Raises:
            InvalidSettingError: a size that is not a multiple; the message names ``data.init_args.crop_size``,
                the network and the nearest sizes that work.
        """
        from gan_style.errors import InvalidSettingError
        from gan_style.inference.stylizer import size_multiple_of

        if datamodule is None:
            trainer = self._trainer
            datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        sizes = {
            getattr(getattr(datamodule, attr, None), "output_size", None)
            for attr in ("train_transform", "eval_transform")
        }
        for size in sorted(s for s in sizes if isinstance(s, int)):
            for name, network in self.named_children():
                multiple = size_multiple_of(network)
                if multiple > 1 and size % multiple:
                    below, above = size // multiple * multiple, (size // multiple + 1) * multiple
                    use = f"{below} or {above}" if below else str(above)
                    raise InvalidSettingError(
                        f"data.init_args.crop_size={size} does not suit {type(self).__name__}'s {name} "
                        f"({type(network).__name__}), which needs image sides that are multiples of {multiple}: "
                        f"use {use}"
                    )

    def loss_is_finite(self, loss: Tensor, terms: Mapping[str, Tensor] | None = None) -> bool:
        """Whether the training ``loss`` (a scalar tensor) is finite on every process; when it is not, the
        ``on_nonfinite_loss`` policy applies (see :func:`check_loss_finite`).

        Raises:
            NonFiniteLossError: the loss is not finite and the policy is ``"stop"``. When an earlier update of the
                same batch was applied (:meth:`backward_step`), the run's ``ModelCheckpoint`` callbacks do not save
                on this exception (a checkpoint of half a batch would not resume exactly) and the message names
                the newest checkpoint.
        """
        try:
            finite, self.skipped_steps = check_loss_finite(
                self, loss, terms, self.hparams.get("on_nonfinite_loss", "stop"), self.skipped_steps
            )
        except NonFiniteLossError as err:
            if self._updates_applied_in_this_batch() == 0:
                raise
            raise NonFiniteLossError(f"{err} {self._no_half_batch_checkpoint()}") from None
        return finite

    def _batch_counter(self) -> int:
        trainer = self._trainer
        return -1 if trainer is None else int(trainer.fit_loop.epoch_loop.batch_progress.total.ready)

    def _updates_applied_in_this_batch(self) -> int:
        batch, applied = self._applied
        return applied if batch == self._batch_counter() >= 0 else 0

    def _no_half_batch_checkpoint(self) -> str:
        """Turn off saving on exception for this run's ``ModelCheckpoint`` callbacks; the sentence saying so."""
        from lightning.pytorch.callbacks import ModelCheckpoint

        newest = ""
        for callback in self.trainer.checkpoint_callbacks:
            if isinstance(callback, ModelCheckpoint):
                callback.save_on_exception = False
                newest = newest or callback.last_model_path or callback.best_model_path
        where = f"the newest checkpoint is {newest}" if newest else "no checkpoint of this run was saved"
        return (
            f"An earlier update of this batch was applied, so no checkpoint of the half-done batch is written; {where}."
        )

    def backward_step(self, optimizer: Any, loss: Tensor, terms: Mapping[str, Tensor] | None = None) -> bool:
        """One guarded update: zero the gradients, then, if ``loss`` is finite (:meth:`loss_is_finite`),
        ``manual_backward(loss)`` and ``optimizer.step()``. Returns whether the update was applied.

        Args:
            optimizer: the ``LightningOptimizer`` from ``self.optimizers()``.
            loss: scalar loss tensor with a graph.
            terms: the loss terms as logged (``{"loss_g_gan": ..., ...}``), named in the error when one is
                NaN or infinite.

        Raises:
            NonFiniteLossError: ``loss`` is not finite and the policy is ``"stop"``.
        """
        optimizer.zero_grad(set_to_none=True)
        if not self.loss_is_finite(loss, terms):
            return False
        self.active_optimizer = getattr(optimizer, "optimizer", optimizer)  # its own loss scale under 16-mixed
        try:
            self.manual_backward(loss)
        finally:
            self.active_optimizer = None
        optimizer.step()
        counter = self._batch_counter()
        self._applied = (counter, self._updates_applied_in_this_batch() + 1)
        return True

    def augmented_discriminator(self, discriminator: Any, groups: tuple[int, ...] | None = None) -> Any:
        """``discriminator`` as the adversarial losses call it: through :attr:`diffaugment` while the module is in
        training mode (:func:`gan_style.losses.augment.augmented`: every call augments its images with new draws
        from the global torch generator), unchanged in evaluation mode or when :attr:`diffaugment` is None.

        Args:
            discriminator: D, (N, C, H, W) in [-1, 1] -> scores.
            groups: channel counts of the images stacked in D's input (a conditional D's concat(condition, image):
                the same transform for each part); None (default): one image per sample.
        """
        return augmented(discriminator, self.diffaugment if self.training else None, groups)

    def adam(self, params: Any, lr: float, betas: tuple[float, float] = (0.9, 0.999)) -> torch.optim.Adam:
        """``torch.optim.Adam`` over ``params`` using torch's fused kernel (one launch for all parameters)
        when every parameter is a floating-point CUDA tensor, else torch's default implementation. Called
        from ``configure_optimizers``, after Lightning has moved the module to its device."""
        params = list(params)
        fused = bool(params) and all(p.is_cuda and p.is_floating_point() for p in params)
        return torch.optim.Adam(params, lr=lr, betas=tuple(betas), fused=True if fused else None)

    def on_train_batch_end(self, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self.skipped_steps:
            self.log("train/skipped_steps", float(self.skipped_steps), batch_size=1)
        self.log_step_axis(on_step=True)

    def on_validation_epoch_end(self) -> None:
        self.log_step_axis(on_step=False)

    def on_test_epoch_end(self) -> None:
        self.log_step_axis(on_step=False)

    def log_step_axis(self, on_step: bool) -> None:
        """Log ``step`` = ``trainer.global_step`` (optimizer steps), which Lightning takes as the x-axis of the
        scalars logged with it: training losses, validation and test metrics then share the axis of the sample
        images, the checkpoint names and ``max_steps`` (Lightning's own default counts batches, half the optimizer
        steps of a GAN that steps its generator and discriminator once each per batch). A method that overrides
        ``on_train_batch_end``, ``on_validation_epoch_end`` or ``on_test_epoch_end`` calls ``super()``."""
        if self._trainer is not None and self.trainer.loggers:
            self.log("step", float(self.global_step), on_step=on_step, on_epoch=not on_step, batch_size=1)

    def predict_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        """``{"images": (N, C, H, W) in [-1, 1], "paths": [...]}`` from :meth:`translate`."""
        images, paths = self.translate(batch)
        return {"images": images, "paths": list(paths)}

    def step_schedulers_at_epoch_end(self) -> None:
        """Step every learning-rate scheduler once if this training batch is the epoch's last.

        Call it at the end of ``training_step`` (manual optimization leaves schedulers to the module). Doing
        it inside the step, before any ``on_train_batch_end`` / ``on_train_epoch_end`` hook, means a
        checkpoint written at the end of the epoch already holds the stepped schedulers.
        """
        if not self.trainer.is_last_batch:
            return
        schedulers = self.lr_schedulers()
        if schedulers is None:
            return
        for scheduler in schedulers if isinstance(schedulers, list) else [schedulers]:
            scheduler.step()

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        rng = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        checkpoint["gan_style_rng"] = rng
        checkpoint["gan_style_class"] = f"{type(self).__module__}.{type(self).__qualname__}"
        checkpoint["gan_style_skipped_steps"] = self.skipped_steps
        size = self.trained_image_size()
        if size is not None:
            checkpoint["gan_style_image_size"] = size
        # how the data's values map to [-1, 1] (16-bit, float, N-band data), read by the loader of every door
        datamodule = getattr(self._trainer, "datamodule", None) if self._trainer is not None else None
        record = getattr(datamodule, "checkpoint_scalings", None)
        scalings = record() if callable(record) else None
        if scalings is not None:
            checkpoint["gan_style_scaling"] = scalings

        for attr, source in self.frozen_networks.items():
            if self.hparams.get(source) is not None:
                state = checkpoint["state_dict"]
                for key in [k for k in state if k.startswith(f"{attr}.")]:
                    del state[key]

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        normalize_fit_loop_state(checkpoint)  # exact resume from every position (gan_style.methods.resume)
        self._trained_image_size = checkpoint.get("gan_style_image_size")
        self._pending_rng = checkpoint.get("gan_style_rng")
        self.skipped_steps = int(checkpoint.get("gan_style_skipped_steps", 0))
        state = checkpoint.get("state_dict", {})
        for attr in self.frozen_networks:
            if not any(k.startswith(f"{attr}.") for k in state):
                net = getattr(self, attr)
                net.load_pretrained()
                state.update({f"{attr}.{k}": v for k, v in net.state_dict().items()})

    def on_train_start(self) -> None:
        if self._pending_rng is not None:
            torch.set_rng_state(self._pending_rng["torch"])
            if "cuda" in self._pending_rng and torch.cuda.is_available():
                torch.cuda.set_rng_state_all(self._pending_rng["cuda"])
            self._pending_rng = None
