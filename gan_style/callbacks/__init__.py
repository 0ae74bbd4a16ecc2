"""Callbacks: sample image grids and prediction files."""

from gan_style.callbacks.images import ImageWriter, SampleGrid, image_grid

__all__ = ["SampleGrid", "ImageWriter", "image_grid"]
