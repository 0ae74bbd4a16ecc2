"""One module per family of published models, each holding its catalogue entries and the converter of its layout,
registered with :func:`gan_style.pretrained.registry.register_family` (timm's model files and ``_registry.py`` are
the pattern). Importing this package registers them all; a new family is a new module here, imported below.
"""

# The import order is the catalogue's order: `gan-style pretrained` lists the families so.
# isort: off
from gan_style.pretrained.families import cyclegan, pix2pix, adain, fast_neural_style, cut

# isort: on

__all__ = ["cyclegan", "pix2pix", "adain", "fast_neural_style", "cut"]
