"""Normalization layers by name, as used by the image-to-image networks."""

from __future__ import annotations

from typing import Literal

from torch import nn

__all__ = ["NORMS", "NormType", "norm_layer", "uses_bias"]

NORMS = ("batch", "instance", "none")
NormType = Literal["batch", "instance", "none"]


def norm_layer(norm: NormType, num_features: int) -> nn.Module:
    """A 2-d normalization layer for ``num_features`` channels.

    ``batch``: ``BatchNorm2d`` (affine, running statistics); ``instance``: ``InstanceNorm2d`` without
    affine parameters or running statistics (as in the CycleGAN/pix2pix code, so the layer has no entries
    in a state dict); ``none``: ``Identity``.

    Raises:
        ValueError: for an unknown ``norm``.
    """
    if norm == "batch":
        return nn.BatchNorm2d(num_features, affine=True, track_running_stats=True)
    if norm == "instance":
        return nn.InstanceNorm2d(num_features, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm {norm!r} is not supported; choose one of {', '.join(NORMS)}")


def uses_bias(norm: NormType) -> bool:
    """Whether a convolution followed by ``norm`` needs its own bias (batch norm already has one).

    This matches the reference checkpoints for ``batch`` and ``instance``; with ``none`` the convolutions
    keep their bias (the reference code drops it there).
    """
    return norm != "batch"
