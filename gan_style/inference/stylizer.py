"""The inference contract: what a method hands out for using a trained model, and what every consumer uses.

A method (a :class:`~gan_style.methods.GanStyleModule`) hands out a :class:`Stylizer` through its public hook
:meth:`~gan_style.methods.GanStyleModule.stylizer`. A stylizer is a plain ``nn.Module`` (the field's
"pipeline" or "inferencer"): it maps content images ``(N, 3, H, W)`` in [-1, 1], plus style images and
controls when the method takes them, to outputs ``(N, C, H, W)`` in [-1, 1], and declares what a caller
needs to know:

=======================  ==================================================================================
attribute / method       meaning
=======================  ==================================================================================
``size_multiple``        H and W of the content must be multiples of this (4 for the ResNet generator,
                         2^num_downs for a U-Net, 1 when the stylizer takes any size)
``tile_multiple``        tiles must be multiples of this (AdaIN: 8, the encoder's three poolings)
``takes_style``          whether style images are required (AdaIN, Gatys) or refused (translation)
``style_optional``       with ``takes_style``: style images may also be left out (MUNIT: an example image's
                         style code, or one drawn at random)
``stochastic``           outputs depend on a random draw (MUNIT's style code), made from the ``seed``
                         control: the same seed gives the same output, seed + k the k-th of several samples
``controls``             the keyword controls it accepts, among :data:`CONTROLS`
``feed_forward``         one network pass per image (tiles, export, video); False for Gatys, which
                         optimizes each image
``resizes_inputs``       True: callers pass images at their original size and the stylizer sizes them
                         (Gatys optimizes at its own sizes); False: callers size them (``size_multiple``)
``input_scaling``        how the files it reads map to [-1, 1] (:class:`gan_style.io.imagery.Scaling`: 16-bit,
                         float, N-band data), recorded by training; None: 8-bit RGB, as every published model
``output_scaling``       how its outputs map back to file values (the same kinds); None: 8-bit RGB
``default_size``         the shorter side (pixels) the model is meant to run at: the size it was trained
                         at (a checkpoint records it), AdaIN's 512 as in the reference test; None: the
                         caller's default
``plan_tiles(...)``      how tiled inference runs it: the per-tile function and how its normalization
                         layers gather the statistics of the whole image (:class:`TilePlan`)
``plan_frames(...)``     how video runs it over a clip's frames in order: the per-batch function and how its
                         normalization layers gather statistics along time (:class:`FramePlan`)
``export_module()``      the module TorchScript / ONNX export traces, with its input names
=======================  ==================================================================================

Consumers (``gan-style stylize`` whole, tiled and on videos, ``export``, ``compare``, predict) take a stylizer and nothing
else: they never ask which method it came from. A method of your own is stylized, tiled and exported once
its ``stylizer()`` returns one of these (for a plain generator, :class:`GeneratorStylizer`).
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

__all__ = [
    "CONTROLS",
    "ExportModule",
    "FramePlan",
    "GeneratorStylizer",
    "ImageToImageExport",
    "Stylizer",
    "TilePlan",
    "size_multiple_of",
]

#: The controls a stylizer may accept (keyword arguments of its ``forward``):
#:
#: - ``alpha``: content-style trade-off in [0, 1] (1: full style; AdaIN Eq. 14);
#: - ``style_weights``: relative weights of several style images (equal by default);
#: - ``masks``: one mask per style, (1, 1, H, W) or (H, W) in [0, 1], where that style applies;
#: - ``preserve_color``: ``"none"``, ``"luminance"`` (keep the content's colours: luminance from the
#:   output, colour from the content) or ``"histogram"`` (recolour the styles like the content first);
#: - ``seed``: an integer >= 0, the seed of a stochastic stylizer's random draws (``stochastic``): the same seed
#:   gives the same output, for every image of a batch, every tile and every frame of a clip.
CONTROLS: tuple[str, ...] = ("alpha", "style_weights", "masks", "preserve_color", "seed")


def size_multiple_of(module: nn.Module) -> int:
    """What image height and width must be multiples of for the networks inside ``module``.

    Networks declare it as an integer attribute ``size_multiple`` (``UnetGenerator``: 2^num_downs,
    ``ResnetGenerator``: 2^n_downsampling = 4); the result is the largest declared by ``module`` or any of
    its submodules, 1 when none declares one.
    """
    multiple = 1
    for net in module.modules():
        declared = getattr(type(net), "size_multiple", None)
        if declared is not None:
            value = net.size_multiple
            if isinstance(value, int) and value > 1:
                multiple = max(multiple, value)
    return multiple


@dataclass
class TilePlan:
    """How tiled inference runs a stylizer on one image (:meth:`Stylizer.plan_tiles`).

    Attributes:
        fn: maps a batch of tiles ``(b, 3, h, w)`` in [-1, 1] (h, w multiples of ``tile_multiple``) to
            outputs ``(b, C, h, w)`` in [-1, 1].
        whole_image_norm: the module whose instance-norm layers (and batch-norm layers in training mode)
            :func:`gan_style.inference.tiling.tiled_apply` switches to statistics of the whole image, gathered
            over the tiles; None when ``fn`` already uses whole-image statistics or none are wanted.
        finish: applied once to the blended ``(1, C, H, W)`` output (None: nothing), e.g. colour
            preservation that needs the whole image.
    """

    fn: Callable[[Tensor], Tensor]
    whole_image_norm: nn.Module | None = None
    finish: Callable[[Tensor], Tensor] | None = None


@dataclass
class FramePlan:
    """How video runs a stylizer over the frames of a clip (:meth:`Stylizer.plan_frames`).

    Attributes:
        fn: maps a batch of consecutive frames ``(b, 3, H, W)`` in [-1, 1] to outputs ``(b, C, H, W)`` in
            [-1, 1]. Called on the clip's batches in order; it may carry state from one call to the next (a
            moving average of normalization statistics), so one plan serves one clip.
        smoothed_norm: the module whose instance-norm layers (and batch-norm layers in training mode)
            :class:`gan_style.inference.temporal.SmoothedNorm` switches to statistics averaged over time while
            ``fn`` runs; None when ``fn`` smooths by itself (AdaIN) or no smoothing is wanted.
        stateless: ``fn`` is the stylizer's own forward on the frames with the given styles and controls and
            keeps no state (True), so a consumer may run the frames through another backend of the same
            network (:mod:`gan_style.inference.fast`) instead; False: ``fn`` must be called as it is.
    """

    fn: Callable[[Tensor], Tensor]
    smoothed_norm: nn.Module | None = None
    stateless: bool = True


class ExportModule(nn.Module, abc.ABC):
    """What TorchScript / ONNX export traces: a module with fixed positional inputs.

    Subclasses set ``input_names`` / ``output_names`` and implement ``forward`` (tensors in, one tensor out),
    :meth:`example_inputs` and :meth:`dynamic_axes`. Every exported model takes and returns float32 images
    in [-1, 1], NCHW.
    """

    input_names: tuple[str, ...] = ("image",)
    output_names: tuple[str, ...] = ("output",)

    @abc.abstractmethod
    def example_inputs(self, batch: int, height: int, width: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        """Random inputs for tracing and for the check: the first is the content ``(batch, C, height, width)``
        in [-1, 1]."""

    @abc.abstractmethod
    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        """ONNX dynamic axes per input and output name (``{"image": {0: "batch", 2: "height", 3: "width"}}``)."""

    def notes(self) -> list[str]:
        """Remarks for the export's metadata file (e.g. a control left out of the graph); empty by default."""
        return []

    def metadata(self) -> dict[str, Any]:
        """Extra entries of the export's metadata file (e.g. ``{"alpha_default": 1.0}``); empty by default."""
        return {}


class ImageToImageExport(ExportModule):
    """Export form of an image-to-image stylizer: ``image`` (N, C, H, W) -> ``output`` (N, C', H, W), both in
    [-1, 1].

    Args:
        stylizer: called as ``stylizer(image)``.
        in_channels: C of the example inputs (None, the default: the first convolution's input channels, else 3).
        notes: remarks for the export's metadata (None: none).
    """

    def __init__(self, stylizer: nn.Module, in_channels: int | None = None, notes: list[str] | None = None) -> None:
        super().__init__()
        self.stylizer = stylizer
        if in_channels is None:
            conv = next((m for m in stylizer.modules() if isinstance(m, nn.Conv2d)), None)
            in_channels = conv.in_channels if conv is not None else 3
        self.in_channels = in_channels
        self._notes = list(notes or [])

    def forward(self, image: Tensor) -> Tensor:
        return self.stylizer(image)

    def example_inputs(self, batch: int, height: int, width: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        return (torch.rand(batch, self.in_channels, height, width, generator=generator) * 2 - 1,)

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        image = {0: "batch", 2: "height", 3: "width"}
        return {"image": image, "output": dict(image)}

    def notes(self) -> list[str]:
        return list(self._notes)


class Stylizer(nn.Module, abc.ABC):
    """Base class of the inference modules methods hand out (see the module docstring for the contract).

    ``forward(content, styles=None, **controls)``:

    - ``content``: ``(N, C, H, W)`` float in [-1, 1] (C = 3 for RGB); H and W multiples of
      :attr:`size_multiple`;
    - ``styles``: a sequence of style images, each ``(1 or N, 3, h, w)`` in [-1, 1], any size; required when
      :attr:`takes_style`, refused otherwise;
    - ``controls``: keyword arguments among :attr:`controls` (see :data:`CONTROLS`); others are refused;

    returns ``(N, C_out, H, W)`` in [-1, 1] (clamped), at the content's size. Gradients are not needed at
    inference: call it under ``torch.no_grad()`` (consumers do).

    Subclasses implement :meth:`run` (abstract); :meth:`forward` checks the inputs (:meth:`check_inputs`) first.
    """

    size_multiple: int = 1
    tile_multiple: int = 1
    takes_style: bool = False
    style_optional: bool = False
    stochastic: bool = False
    input_scaling: Any = None
    output_scaling: Any = None
    controls: tuple[str, ...] = ()
    feed_forward: bool = True
    resizes_inputs: bool = False
    default_size: int | None = None

    def forward(self, content: Tensor, styles: Sequence[Tensor] | None = None, **controls: Any) -> Tensor:
        self.check_inputs(styles, controls)
        return self.run(content, list(styles) if styles else [], **controls)

    @abc.abstractmethod
    def run(self, content: Tensor, styles: list[Tensor], **controls: Any) -> Tensor:
        """The computation: ``content`` (N, C, H, W) in [-1, 1], checked ``styles`` and ``controls`` ->
        (N, C_out, H, W) in [-1, 1]. Every stylizer implements it (an abstract method: a subclass without it
        cannot be built)."""

    def describe(self) -> str:
        """A short name for messages (``"CycleGAN generator_ab"``); the class name by default."""
        return type(self).__name__

    def check_inputs(self, styles: Sequence[Tensor] | None, controls: dict[str, Any]) -> None:
        """Refuse what this stylizer does not take, before any work.

        Raises:
            ValueError: style images missing (``takes_style`` without ``style_optional``) or given to a stylizer
                without style input; a control this stylizer does not accept (the message lists those it does); a
                ``seed`` that is not an integer >= 0.
        """
        if self.takes_style and not styles and not self.style_optional:
            raise ValueError(f"{self.describe()} needs --style images")
        if not self.takes_style and styles:
            raise ValueError(f"{self.describe()} translates images and takes no --style images")
        seed = controls.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"--seed must be an integer >= 0, got {seed!r}")
        unknown = [name for name, value in controls.items() if value is not None and name not in self.controls]
        if unknown:
            accepted = ", ".join(f"--{c}" for c in self.controls) or "none"
            raise ValueError(
                f"{self.describe()} does not take {', '.join(f'--{c}' for c in unknown)} (controls it accepts: "
                f"{accepted})"
            )

    def plan_tiles(
        self,
        content: Tensor,
        styles: Sequence[Tensor] | None = None,
        whole_image_statistics: bool = True,
        tile: int = 512,
        overlap: int = 64,
        device: torch.device | str | None = None,
        **controls: Any,
    ) -> TilePlan:
        """How to run this stylizer tile by tile on ``content`` (1, C, H, W) in [-1, 1] (on any device).

        The default suits a network whose normalization layers are ``nn.InstanceNorm2d`` / ``nn.BatchNorm2d``:
        each tile goes through :meth:`forward`, and with ``whole_image_statistics`` (default True) those
        layers use the statistics of the whole image (``whole_image_norm=self``), as without tiles. A
        stylizer whose normalization works otherwise (AdaIN's content statistics) overrides this.

        Args:
            content: the whole content image.
            styles: style images on ``device`` (None: none).
            whole_image_statistics: normalize every tile with the whole image's statistics (True) or each
                tile's own (False).
            tile: tile side in pixels (512).
            overlap: minimum overlap of neighbouring tiles in pixels (64).
            device: where the tiles run (None: ``content``'s device).
            controls: as for :meth:`forward`.

        Raises:
            ValueError: from :meth:`check_inputs`.
        """
        self.check_inputs(styles, controls)
        styles = list(styles) if styles else None

        def fn(tiles: Tensor) -> Tensor:
            return self(tiles, styles, **controls)

        return TilePlan(fn, self if whole_image_statistics else None)

    def plan_frames(
        self,
        styles: Sequence[Tensor] | None = None,
        temporal_statistics: bool = False,
        smoothing: float = 0.9,
        **controls: Any,
    ) -> FramePlan:
        """How to run this stylizer over the frames of one clip, in order.

        The default suits a network whose normalization layers are ``nn.InstanceNorm2d`` / ``nn.BatchNorm2d``:
        the frames go through :meth:`forward`; with ``temporal_statistics`` those layers normalize with an
        exponential moving average of each frame's statistics over time (``smoothed_norm=self``, the same
        layers and the same switch as the whole-image statistics of tiles), so the tone does not flicker
        from frame to frame. A stylizer whose normalization works otherwise (AdaIN's content statistics)
        overrides this.

        Args:
            styles: style images ``(1, 3, h, w)`` in [-1, 1] on the stylizer's device (None: none).
            temporal_statistics: normalize with statistics averaged over time (True) or each frame's own
                (False, the default: exactly :meth:`forward` per frame).
            smoothing: weight of the past in the moving average, in [0, 1) (0.9): the statistics used for
                frame t are ``m_t = smoothing * m_(t-1) + (1 - smoothing) * s_t`` with ``s_t`` frame t's own
                and ``m_0 = s_0``; 0 is the same as False.
            controls: as for :meth:`forward`.

        Raises:
            ValueError: from :meth:`check_inputs`; ``smoothing`` outside [0, 1).
        """
        self.check_inputs(styles, controls)
        if not 0.0 <= smoothing < 1.0:
            raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
        styles = list(styles) if styles else None
        controls = {k: v for k, v in controls.items() if v is not None}

        def fn(frames: Tensor) -> Tensor:
            return self(frames, styles, **controls)

        smoothed = self if temporal_statistics and smoothing > 0 else None
        return FramePlan(fn, smoothed, smoothed is None)

    def export_module(self) -> ExportModule:
        """The module export traces: ``image`` (N, C, H, W) -> ``output`` (N, C', H, W), both in [-1, 1], for a
        stylizer without style input or controls.

        Raises:
            ValueError: a stylizer that is not feed-forward or takes style images or controls overrides this;
                by default those are refused with a message.
        """
        if not self.feed_forward or self.takes_style or self.controls:
            raise ValueError(f"{self.describe()} defines no export form (export_module)")
        return ImageToImageExport(self, notes=self.export_notes())

    def export_notes(self) -> list[str]:
        """Remarks for the export's metadata (e.g. a mode that differs from ``stylize``); empty by default."""
        return []


class GeneratorStylizer(Stylizer):
    """A stylizer around a feed-forward generator: ``G(content)``, clamped to [-1, 1].

    Fits every image-to-image network of gan-style (CycleGAN's generators, Pix2Pix's U-Net, the
    transformation network of PatchGANStyle) and your own: ``return GeneratorStylizer(self.generator)`` in a
    method's ``stylizer()``.

    Args:
        generator: ``(N, C, H, W)`` in [-1, 1] -> ``(N, C', H, W)`` in [-1, 1] (e.g. ending in tanh).
        size_multiple: what H and W must be multiples of (None, the default: the largest ``size_multiple``
            its networks declare, :func:`size_multiple_of`; 1 when none does).
        name: how messages call it (None, the default: the generator's class name).
    """

    def __init__(self, generator: nn.Module, size_multiple: int | None = None, name: str | None = None) -> None:
        super().__init__()
        self.generator = generator
        self.size_multiple = size_multiple_of(generator) if size_multiple is None else int(size_multiple)
        self.tile_multiple = self.size_multiple
        self.name = name or type(generator).__name__

    def describe(self) -> str:
        return self.name

    def run(self, content: Tensor, styles: list[Tensor], **controls: Any) -> Tensor:
        return self.generator(content).clamp(-1.0, 1.0)
