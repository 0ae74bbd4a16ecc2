"""What the image DataModules share: argument checks, seeded and resumable loaders, the data seed."""

from __future__ import annotations

import os
import warnings
from typing import Any

import lightning as L
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate

from gan_style.data.sampling import ResumableDataLoader, SeededSampler, resume_position
from gan_style.errors import ImageLoadError

__all__ = ["SeededDataModule", "ImageBatchCollate"]


class ImageBatchCollate:
    """``default_collate`` for dict samples, after checking that the images of one key share a size.

    Preprocess modes that do not crop (``scale_width``, ``none``) keep each image's own size, so a batch of
    images with different aspect ratios cannot be stacked; instead of torch's ``stack expects each tensor
    to be equal size``, this raises :class:`ImageLoadError` naming two of the files, their sizes and the
    settings to change (``batch_size: 1``, or a preprocess that crops to ``crop_size``).
    """

    def __init__(self, preprocess: str | None = None) -> None:
        self.preprocess = preprocess

    def __call__(self, batch: list[dict[str, Any]]) -> Any:
        first = batch[0]
        if isinstance(first, dict):
            for key, value in first.items():
                if not isinstance(value, Tensor):
                    continue
                for item in batch[1:]:
                    if item[key].shape != value.shape:
                        (h0, w0), (h1, w1) = value.shape[-2:], item[key].shape[-2:]
                        mode = f" with preprocess={self.preprocess!r}" if self.preprocess else ""
                        raise ImageLoadError(
                            f"images of different sizes in one batch{mode}: '{first.get(key + '_path', '?')}' "
                            f"became {w0}x{h0} but '{item.get(key + '_path', '?')}' became {w1}x{h1}; set "
                            "batch_size: 1, or a preprocess that crops to crop_size (e.g. resize_and_crop)"
                        )
        return default_collate(batch)


class SeededDataModule(L.LightningDataModule):
    """Base of the image DataModules.

    Subclasses call ``self.save_hyperparameters()`` with ``batch_size``, ``num_workers``, ``seed`` and
    ``serial_batches`` among their arguments, and fill ``train_set``, ``eval_set`` (validation; None skips
    it), ``test_set`` and ``predict_set`` in ``setup``; the loaders are built here. The training loader draws its order
    and per-sample seeds from the data seed (``seed``, or the run's seed when None), which is saved in
    checkpoints; a run restored mid-epoch continues with the batches the interrupted run had not used.
    Batches are collated by :class:`ImageBatchCollate`: images of different sizes in one batch (possible
    with ``preprocess`` ``scale_width`` or ``none``) raise :class:`~gan_style.errors.ImageLoadError`.
    """

    def _check_common(self, batch_size: int, num_workers: int | str, direction: str | None = None) -> None:
        if direction is not None and direction not in ("AtoB", "BtoA"):
            raise ValueError(f"direction must be 'AtoB' or 'BtoA', got {direction!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_workers != "auto" and not (isinstance(num_workers, int) and num_workers >= 0):
            raise ValueError(f"num_workers must be 'auto' or an integer >= 0, got {num_workers!r}")

    def train_without_validation(self, root: Any, missing: str, what: str) -> None:
        """Say once (a ``UserWarning``) that the dataset ``root`` lacks ``missing`` and the run trains without
        validation, suggesting to add ``what``; and turn the trainer's validation loop off
        (``limit_val_batches = 0``, so Lightning does not warn about an empty loader). Called from ``setup("fit")``."""
        warnings.warn(
            f"dataset root '{root}' has no {missing}: training without validation (add {what} for validation "
            "samples and metrics)",
            UserWarning,
            stacklevel=3,
        )
        if self.trainer is not None:
            self.trainer.limit_val_batches = 0

    def num_workers(self) -> int:
        """The DataLoader worker count: ``num_workers``, or for ``"auto"`` the CPU cores this process may use
        (``os.sched_getaffinity``, which follows container and job-scheduler limits) divided by the
        processes of this run on this machine, at most 8."""
        setting = self.hparams.num_workers
        if setting != "auto":
            return int(setting)
        try:
            cores = len(os.sched_getaffinity(0))
        except AttributeError:  # macOS, Windows
            cores = os.cpu_count() or 1
        trainer = getattr(self, "_trainer", None) or getattr(self, "trainer", None)
        local = max(1, int(getattr(trainer, "num_devices", 1) or 1)) if trainer is not None else 1
        return max(0, min(8, cores // local))

    def _init_seed(self) -> None:
        if getattr(self, "seed", None) is None:
            self.seed = torch.initial_seed() % (2**62)

    def _loader(
        self, dataset: Dataset, shuffle: bool = False, seeded: bool = False, batch_size: int | None = None
    ) -> DataLoader:
        """A loader over ``dataset``; ``seeded`` (training) uses a resumable :class:`SeededSampler`; ``batch_size``
        overrides the data module's (None: its ``batch_size``)."""
        workers = self.num_workers()
        kwargs = dict(
            batch_size=self.hparams.batch_size if batch_size is None else batch_size,
            num_workers=workers,
            pin_memory=torch.cuda.is_available(),
            persistent_workers=workers > 0,
            collate_fn=ImageBatchCollate(self.hparams.get("preprocess")),
        )
        if not seeded:
            return DataLoader(dataset, **kwargs)
        epoch, skip = resume_position(self.trainer, self.hparams.batch_size)
        world, rank = (self.trainer.world_size, self.trainer.global_rank) if self.trainer is not None else (1, 0)
        sampler = SeededSampler(len(dataset), self.seed, shuffle, epoch=epoch, skip=skip, num_replicas=world, rank=rank)
        return ResumableDataLoader(dataset, sampler=sampler, **kwargs)

    train_set: Dataset | None = None
    eval_set: Dataset | None = None
    test_set: Dataset | None = None
    predict_set: Dataset | None = None

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=not self.hparams.serial_batches, seeded=True)

    def val_dataloader(self) -> DataLoader | list:
        return [] if self.eval_set is None else self._loader(self.eval_set)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def predict_dataloader(self) -> DataLoader:
        return self._loader(self.predict_set)

    def state_dict(self) -> dict[str, Any]:
        """The data seed, saved in checkpoints so a resumed run draws the same batches."""
        return {"seed": self.seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.seed = state_dict.get("seed", self.seed)
