"""UNIT: unsupervised image-to-image translation with coupled VAE-GANs and a shared latent space (Liu, Breuel &
Kautz, NeurIPS 2017), as the authors' code trains it (github.com/NVlabs/MUNIT ``trainer.py`` ``UNIT_Trainer``, the
same as github.com/mingyuliutw/UNIT).

Each domain has a VAE (:class:`~gan_style.nets.munit.UNITGenerator`): an encoder giving the mean of q(z | x) =
N(mu, I) in a latent space shared by the domains, and a generator (decoder). Translation A -> B decodes A's latent
with B's generator; a GAN per domain makes the translations look real, and a cycle through the other domain ties
the two VAEs together.

Names in this file, the paper and the code:

====================  ================  ==================  =========================================================
this code             paper             the code            role
====================  ================  ==================  =========================================================
``generator_a``       E_1, G_1          ``gen_a``           VAE of domain A
``generator_b``       E_2, G_2          ``gen_b``           VAE of domain B
``discriminator_a``   D_1               ``dis_a``           judges domain A: x_a against x_ba = G_1(z_b)
``discriminator_b``   D_2               ``dis_b``           judges domain B: x_b against x_ab = G_2(z_a)
``gan_w``             lambda_0          ``gan_w``           adversarial weight (1)
``recon_x_w``         lambda_2          ``recon_x_w``       image reconstruction weight (10)
``recon_kl_w``        lambda_1          ``recon_kl_w``      KL weight (0.01)
``recon_x_cyc_w``     lambda_4          ``recon_x_cyc_w``   cycle reconstruction weight (10)
``recon_kl_cyc_w``    lambda_3          ``recon_kl_cyc_w``  KL weight of the cycle (0.01)
``vgg_w``             --                ``vgg_w``           domain-invariant perceptual loss weight (0)
====================  ================  ==================  =========================================================

The weights are those of the code's configs (``unit_*.yaml`` of mingyuliutw/UNIT), which go with its ``mean``
reductions, least-squares GAN and multi-scale discriminators; where they differ from the paper's text, gan-style
follows the code.

Losses, for x_a in A, x_b in B (in the code's form; ``|.|`` the mean absolute difference; ``KL(mu) =
mean(mu^2)``, the registry's ``gaussian_kl``; ``n ~ N(0, I)`` drawn right after each encoding, as in the code):

- encode: ``h_a = E_1(x_a)``, ``z_a = h_a + n_a``; ``h_b = E_2(x_b)``, ``z_b = h_b + n_b``;
- translate: ``x_ba = G_1(z_b)``, ``x_ab = G_2(z_a)``; encode again: ``h_b^ = E_1(x_ba)``, ``h_a^ = E_2(x_ab)``
  (with noise n_b^, n_a^);
- ``loss_g = gan_w (L_GAN(D_1(x_ba)) + L_GAN(D_2(x_ab))) + recon_x_w (|G_1(z_a) - x_a| + |G_2(z_b) - x_b|)
  + recon_kl_w (KL(h_a) + KL(h_b)) + recon_x_cyc_w (|G_1(h_a^ + n_a^) - x_a| + |G_2(h_b^ + n_b^) - x_b|)
  + recon_kl_cyc_w (KL(h_a^) + KL(h_b^)) + vgg_w L_vgg``;
- ``loss_d = gan_w (L(D_1(x_a), real) + L(D_1(x_ba), fake) + L(D_2(x_b), real) + L(D_2(x_ab), fake))`` on new
  latent samples, fakes detached.

Optimization as :mod:`gan_style.methods.munit` (one D step then one G step per batch, Adam 1e-4 (0.5, 0.999) with
weight decay 1e-4, halved every 100,000 batches). Inference is deterministic: ``G_2(E_1(x))`` (no noise).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_style.inference.munit import UNITStylizer
from gan_style.losses import create_loss
from gan_style.methods.base import NonFinitePolicy
from gan_style.methods.munit import (
    MultiScaleGanMode,
    TwoDomainAutoencoderGAN,
    check_gan_mode,
    check_reference_checkpoints,
    check_settings_common,
    multiscale_discriminator_loss,
    multiscale_generator_loss,
    perceptual_distance,
)
from gan_style.nets.munit import UNITGenerator

__all__ = ["UNIT"]


class UNIT(TwoDomainAutoencoderGAN):
    """UNIT as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1] for training, validation and test; ``{"A": ...}``
    (translated A -> B) or ``{"B": ...}`` (B -> A) for predict. H and W: multiples of the generators'
    ``size_multiple`` (4) and at least the discriminators' ``min_size`` (64 at the defaults).

    Logged: ``train/loss_g``, ``train/loss_d`` and their terms (``loss_g_adv_a``, ``loss_g_adv_b``,
    ``loss_recon_x_a``, ``loss_recon_x_b``, ``loss_kl_a``, ``loss_kl_b``, ``loss_kl_cyc_a``, ``loss_kl_cyc_b``, with
    ``recon_x_cyc_w > 0`` ``loss_cyc_x_a``, ``loss_cyc_x_b``, with ``vgg_w > 0`` ``loss_vgg_a``, ``loss_vgg_b``;
    ``loss_d_a``, ``loss_d_b``, before ``gan_w``); the same under ``val/`` and ``test/`` (latent noise from a
    fixed seed).

    Args:
        generator_a: VAE of domain A; default ``UNITGenerator()`` (the configs' ``gen``: dim 64, n_downsample 2,
            n_res 4, relu, reflect padding, Kaiming init).
        generator_b: VAE of domain B; default ``UNITGenerator()``, a module distinct from ``generator_a``.
        discriminator_a: judges domain A; default ``MultiScaleDiscriminator()`` (dim 64, n_layer 4, 3 scales).
        discriminator_b: judges domain B; default ``MultiScaleDiscriminator()``, distinct from ``discriminator_a``.
        gan_mode: ``lsgan`` (default, every config), ``vanilla`` (the code's ``nsgan``) or ``hinge``.
        gan_w: adversarial weight (1).
        recon_x_w: image reconstruction weight (10).
        recon_kl_w: KL weight of the reconstruction (0.01).
        recon_x_cyc_w: cycle reconstruction weight (10; 0 skips two decoder passes).
        recon_kl_cyc_w: KL weight of the cycle's latents (0.01).
        vgg_w: domain-invariant perceptual loss weight (0). Needs VGG-16 weights (``vgg_weights``).
        vgg_weights: ``"imagenet"``, a weights file or None (random, tests); unused when ``vgg_w`` is 0.
        lr: Adam learning rate (1e-4).
        betas: Adam betas ((0.5, 0.999)).
        weight_decay: Adam weight decay (1e-4).
        step_size: training batches between learning-rate decays (100,000).
        gamma: factor of each decay (0.5).
        reference_checkpoints: files of the authors' code loaded at ``setup``: ``{"gen": "gen_01000000.pt",
            "dis": "dis_01000000.pt"}``, each ``{"a": ..., "b": ...}``.
        on_nonfinite_loss: ``stop`` (default) or ``skip`` (see :class:`gan_style.methods.CycleGAN`).

    Raises:
        ValueError: a negative or NaN weight, ``lr``, ``weight_decay`` or ``gamma``; ``step_size`` below 1; an
            unsupported ``gan_mode``; the same module twice; an unknown ``reference_checkpoints`` key.
    """

    evaluation_metrics = ("fid", "kid", "lpips")
    stylizer_class = UNITStylizer

    def __init__(
        self,
        generator_a: nn.Module | None = None,
        generator_b: nn.Module | None = None,
        discriminator_a: nn.Module | None = None,
        discriminator_b: nn.Module | None = None,
        gan_mode: MultiScaleGanMode = "lsgan",
        gan_w: float = 1.0,
        recon_x_w: float = 10.0,
        recon_kl_w: float = 0.01,
        recon_x_cyc_w: float = 10.0,
        recon_kl_cyc_w: float = 0.01,
        vgg_w: float = 0.0,
        vgg_weights: str | None = "imagenet",
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        weight_decay: float = 1e-4,
        step_size: int = 100_000,
        gamma: float = 0.5,
        reference_checkpoints: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
    ) -> None:
        super().__init__()
        weights = {"gan_w": gan_w, "recon_x_w": recon_x_w, "recon_kl_w": recon_kl_w, "recon_x_cyc_w": recon_x_cyc_w}
        weights.update(recon_kl_cyc_w=recon_kl_cyc_w, vgg_w=vgg_w, lr=lr, weight_decay=weight_decay, gamma=gamma)
        check_settings_common(self, weights, step_size)
        check_gan_mode(gan_mode)
        check_reference_checkpoints(reference_checkpoints)
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.init_networks(
            (generator_a, generator_b), (discriminator_a, discriminator_b), UNITGenerator, vgg_w, vgg_weights
        )
        self.kl_loss = create_loss("gaussian_kl")

    # --- the algorithm -----------------------------------------------------------------------------------------
    @staticmethod
    def noise_like(mean: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """n ~ N(0, I) of ``mean``'s shape, on its device: from the global generator (training, as the code), or
        from ``generator`` (on the CPU) when given."""
        if generator is None:
            return torch.randn(mean.shape, device=mean.device)
        return torch.randn(mean.shape, generator=generator).to(mean.device)

    def draws(self, real_a: Tensor, generator: torch.Generator | None = None) -> tuple[torch.Generator | None]:
        """``(generator,)``: UNIT draws its noise inside :meth:`cycle` and :meth:`translations`, right after each
        encoding as the code does, from ``generator`` (None: the global one)."""
        return (generator,)

    def cycle(self, real_a: Tensor, real_b: Tensor, generator: torch.Generator | None = None) -> dict[str, Tensor]:
        """Every image and latent of the generator step (the code's ``gen_update``): ``h_a``, ``h_b`` (means),
        ``rec_A``, ``rec_B``, ``fake_A`` (x_ba), ``fake_B`` (x_ab), ``h_a_rec``, ``h_b_rec``, and with
        ``recon_x_cyc_w > 0`` ``cyc_A`` (x_aba), ``cyc_B``. The noise is drawn right after each encoding, in the
        code's order (``generator``: see :meth:`noise_like`)."""
        h_a = self.generator_a.encode(real_a)
        n_a = self.noise_like(h_a, generator)
        h_b = self.generator_b.encode(real_b)
        n_b = self.noise_like(h_b, generator)
        out = {"h_a": h_a, "h_b": h_b}
        out["rec_A"] = self.generator_a.decode(h_a + n_a)
        out["rec_B"] = self.generator_b.decode(h_b + n_b)
        out["fake_A"] = self.generator_a.decode(h_b + n_b)  # x_ba
        out["fake_B"] = self.generator_b.decode(h_a + n_a)  # x_ab
        out["h_b_rec"] = self.generator_a.encode(out["fake_A"])
        n_b_rec = self.noise_like(out["h_b_rec"], generator)
        out["h_a_rec"] = self.generator_b.encode(out["fake_B"])
        n_a_rec = self.noise_like(out["h_a_rec"], generator)
        if self.hparams.recon_x_cyc_w > 0:
            out["cyc_A"] = self.generator_a.decode(out["h_a_rec"] + n_a_rec)  # x_aba
            out["cyc_B"] = self.generator_b.decode(out["h_b_rec"] + n_b_rec)  # x_bab
        return out

    def generator_loss(
        self, real_a: Tensor, real_b: Tensor, out: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g`` (the code's ``loss_gen_total``) for the outputs ``out`` of :meth:`cycle`; returns (loss,
        logs)."""
        hp = self.hparams
        logs = {
            "loss_g_adv_a": multiscale_generator_loss(self.gan_loss, self.discriminator_a(out["fake_A"])),
            "loss_g_adv_b": multiscale_generator_loss(self.gan_loss, self.discriminator_b(out["fake_B"])),
            "loss_recon_x_a": self.recon_loss(out["rec_A"], real_a),
            "loss_recon_x_b": self.recon_loss(out["rec_B"], real_b),
            "loss_kl_a": self.kl_loss(out["h_a"]),
            "loss_kl_b": self.kl_loss(out["h_b"]),
            "loss_kl_cyc_a": self.kl_loss(out["h_a_rec"]),
            "loss_kl_cyc_b": self.kl_loss(out["h_b_rec"]),
        }
        loss = (
            hp.gan_w * (logs["loss_g_adv_a"] + logs["loss_g_adv_b"])
            + hp.recon_x_w * (logs["loss_recon_x_a"] + logs["loss_recon_x_b"])
            + hp.recon_kl_w * (logs["loss_kl_a"] + logs["loss_kl_b"])
            + hp.recon_kl_cyc_w * (logs["loss_kl_cyc_a"] + logs["loss_kl_cyc_b"])
        )
        if hp.recon_x_cyc_w > 0:
            logs["loss_cyc_x_a"] = self.recon_loss(out["cyc_A"], real_a)
            logs["loss_cyc_x_b"] = self.recon_loss(out["cyc_B"], real_b)
            loss = loss + hp.recon_x_cyc_w * (logs["loss_cyc_x_a"] + logs["loss_cyc_x_b"])
        if hp.vgg_w > 0:
            logs["loss_vgg_a"] = perceptual_distance(self.vgg, self.feature_norm, out["fake_A"], real_b)
            logs["loss_vgg_b"] = perceptual_distance(self.vgg, self.feature_norm, out["fake_B"], real_a)
            loss = loss + hp.vgg_w * (logs["loss_vgg_a"] + logs["loss_vgg_b"])
        logs["loss_g"] = loss
        return loss, {k: v.detach() for k, v in logs.items()}

    def discriminator_loss(
        self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_d = gan_w (loss_d_a + loss_d_b)`` (the code's ``loss_dis_total``), the fakes detached; returns
        (loss, logs)."""
        loss_a = multiscale_discriminator_loss(
            self.gan_loss, self.discriminator_a(fake_a.detach()), self.discriminator_a(real_a)
        )
        loss_b = multiscale_discriminator_loss(
            self.gan_loss, self.discriminator_b(fake_b.detach()), self.discriminator_b(real_b)
        )
        loss = self.hparams.gan_w * (loss_a + loss_b)
        return loss, {"loss_d": loss.detach(), "loss_d_a": loss_a.detach(), "loss_d_b": loss_b.detach()}

    def translations(
        self, real_a: Tensor, real_b: Tensor, generator: torch.Generator | None = None
    ) -> tuple[Tensor, Tensor]:
        """(fake_A, fake_B) = (G_1(h_b + n_b), G_2(h_a + n_a)): the discriminator step's fakes (the code's
        ``dis_update``; noise drawn for A then for B)."""
        h_a = self.generator_a.encode(real_a)
        n_a = self.noise_like(h_a, generator)
        h_b = self.generator_b.encode(real_b)
        n_b = self.noise_like(h_b, generator)
        return self.generator_a.decode(h_b + n_b), self.generator_b.decode(h_a + n_a)

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """A -> B (deterministic, the encoder's mean): generated = G_2(E_1(real_A)) against real_B (FID/KID);
        content = real_A (LPIPS)."""
        fake_b = self.generator_b.decode(self.generator_a.encode(batch["A"]))
        return {"generated": fake_b, "reference": batch["B"], "content": batch["A"]}

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A, rec_A, fake_B, real_B, rec_B, fake_A (the code's ``sample``: the means, no noise), each
        (N, 3, H, W) in [-1, 1]."""
        real_a, real_b = batch["A"], batch["B"]
        with torch.no_grad():
            h_a, h_b = self.generator_a.encode(real_a), self.generator_b.encode(real_b)
            return {
                "real_A": real_a,
                "rec_A": self.generator_a.decode(h_a),
                "fake_B": self.generator_b.decode(h_a),
                "real_B": real_b,
                "rec_B": self.generator_b.decode(h_b),
                "fake_A": self.generator_a.decode(h_b),
            }
