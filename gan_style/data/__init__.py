"""DataModules that turn folders of images into batches with fixed keys (``"A"``, ``"B"``, ``"A_path"``...).

Image reading and transforms (:mod:`gan_style.data.images`, :mod:`gan_style.data.transforms`) import no Lightning;
the DataModules and datasets are imported when first named (``gan_style.data.UnpairedImageDataModule``), so
inference (``stylize``, ``gan_style.load``) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from gan_style.data.images import IMG_EXTENSIONS, ImageLoadError, list_images, load_image
from gan_style.data.transforms import PREPROCESS_MODES, ImageTransform, to_image, to_tensor

#: Names imported on first use: name -> module.
_LAZY = {
    "SeededDataModule": "gan_style.data.base",
    "ContentStyleDataModule": "gan_style.data.content_style",
    "ContentStyleDataset": "gan_style.data.content_style",
    "AlignedImageDataset": "gan_style.data.paired",
    "PairedFolderDataset": "gan_style.data.paired",
    "PairedImageDataModule": "gan_style.data.paired",
    "split_aligned": "gan_style.data.paired",
    "SeededSampler": "gan_style.data.sampling",
    "ImageFolderDataset": "gan_style.data.unpaired",
    "UnpairedImageDataModule": "gan_style.data.unpaired",
    "UnpairedImageDataset": "gan_style.data.unpaired",
    "ImageFolderDataModule": "gan_style.data.image_folder",
    "DigitsDataModule": "gan_style.data.digits",
    "DigitsDataset": "gan_style.data.digits",
}

__all__ = [
    "IMG_EXTENSIONS",
    "ImageLoadError",
    "list_images",
    "load_image",
    "SeededSampler",
    "PREPROCESS_MODES",
    "ImageTransform",
    "to_image",
    "to_tensor",
    "ImageFolderDataset",
    "UnpairedImageDataset",
    "UnpairedImageDataModule",
    "SeededDataModule",
    "AlignedImageDataset",
    "PairedFolderDataset",
    "PairedImageDataModule",
    "split_aligned",
    "ContentStyleDataModule",
    "ContentStyleDataset",
    "ImageFolderDataModule",
    "DigitsDataModule",
    "DigitsDataset",
]


def __getattr__(name: str) -> Any:
    """The DataModules and datasets, imported when first named (PEP 562) and kept in the module."""
    if name not in _LAZY:
        raise AttributeError(f"module 'gan_style.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def load_all() -> None:
    """Import every DataModule and dataset now (so that they can be looked up by name without a hook)."""
    for name in _LAZY:
        __getattr__(name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
