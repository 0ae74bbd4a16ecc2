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
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.errors import InvalidSettingError
from gan_style.inference.color import combine_luminance, match_color
from gan_style.inference.stylizer import ExportModule, FramePlan, Stylizer, TilePlan
from gan_style.inference.temporal import MovingStatistics
from gan_style.inference.tiling import blend_weights, pad_to, tile_spans
from gan_style.losses import create_loss
from gan_style.losses.perceptual import mean_std
from gan_style.methods.base import GanStyleModule, NonFinitePolicy
from gan_style.nets.adain import AdaINDecoder, adaptive_instance_norm, masked_adaptive_instance_norm
from gan_style.nets.vgg import VGGFeatures

__all__ = ["AdaIN", "AdaINExport", "AdaINStylizer", "InverseDecay"]

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
NETWORKS = ("decoder",)


class InverseDecay:
    """Learning-rate factor ``1 / (1 + decay * step)`` for ``LambdaLR`` stepped every iteration."""

    def __init__(self, decay: float) -> None:
        self.decay = decay

    def __call__(self, step: int) -> float:
        return 1.0 / (1.0 + self.decay * step)


#: ``encoder_weights`` naming the paper's normalised VGG-19 (the AdaIN release's ``vgg_normalised.pth``).
PAPER_ENCODER = "vgg_normalised"


def _encoder_source(encoder_weights: str | None) -> tuple[str | None, str | None]:
    """(weights source for :class:`VGGFeatures`, its layout or None) for an ``encoder_weights`` setting."""
    if encoder_weights != PAPER_ENCODER:
        return encoder_weights, None
    from gan_style.pretrained import cached_path

    return str(cached_path("adain", "encoder")), "adain"


def _fetch_paper_encoder() -> None:
    """Download ``vgg_normalised.pth`` with the published AdaIN model's files when it is not cached."""
    from gan_style.pretrained import download_pretrained

    download_pretrained("adain", roles=["encoder"])


class AdaIN(GanStyleModule):
    """AdaIN style transfer as a LightningModule (see the module docstring for the equations).

    Training batches: ``{"content": (N, 3, H, W), "style": (N, 3, H, W)}`` in [-1, 1]
    (:class:`gan_style.data.ContentStyleDataModule`). Logged: ``train/loss``, ``train/loss_content``,
    ``train/loss_style`` and the same under ``val/``.

    Args:
        encoder_weights: the VGG-19 encoder f. ``vgg_normalised`` (default): the paper's normalised VGG-19
            (Caffe preprocessing, reflection padding, ceil-mode pooling) that the released models were trained
            with and the style weight 10 was tuned on, the AdaIN release's ``vgg_normalised.pth``, downloaded once
            with the published AdaIN model (``gan-style pretrained adain``); ``imagenet``: torchvision's ImageNet
            VGG-19 (zero padding, floor pooling), not the paper's encoder; a file (torchvision layout or
            ``vgg_normalised.pth``, recognised by its layout); or None (random weights, tests).
        decoder: the decoder g (None, the default: :class:`gan_style.nets.AdaINDecoder`).
        content_weight: weight of the content loss L_c (1.0, Sec. 6).
        style_weight: weight lambda of the style loss L_s (10.0, Sec. 6).
        lr: Adam learning rate (1e-4, the AdaIN code's).
        lr_decay: inverse-time decay per iteration, lr / (1 + lr_decay * step) (5e-5, the AdaIN code's).
        alpha: content-style trade-off used by validation and predict (1.0: full style).
        preserve_color: recolour styles like the content at predict (False).
        reference_weights: ``{"decoder": "decoder.pth"}`` from the AdaIN code, loaded at ``setup`` (None). That
            decoder was trained with the normalised VGG-19 (``vgg_normalised.pth``), so ``encoder_weights`` must be
            that file: another encoder is refused.
        on_nonfinite_loss: ``stop`` (default: raise an error naming the step and the loss term when a
            loss is NaN or infinite) or ``skip`` (leave that update out, warn, count ``train/skipped_steps``).

    Raises:
        ValueError: negative weights, ``alpha`` outside [0, 1], an unknown name in ``reference_weights``; a
            published ``decoder.pth`` with an encoder other than the normalised VGG-19 it was trained with
            (:class:`~gan_style.errors.InvalidSettingError`).
        WeightsUnavailableError: "imagenet" VGG weights neither cached nor downloadable.
    """

    frozen_networks = {"encoder": "encoder_weights"}

    def __init__(
        self,
        encoder_weights: str | None = "vgg_normalised",
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
        self.check_settings(
            {"content_weight": content_weight, "style_weight": style_weight, "lr": lr, "lr_decay": lr_decay},
            reference_weights,
            NETWORKS,
        )
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.save_hyperparameters_plain()
        source, layout = _encoder_source(encoder_weights)
        self.encoder = VGGFeatures(STYLE_LAYERS, weights=source, layout=layout, defer=True)
        known_encoder = encoder_weights in (None, "imagenet", PAPER_ENCODER) or Path(str(encoder_weights)).is_file()
        if (reference_weights or {}).get("decoder") and known_encoder and self.encoder.layout != "adain":
            raise InvalidSettingError(
                f"model.reference_weights.decoder ({reference_weights['decoder']}) is a decoder of the AdaIN code, "
                f"trained with the normalised VGG-19 (vgg_normalised.pth), but encoder_weights is "
                f"{encoder_weights!r} ({self.encoder.layout} VGG-19), which would give wrong images: set "
                "--model.init_args.encoder_weights to vgg_normalised.pth, or run the published model with "
                "gan-style stylize --pretrained adain"
            )
        self.decoder = decoder if decoder is not None else AdaINDecoder()
        self.content_loss, self.style_loss = create_loss("content"), create_loss("mean_std")

    def setup(self, stage: str) -> None:
        """Downloads the paper's encoder first when ``encoder_weights`` is ``vgg_normalised`` and it is not cached
        (an offline machine gets one line naming the URL and where to put the file)."""
        if self.hparams.get("encoder_weights") == PAPER_ENCODER:
            _fetch_paper_encoder()
        super().setup(stage)

    # --- which encoder the decoder belongs to ------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Also records the encoder's layout (``torchvision`` or ``adain``, the normalised VGG-19) under
        ``gan_style_adain_encoder``: the decoder only works with the encoder it was trained with."""
        super().on_save_checkpoint(checkpoint)
        checkpoint["gan_style_adain_encoder"] = self.encoder.layout

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        """Refuses a checkpoint whose decoder was trained with another encoder than this model's.

        Raises:
            InvalidSettingError: the recorded encoder layout differs from ``encoder_weights``'; the message
                names both and the fix.
        """
        if self.hparams.get("encoder_weights") == PAPER_ENCODER:
            _fetch_paper_encoder()  # the checkpoint leaves the frozen encoder out: it is rebuilt from its source
        recorded = checkpoint.get("gan_style_adain_encoder")
        if recorded is not None and recorded != self.encoder.layout:
            raise InvalidSettingError(
                f"this AdaIN checkpoint's decoder was trained with the {recorded} VGG-19 encoder, but encoder_weights "
                f"({self.hparams.encoder_weights!r}) gives the {self.encoder.layout} one, which would give wrong "
                "images: load it with the encoder_weights it was trained with"
            )
        super().on_load_checkpoint(checkpoint)

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
        return {"generated": self.stylizer()(content, [style]), "reference": style, "content": content}

    def validation_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        _, logs, _ = self.losses(batch["content"], batch["style"])
        self.log_dict({f"val/{k}": v for k, v in logs.items()}, batch_size=batch["content"].shape[0])

    def test_step(self, batch: dict[str, Any], batch_idx: int) -> None:
        _, logs, _ = self.losses(batch["content"], batch["style"])
        self.log_dict({f"test/{k}": v for k, v in logs.items()}, batch_size=batch["content"].shape[0])

    stylizer_networks = ("stylizer",)

    def stylizer(self, network: str | None = None) -> AdaINStylizer:
        """The inference module: VGG encoder + AdaIN + decoder (:class:`AdaINStylizer`), sharing this model's
        networks, with the model's ``alpha`` and ``preserve_color`` as defaults.

        Raises:
            ValueError: ``network`` other than None or ``"stylizer"``.
        """
        self.check_stylizer_network(network)
        return AdaINStylizer(
            self.encoder, self.decoder, self.hparams.alpha, "histogram" if self.hparams.preserve_color else "none"
        )

    def sample_images(self, batch: dict[str, Any]) -> dict[str, Tensor]:
        """content, style, stylized (alpha 1), each (N, 3, H, W) in [-1, 1]."""
        return {
            "content": batch["content"],
            "style": batch["style"],
            "stylized": self.stylizer()(batch["content"], [batch["style"]], alpha=1.0, preserve_color="none"),
        }

    def configure_optimizers(self):
        optimizer = self.adam(self.decoder.parameters(), self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, InverseDecay(self.hparams.lr_decay))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}


class AdaINStylizer(Stylizer):
    """AdaIN inference (Huang & Belongie 2017, Sec. 7.3), the one implementation used by ``stylize``, tiles,
    export, predict and evaluation.

    ``forward(content, styles, alpha=None, style_weights=None, masks=None, preserve_color=None)``:

    - ``content`` (N, 3, H, W) in [-1, 1], any size (the decoder's output is resized back to H x W, bilinear,
      when H or W is not a multiple of 8); ``styles``: one or more (1 or N, 3, h, w) in [-1, 1], any size;
    - ``alpha`` in [0, 1]: ``g(alpha * t + (1 - alpha) * f(c))`` (Eq. 14); None: the model's setting;
    - several styles without masks: ``t = sum_k w_k AdaIN(f(c), f(s_k))`` with ``style_weights`` (equal by
      default, normalized to sum 1);
    - ``masks``: one (1, 1, H, W) or (H, W) mask per style in [0, 1]; style k applies where mask k is > 0.5,
      with content statistics taken over that region only;
    - ``preserve_color``: ``"histogram"`` recolours each style like the content first
      (:func:`gan_style.inference.color.match_color`), ``"luminance"`` keeps the content's colours (luminance
      of the output, colour of the content), ``"none"``; None: the model's setting. True / False are read as
      ``"histogram"`` / ``"none"``.

    Returns (N, 3, H, W) in [-1, 1].

    Args:
        encoder: VGG-19 features with a ``relu4_1`` tap (:class:`gan_style.nets.VGGFeatures`).
        decoder: relu4_1 features -> image in [0, 1] (:class:`gan_style.nets.AdaINDecoder`).
        alpha: default content-style trade-off (1.0).
        preserve_color: default colour preservation (``"none"``).
    """

    takes_style = True
    controls = ("alpha", "style_weights", "masks", "preserve_color")
    tile_multiple = 8  # VGG's three poolings before relu4_1
    default_size = 512  # the reference test.py's content_size

    def __init__(
        self, encoder: nn.Module, decoder: nn.Module, alpha: float = 1.0, preserve_color: str = "none"
    ) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.default_alpha = float(alpha)
        self.default_preserve_color = preserve_color

    def describe(self) -> str:
        return "AdaIN"

    # --- the pieces, written once ---------------------------------------------------------------------------
    def encode(self, images: Tensor) -> Tensor:
        """f(x): relu4_1 features (N, 512, H/8, W/8) of images in [-1, 1] (no other activation is kept)."""
        return self.encoder(images, ["relu4_1"])["relu4_1"]

    def decode_to(self, t: Tensor, size: Sequence[int]) -> Tensor:
        """g(t) as an image in [-1, 1] of ``size`` (H, W): the decoder's [0, 1] output rescaled, resized
        (bilinear; exact identity when already that size) and clamped."""
        out = self.decoder(t) * 2.0 - 1.0
        out = F.interpolate(out, size=tuple(size), mode="bilinear", align_corners=False)
        return out.clamp(-1.0, 1.0)

    def settings(
        self, styles: Sequence[Tensor], alpha: float | None, style_weights: Sequence[float] | None, preserve_color: Any
    ) -> tuple[float, list[float], str]:
        """``(alpha, style weights, preserve_color)`` with the defaults filled in: alpha None is the model's;
        weights None are equal ones (not normalized here); preserve_color None is the model's.

        Raises:
            ValueError: no style, ``alpha`` outside [0, 1], ``style_weights`` of the wrong count, negative or
                summing to zero, an unknown ``preserve_color``.
        """
        alpha = float(self.default_alpha if alpha is None else alpha)
        if not styles:
            raise ValueError("AdaIN needs at least one style image")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        weights = list(style_weights) if style_weights is not None else [1.0] * len(styles)
        if len(weights) != len(styles) or sum(weights) <= 0 or any(w < 0 for w in weights):
            raise ValueError(f"style_weights must be {len(styles)} numbers >= 0 with a positive sum, got {weights}")
        mode = self.default_preserve_color if preserve_color is None else preserve_color
        mode = {True: "histogram", False: "none"}.get(mode, mode) if isinstance(mode, bool) else mode
        if mode not in ("none", "luminance", "histogram"):
            raise ValueError(f"preserve_color must be none, luminance or histogram, got {preserve_color!r}")
        return alpha, weights, mode

    def run(
        self,
        content: Tensor,
        styles: list[Tensor],
        alpha: float | None = None,
        style_weights: Sequence[float] | None = None,
        masks: Sequence[Tensor] | None = None,
        preserve_color: Any = None,
    ) -> Tensor:
        alpha, weights, mode = self.settings(styles, alpha, style_weights, preserve_color)
        if masks is not None and len(masks) != len(styles):
            raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
        if mode == "histogram":
            styles = [match_color(s, content) for s in styles]
        fc = self.encode(content)
        style_feats = [self.encode(s) for s in styles]
        if masks is None:
            total = sum(weights)
            t = sum(w / total * adaptive_instance_norm(fc, fs) for w, fs in zip(weights, style_feats))
        else:
            t = torch.zeros_like(fc)
            for mask, fs in zip(masks, style_feats):
                m = mask.reshape(1, 1, *mask.shape[-2:]).to(fc)
                m = F.interpolate(m, size=fc.shape[-2:], mode="nearest")
                t = t + (m > 0.5).to(fc) * masked_adaptive_instance_norm(fc, fs, m)
        out = self.decode_to(alpha * t + (1.0 - alpha) * fc, content.shape[-2:])
        if mode == "luminance":
            out = combine_luminance(out, content).clamp(-1.0, 1.0)
        return out

    # --- tiles: the content statistics of the whole image, the style statistics once ------------------------
    def plan_tiles(
        self,
        content: Tensor,
        styles: Sequence[Tensor] | None = None,
        whole_image_statistics: bool = True,
        tile: int = 512,
        overlap: int = 64,
        device: torch.device | str | None = None,
        alpha: float | None = None,
        style_weights: Sequence[float] | None = None,
        masks: Sequence[Tensor] | None = None,
        preserve_color: Any = None,
    ) -> TilePlan:
        """Tiles normalized like the whole image: the content statistics ``(mu(f(c)), sigma(f(c)))`` come from
        one encoder pass over the tiles (:meth:`content_statistics`), the style statistics from the whole
        style images, computed once; with ``whole_image_statistics=False`` each tile uses its own content
        statistics. ``"histogram"`` colour preservation recolours the styles like the whole content once;
        ``"luminance"`` is applied to the blended output. Masks are refused (a mask covers the whole image).

        Raises:
            ValueError: ``masks`` given, or a setting :meth:`settings` refuses.
        """
        self.check_inputs(styles, {"alpha": alpha, "style_weights": style_weights, "preserve_color": preserve_color})
        if masks:
            raise ValueError("AdaIN masks cover the whole image; stylize without --tile to use --masks")
        styles = list(styles)
        alpha, weights, mode = self.settings(styles, alpha, style_weights, preserve_color)
        if mode == "histogram":
            styles = [match_color(s.to(content.device), content).to(s.device) for s in styles]
        total = sum(weights)
        with torch.no_grad():
            style_feats = [self.encode(s) for s in styles]
        style_stats = [mean_std(f) for f in style_feats]
        stats = self.content_statistics(content, tile, overlap, device) if whole_image_statistics else None

        def fn(tiles: Tensor) -> Tensor:
            fc = self.encode(tiles)
            if stats is None:
                t = sum(w / total * adaptive_instance_norm(fc, fs) for w, fs in zip(weights, style_feats))
            else:
                normalized = (fc - stats[0].to(fc)) / stats[1].to(fc)
                t = sum(w / total * (normalized * sigma + mu) for w, (mu, sigma) in zip(weights, style_stats))
            return self.decode_to(alpha * t + (1.0 - alpha) * fc, tiles.shape[-2:])

        finish = None
        if mode == "luminance":

            def finish(out: Tensor) -> Tensor:
                return combine_luminance(out, content.to(out)).clamp(-1.0, 1.0)

        return TilePlan(fn, None, finish)

    # --- video: the content statistics averaged over time, the style statistics once -------------------------
    def plan_frames(
        self,
        styles: Sequence[Tensor] | None = None,
        temporal_statistics: bool = False,
        smoothing: float = 0.9,
        alpha: float | None = None,
        style_weights: Sequence[float] | None = None,
        masks: Sequence[Tensor] | None = None,
        preserve_color: Any = None,
    ) -> FramePlan:
        """Frames with AdaIN's content statistics ``(mu(f(c)), sigma(f(c)))`` averaged over time.

        With ``temporal_statistics``, each frame's relu4_1 mean and (unbiased) variance per channel go through a
        :class:`gan_style.inference.temporal.MovingStatistics` (``m_t = smoothing * m_(t-1) + (1 - smoothing) *
        mu_t``, the same for the variance, ``m_0 = mu_0``), ``sigma = sqrt(v + 1e-5)``, and
        ``t = sum_k w_k (sigma(s_k) (f(c) - m) / sigma + mu(s_k))`` (Eq. 8 with the averaged content statistics).
        The style statistics are computed once, on the first batch; ``"histogram"`` colour preservation recolours
        the styles like the clip's first frame (once, so the style does not change with every frame);
        ``"luminance"`` is applied to each frame. The first frame's output equals :meth:`forward`'s. Without
        ``temporal_statistics`` (or with ``smoothing`` 0) each frame has its own content statistics, as
        :meth:`forward`, but the style images are still encoded once for the clip, not once per frame (with
        ``"histogram"`` colour preservation or masks every frame goes through :meth:`forward`).

        Args:
            styles: style images (1, 3, h, w) in [-1, 1] on the stylizer's device.
            temporal_statistics: average the content statistics over time (False).
            smoothing: weight of the past, in [0, 1) (0.9).
            alpha: content-style trade-off in [0, 1] (None: the model's setting), as for :meth:`forward`.
            style_weights: weights of several styles (None: equal), as for :meth:`forward`.
            masks: one mask per style (None: none); refused with ``temporal_statistics``.
            preserve_color: ``"none"``, ``"luminance"`` or ``"histogram"`` (None: the model's setting).

        Raises:
            ValueError: ``masks`` with ``temporal_statistics``, a setting :meth:`settings` refuses, ``smoothing``
                outside [0, 1).
        """
        controls = {"alpha": alpha, "style_weights": style_weights, "masks": masks, "preserve_color": preserve_color}
        if masks:
            if temporal_statistics:
                raise ValueError("AdaIN masks are not averaged over time; use --temporal none or flow with --masks")
            return super().plan_frames(styles, False, smoothing, **controls)  # per frame, as forward
        self.check_inputs(styles, controls)
        styles = list(styles)
        alpha, weights, mode = self.settings(styles, alpha, style_weights, preserve_color)
        if mode == "histogram" and not temporal_statistics:  # the style recoloured like each frame: as forward
            return super().plan_frames(styles, False, smoothing, **controls)
        average = MovingStatistics(smoothing if temporal_statistics else 0.0)
        total = sum(weights)
        style_stats: list[tuple[Tensor, Tensor]] = []

        def fn(frames: Tensor) -> Tensor:
            if not style_stats:
                first = frames[:1]
                recoloured = [match_color(s, first) for s in styles] if mode == "histogram" else styles
                style_stats.extend(mean_std(self.encode(s.to(first))) for s in recoloured)
            fc = self.encode(frames)
            n, c = fc.shape[:2]
            var, mean = torch.var_mean(fc.float().reshape(n, c, -1), dim=2, correction=1)
            m, v = average(mean, var)
            m, sigma = m.to(fc).view(n, c, 1, 1), (v + 1e-5).sqrt().to(fc).view(n, c, 1, 1)
            normalized = (fc - m) / sigma
            t = sum(w / total * (normalized * sigma_s + mu_s) for w, (mu_s, sigma_s) in zip(weights, style_stats))
            out = self.decode_to(alpha * t + (1.0 - alpha) * fc, frames.shape[-2:])
            if mode == "luminance":
                out = combine_luminance(out, frames).clamp(-1.0, 1.0)
            return out

        return FramePlan(fn, None, stateless=False)

    @torch.no_grad()
    def content_statistics(
        self,
        content: Tensor,
        tile: int = 512,
        overlap: int = 64,
        device: str | torch.device | None = None,
        eps: float = 1e-5,
    ) -> tuple[Tensor, Tensor]:
        """AdaIN's content statistics ``(mu(f(c)), sigma(f(c)))`` of a whole image too large to encode at once.

        The encoder runs over the tiles of :func:`gan_style.inference.tiling.tiled_apply` (``multiple=8``);
        each tile's relu4_1 features are weighted by its blending window (area-resized to the features' 1/8
        resolution, zero over the padding), so every position counts once. ``sigma = sqrt(var + eps)`` with the
        unbiased variance, as :func:`gan_style.losses.mean_std`. For an image smaller than a tile this is
        exactly the statistics of the untiled stylizer; for larger ones features near inner tile edges differ
        slightly from the whole image's, and carry little weight.

        Args:
            content: ``(1, 3, H, W)`` in [-1, 1], on any device (keep a large image on the CPU).
            tile: tile side (512), a multiple of 8.
            overlap: minimum overlap of neighbouring tiles (64).
            device: where the encoder runs (None: ``content``'s device).
            eps: added to the variance (1e-5, as AdaIN).

        Returns:
            ``(mean, sigma)``, each ``(1, 512, 1, 1)`` float32 on ``device``.

        Raises:
            ValueError: ``content`` not ``(1, C, H, W)``, or tile settings that ``tiled_apply`` refuses.
        """
        if not isinstance(content, Tensor) or content.ndim != 4 or content.shape[0] != 1:
            raise ValueError(f"content must be one (1, 3, H, W) image, got {getattr(content, 'shape', content)}")
        device = content.device if device is None else torch.device(device)
        height, width = content.shape[-2:]
        spans_y, spans_x = tile_spans(height, tile, overlap, 8), tile_spans(width, tile, overlap, 8)
        weights_y, weights_x = blend_weights(spans_y, overlap), blend_weights(spans_x, overlap)
        pad_h, pad_w = -(-min(tile, height) // 8) * 8, -(-min(tile, width) // 8) * 8
        sums = squares = count = None
        for ys, wy in zip(spans_y, weights_y):
            for xs, wx in zip(spans_x, weights_x):
                piece = pad_to(content[..., ys[0] : ys[1], xs[0] : xs[1]].to(device), pad_h, pad_w)
                features = self.encode(piece).double()
                window = torch.zeros(1, 1, pad_h, pad_w, dtype=torch.float64, device=device)
                window[0, 0, : ys[1] - ys[0], : xs[1] - xs[0]] = (wy[:, None] * wx[None, :]).to(window)
                window = F.interpolate(window, size=features.shape[-2:], mode="area")
                part = ((window * features).sum((0, 2, 3)), (window * features**2).sum((0, 2, 3)), window.sum())
                if sums is None:
                    sums, squares, count = part
                else:
                    sums, squares, count = sums + part[0], squares + part[1], count + part[2]
        mean = sums / count
        var = (squares / count - mean**2).clamp_min(0.0) * (count / (count - 1).clamp_min(1e-12))
        shape = (1, -1, 1, 1)
        return mean.float().view(shape), (var + eps).sqrt().float().view(shape)

    # --- export -------------------------------------------------------------------------------------------
    def export_module(self) -> ExportModule:
        """``content`` (N, 3, H, W), ``style`` (1 or N, 3, h, w), ``alpha`` (1,) or (N,) -> ``output``
        (N, 3, H, W), all images in [-1, 1] (:class:`AdaINExport`)."""
        return AdaINExport(self)


class AdaINExport(ExportModule):
    """AdaIN as one traceable module: ``g(alpha * AdaIN(f(c), f(s)) + (1 - alpha) * f(c))`` (Eq. 9, 14),
    computed by the pieces of :class:`AdaINStylizer`.

    ``forward(content, style, alpha)``: ``content`` (N, 3, H, W) float32 in [-1, 1]; ``style`` (1 or N, 3,
    h, w) in [-1, 1], any size (one style for all contents, or one each); ``alpha`` (1,) or (N,) float32 in
    [0, 1] (not clamped). Returns (N, 3, H, W) in [-1, 1]. Colour preservation is not part of the graph:
    recolour the style before feeding it.
    """

    input_names = ("content", "style", "alpha")
    output_names = ("output",)

    def __init__(self, stylizer: AdaINStylizer) -> None:
        super().__init__()
        self.stylizer = stylizer
        self.default_alpha = stylizer.default_alpha

    def forward(self, content: Tensor, style: Tensor, alpha: Tensor) -> Tensor:
        fc = self.stylizer.encode(content)
        a = alpha.to(fc.dtype).reshape(-1, 1, 1, 1)
        t = a * adaptive_instance_norm(fc, self.stylizer.encode(style)) + (1.0 - a) * fc
        return self.stylizer.decode_to(t, content.shape[-2:])

    def example_inputs(self, batch: int, height: int, width: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        """``content`` (batch, 3, height, width); one ``style`` (1, 3, width, height) (other sides, so the
        check sees a style of its own size); ``alpha`` the model's value for batch 1, else values from 1 down
        to 0.5 (one per image)."""
        content = torch.rand(batch, 3, height, width, generator=generator) * 2 - 1
        style = torch.rand(1, 3, width, height, generator=generator) * 2 - 1
        alpha = torch.tensor([self.default_alpha]) if batch == 1 else torch.linspace(1.0, 0.5, batch)
        return content, style, alpha

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        return {
            "content": {0: "batch", 2: "height", 3: "width"},
            "style": {0: "style_batch", 2: "style_height", 3: "style_width"},
            "alpha": {0: "alpha_batch"},
            "output": {0: "batch", 2: "height", 3: "width"},
        }

    def notes(self) -> list[str]:
        if self.stylizer.default_preserve_color != "none":
            return ["preserve_color is not part of the exported graph: recolour the style before feeding it"]
        return []

    def metadata(self) -> dict[str, Any]:
        return {"alpha_default": self.default_alpha, "input_ranges": {"alpha": [0.0, 1.0]}}
