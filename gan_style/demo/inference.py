"""One decoded image through a stylizer for the web demo, by the one runner of every door
(:class:`gan_style.inference.run.Runner`): the same sizing, tiles, precision and backend as ``gan-style stylize``,
so a model, an image and settings give the same pixels in the page as on the command line (``tests/test_doors.py``
checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from PIL import Image
from torch import Tensor

from gan_style.data.transforms import to_image, to_tensor
from gan_style.inference.stylizer import Stylizer

__all__ = ["mask_tensors", "resolve_size", "stylize_image", "to_png"]

Size = int | Literal["auto"] | None


def resolve_size(stylizer: Stylizer, size: Size) -> int | None:
    """The shorter side (pixels) of the output for ``size``, as ``gan-style stylize --size`` reads it: None or
    ``"auto"``: the image's own size; an int >= 1 as it is (``stylizer`` is unused: kept for callers).

    Raises:
        ValueError: ``size`` is not ``"auto"``, None or an int >= 1.
    """
    if size == "auto" or size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(f"size must be a number of pixels >= 1 (the shorter side), auto or original, got {size!r}")
    return size


def mask_tensors(masks: Sequence[Image.Image], height: int, width: int, device: torch.device) -> list[Tensor]:
    """Mask images as ``(1, height, width)`` float tensors in [0, 1] on ``device`` (white = 1), resized nearest, as
    the runner sizes them."""
    from gan_style.inference.run import mask_tensors as runner_masks

    return runner_masks(masks, height, width, device)


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
    max_pixels: int | None = 16_777_216,
    **controls: Any,
) -> Tensor:
    """Stylize or translate one decoded image exactly as ``gan-style stylize`` does with the same settings.

    Args:
        stylizer: the model's :class:`~gan_style.inference.Stylizer`, in eval mode on ``device``.
        content: the content image, RGB (as :func:`gan_style.data.images.load_image` returns it).
        styles: style images, RGB, for a stylizer that takes them (empty, the default: none).
        size: shorter side of the output in pixels; ``"auto"`` (default) or None: the image's own size (see
            ``gan-style stylize --size``). A stylizer that sizes its inputs itself (``resizes_inputs``, Gatys) gets
            the originals.
        masks: one mask image per style (white = apply that style there); empty (default): none.
        tile: run in overlapping tiles of this many pixels (:func:`~gan_style.inference.stylize_tiled`); None
            (default): tiles only above the runner's pixel budget (1024 x 1024).
        tile_overlap: minimum overlap of neighbouring tiles in pixels (64).
        tile_norm: ``"image"`` (default: normalization statistics of the whole image) or ``"tile"``.
        device: where the stylizer runs ("cpu").
        progress: a tqdm progress bar of tiles (False).
        max_pixels: the most pixels the output may have (16777216 = 4096 x 4096); None: no bound.
        controls: the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color``); None values are
            left out (the model's setting).

    Returns:
        ``(1, C, H, W)`` float32 on the CPU, in [-1, 1]: the content's own size, or the shorter side ``size``.

    Raises:
        ValueError: style images missing or refused, a control the stylizer does not take, a mask count that
            differs from the style count, a ``size`` < 1, tiles with a stylizer that is not feed-forward or with
            masks, tile settings :func:`~gan_style.inference.tiled_apply` refuses, an output over ``max_pixels``
            (the messages are those of ``gan-style stylize``).
    """
    from gan_style.inference.run import Runner

    size = resolve_size(stylizer, size)
    controls = {k: v for k, v in controls.items() if v is not None}
    stylizer.check_inputs(list(styles), {**controls, "masks": list(masks) or None})
    if masks and len(masks) != len(styles):
        raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
    if tile is not None and masks:
        raise ValueError(f"tiles work without masks; {stylizer.describe()} was given masks")
    runner = Runner(
        stylizer,
        size=size if stylizer.feed_forward else None,
        tile=tile,
        tile_overlap=tile_overlap,
        tile_norm=tile_norm,
        device=device,
        max_pixels=max_pixels,
        expected_calls=1,
        progress=progress,
    )
    style_tensors = runner.prepare_styles([to_tensor(s).unsqueeze(0) for s in styles])
    return runner(to_tensor(content).unsqueeze(0), style_tensors, list(masks) or None, **controls)


def to_png(image: Tensor, target: Any) -> None:
    """Write ``image`` ``(1, C, H, W)`` in [-1, 1] as an 8-bit PNG to ``target`` (a path or a binary file), as
    ``gan-style stylize`` writes its outputs (:func:`gan_style.data.transforms.to_image`)."""
    to_image(image[0]).save(target, format="PNG")
