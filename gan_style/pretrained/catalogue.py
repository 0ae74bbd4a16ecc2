"""The catalogue of published models: one :class:`PretrainedModel` per name, in the manner of timm's
``pretrained_cfg``: where each file is published, its checksum where the publisher gives one, the licence,
the paper, the network settings the file needs, and the input size and range the model was trained with.

Names are ``<family>/<model>`` (``cyclegan/horse2zebra``); the model part alone is accepted where only one
family has it (``horse2zebra``, but not ``sat2map``, which CycleGAN and pix2pix both publish).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gan_style.errors import DownloadSettingError

__all__ = ["CATALOGUE", "PretrainedModel", "PublishedFile", "list_pretrained", "resolve_pretrained"]


@dataclass(frozen=True)
class PublishedFile:
    """One file as its publisher serves it.

    Attributes:
        url: the official address.
        sha256: the publisher's sha256, or None where none is published (then the one computed on the first
            download is printed, to pin it with ``--sha256`` or in a mirror).
        size_mb: approximate size in megabytes (10^6 bytes), from the network's parameter count; shown in
            listings, not checked.
        member: for an archive, the file inside it that this model uses (None: the file itself).
    """

    url: str
    sha256: str | None = None
    size_mb: float | None = None
    member: str | None = None

    @property
    def filename(self) -> str:
        """The file name in the cache: the URL's last path component without its query."""
        return self.url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class PretrainedModel:
    """A published model and what it takes to run it.

    Attributes:
        name: ``<family>/<model>``, e.g. ``cyclegan/horse2zebra``.
        family: ``cyclegan``, ``pix2pix``, ``adain``, ``fast_neural_style`` or ``cut``; also the converter that builds the
            stylizer (:mod:`gan_style.pretrained.converters`) and the cache subfolder.
        method: the method in words (``CycleGAN``).
        task: what it does, e.g. ``horse -> zebra``.
        files: role -> :class:`PublishedFile` (``generator``; AdaIN: ``decoder`` and ``encoder``).
        settings: the network settings the files need (``{"n_blocks": 9, "norm": "instance"}``).
        input_size: the image size (pixels, square crops) it was trained at.
        input_range: the pixel range of the original code's input (``[-1, 1]``, ``[0, 1]``, ``[0, 255]``);
            gan-style always takes [-1, 1] and converts.
        takes_style: whether it needs style images (AdaIN: any style; the others: the style is in the weights).
        licence: the licence of the published code and weights (the training images have their own terms).
        paper: the paper the model follows.
        source: the project that publishes it.
    """

    name: str
    family: str
    method: str
    task: str
    files: dict[str, PublishedFile]
    settings: dict[str, Any] = field(default_factory=dict)
    input_size: int = 256
    input_range: str = "[-1, 1]"
    takes_style: bool = False
    licence: str = ""
    paper: str = ""
    source: str = ""

    @property
    def short_name(self) -> str:
        return self.name.split("/", 1)[1]

    @property
    def size_mb(self) -> float:
        """Approximate download size in megabytes (all files; an archive counts once)."""
        seen: dict[str, float] = {}
        for f in self.files.values():
            seen[f.url] = f.size_mb or 0.0
        return sum(seen.values())


# --- the published files ------------------------------------------------------------------------------------

_JUNYANZ = "https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix"
_JUNYANZ_LICENCE = "BSD (pytorch-CycleGAN-and-pix2pix)"
_CYCLEGAN_PAPER = "Zhu, Park, Isola, Efros. Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial Networks. ICCV 2017 (arXiv:1703.10593)"
_PIX2PIX_PAPER = "Isola, Zhu, Zhou, Efros. Image-to-Image Translation with Conditional Adversarial Networks. CVPR 2017 (arXiv:1611.07004)"
_ADAIN_PAPER = "Huang, Belongie. Arbitrary Style Transfer in Real-time with Adaptive Instance Normalization. ICCV 2017 (arXiv:1703.06868)"
_JOHNSON_PAPER = (
    "Johnson, Alahi, Fei-Fei. Perceptual Losses for Real-Time Style Transfer and Super-Resolution. ECCV 2016 "
    "(arXiv:1603.08155), with instance normalization (Ulyanov, Vedaldi, Lempitsky 2016, arXiv:1607.08022)"
)

#: CycleGAN zoo: model -> what it translates. One ResNet generator each (9 blocks, instance norm, no dropout:
#: the reference ``test.py --model test --no_dropout``), trained on 256x256 crops.
_CYCLEGAN = {
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

#: pix2pix zoo: model -> what it translates. One U-Net 256 generator each (batch norm, dropout), trained on
#: 256x256 crops; the reference ``test.py`` runs it with test-batch statistics and dropout on.
_PIX2PIX = {
    "edges2shoes": "edge map -> shoe photo",
    "sat2map": "satellite photo -> map",
    "map2sat": "map -> satellite photo",
    "facades_label2photo": "label map -> facade photo",
    "day2night": "day photo -> night photo",
}

_FAST_NEURAL_STYLE = {
    "candy": "the style of 'candy'",
    "mosaic": "the style of 'mosaic'",
    "rain_princess": "the style of Leonid Afremov's 'Rain Princess'",
    "udnie": "the style of Francis Picabia's 'Udnie'",
}


_CUT_PAPER = "Park, Efros, Zhang, Zhu. Contrastive Learning for Unpaired Image-to-Image Translation. ECCV 2020 (arXiv:2007.15651)"

#: CUT zoo (the six models of pretrained_models.tar): model -> what it translates. Cityscapes runs BtoA in the
#: authors' launcher (label map -> photo); trained on 256x256 crops.
_CUT = {
    "horse2zebra_cut": "horse -> zebra",
    "horse2zebra_fastcut": "horse -> zebra",
    "cat2dog_cut": "cat -> dog (AFHQ)",
    "cat2dog_fastcut": "cat -> dog (AFHQ)",
    "cityscapes_cut": "label map -> street photo (Cityscapes)",
    "cityscapes_fastcut": "label map -> street photo (Cityscapes)",
}


def _build() -> dict[str, PretrainedModel]:
    entries: list[PretrainedModel] = []
    # the two zoos of pytorch-CycleGAN-and-pix2pix: one generator file per model
    zoos = [
        ("cyclegan", "CycleGAN", _CYCLEGAN, "cyclegan/pretrained_models", 45.5, _CYCLEGAN_PAPER,
         {"n_blocks": 9, "ngf": 64, "norm": "instance", "use_dropout": False}),
        ("pix2pix", "pix2pix", _PIX2PIX, "pix2pix/models-pytorch", 217.6, _PIX2PIX_PAPER,
         {"num_downs": 8, "ngf": 64, "norm": "batch", "use_dropout": True}),
    ]  # fmt: skip
    for family, method, models, folder, size_mb, paper, settings in zoos:
        for model, task in models.items():
            url = f"http://efrosgans.eecs.berkeley.edu/{folder}/{model}.pth"
            entries.append(
                PretrainedModel(
                    name=f"{family}/{model}",
                    family=family,
                    method=method,
                    task=task,
                    files={"generator": PublishedFile(url, size_mb=size_mb)},
                    settings=dict(settings),
                    licence=_JUNYANZ_LICENCE,
                    paper=paper,
                    source=_JUNYANZ,
                )
            )
    release = "https://github.com/naoto0804/pytorch-AdaIN/releases/download/v0.0.0"
    entries.append(
        PretrainedModel(
            name="adain/coco_wikiart",
            family="adain",
            method="AdaIN",
            task="any style image (arbitrary style transfer; trained on MS-COCO photos and WikiArt paintings)",
            files={
                "decoder": PublishedFile(f"{release}/decoder.pth", size_mb=14.0),
                "encoder": PublishedFile(f"{release}/vgg_normalised.pth", size_mb=80.1),
            },
            settings={"encoder_layout": "adain"},
            input_size=256,
            input_range="[0, 1]",
            takes_style=True,
            licence="MIT (pytorch-AdaIN)",
            paper=_ADAIN_PAPER,
            source="https://github.com/naoto0804/pytorch-AdaIN",
        )
    )
    archive = "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"
    for model, task in _FAST_NEURAL_STYLE.items():
        entries.append(
            PretrainedModel(
                name=f"fast_neural_style/{model}",
                family="fast_neural_style",
                method="fast neural style (Johnson network)",
                task=task,
                files={"generator": PublishedFile(archive, size_mb=26.9, member=f"saved_models/{model}.pth")},
                settings={"channels": 32, "n_residual": 5},
                input_range="[0, 255]",
                licence="BSD-3-Clause (pytorch/examples)",
                paper=_JOHNSON_PAPER,
                source="https://github.com/pytorch/examples/tree/main/fast_neural_style",
            )
        )
    # CUT / FastCUT (the CUT README's pretrained_models.tar: one archive, a checkpoints/<name>_pretrained/ folder
    # per model holding latest_net_G.pth, the anti-aliased resnet_9blocks generator)
    cut_tar = "http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar"
    for model, task in _CUT.items():
        variant = "FastCUT" if model.endswith("_fastcut") else "CUT"
        entries.append(
            PretrainedModel(
                name=f"cut/{model}",
                family="cut",
                method=variant,
                task=task,
                files={
                    "generator": PublishedFile(
                        cut_tar, size_mb=273.0, member=f"checkpoints/{model}_pretrained/latest_net_G.pth"
                    )
                },
                settings={"n_blocks": 9, "ngf": 64, "norm": "instance", "no_antialias": False},
                licence="BSD (contrastive-unpaired-translation)",
                paper=_CUT_PAPER,
                source="https://github.com/taesungp/contrastive-unpaired-translation",
            )
        )
    return {entry.name: entry for entry in entries}


#: Every published model by its full name.
CATALOGUE: dict[str, PretrainedModel] = _build()


def list_pretrained() -> list[PretrainedModel]:
    """Every catalogue entry, grouped by family in catalogue order."""
    return list(CATALOGUE.values())


def resolve_pretrained(name: str) -> PretrainedModel:
    """The catalogue entry called ``name``: a full name (``cyclegan/horse2zebra``), a model name that only one
    family publishes (``horse2zebra``), or a family that publishes one model (``adain``); case-insensitive,
    ``-`` read as ``_``.

    Raises:
        DownloadSettingError (a ValueError): no such model, or a short name several families publish; the
            message lists the candidates or the close matches.
    """
    import difflib

    key = name.strip().lower().replace("-", "_")
    if key in CATALOGUE:
        return CATALOGUE[key]
    matches = [entry for entry in CATALOGUE.values() if entry.short_name == key]
    family = [entry for entry in CATALOGUE.values() if entry.family == key]
    if not matches and len(family) == 1:
        return family[0]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise DownloadSettingError(
            f"pretrained model '{name}' is published by several families: "
            f"{', '.join(m.name for m in matches)}; give the full name"
        )
    if family:
        raise DownloadSettingError(
            f"'{name}' publishes several models: {', '.join(e.name for e in family)}; give one of them"
        )
    close = difflib.get_close_matches(key, [*CATALOGUE, *{e.short_name for e in CATALOGUE.values()}], n=4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise DownloadSettingError(f"unknown pretrained model '{name}'{hint} (`gan-style pretrained` lists them all)")
