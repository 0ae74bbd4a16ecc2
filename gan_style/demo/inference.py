"""One image through a stylizer, with the sizing, controls and tiles of ``gan-style stylize``, from decoded images.

``gan-style stylize`` (:func:`gan_style.commands.stylize.stylize`) works on files; the web demo has images already
decoded (by :func:`gan_style.data.images.load_image`, as the command reads its files). :func:`stylize_image` runs
the same steps on them: the same sizing (:func:`~gan_style.inference.sizing.resize_for`), the same tensor
conversion (:func:`~gan_style.data.transforms.to_tensor`), the same call (the fast path
:class:`~gan_style.inference.fast.FastPath` for a feed-forward network, :func:`~gan_style.inference.stylize_tiled`
with tiles, the stylizer itself for an optimization), the same masks, so that a model, an image and settings give the same
pixels in the page as on the command line (``tests/test_demo.py`` checks it).

Kept in step with: :func:`gan_style.commands.stylize.stylize` (its per-image loop, ``_prepare`` and
``_load_masks``); a change to one belongs in both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from PIL import Image
from torch import Tensor

from gan_style.data.transforms import to_image, to_tensor
from gan_style.inference.fast import FastPath
from gan_style.inference.sizing import resize_for
from gan_style.inference.stylizer import Stylizer
from gan_style.inference.tiling import stylize_tiled, tile_spans

__all__ = ["mask_tensors", "resolve_size", "stylize_image", "to_png"]

Size = int | Literal["auto"] | None


def resolve_size(stylizer: Stylizer, size: Size) -> int | None:
    """The shorter side (pixels) ``stylizer`` runs at for ``size``, as ``gan-style stylize --size`` reads it:
    ``"auto"``: the model's own (:attr:`~gan_style.inference.Stylizer.default_size`), else 512; an int >= 1 as it
    is; None: the image's own size.

    Raises:
        ValueError: ``size`` is not ``"auto"``, None or an int >= 1.
    """
    if size == "auto":
        return stylizer.default_size or 512
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"size must be a number of pixels >= 1 (the shorter side), auto or original, got {size!r}")
    return size


def mask_tensors(masks: Sequence[Image.Image], height: int, width: int, device: torch.device) -> list[Tensor]:
    """Mask images as ``(1, height, width)`` float tensors in [0, 1] on ``device`` (white = 1): each converted to
    greyscale and resized to the content's size (nearest), as ``gan-style stylize --masks`` does."""
    tensors = []
    for mask in masks:
        grey = mask.convert("L").resize((width, height), Image.Resampling.NEAREST)
        tensors.append(to_tensor(grey.convert("RGB"))[:1].to(device) * 0.5 + 0.5)
    return tensors


def stylize_image(
    stylizer: Stylizer,
    content: Image.Image,
    styles: Sequence[Image.Image] = (),
    size: Size = "auto",
    masks: Sequence[Image.Image] = (),
    tile: int | None = None,
    tile_overlap: int = 64,
    tile_norm: Literal["image", "tile"] = "image",
    device: str | torch.device = "cpu",
    progress: bool = False,
    **controls: Any,
) -> Tensor:
    """Stylize or translate one decoded image exactly as ``gan-style stylize`` does with the same settings.

    Args:
        stylizer: the model's :class:`~gan_style.inference.Stylizer`, in eval mode on ``device``.
        content: the content image, RGB (as :func:`gan_style.data.images.load_image` returns it).
        styles: style images, RGB, for a stylizer that takes them (empty, the default: none).
        size: shorter side of the processed image in pixels, ``"auto"`` (default: the model's own, else 512) or
            None (the image's own); rounded down to the stylizer's size multiple (see ``gan-style stylize
            --size``). A stylizer that sizes its inputs itself (``resizes_inputs``, Gatys) gets the originals.
        masks: one mask image per style (white = apply that style there); empty (default): none.
        tile: run in overlapping tiles of this many pixels (:func:`~gan_style.inference.stylize_tiled`); None
            (default): the whole image at once.
        tile_overlap: minimum overlap of neighbouring tiles in pixels (64).
        tile_norm: ``"image"`` (default: normalization statistics of the whole image) or ``"tile"``.
        device: where the stylizer runs ("cpu").
        progress: a tqdm progress bar of tiles (False).
        controls: the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color``); None values are
            left out (the model's setting).

    Returns:
        ``(1, C, H, W)`` float32 on the CPU, in [-1, 1]: H, W the content's size after sizing (with tiles: the
        size before rounding to the size multiple).

    Raises:
        ValueError: style images missing or refused, a control the stylizer does not take, a mask count that
            differs from the style count, a ``size`` < 1, tiles with a stylizer that is not feed-forward or with
            masks, tile settings :func:`~gan_style.inference.tiled_apply` refuses (the messages are those of
            ``gan-style stylize``).
    """
    dev = torch.device(device)
    size = resolve_size(stylizer, size)
    controls = {k: v for k, v in controls.items() if v is not None}
    stylizer.check_inputs(list(styles), {**controls, "masks": list(masks) or None})
    if masks and len(masks) != len(styles):
        raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
    if tile is not None:
        if not stylizer.feed_forward or masks:
            raise ValueError(
                f"tiles work with a feed-forward network without masks; {stylizer.describe()} "
                f"{'runs an optimization' if not stylizer.feed_forward else 'was given masks'}"
            )
        tile_spans(tile, tile, tile_overlap, stylizer.tile_multiple)
    if tile_norm not in ("image", "tile"):
        raise ValueError(f"tile_norm must be 'image' or 'tile', got {tile_norm!r}")
    original = stylizer.resizes_inputs
    with torch.no_grad():
        style_tensors = [
            to_tensor(s).unsqueeze(0).to(dev) if original else resize_for(to_tensor(s).unsqueeze(0), size, 1).to(dev)
            for s in styles
        ]
        x = to_tensor(content).unsqueeze(0)
        if original:
            x = x.to(dev)
        elif tile:
            x = resize_for(x, size, 1)  # stays on the CPU: one tile at a time goes to the device
        else:
            x = resize_for(x, size, stylizer.size_multiple).to(dev)
        if masks:
            controls["masks"] = mask_tensors(masks, x.shape[-2], x.shape[-1], dev)
        if tile:
            y = stylize_tiled(
                stylizer,
                x,
                style_tensors or None,
                tile,
                tile_overlap,
                dev,
                tile_norm == "image",
                progress=progress,
                **controls,
            )
        elif stylizer.feed_forward:  # as stylize runs one image: the fast path (on a GPU: bfloat16, channels-last)
            y = FastPath(stylizer, "auto", dev, expected_calls=1)(x, style_tensors or None, **controls)
        else:
            y = stylizer(x, style_tensors or None, **controls)
    return y.clamp(-1, 1).float().cpu()


def to_png(image: Tensor, target: Any) -> None:
    """Write ``image`` ``(1, C, H, W)`` in [-1, 1] as an 8-bit PNG to ``target`` (a path or a binary file), as
    ``gan-style stylize`` writes its outputs (:func:`gan_style.data.transforms.to_image`)."""
    to_image(image[0]).save(target, format="PNG")
