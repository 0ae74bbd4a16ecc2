"""The demo page (Gradio): try any model given on the command line, and compare several on one photo.

:func:`build_demo` returns a ``gr.Blocks`` with two tabs:

- **Stylize**: a model (grouped by method), a content image (uploaded, or one of the bundled examples), style
  images with weights and masks for models that take them, alpha and colour preservation for models that accept
  them, output size and tiles; the result is shown and downloadable as PNG, with the time it took and the
  ``gan-style stylize`` command that gives the same pixels;
- **Side by side**: two or more models on the same content (and styles), one result each.

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
import torch
from PIL import Image

from gan_style.data.images import list_images, load_image
from gan_style.demo.inference import resolve_size, stylize_image, to_png
from gan_style.demo.models import DemoModel
from gan_style.demo.runner import ModelRunner, RunCancelled
from gan_style.errors import DatasetNotFoundError, ImageLoadError, error_message, handled
from gan_style.inference.run import sample_grid
from gan_style.inference.sizing import MAX_OUTPUT_PIXELS
from gan_style.inference.stylizer import Stylizer

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
    from gan_style.inference.run import output_size

    height, width = output_size(image.height, image.width, resolve_size(stylizer, size))  # the runner's policy
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


class _Uploads:
    """Reads the files the browser uploaded (or a bundled example) into RGB images."""

    def __init__(self, roots: Sequence[Path], max_pixels: int) -> None:
        self.roots = [Path(r).resolve() for r in roots]
        self.max_pixels = max_pixels

    def read(self, path: Any, what: str) -> Image.Image:
        """Decode ``path`` (a file Gradio received) with :func:`~gan_style.data.images.load_image`.

        Raises:
            gr.Error: no file; a file outside the upload folder and the examples; more than ``max_pixels``
                pixels; an unreadable image. Each message names the upload by its file name.
        """
        if not path:
            raise _error(f"Upload a {what} first.")
        file = Path(str(path)).resolve()
        name = file.name
        if not any(file.is_relative_to(root) for root in self.roots):
            raise _error(f"The {what} '{name}' was not uploaded through the page; upload the file itself.")
        try:
            with Image.open(file) as header:  # reads the header only: refuse huge images before decoding them
                width, height = header.size
        except Exception:  # noqa: BLE001 - load_image below gives the message for files Pillow cannot open
            width = height = 0
        if width * height > self.max_pixels:
            raise _error(
                f"The {what} '{name}' has {width}x{height} pixels, more than this demo decodes "
                f"({self.max_pixels} pixels, gan-style demo --max_pixels); downscale it first."
            )
        try:
            return load_image(file)
        except ImageLoadError as err:
            reason = str(err).split("; replace or remove it")[0].replace(str(file), name)
            raise _error(f"Cannot use the {what}: {reason}; upload a PNG, JPEG or WebP image instead.") from None


class _Results:
    """Where result PNGs are written before Gradio serves them: a private temporary folder, emptied of results
    older than an hour at each write and removed when the process ends."""

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="gan-style-demo-")
        self.root = Path(self._folder.name)

    def write(self, image: torch.Tensor, stem: str) -> Path:
        cutoff = time.time() - 3600
        for old in self.root.iterdir():
            if old.stat().st_mtime < cutoff:
                shutil.rmtree(old, ignore_errors=True)
        target = self.root / uuid.uuid4().hex / f"{re.sub(r'[^A-Za-z0-9_.+-]+', '_', stem).strip('_')}.png"
        target.parent.mkdir()
        to_png(image, target)
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
    return f"**{model.method}** · {kind} · {style} · controls: {controls} · runs at {size} by default"


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
        endpoints are ``/stylize`` (inputs as the Stylize tab; returns the result PNG's path and a Markdown
        line with the time) and ``/compare``.

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
        return [
            _describe(pick(name)),
            gr.update(visible=s.takes_style),
            gr.update(visible="style_weights" in s.controls),
            gr.update(visible="masks" in s.controls),
            gr.update(visible="alpha" in s.controls),
            gr.update(visible="preserve_color" in s.controls),
            gr.update(visible=s.feed_forward),
            gr.update(visible=s.stochastic),
        ]

    def preview(path: str | None) -> Image.Image | None:
        if not path:
            return None
        image = uploads.read(path, "content image")
        image.thumbnail((512, 512))
        return image

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
            samples, first_seed = 1, 0
            drawn = stylizer.stochastic and not style_images  # an example image's style, else styles drawn
            if drawn:
                samples = int(num_samples or 1)
                first_seed = int(seed or 0)
                if not 1 <= samples <= MAX_SAMPLES or first_seed < 0:
                    raise _error(f"Samples must be 1 to {MAX_SAMPLES} and the seed >= 0")
                settings += (["--num_samples", str(samples)] if samples > 1 else []) + ["--seed", str(first_seed)]
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
                    content = gr.File(label="Content image", file_types=["image"], type="filepath", elem_id="content")
                    if content_examples:
                        gr.Examples([[str(p)] for p in content_examples], inputs=[content], label="Example photos")
                    with gr.Group(visible=first.stylizer.takes_style) as style_group:
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
                        visible="style_weights" in first.stylizer.controls,
                    )
                    masks = gr.File(
                        label="Masks (one per style; white = apply that style there)",
                        file_types=["image"],
                        file_count="multiple",
                        type="filepath",
                        visible="masks" in first.stylizer.controls,
                    )
                    alpha = gr.Slider(
                        0.0,
                        1.0,
                        value=1.0,
                        step=0.05,
                        label="Alpha (0: content, 1: full style)",
                        visible="alpha" in first.stylizer.controls,
                    )
                    preserve = gr.Radio(
                        PRESERVE_CHOICES,
                        value=PRESERVE_CHOICES[0],
                        label="Colour preservation",
                        visible="preserve_color" in first.stylizer.controls,
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
                        run_button = gr.Button("Run", variant="primary", elem_id="run")
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
                    result_info = gr.Markdown(elem_id="result-info")
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
            [about, style_group, style_weights, masks, alpha, preserve, tile_group, samples_group],
            concurrency_limit=None,
            api_visibility="private",
        )
        content.change(preview, content, content_view, concurrency_limit=None, api_visibility="private")
        inputs = [model, content, styles, style_weights, masks, alpha, preserve, size, tile, tile_overlap, tile_norm]
        inputs += [num_samples, seed]
        running = run_button.click(
            run, inputs, [result, result_info], api_name="stylize", concurrency_limit=1, concurrency_id="model"
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

        cancel_button.click(stop, None, None, cancels=[running], concurrency_limit=None, api_visibility="private")
        cancel_button_2.click(stop, None, None, cancels=[comparing], concurrency_limit=None, api_visibility="private")
    # what the page may open: Gradio's upload folder (uploads land there) and the bundled examples
    uploads = _Uploads([Path(content.GRADIO_CACHE), *example_roots], max_pixels)
    page.queue(max_size=64, default_concurrency_limit=1)
    return page
