"""Loss registry and the losses registered in it: importing this package imports every loss module, so
:func:`list_losses` names every loss of gan-style (``patchnce`` included, without importing CUT first).

>>> from gan_style.losses import create_loss, list_losses
>>> create_loss("gan", gan_mode="lsgan")
GANLoss(gan_mode='lsgan')
"""

from gan_style.losses.adversarial import GAN_MODES, GANLoss, gradient_penalty, r1_penalty
from gan_style.losses.latent import GaussianKLLoss, LatentL1Loss
from gan_style.losses.patchnce import PatchNCELoss
from gan_style.losses.perceptual import (
    ContentLoss,
    GramStyleLoss,
    MeanStdStyleLoss,
    TotalVariationLoss,
    gram_matrix,
    mean_std,
)
from gan_style.losses.pixel import L1Loss, MSELoss
from gan_style.losses.registry import LOSSES, create_loss, list_losses, register_loss

__all__ = [
    "LOSSES",
    "register_loss",
    "create_loss",
    "list_losses",
    "GANLoss",
    "GAN_MODES",
    "gradient_penalty",
    "r1_penalty",
    "L1Loss",
    "MSELoss",
    "PatchNCELoss",
    "ContentLoss",
    "GramStyleLoss",
    "MeanStdStyleLoss",
    "TotalVariationLoss",
    "gram_matrix",
    "mean_std",
    "GaussianKLLoss",
    "LatentL1Loss",
]
