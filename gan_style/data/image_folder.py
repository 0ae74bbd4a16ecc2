"""One folder of images, without domains or pairs: the data of unconditional generation (DCGAN).

Any folder works: images are found recursively (:func:`gan_style.data.images.list_images`), so a dataset unpacked
with class subfolders (``img_align_celeba/``, ``lsun/bedroom/...``, ``digits/0 ... digits/9``) is read as one set of
images and the subfolder names are ignored.
"""

from __future__ import annotations

from typing import Any, Literal

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Subset

from gan_style.data.base import SeededDataModule
from gan_style.data.samples import resolve_data_path
from gan_style.data.transforms import ImageTransform
from gan_style.data.unpaired import ImageFolderDataset
from gan_style.errors import DatasetNotFoundError, InferenceUnavailableError

__all__ = ["NOTHING_TO_PREDICT", "ImageFolderDataModule", "SquareImage"]

#: What ``predict`` says for data without inputs to translate (unconditional generation).
NOTHING_TO_PREDICT = (
    "this data module holds training images for unconditional generation, nothing to predict from; draw images "
    "with gan-style sample --checkpoint runs/NAME/checkpoints/last.ckpt --num_samples 64"
)


class SquareImage:
    """An image -> a (channels, size, size) float tensor in [-1, 1]: the shorter side resized to ``size`` (bicubic),
    a centred square crop of ``size`` (torchvision's ``Resize(size)`` + ``CenterCrop(size)``, as the DCGAN examples
    prepare their data), then, with ``flip``, a left-right flip with probability 0.5 drawn from the sample's seeded
    generator. ``channels=1`` converts the image to grayscale first (Pillow's ``"L"``: ITU-R 601-2 luma), so the
    tensor has one channel.

    Args:
        size: side of the output in pixels, >= 1.
        channels: 1 (grayscale) or 3 (RGB).
        flip: random left-right flips (False).

    Attributes:
        output_size: ``size``: every output's height and width (read by the methods' size checks).

    Raises:
        ValueError: ``size`` < 1 or ``channels`` other than 1 and 3.
    """

    def __init__(self, size: int, channels: int = 3, flip: bool = False) -> None:
        if isinstance(channels, bool) or channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"image_size must be an integer >= 1, got {size!r}")
        self.resize_crop = ImageTransform("scale_shorter_and_crop", size, size, flip=False, train=False)
        self.output_size = size
        self.channels = channels
        self.flip = flip

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.output_size}, channels={self.channels}, flip={self.flip})"

    def __call__(self, img: Image.Image, generator: torch.Generator | None = None) -> Tensor:
        """``img`` (any mode :func:`gan_style.data.images.load_image` returns) -> (channels, size, size) in [-1, 1]."""
        img = img.convert("L" if self.channels == 1 else "RGB")
        if self.flip and bool(torch.rand(1, generator=generator) < 0.5):
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return self.resize_crop(img)


class ImageFolderDataModule(SeededDataModule):
    """Every image under one folder (recursively), for unconditional generation: no domains, no pairs, no labels.

    - fit: every image under ``root``, reshuffled each epoch (seeded: the order resumes exactly);
    - validate / test: the images under ``val_root`` when given, else the first ``num_val`` images of ``root``
      (sorted by path; a GAN is judged against the distribution it learns, so these may be training images);
      ``num_val: 0`` without ``val_root`` turns validation off.

    Every image: shorter side resized to ``image_size``, centre crop to ``image_size`` x ``image_size``
    (:class:`SquareImage`), grayscale when ``channels`` is 1.

    Batches: ``{"image": (N, channels, image_size, image_size) float in [-1, 1], "image_path": [str] * N}``.

    Args:
        root: the image folder ("examples/data/photo2painting": the bundled sample photos and paintings; a relative
            ``examples/data/...`` path that does not exist here is the copy installed with the package).
        image_size: side of the square images in pixels, >= 1 (64, the DCGAN paper's).
        channels: 1 (grayscale, Pillow's ``"L"``) or 3 (RGB) (3).
        flip: random left-right flips in training, probability 0.5 (False: the DCGAN paper does not flip).
        val_root: a separate folder of validation images (None, the default: the first ``num_val`` of ``root``).
        num_val: validation images taken from ``root`` when ``val_root`` is None, >= 0 (64).
        batch_size: images per batch, >= 1 (128, the DCGAN paper's, Sec. 4).
        num_workers: DataLoader worker processes; ``"auto"`` (default): the CPU cores this process may use divided
            by the processes on this machine, at most 8.
        serial_batches: keep the folder's order instead of shuffling (False).
        skip_bad_images: warn and use the next file instead of stopping at an unreadable image (False).
        seed: base seed of the data order and flips; None (default) takes the run's seed (``seed_everything``).
            Saved in checkpoints, so a resumed run continues the same sequence.

    Attributes:
        channels: ``(channels, channels)``, the bands of the one domain in the form of
            :attr:`gan_style.data.SeededDataModule.channels`; image_size: the setting. Methods compare them with their
            networks'.
        train_transform, eval_transform: the :class:`SquareImage` transforms (``output_size`` = ``image_size``).

    Raises:
        ValueError: ``image_size`` < 1, ``channels`` other than 1 and 3, ``num_val`` < 0, ``batch_size`` < 1 or a bad
            ``num_workers``.
        DatasetNotFoundError (a FileNotFoundError): at ``setup``, ``root`` or ``val_root`` is missing or holds no
            images.
    """

    def __init__(
        self,
        root: str = "examples/data/photo2painting",
        image_size: int = 64,
        channels: Literal[1, 3] = 3,
        flip: bool = False,
        val_root: str | None = None,
        num_val: int = 64,
        batch_size: int = 128,
        num_workers: int | Literal["auto"] = "auto",
        serial_batches: bool = False,
        skip_bad_images: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers)
        if isinstance(num_val, bool) or not isinstance(num_val, int) or num_val < 0:
            raise ValueError(f"num_val must be an integer >= 0, got {num_val!r}")
        self.train_transform = SquareImage(image_size, channels, flip)
        self.eval_transform = SquareImage(image_size, channels, flip=False)
        self.save_hyperparameters()
        self.root = resolve_data_path(root)
        self.val_root = resolve_data_path(val_root) if val_root is not None else None
        self.channels, self.image_size = (channels, channels), image_size
        self.seed = seed

    def setup(self, stage: str) -> None:
        if not self.root.is_dir():
            raise DatasetNotFoundError(
                f"image folder '{self.root}' does not exist; set data.init_args.root to a folder of images "
                "(searched recursively)"
            )
        self._init_seed()
        skip = self.hparams.skip_bad_images
        if stage == "fit" and self.train_set is None:
            self.train_set = ImageFolderDataset(self.root, self.train_transform, "image", skip)
        if stage in ("fit", "validate", "test") and self.eval_set is None:
            if self.val_root is not None:
                self.eval_set = ImageFolderDataset(self.val_root, self.eval_transform, "image", skip)
            elif self.hparams.num_val > 0:
                every = ImageFolderDataset(self.root, self.eval_transform, "image", skip)
                self.eval_set = Subset(every, range(min(self.hparams.num_val, len(every))))
            elif stage == "fit":
                self.train_without_validation(self.root, "validation images (num_val: 0)", "num_val > 0 or val_root")
            else:
                raise DatasetNotFoundError(
                    f"no validation images: num_val is 0 and val_root is not set; set data.init_args.num_val > 0 or "
                    f"data.init_args.val_root to {stage} on"
                )
            self.test_set = self.eval_set

    def predict_dataloader(self) -> Any:
        """Refused: unconditional generation has no inputs to predict from.

        Raises:
            InferenceUnavailableError: always; the message names ``gan-style sample``, which draws images instead.
        """
        raise InferenceUnavailableError(NOTHING_TO_PREDICT)
