"""The inference side: the contract every method hands out (:class:`Stylizer`) and the consumers built on
it (tiles, export, ``gan-style stylize``), between ``gan_style.methods`` and ``gan_style.commands``.

- :mod:`~gan_style.inference.stylizer`: :class:`Stylizer`, :class:`GeneratorStylizer`, :class:`TilePlan`,
  :class:`FramePlan`, :class:`ExportModule`, :func:`size_multiple_of`;
- :mod:`~gan_style.inference.tiling`: :func:`tiled_apply` and :func:`stylize_tiled` (large images in
  overlapping tiles, blended without seams, normalized with whole-image statistics);
- :mod:`~gan_style.inference.video` (decode, stylize and encode clips, streaming),
  :mod:`~gan_style.inference.temporal` (statistics along time, optical-flow blending, the warping error) and
  :mod:`~gan_style.inference.fast` (the fast inference path: channels-last, inference mode, autocast, ONNX
  Runtime, ``torch.compile``), imported on use (they need the ``video`` extra or optional packages);
- :mod:`~gan_style.inference.color`: colour preservation (luminance transfer, colour histogram matching).
"""

from gan_style.inference.stylizer import (
    CONTROLS,
    ExportModule,
    FramePlan,
    GeneratorStylizer,
    ImageToImageExport,
    Stylizer,
    TilePlan,
    size_multiple_of,
)
from gan_style.inference.tiling import stylize_tiled, tiled_apply

__all__ = [
    "CONTROLS",
    "ExportModule",
    "FramePlan",
    "GeneratorStylizer",
    "ImageToImageExport",
    "Stylizer",
    "TilePlan",
    "size_multiple_of",
    "stylize_tiled",
    "tiled_apply",
]
