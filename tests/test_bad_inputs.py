"""Bad inputs: each broken, odd or hostile input either fails with a clear error that names the file or
setting and the fix, or is converted as documented (mode, size, pixel values are asserted).

Most cases run at the library level (DataModules and datasets, methods built with tiny networks). The few
``gan-style`` command cases are made by the module fixture ``cli``: the one whose error comes from a DataLoader
worker process runs in a subprocess, started first, while the others run in this process
(``conftest.gan_style_in_process``: no interpreter start-up).
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import (
    REPO,
    SAMPLE_ROOT,
    TINY_CLI_ARGS,
    gan_style_in_process,
    tiny_cyclegan_kwargs,
    tiny_pix2pix_kwargs,
    write_image,
)
from gan_style.data import (
    PREPROCESS_MODES,
    ContentStyleDataModule,
    PairedImageDataModule,
    UnpairedImageDataModule,
)
from gan_style.errors import DatasetNotFoundError, GanStyleError, ImageLoadError

RECIPE = str(REPO / "gan_style" / "recipes" / "cyclegan.yaml")

CLI_ERROR_PREFIX = "gan-style: error: "


def dm_kwargs(**kwargs) -> dict:
    """Small sizes, no workers, a fixed seed; ``kwargs`` override."""
    return {"load_size": 36, "crop_size": 32, "num_workers": 0, "seed": 0, **kwargs}


# --- 1. unreadable files in a dataset folder ---------------------------------------------------------------
def make_bad_file(folder: Path, kind: str) -> Path:
    """Write one unreadable image file of ``kind`` into ``folder``; its name sorts first."""
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "zero_byte":
        path = folder / "aaa_empty.png"
        path.write_bytes(b"")
    elif kind in ("truncated_png", "truncated_jpeg"):
        good = write_image(folder.parent / f"whole_{kind}.{'png' if kind == 'truncated_png' else 'jpg'}", (64, 64))
        path = folder / f"aaa_cut{good.suffix}"
        path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
        good.unlink()
    elif kind == "text_as_png":
        path = folder / "aaa_notes.png"
        path.write_text("these are notes, not pixels\n")
    else:
        raise AssertionError(kind)
    return path


BAD_KINDS = {
    # kind: what the message says about the file
    "zero_byte": "is empty (0 bytes)",
    "truncated_png": "is not a readable image (image file is truncated",
    "truncated_jpeg": "is not a readable image (image file is truncated",
    "text_as_png": "is not a readable image (cannot identify image file",
}


def unpaired_with_bad_file(root: Path, kind: str) -> tuple[Path, Path]:
    """root/trainA = [bad file, good.png], root/trainB = [b.png]; returns (bad, good)."""
    bad = make_bad_file(root / "trainA", kind)
    good = write_image(root / "trainA" / "good.png")
    write_image(root / "trainB" / "b.png", seed=1)
    return bad, good


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_unreadable_file_raises_naming_the_file(tmp_path, kind):
    bad, _ = unpaired_with_bad_file(tmp_path / "data", kind)
    dm = UnpairedImageDataModule(root=str(tmp_path / "data"), serial_batches=True, **dm_kwargs())
    dm.setup("fit")
    assert dm.train_set.files_a[0] == bad
    with pytest.raises(ImageLoadError) as info:
        dm.train_set[0]
    message = str(info.value)
    assert isinstance(info.value, GanStyleError)
    assert message.startswith(f"image file '{bad}' {BAD_KINDS[kind]}")
    assert "replace or remove it, or set skip_bad_images: true" in message


@pytest.mark.parametrize("kind", sorted(BAD_KINDS))
def test_unreadable_file_is_skipped_with_a_warning(tmp_path, kind):
    bad, good = unpaired_with_bad_file(tmp_path / "data", kind)
    dm = UnpairedImageDataModule(root=str(tmp_path / "data"), serial_batches=True, skip_bad_images=True, **dm_kwargs())
    dm.setup("fit")
    with pytest.warns(UserWarning, match=re.escape(f"skip_bad_images: skipping image file '{bad}'")):
        item = dm.train_set[0]
    assert item["A_path"] == str(good) and item["A"].shape == (3, 32, 32)


def test_unreadable_file_in_a_dataloader_worker(tmp_path):
    """In a worker process the error keeps its type and the file name (torch re-raises it with the worker's
    traceback in the message; the CLI strips that, see test_cli_unreadable_file_in_a_worker)."""
    bad, good = unpaired_with_bad_file(tmp_path / "data", "text_as_png")
    dm = UnpairedImageDataModule(root=str(tmp_path / "data"), serial_batches=True, **dm_kwargs(num_workers=1))
    dm.setup("fit")
    with pytest.raises(ImageLoadError, match=re.escape(f"image file '{bad}' is not a readable image")):
        next(iter(dm.train_dataloader()))
    skipping = UnpairedImageDataModule(
        root=str(tmp_path / "data"), serial_batches=True, skip_bad_images=True, **dm_kwargs(num_workers=1)
    )
    skipping.setup("fit")
    batch = next(iter(skipping.train_dataloader()))  # the worker warns on its own stderr and moves on
    assert batch["A_path"] == [str(good)] and batch["A"].shape == (1, 3, 32, 32)


def test_all_files_unreadable_with_skipping_names_the_folder(tmp_path):
    root = tmp_path / "data"
    make_bad_file(root / "trainA", "zero_byte")
    make_bad_file(root / "trainA", "text_as_png")
    write_image(root / "trainB" / "b.png")
    dm = UnpairedImageDataModule(root=str(root), skip_bad_images=True, **dm_kwargs())
    dm.setup("fit")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ImageLoadError, match=re.escape(f"none of the 2 files in '{root / 'trainA'}'")):
            dm.train_set[0]
    assert sorted(Path(re.search(r"image file '([^']+)'", str(w.message))[1]).name for w in caught) == [
        "aaa_empty.png",
        "aaa_notes.png",
    ]


# --- 2. image modes converted to RGB, through the DataModule ---------------------------------------------------
def _v(x) -> torch.Tensor:
    """8-bit value(s) -> the [-1, 1] float the DataModule produces."""
    return torch.as_tensor(np.asarray(x, dtype=np.float32)) / 255.0 * 2.0 - 1.0


def _write_mode_image(path: Path, case: str) -> torch.Tensor | None:
    """Write the test image for ``case``; return the expected (3, H, W) tensor where it is exact."""
    if case == "gray":
        arr = (np.arange(64, dtype=np.uint8) * 4).reshape(8, 8)
        Image.fromarray(arr, "L").save(path)
        return _v(np.stack([arr] * 3))
    if case == "gray_alpha":  # black, opaque in the top half and transparent below -> white there
        arr = np.zeros((8, 8, 2), dtype=np.uint8)
        arr[:4, :, 1] = 255
        Image.fromarray(arr, "LA").save(path)
        rgb = np.zeros((3, 8, 8), dtype=np.uint8)
        rgb[:, 4:] = 255
        return _v(rgb)
    if case == "rgba_half_transparent":  # red at alpha 128 over white
        arr = np.zeros((8, 8, 4), dtype=np.uint8)
        arr[..., 0], arr[..., 3] = 255, 128
        Image.fromarray(arr, "RGBA").save(path)
        return None
    if case == "cmyk_jpeg":
        Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(path)  # pure red in CMYK
        return None
    if case in ("palette", "palette_transparent"):
        idx = np.zeros((8, 8), dtype=np.uint8)
        idx[4:] = 1
        img = Image.fromarray(idx, "P")
        img.putpalette([10, 20, 30, 200, 100, 50] + [0] * 762)
        if case == "palette":
            img.save(path)
            colours = np.array([[10, 20, 30], [200, 100, 50]], dtype=np.uint8)
        else:
            img.save(path, transparency=1)  # palette index 1 is transparent -> white
            colours = np.array([[10, 20, 30], [255, 255, 255]], dtype=np.uint8)
        return _v(colours[idx].transpose(2, 0, 1))
    if case == "png_16bit":
        arr = np.array([[0, 65535, 32896, 257]] * 4, dtype=np.uint16)
        Image.fromarray(arr).save(path)
        assert Image.open(path).mode.startswith("I")
        return _v(np.stack([np.array([[0, 255, 128, 1]] * 4)] * 3))
    if case == "exif_rotated_jpeg":  # stored 40 wide x 20 high, left red / right blue; displayed rotated 90 CW
        arr = np.zeros((20, 40, 3), dtype=np.uint8)
        arr[:, :20, 0] = 255
        arr[:, 20:, 2] = 255
        exif = Image.Exif()
        exif[0x0112] = 6
        Image.fromarray(arr).save(path, exif=exif, quality=95)
        return None
    raise AssertionError(case)


MODE_CASES = {
    "gray": "g.png",
    "gray_alpha": "la.png",
    "rgba_half_transparent": "rgba.png",
    "cmyk_jpeg": "cmyk.jpg",
    "palette": "p.png",
    "palette_transparent": "pt.png",
    "png_16bit": "deep.png",
    "exif_rotated_jpeg": "rotated.jpg",
}


@pytest.mark.parametrize("case", sorted(MODE_CASES))
def test_image_modes_become_rgb_tensors_through_the_datamodule(tmp_path, case):
    """preprocess="none" keeps the size (multiples of 4 here), so pixel values arrive unresampled."""
    path = tmp_path / "data" / "testA" / MODE_CASES[case]
    path.parent.mkdir(parents=True)
    expected = _write_mode_image(path, case)
    dm = UnpairedImageDataModule(root=str(tmp_path / "data"), preprocess="none", **dm_kwargs())
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    out = batch["A"][0]
    assert batch["A_path"] == [str(path)] and out.dtype == torch.float32
    assert -1.0 <= out.min() and out.max() <= 1.0
    if expected is not None:
        assert out.shape == expected.shape
        torch.testing.assert_close(out, expected, atol=1e-6, rtol=0)
    elif case == "rgba_half_transparent":
        assert out.shape == (3, 8, 8)
        # alpha compositing: 255 * 128/255 + 255 * 127/255 = 255 red; 0 * a + 255 * (1 - a) ~ 127 green/blue
        torch.testing.assert_close(out[0], torch.ones(8, 8))
        torch.testing.assert_close(out[1:], torch.full((2, 8, 8), float(_v(127))), atol=2.5 / 255, rtol=0)
    elif case == "cmyk_jpeg":
        assert out.shape == (3, 8, 8)
        assert (out[0] > 0.6).all() and (out[1:] < -0.5).all()
    elif case == "exif_rotated_jpeg":
        assert out.shape == (3, 40, 20)  # upright: 20 wide, 40 high
        top, bottom = out[:, 2:18].mean((1, 2)), out[:, 22:38].mean((1, 2))
        assert top[0] > 0.8 and top[2] < -0.8  # the stored left (red) half is on top after rotating
        assert bottom[2] > 0.8 and bottom[0] < -0.8


# --- 3. images smaller than the crop --------------------------------------------------------------------------
SMALL = (20, 12)  # (w, h) of every image below: smaller than crop_size 32 in both directions
SMALL_SHAPES = {  # (train, eval) tensor (H, W) for load_size 36, crop_size 32
    "resize_and_crop": ((32, 32), (32, 32)),
    "crop": ((32, 32), (32, 32)),  # scaled up so the shorter side is 32, then cropped
    "scale_width_and_crop": ((32, 32), (32, 32)),
    "scale_shorter_and_crop": ((32, 32), (32, 32)),
    "scale_width": ((22, 36), (19, 32)),  # width -> 36 (eval 32), height follows the aspect ratio, no crop
    "scale_shorter": ((36, 60), (32, 53)),  # shorter side -> 36 (eval 32), the other follows, no crop
    "none": ((12, 20), (12, 20)),  # own size (already multiples of 4)
}


def _white(path: Path, size=SMALL) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (255, 255, 255)).save(path)
    return path


def _small_dataset(root: Path, kind: str, mode: str):
    if kind == "unpaired":
        for folder in ("trainA", "trainB", "testA", "testB"):
            _white(root / folder / "x.png")
        dm = UnpairedImageDataModule(root=str(root), preprocess=mode, **dm_kwargs())
        keys = ("A", "B")
    elif kind == "paired_aligned":
        for split in ("train", "test"):
            _white(root / split / "x.png", size=(2 * SMALL[0], SMALL[1]))
        dm = PairedImageDataModule(root=str(root), preprocess=mode, **dm_kwargs())
        keys = ("A", "B")
    elif kind == "paired_folders":
        for side in ("A", "B"):
            for split in ("train", "test"):
                _white(root / side / split / "x.png")
        dm = PairedImageDataModule(root=str(root), preprocess=mode, **dm_kwargs())
        keys = ("A", "B")
    else:
        _white(root / "content" / "c.png")
        _white(root / "style" / "s.png")
        dm = ContentStyleDataModule(
            content_dir=str(root / "content"), style_dir=str(root / "style"), preprocess=mode, **dm_kwargs()
        )
        keys = ("content", "style")
    dm.setup("fit")
    return dm, keys


@pytest.mark.parametrize("kind", ["unpaired", "paired_aligned", "paired_folders", "content_style"])
@pytest.mark.parametrize("mode", PREPROCESS_MODES)
def test_images_smaller_than_the_crop(tmp_path, kind, mode):
    """Every cropping mode scales a small image up (never pads: an all-white image stays all white, where a
    crop outside the image would add black); scale_width and none keep the image's own proportions."""
    dm, keys = _small_dataset(tmp_path / "d", kind, mode)
    for dataset, shape in ((dm.train_set, SMALL_SHAPES[mode][0]), (dm.eval_set, SMALL_SHAPES[mode][1])):
        for seed in range(3):  # different random crops and flips
            item = dataset[(0, seed)]
            for key in keys:
                assert item[key].shape == (3, *shape), (key, item[key].shape)
                assert torch.equal(item[key], torch.ones_like(item[key])), "padding or out-of-range crop"


@pytest.mark.parametrize("mode", ["none", "scale_width", "scale_shorter"])
def test_batch_of_images_with_different_sizes_is_a_clear_error(tmp_path, mode):
    """Modes that keep each image's size cannot stack different aspect ratios into one batch."""
    root = tmp_path / "data"
    square = _white(root / "testA" / "a_square.png", size=(20, 20))
    wide = _white(root / "testA" / "b_wide.png", size=(20, 12))
    dm = UnpairedImageDataModule(root=str(root), preprocess=mode, **dm_kwargs(batch_size=2))
    dm.setup("predict")
    with pytest.raises(ImageLoadError) as info:
        next(iter(dm._loader(dm.predict_set)))  # a loader of batch_size 2 over them
    message = str(info.value)
    assert f"images of different sizes in one batch with preprocess='{mode}'" in message
    assert f"'{square}' became" in message and f"'{wide}' became" in message
    assert "set batch_size: 1, or a preprocess that crops to crop_size" in message
    # predict takes them one at a time, whatever the batch size
    shapes = [tuple(b["A"].shape) for b in dm.predict_dataloader()]
    assert len(shapes) == 2 and shapes[0][0] == shapes[1][0] == 1 and shapes[0] != shapes[1]


# --- 4. decompression-bomb limit ----------------------------------------------------------------------------
def test_image_over_the_pixel_limit(tmp_path, monkeypatch):
    root = tmp_path / "data"
    big = write_image(root / "testA" / "big.png", size=(32, 32))  # 1024 pixels
    dm = UnpairedImageDataModule(root=str(root), preprocess="none", **dm_kwargs())
    dm.setup("predict")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 400)  # Pillow refuses above 2 x the limit
    with pytest.raises(ImageLoadError) as info:
        dm.predict_set[0]
    message = str(info.value)
    assert message.startswith(f"image file '{big}' is too large to decode safely")
    assert "exceeds limit of 800 pixels" in message
    assert "downscale it, or raise PIL.Image.MAX_IMAGE_PIXELS if you trust the file" in message
    # between 1x and 2x the limit Pillow only warns, and the image loads
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 600)
    with pytest.warns(Image.DecompressionBombWarning):
        item = dm.predict_set[0]
    assert item["A"].shape == (3, 32, 32)


# --- 5. unicode and spaces in paths ------------------------------------------------------------------------
def test_unicode_and_spaces_in_paths(tmp_path):
    root = tmp_path / "fotos ñ"
    a = write_image(root / "trainA" / "été 1.png", seed=1)
    b = write_image(root / "trainB" / "日本 写真.jpg", seed=2)
    t = write_image(root / "testA" / "ça va.png", seed=3)
    write_image(root / "testB" / "Ølberg 2.png", seed=4)
    dm = UnpairedImageDataModule(root=str(root), **dm_kwargs())
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["A_path"] == [str(a)] and batch["B_path"] == [str(b)]
    assert batch["A"].shape == batch["B"].shape == (1, 3, 32, 32)
    dm.setup("predict")
    assert next(iter(dm.predict_dataloader()))["A_path"] == [str(t)]


# --- 6. missing and empty folders ------------------------------------------------------------------------------
def _folders_case(tmp: Path, case: str):
    """Build the layout of ``case``; return (DataModule, the folder the message must name, its words)."""
    if case.startswith("unpaired"):
        for folder in ("trainA", "trainB"):
            write_image(tmp / "d" / folder / "x.png")
        if case == "unpaired_missing_root":
            return UnpairedImageDataModule(root=str(tmp / "nowhere")), tmp / "nowhere", "does not exist"
        if case == "unpaired_missing_trainB":
            (tmp / "d" / "trainB" / "x.png").unlink()
            (tmp / "d" / "trainB").rmdir()
            return UnpairedImageDataModule(root=str(tmp / "d")), tmp / "d" / "trainB", "does not exist"
        if case == "unpaired_empty_trainA":
            (tmp / "d" / "trainA" / "x.png").unlink()
            return UnpairedImageDataModule(root=str(tmp / "d")), tmp / "d" / "trainA", "contains no images"
        if case == "unpaired_only_non_images":
            (tmp / "d" / "trainA" / "x.png").unlink()
            for name in ("notes.txt", "labels.csv", "x.png.bak", ".hidden.png", "Thumbs.db"):
                (tmp / "d" / "trainA" / name).write_text("x")
            (tmp / "d" / "trainA" / "sub").mkdir()
            return UnpairedImageDataModule(root=str(tmp / "d")), tmp / "d" / "trainA", "contains no images"
    if case == "paired_only_A_folder":  # root/A/train exists, root/B is missing: the message names B/train
        write_image(tmp / "p" / "A" / "train" / "x.png")
        return PairedImageDataModule(root=str(tmp / "p")), tmp / "p" / "B" / "train", "does not exist"
    if case == "paired_empty_train":
        (tmp / "p" / "train").mkdir(parents=True)
        return PairedImageDataModule(root=str(tmp / "p")), tmp / "p" / "train", "contains no images"
    write_image(tmp / "content" / "c.png")
    (tmp / "style").mkdir()
    if case == "content_style_missing_content":
        dm = ContentStyleDataModule(content_dir=str(tmp / "nope"), style_dir=str(tmp / "content"))
        return dm, tmp / "nope", "does not exist"
    if case == "content_style_empty_style":
        dm = ContentStyleDataModule(content_dir=str(tmp / "content"), style_dir=str(tmp / "style"))
        return dm, tmp / "style", "contains no images"
    raise AssertionError(case)


FOLDER_CASES = [
    "unpaired_missing_root",
    "unpaired_missing_trainB",
    "unpaired_empty_trainA",
    "unpaired_only_non_images",
    "paired_only_A_folder",
    "paired_empty_train",
    "content_style_missing_content",
    "content_style_empty_style",
]


@pytest.mark.parametrize("case", FOLDER_CASES)
def test_missing_or_empty_folder_is_named(tmp_path, case):
    dm, folder, words = _folders_case(tmp_path, case)
    with pytest.raises(DatasetNotFoundError) as info:
        dm.setup("fit")
    message = str(info.value)
    assert isinstance(info.value, GanStyleError) and isinstance(info.value, FileNotFoundError)
    assert f"'{folder}' {words}" in message
    if words == "contains no images":
        assert "looked for .jpg, .jpeg, .png" in message and "put images in it or fix the path" in message
    elif case == "unpaired_missing_root":
        assert "set data.root to a folder with trainA/, trainB/" in message
    else:
        assert "create it and put images in it, or fix the path" in message


@pytest.mark.parametrize("where", ["folder", "subfolder"])
def test_unreadable_folder_is_named_not_called_empty(tmp_path, monkeypatch, where):
    """A folder the user may not read is reported as unreadable (naming it), not as holding no images. Root
    ignores permissions, so the refusal of the operating system is simulated where listing happens."""
    from gan_style.data import list_images

    root = tmp_path / "trainA"
    write_image(root / "a.png")
    locked = root if where == "folder" else root / "private"
    locked.mkdir(exist_ok=True)
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path) == os.fspath(locked):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DatasetNotFoundError) as info:
        list_images(root)
    assert str(info.value) == (
        f"image folder '{locked}' cannot be read (Permission denied); give yourself read permission on it or fix "
        "the path"
    )


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="file permissions do not bind root")
def test_unreadable_folder_without_simulation(tmp_path):
    from gan_style.data import list_images

    root = tmp_path / "trainA"
    write_image(root / "a.png")
    root.chmod(0o000)
    try:
        with pytest.raises(DatasetNotFoundError, match="cannot be read"):
            list_images(root)
    finally:
        root.chmod(0o755)


def test_yaml_syntax_error_names_the_config_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model:\n  init_args:\n    lr: [1, 2\n")
    proc = gan_style_in_process("fit", "--config", RECIPE, "--config", str(bad), cwd=tmp_path, check=False)
    assert assert_clean_cli_error(proc) == (
        f"config file '{bad}' is not valid YAML at line 4, column 1: expected ',' or ']', but got '<stream end>' "
        "(while parsing a flow sequence); fix the file"
    )
    proc = gan_style_in_process("fit", f"--config={tmp_path / 'none.yaml'}", cwd=tmp_path, check=False)
    assert assert_clean_cli_error(proc) == (
        f"config file '{tmp_path / 'none.yaml'}' does not exist; give a file, or an installed recipe by name: "
        "adain, cut, cyclegan, dcgan, demo/cpu, demo/digits, demo/gray16, demo/multiband, demo/munit, demo/pix2pix_cpu, "
        "demo/unit, fastcut, gatys, loggers/csv, loggers/wandb, munit, patchgan, perf/fast, pix2pix, sincut, unit "
        "(gan-style recipes lists them)"
    )


# --- 7. paired data ------------------------------------------------------------------------------------------
def test_aligned_odd_width_in_a_batch_names_the_file_and_the_fix(tmp_path):
    root = tmp_path / "d"
    odd = write_image(root / "train" / "odd.png", size=(81, 40))
    dm = PairedImageDataModule(root=str(root), direction="BtoA", **dm_kwargs())
    dm.setup("fit")
    with pytest.raises(ImageLoadError) as info:
        next(iter(dm.train_dataloader()))
    assert str(info.value) == (
        f"aligned image '{odd}' has an odd width (81x40), so it cannot be split into equal A|B halves; "
        "crop it to an even width, or store A and B as separate files (layout: folders)"
    )
    skipping = PairedImageDataModule(root=str(root), skip_bad_images=True, **dm_kwargs())
    skipping.setup("fit")
    with pytest.warns(UserWarning, match="odd.png"), pytest.raises(ImageLoadError, match="none of the 1 files"):
        skipping.train_set[0]


def _folders_pair(root: Path, stem: str, size_a, size_b, split="train"):
    a = write_image(root / "A" / split / f"{stem}.png", size=size_a)
    b = write_image(root / "B" / split / f"{stem}.jpg", size=size_b)
    return a, b


def test_folders_pair_of_different_sizes_names_both_files_and_can_be_skipped(tmp_path):
    root = tmp_path / "pairs"
    a_bad, b_bad = _folders_pair(root, "a_mismatch", (40, 40), (40, 30))
    a_ok, b_ok = _folders_pair(root, "b_ok", (40, 36), (40, 36))
    dm = PairedImageDataModule(root=str(root), serial_batches=True, **dm_kwargs())
    dm.setup("fit")
    with pytest.raises(ImageLoadError) as info:
        next(iter(dm.train_dataloader()))
    assert str(info.value) == (
        f"pair sizes disagree: '{a_bad}' is 40x40 but '{b_bad}' is 40x30; paired images must be aligned pixel for pixel"
    )
    dm = PairedImageDataModule(root=str(root), serial_batches=True, skip_bad_images=True, **dm_kwargs())
    dm.setup("fit")
    with pytest.warns(UserWarning, match=re.escape(f"'{a_bad}' is 40x40 but '{b_bad}'")):
        item = dm.train_set[0]
    assert (item["A_path"], item["B_path"]) == (str(a_ok), str(b_ok))
    assert item["A"].shape == item["B"].shape == (3, 32, 32)


def test_stem_on_one_side_only_names_a_file(tmp_path):
    root = tmp_path / "pairs"
    _folders_pair(root, "x", (36, 36), (36, 36))
    lonely = write_image(root / "A" / "train" / "y.png", size=(36, 36))
    with pytest.raises(ImageLoadError) as info:  # a GanStyleError: the CLI prints it without a traceback
        PairedImageDataModule(root=str(root), **dm_kwargs()).setup("fit")
    message = str(info.value)
    assert isinstance(info.value, GanStyleError) and isinstance(info.value, ValueError)
    assert "stems only in A: ['y'], only in B: []" in message
    assert f"e.g. '{lonely}' has none in '{root / 'B' / 'train'}': add it or remove the file" in message


def test_two_files_with_one_stem_are_named(tmp_path):
    root = tmp_path / "pairs"
    _folders_pair(root, "x", (36, 36), (36, 36))
    png = root / "B" / "train" / "x.png"
    write_image(png, size=(36, 36))
    with pytest.raises(ImageLoadError) as info:
        PairedImageDataModule(root=str(root), **dm_kwargs()).setup("fit")
    assert str(info.value) == (
        f"'{root / 'B' / 'train' / 'x.jpg'}' and '{png}' share the stem 'x'; pairs are matched by stem, so rename "
        "one of them"
    )


# --- 8. a single style image ------------------------------------------------------------------------------
def test_style_folder_with_one_image(tmp_path):
    contents = [write_image(tmp_path / "content" / f"c{i}.png", size=(48, 40), seed=i) for i in range(3)]
    style = write_image(tmp_path / "style" / "only.jpg", size=(50, 44), seed=9)
    dm = ContentStyleDataModule(
        content_dir=str(tmp_path / "content"),
        style_dir=str(tmp_path / "style"),
        epoch_length=5,
        **dm_kwargs(batch_size=2),
    )
    dm.setup("fit")
    train = list(dm.train_dataloader())
    assert [b["content"].shape[0] for b in train] == [2, 2, 1]  # epoch_length 5 in batches of 2
    for batch in train:
        n = batch["content"].shape[0]
        assert batch["content"].shape == batch["style"].shape == (n, 3, 32, 32)
        assert batch["style_path"] == [str(style)] * n
    val = list(dm.val_dataloader())
    assert [b["content_path"] for b in val] == [[str(contents[0]), str(contents[1])], [str(contents[2])]]
    assert all(b["style_path"] == [str(style)] * len(b["content_path"]) for b in val)
    assert all(b["style"].shape[1:] == (3, 32, 32) for b in val)


# --- 9a. NaN and negative settings of the methods -------------------------------------------------------------
def _cyclegan(**kwargs):
    from gan_style.methods import CycleGAN

    return CycleGAN(**tiny_cyclegan_kwargs(), **kwargs)


def _pix2pix(**kwargs):
    from gan_style.methods import Pix2Pix

    return Pix2Pix(**tiny_pix2pix_kwargs(), **kwargs)


def _adain(**kwargs):
    from gan_style.methods import AdaIN

    return AdaIN(encoder_weights=None, **kwargs)


def _gatys(**kwargs):
    from gan_style.methods import Gatys

    content = str(SAMPLE_ROOT / "testA" / "sailboat.jpg")
    style = str(SAMPLE_ROOT / "testB" / "starry_night_crop.jpg")
    return Gatys(content=content, style=style, image_size=32, num_iterations=1, vgg_weights=None, **kwargs)


def _patchgan_style(**kwargs):
    from gan_style.methods import PatchGANStyle
    from gan_style.nets import NLayerDiscriminator, TransformationNetwork

    return PatchGANStyle(
        generator=TransformationNetwork(channels=8, n_residual=1),
        discriminator=NLayerDiscriminator(ndf=8, n_layers=2),
        vgg_weights=None,
        **kwargs,
    )


METHOD_SETTINGS = [
    (_cyclegan, "lambda_cycle"),
    (_cyclegan, "lambda_identity"),
    (_cyclegan, "lr"),
    (_pix2pix, "lambda_l1"),
    (_pix2pix, "lr"),
    (_adain, "content_weight"),
    (_adain, "style_weight"),
    (_adain, "lr"),
    (_adain, "lr_decay"),
    (_gatys, "content_weight"),
    (_gatys, "style_weight"),
    (_gatys, "tv_weight"),
    (_gatys, "style_scale"),
    (_gatys, "style_blend_weights"),  # list settings: one entry per style image / layer
    (_gatys, "content_layer_weights"),
    (_gatys, "style_layer_weights"),
    pytest.param(_gatys, "lr"),
    (_patchgan_style, "content_weight"),
    (_patchgan_style, "style_weight"),
    (_patchgan_style, "adv_weight"),
    (_patchgan_style, "tv_weight"),
    (_patchgan_style, "r1_gamma"),
    (_patchgan_style, "lr"),
    (_patchgan_style, "lr_d"),
]
LIST_LENGTHS = {"style_blend_weights": 1, "content_layer_weights": 1, "style_layer_weights": 5}


@pytest.mark.parametrize("value", [math.nan, -1.0], ids=["nan", "negative"])
@pytest.mark.parametrize(
    "build,setting", METHOD_SETTINGS, ids=lambda v: v.__name__.strip("_") if callable(v) else str(v)
)
def test_method_rejects_nan_or_negative_setting(build, setting, value):
    given = [value] * LIST_LENGTHS[setting] if setting in LIST_LENGTHS else value
    with pytest.raises(ValueError, match=rf"\b{setting}\b.*{re.escape(str(value))}"):
        build(**{setting: given})


# --- the gan-style command -----------------------------------------------------------------------------------
class CliRuns:
    """``gan-style`` subprocesses started at once (output to files in ``cwd``, so no pipe fills up) and runs in
    this process; ``result(name)`` waits for a subprocess or returns the run's result."""

    def __init__(self) -> None:
        self.procs: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.results: dict[str, subprocess.CompletedProcess] = {}
        self.paths: dict[str, Path] = {}

    def start(self, name: str, *args: str, cwd: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB") and k != "GAN_STYLE_TRACEBACK"}
        with open(cwd / "stdout.txt", "wb") as out, open(cwd / "stderr.txt", "wb") as err:
            proc = subprocess.Popen(
                [sys.executable, "-m", "gan_style", *args],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
            )
        self.procs[name] = (proc, cwd)

    def run_here(self, name: str, *args: str, cwd: Path) -> None:
        """``gan-style ARGS`` in this process, with the environment ``start`` gives its subprocesses."""
        traceback_setting = os.environ.pop("GAN_STYLE_TRACEBACK", None)
        try:
            self.results[name] = gan_style_in_process(*args, cwd=cwd, check=False)
        finally:
            if traceback_setting is not None:
                os.environ["GAN_STYLE_TRACEBACK"] = traceback_setting

    def result(self, name: str) -> subprocess.CompletedProcess:
        if name not in self.results:
            proc, cwd = self.procs[name]
            proc.wait(timeout=600)
            out, err = ((cwd / f).read_text(encoding="utf-8", errors="replace") for f in ("stdout.txt", "stderr.txt"))
            self.results[name] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        return self.results[name]

    def stop(self) -> None:
        for proc, _ in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def _tiny_fit_args(root: Path, run: Path) -> list[str]:
    return [
        "fit",
        "--config",
        RECIPE,
        *TINY_CLI_ARGS,
        f"--data.init_args.root={root}",
        f"--trainer.default_root_dir={run}",
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=0",
    ]


CONFIG_CASES = {  # name: (the setting the message must name, extra arguments or a YAML text)
    "lambda_cycle_nan_arg": ("lambda_cycle", ["--model.init_args.lambda_cycle=nan"]),
    "lr_negative_arg": ("lr", ["--model.init_args.lr=-1"]),
    "batch_size_zero_arg": ("batch_size", ["--data.init_args.batch_size=0"]),
    "crop_size_negative_arg": ("crop_size", ["--data.init_args.crop_size=-5"]),
    "lambda_cycle_nan_yaml": ("lambda_cycle", "model:\n  init_args:\n    lambda_cycle: .nan\n"),
    # a crop the ResNet generators cannot take (two stride-2 steps: multiples of 4), refused at setup
    "crop_size_not_a_multiple": ("crop_size", ["--data.init_args.crop_size=30"]),
}


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    runs = CliRuns()
    # 1. an unreadable image read by a DataLoader worker: its error comes back from a worker process through a
    # real command, so in a subprocess, started first to run alongside the others
    worker = tmp / "worker"
    runs.paths["bad"] = make_bad_file(worker / "data" / "trainA", "text_as_png")
    write_image(worker / "data" / "trainB" / "b.png")
    runs.start(
        "worker",
        *_tiny_fit_args(worker / "data", worker / "run"),
        "--data.init_args.num_workers=1",
        cwd=worker,
    )
    # 5. unicode and spaces in the data folder, the file names and the run folder
    uni = tmp / "unicode"
    root = uni / "fotos ñ"
    write_image(root / "testA" / "été 1.png", seed=1)
    write_image(root / "testA" / "日本 写真.jpg", seed=2)
    runs.paths["unicode_run"] = uni / "rün ñ"
    runs.run_here(
        "unicode",
        "predict",
        "--config",
        RECIPE,
        *TINY_CLI_ARGS,
        f"--data.init_args.root={root}",
        f"--trainer.default_root_dir={runs.paths['unicode_run']}",
        cwd=uni,
    )
    # 9. NaN and negative settings
    for name, (_, extra) in CONFIG_CASES.items():
        case = tmp / name
        case.mkdir()
        if isinstance(extra, str):
            (case / "bad.yaml").write_text(extra)
            extra = ["--config", str(case / "bad.yaml")]
        runs.run_here(name, *_tiny_fit_args(SAMPLE_ROOT, case / "run"), *extra, cwd=case)
    yield runs
    runs.stop()


def assert_clean_cli_error(proc: subprocess.CompletedProcess) -> str:
    """Exit status 2 (bad input: gan_style.commands.runner's policy), no traceback, and stderr ends with one
    ``gan-style: error: ...`` line; returns it."""
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert proc.returncode == 2, proc.stderr[-3000:]
    last = proc.stderr.rstrip().splitlines()[-1]
    assert last.startswith(CLI_ERROR_PREFIX), proc.stderr[-3000:]
    assert proc.stderr.count(CLI_ERROR_PREFIX) == 1
    return last[len(CLI_ERROR_PREFIX) :]


def test_cli_unreadable_file_in_a_worker(cli):
    message = assert_clean_cli_error(cli.result("worker"))
    bad = cli.paths["bad"]
    assert message.startswith(f"image file '{bad}' is not a readable image (cannot identify image file")
    assert message.endswith(
        "replace or remove it, or set skip_bad_images: true to skip unreadable files with a warning"
    )
    assert "DataLoader worker" not in message


def test_cli_predict_with_unicode_paths(cli):
    proc = cli.result("unicode")
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = cli.paths["unicode_run"] / "predictions"
    assert sorted(p.name for p in out.iterdir()) == ["été 1.png", "日本 写真.png"]  # input stems kept
    for path in out.iterdir():
        with Image.open(path) as img:
            assert img.size == (40, 36) and img.mode == "RGB"  # the image's own size, not the 32-pixel crop
    assert f"ImageWriter: wrote 2 images to {out}" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "name",
    [
        "lambda_cycle_nan_arg",  # rejected by jsonargparse while parsing: exit 2 with a usage message
        "lr_negative_arg",
        "batch_size_zero_arg",
        "crop_size_negative_arg",
        "lambda_cycle_nan_yaml",
        "crop_size_not_a_multiple",
    ],
)
def test_cli_nan_or_negative_setting(cli, name):
    setting = CONFIG_CASES[name][0]
    proc = cli.result(name)
    assert proc.returncode == 2  # a bad request, in every command (gan_style.commands.runner)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    tail = proc.stderr[-2000:]
    assert re.search(rf"\b{setting}\b", tail), tail
    assert "error:" in tail


def test_cli_crop_size_the_generator_cannot_take_names_the_fix(cli):
    message = assert_clean_cli_error(cli.result("crop_size_not_a_multiple"))
    assert message == (
        "data.init_args.crop_size=30 does not suit CycleGAN's generator_ab (ResnetGenerator), which needs image "
        "sides that are multiples of 4: use 28 or 32"
    )


def test_pix2pix_crop_size_the_unet_cannot_take_is_refused_at_setup(tmp_path, make_trainer):
    from gan_style.errors import InvalidSettingError
    from gan_style.methods import Pix2Pix

    data = PairedImageDataModule(root=str(REPO / "examples/data/facades"), load_size=36, crop_size=36, num_workers=0)
    model = Pix2Pix(**tiny_pix2pix_kwargs())
    with pytest.raises(InvalidSettingError) as err:
        make_trainer(max_steps=1).fit(model, data)
    assert str(err.value) == (
        "data.init_args.crop_size=36 does not suit Pix2Pix's generator (UnetGenerator), which needs image sides "
        "that are multiples of 32: use 32 or 64"
    )
