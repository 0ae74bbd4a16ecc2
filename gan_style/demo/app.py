"""The demo page (Gradio): try any model given on the command line, and compare several on one photo.

:func:`build_demo` returns a ``gr.Blocks`` with two tabs:

- **Stylize**: a model (grouped by method), a content image (uploaded, or one of the bundled examples), style
  images with weights and masks for models that take them, alpha and colour preservation for models that accept
  them, output size and tiles; the result is shown and downloadable as PNG, with the time it took and the
  ``gan-style stylize`` command that gives the same pixels. A model trained on data other than 8-bit RGB (1 band,
  16 bits, N bands) takes a content *file* instead (TIFF, 16-bit PNG, ``.npy`` ...), read and written as
  ``gan-style stylize`` reads and writes them (:func:`gan_style.inference.run.read_input` /
  :func:`~gan_style.inference.run.write_output`): the input and the result are shown through the declared display
  mapping (:func:`gan_style.io.imagery.display_rgb`, with a choice of display bands), and the full-precision result
  file is offered for download;
- **Side by side**: two or more 8-bit RGB models on the same content (and styles), one result each.

Every model call goes through :func:`gan_style.demo.inference.stylize_image` (the steps of ``gan-style
stylize``), one at a time (a queue with a concurrency limit of 1 shared by both tabs, and a lock: one device is
shared safely between users, :class:`~gan_style.demo.runner.ModelRunner`). Tiled runs report their progress tile
by tile, Gatys its elapsed time; the Cancel button stops the visitor's own run at its next network pass.

Safety: models come only from the command line; the page refers to them by name. Uploaded files are decoded by
:func:`gan_style.data.images.load_image` after a check of their pixel count; a file the browser did not upload
(outside Gradio's upload folder and the bundled examples) is refused, so no path a user writes is ever opened. The
same pixel count (``gan-style demo --max_pixels``) bounds the outputs: a requested output size that would give a
larger result (or resize a style image larger) is refused before anything is resized or run.
"""

from __future__ import annotations

import contextlib
import re
import shlex
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import torch
from PIL import Image

from gan_style.data.images import list_images, load_image
from gan_style.demo.inference import (
    describe_data,
    parse_bands,
    reads_data,
    resolve_size,
    show_input,
    show_output,
    stylize_image,
    to_png,
)
from gan_style.demo.models import DemoModel
from gan_style.demo.runner import ModelRunner, RunCancelled
from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError, error_message, handled
from gan_style.inference.run import input_channels, output_suffix, read_input, sample_grid, write_output
from gan_style.inference.sizing import MAX_OUTPUT_PIXELS
from gan_style.inference.stylizer import Stylizer
from gan_style.io.imagery import IMAGERY_EXTENSIONS

__all__ = ["DEFAULT_MAX_PIXELS", "build_demo", "bundled_examples", "check_output_size", "parse_size"]

#: The largest upload (width x height) the page decodes, and the largest output it produces, by default: 4096 x 4096
#: pixels (:data:`gan_style.inference.sizing.MAX_OUTPUT_PIXELS`, as ``gan-style stylize``).
DEFAULT_MAX_PIXELS = MAX_OUTPUT_PIXELS

PRESERVE_CHOICES = ["model's setting", "none", "luminance", "histogram"]
SIZE_CHOICES = ["auto", "original", "256", "512", "1024"]
#: Most samples one run of a model with diverse outputs draws (the "Samples" slider).
MAX_SAMPLES = 8


def bundled_examples() -> tuple[list[Path], list[Path]]:
    """(content images, style images) of the sample set ``photo2painting`` installed with the package
    (``gan_style/sample_data``, :func:`gan_style.data.samples.sample_data_dir`: a wheel install has it as a source
    checkout does); two empty lists when the package was installed without its sample data."""
    from gan_style.data.samples import sample_data_dir

    root = sample_data_dir() / "photo2painting"

    def images(folder: str) -> list[Path]:
        try:
            return list_images(root / folder)
        except DatasetNotFoundError:
            return []

    return images("testA") + images("trainA")[:4], images("testB")


def parse_size(value: Any) -> int | str | None:
    """The page's output size as ``gan-style stylize --size`` takes it: ``"auto"``, ``"original"`` (None: the
    image's own size) or a number of pixels >= 1 (the shorter side).

    Raises:
        gr.Error: anything else (the message names the setting).
    """
    text = str(value if value is not None else "auto").strip().lower()
    if text in ("", "auto"):
        return "auto"
    if text in ("original", "none", "null"):
        return None
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise _error(f"Output size must be auto, original or a number of pixels >= 1, got {value!r}")


def check_output_size(
    image: Image.Image, stylizer: Stylizer, size: Any, tiled: bool, max_pixels: int, what: str = "result"
) -> None:
    """Refuse a requested output size that would make ``image`` larger than ``max_pixels`` pixels (width x height),
    before anything is resized: the size ``stylize_image`` would process ``image`` at, from the output size setting
    (``size``: ``"auto"``, None or pixels, the shorter side; :func:`~gan_style.demo.inference.resolve_size`) and the
    image's aspect ratio.

    Args:
        image: the decoded content (or style) image.
        stylizer: the model's stylizer (its default size and size multiple).
        size: the parsed output size (:func:`parse_size`).
        tiled: whether it runs in tiles (then sides are not rounded to the size multiple).
        max_pixels: the limit (``gan-style demo --max_pixels``).
        what: what the image becomes, for the message (``"result"``, ``"style image"``).

    Raises:
        gr.Error: over the limit; the message names the setting, the sizes and the limit.
    """
    _check_output_pixels(image.height, image.width, stylizer, size, max_pixels, what)


def _check_output_pixels(
    height: int, width: int, stylizer: Stylizer, size: Any, max_pixels: int, what: str = "result"
) -> None:
    """:func:`check_output_size` for an image of ``height`` x ``width`` pixels."""
    from gan_style.inference.run import output_size

    height, width = output_size(height, width, resolve_size(stylizer, size))  # the runner's policy
    if height * width > max_pixels:
        raise _error(
            f"At output size {size if size is not None else 'original'} the {what} would be {width}x{height} pixels, "
            f"more than this demo produces ({max_pixels} pixels, gan-style demo --max_pixels); choose a smaller "
            "output size."
        )


def _error(message: str) -> gr.Error:
    """A message for the page (a ``gr.Error`` toast), not logged with a traceback: it is the user's to act on."""
    return gr.Error(message, print_exception=False)


@contextlib.contextmanager
def _turn(runner: ModelRunner, request: gr.Request | None) -> Iterator[None]:
    """``runner.turn`` for the visitor of ``request``; a cancelled run becomes a message in the page."""
    try:
        with runner.turn(_session(request)):
            yield
    except RunCancelled:
        raise _error("The run was cancelled.") from None


def _draws(drawn: bool, num_samples: Any, seed: Any, settings: list[str]) -> tuple[int, int]:
    """(samples, first seed) of a run: (1, 0) unless styles are ``drawn``, then the page's Samples (1 to
    :data:`MAX_SAMPLES`) and seed (>= 0), whose options are appended to the equivalent command's ``settings``.

    Raises:
        gr.Error: samples or seed out of range.
    """
    if not drawn:
        return 1, 0
    samples, first_seed = int(num_samples or 1), int(seed or 0)
    if not 1 <= samples <= MAX_SAMPLES or first_seed < 0:
        raise _error(f"Samples must be 1 to {MAX_SAMPLES} and the seed >= 0")
    settings += (["--num_samples", str(samples)] if samples > 1 else []) + ["--seed", str(first_seed)]
    return samples, first_seed


def _header_size(file: Path) -> tuple[int, int]:
    """(width, height) of an image file from its header (:func:`gan_style.io.imagery.image_size`), nothing decoded;
    (0, 0) when the header cannot tell (the reader then gives the message)."""
    from gan_style.io.imagery import image_size

    try:
        return image_size(file)
    except ImageLoadError:
        return 0, 0


class _Uploads:
    """Reads the files the browser uploaded (or a bundled example): RGB images, or for a model trained on other data
    (:func:`~gan_style.demo.inference.reads_data`) the file as the model reads it."""

    def __init__(self, roots: Sequence[Path], max_pixels: int) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self.max_pixels = max_pixels

    def _checked(self, path: Any, what: str) -> Path:
        """The uploaded file ``path``, after the checks made before anything is decoded.

        Raises:
            gr.Error: no file; a file outside the upload folder and the examples; more than ``max_pixels`` pixels
                (from the header).
        """
        if not path:
            raise _error(f"Upload a {what} first.")
        file = Path(str(path)).resolve()
        name = file.name
        if not any(file.is_relative_to(root) for root in self.roots):
            raise _error(f"The {what} '{name}' was not uploaded through the page; upload the file itself.")
        width, height = _header_size(file)  # reads the header only: refuse huge images before decoding them
        if width * height > self.max_pixels:
            raise _error(
                f"The {what} '{name}' has {width}x{height} pixels, more than this demo decodes "
                f"({self.max_pixels} pixels, gan-style demo --max_pixels); downscale it first."
            )
        return file

    def read_data(self, path: Any, what: str, stylizer: Stylizer) -> torch.Tensor:
        """Read ``path`` (a file Gradio received) as ``stylizer`` reads its input, by
        :func:`gan_style.inference.run.read_input` (its type, bands and scaling, as ``gan-style stylize``):
        ``(1, C, H, W)`` float32 in [-1, 1].

        Raises:
            gr.Error: as :meth:`read`; a file the model cannot read (unreadable, other bands or another value type
                than it was trained on): one line naming the file and what the model reads.
        """
        file = self._checked(path, what)
        try:
            return read_input(file, stylizer)
        except (ImageLoadError, InvalidSettingError) as err:
            reason = str(err).split("; ")[0].replace(str(file), file.name)
            named = f"the {what}" if f"'{file.name}'" in reason else f"the {what} '{file.name}'"
            raise _error(f"Cannot use {named}: {reason}; upload {describe_data(stylizer)[0]} instead.") from None

    def read(self, path: Any, what: str) -> Image.Image:
        """Decode ``path`` (a file Gradio received) with :func:`~gan_style.data.images.load_image`.

        Raises:
            gr.Error: no file; a file outside the upload folder and the examples; more than ``max_pixels``
                pixels; an unreadable image. Each message names the upload by its file name.
        """
        file = self._checked(path, what)
        try:
            return load_image(file)
        except ImageLoadError as err:
            reason = str(err).split("; replace or remove it")[0].replace(str(file), file.name)
            raise _error(f"Cannot use the {what}: {reason}; upload a PNG, JPEG or WebP image instead.") from None


class _Results:
    """Where result PNGs are written before Gradio serves them: a private temporary folder, emptied of results
    older than an hour at each write and removed when the process ends."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gan-style-demo-")
        self.root = Path(self._folder.name)

    def target(self, stem: str, suffix: str) -> Path:
        """A new file ``<stem><suffix>`` in a folder of its own (``stem`` reduced to safe characters)."""
        cutoff = time.time() - 3600
        for old in self.root.iterdir():
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        target = self.root / uuid.uuid4().hex / f"{re.sub(r'[^A-Za-z0-9_.+-]+', '_', stem).strip('_')}{suffix}"
        target.parent.mkdir()
        return target

    def write(self, image: torch.Tensor, stem: str) -> Path:
        target = self.target(stem, ".png")
        to_png(image, target)
        return target

    def write_output(self, image: torch.Tensor, stem: str, stylizer: Stylizer) -> Path:
        """``image`` as ``gan-style stylize`` writes the model's output (:func:`~gan_style.inference.run.write_output`,
        named ``<stem>`` + :func:`~gan_style.inference.run.output_suffix`)."""
        return write_output(image, self.target(stem, output_suffix(stylizer)), stylizer)

    def write_display(self, picture: np.ndarray, stem: str) -> Path:
        """An 8-bit RGB picture (H, W, 3) as ``<stem>.png`` (lossless: the page shows it as it is)."""
        target = self.target(stem, ".png")
        Image.fromarray(picture).save(target, format="PNG")
        return target


@contextlib.contextmanager
def _messages() -> Iterator[None]:
    """Show gan-style's user-facing errors (bad settings, unreadable images, missing weights) in the page."""
    try:
        yield
    except gr.Error:
        raise
    except Exception as exc:
        if not handled(exc):
            raise
        raise _error(error_message(exc)) from None


def _parse_weights(text: str | None) -> list[float] | None:
    if not text or not text.strip():
        return None
    try:
        return [float(w) for w in re.split(r"[,\s]+", text.strip())]
    except ValueError:
        raise _error(f"Style weights must be numbers separated by commas (0.3, 0.7), got {text!r}") from None


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "default"


def _describe(model: DemoModel) -> str:
    s = model.stylizer
    size = f"{s.default_size} px" if s.default_size else "512 px"
    kind = "feed-forward network" if s.feed_forward else "optimization (slow: each image is optimized)"
    style = "takes style images" if s.takes_style else "translates images (no style input)"
    if s.takes_style and s.style_optional:
        style = "diverse outputs: an example image's style, or styles drawn at random"
    controls = ", ".join(s.controls) or "none"
    text = f"**{model.method}** · {kind} · {style} · controls: {controls} · runs at {size} by default"
    if reads_data(s):
        reads, writes = describe_data(s)
        text += f"\n\nReads {reads}; writes {writes}."
    return text


def _shows_bands(stylizer: Stylizer) -> bool:
    """Whether the display bands matter: a model of other data whose input or output has several bands (the output's
    from its per-band scaling, else from the file type it is written as)."""
    if not reads_data(stylizer):
        return False
    scaling = stylizer.output_scaling
    several_out = scaling.bands > 1 if scaling is not None and scaling.bands else output_suffix(stylizer) == ".tif"
    return input_channels(stylizer) > 1 or several_out


def _bands(text: Any) -> Any:
    """:func:`~gan_style.demo.inference.parse_bands`, its error as a message in the page."""
    try:
        return parse_bands(text)
    except ValueError as err:
        raise _error(str(err)) from None


def _command(model: DemoModel, content: str, styles: list[str], settings: list[str]) -> str:
    words = ["gan-style", "stylize", *model.options, "--content", content]
    if styles:
        words += ["--style", "[" + ",".join(styles) + "]"] if len(styles) > 1 else ["--style", styles[0]]
    return " ".join(shlex.quote(w) for w in words + settings)


def build_demo(
    models: Sequence[DemoModel],
    device: str | torch.device = "cpu",
    max_pixels: int = DEFAULT_MAX_PIXELS,
    examples: tuple[Sequence[Path], Sequence[Path]] | None = None,
    unavailable: Sequence[str] = (),
) -> gr.Blocks:
    """The demo page for ``models``.

    Args:
        models: the models to offer (:func:`gan_style.demo.models.load_models`), at least one; they run on
            ``device``.
        device: where the models are ("cpu").
        max_pixels: uploads with more pixels (width x height) are refused with a message before decoding, and so
            are output sizes that would give a larger result (or a larger style image), before anything is resized
            (:data:`DEFAULT_MAX_PIXELS`, 4096 x 4096).
        examples: (content images, style images) offered as examples; None (default): :func:`bundled_examples`.
        unavailable: one line per model given on the command line that could not be loaded (``--pretrained NAME:
            <why>``, from :func:`gan_style.demo.models.load_models`' ``failures``), listed under the title; empty
            (default): none.

    Returns:
        The page, with the queue set up (one model call at a time); start it with ``launch()``. Its API
        endpoints are ``/stylize`` (8-bit RGB models; inputs as the Stylize tab; returns the result PNG's path and a
        Markdown line with the time), ``/stylize_data`` (models trained on other data; model, content file, display
        bands, size, tile, tile overlap, tile statistics, samples, seed; returns the content and the result as
        shown, the full-precision result file and the Markdown line) and ``/compare``.

    Raises:
        ValueError: no models.
    """
    if not models:
        raise ValueError("the demo needs at least one model")
    by_name = {m.name: m for m in models}
    names = list(by_name)
    dev = torch.device(device)
    content_examples, style_examples = bundled_examples() if examples is None else examples
    example_roots = {Path(p).resolve().parent for p in [*content_examples, *style_examples]}
    results = _Results()
    runner = ModelRunner()

    def pick(name: str) -> DemoModel:
        if name not in by_name:
            raise _error(f"Unknown model {name!r}; choose one of: {', '.join(names)}")
        return by_name[name]

    def controls_for(name: str) -> list[Any]:
        s = pick(name).stylizer
        data = reads_data(s)
        return [
            _describe(pick(name)),
            gr.update(visible=s.takes_style and not data),
            gr.update(visible="style_weights" in s.controls and not data),
            gr.update(visible="masks" in s.controls and not data),
            gr.update(visible="alpha" in s.controls and not data),
            gr.update(visible="preserve_color" in s.controls and not data),
            gr.update(visible=s.feed_forward),
            gr.update(visible=s.stochastic),
            # an 8-bit RGB model takes an image (and the examples), a model of other data a file
            gr.update(visible=not data),
            gr.update(visible=data),
            gr.update(visible=_shows_bands(s)),
            gr.update(visible=not data),
            gr.update(visible=data),
            gr.update(visible=data, value=None),
        ]

    def preview(path: str | None) -> Image.Image | None:
        if not path:
            return None
        image = uploads.read(path, "content image")
        image.thumbnail((512, 512))
        return image

    def show_content(path: str, stylizer: Stylizer, shown: Any, content: torch.Tensor | None = None) -> str:
        """The content file as ``stylizer`` reads it through the display mapping: a PNG ``<stem>_content.png``."""
        x = uploads.read_data(path, "content file", stylizer) if content is None else content
        return str(results.write_display(show_input(x, shown), f"{Path(path).stem}_content"))

    def preview_data(name: str, path: str | None, bands: str) -> str | None:
        """The content file as the chosen model reads it, shown through the display mapping."""
        stylizer = pick(name).stylizer
        if not path or not reads_data(stylizer):
            return None
        shown = _bands(bands)
        with _messages():
            return show_content(path, stylizer, shown)

    def run(
        name: str,
        content: str | None,
        styles: list[str] | None,
        style_weights: str,
        masks: list[str] | None,
        alpha: float,
        preserve_color: str,
        size: str,
        tile: float | None,
        tile_overlap: float | None,
        tile_norm: str,
        num_samples: float | None,
        seed: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - Gradio's way of asking for progress
    ) -> tuple[str, str]:
        """One model on one image (several samples side by side for a model with diverse outputs); returns (result
        PNG, Markdown with the time and the equivalent command)."""
        model = pick(name)
        if reads_data(model.stylizer):
            reads, _ = describe_data(model.stylizer)
            raise _error(f"{name} reads {reads}: upload a content file and run it with /stylize_data.")
        size_value = parse_size(size)
        with _messages():
            image = uploads.read(content, "content image")
            stylizer = model.stylizer_for(size_value)
            takes = stylizer.takes_style
            tile_px = int(tile) if stylizer.feed_forward and tile else None
            check_output_size(image, stylizer, size_value, bool(tile_px), max_pixels)
            style_files = list(styles or []) if takes else []
            style_images = [uploads.read(p, "style image") for p in style_files]
            if not stylizer.resizes_inputs:  # styles are resized to the output size too
                for style_image in style_images:
                    check_output_size(style_image, stylizer, size_value, True, max_pixels, "style image")
            mask_files = list(masks or []) if takes and "masks" in stylizer.controls else []
            mask_images = [uploads.read(p, "mask") for p in mask_files]
            controls: dict[str, Any] = {}
            settings = [] if size_value == "auto" else ["--size", "null" if size_value is None else str(size_value)]
            if "alpha" in stylizer.controls and alpha is not None:
                controls["alpha"] = float(alpha)
                settings += ["--alpha", f"{float(alpha):g}"]
            weights = _parse_weights(style_weights) if "style_weights" in stylizer.controls and takes else None
            if weights:
                controls["style_weights"] = weights
                settings += ["--style_weights", "[" + ",".join(f"{w:g}" for w in weights) + "]"]
            if "preserve_color" in stylizer.controls and preserve_color in PRESERVE_CHOICES[1:]:
                controls["preserve_color"] = preserve_color
                settings += ["--preserve_color", preserve_color]
            overlap = int(tile_overlap if tile_overlap is not None else 64)
            if tile_px:
                settings += ["--tile", str(tile_px), "--tile_overlap", str(overlap), "--tile_norm", tile_norm]
            if mask_files:
                settings += ["--masks", "[" + ",".join(Path(m).name for m in mask_files) + "]"]
            drawn = stylizer.stochastic and not style_images  # an example image's style, else styles drawn
            samples, first_seed = _draws(drawn, num_samples, seed, settings)
            progress(0, desc=f"waiting for the device ({name})")
            with _turn(runner, request):
                progress(0, desc=f"running {name}")
                start = time.perf_counter()
                outputs = [
                    stylize_image(
                        stylizer,
                        image,
                        style_images,
                        size_value,
                        mask_images,
                        tile_px,
                        overlap,
                        tile_norm,
                        dev,
                        progress=bool(tile_px),
                        **controls,
                        **({"seed": first_seed + k} if drawn else {}),
                    )
                    for k in range(samples)
                ]
                y = outputs[0] if samples == 1 else sample_grid(outputs)
                seconds = time.perf_counter() - start
        stem = Path(content).stem + ("_" + "+".join(Path(p).stem for p in style_files) if style_files else "")
        stem += "_samples" if samples > 1 else ""
        target = results.write(y, stem)
        command = _command(model, Path(content).name, [Path(p).name for p in style_files], settings)
        info = (
            f"**{name}** · {y.shape[-1]}x{y.shape[-2]} px · {seconds:.2f} s on {dev.type}\n\n"
            f"Same pixels from the command line: `{command}`"
        )
        return str(target), info

    def run_data(
        name: str,
        content: str | None,
        bands: str,
        size: str,
        tile: float | None,
        tile_overlap: float | None,
        tile_norm: str,
        num_samples: float | None,
        seed: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - Gradio's way of asking for progress
    ) -> tuple[str, str, str, str, dict[str, str]]:
        """A model trained on other data than 8-bit RGB on one uploaded file, read and written as ``gan-style
        stylize`` reads and writes it; returns (the content as shown, the result as shown (PNGs), the
        full-precision result file, Markdown with the time and the equivalent command, the state the display bands
        re-read)."""
        model = pick(name)
        size_value = parse_size(size)
        shown = _bands(bands)
        with _messages():
            stylizer = model.stylizer_for(size_value)
            if not reads_data(stylizer):
                raise _error(f"{name} is an 8-bit RGB model: upload a content image and run it with /stylize.")
            if stylizer.takes_style and not stylizer.style_optional:
                raise _error(f"{name} needs style images, which this page gives to 8-bit RGB models only.")
            x = uploads.read_data(content, "content file", stylizer)
            tile_px = int(tile) if stylizer.feed_forward and tile else None
            _check_output_pixels(x.shape[-2], x.shape[-1], stylizer, size_value, max_pixels)
            settings = [] if size_value == "auto" else ["--size", "null" if size_value is None else str(size_value)]
            overlap = int(tile_overlap if tile_overlap is not None else 64)
            if tile_px:
                settings += ["--tile", str(tile_px), "--tile_overlap", str(overlap), "--tile_norm", tile_norm]
            samples, first_seed = _draws(stylizer.stochastic, num_samples, seed, settings)  # styles drawn at random
            progress(0, desc=f"waiting for the device ({name})")
            with _turn(runner, request):
                progress(0, desc=f"running {name}")
                start = time.perf_counter()
                outputs = [
                    stylize_image(
                        stylizer,
                        x,
                        size=size_value,
                        tile=tile_px,
                        tile_overlap=overlap,
                        tile_norm=tile_norm,
                        device=dev,
                        progress=bool(tile_px),
                        **({"seed": first_seed + k} if stylizer.stochastic else {}),
                    )
                    for k in range(samples)
                ]
                y = outputs[0] if samples == 1 else sample_grid(outputs)
                seconds = time.perf_counter() - start
            stem = Path(content).stem + ("_samples" if samples > 1 else "")  # the name gan-style stylize writes
            written = results.write_output(y, stem, stylizer)
            picture = results.write_display(show_output(written, stylizer, shown), f"{stem}_display")
            content_shown = show_content(content, stylizer, shown, x)
        command = _command(model, Path(content).name, [], settings)
        info = (
            f"**{name}** · {y.shape[-1]}x{y.shape[-2]} px, {y.shape[-3]} band(s) · {seconds:.2f} s on {dev.type} · "
            f"download: `{written.name}`\n\nSame file from the command line: `{command}`"
        )
        return content_shown, str(picture), str(written), info, {"model": name, "file": str(written)}

    def redisplay(name: str, content: str | None, bands: str, last: dict[str, str] | None) -> tuple[Any, Any]:
        """The content and the last result of this visitor shown with other display bands (nothing is run)."""
        stylizer = pick(name).stylizer
        if not reads_data(stylizer):
            return gr.skip(), gr.skip()
        shown = _bands(bands)
        with _messages():
            content_shown = show_content(content, stylizer, shown) if content else None
            picture: Any = gr.skip()
            if last and last.get("model") == name and Path(last["file"]).is_file():
                written = Path(last["file"])
                picture = str(results.write_display(show_output(written, stylizer, shown), f"{written.stem}_display"))
        return content_shown, picture

    def compare(
        chosen: list[str] | None,
        content: str | None,
        styles: list[str] | None,
        size: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 - Gradio's way of asking for progress
    ) -> tuple[list[tuple[str, str]], str]:
        """Each chosen model on the same content (and styles); returns gallery items and a Markdown summary."""
        if not chosen or len(chosen) < 2:
            raise _error("Choose two or more models to compare.")
        picked = [pick(n) for n in chosen]
        other_data = list(dict.fromkeys(m.name for m in picked if reads_data(m.stylizer)))
        if other_data:
            raise _error(
                f"Side by side compares 8-bit RGB models; {', '.join(other_data)} read other data: run them in the "
                "Stylize tab."
            )
        size_value = parse_size(size)
        lines, items = [], []
        with _messages():
            image = uploads.read(content, "content image")
            style_images = [uploads.read(p, "style image") for p in styles or []]
            needs_style = [m.name for m in picked if m.stylizer.takes_style]
            if needs_style and not style_images:
                raise _error(f"{', '.join(needs_style)} need style images: upload one or more.")
            stylizers = [model.stylizer_for(size_value) for model in picked]
            for stylizer in stylizers:  # every output fits before the first model runs
                check_output_size(image, stylizer, size_value, False, max_pixels)
                if stylizer.takes_style and not stylizer.resizes_inputs:
                    for style_image in style_images:
                        check_output_size(style_image, stylizer, size_value, True, max_pixels, "style image")
            for i, (model, stylizer) in enumerate(zip(picked, stylizers, strict=True)):
                given = style_images if stylizer.takes_style else []
                progress((i, len(picked)), desc=f"waiting for the device ({model.name})")
                with _turn(runner, request):
                    progress((i, len(picked)), desc=f"running {model.name}")
                    start = time.perf_counter()
                    y = stylize_image(stylizer, image, given, size_value, device=dev)
                    seconds = time.perf_counter() - start
                target = results.write(y, f"{Path(content).stem}_{model.name}")
                items.append((str(target), f"{model.name} · {seconds:.2f} s"))
                lines.append(f"- **{model.name}**: {y.shape[-1]}x{y.shape[-2]} px, {seconds:.2f} s on {dev.type}")
        return items, "\n".join(lines)

    first = models[0]
    first_data = reads_data(first.stylizer)
    with gr.Blocks(title="gan-style demo", analytics_enabled=False, delete_cache=(3600, 3600)) as page:
        gr.Markdown(
            "# gan-style demo\nStyle transfer and image-to-image translation with the models this server was "
            "started with. Runs are queued: one model call at a time."
        )
        if unavailable:
            gr.Markdown(
                "**Not loaded** (left out of this page):\n"
                + "\n".join(f"- `{line.partition(': ')[0]}`: {line.partition(': ')[2]}" for line in unavailable),
                elem_id="not-loaded",
            )
        with gr.Tab("Stylize"):
            with gr.Row():
                with gr.Column():
                    model = gr.Dropdown(names, value=first.name, label="Model (method · source)")
                    about = gr.Markdown(_describe(first))
                    with gr.Column(visible=not first_data) as image_group:
                        content = gr.File(
                            label="Content image", file_types=["image"], type="filepath", elem_id="content"
                        )
                        if content_examples:
                            gr.Examples([[str(p)] for p in content_examples], inputs=[content], label="Example photos")
                    with gr.Column(visible=first_data) as file_group:  # models trained on other data than 8-bit RGB
                        content_file = gr.File(
                            label="Content file (TIFF, 16-bit PNG, .npy ...: the data the model was trained on)",
                            file_types=list(IMAGERY_EXTENSIONS),
                            type="filepath",
                            elem_id="content-file",
                        )
                    bands = gr.Textbox(
                        label="Display bands (R, G, B, numbered from 0: 0, 1, 2; one number: that band as gray; empty: "
                        "the first three bands, gray for one band); Enter to apply",
                        placeholder="0, 1, 2",
                        visible=_shows_bands(first.stylizer),
                        elem_id="bands",
                    )
                    with gr.Group(visible=first.stylizer.takes_style and not first_data) as style_group:
                        styles = gr.File(
                            label="Style image(s)",
                            file_types=["image"],
                            file_count="multiple",
                            type="filepath",
                            elem_id="styles",
                        )
                        if style_examples:
                            gr.Examples([[[str(p)]] for p in style_examples], inputs=[styles], label="Example styles")
                    style_weights = gr.Textbox(
                        label="Style weights (one per style, e.g. 0.3, 0.7; empty: equal)",
                        visible="style_weights" in first.stylizer.controls and not first_data,
                    )
                    masks = gr.File(
                        label="Masks (one per style; white = apply that style there)",
                        file_types=["image"],
                        file_count="multiple",
                        type="filepath",
                        visible="masks" in first.stylizer.controls and not first_data,
                    )
                    alpha = gr.Slider(
                        0.0,
                        1.0,
                        value=1.0,
                        step=0.05,
                        label="Alpha (0: content, 1: full style)",
                        visible="alpha" in first.stylizer.controls and not first_data,
                    )
                    preserve = gr.Radio(
                        PRESERVE_CHOICES,
                        value=PRESERVE_CHOICES[0],
                        label="Colour preservation",
                        visible="preserve_color" in first.stylizer.controls and not first_data,
                    )
                    with gr.Row(visible=first.stylizer.stochastic) as samples_group:
                        num_samples = gr.Slider(
                            1, MAX_SAMPLES, value=1, step=1, label="Samples (each draws its own style)",
                            elem_id="num-samples",
                        )  # fmt: skip
                        seed = gr.Number(0, precision=0, minimum=0, label="Seed", elem_id="seed")
                    with gr.Accordion("Size and tiles", open=False, elem_id="size-and-tiles"):
                        size = gr.Dropdown(
                            SIZE_CHOICES,
                            value="auto",
                            allow_custom_value=True,
                            label="Output size (shorter side in pixels; auto: the model's own; original: the photo's)",
                            elem_id="size",
                        )
                        with gr.Group(visible=first.stylizer.feed_forward) as tile_group:
                            tile = gr.Number(0, precision=0, label="Tile size in pixels (0: whole image at once)")
                            tile_overlap = gr.Number(64, precision=0, label="Tile overlap in pixels")
                            tile_norm = gr.Radio(["image", "tile"], value="image", label="Normalization statistics")
                    with gr.Row():
                        run_button = gr.Button("Run", variant="primary", elem_id="run", visible=not first_data)
                        run_file_button = gr.Button("Run", variant="primary", elem_id="run-file", visible=first_data)
                        cancel_button = gr.Button("Cancel", variant="stop")
                with gr.Column():
                    content_view = gr.Image(label="Content", interactive=False, height=300, elem_id="content-view")
                    # no fixed height: the result is shown at its own size (pixel for pixel) up to the column's width,
                    # not scaled into a fixed box; fullscreen shows it at full size up to the screen's
                    result = gr.Image(
                        label="Result",
                        type="filepath",
                        format="png",
                        interactive=False,
                        height=None,
                        buttons=["download", "fullscreen"],
                        elem_id="result",
                    )
                    result_file = gr.File(
                        label="Result file, full precision (as gan-style stylize writes it)",
                        interactive=False,
                        visible=first_data,
                        elem_id="result-file",
                    )
                    result_info = gr.Markdown(elem_id="result-info")
                    last_result = gr.State(None)  # the visitor's last result file, for other display bands
        with gr.Tab("Side by side"):
            with gr.Row():
                with gr.Column():
                    chosen = gr.CheckboxGroup(names, value=names[:2], label="Models (two or more)")
                    content_2 = gr.File(
                        label="Content image", file_types=["image"], type="filepath", elem_id="content-2"
                    )
                    if content_examples:
                        gr.Examples([[str(p)] for p in content_examples], inputs=[content_2], label="Example photos")
                    styles_2 = gr.File(
                        label="Style image(s), for the models that take them",
                        file_types=["image"],
                        file_count="multiple",
                        type="filepath",
                        elem_id="styles-2",
                    )
                    size_2 = gr.Dropdown(SIZE_CHOICES, value="auto", allow_custom_value=True, label="Output size")
                    with gr.Row():
                        compare_button = gr.Button("Compare", variant="primary", elem_id="compare")
                        cancel_button_2 = gr.Button("Cancel", variant="stop")
                with gr.Column():
                    gallery = gr.Gallery(
                        label="Results", columns=2, buttons=["download"], interactive=False, elem_id="gallery"
                    )
                    compare_info = gr.Markdown(elem_id="compare-info")

        model.change(
            controls_for,
            model,
            [about, style_group, style_weights, masks, alpha, preserve, tile_group, samples_group]
            + [image_group, file_group, bands, run_button, run_file_button, result_file],
            concurrency_limit=None,
            api_visibility="private",
        )
        content.change(preview, content, content_view, concurrency_limit=None, api_visibility="private")
        content_file.change(
            preview_data, [model, content_file, bands], content_view, concurrency_limit=None, api_visibility="private"
        )
        for shown in (bands.submit, bands.blur):
            shown(
                redisplay,
                [model, content_file, bands, last_result],
                [content_view, result],
                concurrency_limit=None,
                api_visibility="private",
            )
        inputs = [model, content, styles, style_weights, masks, alpha, preserve, size, tile, tile_overlap, tile_norm]
        inputs += [num_samples, seed]
        running = run_button.click(
            run, inputs, [result, result_info], api_name="stylize", concurrency_limit=1, concurrency_id="model"
        )
        running_file = run_file_button.click(
            run_data,
            [model, content_file, bands, size, tile, tile_overlap, tile_norm, num_samples, seed],
            [content_view, result, result_file, result_info, last_result],
            api_name="stylize_data",
            concurrency_limit=1,
            concurrency_id="model",
        )
        comparing = compare_button.click(
            compare,
            [chosen, content_2, styles_2, size_2],
            [gallery, compare_info],
            api_name="compare",
            concurrency_limit=1,
            concurrency_id="model",
        )

        def stop(request: gr.Request) -> None:
            runner.cancel(_session(request))

        cancel_button.click(
            stop, None, None, cancels=[running, running_file], concurrency_limit=None, api_visibility="private"
        )
        cancel_button_2.click(stop, None, None, cancels=[comparing], concurrency_limit=None, api_visibility="private")
    # what the page may open: Gradio's upload folder (uploads land there) and the bundled examples
    uploads = _Uploads([Path(content.GRADIO_CACHE), *example_roots], max_pixels)
    page.queue(max_size=64, default_concurrency_limit=1)
    return page
