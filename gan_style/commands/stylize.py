"""``gan-style stylize``: one inference command for every method.

Examples::

    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photo.jpg --style art.jpg --alpha 0.8
    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photos/ --style [a.jpg,b.jpg] \\
        --style_weights [0.3,0.7]
    gan-style stylize --checkpoint adain.ckpt --content face.jpg --style [a.jpg,b.jpg] --masks [fg.png,bg.png]
    gan-style stylize --checkpoint runs/cyclegan/checkpoints/last.ckpt --content photos/      # translation
    gan-style stylize --method gatys --content photo.jpg --style art.jpg --size 512 --num_iterations 300
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import lightning as L
import torch
import torch.nn.functional as F
from PIL import Image

from gan_style.data.images import is_image_file, list_images, load_image
from gan_style.data.transforms import to_image, to_tensor
from gan_style.errors import DatasetNotFoundError, UnsafeFileError
from gan_style.inference.color import combine_luminance
from gan_style.io.untrusted import safe_load
from gan_style.nets import size_multiple

__all__ = ["stylize", "load_method"]


def load_method(checkpoint: str | os.PathLike, device: str | torch.device = "cpu") -> L.LightningModule:
    """Rebuild the method stored in a gan-style (Lightning) checkpoint, in eval mode on ``device``.

    The file is read with ``weights_only=True``; the class comes from the checkpoint's hyper-parameters and
    must be a LightningModule from ``gan_style`` or from a module already imported (a checkpoint cannot make
    this function import arbitrary code; a method of your own predicts with ``gan-style predict --config``).

    Raises:
        DatasetNotFoundError: no such file (a ``FileNotFoundError``).
        UnsafeFileError: the file holds a pickle that would run code, or names a class outside gan_style.
        UnreadableFileError: truncated or not a PyTorch file. ValueError: not a gan-style checkpoint.
    """
    import importlib
    import sys

    path = Path(checkpoint)
    ckpt = safe_load(path)
    class_path = None
    if isinstance(ckpt, dict):
        class_path = ckpt.get("gan_style_class") or ckpt.get("hyper_parameters", {}).get("_class_path")
    if not class_path:
        raise ValueError(
            f"'{path}' is not a gan-style checkpoint (no model class recorded); checkpoints written by "
            "`gan-style fit` record it. Weights of the reference code load through the recipes' "
            "model.reference_weights instead."
        )
    module_name, _, class_name = class_path.rpartition(".")
    if not (module_name == "gan_style" or module_name.startswith("gan_style.") or module_name in sys.modules):
        raise UnsafeFileError(
            f"checkpoint '{path}' names the class {class_path!r} outside gan_style; refusing to import a module "
            "named by a file. Predict with `gan-style predict --config <your recipe> --ckpt_path ...` instead"
        )
    cls = getattr(importlib.import_module(module_name), class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, L.LightningModule)):
        raise ValueError(f"checkpoint '{path}' names {class_path!r}, which is not a LightningModule class")

    model = cls.load_from_checkpoint(path, map_location="cpu", weights_only=True)
    return model.to(device).eval()


def _collect(paths: list[str], what: str) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            files += list_images(path)
        elif path.is_file() and is_image_file(path.name):
            files.append(path)
        else:
            raise DatasetNotFoundError(f"{what} '{p}' is neither an image file nor a folder of images")
    if not files:
        raise ValueError(f"no {what} images given")
    return files


def _prepare(path: Path, size: int | None, multiple: int, device: torch.device) -> torch.Tensor:
    x = to_tensor(load_image(path)).unsqueeze(0)
    h, w = x.shape[-2:]
    if size:
        scale = size / min(h, w)
        h, w = round(h * scale), round(w * scale)
    h, w = max(multiple, h // multiple * multiple), max(multiple, w // multiple * multiple)
    if (h, w) != tuple(x.shape[-2:]):
        x = F.interpolate(x, size=(h, w), mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
    return x.to(device)


def _write(image: torch.Tensor, target: Path, inputs: set[Path]) -> Path:
    if target.resolve() in inputs:
        raise ValueError(f"output '{target}' would overwrite an input image; choose another output_dir")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    to_image(image[0]).save(tmp, format="PNG")
    os.replace(tmp, target)
    return target


def stylize(
    content: str | list[str],
    style: str | list[str] | None = None,
    checkpoint: str | None = None,
    method: Literal["gatys"] | None = None,
    output_dir: str = "stylized",
    size: int | None = 512,
    alpha: float = 1.0,
    style_weights: list[float] | None = None,
    masks: str | list[str] | None = None,
    preserve_color: Literal["none", "luminance", "histogram"] = "none",
    device: str = "auto",
    num_iterations: int = 500,
    vgg_weights: str | None = "imagenet",
    style_weight: float = 1e6,
    tile: int | None = None,
    tile_overlap: int = 64,
    tile_norm: Literal["image", "tile"] = "image",
) -> list[Path]:
    """Stylize or translate images with a trained method, or with Gatys optimization.

    Args:
        content: a content image file or folder, or a list of them (``[a.jpg,b.jpg]``).
        style: a style image file, or a list of them (AdaIN and Gatys; several are interpolated with ``style_weights``).
        checkpoint: a checkpoint written by ``gan-style fit`` (AdaIN, CycleGAN, Pix2Pix, ...).
        method: ``gatys`` to optimize each image instead of loading a checkpoint.
        output_dir: where ``<content>_<styles>.png`` (or ``<content>.png`` for translation) is written;
            input files are never overwritten.
        size: shorter side of the processed image in pixels (512); None keeps the size. Sizes are rounded
            down to what the network needs (2^num_downs for a U-Net, 4 for the ResNet generator).

        alpha: AdaIN content-style trade-off in [0, 1] (1.0).
        style_weights: interpolation weights of several styles (equal by default).
        masks: AdaIN spatial control, one mask image per style (white = apply that style there).
        preserve_color: ``none``, ``luminance`` (keep the content's colours) or ``histogram`` (recolour
            the style like the content first).
        device: ``auto`` (GPU when available), ``cpu`` or ``cuda``.
        num_iterations: Gatys settings (500 L-BFGS iterations, ImageNet
            VGG-19, beta 1e6).
        vgg_weights: see ``num_iterations``.
        style_weight: see ``num_iterations``.
        tile: process the image in overlapping tiles of this many pixels (e.g. 512), blended without seams,
            so that a large image (4096x4096) fits in memory; the image stays on the CPU and only one tile at
            a time goes through the network (:func:`gan_style.inference.tiling.tiled_apply`). None (default): the whole
            image at once. With tiles the image keeps its exact size (no rounding to the network's multiple);
            the tile must be a multiple of that (4 for the ResNet generator, 2^num_downs for a U-Net, 8 for
            AdaIN). Not for Gatys or ``--masks``. Combine with ``--size null`` (or a large ``--size``): the
            default ``--size 512`` shrinks the image first.
        tile_overlap: minimum overlap of neighbouring tiles in pixels (64), smaller than ``tile``.
        tile_norm: statistics of the normalization layers with ``--tile``. ``image`` (default): those of the
            whole image, as without tiles, so tiles match in tone: one extra pass over the tiles per instance
            norm layer (about 10x the compute of ``tile`` for the CycleGAN ResNet generator, cheap on a GPU)
            and one encoder pass for AdaIN. ``tile``: each tile's own (fastest; tiles can differ in tone,
            blended smoothly but visible as soft patches on flat regions).

    Returns:
        The written files.

    Raises:
        ValueError: neither or both of ``checkpoint`` and ``method``; style images missing for a method
            that needs them or given to one that does not; masks with the wrong count; ``tile`` with Gatys or
            ``--masks``, or a ``tile`` / ``tile_overlap`` that :func:`gan_style.inference.tiling.tiled_apply` refuses.
        FileNotFoundError: a missing content, style, mask or checkpoint file.
    """
    if (checkpoint is None) == (method is None):
        raise ValueError("give either --checkpoint (a trained method) or --method gatys")
    if tile is not None and (method is not None or masks):
        raise ValueError("--tile works with a checkpoint's feed-forward network, not with --method gatys or --masks")
    dev = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    )
    contents = _collect([content] if isinstance(content, str) else content, "content")
    styles = _collect([style] if isinstance(style, str) else style, "style") if style else []
    masks = [masks] if isinstance(masks, str) else masks
    inputs = {p.resolve() for p in contents + styles}
    out_dir = Path(output_dir)
    written: list[Path] = []
    style_tag = "+".join(p.stem for p in styles)

    if method == "gatys":
        from gan_style.methods.gatys import Gatys

        if not styles:
            raise ValueError("Gatys needs --style images")
        if masks:
            raise ValueError("--masks is an AdaIN option; Gatys does not use masks")
        for path in contents:
            target = out_dir / f"{path.stem}_{style_tag}.png"
            if target.resolve() in inputs:
                raise ValueError(f"output '{target}' would overwrite an input image; choose another output_dir")
            w, h = load_image(path).size
            longer = round(size * max(w, h) / min(w, h)) if size else max(w, h)  # Gatys sizes the longer side
            model = Gatys(
                content=str(path),
                style=[str(s) for s in styles],
                style_blend_weights=style_weights,
                image_size=longer,
                num_iterations=num_iterations,
                preserve_color=preserve_color,
                vgg_weights=vgg_weights,
                style_weight=style_weight,
                output=str(target),
            )
            trainer = L.Trainer(
                accelerator="gpu" if dev.type == "cuda" else "cpu",
                devices=1,
                max_epochs=1,
                logger=False,
                enable_checkpointing=False,
                enable_model_summary=False,
            )
            trainer.fit(model)
            written.append(target)
        return written

    model = load_method(checkpoint, dev)
    multiple = size_multiple(model)
    stylizes = hasattr(model, "stylize")
    if stylizes and not styles:
        raise ValueError(f"{type(model).__name__} needs --style images")
    if not stylizes and (styles or masks):
        raise ValueError(f"{type(model).__name__} translates images and takes no --style or --masks")
    if masks and len(masks) != len(styles):
        raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
    if tile is not None:
        from gan_style.inference.tiling import adain_content_statistics, adain_tile_fn, tile_spans, tiled_apply

        tile_multiple = max(multiple, 8) if stylizes else multiple  # AdaIN: VGG's three poolings
        tile_spans(tile, tile, tile_overlap, tile_multiple)  # refuses bad settings before any image is read
        if tile_norm not in ("image", "tile"):
            raise ValueError(f"tile_norm must be 'image' or 'tile', got {tile_norm!r}")
    with torch.no_grad():
        for path in contents:
            x = _prepare(path, size, 1, torch.device("cpu")) if tile else _prepare(path, size, multiple, dev)
            if stylizes:
                style_tensors = [_prepare(s, size, 1, dev) for s in styles]
                mask_tensors = None
                if masks:
                    mask_tensors = []
                    for m in masks:
                        with Image.open(m) as img:
                            grey = img.convert("L").resize((x.shape[-1], x.shape[-2]), Image.Resampling.NEAREST)
                        mask_tensors.append(to_tensor(grey.convert("RGB"))[:1].to(dev) * 0.5 + 0.5)
                if tile:  # style statistics computed once; content statistics of the whole image or per tile
                    recolour = x if preserve_color == "histogram" else None
                    stats = (
                        adain_content_statistics(model, x, tile, tile_overlap, dev) if tile_norm == "image" else None
                    )
                    fn = adain_tile_fn(model, style_tensors, alpha, style_weights, recolour, stats)
                    y = tiled_apply(fn, x, tile, tile_overlap, tile_multiple, device=dev)
                else:
                    y = model.stylize(
                        x,
                        style_tensors,
                        alpha=alpha,
                        style_weights=style_weights,
                        masks=mask_tensors,
                        preserve_color=preserve_color == "histogram",
                    )
                if preserve_color == "luminance":
                    y = combine_luminance(y, x)
                target = out_dir / f"{path.stem}_{style_tag}.png"
            else:
                key = "A"
                if tile:
                    translate = lambda t: model.translate({"A": t})[0]  # noqa: E731
                    norm = model if tile_norm == "image" else None
                    y = tiled_apply(translate, x, tile, tile_overlap, multiple, device=dev, whole_image_norm=norm)
                else:
                    y, _ = model.translate({key: x, f"{key}_path": [str(path)]})
                target = out_dir / f"{path.stem}.png"
            written.append(_write(y.clamp(-1, 1), target, inputs))
    print(f"stylize: wrote {len(written)} image(s) to {out_dir}")
    return written


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style stylize``: arguments parsed from :func:`stylize`'s signature."""
    import sys

    from jsonargparse import CLI

    try:
        CLI(stylize, args=args, as_positional=False, prog="gan-style stylize")
    except (ValueError, FileNotFoundError, KeyError) as exc:
        print(f"gan-style stylize: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
