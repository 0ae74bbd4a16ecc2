"""Paired (aligned) image translation data: each A image has its B counterpart (pix2pix layouts)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Dataset

from gan_style.data.base import ImageSource, SeededDataModule
from gan_style.data.images import ARRAY_EXTENSIONS, IMG_EXTENSIONS, ArrayReader, ImageLoadError, list_images, load_image
from gan_style.data.samples import resolve_data_path
from gan_style.data.sampling import SampleKey, split_key
from gan_style.data.transforms import ImageTransform, Preprocess, image_size
from gan_style.data.unpaired import ImageFolderDataset, load_with_skip
from gan_style.errors import DatasetNotFoundError

__all__ = ["AlignedImageDataset", "PairedFolderDataset", "PairedImageDataModule", "split_aligned"]

Direction = Literal["AtoB", "BtoA"]
Layout = Literal["auto", "aligned", "folders", "split_folders"]


Img = TypeVar("Img", Image.Image, np.ndarray)


def split_aligned(img: Img, path: str | os.PathLike) -> tuple[Img, Img]:
    """Split an A|B side-by-side image at half width into (A, B): a ``PIL.Image``, or an array (H, W[, C]).

    Raises:
        ImageLoadError: the width is odd, so the halves cannot be equal (the message names the file).
    """
    if isinstance(img, np.ndarray):
        h, w = img.shape[:2]
    else:
        w, h = img.size
    if w % 2:
        raise ImageLoadError(
            f"aligned image '{path}' has an odd width ({w}x{h}), so it cannot be split into equal A|B halves; "
            "crop it to an even width, or store A and B as separate files (layout: folders)"
        )
    half = w // 2
    if isinstance(img, np.ndarray):
        return img[:, :half], img[:, half:]
    return img.crop((0, 0, half, h)), img.crop((half, 0, w, h))


class _PairedBase(Dataset):
    def __init__(self, transform: ImageTransform, swap: bool, readers: Mapping[str, ArrayReader] | None) -> None:
        self.transform = transform
        self.swap = swap
        self.readers = dict(readers) if readers is not None else None

    def _file_readers(self) -> tuple[ArrayReader, ArrayReader]:
        """The readers of the files' A side and B side: the batch domains they become (exchanged by ``swap``)."""
        assert self.readers is not None
        return (self.readers["B"], self.readers["A"]) if self.swap else (self.readers["A"], self.readers["B"])

    def _item(
        self,
        img_a: Image.Image | Tensor,
        img_b: Image.Image | Tensor,
        path_a: str,
        path_b: str,
        generator: torch.Generator | None,
    ) -> dict[str, Any]:
        if self.swap:
            img_a, img_b, path_a, path_b = img_b, img_a, path_b, path_a
        params = self.transform.sample_params(image_size(img_a), generator)  # one crop and flip for both halves
        return {
            "A": self.transform.apply(img_a, params),
            "B": self.transform.apply(img_b, params),
            "A_path": str(path_a),
            "B_path": str(path_b),
        }


class AlignedImageDataset(_PairedBase):
    """Images holding A (left half) and B (right half) side by side, as in the pix2pix datasets.

    Returns ``{"A", "B": (C, H, W) float in [-1, 1], "A_path", "B_path": str}`` (both paths name the same
    file); ``swap=True`` (direction BtoA) exchanges the halves. Both halves get the same crop and flip. C = 3 for
    8-bit RGB (``readers`` None, the default); else the files are read as stored (``.npy`` listed too) and each half
    gets the ``channels`` and scaling of its batch domain's :class:`~gan_style.data.images.ArrayReader`
    (``readers["A"]``, ``readers["B"]``).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        transform: ImageTransform,
        swap: bool = False,
        skip_bad_images: bool = False,
        readers: Mapping[str, ArrayReader] | None = None,
    ) -> None:
        super().__init__(transform, swap, readers)
        self.files = list_images(folder, extensions=IMG_EXTENSIONS if readers is None else ARRAY_EXTENSIONS)
        self.skip_bad_images = skip_bad_images

    def __len__(self) -> int:
        return len(self.files)

    def _read_halves(self, path: Path) -> tuple[Tensor, Tensor]:
        """The file's A and B halves, each read with its domain's bands and scaled."""
        read_a, read_b = self._file_readers()
        if read_a.channels == read_b.channels:
            left, right = split_aligned(read_a.read(path), path)
        else:  # each half converted to its own band count (3 -> 1 luminance, 1 -> 3 gray repeated)
            left, right = split_aligned(read_a.read(path), path)[0], split_aligned(read_b.read(path), path)[1]
        return read_a.scale(left, path), read_b.scale(right, path)

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, generator = split_key(key)
        if self.readers is None:
            (img_a, img_b), path = load_with_skip(self.files, index, self.skip_bad_images, convert=split_aligned)
        else:
            (img_a, img_b), path = load_with_skip(self.files, index, self.skip_bad_images, loader=self._read_halves)
        return self._item(img_a, img_b, str(path), str(path), generator)


class PairedFolderDataset(_PairedBase):
    """A/ and B/ folders whose files are matched by file stem (``A/x.jpg`` with ``B/x.png``).

    Raises:
        ImageLoadError: a stem present on one side only (the message lists the stems and names the first
            such file), or two files with one stem in a folder (both named); at ``__getitem__``, when a
            pair's sizes disagree. A ``GanStyleError`` and a ``ValueError``, so the ``gan-style`` command
            prints it without a traceback.
    """

    def __init__(
        self,
        dir_a: str | os.PathLike,
        dir_b: str | os.PathLike,
        transform: ImageTransform,
        swap: bool = False,
        skip_bad_images: bool = False,
        readers: Mapping[str, ArrayReader] | None = None,
    ) -> None:
        super().__init__(transform, swap, readers)
        files_a, files_b = self._by_stem(dir_a), self._by_stem(dir_b)
        only_a, only_b = sorted(files_a.keys() - files_b.keys()), sorted(files_b.keys() - files_a.keys())
        if only_a or only_b:
            lonely, other = (files_a[only_a[0]], dir_b) if only_a else (files_b[only_b[0]], dir_a)
            raise ImageLoadError(
                f"paired folders '{dir_a}' and '{dir_b}' do not match: stems only in A: {only_a[:10]}, only in B: "
                f"{only_b[:10]}; every image needs a counterpart with the same name (extension may differ), "
                f"e.g. '{lonely}' has none in '{other}': add it or remove the file"
            )
        self.pairs = [(files_a[s], files_b[s]) for s in sorted(files_a)]
        self.skip_bad_images = skip_bad_images

    def _by_stem(self, folder: str | os.PathLike) -> dict[str, Path]:
        out: dict[str, Path] = {}
        extensions = IMG_EXTENSIONS if self.readers is None else ARRAY_EXTENSIONS
        for path in list_images(folder, recursive=False, extensions=extensions):
            if path.stem in out:
                raise ImageLoadError(
                    f"'{out[path.stem]}' and '{path}' share the stem {path.stem!r}; pairs are matched "
                    "by stem, so rename one of them"
                )
            out[path.stem] = path
        return out

    def __len__(self) -> int:
        return len(self.pairs)

    def _load_pair(self, index: int) -> tuple[Image.Image | Tensor, Image.Image | Tensor, Path, Path]:
        path_a, path_b = self.pairs[index]
        if self.readers is None:
            img_a, img_b = load_image(path_a), load_image(path_b)
            size_a, size_b = img_a.size, img_b.size
        else:
            read_a, read_b = self._file_readers()
            array_a, array_b = read_a.read(path_a), read_b.read(path_b)
            size_a, size_b = array_a.shape[1::-1], array_b.shape[1::-1]
        if size_a != size_b:
            raise ImageLoadError(
                f"pair sizes disagree: '{path_a}' is {size_a[0]}x{size_a[1]} but '{path_b}' is "
                f"{size_b[0]}x{size_b[1]}; paired images must be aligned pixel for pixel"
            )
        if self.readers is not None:
            img_a, img_b = read_a.scale(array_a, path_a), read_b.scale(array_b, path_b)
        return img_a, img_b, path_a, path_b

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, generator = split_key(key)
        for offset in range(len(self.pairs)):
            try:
                img_a, img_b, path_a, path_b = self._load_pair((index + offset) % len(self.pairs))
                return self._item(img_a, img_b, str(path_a), str(path_b), generator)
            except ImageLoadError as exc:
                if not self.skip_bad_images:
                    raise
                warnings.warn(f"skip_bad_images: skipping {exc}", stacklevel=2)
        raise ImageLoadError(
            f"none of the {len(self.pairs)} pairs in '{self.pairs[0][0].parent}' could be read (skip_bad_images "
            "skipped them all; the warnings name each file and its problem); replace them or fix the path"
        )


class PairedImageDataModule(SeededDataModule):
    """Paired data for pix2pix-style training, in either layout:

    - ``aligned``: ``root/{train,val,test}/*.jpg``, each file A|B side by side (split at half width);
    - ``folders``: ``root/A/{train,val,test}/`` and ``root/B/{train,val,test}/``, matched by file stem;
    - ``split_folders``: ``root/{train,val,test}/A/`` and ``root/{train,val,test}/B/`` (the SPADE / COCO-stuff
      layout), matched by file stem as ``folders``;
    - ``auto`` (default): ``split_folders`` when ``root/train/A`` and ``root/train/B`` exist; ``folders`` when
      ``root/A`` and ``root/B`` exist, or when only one of them exists and there is no ``root/train`` (so the
      error names the missing ``A/`` or ``B/`` folder); else ``aligned``. An ``aligned`` split folder that holds
      ``A/`` or ``B/`` subfolders is refused rather than cut in half.

    fit uses ``train`` (random crop and flip, the same for A and B) and validates on ``val``, or on
    ``test`` when there is no ``val`` folder (validation is skipped when neither exists); test uses
    ``test``; predict translates every image of ``test`` (aligned files are split, only the source half
    is used) with batch key ``"A"``.

    Batches: ``{"A": (N, C_A, crop, crop), "B": (N, C_B, crop, crop), "A_path": [str], "B_path": [str]}``, float32
    in [-1, 1]; C = 3 for 8-bit RGB, else ``channels``.
    ``direction="BtoA"`` swaps A and B, so ``"A"`` is always the source (facades: labels are B).

    Args: the same names and defaults as :class:`gan_style.data.UnpairedImageDataModule` (``root``,
    ``preprocess``, ``load_size``, ``crop_size``, ``flip``, ``direction``, ``serial_batches`` (no
    shuffling), ``batch_size``, ``num_workers``, ``skip_bad_images``, ``seed``, and for data beyond 8-bit RGB
    ``channels``, ``scaling``, ``scaling_b``, ``display_bands``), plus ``layout``. ``channels`` gives the input
    (A) and the target (B): ``[1, 3]`` is colourisation; both halves of an aligned file are converted to their
    domain's bands.

    Raises:
        DatasetNotFoundError: a missing or empty folder (at ``setup``; a ``FileNotFoundError``).
        ImageLoadError: unmatched or duplicate stems in the folders layout (at ``setup``), an aligned image
            of odd width or a pair whose sizes disagree (when loaded); a ``ValueError``.
        InvalidSettingError: a bad ``channels``, ``scaling``, ``scaling_b`` or ``display_bands`` (one line naming it).
    """

    def __init__(
        self,
        root: str = "examples/data/facades",
        layout: Layout = "auto",
        preprocess: Preprocess = "resize_and_crop",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        direction: Direction = "AtoB",
        serial_batches: bool = False,
        batch_size: int = 1,
        num_workers: int | Literal["auto"] = "auto",
        skip_bad_images: bool = False,
        seed: int | None = None,
        channels: int | tuple[int, int] = 3,
        scaling: dict[str, Any] | None = None,
        scaling_b: dict[str, Any] | None = None,
        display_bands: int | tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers, direction)
        if layout not in ("auto", "aligned", "folders", "split_folders"):
            raise ValueError(f"layout must be 'auto', 'aligned', 'folders' or 'split_folders', got {layout!r}")
        self.init_imagery(channels, scaling, scaling_b, display_bands)
        self.save_hyperparameters()
        self.root = resolve_data_path(root)  # examples/data/...: the installed sample when not here
        self.train_transform = ImageTransform(preprocess, load_size, crop_size, flip, train=True)
        self.eval_transform = ImageTransform(preprocess, load_size, crop_size, flip=False, train=False)
        self.seed = seed

    @property
    def layout(self) -> str:
        if self.hparams.layout != "auto":
            return self.hparams.layout
        if (self.root / "train" / "A").is_dir() and (self.root / "train" / "B").is_dir():
            return "split_folders"
        has_a, has_b = (self.root / "A").is_dir(), (self.root / "B").is_dir()
        if (has_a and has_b) or ((has_a or has_b) and not (self.root / "train").is_dir()):
            return "folders"
        return "aligned"

    def _pair_dirs(self, split: str) -> tuple[Path, Path]:
        """The A and B folders of ``split`` in the ``folders`` or ``split_folders`` layout."""
        if self.layout == "split_folders":
            return self.root / split / "A", self.root / split / "B"
        return self.root / "A" / split, self.root / "B" / split

    def _exists(self, split: str) -> bool:
        if self.layout == "aligned":
            return (self.root / split).is_dir()
        return all(d.is_dir() for d in self._pair_dirs(split))

    def imagery_files(self, domain: str, split: str) -> list[ImageSource]:
        """The files of ``split`` holding domain ``domain`` (after ``direction``): the left (A) or right (B) half of
        each aligned file, or the files of the A or B folder; [] when the split does not exist."""
        side = {"A": "B", "B": "A"}[domain] if self.hparams.direction == "BtoA" else domain
        if not self._exists(split):
            return []
        if self.layout == "aligned":
            part = "left" if side == "A" else "right"
            return [(path, part) for path in list_images(self.root / split, extensions=ARRAY_EXTENSIONS)]
        folder = self._pair_dirs(split)[0 if side == "A" else 1]
        return [(path, None) for path in list_images(folder, recursive=False, extensions=ARRAY_EXTENSIONS)]

    def _dataset(self, split: str, transform: ImageTransform) -> Dataset:
        swap, skip = self.hparams.direction == "BtoA", self.hparams.skip_bad_images
        if self.layout == "aligned":
            nested = [d.name for d in (self.root / split / "A", self.root / split / "B") if d.is_dir()]
            if nested:
                raise DatasetNotFoundError(
                    f"'{self.root / split}' holds {'/'.join(nested)}/ subfolders, not side-by-side A|B images; "
                    f"use layout: split_folders (root/{split}/A + root/{split}/B, paired by file stem) so no "
                    "image is cut in half"
                )
            return AlignedImageDataset(self.root / split, transform, swap, skip, self.readers)
        dir_a, dir_b = self._pair_dirs(split)
        return PairedFolderDataset(dir_a, dir_b, transform, swap, skip, self.readers)

    def setup(self, stage: str) -> None:
        if not self.root.is_dir():
            raise DatasetNotFoundError(
                f"dataset root '{self.root}' does not exist; set data.root to a folder with train/ and test/ "
                "(aligned A|B images) or A/train, B/train, ... (paired folders)"
            )
        self._init_seed()
        if stage == "fit" and self.train_set is None:
            self.train_set = self._dataset("train", self.train_transform)
        if stage in ("fit", "validate") and self.eval_set is None:
            split = "val" if self._exists("val") else "test"
            if stage == "validate" or self._exists(split):
                self.eval_set = self._dataset(split, self.eval_transform)
            else:
                self.train_without_validation(self.root, "'val' or 'test' split", "one")
        if stage == "test" and self.test_set is None:
            self.test_set = self._dataset("test", self.eval_transform)
        if stage == "predict" and self.predict_set is None:
            if self.layout == "aligned":
                self.predict_set = self._dataset("test", self.eval_transform)
            else:
                dir_a, dir_b = self._pair_dirs("test")
                self.predict_set = ImageFolderDataset(
                    dir_b if self.hparams.direction == "BtoA" else dir_a,
                    self.eval_transform,
                    "A",
                    self.hparams.skip_bad_images,
                    None if self.readers is None else self.readers["A"],
                )
