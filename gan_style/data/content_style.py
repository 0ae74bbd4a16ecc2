"""Content and style images for feed-forward style transfer (AdaIN, PatchGAN style network)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import torch
from torch.utils.data import Dataset

from gan_style.data.base import SeededDataModule
from gan_style.data.images import list_images
from gan_style.data.samples import resolve_data_path
from gan_style.data.sampling import SampleKey, split_key
from gan_style.data.transforms import ImageTransform, Preprocess
from gan_style.data.unpaired import load_with_skip

__all__ = ["ContentStyleDataset", "ContentStyleDataModule"]


class ContentStyleDataset(Dataset):
    """Random (content, style) pairs: ``{"content", "style": (3, H, W) in [-1, 1], "content_path",
    "style_path": str}``.

    Item ``i`` takes content image ``i mod |content|`` and a style image drawn by the per-sample
    generator (or ``i mod |style|`` when ``serial``). ``length`` sets the epoch length (default
    ``max(|content|, |style|)``).
    """

    def __init__(
        self,
        content_files: list[Path],
        style_files: list[Path],
        transform: ImageTransform,
        length: int | None = None,
        serial: bool = False,
        skip_bad_images: bool = False,
    ) -> None:
        self.content_files, self.style_files = content_files, style_files
        self.transform = transform
        self.length = length or max(len(content_files), len(style_files))
        self.serial = serial
        self.skip_bad_images = skip_bad_images

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, generator = split_key(key)
        if self.serial:
            style_index = index % len(self.style_files)
        else:
            style_index = int(torch.randint(0, len(self.style_files), (1,), generator=generator))
        content, content_path = load_with_skip(
            self.content_files, index % len(self.content_files), self.skip_bad_images
        )
        style, style_path = load_with_skip(self.style_files, style_index, self.skip_bad_images)
        return {
            "content": self.transform(content, generator),
            "style": self.transform(style, generator),
            "content_path": str(content_path),
            "style_path": str(style_path),
        }


class ContentStyleDataModule(SeededDataModule):
    """A folder of content photos and a folder of style images (one image is fine: single-style methods).

    - fit: random pairs, each image scaled (shorter side ``load_size``, 512) and randomly cropped to
      ``crop_size`` (256), as in AdaIN training; ``epoch_length`` pairs per epoch;
    - validate / test: the first ``num_val`` content images (sorted by name), each with style image
      ``i mod |style|``, scaled so the shorter side is ``crop_size`` and centre-cropped: a fixed set
      to render; set ``val_content_dir`` to use other photos;
    - predict: every content image of ``val_content_dir`` (or ``content_dir``), paired like validation, whole:
      content and style scaled so the shorter side is ``predict_size`` (512, as the AdaIN reference test), one
      image per batch (sizes differ); ``predict_size: null`` renders the validation crops instead.

    Batches: ``{"content": (N, 3, crop, crop), "style": ..., "content_path": [str], "style_path": [str]}``
    in [-1, 1] (predict: (1, 3, H, W) at the image's own aspect ratio).

    Args:
        content_dir: folder of content photos, searched recursively (``examples/data/photo2painting/trainA``).
        style_dir: folder of style images, searched recursively (``examples/data/photo2painting/trainB``).
        val_content_dir: content photos for validation, test and predict (default ``content_dir``).
        preprocess: resize/crop mode of :class:`gan_style.data.ImageTransform` (``scale_shorter_and_crop``).
        load_size: side training images are scaled to before cropping, in pixels (512; by default the shorter side).
        crop_size: side of the square crop each image is cut to, in pixels (256).
        flip: flip training images left-right at random, with probability 0.5 (False; evaluation never flips).
        epoch_length: pairs per training epoch (default ``max(|content|, |style|)``).
        num_val: content images rendered in validation (4).
        batch_size: pairs per batch (8, as in AdaIN).
        num_workers: DataLoader worker processes; ``"auto"`` (default): the CPU cores this process may use
            divided by the processes on this machine, at most 8.
        skip_bad_images: warn and skip unreadable images instead of stopping (False).
        seed: base seed of the pairing and crops; None takes the run's seed.
        predict_size: shorter side of predicted images in pixels, whole images without cropping (512, the
            reference test's ``content_size``); None: the validation crops (``crop_size``).
        serial_batches: pair content ``i`` with style ``i mod |style|`` and do not shuffle.


    Raises:
        FileNotFoundError / ValueError: a missing or empty folder, ``epoch_length`` or ``num_val`` < 1.
    """

    def __init__(
        self,
        content_dir: str = "examples/data/photo2painting/trainA",
        style_dir: str = "examples/data/photo2painting/trainB",
        val_content_dir: str | None = None,
        preprocess: Preprocess = "scale_shorter_and_crop",
        load_size: int = 512,
        crop_size: int = 256,
        flip: bool = False,
        epoch_length: int | None = None,
        num_val: int = 4,
        serial_batches: bool = False,
        batch_size: int = 8,
        num_workers: int | Literal["auto"] = "auto",
        skip_bad_images: bool = False,
        seed: int | None = None,
        predict_size: int | None = 512,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers)
        if epoch_length is not None and epoch_length < 1:
            raise ValueError(f"epoch_length must be >= 1, got {epoch_length}")
        if predict_size is not None and (isinstance(predict_size, bool) or predict_size < 1):
            raise ValueError(f"predict_size must be a number of pixels >= 1 or null, got {predict_size}")
        if num_val < 1:
            raise ValueError(f"num_val must be >= 1, got {num_val}")
        self.save_hyperparameters()
        self.train_transform = ImageTransform(preprocess, load_size, crop_size, flip, train=True)
        self.eval_transform = ImageTransform(preprocess, load_size, crop_size, flip=False, train=False)
        self.predict_transform = (
            self.eval_transform
            if predict_size is None
            else ImageTransform("scale_shorter", predict_size, predict_size, flip=False, train=False)
        )
        self.seed = seed

    def setup(self, stage: str) -> None:
        self._init_seed()
        hp = self.hparams
        styles = list_images(resolve_data_path(hp.style_dir))
        if stage == "fit" and self.train_set is None:
            self.train_set = ContentStyleDataset(
                list_images(resolve_data_path(hp.content_dir)),
                styles,
                self.train_transform,
                hp.epoch_length,
                hp.serial_batches,
                hp.skip_bad_images,
            )
        val_contents = list_images(resolve_data_path(hp.val_content_dir or hp.content_dir))
        if stage in ("fit", "validate", "test") and self.eval_set is None:
            chosen = val_contents[: hp.num_val]
            self.eval_set = ContentStyleDataset(
                chosen, styles, self.eval_transform, len(chosen), True, hp.skip_bad_images
            )
            self.test_set = self.eval_set
        if stage == "predict" and self.predict_set is None:
            self.predict_set = ContentStyleDataset(
                val_contents, styles, self.predict_transform, len(val_contents), True, hp.skip_bad_images
            )

    def predict_dataloader(self):
        """Whole images of their own sizes go one per batch (``predict_size``); crops in batches otherwise."""
        if self.hparams.get("predict_size") is None:
            return super().predict_dataloader()
        return self._loader(self.predict_set, batch_size=1)
