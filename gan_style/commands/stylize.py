"""``gan-style stylize``: one inference command for every method, through the method's stylizer.

Examples::

    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photo.jpg --style art.jpg --alpha 0.8
    gan-style stylize --checkpoint runs/adain/checkpoints/last.ckpt --content photos/ --style [a.jpg,b.jpg] \\
        --style_weights [0.3,0.7]
    gan-style stylize --checkpoint adain.ckpt --content face.jpg --style [a.jpg,b.jpg] --masks [fg.png,bg.png]
    gan-style stylize --checkpoint runs/cyclegan/checkpoints/last.ckpt --content photos/      # translation
    gan-style stylize --checkpoint runs/cyclegan/checkpoints/last.ckpt --network generator_ba --content paintings/
    gan-style stylize --method gatys --content photo.jpg --style art.jpg --size 512 --num_iterations 300
    gan-style stylize --pretrained horse2zebra --content photos/                    # a published model
    gan-style stylize --pretrained adain --content photo.jpg --style art.jpg
    gan-style stylize --import my_package.my_method --checkpoint runs/mine/checkpoints/last.ckpt --content photos/
    gan-style stylize --pretrained horse2zebra --content clip.mp4 --temporal flow      # a video, without flicker
    gan-style stylize --checkpoint adain.ckpt --content frames/ --fps 24 --style art.jpg --temporal stats

Everything method-specific comes from the stylizer the checkpoint's method hands out
(:meth:`gan_style.methods.GanStyleModule.stylizer`): its size multiple, whether it takes style images, which
controls it accepts, how it runs in tiles and over the frames of a video. Videos (``.mp4``, ``.mov``, ``.webm``,
``.gif``, ...) and folders of numbered frames (with ``--fps``) go through :func:`gan_style.inference.video.stylize_video`;
images and videos run on the fast inference path (:class:`gan_style.inference.fast.FastPath`, ``--backend``).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError

if TYPE_CHECKING:
    from gan_style.inference.stylizer import Stylizer

#: 4096 x 4096: :data:`gan_style.inference.sizing.MAX_OUTPUT_PIXELS` (a literal here, so --help imports no torch).
_MAX_OUTPUT_PIXELS = 16_777_216

__all__ = ["load_stylizer", "stylize"]


def load_stylizer(
    checkpoint: str | os.PathLike, network: str | None = None, device: Any = "cpu"
) -> tuple[Stylizer, str]:
    """The stylizer of a model from any source (:func:`gan_style.loading.load_stylizer`: a checkpoint, a run
    folder, a model folder, ``hf://owner/name``, a published name), in eval mode on ``device``, and a short
    description of it.

    Raises:
        FileMissingError, UnsafeFileError, UnreadableFileError, DownloadSettingError: from the loader.
        InferenceUnavailableError: the method hands out no stylizer.
    """
    from gan_style.loading import load_stylizer as load

    stylizer = load(checkpoint, network, device)
    return stylizer, stylizer.describe()


def _collect(paths: list[str], what: str, clips: list[Path] | None = None, fps: float | None = None) -> list[Path]:
    """Image files of ``paths``; with ``clips`` (content), video files and, with ``fps``, folders (clips of
    numbered frames) go there instead."""
    from gan_style.data.images import is_image_file, list_images
    from gan_style.inference.video import is_video_file

    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            if clips is not None and fps is not None:
                clips.append(path)
            else:
                files += list_images(path)
        elif path.is_file() and is_image_file(path.name):
            files.append(path)
        elif clips is not None and path.is_file() and is_video_file(path.name):
            clips.append(path)
        else:
            kind = "an image file, a video or a folder" if clips is not None else "an image file nor a folder of images"
            raise DatasetNotFoundError(f"{what} '{p}' is neither {kind}")
    if not files and not clips:
        raise ValueError(f"no {what} images given")
    return files


def _header_size(path: Path) -> tuple[int, int] | None:
    """(height, width) of the image file ``path`` from its header (nothing decoded); None when Pillow cannot open
    it (:func:`load_image` then says why)."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            width, height = img.size
    except Exception:  # noqa: BLE001 - load_image gives the message for files Pillow cannot open
        return None
    return height, width


def _mask_images(masks: list[str]) -> list[Any]:
    """The mask files as PIL images (the runner sizes them to each output)."""
    from PIL import Image

    images = []
    for m in masks:
        if not Path(m).is_file():
            raise DatasetNotFoundError(f"mask '{m}' is not an image file")
        with Image.open(m) as img:
            images.append(img.convert("L"))
    return images


def stylize(
    content: str | list[str],
    style: str | list[str] | None = None,
    checkpoint: str | None = None,
    method: Literal["gatys"] | None = None,
    pretrained: str | None = None,
    network: str | None = None,
    output_dir: str = "stylized",
    size: int | Literal["auto"] | None = None,
    alpha: float | None = None,
    style_weights: list[float] | None = None,
    masks: str | list[str] | None = None,
    preserve_color: Literal["none", "luminance", "histogram"] | None = None,
    device: str = "auto",
    num_iterations: int = 500,
    vgg_weights: str | None = "imagenet",
    style_weight: float = 1e6,
    tile: int | None = None,
    tile_overlap: int = 64,
    tile_norm: Literal["image", "tile"] = "image",
    skip_bad_images: bool = False,
    fps: float | None = None,
    temporal: Literal["none", "stats", "flow"] = "none",
    smoothing: float = 0.9,
    flow_weight: float = 0.7,
    batch_size: int | None = None,
    codec: str = "h264",
    crf: int = 18,
    backend: Literal["auto", "eager", "compile", "onnxruntime"] = "auto",
    max_pixels: int | None = _MAX_OUTPUT_PIXELS,
    num_samples: int = 1,
    seed: int | None = None,
) -> list[Path]:
    """Stylize or translate images and videos with a trained method, or images with Gatys optimization.

    Args:
        content: a content image file or folder, or a list of them (``[a.jpg,b.jpg]``); a video file (``.mp4``,
            ``.mov``, ``.webm``, ``.gif``, ``.mkv``, ``.avi``) is stylized into a video of the same frame count and
            frame rate, its audio copied (needs ``pip install "gan-style[video]"``); with ``--fps`` a folder is one
            clip of numbered frames (``0001.png``, ``0002.png`` ...). Not for Gatys, ``--tile`` or ``--masks``.
        style: a style image file, or a list of them, for methods that take style images (AdaIN, Gatys);
            several are interpolated with ``style_weights``. None (default): none.
        checkpoint: a checkpoint written by ``gan-style fit`` (any method that hands out a stylizer; a method of
            your own with ``--import its.module``). None (default): give ``method``.
        method: ``gatys`` to optimize each image instead of loading a checkpoint. None (default): give
            ``checkpoint`` or ``pretrained``.
        pretrained: a published model by name (``horse2zebra``, ``cyclegan/style_monet``, ``adain``,
            ``fast_neural_style/candy``; ``gan-style pretrained`` lists them), downloaded once into the torch hub
            cache (:func:`gan_style.pretrained.from_pretrained`). None (default): give ``checkpoint`` or
            ``method``.
        network: which of the method's networks runs (CycleGAN: ``generator_ab``, the default, or
            ``generator_ba``). None (default): the method's default.
        output_dir: where ``<content>_<styles>.png`` (or ``<content>.png`` for translation) is written
            ("stylized"), and ``<clip>_<styles>.mp4`` (``.webm`` for vp8 / vp9, ``.gif`` for gif) for a video;
            input files are never overwritten, and two inputs that would give the same output name are refused
            before anything is written.
        size: shorter side of the output in pixels, >= 1, the aspect ratio kept. None (default; ``auto`` means the
            same): each image's and video's own size. The network runs at the output size rounded to its size
            multiple (2^num_downs for a U-Net, 4 for the ResNet generator) and the result is resized back, so the
            output has exactly this size (:mod:`gan_style.inference.run`, the sizing of every door). Gatys runs at
            ``size`` (512 when None).
        alpha: content-style trade-off in [0, 1] (AdaIN). None (default): the model's setting.
        style_weights: interpolation weights of several styles. None (default): equal.
        masks: spatial control, one mask image per style (white = apply that style there). None (default).
        preserve_color: ``none``, ``luminance`` (keep the content's colours) or ``histogram`` (recolour the
            styles like the content first). None (default): the model's setting (``none`` for Gatys).
        device: ``auto`` (default: GPU when available), ``cpu`` or ``cuda``.
        num_iterations: Gatys: L-BFGS iterations (500).
        vgg_weights: Gatys: VGG-19 weights (``imagenet``: torch hub cache; a file; null: random, tests only).
        style_weight: Gatys: beta (1e6).
        tile: process the image in overlapping tiles of this many pixels (e.g. 512), blended without seams,
            so that a large image (4096x4096) fits in memory; the image stays on the CPU and only one tile at
            a time goes through the network (:func:`gan_style.inference.stylize_tiled`). None (default): tiles of
            512 only for outputs over 1024 x 1024 pixels, the whole image at once below. The tile must be a
            multiple of the stylizer's tile multiple (4 for the ResNet generator, 2^num_downs for a U-Net, 8 for
            AdaIN). Not for Gatys or ``--masks``.
        tile_overlap: minimum overlap of neighbouring tiles in pixels (64), smaller than ``tile``.
        tile_norm: statistics of the normalization layers with ``--tile``. ``image`` (default): those of the
            whole image, as without tiles, so tiles match in tone: one extra pass over the tiles per instance
            norm layer (about 10x the compute of ``tile`` for the CycleGAN ResNet generator, cheap on a GPU)
            and one encoder pass for AdaIN. ``tile``: each tile's own (fastest; tiles can differ in tone,
            blended smoothly but visible as soft patches on flat regions).
        skip_bad_images: False (default): an unreadable content image or video stops the command (files already
            written stay). True: it is skipped with a warning naming it, and the summary line counts it.
        fps: frames per second of a content folder read as one clip of numbered frames (None, the default: folders
            are folders of images; a video file always keeps its own rate).
        temporal: temporal consistency of videos (:func:`gan_style.inference.video.stylize_frames`). ``none``
            (default): each frame as an image. ``stats``: normalization statistics that move smoothly over time
            (a moving average over frames; AdaIN: its content statistics, the style statistics once). ``flow``:
            the previous output warped along the optical flow (OpenCV DIS) and blended in where the flow is
            reliable (forward-backward consistency), as Ruder et al. at inference.
        smoothing: ``--temporal stats``: weight of the past in the moving average, in [0, 1) (0.9, about 10
            frames).
        flow_weight: ``--temporal flow``: weight of the warped previous output where the flow is reliable, in
            [0, 1] (0.7).
        batch_size: video frames per network call (None, the default: 8 on a GPU, 1 on the CPU, where larger batches
            are no faster).
        codec: video codec (``h264``, the default, in an mp4; ``hevc``, ``vp9`` (webm), ``av1``, ``mpeg4``,
            ``gif``, or an FFmpeg encoder name).
        crf: video quality, constant-rate factor (18: visually lossless for H.264; lower is better and larger).
        backend: how the network runs (:class:`gan_style.inference.fast.FastPath`). ``auto`` (default): on a GPU
            channels-last with bfloat16 autocast; on the CPU eager, or ONNX Runtime when it measures faster on the
            first batch of a long job (8 batches or more). ``eager``, ``compile`` (``torch.compile``) or
            ``onnxruntime`` (translation networks without style images or controls; needs ``onnxruntime``).
        max_pixels: the most pixels (width x height) an output image or video frame may have, after ``--size``
            (16777216, 4096 x 4096: :data:`gan_style.inference.sizing.MAX_OUTPUT_PIXELS`); checked from the image
            headers and the video's container before anything is decoded, resized or written (``--tile`` bounds
            the network's memory, not the whole image's, so it applies with tiles too). null: no limit.
        num_samples: outputs per content image, >= 1 (1), for a model with diverse outputs (a stochastic stylizer
            such as MUNIT: each sample draws its own style code). Above 1, ``<content>_sample<k>.png`` (k from 0)
            and a grid of them, ``<content>_samples.png``, are written. A video gets one sample (one style code
            for the whole clip).
        seed: the seed of a stochastic stylizer's draws, >= 0 (None, the default: 0); sample k uses seed + k, so
            the same command gives the same images. Refused by models whose outputs are not random.

    Returns:
        The written files.

    Raises:
        ValueError: not exactly one of ``checkpoint``, ``method`` and ``pretrained``; an unknown ``pretrained`` name; a
            video with Gatys, ``--tile`` or ``--masks``; an output that would overwrite its input video; bad video
            settings (``fps``, ``temporal``, ``batch_size``, ``codec`` this FFmpeg lacks, ``crf``, ``backend``);
            style images missing for a stylizer that
            needs them or given to one that does not; a control the stylizer does not take (``--alpha`` for a
            translation model); masks with the wrong count; ``size`` < 1; ``tile`` with Gatys or ``--masks``,
            or a ``tile`` / ``tile_overlap`` that :func:`gan_style.inference.tiled_apply` refuses; two inputs
            with the same output name; an output (or a style image) over ``max_pixels`` at ``size``, or a
            ``max_pixels`` < 1 (:class:`~gan_style.errors.InvalidSettingError`).
        FileNotFoundError: a missing content, style, mask or checkpoint file.
        ImageLoadError: an unreadable content or style image, a video FFmpeg cannot decode, or one whose frames are
            over the image pixel limit (:func:`gan_style.data.images.max_image_pixels`) (a content image or video is
            skipped instead with ``skip_bad_images``); no partial video is left under its name.
        MissingDependencyError: a video without PyAV (or ``--temporal flow`` without OpenCV): ``pip install
            "gan-style[video]"``; ``--backend onnxruntime`` without ONNX Runtime.
        InferenceUnavailableError: the checkpoint's method hands out no stylizer.
        OfflineError, DownloadError, ChecksumError: a ``pretrained`` model that is not cached and cannot be
            downloaded; the message names the URL and where to put the file.
    """
    if sum(x is not None for x in (checkpoint, method, pretrained)) != 1:
        raise ValueError(
            "give one of --checkpoint (a trained method), --pretrained NAME (a published model) or --method gatys"
        )
    if pretrained is not None and network is not None:
        raise ValueError("--network picks a network of a checkpoint's method; a --pretrained model has one")
    if tile_norm not in ("image", "tile"):
        raise ValueError(f"tile_norm must be 'image' or 'tile', got {tile_norm!r}")
    if size is not None and size != "auto" and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"--size must be a number of pixels >= 1 (the shorter side), auto or null, got {size}")
    if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
        raise InvalidSettingError(f"--num_samples must be an integer >= 1, got {num_samples!r}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1):
        raise InvalidSettingError(f"--max_pixels must be a number of pixels >= 1 or null, got {max_pixels!r}")
    import torch

    from gan_style.data.images import load_image
    from gan_style.data.transforms import to_tensor
    from gan_style.inference.run import Runner, output_suffix, read_input, sample_grid, write_output

    size = None if size == "auto" else size
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise ValueError(f"--size must be a number of pixels >= 1 (the shorter side) or null, got {size}")
    dev = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    )
    clips: list[Path] = []
    contents = _collect([content] if isinstance(content, str) else content, "content", clips, fps)
    styles = _collect([style] if isinstance(style, str) else style, "style") if style else []
    masks = [masks] if isinstance(masks, str) else masks
    if method is not None:
        from gan_style.methods import OPTIMIZATION_METHODS

        stylizer: Stylizer = OPTIMIZATION_METHODS[method](
            size=size or 512,
            num_iterations=num_iterations,
            vgg_weights=vgg_weights,
            style_weight=style_weight,
        )
    else:
        if (checkpoint is None) == (pretrained is None):
            raise InvalidSettingError("give one of --checkpoint, --pretrained or --method")
        stylizer, _ = load_stylizer(checkpoint if checkpoint is not None else pretrained, network, dev)
    controls = {"alpha": alpha, "style_weights": style_weights, "masks": masks, "preserve_color": preserve_color}
    if stylizer.stochastic and styles:
        if seed is not None or num_samples > 1:
            raise InvalidSettingError(
                "--style gives every output the example's style; --seed and --num_samples draw styles at random: give "
                "one or the other"
            )
    elif stylizer.stochastic:
        controls["seed"] = 0 if seed is None else seed
    elif seed is not None or num_samples > 1:
        given = "--num_samples" if num_samples > 1 else "--seed"
        raise InvalidSettingError(
            f"{stylizer.describe()} gives one output per input (nothing in it is drawn at random); {given} is for "
            "models with diverse outputs (MUNIT)"
        )
    if clips and num_samples > 1:
        raise InvalidSettingError(
            "--num_samples is for images; a video gets one sample (one style code for the whole clip): choose it with "
            "--seed"
        )
    stylizer.check_inputs(styles, controls)  # before any image is read
    if masks and len(masks) != len(styles):
        raise ValueError(f"give one mask per style: {len(styles)} styles, {len(masks)} masks")
    if tile is not None and masks:
        raise ValueError(f"--tile works without --masks; {stylizer.describe()} was given --masks")
    # the one runner (gan_style.inference.run): sizing, tiles, precision and backend, as in every door
    runner = Runner(
        stylizer,
        size=size if stylizer.feed_forward else None,
        tile=tile,
        tile_overlap=tile_overlap,
        tile_norm=tile_norm,
        device=dev,
        backend=backend,
        max_pixels=max_pixels,
        expected_calls=len(contents),
    )
    if clips:
        _check_video_request(stylizer, tile, masks, temporal, batch_size, smoothing, flow_weight, crf, codec)
        from gan_style.inference.run import input_channels

        if stylizer.input_scaling is not None or input_channels(stylizer) != 3:
            raise InvalidSettingError(
                f"videos are 8-bit RGB, and {stylizer.describe()} was trained on {input_channels(stylizer)}-band "
                f"{getattr(stylizer.input_scaling, 'dtype', 'uint8')} data; stylize the frames as image files instead"
            )
    if not stylizer.feed_forward and backend not in ("auto", "eager"):
        raise InvalidSettingError(f"--backend {backend} is for feed-forward networks; {stylizer.describe()} optimizes")
    inputs = {p.resolve() for p in contents + styles + clips}
    out_dir = Path(output_dir)
    style_tag = "+".join(p.stem for p in styles)
    targets: dict[Path, Path] = {}
    suffix = output_suffix(stylizer)  # .png; .tif for N-band or float data
    for path in contents:
        target = out_dir / (f"{path.stem}_{style_tag}{suffix}" if style_tag else f"{path.stem}{suffix}")
        if target.resolve() in inputs:
            raise ValueError(f"output '{target}' would overwrite an input image; choose another output_dir")
        if target in targets.values():
            other = next(p for p, t in targets.items() if t == target)
            raise ValueError(
                f"content images '{other}' and '{path}' would both be written to '{target}'; stylize them into "
                "separate output folders or rename one"
            )
        targets[path] = target
    clip_targets: dict[Path, Path] = {}
    if clips:
        from gan_style.inference.video import output_suffix

        suffix = output_suffix(codec)
        for path in clips:
            name = f"{path.stem}_{style_tag}{suffix}" if style_tag else f"{path.stem}{suffix}"
            target = out_dir / name
            if target.resolve() in inputs or target.resolve() == path.resolve():
                raise ValueError(
                    f"output '{target}' would overwrite the input video '{path}'; choose another output_dir"
                )
            if target in clip_targets.values():
                other = next(p for p, t in clip_targets.items() if t == target)
                raise ValueError(
                    f"videos '{other}' and '{path}' would both be written to '{target}'; stylize them into separate "
                    "output folders or rename one"
                )
            clip_targets[path] = target

    # before any image is decoded or resized: every output the request asks for fits in max_pixels
    for path in contents:
        found = _header_size(path)
        if found is not None:
            try:
                runner.output_size(*found)
            except InvalidSettingError as err:
                raise InvalidSettingError(f"content image '{path}': {err}") from None
    written: list[Path] = []
    skipped: list[Path] = []
    from gan_style.io.atomic import remove_stale_temporaries

    remove_stale_temporaries(out_dir)  # partial images and videos of an earlier, killed stylize
    style_tensors = runner.prepare_styles([to_tensor(load_image(s)).unsqueeze(0) for s in styles])
    mask_images = _mask_images(masks) if masks else None
    run_controls = {k: v for k, v in controls.items() if v is not None and k != "masks"}
    for path, target in targets.items():
        try:
            x = read_input(path, stylizer)
        except ImageLoadError as err:
            if not skip_bad_images:
                raise ImageLoadError(str(err).replace("set skip_bad_images: true", "pass --skip_bad_images")) from None
            reason = str(err).split("; replace or remove it")[0]
            warnings.warn(f"{reason}; skipped (--skip_bad_images)", UserWarning, stacklevel=2)
            skipped.append(path)
            continue
        if num_samples == 1:
            written.append(write_output(runner(x, style_tensors, mask_images, **run_controls), target, stylizer))
            continue
        samples = []
        for k in range(num_samples):
            out = runner(x, style_tensors, mask_images, **{**run_controls, "seed": run_controls["seed"] + k})
            samples.append(out)
            written.append(write_output(out, target.with_name(f"{target.stem}_sample{k}{suffix}"), stylizer))
        grid = target.with_name(f"{target.stem}_samples{suffix}")
        written.append(write_output(sample_grid(samples), grid, stylizer))
    images = len(written)
    controls = {k: v for k, v in controls.items() if v is not None}
    for path, target in clip_targets.items():
        from gan_style.inference.video import stylize_video

        try:
            result = stylize_video(
                stylizer,
                path,
                target,
                style_tensors or None,
                size=size,
                fps=fps,
                temporal=temporal,
                batch_size=batch_size,
                backend=backend,
                codec=codec,
                crf=crf,
                device=dev,
                smoothing=smoothing,
                flow_weight=flow_weight,
                max_pixels=max_pixels,
                **controls,
            )
        except ImageLoadError as err:
            if not skip_bad_images:
                raise
            warnings.warn(f"{err}; skipped (--skip_bad_images)", UserWarning, stacklevel=2)
            skipped.append(path)
            continue
        audio = "audio copied" if result.audio else "no audio"
        print(
            f"stylize: {path} -> {target}: {result.frames} frames at {float(result.fps):.4g} fps, "
            f"{result.width}x{result.height}, {audio}, --temporal {temporal}, backend {result.backend}"
        )
        written.append(target)
    note = f" (skipped {len(skipped)} unreadable: {', '.join(str(p) for p in skipped)})" if skipped else ""
    videos = f" and {len(written) - images} video(s)" if clip_targets else ""
    print(f"stylize: wrote {images} image(s){videos} to {out_dir}{note}")
    return written


def _check_video_request(
    stylizer: Stylizer,
    tile: int | None,
    masks: list[str] | None,
    temporal: str,
    batch_size: int | None,
    smoothing: float,
    flow_weight: float,
    crf: int,
    codec: str,
) -> None:
    """Refuse what videos cannot do before any image or frame is read."""
    from gan_style.inference.video import TEMPORAL_MODES, check_codec

    if not stylizer.feed_forward:
        raise InvalidSettingError(
            f"{stylizer.describe()} optimizes each image; a video needs a feed-forward model (--checkpoint or "
            "--pretrained)"
        )
    if tile or masks:
        raise InvalidSettingError(f"videos run whole frames without {'--tile' if tile else '--masks'}")
    if temporal not in TEMPORAL_MODES:
        raise InvalidSettingError(f"--temporal must be one of {', '.join(TEMPORAL_MODES)}, got {temporal!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise InvalidSettingError(f"--batch_size must be an integer >= 1, got {batch_size!r}")
    if not 0.0 <= smoothing < 1.0:
        raise InvalidSettingError(f"--smoothing must be in [0, 1), got {smoothing}")
    if not 0.0 <= flow_weight <= 1.0:
        raise InvalidSettingError(f"--flow_weight must be in [0, 1], got {flow_weight}")
    if isinstance(crf, bool) or not isinstance(crf, int) or crf < 0:
        raise InvalidSettingError(f"--crf must be an integer >= 0, got {crf!r}")
    check_codec(codec)  # this FFmpeg build has the encoder (and PyAV is installed)


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style stylize``: arguments parsed from :func:`stylize`'s signature; errors as one
    line with the exit status of :mod:`gan_style.commands.runner`."""
    from gan_style.commands.runner import flag_form, run_command

    run_command(stylize, flag_form(args, switches=["skip_bad_images"]), "gan-style stylize")
