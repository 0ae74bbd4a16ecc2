"""Callbacks that turn images into files and logger entries (rank zero only)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import BasePredictionWriter
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only
from torch import Tensor
from torchvision.utils import make_grid

from gan_style.data.transforms import to_image, to_tensor
from gan_style.errors import UnwritableFolderError
from gan_style.io.atomic import atomic_write

__all__ = ["SampleGrid", "ImageWriter", "image_grid", "label_height"]

_FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "webp": "WEBP", "bmp": "BMP", "tif": "TIFF", "tiff": "TIFF"}


def image_grid(images: dict[str, Tensor], max_images: int = 4, labels: bool = False) -> Tensor:
    """One row per sample, one column per name: (3, H', W') float in [-1, 1].

    ``images`` maps names to (N, 3, H, W) tensors in [-1, 1] of one size; the first ``max_images`` samples
    (default 4) are used. Tiles are separated by 2 white pixels. With ``labels`` (default False) a white strip on
    top names each column (``real_A``, ``fake_B`` ...) in black, centred over it; its height is
    :func:`label_height` of the tile width.
    """
    columns = [t.detach().float().cpu()[:max_images].clamp(-1, 1) for t in images.values()]
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

    Args:
        every_n_steps: global steps between training grids (0 disables them; note that GAN methods take
            several optimizer steps per batch).
        max_images: rows per grid (4).
        dirpath: folder of the PNG files; default ``<trainer.default_root_dir>/samples``.
        labels: name each column (``real_A``, ``fake_B`` ...) in a strip above the grid (True).
    """

    def __init__(
        self, every_n_steps: int = 500, max_images: int = 4, dirpath: str | None = None, labels: bool = True
    ) -> None:
        if every_n_steps < 0 or max_images < 1:
            raise ValueError(f"every_n_steps must be >= 0 and max_images >= 1, got {every_n_steps}, {max_images}")
        self.every_n_steps = every_n_steps
        self.max_images = max_images
        self.dirpath = dirpath
        self.labels = labels
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
        grid = image_grid(images, self.max_images, labels=self.labels)
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


class ImageWriter(BasePredictionWriter):
    """Writes ``predict`` outputs as image files, one per input image.

    Expects ``predict_step`` to return ``{"images": (N, 3, H, W) in [-1, 1], "paths": [input path] * N}``
    (as :class:`gan_style.methods.GanStyleModule` does). The output for ``dir/photo.jpg`` is
    ``<output_dir>/photo.<ext>``; a second input with the same stem gets ``photo_1.<ext>``.

    Args:
        output_dir: target folder; default ``<trainer.default_root_dir>/predictions``.
        extension: ``png`` (lossless, default) or ``jpg``.

    Raises:
        UnwritableFolderError (a ValueError): a target file would replace one of the input images (``x.png`` of
            ``x.jpg`` in a folder that also holds the input ``x.png``); checked for every input before anything is
            predicted, so inputs are never overwritten.
    """

    def __init__(self, output_dir: str | None = None, extension: str = "png") -> None:
        super().__init__(write_interval="batch")
        if extension.lower().lstrip(".") not in _FORMATS:
            raise ValueError(f"extension {extension!r} is not an image format Pillow writes; use png or jpg")
        self.output_dir = output_dir
        self.extension = extension.lower().lstrip(".")
        self.written: list[Path] = []
        self._names: set[str] = set()

    def _dir(self, trainer: L.Trainer) -> Path:
        return Path(self.output_dir or os.path.join(trainer.default_root_dir, "predictions"))

    def on_predict_start(self, trainer, pl_module) -> None:
        self.written, self._names = [], set()
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
            with atomic_write(target) as f:
                to_image(image).save(f, format=_FORMATS[self.extension])
            self.written.append(target)

    def on_predict_end(self, trainer, pl_module) -> None:
        if trainer.is_global_zero:
            rank_zero_info(f"ImageWriter: wrote {len(self.written)} images to {self._dir(trainer)}")
