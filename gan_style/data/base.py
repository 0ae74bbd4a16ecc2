"""What the image DataModules share: argument checks, seeded and resumable loaders, the data seed, and the data
settings beyond 8-bit RGB (channels per domain, the value scaling and the display mapping)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightning as L
import numpy as np
import torch
from torch import Tensor
from torch.utils.data import DataLoader, Dataset, default_collate

from gan_style.data.images import ArrayReader
from gan_style.data.sampling import ResumableDataLoader, SeededSampler, resume_position
from gan_style.errors import ImageLoadError, InvalidSettingError

if TYPE_CHECKING:
    from gan_style.io.imagery import Scaling

__all__ = ["DOMAINS", "ImageBatchCollate", "ImageSource", "SeededDataModule", "channel_pair", "read_part"]

DOMAINS = ("A", "B")
"""The batch keys of the two domains of translation data: A is what the networks read, B what they write
(after ``direction``)."""

ImageSource = tuple[Path, str | None]
"""A file and the part of it that holds one domain's image: None (the whole file), ``"left"`` or ``"right"`` (a half
of an aligned A|B file)."""

#: At most this many files, spread evenly over the sorted list, and this many pixels of each, go into the
#: bounds computed once from the training files (:meth:`gan_style.io.imagery.Scaling.fit`'s defaults).
FIT_MAX_FILES = 256
FIT_PIXELS_PER_FILE = 16384


def channel_pair(channels: Any) -> tuple[int, int]:
    """The ``channels`` setting as (bands of A, bands of B): one number for both, or two.

    Raises:
        InvalidSettingError: not a band count >= 1 or two of them; one line naming the setting.
    """

    def count(value: Any) -> int | None:
        ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= 1
        return int(value) if ok else None

    if count(channels) is not None:
        return count(channels), count(channels)
    if isinstance(channels, Sequence) and not isinstance(channels, str) and len(channels) == 2:
        a, b = count(channels[0]), count(channels[1])
        if a is not None and b is not None:
            return a, b
    raise InvalidSettingError(
        f"data.init_args.channels must be a band count >= 1 for both domains, or two ([A, B], e.g. [1, 3] for "
        f"colourisation), got {channels!r}"
    )


def _display_bands(value: Any, channels: tuple[int, int]) -> int | tuple[int, int, int] | None:
    if value is None:
        return None
    single = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    chosen = [value] if single else value
    if (
        isinstance(chosen, (str, bytes))
        or not isinstance(chosen, Sequence)
        or len(chosen) not in (1, 3)
        or (len(chosen) == 1 and not single)
        or not all(isinstance(b, (int, np.integer)) and not isinstance(b, bool) and b >= 0 for b in chosen)
    ):
        raise InvalidSettingError(
            f"data.init_args.display_bands must be one band number or three (R, G, B), numbered from 0, or null; "
            f"got {value!r}"
        )
    if max(chosen) >= max(channels):
        raise InvalidSettingError(
            f"data.init_args.display_bands {list(chosen)} names band {max(chosen)}, which no domain has (channels "
            f"{list(channels)}, bands numbered from 0); choose bands below {max(channels)}"
        )
    return int(chosen[0]) if single else (int(chosen[0]), int(chosen[1]), int(chosen[2]))


def read_part(reader: ArrayReader, source: ImageSource) -> np.ndarray:
    """The array (H, W, C) of one domain's image in ``source``: the whole file, or a half of an aligned A|B file.

    Raises:
        ImageLoadError: the file cannot be read, or an aligned file has an odd width.
    """
    from gan_style.data.paired import split_aligned

    path, part = source
    array = reader.read(path)
    if part is None:
        return array
    left, right = split_aligned(array, path)
    return left if part == "left" else right


def _with_kind(value: Any) -> Any:
    """A scaling setting with ``kind`` defaulting to ``"range"`` (``{dtype: uint16}`` is the type's full range)."""
    return {"kind": "range", **value} if isinstance(value, Mapping) else value


def _same_scaling(configured: Scaling, stored: Scaling) -> bool:
    """Whether the run's ``stored`` scaling is what ``configured`` declares (bounds compared when it gives them)."""
    a, b = configured.to_dict(), stored.to_dict()
    keys = ("kind", "dtype", "percentiles", "per_band") + (("low", "high") if configured.fitted else ())
    return all(a[k] == b[k] for k in keys)


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

    **Data beyond 8-bit RGB.** A subclass with the settings ``channels``, ``scaling``, ``scaling_b`` and
    ``display_bands`` calls :meth:`init_imagery` in ``__init__`` and implements :meth:`imagery_files`. With
    ``channels`` (3, 3) and no scaling, files are read as 8-bit RGB by Pillow (``load_image``: the path of every 8-bit
    RGB recipe, unchanged); otherwise by the domain's :class:`~gan_style.data.images.ArrayReader` (:attr:`readers`):
    1 to N bands, 8-bit, 16-bit or float, scaled to [-1, 1] through :attr:`scalings`. Bounds that are not declared
    (percentiles, float data without ``low`` / ``high``) are computed once from the training files when a loader
    is first built (after a checkpoint is restored, so a resumed run and ``predict`` use the run's bounds), stored
    in :meth:`state_dict` and given to the model's checkpoint entry by :meth:`checkpoint_scalings`.
    """

    #: The domain of ``predict``'s outputs: ``"B"`` (the networks translate A -> B); unpaired data predicting
    #: domain B (``predict_domain="B"``) writes A.
    predict_output_domain: str = "B"

    #: Bands of domain A and of domain B (see :meth:`init_imagery`); (3, 3) for 8-bit RGB data.
    channels: tuple[int, int] = (3, 3)

    #: Whether files are read as arrays (:attr:`readers`) rather than as 8-bit RGB by Pillow.
    array_data: bool = False

    #: The per-domain readers (``{"A": ArrayReader, "B": ArrayReader}``) when :attr:`array_data`, else None.
    readers: dict[str, ArrayReader] | None = None

    #: The display mapping of sample grids (``SampleGrid``): None (gray as gray, the first three bands as RGB), a
    #: band number shown as gray, or three band numbers shown as R, G, B.
    display_bands: int | tuple[int, int, int] | None = None

    _scalings: dict[str, Scaling] | None = None
    _scaling_settings: dict[str, Scaling | None] = {"A": None, "B": None}
    _scaling_names: dict[str, str] = {"A": "data.init_args.scaling", "B": "data.init_args.scaling"}

    def init_imagery(
        self,
        channels: int | Sequence[int] = 3,
        scaling: Mapping[str, Any] | None = None,
        scaling_b: Mapping[str, Any] | None = None,
        display_bands: int | Sequence[int] | None = None,
    ) -> None:
        """Take the data settings beyond 8-bit RGB (called from a subclass's ``__init__``).

        Args:
            channels: bands of domain A and of domain B (after ``direction``): one number for both, or two
                (``[1, 3]``: gray in, colour out). Default 3. Files with another band count are converted 3 -> 1
                (luminance) or 1 -> 3 (gray repeated), or refused.
            scaling: how domain A's values (and B's, unless ``scaling_b``) map to [-1, 1], as
                :meth:`gan_style.io.imagery.Scaling.to_dict` writes it: ``{"kind": "range" | "percentile", "dtype":
                "uint8" | "uint16" | "int16" | "float32" | "float64", "low", "high", "percentiles", "per_band"}``, every
                key but ``dtype`` optional. None (default): the files' own type over its full range (0-255, 0-65535,
                -32768-32767); float files: their minimum and maximum over the training files.
            scaling_b: domain B's scaling, the same form; None (default): ``scaling``.
            display_bands: bands shown in sample grids: None (default: gray as gray, the first three as RGB), one
                band number (shown as gray) or three (R, G, B), numbered from 0.

        Raises:
            InvalidSettingError: a bad ``channels``, a scaling mapping :meth:`Scaling.from_dict` refuses, per-band
                bounds for another band count than the domain's, or display bands no domain has; one line naming
                the setting.
        """
        from gan_style.io.imagery import Scaling

        self.channels = channel_pair(channels)
        self._scaling_names = {
            "A": "data.init_args.scaling",
            "B": "data.init_args.scaling_b" if scaling_b is not None else "data.init_args.scaling",
        }
        given = {"A": scaling, "B": scaling if scaling_b is None else scaling_b}
        self._scaling_settings = {
            d: None if v is None else Scaling.from_dict(_with_kind(v), self._scaling_names[d]) for d, v in given.items()
        }
        for domain, bands in zip(DOMAINS, self.channels):
            declared = self._scaling_settings[domain]
            if declared is not None and declared.bands is not None and declared.bands != bands:
                raise InvalidSettingError(
                    f"{self._scaling_names[domain]} gives bounds for {declared.bands} bands, but domain {domain} has "
                    f"{bands} (data.init_args.channels {list(self.channels)}); give one bound per band, or one for all"
                )
        self.display_bands = _display_bands(display_bands, self.channels)
        self.array_data = self.channels != (3, 3) or scaling is not None or scaling_b is not None
        self.readers = (
            {d: ArrayReader(c, self._scaling_names[d]) for d, c in zip(DOMAINS, self.channels)}
            if self.array_data
            else None
        )
        self._scalings = None

    def imagery_files(self, domain: str, split: str) -> list[ImageSource]:
        """The files (and parts of files) holding domain ``domain``'s images of ``split`` (``"train"``, ``"test"``
        ...); an empty list when the split's folder does not exist. Subclasses with :attr:`array_data` implement it;
        :attr:`scalings` computes bounds from the ``"train"`` files."""
        raise NotImplementedError(f"{type(self).__name__} defines no imagery_files(domain, split)")

    @property
    def scalings(self) -> dict[str, Scaling]:
        """How each domain's values map to [-1, 1]: ``{"A": Scaling, "B": Scaling}``
        (:class:`gan_style.io.imagery.Scaling`). For 8-bit RGB data, ``Scaling()`` (uint8, 0-255) for both, the
        mapping of the Pillow path. Otherwise resolved on first use and kept (restored from a checkpoint when one is
        loaded): declared bounds as given, a ``scaling`` of None as the first training file's type over its full
        range, and percentile bounds (or float data without bounds) computed once over the training files (at most
        256 files, spread evenly, 16384 pixels of each, with a fixed seed).

        Raises:
            InvalidSettingError: bounds to compute but no training files (``predict`` without the run's
                checkpoint), files of another type than the scaling's, or a band constant over the sample; one line
                naming the setting.
        """
        from gan_style.io.imagery import Scaling

        if not self.array_data:
            return {"A": Scaling(), "B": Scaling()}
        if self._scalings is None:
            self._scalings = {d: self._resolve_scaling(d) for d in DOMAINS}
            self._give_readers_scalings()
        return dict(self._scalings)

    def checkpoint_scalings(self) -> dict[str, dict[str, Any]] | None:
        """The checkpoint entry ``gan_style_scaling``: ``{"A": Scaling.to_dict(), "B": Scaling.to_dict()}`` (plain
        JSON data) for data read as arrays; None for 8-bit RGB data (the entry is then left out)."""
        if not self.array_data:
            return None
        return {d: s.to_dict() for d, s in self.scalings.items()}

    def _give_readers_scalings(self) -> None:
        if self.readers is not None and self._scalings is not None:
            for domain, reader in self.readers.items():
                reader.scaling = self._scalings[domain]

    def _resolve_scaling(self, domain: str) -> Scaling:
        from gan_style.io.imagery import Scaling

        name, reader = self._scaling_names[domain], self.readers[domain]
        declared = self._scaling_settings[domain]
        train = self.imagery_files(domain, "train")
        if declared is None:  # the data's own type: read from the first file there is
            first = train[:1] or self.imagery_files(domain, "test")[:1]
            if not first:
                raise InvalidSettingError(
                    f"{name} is not given and domain {domain} has no files to tell the data type from; give the "
                    "scaling (its dtype at least)"
                )
            array = read_part(reader, first[0])
            declared = Scaling(dtype=array.dtype.newbyteorder("=").name)
        if declared.fitted:
            return declared
        if not train:
            raise InvalidSettingError(
                f"{name} ({declared.kind}, {declared.dtype}) has no bounds and there are no training files of domain "
                f"{domain} to compute them from; predict with the run's checkpoint (--ckpt_path), which stores them, "
                "or give low and high"
            )
        try:
            if all(part is None for _, part in train):
                return declared.fit(
                    [path for path, _ in train],
                    channels=reader.channels,
                    max_files=FIT_MAX_FILES,
                    pixels_per_file=FIT_PIXELS_PER_FILE,
                )
            return declared.fit(_sampled_parts(reader, train), pixels_per_file=FIT_PIXELS_PER_FILE)
        except InvalidSettingError as err:
            raise InvalidSettingError(f"{name}: {err}") from None

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
        overrides the data module's (None: its ``batch_size``). Data read as arrays gets its :attr:`scalings` here,
        once (after a checkpoint's are restored)."""
        if self.array_data:
            self.scalings  # noqa: B018 - resolves the bounds and gives them to the readers
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
        """Saved in checkpoints: ``{"seed": int}``, the data seed, so a resumed run draws the same batches; for data
        read as arrays also ``"channels": [A, B]`` and ``"scaling": {"A": dict, "B": dict}``
        (:meth:`checkpoint_scalings`), so a resumed run and ``predict`` use the run's bounds."""
        state: dict[str, Any] = {"seed": self.seed}
        if self.array_data:
            state["channels"] = list(self.channels)
            state["scaling"] = self.checkpoint_scalings()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s data seed and, for data read as arrays, the run's scalings.

        Raises:
            InvalidSettingError: the checkpoint's data had other channels, or was read as arrays while this data
                module reads 8-bit RGB, or its scaling differs from a declared one, or its scaling entry is malformed;
                one line naming both.
        """
        from gan_style.io.imagery import Scaling

        self.seed = state_dict.get("seed", self.seed)
        stored = state_dict.get("scaling")
        if stored is None:  # an 8-bit RGB run
            return
        channels = state_dict.get("channels")
        shown = list(channels) if isinstance(channels, (list, tuple)) else channels
        if not self.array_data:
            raise InvalidSettingError(
                f"the checkpoint was trained on data with channels {shown} and the scaling {stored}, but this data "
                "module reads 8-bit RGB; set data.init_args.channels and scaling as in training (or predict with "
                "--ckpt_path alone, which takes them from the checkpoint)"
            )
        if isinstance(channels, (list, tuple)) and tuple(channels) != self.channels:
            raise InvalidSettingError(
                f"the checkpoint was trained on data with channels {shown}, but data.init_args.channels is "
                f"{list(self.channels)}; use the channels it was trained on"
            )
        if not isinstance(stored, Mapping) or set(stored) != set(DOMAINS):
            raise InvalidSettingError("the checkpoint's data scaling must map the domains A and B to scalings")
        restored = {d: Scaling.from_dict(stored[d], f"the checkpoint's data scaling {d}") for d in DOMAINS}
        for domain in DOMAINS:
            declared = self._scaling_settings[domain]
            if declared is not None and not _same_scaling(declared, restored[domain]):
                raise InvalidSettingError(
                    f"{self._scaling_names[domain]} declares {declared.to_dict()}, but the checkpoint's run used "
                    f"{restored[domain].to_dict()} for domain {domain}; remove the setting (the run's is used) or "
                    "train a new model"
                )
        self._scalings = restored
        self._give_readers_scalings()


def _sampled_parts(reader: ArrayReader, sources: list[ImageSource]) -> list[np.ndarray]:
    """Pixels of the images in ``sources`` for :meth:`Scaling.fit`: at most :data:`FIT_MAX_FILES` of them, spread
    evenly over the list, and at most :data:`FIT_PIXELS_PER_FILE` pixels of each (drawn with the seed (0, position),
    as ``Scaling.fit`` draws them from whole files), each as an array (n, 1, C)."""
    picked = np.unique(np.linspace(0, len(sources) - 1, min(len(sources), FIT_MAX_FILES)).round().astype(int))
    samples = []
    for position, index in enumerate(picked):
        array = read_part(reader, sources[index])
        flat = array.reshape(-1, array.shape[-1])
        if flat.shape[0] > FIT_PIXELS_PER_FILE:
            rng = np.random.default_rng([0, position])
            flat = flat[np.sort(rng.choice(flat.shape[0], FIT_PIXELS_PER_FILE, replace=False))]
        samples.append(flat[:, None, :])
    return samples
