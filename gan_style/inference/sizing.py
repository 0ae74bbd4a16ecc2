"""Sizing images for a stylizer: the shorter side to a given size, both sides down to the stylizer's multiple, and
the bound on how large an output may be (:data:`MAX_OUTPUT_PIXELS`)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

__all__ = ["MAX_OUTPUT_PIXELS", "resize_for", "working_size"]

#: The most pixels (width x height) an output of ``gan-style stylize`` (images and video frames) and of the demo page
#: may have unless raised with ``--max_pixels``: 4096 x 4096 = 16 777 216. The output's size is what the request
#: asks for (``--size``, or the input's own size), checked before anything is decoded or resized, so that memory is
#: bounded by the request rather than by a small file that declares a huge size. (Reading images has its own,
#: larger, limit: :func:`gan_style.data.images.max_image_pixels`.)
MAX_OUTPUT_PIXELS = 4096 * 4096


def working_size(height: int, width: int, size: int | None, multiple: int) -> tuple[int, int]:
    """(H, W) an image of ``height`` x ``width`` pixels is processed at: the shorter side scaled to ``size`` (None:
    kept), the aspect ratio kept, then each side rounded down to a multiple of ``multiple`` (at least one
    multiple)."""
    h, w = height, width
    if size:
        scale = size / min(h, w)
        h, w = round(h * scale), round(w * scale)
    return max(multiple, h // multiple * multiple), max(multiple, w // multiple * multiple)


def resize_for(images: Tensor, size: int | None, multiple: int) -> Tensor:
    """``images`` (N, C, H, W) in [-1, 1] resized (bicubic, antialiased, clamped to [-1, 1]) to
    :func:`working_size`; returned as they are when already that size."""
    h, w = working_size(images.shape[-2], images.shape[-1], size, multiple)
    if (h, w) == tuple(images.shape[-2:]):
        return images
    return F.interpolate(images, size=(h, w), mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
