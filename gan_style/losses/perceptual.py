"""Feature-space losses for style transfer: content, Gram style, mean-std style, total variation.

Each takes feature maps (or images, for total variation) of shape (N, C, H, W) and returns a scalar; a
method sums them over VGG layers with its own per-layer weights.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.losses.registry import register_loss

__all__ = ["ContentLoss", "GramStyleLoss", "MeanStdStyleLoss", "TotalVariationLoss", "gram_matrix", "mean_std"]


class _Gram(torch.autograd.Function):
    """``F F^T * scale`` of (N, C, M) ``F`` with a single matrix product in the backward pass.

    Autograd of ``F @ F.transpose(1, 2)`` sees two operands and computes ``dG F`` and ``dG^T F`` as two
    (C, C) x (C, M) products; since both operands are ``F`` the gradient is ``(dG + dG^T) F``, one product.
    """

    @staticmethod
    def forward(ctx: Any, flat: Tensor, scale: float) -> Tensor:
        ctx.save_for_backward(flat)
        ctx.scale = scale
        return torch.bmm(flat, flat.transpose(1, 2)) * scale

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None]:
        (flat,) = ctx.saved_tensors
        if not ctx.needs_input_grad[0]:
            return None, None
        sym = (grad + grad.transpose(1, 2)) * ctx.scale
        # in the forward product's dtype (the autocast one under mixed precision), like autograd's own backward
        return torch.bmm(sym, flat.to(sym.dtype)).to(flat.dtype), None


def gram_matrix(features: Tensor) -> Tensor:
    """Normalized Gram matrix ``G = F F^T / (C H W)`` of (N, C, H, W) features, shape (N, C, C).

    ``F`` is the (C, H*W) matrix of one sample. Dividing by C*H*W (as in Johnson et al. 2016) makes the
    loss independent of the layer's size; Gatys et al. 2016 (Eq. 4) instead divide the squared error by
    ``4 N_l^2 M_l^2``, which differs only by a per-layer constant absorbed in the layer weights. The
    backward pass takes one matrix product, ``dF = (dG + dG^T) F / (C H W)``, instead of autograd's two.
    Under autocast both products run in the autocast dtype, as ``F @ F^T`` would.
    """
    n, c, h, w = features.shape
    return _Gram.apply(features.reshape(n, c, h * w), 1.0 / (c * h * w))


def mean_std(features: Tensor, eps: float = 1e-5) -> tuple[Tensor, Tensor]:
    """Per-channel spatial mean and standard deviation ``sqrt(var + eps)``, each (N, C, 1, 1).

    The variance is the unbiased one over H*W positions, as in the AdaIN code (Huang & Belongie 2017).
    """
    n, c = features.shape[:2]
    flat = features.reshape(n, c, -1)
    return flat.mean(2).view(n, c, 1, 1), (flat.var(2) + eps).sqrt().view(n, c, 1, 1)


@register_loss("content")
class ContentLoss(nn.Module):
    """``mean((F - P)^2)`` between feature maps F of the output and P of the content image
    (Gatys et al. 2016, Eq. 1, averaged instead of halved-summed). Shapes (N, C, H, W), equal."""

    def forward(self, features: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(features, target)


@register_loss("gram")
class GramStyleLoss(nn.Module):
    """``mean((G(F) - G(S))^2)`` over the (C, C) Gram matrices of output features F and style features S
    (Gatys et al. 2016, Eq. 3-5), with ``G`` from :func:`gram_matrix` (normalized by C*H*W).

    The target may have another spatial size than the output (a style image of any size); its batch
    size must be 1 or equal to the output's. A fixed target (Gatys: the same style image at every
    iteration) can be given as its Gram matrix ``(N, C, C)`` from :meth:`prepare_target`, computed once.
    """

    def prepare_target(self, target: Tensor) -> Tensor:
        """The (N, C, C) Gram matrix of target features (N, C, H, W), to pass as ``target`` repeatedly."""
        return gram_matrix(target)

    def forward(self, features: Tensor, target: Tensor) -> Tensor:
        """Loss of features (N, C, H, W) against target features (N', C, H', W') or a Gram matrix (N', C, C)."""
        g = gram_matrix(features)
        t = target if target.ndim == 3 else gram_matrix(target)
        return F.mse_loss(g, t.expand_as(g))


@register_loss("mean_std")
class MeanStdStyleLoss(nn.Module):
    """``||mu(F) - mu(S)||^2 + ||sigma(F) - sigma(S)||^2`` (each a mean over channels) of output features F
    and style features S: the AdaIN style loss L_s (Huang & Belongie 2017, Eq. 13; Eq. 12 is the content loss), statistics from
    :func:`mean_std`. Spatial sizes may differ."""

    def forward(self, features: Tensor, target: Tensor) -> Tensor:
        (mu, sigma), (mu_t, sigma_t) = mean_std(features), mean_std(target)
        return F.mse_loss(mu, mu_t.expand_as(mu)) + F.mse_loss(sigma, sigma_t.expand_as(sigma))


@register_loss("tv")
class TotalVariationLoss(nn.Module):
    """Total variation of images (N, C, H, W): ``mean(|x[i+1,j] - x[i,j]|^p) + mean(|x[i,j+1] - x[i,j]|^p)``.

    ``p=2`` (default) is the squared form of Johnson et al. 2016 / Mahendran & Vedaldi 2015; ``p=1`` the
    anisotropic L1 form. Penalizes high-frequency noise in optimized images.
    """

    def __init__(self, p: Literal[1, 2] = 2) -> None:
        super().__init__()
        if p not in (1, 2):
            raise ValueError(f"p must be 1 or 2, got {p}")
        self.p = p

    def forward(self, images: Tensor) -> Tensor:
        dy = images[..., 1:, :] - images[..., :-1, :]
        dx = images[..., :, 1:] - images[..., :, :-1]
        if self.p == 1:
            return dy.abs().mean() + dx.abs().mean()
        return dy.pow(2).mean() + dx.pow(2).mean()
