"""One LightningModule per method; each file holds the whole algorithm."""

from gan_style.methods.base import GanStyleModule, LinearDecay
from gan_style.methods.cyclegan import CycleGAN
from gan_style.methods.image_pool import ImagePool

__all__ = ["GanStyleModule", "LinearDecay", "ImagePool", "CycleGAN"]
