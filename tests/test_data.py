import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_image
from gan_style.data import (
    ImageLoadError,
    ImageTransform,
    SeededSampler,
    UnpairedImageDataModule,
    list_images,
    load_image,
)


# --- reading single files ------------------------------------------------------------------------------
def test_grayscale_rgba_palette_cmyk_become_rgb(tmp_path):
    gray = write_image(tmp_path / "g.png", mode="L")
    assert load_image(gray).mode == "RGB"
    arr = np.asarray(load_image(gray))
    assert (arr[..., 0] == arr[..., 1]).all() and (arr[..., 1] == arr[..., 2]).all()
    pal = write_image(tmp_path / "p.png", mode="P")
    assert load_image(pal).mode == "RGB"
    cmyk = tmp_path / "c.jpg"
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(cmyk)  # pure red in CMYK
    r, g, b = load_image(cmyk).getpixel((4, 4))
    assert r > 200 and g < 60 and b < 60


def test_rgba_is_composited_over_white(tmp_path):
    path = tmp_path / "rgba.png"
    arr = np.zeros((4, 4, 4), dtype=np.uint8)
    arr[..., 0] = 255  # red ...
    arr[:2, :, 3] = 255  # ... opaque in the top half, transparent below
    Image.fromarray(arr, "RGBA").save(path)
    img = np.asarray(load_image(path))
    assert img.shape == (4, 4, 3)
    assert (img[0, 0] == [255, 0, 0]).all() and (img[3, 3] == [255, 255, 255]).all()


def test_16bit_png_is_scaled_to_8bit(tmp_path):
    path = tmp_path / "deep.png"
    arr = np.array([[0, 65535], [32896, 257]], dtype=np.uint16)
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode.startswith("I")
    out = np.asarray(load_image(path))[..., 0]
    assert out.tolist() == [[0, 255], [128, 1]]


def test_exif_orientation_is_applied(tmp_path):
    path = tmp_path / "rotated.jpg"
    img = Image.new("RGB", (40, 20), (0, 128, 0))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise on display
    img.save(path, exif=exif)
    assert load_image(path).size == (20, 40)


def test_bad_files_raise_naming_the_file(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError, match="empty.jpg.*empty"):
        load_image(empty)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    with pytest.raises(ImageLoadError, match="notes.png.*skip_bad_images"):
        load_image(text)
    good = write_image(tmp_path / "full.jpg", size=(64, 64))
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ImageLoadError, match="truncated.jpg"):
        load_image(truncated)


def test_list_images_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing"):
        list_images(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match="contains no images"):
        list_images(tmp_path / "empty")
    write_image(tmp_path / "d" / "b.PNG")
    write_image(tmp_path / "d" / "sub" / "a.jpg")
    write_image(tmp_path / "d" / ".hidden.png")
    assert [p.name for p in list_images(tmp_path / "d")] == ["b.PNG", "a.jpg"]


# --- transforms -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "preprocess,train,size,expected",
    [
        ("resize_and_crop", True, (100, 50), (32, 32)),
        ("resize_and_crop", False, (100, 50), (32, 32)),
        ("crop", True, (100, 50), (32, 32)),
        ("crop", True, (20, 10), (32, 32)),  # smaller than the crop: scaled up first
        ("scale_width", True, (100, 50), (18, 36)),  # (H, W): width -> load_size
        ("scale_width", False, (100, 50), (16, 32)),  # evaluation: width -> crop_size
        ("scale_width_and_crop", True, (100, 50), (32, 32)),
        ("none", True, (50, 30), (32, 48)),  # rounded to multiples of 4 (round half to even)
    ],
)
def test_transform_sizes(preprocess, train, size, expected):
    t = ImageTransform(preprocess, load_size=36, crop_size=32, train=train)
    out = t(Image.new("RGB", size, (255, 0, 0)), torch.Generator().manual_seed(0))
    assert out.shape == (3, *expected)
    assert torch.allclose(out[0], torch.ones_like(out[0])) and torch.allclose(out[1], -torch.ones_like(out[1]))


def test_transform_validation():
    with pytest.raises(ValueError, match="crop_size"):
        ImageTransform("resize_and_crop", load_size=100, crop_size=128)
    with pytest.raises(ValueError, match="preprocess"):
        ImageTransform("resize")


def test_same_params_give_same_crop_and_flip():
    t = ImageTransform("resize_and_crop", 40, 32, flip=True)
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 50, 3), dtype=np.uint8))
    params = t.sample_params(img.size, torch.Generator().manual_seed(3))
    assert torch.equal(t.apply(img, params), t.apply(img, params))
    flips = {t.sample_params(img.size, torch.Generator().manual_seed(s)).flip for s in range(20)}
    assert flips == {True, False}
    assert not ImageTransform("resize_and_crop", 40, 32, train=False).sample_params((50, 50)).flip


# --- sampler ----------------------------------------------------------------------------------------------
def test_seeded_sampler_is_reproducible_per_epoch_and_resumes():
    s = SeededSampler(10, seed=7)
    e0, e1 = list(s), list(s)
    assert sorted(i for i, _ in e0) == list(range(10)) and e0 != e1
    s.set_epoch(1)
    assert list(s) == e1
    assert list(SeededSampler(10, seed=7, epoch=1, skip=4)) == e1[4:]
    assert [i for i, _ in SeededSampler(5, 0, shuffle=False)] == [0, 1, 2, 3, 4]


# --- the data module on real images -------------------------------------------------------------------
def test_datamodule_on_sample_images(sample_root):
    dm = UnpairedImageDataModule(root=str(sample_root), load_size=72, crop_size=64, batch_size=2, num_workers=0, seed=1)
    dm.setup("fit")
    assert len(dm.train_set) == 18  # max(8 photos, 18 paintings)
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"A", "B", "A_path", "B_path"}
    assert batch["A"].shape == (2, 3, 64, 64) and batch["B"].shape == (2, 3, 64, 64)
    assert batch["A"].dtype == torch.float32
    assert -1.0 <= batch["A"].min() < 0 < batch["A"].max() <= 1.0
    assert all("trainA" in p for p in batch["A_path"]) and all("trainB" in p for p in batch["B_path"])
    val = next(iter(dm.val_dataloader()))
    assert "testA" in val["A_path"][0] and val["A"].shape[-1] == 64

    # same seed -> same batches, another seed -> other batches
    def first(seed):
        other = UnpairedImageDataModule(
            root=str(sample_root), load_size=72, crop_size=64, batch_size=2, num_workers=0, seed=seed
        )
        other.setup("fit")
        return next(iter(other.train_dataloader()))["A"]

    assert torch.equal(first(1), batch["A"]) and not torch.equal(first(2), batch["A"])


def test_direction_btoa_swaps_domains(sample_root):
    dm = UnpairedImageDataModule(root=str(sample_root), direction="BtoA", load_size=36, crop_size=32, num_workers=0)
    dm.setup("fit")
    item = dm.train_set[0]
    assert "trainB" in item["A_path"] and "trainA" in item["B_path"]


def test_predict_domain(sample_root):
    dm = UnpairedImageDataModule(root=str(sample_root), predict_domain="B", load_size=36, crop_size=32, num_workers=0)
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert set(batch) == {"B", "B_path"} and "testB" in batch["B_path"][0]


def test_missing_folders_are_named(tmp_path, tiny_unpaired):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        UnpairedImageDataModule(root=str(tmp_path / "nowhere")).setup("fit")
    (tiny_unpaired / "trainB").rename(tiny_unpaired / "train_B")
    with pytest.raises(FileNotFoundError, match="trainB"):
        UnpairedImageDataModule(root=str(tiny_unpaired)).setup("fit")


def test_grayscale_rgba_and_corrupt_in_a_dataset(tiny_unpaired):
    write_image(tiny_unpaired / "trainA" / "gray.png", mode="L")
    write_image(tiny_unpaired / "trainA" / "rgba.png", mode="RGBA")
    dm = UnpairedImageDataModule(
        root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0, serial_batches=True
    )
    dm.setup("fit")
    names = [p.name for p in dm.train_set.files_a]
    for name in ("gray.png", "rgba.png"):
        assert dm.train_set[names.index(name)]["A"].shape == (3, 32, 32)
    (tiny_unpaired / "trainA" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    dm = UnpairedImageDataModule(
        root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0, serial_batches=True
    )
    dm.setup("fit")
    broken = [p.name for p in dm.train_set.files_a].index("broken.jpg")
    with pytest.raises(ImageLoadError, match="broken.jpg"):
        dm.train_set[broken]


def test_skip_bad_images_warns_and_skips(tiny_unpaired):
    (tiny_unpaired / "trainA" / "aaa_broken.png").write_bytes(b"garbage")
    dm = UnpairedImageDataModule(
        root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0, serial_batches=True, skip_bad_images=True
    )
    dm.setup("fit")
    assert dm.train_set.files_a[0].name == "aaa_broken.png"
    with pytest.warns(UserWarning, match="aaa_broken.png"):
        item = dm.train_set[0]
    assert item["A_path"].endswith("trainA_0.png")  # the next readable file


def test_datamodule_argument_errors():
    with pytest.raises(ValueError, match="direction"):
        UnpairedImageDataModule(direction="AB")
    with pytest.raises(ValueError, match="batch_size"):
        UnpairedImageDataModule(batch_size=0)
    with pytest.raises(ValueError, match="crop_size"):
        UnpairedImageDataModule(load_size=100, crop_size=128)


def test_workers_give_the_same_batches(tiny_unpaired):
    def first_batches(workers):
        dm = UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=workers, seed=5)
        dm.setup("fit")
        return [b["A"] for b in dm.train_dataloader()]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = first_batches(0), first_batches(2)
    assert len(a) == 3 and all(torch.equal(x, y) for x, y in zip(a, b))


def test_content_style_predict_renders_whole_images_at_the_shorter_side(tmp_path):
    """AdaIN's reference test stylizes whole images, shorter side 512 (``content_size``): predict does the same
    (here 40 px), one image per batch, aspect ratio kept; ``predict_size: null`` gives the validation crops."""
    from conftest import write_image
    from gan_style.data import ContentStyleDataModule

    write_image(tmp_path / "content" / "wide.png", size=(90, 60))
    write_image(tmp_path / "content" / "tall.png", size=(50, 100), seed=1)
    write_image(tmp_path / "style" / "s.png", size=(80, 64), seed=2)
    kwargs = dict(content_dir=str(tmp_path / "content"), style_dir=str(tmp_path / "style"), num_workers=0)
    assert ContentStyleDataModule(**kwargs).hparams.predict_size == 512
    dm = ContentStyleDataModule(**kwargs, predict_size=40, crop_size=32, load_size=48)
    dm.setup("predict")
    batches = list(dm.predict_dataloader())
    shapes = {Path(b["content_path"][0]).name: (tuple(b["content"].shape), tuple(b["style"].shape)) for b in batches}
    assert shapes == {"tall.png": ((1, 3, 80, 40), (1, 3, 40, 50)), "wide.png": ((1, 3, 40, 60), (1, 3, 40, 50))}
    crops = ContentStyleDataModule(**kwargs, predict_size=None, crop_size=32, load_size=48)
    crops.setup("predict")
    assert next(iter(crops.predict_dataloader()))["content"].shape == (2, 3, 32, 32)
