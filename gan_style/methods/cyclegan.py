"""CycleGAN: unpaired image-to-image translation with cycle consistency (Zhu et al., ICCV 2017).

Names in this file and in the paper / reference code:

=====================  ===========  ======================  =========================================
this code              paper        reference code          role
=====================  ===========  ======================  =========================================
``generator_ab``       G: X -> Y    ``netG_A``              translates domain A to domain B
``generator_ba``       F: Y -> X    ``netG_B``              translates domain B to domain A
``discriminator_a``    D_X          ``netD_B``              judges domain A: real_A vs fake_A = F(real_B)
``discriminator_b``    D_Y          ``netD_A``              judges domain B: real_B vs fake_B = G(real_A)
``lambda_cycle``       lambda       ``lambda_A``/``lambda_B``  cycle weight (10)
``lambda_identity``    (Sec. 5.2)   ``lambda_identity``     identity weight relative to lambda_cycle (0.5)
=====================  ===========  ======================  =========================================

Losses (x in A, y in B; ``L_GAN`` is the registry's ``GANLoss`` with ``gan_mode``, least squares by default,
Sec. 4 "Training details"):

- adversarial (Eq. 1): ``L_GAN(G, D_Y) + L_GAN(F, D_X)``; with lsgan the generators minimise
  ``E_x[(D_Y(G(x)) - 1)^2] + E_y[(D_X(F(y)) - 1)^2]``;
- cycle consistency (Eq. 2): ``L_cyc = E_x[||F(G(x)) - x||_1] + E_y[||G(F(y)) - y||_1]``;
- identity (Sec. 5.2): ``L_idt = E_y[||G(y) - y||_1] + E_x[||F(x) - x||_1]``;
- full generator objective (Eq. 3 plus identity):
  ``loss_g = L_GAN(G, D_Y) + L_GAN(F, D_X) + lambda_cycle * L_cyc + lambda_cycle * lambda_identity * L_idt``;
- discriminators, halved as in the reference code and fed from a history pool of 50 fakes:
  ``loss_d = 0.5 * (L(D_X(x), real) + L(D_X(pool(F(y))), fake)) + 0.5 * (L(D_Y(y), real) + L(D_Y(pool(G(x))), fake))``;
  for ``wgangp`` each half includes the gradient penalty, ``0.5 * (-D(real) + D(fake) + 10 * GP)``, so the
  penalty weight is Gulrajani et al.'s lambda = 10 relative to the critic terms.

Optimization: Adam(lr 2e-4, betas (0.5, 0.999)) for both generators together and both discriminators
together; one generator step then one discriminator step per batch (with ``n_critic > 1`` the generator
step only on every ``n_critic``-th batch); learning rate constant for ``n_epochs`` then linearly decayed to
0 over ``n_epochs_decay`` (100 + 100 in the paper).

Small datasets: ``diffaugment`` (off by default) passes every image the discriminators judge, real and generated
(from the pool or not), in their update and in the generators', through DiffAugment (Zhao et al. 2020;
:mod:`gan_style.losses.augment`): ``D_Y(T(y))``, ``D_Y(T(G(x)))`` ..., with ``T`` drawn anew for each call.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
from torch import Tensor, nn

from gan_style.inference.stylizer import GeneratorStylizer
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
from gan_style.methods.image_pool import ImagePool
from gan_style.nets import NLayerDiscriminator, ResnetGenerator

__all__ = ["CycleGAN"]

NETWORKS = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")


class CycleGAN(GanStyleModule):
    """CycleGAN as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1] for training, validation and test;
    ``{"A": ...}`` (translated by ``generator_ab``) or ``{"B": ...}`` (by ``generator_ba``) for predict.

    Logged: ``train/loss_g``, ``train/loss_d`` and their terms (``loss_g_ab``, ``loss_g_ba``,
    ``loss_cycle_a``, ``loss_cycle_b``, ``loss_idt_a``, ``loss_idt_b``, ``loss_d_a``, ``loss_d_b``); the same
    under ``val/`` and ``test/`` (computed without the pool, the gradient penalty or updates).

    ``trainer.global_step`` counts optimizer steps: two per batch (generators, then discriminators) at
    ``n_critic=1``; in general ``n_critic + 1`` per ``n_critic`` batches, and ``trainer.max_steps`` counts
    these steps too (training stops after the first batch at which ``global_step`` reaches it). On a batch
    without a generator step nothing of ``loss_g`` is logged.

    Args:
        generator_ab: G, translating domain A to domain B; default ``ResnetGenerator()`` (resnet_9blocks,
            instance norm). In a recipe, give a ``class_path`` and ``init_args``.
        generator_ba: F, translating domain B to domain A; default ``ResnetGenerator()`` (resnet_9blocks,
            instance norm), a module distinct from ``generator_ab``.
        discriminator_a: D_X, judging domain A (real_A against F(real_B)); default ``NLayerDiscriminator()``
            (70x70 PatchGAN, instance norm).
        discriminator_b: D_Y, judging domain B (real_B against G(real_A)); default ``NLayerDiscriminator()``
            (70x70 PatchGAN, instance norm), a module distinct from ``discriminator_a``.
        gan_mode: ``vanilla | lsgan | wgangp | hinge`` (lsgan, as in the paper). With ``wgangp`` the
            discriminators should not use batch norm (a warning says so; the default instance norm is fine),
            and ``n_critic: 5`` follows Gulrajani et al. 2017.
        lambda_cycle: weight of the cycle-consistency loss (10, Eq. 3).
        lambda_identity: identity weight relative to ``lambda_cycle`` (0.5; 0 disables it and saves two
            generator passes). Needs equal input and output channels.
        cycle_loss: registry name of the cycle and identity loss (``l1``).
        pool_size: image history per discriminator (50; 0 disables).
        lr: Adam learning rate (2e-4).
        betas: Adam betas ((0.5, 0.999)).
        n_epochs: epochs at the initial learning rate (100, as in the paper).
        n_epochs_decay: epochs over which the learning rate then decays linearly to 0 (100, as in the paper).
        reference_weights: optional map of network name (``generator_ab`` ...) to a weights file of the
            reference CycleGAN code, loaded at ``setup`` (e.g. ``{"generator_ab": "latest_net_G_A.pth",
            "discriminator_b": "latest_net_D_A.pth"}``; the model zoo's ``latest_net_G.pth`` is a
            ``generator_ab``). A Lightning checkpoint given with ``ckpt_path`` is restored after them.
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a
            loss is NaN or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).
        n_critic: discriminator (critic) steps per generator step (default 1: both every batch, as in the
            paper). The discriminators step on every batch, the generators on every ``n_critic``-th batch
            counted over the whole run (batches n_critic, 2 n_critic, ...), so between two generator steps
            the discriminators take ``n_critic`` steps (Gulrajani et al. 2017, Alg. 1 uses 5 with wgangp; as
            the generators step first within a batch, before the first generator step there are
            ``n_critic - 1``). Learning-rate schedules still follow epochs.
        diffaugment: DiffAugment policy for small datasets (Zhao et al. 2020): comma-separated ``color``,
            ``translation``, ``cutout`` (``"color,translation,cutout"`` is the paper's choice for 100 images or
            fewer). In training, every image either discriminator judges, real and generated, in the
            discriminators' and in the generators' update, is augmented, each call with its own random draws; the
            wgangp penalty is taken through it. Validation and test judge unaugmented images. None (default, the
            paper's recipe): no augmentation.

    Raises:
        ValueError: negative or NaN weights, ``n_critic`` not an integer >= 1, an unknown name in
            ``reference_weights``, an unknown ``diffaugment`` policy, or (in the first step)
            ``lambda_identity > 0`` with domains of different channel counts.
        KeyError: an unknown ``cycle_loss`` name.
    """

    #: The domain each network reads and writes (None: a score), from which ``gan-style fit`` gives it the data's
    #: channels as ``input_nc`` / ``output_nc`` (:func:`gan_style.commands.lightning_cli.link_network_channels`).
    network_channels = {
        "generator_ab": ("A", "B"),
        "generator_ba": ("B", "A"),
        "discriminator_a": ("A", None),
        "discriminator_b": ("B", None),
    }

    def __init__(
        self,
        generator_ab: nn.Module | None = None,
        generator_ba: nn.Module | None = None,
        discriminator_a: nn.Module | None = None,
        discriminator_b: nn.Module | None = None,
        gan_mode: GanMode = "lsgan",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        cycle_loss: str = "l1",
        pool_size: int = 50,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_epochs: int = 100,
        n_epochs_decay: int = 100,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
        n_critic: int = 1,
        diffaugment: str | None = None,
    ) -> None:
        super().__init__()
        self.check_settings(
            {"lambda_cycle": lambda_cycle, "lambda_identity": lambda_identity, "lr": lr}, reference_weights, NETWORKS
        )
        check_n_critic(n_critic)
        self.diffaugment = DiffAugment.from_setting(diffaugment)
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.generator_ab = generator_ab if generator_ab is not None else ResnetGenerator()
        self.generator_ba = generator_ba if generator_ba is not None else ResnetGenerator()
        self.discriminator_a = discriminator_a if discriminator_a is not None else NLayerDiscriminator()
        self.discriminator_b = discriminator_b if discriminator_b is not None else NLayerDiscriminator()
        if self.generator_ab is self.generator_ba or self.discriminator_a is self.discriminator_b:
            raise ValueError(
                "CycleGAN needs two distinct generators and two distinct discriminators, "
                "got the same module object twice"
            )

        warn_if_batch_norm_critic(
            gan_mode, {"discriminator_a": self.discriminator_a, "discriminator_b": self.discriminator_b}
        )
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)
        self.cycle_loss = create_loss(cycle_loss)
        self.n_critic = n_critic
        self.lambda_cycle = lambda_cycle
        self.lambda_identity = lambda_identity
        seed = torch.initial_seed() % (2**62)
        self.pool_a = ImagePool(pool_size, seed=seed)  # fakes of domain A, for discriminator_a
        self.pool_b = ImagePool(pool_size, seed=seed + 1)  # fakes of domain B, for discriminator_b

    # --- the algorithm -----------------------------------------------------------------------------------
    def forward(self, real_a: Tensor) -> Tensor:
        """Translate A -> B: (N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1]."""
        return self.generator_ab(real_a)

    def cycle(self, real_a: Tensor, real_b: Tensor) -> dict[str, Tensor]:
        """fake_B = G(real_A), rec_A = F(fake_B), fake_A = F(real_B), rec_B = G(fake_A)."""
        fake_b = self.generator_ab(real_a)
        fake_a = self.generator_ba(real_b)
        return {
            "fake_B": fake_b,
            "rec_A": self.generator_ba(fake_b),
            "fake_A": fake_a,
            "rec_B": self.generator_ab(fake_a),
        }

    def generator_loss(
        self, real_a: Tensor, real_b: Tensor, out: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g`` of Eq. 3 plus identity, for the outputs ``out`` of :meth:`cycle`; returns (loss, logs)."""
        judge_a = self.augmented_discriminator(self.discriminator_a)
        judge_b = self.augmented_discriminator(self.discriminator_b)
        logs = {
            "loss_g_ab": self.gan_loss.generator_loss(judge_b(out["fake_B"])),
            "loss_g_ba": self.gan_loss.generator_loss(judge_a(out["fake_A"])),
            "loss_cycle_a": self.cycle_loss(out["rec_A"], real_a),
            "loss_cycle_b": self.cycle_loss(out["rec_B"], real_b),
        }
        loss = logs["loss_g_ab"] + logs["loss_g_ba"] + self.lambda_cycle * (logs["loss_cycle_a"] + logs["loss_cycle_b"])
        if self.lambda_identity > 0:
            if real_a.shape[1] != real_b.shape[1]:
                raise ValueError(
                    "lambda_identity > 0 needs domains with equal channels (G(y) ~ y), got A with "
                    f"{real_a.shape[1]} and B with {real_b.shape[1]}; set lambda_identity: 0"
                )
            idt_b, idt_a = self.generator_ab(real_b), self.generator_ba(real_a)  # G(y) ~ y, F(x) ~ x
            logs["loss_idt_b"] = self.cycle_loss(idt_b, real_b)
            logs["loss_idt_a"] = self.cycle_loss(idt_a, real_a)
            loss = loss + self.lambda_cycle * self.lambda_identity * (logs["loss_idt_a"] + logs["loss_idt_b"])
        logs["loss_g"] = loss
        return loss, {k: v.detach() for k, v in logs.items()}

    def discriminator_loss(
        self, real_a: Tensor, real_b: Tensor, fake_a: Tensor, fake_b: Tensor, penalty: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_d`` for both discriminators (each halved, its wgangp gradient penalty included unless
        ``penalty=False``); returns (loss, logs)."""
        loss_fn = self.gan_loss.discriminator_loss
        judge_a = self.augmented_discriminator(self.discriminator_a)
        judge_b = self.augmented_discriminator(self.discriminator_b)
        loss_a, logs_a = loss_fn(judge_a, real_a, fake_a, scale=0.5, penalty=penalty)
        loss_b, logs_b = loss_fn(judge_b, real_b, fake_b, scale=0.5, penalty=penalty)
        loss = loss_a + loss_b
        logs = {"loss_d": loss.detach(), "loss_d_a": loss_a.detach(), "loss_d_b": loss_b.detach()}
        if "gp" in logs_a:
            logs["gp_a"], logs["gp_b"] = logs_a["gp"], logs_b["gp"]
        return loss, logs

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real_a, real_b = batch["A"], batch["B"]
        opt_g, opt_d = self.optimizers()
        logs_g: dict[str, Tensor] = {}
        if generator_step_due(self, self.n_critic):
            with self.toggled_optimizer(opt_g):  # discriminators frozen while the generators learn
                out = self.cycle(real_a, real_b)
                loss_g, logs_g = self.generator_loss(real_a, real_b, out)
                self.backward_step(opt_g, loss_g, logs_g)
        else:  # a critic-only batch: the fakes, without the cycle or a graph
            with torch.no_grad():
                out = {"fake_B": self.generator_ab(real_a), "fake_A": self.generator_ba(real_b)}
        with self.toggled_optimizer(opt_d):
            fake_a = self.pool_a.query(out["fake_A"])
            fake_b = self.pool_b.query(out["fake_B"])
            loss_d, logs_d = self.discriminator_loss(real_a, real_b, fake_a, fake_b)
            self.backward_step(opt_d, loss_d, logs_d)
        self.step_schedulers_at_epoch_end()
        logs = {**logs_g, **logs_d}
        batch_size = real_a.shape[0]
        self.log_dict(
            {f"train/{k}": v for k, v in logs.items() if k not in ("loss_g", "loss_d")}, batch_size=batch_size
        )
        self.log_dict(
            {f"train/{k}": logs[k] for k in ("loss_g", "loss_d") if k in logs}, prog_bar=True, batch_size=batch_size
        )

    def _evaluate(self, batch: dict[str, Any], prefix: str) -> None:
        real_a, real_b = batch["A"], batch["B"]
        out = self.cycle(real_a, real_b)
        _, logs_g = self.generator_loss(real_a, real_b, out)
        _, logs_d = self.discriminator_loss(real_a, real_b, out["fake_A"], out["fake_B"], penalty=False)
        self.log_dict({f"{prefix}/{k}": v for k, v in {**logs_g, **logs_d}.items()}, batch_size=real_a.shape[0])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    evaluation_metrics = ("fid", "kid", "lpips")

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """A -> B: generated = G(real_A) against real_B (FID/KID); content = real_A (LPIPS)."""
        return {"generated": self.generator_ab(batch["A"]), "reference": batch["B"], "content": batch["A"]}

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A, fake_B, rec_A, real_B, fake_A, rec_B, each (N, 3, H, W) in [-1, 1]."""
        with torch.no_grad():
            out = self.cycle(batch["A"], batch["B"])
        return {
            "real_A": batch["A"],
            "fake_B": out["fake_B"],
            "rec_A": out["rec_A"],
            "real_B": batch["B"],
            "fake_A": out["fake_A"],
            "rec_B": out["rec_B"],
        }

    # --- inference -----------------------------------------------------------------------------------------
    stylizer_networks = ("generator_ab", "generator_ba")

    def stylizer(self, network: str | None = None) -> GeneratorStylizer:
        """``generator_ab`` (A -> B, the default) or ``generator_ba`` (B -> A) as a
        :class:`~gan_style.inference.GeneratorStylizer`: (N, 3, H, W) in [-1, 1], H and W multiples of 4.

        Raises:
            ValueError: another ``network`` name.
        """
        name = self.check_stylizer_network(network)
        return GeneratorStylizer(getattr(self, name), name=f"CycleGAN {name}")

    def translate(self, batch: dict[str, Any]) -> tuple[Tensor, list[str]]:
        """A batch with ``"A"`` goes through ``generator_ab``, one with ``"B"`` through ``generator_ba``.

        Raises:
            KeyError: neither key in the batch.
        """
        for key, network in (("A", "generator_ab"), ("B", "generator_ba")):
            if key in batch:
                return self.stylize_batch(self.stylizer(network), batch[key], size=self.predict_size()), batch.get(
                    f"{key}_path", []
                )
        raise KeyError(f"CycleGAN.translate needs a batch with key 'A' or 'B', got keys {sorted(batch)}")

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = self.adam(
            itertools.chain(self.generator_ab.parameters(), self.generator_ba.parameters()), hp.lr, hp.betas
        )
        opt_d = self.adam(
            itertools.chain(self.discriminator_a.parameters(), self.discriminator_b.parameters()), hp.lr, hp.betas
        )
        decay = LinearDecay(hp.n_epochs, hp.n_epochs_decay)
        schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
        return [opt_g, opt_d], schedulers

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        checkpoint["image_pools"] = {"a": self.pool_a.state_dict(), "b": self.pool_b.state_dict()}

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        pools = checkpoint.get("image_pools")
        if pools is not None:
            self.pool_a.load_state_dict(pools["a"], self.device)
            self.pool_b.load_state_dict(pools["b"], self.device)
