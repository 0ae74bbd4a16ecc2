"""AdaIN's published model (pytorch-AdaIN's release) and its converter.

Layout: ``decoder.pth`` into :class:`gan_style.nets.AdaINDecoder` and ``vgg_normalised.pth`` into the normalised
VGG-19 encoder it was trained with (:class:`gan_style.nets.VGGFeatures`, ``layout="adain"``), run by
:class:`gan_style.inference.adain.AdaINStylizer`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from gan_style.errors import GanStyleError, UnreadableFileError
from gan_style.inference.adain import AdaINStylizer
from gan_style.inference.stylizer import Stylizer
from gan_style.nets import AdaINDecoder, VGGFeatures
from gan_style.pretrained.converters import load_published
from gan_style.pretrained.registry import PretrainedModel, PublishedFile, register_family

__all__ = ["ENTRIES", "convert"]

PAPER = "Huang, Belongie. Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization. ICCV 2017 (arXiv:1703.06868)"
RELEASE = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0"

ENTRIES = [
    PretrainedModel(
        name="adain/coco_wikiart",
        family="adain",
        method="AdaIN",
        task="any style image (arbitrary style transfer; trained on MS-COCO photos and WikiArt paintings)",
        files={
            "decoder": PublishedFile(f"{RELEASE}/decoder.pth", size_mb=14.0),
            "encoder": PublishedFile(f"{RELEASE}/vgg_normalised.pth", size_mb=80.1),
        },
        settings={"encoder_layout": "adain"},
        input_size=256,
        input_range="[0, 1]",
        takes_style=True,
        licence="MIT (pytorch-AdaIN)",
        paper=PAPER,
        source="https://github.com/naoto0804/pytorch-AdaIN",
    )
]


@register_family("adain", ENTRIES)
def convert(files: dict[str, Path], settings: dict[str, Any], name: str) -> Stylizer:
    """``encoder`` (``vgg_normalised.pth``) and ``decoder`` (``decoder.pth``) in an :class:`AdaINStylizer`.

    Raises:
        UnreadableFileError: an encoder file that is not the normalised VGG-19, or a decoder of another layout.
    """
    try:
        encoder = VGGFeatures(["relu4_1"], weights=os.fspath(files["encoder"]), layout=settings["encoder_layout"])
    except GanStyleError:
        raise
    except ValueError as err:
        raise UnreadableFileError(
            f"'{files['encoder']}' is not the normalised VGG-19 the published AdaIN decoder was trained with "
            f"({err}); delete it to download it again"
        ) from None
    return AdaINStylizer(encoder, load_published(AdaINDecoder(), files["decoder"], name))
