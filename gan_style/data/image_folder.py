"""One folder of images, without domains or pairs: the data of unconditional generation (DCGAN).

Any folder works: images are found recursively (:func:`gan_style.data.images.list_images`), so a dataset unpacked
with class subfolders (``img_align_celeba/``, ``lsun/bedroom/...``, ``digits/0 ... digits/9``) is read as one set of
images and the subfolder names are ignored.

Data that is not 8-bit RGB (1 or N bands, 16-bit, float; PNG, TIFF, ``.npy``) is read as stored and scaled to [-1, 1]
by the settings every image data module shares (``channels``, ``scaling``, ``display_bands``:
:meth:`gan_style.data.base.SeededDataModule.init_imagery`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import torch
from PIL import Image
from torch import Tensor
from torch.utils.data import Subset

from gan_style.data.base import ImageSource, SeededDataModule
from gan_style.data.images import ARRAY_EXTENSIONS, list_images
from gan_style.data.samples import resolve_data_path
from gan_style.data.transforms import ImageTransform
from gan_style.data.unpaired import ImageFolderDataset
from gan_style.errors import DatasetNotFoundError, InferenceUnavailableError, InvalidSettingError

if TYPE_CHECKING:
    from gan_style.io.imagery import Scaling

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
    generator.

    Two kinds of input (as :class:`gan_style.data.transforms.ImageTransform` takes them):

    - an 8-bit ``PIL.Image``: converted to RGB, or for ``channels=1`` to grayscale (Pillow's ``"L"``: ITU-R 601-2
      luma), then flipped and resized by Pillow;
    - a float tensor (C, H, W) in [-1, 1], already scaled (data read as arrays by
      :class:`gan_style.data.images.ArrayReader`, C = ``channels``): flipped, then resized by
      ``torch.nn.functional.interpolate`` (bicubic, antialiased, clamped to [-1, 1]).

    Args:
        size: side of the output in pixels, >= 1.
        channels: bands of the output, >= 1 (3). A ``PIL.Image`` is converted to 1 (grayscale) or 3 (RGB) only.
        flip: random left-right flips (False).

    Attributes:
        output_size: ``size``: every output's height and width (read by the methods' size checks).

    Raises:
        ValueError: ``size`` < 1 or ``channels`` not an integer >= 1; when called, a ``PIL.Image`` with ``channels``
            other than 1 and 3, or a tensor of another band count than ``channels``.
    """

    def __init__(self, size: int, channels: int = 3, flip: bool = False) -> None:
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise ValueError(f"channels must be a band count >= 1, got {channels!r}")
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"image_size must be an integer >= 1, got {size!r}")
        self.resize_crop = ImageTransform("scale_shorter_and_crop", size, size, flip=False, train=False)
        self.output_size = size
        self.channels = channels
        self.flip = flip

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.output_size}, channels={self.channels}, flip={self.flip})"

    def __call__(self, img: Image.Image | Tensor, generator: torch.Generator | None = None) -> Tensor:
        """``img`` (any mode :func:`gan_style.data.images.load_image` returns, or a tensor (channels, H, W) in
        [-1, 1]) -> (channels, size, size) float32 in [-1, 1]."""
        if isinstance(img, Tensor):
            if img.dim() != 3 or img.shape[0] != self.channels:
                raise ValueError(
                    f"SquareImage for {self.channels} band(s) got a tensor of shape {tuple(img.shape)}; give "
                    f"({self.channels}, H, W)"
                )
            if self.flip and bool(torch.rand(1, generator=generator) < 0.5):
                img = img.flip(-1)
            return self.resize_crop(img)
        if self.channels not in (1, 3):
            raise ValueError(
                f"SquareImage converts 8-bit images to 1 (grayscale) or 3 (RGB) channels, not {self.channels}; read "
                "other band counts as arrays (gan_style.data.images.ArrayReader)"
            )
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
    (:class:`SquareImage`).

    Batches: ``{"image": (N, channels, image_size, image_size) float in [-1, 1], "image_path": [str] * N}``.

    Data that is not 8-bit RGB (1 or N bands, 16-bit, float; PNG, TIFF, ``.npy``): set ``channels`` and, where the
    files' own type over its full range is not the mapping wanted, ``scaling`` (see
    :meth:`~gan_style.data.base.SeededDataModule.init_imagery` and ``docs/imagery.md``). Files are then read as
    they are stored (3 bands become 1 as luminance, ITU-R 601-2 as Pillow's ``"L"``) and scaled to [-1, 1]
    (:attr:`scalings`, the same mapping under the keys ``"A"`` and ``"B"``); bounds computed from the data are stored
    in checkpoints, and ``gan-style sample`` writes its images back in the data's type. With ``channels: 3`` and no
    scaling (the defaults) files are read as 8-bit RGB, as always.

    Args:
        root: the image folder ("examples/data/photo2painting": the bundled sample photos and paintings; a relative
            ``examples/data/...`` path that does not exist here is the copy installed with the package).
        image_size: side of the square images in pixels, >= 1 (64, the DCGAN paper's).
        channels: bands of the images: one number (3, the default; 1 for grayscale). The networks' ``input_nc`` /
            ``output_nc`` follow it under ``gan-style fit``.
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
        scaling: how the values of the images map to [-1, 1], a :meth:`gan_style.io.imagery.Scaling.to_dict` mapping
            (``{kind: percentile, dtype: uint16}``); None (default): the files' own type over its full range.
        display_bands: bands sample grids show: None (default: gray as gray, the first three as RGB), a band
            number, or three (R, G, B), from 0.

    Attributes:
        channels: ``(channels, channels)``, the bands of the one domain in the form of
            :attr:`gan_style.data.SeededDataModule.channels`; image_size: the setting. Methods compare them with their
            networks'.
        train_transform, eval_transform: the :class:`SquareImage` transforms (``output_size`` = ``image_size``).

    Raises:
        ValueError: ``image_size`` < 1, ``num_val`` < 0, ``batch_size`` < 1 or a bad ``num_workers``.
        InvalidSettingError (a ValueError): a bad ``channels`` (not one band count >= 1), ``scaling`` or
            ``display_bands`` (one line naming it).
        DatasetNotFoundError (a FileNotFoundError): at ``setup``, ``root`` or ``val_root`` is missing or holds no
            images.
    """

    def __init__(
        self,
        root: str = "examples/data/photo2painting",
        image_size: int = 64,
        channels: int = 3,
        flip: bool = False,
        val_root: str | None = None,
        num_val: int = 64,
        batch_size: int = 128,
        num_workers: int | Literal["auto"] = "auto",
        serial_batches: bool = False,
        skip_bad_images: bool = False,
        seed: int | None = None,
        scaling: dict[str, Any] | None = None,
        display_bands: int | tuple[int, int, int] | None = None,
    ) -> None:
        super().__init__()
        self._check_common(batch_size, num_workers)
        if isinstance(num_val, bool) or not isinstance(num_val, int) or num_val < 0:
            raise ValueError(f"num_val must be an integer >= 0, got {num_val!r}")
        if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
            raise InvalidSettingError(
                f"data.init_args.channels must be one band count >= 1 (the images of one folder have one), got "
                f"{channels!r}"
            )
        self.init_imagery(channels, scaling, None, display_bands)  # self.channels: (channels, channels)
        self.train_transform = SquareImage(image_size, channels, flip)
        self.eval_transform = SquareImage(image_size, channels, flip=False)
        self.save_hyperparameters()
        self.root = resolve_data_path(root)
        self.val_root = resolve_data_path(val_root) if val_root is not None else None
        self.image_size = image_size
        self.seed = seed

    def imagery_files(self, domain: str, split: str) -> list[ImageSource]:
        """The files of the one domain (``domain`` is ignored): for ``"train"`` every image under ``root``, for other
        splits every image under ``val_root`` (when given, else ``root``'s); each whole, [] when the folder does not
        exist."""
        folder = self.root if split == "train" or self.val_root is None else self.val_root
        return [(path, None) for path in list_images(folder, extensions=ARRAY_EXTENSIONS)] if folder.is_dir() else []

    @property
    def scalings(self) -> dict[str, Scaling]:
        """How the values of the images map to [-1, 1], under both keys of translation data: ``{"A": Scaling, "B":
        the same Scaling}`` (see :attr:`gan_style.data.base.SeededDataModule.scalings`; the bounds are computed once,
        for the one domain).

        Raises:
            InvalidSettingError: as :attr:`gan_style.data.base.SeededDataModule.scalings`.
        """
        if self.array_data and self._scalings is None:
            one = self._resolve_scaling("A")
            self._scalings = {"A": one, "B": one}
            self._give_readers_scalings()
        return super().scalings

    def _reader(self) -> Any:
        return None if self.readers is None else self.readers["A"]

    def setup(self, stage: str) -> None:
        if not self.root.is_dir():
            raise DatasetNotFoundError(
                f"image folder '{self.root}' does not exist; set data.init_args.root to a folder of images "
                "(searched recursively)"
            )
        self._init_seed()
        skip = self.hparams.skip_bad_images
        reader = self._reader()
        if stage == "fit" and self.train_set is None:
            self.train_set = ImageFolderDataset(self.root, self.train_transform, "image", skip, reader)
        if stage in ("fit", "validate", "test") and self.eval_set is None:
            if self.val_root is not None:
                self.eval_set = ImageFolderDataset(self.val_root, self.eval_transform, "image", skip, reader)
            elif self.hparams.num_val > 0:
                every = ImageFolderDataset(self.root, self.eval_transform, "image", skip, reader)
                self.eval_set = Subset(every, range(min(self.hparams.num_val, len(every))))
            elif stage == "fit":
                self.train_without_validation(self.root, "validation images (num_val: 0)", "num_val > 0 or val_root")
            else:
                raise DatasetNotFoundError(
                    f"no validation images: num_val is 0 and val_root is not set; set data.init_args.num_val > 0 or "
                    f"data.init_args.val_root to {stage} on"
                )
            self.test_set = self.eval_set
        if self.array_data and stage != "fit":
            # items read without a loader get their scaling too; a checkpoint restored afterwards replaces it
            self.scalings  # noqa: B018 - resolves the bounds and gives them to the reader

    def predict_dataloader(self) -> Any:
        """Refused: unconditional generation has no inputs to predict from.

        Raises:
            InferenceUnavailableError: always; the message names ``gan-style sample``, which draws images instead.
        """
        raise InferenceUnavailableError(NOTHING_TO_PREDICT)
