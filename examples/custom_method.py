"""A new method in one file: the self-regularized refiner GAN of SimGAN (Shrivastava et al., CVPR 2017).

A generator R refines images of domain A so that a discriminator takes them for domain B, while an L1
"self-regularization" term keeps the refined image close to its input:

    loss_g = L_GAN(D(R(a)), real) + lambda_reg * ||R(a) - a||_1          (SimGAN, Eq. 1-4)
    loss_d = 0.5 * (L_GAN(D(b), real) + L_GAN(D(R(a)), fake))

It reuses gan-style's parts: networks from ``gan_style.nets``, losses from the registry, the unpaired data
module, and ``GanStyleModule`` for predict, sample grids, evaluation metrics and exact resume. Its
``stylizer()`` hook makes it a full citizen of the inference side: stylize (whole and tiled), export and
compare work for it with no change inside gan-style. Train and use it with

    PYTHONPATH=examples gan-style fit --config examples/custom_method.yaml
    PYTHONPATH=examples gan-style stylize --import custom_method --checkpoint runs/custom_method/checkpoints/last.ckpt \
        --content examples/data/photo2painting/testA --tile 64
    PYTHONPATH=examples gan-style export --import custom_method --checkpoint runs/custom_method/checkpoints/last.ckpt

(``PYTHONPATH`` makes this file importable; ``--import`` makes the method known to commands that read its
checkpoints, which never import code by themselves. A method inside an installed package can declare itself
under the entry-point group ``gan_style.methods`` instead.)
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from gan_style.inference import GeneratorStylizer
from gan_style.losses import create_loss
from gan_style.methods import GanStyleModule, LinearDecay
from gan_style.nets import NLayerDiscriminator, ResnetGenerator


class SelfRegularizedGAN(GanStyleModule):
    """SimGAN-style refiner: A -> B with an L1 pull towards the input.

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1] (``UnpairedImageDataModule``).

    Args:
        generator: the refiner R (default ``ResnetGenerator(n_blocks=6)``).
        discriminator: D (default 70x70 ``NLayerDiscriminator``).
        gan_mode: any registry GAN mode (``lsgan``).
        lambda_reg: weight of the self-regularization L1 term (10.0).
        lr: Adam rate for both networks (2e-4), betas (0.5, 0.999).
        n_epochs: epochs at the initial rate (100), then ``n_epochs_decay`` epochs of linear decay to 0 (100).
        n_epochs_decay: see ``n_epochs``.
    """

    #: what gan-style's EvaluationMetrics callback computes from evaluation_images()
    evaluation_metrics = ("fid", "kid", "lpips")
    #: the names stylizer() accepts (export --network), the default first
    stylizer_networks = ("generator",)

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        gan_mode: str = "lsgan",
        lambda_reg: float = 10.0,
        lr: float = 2e-4,
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
    ) -> None:
        super().__init__()
        self.check_settings({"lambda_reg": lambda_reg, "lr": lr})
        self.save_hyperparameters_plain()  # typed arguments -> checkpoint hyper-parameters (no network objects)
        self.automatic_optimization = False  # GANs step their two optimizers by hand
        self.generator = generator if generator is not None else ResnetGenerator(n_blocks=6)
        self.discriminator = discriminator if discriminator is not None else NLayerDiscriminator()
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)  # losses come from the registry by name
        self.reg_loss = create_loss("l1")

    def generator_loss(self, real_a: Tensor, refined: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        adv = self.gan_loss.generator_loss(self.discriminator(refined))
        reg = self.reg_loss(refined, real_a)
        loss = adv + self.hparams.lambda_reg * reg
        return loss, {"loss_g": loss.detach(), "loss_adv": adv.detach(), "loss_reg": reg.detach()}

    def discriminator_loss(self, real_b: Tensor, refined: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        loss, logs = self.gan_loss.discriminator_loss(self.discriminator, real_b, refined, scale=0.5)
        return loss, {"loss_d": loss.detach(), **logs}

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        opt_g, opt_d = self.optimizers()
        refined = self.generator(batch["A"])
        with self.toggled_optimizer(opt_g):
            loss_g, logs_g = self.generator_loss(batch["A"], refined)
            self.backward_step(opt_g, loss_g, logs_g)
        with self.toggled_optimizer(opt_d):
            loss_d, logs_d = self.discriminator_loss(batch["B"], refined)
            self.backward_step(opt_d, loss_d, logs_d)
        self.log_dict(
            {f"train/{k}": v for k, v in {**logs_g, **logs_d}.items()}, prog_bar=True, batch_size=batch["A"].shape[0]
        )
        self.step_schedulers_at_epoch_end()  # manual optimization: Lightning leaves the schedulers to us

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        refined = self.generator(batch["A"])
        _, logs = self.generator_loss(batch["A"], refined)
        self.log_dict({f"val/{k}": v for k, v in logs.items()}, batch_size=batch["A"].shape[0])

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        with torch.no_grad():
            return {"real_A": batch["A"], "refined": self.generator(batch["A"]), "real_B": batch["B"]}

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """generated R(a) against real B images (FID / KID), content a (LPIPS); each (N, 3, H, W) in [-1, 1]."""
        return {"generated": self.generator(batch["A"]), "reference": batch["B"], "content": batch["A"]}

    def stylizer(self, network: str | None = None) -> GeneratorStylizer:
        """The inference hook: R as a stylizer, (N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1]; its size
        multiple (4) comes from the ResnetGenerator. stylize, tiles, export, compare and predict use it."""
        self.check_stylizer_network(network)
        return GeneratorStylizer(self.generator, name="SelfRegularizedGAN refiner")

    def configure_optimizers(self):
        opt_g = self.adam(self.generator.parameters(), self.hparams.lr, (0.5, 0.999))
        opt_d = self.adam(self.discriminator.parameters(), self.hparams.lr, (0.5, 0.999))
        decay = LinearDecay(self.hparams.n_epochs, self.hparams.n_epochs_decay)
        return [opt_g, opt_d], [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
