"""Listing image folders and reading image files robustly: into 8-bit RGB (:func:`load_image`), or as they are
stored, 1 to N bands at 8 bits, 16 bits or in floating point, scaled to [-1, 1] tensors (:class:`ArrayReader`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError

if TYPE_CHECKING:
    from torch import Tensor

    from gan_style.io.imagery import Scaling

__all__ = [
    "ARRAY_EXTENSIONS",
    "IMG_EXTENSIONS",
    "ArrayReader",
    "ImageLoadError",
    "is_image_file",
    "list_images",
    "load_image",
    "max_image_pixels",
]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp")
"""File name endings (case-insensitive) taken as images; other files in a folder are ignored."""

ARRAY_EXTENSIONS = (*IMG_EXTENSIONS, ".npy")
"""The endings listed for data read as arrays (:class:`ArrayReader`: channels other than 3, or a declared scaling):
:data:`IMG_EXTENSIONS` plus NumPy ``.npy`` (as :data:`gan_style.io.imagery.IMAGERY_EXTENSIONS`)."""


def is_image_file(name: str | os.PathLike, extensions: Sequence[str] = IMG_EXTENSIONS) -> bool:
    """Whether ``name`` ends in one of ``extensions`` (default :data:`IMG_EXTENSIONS`; case-insensitive)."""
    return os.fspath(name).lower().endswith(tuple(extensions))


def list_images(
    folder: str | os.PathLike, recursive: bool = True, extensions: Sequence[str] = IMG_EXTENSIONS
) -> list[Path]:
    """Sorted image files in ``folder`` (and its subfolders when ``recursive``, the default), hidden files excluded.

    ``extensions``: the file endings taken (default :data:`IMG_EXTENSIONS`; :data:`ARRAY_EXTENSIONS` adds ``.npy``).

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
        files += [
            here / f
            for f in filenames
            if not f.startswith(".") and is_image_file(f, extensions) and (here / f).is_file()
        ]
    if unreadable:
        err = unreadable[0]
        raise DatasetNotFoundError(
            f"image folder '{err.filename or root}' cannot be read ({err.strerror or err}); give yourself read "
            "permission on it or fix the path"
        )
    files.sort()
    if not files:
        raise DatasetNotFoundError(
            f"image folder '{root}' contains no images (looked for {', '.join(extensions)}); "
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


class ArrayReader:
    """Reads image files as they are stored and scales them to tensors: the reader of one domain (``"A"`` or
    ``"B"``) of a data module whose data is not 8-bit RGB (``channels`` other than 3, or a declared ``scaling``).

    :meth:`read` gives the file's array (H, W, ``channels``) in its own type (uint8, uint16, int16, float32 or
    float64), with 3 -> 1 (luminance) and 1 -> 3 (gray repeated) converted (:func:`gan_style.io.imagery.read_array`);
    :meth:`scale` maps it through :attr:`scaling` to a ``torch.float32`` tensor (``channels``, H, W) in [-1, 1];
    calling the reader does both.

    Args:
        channels: the band count of the domain, >= 1.
        setting: the data setting that declares the domain's scaling, for messages
            (``"data.init_args.scaling"``).
        scaling: the domain's :class:`~gan_style.io.imagery.Scaling` with its bounds, or None (default) until the
            data module has resolved it (percentile bounds are computed once from the training files).

    Raises:
        ImageLoadError: (:meth:`read`) an unreadable file, or one whose bands cannot become ``channels``.
        InvalidSettingError: (:meth:`scale`) no scaling yet, or a file whose type is not the scaling's; one line
            naming the file and the setting.
    """

    def __init__(self, channels: int, setting: str = "data.init_args.scaling", scaling: Scaling | None = None) -> None:
        self.channels = int(channels)
        self.setting = setting
        self.scaling = scaling

    def __repr__(self) -> str:
        return f"{type(self).__name__}(channels={self.channels}, scaling={self.scaling})"

    def read(self, path: str | os.PathLike, channels: int | None = None) -> np.ndarray:
        """The array (H, W, C) of ``path`` in the file's own type; C is ``channels`` (default: :attr:`channels`)."""
        from gan_style.io.imagery import read_array

        return read_array(path, channels=self.channels if channels is None else channels)

    def scale(self, array: np.ndarray, path: str | os.PathLike = "an array") -> Tensor:
        """``array`` (H, W, C) -> float32 (C, H, W) in [-1, 1] through :attr:`scaling`."""
        scaling = self.scaling
        if scaling is None:
            raise InvalidSettingError(
                f"{self.setting} is not resolved yet: read items through the data module's loaders, or after "
                "datamodule.scalings"
            )
        kind = array.dtype.newbyteorder("=").name
        if kind != scaling.dtype and not (kind.startswith("float") and scaling.dtype.startswith("float")):
            raise InvalidSettingError(
                f"image file '{path}' holds {kind} values but {self.setting} is for {scaling.dtype}; set its dtype "
                f"to {kind}, or convert the file"
            )
        try:
            return scaling.to_tensor(array)
        except InvalidSettingError as err:
            raise InvalidSettingError(f"image file '{path}': {err} ({self.setting})") from None

    def __call__(self, path: str | os.PathLike) -> Tensor:
        """:meth:`read` then :meth:`scale`: (C, H, W) float32 in [-1, 1]."""
        return self.scale(self.read(path), path)
