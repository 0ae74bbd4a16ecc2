"""DCGAN: unconditional image generation with deep convolutional GANs (Radford, Metz & Chintala, ICLR 2016).

The smallest complete GAN in gan-style: one generator turns noise into images, one discriminator tells them from
real ones. Names in this file, in the paper and in the PyTorch DCGAN example (``examples/dcgan/main.py``):

=================  =========  ==============  ==============================================================
this code          paper      example code    role
=================  =========  ==============  ==============================================================
``generator``      G          ``netG``        noise z (nz = 100) -> image in [-1, 1] (Fig. 1)
``discriminator``  D          ``netD``        image -> one score (a logit; the loss applies the sigmoid)
``z``              z          ``noise``       latent vector, N(0, I) (``noise: normal``) or U[-1, 1]
``fixed_noise``               ``fixed_noise`` the latents of the sample grids, the same all training long
=================  =========  ==============  ==============================================================

Objective (Goodfellow et al. 2014, Eq. 1; ``L_GAN`` is the registry's ``GANLoss``, chosen by ``gan_mode``):

- ``min_G max_D E_x[log D(x)] + E_z[log(1 - D(G(z)))]``, with ``gan_mode: vanilla`` (the paper's);
- discriminator: ``loss_d = L_GAN(D(x), real) + L_GAN(D(G(z)), fake)``, real and fake in separate batches (so
  batch norm sees one kind of image at a time, as in the authors' code); for ``wgangp`` plus
  ``lambda_gp * GP`` (Gulrajani et al. 2017, Eq. 3);
- generator, non-saturating (Goodfellow et al. 2014, Sec. 3): ``loss_g = L_GAN(D(G(z)), real)``, i.e.
  ``-E_z[log D(G(z))]`` for vanilla; ``E[(D(G(z)) - 1)^2]`` for lsgan; ``-E[D(G(z))]`` for wgangp and hinge.

The other objectives are the registry's (``lsgan``: Mao et al. 2017; ``wgangp``: Gulrajani et al. 2017; ``hinge``:
Lim & Ye 2017, Miyato et al. 2018), and ``spectral_norm: true`` wraps the discriminator's layers in spectral
normalization (Miyato et al. 2018), so the four objectives compare on one architecture.

Optimization (Sec. 4): mini-batches of 128, Adam with learning rate 2e-4 and beta1 0.5 for both networks; per
batch one discriminator step then one generator step on the same fakes, against the updated discriminator (the
authors' code); with ``n_critic > 1`` the generator steps on every ``n_critic``-th batch only. No learning-rate
schedule. Images are scaled to [-1, 1], the range of the generator's Tanh, and nothing else (Sec. 4).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, Literal, Protocol, runtime_checkable

import torch
from torch import Tensor, nn

from gan_style.errors import InferenceUnavailableError, InvalidSettingError
from gan_style.losses import create_loss
from gan_style.losses.adversarial import GanMode, warn_if_batch_norm_critic
from gan_style.methods.base import GanStyleModule, NonFinitePolicy, check_n_critic, generator_step_due
from gan_style.nets.dcgan import DCGANDiscriminator, DCGANGenerator, apply_spectral_norm

__all__ = ["DCGAN", "UnconditionalGenerator", "eval_mode"]

Noise = Literal["normal", "uniform"]

#: Generated columns of a training sample grid (beside the column of real images).
SAMPLE_COLUMNS = 7

#: What stylize, export and predict are told: a DCGAN has no input image.
NO_INPUT_IMAGES = (
    "DCGAN generates images from noise and translates no input image, so it cannot stylize, tile or predict; "
    "draw images with gan-style sample --checkpoint runs/dcgan/checkpoints/last.ckpt --num_samples 64"
)


@runtime_checkable
class UnconditionalGenerator(Protocol):
    """What ``gan-style sample`` needs of a method: images drawn from noise, no input image.

    Attributes:
        latent_size: the length of one latent vector.
    """

    latent_size: int

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` latent vectors, (n, latent_size), on the model's device."""
        ...

    def generate(self, z: Tensor) -> Tensor:
        """Images (n, C, H, W) in [-1, 1] for latents ``z`` (n, latent_size), in eval mode, without gradients."""
        ...


@contextlib.contextmanager
def eval_mode(module: nn.Module) -> Iterator[nn.Module]:
    """``module`` in eval mode inside the block, its own mode restored after (batch norm then uses, and does not
    update, its running statistics, so drawing samples during training leaves the training state as it was)."""
    was_training = module.training
    module.eval()
    try:
        yield module
    finally:
        module.train(was_training)


class DCGAN(GanStyleModule):
    """DCGAN as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"image": (N, C, H, W) float in [-1, 1]}`` (:class:`gan_style.data.ImageFolderDataModule`,
    :class:`gan_style.data.DigitsDataModule`), C and H = W those of the generator. Grayscale data trains as one
    channel.

    Logged: ``train/loss_d``, ``train/loss_g`` (progress bar), ``train/loss_d_real``, ``train/loss_d_fake`` (the
    two discriminator terms) and, for wgangp, ``train/gp``; in validation and test the same terms under ``val/`` and
    ``test/`` (without the gradient penalty), on fakes from latents drawn from a generator seeded with
    ``sample_seed`` (the same latents every evaluation), plus ``fid`` and ``kid`` of those fakes against the real
    batches when the ``EvaluationMetrics`` callback runs. ``trainer.global_step`` counts optimizer steps: two per
    batch at ``n_critic=1``.

    Sample grids (``SampleGrid``): one row per real image of the batch, the real image then
    ``SAMPLE_COLUMNS`` (7) images from the fixed latents ``fixed_noise``, the same all training long, so the grids
    show the same samples improving.

    Args:
        generator: default ``DCGANGenerator()`` (64x64 RGB, nz 100, ngf 64). Any network mapping (N, nz) latents to
            (N, C, H, W) images in [-1, 1] that has an integer attribute ``nz``.
        discriminator: default ``DCGANDiscriminator`` of the generator's ``output_nc`` and ``image_size`` (ndf 64),
            with batch norm; without it for ``gan_mode: wgangp`` (the gradient penalty needs each score to depend on
            its own image only; Gulrajani et al. 2017, Sec. 4) and with ``spectral_norm`` (the SN-DCGAN of Miyato
            et al. 2018 has no batch norm in D). Any network mapping images to scores.
        gan_mode: the adversarial objective, a ``GANLoss`` mode of the loss registry: ``vanilla`` (default, the
            paper's cross-entropy), ``lsgan``, ``wgangp`` or ``hinge``.
        spectral_norm: wrap every convolution and linear layer of the discriminator in spectral normalization
            (Miyato et al. 2018; :func:`gan_style.nets.dcgan.apply_spectral_norm`) (False, the paper).
        lr: Adam learning rate of both networks, > 0 (2e-4, Sec. 4).
        betas: Adam betas of both networks ((0.5, 0.999), Sec. 4: beta1 0.9 "resulted in training oscillation").
        noise: distribution of z: ``normal`` N(0, I) (default, the authors' code and the PyTorch example) or
            ``uniform`` U[-1, 1] (the paper's text, Sec. 3).
        n_critic: discriminator steps per generator step, >= 1 (1, the paper; 5 with wgangp follows Gulrajani et
            al. 2017, Alg. 1). The discriminator steps on every batch, the generator on every ``n_critic``-th batch
            of the run.
        num_fixed_samples: latents in ``fixed_noise``, >= 1 (64).
        sample_seed: seed of ``fixed_noise`` (a buffer, saved in checkpoints) and of the evaluation latents, >= 0 (0).
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a loss is NaN
            or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).

    Attributes:
        latent_size: the generator's ``nz``.

    Raises:
        ValueError: ``lr`` not > 0, ``betas`` outside [0, 1), an unknown ``noise``, ``n_critic``,
            ``num_fixed_samples`` or ``sample_seed`` out of range, a generator without an integer ``nz``, or a
            generator and discriminator built for different channels or ``image_size``, or a ``gan_mode`` the
            registry's ``GANLoss`` does not know.
    """

    evaluation_metrics = ("fid", "kid")

    #: The data the discriminator reads (domain A, the training images): ``gan-style fit`` gives it the data's
    #: ``channels`` as ``input_nc`` (:func:`gan_style.commands.lightning_cli.link_network_channels`). The generator
    #: reads noise, so its ``output_nc`` is set in the recipe; a generator and discriminator of different channels
    #: are refused with one line.
    network_channels = {"discriminator": ("A", None)}

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        gan_mode: GanMode = "vanilla",
        spectral_norm: bool = False,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        noise: Noise = "normal",
        n_critic: int = 1,
        num_fixed_samples: int = 64,
        sample_seed: int = 0,
        on_nonfinite_loss: NonFinitePolicy = "stop",
    ) -> None:
        super().__init__()
        if not lr > 0:
            raise ValueError(f"lr must be a number > 0, got {lr}")
        if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        if noise not in ("normal", "uniform"):
            raise ValueError(f"noise must be 'normal' or 'uniform', got {noise!r}")
        if isinstance(num_fixed_samples, bool) or not isinstance(num_fixed_samples, int) or num_fixed_samples < 1:
            raise ValueError(f"num_fixed_samples must be an integer >= 1, got {num_fixed_samples!r}")
        if isinstance(sample_seed, bool) or not isinstance(sample_seed, int) or sample_seed < 0:
            raise ValueError(f"sample_seed must be an integer >= 0, got {sample_seed!r}")
        check_n_critic(n_critic)
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.generator = generator if generator is not None else DCGANGenerator()
        nz = getattr(self.generator, "nz", None)
        if isinstance(nz, bool) or not isinstance(nz, int) or nz < 1:
            raise ValueError(
                f"the generator ({type(self.generator).__name__}) must have an integer attribute nz (the latent size) "
                "to be trained by DCGAN; DCGANGenerator has it"
            )
        self.latent_size = nz
        if discriminator is None:
            discriminator = DCGANDiscriminator(
                input_nc=getattr(self.generator, "output_nc", 3),
                image_size=getattr(self.generator, "image_size", 64),
                norm="none" if gan_mode == "wgangp" or spectral_norm else "batch",
            )
        self.discriminator = discriminator
        made, judged = getattr(self.generator, "output_nc", None), getattr(self.discriminator, "input_nc", None)
        if made is not None and judged is not None and made != judged:
            raise ValueError(
                f"the generator makes images of {made} channel(s) (output_nc) but the discriminator reads {judged} "
                f"(input_nc, which follows data.init_args.channels); set model.init_args.generator.init_args.output_nc: "
                f"{judged}"
            )
        made, judged = getattr(self.generator, "image_size", None), getattr(self.discriminator, "image_size", None)
        if made is not None and judged is not None and made != judged:
            raise ValueError(
                f"the generator makes {made}x{made} images but the discriminator judges {judged}x{judged}; set "
                f"model.init_args.generator.init_args.image_size and model.init_args.discriminator.init_args.image_size "
                "to one value (data.init_args.image_size)"
            )
        if spectral_norm:
            apply_spectral_norm(self.discriminator)
        warn_if_batch_norm_critic(gan_mode, {"discriminator": self.discriminator})
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)
        self.n_critic = n_critic
        self.noise = noise
        self.register_buffer("fixed_noise", self._draw(num_fixed_samples, self._seeded(), torch.device("cpu")))
        self._eval_generator: torch.Generator | None = None

    # --- the latents ---------------------------------------------------------------------------------------------
    def _seeded(self) -> torch.Generator:
        return torch.Generator().manual_seed(self.hparams.sample_seed)

    def _draw(self, n: int, generator: torch.Generator | None, device: torch.device) -> Tensor:
        """``n`` latents (n, nz) from ``noise``; with a (CPU) ``generator`` drawn on the CPU, then moved to ``device``."""
        where = "cpu" if generator is not None else device
        if self.noise == "uniform":
            z = torch.rand(n, self.latent_size, generator=generator, device=where) * 2.0 - 1.0
        else:
            z = torch.randn(n, self.latent_size, generator=generator, device=where)
        return z.to(device)

    def sample_latents(self, n: int, generator: torch.Generator | None = None) -> Tensor:
        """``n`` latent vectors z, (n, nz) on the model's device: N(0, I) for ``noise: normal``, U[-1, 1] for
        ``uniform``. From the global torch random state (which checkpoints save, so a resumed run draws the same),
        or from ``generator`` (a CPU ``torch.Generator``: the same latents on every device)."""
        return self._draw(n, generator, self.device)

    def generate(self, z: Tensor) -> Tensor:
        """G(z) for inference: latents (n, nz) -> images (n, C, H, W) in [-1, 1], with the generator in eval mode
        (batch norm uses its running statistics, so each image depends on its own latent only) and no gradients;
        the generator's mode is restored after."""
        with torch.no_grad(), eval_mode(self.generator):
            return self.generator(z.to(self.device))

    # --- the algorithm -------------------------------------------------------------------------------------------
    def forward(self, z: Tensor) -> Tensor:
        """G(z): (N, nz) -> (N, C, H, W) in [-1, 1], in the generator's current mode."""
        return self.generator(z)

    def generator_loss(self, fake: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g = L_GAN(D(G(z)), real)``, the non-saturating generator loss; returns (loss, logs)."""
        loss = self.gan_loss.generator_loss(self.discriminator(fake))
        return loss, {"loss_g": loss.detach()}

    def discriminator_loss(self, real: Tensor, fake: Tensor, penalty: bool = True) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_d = L_GAN(D(x), real) + L_GAN(D(G(z)), fake)`` (plus ``lambda_gp * GP`` for wgangp unless
        ``penalty=False``); ``fake`` is detached. Returns (loss, logs)."""
        loss, logs = self.gan_loss.discriminator_loss(self.discriminator, real, fake.detach(), penalty=penalty)
        out = {"loss_d": loss.detach(), "loss_d_real": logs["d_real"], "loss_d_fake": logs["d_fake"]}
        if "gp" in logs:
            out["gp"] = logs["gp"]
        return loss, out

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real = batch["image"]
        n = real.shape[0]
        opt_g, opt_d = self.optimizers()
        update_generator = generator_step_due(self, self.n_critic)
        z = self.sample_latents(n)
        with torch.set_grad_enabled(update_generator):  # a critic-only batch needs no graph through G
            fake = self.generator(z)
        with self.toggled_optimizer(opt_d):
            loss_d, logs_d = self.discriminator_loss(real, fake)
            self.backward_step(opt_d, loss_d, logs_d)
        logs_g: dict[str, Tensor] = {}
        if update_generator:
            with self.toggled_optimizer(opt_g):  # the discriminator is frozen while G learns
                loss_g, logs_g = self.generator_loss(fake)
                self.backward_step(opt_g, loss_g, logs_g)
        logs = {**logs_g, **logs_d}
        self.log_dict({f"train/{k}": v for k, v in logs.items() if k not in ("loss_g", "loss_d")}, batch_size=n)
        self.log_dict({f"train/{k}": logs[k] for k in ("loss_g", "loss_d") if k in logs}, prog_bar=True, batch_size=n)

    # --- evaluation ----------------------------------------------------------------------------------------------
    def on_validation_epoch_start(self) -> None:
        self._eval_generator = self._seeded()  # the same latents at every evaluation

    def on_test_epoch_start(self) -> None:
        self._eval_generator = self._seeded()

    def _evaluation_fakes(self, n: int) -> Tensor:
        if self._eval_generator is None:
            self._eval_generator = self._seeded()
        return self.generate(self.sample_latents(n, self._eval_generator))

    def _evaluate(self, batch: dict[str, Any], prefix: str) -> None:
        real = batch["image"]
        fake = self._evaluation_fakes(real.shape[0])
        with eval_mode(self.discriminator):
            _, logs_g = self.generator_loss(fake)
            _, logs_d = self.discriminator_loss(real, fake, penalty=False)
        self.log_dict({f"{prefix}/{k}": v for k, v in {**logs_g, **logs_d}.items()}, batch_size=real.shape[0])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """``generated``: as many fakes as the batch has real images, from the seeded evaluation latents;
        ``reference``: the real images. Both (N, C, H, W) in [-1, 1], C the data's bands: the metrics map them to
        the 3 channels of FID / KID's network by the data's display rule (gray repeated)."""
        real = batch["image"]
        fake = self._evaluation_fakes(real.shape[0])
        return {"generated": fake, "reference": real}

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """``real`` (the batch's images) and ``fake_1`` ... ``fake_7`` (G of the fixed latents ``fixed_noise``, in eval
        mode: drawing them changes nothing in training), each (N, C, H, W) in [-1, 1], N the batch's size."""
        real = batch["image"]
        n = real.shape[0]
        count = self.fixed_noise.shape[0]
        index = torch.arange(n * SAMPLE_COLUMNS, device=self.fixed_noise.device) % count
        fakes = self.generate(self.fixed_noise[index]).to(real.device)
        images = {"real": real}
        for j in range(SAMPLE_COLUMNS):
            images[f"fake_{j + 1}"] = fakes[j * n : (j + 1) * n]
        return images

    # --- inference -----------------------------------------------------------------------------------------------
    def stylizer(self, network: str | None = None) -> Any:
        """Refused: DCGAN generates images from noise and translates none.

        Raises:
            InferenceUnavailableError: always; the message names ``gan-style sample``.
        """
        raise InferenceUnavailableError(NO_INPUT_IMAGES)

    def predict_step(self, batch: dict[str, Any], batch_idx: int, dataloader_idx: int = 0) -> dict[str, Any]:
        """Refused, as :meth:`stylizer` (``gan-style sample`` draws images).

        Raises:
            InferenceUnavailableError: always.
        """
        raise InferenceUnavailableError(NO_INPUT_IMAGES)

    # --- Lightning plumbing --------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Refuse data whose channels or image size differ from the generator's, naming the setting; then the base
        class's setup.

        Raises:
            InvalidSettingError: the data module's ``channels`` (an int, or a pair whose first entry counts) or
                ``image_size`` is not the generator's ``output_nc`` / ``image_size``.
        """
        trainer = self._trainer
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        channels = getattr(datamodule, "channels", None)
        given = {
            "output_nc": channels[0] if isinstance(channels, (tuple, list)) else channels,
            "image_size": getattr(datamodule, "image_size", None),
        }
        for name, value in given.items():
            made = getattr(self.generator, name, None)
            if isinstance(made, int) and isinstance(value, int) and made != value:
                what = "channels" if name == "output_nc" else "image_size"
                raise InvalidSettingError(
                    f"the data has {what} {value} but the generator makes {name} {made}; set "
                    f"model.init_args.generator.init_args.{name}: {value} (and the discriminator's "
                    f"{'input_nc' if name == 'output_nc' else name}), or the data's {what} to {made}"
                )
        super().setup(stage)

    def configure_optimizers(self):
        hp = self.hparams
        opt_g = self.adam(self.generator.parameters(), hp.lr, hp.betas)
        opt_d = self.adam(self.discriminator.parameters(), hp.lr, hp.betas)
        return [opt_g, opt_d]  # constant learning rates: the paper uses no schedule


