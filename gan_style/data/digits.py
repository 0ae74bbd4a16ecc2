"""The handwritten digits that scikit-learn ships (``sklearn.datasets.load_digits``): a GAN dataset with no download.

1,797 images of 8x8 pixels, 16 grey levels each (0..16: the number of inked pixels of a 4x4 block of the
original 32x32 bitmaps; UCI "Optical Recognition of Handwritten Digits", Alpaydin & Kaynak 1998), about 180 of
each digit 0-9. Installed with scikit-learn (``pip install "gan-style[digits]"``).
"""

from __future__ import annotations

import importlib.util
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor
from torch.utils.data import Dataset

from gan_style.data.base import SeededDataModule
from gan_style.data.image_folder import NOTHING_TO_PREDICT
from gan_style.data.sampling import SampleKey, split_key
from gan_style.errors import DatasetNotFoundError, InferenceUnavailableError, MissingDependencyError

__all__ = ["DIGITS_COUNT", "DigitsDataModule", "DigitsDataset", "load_digit_images"]

#: Images in scikit-learn's digits set.
DIGITS_COUNT = 1797

_MISSING = 'the digits data needs scikit-learn, which is not installed: pip install "gan-style[digits]"'


def _require_sklearn() -> None:
    """Raise :class:`MissingDependencyError` (one line naming the extra) when scikit-learn is not installed."""
    if importlib.util.find_spec("sklearn") is None:
        raise MissingDependencyError(_MISSING)


def load_digit_images(image_size: int = 32) -> Tensor:
    """scikit-learn's digits as one tensor (1797, 1, image_size, image_size), float32 in [-1, 1].

    Grey level ``v`` in 0..16 becomes ``v / 8 - 1``: -1 is the blank background, +1 full ink (white digits on
    black, as MNIST). The 8x8 images are upsampled bilinearly (``align_corners=False``, no antialiasing). Bilinear
    rather than nearest: the 16-level images are already a blurred count of ink, and bilinear keeps that a smooth
    stroke instead of 4x4 blocks a convolutional generator would have to reproduce; rather than bicubic: a bilinear
    value is a weighted mean of its neighbours, so it never leaves [-1, 1] (bicubic overshoots at the strokes' edges
    and would need clipping).

    Args:
        image_size: side of the returned images in pixels, >= 8 (32).

    Raises:
        MissingDependencyError: scikit-learn is not installed (``pip install "gan-style[digits]"``).
        ValueError: ``image_size`` < 8.
    """
    if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
        raise ValueError(f"image_size must be an integer >= 8 (the digits are 8x8), got {image_size!r}")
    _require_sklearn()
    from sklearn.datasets import load_digits

    images = torch.from_numpy(load_digits().images).float()  # (1797, 8, 8) in 0..16
    images = images[:, None] / 8.0 - 1.0
    if image_size != 8:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return images.clamp_(-1.0, 1.0).contiguous()


class DigitsDataset(Dataset):
    """Images of a (N, 1, H, W) tensor as samples ``{"image": (1, H, W) float in [-1, 1]}``.

    Args:
        images: the images, e.g. :func:`load_digit_images`.
    """

    def __init__(self, images: Tensor) -> None:
        self.images = images

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, key: SampleKey) -> dict[str, Any]:
        index, _ = split_key(key)  # nothing random: the per-sample seed is unused
        return {"image": self.images[index]}


class DigitsDataModule(SeededDataModule):
    """scikit-learn's 1,797 handwritten digits, upsampled to ``image_size`` (:func:`load_digit_images`), for
    unconditional generation; nothing is downloaded.

    - fit: all 1,797 images, reshuffled each epoch (seeded, so the order resumes exactly);
    - validate / test: the first ``num_val`` of them (a GAN is judged against the distribution it learns);
      ``num_val: 0`` turns validation off.

    Batches: ``{"image": (N, 1, image_size, image_size) float in [-1, 1]}``. The images are decoded once, in
    ``setup``, and held in memory (7.4 MB at 32x32).

    Args:
        image_size: side of the images in pixels, >= 8 (32).
        batch_size: images per batch, >= 1 (64).
        num_val: validation images, 0 to 1797 (64).
        num_workers: DataLoader worker processes, an integer >= 0 or ``"auto"`` (0: the images are in memory, and
            worker processes would cost more than they save).
        serial_batches: keep the dataset's order instead of shuffling (False).
        seed: base seed of the data order; None (default) takes the run's seed (``seed_everything``). Saved in
            checkpoints.

    Attributes:
        channels: ``(1, 1)``, one band (the form of :attr:`gan_style.data.SeededDataModule.channels`); image_size: the
            setting. Methods compare them with their networks'.

    Raises:
        MissingDependencyError: scikit-learn is not installed (checked here, before training starts).
        ValueError: ``image_size`` < 8, ``num_val`` outside 0..1797, ``batch_size`` < 1 or a bad ``num_workers``.
    """

    channels = (1, 1)

    def __init__(
        self,
        image_size: int = 32,
        batch_size: int = 64,
        num_val: int = 64,
        num_workers: int | Literal["auto"] = 0,
        serial_batches: bool = False,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers)
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 8:
            raise ValueError(f"image_size must be an integer >= 8 (the digits are 8x8), got {image_size!r}")
        if isinstance(num_val, bool) or not isinstance(num_val, int) or not 0 <= num_val <= DIGITS_COUNT:
            raise ValueError(f"num_val must be an integer from 0 to {DIGITS_COUNT}, got {num_val!r}")
        _require_sklearn()
        self.save_hyperparameters()
        self.image_size = image_size
        self.seed = seed

    def setup(self, stage: str) -> None:
        self._init_seed()
        if self.train_set is None:
            images = load_digit_images(self.image_size)
            self.train_set = DigitsDataset(images)
            self.eval_set = DigitsDataset(images[: self.hparams.num_val]) if self.hparams.num_val else None
            self.test_set = self.eval_set
        if self.eval_set is None:
            if stage == "fit":
                self.train_without_validation("sklearn digits", "validation images (num_val: 0)", "num_val > 0")
            elif stage in ("validate", "test"):
                raise DatasetNotFoundError(
                    f"no validation images: num_val is 0; set data.init_args.num_val > 0 to {stage}"
                )

    def predict_dataloader(self) -> Any:
        """Refused: unconditional generation has no inputs to predict from.

        Raises:
            InferenceUnavailableError: always; the message names ``gan-style sample``, which draws images instead.
        """
        raise InferenceUnavailableError(NOTHING_TO_PREDICT)
