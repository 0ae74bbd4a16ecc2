"""The web demo behind ``gan-style demo``: a Gradio page to try any model given on the command line.

- :mod:`~gan_style.demo.models`: :class:`DemoModel` and :func:`load_models` (checkpoints, published models, Gatys);
- :mod:`~gan_style.demo.runner`: :class:`ModelRunner`, one model call at a time, cancellable per visitor;
- :mod:`~gan_style.demo.inference`: :func:`stylize_image`, one decoded image through a stylizer with the steps of
  ``gan-style stylize``; for models trained on other data than 8-bit RGB (:func:`reads_data`), the display of their
  files through the declared display mapping (:func:`show_input`, :func:`show_output`, :func:`parse_bands`);
- :mod:`gan_style.demo.app`: :func:`~gan_style.demo.app.build_demo`, the page (imports Gradio, the ``demo`` extra:
  ``pip install "gan-style[demo]"``).

Importing this package does not import Gradio.
"""

from gan_style.demo.inference import (
    describe_data,
    mask_tensors,
    parse_bands,
    reads_data,
    resolve_size,
    show_input,
    show_output,
    stylize_image,
    to_png,
)
from gan_style.demo.models import DemoModel, find_checkpoint, load_models
from gan_style.demo.runner import ModelRunner, RunCancelled

__all__ = [
    "DemoModel",
    "ModelRunner",
    "RunCancelled",
    "describe_data",
    "find_checkpoint",
    "load_models",
    "mask_tensors",
    "parse_bands",
    "reads_data",
    "resolve_size",
    "show_input",
    "show_output",
    "stylize_image",
    "to_png",
]
