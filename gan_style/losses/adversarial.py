"""Adversarial losses: one :class:`GANLoss` for the four common GAN objectives, plus the WGAN-GP penalty."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.losses.registry import register_loss

__all__ = ["GANLoss", "GAN_MODES", "gradient_penalty", "r1_penalty", "warn_if_batch_norm_critic"]


GAN_MODES = ("vanilla", "lsgan", "wgangp", "hinge")
GanMode = Literal["vanilla", "lsgan", "wgangp", "hinge"]


@register_loss("gan")
class GANLoss(nn.Module):
    """Adversarial loss on raw discriminator outputs (logits or critic scores, any shape, e.g. PatchGAN
    maps of shape (N, 1, h, w)), averaged over every element.

    With ``D`` the discriminator output, ``y`` the target (``real_label`` when ``target_is_real`` else
    ``fake_label``):

    ========  ===================================================  =============================  ==========
    gan_mode  discriminator term                                   generator term (target real)   source
    ========  ===================================================  =============================  ==========
    vanilla   BCE(sigmoid(D), y) = -y log s(D) - (1-y) log(1-s(D))  same, non-saturating            Goodfellow et al. 2014
    lsgan     (D - y)^2                                            (D - 1)^2                      Mao et al. 2017, Eq. 2
    wgangp    -D for real, +D for fake                             -D                             Gulrajani et al. 2017, Alg. 1
    hinge     max(0, 1 - D) for real, max(0, 1 + D) for fake       -D                             Lim & Ye 2017; Miyato et al. 2018
    ========  ===================================================  =============================  ==========

    ``vanilla`` uses ``binary_cross_entropy_with_logits`` for numerical stability (the discriminator must
    not end in a sigmoid). For ``wgangp``, :meth:`discriminator_loss` adds the gradient penalty
    ``lambda_gp * E[(||grad_x D(x_hat)||_2 - 1)^2]`` (Gulrajani et al. 2017, Eq. 3) on random
    interpolates ``x_hat`` of real and fake samples, so a method that calls it really penalises the critic;
    its ``scale`` multiplies the penalty as well as the critic terms, so ``lambda_gp`` is always the paper's
    lambda relative to the critic terms.

    Args:
        gan_mode: one of ``vanilla | lsgan | wgangp | hinge``.
        real_label: target for real samples in vanilla/lsgan (default 1.0; 0.9 gives one-sided label
            smoothing).
        fake_label: target for fake samples in vanilla/lsgan (default 0.0).
        lambda_gp: weight of the gradient penalty relative to the critic terms ``-D(real) + D(fake)``, used
            with ``wgangp`` only (default 10.0, the paper's lambda; :meth:`discriminator_loss`'s ``scale``
            multiplies both, so halving the loss does not change this ratio).

    Raises:
        ValueError: for an unknown ``gan_mode``.
    """

    def __init__(
        self,
        gan_mode: GanMode = "lsgan",
        real_label: float = 1.0,
        fake_label: float = 0.0,
        lambda_gp: float = 10.0,
    ) -> None:
        super().__init__()
        if gan_mode not in GAN_MODES:
            raise ValueError(f"gan_mode {gan_mode!r} is not supported; choose one of {', '.join(GAN_MODES)}")
        self.gan_mode = gan_mode
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)
        self.lambda_gp = float(lambda_gp)

    def extra_repr(self) -> str:
        return f"gan_mode={self.gan_mode!r}"

    def forward(self, prediction: Tensor, target_is_real: bool, for_discriminator: bool = True) -> Tensor:
        """Loss of ``prediction`` (any shape) against the real or fake target; a scalar tensor.

        ``for_discriminator`` matters only for ``hinge``, whose generator term is ``-mean(D)``.
        """
        if self.gan_mode in ("vanilla", "lsgan"):
            target = torch.full_like(prediction, self.real_label if target_is_real else self.fake_label)
            if self.gan_mode == "vanilla":
                return F.binary_cross_entropy_with_logits(prediction, target)
            return F.mse_loss(prediction, target)
        if self.gan_mode == "wgangp":
            return -prediction.mean() if target_is_real else prediction.mean()
        # hinge
        if not for_discriminator:
            if not target_is_real:
                raise ValueError("the hinge generator loss is defined for target_is_real=True only")
            return -prediction.mean()
        if target_is_real:
            return F.relu(1.0 - prediction).mean()
        return F.relu(1.0 + prediction).mean()

    def generator_loss(self, fake_prediction: Tensor) -> Tensor:
        """The generator's adversarial term: the discriminator's output on fakes judged against "real"."""
        return self(fake_prediction, True, for_discriminator=False)

    def discriminator_loss(
        self,
        discriminator: Callable[[Tensor], Tensor],
        real: Tensor,
        fake: Tensor,
        scale: float = 1.0,
        penalty: bool = True,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """The discriminator's (critic's) loss on a real and a fake batch, gradient penalty included.

        ``loss = scale * (L(D(real), real) + L(D(fake), fake))``, and for wgangp
        ``loss = scale * (-mean D(real) + mean D(fake) + lambda_gp * GP)``: ``scale`` multiplies the penalty
        too, so ``lambda_gp`` keeps the meaning it has in Gulrajani et al. 2017 (Alg. 1, lambda = 10 relative
        to the critic terms) whatever the scale. With Adam a constant ``scale`` hardly changes the update
        (Adam normalizes the gradient's size away, up to its epsilon). ``fake`` is detached here, so no
        gradient reaches the generator.

        Args:
            discriminator: the network ``D``; called on ``real`` and ``fake``.
            real: real images, (N, C, H, W) in [-1, 1] (C includes the condition for conditional D).
            fake: generated images, same shape as ``real``.
            scale: factor on the whole loss, the real + fake terms and the wgangp penalty alike (default 1.0;
                the CycleGAN/pix2pix reference code halves the discriminator objective with 0.5).
            penalty: add the wgangp gradient penalty (True). Evaluation passes False: the penalty needs
                input gradients, which validation under ``torch.inference_mode`` does not have.

        Returns:
            ``(loss, logs)`` where ``logs`` holds ``d_real``, ``d_fake`` (the two loss terms, before
            ``scale``) and, for wgangp, ``gp`` (the penalty before ``lambda_gp`` and ``scale``), all detached.
        """
        fake = fake.detach()
        loss_real = self(discriminator(real), True)
        loss_fake = self(discriminator(fake), False)
        total = loss_real + loss_fake
        logs = {"d_real": loss_real.detach(), "d_fake": loss_fake.detach()}
        if self.gan_mode == "wgangp" and penalty:
            gp = gradient_penalty(discriminator, real, fake)
            total = total + self.lambda_gp * gp
            logs["gp"] = gp.detach()
        return scale * total, logs


def gradient_penalty(
    discriminator: Callable[[Tensor], Tensor],
    real: Tensor,
    fake: Tensor,
    target_norm: float = 1.0,
    eps: float = 1e-12,
) -> Tensor:
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - target_norm)^2]``, ``x_hat = e*real + (1-e)*fake``
    with ``e ~ U[0, 1]`` per sample (Gulrajani et al. 2017, Eq. 3). Unweighted; a scalar tensor.

    The norm is computed as ``sqrt(sum(g^2) + eps)`` per sample (in float32 for half-precision gradients): smooth everywhere, so a critic
    whose input gradient is zero (dead ReLUs, a zero layer) gives a finite penalty gradient instead of the
    0/0 of ``d sqrt(s)/ds`` at ``s = 0``. Gulrajani et al.'s code takes ``sqrt(sum(g^2))`` without an
    epsilon; the CycleGAN/pix2pix code's ``cal_gradient_penalty`` takes ``(g + 1e-16).norm(2)``, which
    shifts every gradient element instead. With ``eps = 1e-12`` the norm is at least 1e-6 and a norm near 1
    changes by about ``eps / 2``.

    The penalty assumes each critic score depends on its own sample only (the paper's per-sample gradient);
    batch norm in the critic breaks that (see :func:`warn_if_batch_norm_critic`).

    Args:
        discriminator: the critic.
        real: real images (N, C, H, W); detached here.
        fake: generated images, same shape as ``real``; detached here, so no gradient reaches the generator.
        target_norm: the gradient norm the critic is pushed towards (1.0 in the paper).
        eps: added to the squared norm under the square root (default 1e-12).

    Raises:
        ValueError: if ``real`` and ``fake`` shapes differ.
    """
    if real.shape != fake.shape:
        raise ValueError(
            f"gradient_penalty needs real and fake of one shape, got {tuple(real.shape)} and {tuple(fake.shape)}"
        )
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    interpolates = (alpha * real.detach() + (1.0 - alpha) * fake.detach()).requires_grad_(True)
    scores = discriminator(interpolates)
    (grad,) = torch.autograd.grad(scores.sum(), interpolates, create_graph=True)
    grad = grad.flatten(1)
    if grad.element_size() < 4:  # half precision: eps = 1e-12 would round to 0
        grad = grad.float()
    norms = (grad.pow(2).sum(1) + eps).sqrt()
    return ((norms - target_norm) ** 2).mean()


def warn_if_batch_norm_critic(gan_mode: str, critics: Mapping[str, nn.Module]) -> bool:
    """Warn (one ``UserWarning`` line) when ``gan_mode`` is ``wgangp`` and a critic contains batch norm.

    The gradient penalty takes each sample's gradient of its own critic score (Gulrajani et al. 2017,
    Eq. 3); with batch norm a score depends on the whole batch, so the penalised gradient is not the
    per-sample one. The paper uses no batch norm in the critic (Sec. 4 suggests layer normalization);
    ``norm: instance`` or ``norm: none`` keeps each sample separate. Methods call this once, at construction.

    Args:
        gan_mode: the method's ``gan_mode``; nothing happens unless it is ``wgangp``.
        critics: setting name of each discriminator (``"discriminator"``, ``"discriminator_a"``) -> network,
            searched for ``nn.modules.batchnorm._BatchNorm`` layers.

    Returns:
        Whether it warned.
    """
    if gan_mode != "wgangp":
        return False
    names = [
        name
        for name, net in critics.items()
        if any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.modules())
    ]
    if not names:
        return False
    settings = ", ".join(f"model.init_args.{name}.init_args.norm" for name in names)
    warnings.warn(
        f"gan_mode wgangp with batch norm in {', '.join(names)}: the gradient penalty assumes per-sample "
        f'gradients, and batch norm makes each critic score depend on the whole batch; use norm "instance" or '
        f'"none" for the critic ({settings}), as Gulrajani et al. 2017 use no batch norm in the critic',
        UserWarning,
        stacklevel=3,
    )
    return True


def r1_penalty(discriminator: Callable[[Tensor], Tensor], real: Tensor) -> Tensor:
    """R1 regularization ``E[||grad_x D(x)||_2^2]`` on real samples (Mescheder, Geiger & Nowozin 2018,
    Eq. 9), unweighted (the paper's weight is ``gamma / 2``); a scalar tensor.

    Args:
        discriminator: D, returning logits of any shape (summed per sample).
        real: real images (N, C, H, W).
    """
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
