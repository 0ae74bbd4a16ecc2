"""CUT, FastCUT and SinCUT: unpaired translation with a patchwise contrastive loss instead of a cycle (Park, Efros,
Zhang & Zhu, "Contrastive Learning for Unpaired Image-to-Image Translation", ECCV 2020, arXiv:2007.15651; code:
github.com/taesungp/contrastive-unpaired-translation).

One generator G: X -> Y and one discriminator D judging Y; no second generator, no cycle. PatchNCE makes a patch
of the output G(x) pick the input patch at the same location among other input patches, in feature space.

Names in this file and in the paper / reference code:

=========================  ===============  ==========================  ==========================================
this code                  paper            reference code              role
=========================  ===============  ==========================  ==========================================
``generator``              G = G_dec(G_enc)  ``netG``                    translates A to B; its layers give z_l
``discriminator``          D                ``netD``                    judges domain B: real_B vs G(real_A)
``patch_head``             H_l              ``netF`` (``mlp_sample``)   samples patches, 2-layer MLP, L2 norm
``nce_layers``             l in {1..L}      ``nce_layers``              layers of G whose features PatchNCE uses
``lambda_gan``             (Eq. 5) 1        ``lambda_GAN``              weight of the adversarial term
``lambda_nce``             lambda_X         ``lambda_NCE``              weight of PatchNCE (1 CUT, 10 FastCUT)
``nce_idt``                lambda_Y > 0     ``nce_idt``                 identity PatchNCE on y -> G(y)
``nce_T``                  tau              ``nce_T``                   temperature (0.07)
``num_patches``            S                ``num_patches``             locations per layer and image (256)
``flip_equivariance``      (Sec. 4 FastCUT)  ``flip_equivariance``       flip the input, flip G's features back
=========================  ===============  ==========================  ==========================================

Losses (x in A, y in B, ``L_GAN`` the registry's ``GANLoss``, least squares by default as in the code):

- adversarial (Eq. 1): ``L_GAN(G, D) = E_y[(D(y) - 1)^2] + E_x[D(G(x))^2]`` for D, ``E_x[(D(G(x)) - 1)^2]`` for G;
- PatchNCE (Eq. 4 / 5): ``L_PatchNCE(G, H, X) = E_x (1/L) sum_l mean_s l(z_hat_l^s, z_l^s, z_l^{S\\s})`` with
  ``z_l = H_l(G_enc^l(x))``, ``z_hat_l = H_l(G_enc^l(G(x)))`` and ``l`` the InfoNCE of
  :class:`gan_style.losses.patchnce.PatchNCELoss` (Eq. 2), each layer weighted by ``lambda_nce``;
- generator (Eq. 5): ``loss_g = lambda_gan * L_GAN + lambda_nce * L_PatchNCE(X)`` for FastCUT;
  ``loss_g = lambda_gan * L_GAN + lambda_nce * 0.5 * (L_PatchNCE(X) + L_PatchNCE(Y))`` for CUT, where
  ``L_PatchNCE(Y)`` compares y with G(y) (identity; the code halves the sum, so lambda_X = lambda_Y = 0.5 lambda_nce);
- discriminator, halved as in the code: ``loss_d = 0.5 * (L(D(y), real) + L(D(G(x)), fake))`` (no image pool);
- SinCUT (Sec. 5.3, ``sincut_model.py``) adds R1 on real images to ``loss_d``, ``lambda_r1 / 2 * E_y ||grad_y D(y)||^2``
  (Mescheder et al. 2018, Eq. 9), and an L1 identity ``lambda_identity * |G(y) - y|_1`` to ``loss_g``.

Optimization (Sec. 4 / the code): Adam(lr 2e-4, betas (0.5, 0.999)) for D, and for G with the MLP head together
(the code's two Adams of the same settings, which update identically); per batch one D step then one G step;
constant learning rate for ``n_epochs`` then linear decay to 0 over ``n_epochs_decay`` (CUT 200 + 200, FastCUT
150 + 50).

Small datasets: ``diffaugment`` (off by default) passes every image D judges, real and generated, in D's update
and in G's, through DiffAugment (Zhao et al. 2020; :mod:`gan_style.losses.augment`): ``D(T(y))``, ``D(T(G(x)))``,
with ``T`` drawn anew for each call (SinCUT's R1 is taken through it too).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.errors import InvalidSettingError
from gan_style.inference.stylizer import GeneratorStylizer
from gan_style.losses import create_loss, r1_penalty
from gan_style.losses.adversarial import GanMode, warn_if_batch_norm_critic
from gan_style.losses.augment import DiffAugment
from gan_style.losses.patchnce import PatchNCELoss  # registers "patchnce"
from gan_style.methods.base import GanStyleModule, LinearDecay, NonFinitePolicy
from gan_style.nets.cut import CUTDiscriminator, CUTGenerator, PatchSampleMLP

__all__ = ["CUT", "CUT_MODES", "SinCUT", "PatchNCELoss"]

NETWORKS = ("generator", "discriminator", "patch_head")

#: What ``mode`` sets for the settings left at None (the CUT code's ``CUT_mode`` defaults, Sec. 4 of the paper).
CUT_MODES: dict[str, dict[str, Any]] = {
    "cut": {"lambda_nce": 1.0, "nce_idt": True, "flip_equivariance": False, "n_epochs": 200, "n_epochs_decay": 200},
    "fastcut": {"lambda_nce": 10.0, "nce_idt": False, "flip_equivariance": True, "n_epochs": 150, "n_epochs_decay": 50},
}


def _listed(items: list[str]) -> str:
    """``["a", "b", "c"]`` -> ``"a, b and c"``."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _first_conv_channels(net: nn.Module) -> int:
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            return m.in_channels
    return 3


class CUT(GanStyleModule):
    """CUT and FastCUT as a LightningModule with manual optimization (see the module docstring for the equations).

    Batches: ``{"A": (N, 3, H, W), "B": (N, 3, H, W)}`` in [-1, 1] (H, W multiples of 4) for training, validation
    and test; ``{"A": ...}`` for predict (translated by ``generator``).

    Logged: ``train/loss_g``, ``train/loss_d`` and their terms ``loss_g_gan``, ``loss_nce``, ``loss_nce_idt`` (CUT),
    ``loss_d_real``, ``loss_d_fake``; the same under ``val/`` and ``test/`` (there without flipping, with patch
    locations drawn from a fixed seed, so validation neither depends on nor consumes the training random state).
    Two optimizer steps per batch (discriminator, then generator with the MLP head).

    The MLP head is built here, eagerly, from the channel counts of the generator's ``nce_layers`` (found by one
    forward pass of a 32x32 zero image in eval mode), where the CUT code builds it at the first training batch.
    So ``configure_optimizers`` sees its parameters (the code needs a separate ``data_dependent_initialize`` for
    that), DDP wraps and synchronises it from the start, and every checkpoint holds it, so ``--ckpt_path`` resumes
    and ``load_from_checkpoint`` loads it like any other network.

    Args:
        generator: G, with ``encode(x, layers) -> list of features`` (:class:`gan_style.nets.CUTGenerator`'s
            interface); default ``CUTGenerator()`` (resnet_9blocks, anti-aliased, instance norm, xavier init).
        discriminator: D; default ``CUTDiscriminator()`` (70x70 PatchGAN, anti-aliased, instance norm).
        mode: ``cut`` (default) or ``fastcut``; fills in the settings left at None (:data:`CUT_MODES`).
        gan_mode: ``vanilla | lsgan | wgangp | hinge`` (lsgan, as the CUT code).
        lambda_gan: weight of the adversarial term (1.0).
        lambda_nce: weight of PatchNCE (None: 1.0 for ``cut``, 10.0 for ``fastcut``); 0 disables it (and the
            MLP head).
        nce_idt: add the identity PatchNCE between y and G(y) (None: True for ``cut``, False for ``fastcut``).
        flip_equivariance: with probability 0.5 per batch, translate the horizontally flipped input and flip the
            output's features back before PatchNCE (None: False for ``cut``, True for ``fastcut``).
        nce_layers: generator layers PatchNCE uses ((0, 4, 8, 12, 16): the input, the two downsampling convs,
            residual blocks 1 and 5 of :class:`CUTGenerator`).
        nce_T: PatchNCE temperature (0.07).
        num_patches: patch locations per layer and image (256).
        negatives_from_minibatch: take PatchNCE negatives from the whole batch instead of the same image (False).
        mlp_channels: width of the MLP head (256).
        use_mlp: project the sampled features with the MLP head (True; False: the code's ``netF sample``).
        lr: Adam learning rate (2e-4).
        betas: Adam betas ((0.5, 0.999)).
        n_epochs: epochs at the initial rate (None: 200 for ``cut``, 150 for ``fastcut``).
        n_epochs_decay: epochs of linear decay to 0 afterwards (None: 200 for ``cut``, 50 for ``fastcut``).
        reference_weights: optional map of ``generator`` / ``discriminator`` / ``patch_head`` to a weights file of
            the CUT code (``latest_net_G.pth``, ``latest_net_D.pth``, ``latest_net_F.pth``), loaded at ``setup``.
        on_nonfinite_loss: ``stop`` (default: raise naming the step and term) or ``skip`` (leave out the update).
        diffaugment: DiffAugment policy for small datasets (Zhao et al. 2020): comma-separated ``color``,
            ``translation``, ``cutout`` (``"color,translation,cutout"`` is the paper's choice for 100 images or
            fewer). In training, every image D judges, real and generated, in D's and in G's update, is augmented,
            each call with its own random draws (PatchNCE sees unaugmented images). Validation and test judge
            unaugmented images. None (default, the paper's recipe): no augmentation.

    Raises:
        ValueError: an unknown ``mode``, negative or NaN weights, ``nce_T <= 0``, ``num_patches < 1``, bad
            ``nce_layers``, an unknown name in ``reference_weights``, or an unknown ``diffaugment`` policy.
        InvalidSettingError (a ValueError): at ``setup``, before training or evaluation starts, data whose domains
            have different band counts (``data.init_args.channels: [1, 3]``) while ``lambda_nce`` > 0 (PatchNCE
            encodes G(x), which has B's bands, with G's own encoder) or ``nce_idt`` (the identity term translates
            B's images): :meth:`check_domain_channels`.
    """

    #: The domain each network reads and writes (None: a score), from which ``gan-style fit`` gives it the data's
    #: channels as ``input_nc`` / ``output_nc`` (:func:`gan_style.commands.lightning_cli.link_network_channels`).
    network_channels = {"generator": ("A", "B"), "discriminator": ("B", None)}

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        mode: Literal["cut", "fastcut"] = "cut",
        gan_mode: GanMode = "lsgan",
        lambda_gan: float = 1.0,
        lambda_nce: float | None = None,
        nce_idt: bool | None = None,
        flip_equivariance: bool | None = None,
        nce_layers: Sequence[int] = (0, 4, 8, 12, 16),
        nce_T: float = 0.07,
        num_patches: int = 256,
        negatives_from_minibatch: bool = False,
        mlp_channels: int = 256,
        use_mlp: bool = True,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.999),
        n_epochs: int | None = None,
        n_epochs_decay: int | None = None,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
        diffaugment: str | None = None,
    ) -> None:
        super().__init__()
        self.diffaugment = DiffAugment.from_setting(diffaugment)
        if mode not in CUT_MODES:
            raise ValueError(f"mode must be one of {', '.join(CUT_MODES)}, got {mode!r}")
        given = {
            "lambda_nce": lambda_nce,
            "nce_idt": nce_idt,
            "flip_equivariance": flip_equivariance,
            "n_epochs": n_epochs,
            "n_epochs_decay": n_epochs_decay,
        }
        resolved = {k: CUT_MODES[mode][k] if v is None else v for k, v in given.items()}
        self.check_settings(
            {"lambda_gan": lambda_gan, "lambda_nce": resolved["lambda_nce"], "lr": lr}, reference_weights, NETWORKS
        )
        if not nce_T > 0:
            raise ValueError(f"nce_T (the PatchNCE temperature) must be > 0, got {nce_T}")
        if num_patches < 1:
            raise ValueError(f"num_patches must be >= 1, got {num_patches}")
        self.save_hyperparameters_plain()
        self.automatic_optimization = False

        self.generator = generator if generator is not None else CUTGenerator()
        self.discriminator = discriminator if discriminator is not None else CUTDiscriminator()
        warn_if_batch_norm_critic(gan_mode, {"discriminator": self.discriminator})
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)
        self.nce_loss_fn = create_loss("patchnce", nce_T=nce_T, negatives_from_minibatch=negatives_from_minibatch)
        self.mode = mode
        self.lambda_gan = float(lambda_gan)
        self.lambda_nce = float(resolved["lambda_nce"])
        self.nce_idt = bool(resolved["nce_idt"])
        self.flip_equivariance = bool(resolved["flip_equivariance"])
        self.n_epochs = int(resolved["n_epochs"])
        self.n_epochs_decay = int(resolved["n_epochs_decay"])
        self.nce_layers = [int(i) for i in nce_layers]
        self.num_patches = int(num_patches)
        self.patch_head = None
        if self.lambda_nce > 0:
            self.patch_head = PatchSampleMLP(self._feature_channels(), nc=mlp_channels, use_mlp=use_mlp)

    def _feature_channels(self) -> list[int]:
        """Channels of the generator's ``nce_layers`` features: one forward of a 32x32 zero image, in eval mode
        (no batch-norm statistics change, no dropout randomness consumed)."""
        encode = getattr(self.generator, "encode", None)
        if not callable(encode):
            raise ValueError(
                f"CUT's generator must provide encode(x, layers) (as gan_style.nets.CUTGenerator does); "
                f"{type(self.generator).__name__} does not"
            )
        was_training = self.generator.training
        self.generator.eval()
        try:
            with torch.no_grad():
                x = torch.zeros(1, _first_conv_channels(self.generator), 32, 32)
                feats = encode(x, self.nce_layers)
        finally:
            self.generator.train(was_training)
        return [f.shape[1] for f in feats]

    def settings_reading_b(self) -> dict[str, str]:
        """The settings under which the generator (or its encoder) takes images with domain B's bands, each with
        why; they need as many bands in B as in A. ``nce_idt``: the identity PatchNCE translates B's images;
        ``lambda_nce`` > 0: PatchNCE encodes G(x), which has B's bands, with G's encoder. {} when neither is on."""
        found = {}
        if self.nce_idt:
            found["nce_idt"] = "the identity term translates B's images"
        if self.lambda_nce > 0:
            found["lambda_nce"] = "PatchNCE encodes G(x) with G's encoder"
        return found

    def check_domain_channels(self, channels_a: int, channels_b: int) -> None:
        """Refuse domains of different band counts when the generator takes images with B's bands.

        Args:
            channels_a, channels_b: the bands of domain A (the generator's input) and of domain B (its output).

        Raises:
            InvalidSettingError: :meth:`settings_reading_b` is not empty and ``channels_a != channels_b``; one line
                naming both band counts, the settings and the fixes: the same channels for both domains, or those
                settings off (``--model.init_args.nce_idt false``, ``--model.init_args.lambda_nce 0`` ...).
        """
        settings = self.settings_reading_b()
        if not settings or channels_a == channels_b:
            return
        fixes = {
            "lambda_nce": "--model.init_args.lambda_nce 0",
            "nce_idt": "--model.init_args.nce_idt false",
            "lambda_identity": "--model.init_args.lambda_identity 0",
        }
        same = "give both domains the same channels"
        if {channels_a, channels_b} == {1, 3}:
            same += " (data.init_args.channels: 3 reads gray files as 3 equal bands)"
        reasons = "; ".join(f"{name}: {why}" for name, why in settings.items())
        off = _listed([fixes.get(name, name) for name in settings])
        raise InvalidSettingError(
            f"{_listed(list(settings))} make{'s' if len(settings) == 1 else ''} {type(self).__name__}'s generator take "
            f"images with domain B's bands ({reasons}), which needs as many bands in A as in B, but A has {channels_a} "
            f"band(s) and B has {channels_b} (data.init_args.channels [{channels_a}, {channels_b}]); {same}, or set "
            f"{off}"
        )

    # --- the algorithm -----------------------------------------------------------------------------------
    def forward(self, real_a: Tensor) -> Tensor:
        """Translate A -> B: (N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1]."""
        return self.generator(real_a)

    def draw_flip(self) -> bool:
        """Whether this training batch is flipped for flip equivariance (probability 0.5 from the global torch
        generator, saved in checkpoints; always False without ``flip_equivariance``)."""
        return self.flip_equivariance and bool(torch.rand(()) < 0.5)

    def translate_pair(self, real_a: Tensor, real_b: Tensor, flip: bool = False) -> dict[str, Tensor]:
        """``fake_B = G(real_A)`` and, with ``nce_idt``, ``idt_B = G(real_B)``, in one generator pass over both
        batches (as the code does; instance norm keeps the images independent; two passes when the two batches'
        image sizes differ). With ``flip`` the inputs are
        flipped left-right first and the outputs stay flipped (the code's flip equivariance).

        Raises:
            InvalidSettingError: A and B of different band counts while the generator takes B's bands
                (:meth:`check_domain_channels`; ``setup`` refuses such data before training starts).
        """
        self.check_domain_channels(real_a.shape[1], real_b.shape[1])
        if self.nce_idt and real_a.shape[1:] != real_b.shape[1:]:  # whole images of two sizes: two passes
            return {"fake_B": self.generator(real_a.flip(3) if flip else real_a),
                    "idt_B": self.generator(real_b.flip(3) if flip else real_b)}  # fmt: skip
        n = real_a.shape[0]
        real = torch.cat([real_a, real_b]) if self.nce_idt else real_a
        if flip:
            real = real.flip(3)
        fake = self.generator(real)
        out = {"fake_B": fake[:n]}
        if self.nce_idt:
            out["idt_B"] = fake[n:]
        return out

    def nce_loss(
        self,
        src: Tensor,
        tgt: Tensor,
        flip: bool = False,
        patch_ids: Sequence[Tensor] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, list[Tensor]]:
        """``lambda_nce * L_PatchNCE`` between an input batch ``src`` and its translation ``tgt`` (Eq. 4 / 5: the
        mean over layers of each layer's mean PatchNCE).

        Args:
            src: inputs x, (N, 3, H, W) in [-1, 1] (their features are the keys, detached).
            tgt: outputs G(x), same shape (their features are the queries).
            flip: ``tgt`` was made from the flipped ``src``; its features are flipped back.
            patch_ids: locations per layer (None: drawn at random from ``generator``).
            generator: random generator for the locations (None: the global one).

        Returns:
            (the weighted loss, a scalar; the patch locations used).
        """
        feat_q = self.generator.encode(tgt, self.nce_layers)
        if flip:
            feat_q = [f.flip(3) for f in feat_q]
        feat_k = self.generator.encode(src, self.nce_layers)
        keys, ids = self.patch_head(feat_k, self.num_patches, patch_ids, generator)
        queries, _ = self.patch_head(feat_q, self.num_patches, ids)
        batch = src.shape[0]
        total = sum(self.nce_loss_fn(q, k, batch) * self.lambda_nce for q, k in zip(queries, keys))
        return total / len(self.nce_layers), ids

    def generator_loss(
        self,
        real_a: Tensor,
        real_b: Tensor,
        out: dict[str, Tensor],
        flip: bool = False,
        patch_ids: dict[str, Sequence[Tensor]] | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_g`` (Eq. 5; the code's ``compute_G_loss``) for the outputs ``out`` of :meth:`translate_pair`.

        Args:
            real_a, real_b: the batch, (N, 3, H, W) in [-1, 1].
            out: :meth:`translate_pair`'s outputs (made with the same ``flip``).
            flip: whether ``out`` was made from flipped inputs.
            patch_ids: optional fixed patch locations, ``{"nce": [...], "nce_idt": [...]}`` (else drawn).
            generator: random generator for drawing the locations (None: the global one).

        Returns:
            (loss, detached logs ``loss_g_gan``, ``loss_nce``, ``loss_nce_idt``, ``loss_g``).
        """
        patch_ids = patch_ids or {}
        logs: dict[str, Tensor] = {}
        fake_b = out["fake_B"]
        loss = fake_b.new_zeros(())
        if self.lambda_gan > 0:
            judge = self.augmented_discriminator(self.discriminator)
            logs["loss_g_gan"] = self.gan_loss.generator_loss(judge(fake_b)) * self.lambda_gan
            loss = loss + logs["loss_g_gan"]
        if self.lambda_nce > 0:
            logs["loss_nce"], _ = self.nce_loss(real_a, fake_b, flip, patch_ids.get("nce"), generator)
            nce = logs["loss_nce"]
            if self.nce_idt:
                logs["loss_nce_idt"], _ = self.nce_loss(real_b, out["idt_B"], flip, patch_ids.get("nce_idt"), generator)
                nce = 0.5 * (logs["loss_nce"] + logs["loss_nce_idt"])
            loss = loss + nce
        logs["loss_g"] = loss
        return loss, {k: v.detach() for k, v in logs.items()}

    def discriminator_loss(
        self, real_b: Tensor, fake_b: Tensor, penalty: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``loss_d = 0.5 * (L(D(real_B), real) + L(D(fake_B), fake))`` (the code's ``compute_D_loss``), fake_B
        detached; with ``wgangp`` and ``penalty`` the gradient penalty is included. Returns (loss, logs)."""
        judge = self.augmented_discriminator(self.discriminator)
        loss, terms = self.gan_loss.discriminator_loss(judge, real_b, fake_b, scale=0.5, penalty=penalty)
        logs = {"loss_d": loss.detach(), "loss_d_real": terms["d_real"], "loss_d_fake": terms["d_fake"]}
        if "gp" in terms:
            logs["gp"] = terms["gp"]
        return loss, logs

    def training_inputs(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """(real_A, real_B) a training step works on: the batch's ``"A"`` and ``"B"``."""
        return batch["A"], batch["B"]

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        real_a, real_b = self.training_inputs(batch)
        opt_g, opt_d = self.optimizers()
        flip = self.draw_flip()
        out = self.translate_pair(real_a, real_b, flip)
        with self.toggled_optimizer(opt_d):  # D first, on the detached fakes (the code's optimize_parameters)
            loss_d, logs_d = self.discriminator_loss(real_b, out["fake_B"])
            self.backward_step(opt_d, loss_d, logs_d)
        with self.toggled_optimizer(opt_g):  # then G and the MLP head, D frozen
            loss_g, logs_g = self.generator_loss(real_a, real_b, out, flip)
            self.backward_step(opt_g, loss_g, logs_g)
        self.step_schedulers_at_epoch_end()
        logs = {**logs_g, **logs_d}
        batch_size = real_a.shape[0]
        self.log_dict(
            {f"train/{k}": v for k, v in logs.items() if k not in ("loss_g", "loss_d")}, batch_size=batch_size
        )
        self.log_dict({f"train/{k}": logs[k] for k in ("loss_g", "loss_d")}, prog_bar=True, batch_size=batch_size)

    def _evaluate(self, batch: dict[str, Any], prefix: str) -> None:
        real_a, real_b = batch["A"], batch["B"]
        out = self.translate_pair(real_a, real_b)
        sampler = torch.Generator().manual_seed(0)  # fixed locations: validation leaves the training RNG alone
        _, logs_g = self.generator_loss(real_a, real_b, out, generator=sampler)
        _, logs_d = self.discriminator_loss(real_b, out["fake_B"], penalty=False)
        self.log_dict({f"{prefix}/{k}": v for k, v in {**logs_g, **logs_d}.items()}, batch_size=real_a.shape[0])

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "val")

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        self._evaluate(batch, "test")

    evaluation_metrics = ("fid", "kid", "lpips")

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """generated = G(real_A) against real_B (FID/KID); content = real_A (LPIPS)."""
        return {"generated": self.generator(batch["A"]), "reference": batch["B"], "content": batch["A"]}

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A, fake_B, real_B and (with ``nce_idt``) idt_B = G(real_B), each (N, 3, H, W) in [-1, 1]."""
        with torch.no_grad():
            out = self.translate_pair(batch["A"], batch["B"])
        images = {"real_A": batch["A"], "fake_B": out["fake_B"], "real_B": batch["B"]}
        if "idt_B" in out:
            images["idt_B"] = out["idt_B"]
        return images

    # --- inference -----------------------------------------------------------------------------------------
    stylizer_networks = ("generator",)

    def stylizer(self, network: str | None = None) -> GeneratorStylizer:
        """The generator (A -> B) as a :class:`~gan_style.inference.GeneratorStylizer`: (N, 3, H, W) in [-1, 1],
        H and W multiples of 4, output in [-1, 1].

        Raises:
            ValueError: a ``network`` other than ``generator``.
        """
        self.check_stylizer_network(network)
        return GeneratorStylizer(self.generator, name=f"{type(self).__name__} generator")

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def setup(self, stage: str) -> None:
        """Refuse, before training or evaluation starts, data whose domains differ in bands while the generator
        takes images with B's bands (:meth:`check_domain_channels`, from the data module's ``channels``); then the
        base class's setup. ``predict`` translates A only and is not checked.

        Raises:
            InvalidSettingError: see :meth:`check_domain_channels`.
        """
        trainer = self._trainer
        datamodule = getattr(trainer, "datamodule", None) if trainer is not None else None
        channels = getattr(datamodule, "channels", None)
        if stage != "predict" and isinstance(channels, (tuple, list)) and len(channels) == 2:
            self.check_domain_channels(int(channels[0]), int(channels[1]))
        super().setup(stage)

    def configure_optimizers(self):
        hp = self.hparams
        head = self.patch_head.parameters() if self.patch_head is not None else ()
        opt_g = self.adam(itertools.chain(self.generator.parameters(), head), hp.lr, hp.betas)
        opt_d = self.adam(self.discriminator.parameters(), hp.lr, hp.betas)
        decay = LinearDecay(self.n_epochs, self.n_epochs_decay)
        schedulers = [torch.optim.lr_scheduler.LambdaLR(opt, decay) for opt in (opt_g, opt_d)]
        return [opt_g, opt_d], schedulers


class SinCUT(CUT):
    """SinCUT: CUT trained on one image per domain (Park et al. 2020, Sec. 5.3 and Fig. 9; the code's
    ``sincut_model.py``), with R1 on D and an L1 identity term on G.

    Each training batch holds whole images (batch size 1 from a folder pair with one image in ``trainA`` and one in
    ``trainB``); from each, this module cuts ``num_crops`` random ``crop_size`` crops after a random zoom (height and
    width scaled independently by U[1 / random_scale_max, 1], shared by the crops of a batch, each side kept >=
    ``crop_size``; each crop flipped left-right with probability 0.5), the code's ``zoom_and_patch`` with crops at
    random positions instead of on a shuffled grid. Negatives of PatchNCE come from the whole batch of crops.

    Differences from the code, said plainly: the generator and discriminator default to :class:`CUTGenerator` /
    :class:`CUTDiscriminator` (ResNet / PatchGAN) at the code's widths (ngf 10, ndf 8), not its StyleGAN2 networks;
    ``nce_layers`` therefore default to (0, 4, 8, 12): input, both downsampling convs and the first residual block,
    where the code uses layers 0, 2, 4 of its StyleGAN2 generator. ``gan_mode: vanilla`` is the code's
    ``nonsaturating`` loss (softplus(-D(fake)) for G; softplus(-D(real)) + softplus(D(fake)) for D).

    Args (beyond :class:`CUT`'s, whose defaults here are the code's SinCUT settings):
        generator: default ``CUTGenerator(ngf=10)``.
        discriminator: default ``CUTDiscriminator(ndf=8)``.
        gan_mode: ``vanilla`` (the non-saturating loss).
        lambda_nce: 4.0.
        nce_layers: (0, 4, 8, 12).
        num_patches: 1 per crop and layer.
        negatives_from_minibatch: True.
        lr: 0.002; betas: (0.0, 0.99).
        n_epochs, n_epochs_decay: 50000 and 50000: with one batch of ``num_crops`` crops per epoch these are the
            code's 8 + 8 epochs of 100,000 crops in batches of 16.
        lambda_r1: weight of R1, ``lambda_r1 / 2 * E ||grad D(y)||^2`` (1.0).
        lambda_identity: weight of ``|G(y) - y|_1`` (1.0).
        num_crops: crops per image and batch (16; 0: train on the batch as given).
        crop_size: side of the crops (64).
        random_scale_max: strongest zoom-out (3.0).
        diffaugment: as :class:`CUT`'s (None: off); R1 is then taken through the augmentation.

    Raises:
        ValueError: as :class:`CUT`, and ``crop_size`` not a multiple of 4, ``random_scale_max < 1`` or negative
            ``lambda_r1`` / ``lambda_identity`` / ``num_crops``.
        InvalidSettingError (a ValueError): at ``setup``, data whose domains have different band counts while
            ``lambda_nce`` > 0, ``nce_idt`` or ``lambda_identity`` > 0 (the L1 identity translates B's images too).
    """

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        mode: Literal["cut", "fastcut"] = "cut",
        gan_mode: GanMode = "vanilla",
        lambda_gan: float = 1.0,
        lambda_nce: float | None = 4.0,
        nce_idt: bool | None = True,
        flip_equivariance: bool | None = False,
        nce_layers: Sequence[int] = (0, 4, 8, 12),
        nce_T: float = 0.07,
        num_patches: int = 1,
        negatives_from_minibatch: bool = True,
        mlp_channels: int = 256,
        use_mlp: bool = True,
        lr: float = 0.002,
        betas: tuple[float, float] = (0.0, 0.99),
        n_epochs: int | None = 50000,
        n_epochs_decay: int | None = 50000,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
        lambda_r1: float = 1.0,
        lambda_identity: float = 1.0,
        num_crops: int = 16,
        crop_size: int = 64,
        random_scale_max: float = 3.0,
        diffaugment: str | None = None,
    ) -> None:
        for name, value in (("lambda_r1", lambda_r1), ("lambda_identity", lambda_identity), ("num_crops", num_crops)):
            if not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        if crop_size < 4 or crop_size % 4:
            raise ValueError(f"crop_size must be a multiple of 4 (the generator's size multiple), got {crop_size}")
        if not (random_scale_max >= 1 and math.isfinite(random_scale_max)):
            raise ValueError(f"random_scale_max must be a finite number >= 1, got {random_scale_max}")
        super().__init__(
            generator if generator is not None else CUTGenerator(ngf=10),
            discriminator if discriminator is not None else CUTDiscriminator(ndf=8),
            mode,
            gan_mode,
            lambda_gan,
            lambda_nce,
            nce_idt,
            flip_equivariance,
            nce_layers,
            nce_T,
            num_patches,
            negatives_from_minibatch,
            mlp_channels,
            use_mlp,
            lr,
            betas,
            n_epochs,
            n_epochs_decay,
            reference_weights,
            on_nonfinite_loss,
            diffaugment=diffaugment,
        )
        self.save_hyperparameters_plain()
        self.lambda_r1 = float(lambda_r1)
        self.lambda_identity = float(lambda_identity)
        self.num_crops = int(num_crops)
        self.crop_size = int(crop_size)
        self.random_scale_max = float(random_scale_max)

    def settings_reading_b(self) -> dict[str, str]:
        """:meth:`CUT.settings_reading_b` plus ``lambda_identity`` when it is > 0 (``|G(y) - y|_1`` translates B's
        images)."""
        found = super().settings_reading_b()
        if self.lambda_identity > 0:
            found["lambda_identity"] = "the L1 identity translates B's images"
        return found

    def random_crops(self, images: Tensor) -> Tensor:
        """``num_crops`` zoomed, flipped random crops of each image: (N, 3, H, W) -> (N * num_crops, 3, c, c).

        Raises:
            ValueError: an image smaller than ``crop_size`` on either side.
        """
        n, _, h, w = images.shape
        c = self.crop_size
        if h < c or w < c:
            raise ValueError(f"SinCUT needs images of at least {c}x{c} pixels (crop_size), got {h}x{w}")
        low = 1.0 / self.random_scale_max
        zoom = low + (1.0 - low) * torch.rand(2)  # (height, width) factors, one pair per batch
        size = (max(c, round(h * float(zoom[0]))), max(c, round(w * float(zoom[1]))))
        zoomed = F.interpolate(images, size=size, mode="bilinear", align_corners=False, antialias=True)
        tops = torch.randint(0, size[0] - c + 1, (n, self.num_crops)).tolist()
        lefts = torch.randint(0, size[1] - c + 1, (n, self.num_crops)).tolist()
        flips = (torch.rand(n, self.num_crops) < 0.5).tolist()
        crops = []
        for i in range(n):
            for top, left, flip in zip(tops[i], lefts[i], flips[i]):
                crop = zoomed[i, :, top : top + c, left : left + c]
                crops.append(crop.flip(2) if flip else crop)
        return torch.stack(crops)

    def training_inputs(self, batch: dict[str, Any]) -> tuple[Tensor, Tensor]:
        """Crops of the batch's images (:meth:`random_crops`), or the batch itself with ``num_crops: 0``."""
        if self.num_crops == 0:
            return batch["A"], batch["B"]
        return self.random_crops(batch["A"]), self.random_crops(batch["B"])

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """real_A and fake_B = G(real_A) (whole images), plus real_B and idt_B = G(real_B) when the two images have
        one size (a grid needs one size); (N, 3, H, W) in [-1, 1]."""
        with torch.no_grad():
            images = {"real_A": batch["A"], "fake_B": self.generator(batch["A"])}
            if batch["B"].shape == batch["A"].shape:
                images.update(real_B=batch["B"], idt_B=self.generator(batch["B"]))
        return images

    def generator_loss(self, real_a, real_b, out, flip=False, patch_ids=None, generator=None):
        """:meth:`CUT.generator_loss` plus ``lambda_identity * |G(real_B) - real_B|_1`` (log ``loss_idt``)."""
        loss, logs = super().generator_loss(real_a, real_b, out, flip, patch_ids, generator)
        if self.lambda_identity > 0:
            idt_b = out["idt_B"] if "idt_B" in out else self.generator(real_b)
            logs["loss_idt"] = F.l1_loss(idt_b, real_b) * self.lambda_identity
            loss = loss + logs["loss_idt"]
            logs["loss_idt"] = logs["loss_idt"].detach()
            logs["loss_g"] = loss.detach()
        return loss, logs

    def discriminator_loss(
        self, real_b: Tensor, fake_b: Tensor, penalty: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """:meth:`CUT.discriminator_loss` plus ``lambda_r1 / 2 * E ||grad_y D(y)||^2`` on real_B when ``penalty``
        (log ``loss_d_r1``; validation passes ``penalty=False``)."""
        loss, logs = super().discriminator_loss(real_b, fake_b, penalty)
        if penalty and self.lambda_r1 > 0:
            r1 = r1_penalty(self.augmented_discriminator(self.discriminator), real_b) * (0.5 * self.lambda_r1)
            loss = loss + r1
            logs["loss_d_r1"] = r1.detach()
            logs["loss_d"] = loss.detach()
        return loss, logs
