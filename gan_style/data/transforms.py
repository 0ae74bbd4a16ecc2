"""Image preprocessing of the CycleGAN/pix2pix family: resize, crop, flip, and [-1, 1] tensors.

Random choices (crop position, flip) are drawn once per sample by :meth:`ImageTransform.sample_params`
from a ``torch.Generator`` and then applied with :meth:`ImageTransform.apply`, so paired images get the
same crop and flip, and a seeded generator gives the same augmentation whatever the number of workers.

Two kinds of input take the same steps: an 8-bit RGB ``PIL.Image`` (resized by Pillow, then converted; the path of
every 8-bit RGB recipe), or a float tensor (C, H, W) in [-1, 1] of any band count (data read as arrays and scaled
by :class:`gan_style.data.images.ArrayReader`; resized by ``torch.nn.functional.interpolate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
import torchvision.transforms.v2.functional as TF
from PIL import Image
from torch import Tensor

__all__ = [
    "PREPROCESS_MODES",
    "Preprocess",
    "CropFlip",
    "ImageTransform",
    "WholeImage",
    "image_size",
    "to_image",
    "to_tensor",
]

PREPROCESS_MODES = (
    "resize_and_crop",
    "crop",
    "scale_width",
    "scale_width_and_crop",
    "scale_shorter_and_crop",
    "scale_shorter",
    "none",
)
Preprocess = Literal[
    "resize_and_crop", "crop", "scale_width", "scale_width_and_crop", "scale_shorter_and_crop", "scale_shorter", "none"
]


@dataclass(frozen=True)
class CropFlip:
    """Per-sample random choices: crop offset (top, left) in resized pixels and a horizontal flip."""

    top: int = 0
    left: int = 0
    flip: bool = False


def image_size(img: Image.Image | Tensor) -> tuple[int, int]:
    """(width, height) of a ``PIL.Image`` or of a tensor (..., H, W)."""
    if isinstance(img, Tensor):
        return int(img.shape[-1]), int(img.shape[-2])
    return img.size


def to_tensor(img: Image.Image) -> Tensor:
    """RGB ``PIL.Image`` -> float tensor (3, H, W) in [-1, 1]."""
    return (TF.to_dtype(TF.pil_to_tensor(img), torch.float32, scale=True) * 2.0 - 1.0).contiguous()


def to_image(tensor: Tensor) -> Image.Image:
    """Float tensor (3, H, W) in [-1, 1] -> RGB ``PIL.Image`` (values clamped, rounded to 8 bits)."""
    arr = ((tensor.detach().float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8).cpu()
    return TF.to_pil_image(arr)


class ImageTransform:
    """Resize/crop/flip an RGB image and convert it to a (3, H, W) float tensor in [-1, 1]; or resize/crop/flip a
    float tensor (C, H, W) in [-1, 1] of any band count (C >= 1) the same way.

    ``preprocess`` (the reference CycleGAN/pix2pix option of the same name):

    - ``resize_and_crop``: resize to ``load_size`` x ``load_size``, then crop ``crop_size`` (paper: 286 -> 256);
    - ``crop``: crop ``crop_size`` from the image as it is (an image smaller than ``crop_size`` is first
      scaled up so that its shorter side equals ``crop_size``);
    - ``scale_width``: scale to width ``load_size`` keeping the aspect ratio, no crop (the height follows
      the aspect ratio and may be below ``crop_size``);
    - ``scale_width_and_crop``: scale to width ``load_size`` keeping the aspect ratio with the height at
      least ``crop_size``, then crop ``crop_size``;
    - ``scale_shorter_and_crop``: scale the shorter side to ``load_size`` keeping the aspect ratio, then
      crop ``crop_size`` (AdaIN training: 512 -> 256);
    - ``scale_shorter``: scale the shorter side to ``load_size`` keeping the aspect ratio, no crop (the whole
      image: AdaIN's reference test at 512);
    - ``none``: keep the size, rounded to a multiple of 4 by resizing.

    Training (``train=True``) crops at a random position and flips with probability 0.5 when ``flip``.
    Evaluation is deterministic: ``resize_and_crop`` resizes straight to ``crop_size`` and
    ``scale_shorter_and_crop`` scales the shorter side to it, crops are centred,
    ``scale_width`` and ``scale_shorter`` scale to ``crop_size``, and nothing is flipped. Resizing is bicubic,
    as in the reference code: Pillow's for images, ``torch.nn.functional.interpolate(mode="bicubic",
    antialias=True)`` clamped to [-1, 1] for tensors.

    Images smaller than ``crop_size``: every cropping mode scales them up first (never pads), so a crop is
    always inside the image and the result is ``crop_size`` x ``crop_size``. ``scale_width``,
    ``scale_shorter`` and ``none`` give each image its own size; a batch of images whose sizes differ then fails with a clear
    :class:`~gan_style.errors.ImageLoadError` (see :class:`gan_style.data.base.ImageBatchCollate`), so use
    ``batch_size: 1`` with them unless all images share one aspect ratio.

    Raises:
        ValueError: unknown ``preprocess``, sizes < 1, or ``crop_size > load_size`` where the image is
            resized to ``load_size`` before cropping.
    """

    def __init__(
        self,
        preprocess: Preprocess = "resize_and_crop",
        load_size: int = 286,
        crop_size: int = 256,
        flip: bool = True,
        train: bool = True,
    ) -> None:
        if preprocess not in PREPROCESS_MODES:
            raise ValueError(f"preprocess {preprocess!r} is not supported; choose one of {', '.join(PREPROCESS_MODES)}")
        if load_size < 1 or crop_size < 1:
            raise ValueError(f"load_size and crop_size must be >= 1, got load_size={load_size}, crop_size={crop_size}")
        if (
            preprocess in ("resize_and_crop", "scale_width_and_crop", "scale_shorter_and_crop")
            and crop_size > load_size
        ):
            raise ValueError(
                f"crop_size ({crop_size}) must not exceed load_size ({load_size}) with preprocess={preprocess!r}; "
                f"set load_size >= crop_size"
            )
        self.preprocess = preprocess
        self.load_size = load_size
        self.crop_size = crop_size
        self.flip = flip
        self.train = train

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(preprocess={self.preprocess!r}, load_size={self.load_size}, "
            f"crop_size={self.crop_size}, flip={self.flip}, train={self.train})"
        )

    @property
    def output_size(self) -> int | None:
        """The height and width (pixels) of every output image: ``crop_size`` in the cropping modes
        (``resize_and_crop``, ``crop``, ``scale_width_and_crop``, ``scale_shorter_and_crop``); None where each
        image keeps a size of its own (``scale_width``, ``scale_shorter``, ``none``)."""
        return self.crop_size if self._crops() else None

    def resized_size(self, width: int, height: int) -> tuple[int, int]:
        """(width, height) after the resize step, before cropping."""
        mode, load, crop = self.preprocess, self.load_size, self.crop_size
        if mode == "resize_and_crop":
            return (load, load) if self.train else (crop, crop)
        if mode in ("scale_width", "scale_width_and_crop"):
            target = load if (self.train or mode == "scale_width_and_crop") else crop
            new_h = max(round(target * height / width), crop if mode == "scale_width_and_crop" else 1)
            return target, new_h
        if mode == "scale_shorter":
            target = load if self.train else crop
            scale = target / min(width, height)
            return max(1, round(width * scale)), max(1, round(height * scale))
        if mode == "scale_shorter_and_crop":
            target = load if self.train else crop
            scale = target / min(width, height)
            return max(crop, round(width * scale)), max(crop, round(height * scale))
        if mode == "crop":
            short = min(width, height)
            if short >= crop:
                return width, height
            scale = crop / short
            return max(crop, round(width * scale)), max(crop, round(height * scale))
        return max(4, round(width / 4) * 4), max(4, round(height / 4) * 4)

    def _crops(self) -> bool:
        return self.preprocess in ("resize_and_crop", "crop", "scale_width_and_crop", "scale_shorter_and_crop")

    def sample_params(self, size: tuple[int, int], generator: torch.Generator | None = None) -> CropFlip:
        """Draw the crop offset and flip for an image of ``size`` = (width, height).

        Deterministic (centre crop, no flip) when ``train`` is False.
        """
        w, h = self.resized_size(*size)
        if not self._crops():
            top = left = 0
        elif self.train:
            top = int(torch.randint(0, max(0, h - self.crop_size) + 1, (1,), generator=generator))
            left = int(torch.randint(0, max(0, w - self.crop_size) + 1, (1,), generator=generator))
        else:
            top, left = max(0, h - self.crop_size) // 2, max(0, w - self.crop_size) // 2
        flip = self.train and self.flip and bool(torch.rand(1, generator=generator) < 0.5)
        return CropFlip(top, left, flip)

    def apply(self, img: Image.Image | Tensor, params: CropFlip) -> Tensor:
        """Apply the resize, the crop and flip in ``params`` to ``img``: an RGB ``PIL.Image`` gives (3, H, W), a
        float tensor (C, H, W) in [-1, 1] gives (C, H, W); float32 in [-1, 1] either way."""
        if isinstance(img, Tensor):
            return self._apply_tensor(img, params)
        w, h = self.resized_size(*img.size)
        if (w, h) != img.size:
            img = img.resize((w, h), Image.Resampling.BICUBIC)
        if self._crops():
            img = img.crop((params.left, params.top, params.left + self.crop_size, params.top + self.crop_size))
        if params.flip:
            img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        return to_tensor(img)

    def _apply_tensor(self, img: Tensor, params: CropFlip) -> Tensor:
        if img.dim() != 3:
            raise ValueError(f"ImageTransform takes a tensor (C, H, W), got shape {tuple(img.shape)}")
        w, h = self.resized_size(*image_size(img))
        if (w, h) != image_size(img):
            resized = F.interpolate(img[None].float(), size=(h, w), mode="bicubic", align_corners=False, antialias=True)
            img = resized[0].clamp_(-1.0, 1.0)
        if self._crops():
            img = img[:, params.top : params.top + self.crop_size, params.left : params.left + self.crop_size]
        if params.flip:
            img = img.flip(-1)
        return img.contiguous()

    def __call__(self, img: Image.Image | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Sample parameters for ``img`` and apply them."""
        return self.apply(img, self.sample_params(image_size(img), generator))


class WholeImage:
    """The image at its own size as a float tensor in [-1, 1]: what ``predict`` hands to the one runner
    (:class:`gan_style.inference.run.Runner`), which does the sizing of every door. An RGB ``PIL.Image`` becomes
    (3, H, W); a tensor (C, H, W), already scaled (:class:`gan_style.data.images.ArrayReader`), is kept."""

    def __call__(self, img: Image.Image | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``img`` converted (``generator`` is unused: nothing is random)."""
        return img if isinstance(img, Tensor) else to_tensor(img)
