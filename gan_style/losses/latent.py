"""Losses on latent codes: the KL term of UNIT's VAEs and the latent reconstruction of MUNIT's codes.

- ``gaussian_kl`` (:class:`GaussianKLLoss`): the KL term of UNIT's VAEs (Liu et al. 2017), in the form of the authors'
  code (NVlabs/MUNIT and mingyuliutw/UNIT ``trainer.py`` ``__compute_kl``);
- ``latent_l1`` (:class:`LatentL1Loss`): MUNIT's style and content reconstruction (Huang et al. 2018, Eq. 2-3).
"""

from __future__ import annotations

from torch import Tensor, nn

from gan_style.losses.registry import register_loss

__all__ = ["GaussianKLLoss", "LatentL1Loss"]


@register_loss("gaussian_kl")
class GaussianKLLoss(nn.Module):
    """KL term of a Gaussian encoder with unit variance against the prior N(0, I): ``mean(mu^2)``.

    UNIT's encoders output the mean ``mu`` of ``q(z | x) = N(mu, I)`` (the code's "reduced VAE"), for which
    ``KL(N(mu, I) || N(0, I)) = 0.5 * sum(mu^2)``. The authors' code minimises ``mean(mu^2)`` over every element of
    the batch, that is ``2 * KL / numel(mu)`` with the KL summed over the batch; the loss weights of its configs
    (``recon_kl_w`` 0.01) are for this form, which is computed here. A scalar tensor >= 0.

    ``forward(mu)``: ``mu`` of any shape, e.g. (N, C, h, w).
    """

    def forward(self, mu: Tensor) -> Tensor:
        return mu.pow(2).mean()


@register_loss("latent_l1")
class LatentL1Loss(nn.Module):
    """Latent reconstruction: ``mean(|z_rec - z|)`` over every element of two codes of one shape (MUNIT Eq. 2-3,
    the code's ``recon_criterion``): the style code recovered from a translation against the one it was decoded
    with (``z`` drawn from N(0, I)), the content code recovered against the original content code. Gradients reach
    both arguments, as in the code. A scalar tensor >= 0.

    ``forward(reconstructed, target)``: tensors of one shape, e.g. (N, 8, 1, 1) style codes or (N, 256, h, w)
    content codes.

    Raises:
        ValueError: the shapes differ.
    """

    def forward(self, reconstructed: Tensor, target: Tensor) -> Tensor:
        if reconstructed.shape != target.shape:
            raise ValueError(
                f"latent_l1 needs codes of one shape, got {tuple(reconstructed.shape)} and {tuple(target.shape)}"
            )
        return (reconstructed - target).abs().mean()
