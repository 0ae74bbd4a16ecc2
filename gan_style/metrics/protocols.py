"""FID / KID protocols: how an image becomes the Inception's 299 x 299 input, and how the Fréchet distance
is computed, so that values can be compared with published ones.

The FID of the same images with the same network moves by one or two points with the resize convention
(Parmar et al. 2022, "On Aliased Resizing and Surprising Subtleties in GAN Evaluation"). Every protocol
starts from 8-bit RGB images (tensors in [-1, 1] are rounded to the 256 levels they have when saved) and
uses the 2048-d pool features of the 2015 TensorFlow Inception-v3 (``inception-2015-12-05``, in its PyTorch
port):

=============  =====================================================================  ===========================
protocol       8-bit image -> network input (N, 3, 299, 299)                          follows
=============  =====================================================================  ===========================
``gan-style``  bilinear with antialiasing (``F.interpolate(..., antialias=True)``)   torchmetrics'
               on the 0..255 values, then ``(x - 128) / 128``; FID through the       ``FrechetInceptionDistance``
               eigenvalues of ``S_r S_g`` (torchmetrics)                              (the default)
``legacy``     ``x / 255``, bilinear *without* antialiasing (``F.interpolate``,       pytorch-fid
               half-pixel centres, the resize pytorch-fid runs inside its network),   (``pytorch_fid.fid_score``)
               then ``2 x - 1``; FID in float64 with ``scipy.linalg.sqrtm``
``clean``      each channel as a float32 Pillow image, bicubic resize (Pillow         clean-fid, ``mode="clean"``
               widens the filter when it shrinks: antialiased), clipped to
               [0, 255], then ``(x - 128) / 128``; FID with ``scipy.linalg.sqrtm``
=============  =====================================================================  ===========================

KID (Binkowski et al. 2018) is the same unbiased polynomial-kernel MMD^2 in every protocol; only its features
change with the protocol.
"""

from __future__ import annotations

import warnings
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from gan_style.errors import MetricInputError

__all__ = [
    "FID_PROTOCOLS",
    "Protocol",
    "check_protocol",
    "frechet_distance_sqrtm",
    "inception_input",
    "to_uint8",
]

Protocol = Literal["gan-style", "legacy", "clean"]
"""The name of a FID / KID protocol."""

FID_PROTOCOLS: tuple[str, ...] = ("gan-style", "legacy", "clean")
"""The FID / KID protocols, the default first (see :mod:`gan_style.metrics.protocols`)."""

INCEPTION_SIZE = 299
"""Side of the Inception-v3's input."""


def check_protocol(protocol: str) -> str:
    """Return ``protocol`` when it is one of :data:`FID_PROTOCOLS`.

    Raises:
        MetricInputError: any other value; the message names the setting and the choices.
    """
    if protocol not in FID_PROTOCOLS:
        raise MetricInputError(f"unknown FID/KID protocol {protocol!r}; choose from {', '.join(FID_PROTOCOLS)}")
    return protocol


def to_uint8(images: Tensor) -> Tensor:
    """(N, 3, H, W) float images in [-1, 1] (clamped) -> uint8 (N, 3, H, W), ``round((x + 1) * 127.5)``: the
    values they have when saved as 8-bit files. Images read from 8-bit files get their exact values back."""
    return ((images.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)


def _legacy_input(images: Tensor) -> Tensor:
    x = images.float().div(255)
    x = F.interpolate(x, size=(INCEPTION_SIZE, INCEPTION_SIZE), mode="bilinear", align_corners=False)
    return 2 * x - 1


def _pil_bicubic(channel: np.ndarray) -> np.ndarray:
    resized = Image.fromarray(channel.astype(np.float32)).resize(
        (INCEPTION_SIZE, INCEPTION_SIZE), resample=Image.Resampling.BICUBIC
    )
    return np.asarray(resized, dtype=np.float32).clip(0, 255)


def _clean_input(images: Tensor) -> Tensor:
    array = images.cpu().numpy()
    out = np.empty((array.shape[0], 3, INCEPTION_SIZE, INCEPTION_SIZE), dtype=np.float32)
    for i, image in enumerate(array):
        for c in range(3):
            out[i, c] = _pil_bicubic(image[c])
    return (torch.from_numpy(out).to(images.device) - 128) / 128


def inception_input(images: Tensor, protocol: Literal["legacy", "clean"]) -> Tensor:
    """The Inception-v3 input of 8-bit images under a published protocol (the table of
    :mod:`gan_style.metrics.protocols`).

    Args:
        images: (N, 3, H, W) uint8 RGB, any H and W (at least 1).
        protocol: ``"legacy"`` (pytorch-fid: ``x / 255``, bilinear without antialiasing, ``2 x - 1``) or
            ``"clean"`` (clean-fid: Pillow bicubic per channel on float32, clipped, ``(x - 128) / 128``).
            ``"gan-style"`` is not handled here: its network resizes its uint8 input itself.

    Returns:
        (N, 3, 299, 299) float32 on the device of ``images``; ``legacy`` in [-1, 1], ``clean`` in
        [-1, 127/128].

    Raises:
        MetricInputError: ``images`` is not uint8 (N, 3, H, W), or ``protocol`` is not ``legacy`` / ``clean``.
    """
    if images.dtype != torch.uint8 or images.ndim != 4 or images.shape[1] != 3:
        raise MetricInputError(
            f"the Inception input is made from uint8 images of shape (N, 3, H, W), got {images.dtype} "
            f"{tuple(images.shape)}"
        )
    if protocol == "legacy":
        return _legacy_input(images)
    if protocol == "clean":
        return _clean_input(images)
    raise MetricInputError(f"unknown resize protocol {protocol!r} for inception_input; choose from legacy, clean")


def frechet_distance_sqrtm(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """FID = ||mu1 - mu2||^2 + Tr(S1) + Tr(S2) - 2 Tr(sqrtm(S1 S2)) in float64, with the matrix square root
    of ``scipy.linalg.sqrtm``: the computation of pytorch-fid and clean-fid (Heusel et al. 2017; the
    original TensorFlow code, TTUR).

    With fewer images than D the covariances are singular; scipy's warning about that is not shown. When the
    square root is not finite, it is recomputed with 1e-6 added to the diagonal of both covariances. A small
    imaginary part from rounding is dropped.

    Args:
        mu1, mu2: (D,) feature means.
        sigma1, sigma2: (D, D) feature covariances ((N - 1)-normalised).

    Returns:
        The distance, a float (0 for identical statistics; lower is better).

    Raises:
        MetricInputError: the shapes do not fit, or the square root has an imaginary diagonal entry above
            1e-3 (the covariances are too degenerate: use more images).
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(np.asarray(mu1, np.float64)), np.atleast_1d(np.asarray(mu2, np.float64))
    sigma1, sigma2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise MetricInputError(
            f"FID statistics do not fit: means {mu1.shape} and {mu2.shape}, covariances {sigma1.shape} and "
            f"{sigma2.shape}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(sigma1 @ sigma2)
        if not np.isfinite(covmean).all():
            offset = np.eye(d) * 1e-6
            covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        imaginary = np.abs(np.diagonal(covmean).imag).max()
        if imaginary > 1e-3:
            raise MetricInputError(
                f"FID: the matrix square root of the covariance product has an imaginary part of {imaginary:.3g}; "
                "the feature statistics are too degenerate, use more images"
            )
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))
