"""AdaIN inference (Huang & Belongie, ICCV 2017, Sec. 7.3): :class:`AdaINStylizer`, the one implementation used by
``stylize``, tiles, video, export, predict, evaluation and the published model (``gan-style stylize --pretrained
adain``), and :class:`AdaINExport`, its traceable form.

It lives below :mod:`gan_style.methods` so that running a published AdaIN model imports no training code
(Lightning, the methods); :class:`gan_style.methods.adain.AdaIN` (the training procedure, whose module docstring
has the equations and the table of names) hands it out through ``stylizer()`` and re-exports both classes.

Images are float tensors in [-1, 1], (N, 3, H, W); the decoder works in the [0, 1] range of the AdaIN code, converted
at the edges (:meth:`AdaINStylizer.decode_to`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gan_style.inference.color import combine_luminance, match_color
from gan_style.inference.stylizer import ExportModule, FramePlan, Stylizer, TilePlan
from gan_style.inference.temporal import MovingStatistics
from gan_style.inference.tiling import blend_weights, pad_to, tile_spans
from gan_style.losses.perceptual import mean_std
from gan_style.nets.adain import adaptive_instance_norm, masked_adaptive_instance_norm

__all__ = ["AdaINExport", "AdaINStylizer"]


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
