"""Plain ``nn.Module`` networks; they know nothing about training."""

from __future__ import annotations

import torch

from gan_style.nets.adain import AdaINDecoder, adaptive_instance_norm, masked_adaptive_instance_norm
from gan_style.nets.init import INIT_TYPES, init_weights
from gan_style.nets.norm import NORMS, norm_layer
from gan_style.nets.patchgan import NLayerDiscriminator, PixelDiscriminator, receptive_field
from gan_style.nets.reference import load_reference_state_dict, read_weights_file
from gan_style.nets.resnet_generator import ResnetBlock, ResnetGenerator
from gan_style.nets.transformation import TransformationNetwork
from gan_style.nets.unet_generator import UnetGenerator, UnetSkipConnectionBlock
from gan_style.nets.vgg import VGG19_LAYERS, VGGFeatures, WeightsUnavailableError


def size_multiple(module: torch.nn.Module) -> int:
    """What image height and width must be multiples of for the generators inside ``module``.

    2^num_downs for a :class:`UnetGenerator` (256 for unet_256), 4 for a :class:`ResnetGenerator` (two
    stride-2 levels and transposed convolutions), the largest over all generators found; 1 when there is none
    (the transformation network and AdaIN return the input size themselves).
    """
    multiple = 1
    for net in module.modules():
        if isinstance(net, UnetGenerator):
            multiple = max(multiple, 2**net.num_downs)
        elif isinstance(net, ResnetGenerator):
            multiple = max(multiple, 4)
    return multiple


__all__ = [
    "AdaINDecoder",
    "adaptive_instance_norm",
    "masked_adaptive_instance_norm",
    "INIT_TYPES",
    "NORMS",
    "init_weights",
    "norm_layer",
    "ResnetGenerator",
    "ResnetBlock",
    "TransformationNetwork",
    "UnetGenerator",
    "UnetSkipConnectionBlock",
    "VGG19_LAYERS",
    "VGGFeatures",
    "WeightsUnavailableError",
    "NLayerDiscriminator",
    "PixelDiscriminator",
    "receptive_field",
    "load_reference_state_dict",
    "read_weights_file",
    "size_multiple",
]
