"""Neural style transfer by image optimization (Gatys, Ecker & Bethge, CVPR 2016).

Names in this file and in the paper:

========================  ===================  ==============================================
this code                 paper                meaning
========================  ===================  ==============================================
``image``                 x                    the image being optimized (the parameter)
``content``               p                    the content photograph
``style``                 a                    the artwork(s)
``content_layers``        l in {conv4_2}       layers whose responses F^l must match P^l (relu4_2 here:
                                               the paper's Caffe "conv4_2" blob is overwritten by its
                                               in-place ReLU, so its response is after the ReLU)
``style_layers``          relu1_1 ... relu5_1  layers whose Gram matrices G^l must match A^l
``style_layer_weights``   w_l                  per-layer style weights (equal by default)
``content_weight``        alpha                weight of L_content
``style_weight``          beta                 weight of L_style
``tv_weight``             (not in the paper)   total variation smoothing (Mahendran & Vedaldi 2015)
========================  ===================  ==============================================

Losses (registry names ``content``, ``gram``, ``tv``; ``G`` is the Gram matrix normalized by C*H*W):

- ``L_content = sum_l c_l * mean((F^l(x) - F^l(p))^2)`` (Eq. 1);
- ``L_style = sum_l w_l * sum_s b_s * mean((G(F^l(x)) - G(F^l(a_s)))^2)`` (Eq. 3-5), ``b_s`` the blend
  weights of several style images (summing to 1). With ``G = F F^T / (N_l M_l)`` (N_l channels, M_l = H W
  positions) the mean over the N_l^2 entries equals ``(4 / N_l^2) E_l`` of Eq. 4 (``E_l = sum (G - A)^2 /
  (4 N_l^2 M_l^2)`` with unnormalized Gram matrices): layers with more channels count less than in Eq. 4, as in
  jcjohnson/neural-style (Gram divided by C H W, mean squared error); ``style_layer_weights`` can undo it;
- ``L_total = content_weight * L_content + style_weight * L_style + tv_weight * L_tv`` (Eq. 7).

Optimization: L-BFGS on the pixels (the paper), or Adam; one iteration per Lightning step, so the progress
bar counts iterations and shows the losses. ``scales`` runs coarse to fine: the result at one size,
upsampled, initializes the next. Colour preservation (Gatys et al. 2016b): ``luminance`` transfers on
luminance only and restores the content's colours; ``histogram`` recolours the style images like the
content first.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import lightning as L
import torch
import torch.nn.functional as F
from lightning.pytorch.utilities import rank_zero_info
from PIL import Image
from torch import Tensor, nn
from torch.utils.data import DataLoader

from gan_style.data.images import load_image
from gan_style.data.samples import resolve_data_path
from gan_style.data.transforms import to_image, to_tensor
from gan_style.errors import InferenceUnavailableError, WeightsUnavailableError
from gan_style.inference.color import combine_luminance, luminance_only, match_color, match_luminance
from gan_style.inference.stylizer import ExportModule, Stylizer
from gan_style.io.atomic import atomic_write
from gan_style.losses import create_loss
from gan_style.methods.base import GanStyleModule, check_loss_finite
from gan_style.nets.vgg import VGG19_LAYERS, VGGFeatures

__all__ = ["Gatys", "GatysStylizer", "resize_max_side"]

#: The warning Lightning gives because Gatys manages its own optimizer (the image changes size between scales);
#: filtered where a Gatys run starts (the command line, :class:`GatysStylizer`), never at import.
NO_OPTIMIZER_WARNING = ".*`configure_optimizers` returned `None`"


def resize_max_side(image: Tensor, size: int) -> Tensor:
    """Resize (N, 3, H, W) so that its longer side is ``size`` (bicubic, antialiased), keeping the aspect."""
    h, w = image.shape[-2:]
    scale = size / max(h, w)
    new = (max(1, round(h * scale)), max(1, round(w * scale)))
    if new == (h, w):
        return image
    return F.interpolate(image, size=new, mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)


class Gatys(GanStyleModule):
    """Gatys style transfer as a LightningModule; ``trainer.fit`` runs the optimization and writes the image.

    Example: ``gan-style fit --config recipes/gatys.yaml --model.content photo.jpg --model.style art.jpg``.

    Args:
        content: content image file. From Python also an image tensor (1, 3, H, W) or (3, H, W) in [-1, 1]
            (then no file is written at the end: read :meth:`result`).
        style: one style image file or several (from Python also tensors, as ``content``).
        style_blend_weights: relative weight of each style image (equal by default; normalized to sum 1).
        image_size: longer side of the output in pixels (512).
        scales: sizes (longer side) to optimize at, coarse to fine, e.g. ``[256, 512]``; default
            ``[image_size]``. The last one is the output size.
        num_iterations: optimizer iterations per scale (500).
        optimizer: ``lbfgs`` (default, as in the paper) or ``adam``.
        lr: step size; default 1.0 for L-BFGS, 0.02 for Adam (pixels live in [-1, 1]).
        init: start from the ``content`` image (default), the first ``style`` image or ``noise``.
        content_layers: VGG-19 layers whose responses must match the content's (None, the default:
            ``["relu4_2"]``, the paper's "conv4_2" after its ReLU, as in Gatys' code (``r42``) and
            jcjohnson/neural-style; ``conv4_2`` here is the response before the ReLU).
        content_layer_weights: weight c_l of each content layer, one number >= 0 per entry of ``content_layers``
            (1.0 each).
        style_layers: VGG-19 layers whose Gram matrices must match the style's (relu1_1, relu2_1, relu3_1,
            relu4_1, relu5_1, as in the paper).
        style_layer_weights: weight w_l of each style layer, one number >= 0 per entry of ``style_layers``
            (``1 / len(style_layers)`` each: 1/5 at the default layers, as in the paper).
        content_weight: alpha, the weight of ``L_content`` (1.0).
        style_weight: beta, the weight of ``L_style`` (1e6; with Gram matrices normalized by C*H*W the style
            loss is small, hence the large beta).
        tv_weight: weight of the total variation term ``L_tv``, not in the paper (0.0: off).
        style_scale: style images are resized to ``style_scale`` times the current scale (1.0).
        preserve_color: ``none`` (default), ``luminance`` or ``histogram`` (see the module docstring).
        pooling: VGG pooling, ``max`` or ``avg``.
        vgg_weights: ``imagenet`` (hub cache), a weights file, or None (random; tests only).
        output: file to write; default ``<trainer.default_root_dir>/stylized/<content>_<style>.png``.
        save_every: also write the current image every N iterations (0: only at the end).

    Raises:
        ValueError: empty style list, mismatched weight lists, unknown layers, non-positive sizes or
            iterations, negative loss weights, unknown choices; ImageLoadError for unreadable images.
    """

    def __init__(
        self,
        content: str,
        style: str | list[str],
        style_blend_weights: list[float] | None = None,
        image_size: int = 512,
        scales: list[int] | None = None,
        num_iterations: int = 500,
        optimizer: Literal["lbfgs", "adam"] = "lbfgs",
        lr: float | None = None,
        init: Literal["content", "style", "noise"] = "content",
        content_layers: list[str] | None = None,
        content_layer_weights: list[float] | None = None,
        style_layers: list[str] | None = None,
        style_layer_weights: list[float] | None = None,
        content_weight: float = 1.0,
        style_weight: float = 1e6,
        tv_weight: float = 0.0,
        style_scale: float = 1.0,
        preserve_color: Literal["none", "luminance", "histogram"] = "none",
        pooling: Literal["max", "avg"] = "max",
        vgg_weights: str | None = "imagenet",
        output: str | None = None,
        save_every: int = 0,
    ) -> None:
        super().__init__()
        styles = [style] if isinstance(style, str) else list(style)
        if not styles:
            raise ValueError("style needs at least one image file")
        blend = list(style_blend_weights) if style_blend_weights else [1.0] * len(styles)
        if len(blend) != len(styles) or any(not w >= 0 for w in blend) or sum(blend) <= 0:
            raise ValueError(f"style_blend_weights must be {len(styles)} numbers >= 0 with a positive sum, got {blend}")
        content_layers = list(content_layers or ["relu4_2"])
        style_layers = list(style_layers or ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"])
        content_layer_weights = _layer_weights("content", content_layers, content_layer_weights, 1.0)
        style_layer_weights = _layer_weights("style", style_layers, style_layer_weights, 1.0 / len(style_layers))
        scales = list(scales or [image_size])
        for name, value in (
            ("image_size", image_size),
            ("num_iterations", num_iterations),
            *(("scales", s) for s in scales),
        ):
            if not value >= 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        for name, value in (
            ("content_weight", content_weight),
            ("style_weight", style_weight),
            ("tv_weight", tv_weight),
            ("style_scale", style_scale),
            ("save_every", save_every),
            ("lr", 0.0 if lr is None else lr),
        ):
            if not value >= 0:
                raise ValueError(f"{name} must be a number >= 0, got {value}")
        for name, value, allowed in (
            ("optimizer", optimizer, ("lbfgs", "adam")),
            ("init", init, ("content", "style", "noise")),
            ("preserve_color", preserve_color, ("none", "luminance", "histogram")),
        ):
            if value not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
        self.save_hyperparameters(ignore=["content", "style"] if isinstance(content, Tensor) else None)
        self.automatic_optimization = False
        self.style_paths = [item if isinstance(item, str) else f"style{i}" for i, item in enumerate(styles)]
        self.blend = torch.tensor(blend) / sum(blend)
        self.scales = scales
        self.content_layers, self.style_layers = content_layers, style_layers
        self.content_layer_weights, self.style_layer_weights = content_layer_weights, style_layer_weights
        layers = [name for name in VGG19_LAYERS if name in set(content_layers) | set(style_layers)]
        self.vgg = VGGFeatures(layers, weights=vgg_weights, pooling=pooling, defer=True)
        self.content_loss, self.style_loss, self.tv_loss = (
            create_loss("content"),
            create_loss("gram"),
            create_loss("tv"),
        )
        self.in_memory = isinstance(content, Tensor)
        self.content_image = _as_image_tensor(content)
        self.style_images = [_as_image_tensor(item) for item in styles]
        self.image = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self._scale_index = -1
        self._optimizer: torch.optim.Optimizer | None = None
        self._targets: dict[str, Any] = {}
        self.output_path: Path | None = None

    def setup(self, stage: str) -> None:
        precision = str(getattr(self._trainer, "precision", "32-true")) if self._trainer is not None else ""
        if precision.startswith("16"):
            raise ValueError(
                f"Gatys cannot run with trainer.precision {precision}: float16 needs loss scaling, which L-BFGS "
                "does not support; use 32-true (default) or bf16-mixed"
            )
        self.vgg.load_pretrained()  # here, not in __init__: a missing download fails with its own message

    # --- data: one "batch" per iteration ----------------------------------------------------------------
    def train_dataloader(self) -> DataLoader:
        return DataLoader(range(self.hparams.num_iterations * len(self.scales)), batch_size=1)

    def configure_optimizers(self) -> None:
        return None  # built per scale in _start_scale

    # --- the algorithm -----------------------------------------------------------------------------------
    def _start_scale(self, index: int) -> None:
        size = self.scales[index]
        device = self.vgg.body[0].weight.device
        content = resize_max_side(self.content_image.to(device), size)
        styles = []
        for img in self.style_images:
            style = img.to(device)
            styles.append(resize_max_side(style, max(1, round(size * self.hparams.style_scale))))
        deepest = max(VGG19_LAYERS.index(n) for n in self.content_layers + self.style_layers)
        pools = sum(name.startswith("pool") for name in VGG19_LAYERS[:deepest])
        for what, image in [("content", content)] + [(f"style {i}", s) for i, s in enumerate(styles)]:
            if min(image.shape[-2:]) < 2**pools:
                raise ValueError(
                    f"at size {size} the {what} image is {image.shape[-1]}x{image.shape[-2]}, too small for layer "
                    f"{VGG19_LAYERS[deepest]} (needs a shorter side of at least {2**pools}); raise image_size, "
                    "scales or style_scale"
                )
        mode = self.hparams.preserve_color
        if mode == "histogram":
            styles = [match_color(s, content) for s in styles]
        elif mode == "luminance":
            styles = [match_luminance(s, content) for s in styles]
        source = luminance_only(content) if mode == "luminance" else content
        with torch.no_grad():
            content_feats = self.vgg(source)
            style_feats = [self.vgg(s) for s in styles]
        self._targets = {
            "content_rgb": content,
            "content": {name: content_feats[name].detach() for name in self.content_layers},
            # the style losses' fixed targets (Gram matrices) computed once per scale, not every iteration
            "style": [
                {name: self.style_loss.prepare_target(f[name].detach()) for name in self.style_layers}
                for f in style_feats
            ],
        }
        if index == 0:
            init = self.hparams.init
            if init == "content":
                start = source
            elif init == "style":
                start = F.interpolate(styles[0], size=content.shape[-2:], mode="bicubic", align_corners=False)
            else:
                start = torch.randn_like(content) * 0.1
        else:  # coarse to fine: upsample the previous result
            start = F.interpolate(self.image.detach(), size=content.shape[-2:], mode="bicubic", align_corners=False)
        # contiguous: L-BFGS flattens the gradient with view()
        self.image = nn.Parameter(start.detach().clamp(-1, 1).contiguous(memory_format=torch.contiguous_format))

        lr = self.hparams.lr
        if self.hparams.optimizer == "lbfgs":
            self._optimizer = torch.optim.LBFGS([self.image], lr=lr or 1.0, max_iter=1, history_size=100)
        else:
            self._optimizer = torch.optim.Adam([self.image], lr=lr or 0.02)
        self._scale_index = index

    def losses(self, image: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """``L_total`` (Eq. 7) of ``image`` (1, 3, H, W) against the current scale's targets; (loss, logs)."""
        feats = self.vgg(image)
        content = sum(
            w * self.content_loss(feats[n], self._targets["content"][n])
            for n, w in zip(self.content_layers, self.content_layer_weights)
        )
        style = sum(
            b
            * sum(w * self.style_loss(feats[n], target[n]) for n, w in zip(self.style_layers, self.style_layer_weights))
            for b, target in zip(self.blend.tolist(), self._targets["style"])
        )
        hp = self.hparams
        total = hp.content_weight * content + hp.style_weight * style
        if hp.tv_weight:
            tv = self.tv_loss(image)
            total = total + hp.tv_weight * tv
        else:  # logged for comparison, kept out of the graph
            with torch.no_grad():
                tv = self.tv_loss(image)
        return total, {
            "loss": total.detach(),
            "loss_content": content.detach(),
            "loss_style": style.detach(),
            "loss_tv": tv.detach(),
        }

    def training_step(self, batch: Any, batch_idx: int) -> None:
        index = min(batch_idx // self.hparams.num_iterations, len(self.scales) - 1)
        if index != self._scale_index:
            self._start_scale(index)
        logs: dict[str, Tensor] = {}

        def closure() -> Tensor:
            self._optimizer.zero_grad(set_to_none=True)
            loss, step_logs = self.losses(self.image)
            check_loss_finite(self, loss, step_logs)  # a NaN image cannot be skipped: stops naming the term
            self.manual_backward(loss)
            logs.update(step_logs)
            return loss

        self._optimizer.step(closure)
        self.log("train/loss", logs["loss"], prog_bar=True, batch_size=1)
        self.log_dict({f"train/{k}": v for k, v in logs.items() if k != "loss"}, prog_bar=True, batch_size=1)
        every = self.hparams.save_every
        if every and (batch_idx + 1) % every == 0 and not self.in_memory:
            self._write(suffix=f"_{batch_idx + 1:05d}")

    def result(self) -> Tensor:
        """The stylized image (1, 3, H, W) in [-1, 1], colours restored for ``preserve_color=luminance``."""
        image = self.image.detach().clamp(-1, 1)
        if self.hparams.preserve_color == "luminance":
            image = combine_luminance(image, self._targets["content_rgb"])
        return image

    def _default_output(self) -> Path:
        root = self.trainer.default_root_dir if self._trainer is not None else "."
        styles = "+".join(Path(p).stem for p in self.style_paths)
        return Path(root) / "stylized" / f"{Path(self.hparams.content).stem}_{styles}.png"

    def _write(self, suffix: str = "") -> Path:
        path = Path(self.hparams.output) if self.hparams.output else self._default_output()
        if suffix:
            path = path.with_name(f"{path.stem}{suffix}{path.suffix}")
        inputs = {Path(p).resolve() for p in [self.hparams.content, *self.style_paths]}
        if path.resolve() in inputs:
            raise ValueError(f"output '{path}' is one of the input images; choose another output path")
        fmt = Image.registered_extensions().get(path.suffix.lower())
        if fmt is None:
            raise ValueError(f"output '{path}' has no image extension Pillow can write; use .png or .jpg")
        with atomic_write(path) as f:
            to_image(self.result()[0]).save(f, format=fmt)
        return path

    def stylizer(self, network: str | None = None) -> GatysStylizer:
        """This run's settings as a :class:`GatysStylizer` (an optimization per image, shorter side of the
        content kept; VGG weights, iterations and style weight from this model).

        Raises:
            ValueError: a ``network`` name (Gatys has no networks to choose from).
        """
        if network is not None:
            raise ValueError(f"Gatys has no network {network!r} to run; it optimizes each image")
        hp = self.hparams
        return GatysStylizer(None, hp.num_iterations, hp.vgg_weights, hp.style_weight)

    def on_train_end(self) -> None:
        if self.trainer.is_global_zero and self._scale_index >= 0 and not self.in_memory:
            self.output_path = self._write()
            rank_zero_info(f"Gatys: wrote {self.output_path}")


def _as_image_tensor(image: str | Tensor) -> Tensor:
    """(1, 3, H, W) in [-1, 1] from an image file (read with its EXIF orientation, as RGB) or a tensor."""
    if isinstance(image, Tensor):
        if image.ndim == 3:
            image = image.unsqueeze(0)
        if image.ndim != 4 or image.shape[:2] != (1, 3):
            raise ValueError(f"Gatys takes one RGB image (1, 3, H, W) in [-1, 1], got shape {tuple(image.shape)}")
        return image.detach().float()
    return to_tensor(load_image(resolve_data_path(image))).unsqueeze(0)  # examples/data/...: installed sample


def _layer_weights(kind: str, layers: list[str], weights: list[float] | None, default: float) -> list[float]:
    unknown = [n for n in layers if n not in VGG19_LAYERS]
    if unknown or not layers:
        raise ValueError(
            f"unknown {kind} layers {unknown or '(none given)'}; use VGG-19 names such as relu4_2, relu1_1"
        )
    weights = list(weights) if weights is not None else [default] * len(layers)
    if len(weights) != len(layers) or any(not w >= 0 for w in weights):
        raise ValueError(f"{kind}_layer_weights must be {len(layers)} numbers >= 0, got {weights}")
    return weights


class GatysStylizer(Stylizer):
    """Gatys style transfer behind the inference contract: an optimization, not a network.

    It has the caller-facing shape of every stylizer: ``forward(content, styles, style_weights=None,
    preserve_color=None)`` maps content (N, 3, H, W) in [-1, 1] and style images (1, 3, h, w) in [-1, 1] to
    outputs in [-1, 1]. Each content image is optimized on its own (a :class:`Gatys` run with L-BFGS, on the
    content's device), so it is slow, and ``feed_forward`` is False: it cannot be tiled or exported. It
    sizes its inputs itself (``resizes_inputs``): pass images at their original size; the output's shorter
    side is ``size`` (the longer side follows the content's aspect ratio), and the styles are resized from
    their originals at every scale.

    Args:
        size: shorter side of the output in pixels (512); None: the content's own size.
        num_iterations: L-BFGS iterations (500).
        vgg_weights: VGG-19 weights, ``imagenet`` (torch hub cache), a file, or None (random; tests).
        style_weight: beta (1e6, with Gram matrices normalized by C*H*W).
        progress: show Lightning's progress bar (True).
    """

    takes_style = True
    controls = ("style_weights", "preserve_color")
    feed_forward = False
    resizes_inputs = True

    def __init__(
        self,
        size: int | None = 512,
        num_iterations: int = 500,
        vgg_weights: str | None = "imagenet",
        style_weight: float = 1e6,
        progress: bool = True,
    ) -> None:
        super().__init__()
        self.size, self.num_iterations = size, num_iterations
        self.vgg_weights, self.style_weight, self.progress = vgg_weights, style_weight, progress

    def describe(self) -> str:
        return "Gatys"

    def export_module(self) -> ExportModule:
        """Always raises: there is no trained network to export.

        Raises:
            InferenceUnavailableError: Gatys optimizes each image from scratch.
        """
        raise InferenceUnavailableError(
            "Gatys has no trained network to export: it optimizes each image from scratch. Stylize with "
            "`gan-style stylize --method gatys`, or train AdaIN or PatchGANStyle for an exportable model"
        )

    def run(
        self,
        content: Tensor,
        styles: list[Tensor],
        style_weights: list[float] | None = None,
        preserve_color: str | None = None,
    ) -> Tensor:
        outputs = []
        for i in range(content.shape[0]):
            image = content[i : i + 1]
            h, w = image.shape[-2:]
            longer = round(self.size * max(w, h) / min(w, h)) if self.size else max(w, h)  # Gatys sizes the longer side
            model = Gatys(
                content=image,
                style=[s[:1] for s in styles],
                style_blend_weights=style_weights,
                image_size=longer,
                num_iterations=self.num_iterations,
                preserve_color=preserve_color or "none",
                vgg_weights=self.vgg_weights,
                style_weight=self.style_weight,
            )
            trainer = L.Trainer(
                accelerator="gpu" if image.device.type == "cuda" else "cpu",
                devices=1,
                max_epochs=1,
                logger=False,
                enable_checkpointing=False,
                enable_model_summary=False,
                enable_progress_bar=self.progress,
            )
            with torch.enable_grad(), warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=NO_OPTIMIZER_WARNING)
                try:
                    trainer.fit(model)
                except WeightsUnavailableError as exc:  # name this caller's setting, not the recipe's
                    message = str(exc).split(", or give the file's path in the method's setting")[0]
                    raise WeightsUnavailableError(
                        f"{message}, or give a local copy with --vgg_weights FILE (vgg_weights= in Python)"
                    ) from None
            outputs.append(model.result().to(content.device))
        if len({tuple(o.shape) for o in outputs}) > 1:
            raise ValueError("Gatys stylizes a batch of images of one size only; pass images one at a time")
        return torch.cat(outputs)
