from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import write_image
from gan_style.data import ImageLoadError, PairedImageDataModule, split_aligned


def aligned(path, left, right, size=(40, 32)):
    """Write an aligned A|B image: left half ``left`` colour, right half ``right`` colour."""
    w, h = size
    arr = np.zeros((h, 2 * w, 3), dtype=np.uint8)
    arr[:, :w] = left
    arr[:, w:] = right
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def test_split_aligned_and_odd_width(tmp_path):
    img = Image.new("RGB", (10, 4))
    a, b = split_aligned(img, "x.png")
    assert a.size == b.size == (5, 4)
    with pytest.raises(ImageLoadError, match="odd width.*11x4"):
        split_aligned(Image.new("RGB", (11, 4)), "odd.png")


def test_facades_sample_batches(facades_root):
    dm = PairedImageDataModule(
        root=str(facades_root), direction="BtoA", load_size=143, crop_size=128, batch_size=2, num_workers=0, seed=0
    )
    dm.setup("fit")
    assert dm.layout == "aligned" and len(dm.train_set) == 50 and len(dm.eval_set) == 25
    batch = next(iter(dm.train_dataloader()))
    assert set(batch) == {"A", "B", "A_path", "B_path"}
    assert batch["A"].shape == batch["B"].shape == (2, 3, 128, 128)
    assert batch["A_path"] == batch["B_path"]  # both halves of one file
    # BtoA: "A" is the label map (right half): few distinct colours; "B" is the photo
    labels, photo = batch["A"][0], batch["B"][0]
    assert len(torch.unique(labels.flatten(1).T.mul(127.5).round(), dim=0)) < len(
        torch.unique(photo.flatten(1).T.mul(127.5).round(), dim=0)
    )


def test_same_crop_and_flip_on_both_halves(tmp_path):
    # left half: horizontal gradient; right half: the same gradient -> any shared crop/flip keeps A == B
    w, h = 48, 40
    grad = np.tile(np.linspace(0, 255, w, dtype=np.uint8)[None, :, None], (h, 1, 3))
    path = tmp_path / "d" / "train" / "0.png"
    path.parent.mkdir(parents=True)
    Image.fromarray(np.concatenate([grad, grad], 1)).save(path)
    dm = PairedImageDataModule(root=str(tmp_path / "d"), load_size=44, crop_size=32, num_workers=0, seed=0)
    dm.setup("fit")
    flips = set()
    for seed in range(12):
        item = dm.train_set[(0, seed)]
        assert torch.equal(item["A"], item["B"])
        flips.add(bool(item["A"][0, 0, 0] > item["A"][0, 0, -1]))
    assert flips == {True, False}  # both orientations occurred, always on both halves together


def test_folders_layout_matched_by_stem(tmp_path):
    root = tmp_path / "pairs"
    (root / "A" / "train").mkdir(parents=True)
    (root / "B" / "train").mkdir(parents=True)
    for stem, colour in (("x", 10), ("y", 200)):
        Image.new("RGB", (36, 36), (colour, 0, 0)).save(root / "A" / "train" / f"{stem}.png")
        Image.new("RGB", (36, 36), (0, colour, 0)).save(root / "B" / "train" / f"{stem}.jpg")
    dm = PairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0, serial_batches=True)
    dm.setup("fit")
    assert dm.layout == "folders" and dm.eval_set is None  # no val/test folders: validation skipped
    item = dm.train_set[0]
    assert item["A_path"].endswith("x.png") and item["B_path"].endswith("x.jpg")
    # red channel of A and green channel of B carry the same value for a matched pair
    assert torch.allclose(item["A"][0], item["B"][1], atol=0.02)


def test_stem_on_one_side_only_is_named(tmp_path):
    root = tmp_path / "pairs"
    write_image(root / "A" / "train" / "x.png")
    write_image(root / "A" / "train" / "only_a.png")
    write_image(root / "B" / "train" / "x.png")
    write_image(root / "B" / "train" / "only_b.png")
    with pytest.raises(ValueError, match=r"only in A: \['only_a'\], only in B: \['only_b'\]"):
        PairedImageDataModule(root=str(root), num_workers=0).setup("fit")


def test_pair_sizes_that_disagree(tmp_path):
    root = tmp_path / "pairs"
    write_image(root / "A" / "train" / "x.png", size=(40, 40))
    write_image(root / "B" / "train" / "x.png", size=(40, 30))
    dm = PairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0)
    dm.setup("fit")
    with pytest.raises(ImageLoadError, match="pair sizes disagree.*40x40.*40x30"):
        dm.train_set[0]


def test_odd_width_file_in_a_dataset_and_skipping(tmp_path):
    root = tmp_path / "d"
    aligned(root / "train" / "good.png", 50, 200)
    Image.new("RGB", (81, 32)).save(root / "train" / "bad.png")
    dm = PairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0, serial_batches=True)
    dm.setup("fit")
    bad = [p.name for p in dm.train_set.files].index("bad.png")
    with pytest.raises(ImageLoadError, match="bad.png"):
        dm.train_set[bad]
    dm = PairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0, skip_bad_images=True)
    dm.setup("fit")
    item = dm.train_set[bad]
    assert item["A_path"].endswith("good.png")


def test_predict_uses_the_source_half(tmp_path):
    root = tmp_path / "d"
    aligned(root / "test" / "0.png", 0, 255)
    dm = PairedImageDataModule(root=str(root), direction="BtoA", load_size=36, crop_size=32, num_workers=0)
    dm.setup("predict")
    batch = next(iter(dm.predict_dataloader()))
    assert torch.allclose(batch["A"], torch.ones_like(batch["A"]))  # BtoA: the white right half is the source


def test_argument_errors(tmp_path):
    with pytest.raises(ValueError, match="layout"):
        PairedImageDataModule(layout="side_by_side")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        PairedImageDataModule(root=str(tmp_path / "none")).setup("fit")
    (tmp_path / "empty" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="contains no images"):
        PairedImageDataModule(root=str(tmp_path / "empty")).setup("fit")


def test_split_folders_layout_is_paired_by_stem_never_cut(tmp_path):
    """root/{train,test}/{A,B} (SPADE / COCO-stuff): read as pairs by stem, whole images, not as A|B halves."""
    root = tmp_path / "spade"
    for split, stems in (("train", ["a", "b", "c"]), ("test", ["t"])):
        for i, stem in enumerate(stems):
            write_image(root / split / "A" / f"{stem}.png", size=(40, 32), mode="L", seed=i)  # a label map
            write_image(root / split / "B" / f"{stem}.jpg", size=(40, 32), seed=10 + i)
    dm = PairedImageDataModule(root=str(root), load_size=32, crop_size=32, flip=False, num_workers=0, seed=0)
    dm.setup("fit")
    assert dm.layout == "split_folders" and len(dm.train_set) == 3 and len(dm.eval_set) == 1
    batch = next(iter(dm.train_dataloader()))
    assert batch["A"].shape == batch["B"].shape == (1, 3, 32, 32)  # whole 40x32 images resized, not 20-wide halves
    path_a, path_b = Path(batch["A_path"][0]), Path(batch["B_path"][0])
    assert path_a.parent.name == "A" and path_b.parent.name == "B" and path_a.stem == path_b.stem
    dm.setup("predict")
    assert len(dm.predict_set) == 1
    # the same folders read as aligned would cut every image in half: refused, naming the fix
    aligned_dm = PairedImageDataModule(root=str(root), layout="aligned", num_workers=0)
    with pytest.raises(FileNotFoundError, match="split_folders"):
        aligned_dm.setup("fit")


def test_single_channel_label_maps_are_read_as_they_are(tmp_path):
    """An 8-bit label map (mode L) with ids 0, 7 and 33, read without resizing: three equal channels holding
    v / 127.5 - 1 for exactly those ids (docs/data.md, odd inputs)."""
    root = tmp_path / "labels"
    ids = np.array([[0, 7], [33, 7]], dtype=np.uint8).repeat(16, axis=0).repeat(16, axis=1)  # 32 x 32
    for split in ("train", "test"):
        (root / split / "A").mkdir(parents=True)
        Image.fromarray(ids).save(root / split / "A" / "x.png")
        write_image(root / split / "B" / "x.png", size=(32, 32))
    dm = PairedImageDataModule(root=str(root), preprocess="crop", crop_size=32, flip=False, num_workers=0, seed=0)
    dm.setup("fit")
    a = dm.train_set[0]["A"]
    assert a.shape == (3, 32, 32)
    assert torch.equal(a[0], a[1]) and torch.equal(a[1], a[2])
    expected = torch.from_numpy(ids).float() / 127.5 - 1
    assert torch.allclose(a[0], expected, atol=1e-6)
    assert sorted(round(v, 4) for v in a.unique().tolist()) == sorted(round(v / 127.5 - 1, 4) for v in (0, 7, 33))
