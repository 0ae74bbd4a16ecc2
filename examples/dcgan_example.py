"""DCGAN in one file: the worked example of docs/adding_a_method.md (Radford, Metz & Chintala, ICLR 2016).

A generator G turns noise z ~ N(0, I) into images; a discriminator D tells them from real ones. Per batch, one D
step, then one G step on the same fakes against the updated D (the authors' code):

    loss_d = L_GAN(D(x), real) + L_GAN(D(G(z)), fake)
    loss_g = L_GAN(D(G(z)), real)       # non-saturating: -log D(G(z)) for gan_mode "vanilla" (the paper's)

``L_GAN`` is the loss registry's ``"gan"`` loss, chosen by name (``vanilla``, ``lsgan``, ``hinge`` ...). The
networks are gan-style's ``DCGANGenerator`` / ``DCGANDiscriminator`` (transposed convolutions up, strided ones
down, batch norm, weights drawn from N(0, 0.02)); both learn with Adam at 2e-4, beta1 0.5 (Sec. 4).

``latent_size``, ``sample_latents`` and ``generate`` make the model an unconditional generator, which is all
``gan-style sample`` (and ``export``) need of it:

    PYTHONPATH=examples gan-style fit --config examples/dcgan_example.yaml
    PYTHONPATH=examples gan-style sample --import dcgan_example --checkpoint runs/dcgan_example/checkpoints/last.ckpt
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_style.losses import create_loss
from gan_style.methods import GanStyleModule
from gan_style.nets.dcgan import DCGANDiscriminator, DCGANGenerator


class TinyDCGAN(GanStyleModule):
    """DCGAN with manual optimization; batches ``{"image": (N, C, H, W) in [-1, 1]}`` (``DigitsDataModule``,
    ``ImageFolderDataModule``), C and H = W those of the generator.

    Args:
        generator: G, (N, nz) latents -> (N, C, H, W) images in [-1, 1], with an integer attribute ``nz``
            (default ``DCGANGenerator()``: nz 100, 64x64 RGB).
        discriminator: D, images -> one logit each (default ``DCGANDiscriminator()`` for 64x64 RGB).
        gan_mode: the registry's GAN objective: ``vanilla`` (default, the paper's), ``lsgan``, ``hinge``.
        lr: Adam learning rate of both networks, >= 0 (2e-4).
        beta1: Adam's beta1, in [0, 1) (0.5; the paper found 0.9 oscillates).
        num_fixed_samples: latents of the sample grids, the same all run long (64).

    Attributes:
        latent_size: the generator's ``nz``, the length of one latent vector.
    """

    #: what gan-style's EvaluationMetrics callback computes from evaluation_images(), when a recipe adds it
    evaluation_metrics = ("fid", "kid")

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        gan_mode: str = "vanilla",
        lr: float = 2e-4,
        beta1: float = 0.5,
        num_fixed_samples: int = 64,
    ) -> None:
        super().__init__()
        self.check_settings({"lr": lr, "beta1": beta1})
        self.save_hyperparameters_plain()  # typed arguments -> checkpoint hyper-parameters
        self.automatic_optimization = False  # two optimizers, stepped by hand
        self.generator = generator if generator is not None else DCGANGenerator()
        self.discriminator = discriminator if discriminator is not None else DCGANDiscriminator()
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)  # the objective, chosen by name
        self.latent_size = self.generator.nz
        fixed = torch.randn(num_fixed_samples, self.latent_size, generator=torch.Generator().manual_seed(0))
        self.register_buffer("fixed_noise", fixed)  # a buffer: saved in checkpoints, moved with the model

    # --- what `gan-style sample` needs (the UnconditionalGenerator protocol) --------------------------------------
    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` latents z ~ N(0, I), (n, latent_size), on the model's device; drawn on the CPU from ``generator``
        when one is given (the same latents on every device), else from the global random state."""
        where = "cpu" if generator is not None else self.device
        return torch.randn(n, self.latent_size, generator=generator, device=where).to(self.device)

    def generate(self, z: Tensor) -> Tensor:
        """G(z) for inference: (n, latent_size) -> (n, C, H, W) in [-1, 1], in eval mode (batch norm uses its
        running statistics) and without gradients; the generator's mode is restored after."""
        was_training = self.generator.training
        self.generator.eval()
        try:
            with torch.no_grad():
                return self.generator(z.to(self.device))
        finally:
            self.generator.train(was_training)

    # --- the algorithm: two losses, each returning (loss, logs), used by training and validation -----------------
    def generator_loss(self, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        loss = self.gan_loss.generator_loss(self.discriminator(fake))
        return loss, {"loss_g": loss.detach()}

    def discriminator_loss(self, real: Tensor, fake: Tensor, penalty: bool = True) -> tuple[Tensor, dict[str, Tensor]]:
        loss, _ = self.gan_loss.discriminator_loss(self.discriminator, real, fake.detach(), penalty=penalty)
        return loss, {"loss_d": loss.detach()}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real = batch["image"]
        opt_g, opt_d = self.optimizers()
        fake = self.generator(self.sample_latents(real.shape[0]))
        with self.toggled_optimizer(opt_d):  # only D's parameters take gradients here
            loss_d, logs_d = self.discriminator_loss(real, fake)
            self.backward_step(opt_d, loss_d, logs_d)  # zero grad, refuse NaN, backward, step
        with self.toggled_optimizer(opt_g):
            loss_g, logs_g = self.generator_loss(fake)
            self.backward_step(opt_g, loss_g, logs_g)
        self.log_dict({f"train/{k}": v for k, v in {**logs_d, **logs_g}.items()}, prog_bar=True, batch_size=len(real))

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real = batch["image"]
        fake = self.generate(self.sample_latents(len(real), torch.Generator().manual_seed(batch_idx)))
        _, logs_d = self.discriminator_loss(real, fake, penalty=False)  # no input gradients in validation
        _, logs_g = self.generator_loss(fake)
        self.log_dict({f"val/{k}": v for k, v in {**logs_d, **logs_g}.items()}, batch_size=len(real))

    def configure_optimizers(self):
        betas = (self.hparams.beta1, 0.999)
        return [self.adam(self.generator.parameters(), self.hparams.lr, betas),
                self.adam(self.discriminator.parameters(), self.hparams.lr, betas)]  # fmt: skip

    # --- images for the callbacks ---------------------------------------------------------------------------------
    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """For ``SampleGrid``: ``real`` (the batch) and ``fake_1`` ... ``fake_3``, G of the fixed latents (the same
        samples, grid after grid); each (N, C, H, W) in [-1, 1], N <= num_fixed_samples / 3."""
        n = len(batch["image"])
        fakes = self.generate(self.fixed_noise[: 3 * n]).to(batch["image"].device)
        return {"real": batch["image"], **{f"fake_{j + 1}": fakes[j * n : (j + 1) * n] for j in range(3)}}

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """For FID / KID (``EvaluationMetrics``): ``generated`` fakes, as many as the batch's ``reference`` real
        images; both (N, C, H, W) in [-1, 1]."""
        return {"generated": self.generate(self.sample_latents(len(batch["image"]))), "reference": batch["image"]}
