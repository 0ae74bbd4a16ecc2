"""Plain ``nn.Module`` networks; they know nothing about training."""

from __future__ import annotations

from gan_style.nets.adain import AdaINDecoder, adaptive_instance_norm, masked_adaptive_instance_norm
from gan_style.nets.init import INIT_TYPES, init_weights
from gan_style.nets.norm import NORMS, norm_layer
from gan_style.nets.patchgan import NLayerDiscriminator, PixelDiscriminator, receptive_field
from gan_style.nets.reference import load_reference_state_dict, read_weights_file
from gan_style.nets.resnet_generator import ResnetBlock, ResnetGenerator
from gan_style.nets.transformation import TransformationNetwork
from gan_style.nets.unet_generator import UnetGenerator, UnetSkipConnectionBlock
from gan_style.nets.vgg import VGG16_LAYERS, VGG19_LAYERS, VGGFeatures, WeightsUnavailableError

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
    "VGG16_LAYERS",
    "VGG19_LAYERS",
    "VGGFeatures",
    "WeightsUnavailableError",
    "NLayerDiscriminator",
    "PixelDiscriminator",
    "receptive_field",
    "load_reference_state_dict",
    "read_weights_file",
]
