"""The one runner: every door (``stylize``, ``predict``, the demo, ``gan_style.load``, video, ``compare``,
``export``'s check) sizes, runs and resizes an image through :class:`Runner`, so one model and one input give the
same pixels whichever door they go through.

The sizing policy, written once here:

1. **Output size.** By default the output has the input's own height and width. ``size=N`` makes the shorter side
   N pixels and keeps the aspect ratio (the longer side rounded to the nearest pixel). The training crop is never a
   default.
2. **Bound.** An output with more than ``max_pixels`` pixels (:data:`~gan_style.inference.sizing.MAX_OUTPUT_PIXELS`,
   4096 x 4096) is refused before anything is resized or run.
3. **Network input.** The image at its output size, each side rounded to the *nearest* multiple of the network's
   ``size_multiple`` (at least one multiple), resized (bicubic, antialiased), run, and resized back to the output
   size (bicubic). Sides that already are multiples are not resized at all.
4. **Tiles.** With ``tile=T``, or when the output has more than ``pixel_budget`` pixels (1024 x 1024 by default;
   then tiles of :data:`AUTO_TILE` pixels), the image runs in overlapping tiles at its output size
   (:func:`~gan_style.inference.stylize_tiled`, normalization statistics of the whole image by default).
5. **Optimizations** (``resizes_inputs``: Gatys) size their inputs themselves and get the images as they are.

Precision and speed are one setting for every door: :class:`~gan_style.inference.fast.FastPath` with ``backend``
(``auto``: bfloat16 autocast and channels-last on a GPU, float32 on the CPU).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from PIL import Image
from torch import Tensor

from gan_style.errors import InvalidSettingError
from gan_style.inference.sizing import MAX_OUTPUT_PIXELS
from gan_style.inference.stylizer import Stylizer

__all__ = [
    "AUTO_TILE",
    "DEFAULT_PIXEL_BUDGET",
    "Runner",
    "mask_tensors",
    "network_size",
    "output_size",
    "resize",
    "resize_back",
    "output_suffix",
    "read_input",
    "run_image",
    "data_suffix",
    "sample_grid",
    "write_output",
]

#: Outputs with more pixels than this run in tiles (1024 x 1024): the memory of one network call stays bounded.
DEFAULT_PIXEL_BUDGET = 1024 * 1024
#: The tile side, in pixels, when the pixel budget makes an image run in tiles.
AUTO_TILE = 512


def _check_size(size: Any) -> int | None:
    if size == "auto" or size is None:  # "auto": accepted for older scripts; the input's own size
        return None
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise InvalidSettingError(f"--size must be a number of pixels >= 1 (the shorter side) or null, got {size!r}")
    return size


def output_size(height: int, width: int, size: int | None = None) -> tuple[int, int]:
    """(H, W) of the output for an input of ``height`` x ``width`` pixels: the input's own (``size`` None, the
    default), or the shorter side ``size`` with the aspect ratio kept (the other side rounded, at least 1)."""
    if not size:
        return height, width
    scale = size / min(height, width)
    if height <= width:
        return size, max(1, round(width * scale))
    return max(1, round(height * scale)), size


def network_size(height: int, width: int, multiple: int) -> tuple[int, int]:
    """(H, W) the network runs at for an output of ``height`` x ``width``: each side rounded to the nearest multiple
    of ``multiple`` (at least one multiple)."""
    multiple = max(1, int(multiple))
    return (
        max(multiple, round(height / multiple) * multiple),
        max(multiple, round(width / multiple) * multiple),
    )


def resize(images: Tensor, height: int, width: int) -> Tensor:
    """``images`` (N, C, H, W) in [-1, 1] resized to ``height`` x ``width`` (bicubic, antialiased, clamped to
    [-1, 1]), as the runner sizes every network input; returned as they are when already that size."""
    if tuple(images.shape[-2:]) == (height, width):
        return images
    return F.interpolate(images, size=(height, width), mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)


def resize_back(outputs: Tensor, height: int, width: int) -> Tensor:
    """The network's ``outputs`` (N, C, h, w) back to the output size ``height`` x ``width`` (bicubic), as float32
    on the CPU clamped to [-1, 1]."""
    y = outputs.float().cpu()
    if tuple(y.shape[-2:]) != (height, width):
        y = F.interpolate(y, size=(height, width), mode="bicubic", align_corners=False)
    return y.clamp(-1, 1)


def mask_tensors(masks: Sequence[Any], height: int, width: int, device: torch.device) -> list[Tensor]:
    """Masks (PIL images, white = 1, or ``(1, h, w)`` tensors in [0, 1]) as ``(1, height, width)`` tensors in [0, 1]
    on ``device``, resized nearest."""
    from gan_style.data.transforms import to_tensor

    tensors = []
    for mask in masks:
        if isinstance(mask, Image.Image):
            grey = mask.convert("L").resize((width, height), Image.Resampling.NEAREST)
            tensors.append(to_tensor(grey.convert("RGB"))[:1].to(device) * 0.5 + 0.5)
        else:
            m = mask.float()
            m = m if m.dim() == 3 else m[None]
            tensors.append(F.interpolate(m[None], size=(height, width), mode="nearest")[0].to(device))
    return tensors


class Runner:
    """Runs one stylizer on images by the module's sizing policy; every door uses it.

    ``runner(content, styles=None, masks=None, **controls)``: ``content`` (1, 3, H, W) float in [-1, 1] on any
    device; returns (1, C, H_out, W_out) float32 on the CPU in [-1, 1], (H_out, W_out) = :func:`output_size`.

    Args:
        stylizer: the model's :class:`~gan_style.inference.Stylizer` (put in eval mode).
        size: shorter side of the output in pixels; None (default): the input's own size (``"auto"`` means the same).
        tile: run in overlapping tiles of this many pixels; None (default): only above ``pixel_budget``.
        tile_overlap: minimum overlap of neighbouring tiles in pixels (64).
        tile_norm: ``"image"`` (default: normalization statistics of the whole image) or ``"tile"``.
        device: where the network runs (None, the default: where the stylizer's weights are).
        backend: :class:`~gan_style.inference.fast.FastPath`'s backend (``"auto"``, the default; ``"eager"``,
            ``"compile"``, ``"onnxruntime"``).
        max_pixels: the most pixels an output may have (16777216 = 4096 x 4096); None: no bound.
        pixel_budget: outputs with more pixels run in tiles of :data:`AUTO_TILE` (1048576 = 1024 x 1024); None:
            never tile unless ``tile`` is given.
        expected_calls: about how many images will run (None, the default: few); lets ``backend="auto"`` measure
            ONNX Runtime on long CPU jobs.
        progress: a progress bar of tiles (False).

    Raises:
        InvalidSettingError: a ``size`` < 1, a ``tile_norm`` other than image / tile, tiles with a stylizer that
            optimizes, tile settings :func:`~gan_style.inference.tiled_apply` refuses, a bad ``max_pixels``; when
            called, an output over ``max_pixels``.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        size: int | Literal["auto"] | None = None,
        tile: int | None = None,
        tile_overlap: int = 64,
        tile_norm: Literal["image", "tile"] = "image",
        device: str | torch.device | None = None,
        backend: str = "auto",
        max_pixels: int | None = MAX_OUTPUT_PIXELS,
        pixel_budget: int | None = DEFAULT_PIXEL_BUDGET,
        expected_calls: int | None = None,
        progress: bool = False,
    ) -> None:
        from gan_style.inference.tiling import tile_spans

        self.stylizer = stylizer.eval()
        self.size = _check_size(size)
        if tile_norm not in ("image", "tile"):
            raise InvalidSettingError(f"tile_norm must be 'image' or 'tile', got {tile_norm!r}")
        if max_pixels is not None and (
            isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1
        ):
            raise InvalidSettingError(f"--max_pixels must be a number of pixels >= 1 or null, got {max_pixels!r}")
        if tile is not None:
            if not stylizer.feed_forward:
                raise InvalidSettingError(
                    f"--tile works with a feed-forward network; {stylizer.describe()} runs an optimization"
                )
            tile_spans(tile, tile, tile_overlap, stylizer.tile_multiple)  # refuses bad settings before any image
        self.tile, self.tile_overlap, self.tile_norm = tile, tile_overlap, tile_norm
        if device is None:
            param = next(iter(stylizer.parameters()), None)
            device = param.device if param is not None else "cpu"
        self.device = torch.device(device)
        self.backend = backend
        self.max_pixels, self.pixel_budget = max_pixels, pixel_budget
        self.expected_calls, self.progress = expected_calls, progress
        self._fast: Any = None

    # -- the policy -------------------------------------------------------------------------------------------
    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """(H, W) of the output for an input of ``height`` x ``width`` (:func:`output_size` with :attr:`size`),
        checked against ``max_pixels``.

        Raises:
            InvalidSettingError: more than ``max_pixels`` pixels; the message names ``--size`` and ``--max_pixels``.
        """
        h, w = output_size(height, width, self.size)
        if self.max_pixels is not None and h * w > self.max_pixels:
            at = f"--size {self.size}" if self.size else "its own size"
            raise InvalidSettingError(
                f"a {width}x{height} image at {at} gives a {w}x{h} output = {w * h} pixels, more than --max_pixels "
                f"{self.max_pixels}; give a smaller --size (the shorter side) or raise --max_pixels"
            )
        return h, w

    def tiles_for(self, height: int, width: int) -> int | None:
        """The tile side an output of ``height`` x ``width`` runs with (None: whole)."""
        if not self.stylizer.feed_forward:
            return None
        if self.tile is not None:
            return self.tile
        if self.pixel_budget is not None and height * width > self.pixel_budget:
            return AUTO_TILE
        return None

    def prepare_styles(self, styles: Sequence[Tensor] | None) -> list[Tensor] | None:
        """Style images (1, 3, h, w) in [-1, 1] as the stylizer gets them: scaled so the shorter side is
        :attr:`size` when one is set (an optimization gets them as they are), on the device."""
        if not styles:
            return None
        out = []
        for style in styles:
            s = style if style.dim() == 4 else style[None]
            if self.size and not self.stylizer.resizes_inputs:
                s = resize(s.float(), *output_size(s.shape[-2], s.shape[-1], self.size))
            out.append(s.to(self.device))
        return out

    # -- running ----------------------------------------------------------------------------------------------
    def _fast_path(self) -> Any:
        if self._fast is None:
            from gan_style.inference.fast import FastPath

            self._fast = FastPath(self.stylizer, self.backend, self.device, expected_calls=self.expected_calls)
        return self._fast

    def __call__(
        self,
        content: Tensor,
        styles: Sequence[Tensor] | None = None,
        masks: Sequence[Any] | None = None,
        **controls: Any,
    ) -> Tensor:
        from gan_style.inference.tiling import stylize_tiled

        controls = {k: v for k, v in controls.items() if v is not None}
        x = content if content.dim() == 4 else content[None]
        x = x.detach().float()
        with torch.no_grad():
            if self.stylizer.resizes_inputs:  # an optimization: its own sizing
                if masks:
                    controls["masks"] = mask_tensors(masks, x.shape[-2], x.shape[-1], self.device)
                y = self.stylizer(x.to(self.device), list(styles) if styles else None, **controls)
                return y.clamp(-1, 1).float().cpu()
            height, width = self.output_size(x.shape[-2], x.shape[-1])
            tile = self.tiles_for(height, width)
            if tile is not None:
                if masks:
                    raise InvalidSettingError(
                        f"a {width}x{height} output runs in tiles, which cannot take --masks; give a smaller --size"
                    )
                x = resize(x.cpu(), height, width)  # stays on the CPU: one tile at a time goes to the device
                y = stylize_tiled(
                    self.stylizer,
                    x,
                    list(styles) if styles else None,
                    tile,
                    self.tile_overlap,
                    self.device,
                    self.tile_norm == "image",
                    progress=self.progress,
                    **controls,
                )
                return y.clamp(-1, 1).float().cpu()
            net_h, net_w = network_size(height, width, self.stylizer.size_multiple)
            x = resize(x, net_h, net_w).to(self.device)
            if masks:
                controls["masks"] = mask_tensors(masks, net_h, net_w, self.device)
            if self.stylizer.feed_forward:
                y = self._fast_path()(x, list(styles) if styles else None, **controls)
            else:
                y = self.stylizer(x, list(styles) if styles else None, **controls)
            return resize_back(y, height, width)


def run_image(
    stylizer: Stylizer,
    content: Tensor,
    styles: Sequence[Tensor] | None = None,
    masks: Sequence[Any] | None = None,
    **options: Any,
) -> Tensor:
    """One image through a :class:`Runner` made for it: ``Runner(stylizer, **options)`` (its settings: ``size``,
    ``tile``, ``tile_overlap``, ``tile_norm``, ``device``, ``backend``, ``max_pixels``, ``pixel_budget``) called on
    ``content`` (1, 3, H, W) in [-1, 1] with ``styles`` (prepared by :meth:`Runner.prepare_styles`), ``masks`` and
    the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color``). Returns (1, C, H_out, W_out) float32
    on the CPU in [-1, 1]."""
    runner_keys = {"size", "tile", "tile_overlap", "tile_norm", "device", "backend", "max_pixels", "pixel_budget"}
    runner = Runner(stylizer, expected_calls=1, **{k: v for k, v in options.items() if k in runner_keys})
    controls = {k: v for k, v in options.items() if k not in runner_keys}
    return runner(content, runner.prepare_styles(styles), masks, **controls)


def sample_grid(samples: Sequence[Tensor], columns: int = 4) -> Tensor:
    """Several outputs of one input side by side (the grid of ``stylize --num_samples`` and the demo's samples).

    Args:
        samples: each (1, C, H, W) in [-1, 1], all the same size.
        columns: samples per row (4); fewer samples make one row.

    Returns:
        (1, C, H_grid, W_grid) in [-1, 1]: rows of at most ``columns`` samples with 4-pixel white gaps and border.

    Raises:
        ValueError: no samples, or samples of different sizes.
    """
    import torch
    from torchvision.utils import make_grid

    if not samples:
        raise ValueError("sample_grid needs at least one sample")
    if len({tuple(s.shape) for s in samples}) != 1:
        raise ValueError(f"samples of one grid must have one size, got {sorted({tuple(s.shape) for s in samples})}")
    grid = make_grid(torch.cat(list(samples)), nrow=min(columns, len(samples)), padding=4, pad_value=1.0)
    return grid.unsqueeze(0)


def input_channels(stylizer: Stylizer) -> int:
    """The band count a stylizer's network reads: its first convolution's input channels (3 when it has none)."""
    conv = next((m for m in stylizer.modules() if isinstance(m, torch.nn.Conv2d)), None)
    return int(conv.in_channels) if conv is not None else 3


def read_input(path: Any, stylizer: Stylizer) -> Tensor:
    """An image file as the stylizer's input, (1, C, H, W) float32 in [-1, 1], the same in every door.

    8-bit RGB models (``stylizer.input_scaling`` None, every published model) read the file as 8-bit RGB
    (:func:`gan_style.data.images.load_image`: EXIF orientation, grayscale and alpha converted). Models trained on
    other data read it in its own type and bands (:func:`gan_style.io.imagery.read_array`: 16-bit PNG, TIFF,
    ``.npy``) with the network's band count, scaled by their recorded :class:`~gan_style.io.imagery.Scaling`.

    Raises:
        ImageLoadError: an unreadable file, one whose bands cannot become the network's, or of another value type
            than the model was trained on (one line naming the file and what the model reads).
        ModelConfigError: a network that reads other than 3 bands but no recorded scaling (a file from before
            scalings were recorded): the values its files hold are unknown.
    """
    if stylizer.input_scaling is None:
        from gan_style.data.images import load_image
        from gan_style.data.transforms import to_tensor

        bands = input_channels(stylizer)
        if bands != 3:
            from gan_style.errors import ModelConfigError

            raise ModelConfigError(
                f"{getattr(stylizer, 'name', None) or type(stylizer).__name__} reads {bands}-band images but its file "
                "records no scaling of its data (gan_style_scaling), so the values it takes are unknown; fit or "
                "export it again with this gan-style, whose files record it"
            )
        return to_tensor(load_image(path)).unsqueeze(0)
    from gan_style.errors import ImageLoadError
    from gan_style.io.imagery import read_array

    scaling = stylizer.input_scaling
    array = read_array(path, channels=input_channels(stylizer))
    floats = array.dtype.kind == "f" and scaling.dtype in ("float32", "float64")  # interchangeable, as in Scaling
    if array.dtype.name != scaling.dtype and not floats:
        raise ImageLoadError(
            f"image file '{path}' holds {array.dtype.name} values, but the model was trained on "
            f"{scaling.dtype} data; give it {scaling.dtype} files"
        )
    return scaling.to_tensor(array).unsqueeze(0)


def output_suffix(stylizer: Stylizer, bands: int | None = None) -> str:
    """The file ending outputs of ``stylizer`` are written with: ``.png`` when a PNG holds them (8-bit RGB, 1 or 3
    bands of 8 or 16 bits), else ``.tif`` (more bands, float data)."""
    scaling = stylizer.output_scaling
    if scaling is None:
        return ".png"
    if bands is None:  # the network's last convolution, transposed or not (a U-Net ends in a ConvTranspose2d)
        conv = [m for m in stylizer.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d))]
        bands = int(conv[-1].out_channels) if conv else 3
    return data_suffix(scaling.dtype, bands)


def data_suffix(dtype: str, bands: int) -> str:
    """The file ending data of value type ``dtype`` (``"uint16"`` ...) and ``bands`` bands is written with: ``.png``
    when a PNG holds it (1 or 3 bands of 8 or 16 bits), else ``.tif``."""
    return ".png" if dtype in ("uint8", "uint16") and bands in (1, 3) else ".tif"


def write_output(image: Tensor, target: Any, stylizer: Stylizer) -> Any:
    """Write an output (1, C, H, W) in [-1, 1] to ``target`` atomically, in the values the model was trained on:
    8-bit RGB PNG for 8-bit RGB models; otherwise the recorded ``output_scaling`` inverted exactly (16-bit PNG or
    TIFF for 16-bit data, 1 band for 1-band data, N-band TIFF or ``.npy``) by :func:`gan_style.io.imagery.write_array`.

    Returns:
        ``target``.

    Raises:
        InvalidSettingError: a file ending that cannot hold the output (one line naming the formats that can).
    """
    from pathlib import Path

    target = Path(target)
    if stylizer.output_scaling is None:
        from gan_style.data.transforms import to_image
        from gan_style.io.atomic import atomic_write

        with atomic_write(target) as f:
            to_image(image[0]).save(f, format="PNG")
        return target
    from gan_style.io.imagery import write_array

    array = stylizer.output_scaling.from_tensor(image[0].detach().float().cpu())
    write_array(target, array)
    return target
