"""gan-style: neural style transfer and image-to-image translation as PyTorch Lightning modules.

``gan_style.load(checkpoint_or_name)`` gives a model to call on images (file paths, PIL images, NumPy arrays,
tensors; :func:`gan_style.pipeline.load`); ``gan_style.from_pretrained(name)`` gives a published model's
stylizer module (:func:`gan_style.pretrained.from_pretrained`); the rest lives in the subpackages (``gan_style.methods``,
``gan_style.data``, ``gan_style.nets`` ...). Importing ``gan_style`` itself loads nothing heavy.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "from_pretrained", "load"]


def from_pretrained(name: str, device: Any = "cpu", progress: bool = True) -> Any:
    """A published model as a ready-to-run :class:`~gan_style.inference.Stylizer`; see
    :func:`gan_style.pretrained.from_pretrained` (same arguments: ``name``, ``device`` "cpu", ``progress`` True)."""
    from gan_style.pretrained import from_pretrained as load

    return load(name, device=device, progress=progress)


def load(source: Any, network: str | None = None, device: Any = "cpu") -> Any:
    """A model to call on images: ``gan_style.load("horse2zebra")("horse.jpg")``; see :func:`gan_style.pipeline.load`
    (same arguments: ``source``, ``network`` None, ``device`` "cpu")."""
    from gan_style.pipeline import load as load_pipeline

    return load_pipeline(source, network=network, device=device)
