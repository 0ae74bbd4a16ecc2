"""Imagery beyond 8-bit RGB (gan_style.io.imagery): reading and writing 1-, 3-, 4- and 13-band images at 8 and 16
bits and in float, the declared scaling to [-1, 1] and its exact inverse, band conversions, refusals as one line,
and the display mapping."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import torch
from PIL import Image

from gan_style.data.images import load_image
from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError
from gan_style.io.imagery import (
    Scaling,
    check_writable,
    display_rgb,
    luminance,
    max_image_pixels,
    orient,
    read_array,
    write_array,
)

REPO = Path(__file__).resolve().parents[1]


def random_image(dtype: str, bands: int, height: int = 24, width: int = 32, seed: int = 0) -> np.ndarray:
    """(height, width, bands) of ``dtype``: integers over the type's whole range (both ends included), floats
    spread over about +-300 with a few tiny and huge magnitudes."""
    rng = np.random.default_rng(seed)
    if np.dtype(dtype).kind in "ui":
        info = np.iinfo(dtype)
        data = rng.integers(info.min, info.max, (height, width, bands), endpoint=True, dtype=np.int64).astype(dtype)
        data.flat[0], data.flat[1] = info.min, info.max
        return data
    data = rng.normal(0.0, 100.0, (height, width, bands)).astype(dtype)
    data.flat[0], data.flat[1] = 1e-7, -3e3
    return data


def mode_of(path: Path) -> str:
    with Image.open(path) as image:
        return image.mode


def round_trip(path: Path, data: np.ndarray, scaling: Scaling) -> tuple[np.ndarray, float]:
    """write -> read -> scale -> inverse-scale -> write -> read; the final array and its max abs error."""
    write_array(path, data)
    tensor = scaling.to_tensor(read_array(path))
    assert tensor.dtype == torch.float32 and tuple(tensor.shape) == (data.shape[2], *data.shape[:2])
    assert -1.0 <= float(tensor.min()) and float(tensor.max()) <= 1.0
    out = path.with_name("out_" + path.name)
    write_array(out, scaling.from_tensor(tensor))
    back = read_array(out)
    return back, float(np.abs(back.astype(np.float64) - data.astype(np.float64)).max())


LOSSLESS = [
    (".png", "uint8", 1),
    (".png", "uint8", 3),
    (".png", "uint16", 1),
    (".png", "uint16", 3),
    (".tif", "uint8", 3),
    (".tif", "uint16", 1),
    (".tif", "uint16", 3),
    (".tif", "uint16", 4),
    (".tif", "uint16", 13),
    (".tif", "int16", 1),
    (".tif", "float32", 1),
    (".tif", "float32", 3),
    (".tif", "float32", 13),
    (".npy", "uint8", 4),
    (".npy", "uint16", 1),
    (".npy", "uint16", 3),
    (".npy", "uint16", 13),
    (".npy", "float32", 4),
]


@pytest.mark.parametrize(("suffix", "dtype", "bands"), LOSSLESS, ids=lambda v: str(v))
def test_round_trip_is_exact_per_format(tmp_path, suffix, dtype, bands):
    data = random_image(dtype, bands)
    if dtype.startswith("float"):
        scaling = Scaling(dtype=dtype, low=float(data.min()), high=float(data.max()))
    else:
        scaling = Scaling(dtype=dtype)
    back, error = round_trip(tmp_path / f"image{suffix}", data, scaling)
    assert back.dtype == data.dtype and back.shape == data.shape
    if dtype.startswith("float"):
        assert error <= 1e-6 * (scaling.high - scaling.low), error
    else:
        assert error == 0.0  # 8-bit and 16-bit: every level back


@pytest.mark.parametrize(("suffix", "dtype"), [(".png", "uint8"), (".png", "uint16"), (".tif", "uint16")])
def test_every_level_comes_back(tmp_path, suffix, dtype):
    """All 256 / 65536 levels of the type, in one image, through the file and the scaling."""
    levels = np.iinfo(dtype).max + 1
    side = int(np.sqrt(levels))
    data = np.arange(levels, dtype=np.int64).reshape(side, side, 1).astype(dtype)
    back, error = round_trip(tmp_path / f"levels{suffix}", np.repeat(data, 3, axis=-1), Scaling(dtype=dtype))
    assert error == 0.0 and np.array_equal(back[..., 1], data[..., 0])


def test_scaling_maps_the_declared_range_linearly():
    data = np.array([[[0], [4095], [2048]]], dtype=np.uint16)  # a 12-bit sensor in uint16
    tensor = Scaling(dtype="uint16", low=0, high=4095).to_tensor(data)
    assert torch.allclose(tensor.flatten(), torch.tensor([-1.0, 1.0, 2 * 2048 / 4095 - 1]), rtol=0, atol=1e-7)
    assert Scaling(dtype="uint16").to_tensor(np.full((1, 1), 65535, np.uint16)).item() == 1.0
    assert Scaling(dtype="int16").to_tensor(np.full((1, 1), -32768, np.int16)).item() == -1.0
    # outside [low, high]: clipped, and the inverse gives the bound
    clipped = Scaling(dtype="uint16", low=100, high=200)
    assert clipped.to_tensor(np.array([[50, 300]], np.uint16)).flatten().tolist() == [-1.0, 1.0]
    assert clipped.from_tensor(torch.tensor([[[-1.5, 0.0, 2.0]]])).flatten().tolist() == [100, 150, 200]


def test_eight_bit_rgb_gives_the_same_bits_as_the_8_bit_path():
    from gan_style.data.transforms import to_tensor

    rgb = random_image("uint8", 3)
    assert torch.equal(Scaling().to_tensor(rgb), to_tensor(Image.fromarray(rgb)))
    gray = np.asarray(Image.fromarray(rgb).convert("L"))  # read-only, as np.asarray of a PIL image is
    assert torch.equal(Scaling().to_tensor(gray)[0], to_tensor(Image.fromarray(gray).convert("RGB"))[0])


def test_from_tensor_rounds_half_to_even_and_takes_batches():
    scaling = Scaling(dtype="uint8", low=0, high=2)  # one step of [-1, 1] is one level: -0.5 -> 0.5 -> 0 (even)
    assert scaling.from_tensor(torch.tensor([[[-0.5, 0.5]]])).flatten().tolist() == [0, 2]
    batch = torch.zeros(2, 3, 4, 5)
    out = Scaling(dtype="uint16").from_tensor(batch)
    assert out.shape == (2, 4, 5, 3) and out.dtype == np.uint16 and int(out.max()) == 32768  # 32767.5 -> even


def test_per_band_bounds_scale_each_band():
    data = np.stack([np.full((2, 2), 10.0), np.full((2, 2), 1000.0)], axis=-1).astype(np.float32)
    scaling = Scaling(dtype="float32", low=[0.0, 0.0], high=[20.0, 1000.0])
    tensor = scaling.to_tensor(data)
    assert tensor[0].unique().tolist() == [0.0] and tensor[1].unique().tolist() == [1.0]
    with pytest.raises(InvalidSettingError, match="3 band.*scaling is for 2 bands"):
        scaling.to_tensor(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(InvalidSettingError, match="data is uint16 but the scaling is for uint8"):
        Scaling().to_tensor(np.zeros((2, 2), np.uint16))


def test_percentile_scaling_fits_a_folder_and_survives_json(tmp_path):
    folder = tmp_path / "data"
    files = [write_array(folder / f"{i}.tif", random_image("uint16", 3, 16, 16, seed=i) // (i + 1)) for i in range(3)]
    (folder / ".hidden.tif").write_bytes(b"not read")
    fitted = Scaling(kind="percentile", dtype="uint16").fit(folder)
    everything = np.concatenate([read_array(f).reshape(-1, 3) for f in files]).astype(np.float64)
    assert fitted.low == pytest.approx(tuple(np.percentile(everything, 0.5, axis=0)), abs=0)
    assert fitted.high == pytest.approx(tuple(np.percentile(everything, 99.5, axis=0)), abs=0)
    stored = json.loads(json.dumps(fitted.to_dict()))
    assert stored["kind"] == "percentile" and stored["dtype"] == "uint16" and len(stored["low"]) == 3
    again = Scaling.from_dict(stored)
    assert again == fitted
    image = read_array(files[0])
    assert torch.equal(again.to_tensor(image), fitted.to_tensor(image))
    back = again.from_tensor(again.to_tensor(image))
    assert np.array_equal(back, fitted.from_tensor(fitted.to_tensor(image)))
    low, high = np.array(fitted.low), np.array(fitted.high)
    inside = (image >= low) & (image <= high)
    assert inside.mean() > 0.95 and np.array_equal(back[inside], image[inside])  # exact inside the bounds
    assert np.array_equal(back[image < low], np.broadcast_to(np.rint(low), image.shape)[image < low])  # clipped
    # one pair over all bands
    joint = Scaling(kind="percentile", dtype="uint16", per_band=False).fit(files)
    assert joint.low == pytest.approx(float(np.percentile(everything, 0.5)), abs=0) and joint.bands is None


def test_fit_samples_deterministically_and_range_fit_gives_min_max(tmp_path):
    arrays = [random_image("float32", 2, 64, 64, seed=i) for i in range(5)]
    kwargs = {"max_files": 3, "pixels_per_file": 100}
    first = Scaling(kind="percentile", dtype="float32").fit(arrays, **kwargs)
    assert first == Scaling(kind="percentile", dtype="float32").fit(arrays, **kwargs)
    assert first != Scaling(kind="percentile", dtype="float32").fit(arrays, seed=1, **kwargs)
    whole = Scaling(kind="range", dtype="float32").fit(arrays)
    stacked = np.concatenate([a.reshape(-1, 2) for a in arrays])
    assert whole.low == tuple(stacked.min(axis=0).astype(float)) and whole.high == tuple(
        stacked.max(axis=0).astype(float)
    )
    with pytest.raises(InvalidSettingError, match="band 1 is constant"):
        Scaling(kind="percentile", dtype="uint8").fit(
            [np.dstack([np.arange(4, dtype=np.uint8).reshape(2, 2)] + [np.zeros((2, 2), np.uint8)])]
        )
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        Scaling(kind="percentile").fit(tmp_path / "missing")
    with pytest.raises(InvalidSettingError, match="has no bounds yet"):
        Scaling(kind="percentile", dtype="uint16").to_tensor(np.zeros((2, 2), np.uint16))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"kind": "range"}, "key 'dtype' is missing"),
        ({"kind": "range", "dtype": "uint16", "code": "x"}, r"unknown key\(s\) \['code'\]"),
        ({"kind": "exec", "dtype": "uint16"}, "kind must be 'range' or 'percentile'"),
        ({"kind": "range", "dtype": "object"}, "dtype must be one of"),
        ({"kind": "range", "dtype": "uint16", "low": "0", "high": 1}, "'low' must be numbers"),
        ({"kind": "range", "dtype": "uint16", "low": True, "high": 5}, "low must be a finite number"),
        ({"kind": "range", "dtype": "float32", "low": 0, "high": float("nan")}, "high must be a finite number"),
        ({"kind": "range", "dtype": "float32", "low": [0, 1], "high": [1]}, "2 and 1 bands"),
        ({"kind": "range", "dtype": "float32", "low": 5, "high": 5}, "high must exceed low"),
        ({"kind": "range", "dtype": "uint8", "low": 0, "high": 300}, "outside the uint8 range"),
        ({"kind": "percentile", "dtype": "uint8", "percentiles": [99, 1]}, "0 <= lower < upper <= 100"),
        ({"kind": "percentile", "dtype": "uint8", "per_band": "yes"}, "per_band must be true or false"),
        (["range"], "a scaling is a mapping"),
    ],
)
def test_a_stored_scaling_is_validated(data, message):
    with pytest.raises(InvalidSettingError, match=message) as err:
        Scaling.from_dict(data, source="checkpoint.ckpt")
    assert str(err.value).startswith("checkpoint.ckpt: ") and "\n" not in str(err.value)


def test_rgb_to_one_band_is_the_601_luminance_and_one_to_three_repeats(tmp_path):
    rgb8 = random_image("uint8", 3)
    write_array(tmp_path / "rgb.png", rgb8)
    gray = read_array(tmp_path / "rgb.png", channels=1)
    assert gray.shape == (24, 32, 1) and gray.dtype == np.uint8
    assert np.array_equal(gray[..., 0], np.asarray(Image.fromarray(rgb8).convert("L")))  # Pillow's "L", to the level
    formula = rgb8[..., 0] * 0.299 + rgb8[..., 1] * 0.587 + rgb8[..., 2] * 0.114
    assert np.abs(gray[..., 0] - formula).max() <= 0.5 + 1e-6
    rgb16 = random_image("uint16", 3)
    write_array(tmp_path / "rgb16.png", rgb16)
    gray16 = read_array(tmp_path / "rgb16.png", channels=1)
    formula16 = rgb16[..., 0] * 0.299 + rgb16[..., 1] * 0.587 + rgb16[..., 2] * 0.114
    assert gray16.dtype == np.uint16 and np.abs(gray16[..., 0] - formula16).max() <= 0.5 + 1e-3
    floats = random_image("float32", 3)
    wide = floats.astype(np.float64)
    expected = (wide[..., 0] * 0.299 + wide[..., 1] * 0.587 + wide[..., 2] * 0.114).astype(np.float32)
    assert np.array_equal(luminance(floats)[..., 0], expected)
    write_array(tmp_path / "gray.tif", rgb16[..., :1])
    three = read_array(tmp_path / "gray.tif", channels=3)
    assert three.shape == (24, 32, 3) and all(np.array_equal(three[..., c], rgb16[..., 0]) for c in range(3))


def test_a_band_count_that_does_not_fit_is_one_line(tmp_path):
    path = write_array(tmp_path / "bands.tif", random_image("uint16", 13))
    with pytest.raises(ImageLoadError) as err:
        read_array(path, channels=3)
    text = str(err.value)
    assert "\n" not in text and str(path) in text and "has 13 band(s)" in text and "channels is 3" in text


def test_alpha_is_dropped_unless_kept(tmp_path):
    rgba = random_image("uint8", 4)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "sprite.png")
    assert np.array_equal(read_array(tmp_path / "sprite.png"), rgba[..., :3])
    assert np.array_equal(read_array(tmp_path / "sprite.png", keep_alpha=True), rgba)
    write_array(tmp_path / "written.png", rgba, alpha=True)
    assert mode_of(tmp_path / "written.png") == "RGBA"
    rgba16 = random_image("uint16", 4)
    write_array(tmp_path / "sprite16.png", rgba16, alpha=True)
    assert np.array_equal(read_array(tmp_path / "sprite16.png"), rgba16[..., :3])
    assert np.array_equal(read_array(tmp_path / "sprite16.png", keep_alpha=True), rgba16)
    write_array(tmp_path / "sprite.tif", rgba16, alpha=True)
    assert read_array(tmp_path / "sprite.tif").shape[-1] == 3
    assert np.array_equal(read_array(tmp_path / "sprite.tif", keep_alpha=True), rgba16)
    write_array(tmp_path / "four_bands.tif", rgba16)  # not marked as alpha: four bands of data
    assert np.array_equal(read_array(tmp_path / "four_bands.tif"), rgba16)


def test_planar_interleaved_and_paged_tiff_read_the_same(tmp_path):
    data = random_image("uint16", 5)
    chw = np.ascontiguousarray(np.moveaxis(data, -1, 0))
    tifffile.imwrite(tmp_path / "contig.tif", data, photometric="minisblack", planarconfig="contig")
    tifffile.imwrite(tmp_path / "planar.tif", chw, photometric="minisblack", planarconfig="separate")
    tifffile.imwrite(tmp_path / "pages.tif", chw, photometric="minisblack", metadata=None)  # 5 pages, no shape note
    tifffile.imwrite(tmp_path / "imagej.tif", chw, imagej=True, metadata={"axes": "CYX"})
    tifffile.imwrite(tmp_path / "zlib.tif", data, photometric="minisblack", planarconfig="contig", compression="zlib")
    for name in ("contig", "planar", "pages", "imagej", "zlib"):
        assert np.array_equal(read_array(tmp_path / f"{name}.tif"), data), name
    tifffile.imwrite(tmp_path / "stack.tif", np.zeros((2, 3, 8, 8), np.uint16), photometric="minisblack")
    with pytest.raises(ImageLoadError, match=r"4-D TIFF image \(axes QQYX"):
        read_array(tmp_path / "stack.tif")


def test_npy_layouts(tmp_path):
    data = random_image("float32", 13)
    np.save(tmp_path / "hwc.npy", data)
    np.save(tmp_path / "chw.npy", np.moveaxis(data, -1, 0))
    np.save(tmp_path / "hw.npy", data[..., 0])
    np.save(tmp_path / "fortran.npy", np.asfortranarray(data))
    assert np.array_equal(read_array(tmp_path / "hwc.npy"), data)
    assert np.array_equal(read_array(tmp_path / "chw.npy"), data)  # 13 < 32: bands first
    assert np.array_equal(read_array(tmp_path / "fortran.npy"), data)
    assert read_array(tmp_path / "hw.npy").shape == (24, 32, 1)
    small = random_image("uint8", 13, 8, 8)  # narrower than its band count: "auto" would take it as (C, H, W)
    np.save(tmp_path / "small.npy", small)
    assert np.array_equal(read_array(tmp_path / "small.npy", layout="HWC"), small)
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ImageLoadError, match="holds Python objects, which gan-style never unpickles"):
        read_array(tmp_path / "objects.npy")
    np.save(tmp_path / "ints.npy", np.zeros((4, 4), np.int32))
    with pytest.raises(ImageLoadError, match="holds int32 values; gan-style reads uint8, uint16"):
        read_array(tmp_path / "ints.npy")


def test_16_bit_colour_png_matches_an_independent_codec(tmp_path):
    cv2 = pytest.importorskip("cv2")
    data = random_image("uint16", 3)
    cv2.imwrite(str(tmp_path / "by_opencv.png"), data[..., ::-1])  # OpenCV stores BGR
    assert np.array_equal(read_array(tmp_path / "by_opencv.png"), data)
    write_array(tmp_path / "ours.png", data)
    assert np.array_equal(cv2.imread(str(tmp_path / "ours.png"), cv2.IMREAD_UNCHANGED)[..., ::-1], data)
    gray = random_image("uint16", 1)
    write_array(tmp_path / "gray16.png", gray)
    assert mode_of(tmp_path / "gray16.png") == "I;16"  # a plain 16-bit gray PNG
    assert np.array_equal(cv2.imread(str(tmp_path / "gray16.png"), cv2.IMREAD_UNCHANGED), gray[..., 0])


def test_orientation_codes_turn_arrays_as_pillow_does(tmp_path):
    data = random_image("uint8", 3, 5, 7)
    pillow = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }
    for code, method in pillow.items():
        expected = np.asarray(Image.fromarray(data).transpose(method))
        assert np.array_equal(orient(data, code), expected), code
        path = tmp_path / f"oriented{code}.tif"
        tifffile.imwrite(path, data[..., 0], extratags=[(274, "H", 1, code, False)])
        assert np.array_equal(read_array(path)[..., 0], expected[..., 0]), code
    photo = tmp_path / "photo.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(data).save(photo, exif=exif)
    assert np.array_equal(read_array(photo), np.asarray(load_image(photo)))  # as gan_style.data.images reads it
    assert read_array(photo).shape == (7, 5, 3)


def test_eight_bit_photos_read_as_load_image_reads_them(tmp_path):
    rgb = random_image("uint8", 3)
    for name in ("photo.jpg", "photo.bmp", "photo.webp"):
        Image.fromarray(rgb).save(tmp_path / name)
        assert np.array_equal(read_array(tmp_path / name), np.asarray(load_image(tmp_path / name))), name
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    assert np.array_equal(read_array(tmp_path / "palette.png"), np.asarray(load_image(tmp_path / "palette.png")))
    Image.fromarray(rgb).convert("L").save(tmp_path / "gray.jpg")
    assert read_array(tmp_path / "gray.jpg").shape == (24, 32, 1)


@pytest.mark.parametrize(
    ("name", "data", "holds", "fits"),
    [
        ("out.png", random_image("float32", 1), "PNG holds uint8 or uint16", ".tif or .npy"),
        ("out.png", random_image("uint16", 13), "PNG holds uint8 or uint16", ".tif or .npy"),
        ("out.png", random_image("uint8", 4), "2 or 4 with alpha=True", ".tif or .npy"),
        ("out.jpg", random_image("uint16", 3), "JPEG holds uint8", ".png, .tif or .npy"),
        ("out.webp", random_image("uint8", 1), "WebP holds uint8 with 3 bands", ".png, .jpg, .tif or .npy"),
    ],
)
def test_impossible_writes_are_one_line_and_write_nothing(tmp_path, name, data, holds, fits):
    target = tmp_path / name
    with pytest.raises(InvalidSettingError) as err:
        write_array(target, data)
    text = str(err.value)
    with pytest.raises(InvalidSettingError) as early:  # the same refusal before anything is computed
        check_writable(target, data.dtype.name, data.shape[-1])
    assert str(early.value) == text
    assert "\n" not in text and str(target) in text and holds in text and text.endswith(fits)
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_write_refuses_unknown_endings_and_types(tmp_path):
    with pytest.raises(InvalidSettingError, match=r"ending '\.gif' is no image format.*\.png, \.jpg"):
        write_array(tmp_path / "x.gif", random_image("uint8", 3))
    with pytest.raises(InvalidSettingError, match="int32 values; convert them"):
        write_array(tmp_path / "x.tif", np.zeros((2, 2), np.int32))
    with pytest.raises(InvalidSettingError, match="compression must be null or 'zlib'"):
        write_array(tmp_path / "x.tif", np.zeros((2, 2), np.uint8), compression="lzw")


def test_writes_are_atomic_and_tiff_compresses(tmp_path):
    data = np.zeros((64, 64, 13), np.uint16)
    plain = write_array(tmp_path / "plain.tif", data)
    packed = write_array(tmp_path / "packed.tif", data, compression="zlib")
    assert packed.stat().st_size < plain.stat().st_size / 10
    assert np.array_equal(read_array(packed), data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["packed.tif", "plain.tif"]  # no temporary file left


def test_unreadable_files_are_one_line(tmp_path, monkeypatch):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "junk.tif").write_bytes(b"II*\x00" + b"\xff" * 20)
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    for name, reason in [
        ("missing.png", "does not exist"),
        ("empty.png", "is empty (0 bytes)"),
        ("junk.tif", "is not a readable image"),
        ("junk.png", "is not a readable image"),
    ]:
        with pytest.raises(ImageLoadError) as err:
            read_array(tmp_path / name)
        assert str(tmp_path / name) in str(err.value) and reason in str(err.value) and "\n" not in str(err.value)
    big = random_image("uint16", 2, 40, 40)
    for name in ("big.tif", "big.npy", "big.png"):
        write_array(tmp_path / name, big[..., :1])
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 500)
    assert max_image_pixels() == 1000
    for name in ("big.tif", "big.npy", "big.png"):
        with pytest.raises(ImageLoadError, match="too large to decode safely.*PIL.Image.MAX_IMAGE_PIXELS"):
            read_array(tmp_path / name)


def test_display_mapping():
    gray = random_image("uint8", 1)
    shown = display_rgb(gray)
    assert shown.dtype == np.uint8 and shown.shape == (24, 32, 3)
    assert all(np.array_equal(shown[..., c], gray[..., 0]) for c in range(3))
    rgb = random_image("uint8", 3)
    assert np.array_equal(display_rgb(rgb), rgb)
    bands = random_image("uint16", 13)
    triple = display_rgb(bands, bands=(3, 2, 1), scaling=Scaling(dtype="uint16"))
    assert np.array_equal(triple, np.rint(bands[..., [3, 2, 1]] / 257.0).astype(np.uint8))
    stretched = display_rgb(bands)  # per image: first three bands, 0.5-99.5 percentiles to 0-255
    assert stretched.min() == 0 and stretched.max() == 255
    tensor = torch.tensor([[[-1.0, 0.0, 1.0, 2.0]]]).repeat(2, 1, 1)  # 2 bands: the first as gray
    assert display_rgb(tensor)[0, :, 0].tolist() == [0, 128, 255, 255]  # 127.5 -> 128 (half to even)
    assert display_rgb(torch.zeros(2, 3, 4, 5)).shape == (2, 4, 5, 3)
    with pytest.raises(ValueError, match=r"bands \[13\] do not exist: the image has 13 band\(s\)"):
        display_rgb(bands, bands=(13, 2, 1))
    with pytest.raises(ValueError, match="one band number or three"):
        display_rgb(bands, bands=(1, 2))


def test_the_module_imports_no_lightning_or_torchvision_and_torch_only_in_functions():
    tree = ast.parse((REPO / "gan_style" / "io" / "imagery.py").read_text(encoding="utf-8"))
    top, anywhere = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            anywhere.update(n.split(".")[0] for n in names)
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            top.update(n.split(".")[0] for n in names)
    assert not anywhere & {"lightning", "pytorch_lightning", "torchvision"}
    assert "torch" in anywhere and "torch" not in top  # made where tensors are made


def test_image_size_reads_the_header_as_read_array_reads_the_file(tmp_path):
    from gan_style.errors import ImageLoadError
    from gan_style.io.imagery import image_size

    files = {
        "chw.npy": np.zeros((4, 20, 30), np.uint16),
        "hwc.npy": np.zeros((20, 30, 13), np.float32),
        "bands.tif": np.zeros((20, 30, 4), np.uint16),
        "gray.png": np.zeros((20, 30, 1), np.uint16),
    }
    for name, array in files.items():
        path = tmp_path / name
        if name.endswith(".npy"):
            np.save(path, array)
        else:
            write_array(path, array)
        height, width = read_array(path).shape[:2]
        assert image_size(path) == (width, height) == (30, 20), name
    (tmp_path / "bad.png").write_bytes(b"not an image")
    with pytest.raises(ImageLoadError, match="bad.png' is not a readable image"):
        image_size(tmp_path / "bad.png")
