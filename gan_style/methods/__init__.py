"""One LightningModule per method; each file holds the whole algorithm, its inference included."""

from gan_style.loading import import_modules, load_method, load_plugins
from gan_style.methods.adain import AdaIN, AdaINStylizer
from gan_style.methods.base import GanStyleModule, LinearDecay
from gan_style.methods.cyclegan import CycleGAN
from gan_style.methods.gatys import Gatys, GatysStylizer
from gan_style.methods.image_pool import ImagePool
from gan_style.methods.patchgan_style import PatchGANStyle
from gan_style.methods.pix2pix import Pix2Pix, Pix2PixStylizer

#: Methods that stylize without a checkpoint (``gan-style stylize --method NAME``): name -> stylizer class.
OPTIMIZATION_METHODS = {"gatys": GatysStylizer}

__all__ = [
    "GanStyleModule",
    "LinearDecay",
    "ImagePool",
    "CycleGAN",
    "Pix2Pix",
    "Pix2PixStylizer",
    "Gatys",
    "GatysStylizer",
    "AdaIN",
    "AdaINStylizer",
    "PatchGANStyle",
    "OPTIMIZATION_METHODS",
    "import_modules",
    "load_method",
    "load_plugins",
]
