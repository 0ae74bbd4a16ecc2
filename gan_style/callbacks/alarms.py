"""``SilentFailureAlarms``: warnings for trainings that run without error but learn the wrong thing."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_warn
from torch import Tensor

__all__ = ["ALARMS", "DEFAULT_LOSS_PAIRS", "SilentFailureAlarms", "SilentFailureWarning"]

#: The alarms :class:`SilentFailureAlarms` knows, by name.
ALARMS: tuple[str, ...] = ("identity_collapse", "mode_collapse", "discriminator_wins", "color_inversion")

#: (discriminator loss key, generator adversarial loss key) pairs the ``discriminator_wins`` alarm reads from
#: the values a method logs in ``training_step``: Pix2Pix and CUT / FastCUT / SinCUT log ``train/loss_d`` and
#: ``train/loss_g_gan``; the PatchGAN style network ``train/loss_d`` and ``train/loss_adv``; CycleGAN one pair
#: per direction, ``train/loss_d_b`` (discriminator_b judges G_AB's outputs) with ``train/loss_g_ab`` and
#: ``train/loss_d_a`` with ``train/loss_g_ba``; MUNIT and UNIT ``train/loss_d_a`` (discriminator_a judges domain A)
#: with ``train/loss_g_adv_a`` and ``train/loss_d_b`` with ``train/loss_g_adv_b``. A pair whose keys a method does not
#: log is never checked. DCGAN's ``train/loss_g`` is all adversarial, but other methods' ``train/loss_g`` is not, so
#: it is not a default: pass ``loss_pairs=[("train/loss_d", "train/loss_g")]`` for DCGAN.
DEFAULT_LOSS_PAIRS: tuple[tuple[str, str], ...] = (
    ("train/loss_d", "train/loss_g_gan"),
    ("train/loss_d", "train/loss_adv"),
    ("train/loss_d_b", "train/loss_g_ab"),
    ("train/loss_d_a", "train/loss_g_ba"),
    ("train/loss_d_a", "train/loss_g_adv_a"),
    ("train/loss_d_b", "train/loss_g_adv_b"),
)

_ADVICE = {
    "identity_collapse": "lower lambda_identity (CycleGAN, SinCUT) or set nce_idt: false (CUT), and check that the "
    "two data domains really differ",
    "mode_collapse": "weaken the discriminator (fewer layers or filters: n_layers, ndf), keep the image pool "
    "(pool_size: 50) or use gan_mode lsgan, and check that the data gives varied images",
    "discriminator_wins": "weaken the discriminator (fewer layers or filters: n_layers, ndf) or use gan_mode lsgan, "
    "and check that real and generated images do not differ in something trivial (size, borders, JPEG artefacts)",
    "color_inversion": "train again with another seed_everything or a higher lambda_identity (CycleGAN), and check "
    "data.direction",
}

# ITU-R BT.601 luma weights
_LUMA = (0.299, 0.587, 0.114)


class SilentFailureWarning(UserWarning):
    """The warning category of :class:`SilentFailureAlarms` (filter it with ``warnings.filterwarnings``)."""


def _luminance(images: Tensor) -> Tensor:
    """(N, H*W) luminance of (N, C, H, W) images: BT.601 luma for 3 channels, else the channels' mean."""
    if images.shape[1] == 3:
        weights = images.new_tensor(_LUMA).view(1, 3, 1, 1)
        return (images * weights).sum(1).flatten(1)
    return images.mean(1).flatten(1)


def _pearson(a: Tensor, b: Tensor) -> Tensor:
    """Per-row Pearson correlation of (N, P) tensors; NaN for a row with (almost) no variance."""
    a = a - a.mean(1, keepdim=True)
    b = b - b.mean(1, keepdim=True)
    norm = a.norm(dim=1) * b.norm(dim=1)
    r = (a * b).sum(1) / norm
    return torch.where(norm > 1e-8 * a.shape[1], r, torch.full_like(r, float("nan")))


def _mean_pairwise_l1(images: Tensor) -> Tensor:
    """Mean L1 distance per element over all pairs of the (N, D) rows (N >= 2)."""
    n = images.shape[0]
    distances = torch.cdist(images, images, p=1) / images.shape[1]
    return distances.sum() / (n * (n - 1))


class SilentFailureAlarms(L.Callback):
    """Watch a training for four failures that raise no error and warn when one appears.

    Each alarm is a :class:`SilentFailureWarning` (through ``rank_zero_warn``, on the main process) that names
    the alarm, the optimizer step (``trainer.global_step``), the measured value against its threshold, and
    one line of advice, e.g.::

        SilentFailureAlarms: identity collapse at step 1200: mean |G(x) - x| = 0.0041 (pixels in [-1, 1]) was
        below 0.01 in 3 validations in a row: the generator returns its input. Advice: lower lambda_identity ...

    An alarm warns once when its condition has held for ``patience`` checks in a row, and again only after the
    condition has cleared and come back. Every check also logs, through ``pl_module.log``, a flag
    ``alarms/<name>`` (1.0 while the alarm's condition has held long enough, else 0.0) and the measured value.

    The alarms:

    - ``identity_collapse``: the mean absolute difference ``mean |G(x) - x|`` between the outputs and the inputs,
      over pixels, channels and images, in the models' [-1, 1] pixel units (0: identical; 2: opposite
      extremes), logged as ``alarms/identity_distance``, is below ``identity_threshold`` in ``patience``
      validations in a row. Typical cause: a too-high identity loss (CycleGAN ``lambda_identity``, CUT
      ``nce_idt``) or two data domains that are the same.
    - ``mode_collapse``: the outputs of different inputs are nearly equal: the mean pairwise L1 distance of the
      outputs divided by that of their inputs (both average-pooled to ``compare_size`` x ``compare_size`` pixels), a
      ratio >= 0 logged as ``alarms/output_diversity`` (about 1 when the outputs differ as much as the inputs,
      0 for one output for every input), is below ``mode_collapse_threshold`` in ``patience`` validations in a
      row. A method without input images (an unconditional GAN such as DCGAN) is compared with the real images
      its ``evaluation_images`` give as ``reference``. Needs at least two validation images.
    - ``color_inversion``: the outputs' luminance is anti-correlated with the inputs': the per-image Pearson
      correlation over pixels of the two luminances (BT.601 luma; the channels' mean when there are not 3),
      averaged over images, in [-1, 1] and logged as ``alarms/luminance_correlation``, is below
      ``inversion_threshold`` in ``patience`` validations in a row. Checked for methods without paired ground
      truth only (unpaired translation, style transfer): a method whose ``evaluation_images`` give ``paired``
      images (Pix2Pix) learns its colours from them.
    - ``discriminator_wins``: for a pair of training losses a method logs (``loss_pairs``, read from
      ``trainer.callback_metrics`` after each training batch), the discriminator loss averaged over the last
      ``loss_window`` training batches is below ``d_loss_threshold``, while the generator's adversarial loss
      rises: its mean over the later half of those batches exceeds the earlier half's mean by more than
      ``g_loss_rise`` times the earlier half's magnitude (on a batch without a generator step, ``n_critic`` > 1,
      the generator's last logged value counts again). Checked every ``loss_window // 4`` training batches, in
      ``patience`` checks in a row (one device-to-host copy per check, none in between). Off for
      ``gan_mode: wgangp`` (a critic loss has no floor at 0) and for a method that logs none of the pairs' keys
      (AdaIN, Gatys): such runs are not checked, silently. The flag ``alarms/discriminator_wins`` is logged
      every training batch once a pair is watched.

    Where the images come from: in each validation epoch of ``fit`` (not the sanity check, not ``validate``),
    the inputs ``x`` of the first validation batches (``batch["content"]``, else ``batch["A"]``; batches without
    either have no inputs, and only ``mode_collapse`` is checked on them), at most
    ``max_images`` per process, and the method's outputs ``G(x)`` from its public
    :meth:`~gan_style.methods.GanStyleModule.evaluation_images` hook (``generated``), under
    ``torch.no_grad()``. Methods log their validation losses without returning outputs, so this is one extra
    generator pass over at most ``max_images`` images per validation; a method without
    ``evaluation_images`` (Gatys) is not checked by the three image alarms, silently. Under DDP the
    measurements are averaged over the processes, so every process decides alike.

    Add it to a run from the command line (``--trainer.callbacks+=gan_style.callbacks.SilentFailureAlarms``)
    or a recipe::

        trainer:
          callbacks+:
            - class_path: gan_style.callbacks.SilentFailureAlarms

    Args:
        alarms: names of the alarms to run, from :data:`ALARMS` (None, the default: all four).
        patience: validations in a row (checks in a row for ``discriminator_wins``) a condition must hold
            before its alarm warns, an integer >= 1 (3).
        identity_threshold: ``identity_collapse`` fires below this mean absolute difference, in [-1, 1] pixel
            units, >= 0 (0.01: about 1.3 grey levels of 255).
        mode_collapse_threshold: ``mode_collapse`` fires below this output-to-input diversity ratio, >= 0 (0.05).
        inversion_threshold: ``color_inversion`` fires below this mean luminance correlation, in [-1, 0]
            (-0.5).
        d_loss_threshold: ``discriminator_wins`` needs the discriminator loss's window mean below this, >= 0,
            in the loss's own units (0.005).
        g_loss_rise: ``discriminator_wins`` needs the generator's adversarial loss to rise by more than this
            fraction of its earlier level within the window, >= 0 (0.0: any rise).
        loss_window: training batches in the ``discriminator_wins`` window, an integer >= 4 (100).
        loss_pairs: (discriminator loss key, generator adversarial loss key) pairs of ``trainer.callback_metrics``
            keys (None, the default: :data:`DEFAULT_LOSS_PAIRS`).
        max_images: validation images per process measured per validation, an integer >= 2 (16).
        compare_size: side in pixels, >= 1, to which ``mode_collapse`` average-pools the images (any size) before
            comparing them (64).

    Raises:
        ValueError: an unknown alarm name, or a setting out of its range (the message names the setting).
    """

    def __init__(
        self,
        alarms: Sequence[str] | None = None,
        patience: int = 3,
        identity_threshold: float = 0.01,
        mode_collapse_threshold: float = 0.05,
        inversion_threshold: float = -0.5,
        d_loss_threshold: float = 0.005,
        g_loss_rise: float = 0.0,
        loss_window: int = 100,
        loss_pairs: Sequence[tuple[str, str]] | None = None,
        max_images: int = 16,
        compare_size: int = 64,
    ) -> None:
        names = ALARMS if alarms is None else tuple(alarms)
        unknown = [name for name in names if name not in ALARMS]
        if unknown:
            raise ValueError(f"alarms: unknown alarm name(s) {unknown}; choose from {', '.join(ALARMS)}")
        for name, value in (
            ("identity_threshold", identity_threshold),
            ("mode_collapse_threshold", mode_collapse_threshold),
            ("d_loss_threshold", d_loss_threshold),
            ("g_loss_rise", g_loss_rise),
        ):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:  # NaN too
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if (
            isinstance(inversion_threshold, bool)
            or not isinstance(inversion_threshold, (int, float))
            or not -1.0 <= inversion_threshold <= 0.0
        ):
            raise ValueError(f"inversion_threshold must be a correlation in [-1, 0], got {inversion_threshold!r}")
        for name, value, least in (
            ("patience", patience, 1),
            ("loss_window", loss_window, 4),
            ("max_images", max_images, 2),
            ("compare_size", compare_size, 1),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"{name} must be an integer >= {least}, got {value!r}")
        pairs = DEFAULT_LOSS_PAIRS if loss_pairs is None else tuple(tuple(pair) for pair in loss_pairs)
        if any(len(pair) != 2 or not all(isinstance(key, str) for key in pair) for pair in pairs):
            raise ValueError(f"loss_pairs must be (discriminator key, generator key) pairs of strings, got {pairs!r}")
        self.alarms = names
        self.patience = patience
        self.identity_threshold = float(identity_threshold)
        self.mode_collapse_threshold = float(mode_collapse_threshold)
        self.inversion_threshold = float(inversion_threshold)
        self.d_loss_threshold = float(d_loss_threshold)
        self.g_loss_rise = float(g_loss_rise)
        self.loss_window = loss_window
        self.loss_pairs: tuple[tuple[str, str], ...] = pairs
        self.max_images = max_images
        self.compare_size = compare_size
        #: alarm name (``discriminator_wins:<d key>|<g key>`` per pair) -> checks in a row its condition held
        self.streaks: dict[str, int] = {}
        #: the warnings given in this run, each ``{"alarm", "step", "message"}``
        self.fired: list[dict[str, Any]] = []
        self._image_alarms = [a for a in names if a != "discriminator_wins"]
        self._images_unavailable = False
        self._collecting = False
        self._batch: dict[str, list[Tensor]] = {}
        self._seen = 0
        self._paired = False
        self._losses: dict[str, deque] = {}
        self._since_check = 0
        self._watched: list[str] = []  # the loss pairs' check keys of the latest check
        self._wgangp = False
        self._step = 0

    # ------------------------------------------------------------------------------------------- reporting
    def _check(self, key: str, alarm: str, holds: bool, message: str) -> None:
        """Count a check of ``key``'s condition (one alarm, or one loss pair of ``discriminator_wins``); warn when
        it has held in ``patience`` checks in a row."""
        streak = self.streaks.get(key, 0) + 1 if holds else 0
        self.streaks[key] = streak
        if streak == self.patience:
            step = self._step
            line = (
                f"SilentFailureAlarms: {alarm.replace('_', ' ')} at step {step}: {message}. Advice: {_ADVICE[alarm]}."
            )
            self.fired.append({"alarm": alarm, "step": step, "message": line})
            rank_zero_warn(line, category=SilentFailureWarning)

    def _flag(self, keys: Sequence[str]) -> float:
        """1.0 when any of the checks ``keys`` has held ``patience`` times in a row up to now, else 0.0."""
        return float(any(self.streaks.get(key, 0) >= self.patience for key in keys))

    # ------------------------------------------------------------------------------------------ image alarms
    def on_fit_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        hparams = getattr(pl_module, "hparams", None) or {}
        self._wgangp = hparams.get("gan_mode") == "wgangp"

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._collecting = (
            bool(self._image_alarms)
            and not self._images_unavailable
            and trainer.state.fn == "fit"
            and not trainer.sanity_checking
        )
        self._batch = {"distance": [], "correlation": [], "inputs": [], "outputs": []}
        self._seen = 0
        self._paired = False

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if not self._collecting or self._seen >= self.max_images or not isinstance(batch, dict):
            return
        key = "content" if "content" in batch else "A"
        inputs = batch.get(key) if isinstance(batch.get(key), Tensor) else None
        sized = inputs if inputs is not None else next((v for v in batch.values() if isinstance(v, Tensor)), None)
        if sized is None or sized.dim() != 4:
            return
        size = sized.shape[0]
        n = min(size, self.max_images - self._seen)
        if n < size:
            batch = {
                k: v[:n] if isinstance(v, (Tensor, list, tuple)) and len(v) == size else v for k, v in batch.items()
            }
            inputs = batch[key] if inputs is not None else None
        try:
            with torch.no_grad():
                images = pl_module.evaluation_images(batch)
        except NotImplementedError:  # the method has no evaluation images: the image alarms stay off
            self._images_unavailable = True
            self._collecting = False
            return
        generated = images["generated"].detach().float()
        self._paired = self._paired or images.get("paired") is not None
        side = self.compare_size  # one size for all batches, whatever the images' sizes
        self._batch["outputs"].append(F.adaptive_avg_pool2d(generated, side).flatten(1))
        self._seen += n
        if inputs is None:  # a method without input images (an unconditional GAN): diversity against the real images
            reference = images.get("reference")
            if isinstance(reference, Tensor) and reference.shape[0] == generated.shape[0]:
                reference = reference.detach().float()
                self._batch["inputs"].append(F.adaptive_avg_pool2d(reference, side).flatten(1))
            return
        inputs = inputs.detach().float()
        if inputs.shape[-2:] != generated.shape[-2:]:
            inputs = F.interpolate(inputs, size=generated.shape[-2:], mode="bilinear", antialias=True)
        if inputs.shape[1] == generated.shape[1]:
            self._batch["distance"].append((generated - inputs).abs().flatten(1).mean(1))
        self._batch["correlation"].append(_pearson(_luminance(inputs), _luminance(generated)))
        self._batch["inputs"].append(F.adaptive_avg_pool2d(inputs, side).flatten(1))

    def _measure(self, trainer: L.Trainer, device: torch.device) -> dict[str, float]:
        """The epoch's measurements, averaged over processes: name -> value (NaN: nothing to measure)."""
        # (sum, count) per measurement, so processes with fewer images weigh less and none with none
        sums = torch.zeros(6, dtype=torch.float64, device=device)
        if self._batch["distance"]:
            distance = torch.cat(self._batch["distance"]).double()
            sums[0], sums[1] = distance.sum(), distance.numel()
        if self._batch["correlation"]:
            correlation = torch.cat(self._batch["correlation"]).double()
            valid = correlation[~correlation.isnan()]
            sums[2], sums[3] = valid.sum(), valid.numel()
        inputs = torch.cat(self._batch["inputs"]) if self._batch["inputs"] else None
        outputs = torch.cat(self._batch["outputs"]) if self._batch["outputs"] else None
        if inputs is not None and outputs is not None and len(inputs) == len(outputs) >= 2:
            spread = _mean_pairwise_l1(inputs)
            if spread > 1e-6:  # identical inputs: nothing to compare the outputs' spread with
                sums[4], sums[5] = (_mean_pairwise_l1(outputs) / spread).double(), 1.0
        if trainer.world_size > 1:
            sums = trainer.strategy.reduce(sums, reduce_op="sum")
        sums = sums.cpu().tolist()

        def mean(total: float, count: float) -> float:
            return total / count if count else math.nan

        return {
            "identity_distance": mean(sums[0], sums[1]),
            "luminance_correlation": mean(sums[2], sums[3]),
            "output_diversity": mean(sums[4], sums[5]),
        }

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not self._collecting:
            return
        self._collecting = False
        self._step = trainer.global_step
        values = self._measure(trainer, pl_module.device)
        self._batch = {}
        logs: dict[str, float] = {}
        checks = {
            "identity_collapse": (
                "identity_distance",
                lambda v: v < self.identity_threshold,
                lambda v: (
                    f"mean |G(x) - x| = {v:.4f} (pixels in [-1, 1]) was below {self.identity_threshold:g} in "
                    f"{self.patience} validations in a row: the generator returns its input"
                ),
            ),
            "mode_collapse": (
                "output_diversity",
                lambda v: v < self.mode_collapse_threshold,
                lambda v: (
                    f"the outputs' mean pairwise distance was {v:.4f} times the inputs' (below "
                    f"{self.mode_collapse_threshold:g}) in {self.patience} validations in a row: different inputs give "
                    "nearly the same output"
                ),
            ),
            "color_inversion": (
                "luminance_correlation",
                lambda v: v < self.inversion_threshold,
                lambda v: (
                    f"the correlation of the outputs' luminance with the inputs' was {v:.3f} (below "
                    f"{self.inversion_threshold:g}) in {self.patience} validations in a row: the generator inverts "
                    "brightness"
                ),
            ),
        }
        for alarm in self._image_alarms:
            if alarm == "color_inversion" and self._paired:
                continue
            measure, holds, describe = checks[alarm]
            value = values[measure]
            if math.isnan(value):
                continue
            self._check(alarm, alarm, holds(value), describe(value))
            logs[f"alarms/{measure}"] = value
            logs[f"alarms/{alarm}"] = self._flag([alarm])
        if logs:
            pl_module.log_dict(logs, on_step=False, on_epoch=True, batch_size=1)

    # ------------------------------------------------------------------------------- the discriminator alarm
    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if "discriminator_wins" not in self.alarms or self._wgangp:
            return
        self._step = trainer.global_step
        metrics = trainer.callback_metrics
        keys = {
            key for pair in self.loss_pairs if all(isinstance(metrics.get(key), Tensor) for key in pair) for key in pair
        }
        # a batch without a generator step (n_critic > 1) repeats the generator's last logged value: the window
        # then holds that loss as a step function of the batches, which keeps its halves' means fair
        for key in keys:
            self._window(key).append(metrics[key].detach().reshape(()))
        self._since_check += 1
        if self._since_check >= max(1, self.loss_window // 4):
            self._since_check = 0
            self._check_losses()
        if self._watched:  # every batch, so a logger that writes every n-th batch still shows it
            pl_module.log("alarms/discriminator_wins", self._flag(self._watched), batch_size=1)

    def _window(self, key: str) -> deque:
        if key not in self._losses:
            self._losses[key] = deque(maxlen=self.loss_window)
        return self._losses[key]

    def _check_losses(self) -> None:
        keys = []
        for d_key, g_key in self.loss_pairs:
            d_values, g_values = self._losses.get(d_key), self._losses.get(g_key)
            if not d_values or not g_values or len(d_values) < self.loss_window or len(g_values) < self.loss_window:
                continue
            d, g = torch.stack(list(d_values)).float(), torch.stack(list(g_values)).float()
            half = self.loss_window // 2
            d_mean, early, late = torch.stack([d.mean(), g[:half].mean(), g[-half:].mean()]).cpu().tolist()
            holds = d_mean < self.d_loss_threshold and late - early > self.g_loss_rise * abs(early)
            key = f"discriminator_wins:{d_key}|{g_key}"
            keys.append(key)
            self._check(
                key,
                "discriminator_wins",
                holds,
                f"{d_key} averaged {d_mean:.2e} (below {self.d_loss_threshold:g}) over the last {self.loss_window} "
                f"training batches while {g_key} rose from {early:.3f} to {late:.3f}, in {self.patience} checks in a "
                "row: "
                "the discriminator wins outright and the generator learns nothing from it",
            )
        self._watched = keys

    # ------------------------------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "streaks": dict(self.streaks),
            "losses": {key: [float(v) for v in values] for key, values in self._losses.items()},
            "since_check": self._since_check,
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.streaks = dict(state_dict.get("streaks", {}))
        self._losses = {
            key: deque((torch.tensor(v) for v in values), maxlen=self.loss_window)
            for key, values in state_dict.get("losses", {}).items()
        }
        self._since_check = int(state_dict.get("since_check", 0))
