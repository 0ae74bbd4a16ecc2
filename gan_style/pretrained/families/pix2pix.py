"""pix2pix's published generators (the model zoo of pytorch-CycleGAN-and-pix2pix) and their converter.

Layout: the reference code's ``UnetGenerator`` state dict (U-Net 256, batch norm, dropout), run as the reference
``test.py`` runs it: test-batch statistics, dropout on (:class:`gan_style.inference.pix2pix.Pix2PixStylizer`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gan_style.inference.pix2pix import Pix2PixStylizer
from gan_style.inference.stylizer import Stylizer
from gan_style.nets import UnetGenerator
from gan_style.pretrained.converters import load_published
from gan_style.pretrained.families.cyclegan import junyanz_zoo
from gan_style.pretrained.registry import register_family

__all__ = ["ENTRIES", "convert"]

PAPER = "Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional Adversarial Networks. CVPR 2017 (arXiv:1611.07004)"

#: model -> what it translates. One U-Net 256 generator each (batch norm, dropout), trained on 256x256 crops; the
#: reference ``test.py`` runs it with test-batch statistics and dropout on.
MODELS = {
    "edges2shoes": "edge map -> shoe photo",
    "sat2map": "satellite photo -> map",
    "map2sat": "map -> satellite photo",
    "facades_label2photo": "label map -> facade photo",
    "day2night": "day photo -> night photo",
}

SETTINGS = {"num_downs": 8, "ngf": 64, "norm": "batch", "use_dropout": True}
ENTRIES = junyanz_zoo("pix2pix", "pix2pix", MODELS, "pix2pix/models-pytorch", 217.6, PAPER, SETTINGS)


@register_family("pix2pix", ENTRIES)
def convert(files: dict[str, Path], settings: dict[str, Any], name: str) -> Stylizer:
    """The zoo's ``<model>.pth`` in a :class:`~gan_style.nets.UnetGenerator` of ``settings``, run as the paper tests."""
    return Pix2PixStylizer(load_published(UnetGenerator(**settings), files["generator"], name))
