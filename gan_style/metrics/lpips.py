"""LPIPS networks (Zhang et al. 2018, "The Unreasonable Effectiveness of Deep Features as a Perceptual
Metric") from torchmetrics, with the ImageNet backbone weights kept in the torch hub cache.

torchmetrics' ``LearnedPerceptualImagePatchSimilarity`` ships the learned linear layers (LPIPS v0.1) and
takes the backbone from torchvision's ImageNet weights, the same files the reference ``lpips`` package
uses, so values match it. The backbone file is downloaded once into ``$TORCH_HOME/hub/checkpoints``:

=========  ==============================  =======
net        file                            size
=========  ==============================  =======
alex       ``alexnet-owt-7be5be79.pth``    233 MB
vgg        ``vgg16-397923af.pth``          528 MB
squeeze    ``squeezenet1_1-b8a52dc0.pth``  5 MB
=========  ==============================  =======
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import torch
from torch import nn

from gan_style.errors import WeightsUnavailableError
from gan_style.nets.reference import read_weights_file

__all__ = ["LPIPS_NETS", "create_lpips_network", "lpips_backbone_path", "lpips_backbone_url"]

LPIPS_NETS = ("alex", "vgg", "squeeze")
"""Backbones LPIPS supports; ``alex`` is the paper's recommended (and ArtFID's) choice."""

_WEIGHTS = {"alex": "AlexNet_Weights", "vgg": "VGG16_Weights", "squeeze": "SqueezeNet1_1_Weights"}
_SIZES = {"alex": "233 MB", "vgg": "528 MB", "squeeze": "5 MB"}
_HASH = re.compile(r"-([a-f0-9]*)\.")  # torchvision file names end in the first digits of their SHA-256


def _check_net(net: str) -> None:
    if net not in LPIPS_NETS:
        raise ValueError(f"unknown LPIPS network {net!r}; use one of {', '.join(LPIPS_NETS)}")


def lpips_backbone_url(net: Literal["alex", "vgg", "squeeze"] = "alex") -> str:
    """URL of torchvision's ImageNet weights that LPIPS with backbone ``net`` uses."""
    import torchvision

    _check_net(net)
    return getattr(torchvision.models, _WEIGHTS[net]).IMAGENET1K_V1.url


def lpips_backbone_path(net: Literal["alex", "vgg", "squeeze"] = "alex") -> Path:
    """Where the backbone weights of LPIPS ``net`` live in the torch hub cache."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(lpips_backbone_url(net))


def create_lpips_network(net: Literal["alex", "vgg", "squeeze"] = "alex") -> nn.Module:
    """The frozen LPIPS network of torchmetrics, backbone weights from the hub cache (downloaded once).

    The returned module maps two image batches (N, 3, H, W) in [-1, 1] (same shape) to (N, 1, 1, 1)
    distances: 0 for identical images, larger for perceptually more different ones (typically 0 to ~0.8,
    not bounded by 1). It stays in eval mode and has no trainable parameters.

    Raises:
        ValueError: an unknown ``net``.
        WeightsUnavailableError: the backbone file is not cached and cannot be downloaded; the message names
            the file, its URL and where to put it.
        UnsafeFileError / UnreadableFileError: the cached file would run code or is corrupt.
    """
    from torchmetrics.image.lpip import LearnedPerceptualImagePatchSimilarity

    _check_net(net)
    url = lpips_backbone_url(net)
    path = lpips_backbone_path(net)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            match = _HASH.search(path.name)
            torch.hub.download_url_to_file(url, str(path), hash_prefix=match.group(1) if match else None)
        except Exception as exc:  # URLError, timeouts, HTTP errors, a wrong checksum, a full disk
            raise WeightsUnavailableError(
                f"the ImageNet weights of the LPIPS '{net}' backbone ({path.name}, {_SIZES[net]}) are not in the "
                f"torch hub cache and could not be downloaded from {url} ({type(exc).__name__}: {exc}). Download "
                f"that file on a machine with internet access and copy it to {path} (the cache folder follows "
                "$TORCH_HOME)"
            ) from None
    elif torch.__version__ < (2, 6):  # these load hub files with weights_only=False: check the file first
        read_weights_file(path)
    metric = LearnedPerceptualImagePatchSimilarity(net_type=net, reduction="none")
    network = metric.net
    network.requires_grad_(False)
    return network.eval()
