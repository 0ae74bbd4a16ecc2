"""Imagery beyond 8-bit RGB: reading and writing 1-, 3-, 4- and N-band images at 8 bits, 16 bits or in floating
point, a declared and exactly invertible scaling to the [-1, 1] tensors the networks take, and the display mapping
that turns any of them into an 8-bit RGB picture.

Arrays here are NumPy arrays laid out (H, W, C) (bands last) in the file's own type; tensors are
``torch.float32`` laid out (C, H, W) or (N, C, H, W) with values in [-1, 1]. The conversion between them happens
at the edges only: :meth:`Scaling.to_tensor` on the way in, :meth:`Scaling.from_tensor` on the way out.

| format (told by) | read | written by :func:`write_array` |
|---|---|---|
| PNG (file signature) | 8-bit 1-4 bands (Pillow); 16-bit gray (Pillow); 16-bit gray + alpha, RGB, RGBA (imagecodecs) | ``.png``: uint8 or uint16, 1 or 3 bands (2 or 4 with ``alpha=True``) |
| TIFF (file signature) | any band count, uint8/uint16/int16/float, bands as samples (interleaved or planar) or as pages (tifffile) | ``.tif`` / ``.tiff``: any band count, any of :data:`DTYPES`, uncompressed or zlib |
| NumPy (file signature) | (H, W), (H, W, C) or (C, H, W) | ``.npy``: anything, as (H, W, C) |
| JPEG, WebP, BMP, PPM ... | 8-bit gray or RGB, as :mod:`gan_style.data.images` reads them | ``.jpg`` / ``.jpeg`` / ``.bmp``: uint8, 1 or 3 bands; ``.webp``: uint8, 3 bands (4 with ``alpha=True``) |

Pillow cannot hold 16-bit colour PNG (it truncates them to 8 bits); those files are decoded and encoded with
``imagecodecs`` (libpng), the codec library of tifffile's author, which tifffile also uses for the compressed TIFF
variants (LZW, JPEG, PackBits) that it cannot decode alone.

torch is imported only by the functions that make or take tensors; nothing here imports Lightning or torchvision.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from PIL import Image, ImageOps

from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError
from gan_style.io.atomic import atomic_write

if TYPE_CHECKING:
    from torch import Tensor

__all__ = [
    "DTYPES",
    "IMAGERY_EXTENSIONS",
    "WRITE_SUFFIXES",
    "Scaling",
    "check_writable",
    "display_band_indices",
    "display_rgb",
    "image_size",
    "luminance",
    "max_image_pixels",
    "orient",
    "read_array",
    "write_array",
]

DTYPES = ("uint8", "uint16", "int16", "float32", "float64")
"""The value types :func:`read_array` returns and :class:`Scaling` and :func:`write_array` take. float16 files are
read as float32 (every float16 value is exact in float32); other types (int8, int32, bool ...) are refused."""

IMAGERY_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff", ".webp", ".npy")
"""File name endings (case-insensitive) that :func:`read_array` reads and :meth:`Scaling.fit` lists in a folder:
the endings of :data:`gan_style.data.images.IMG_EXTENSIONS` plus ``.npy``. The format itself is told by the
file's first bytes, not by its ending."""

WRITE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".npy")
"""The file endings :func:`write_array` writes; the ending chooses the format."""

_INTEGER_RANGES = {"uint8": (0, 255), "uint16": (0, 65535), "int16": (-32768, 32767)}
_FLOAT_DTYPES = ("float32", "float64")
_MAX_BANDS = 4096  # a longer list in a stored scaling is not band data
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_NPY_SIGNATURE = b"\x93NUMPY"
_ORIENTATION_TAG = 0x0112
_BAD_FILE_FIX = "replace or remove it, or set skip_bad_images: true to skip unreadable files with a warning"


def max_image_pixels() -> int | None:
    """The most pixels (width x height, whatever the band count) :func:`read_array` decodes, read at each call:
    twice ``PIL.Image.MAX_IMAGE_PIXELS`` (2 x 89 478 485 = 178 956 970 by default), None when that is None.

    The same limit as :func:`gan_style.data.images.max_image_pixels` (a copy of its rule, kept equal until that
    function returns this one). PNG, JPEG and the other formats Pillow opens are checked by Pillow itself; TIFF and
    ``.npy`` are checked from their headers before any pixel is decoded."""
    limit = Image.MAX_IMAGE_PIXELS
    return None if limit is None else 2 * int(limit)


# --- reading ------------------------------------------------------------------------------------------------------


def read_array(
    path: str | os.PathLike,
    channels: int | None = None,
    keep_alpha: bool = False,
    layout: Literal["auto", "HWC", "CHW"] = "auto",
) -> np.ndarray:
    """Read an image file into an array (H, W, C) of the file's own value type.

    The format is told by the file's first bytes (PNG, TIFF, NumPy ``.npy``; anything else goes to Pillow: JPEG,
    WebP, BMP, PPM/PGM, GIF ...):

    - 8-bit files (PNG, JPEG, WebP, BMP, 8-bit TIFF that are palette, CMYK, YCbCr or bilevel): ``uint8``. The EXIF
      orientation is applied as :func:`gan_style.data.images.load_image` applies it; palette images become RGB
      (RGBA with a transparent colour), CMYK and YCbCr become RGB.
    - 16-bit PNG: ``uint16``, gray (Pillow) or gray + alpha, RGB, RGBA (imagecodecs); an EXIF orientation stored
      before the image data is applied.
    - TIFF (tifffile): the first image series of the file in its own type (``uint8``, ``uint16``, ``int16``,
      ``float32``, ``float64``; float16 becomes float32). Its axes come from the file's metadata (tifffile's
      ``axes``, which follow the ``PlanarConfiguration`` tag and any shape metadata): ``YX`` is one band, ``YXS``
      (interleaved samples) is bands last, and one axis before ``YX`` (``SYX`` planar samples, or a stack of 2-D
      pages ``IYX`` / ``QYX`` / ``CYX`` / ``ZYX`` ...) is taken as the bands. The TIFF ``Orientation`` tag is
      applied.
    - NumPy ``.npy`` (``np.load(allow_pickle=False)``): (H, W) is one band, (H, W, C) is bands last; (C, H, W) is
      told apart by ``layout`` (see below).

    Args:
        path: the image file.
        channels: the band count wanted (None: the file's own, after alpha is handled). 1 from 3 bands is the
            luminance (:func:`luminance`, ITU-R 601-2 as Pillow's ``"L"``); 3 from 1 band repeats the gray.
            Any other mismatch is refused.
        keep_alpha: keep an alpha band (RGBA -> 4 bands, gray + alpha -> 2) as the last band (False: dropped; the
            colour values are kept as stored, not composited over a background). Alpha is known from PNG/WebP
            modes, a PNG transparent colour and the TIFF ``ExtraSamples`` tag; ``.npy`` bands are never alpha.
        layout: how a 3-D ``.npy`` array is laid out (other formats carry their layout): ``"HWC"``, ``"CHW"``, or
            ``"auto"`` (default): (C, H, W) when its first axis is shorter than its last (``(13, 256, 256)``),
            else (H, W, C) (``(256, 256, 13)``, and ties such as ``(3, 3, 3)``). Give it explicitly for images
            narrower than their band count.

    Returns:
        A C-contiguous array (H, W, C), C >= 1, of a type in :data:`DTYPES`, values as stored.

    Raises:
        ImageLoadError: the file is missing, empty, not an image, truncated or corrupt; more than
            :func:`max_image_pixels` pixels; of a value type outside :data:`DTYPES`; not one 2-D image (a 4-D TIFF
            hyperstack, a 1-D or 4-D array); or its band count does not fit ``channels``. One line naming the file
            and the fix.
        InvalidSettingError: ``channels`` < 1 or ``layout`` unknown.
    """
    if channels is not None and (isinstance(channels, bool) or not isinstance(channels, int) or channels < 1):
        raise InvalidSettingError(f"channels must be a band count >= 1 or null, got {channels!r}")
    if layout not in ("auto", "HWC", "CHW"):
        raise InvalidSettingError(f"layout must be 'auto', 'HWC' or 'CHW', got {layout!r}")
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except FileNotFoundError:
        raise ImageLoadError(f"image file '{path}' does not exist") from None
    except IsADirectoryError:
        raise ImageLoadError(f"image file '{path}' is a folder, not an image file; fix the path") from None
    except OSError as exc:
        raise ImageLoadError(
            f"image file '{path}' cannot be read ({exc.strerror or exc}); fix its permissions"
        ) from None
    if not head:
        raise ImageLoadError(f"image file '{path}' is empty (0 bytes); {_BAD_FILE_FIX}")
    try:
        if head.startswith(_NPY_SIGNATURE):
            array, alpha = _read_npy(path, layout), False
        elif head.startswith(_TIFF_SIGNATURES):
            array, alpha = _read_tiff(path, keep_alpha)
        else:
            array, alpha = _read_pillow(path, head, keep_alpha)
    except (ImageLoadError, MemoryError):
        raise
    except Image.DecompressionBombError as exc:
        raise ImageLoadError(_too_large(path, str(exc))) from None
    except Exception as exc:  # noqa: BLE001 - every decoder's own error becomes one line naming the file
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ImageLoadError(f"image file '{path}' is not a readable image ({reason}); {_BAD_FILE_FIX}") from None
    if alpha and not keep_alpha:
        array = array[..., :-1]
    array = _native(array, path)
    if channels is not None and array.shape[-1] != channels:
        array = _convert_bands(array, channels, path, alpha and keep_alpha)
    return np.ascontiguousarray(array)


def _too_large(path: Path, detail: str) -> str:
    return (
        f"image file '{path}' is too large to decode safely ({detail}); downscale it, or raise "
        "PIL.Image.MAX_IMAGE_PIXELS if you trust the file"
    )


def _check_pixels(path: Path, height: int, width: int) -> None:
    limit = max_image_pixels()
    if limit is not None and height * width > limit:
        raise ImageLoadError(
            _too_large(path, f"{width} x {height} = {height * width} pixels, more than the limit of {limit}")
        )


def _native(array: np.ndarray, path: Path) -> np.ndarray:
    """``array`` in native byte order and a type of :data:`DTYPES` (float16 -> float32)."""
    if array.dtype == np.float16:
        return array.astype(np.float32)
    native = array.dtype.newbyteorder("=")
    if native.name not in DTYPES:
        raise ImageLoadError(
            f"image file '{path}' holds {array.dtype.name} values; gan-style reads {', '.join(DTYPES)}: convert the "
            "file to one of them"
        )
    return array.astype(native, copy=False)


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """``array`` (H, W, ...) turned upright by an EXIF/TIFF orientation code (1-8, as Pillow's
    ``ImageOps.exif_transpose``: 2 mirrored, 3 rotated 180, 4 flipped, 5 transposed, 6 turned 90 clockwise to be
    upright, 7 transversed, 8 turned 90 counter-clockwise); any other code leaves it as it is."""
    if orientation == 2:
        return array[:, ::-1]
    if orientation == 3:
        return array[::-1, ::-1]
    if orientation == 4:
        return array[::-1]
    if orientation == 5:
        return array.swapaxes(0, 1)
    if orientation == 6:
        return np.rot90(array, -1)
    if orientation == 7:
        return array[::-1, ::-1].swapaxes(0, 1)
    if orientation == 8:
        return np.rot90(array, 1)
    return array


def image_size(path: str | os.PathLike, layout: Literal["auto", "HWC", "CHW"] = "auto") -> tuple[int, int]:
    """(width, height) in pixels of an image file as :func:`read_array` reads it, from its header only (nothing is
    decoded): to refuse a huge image before reading it with a limit of one's own.

    Args:
        path: the image file (PNG, TIFF, ``.npy``, or anything Pillow opens).
        layout: how a 3-D ``.npy`` array is laid out, as :func:`read_array`'s (``"auto"``, the default).

    Returns:
        ``(width, height)``; before any EXIF or TIFF orientation is applied (so possibly swapped, same product).

    Raises:
        ImageLoadError: the file cannot be opened or its header read (one line naming the file).
    """
    path = Path(path)
    try:
        with open(path, "rb") as f:
            head = f.read(32)
        if head.startswith(_NPY_SIGNATURE):
            shape, _, chw = _npy_header(path, layout)
            height, width = shape[1:3] if chw else shape[:2]
            return int(width), int(height)
        if head.startswith(_TIFF_SIGNATURES):
            import tifffile

            with tifffile.TiffFile(path) as tif:
                axes, shape = tif.series[0].axes, tif.series[0].shape
                return int(shape[axes.index("X")]), int(shape[axes.index("Y")])
        with Image.open(path) as image:
            return image.size
    except ImageLoadError:
        raise
    except Exception as exc:  # noqa: BLE001 - every reader's own error becomes one line naming the file
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise ImageLoadError(f"image file '{path}' is not a readable image ({reason}); {_BAD_FILE_FIX}") from None


def _npy_header(path: Path, layout: str) -> tuple[tuple[int, ...], np.dtype, bool]:
    """The shape and type of a ``.npy`` file from its header, and whether it is (C, H, W); nothing is unpickled."""
    with open(path, "rb") as f:
        version = np.lib.format.read_magic(f)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, dtype = header(f)
    if dtype.hasobject:
        raise ImageLoadError(
            f"image file '{path}' holds Python objects, which gan-style never unpickles; save a numeric array"
        )
    if len(shape) not in (2, 3) or 0 in shape:
        raise ImageLoadError(
            f"image file '{path}' holds an array of shape {tuple(shape)}; an image is (H, W), (H, W, C) or "
            "(C, H, W): save one image per file"
        )
    chw = len(shape) == 3 and (layout == "CHW" or (layout == "auto" and shape[0] < shape[2]))
    return tuple(shape), dtype, chw


def _read_npy(path: Path, layout: str) -> np.ndarray:
    shape, _, chw = _npy_header(path, layout)  # the header first: shape and type, nothing unpickled or decoded
    _check_pixels(path, *(shape[1:3] if chw else shape[:2]))
    data = np.load(path, mmap_mode="r", allow_pickle=False)
    data = data[..., None] if data.ndim == 2 else (np.moveaxis(data, 0, -1) if chw else data)
    return np.array(data)  # out of the memory map


def _read_tiff(path: Path, keep_alpha: bool) -> tuple[np.ndarray, bool]:
    import tifffile
    from tifffile import EXTRASAMPLE, PHOTOMETRIC

    with tifffile.TiffFile(path) as tif:
        if not tif.series:
            raise ImageLoadError(
                f"image file '{path}' is not a readable image (a TIFF without images); {_BAD_FILE_FIX}"
            )
        series = tif.series[0]
        page = series.keyframe
        axes, shape = series.axes, tuple(series.shape)
        bits = page.bitspersample
        odd_colour = page.photometric in (
            PHOTOMETRIC.PALETTE,
            PHOTOMETRIC.SEPARATED,
            PHOTOMETRIC.YCBCR,
            PHOTOMETRIC.MINISWHITE,
            PHOTOMETRIC.CIELAB,
        )
        if bits == 1 or (odd_colour and bits <= 8):
            return _read_pillow(path, b"", keep_alpha)  # 8-bit colour models and bilevel: Pillow's conversions
        if odd_colour:
            raise ImageLoadError(
                f"image file '{path}' is a {bits}-bit TIFF in the {page.photometric.name} colour model; gan-style "
                "reads TIFF beyond 8 bits as gray, RGB or plain bands: convert the file"
            )
        if "Y" not in axes or "X" not in axes:
            raise ImageLoadError(f"image file '{path}' has TIFF axes {axes}, without rows and columns; {_BAD_FILE_FIX}")
        _check_pixels(path, shape[axes.index("Y")], shape[axes.index("X")])
        orientation = page.tags.get("Orientation")
        orientation = int(orientation.value) if orientation is not None else 1
        extras = tuple(page.extrasamples or ())
        data = series.asarray()
    alpha = False
    if axes == "YX":
        data = data[..., None]
    elif axes == "YXS":
        alpha = bool(extras) and extras[-1] in (EXTRASAMPLE.ASSOCALPHA, EXTRASAMPLE.UNASSALPHA)
    elif len(axes) == 3 and axes.endswith("YX"):
        data = np.moveaxis(data, 0, -1)  # planar samples (SYX) or a stack of 2-D pages: bands
        alpha = axes[0] == "S" and bool(extras) and extras[-1] in (EXTRASAMPLE.ASSOCALPHA, EXTRASAMPLE.UNASSALPHA)
    else:
        raise ImageLoadError(
            f"image file '{path}' holds a {len(axes)}-D TIFF image (axes {axes}, shape {shape}); gan-style reads one "
            "2-D image per file, its bands as samples or as pages: save one image per file"
        )
    return orient(data, orientation), alpha


def _png_header(head: bytes) -> tuple[int, int] | None:
    """(bit depth, colour type) from a PNG's IHDR chunk, None for another format."""
    if head.startswith(_PNG_SIGNATURE) and len(head) >= 26 and head[12:16] == b"IHDR":
        return head[24], head[25]
    return None


def _read_pillow(path: Path, head: bytes, keep_alpha: bool) -> tuple[np.ndarray, bool]:
    with Image.open(path) as img:
        if _png_header(head) in ((16, 2), (16, 4), (16, 6)):  # 16-bit RGB, gray + alpha, RGBA: not for Pillow
            import imagecodecs

            exif = img.info.get("exif")
            data = imagecodecs.png_decode(path.read_bytes())
            orientation = 1
            if exif:
                found = Image.Exif()
                found.load(exif)
                orientation = int(found.get(_ORIENTATION_TAG, 1))
            return orient(data, orientation), data.shape[-1] in (2, 4)
        img.load()
        img = ImageOps.exif_transpose(img)
    mode = img.mode
    if mode == "1":
        img = img.convert("L")
    elif mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode == "PA" or mode == "RGBa":
        img = img.convert("RGBA")
    elif mode == "La":
        img = img.convert("LA")
    elif mode in ("RGB", "L") and "transparency" in img.info:
        img = img.convert(("RGBA" if mode == "RGB" else "LA") if keep_alpha else mode)
    elif mode in ("RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    data = np.asarray(img)
    if img.mode == "I":
        if data.size and (data.min() < 0 or data.max() > 65535):
            raise ImageLoadError(
                f"image file '{path}' holds 32-bit integers beyond 0-65535; save it as 16-bit, float TIFF or .npy"
            )
        data = data.astype(np.uint16)
    if data.ndim == 2:
        data = data[..., None]
    return data, img.mode in ("RGBA", "LA")


# --- bands --------------------------------------------------------------------------------------------------------


def luminance(array: np.ndarray) -> np.ndarray:
    """The luminance (H, W, 1) of an RGB array (H, W, 3), in its own type: ITU-R 601-2,
    L = 0.299 R + 0.587 G + 0.114 B, as Pillow's ``convert("L")``.

    uint8 uses Pillow's integer form, (19595 R + 38470 G + 7471 B + 32768) >> 16, so 8-bit results equal Pillow's
    to the level. uint16 and int16 compute the formula in float64, rounded half to even (within half a level of it:
    Pillow's integer weights would be up to 0.8 of a 16-bit level off); floats compute it in float64."""
    array = np.asarray(array)
    if array.ndim != 3 or array.shape[-1] != 3:
        raise ValueError(f"luminance takes an RGB array (H, W, 3), got shape {array.shape}")
    if array.dtype == np.uint8:
        rgb = array.astype(np.int32)
        y = (rgb[..., 0] * 19595 + rgb[..., 1] * 38470 + rgb[..., 2] * 7471 + 32768) >> 16
        return y.astype(np.uint8)[..., None]
    wide = array.astype(np.float64)
    y = wide[..., 0] * 0.299 + wide[..., 1] * 0.587 + wide[..., 2] * 0.114
    if array.dtype.kind in "ui":
        info = np.iinfo(array.dtype)
        y = np.clip(np.rint(y), info.min, info.max)
    return y.astype(array.dtype)[..., None]


def _convert_bands(array: np.ndarray, channels: int, path: Path, with_alpha: bool) -> np.ndarray:
    have = array.shape[-1]
    if not with_alpha and have == 3 and channels == 1:
        return luminance(array)
    if not with_alpha and have == 1 and channels == 3:
        return np.repeat(array, 3, axis=-1)
    alpha = " including alpha (keep_alpha is set)" if with_alpha else ""
    raise ImageLoadError(
        f"image file '{path}' has {have} band(s){alpha}, but channels is {channels}; only 3 -> 1 (luminance) and "
        f"1 -> 3 (gray repeated) are converted: set channels to {have} (or null), or convert the file"
    )


# --- writing ------------------------------------------------------------------------------------------------------

_PILLOW_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".webp": "WEBP", ".bmp": "BMP"}


def write_array(
    path: str | os.PathLike,
    array: np.ndarray,
    alpha: bool = False,
    compression: Literal["zlib"] | None = None,
) -> Path:
    """Write an array to an image file whose ending chooses the format; the write is atomic
    (:func:`gan_style.io.atomic.atomic_write`: a temporary file beside ``path``, renamed over it when complete).

    | ending | what it holds |
    |---|---|
    | ``.png`` | uint8 or uint16, 1 or 3 bands; 4 (RGBA) or 2 (gray + alpha) with ``alpha=True``; 8-bit through Pillow (as the 8-bit writers of gan-style), 16-bit through imagecodecs (libpng) |
    | ``.jpg`` ``.jpeg`` | uint8, 1 or 3 bands (lossy; Pillow's default quality) |
    | ``.bmp`` | uint8, 1 or 3 bands |
    | ``.webp`` | uint8, 3 bands; 4 with ``alpha=True`` (lossy; Pillow's default quality) |
    | ``.tif`` ``.tiff`` | any band count, any of :data:`DTYPES` (tifffile): 1 band as gray, 3 as RGB, 4 or 2 with ``alpha=True`` as RGBA or gray + alpha, any other count as interleaved bands |
    | ``.npy`` | anything, as (H, W, C) (``np.save``) |

    Args:
        path: the target file; its folder is created if needed and an existing file is replaced.
        array: (H, W) or (H, W, C), C >= 1, of a type in :data:`DTYPES` (as :func:`read_array` and
            :meth:`Scaling.from_tensor` give it).
        alpha: the last band is alpha (False). PNG and WebP take 4 bands (2 in PNG) only with it; TIFF marks it as
            unassociated alpha; ``.npy`` ignores it.
        compression: TIFF only: None (default: uncompressed, read by every TIFF reader) or ``"zlib"``
            (Deflate, lossless).

    Returns:
        ``path`` as a ``Path``.

    Raises:
        InvalidSettingError: an ending outside :data:`WRITE_SUFFIXES`, an array that is not (H, W) or (H, W, C), a
            type outside :data:`DTYPES`, an unknown ``compression``, or a type and band count the format cannot hold
            (float or 13 bands to ``.png``); one line naming the file and the formats that can hold it. Nothing
            is written then.
        OSError: from the file system; ``path`` is left as it was.
    """
    path = Path(path)
    array = np.asarray(array)
    if compression not in (None, "zlib"):
        raise InvalidSettingError(f"compression must be null or 'zlib', got {compression!r}")
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or 0 in array.shape:
        raise InvalidSettingError(f"cannot write '{path}': an image array is (H, W) or (H, W, C), got {array.shape}")
    dtype = array.dtype.newbyteorder("=").name
    check_writable(path, dtype, array.shape[-1], alpha)
    array = np.ascontiguousarray(array.astype(dtype, copy=False))
    bands, suffix = array.shape[-1], path.suffix.lower()
    if suffix == ".npy":
        with atomic_write(path) as f:
            np.save(f, array, allow_pickle=False)
        return path
    if suffix in (".tif", ".tiff"):
        _write_tiff(path, array, alpha, compression)
        return path
    if dtype == "uint16":
        import imagecodecs

        encoded = imagecodecs.png_encode(array[..., 0] if bands == 1 else array)
        with atomic_write(path) as f:
            f.write(encoded)
        return path
    image = Image.fromarray(array[..., 0] if bands == 1 else array)  # L, LA, RGB or RGBA
    with atomic_write(path) as f:
        image.save(f, format=_PILLOW_FORMATS[suffix])
    return path


def check_writable(path: str | os.PathLike, dtype: str, bands: int, alpha: bool = False) -> None:
    """Refuse, before anything is computed or written, what :func:`write_array` would refuse for ``path``: its
    ending (the format) cannot hold ``bands`` bands of ``dtype`` (with ``alpha`` as :func:`write_array`'s).

    Args:
        path: the target file; only its ending is looked at.
        dtype: the type of the data, a name (``"uint16"``).
        bands: the band count, >= 1.
        alpha: the last band is alpha (False).

    Raises:
        InvalidSettingError: an ending outside :data:`WRITE_SUFFIXES`, a type outside :data:`DTYPES`, or a type and
            band count the format cannot hold; one line naming the file and the formats that can hold the data.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise InvalidSettingError(
            f"cannot write '{path}': the ending '{path.suffix}' is no image format gan-style writes; use one of "
            f"{', '.join(WRITE_SUFFIXES)}"
        )
    if dtype not in DTYPES:
        raise InvalidSettingError(f"cannot write '{path}': {dtype} values; convert them to one of {', '.join(DTYPES)}")
    if suffix in (".npy", ".tif", ".tiff"):
        return
    allowed = {
        ".png": ({"uint8", "uint16"}, {1, 3} | ({2, 4} if alpha else set())),
        ".jpg": ({"uint8"}, {1, 3}),
        ".jpeg": ({"uint8"}, {1, 3}),
        ".bmp": ({"uint8"}, {1, 3}),
        ".webp": ({"uint8"}, {3} | ({4} if alpha else set())),
    }[suffix]
    if dtype not in allowed[0] or bands not in allowed[1]:
        raise InvalidSettingError(
            f"cannot write {dtype} data with {bands} band(s) to '{path}': {_holds(suffix)}; write it as "
            f"{_fits(dtype, bands, alpha)}"
        )


def _holds(suffix: str) -> str:
    return {
        ".png": "PNG holds uint8 or uint16 with 1 or 3 bands (2 or 4 with alpha=True)",
        ".jpg": "JPEG holds uint8 with 1 or 3 bands",
        ".jpeg": "JPEG holds uint8 with 1 or 3 bands",
        ".bmp": "BMP holds uint8 with 1 or 3 bands",
        ".webp": "WebP holds uint8 with 3 bands (4 with alpha=True)",
    }[suffix]


def _fits(dtype: str, bands: int, alpha: bool) -> str:
    """The endings that can hold ``dtype`` with ``bands`` bands, for an error message."""
    fits = []
    if dtype in ("uint8", "uint16") and (bands in (1, 3) or (alpha and bands in (2, 4))):
        fits.append(".png")
    if dtype == "uint8" and bands in (1, 3):
        fits.append(".jpg")
    fits += [".tif", ".npy"]
    return ", ".join(fits[:-1]) + " or " + fits[-1]


def _write_tiff(path: Path, array: np.ndarray, alpha: bool, compression: str | None) -> None:
    import tifffile

    bands = array.shape[-1]
    options: dict[str, Any] = {"compression": compression}
    if bands == 1:
        data, options["photometric"] = array[..., 0], "minisblack"
    elif bands == 3 or (bands == 4 and alpha):
        data, options["photometric"] = array, "rgb"
    else:
        data, options["photometric"] = array, "minisblack"
    if bands > 1:
        options["planarconfig"] = "contig"
        if alpha and bands in (2, 4):
            options["extrasamples"] = ["unassalpha"]
    with atomic_write(path) as f:
        tifffile.imwrite(f, data, **options)


# --- scaling to [-1, 1] -------------------------------------------------------------------------------------------


def _number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidSettingError(f"{what} must be a finite number, got {value!r}")
    return float(value)


def _bounds(value: Any, what: str) -> float | tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, (list, tuple, np.ndarray)):
        values = list(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else list(value)
        if not 1 <= len(values) <= _MAX_BANDS:
            raise InvalidSettingError(f"{what} must hold 1 to {_MAX_BANDS} numbers (one per band), got {len(values)}")
        return tuple(_number(v, f"{what}[{i}]") for i, v in enumerate(values))
    if isinstance(value, np.generic):
        value = value.item()
    return _number(value, what)


@dataclass(frozen=True)
class Scaling:
    """How data values map to the [-1, 1] of the networks, declared once and inverted exactly on output.

    A value x of band c becomes ``2 * (x - low[c]) / (high[c] - low[c]) - 1``, clipped to [-1, 1]; the inverse
    maps [-1, 1] back to [low, high], rounded half to even and clipped for integer types. Values inside
    [low, high] come back exactly for uint8, uint16 and int16 (float32 tensors hold 24 bits of mantissa, more than
    the 16 the data has) and within 1e-6 of (high - low) for float data; values outside are clipped.

    Args:
        kind: ``"range"`` (default): fixed bounds, by default the type's full range (uint8 0-255, uint16 0-65535,
            int16 -32768-32767); float data needs ``low`` and ``high`` given or computed by :meth:`fit` (minimum
            and maximum). Give ``low`` / ``high`` for data that uses part of its type, such as 12-bit sensors in
            uint16 (``high=4095``). ``"percentile"``: the bounds are the ``percentiles`` of a dataset, computed once
            by :meth:`fit` and stored with the run (:meth:`to_dict`); values beyond them are clipped.
        dtype: the data's value type, one of :data:`DTYPES` ("uint8"); :meth:`from_tensor` returns it and
            :meth:`to_tensor` checks it (float32 and float64 data are interchangeable).
        low: the value mapped to -1: one number for every band, a tuple of one per band, or None (the type's
            minimum for a ``range`` of an integer type; otherwise not known until :meth:`fit`).
        high: the value mapped to +1, as ``low``; greater than ``low`` in every band.
        percentiles: ``(lower, upper)`` percentiles in [0, 100] for ``kind="percentile"`` ((0.5, 99.5)): at most
            1 % of the values, the outliers at either end (hot or dead pixels, saturated glints, speckle), is
            clipped, so that a few extreme values do not squeeze the rest of the data into a sliver of [-1, 1];
            between the 1/99 of common satellite display stretches and the 0.1/99.9 that keeps almost every value.
        per_band: bounds for each band (True, default: bands of different brightness, such as multispectral,
            each use the whole range) or one pair over all bands (False: keeps the ratios between bands, such as
            the colour balance of RGB). Used by :meth:`fit`.

    Raises:
        InvalidSettingError: an unknown ``kind`` or ``dtype``; ``low`` or ``high`` given alone, not finite, of
            different lengths, with ``high <= low`` in a band, or outside an integer type's range; ``percentiles``
            not two numbers 0 <= lower < upper <= 100; ``per_band`` not a bool.
    """

    kind: Literal["range", "percentile"] = "range"
    dtype: str = "uint8"
    low: float | tuple[float, ...] | None = None
    high: float | tuple[float, ...] | None = None
    percentiles: tuple[float, float] = (0.5, 99.5)
    per_band: bool = True

    def __post_init__(self) -> None:
        if self.kind not in ("range", "percentile"):
            raise InvalidSettingError(f"scaling kind must be 'range' or 'percentile', got {self.kind!r}")
        if self.dtype not in DTYPES:
            raise InvalidSettingError(f"scaling dtype must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if not isinstance(self.per_band, bool):
            raise InvalidSettingError(f"scaling per_band must be true or false, got {self.per_band!r}")
        pct = self.percentiles
        if not isinstance(pct, (list, tuple)) or len(pct) != 2:
            raise InvalidSettingError(f"scaling percentiles must be two numbers (lower, upper), got {pct!r}")
        pct = (_number(pct[0], "scaling percentiles[0]"), _number(pct[1], "scaling percentiles[1]"))
        if not 0 <= pct[0] < pct[1] <= 100:
            raise InvalidSettingError(f"scaling percentiles must satisfy 0 <= lower < upper <= 100, got {list(pct)}")
        low, high = _bounds(self.low, "scaling low"), _bounds(self.high, "scaling high")
        if (low is None) != (high is None):
            raise InvalidSettingError("scaling low and high go together: give both or neither")
        if low is None and self.kind == "range" and self.dtype in _INTEGER_RANGES:
            low, high = (float(v) for v in _INTEGER_RANGES[self.dtype])
        if low is not None:
            lows, highs = np.atleast_1d(low), np.atleast_1d(high)
            if isinstance(low, tuple) and isinstance(high, tuple) and len(low) != len(high):
                raise InvalidSettingError(f"scaling low and high have {len(low)} and {len(high)} bands; give one each")
            if np.any(highs <= lows):
                raise InvalidSettingError(f"scaling high must exceed low in every band, got low={low}, high={high}")
            if self.dtype in _INTEGER_RANGES:
                lo, hi = _INTEGER_RANGES[self.dtype]
                if lows.min() < lo or highs.max() > hi:
                    raise InvalidSettingError(
                        f"scaling low/high ({low}, {high}) lie outside the {self.dtype} range {lo}-{hi}"
                    )
        object.__setattr__(self, "percentiles", pct)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)

    # -- what it holds

    @property
    def fitted(self) -> bool:
        """Whether the bounds are known (False for ``percentile`` and for float ``range`` before :meth:`fit`)."""
        return self.low is not None

    @property
    def bands(self) -> int | None:
        """The band count the bounds are for, or None when one pair serves any band count."""
        for value in (self.low, self.high):
            if isinstance(value, tuple):
                return len(value)
        return None

    def _bounds_for(self, bands: int, what: str) -> tuple[np.ndarray, np.ndarray]:
        if not self.fitted:
            raise InvalidSettingError(
                f"scaling ({self.kind}, {self.dtype}) has no bounds yet: give low and high, or compute them with "
                "Scaling.fit(folder)"
            )
        if self.bands is not None and self.bands != bands:
            raise InvalidSettingError(f"{what} has {bands} band(s), but the scaling is for {self.bands} bands")
        low = np.broadcast_to(np.asarray(self.low, dtype=np.float64), (bands,))
        high = np.broadcast_to(np.asarray(self.high, dtype=np.float64), (bands,))
        return low, high

    def _check_dtype(self, dtype: np.dtype) -> None:
        name = np.dtype(dtype).newbyteorder("=").name
        same = name == self.dtype or (name in _FLOAT_DTYPES and self.dtype in _FLOAT_DTYPES)
        if not same:
            raise InvalidSettingError(
                f"the data is {name} but the scaling is for {self.dtype}; set the scaling's dtype to {name}"
            )

    # -- the mapping

    def to_tensor(self, array: np.ndarray) -> Tensor:
        """Data (H, W) or (H, W, C) of type :attr:`dtype` -> ``torch.float32`` (C, H, W) in [-1, 1] (clipped).

        Integer data is mapped in float32 as torchvision's ``to_dtype(..., scale=True) * 2 - 1``, so 8-bit data
        with the default bounds gives the same bits as :func:`gan_style.data.transforms.to_tensor`; float data is
        mapped in float64 and rounded once to float32.

        Raises:
            InvalidSettingError: the scaling has no bounds yet, the array's type is not :attr:`dtype`, its band
                count differs from per-band bounds, or it is not 2-D or 3-D.
        """
        import torch

        array = np.asarray(array)
        if array.ndim == 2:
            array = array[..., None]
        if array.ndim != 3:
            raise InvalidSettingError(f"to_tensor takes an array (H, W) or (H, W, C), got shape {array.shape}")
        self._check_dtype(array.dtype)
        low, high = self._bounds_for(array.shape[-1], "the data")
        if array.dtype.kind == "f":  # in float64, then rounded once to float32
            scaled = (array.astype(np.float64) - low) * (2.0 / (high - low)) - 1.0
            np.clip(scaled, -1.0, 1.0, out=scaled)
            return torch.from_numpy(np.ascontiguousarray(scaled.astype(np.float32).transpose(2, 0, 1)))
        # integers: in float32, as torchvision's to_dtype(scale=True) * 2 - 1, so 8-bit RGB gives the same bits as
        # gan_style.data.transforms.to_tensor; every 8- and 16-bit level still comes back through from_tensor
        planes = np.ascontiguousarray(array.transpose(2, 0, 1))
        x = torch.from_numpy(planes if planes.flags.writeable else planes.copy()).to(torch.float32)
        shift = torch.from_numpy(low.astype(np.float32)).view(-1, 1, 1)
        unit = torch.from_numpy((1.0 / (high - low)).astype(np.float32)).view(-1, 1, 1)
        x = x if not shift.any() else x - shift
        return (x * unit * 2.0 - 1.0).clamp_(-1.0, 1.0).contiguous()

    def from_tensor(self, tensor: Tensor | np.ndarray) -> np.ndarray:
        """Model values (C, H, W) or (N, C, H, W) in [-1, 1] (a tensor on any device, or an array) -> data of type
        :attr:`dtype`, (H, W, C) or (N, H, W, C): clamped to [-1, 1], mapped to [low, high], and for integer
        types rounded half to even and clipped to the type's range.

        Raises:
            InvalidSettingError: the scaling has no bounds yet, the input is not 3-D or 4-D, or its band count
                differs from per-band bounds.
        """
        if isinstance(tensor, np.ndarray):
            values = tensor.astype(np.float64)
        else:
            values = tensor.detach().to("cpu").double().numpy()
        if values.ndim not in (3, 4):
            raise InvalidSettingError(f"from_tensor takes (C, H, W) or (N, C, H, W), got shape {tuple(values.shape)}")
        low, high = self._bounds_for(values.shape[-3], "the tensor")
        values = np.moveaxis(np.clip(values, -1.0, 1.0), -3, -1)
        data = (values + 1.0) * ((high - low) / 2.0) + low
        if self.dtype in _INTEGER_RANGES:
            data = np.clip(np.rint(data), *_INTEGER_RANGES[self.dtype])
        return np.ascontiguousarray(data.astype(self.dtype))

    # -- computing the bounds once

    def fit(
        self,
        source: str | os.PathLike | Iterable[str | os.PathLike | np.ndarray],
        channels: int | None = None,
        max_files: int = 256,
        pixels_per_file: int = 16384,
        seed: int = 0,
    ) -> Scaling:
        """A copy whose ``low`` / ``high`` are computed from a dataset: the :attr:`percentiles` (``percentile``)
        or the minimum and maximum (``range``), per band or over all bands (:attr:`per_band`).

        The sample is deterministic: at most ``max_files`` files, spread evenly over the sorted list, and from
        each at most ``pixels_per_file`` pixels drawn without replacement by a generator seeded with ``seed`` and
        the file's position; a smaller dataset is used whole. Run it once and store the result with the run
        (:meth:`to_dict`): the same data and settings give the same bounds.

        Args:
            source: a folder (its files ending in :data:`IMAGERY_EXTENSIONS`, subfolders included, hidden files
                left out, sorted), or files, or arrays (H, W[, C]).
            channels: as :func:`read_array`'s (None: the files' own).
            max_files: the most files read (256).
            pixels_per_file: the most pixels taken from one file (16384).
            seed: the sampling seed (0).

        Raises:
            DatasetNotFoundError: the folder does not exist or holds no images.
            ImageLoadError: a file cannot be read (see :func:`read_array`).
            InvalidSettingError: the data's type is not :attr:`dtype`; the files' band counts differ; a band is
                constant over the sample (its bounds would coincide: use ``kind="range"`` with ``low`` / ``high``);
                ``max_files`` or ``pixels_per_file`` < 1.
        """
        if max_files < 1 or pixels_per_file < 1:
            raise InvalidSettingError(f"max_files and pixels_per_file must be >= 1, got {max_files}, {pixels_per_file}")
        items = _dataset_items(source)
        if len(items) > max_files:
            items = [items[i] for i in np.unique(np.linspace(0, len(items) - 1, max_files).round().astype(int))]
        samples, bands = [], None
        for index, item in enumerate(items):
            name = "an array" if isinstance(item, np.ndarray) else f"'{item}'"
            data = item if isinstance(item, np.ndarray) else read_array(item, channels=channels)
            data = data[..., None] if data.ndim == 2 else data
            self._check_dtype(data.dtype)
            if bands is None:
                bands = data.shape[-1]
            elif data.shape[-1] != bands:
                raise InvalidSettingError(
                    f"{name} has {data.shape[-1]} band(s), the first file {bands}; give every file the same bands "
                    "(or set channels)"
                )
            flat = data.reshape(-1, bands)
            if flat.shape[0] > pixels_per_file:
                rng = np.random.default_rng([seed, index])
                flat = flat[np.sort(rng.choice(flat.shape[0], pixels_per_file, replace=False))]
            samples.append(flat.astype(np.float64))
        values = np.concatenate(samples)
        if not self.per_band:
            values = values.reshape(-1, 1)
        if self.kind == "percentile":
            low, high = np.percentile(values, self.percentiles, axis=0)
        else:
            low, high = values.min(axis=0), values.max(axis=0)
        for band in np.flatnonzero(high <= low):
            where = f"band {band}" if self.per_band else "the data"
            raise InvalidSettingError(
                f"{where} is constant ({low[band]:g}) over the sampled files, so its scaling bounds coincide; use "
                "kind 'range' with low and high given"
            )
        if self.per_band:
            return dataclasses.replace(self, low=tuple(low.tolist()), high=tuple(high.tolist()))
        return dataclasses.replace(self, low=float(low[0]), high=float(high[0]))

    # -- stored with a run

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON data (str, float, bool, lists, null) to store with a run, read back by :meth:`from_dict`:
        ``{"kind", "dtype", "low", "high", "percentiles", "per_band"}``; ``low`` / ``high`` are a number, a list
        of one number per band, or null. Floats are written so that ``json`` reads them back to the same bits."""

        def plain(value: float | tuple[float, ...] | None) -> float | list[float] | None:
            return list(value) if isinstance(value, tuple) else value

        return {
            "kind": self.kind,
            "dtype": self.dtype,
            "low": plain(self.low),
            "high": plain(self.high),
            "percentiles": list(self.percentiles),
            "per_band": self.per_band,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "scaling") -> Scaling:
        """The scaling stored by :meth:`to_dict`, validated: a mapping with ``kind`` and ``dtype`` (strings of
        the fixed sets) and optionally ``low`` / ``high`` (a number, a list of numbers or null), ``percentiles``
        (two numbers) and ``per_band`` (a bool); nothing else is accepted and nothing in it is evaluated.

        Args:
            data: the mapping read from a checkpoint, a config or JSON.
            source: what it was read from, for the error message ("scaling").

        Raises:
            InvalidSettingError: not a mapping, a missing or unknown key, a value of the wrong type, or values the
                constructor refuses; one line starting with ``source``.
        """
        if not isinstance(data, Mapping):
            raise InvalidSettingError(f"{source}: a scaling is a mapping, got {type(data).__name__}")
        known = {"kind", "dtype", "low", "high", "percentiles", "per_band"}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise InvalidSettingError(f"{source}: unknown key(s) {unknown}; a scaling has {sorted(known)}")
        for key in ("kind", "dtype"):
            if key not in data:
                raise InvalidSettingError(f"{source}: key '{key}' is missing")
            if not isinstance(data[key], str):
                raise InvalidSettingError(f"{source}: '{key}' must be a string, got {data[key]!r}")
        values = dict(data)
        for key in ("low", "high", "percentiles"):
            if key in values and isinstance(values[key], (str, bytes, dict)):
                raise InvalidSettingError(f"{source}: '{key}' must be numbers, got {values[key]!r}")
        if "percentiles" in values and not isinstance(values["percentiles"], (list, tuple)):
            raise InvalidSettingError(f"{source}: 'percentiles' must be two numbers, got {values['percentiles']!r}")
        try:
            return cls(**values)
        except InvalidSettingError as err:
            raise InvalidSettingError(f"{source}: {err}") from None


def _dataset_items(source: Any) -> list[Any]:
    if isinstance(source, (str, os.PathLike)):
        root = Path(source)
        if not root.is_dir():
            what = "is not a folder" if root.exists() else "does not exist"
            raise DatasetNotFoundError(f"image folder '{root}' {what}; fix the path")
        items = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.name.lower().endswith(IMAGERY_EXTENSIONS)
            and not any(part.startswith(".") for part in p.relative_to(root).parts)
        )
        if not items:
            raise DatasetNotFoundError(
                f"image folder '{root}' contains no images (looked for {', '.join(IMAGERY_EXTENSIONS)}); fix the path"
            )
        return items
    items = list(source)
    if not items:
        raise DatasetNotFoundError("Scaling.fit was given no images")
    return items


# --- display ------------------------------------------------------------------------------------------------------


def display_rgb(
    image: np.ndarray | Tensor,
    bands: int | Sequence[int] | None = None,
    scaling: Scaling | Literal["image"] | None = None,
) -> np.ndarray:
    """The declared display mapping: any image as 8-bit RGB for grids, logs and the demo.

    Bands shown (``bands``): None (default) shows 1 band as gray, 2 bands (gray + alpha) as the gray of the first,
    3 bands as RGB, 4 or more through the first three; an int shows that band as gray; three ints (0-based) show
    that band triple as R, G, B (false colour: ``(3, 2, 1)`` for a Sentinel-2 true-colour view of 13 bands).

    Values (``scaling``):

    - a tensor (C, H, W) or (N, C, H, W) holds model values in [-1, 1] and is mapped linearly,
      0 <- -1 and 255 <- +1 (as :func:`gan_style.data.transforms.to_image`), unless ``scaling="image"``;
    - an array (H, W) or (H, W, C) of data: with a :class:`Scaling`, through it (per-band bounds apply to the
      file's band numbers, before the bands are chosen); with None, uint8 data is shown as it is and other types
      with a per-image stretch;
    - ``"image"``: a per-image stretch of the shown bands, together (keeping their ratios), from their 0.5th to
      their 99.5th percentile (a constant image is black).

    Returns:
        uint8 (H, W, 3), or (N, H, W, 3) for an (N, C, H, W) tensor.

    Raises:
        ValueError: a band number outside the image's bands, ``bands`` neither an int nor three ints, a
            :class:`Scaling` given with a tensor (it is already scaled), or a shape that is no image.
    """
    is_array = isinstance(image, np.ndarray)
    if is_array:
        data = image[..., None] if image.ndim == 2 else image
        if data.ndim != 3:
            raise ValueError(f"display_rgb takes an array (H, W) or (H, W, C), got shape {image.shape}")
        count = data.shape[-1]
    else:
        if image.ndim not in (3, 4):
            raise ValueError(f"display_rgb takes a tensor (C, H, W) or (N, C, H, W), got shape {tuple(image.shape)}")
        if isinstance(scaling, Scaling):
            raise ValueError("display_rgb: a tensor already holds model values in [-1, 1]; give no Scaling with it")
        data = np.moveaxis(image.detach().to("cpu").float().numpy(), -3, -1)
        count = data.shape[-1]
    chosen = display_band_indices(bands, count)
    if isinstance(scaling, Scaling):
        model = np.moveaxis(scaling.to_tensor(data).numpy(), 0, -1)[..., chosen]
    elif scaling == "image" or (is_array and scaling is None and data.dtype != np.uint8):
        shown = data[..., chosen].astype(np.float64)
        low, high = np.percentile(shown, (0.5, 99.5)) if shown.size else (0.0, 0.0)
        model = (shown - low) * (2.0 / (high - low)) - 1.0 if high > low else np.full_like(shown, -1.0)
    elif scaling is None:
        if is_array:  # uint8 data: shown as it is
            return np.ascontiguousarray(data[..., chosen])
        model = data[..., chosen]
    else:
        raise ValueError(f"display_rgb scaling must be a Scaling, 'image' or None, got {scaling!r}")
    return np.rint((np.clip(model, -1.0, 1.0) + 1.0) * 127.5).astype(np.uint8)


def display_band_indices(bands: int | Sequence[int] | None, count: int) -> list[int]:
    """The three band numbers shown as R, G, B: the declared display mapping's band choice, shared by
    :func:`display_rgb` (grids, the demo) and the metrics that run 3-channel networks on N-band data
    (:class:`gan_style.metrics.ImageMetrics`).

    Args:
        bands: None (default: 1 or 2 bands -> ``[0, 0, 0]``, gray repeated; 3 or more -> ``[0, 1, 2]``), one band
            number (that band as gray) or three band numbers (R, G, B), numbered from 0.
        count: the number of bands the image has.

    Returns:
        three band numbers in ``range(count)``.

    Raises:
        ValueError: ``bands`` neither an int nor three ints, or a band number the image does not have.
    """
    if bands is None:
        return [0, 0, 0] if count < 3 else [0, 1, 2]
    chosen = [bands] * 3 if isinstance(bands, (int, np.integer)) and not isinstance(bands, bool) else bands
    if (
        isinstance(chosen, (str, bytes))
        or not isinstance(chosen, Sequence)
        or len(chosen) != 3
        or not all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) for b in chosen)
    ):
        raise ValueError(f"display bands must be one band number or three (R, G, B), got {bands!r}")
    wrong = [int(b) for b in chosen if not 0 <= b < count]
    if wrong:
        raise ValueError(f"display bands {wrong} do not exist: the image has {count} band(s), numbered 0-{count - 1}")
    return [int(b) for b in chosen]
