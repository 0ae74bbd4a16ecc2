"""AdaIN: arbitrary style transfer in real time with adaptive instance normalization (Huang & Belongie,
ICCV 2017).

Names in this file and in the paper:

=======================  =========  =========================================================
this code                paper      meaning
=======================  =========  =========================================================
``encoder``              f          VGG-19 up to relu4_1, frozen
``decoder``              g          trained decoder (:class:`gan_style.nets.AdaINDecoder`)
``t``                    t          AdaIN(f(c), f(s)), the target features (Eq. 9)
``content_weight``       (1)        weight of L_c
``style_weight``         lambda     weight of L_s (10, Sec. 6)
``style_layers``         phi_i      relu1_1, relu2_1, relu3_1, relu4_1
``alpha``                alpha      content-style trade-off at inference (Eq. 14)
=======================  =========  =========================================================

- ``AdaIN(x, y) = sigma(y) (x - mu(x)) / sigma(x) + mu(y)`` (Eq. 8); ``t = AdaIN(f(c), f(s))`` (Eq. 9);
  the output is ``T(c, s) = g(t)`` (Eq. 10);
- content loss ``L_c = ||f(g(t)) - t||^2`` (Eq. 12, mean squared, registry ``content``);
- style loss ``L_s = sum_i ||mu(phi_i(g(t))) - mu(phi_i(s))||^2 + ||sigma(phi_i(g(t))) - sigma(phi_i(s))||^2``
  (Eq. 13, registry ``mean_std``);
- ``loss = content_weight * L_c + style_weight * L_s`` (Eq. 11).

Training as in the AdaIN code: Adam, lr 1e-4 decayed as ``lr / (1 + 5e-5 * iteration)``, batches of 8
random (content, style) pairs, 256x256 crops. Inference (Sec. 7.3): ``alpha`` blends ``t`` with ``f(c)``;
several styles are interpolated with weights; masks give each style its own region; colour preservation
matches the style's colour statistics to the content first.

The decoder works in the [0, 1] pixel range of the AdaIN code (so the published ``decoder.pth`` loads);
this module converts to and from gan-style's [-1, 1] at its edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.inference.color import match_color
from gan_style.losses import create_loss
from gan_style.methods.base import GanStyleModule, NonFinitePolicy
from gan_style.nets.adain import AdaINDecoder, adaptive_instance_norm, masked_adaptive_instance_norm
from gan_style.nets.vgg import VGGFeatures

__all__ = ["AdaIN", "InverseDecay"]

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
NETWORKS = ("decoder",)


class InverseDecay:
    """Learning-rate factor ``1 / (1 + decay * step)`` for ``LambdaLR`` stepped every iteration."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def __call__(self, step: int) -> float:
        return 1.0 / (1.0 + self.decay * step)


class AdaIN(GanStyleModule):
    """AdaIN style transfer as a LightningModule (see the module docstring for the equations).

    Training batches: ``{"content": (N, 3, H, W), "style": (N, 3, H, W)}`` in [-1, 1]
    (:class:`gan_style.data.ContentStyleDataModule`). Logged: ``train/loss``, ``train/loss_content``,
    ``train/loss_style`` and the same under ``val/``.

    Args:
        encoder_weights: VGG-19 weights: ``imagenet`` (torchvision, hub cache), a file (torchvision
            layout or the AdaIN ``vgg_normalised.pth``, recognised by its layout), or None (random; tests).
        decoder: default :class:`gan_style.nets.AdaINDecoder`.
        content_weight: 1 and 10 (Sec. 6).
        style_weight: see ``content_weight``.
        lr: Adam rate 1e-4 and its inverse decay 5e-5 per iteration.
        lr_decay: see ``lr``.
        alpha: content-style trade-off used by validation and predict (1.0: full style).
        preserve_color: recolour styles like the content at predict (False).
        reference_weights: ``{"decoder": "decoder.pth"}`` from the AdaIN code, loaded at ``setup``.
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a
            loss is NaN or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).

    Raises:
        ValueError: negative weights, ``alpha`` outside [0, 1], an unknown name in ``reference_weights``.
        WeightsUnavailableError: "imagenet" VGG weights neither cached nor downloadable.
    """

    frozen_networks = {"encoder": "encoder_weights"}

    def __init__(
        self,
        encoder_weights: str | None = "imagenet",
        decoder: nn.Module | None = None,
        content_weight: float = 1.0,
        style_weight: float = 10.0,
        lr: float = 1e-4,
        lr_decay: float = 5e-5,
        alpha: float = 1.0,
        preserve_color: bool = False,
        reference_weights: dict[str, str] | None = None,
        on_nonfinite_loss: NonFinitePolicy = "stop",
    ) -> None:
        super().__init__()
        self._check_settings(
            {"content_weight": content_weight, "style_weight": style_weight, "lr": lr, "lr_decay": lr_decay},
            reference_weights,
            NETWORKS,
        )
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self._save_hparams_plain()
        self.encoder = VGGFeatures(STYLE_LAYERS, weights=encoder_weights, defer=True)
        self.decoder = decoder if decoder is not None else AdaINDecoder()
        self.content_loss, self.style_loss = create_loss("content"), create_loss("mean_std")

    # --- the algorithm -----------------------------------------------------------------------------------
    def decode(self, t: Tensor) -> Tensor:
        """g(t) as an image in [-1, 1] (the decoder's [0, 1] output rescaled; not clamped)."""
        return self.decoder(t) * 2.0 - 1.0

    def losses(self, content: Tensor, style: Tensor) -> tuple[Tensor, dict[str, Tensor], Tensor]:
        """(loss, logs, output image) for a batch of content and style images in [-1, 1] (Eq. 11-13)."""
        content_feats = self.encoder(content)
        style_feats = self.encoder(style)
        t = adaptive_instance_norm(content_feats["relu4_1"], style_feats["relu4_1"]).detach()
        output = self.decode(t)
        output_feats = self.encoder(output)
        loss_c = self.content_loss(output_feats["relu4_1"], t)
        loss_s = sum(self.style_loss(output_feats[n], style_feats[n]) for n in STYLE_LAYERS)
        loss = self.hparams.content_weight * loss_c + self.hparams.style_weight * loss_s
        return loss, {"loss": loss.detach(), "loss_content": loss_c.detach(), "loss_style": loss_s.detach()}, output

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor | None:
        loss, logs, _ = self.losses(batch["content"], batch["style"])
        if not self.loss_is_finite(loss, logs):
            return None  # skipped (policy "skip"): Lightning makes no update for this batch
        n = batch["content"].shape[0]
        self.log("train/loss", logs["loss"], prog_bar=True, batch_size=n)
        self.log_dict(
            {"train/loss_content": logs["loss_content"], "train/loss_style": logs["loss_style"]}, batch_size=n
        )
        return loss

    evaluation_metrics = ("fid", "kid", "lpips", "artfid")

    def evaluation_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """generated = the stylized content (the ``alpha`` setting) against the style images (FID/KID,
        ArtFID's style term); content = the content images (LPIPS, ArtFID's content term)."""
        content, style = batch["content"], batch["style"]
        return {"generated": self.stylize(content, [style]), "reference": style, "content": content}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        _, logs, _ = self.losses(batch["content"], batch["style"])
        self.log_dict({f"val/{k}": v for k, v in logs.items()}, batch_size=batch["content"].shape[0])

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        _, logs, _ = self.losses(batch["content"], batch["style"])
        self.log_dict({f"test/{k}": v for k, v in logs.items()}, batch_size=batch["content"].shape[0])

    @torch.no_grad()
    def stylize(
        self,
        content: Tensor,
        styles: Sequence[Tensor],
        alpha: float | None = None,
        style_weights: Sequence[float] | None = None,
        masks: Sequence[Tensor] | None = None,
        preserve_color: bool | None = None,
    ) -> Tensor:
        """Stylize ``content`` (N, 3, H, W) in [-1, 1] with one or more style images (each (1 or N, 3, h, w)).

        - ``alpha`` in [0, 1]: ``g(alpha * t + (1 - alpha) * f(c))`` (Eq. 14); alpha 0 reconstructs the content;
        - several styles without masks: ``t = sum_k w_k AdaIN(f(c), f(s_k))`` with ``style_weights`` (equal
          by default, normalized to sum 1);
        - ``masks``: one (1, 1, H, W) or (H, W) mask per style in [0, 1]; style k is applied where mask k
          is > 0.5, with content statistics taken over that region only;
        - ``preserve_color``: each style is first recoloured like the content (:func:`gan_style.inference.color.match_color`).

        Returns (N, 3, H, W) in [-1, 1] (the decoder's output resized to the input size when H or W is not a
        multiple of 8).

        Raises:
            ValueError: no style, mismatched ``style_weights`` / ``masks`` counts, ``alpha`` outside [0, 1].
        """
        alpha, weights = self.check_stylize_settings(styles, alpha, style_weights)
        preserve_color = self.hparams.preserve_color if preserve_color is None else preserve_color
        if masks is not None and len(masks) != len(styles):
            raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
        if preserve_color:
            styles = [match_color(s, content) for s in styles]
        fc = self.encoder(content, ["relu4_1"])["relu4_1"]  # relu4_1 only: no other activation is kept
        style_feats = [self.encoder(s, ["relu4_1"])["relu4_1"] for s in styles]
        if masks is None:
            total = sum(weights)
            t = sum(w / total * adaptive_instance_norm(fc, fs) for w, fs in zip(weights, style_feats))
        else:
            t = torch.zeros_like(fc)
            for mask, fs in zip(masks, style_feats):
                m = mask.reshape(1, 1, *mask.shape[-2:]).to(fc)
                m = F.interpolate(m, size=fc.shape[-2:], mode="nearest")
                t = t + (m > 0.5).to(fc) * masked_adaptive_instance_norm(fc, fs, m)
        t = alpha * t + (1.0 - alpha) * fc
        out = self.decode(t)
        if out.shape[-2:] != content.shape[-2:]:
            out = F.interpolate(out, size=content.shape[-2:], mode="bilinear", align_corners=False)
        return out.clamp(-1, 1)

    def check_stylize_settings(
        self, styles: Sequence[Tensor], alpha: float | None, style_weights: Sequence[float] | None
    ) -> tuple[float, list[float]]:
        """``(alpha, style weights)`` for :meth:`stylize`: alpha None is the model's setting; weights None are
        equal ones (not normalized here).

        Raises:
            ValueError: no style, ``alpha`` outside [0, 1], ``style_weights`` of the wrong count, negative or
                summing to zero.
        """
        alpha = float(self.hparams.alpha if alpha is None else alpha)
        if not styles:
            raise ValueError("AdaIN needs at least one style image")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        weights = list(style_weights) if style_weights is not None else [1.0] * len(styles)
        if len(weights) != len(styles) or sum(weights) <= 0 or any(w < 0 for w in weights):
            raise ValueError(f"style_weights must be {len(styles)} numbers >= 0 with a positive sum, got {weights}")
        return alpha, weights

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """content, style, stylized (alpha 1), each (N, 3, H, W) in [-1, 1]."""
        return {
            "content": batch["content"],
            "style": batch["style"],
            "stylized": self.stylize(batch["content"], [batch["style"]], alpha=1.0, preserve_color=False),
        }

    def translate(self, batch: dict[str, Any]) -> tuple[Tensor, list[str]]:
        """Stylize ``batch["content"]`` with ``batch["style"]`` (pairwise) using ``alpha``/``preserve_color``."""
        outs = [self.stylize(c[None], [s[None]]) for c, s in zip(batch["content"], batch["style"])]
        return torch.cat(outs), batch.get("content_path", [])

    def configure_optimizers(self):
        optimizer = self.adam(self.decoder.parameters(), self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, InverseDecay(self.hparams.lr_decay))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}
