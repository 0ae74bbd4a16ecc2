"""Listing image folders and reading image files robustly into RGB."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_style.errors import DatasetNotFoundError, ImageLoadError

__all__ = ["IMG_EXTENSIONS", "ImageLoadError", "is_image_file", "list_images", "load_image", "max_image_pixels"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")
"""File name endings (case-insensitive) taken as images; other files in a folder are ignored."""


def is_image_file(name: str | os.PathLike) -> bool:
    """Whether ``name`` ends in one of :data:`IMG_EXTENSIONS` (case-insensitive)."""
    return os.fspath(name).lower().endswith(IMG_EXTENSIONS)


def list_images(folder: str | os.PathLike, recursive: bool = True) -> list[Path]:
    """Sorted image files in ``folder`` (and its subfolders when ``recursive``), hidden files excluded.

    Raises:
        DatasetNotFoundError: ``folder`` does not exist, is not a folder, cannot be read (no permission: the
            message names the folder or subfolder), or holds no image files (the message lists the accepted
            endings). A subclass of ``FileNotFoundError``.
    """
    root = Path(folder)
    if not root.is_dir():
        what = "is not a folder" if root.exists() else "does not exist"
        raise DatasetNotFoundError(f"image folder '{root}' {what}; create it and put images in it, or fix the path")
    unreadable: list[OSError] = []
    files = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable.append):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        here = Path(dirpath)
        files += [here / f for f in filenames if not f.startswith(".") and is_image_file(f) and (here / f).is_file()]
    if unreadable:
        err = unreadable[0]
        raise DatasetNotFoundError(
            f"image folder '{err.filename or root}' cannot be read ({err.strerror or err}); give yourself read "
            "permission on it or fix the path"
        )
    files.sort()
    if not files:
        raise DatasetNotFoundError(
            f"image folder '{root}' contains no images (looked for {', '.join(IMG_EXTENSIONS)}); "
            "put images in it or fix the path"
        )
    return files


def max_image_pixels() -> int | None:
    """The most pixels (width x height) :func:`load_image` decodes, read at each call: twice
    ``PIL.Image.MAX_IMAGE_PIXELS``, Pillow's decompression-bomb limit (2 x 89 478 485 = 178 956 970 by default,
    about 13 377 x 13 377). Raise it by raising ``PIL.Image.MAX_IMAGE_PIXELS``; None when that is None (no limit).
    Video frames get the same limit (:class:`gan_style.inference.video.ClipReader`)."""
    limit = Image.MAX_IMAGE_PIXELS
    return None if limit is None else 2 * int(limit)


def _to_8bit(img: Image.Image) -> Image.Image:
    """16-bit and 32-bit single-channel images -> 8-bit 'L' by scaling the value range."""
    arr = np.asarray(img)
    if img.mode.startswith("I;16") or (img.mode == "I" and arr.max(initial=0) > 255):
        arr = arr.astype(np.float64) / 257.0  # 65535 -> 255
    elif img.mode == "F":
        top = float(arr.max(initial=0))
        arr = arr.astype(np.float64) * (255.0 if top <= 1.0 else 255.0 / top)
    return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), mode="L")


def load_image(path: str | os.PathLike) -> Image.Image:
    """Read ``path`` into an RGB ``PIL.Image`` (8 bits per channel).

    Conversions, always applied: the EXIF orientation tag is applied (a photo taken upright comes out
    upright); grayscale, CMYK and YCbCr become RGB; 16-bit and float single-channel images are scaled to
    8 bits; images with transparency (RGBA, LA, palette with a transparent colour) are composited over
    white.

    Raises:
        ImageLoadError: the file is missing, empty, not an image, truncated or corrupt, or over Pillow's
            decompression-bomb limit (more than twice ``PIL.Image.MAX_IMAGE_PIXELS`` pixels; between one and
            two times it Pillow only warns with ``DecompressionBombWarning``); the message names the file
            and, for the pixel limit, the setting to raise.
    """
    path = Path(path)
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
    except FileNotFoundError:
        raise ImageLoadError(f"image file '{path}' does not exist") from None
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(
            f"image file '{path}' is too large to decode safely ({exc}); downscale it, or raise "
            "PIL.Image.MAX_IMAGE_PIXELS if you trust the file"
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        size = path.stat().st_size if path.exists() else 0
        reason = "is empty (0 bytes)" if size == 0 else f"is not a readable image ({exc})"
        raise ImageLoadError(
            f"image file '{path}' {reason}; replace or remove it, or set skip_bad_images: true to skip "
            "unreadable files with a warning"
        ) from None
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        img = _to_8bit(img)
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "RGB" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img
