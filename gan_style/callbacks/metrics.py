"""``EvaluationMetrics``: FID, KID, LPIPS, ArtFID, PSNR, SSIM in validation and test, one naming for all
methods."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import lightning as L
import torch
from lightning.pytorch.utilities import rank_zero_warn

from gan_style.errors import WeightsUnavailableError

__all__ = ["EvaluationMetrics"]

_NEEDS_INCEPTION = {"fid", "kid", "artfid"}
_NEEDS_LPIPS = {"lpips", "lpips_diversity", "artfid"}

#: the one-line "weights missing" warnings already given in this process: each is said once, not at every setup
_SAID: set[str] = set()


def _missing_weights(
    names: Sequence[str],
    lpips_net: Literal["alex", "vgg", "squeeze"],
    feature_weights: str,
    feature_network: torch.nn.Module | None,
) -> tuple[dict[str, str], list[str], str, torch.nn.Module | None]:
    """Which pretrained weights the metrics ``names`` need are neither cached nor downloadable, tried one network
    at a time (a probe after :class:`~gan_style.metrics.ImageMetrics` refused: the usual path loads each once).

    Returns:
        (metric -> a short reason that names the file it lacks, the missing files' names, the folder they belong
        in (the torch hub cache, ``$TORCH_HOME/hub/checkpoints``), the FID/KID feature network when it could be
        built: reused instead of loading it again).
    """
    from gan_style.metrics.features import FID_INCEPTION_URL, InceptionFeatures, fid_inception_path
    from gan_style.metrics.lpips import create_lpips_network, lpips_backbone_path

    wanted = set(names)
    lacking: dict[str, tuple[str, str]] = {}  # network -> (what it is, its file name)
    if wanted & _NEEDS_INCEPTION and feature_network is None:
        try:
            feature_network = InceptionFeatures(feature_weights)
        except WeightsUnavailableError:
            lacking["inception"] = ("FID Inception-v3 weights", FID_INCEPTION_URL.rsplit("/", 1)[-1])
    if wanted & _NEEDS_LPIPS:
        try:
            create_lpips_network(lpips_net)
        except WeightsUnavailableError:
            lacking["lpips"] = (f"LPIPS {lpips_net} backbone weights", lpips_backbone_path(lpips_net).name)
    folder = str(fid_inception_path().parent)  # the torch hub cache: $TORCH_HOME/hub/checkpoints
    reasons = {}
    for name in names:
        needs = [n for n, group in (("inception", _NEEDS_INCEPTION), ("lpips", _NEEDS_LPIPS)) if name in group]
        missing = [lacking[n] for n in needs if n in lacking]
        if missing:
            what = " and ".join(f"the {kind} ({file})" for kind, file in missing)
            reasons[name] = f"{what} are not in {folder} and could not be downloaded"
    return reasons, [file for _, file in lacking.values()], folder, feature_network


class EvaluationMetrics(L.Callback):
    """Log image-quality metrics of a method under ``val/<name>`` and ``test/<name>`` (``val/fid``,
    ``val/kid``, ``val/kid_std``, ``val/lpips``, ``val/artfid``, ``test/psnr`` ...), so runs of different
    methods sit in one table (W&B, ``gan-style compare``).

    In each evaluated validation epoch and in ``test``, the method's ``evaluation_images(batch)`` gives the
    generated images and what to compare them with (see
    :meth:`gan_style.methods.GanStyleModule.evaluation_images`); a :class:`gan_style.metrics.ImageMetrics`
    accumulates them, torchmetrics reduces its states across processes, and the values are logged once per
    epoch. The pretrained Inception-v3 (FID/KID) and LPIPS networks are loaded in ``setup``, stay frozen,
    in float32 and out of checkpoints.

    Cost: one generator pass and one feature-network pass per evaluated image plus one per reference
    image, at most ``max_samples`` images per process and evaluation; ``every_n_epochs`` spaces the
    validation epochs that compute them (test always does).

    Args:
        metrics: names from :data:`gan_style.metrics.METRIC_NAMES`; None uses the method's
            ``evaluation_metrics`` (CycleGAN / Pix2Pix: fid, kid, lpips; AdaIN / PatchGAN style: fid, kid,
            lpips, artfid).
        every_n_epochs: compute them in every n-th validation epoch during fit (1).
        max_samples: generated images per process and evaluation (256). FID is biased upward on small
            sets; compare runs at the same ``max_samples``.
        kid_subset_size: KID subset size (100; shrunk to the number of images when fewer).
        lpips_net: LPIPS backbone, ``alex`` (default), ``vgg`` or ``squeeze``.
        feature_weights: FID/KID Inception weights: ``"fid"`` (the standard TF-ported Inception, from the
            torch hub cache or downloaded there) or a local file.
        missing_weights: what to do when pretrained weights are neither cached nor downloadable:
            ``"error"`` stops at setup with the message that says where to put the file; ``"warn"`` leaves out
            the metrics whose weights are missing (FID/KID: Inception-v3; LPIPS: its backbone; ArtFID: both),
            says so in one line, once per process, naming the files and the folder ($TORCH_HOME) to put them in,
            and records a short reason per metric in :attr:`unavailable_metrics` (``metrics.json``).
        feature_network: from Python, any module mapping (N, 3, H, W) images in [-1, 1] to (N, D)
            features, used for FID/KID instead of Inception-v3 (not settable from a recipe).

    Raises:
        ValueError: an unknown metric name or a setting out of range.
        WeightsUnavailableError: weights missing and ``missing_weights="error"``.
    """

    def __init__(
        self,
        metrics: Sequence[str] | None = None,
        every_n_epochs: int = 1,
        max_samples: int = 256,
        kid_subset_size: int = 100,
        lpips_net: Literal["alex", "vgg", "squeeze"] = "alex",
        feature_weights: str = "fid",
        missing_weights: Literal["error", "warn"] = "error",
        feature_network: torch.nn.Module | None = None,
    ) -> None:
        from gan_style.metrics import METRIC_NAMES

        if metrics is not None:
            unknown = [m for m in metrics if m not in METRIC_NAMES]
            if unknown:
                raise ValueError(f"unknown metric name(s) {unknown}; choose from {', '.join(METRIC_NAMES)}")
        if every_n_epochs < 1 or max_samples < 1:
            raise ValueError(f"every_n_epochs and max_samples must be >= 1, got {every_n_epochs}, {max_samples}")
        if missing_weights not in ("error", "warn"):
            raise ValueError(f"missing_weights must be 'error' or 'warn', got {missing_weights!r}")
        self.metrics = None if metrics is None else tuple(metrics)
        self.every_n_epochs = every_n_epochs
        self.max_samples = max_samples
        self.kid_subset_size = kid_subset_size
        self.lpips_net = lpips_net
        self.feature_weights = feature_weights
        self.missing_weights = missing_weights
        self.feature_network = feature_network
        #: metric name -> why it is not computed in this run (weights missing); written to metrics.json by
        #: :class:`~gan_style.callbacks.RunSummary`, shown by ``gan-style compare``
        self.unavailable_metrics: dict[str, str] = {}
        self.image_metrics: Any = None
        self._names: tuple[str, ...] = ()
        self._active = False

    def setup(self, trainer: L.Trainer, pl_module: L.LightningModule, stage: str) -> None:
        if stage not in ("fit", "validate", "test") or self.image_metrics is not None:
            return
        if stage == "fit" and trainer.limit_val_batches == 0:  # a run without validation: nothing to measure
            return
        from gan_style.metrics import ImageMetrics

        names = self.metrics if self.metrics is not None else tuple(getattr(pl_module, "evaluation_metrics", ()))
        own = set(names) & set(getattr(pl_module, "self_logged_metrics", ()))
        if own:
            raise ValueError(
                f"{type(pl_module).__name__} logs {', '.join(sorted(own))} itself; leave them out of "
                "EvaluationMetrics' metrics"
            )
        if not names or not callable(getattr(pl_module, "evaluation_images", None)):
            rank_zero_warn(f"EvaluationMetrics: {type(pl_module).__name__} names no evaluation metrics; none logged")
            return
        kwargs = dict(
            max_samples=self.max_samples,
            kid_subset_size=self.kid_subset_size,
            lpips_net=self.lpips_net,
            feature_weights=self.feature_weights,
            feature_network=self.feature_network,
            # N-band data reaches the 3-channel networks through the data's declared display bands
            display_bands=getattr(getattr(trainer, "datamodule", None), "display_bands", None),
        )
        try:
            self.image_metrics = ImageMetrics(names, **kwargs)
        except WeightsUnavailableError:
            if self.missing_weights == "error":
                raise
            reasons, files, folder, network = _missing_weights(
                names, self.lpips_net, self.feature_weights, self.feature_network
            )
            self.unavailable_metrics = reasons
            names = tuple(n for n in names if n not in reasons)
            kwargs["feature_network"] = network
            line = f"{', '.join(reasons)} not computed: copy {', '.join(files)} into {folder} (offline)"
            if reasons and line not in _SAID:  # once per process, in one line
                _SAID.add(line)
                rank_zero_warn(line)
            self.image_metrics = ImageMetrics(names, **kwargs) if names else None
        self._names = names
        if self.image_metrics is not None:
            self.image_metrics.to(pl_module.device)

    # ------------------------------------------------------------------------------------------ feeding
    def _start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        fitting = trainer.state.fn == "fit"
        self._active = self.image_metrics is not None and not trainer.sanity_checking
        if fitting:
            self._active = self._active and (trainer.current_epoch + 1) % self.every_n_epochs == 0
        if self._active:
            self.image_metrics.reset()
            self.image_metrics.to(pl_module.device)

    def _update(self, pl_module: L.LightningModule, batch: Any) -> None:
        if not self._active:
            return
        with torch.no_grad():
            images = pl_module.evaluation_images(batch)
        generated = images["generated"].float()
        m, names = self.image_metrics, set(self._names)
        if names & {"fid", "kid", "artfid"}:
            m.update_distribution(generated=generated, reference=images["reference"].float())
        if names & {"psnr", "ssim"} and images.get("paired") is not None:
            m.update_paired(generated, images["paired"].float())
        if names & {"lpips", "artfid"} and images.get("content") is not None:
            m.update_content(generated, images["content"].float())

    def _log(self, pl_module: L.LightningModule, prefix: str) -> None:
        if not self._active:
            return
        values = self.image_metrics.compute()  # collective: every process calls it, values already reduced
        pl_module.log_dict({f"{prefix}/{k}": float(v) for k, v in values.items()}, sync_dist=False)
        self.image_metrics.reset()
        self._active = False

    def on_validation_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start(trainer, pl_module)

    def on_test_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._start(trainer, pl_module)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._update(pl_module, batch)

    def on_test_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        self._update(pl_module, batch)

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(pl_module, "val")

    def on_test_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self._log(pl_module, "test")
