"""The inference side: the contract every method hands out (:class:`Stylizer`) and the consumers built on
it (tiles, export, ``gan-style stylize``), between ``gan_style.methods`` and ``gan_style.commands``.

- :mod:`~gan_style.inference.stylizer`: :class:`Stylizer`, :class:`GeneratorStylizer`, :class:`TilePlan`,
  :class:`ExportModule`, :func:`size_multiple_of`;
- :mod:`~gan_style.inference.tiling`: :func:`tiled_apply` and :func:`stylize_tiled` (large images in
  overlapping tiles, blended without seams, normalized with whole-image statistics);
- :mod:`~gan_style.inference.color`: colour preservation (luminance transfer, colour histogram matching).
"""

from gan_style.inference.stylizer import (
    CONTROLS,
    ExportModule,
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
    "GeneratorStylizer",
    "ImageToImageExport",
    "Stylizer",
    "TilePlan",
    "size_multiple_of",
    "stylize_tiled",
    "tiled_apply",
]
