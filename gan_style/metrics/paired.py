"""PSNR and SSIM of paired images: the one definition every part of the project reports.

``psnr`` is the mean over images of the per-image PSNR in dB, and ``ssim`` the mean over images of the
per-image SSIM, both on images in [0, 1] with data range 1 -- the convention of image-to-image papers.
The classes take the project's images in [-1, 1] (values outside are clamped) and rescale them to [0, 1]
themselves, so :class:`~gan_style.metrics.ImageMetrics` (``gan-style evaluate``, the ``EvaluationMetrics``
callback) and the methods that log their own ``psnr`` / ``ssim`` (Pix2Pix) compute the same numbers.

They are torchmetrics metrics: the states are reduced across processes (DDP) at ``compute``, and they can
be passed to ``LightningModule.log`` directly.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

from gan_style.metrics.distribution import MetricInputError

__all__ = ["PerImagePSNR", "PerImageSSIM", "to_unit_range"]


def to_unit_range(images: Tensor) -> Tensor:
    """Images in [-1, 1] -> float32 images in [0, 1]: ``(clamp(x, -1, 1) + 1) / 2``, any shape."""
    return (images.float().clamp(-1, 1) + 1) / 2


def _check_pair(generated: Tensor, reference: Tensor, name: str) -> None:
    if not isinstance(generated, Tensor) or not isinstance(reference, Tensor):
        raise MetricInputError(
            f"{name} takes two tensors, got {type(generated).__name__} and {type(reference).__name__}"
        )
    if generated.ndim != 4 or generated.shape != reference.shape:
        raise MetricInputError(
            f"{name} compares paired images of the same shape (N, C, H, W); got generated "
            f"{tuple(generated.shape)} and reference {tuple(reference.shape)}"
        )


class PerImagePSNR(PeakSignalNoiseRatio):
    """Peak signal-to-noise ratio in dB, the mean over images of the per-image PSNR.

    For pairs (generated_i, reference_i) rescaled from [-1, 1] to [0, 1] (:func:`to_unit_range`)::

        MSE_i  = mean over C, H, W of (generated_i - reference_i)^2
        PSNR_i = 10 * log10(1 / MSE_i)                      # peak 1: data range of [0, 1] images
        psnr   = mean over all images fed since reset of PSNR_i

    This is the definition of image-to-image papers (per-image PSNR, averaged). It differs from the PSNR of
    the pooled MSE (torchmetrics' ``PeakSignalNoiseRatio`` without ``dim``) whenever the errors differ
    between images. Higher is better; ``compute`` returns ``inf`` when any pair is identical (MSE 0). The
    per-image squared-error sums are kept (two numbers per image) and concatenated across processes.

    Args:
        **kwargs: torchmetrics ``Metric`` options (``sync_on_compute``, ``dist_sync_fn`` ...); the data
            range (1), reduction (mean) and per-image dimensions (C, H, W) are fixed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(data_range=1.0, dim=(1, 2, 3), reduction="elementwise_mean", **kwargs)

    def update(self, generated: Tensor, reference: Tensor) -> None:
        """Add the per-image squared errors of a batch of pairs.

        Args:
            generated: (N, C, H, W) images in [-1, 1] (clamped), any float dtype.
            reference: (N, C, H, W) their paired ground truth in [-1, 1] (clamped).

        Raises:
            MetricInputError: the tensors are not 4-d or their shapes differ.
        """
        _check_pair(generated, reference, "PSNR")
        super().update(to_unit_range(generated), to_unit_range(reference))


class PerImageSSIM(StructuralSimilarityIndexMeasure):
    """Structural similarity (Wang et al. 2004), the mean over images of the per-image SSIM.

    Computed by torchmetrics on pairs rescaled from [-1, 1] to [0, 1] (:func:`to_unit_range`) with data
    range 1: Gaussian window of 11 pixels, sigma 1.5, K1 = 0.01, K2 = 0.03, each image's SSIM the mean of
    its SSIM map over channels and all pixels (the images are padded by 5 pixels with reflection), then the
    mean over all images fed since reset. Higher is better, at most 1 (identical images). SSIM is not invariant
    to a shift of the values, so it must be computed on [0, 1] images with range 1, as here, to match
    published numbers (on [-1, 1] with range 2 it is another, lower number).

    Args:
        **kwargs: torchmetrics ``Metric`` options (``sync_on_compute``, ``dist_sync_fn`` ...); the window,
            constants, data range and reduction are fixed.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(data_range=1.0, reduction="elementwise_mean", **kwargs)

    def update(self, generated: Tensor, reference: Tensor) -> None:
        """Add the per-image SSIM of a batch of pairs.

        Args:
            generated: (N, C, H, W) images in [-1, 1] (clamped), any float dtype; H and W at least 6 (the
                reflection padding of the 11-pixel window needs them).
            reference: (N, C, H, W) their paired ground truth in [-1, 1] (clamped).

        Raises:
            MetricInputError: the tensors are not 4-d, their shapes differ, or H or W is below 6.
        """
        _check_pair(generated, reference, "SSIM")
        if min(generated.shape[-2:]) < 6:
            raise MetricInputError(
                f"SSIM needs images of at least 6x6 pixels (its 11-pixel window is padded by 5), got "
                f"{generated.shape[-1]}x{generated.shape[-2]}"
            )
        super().update(to_unit_range(generated), to_unit_range(reference))
