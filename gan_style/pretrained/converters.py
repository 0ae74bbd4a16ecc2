"""The converters of published layouts: ``CONVERTERS`` maps a family to the function that turns its downloaded
files into gan-style's networks, wrapped in the method's :class:`~gan_style.inference.Stylizer`. Each converter
lives with its family's catalogue entries in :mod:`gan_style.pretrained.families` (one module per family,
registered with :func:`~gan_style.pretrained.registry.register_family`); :func:`load_published` is what they share.

Nothing here imports the training code (Lightning, :mod:`gan_style.methods`): a published model runs without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from torch import Tensor, nn

from gan_style.errors import GanStyleError, UnreadableFileError
from gan_style.nets.reference import load_reference_state_dict
from gan_style.pretrained.registry import CONVERTERS, Converter

__all__ = ["CONVERTERS", "Converter", "load_published"]


def load_published(net: nn.Module, path: Path, name: str, state: Mapping[str, Tensor] | None = None) -> nn.Module:
    """``net`` with the weights of the published file ``path`` (or of ``state``, read from it and renamed),
    through :func:`gan_style.nets.load_reference_state_dict` (legacy instance-norm statistics keys dropped).

    Raises:
        UnreadableFileError: a file without the layout of the published ``name`` (the message says to delete it
            to download it again); the errors of an unsafe, unreadable or missing file, with their own messages.
    """
    try:
        return load_reference_state_dict(net, state if state is not None else path)
    except GanStyleError:  # unsafe, unreadable or missing file: its own message
        raise
    except ValueError as err:
        raise UnreadableFileError(
            f"'{path}' does not have the layout of the published {name} ({err}); delete it to download it again"
        ) from None
