"""gan-style: neural style transfer and image-to-image translation as PyTorch Lightning modules.

``gan_style.from_pretrained(name)`` gives a published model as a ready-to-run stylizer
(:func:`gan_style.pretrained.from_pretrained`); the rest lives in the subpackages (``gan_style.methods``,
``gan_style.data``, ``gan_style.nets`` ...). Importing ``gan_style`` itself loads nothing heavy.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "from_pretrained"]


def from_pretrained(name: str, device: Any = "cpu", progress: bool = True) -> Any:
    """A published model as a ready-to-run :class:`~gan_style.inference.Stylizer`; see
    :func:`gan_style.pretrained.from_pretrained` (same arguments: ``name``, ``device`` "cpu", ``progress`` True)."""
    from gan_style.pretrained import from_pretrained as load

    return load(name, device=device, progress=progress)
