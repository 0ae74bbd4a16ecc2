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
this module converts to and from gan-style's [-1, 1] at its edges. The inference half (:class:`AdaINStylizer`,
:class:`AdaINExport`) lives in :mod:`gan_style.inference.adain`, so that a published model runs without the
training code; it is re-exported here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from gan_style.errors import InvalidSettingError
from gan_style.inference.adain import AdaINExport, AdaINStylizer  # the inference half, below the training code
from gan_style.losses import create_loss
from gan_style.methods.base import GanStyleModule, NonFinitePolicy
from gan_style.nets.adain import AdaINDecoder, adaptive_instance_norm
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
