"""Write the small datasets of the imagery demo recipes from the bundled sample images (no download).

    python scripts/make_imagery_samples.py                 # runs/data/facades_gray16 and runs/data/photo2painting_4band
    python scripts/make_imagery_samples.py --out my/data   # elsewhere (then set data.root in the recipes)

- ``facades_gray16/{train,test}/N.png`` (``recipes/demo/gray16.yaml``): the bundled facades (photo | label map,
  aligned), each half scaled to 64 x 64, as 1-channel 16-bit PNG. The gray is the ITU-R 601-2 luminance, computed
  and resampled in floating point and stored as a 12-bit sensor would: values 500 to 3500 of 0-65535, with the
  in-between levels that 8-bit data lacks. 50 train and 25 test files.
- ``photo2painting_4band/{trainA,trainB,testA,testB}/name.tif`` (``recipes/demo/multiband.yaml``): the bundled
  photos (A) and paintings (B), the shorter side scaled to 64, as 4-band 16-bit TIFF: red, green and blue
  (0-65535), and a derived fourth band, the gradient magnitude of the luminance (edges; 0-65535 per image), as a
  stand-in for a band outside the visible (near infrared, depth, a label channel). 8 + 17 train and 2 + 2 test
  files.

The inputs are the permissively licensed samples of ``gan_style/sample_data`` (see its ``SOURCES.md``); the output
is derived from them and written atomically. The same inputs always give the same files. An existing output folder
is replaced.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from gan_style.data.images import list_images, load_image
from gan_style.data.samples import resolve_data_path
from gan_style.io.imagery import write_array

__all__ = ["make_gray16", "make_multiband", "main"]

GRAY16_LOW, GRAY16_HIGH = 500.0, 3500.0  # the values of black and white in facades_gray16


def _gray(img: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """The ITU-R 601-2 luminance of an RGB image, resampled to ``size`` (w, h) in floating point: (h, w) in 0-255."""
    rgb = np.asarray(img, dtype=np.float32)
    lum = rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114
    return np.asarray(Image.fromarray(lum, mode="F").resize(size, Image.Resampling.LANCZOS), dtype=np.float64)


def make_gray16(out: str | Path, size: int = 64, limit: int | None = None) -> Path:
    """Write ``<out>/facades_gray16``: the bundled facades as aligned 1-channel 16-bit PNG (A | B, each half
    ``size`` x ``size``), values 500-3500. ``limit``: at most that many files per split (None: all). Returns the
    folder."""
    source = resolve_data_path("examples/data/facades")
    target = Path(out) / "facades_gray16"
    shutil.rmtree(target, ignore_errors=True)
    for split in ("train", "test"):
        for path in list_images(source / split)[:limit]:
            img = load_image(path)
            half = img.width // 2
            halves = [img.crop((0, 0, half, img.height)), img.crop((half, 0, img.width, img.height))]
            gray = np.concatenate([_gray(h, (size, size)) for h in halves], axis=1)
            values = GRAY16_LOW + np.clip(gray, 0.0, 255.0) * ((GRAY16_HIGH - GRAY16_LOW) / 255.0)
            write_array(target / split / f"{path.stem}.png", np.rint(values).astype(np.uint16))
    return target


def make_multiband(out: str | Path, size: int = 64, limit: int | None = None) -> Path:
    """Write ``<out>/photo2painting_4band``: the bundled photos and paintings as 4-band 16-bit TIFF (RGB and the
    luminance's gradient magnitude), the shorter side ``size``. ``limit``: at most that many files per folder
    (None: all). Returns the folder."""
    source = resolve_data_path("examples/data/photo2painting")
    target = Path(out) / "photo2painting_4band"
    shutil.rmtree(target, ignore_errors=True)
    for folder in ("trainA", "trainB", "testA", "testB"):
        for path in list_images(source / folder)[:limit]:
            img = load_image(path)
            scale = size / min(img.size)
            new = (max(size, round(img.width * scale)), max(size, round(img.height * scale)))
            rgb = np.stack(
                [
                    np.asarray(
                        Image.fromarray(np.asarray(img, dtype=np.float32)[..., c], mode="F").resize(
                            new, Image.Resampling.LANCZOS
                        ),
                        dtype=np.float64,
                    )
                    for c in range(3)
                ],
                axis=-1,
            )
            rgb = np.clip(rgb, 0.0, 255.0)
            lum = rgb @ np.array([0.299, 0.587, 0.114])
            gy, gx = np.gradient(lum)
            edges = np.hypot(gx, gy)
            edges = edges / edges.max() if edges.max() > 0 else edges
            bands = np.concatenate([rgb * 257.0, edges[..., None] * 65535.0], axis=-1)
            write_array(target / folder / f"{path.stem}.tif", np.rint(bands).astype(np.uint16))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/data", help="the folder the datasets are written to (runs/data)")
    parser.add_argument("--size", type=int, default=64, help="side of the images, in pixels (64)")
    args = parser.parse_args(argv)
    for path in (make_gray16(args.out, args.size), make_multiband(args.out, args.size)):
        count = sum(1 for p in path.rglob("*") if p.is_file())
        print(f"wrote {count} files to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
