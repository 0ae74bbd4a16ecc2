"""Round-trip exactness of gan_style.io.imagery per format: read -> scale to [-1, 1] -> inverse-scale -> write.

    python benchmarks/imagery_roundtrip.py                 # 256 x 256 images, seed 0
    python benchmarks/imagery_roundtrip.py --size 512 --seed 3

Each case writes a random image that uses its type's whole range (integers: every value from the type's minimum
to its maximum may occur, both ends always do; floats: normal, sd 100, with a 1e-7 and a -3000 in it) with
:func:`~gan_style.io.imagery.write_array`, reads it with :func:`~gan_style.io.imagery.read_array`, maps it to a
``torch.float32`` tensor with the case's :class:`~gan_style.io.imagery.Scaling` (integers: the type's range; floats:
the image's minimum and maximum), maps it back with ``from_tensor``, writes it to a second file of the same format
and reads that. The "every level" cases hold each of the 256 or 65536 levels once. Lossy formats (JPEG, WebP) are
not measured.

Prints one JSON line per case (``format``, ``dtype``, ``bands``, ``height``, ``width``, ``max_abs_error`` in the
data's units, i.e. levels for integers, ``max_rel_error`` = that / (high - low), ``exact``, ``file_bytes``), then a
table.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from gan_style.io.imagery import Scaling, read_array, write_array

CASES = [  # (label, suffix, dtype, bands, alpha)
    ("8-bit PNG", ".png", "uint8", 1, False),
    ("8-bit PNG", ".png", "uint8", 3, False),
    ("8-bit PNG RGBA", ".png", "uint8", 4, True),
    ("16-bit PNG", ".png", "uint16", 1, False),
    ("16-bit PNG", ".png", "uint16", 3, False),
    ("16-bit PNG RGBA", ".png", "uint16", 4, True),
    ("8-bit TIFF", ".tif", "uint8", 3, False),
    ("16-bit TIFF", ".tif", "uint16", 1, False),
    ("16-bit TIFF", ".tif", "uint16", 3, False),
    ("16-bit TIFF", ".tif", "uint16", 4, False),
    ("16-bit TIFF", ".tif", "uint16", 13, False),
    ("int16 TIFF", ".tif", "int16", 1, False),
    ("float32 TIFF", ".tif", "float32", 1, False),
    ("float32 TIFF", ".tif", "float32", 3, False),
    ("float32 TIFF", ".tif", "float32", 4, False),
    ("float32 TIFF", ".tif", "float32", 13, False),
    (".npy", ".npy", "uint8", 4, False),
    (".npy", ".npy", "uint16", 1, False),
    (".npy", ".npy", "uint16", 3, False),
    (".npy", ".npy", "uint16", 13, False),
    (".npy", ".npy", "float32", 13, False),
]


def random_image(dtype: str, bands: int, size: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, (size, size, bands), endpoint=True, dtype=np.int64).astype(dtype)
        data.flat[0], data.flat[1] = info.min, info.max
        return data
    data = rng.normal(0.0, 100.0, (size, size, bands)).astype(dtype)
    data.flat[0], data.flat[1] = 1e-7, -3e3
    return data


def every_level(dtype: str) -> np.ndarray:
    levels = np.iinfo(dtype).max + 1
    side = int(np.sqrt(levels))
    return np.arange(levels, dtype=np.int64).reshape(side, side, 1).astype(dtype)


def measure(folder: Path, label: str, suffix: str, data: np.ndarray, alpha: bool) -> dict:
    dtype = data.dtype.name
    if data.dtype.kind == "f":
        scaling = Scaling(dtype=dtype, low=float(data.min()), high=float(data.max()))
    else:
        scaling = Scaling(dtype=dtype)
    first = write_array(folder / f"in{suffix}", data, alpha=alpha)
    tensor = scaling.to_tensor(read_array(first, keep_alpha=alpha))
    second = write_array(folder / f"out{suffix}", scaling.from_tensor(tensor), alpha=alpha)
    back = read_array(second, keep_alpha=alpha)
    assert back.shape == data.shape and back.dtype == data.dtype, (label, back.shape, back.dtype)
    error = float(np.abs(back.astype(np.float64) - data.astype(np.float64)).max())
    return {
        "format": label,
        "dtype": dtype,
        "bands": int(data.shape[-1]),
        "height": int(data.shape[0]),
        "width": int(data.shape[1]),
        "max_abs_error": error,
        "max_rel_error": error / (scaling.high - scaling.low),
        "exact": error == 0.0,
        "file_bytes": second.stat().st_size,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (256)")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the images (0)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="gan_style_imagery_") as tmp:
        folder = Path(tmp)
        for label, suffix, dtype, bands, alpha in CASES:
            rows.append(measure(folder, label, suffix, random_image(dtype, bands, args.size, args.seed), alpha))
            print(json.dumps(rows[-1]), flush=True)
        for label, suffix, dtype in [
            ("8-bit PNG, every level", ".png", "uint8"),
            ("16-bit PNG, every level", ".png", "uint16"),
            ("16-bit TIFF, every level", ".tif", "uint16"),
        ]:
            rows.append(measure(folder, label, suffix, every_level(dtype), False))
            print(json.dumps(rows[-1]), flush=True)
    print()
    print(f"| {'format':<24} | {'dtype':<7} | {'bands':>5} | {'size':>9} | {'max abs error':>13} | {'relative':>9} |")
    print(f"|{'-' * 26}|{'-' * 9}|{'-' * 7}|{'-' * 11}|{'-' * 15}|{'-' * 11}|")
    for r in rows:
        size = f"{r['height']}x{r['width']}"
        print(
            f"| {r['format']:<24} | {r['dtype']:<7} | {r['bands']:>5} | {size:>9} | {r['max_abs_error']:>13.3g} | "
            f"{r['max_rel_error']:>9.2g} |"
        )


if __name__ == "__main__":
    main()
