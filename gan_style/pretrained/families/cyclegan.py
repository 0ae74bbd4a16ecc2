"""CycleGAN's published generators (the model zoo of pytorch-CycleGAN-and-pix2pix) and their converter.

Layout: the reference code's ``ResnetGenerator`` state dict (``<model>.pth``; the keys of
:class:`gan_style.nets.ResnetGenerator`; the legacy InstanceNorm running-statistics keys are dropped), run in a
:class:`~gan_style.inference.GeneratorStylizer`. :func:`junyanz_zoo` also builds the pix2pix zoo's entries, published
by the same project in the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gan_style.inference.stylizer import GeneratorStylizer, Stylizer
from gan_style.nets import ResnetGenerator
from gan_style.pretrained.converters import load_published
from gan_style.pretrained.registry import PretrainedModel, PublishedFile, register_family

__all__ = ["ENTRIES", "convert", "junyanz_zoo"]

JUNYANZ = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"
JUNYANZ_LICENCE = "BSD (pytorch-CycleGAN-and-pix2pix)"
PAPER = "Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks. ICCV 2017 (arXiv:1703.10593)"

#: model -> what it translates. One ResNet generator each (9 blocks, instance norm, no dropout: the reference
#: ``test.py --model test --no_dropout``), trained on 256x256 crops.
MODELS = {
    "apple2orange": "apple -> orange",
    "orange2apple": "orange -> apple",
    "summer2winter_yosemite": "summer -> winter (Yosemite)",
    "winter2summer_yosemite": "winter -> summer (Yosemite)",
    "horse2zebra": "horse -> zebra",
    "zebra2horse": "zebra -> horse",
    "monet2photo": "Monet painting -> photo",
    "style_monet": "photo -> Monet painting",
    "style_cezanne": "photo -> Cezanne painting",
    "style_ukiyoe": "photo -> Ukiyo-e print",
    "style_vangogh": "photo -> Van Gogh painting",
    "sat2map": "satellite photo -> map",
    "map2sat": "map -> satellite photo",
    "cityscapes_photo2label": "street photo -> label map (Cityscapes)",
    "cityscapes_label2photo": "label map -> street photo (Cityscapes)",
    "facades_photo2label": "facade photo -> label map",
    "facades_label2photo": "label map -> facade photo",
    "iphone2dslr_flower": "iPhone flower photo -> DSLR (shallow depth of field)",
}


def junyanz_zoo(
    family: str, method: str, models: dict[str, str], folder: str, size_mb: float, paper: str, settings: dict[str, Any]
) -> list[PretrainedModel]:
    """The entries of a pytorch-CycleGAN-and-pix2pix zoo: one generator file per model,
    ``http://efrosgans.eecs.berkeley.edu/<folder>/<model>.pth``."""
    return [
        PretrainedModel(
            name=f"{family}/{model}",
            family=family,
            method=method,
            task=task,
            files={
                "generator": PublishedFile(f"http://efrosgans.eecs.berkeley.edu/{folder}/{model}.pth", size_mb=size_mb)
            },
            settings=dict(settings),
            licence=JUNYANZ_LICENCE,
            paper=paper,
            source=JUNYANZ,
        )
        for model, task in models.items()
    ]


SETTINGS = {"n_blocks": 9, "ngf": 64, "norm": "instance", "use_dropout": False}
ENTRIES = junyanz_zoo("cyclegan", "CycleGAN", MODELS, "cyclegan/pretrained_models", 45.5, PAPER, SETTINGS)


@register_family("cyclegan", ENTRIES)
def convert(files: dict[str, Path], settings: dict[str, Any], name: str) -> Stylizer:
    """The zoo's ``<model>.pth`` in a :class:`~gan_style.nets.ResnetGenerator` of ``settings``."""
    net = ResnetGenerator(**settings)
    return GeneratorStylizer(load_published(net, files["generator"], name), name=f"{name} (CycleGAN generator)")
