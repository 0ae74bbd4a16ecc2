"""Loading the published weights of the CycleGAN/pix2pix reference code (``latest_net_G.pth``, ...)."""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch
from torch import Tensor, nn

from gan_style.errors import UnreadableFileError
from gan_style.io.untrusted import safe_load

__all__ = ["load_reference_state_dict", "read_weights_file"]

_LEGACY_NORM_KEYS = ("running_mean", "running_var", "num_batches_tracked")


def read_weights_file(path: str | os.PathLike) -> dict[str, Tensor]:
    """Read a state dict from ``path`` with ``torch.load(weights_only=True)`` onto the CPU.

    Raises:
        FileMissingError: the file does not exist (a ``FileNotFoundError``).
        UnsafeFileError: the file holds a pickle that would run code (refused by ``weights_only``).
        UnreadableFileError: the file is truncated, corrupt, not a PyTorch file, or not a mapping of names
            to tensors (all ``ValueError``).
    """
    path = os.fspath(path)
    state = safe_load(path, what="weights file")
    if not isinstance(state, Mapping) or not all(isinstance(v, Tensor) for v in state.values()):
        raise UnreadableFileError(f"weights file '{path}' does not hold a state dict (a mapping of names to tensors)")
    return dict(state)


def load_reference_state_dict(
    net: nn.Module, source: str | os.PathLike | Mapping[str, Tensor], strict: bool = True
) -> nn.Module:
    """Load reference-code weights into ``net`` (in place) and return ``net``.

    ``source`` is a file path (read with ``weights_only=True``) or a state dict. A ``module.`` prefix
    (weights saved from ``DataParallel``) is stripped, and the running-statistics keys that PyTorch < 0.4
    wrote for ``InstanceNorm2d`` layers are dropped when the layer keeps no running statistics, as the
    reference code does when it loads them. A batch-norm layer saved without ``num_batches_tracked`` (PyTorch
    <= 0.4.0) gets 0, as ``load_state_dict`` gives it.

    Raises:
        FileNotFoundError / ValueError: see :func:`read_weights_file`.
        ValueError: the keys or shapes do not fit ``net`` (the message lists them; the usual cause is a
            different architecture, e.g. ``n_blocks`` 6 vs 9, ``norm`` or ``ngf``).
    """
    name = os.fspath(source) if isinstance(source, (str, os.PathLike)) else "<state dict>"
    state = read_weights_file(source) if isinstance(source, (str, os.PathLike)) else dict(source)
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module.") :]: v for k, v in state.items()}
    modules = dict(net.named_modules())
    for key in list(state):
        prefix, _, leaf = key.rpartition(".")
        module = modules.get(prefix)
        if leaf in _LEGACY_NORM_KEYS and isinstance(module, nn.InstanceNorm2d) and not module.track_running_stats:
            del state[key]
    expected = net.state_dict()
    for key in expected:  # files saved by PyTorch <= 0.4.0 have no batch-norm step counter: PyTorch fills in 0
        prefix, _, leaf = key.rpartition(".")
        if (
            leaf == "num_batches_tracked"
            and key not in state
            and isinstance(modules.get(prefix), nn.modules.batchnorm._BatchNorm)
            and f"{prefix}.running_mean" in state
        ):
            state[key] = torch.zeros_like(expected[key])
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [
        f"{k}: file {tuple(state[k].shape)} vs network {tuple(expected[k].shape)}"
        for k in expected
        if k in state and state[k].shape != expected[k].shape
    ]
    if mismatched or (strict and (missing or unexpected)):
        details = []
        if missing:
            details.append(f"missing keys ({len(missing)}): {', '.join(missing[:8])}")
        if unexpected:
            details.append(f"unexpected keys ({len(unexpected)}): {', '.join(unexpected[:8])}")
        if mismatched:
            details.append(f"shape mismatches ({len(mismatched)}): {'; '.join(mismatched[:4])}")
        raise ValueError(
            f"weights {name!r} do not fit {type(net).__name__}: {' | '.join(details)}. Check that the network "
            "settings (n_blocks, ngf, norm, n_layers, input_nc) match the ones the file was trained with."
        )
    net.load_state_dict(state, strict=strict)
    return net
