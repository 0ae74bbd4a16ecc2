"""Colour operations for style transfer with colour preservation (Gatys, Bethge, Hertzmann & Shechtman,
"Preserving Color in Neural Artistic Style Transfer", 2016).

Images are float tensors (N, 3, H, W) or (3, H, W) in [-1, 1], as everywhere in gan-style.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["rgb_to_yiq", "yiq_to_rgb", "match_color", "match_luminance", "luminance_only", "combine_luminance"]

_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.5959, -0.2746, -0.3213], [0.2115, -0.5227, 0.3112]])


def _apply(matrix: Tensor, images: Tensor) -> Tensor:
    return torch.einsum("ij,...jhw->...ihw", matrix.to(images), images)


def rgb_to_yiq(images: Tensor) -> Tensor:
    """RGB in [-1, 1] -> YIQ of the [0, 1] RGB values (Y in [0, 1]); same shape."""
    return _apply(_RGB_TO_YIQ, (images + 1) / 2)


def yiq_to_rgb(yiq: Tensor) -> Tensor:
    """Inverse of :func:`rgb_to_yiq`, clamped to [-1, 1]."""
    return (_apply(torch.linalg.inv(_RGB_TO_YIQ), yiq) * 2 - 1).clamp(-1, 1)


def match_luminance(style: Tensor, content: Tensor) -> Tensor:
    """Luminance of ``style`` with its mean and standard deviation matched to the content's luminance,
    ``L_s' = sigma_c / sigma_s (L_s - mu_s) + mu_c`` (Gatys et al. 2016b, Eq. 1), as a grey RGB image in
    [-1, 1] of the style's shape."""
    ls, lc = rgb_to_yiq(style)[..., :1, :, :], rgb_to_yiq(content)[..., :1, :, :]
    matched = (ls - ls.mean()) * (lc.std() / ls.std().clamp_min(1e-6)) + lc.mean()
    return (matched * 2 - 1).clamp(-1, 1).expand_as(style).clone()


def luminance_only(images: Tensor) -> Tensor:
    """The luminance of ``images`` as a grey RGB image in [-1, 1] (Y replicated on 3 channels)."""
    y = rgb_to_yiq(images)[..., :1, :, :]
    return (y * 2 - 1).clamp(-1, 1).expand_as(images).clone()


def combine_luminance(stylized: Tensor, content: Tensor) -> Tensor:
    """Luminance-only transfer's last step: Y from ``stylized``, I and Q (colour) from ``content``.

    Shapes must match; both in [-1, 1]; returns RGB in [-1, 1].
    """
    y = rgb_to_yiq(stylized)[..., :1, :, :]
    iq = rgb_to_yiq(content)[..., 1:, :, :]
    return yiq_to_rgb(torch.cat([y, iq], dim=-3))


def _sqrtm(cov: Tensor, inverse: bool = False) -> Tensor:
    values, vectors = torch.linalg.eigh(cov)
    values = values.clamp_min(1e-8)
    power = -0.5 if inverse else 0.5
    return vectors @ torch.diag_embed(values.pow(power)) @ vectors.transpose(-1, -2)


def match_color(image: Tensor, reference: Tensor) -> Tensor:
    """Colour histogram matching: an affine map of ``image``'s RGB values so that their mean and
    covariance equal ``reference``'s, ``x' = C_r^{1/2} C_i^{-1/2} (x - mu_i) + mu_r`` (Gatys et al. 2016b,
    Sec. 2.1; Hertzmann 1998). Used to recolour the style image like the content before transfer.

    ``image`` (3, H, W) or (N, 3, H, W) in [-1, 1]; ``reference`` (3, h, w), (1, 3, h, w) or (N, 3, h, w), any
    size. Each image is matched on its own (its statistics, and the reference of the same index, or the one
    reference for all); one image and N references give N images (one style recoloured like each of N content
    images). Returns ``image``'s shape (or (N, 3, H, W) in that last case), clamped to [-1, 1].

    Raises:
        ValueError: a batch of references whose size is neither 1 nor ``image``'s.
    """
    if reference.dim() == 4 and reference.shape[0] > 1 and (image.dim() == 3 or image.shape[0] == 1):
        image = image.reshape(1, *image.shape[-3:]).expand(reference.shape[0], -1, -1, -1)
    if image.dim() == 4 and image.shape[0] > 1:
        refs = reference if reference.dim() == 4 else reference.unsqueeze(0)
        if refs.shape[0] not in (1, image.shape[0]):
            raise ValueError(f"match_color: {refs.shape[0]} references for {image.shape[0]} images; give 1 or N")
        return torch.cat(
            [match_color(image[i : i + 1], refs[i if refs.shape[0] > 1 else 0]) for i in range(image.shape[0])]
        )
    x = image.reshape(3, -1).double()
    r = reference.reshape(3, -1).double()
    mu_x, mu_r = x.mean(1, keepdim=True), r.mean(1, keepdim=True)
    cov_x = torch.cov(x) + 1e-5 * torch.eye(3, dtype=x.dtype)
    cov_r = torch.cov(r) + 1e-5 * torch.eye(3, dtype=x.dtype)
    transform = _sqrtm(cov_r) @ _sqrtm(cov_x, inverse=True)
    out = transform @ (x - mu_x) + mu_r
    return out.reshape(image.shape).to(image.dtype).clamp(-1, 1)
