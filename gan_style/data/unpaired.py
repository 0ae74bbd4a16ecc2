"""Unpaired image translation data: two folders of images, domain A and domain B (CycleGAN layout)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import Dataset

from gan_style.data.base import ImageSource, SeededDataModule
from gan_style.data.images import ARRAY_EXTENSIONS, IMG_EXTENSIONS, ArrayReader, ImageLoadError, list_images, load_image
from gan_style.data.samples import resolve_data_path
from gan_style.data.sampling import SampleKey, split_key
from gan_style.data.transforms import ImageTransform, Preprocess, WholeImage
from gan_style.errors import DatasetNotFoundError

__all__ = ["UnpairedImageDataset", "ImageFolderDataset", "UnpairedImageDataModule", "load_with_skip"]

Direction = Literal["AtoB", "BtoA"]


def load_with_skip(
    files: list[Path], index: int, skip_bad_images: bool, convert=None, loader: Callable[[Path], Any] = load_image
):
    """Load ``files[index]``; with ``skip_bad_images``, warn and move on to the next usable file.

    ``loader(path)`` reads a file (default :func:`~gan_style.data.images.load_image`, 8-bit RGB; an
    :class:`~gan_style.data.images.ArrayReader` gives a scaled tensor). ``convert(image, path)``, when given, turns
    the loaded image into the result and may reject it with :class:`ImageLoadError` (e.g. an aligned A|B file of
    odd width), which counts as a bad file.

    Returns (image or converted result, path). Raises :class:`ImageLoadError` when the file is bad and
    skipping is off, or when no file in ``files`` can be used.
    """
    for offset in range(len(files)):
        path = files[(index + offset) % len(files)]
        try:
            image = loader(path)
            return (convert(image, path) if convert is not None else image), path

        except ImageLoadError as exc:
            if not skip_bad_images:
                raise
            warnings.warn(f"skip_bad_images: skipping {exc}", stacklevel=2)
    raise ImageLoadError(
        f"none of the {len(files)} files in '{files[0].parent}' could be read (skip_bad_images skipped them "
        "all; the warnings name each file and its problem); replace them or fix the path"
    )


def _extensions(reader: Any) -> Sequence[str]:
    return IMG_EXTENSIONS if reader is None else ARRAY_EXTENSIONS


class ImageFolderDataset(Dataset):
    """All images of one folder: ``{key: (C, H, W) float in [-1, 1], key + "_path": str}``.

    Args:
        folder: image folder (searched recursively).
        transform: an :class:`ImageTransform` (or :class:`~gan_style.data.transforms.WholeImage`).
        key: batch key for the image, e.g. ``"A"``.
        skip_bad_images: warn and use the next file instead of raising on an unreadable one.
        reader: None (default): 8-bit RGB through Pillow, C = 3; an
            :class:`~gan_style.data.images.ArrayReader`: the files as stored (``.npy`` listed too), C = its
            ``channels``, scaled through its scaling.

    Raises:
        FileNotFoundError / ValueError: the folder is missing or holds no images.
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        transform: ImageTransform,
        key: str = "A",
        skip_bad_images: bool = False,
        reader: ArrayReader | None = None,
    ) -> None:
        self.files = list_images(folder, extensions=_extensions(reader))
        self.transform = transform
        self.key = key
        self.skip_bad_images = skip_bad_images
        self.reader = reader

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, generator = split_key(key)
        loader = load_image if self.reader is None else self.reader
        img, path = load_with_skip(self.files, index, self.skip_bad_images, loader=loader)
        return {self.key: self.transform(img, generator), f"{self.key}_path": str(path)}


class UnpairedImageDataset(Dataset):
    """Images of domain A and domain B, drawn independently (Zhu et al. 2017: no pairs needed).

    Item ``i`` is A image ``i mod |A|`` and a B image chosen at random (``serial_batches=False``, the
    per-sample generator decides) or ``i mod |B|`` (``serial_batches=True``). Length ``max(|A|, |B|)``.
    Each image gets its own crop and flip.

    Returns ``{"A": (C_A, H, W), "B": (C_B, H, W), "A_path": str, "B_path": str}``, floats in [-1, 1]: C = 3 for
    8-bit RGB (``readers`` None, the default), else the ``channels`` of ``readers["A"]`` and ``readers["B"]``
    (:class:`~gan_style.data.images.ArrayReader`).
    """

    def __init__(
        self,
        dir_a: str | os.PathLike,
        dir_b: str | os.PathLike,
        transform: ImageTransform,
        serial_batches: bool = False,
        skip_bad_images: bool = False,
        readers: Mapping[str, ArrayReader] | None = None,
    ) -> None:
        self.readers = dict(readers) if readers is not None else None
        self.files_a = list_images(dir_a, extensions=_extensions(readers))
        self.files_b = list_images(dir_b, extensions=_extensions(readers))
        self.transform = transform
        self.serial_batches = serial_batches
        self.skip_bad_images = skip_bad_images

    def __len__(self) -> int:
        return max(len(self.files_a), len(self.files_b))

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, generator = split_key(key)
        if self.serial_batches:
            index_b = index % len(self.files_b)
        else:
            index_b = int(torch.randint(0, len(self.files_b), (1,), generator=generator))
        load_a = load_b = load_image
        if self.readers is not None:
            load_a, load_b = self.readers["A"], self.readers["B"]
        img_a, path_a = load_with_skip(self.files_a, index % len(self.files_a), self.skip_bad_images, loader=load_a)
        img_b, path_b = load_with_skip(self.files_b, index_b, self.skip_bad_images, loader=load_b)
        return {
            "A": self.transform(img_a, generator),
            "B": self.transform(img_b, generator),
            "A_path": str(path_a),
            "B_path": str(path_b),
        }


class UnpairedImageDataModule(SeededDataModule):
    """Unpaired data in the CycleGAN layout ``root/{trainA, trainB, testA, testB}``.

    - fit: ``trainA`` and ``trainB`` (both required), random crop/flip, reshuffled every epoch;
    - validate / test: ``testA`` and ``testB``, deterministic resize and centre crop, serial pairing; during
      ``fit`` validation is off when either folder is absent (said once, as a warning);
    - predict: every image of ``testA`` (``predict_domain="A"``) or ``testB``, batch key ``"A"`` or
      ``"B"``, so the model translates A->B or B->A; when ``root`` has no such folder, every image under
      ``root`` itself (``--data.root photos/``). Whole images, aspect ratio kept: the shorter side scaled to
      ``predict_size``, one image per batch.

    Batches: ``{"A": (N, C_A, crop, crop), "B": (N, C_B, crop, crop), "A_path": [str], "B_path": [str]}``, float32
    in [-1, 1] (predict: ``(1, C, H, W)`` at the image's aspect ratio); C = 3 for 8-bit RGB, else ``channels``.
    ``direction="BtoA"`` swaps the folders, so batch key ``"A"`` always holds the source domain.

    Data that is not 8-bit RGB (1 or N bands, 16-bit, float; PNG, TIFF, ``.npy``): set ``channels`` and, where the
    files' own type over its full range is not the mapping wanted, ``scaling`` (see
    :meth:`~gan_style.data.base.SeededDataModule.init_imagery` and ``docs/imagery.md``). Files are then read as
    they are stored and scaled to [-1, 1] (:attr:`scalings`); bounds computed from the data are stored in
    checkpoints. With ``channels: 3`` and no scaling (the defaults) files are read as 8-bit RGB, as always.

    Args:
        root: dataset folder.
        preprocess: resize/crop mode of :class:`gan_style.data.ImageTransform` (``resize_and_crop``, as in the paper).
        load_size: side training images are resized to before cropping, in pixels (286; ``preprocess`` picks the side).
        crop_size: side of the square crop each image is cut to, in pixels (256).
        flip: flip training images left-right at random, with probability 0.5 (True; evaluation never flips).
        direction: ``AtoB`` or ``BtoA``.
        serial_batches: take B images in order instead of at random, and do not shuffle.
        batch_size: images per batch (1, as in the paper).
        num_workers: DataLoader worker processes; ``"auto"`` (default): the CPU cores this process may use
            divided by the processes on this machine, at most 8.
        skip_bad_images: warn and skip unreadable images instead of stopping (False).
        predict_domain: which test folder ``predict`` translates (``"A"``: testA through A->B).
        predict_size: shorter side of predicted images in pixels, aspect ratio kept (None, the default: each
            image's own size, as ``gan-style stylize``; with a ``preprocess`` that does not crop, the evaluation
            transform as it is). The sizing is the one runner's (:mod:`gan_style.inference.run`).
        seed: base seed of the data order and augmentation; None takes the run's seed
            (``seed_everything``). Saved in checkpoints, so a resumed run continues the same sequence.
        channels: bands of domain A and of domain B (after ``direction``): one number for both (3, the default)
            or two (``[1, 3]``). The networks' ``input_nc`` / ``output_nc`` follow it under ``gan-style fit``.
        scaling: how the values of domain A (and of B, unless ``scaling_b``) map to [-1, 1], a
            :meth:`gan_style.io.imagery.Scaling.to_dict` mapping (``{kind: percentile, dtype: uint16}``); None
            (default): the files' own type over its full range.
        scaling_b: domain B's scaling; None (default): ``scaling``.
        display_bands: bands sample grids show: None (default: gray as gray, the first three as RGB), a band
            number, or three (R, G, B), from 0.

    Raises:
        FileNotFoundError / ValueError: a required folder is missing or holds no images (at ``setup``).
        ValueError: bad sizes or an unknown ``preprocess`` / ``direction``.
        InvalidSettingError: a bad ``channels``, ``scaling``, ``scaling_b`` or ``display_bands`` (one line naming it).
    """

    def __init__(
        self,
        root: str = "examples/data/photo2painting",
        preprocess: Preprocess = "resize_and_crop",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        direction: Direction = "AtoB",
        serial_batches: bool = False,
        batch_size: int = 1,
        num_workers: int | Literal["auto"] = "auto",
        skip_bad_images: bool = False,
        predict_domain: Literal["A", "B"] = "A",
        predict_size: int | None = None,
        seed: int | None = None,
        channels: int | tuple[int, int] = 3,
        scaling: dict[str, Any] | None = None,
        scaling_b: dict[str, Any] | None = None,
        display_bands: int | tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers, direction)
        if predict_size is not None and (isinstance(predict_size, bool) or predict_size < 1):
            raise ValueError(f"predict_size must be a number of pixels >= 1 or null, got {predict_size}")
        self.init_imagery(channels, scaling, scaling_b, display_bands)
        self.save_hyperparameters()
        self.root = resolve_data_path(root)  # examples/data/...: the installed sample when not here
        self.train_transform = ImageTransform(preprocess, load_size, crop_size, flip, train=True)
        self.eval_transform = ImageTransform(preprocess, load_size, crop_size, flip=False, train=False)
        #: the shorter side of predictions, sized by the one runner (gan_style.inference.run) as in every door
        self.predict_size_for_runner: int | None = None
        if predict_size is None and preprocess in ("scale_width", "scale_shorter", "none"):
            self.predict_transform = self.eval_transform  # already whole images at their aspect ratio
        else:
            self.predict_transform = WholeImage()  # the photo's own size, never the training crop
            self.predict_size_for_runner = predict_size
        self.seed = seed

    @property
    def predict_output_domain(self) -> str:
        """The domain ``predict`` writes: ``"B"`` for ``predict_domain="A"`` (A -> B), else ``"A"``."""
        return "B" if self.hparams.predict_domain == "A" else "A"

    def _dir(self, split: str, domain: str) -> Path:
        if self.hparams.direction == "BtoA":
            domain = {"A": "B", "B": "A"}[domain]
        return self.root / f"{split}{domain}"

    def imagery_files(self, domain: str, split: str) -> list[ImageSource]:
        """The files of ``<split><domain>`` (after ``direction``), each whole; [] when the folder does not exist."""
        folder = self._dir(split, domain)
        return [(path, None) for path in list_images(folder, extensions=ARRAY_EXTENSIONS)] if folder.is_dir() else []

    def setup(self, stage: str) -> None:
        if not self.root.is_dir():
            raise DatasetNotFoundError(
                f"dataset root '{self.root}' does not exist; set data.root to a folder with trainA/, trainB/, "
                "testA/ and testB/"
            )
        self._init_seed()
        skip = self.hparams.skip_bad_images
        if stage == "fit" and self.train_set is None:
            self.train_set = UnpairedImageDataset(
                self._dir("train", "A"),
                self._dir("train", "B"),
                self.train_transform,
                self.hparams.serial_batches,
                skip,
                self.readers,
            )
        if stage in ("fit", "validate", "test") and self.eval_set is None:
            dir_a, dir_b = self._dir("test", "A"), self._dir("test", "B")
            if stage != "fit" or (dir_a.is_dir() and dir_b.is_dir()):
                self.eval_set = UnpairedImageDataset(dir_a, dir_b, self.eval_transform, True, skip, self.readers)
            else:
                missing = " and ".join(f"'{d.name}/'" for d in (dir_a, dir_b) if not d.is_dir())
                self.train_without_validation(self.root, missing, "test folders")
            self.test_set = self.eval_set
        if stage == "predict" and self.predict_set is None:
            domain = self.hparams.predict_domain
            folder = self._dir("test", domain)
            if not folder.is_dir() and not any((self.root / name).is_dir() for name in ("trainA", "trainB")):
                folder = self.root  # a plain folder of images: translate them all
            reader = None if self.readers is None else self.readers[domain]
            self.predict_set = ImageFolderDataset(folder, self.predict_transform, domain, skip, reader)

    def predict_dataloader(self):
        """Whole images of their own sizes, one per batch."""
        return self._loader(self.predict_set, batch_size=1)
