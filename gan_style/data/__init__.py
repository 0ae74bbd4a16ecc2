"""DataModules that turn folders of images into batches with fixed keys (``"A"``, ``"B"``, ``"A_path"``...)."""

from gan_style.data.base import SeededDataModule
from gan_style.data.content_style import ContentStyleDataModule, ContentStyleDataset
from gan_style.data.images import IMG_EXTENSIONS, ImageLoadError, list_images, load_image
from gan_style.data.paired import AlignedImageDataset, PairedFolderDataset, PairedImageDataModule, split_aligned
from gan_style.data.sampling import SeededSampler
from gan_style.data.transforms import PREPROCESS_MODES, ImageTransform, to_image, to_tensor
from gan_style.data.unpaired import ImageFolderDataset, UnpairedImageDataModule, UnpairedImageDataset

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
]
