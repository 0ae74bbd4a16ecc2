"""One LightningModule per method; each file holds the whole algorithm."""

from gan_style.methods.adain import AdaIN
from gan_style.methods.base import GanStyleModule, LinearDecay
from gan_style.methods.cyclegan import CycleGAN
from gan_style.methods.gatys import Gatys
from gan_style.methods.image_pool import ImagePool
from gan_style.methods.patchgan_style import PatchGANStyle
from gan_style.methods.pix2pix import Pix2Pix

__all__ = ["GanStyleModule", "LinearDecay", "ImagePool", "CycleGAN", "Pix2Pix", "Gatys", "AdaIN", "PatchGANStyle"]
