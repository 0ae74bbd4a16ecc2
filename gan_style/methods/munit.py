"""MUNIT: multimodal unsupervised image-to-image translation (Huang, Liu, Belongie & Kautz, ECCV 2018), as the
authors' code trains it (github.com/NVlabs/MUNIT, ``trainer.py`` ``MUNIT_Trainer``).

Each domain has an auto-encoder (:class:`~gan_style.nets.munit.MUNITGenerator`) that splits an image into a content
code c, shared by the domains, and a style code s, specific to the domain, with the prior N(0, I). Translation A -> B
decodes A's content code with B's decoder and a style code of B: one drawn at random (diverse outputs) or one
encoded from an example image (example-guided).

Names in this file, the paper and the code:

=======================  =================  =====================  ==============================================
this code                paper              the code               role
=======================  =================  =====================  ==============================================
``generator_a``          E^c_1, E^s_1, G_1  ``gen_a``              auto-encoder of domain A
``generator_b``          E^c_2, E^s_2, G_2  ``gen_b``              auto-encoder of domain B
``discriminator_a``      D_1                ``dis_a``              judges domain A: x_a against x_ba = G_1(c_b, s_a)
``discriminator_b``      D_2                ``dis_b``              judges domain B: x_b against x_ab = G_2(c_a, s_b)
``gan_w``                (1)                ``gan_w``              adversarial weight (1)
``recon_x_w``            lambda_x           ``recon_x_w``          image reconstruction weight (10)
``recon_c_w``            lambda_c           ``recon_c_w``          content reconstruction weight (1)
``recon_s_w``            lambda_s           ``recon_s_w``          style reconstruction weight (1)
``recon_x_cyc_w``        --                 ``recon_x_cyc_w``      style-augmented cycle weight (0 edges2shoes, 10
                                                                   summer2winter)
``vgg_w``                --                 ``vgg_w``              domain-invariant perceptual loss weight (0)
=======================  =================  =====================  ==============================================

Losses, for x_a in A, x_b in B, s_a, s_b ~ N(0, I) (Eq. 1-5; ``L_GAN`` is the registry's ``GANLoss`` summed over the
discriminators' scales, least squares in every config; ``|.|`` the mean absolute difference):

- encode: ``(c_a, s_a') = E_1(x_a)``, ``(c_b, s_b') = E_2(x_b)``; translate: ``x_ba = G_1(c_b, s_a)``,
  ``x_ab = G_2(c_a, s_b)``; encode again: ``(c_b^, s_a^) = E_1(x_ba)``, ``(c_a^, s_b^) = E_2(x_ab)``;
- image reconstruction (Eq. 1): ``L_x = |G_1(c_a, s_a') - x_a| + |G_2(c_b, s_b') - x_b|``;
- latent reconstruction (Eq. 2-3, registry ``latent_l1``): ``L_c = |c_b^ - c_b| + |c_a^ - c_a|``,
  ``L_s = |s_a^ - s_a| + |s_b^ - s_b|``;
- style-augmented cycle (the code's ``recon_x_cyc_w`` term): ``L_cyc = |G_1(c_a^, s_a') - x_a| + |G_2(c_b^, s_b') - x_b|``;
- domain-invariant perceptual (the code's ``vgg_w`` term, optional): ``L_vgg = mse(IN(f(x_ba)), IN(f(x_b))) + mse(IN(f(x_ab)),
  IN(f(x_a)))`` with f VGG-16 relu5_3 features and IN instance normalization;
- ``loss_g = gan_w (L_GAN(D_1(x_ba)) + L_GAN(D_2(x_ab))) + recon_x_w L_x + recon_c_w L_c + recon_s_w L_s
  + recon_x_cyc_w L_cyc + vgg_w L_vgg`` (Eq. 5);
- ``loss_d = gan_w (L(D_1(x_a), real) + L(D_1(x_ba), fake) + L(D_2(x_b), real) + L(D_2(x_ab), fake))``, with new
  style codes and the fakes detached (the code's ``dis_update``).

Optimization, as the code's ``train.py``: per batch one discriminator step then one generator step (both generators
in one Adam, both discriminators in another), Adam(lr 1e-4, betas (0.5, 0.999), weight decay 1e-4), the learning
rate halved every 100,000 batches (``StepLR``, stepped after each batch; the code steps before each batch, so its
rate halves one batch earlier). ``trainer.global_step`` counts optimizer steps: two per batch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gan_style.inference.munit import MUNITStylizer, random_style_code
from gan_style.losses import create_loss
from gan_style.methods.base import GanStyleModule, NonFinitePolicy
from gan_style.nets.munit import MultiScaleDiscriminator, MUNITGenerator, load_reference_pair
from gan_style.nets.vgg import VGGFeatures

__all__ = [
    "MUNIT",
    "MultiScaleGanMode",
    "TwoDomainAutoencoderGAN",
    "check_reference_checkpoints",
    "multiscale_discriminator_loss",
    "multiscale_generator_loss",
    "munit_optimizers",
]

#: Adversarial objectives of the multi-scale discriminator: ``lsgan`` (least squares, the code's ``lsgan``),
#: ``vanilla`` (non-saturating cross-entropy, the code's ``nsgan``), ``hinge``.
MultiScaleGanMode = Literal["lsgan", "vanilla", "hinge"]
NETWORKS = ("generator_a", "generator_b", "discriminator_a", "discriminator_b")


# --- pieces MUNIT and UNIT share (UNIT imports them from here) ----------------------------------------------------


def check_gan_mode(gan_mode: str) -> None:
    """Refuse an objective the multi-scale losses do not take.

    Raises:
        ValueError: ``gan_mode`` not ``lsgan``, ``vanilla`` or ``hinge`` (``wgangp``'s penalty is defined for one
            score map, not a sum over scales).
    """
    if gan_mode not in ("lsgan", "vanilla", "hinge"):
        raise ValueError(f"gan_mode must be lsgan, vanilla (the code's nsgan) or hinge, got {gan_mode!r}")


def multiscale_generator_loss(gan_loss: nn.Module, outputs: Sequence[Tensor]) -> Tensor:
    """The generator's adversarial term: the sum over the discriminator's scales of ``gan_loss.generator_loss``
    (the code's ``calc_gen_loss``: for lsgan ``sum_s mean((D_s(fake) - 1)^2)``). A scalar tensor."""
    return sum(gan_loss.generator_loss(out) for out in outputs)


def multiscale_discriminator_loss(
    gan_loss: nn.Module, fake_outputs: Sequence[Tensor], real_outputs: Sequence[Tensor]
) -> Tensor:
    """The discriminator's loss summed over its scales (the code's ``calc_dis_loss``: for lsgan
    ``sum_s mean(D_s(fake)^2) + mean((D_s(real) - 1)^2)``). A scalar tensor."""
    return sum(gan_loss(f, False) + gan_loss(r, True) for f, r in zip(fake_outputs, real_outputs))


def check_reference_checkpoints(files: dict[str, str] | None) -> None:
    """Refuse ``reference_checkpoints`` keys other than ``gen`` and ``dis``.

    Raises:
        ValueError: an unknown key.
    """
    unknown = sorted(set(files or {}) - {"gen", "dis"})
    if unknown:
        raise ValueError(
            f"reference_checkpoints takes the keys gen and dis (the code's gen_XXXXXXXX.pt / dis_XXXXXXXX.pt), "
            f"got {unknown}"
        )


def munit_optimizers(module: GanStyleModule) -> tuple[list[torch.optim.Adam], list[Any]]:
    """The code's optimizers and schedules for ``module`` (MUNIT or UNIT): Adam over both generators and Adam over
    both discriminators, with ``lr``, ``betas`` and ``weight_decay`` from its settings (torch's fused kernel on
    CUDA), each with ``StepLR(step_size, gamma)``, stepped once per training batch by the method."""
    hp = module.hparams

    def adam(params: Any) -> torch.optim.Adam:
        params = list(params)
        fused = bool(params) and all(p.is_cuda and p.is_floating_point() for p in params)
        return torch.optim.Adam(
            params, lr=hp.lr, betas=tuple(hp.betas), weight_decay=hp.weight_decay, fused=True if fused else None
        )

    opt_g = adam(itertools.chain(module.generator_a.parameters(), module.generator_b.parameters()))
    opt_d = adam(itertools.chain(module.discriminator_a.parameters(), module.discriminator_b.parameters()))
    schedulers = [torch.optim.lr_scheduler.StepLR(opt, hp.step_size, hp.gamma) for opt in (opt_g, opt_d)]
    return [opt_g, opt_d], schedulers


def step_schedulers_every_batch(module: GanStyleModule) -> None:
    """Step every learning-rate scheduler of ``module`` once (call at the end of ``training_step``, so a checkpoint
    written after the batch holds the stepped schedulers)."""
    schedulers = module.lr_schedulers()
    for scheduler in schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []:
        scheduler.step()


def perceptual_distance(vgg: nn.Module, norm: nn.Module, image: Tensor, target: Tensor) -> Tensor:
    """The domain-invariant perceptual loss (the code's ``compute_vgg_loss``): mean squared
    difference of the instance-normalized relu5_3 features of ``image`` and ``target`` (N, 3, H, W) in [-1, 1]."""
    a = vgg(image, ["relu5_3"])["relu5_3"]
    b = vgg(target, ["relu5_3"])["relu5_3"]
    return torch.mean((norm(a) - norm(b)) ** 2)


def check_settings_common(module: GanStyleModule, weights: dict[str, float], step_size: int) -> None:
    """Refuse negative or NaN loss weights, ``lr``, ``weight_decay``, ``gamma`` (in ``weights``) and a
    ``step_size`` that is not an integer >= 1.

    Raises:
        ValueError: naming the setting.
    """
    module.check_settings(weights)
    if isinstance(step_size, bool) or not isinstance(step_size, int) or step_size < 1:
        raise ValueError(f"step_size (batches between learning-rate decays) must be an integer >= 1, got {step_size!r}")


class TwoDomainAutoencoderGAN(GanStyleModule):
    """What MUNIT and UNIT share (Liu et al. 2017; Huang et al. 2018, and the authors' NVlabs/MUNIT trainers): an
    auto-encoder and a multi-scale discriminator per domain, a discriminator step then a generator step per batch
    (manual optimization, as the code's ``dis_update`` / ``gen_update``), the learning rate decayed every
    ``step_size`` batches, the authors' checkpoints loaded at ``setup``, and ``a_to_b`` / ``b_to_a`` stylizers.

    A subclass gives :attr:`stylizer_class` and the algorithm: :meth:`draws` (the random numbers of one step),
    ``translations(real_a, real_b, *draws)`` (the discriminator step's fakes), ``cycle(real_a, real_b, *draws)``,
    ``generator_loss`` and ``discriminator_loss``.
    """

    stylizer_networks = ("a_to_b", "b_to_a")
    #: The stylizer class of :meth:`stylizer`, built as ``stylizer_class(source, target, name=...)``.
    stylizer_class: type = MUNITStylizer

    def init_networks(
        self,
        generators: tuple[nn.Module | None, nn.Module | None],
        discriminators: tuple[nn.Module | None, nn.Module | None],
        default_generator: type[nn.Module],
        vgg_w: float,
        vgg_weights: str | None,
    ) -> None:
        """Set ``generator_a`` / ``generator_b`` (None: ``default_generator()``), ``discriminator_a`` /
        ``discriminator_b`` (None: ``MultiScaleDiscriminator()``), the GAN and L1 losses (``hparams.gan_mode``),
        and, with ``vgg_w > 0``, the frozen VGG-16 relu5_3 of the perceptual loss.

        Raises:
            ValueError: one module given twice.
        """
        self.generator_a, self.generator_b = (g if g is not None else default_generator() for g in generators)
        self.discriminator_a, self.discriminator_b = (
            d if d is not None else MultiScaleDiscriminator() for d in discriminators
        )
        if self.generator_a is self.generator_b or self.discriminator_a is self.discriminator_b:
            raise ValueError(
                f"{type(self).__name__} needs two distinct generators and two distinct discriminators, got one "
                "module twice"
            )
        self.gan_loss = create_loss("gan", gan_mode=self.hparams.gan_mode)
        self.recon_loss = create_loss("l1")
        self.frozen_networks = {}
        if vgg_w > 0:
            self.vgg = VGGFeatures(["relu5_3"], weights=vgg_weights, defer=True, arch="vgg16")
            self.feature_norm = nn.InstanceNorm2d(512, affine=False)
            self.frozen_networks = {"vgg": "vgg_weights"}

    def draws(self, real_a: Tensor, generator: torch.Generator | None = None) -> tuple[Any, ...]:
        """The random inputs of one step's translations, passed after the images to ``translations`` and ``cycle``:
        drawn from the global generator (training) or from ``generator`` (evaluation)."""
        raise NotImplementedError(f"{type(self).__name__} defines no draws(real_a, generator)")

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real_a, real_b = batch["A"], batch["B"]
        opt_g, opt_d = self.optimizers()
        with self.toggled_optimizer(opt_d):  # the code's dis_update: fresh draws, fakes without a graph
            drawn = self.draws(real_a)
            with torch.no_grad():
                fake_a, fake_b = self.translations(real_a, real_b, *drawn)
            loss_d, logs_d = self.discriminator_loss(real_a, real_b, fake_a, fake_b)
            self.backward_step(opt_d, loss_d, logs_d)
        with self.toggled_optimizer(opt_g):  # the code's gen_update
            out = self.cycle(real_a, real_b, *self.draws(real_a))
            loss_g, logs_g = self.generator_loss(real_a, real_b, out)
            self.backward_step(opt_g, loss_g, logs_g)
        step_schedulers_every_batch(self)
        logs = {**logs_g, **logs_d}
        n = real_a.shape[0]
        self.log_dict({f"train/{k}": v for k, v in logs.items() if k not in ("loss_g", "loss_d")}, batch_size=n)
        self.log_dict({f"train/{k}": logs[k] for k in ("loss_g", "loss_d")}, prog_bar=True, batch_size=n)

    def _evaluate(self, batch: dict[str, Any], prefix: str) -> None:
        real_a, real_b = batch["A"], batch["B"]
        out = self.cycle(real_a, real_b, *self.draws(real_a, torch.Generator().manual_seed(0)))
        _, logs_g = self.generator_loss(real_a, real_b, out)
        _, logs_d = self.discriminator_loss(real_a, real_b, out["fake_A"], out["fake_B"])
        self.log_dict({f"{prefix}/{k}": v for k, v in {**logs_g, **logs_d}.items()}, batch_size=real_a.shape[0])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    # --- inference -----------------------------------------------------------------------------------------------
    def stylizer(self, network: str | None = None) -> Any:
        """``a_to_b`` (the default) or ``b_to_a`` as a :attr:`stylizer_class` (a
        :class:`~gan_style.inference.munit.MUNITStylizer` or :class:`~gan_style.inference.munit.UNITStylizer`).

        Raises:
            ValueError: another ``network`` name.
        """
        name = self.check_stylizer_network(network)
        source, target = (
            (self.generator_a, self.generator_b) if name == "a_to_b" else (self.generator_b, self.generator_a)
        )
        return self.stylizer_class(source, target, name=f"{type(self).__name__} {name}")

    def translate(self, batch: dict[str, Any]) -> tuple[Tensor, list[str]]:
        """A batch with ``"A"`` goes A -> B, one with ``"B"`` B -> A, through :meth:`stylizer` (MUNIT: the random
        style code of seed 0, sample 0).

        Raises:
            KeyError: neither key in the batch.
        """
        for key, network in (("A", "a_to_b"), ("B", "b_to_a")):
            if key in batch:
                images = self.stylize_batch(self.stylizer(network), batch[key], size=self.predict_size())
                return images, batch.get(f"{key}_path", [])
        raise KeyError(f"{type(self).__name__}.translate needs a batch with key 'A' or 'B', got keys {sorted(batch)}")

    # --- Lightning plumbing --------------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Frozen networks and sizes as every method, then ``reference_checkpoints`` once."""
        super().setup(stage)
        load_reference_checkpoints(self)

    def configure_optimizers(self):
        return munit_optimizers(self)


class MUNIT(TwoDomainAutoencoderGAN):
    """MUNIT as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1] for training, validation and test; ``{"A": ...}``
    (translated A -> B) or ``{"B": ...}`` (B -> A) for predict, each with a random style code of seed 0.
    H and W: multiples of the generators' ``size_multiple`` (4) and at least the discriminators' ``min_size`` (64
    at the defaults).

    Logged: ``train/loss_g``, ``train/loss_d`` and their terms (``loss_g_adv_a``, ``loss_g_adv_b``,
    ``loss_recon_x_a``, ``loss_recon_x_b``, ``loss_recon_s_a``, ``loss_recon_s_b``, ``loss_recon_c_a``,
    ``loss_recon_c_b``, with ``recon_x_cyc_w > 0`` ``loss_cyc_x_a``, ``loss_cyc_x_b``, with ``vgg_w > 0``
    ``loss_vgg_a``, ``loss_vgg_b``; ``loss_d_a``, ``loss_d_b``, before ``gan_w``); the same under ``val/`` and
    ``test/``, with style codes from a fixed seed.

    Args:
        generator_a: auto-encoder of domain A; default ``MUNITGenerator()`` (the configs' ``gen``: dim 64, style_dim
            8, n_downsample 2, n_res 4, mlp_dim 256, relu, reflect padding, Kaiming init).
        generator_b: auto-encoder of domain B; default ``MUNITGenerator()``, a module distinct from ``generator_a``
            with the same ``style_dim``.
        discriminator_a: judges domain A; default ``MultiScaleDiscriminator()`` (dim 64, n_layer 4, 3 scales, no
            norm, lrelu, reflect padding, N(0, 0.02) init).
        discriminator_b: judges domain B; default ``MultiScaleDiscriminator()``, distinct from ``discriminator_a``.
        gan_mode: ``lsgan`` (default, every config), ``vanilla`` (the code's ``nsgan``) or ``hinge``.
        gan_w: adversarial weight (1).
        recon_x_w: image reconstruction weight lambda_x (10).
        recon_s_w: style reconstruction weight lambda_s (1).
        recon_c_w: content reconstruction weight lambda_c (1).
        recon_x_cyc_w: style-augmented cycle weight (0 as in edges2shoes; 10 in summer2winter / synthia2cityscape;
            0 skips two decoder passes).
        vgg_w: domain-invariant perceptual loss weight (0; 1 in the code's synthia2cityscape config). Needs VGG-16
            weights (``vgg_weights``).
        vgg_weights: the VGG-16 of the perceptual loss when ``vgg_w > 0``: ``"imagenet"`` (torchvision's weights,
            downloaded once), a weights file, or None (random, for tests). Unused when ``vgg_w`` is 0.
        lr: Adam learning rate (1e-4).
        betas: Adam betas ((0.5, 0.999)).
        weight_decay: Adam weight decay (1e-4, an L2 term added to the gradients, as ``torch.optim.Adam``).
        step_size: training batches between learning-rate decays (100,000).
        gamma: factor of each decay (0.5).
        reference_checkpoints: optional files of the authors' code loaded at ``setup`` (before a Lightning
            checkpoint given with ``ckpt_path``): ``{"gen": "gen_01000000.pt", "dis": "dis_01000000.pt"}`` or a
            published model such as ``{"gen": "edges2shoes.pt"}``; each holds ``{"a": ..., "b": ...}``.
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a loss is NaN
            or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).

    Raises:
        ValueError: a negative or NaN weight, ``lr``, ``weight_decay`` or ``gamma``; ``step_size`` below 1; an
            unsupported ``gan_mode``; the same module twice; generators of different ``style_dim``; an unknown
            ``reference_checkpoints`` key.
    """

    evaluation_metrics = ("fid", "kid", "lpips")

    def __init__(
        self,
        generator_a: nn.Module | None = None,
        generator_b: nn.Module | None = None,
        discriminator_a: nn.Module | None = None,
        discriminator_b: nn.Module | None = None,
        gan_mode: MultiScaleGanMode = "lsgan",
        gan_w: float = 1.0,
        recon_x_w: float = 10.0,
        recon_s_w: float = 1.0,
        recon_c_w: float = 1.0,
        recon_x_cyc_w: float = 0.0,
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
        weights = {"gan_w": gan_w, "recon_x_w": recon_x_w, "recon_s_w": recon_s_w, "recon_c_w": recon_c_w}
        weights.update(recon_x_cyc_w=recon_x_cyc_w, vgg_w=vgg_w, lr=lr, weight_decay=weight_decay, gamma=gamma)
        check_settings_common(self, weights, step_size)
        check_gan_mode(gan_mode)
        check_reference_checkpoints(reference_checkpoints)
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.init_networks(
            (generator_a, generator_b), (discriminator_a, discriminator_b), MUNITGenerator, vgg_w, vgg_weights
        )
        self.style_dim = int(self.generator_a.style_dim)
        if int(self.generator_b.style_dim) != self.style_dim:
            raise ValueError(
                f"generator_a and generator_b must have one style_dim, got {self.style_dim} and "
                f"{self.generator_b.style_dim}"
            )
        self.latent_loss = create_loss("latent_l1")
        self._evaluation_calls = 0

    # --- the algorithm -----------------------------------------------------------------------------------------
    def random_styles(self, n: int, like: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """Style codes (s_a, s_b), each (n, style_dim, 1, 1) from N(0, I), float32 on ``like``'s device: from the
        global generator (training, as the code's ``torch.randn``), or from ``generator`` (on the CPU) when given."""
        shape = (n, self.style_dim, 1, 1)
        if generator is None:
            return torch.randn(shape, device=like.device), torch.randn(shape, device=like.device)
        s_a, s_b = torch.randn(shape, generator=generator), torch.randn(shape, generator=generator)
        return s_a.to(like.device), s_b.to(like.device)

    def draws(self, real_a: Tensor, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
        """The style codes (s_a, s_b) of one step (:meth:`random_styles`, one per image of ``real_a``)."""
        return self.random_styles(real_a.shape[0], real_a, generator)

    def cycle(self, real_a: Tensor, real_b: Tensor, s_a: Tensor, s_b: Tensor) -> dict[str, Tensor]:
        """Every image and code of the generator step (the code's ``gen_update``), for style codes ``s_a``, ``s_b``
        (N, style_dim, 1, 1): ``c_a``, ``s_a_prime``, ``rec_A``, ``fake_A`` (x_ba), ``c_b_rec``, ``s_a_rec``, the
        same for B, and with ``recon_x_cyc_w > 0`` ``cyc_A`` (x_aba), ``cyc_B``."""
        c_a, s_a_prime = self.generator_a.encode(real_a)
        c_b, s_b_prime = self.generator_b.encode(real_b)
        out = {"c_a": c_a, "c_b": c_b, "s_a": s_a, "s_b": s_b, "s_a_prime": s_a_prime, "s_b_prime": s_b_prime}
        out["rec_A"] = self.generator_a.decode(c_a, s_a_prime)
        out["rec_B"] = self.generator_b.decode(c_b, s_b_prime)
        out["fake_A"] = self.generator_a.decode(c_b, s_a)  # x_ba
        out["fake_B"] = self.generator_b.decode(c_a, s_b)  # x_ab
        out["c_b_rec"], out["s_a_rec"] = self.generator_a.encode(out["fake_A"])
        out["c_a_rec"], out["s_b_rec"] = self.generator_b.encode(out["fake_B"])
        if self.hparams.recon_x_cyc_w > 0:
            out["cyc_A"] = self.generator_a.decode(out["c_a_rec"], s_a_prime)  # x_aba
            out["cyc_B"] = self.generator_b.decode(out["c_b_rec"], s_b_prime)  # x_bab
        return out

    def generator_loss(
        self, real_a: Tensor, real_b: Tensor, out: dict[str, Tensor]
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g`` (Eq. 5, the code's ``loss_gen_total``) for the outputs ``out`` of :meth:`cycle`; returns
        (loss, logs)."""
        hp = self.hparams
        logs = {
            "loss_g_adv_a": multiscale_generator_loss(self.gan_loss, self.discriminator_a(out["fake_A"])),
            "loss_g_adv_b": multiscale_generator_loss(self.gan_loss, self.discriminator_b(out["fake_B"])),
            "loss_recon_x_a": self.recon_loss(out["rec_A"], real_a),
            "loss_recon_x_b": self.recon_loss(out["rec_B"], real_b),
            "loss_recon_s_a": self.latent_loss(out["s_a_rec"], out["s_a"]),
            "loss_recon_s_b": self.latent_loss(out["s_b_rec"], out["s_b"]),
            "loss_recon_c_a": self.latent_loss(out["c_a_rec"], out["c_a"]),
            "loss_recon_c_b": self.latent_loss(out["c_b_rec"], out["c_b"]),
        }
        loss = (
            hp.gan_w * (logs["loss_g_adv_a"] + logs["loss_g_adv_b"])
            + hp.recon_x_w * (logs["loss_recon_x_a"] + logs["loss_recon_x_b"])
            + hp.recon_s_w * (logs["loss_recon_s_a"] + logs["loss_recon_s_b"])
            + hp.recon_c_w * (logs["loss_recon_c_a"] + logs["loss_recon_c_b"])
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

    def translations(self, real_a: Tensor, real_b: Tensor, s_a: Tensor, s_b: Tensor) -> tuple[Tensor, Tensor]:
        """(fake_A, fake_B) = (G_1(E^c_2(x_b), s_a), G_2(E^c_1(x_a), s_b)): the discriminator step's fakes."""
        fake_a = self.generator_a.decode(self.generator_b.encode_content(real_b), s_a)
        fake_b = self.generator_b.decode(self.generator_a.encode_content(real_a), s_b)
        return fake_a, fake_b

    def on_validation_epoch_start(self) -> None:
        self._evaluation_calls = 0

    def on_test_epoch_start(self) -> None:
        self._evaluation_calls = 0

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """A -> B with a random style per image (codes from a generator seeded with the number of the call in this
        validation, so every validation draws the same ones): generated against real_B (FID/KID), content = real_A
        (LPIPS)."""
        generator = torch.Generator().manual_seed(self._evaluation_calls)
        self._evaluation_calls += 1
        real_a = batch["A"]
        _, s_b = self.random_styles(real_a.shape[0], real_a, generator)
        fake_b = self.generator_b.decode(self.generator_a.encode_content(real_a), s_b)
        return {"generated": fake_b, "reference": batch["B"], "content": real_a}

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A, rec_A, fake_B_1, fake_B_2 (two styles of seed 0), real_B, rec_B, fake_A_1, fake_A_2, each
        (N, 3, H, W) in [-1, 1] (the code's ``sample`` grid, with fixed codes for both columns)."""
        real_a, real_b = batch["A"], batch["B"]
        images: dict[str, Tensor] = {}
        with torch.no_grad():
            for name, real, source, target in (
                ("A", real_a, self.generator_a, self.generator_b),
                ("B", real_b, self.generator_b, self.generator_a),
            ):
                other = "B" if name == "A" else "A"
                content, style = source.encode(real)
                images[f"real_{name}"] = real
                images[f"rec_{name}"] = source.decode(content, style)
                for k in range(2):
                    code = random_style_code(self.style_dim, 0, k).to(real.device).expand(real.shape[0], -1, -1, -1)
                    images[f"fake_{other}_{k + 1}"] = target.decode(content, code)
        return images


def load_reference_checkpoints(module: GanStyleModule) -> None:
    """Load ``module``'s ``reference_checkpoints`` (``gen`` into generator_a / generator_b, ``dis`` into the
    discriminators) once; nothing when the setting is empty. See
    :func:`gan_style.nets.munit.load_reference_pair` for the errors."""
    files = module.hparams.get("reference_checkpoints") or {}
    if not files or getattr(module, "_reference_checkpoints_loaded", False):
        return
    if "gen" in files:
        load_reference_pair(module.generator_a, module.generator_b, files["gen"])
    if "dis" in files:
        load_reference_pair(module.discriminator_a, module.discriminator_b, files["dis"])
    module._reference_checkpoints_loaded = True
