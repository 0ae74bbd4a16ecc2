"""CUT / FastCUT's published generators (the CUT README's ``pretrained_models.tar``) and their converter.

Layout: one archive with a ``checkpoints/<name>_pretrained/`` folder per model holding ``latest_net_G.pth``, the CUT
code's anti-aliased ``resnet_9blocks`` generator state dict (blur ``filt`` buffers included), loaded into
:class:`gan_style.nets.cut.CUTGenerator`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gan_style.inference.stylizer import GeneratorStylizer, Stylizer
from gan_style.nets.cut import CUTGenerator
from gan_style.pretrained.converters import load_published
from gan_style.pretrained.registry import PretrainedModel, PublishedFile, register_family

__all__ = ["ENTRIES", "convert"]

PAPER = "Park, Efros, Zhang, Zhu. Contrastive Learning for Unpaired Image-to-Image Translation. ECCV 2020 (arXiv:2007.15651)"
ARCHIVE = "http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar"

#: The six models of pretrained_models.tar: model -> what it translates. Cityscapes runs BtoA in the authors'
#: launcher (label map -> photo); trained on 256x256 crops.
MODELS = {
    "horse2zebra_cut": "horse -> zebra",
    "horse2zebra_fastcut": "horse -> zebra",
    "cat2dog_cut": "cat -> dog (AFHQ)",
    "cat2dog_fastcut": "cat -> dog (AFHQ)",
    "cityscapes_cut": "label map -> street photo (Cityscapes)",
    "cityscapes_fastcut": "label map -> street photo (Cityscapes)",
}

ENTRIES = [
    PretrainedModel(
        name=f"cut/{model}",
        family="cut",
        method="FastCUT" if model.endswith("_fastcut") else "CUT",
        task=task,
        files={
            "generator": PublishedFile(
                ARCHIVE, size_mb=273.0, member=f"checkpoints/{model}_pretrained/latest_net_G.pth"
            )
        },
        settings={"n_blocks": 9, "ngf": 64, "norm": "instance", "no_antialias": False},
        licence="BSD (contrastive-unpaired-translation)",
        paper=PAPER,
        source="https://github.com/taesungp/contrastive-unpaired-translation",
    )
    for model, task in MODELS.items()
]


@register_family("cut", ENTRIES)
def convert(files: dict[str, Path], settings: dict[str, Any], name: str) -> Stylizer:
    """The archive's ``latest_net_G.pth`` in a :class:`~gan_style.nets.cut.CUTGenerator` of ``settings``."""
    net = CUTGenerator(**settings)
    return GeneratorStylizer(load_published(net, files["generator"], name), name=f"{name} (CUT generator)")
