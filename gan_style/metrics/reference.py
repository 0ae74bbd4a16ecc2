"""Reference ("real") image statistics for FID and KID, computed once per dataset and cached on disk.

The statistics of a folder of reference images are the count, the float64 sum and sum of outer products of
their feature vectors (FID), and optionally the feature vectors themselves (KID). They are stored in
``<cache_dir>/<folder name>-<key>.pt``, where the key is a SHA-256 of

- the sorted list of reference files with their sizes and modification times (so adding, removing or
  replacing an image recomputes them),
- the image size they were resized to, and the cap on their number,
- the identity of the feature network (:func:`~gan_style.metrics.features.feature_network_id`: the hash of
  its weights).

``cache_dir`` defaults to ``$XDG_CACHE_HOME/gan_style/metrics`` (``~/.cache/gan_style/metrics``). Files are
written atomically and read with ``torch.load(weights_only=True)``; a damaged file is recomputed with a
warning, and a cache folder that cannot be written is skipped with a warning. Delete the folder to drop
all cached statistics.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from gan_style.data.images import list_images, load_image
from gan_style.data.transforms import to_tensor
from gan_style.errors import GanStyleError
from gan_style.io.atomic import atomic_torch_save
from gan_style.io.untrusted import safe_load
from gan_style.metrics.distribution import MetricInputError
from gan_style.metrics.features import feature_network_id

if TYPE_CHECKING:
    from gan_style.io.imagery import Scaling

__all__ = [
    "ReferenceStatistics",
    "default_cache_dir",
    "image_batches",
    "is_data_file",
    "load_data_tensor",
    "load_image_tensor",
    "reference_statistics",
]

_CACHE_VERSION = 1


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/gan_style/metrics``, or ``~/.cache/gan_style/metrics`` when the variable is unset."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "gan_style" / "metrics"


@dataclass
class ReferenceStatistics:
    """Feature statistics of a set of reference images.

    Attributes:
        num_samples: number of images.
        features_sum: (D,) float64 sum of the feature vectors.
        features_cov_sum: (D, D) float64 sum of their outer products (``F^T F``), what torchmetrics' FID
            accumulates.
        features: (N, D) float32 feature vectors (KID needs them), or None when not kept.
        source: the folder they came from (informative).
    """

    num_samples: int
    features_sum: Tensor
    features_cov_sum: Tensor
    features: Tensor | None = None
    source: str = ""

    @property
    def num_features(self) -> int:
        """Feature dimension D."""
        return int(self.features_sum.shape[0])

    @classmethod
    def from_features(cls, features: Tensor, source: str = "", keep_features: bool = True) -> ReferenceStatistics:
        """Statistics of (N, D) features, summed in float64 exactly as torchmetrics' FID does."""
        double = features.detach().double()
        return cls(
            num_samples=int(features.shape[0]),
            features_sum=double.sum(dim=0).cpu(),
            features_cov_sum=double.t().mm(double).cpu(),
            features=features.detach().float().cpu() if keep_features else None,
            source=source,
        )


def load_image_tensor(path: str | os.PathLike, size: int | None = None) -> Tensor:
    """Read an image file into a (3, H, W) float tensor in [-1, 1]; with ``size``, resized to size x size
    (antialiased bilinear, aspect ratio not kept, as the Inception's own 299 x 299 resize).

    Raises:
        ImageLoadError: the file is missing or not a readable image (see :func:`gan_style.data.images.load_image`).
    """
    x = to_tensor(load_image(path))
    if size and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        x = x.clamp(-1, 1)
    return x


def is_data_file(path: str | os.PathLike) -> bool:
    """Whether an image file holds more than 8-bit gray or RGB, so that reading it as 8-bit RGB would lose
    values or bands: TIFF and ``.npy`` files, 16-bit PNGs and 16-bit or float images Pillow reads (``I;16``,
    ``I``, ``F`` modes). Only the file's header is read. An unreadable file gives False (its reader names it)."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.suffix.lower() in (".tif", ".tiff", ".npy"):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(26)
        if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
            return head[24] == 16
        with Image.open(path) as image:
            return image.mode.startswith(("I", "F"))
    except (OSError, UnidentifiedImageError, IndexError):
        return False


def load_data_tensor(path: str | os.PathLike, scaling: Scaling, size: int | None = None) -> Tensor:
    """Read an image file with its own type and bands (:func:`gan_style.io.imagery.read_array`) into a
    (C, H, W) float tensor in [-1, 1] through ``scaling`` (:meth:`Scaling.to_tensor`: ``low`` -> -1, ``high`` ->
    +1, per band); with ``size``, resized to size x size as :func:`load_image_tensor` resizes.

    Raises:
        ImageLoadError: the file is missing or unreadable.
        InvalidSettingError: its type is not the scaling's, or its band count differs from per-band bounds (the
            message names the file).
    """
    from gan_style.errors import InvalidSettingError
    from gan_style.io.imagery import read_array

    array = read_array(path)
    try:
        x = scaling.to_tensor(array)
    except InvalidSettingError as err:
        raise InvalidSettingError(f"'{path}': {err}") from None
    if size and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(x[None], size=(size, size), mode="bilinear", align_corners=False, antialias=True)[0]
        x = x.clamp(-1, 1)
    return x


class _Files(Dataset):
    def __init__(
        self, items: Sequence[tuple[Path, ...]], sizes: Sequence[int | None], scaling: Scaling | None = None
    ) -> None:
        self.items, self.sizes, self.scaling = list(items), list(sizes), scaling

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, ...]:
        if self.scaling is not None:
            return tuple(load_data_tensor(p, self.scaling, s) for p, s in zip(self.items[index], self.sizes))
        return tuple(load_image_tensor(p, s) for p, s in zip(self.items[index], self.sizes))


def image_batches(
    items: Sequence[tuple[Path, ...]],
    sizes: Sequence[int | None],
    batch_size: int = 16,
    num_workers: int = 0,
    scaling: Scaling | None = None,
) -> Iterator[tuple[Tensor, ...]]:
    """Load tuples of image files (a single file, or a generated/reference pair ...) in order and yield
    them stacked into batches of at most ``batch_size``: one (B, 3, H, W) tensor in [-1, 1] per tuple
    position. ``sizes[i]`` resizes position ``i`` to size x size (None keeps each image's size); batches hold
    consecutive tuples whose images have the same shapes, so folders of mixed sizes work. With ``scaling``
    (default None: 8-bit RGB, :func:`load_image_tensor`), files keep their type and bands and are scaled by it
    (:func:`load_data_tensor`): (B, C, H, W).

    Raises:
        ImageLoadError: an unreadable file (named in the message).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    loader = DataLoader(_Files(items, sizes, scaling), batch_size=None, num_workers=num_workers)
    group: list[tuple[Tensor, ...]] = []
    for sample in loader:
        if group and (len(group) == batch_size or [t.shape for t in sample] != [t.shape for t in group[0]]):
            yield tuple(torch.stack(column) for column in zip(*group))
            group = []
        group.append(sample)
    if group:
        yield tuple(torch.stack(column) for column in zip(*group))


def _cache_key(files: Sequence[Path], size: int | None, network_id: str, max_samples: int | None) -> str:
    listing = []
    for path in files:
        stat = path.stat()
        listing.append([str(path.resolve()), stat.st_size, stat.st_mtime_ns])
    text = json.dumps(
        {"version": _CACHE_VERSION, "files": listing, "size": size, "max_samples": max_samples, "net": network_id},
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _cache_file(cache_dir: Path, folder: Path, key: str) -> Path:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", folder.resolve().name or "root")[:60]
    return cache_dir / f"{name}-{key[:20]}.pt"


def _read_cache(path: Path, key: str, need_features: bool) -> ReferenceStatistics | None:
    if not path.is_file():
        return None
    try:
        entry = safe_load(path, what="cached reference statistics")
        if not isinstance(entry, dict) or entry.get("key") != key:
            raise ValueError("it belongs to other reference images")
        stats = ReferenceStatistics(
            num_samples=int(entry["num_samples"]),
            features_sum=entry["features_sum"],
            features_cov_sum=entry["features_cov_sum"],
            features=entry.get("features"),
            source=str(entry.get("source", "")),
        )
    except (GanStyleError, ValueError, KeyError, TypeError) as exc:
        warnings.warn(f"ignoring cached reference statistics '{path}' ({exc}); recomputing them", stacklevel=3)
        return None
    if need_features and stats.features is None:
        return None
    return stats


def _is_rank_zero() -> bool:
    dist = torch.distributed
    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def reference_statistics(
    folder: str | os.PathLike,
    feature_network: nn.Module | Callable[[Tensor], Tensor],
    *,
    size: int | None = 299,
    batch_size: int = 16,
    device: str | torch.device | None = None,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    keep_features: bool = True,
    max_samples: int | None = None,
    recursive: bool = True,
    num_workers: int = 0,
) -> ReferenceStatistics:
    """Feature statistics of the images in ``folder``, read from the cache when they were computed before.

    Args:
        folder: reference images (listed with :func:`gan_style.data.images.list_images`: sorted, hidden
            files skipped, subfolders included when ``recursive``).
        feature_network: maps (N, 3, H, W) images in [-1, 1] to (N, D) features, e.g.
            :class:`~gan_style.metrics.InceptionFeatures`.
        size: images are resized to size x size when loaded (antialiased bilinear); None keeps their size
            (the feature network must accept any size; images of equal size are batched together). Must be
            None for a feature network whose ``protocol`` attribute is ``legacy`` or ``clean``: it resizes the
            original images itself.
        batch_size: images per forward pass.
        device: where the network runs; default: the device of its first parameter (CPU without any).
        cache_dir: the cache folder (default :func:`default_cache_dir`).
        use_cache: False computes the statistics without reading or writing the cache.
        keep_features: also keep the (N, D) feature vectors (needed by KID). A cached entry without them is
            recomputed when they are asked for.
        max_samples: use only the first ``max_samples`` files (sorted order).
        recursive: include images in subfolders.
        num_workers: DataLoader worker processes decoding images.

    Returns:
        :class:`ReferenceStatistics` on the CPU.

    Raises:
        DatasetNotFoundError: ``folder`` is missing or holds no images.
        ImageLoadError: an unreadable image (named).
        MetricInputError: fewer than 2 images, or a ``size`` with a ``legacy`` / ``clean`` feature network.

    Under DDP only process 0 writes the cache; processes that find no cached entry compute the statistics
    themselves, so run it once on one process (or ``gan-style evaluate``) to fill the cache first.
    """
    protocol = getattr(feature_network, "protocol", "gan-style")
    if size is not None and protocol != "gan-style":
        raise MetricInputError(
            f"the {protocol!r} FID/KID protocol resizes each image from its own size to 299 itself; load the "
            f"reference images with size=None, not {size}"
        )
    root = Path(folder)
    files = list_images(root, recursive=recursive)
    if max_samples is not None:
        files = files[:max_samples]
    if len(files) < 2:
        raise MetricInputError(f"reference folder '{root}' holds {len(files)} image(s); FID and KID need at least 2")
    network_id = feature_network_id(feature_network) if isinstance(feature_network, nn.Module) else None
    cache_path = None
    if use_cache and network_id is not None:
        key = _cache_key(files, size, network_id, max_samples)
        cache_path = _cache_file(Path(cache_dir) if cache_dir is not None else default_cache_dir(), root, key)
        cached = _read_cache(cache_path, key, keep_features)
        if cached is not None:
            return cached
    if device is None:
        param = next(iter(feature_network.parameters()), None) if isinstance(feature_network, nn.Module) else None
        device = param.device if param is not None else torch.device("cpu")
    features = torch.cat(list(_features(feature_network, ((p,) for p in files), size, batch_size, device, num_workers)))
    stats = ReferenceStatistics.from_features(features, source=str(root), keep_features=keep_features)
    if cache_path is not None and _is_rank_zero():
        entry = {
            "version": _CACHE_VERSION,
            "key": key,
            "source": str(root.resolve()),
            "num_files": len(files),
            "size": size,
            "feature_network": network_id,
            "num_samples": stats.num_samples,
            "features_sum": stats.features_sum,
            "features_cov_sum": stats.features_cov_sum,
            "features": stats.features,
        }
        try:
            atomic_torch_save(entry, cache_path)
        except OSError as exc:  # read-only or full disk: the statistics are still returned
            warnings.warn(f"could not cache reference statistics in '{cache_path}' ({exc})", stacklevel=2)
    return stats


def _features(
    network: Callable[[Tensor], Tensor],
    items: Iterable[tuple[Path, ...]],
    size: int | None,
    batch_size: int,
    device: str | torch.device,
    num_workers: int,
) -> Iterator[Tensor]:
    device = torch.device(device)
    with torch.no_grad(), torch.autocast(device.type, enabled=False):
        for (batch,) in image_batches(list(items), [size], batch_size, num_workers):
            yield network(batch.to(device)).float().cpu()
