"""Callbacks that turn images into files and logger entries (rank zero only).

8-bit RGB data goes the way it always has (Pillow). Data of other band counts, bit depths or value ranges (a data
module with ``channels`` or ``scaling``, see :class:`gan_style.data.base.SeededDataModule`) is written as it came in
(:class:`ImageWriter`: 16-bit PNG or TIFF, 1 band, N-band TIFF) and shown in grids through the display mapping of
:func:`gan_style.io.imagery.display_rgb`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only
from torch import Tensor
from torchvision.utils import make_grid

from gan_style.data.transforms import to_image, to_tensor
from gan_style.errors import InvalidSettingError, UnwritableFolderError
from gan_style.io.atomic import atomic_write

if TYPE_CHECKING:
    from gan_style.io.imagery import Scaling

__all__ = ["SampleGrid", "ImageWriter", "display_tiles", "image_grid", "label_height"]

_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF"}
_ARRAY_FORMATS = ("npy",)  # written from arrays only (gan_style.io.imagery.write_array)

DisplayBands = int | tuple[int, int, int] | None


def display_tiles(images: Tensor, bands: DisplayBands = None) -> Tensor:
    """Model images (N, C, H, W) in [-1, 1] as they are shown: (N, 3, H, W) in [-1, 1].

    3 bands with ``bands`` None are returned as they are (8-bit RGB data is shown unchanged). Any other band
    count, or a ``bands`` choice, goes through :func:`gan_style.io.imagery.display_rgb`'s mapping (linear: -1 is
    black, +1 white; the result quantised to its 256 levels): 1 band (or 2, gray + alpha) as gray, 4 or more
    through the first three, ``bands`` = a band number as gray or three band numbers (from 0) as R, G, B. A
    ``bands`` choice naming a band the images do not have is not applied to them (a gray input beside N-band
    outputs keeps its gray).
    """
    from gan_style.io.imagery import display_rgb

    count = images.shape[1]
    wanted = None if bands is None else ([bands] if isinstance(bands, int) else list(bands))
    chosen = bands if wanted is not None and max(wanted) < count else None
    if count == 3 and chosen is None:
        return images
    rgb = torch.from_numpy(display_rgb(images, bands=chosen)).permute(0, 3, 1, 2)
    return rgb.float() / 127.5 - 1.0


def image_grid(
    images: dict[str, Tensor], max_images: int = 4, labels: bool = False, display_bands: DisplayBands = None
) -> Tensor:
    """One row per sample, one column per name: (3, H', W') float in [-1, 1].

    ``images`` maps names to (N, C, H, W) tensors in [-1, 1] of one size (C may differ between names: a gray
    input beside a colour output); the first ``max_images`` samples (default 4) are used. Tiles of other than 3
    bands, or all tiles when ``display_bands`` is given (default None), are shown through :func:`display_tiles`.
    Tiles are separated by 2 white pixels. With ``labels`` (default False) a white strip on top names each column
    (``real_A``, ``fake_B`` ...) in black, centred over it; its height is :func:`label_height` of the tile width.
    """
    columns = [t.detach().float().cpu()[:max_images].clamp(-1, 1) for t in images.values()]
    if display_bands is not None or any(t.shape[1] != 3 for t in columns):
        columns = [display_tiles(t, display_bands) for t in columns]
    n = min(t.shape[0] for t in columns)
    tiles = [col[i] for i in range(n) for col in columns]
    grid = make_grid(tiles, nrow=len(columns), padding=2, pad_value=1.0)
    return _with_labels(grid, list(images), columns[0].shape[-1]) if labels else grid


def label_height(tile_width: int) -> int:
    """Height in pixels of the label strip of :func:`image_grid` for tiles ``tile_width`` pixels wide: 12 up to
    96-pixel tiles, then an eighth of the width."""
    return max(12, tile_width // 8)


def _with_labels(grid: Tensor, names: list[str], tile_width: int) -> Tensor:
    from PIL import Image, ImageDraw, ImageFont

    height = label_height(tile_width)
    strip = Image.new("RGB", (grid.shape[-1], height), "white")
    draw = ImageDraw.Draw(strip)
    font = ImageFont.load_default(size=max(8, height - 4))
    for j, name in enumerate(names):
        left = 2 + j * (tile_width + 2)
        width = draw.textlength(name, font=font)
        draw.text((left + max(0.0, (tile_width - width) / 2), 1), name, fill="black", font=font)
    return torch.cat([to_tensor(strip), grid], dim=1)


def _log_image(trainer: L.Trainer, tag: str, grid: Tensor, caption: str) -> None:
    from lightning.pytorch.loggers import TensorBoardLogger, WandbLogger

    for logger in trainer.loggers:
        if isinstance(logger, TensorBoardLogger):
            logger.experiment.add_image(tag, (grid + 1) / 2, global_step=trainer.global_step)
        elif isinstance(logger, WandbLogger):
            logger.log_image(key=tag, images=[to_image(grid)], caption=[caption], step=trainer.global_step)


class SampleGrid(L.Callback):
    """Saves grids of the model's sample images as PNG files and sends them to the loggers.

    The LightningModule must define ``sample_images(batch) -> dict[str, Tensor]`` (e.g. real_A, fake_B,
    rec_A, ...). A grid has one row per sample and one column per name; it is written

    - from the current training batch every ``every_n_steps`` global steps and when training ends, as
      ``<dirpath>/train_step{step:07d}.png``;
    - from the first validation batch at the end of each validation, as ``<dirpath>/val_epoch{epoch:04d}.png``.

    TensorBoard and W&B loggers receive the same grid under ``samples/train`` and ``samples/val``.

    Gray and N-band data are shown through the display mapping (:func:`display_tiles`): gray as gray, the first
    three bands as RGB, or the bands ``display_bands`` chooses.

    Args:
        every_n_steps: global steps between training grids (0 disables them; note that GAN methods take
            several optimizer steps per batch).
        max_images: rows per grid (4).
        dirpath: folder of the PNG files; default ``<trainer.default_root_dir>/samples``.
        labels: name each column (``real_A``, ``fake_B`` ...) in a strip above the grid (True).
        display_bands: bands shown: one band number (gray) or three (R, G, B), from 0; None (default): the data
            module's ``display_bands`` (gray as gray, the first three bands as RGB when it sets none).

    Raises:
        ValueError: ``every_n_steps`` < 0, ``max_images`` < 1, or ``display_bands`` neither one band number nor
            three.
    """

    def __init__(
        self,
        every_n_steps: int = 500,
        max_images: int = 4,
        dirpath: str | None = None,
        labels: bool = True,
        display_bands: int | tuple[int, int, int] | None = None,
    ) -> None:
        if every_n_steps < 0 or max_images < 1:
            raise ValueError(f"every_n_steps must be >= 0 and max_images >= 1, got {every_n_steps}, {max_images}")
        self.every_n_steps = every_n_steps
        self.max_images = max_images
        self.dirpath = dirpath
        self.labels = labels
        self.display_bands = _check_bands(display_bands)
        self._last_bucket: int | None = None
        self._last_batch: dict[str, Any] | None = None
        self.saved: list[Path] = []

    def _dir(self, trainer: L.Trainer) -> Path:
        return Path(self.dirpath or os.path.join(trainer.default_root_dir, "samples"))

    @rank_zero_only
    def _save(
        self, trainer: L.Trainer, pl_module: L.LightningModule, batch: dict[str, Any], name: str, tag: str
    ) -> None:
        sample = getattr(pl_module, "sample_images", None)
        if sample is None:
            return
        small = {k: v[: self.max_images] if isinstance(v, Tensor) else v for k, v in batch.items()}
        images = sample(small)
        bands = self.display_bands
        if bands is None:
            bands = getattr(getattr(trainer, "datamodule", None), "display_bands", None)
        grid = image_grid(images, self.max_images, labels=self.labels, display_bands=bands)
        path = self._dir(trainer) / name
        with atomic_write(path) as f:
            to_image(grid).save(f, format="PNG")
        self.saved.append(path)
        _log_image(trainer, tag, grid, " | ".join(images))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._last_batch = batch
        if self.every_n_steps <= 0:
            return
        bucket = trainer.global_step // self.every_n_steps
        if self._last_bucket is None:
            self._last_bucket = (trainer.global_step - 1) // self.every_n_steps if trainer.global_step else -1
        if bucket != self._last_bucket:
            self._last_bucket = bucket
            self._save(trainer, pl_module, batch, f"train_step{trainer.global_step:07d}.png", "samples/train")

    def on_train_end(self, trainer, pl_module) -> None:
        if self._last_batch is not None:
            was_training = pl_module.training
            pl_module.eval()
            self._save(
                trainer, pl_module, self._last_batch, f"train_step{trainer.global_step:07d}.png", "samples/train"
            )
            pl_module.train(was_training)

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx == 0 and not trainer.sanity_checking:
            self._save(trainer, pl_module, batch, f"val_epoch{trainer.current_epoch:04d}.png", "samples/val")


def _check_bands(value: Any) -> DisplayBands:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in value)
    ):
        return (value[0], value[1], value[2])
    raise ValueError(
        f"display_bands must be one band number or three (R, G, B), numbered from 0, or null; got {value!r}"
    )


def _input_files(trainer: L.Trainer) -> set[Path]:
    """The resolved paths of every image the predict datasets read (their lists of files)."""
    loaders = trainer.predict_dataloaders
    loaders = loaders if isinstance(loaders, (list, tuple)) else [loaders]
    found: set[Path] = set()
    for loader in loaders:
        dataset = getattr(loader, "dataset", None)
        for value in vars(dataset).values() if dataset is not None and hasattr(dataset, "__dict__") else ():
            if isinstance(value, (list, tuple)) and value and all(isinstance(v, (str, os.PathLike)) for v in value):
                found.update(Path(v).resolve() for v in value)
    return found


def _output_data(trainer: Any) -> tuple[Scaling, int] | None:
    """(scaling, bands) of ``predict``'s outputs for a data module that reads arrays (``array_data``): the scaling
    and channels of its ``predict_output_domain``; None for 8-bit RGB data (or no data module)."""
    datamodule = getattr(trainer, "datamodule", None)
    if not getattr(datamodule, "array_data", False):
        return None
    domain = datamodule.predict_output_domain
    return datamodule.scalings[domain], datamodule.channels[0 if domain == "A" else 1]


class ImageWriter(BasePredictionWriter):
    """Writes ``predict`` outputs as image files, one per input image, in the values the data came in.

    Expects ``predict_step`` to return ``{"images": (N, C, H, W) in [-1, 1], "paths": [input path] * N}``
    (as :class:`gan_style.methods.GanStyleModule` does). The output for ``dir/photo.jpg`` is
    ``<output_dir>/photo.<ext>``; a second input with the same stem gets ``photo_1.<ext>``.

    - 8-bit RGB data (a data module without ``channels`` or ``scaling``, or none): 8-bit RGB through Pillow,
      C = 3.
    - Other data (``trainer.datamodule.array_data``): the scaling of the domain predicted
      (``datamodule.scalings[datamodule.predict_output_domain]``) inverted exactly
      (:meth:`gan_style.io.imagery.Scaling.from_tensor`) and written by :func:`gan_style.io.imagery.write_array`:
      16-bit PNG or TIFF for 16-bit data, 1 band for gray, N-band TIFF for N bands.

    Args:
        output_dir: target folder; default ``<trainer.default_root_dir>/predictions``.
        extension: the file format: ``png``, ``jpg``, ``jpeg``, ``webp``, ``bmp``, ``tif``, ``tiff`` or ``npy``.
            None (default): ``png`` (lossless) for 8-bit RGB data and for uint8 / uint16 data of 1 or 3 bands,
            ``tif`` for any other (float data, 2 or 4+ bands).

    Raises:
        ValueError: an unknown ``extension``.
        InvalidSettingError: (before anything is predicted) an ``extension`` whose format cannot hold the data's
            type and bands (``png`` for 4 bands); the message names the formats that can.
        UnwritableFolderError (a ValueError): a target file would replace one of the input images (``x.png`` of
            ``x.jpg`` in a folder that also holds the input ``x.png``); checked for every input before anything is
            predicted, so inputs are never overwritten.
    """

    def __init__(self, output_dir: str | None = None, extension: str | None = None) -> None:
        super().__init__(write_interval="batch")
        if extension is not None and extension.lower().lstrip(".") not in (*_FORMATS, *_ARRAY_FORMATS):
            raise ValueError(
                f"extension {extension!r} is not an image format gan-style writes; use one of "
                f"{', '.join((*_FORMATS, *_ARRAY_FORMATS))} (or null: png, or tif where PNG cannot hold the data)"
            )
        self.output_dir = output_dir
        self.requested_extension = None if extension is None else extension.lower().lstrip(".")
        #: the extension of the files written: the requested one, or the default for the data (set when predict starts)
        self.extension = self.requested_extension or "png"
        self.written: list[Path] = []
        self._names: set[str] = set()
        self._data: tuple[Scaling, int] | None = None

    def _dir(self, trainer: L.Trainer) -> Path:
        return Path(self.output_dir or os.path.join(trainer.default_root_dir, "predictions"))

    def on_predict_start(self, trainer, pl_module) -> None:
        from gan_style.io.imagery import check_writable

        self.written, self._names = [], set()
        self._data = _output_data(trainer)
        if self._data is None:
            self.extension = self.requested_extension or "png"
        else:
            scaling, bands = self._data
            fits_png = scaling.dtype in ("uint8", "uint16") and bands in (1, 3)
            self.extension = self.requested_extension or ("png" if fits_png else "tif")
            try:  # refuse before anything is predicted
                check_writable(f"output.{self.extension}", scaling.dtype, bands)
            except InvalidSettingError as err:
                raise InvalidSettingError(f"ImageWriter extension {self.extension!r}: {err}") from None
        self._inputs = _input_files(trainer)
        out_dir = self._dir(trainer).resolve()
        for src in sorted(self._inputs):  # refuse before anything is predicted or written
            target = out_dir / f"{src.stem}.{self.extension}"
            if target in self._inputs:
                raise UnwritableFolderError(
                    f"ImageWriter would overwrite the input image '{target}' (the prediction for '{src.name}' is "
                    f"named {target.name}); set output_dir to another folder (--trainer.callbacks ImageWriter's "
                    "output_dir) or predict from another folder"
                )

    def write_on_batch_end(
        self,
        trainer,
        pl_module,
        prediction: dict[str, Any],
        batch_indices: Sequence[int] | None,
        batch: Any,
        batch_idx: int,
        dataloader_idx: int,
    ) -> None:
        out_dir = self._dir(trainer)
        out_dir.mkdir(parents=True, exist_ok=True)
        images, paths = prediction["images"], prediction["paths"]
        for i, image in enumerate(images):
            src = Path(paths[i]) if i < len(paths) else None
            stem = src.stem if src is not None else f"batch{batch_idx:05d}_{i:03d}"
            name, k = f"{stem}.{self.extension}", 1
            while name in self._names:
                name, k = f"{stem}_{k}.{self.extension}", k + 1
            target = out_dir / name
            if target.resolve() in getattr(self, "_inputs", set()) or (
                src is not None and src.exists() and target.resolve() == src.resolve()
            ):
                raise UnwritableFolderError(
                    f"ImageWriter would overwrite the input image '{target}'; set output_dir to another folder"
                )
            self._names.add(name)
            if self._data is not None:
                from gan_style.io.imagery import write_array

                write_array(target, self._data[0].from_tensor(image))
            elif self.extension in _ARRAY_FORMATS:
                from gan_style.io.imagery import Scaling, write_array

                write_array(target, Scaling().from_tensor(image))  # 8-bit RGB values, as Pillow would write them
            else:
                with atomic_write(target) as f:
                    to_image(image).save(f, format=_FORMATS[self.extension])
            self.written.append(target)

    def on_predict_end(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            rank_zero_info(f"ImageWriter: wrote {len(self.written)} images to {self._dir(trainer)}")
