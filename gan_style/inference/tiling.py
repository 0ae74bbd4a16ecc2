"""Tiled inference: run a feed-forward generator over overlapping tiles of an image too large to process at
once, and blend the tiles with a smooth window so that no seam shows.

How it works (:func:`tiled_apply`):

- each axis of the image is cut into tiles of ``tile`` pixels that overlap by at least ``overlap`` pixels
  (:func:`tile_spans`); tile starts lie on a grid of ``multiple`` pixels (4 for the CycleGAN ResNet
  generator, 2^num_downs for a U-Net, 8 for AdaIN's VGG encoder), so the network's stride-2 levels sample
  every tile like the whole image; the last row and column of tiles are shifted back inside the image, so
  there are no thin edge tiles; an image side shorter than ``tile`` is one tile;
- a tile whose side is not a multiple of ``multiple`` (only at the right and bottom image border, or an image
  smaller than a tile) is padded by reflection to the next multiple and its output cropped back;
- the tiles' outputs are blended by a separable 2-D window (:func:`blend_weights`): in the middle of each
  overlap a raised-cosine transition hands over from one tile to the next, ``margin`` pixels at each inner
  tile edge (where the tile's own border padding changes the network's output) get no weight, and image
  borders are never faded. The weights of all tiles sum to exactly one at every pixel (they are a partition
  of unity, normalized in float64), so a pixel covered by one tile keeps weight 1 and the borders are not
  darkened; no per-pixel weight buffer is needed;
- the output is accumulated in float32 on ``out_device`` (the CPU by default), so the accelerator holds only
  the network and one batch of tiles.

Memory: on ``device``, the network and one call of ``fn`` on ``batch_size`` tiles of ``tile x tile`` pixels:
its input (``batch_size * C * tile^2`` elements) plus the network's activations at tile size, which do not
grow with the image (for the CycleGAN ResnetGenerator, ngf 64, in inference about 0.9 KB per tile pixel,
0.25 GB for a 512x512 tile; ``benchmarks/tiled_inference.py`` measures it). On ``out_device``: the
``(1, C_out, H, W)`` float32 output (``H * W * C_out * 4`` bytes: 192 MiB for a 4096x4096 RGB image), one
blending window (``tile^2`` floats) and the 1-D weights. The input image stays where it is (keep it on the
CPU; 192 MiB more as float32 at 4096x4096).

Caveat, normalization layers: instance normalization (the CycleGAN ResnetGenerator, the transformation
network of PatchGANStyle), batch normalization in training mode (Pix2Pix with ``eval_mode=False``) and AdaIN
compute their statistics over the input they see, i.e. over one tile, so by default neighbouring tiles can
differ in tone. The smooth transition in each overlap turns such a difference into a gradual change, not a
seam line, but on flat regions the tile grid can still show as soft patches; larger tiles and overlaps
(e.g. ``tile=1024, overlap=128``) make the statistics of neighbouring tiles closer. The fix is
``whole_image_norm=net``: the normalization layers then use the statistics of the whole image, gathered over
the tiles one layer at a time (one extra pass per layer, each stopping at the layer it measures), and the
tiled output matches the untiled one up to tile-edge effects (for the CycleGAN ResnetGenerator on a
1024x1024 image in 512x512 tiles, to about 1e-6), at about 10x the compute of a plain pass for its 23
instance-norm layers. AdaIN has one normalization point, so there it is cheap: :meth:`gan_style.inference.adain.AdaINStylizer.content_statistics`
gathers the content statistics of the whole image with one encoder pass over the tiles, and
its tile plan uses them with the style statistics of the whole style images. ``gan-style stylize
--tile`` does both by default (``--tile_norm image``). A network without normalization layers (or with batch
norm in eval mode, e.g. the U-Net) is a pure convolution: where ``margin`` covers its receptive field
radius, tiled and untiled outputs agree to float precision.

Images are float tensors ``(N, C, H, W)`` in the range the network expects ([-1, 1] for every gan-style
generator); the range is not changed here.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

if TYPE_CHECKING:
    from gan_style.inference.stylizer import Stylizer

__all__ = ["blend_weights", "pad_to", "stylize_tiled", "tile_spans", "tiled_apply"]


def _check_int(name: str, value: object, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return value


def _check_settings(tile: int, overlap: int, multiple: int, margin: int) -> None:
    _check_int("tile", tile, 1)
    _check_int("overlap", overlap, 0)
    _check_int("multiple", multiple, 1)
    _check_int("margin", margin, 0)
    if tile % multiple:
        raise ValueError(
            f"tile ({tile}) must be a multiple of {multiple} (what this network needs); "
            f"try tile={max(multiple, tile // multiple * multiple)}"
        )
    if overlap >= tile:
        raise ValueError(f"overlap ({overlap}) must be smaller than tile ({tile})")
    if (tile - overlap) // multiple < 1:
        raise ValueError(
            f"tile - overlap ({tile} - {overlap}) must be at least {multiple}, the step tiles are aligned to; "
            "use a smaller overlap or a larger tile"
        )
    if 2 * margin > overlap:
        raise ValueError(f"margin ({margin}) must be at most overlap / 2 ({overlap // 2})")


def tile_spans(length: int, tile: int, overlap: int, multiple: int = 1) -> list[tuple[int, int]]:
    """Where the tiles lie along one image axis: ``[(start, stop), ...]`` in pixels, ``stop`` exclusive.

    ``length <= tile`` gives one span ``(0, length)``. Otherwise it is the fewest tiles that cover the axis with
    consecutive tiles overlapping by at least ``overlap`` pixels: the first starts at 0, the last ends at the
    image end (its start rounded up to a multiple of ``multiple``, so it may be up to ``multiple - 1`` pixels
    shorter than ``tile``), and the starts in between are spread evenly, on multiples of ``multiple``. When the
    image does not divide evenly, every overlap grows a little (no thin edge tile, no near-duplicate tile).

    Raises:
        ValueError: ``length < 1``, ``tile < 1``, ``overlap < 0``, ``multiple < 1``, ``tile`` not a multiple of
            ``multiple``, ``overlap >= tile``, or ``tile - overlap < multiple``.
    """
    _check_int("length", length, 1)
    _check_settings(tile, overlap, multiple, 0)
    if length <= tile:
        return [(0, length)]
    step = (tile - overlap) // multiple * multiple
    count = -(-(length - tile) // step) + 1  # fewest tiles whose overlaps are all >= overlap
    last = -(-(length - tile) // multiple) * multiple  # the last tile ends at the image end (start on the grid)
    # spread the starts evenly over [0, last], on the grid; no two are further apart than `step`
    starts = [i * last // (count - 1) // multiple * multiple for i in range(count)]
    return [(s, min(s + tile, length)) for s in starts]


def _transition(t: Tensor) -> Tensor:
    """Raised cosine from 0 (t <= 0) to 1 (t >= 1)."""
    return 0.5 - 0.5 * torch.cos(math.pi * t.clamp(0.0, 1.0))


def blend_weights(spans: Sequence[tuple[int, int]], overlap: int, margin: int | None = None) -> list[Tensor]:
    """1-D blending weights, one float32 tensor of length ``stop - start`` per span of :func:`tile_spans`.

    Between two consecutive tiles the cut is the middle of their overlap; around it the weight of the first
    tile falls from 1 to 0 (and the second's rises) along a raised cosine over ``overlap - 2 * margin``
    pixels (narrower where the tiles are closer; a hard cut when that is 0). The ``margin`` pixels next to each
    inner tile edge therefore get weight 0, and image borders keep weight 1. At every position the weights
    of the tiles covering it sum to one (normalized in float64). The 2-D weight of the tile in row ``i``
    and column ``j`` is ``wy[i][:, None] * wx[j][None, :]``, which also sums to one at every pixel.

    Args:
        spans: tile spans along one axis, sorted, covering ``[0, length)``, from :func:`tile_spans`.
        overlap: the nominal overlap the spans were made with.
        margin: pixels of zero weight at each inner tile edge (None: ``overlap // 8``); at most ``overlap / 2``.

    Raises:
        ValueError: an invalid ``margin``, or spans that leave a gap.
    """
    margin = overlap // 8 if margin is None else margin
    _check_int("overlap", overlap, 0)
    _check_int("margin", margin, 0)
    if 2 * margin > overlap:
        raise ValueError(f"margin ({margin}) must be at most overlap / 2 ({overlap // 2})")
    n = len(spans)
    for (s0, e0), (s1, e1) in zip(spans, spans[1:]):
        if not (s0 < s1 <= e0 < e1):
            raise ValueError(f"tile spans must be sorted and overlap or touch, got {(s0, e0)} then {(s1, e1)}")
    # cut i lies between tile i and i+1, in continuous coordinates (pixel j covers [j, j + 1])
    cuts = [(spans[i + 1][0] + spans[i][1]) / 2 for i in range(n - 1)]
    widths = []
    for i in range(n - 1):
        w = min(overlap, spans[i][1] - spans[i + 1][0]) - 2 * margin
        room = [cuts[i] - cuts[i - 1] if i > 0 else math.inf, cuts[i + 1] - cuts[i] if i < n - 2 else math.inf]
        widths.append(max(0.0, min(float(w), *room)))  # transitions never run into each other
    raw = []
    for i, (start, stop) in enumerate(spans):
        x = torch.arange(start, stop, dtype=torch.float64) + 0.5
        w = torch.ones_like(x)
        if i > 0:
            w = w * _rise(x, cuts[i - 1], widths[i - 1])
        if i < n - 1:
            w = w * (1.0 - _rise(x, cuts[i], widths[i]))
        raw.append(w)
    length = spans[-1][1]
    total = torch.zeros(length, dtype=torch.float64)
    for (start, stop), w in zip(spans, raw):
        total[start:stop] += w
    if bool((total <= 0).any()):  # cannot happen for spans of tile_spans; guards hand-made spans
        raise ValueError("tile spans leave positions without weight; they must cover the whole axis")
    return [(w / total[start:stop]).float() for (start, stop), w in zip(spans, raw)]


def _rise(x: Tensor, cut: float, width: float) -> Tensor:
    """0 before ``cut - width / 2``, 1 after ``cut + width / 2``, raised cosine between (a step if width 0)."""
    if width <= 0:
        return (x > cut).to(x.dtype)
    return _transition((x - (cut - width / 2)) / width)


def pad_to(x: Tensor, height: int, width: int) -> Tensor:
    """Pad (N, C, h, w) at the bottom and right to (height, width): reflection, replication where too thin."""
    ph, pw = height - x.shape[-2], width - x.shape[-1]
    if ph == 0 and pw == 0:
        return x
    mode = "reflect" if ph < x.shape[-2] and pw < x.shape[-1] else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def _progress(total: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with Lightning
        return None
    return tqdm(total=total, desc="tiles", unit="tile", file=sys.stderr)


class _StopForward(Exception):
    """Raised by a statistics hook to end a forward pass once the layer being measured has been reached."""


class _WholeImageNorm:
    """Normalization layers of a network, switched to statistics of the whole image for tiled inference.

    Covers ``nn.InstanceNorm2d`` and ``nn.BatchNorm2d`` whenever they normalize with the statistics of their
    input (instance norm without running statistics, batch norm in training mode). Each gathering pass over
    the tiles fixes one more layer, in the order the forward pass reaches them: layers already fixed
    normalize with their whole-image statistics; the first layer not yet fixed accumulates the per-channel
    sums of its input and of its square over the tiles, weighted by the tiles' blending windows (resized to
    the layer's resolution, so every pixel of the image counts once), and the forward pass stops there.
    """

    def __init__(self, net: nn.Module) -> None:
        self.layers = [m for m in net.modules() if isinstance(m, (nn.InstanceNorm2d, nn.BatchNorm2d))]
        self.stats: dict[nn.Module, tuple[Tensor, Tensor]] = {}
        self.sums: list[Tensor] | None = None
        self.shift: Tensor | None = None  # (1, C, 1, 1) reference the sums are taken around
        self.measuring: nn.Module | None = None  # the layer whose statistics the current pass gathers
        self.windows: Tensor | None = None  # (b, 1, h, w) blending windows of the tiles in the current call
        self._handles: list = []

    def __enter__(self) -> _WholeImageNorm:
        self._handles = [m.register_forward_hook(self._hook) for m in self.layers]
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _hook(self, module: nn.Module, args: tuple, output: Tensor) -> Tensor | None:
        if not (module.training or not module.track_running_stats):
            return None  # running statistics in use: the same in every tile already
        x = args[0]
        if module not in self.stats:
            if self.measuring is None:
                self.measuring = module
            if module is not self.measuring:
                raise RuntimeError("a normalization layer ran before the one being measured; call order changed")
            w = F.interpolate(self.windows.to(x.device, torch.float32), size=x.shape[-2:], mode="area")
            if self.shift is None:  # sums around a first estimate of the mean: no cancellation in E[x^2] - E[x]^2
                self.shift = x.float().mean(dim=(0, 2, 3), keepdim=True)
            d = x.float() - self.shift
            wd = w * d
            part = [wd.sum(dim=(0, 2, 3)).double(), (wd * d).sum(dim=(0, 2, 3)).double(), w.sum().double()]
            self.sums = part if self.sums is None else [a + b for a, b in zip(self.sums, part)]
            raise _StopForward
        mean, var = self.stats[module]
        shape = (1, -1, 1, 1)
        y = (x - mean.to(x).view(shape)) * torch.rsqrt(var.to(x).view(shape) + module.eps)
        if module.affine:
            y = y * module.weight.to(x).view(shape) + module.bias.to(x).view(shape)
        return y

    def finish_pass(self) -> bool:
        """Fix the statistics gathered by the pass that just ended; False when it reached no new layer."""
        if self.measuring is None:
            return False
        total, squares, count = self.sums
        offset = total / count  # mean - shift
        mean = self.shift.flatten().double() + offset
        self.stats[self.measuring] = (mean, (squares / count - offset * offset).clamp_min(0.0))
        self.measuring, self.sums, self.shift = None, None, None
        return True


@torch.no_grad()
def tiled_apply(
    fn: Callable[[Tensor], Tensor],
    image: Tensor,
    tile: int = 512,
    overlap: int = 64,
    multiple: int = 1,
    device: str | torch.device | None = None,
    out_device: str | torch.device = "cpu",
    dtype: torch.dtype | None = None,
    batch_size: int = 1,
    progress: bool = False,
    margin: int | None = None,
    whole_image_norm: nn.Module | None = None,
) -> Tensor:
    """Apply the image-to-image function ``fn`` to ``image`` tile by tile and blend the tiles seamlessly.

    See the module docstring for the tiling, the blending window, the memory it needs and the caveat for
    networks with normalization layers (statistics per tile unless ``whole_image_norm`` is given; for AdaIN
    see :func:`stylize_tiled`, which lets each stylizer plan its tiles).

    Args:
        fn: maps a batch of tiles ``(b, C, h, w)`` (``b <= batch_size``; ``h, w`` multiples of ``multiple``) on
            ``device`` to ``(b, C_out, h, w)``: a generator's forward, ``model.translate``, ... Called under
            ``torch.no_grad()``; it must keep the spatial size and treat the tiles of a batch independently
            (networks in eval mode do).
        image: ``(N, C, H, W)``, usually ``N = 1``, in the range ``fn`` expects ([-1, 1] for gan-style
            generators), on any device (keep a large image on the CPU). ``H`` and ``W`` need not be multiples
            of anything. Images are processed one after the other.
        tile: tile side in pixels (512); a multiple of ``multiple``. An image side shorter than ``tile`` is
            one tile, so an image smaller than a tile goes through ``fn`` whole (padded to ``multiple``).
        overlap: minimum overlap of neighbouring tiles in pixels (64); ``0 <= overlap < tile``. Larger values
            give smoother transitions, and closer statistics for normalization layers, at more compute.
        multiple: tile starts and tile sizes are aligned to this (1); 4 for the ResnetGenerator, 2^num_downs
            for a UnetGenerator, 8 for AdaIN.
        device: where ``fn`` runs (None: ``image``'s device); each tile batch is moved there.
        out_device: where the output is accumulated and returned ("cpu").
        dtype: dtype of the tiles given to ``fn`` (None: ``image``'s); e.g. ``torch.float16`` with a
            half-precision network. Blending is always in float32.
        batch_size: tiles per call of ``fn`` (1); more is faster on a GPU with memory to spare.
        progress: show a progress bar of tiles on stderr (False).
        margin: pixels at each inner tile edge that get no weight (None: ``overlap // 8``); see
            :func:`blend_weights`.
        whole_image_norm: the network inside ``fn`` (or a module holding it) whose normalization layers
            (``nn.InstanceNorm2d``, and ``nn.BatchNorm2d`` in training mode) should normalize with the
            statistics of the whole image, as without tiles, instead of each tile's (None: per tile). Before
            the output pass, one gathering pass over the tiles per such layer fixes its statistics, in the
            order the network runs them (each pass stops at the layer it measures): about 10x the compute of
            a plain tiled pass for the 9-block ResnetGenerator (23 instance-norm layers), cheap on a GPU.
            Each normalization module must run once per forward pass, in the same order for every tile.

    Returns:
        ``(N, C_out, H, W)`` float32 on ``out_device``.

    Raises:
        ValueError: ``image`` not 4-D or empty; ``tile``, ``overlap``, ``multiple``, ``margin`` or
            ``batch_size`` out of range (see :func:`tile_spans`); ``fn`` returned another batch size or
            spatial size than it was given.
    """
    margin = overlap // 8 if margin is None else margin
    _check_settings(tile, overlap, multiple, margin)
    _check_int("batch_size", batch_size, 1)
    if not isinstance(image, Tensor) or image.ndim != 4 or image.numel() == 0:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"image must be a non-empty (N, C, H, W) tensor, got {shape}")
    device = image.device if device is None else torch.device(device)
    out_device = torch.device(out_device)
    dtype = image.dtype if dtype is None else dtype
    height, width = image.shape[-2:]
    spans_y, spans_x = tile_spans(height, tile, overlap, multiple), tile_spans(width, tile, overlap, multiple)
    weights_y, weights_x = blend_weights(spans_y, overlap, margin), blend_weights(spans_x, overlap, margin)
    # every tile is padded to the same size: tile, or the image side rounded up to `multiple` when shorter
    pad_h = -(-min(tile, height) // multiple) * multiple
    pad_w = -(-min(tile, width) // multiple) * multiple
    jobs = [
        (ys, xs, wy, wx)
        for ys, wy in zip(spans_y, weights_y)
        for xs, wx in zip(spans_x, weights_x)
        if bool((wy > 0).any()) and bool((wx > 0).any())
    ]
    norm = _WholeImageNorm(whole_image_norm) if whole_image_norm is not None else None
    passes = len(norm.layers) + 1 if norm is not None else 1
    bar = _progress(len(jobs) * image.shape[0] * passes, progress)
    settings = (jobs, batch_size, (pad_h, pad_w), device, dtype, out_device, bar)
    outputs = []
    try:
        for i in range(image.shape[0]):
            sample = image[i : i + 1]
            if norm is None or not norm.layers:
                outputs.append(_tiles_pass(fn, sample, *settings))
                continue
            with norm:
                norm.stats = {}
                while True:  # one pass per normalization layer; the pass that reaches none is the output
                    out = _tiles_pass(fn, sample, *settings, gather=norm)
                    if not norm.finish_pass():
                        break
                outputs.append(out)
    finally:
        if bar is not None:
            bar.close()
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)


def _tiles_pass(
    fn: Callable[[Tensor], Tensor],
    sample: Tensor,
    jobs: list,
    batch_size: int,
    padded: tuple[int, int],
    device: torch.device,
    dtype: torch.dtype,
    out_device: torch.device,
    bar,
    gather: _WholeImageNorm | None = None,
) -> Tensor | None:
    """``fn`` over the tiles of ``sample`` (1, C, H, W), blended into a (1, C_out, H, W) float32 output. With
    ``gather``, a pass whose forward stops at the first normalization layer without whole-image statistics
    gathers that layer's (and returns None); one that reaches no such layer is an output pass."""
    pad_h, pad_w = padded
    out: Tensor | None = None
    for first in range(0, len(jobs), batch_size):
        batch = jobs[first : first + batch_size]
        tiles = torch.cat(
            [
                pad_to(sample[..., ys[0] : ys[1], xs[0] : xs[1]].to(device=device, dtype=dtype), pad_h, pad_w)
                for ys, xs, _, _ in batch
            ]
        )
        if gather is not None:
            windows = torch.zeros(len(batch), 1, pad_h, pad_w, device=device)
            for k, (ys, xs, wy, wx) in enumerate(batch):
                windows[k, 0, : ys[1] - ys[0], : xs[1] - xs[0]] = wy.to(device)[:, None] * wx.to(device)[None, :]
            gather.windows = windows
        try:
            result = fn(tiles)
        except _StopForward:
            if out is not None:
                raise RuntimeError("a normalization layer ran for some tiles only; the tiles must run alike") from None
            if bar is not None:
                bar.update(len(batch))
            continue
        if gather is not None and gather.measuring is not None:
            raise RuntimeError("a normalization layer ran for some tiles only; the tiles must run alike")
        if not isinstance(result, Tensor) or result.ndim != 4 or result.shape[0] != len(batch):
            got = tuple(result.shape) if isinstance(result, Tensor) else type(result).__name__
            raise ValueError(f"fn must return a (b, C, h, w) tensor for {len(batch)} tile(s), got {got}")
        if tuple(result.shape[-2:]) != (pad_h, pad_w):
            raise ValueError(
                f"fn returned tiles of {tuple(result.shape[-2:])} pixels for inputs of {(pad_h, pad_w)}; "
                "tiled_apply needs a function that keeps the spatial size"
            )
        result = result.to(device=out_device, dtype=torch.float32)
        if out is None:
            out = torch.zeros(1, result.shape[1], *sample.shape[-2:], device=out_device)
        for k, (ys, xs, wy, wx) in enumerate(batch):
            h, w = ys[1] - ys[0], xs[1] - xs[0]
            window = wy.to(out_device)[:, None] * wx.to(out_device)[None, :]
            out[..., ys[0] : ys[1], xs[0] : xs[1]] += result[k, :, :h, :w] * window
        del tiles, result
        if bar is not None:
            bar.update(len(batch))
    return out


@torch.no_grad()
def stylize_tiled(
    stylizer: Stylizer,
    content: Tensor,
    styles: Sequence[Tensor] | None = None,
    tile: int = 512,
    overlap: int = 64,
    device: str | torch.device | None = None,
    whole_image_statistics: bool = True,
    batch_size: int = 1,
    progress: bool = False,
    **controls: Any,
) -> Tensor:
    """Run any :class:`~gan_style.inference.Stylizer` over ``content`` tile by tile, blended without seams.

    The stylizer says how (:meth:`~gan_style.inference.Stylizer.plan_tiles`): the per-tile function, which of
    its normalization layers gather whole-image statistics, and what is applied to the blended output; tiles
    are aligned to its ``tile_multiple``.

    Args:
        stylizer: a feed-forward stylizer.
        content: ``(N, 3, H, W)`` in [-1, 1], on any device (keep a large image on the CPU); any H and W.
        styles: style images ``(1, 3, h, w)`` in [-1, 1] on ``device`` (None: none; required when the stylizer
            takes style).
        tile: tile side in pixels (512), a multiple of ``stylizer.tile_multiple``.
        overlap: minimum overlap of neighbouring tiles in pixels (64).
        device: where the stylizer runs (None: ``content``'s device).
        whole_image_statistics: normalization statistics of the whole image (True, as without tiles) or of
            each tile (False: faster, tiles can differ in tone).
        batch_size: tiles per call (1).
        progress: show a progress bar of tiles (False).
        controls: the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color`` ...).

    Returns:
        ``(N, C_out, H, W)`` float32 on the CPU, in [-1, 1].

    Raises:
        ValueError: a stylizer that is not feed-forward, tile settings :func:`tiled_apply` refuses, or inputs
            and controls the stylizer refuses.
    """
    if not stylizer.feed_forward:
        raise ValueError(f"{stylizer.describe()} is not a feed-forward network; it cannot run in tiles")
    outputs = []
    for i in range(content.shape[0]):
        sample = content[i : i + 1]
        plan = stylizer.plan_tiles(sample, styles, whole_image_statistics, tile, overlap, device, **controls)
        out = tiled_apply(
            plan.fn,
            sample,
            tile,
            overlap,
            stylizer.tile_multiple,
            device=device,
            batch_size=batch_size,
            progress=progress,
            whole_image_norm=plan.whole_image_norm,
        )
        outputs.append(plan.finish(out) if plan.finish is not None else out)
    return outputs[0] if len(outputs) == 1 else torch.cat(outputs)
