"""PatchGAN style network: a feed-forward style-transfer generator trained with content, Gram style and
patch-adversarial losses.

The generator is the image transformation network of Johnson, Alahi & Fei-Fei (ECCV 2016); the
adversarial term follows the Markovian GAN of Li & Wand (ECCV 2016): a PatchGAN discriminator judges
local patches of the stylized output against patches of the style image cropped at several scales.
With ``adv_weight = 0`` there is no discriminator and the method is Johnson et al.'s fast style transfer.

Names in this file:

======================  =================================================================================
this code               meaning
======================  =================================================================================
``generator``           T, the transformation network (:class:`gan_style.nets.TransformationNetwork`)
``discriminator``       D, a PatchGAN (:class:`gan_style.nets.NLayerDiscriminator`), only if adv_weight > 0
``loss_network``        the VGG whose layers phi_j are (Johnson: ``vgg16``; the class default ``vgg19``)
``content_layers``      phi_j for the feature reconstruction loss (Johnson: relu2_2)
``style_layers``        phi_j for the Gram style loss (Johnson: relu1_2, relu2_2, relu3_3, relu4_3)
``style_size``          None: style targets from the batch's style crops; an int: from the whole style
                        image with its longer side scaled to it, computed once (Johnson: 256)
``patch_scales``        fractions of the style crop's side from which real patches are cut (1, 0.75, 0.5)
======================  =================================================================================

Layer names are positions in ``loss_network``: Johnson's names exist in VGG-19 too, but there relu3_3 /
relu4_3 are other layers (VGG-19's relu4_3 lies one convolution deeper, after conv3_4), so Johnson's loss
network is ``loss_network: vgg16`` (as in ``recipes/patchgan.yaml``).

Losses (registry names ``content``, ``gram``, ``gan``), with y = T(x) for content images x and style s:

- ``L_content = sum_j mean((phi_j(y) - phi_j(x))^2)`` (Johnson, Eq. 2);
- ``L_style = sum_j mean((G(phi_j(y)) - G(phi_j(s)))^2)`` with Gram matrices normalized by C*H*W (Eq. 3-4);
  s is the batch's style crop, or with ``style_size`` the whole style image scaled to that size (fixed);
- ``L_adv = L_GAN(D(y), real)`` (generator term of ``gan_mode``);
- ``L = content_weight * L_content + style_weight * L_style + adv_weight * L_adv + tv_weight * L_tv``;
- discriminator: ``L_D = 0.5 * (L_GAN(D(p_s), real) + L_GAN(D(y), fake))`` over style patches ``p_s``, plus
  the gradient penalty for wgangp and ``r1_gamma / 2 * R1`` (Mescheder et al. 2018) when ``r1_gamma > 0``;
- with ``diffaugment`` (off by default), D judges ``T(p_s)`` and ``T(y)`` in both updates instead, ``T`` a
  DiffAugment transform drawn anew for each call (Zhao et al. 2020; :mod:`gan_style.losses.augment`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.data.images import load_image
from gan_style.data.transforms import to_tensor
from gan_style.inference.stylizer import GeneratorStylizer
from gan_style.losses import create_loss, r1_penalty
from gan_style.losses.adversarial import GanMode
from gan_style.losses.augment import DiffAugment
from gan_style.methods.base import GanStyleModule, NonFinitePolicy
from gan_style.methods.gatys import resize_max_side
from gan_style.nets import NLayerDiscriminator, TransformationNetwork
from gan_style.nets.vgg import VGG_ARCHS, VGGFeatures, vgg_layers

__all__ = ["PatchGANStyle", "random_patches"]

NETWORKS = ("generator", "discriminator")
_TITLES = {"vgg19": "VGG-19", "vgg16": "VGG-16"}


def random_patches(style: Tensor, scales: list[float], generator: torch.Generator | None = None) -> Tensor:
    """Real patches for the discriminator: for each scale ``f``, one random square crop of side
    ``f * min(H, W)`` per image, resized back to (H, W) (bilinear, antialiased). (N * len(scales), 3, H, W).
    """
    n, _, h, w = style.shape
    out = []
    for f in scales:
        side = max(1, round(f * min(h, w)))
        for i in range(n):
            top = int(torch.randint(0, h - side + 1, (1,), generator=generator))
            left = int(torch.randint(0, w - side + 1, (1,), generator=generator))
            crop = style[i : i + 1, :, top : top + side, left : left + side]
            if (side, side) != (h, w):
                crop = F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False, antialias=f < 1)
            out.append(crop)
    return torch.cat(out)


class PatchGANStyle(GanStyleModule):
    """Single-style feed-forward style transfer with an optional patch discriminator (module docstring).

    Batches: ``{"content": (N, 3, H, W), "style": (N, 3, H, W)}`` in [-1, 1] from
    :class:`gan_style.data.ContentStyleDataModule` with a style folder holding one image (several images
    work too: their statistics are then mixed). Logged: ``train/loss_g`` and its terms ``loss_content``,
    ``loss_style``, ``loss_adv``, ``loss_tv``, ``train/loss_d`` (when adv_weight > 0); ``val/`` the same
    generator terms. Predict and ``gan-style stylize`` run the generator at any size.

    Args:
        generator: the transformation network T, (N, 3, H, W) -> (N, 3, H, W) in [-1, 1] (None, the default:
            ``TransformationNetwork()``).
        discriminator: the patch discriminator D (None, the default: ``NLayerDiscriminator(n_layers=3,
            norm="instance")``); built and used only when ``adv_weight > 0``.
        vgg_weights: weights of the loss network: ``imagenet`` (default: torchvision's ImageNet weights of
            ``loss_network`` from the torch hub cache, downloaded on first use), a weights file in torchvision
            ``vgg16`` / ``vgg19`` layout (the one ``loss_network`` names), or None (random weights, tests only).
        content_layers: layers of ``loss_network`` for the content (feature reconstruction) loss (None, the
            default: ``["relu2_2"]``, Johnson et al.'s).
        style_layers: layers of ``loss_network`` for the Gram style loss (None, the default: ``["relu1_2",
            "relu2_2", "relu3_3", "relu4_3"]``, Johnson et al.'s names: with ``loss_network: vgg19`` relu4_3 is
            another, deeper layer than in Johnson's VGG-16).
        content_weight: weight of ``L_content`` (1.0).
        style_weight: weight of ``L_style`` (1e5: with VGG-16, Gram matrices normalized by C*H*W and mean
            squared errors, the style/content ratio of the PyTorch example of Johnson et al., 1e10 / 1e5).
        adv_weight: weight of the patch-adversarial term ``L_adv`` (0.1; 0 builds no discriminator and gives
            Johnson et al.'s fast style transfer).
        tv_weight: weight of the total variation term ``L_tv`` (0.0: off).
        gan_mode: loss of the adversarial term, ``vanilla | lsgan | wgangp | hinge`` (lsgan).
        r1_gamma: weight gamma of the R1 penalty on the discriminator, applied as gamma / 2 (0: off).
        patch_scales: fractions in (0, 1] of the style crop's shorter side from which the discriminator's real
            patches are cut (None, the default: ``[1.0, 0.75, 0.5]``).
        lr: Adam learning rate of the generator (1e-3, as in Johnson et al.).
        lr_d: Adam learning rate of the discriminator (1e-4).
        betas: Adam betas of both the generator and the discriminator optimizer; None (default) takes
            (0.9, 0.999) when ``adv_weight`` is 0 (Johnson et al.: Adam's defaults) and (0.5, 0.999) with the
            discriminator (the usual GAN setting, as in DCGAN and pix2pix).
        reference_weights: published weights files to load into networks in ``setup``, network name
            (``generator`` or ``discriminator``) -> file (None, the default: none).
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a
            loss is NaN or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).
        loss_network: the VGG the content and style layers are taken from, ``vgg19`` (default, which earlier
            versions used; kept so their checkpoints load as trained) or ``vgg16`` (Johnson et al.'s loss
            network, used by ``recipes/patchgan.yaml``).
        style_size: None (default): the style targets are the Gram matrices of each batch's style crops
            (``crop_size`` random crops of the style image, a new crop every batch). An int: the targets are
            the Gram matrices of the whole style image with its longer side scaled to ``style_size`` pixels
            (aspect kept, bicubic, antialiased), computed once per style image (Johnson et al.'s fixed target;
            their code uses 256); its shorter side must reach the deepest style layer (8 pixels for relu4_3).
            Needs batches with ``style_path`` (``ContentStyleDataModule`` gives them); the discriminator's real
            patches still come from the crops.
        diffaugment: DiffAugment policy for the discriminator's inputs (Zhao et al. 2020): comma-separated
            ``color``, ``translation``, ``cutout`` (``"color,translation,cutout"`` is the paper's choice for 100
            images or fewer). In training, every image D judges, style patches and stylized images, in D's and in
            the generator's update, is augmented, each call with its own random draws (the VGG losses see
            unaugmented images); the wgangp and R1 penalties are taken through it. None (default): no
            augmentation. Used only with ``adv_weight > 0``.

    Raises:
        ValueError: negative weights, an unknown loss network, layer names that are not layers of
            ``loss_network``, empty or out-of-range patch_scales, a style_size below 1, unknown names in
            reference_weights, an unknown ``diffaugment`` policy.
    """

    frozen_networks = {"vgg": "vgg_weights"}

    def __init__(
        self,
        generator: nn.Module | None = None,
        discriminator: nn.Module | None = None,
        vgg_weights: str | None = "imagenet",
        content_layers: list[str] | None = None,
        style_layers: list[str] | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1e5,
        adv_weight: float = 0.1,
        tv_weight: float = 0.0,
        gan_mode: GanMode = "lsgan",
        r1_gamma: float = 0.0,
        patch_scales: list[float] | None = None,
        lr: float = 1e-3,
        lr_d: float = 1e-4,
        betas: tuple[float, float] | None = None,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
        loss_network: Literal["vgg19", "vgg16"] = "vgg19",
        style_size: int | None = None,
        diffaugment: str | None = None,
    ) -> None:
        super().__init__()
        self.diffaugment = DiffAugment.from_setting(diffaugment)
        self.check_settings(
            {
                "content_weight": content_weight,
                "style_weight": style_weight,
                "adv_weight": adv_weight,
                "tv_weight": tv_weight,
                "r1_gamma": r1_gamma,
                "lr": lr,
                "lr_d": lr_d,
            },
            reference_weights,
            NETWORKS,
        )
        if loss_network not in VGG_ARCHS:
            raise ValueError(f"loss_network must be one of {', '.join(VGG_ARCHS)}, got {loss_network!r}")
        names = vgg_layers(loss_network)
        self.content_layers = list(content_layers or ["relu2_2"])
        self.style_layers = list(style_layers or ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
        unknown = [n for n in self.content_layers + self.style_layers if n not in names]
        if unknown:
            others = [a for a in VGG_ARCHS if a != loss_network and set(unknown) <= set(vgg_layers(a))]
            hint = f"; they are {_TITLES[others[0]]} layers: set loss_network: {others[0]}" if others else ""
            raise ValueError(
                f"{unknown} are not layers of the loss network {_TITLES[loss_network]} (loss_network: "
                f"{loss_network}){hint}; its layers are {', '.join(names)}"
            )
        if style_size is not None and (
            isinstance(style_size, bool) or not isinstance(style_size, int) or style_size < 1
        ):
            raise ValueError(f"style_size must be None or an integer >= 1 (pixels), got {style_size!r}")
        self.patch_scales = list(patch_scales or [1.0, 0.75, 0.5])
        if not self.patch_scales or any(not 0 < f <= 1 for f in self.patch_scales):
            raise ValueError(f"patch_scales must be fractions in (0, 1], got {self.patch_scales}")
        self.save_hyperparameters_plain()
        self.automatic_optimization = False
        self.generator = generator if generator is not None else TransformationNetwork()
        self.adversarial = adv_weight > 0
        self.discriminator = None
        if self.adversarial:
            self.discriminator = discriminator if discriminator is not None else NLayerDiscriminator(norm="instance")
        layers = [n for n in names if n in set(self.content_layers) | set(self.style_layers)]
        self.vgg = VGGFeatures(layers, weights=vgg_weights, defer=True, arch=loss_network)
        self._style_grams: dict[str, dict[str, Tensor]] = {}  # style_size: file -> {layer: (1, C, C)}
        self.content_loss, self.style_loss, self.tv_loss = (
            create_loss("content"),
            create_loss("gram"),
            create_loss("tv"),
        )
        self.gan_loss = create_loss("gan", gan_mode=gan_mode)

    # --- the algorithm -----------------------------------------------------------------------------------
    def forward(self, content: Tensor) -> Tensor:
        """T(x): (N, 3, H, W) in [-1, 1] -> (N, 3, H, W) in [-1, 1], any H and W."""
        return self.generator(content)

    @property
    def betas(self) -> tuple[float, float]:
        """The Adam betas in use: ``betas`` if set, else (0.9, 0.999) without and (0.5, 0.999) with the
        discriminator."""
        betas = self.hparams.get("betas")
        if betas is not None:
            return tuple(betas)
        return (0.5, 0.999) if self.adversarial else (0.9, 0.999)

    def style_targets(self, style_paths: Sequence[str]) -> dict[str, Tensor]:
        """The fixed style targets of ``style_size``: for each style layer, the (N, C, C) Gram matrices of
        the whole style images at ``style_paths`` (one per sample), each scaled so that its longer side is
        ``style_size``. Computed once per file in float32 and kept (not in checkpoints: rebuilt from the file).

        Raises:
            ValueError: ``style_size`` is None, or a scaled style image too small for the deepest style layer.
            ImageLoadError: an unreadable style image.
        """
        size = self.hparams.get("style_size")
        if size is None:
            raise ValueError("style_targets needs style_size (None takes the targets from the style crops)")
        for path in dict.fromkeys(style_paths):
            if path not in self._style_grams:
                self._style_grams[path] = self._whole_image_grams(path, size)
        return {n: torch.cat([self._style_grams[p][n] for p in style_paths]).to(self.device) for n in self.style_layers}

    def _whole_image_grams(self, path: str, size: int) -> dict[str, Tensor]:
        image = resize_max_side(to_tensor(load_image(path))[None], size).to(self.device)
        names = vgg_layers(self.vgg.arch)
        deepest = max(self.style_layers, key=names.index)
        pools = sum(n.startswith("pool") for n in names[: names.index(deepest)])
        if min(image.shape[-2:]) < 2**pools:
            h, w = image.shape[-2:]
            raise ValueError(
                f"style image '{path}' scaled to style_size={size} is {w}x{h} pixels, too small for {deepest} "
                f"(needs a shorter side of at least {2**pools}); raise model.style_size"
            )
        with torch.no_grad(), torch.autocast(self.device.type, enabled=False):
            feats = self.vgg(image.float(), self.style_layers)
            return {n: self.style_loss.prepare_target(feats[n]).float() for n in self.style_layers}

    def generator_loss(
        self, content: Tensor, style: Tensor, stylized: Tensor, style_paths: Sequence[str] | None = None
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``L`` of the module docstring for a batch; returns (loss, logs).

        Args:
            content: content images x, (N, 3, H, W) in [-1, 1].
            style: the batch's style crops s, (N, 3, H, W) in [-1, 1]; the style targets when ``style_size``
                is None.
            stylized: T(x), (N, 3, H, W) in [-1, 1], with its graph.
            style_paths: the style image file of each sample (the batch's ``style_path``); needed, and used
                for the targets (:meth:`style_targets`), when ``style_size`` is set (None, the default).

        Raises:
            ValueError: ``style_size`` is set and ``style_paths`` is None or not one path per sample.
        """
        hp = self.hparams
        fixed = hp.get("style_size") is not None
        if fixed and (style_paths is None or len(style_paths) != stylized.shape[0]):
            raise ValueError(
                "style_size computes the style targets from the whole style images: give their paths, one per "
                "sample (batches with 'style_path', as ContentStyleDataModule makes them), or set style_size: null"
            )
        feats_y = self.vgg(stylized)
        with torch.no_grad():
            feats_x = self.vgg(content, self.content_layers)
            targets = self.style_targets(style_paths) if fixed else self.vgg(style, self.style_layers)
        loss_content = sum(self.content_loss(feats_y[n], feats_x[n]) for n in self.content_layers)
        loss_style = sum(self.style_loss(feats_y[n], targets[n]) for n in self.style_layers)
        loss_tv = self.tv_loss(stylized)
        loss = hp.content_weight * loss_content + hp.style_weight * loss_style + hp.tv_weight * loss_tv
        logs = {"loss_content": loss_content.detach(), "loss_style": loss_style.detach(), "loss_tv": loss_tv.detach()}
        if self.adversarial:
            loss_adv = self.gan_loss.generator_loss(self.augmented_discriminator(self.discriminator)(stylized))
            loss = loss + hp.adv_weight * loss_adv
            logs["loss_adv"] = loss_adv.detach()
        logs["loss_g"] = loss.detach()
        return loss, logs

    def discriminator_loss(
        self, style: Tensor, stylized: Tensor, penalty: bool = True
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """``L_D`` on multi-scale style patches vs the stylized batch; returns (loss, logs)."""
        real = random_patches(style, self.patch_scales)
        fake = stylized.detach()
        if real.shape[0] != fake.shape[0]:  # the wgangp interpolation pairs real and fake samples
            fake = fake.repeat(real.shape[0] // fake.shape[0], 1, 1, 1)
        judge = self.augmented_discriminator(self.discriminator)
        loss, logs = self.gan_loss.discriminator_loss(judge, real, fake, scale=0.5, penalty=penalty)
        out = {"loss_d": loss.detach(), "loss_d_real": logs["d_real"], "loss_d_fake": logs["d_fake"]}
        if self.hparams.r1_gamma > 0 and penalty:
            r1 = r1_penalty(judge, real)
            loss = loss + 0.5 * self.hparams.r1_gamma * r1
            out["r1"], out["loss_d"] = r1.detach(), loss.detach()
        return loss, out

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        content, style = batch["content"], batch["style"]
        optimizers = self.optimizers()
        opt_g, opt_d = optimizers if isinstance(optimizers, list) else (optimizers, None)

        stylized = self.generator(content)
        logs: dict[str, Tensor] = {}
        if self.adversarial:
            with self.toggled_optimizer(opt_d):
                loss_d, logs_d = self.discriminator_loss(style, stylized)
                self.backward_step(opt_d, loss_d, logs_d)
            logs.update(logs_d)
            with self.toggled_optimizer(opt_g):
                loss_g, logs_g = self.generator_loss(content, style, stylized, batch.get("style_path"))
                self.backward_step(opt_g, loss_g, logs_g)
        else:
            loss_g, logs_g = self.generator_loss(content, style, stylized, batch.get("style_path"))
            self.backward_step(opt_g, loss_g, logs_g)
        logs.update(logs_g)
        n = content.shape[0]
        main = {k: logs[k] for k in ("loss_g", "loss_d") if k in logs}
        self.log_dict({f"train/{k}": v for k, v in main.items()}, prog_bar=True, batch_size=n)
        self.log_dict({f"train/{k}": v for k, v in logs.items() if k not in main}, batch_size=n)

    evaluation_metrics = ("fid", "kid", "lpips", "artfid")

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """generated = generator(content) against the style images (FID/KID, ArtFID's style term);
        content = the content images (LPIPS, ArtFID's content term)."""
        content = batch["content"]
        return {"generated": self.generator(content), "reference": batch["style"], "content": content}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        content, style = batch["content"], batch["style"]
        _, logs = self.generator_loss(content, style, self.generator(content), batch.get("style_path"))
        self.log_dict({f"val/{k}": v for k, v in logs.items()}, batch_size=content.shape[0])

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        content, style = batch["content"], batch["style"]
        _, logs = self.generator_loss(content, style, self.generator(content), batch.get("style_path"))
        self.log_dict({f"test/{k}": v for k, v in logs.items()}, batch_size=content.shape[0])

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """content, style, stylized, each (N, 3, H, W) in [-1, 1]."""
        with torch.no_grad():
            stylized = self.generator(batch["content"])
        return {"content": batch["content"], "style": batch["style"], "stylized": stylized}

    # --- inference -----------------------------------------------------------------------------------------
    stylizer_networks = ("generator",)

    def stylizer(self, network: str | None = None) -> GeneratorStylizer:
        """T as a :class:`~gan_style.inference.GeneratorStylizer`: (N, 3, H, W) in [-1, 1], any H and W.

        Raises:
            ValueError: a ``network`` other than ``generator``.
        """
        self.check_stylizer_network(network)
        return GeneratorStylizer(self.generator, name="PatchGANStyle generator")

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def configure_optimizers(self):
        hp = self.hparams
        opt_g = self.adam(self.generator.parameters(), hp.lr, self.betas)
        if not self.adversarial:
            return opt_g
        opt_d = self.adam(self.discriminator.parameters(), hp.lr_d, self.betas)
        return [opt_g, opt_d]
