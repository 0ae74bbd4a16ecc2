"""One decoded image through a stylizer for the web demo, by the one runner of every door
(:class:`gan_style.inference.run.Runner`): the same sizing, tiles, precision and backend as ``gan-style stylize``,
so a model, an image and settings give the same pixels in the page as on the command line (``tests/test_doors.py``
checks it).

Models trained on data other than 8-bit RGB (1 band, 16 bits, N bands: a stylizer with a recorded ``input_scaling``
/ ``output_scaling``, :func:`reads_data`) go through the same doors as ``gan-style stylize``: their files are read by
:func:`gan_style.inference.run.read_input` and written by :func:`gan_style.inference.run.write_output`; the page
shows them through the declared display mapping :func:`gan_style.io.imagery.display_rgb` (:func:`show_input`,
:func:`show_output`, with the bands of :func:`parse_bands`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gan_style.data.transforms import to_image, to_tensor
from gan_style.inference.stylizer import Stylizer

__all__ = [
    "describe_data",
    "mask_tensors",
    "parse_bands",
    "reads_data",
    "resolve_size",
    "show_input",
    "show_output",
    "stylize_image",
    "to_png",
]

Size = int | Literal["auto"] | None
Bands = int | tuple[int, int, int] | None


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
    content: Image.Image | Tensor,
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
        content: the content image: RGB (as :func:`gan_style.data.images.load_image` returns it), or a tensor
            ``(1, C, H, W)`` in [-1, 1] as :func:`gan_style.inference.run.read_input` reads a file for the model (the
            way in of models trained on other data than 8-bit RGB).
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
    x = to_tensor(content).unsqueeze(0) if isinstance(content, Image.Image) else content
    return runner(x, style_tensors, list(masks) or None, **controls)


def to_png(image: Tensor, target: Any) -> None:
    """Write ``image`` ``(1, C, H, W)`` in [-1, 1] as an 8-bit PNG to ``target`` (a path or a binary file), as
    ``gan-style stylize`` writes its outputs (:func:`gan_style.data.transforms.to_image`)."""
    to_image(image[0]).save(target, format="PNG")


def reads_data(stylizer: Stylizer) -> bool:
    """Whether ``stylizer`` reads or writes files other than 8-bit RGB: a model trained on 1-band, 16-bit or N-band
    data, which records the scaling of its input or output (``input_scaling`` / ``output_scaling``). False for 8-bit
    RGB models (every published one)."""
    return stylizer.input_scaling is not None or stylizer.output_scaling is not None


def describe_data(stylizer: Stylizer) -> tuple[str, str]:
    """(what it reads, what it writes) in words for a model of :func:`reads_data`:
    ``("4-band uint16 images (TIFF or .npy)", "uint16 .tif files")``; an 8-bit RGB side is
    ``"8-bit RGB images (PNG, JPEG or WebP)"`` / ``"8-bit RGB .png files"``."""
    from gan_style.inference.run import input_channels, output_suffix

    reads = "8-bit RGB images (PNG, JPEG or WebP)"
    scaling = stylizer.input_scaling
    if scaling is not None:
        bands = input_channels(stylizer)
        png = scaling.dtype in ("uint8", "uint16") and bands in (1, 3)  # what a PNG holds (write_array's rule)
        reads = f"{bands}-band {scaling.dtype} images ({'TIFF, PNG or .npy' if png else 'TIFF or .npy'})"
    dtype = stylizer.output_scaling.dtype if stylizer.output_scaling is not None else "8-bit RGB"
    return reads, f"{dtype} {output_suffix(stylizer)} files"


def parse_bands(text: Any) -> Bands:
    """The display bands a user typed, as :func:`gan_style.io.imagery.display_rgb` takes them.

    ``""`` or None: the default view (1 band as gray, the first three bands as RGB); ``"3"``: band 3 as gray;
    ``"3, 2, 1"`` (commas or spaces): bands 3, 2 and 1 as R, G and B. Bands are numbered from 0.

    Raises:
        ValueError: anything else (the message shows what was given).
    """
    words = str(text if text is not None else "").replace(",", " ").split()
    if not words:
        return None
    if len(words) in (1, 3) and all(w.isdigit() for w in words):
        numbers = tuple(int(w) for w in words)
        return numbers[0] if len(numbers) == 1 else numbers  # type: ignore[return-value]
    raise ValueError(
        f"Display bands must be one band number or three (R, G, B), numbered from 0 and separated by commas "
        f"(0, 1, 2), got {text!r}"
    )


def show_input(content: Tensor, bands: Bands = None) -> np.ndarray:
    """The content as the model reads it (``(1, C, H, W)`` or ``(C, H, W)`` in [-1, 1], from
    :func:`gan_style.inference.run.read_input`) through :func:`~gan_style.io.imagery.display_rgb`: uint8
    ``(H, W, 3)``, -1 black and +1 white in each band (the input scaling's mapping).

    ``bands`` (:func:`parse_bands`) are used when the content has every one of them, else it is shown in the default
    view (a model whose input has fewer bands than its output: gray labels to a 4-band image)."""
    from gan_style.io.imagery import display_rgb

    x = content[0] if content.dim() == 4 else content
    count = x.shape[0]
    numbers = [] if bands is None else ([bands] if isinstance(bands, int) else list(bands))
    return display_rgb(x, bands if numbers and max(numbers) < count else None)


def show_output(written: str | os.PathLike, stylizer: Stylizer, bands: Bands = None) -> np.ndarray:
    """An output file as written by :func:`gan_style.inference.run.write_output` (what the page offers to download
    and ``gan-style stylize`` writes) through :func:`~gan_style.io.imagery.display_rgb` with the model's
    ``output_scaling``: uint8 ``(H, W, 3)``; an 8-bit RGB output is shown as it is.

    Raises:
        ValueError: a band of ``bands`` the output does not have (one line naming the bands it has).
        ImageLoadError: the file cannot be read.
    """
    from gan_style.io.imagery import display_rgb, read_array

    return display_rgb(read_array(written), bands, scaling=stylizer.output_scaling)
