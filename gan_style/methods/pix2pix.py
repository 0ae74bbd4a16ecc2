"""Pix2Pix: paired image-to-image translation with a conditional GAN (Isola et al., CVPR 2017).

Names in this file and in the paper / reference code:

==================  ==================  ==============  ==============================================
this code           paper               reference code  role
==================  ==================  ==============  ==============================================
``generator``       G                   ``netG``        U-Net, x -> y (dropout plays the noise z)
``discriminator``   D                   ``netD``        70x70 PatchGAN on concat(x, y), 6 channels
``lambda_l1``       lambda              ``lambda_L1``   weight of the L1 term (100)
``real_a``          x                   ``real_A``      the condition (source image)
``real_b``          y                   ``real_B``      the target
``fake_b``          G(x, z)             ``fake_B``      the translation
==================  ==================  ==============  ==============================================

Losses (Eq. 1-4; ``L_GAN`` is the registry's ``GANLoss``, ``vanilla`` = the paper's cross-entropy):

- conditional GAN (Eq. 1): ``L_cGAN(G, D) = E[log D(x, y)] + E[log(1 - D(x, G(x, z)))]``;
- reconstruction (Eq. 3): ``L_L1(G) = E[||y - G(x, z)||_1]``;
- generator (Eq. 4, non-saturating form): ``loss_g = L_GAN(D(x, G(x)), real) + lambda_l1 * L_L1``;
- discriminator, halved as in the paper (Sec. 3.3: "we divide the objective by 2 while optimizing D"):
  ``loss_d = 0.5 * (L_GAN(D(x, y), real) + L_GAN(D(x, G(x)), fake))``; for wgangp the halving covers the
  gradient penalty too, ``0.5 * (-D(x, y) + D(x, G(x)) + 10 * GP)``, so its weight is Gulrajani et al.'s
  lambda = 10 relative to the critic terms.

Optimization (Sec. 3.3 and 6.2): one D step then one G step per batch (with ``n_critic > 1`` the G step only
on every ``n_critic``-th batch), Adam(lr 2e-4, betas (0.5, 0.999)), batch size 1; the reference code's
linear policy decays the rate to 0 over ``n_epochs_decay`` epochs.

Small datasets: ``diffaugment`` (off by default) passes every input of D, real pairs and generated ones, in D's and
in G's update, through DiffAugment (Zhao et al. 2020; :mod:`gan_style.losses.augment`), the same transform for the
condition x and the image beside it: ``D(T(concat(x, y)))`` with ``T`` drawn anew for each call.

Inference (Sec. 3.3): "At inference time, we run the generator net in exactly the same manner as during
the training phase": dropout stays on and batch norm uses the statistics of the test batch. That is
``eval_mode=False`` (the default) for validation, test and predict; ``eval_mode=True`` uses the usual
eval mode instead (running statistics, no dropout: deterministic outputs).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_style.inference.pix2pix import Pix2PixStylizer, training_mode_without_updates  # inference half
from gan_style.losses import create_loss
from gan_style.losses.adversarial import GanMode, warn_if_batch_norm_critic
from gan_style.losses.augment import DiffAugment
from gan_style.methods.base import (
    GanStyleModule,
    LinearDecay,
    NonFinitePolicy,
    check_n_critic,
    generator_step_due,
)
from gan_style.metrics.paired import PerImagePSNR, PerImageSSIM
from gan_style.nets import NLayerDiscriminator, UnetGenerator

__all__ = ["Pix2Pix", "Pix2PixStylizer"]

NETWORKS = ("generator", "discriminator")


class Pix2Pix(GanStyleModule):
    """Pix2Pix as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1], A the source, B the target; predict
    needs ``"A"`` only. H and W must suit the generator (multiples of 256 for unet_256).

    Logged: ``train/loss_g``, ``train/loss_d``, ``train/loss_g_gan``, ``train/loss_g_l1``, ``train/loss_d_real``,
    ``train/loss_d_fake``; in validation and test ``val/`` / ``test/`` ``loss_g``, ``loss_d``, ``l1`` (mean
    absolute error of G(x) against y in [-1, 1]), ``psnr`` and ``ssim``: the mean over the epoch's images of
    the per-image PSNR in dB, ``10 * log10(1 / MSE_i)``, and of the per-image SSIM, on G(x) and y rescaled to
    [0, 1] (:class:`~gan_style.metrics.PerImagePSNR`, :class:`~gan_style.metrics.PerImageSSIM`: the classes
    and numbers of :class:`~gan_style.metrics.ImageMetrics`). ``trainer.global_step`` counts optimizer steps:
    two per batch at ``n_critic=1``, in general ``n_critic + 1`` per ``n_critic`` batches; ``trainer.max_steps``
    counts these steps too (training stops after the first batch at which ``global_step`` reaches it). On a
    batch without a generator step nothing of ``loss_g`` is logged.

    Args:
        generator: default ``UnetGenerator()`` (unet_256, batch norm, dropout).
        discriminator: default ``NLayerDiscriminator(input_nc=6, norm="batch")``, the 70x70 PatchGAN on
            concat(A, B); its ``input_nc`` must be the sum of A's and B's channels.
        gan_mode: ``vanilla`` (default, the paper), ``lsgan``, ``wgangp`` or ``hinge``. With ``wgangp``, build
            the discriminator with ``norm: instance`` or ``none`` (the default batch norm makes each critic
            score depend on the whole batch, which the gradient penalty does not allow for; a warning says
            so), and ``n_critic: 5`` follows Gulrajani et al. 2017.
        lambda_l1: weight of the L1 term (100, Sec. 4).
        reconstruction_loss: registry name of the reconstruction term (``l1``).
        lr: Adam learning rate of the generator and the discriminator (2e-4, as in the paper).
        betas: Adam betas of both optimizers ((0.5, 0.999), as in the paper).
        n_epochs: epochs at the initial learning rate (100).
        n_epochs_decay: epochs over which the learning rate then decays linearly to 0 (100).
        eval_mode: False (paper): dropout and batch statistics stay active at validation, test and
            predict, without touching the running statistics; True: usual eval mode.
        reference_weights: optional ``{"generator": "latest_net_G.pth", "discriminator":
            "latest_net_D.pth"}`` from the reference pix2pix code, loaded at ``setup``.
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a
            loss is NaN or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).
        n_critic: discriminator (critic) steps per generator step (default 1: both every batch, as in the
            paper). The discriminator steps on every batch, the generator on every ``n_critic``-th batch
            counted over the whole run (batches n_critic, 2 n_critic, ...), after that batch's discriminator
            step (Gulrajani et al. 2017, Alg. 1 uses 5 with wgangp). Learning-rate schedules still follow epochs.
        diffaugment: DiffAugment policy for small datasets (Zhao et al. 2020): comma-separated ``color``,
            ``translation``, ``cutout`` (``"color,translation,cutout"`` is the paper's choice for 100 images or
            fewer). In training, every concat(x, y) D judges, real and generated, in D's and in G's update, is
            augmented, condition and image with the same transform, each call with its own random draws; the
            wgangp penalty is taken through it. Validation and test judge unaugmented pairs. None (default, the
            paper's recipe): no augmentation.

    Raises:
        ValueError: negative or NaN weights, ``n_critic`` not an integer >= 1, an unknown name in
            ``reference_weights``, or an unknown ``diffaugment`` policy.
        KeyError: an unknown ``reconstruction_loss``.
    """

    #: The domain each network reads and writes (None: a score; ``"A+B"``: concat(A, B)), from which ``gan-style fit``
    #: gives it the data's channels (:func:`gan_style.commands.lightning_cli.link_network_channels`).
    network_channels = {"generator": ("A", "B"), "discriminator": ("A+B", None)}

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        gan_mode: GanMode = "vanilla",
        lambda_l1: float = 100.0,
        reconstruction_loss: str = "l1",
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        eval_mode: bool = False,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
        n_critic: int = 1,
        diffaugment: str | None = None,
    ) -> None:
        super().__init__()
        self.check_settings({"lambda_l1": lambda_l1, "lr": lr}, reference_weights, NETWORKS)
        check_n_critic(n_critic)
        self.diffaugment = DiffAugment.from_setting(diffaugment)
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.generator = generator if generator is not None else UnetGenerator()
        self.discriminator = (
            discriminator if discriminator is not None else NLayerDiscriminator(input_nc=6, norm="batch")
        )
        warn_if_batch_norm_critic(gan_mode, {"discriminator": self.discriminator})
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)
        self.reconstruction_loss = create_loss(reconstruction_loss)
        self.n_critic = n_critic
        self.lambda_l1 = lambda_l1
        self.eval_mode = eval_mode
        self.val_psnr, self.test_psnr = PerImagePSNR(), PerImagePSNR()
        self.val_ssim, self.test_ssim = PerImageSSIM(), PerImageSSIM()

    # --- the algorithm -----------------------------------------------------------------------------------
    def forward(self, real_a: Tensor) -> Tensor:
        """G(x): (N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1], in the network's current mode."""
        return self.generator(real_a)

    def generate(self, real_a: Tensor) -> Tensor:
        """G(x) at inference, following ``eval_mode`` (see the class docstring)."""
        if self.eval_mode:
            return self.generator(real_a)
        with training_mode_without_updates(self.generator):
            return self.generator(real_a)

    def generator_loss(self, real_a: Tensor, real_b: Tensor, fake_b: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g = L_GAN(D(x, G(x)), real) + lambda_l1 * ||y - G(x)||_1`` (Eq. 4); returns (loss, logs)."""
        judge = self.augmented_discriminator(self.discriminator, (real_a.shape[1], fake_b.shape[1]))
        loss_gan = self.gan_loss.generator_loss(judge(torch.cat([real_a, fake_b], 1)))
        loss_l1 = self.reconstruction_loss(fake_b, real_b)
        loss = loss_gan + self.lambda_l1 * loss_l1
        return loss, {"loss_g": loss.detach(), "loss_g_gan": loss_gan.detach(), "loss_g_l1": loss_l1.detach()}

    def discriminator_loss(
        self, real_a: Tensor, real_b: Tensor, fake_b: Tensor, penalty: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_d = 0.5 * (L(D(x, y), real) + L(D(x, G(x)), fake))``, for wgangp ``0.5 * (... + lambda_gp * GP)``
        unless ``penalty=False``; returns (loss, logs)."""
        loss, logs = self.gan_loss.discriminator_loss(
            self.augmented_discriminator(self.discriminator, (real_a.shape[1], real_b.shape[1])),
            torch.cat([real_a, real_b], 1),
            torch.cat([real_a, fake_b.detach()], 1),
            scale=0.5,
            penalty=penalty,
        )
        out = {"loss_d": loss.detach(), "loss_d_real": logs["d_real"], "loss_d_fake": logs["d_fake"]}
        if "gp" in logs:
            out["gp"] = logs["gp"]
        return loss, out

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real_a, real_b = batch["A"], batch["B"]
        opt_g, opt_d = self.optimizers()
        update_generator = generator_step_due(self, self.n_critic)
        with torch.set_grad_enabled(update_generator):  # a critic-only batch needs no graph through G
            fake_b = self.generator(real_a)
        with self.toggled_optimizer(opt_d):
            loss_d, logs_d = self.discriminator_loss(real_a, real_b, fake_b)
            self.backward_step(opt_d, loss_d, logs_d)
        logs_g: dict[str, Tensor] = {}
        if update_generator:
            with self.toggled_optimizer(opt_g):  # the discriminator is frozen while G learns
                loss_g, logs_g = self.generator_loss(real_a, real_b, fake_b)
                self.backward_step(opt_g, loss_g, logs_g)
        self.step_schedulers_at_epoch_end()
        n = real_a.shape[0]
        logs = {**logs_g, **logs_d}
        self.log_dict({f"train/{k}": v for k, v in logs.items() if k not in ("loss_g", "loss_d")}, batch_size=n)
        self.log_dict({f"train/{k}": logs[k] for k in ("loss_g", "loss_d") if k in logs}, prog_bar=True, batch_size=n)

    def _evaluate(self, batch: dict[str, Any], prefix: str, psnr: PerImagePSNR, ssim: PerImageSSIM) -> None:
        real_a, real_b = batch["A"], batch["B"]
        fake_b = self.generate(real_a)
        _, logs_g = self.generator_loss(real_a, real_b, fake_b)
        _, logs_d = self.discriminator_loss(real_a, real_b, fake_b, penalty=False)
        psnr(fake_b, real_b)  # both rescale [-1, 1] to [0, 1] themselves
        ssim(fake_b, real_b)
        n = real_a.shape[0]
        self.log_dict(
            {
                f"{prefix}/loss_g": logs_g["loss_g"],
                f"{prefix}/loss_d": logs_d["loss_d"],
                f"{prefix}/l1": logs_g["loss_g_l1"],
            },
            batch_size=n,
        )
        self.log_dict({f"{prefix}/psnr": psnr, f"{prefix}/ssim": ssim}, batch_size=n)

    evaluation_metrics = ("fid", "kid", "lpips")
    self_logged_metrics = ("psnr", "ssim")  # by _evaluate, per-image means as in ImageMetrics

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """generated = G(real_A) against real_B (FID/KID); for a paired task LPIPS is the distance to the
        ground truth, so ``content`` and ``paired`` are real_B."""
        fake_b = self.generate(batch["A"])
        return {"generated": fake_b, "reference": batch["B"], "paired": batch["B"], "content": batch["B"]}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val", self.val_psnr, self.val_ssim)

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test", self.test_psnr, self.test_ssim)

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A, fake_B, real_B, each (N, 3, H, W) in [-1, 1]."""
        with torch.no_grad():
            fake_b = self.generate(batch["A"])
        return {"real_A": batch["A"], "fake_B": fake_b, "real_B": batch["B"]}

    # --- inference -----------------------------------------------------------------------------------------
    stylizer_networks = ("generator",)

    def stylizer(self, network: str | None = None) -> Pix2PixStylizer:
        """G as a :class:`Pix2PixStylizer` following ``eval_mode``: (N, 3, H, W) in [-1, 1], H and W multiples
        of 2^num_downs.

        Raises:
            ValueError: a ``network`` other than ``generator``.
        """
        self.check_stylizer_network(network)
        return Pix2PixStylizer(self.generator, self.eval_mode)

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = self.adam(self.generator.parameters(), hp.lr, hp.betas)
        opt_d = self.adam(self.discriminator.parameters(), hp.lr, hp.betas)
        decay = LinearDecay(hp.n_epochs, hp.n_epochs_decay)
        return [opt_g, opt_d], [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
