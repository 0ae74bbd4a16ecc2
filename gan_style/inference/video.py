"""Video: decode a clip, stylize its frames in batches through any feed-forward stylizer, encode the result,
streaming (memory does not grow with the clip's length).

- :class:`ClipReader`: the frames of a video file (``.mp4``, ``.mov``, ``.webm``, ``.gif``, ``.mkv``, ``.avi``)
  decoded by FFmpeg through PyAV, or of a folder of numbered image frames at a given frame rate;
- :class:`ClipWriter`: frames encoded by FFmpeg (H.264 in an mp4 by default, ``crf`` quality), the source's audio
  stream copied packet by packet (re-encoded only where the container cannot hold its codec), written under a
  temporary name and renamed once complete, so a failed or interrupted run never leaves a partial file under the
  final name;
- :func:`stylize_frames`: frames -> outputs through the stylizer's frame plan
  (:meth:`~gan_style.inference.Stylizer.plan_frames`) on the fast inference path
  (:class:`~gan_style.inference.fast.FastPath`), with temporal consistency ``none``, ``stats`` or ``flow``
  (:mod:`gan_style.inference.temporal`);
- :func:`stylize_video`: all of it, file to file, with a progress bar in frames/s.

PyAV (``av``) is the FFmpeg binding: its wheels bundle FFmpeg with libx264, libx265, libvpx and libopus, so
``pip install "gan-style[video]"`` is all a user installs (docs/video.md says why it was chosen).
"""

from __future__ import annotations

import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import Tensor

from gan_style.data.images import is_image_file, load_image, max_image_pixels
from gan_style.errors import DatasetNotFoundError, ImageLoadError, InvalidSettingError, MissingDependencyError
from gan_style.inference.fast import Backend, FastPath
from gan_style.inference.run import network_size, output_size, resize, resize_back
from gan_style.inference.sizing import MAX_OUTPUT_PIXELS
from gan_style.inference.stylizer import Stylizer
from gan_style.io.atomic import temporary_path

__all__ = [
    "CODECS",
    "TEMPORAL_MODES",
    "VIDEO_SUFFIXES",
    "ClipInfo",
    "ClipReader",
    "ClipStylizer",
    "ClipWriter",
    "VideoResult",
    "check_codec",
    "default_batch_size",
    "is_video_file",
    "output_suffix",
    "stylize_frames",
    "stylize_video",
]

VIDEO_EXTRA = 'pip install "gan-style[video]"'
#: File name endings (case-insensitive) read as video clips.
VIDEO_SUFFIXES = (".mp4", ".mov", ".webm", ".gif", ".mkv", ".avi", ".m4v")
#: ``--codec`` names and the FFmpeg encoders they stand for (any other FFmpeg encoder name is used as it is).
CODECS = {
    "h264": "libx264",
    "hevc": "libx265",
    "h265": "libx265",
    "vp9": "libvpx-vp9",
    "vp8": "libvpx",
    "av1": "libsvtav1",
    "mpeg4": "mpeg4",
    "gif": "gif",
}
#: Encoders that take ``crf`` (constant quality); others ignore ``--crf``.
_CRF_ENCODERS = ("libx264", "libx265", "libvpx-vp9", "libvpx", "libsvtav1", "libaom-av1")
#: Audio codecs each output container holds as they are (others are re-encoded to the first).
_AUDIO_CODECS = {
    "mp4": ("aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"),
    "mov": ("aac", "mp3", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s24le"),
    "webm": ("opus", "vorbis"),
}
_AUDIO_ENCODER = {"mp4": "aac", "mov": "aac", "webm": "libopus"}
_FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".webm": "webm", ".gif": "gif", ".mkv": "matroska"}
TEMPORAL_MODES = ("none", "stats", "flow")
Temporal = Literal["none", "stats", "flow"]


def _av():
    try:
        import av
    except ImportError as exc:
        raise MissingDependencyError(f"video needs PyAV (FFmpeg), which is not installed: {VIDEO_EXTRA}") from exc
    return av


def is_video_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` ends in one of :data:`VIDEO_SUFFIXES` (case-insensitive)."""
    return os.fspath(path).lower().endswith(VIDEO_SUFFIXES)


def _encoder_name(codec: str) -> str:
    return CODECS.get(codec.lower(), codec)


def output_suffix(codec: str = "h264") -> str:
    """The file ending a clip encoded with ``codec`` is written with: ``.gif`` for gif, ``.webm`` for vp8 / vp9,
    ``.mp4`` otherwise (H.264, HEVC, AV1, MPEG-4)."""
    name = _encoder_name(codec)
    if name == "gif":
        return ".gif"
    if name in ("libvpx", "libvpx-vp9"):
        return ".webm"
    return ".mp4"


# --- reading ------------------------------------------------------------------------------------------------
@dataclass
class ClipInfo:
    """What a clip is.

    Attributes:
        path: the video file or the folder of frames.
        frames: the number of frames the container declares (None when it does not say, e.g. some webm and
            gif files; the count of images for a folder).
        fps: frames per second (a fraction: 30000/1001 for NTSC).
        width, height: frame size in pixels.
        audio: whether it has an audio stream.
    """

    path: Path
    frames: int | None
    fps: Fraction
    width: int
    height: int
    audio: bool


def _frame_number(path: Path) -> tuple[int, str]:
    numbers = re.findall(r"\d+", path.stem)
    return (int(numbers[-1]) if numbers else -1, path.name)


class ClipReader:
    """The frames of a clip, decoded one at a time: iterate to get ``(H, W, 3)`` uint8 RGB arrays.

    Args:
        path: a video file (:data:`VIDEO_SUFFIXES`, anything FFmpeg decodes) or a folder of numbered image frames
            (``frame_0001.png``, ``0002.jpg`` ...: ordered by the last number in each name).
        fps: frames per second of a folder of frames (required there); None (default) for a video file, which
            keeps its own rate.

    Attributes:
        info: :class:`ClipInfo`.

    Frames get the pixel limit of images (:func:`gan_style.data.images.max_image_pixels`, 2 x
    ``PIL.Image.MAX_IMAGE_PIXELS``): a video file's declared frame size is checked when it is opened, before any
    frame is decoded, and each decoded frame's size before it is converted (a stream may change size midway).

    Raises:
        DatasetNotFoundError: ``path`` does not exist, or a folder without image frames.
        InvalidSettingError: a folder without ``fps``, ``fps <= 0``, or ``fps`` given for a video file.
        ImageLoadError: a file FFmpeg cannot open, that has no video stream, or whose frames have more pixels than
            the image limit (the message names the file, the frame size and the limit); for a folder, an unreadable
            or over-limit first frame.
        MissingDependencyError: PyAV is not installed (a video file).
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None) -> None:
        self.path = Path(path)
        self._frames: list[Path] | None = None
        if fps is not None and (not isinstance(fps, (int, float)) or fps <= 0):
            raise InvalidSettingError(f"--fps must be a number of frames per second > 0, got {fps!r}")
        if self.path.is_dir():
            if fps is None:
                raise InvalidSettingError(f"'{path}' is a folder: give --fps to read its numbered images as a clip")
            self._frames = sorted((p for p in self.path.iterdir() if is_image_file(p.name)), key=_frame_number)
            if not self._frames:
                raise DatasetNotFoundError(f"folder '{path}' holds no image frames to read as a clip")
            first = load_image(self._frames[0])
            self.info = ClipInfo(
                self.path, len(self._frames), Fraction(fps).limit_denominator(1001), first.width, first.height, False
            )
            return
        if not self.path.is_file():
            raise DatasetNotFoundError(f"video '{path}' does not exist")
        if fps is not None:
            raise InvalidSettingError(f"--fps is for a folder of frames; the video '{path}' keeps its own frame rate")
        av = _av()
        try:
            with av.open(str(self.path)) as container:
                if not container.streams.video:
                    raise ImageLoadError(f"'{path}' has no video stream; give a video file or a folder of frames")
                stream = container.streams.video[0]
                rate = stream.average_rate or stream.guessed_rate or stream.base_rate
                if not rate:
                    raise ImageLoadError(
                        f"cannot tell the frame rate of video '{path}'; re-encode it with a fixed rate"
                    )
                width, height = stream.codec_context.width, stream.codec_context.height
                _check_frame_pixels(self.path, width, height)  # the container's declared size: nothing decoded yet
                self.info = ClipInfo(
                    self.path,
                    int(stream.frames) or None,
                    Fraction(rate),
                    width,
                    height,
                    bool(container.streams.audio),
                )
        except av.error.FFmpegError as exc:
            raise ImageLoadError(f"cannot decode video '{path}': {_reason(exc)}") from None

    def __iter__(self) -> Iterator[np.ndarray]:
        if self._frames is not None:
            for frame in self._frames:
                yield np.asarray(load_image(frame))
            return
        av = _av()
        count = 0
        try:
            with av.open(str(self.path)) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"  # FFmpeg's own frame/slice threads
                for frame in container.decode(stream):
                    count += 1
                    _check_frame_pixels(self.path, frame.width, frame.height, count)  # before the RGB copy
                    yield frame.to_ndarray(format="rgb24")
        except av.error.FFmpegError as exc:
            raise ImageLoadError(f"cannot decode video '{self.path}' (frame {count + 1}): {_reason(exc)}") from None
        if count == 0:
            raise ImageLoadError(f"video '{self.path}' has no decodable frames")


def _check_frame_pixels(path: Path, width: int, height: int, frame: int | None = None) -> None:
    """Refuse frames with more pixels than images may have (:func:`~gan_style.data.images.max_image_pixels`).

    Raises:
        ImageLoadError: ``width * height`` is over the limit; the message names the file, the size and the limit.
    """
    limit = max_image_pixels()
    if limit is None or width * height <= limit:
        return
    which = "frames" if frame is None else f"frame {frame}"
    raise ImageLoadError(
        f"video '{path}' has {which} of {width}x{height} = {width * height} pixels, more than gan-style decodes "
        f"({limit} pixels, the image limit: 2 x PIL.Image.MAX_IMAGE_PIXELS); --size cannot help (frames are decoded "
        "whole): downscale the video first (ffmpeg -i IN -vf scale=-2:1080 OUT), or raise PIL.Image.MAX_IMAGE_PIXELS "
        "if you trust the file"
    )


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return re.sub(r"\s+", " ", str(text)).strip()


# --- writing ------------------------------------------------------------------------------------------------
_PALETTE_ORDER: list[int] | None = None


def _palette_order(av) -> list[int]:
    """How this PyAV lays out a pal8 palette's bytes (it has changed between versions): found once by converting
    a one-colour frame back to RGB, as a columns order of an (R, G, B, A) palette."""
    global _PALETTE_ORDER
    if _PALETTE_ORDER is None:
        colour = np.array([200, 30, 60, 255], dtype=np.uint8)
        for order in ([3, 0, 1, 2], [0, 1, 2, 3], [2, 1, 0, 3], [3, 2, 1, 0]):
            palette = np.zeros((256, 4), dtype=np.uint8)
            palette[0] = colour[order]
            frame = av.VideoFrame.from_ndarray((np.zeros((2, 2), np.uint8), palette), format="pal8")
            if frame.to_ndarray(format="rgb24")[0, 0].tolist() == colour[:3].tolist():
                _PALETTE_ORDER = order
                break
        else:
            raise InvalidSettingError(f"GIF output does not work with PyAV {av.__version__}; use --codec h264")
    return _PALETTE_ORDER


def _gif_frame(av, rgb: np.ndarray):
    """A frame for the GIF encoder: 256 colours chosen for this frame (median cut), as FFmpeg's pal8 wants."""
    from PIL import Image

    image = Image.fromarray(rgb).quantize(256, method=Image.Quantize.MEDIANCUT)
    palette = np.asarray(image.getpalette()[: 3 * 256], dtype=np.uint8).reshape(-1, 3)
    rgba = np.zeros((256, 4), dtype=np.uint8)
    rgba[: len(palette), :3] = palette
    rgba[:, 3] = 255
    return av.VideoFrame.from_ndarray((np.asarray(image), np.ascontiguousarray(rgba[:, _palette_order(av)])), "pal8")


class ClipWriter:
    """Encodes frames into a video file: under a temporary name beside ``target`` while it runs, renamed to
    ``target`` when the ``with`` block ends cleanly; on an error (or Ctrl-C) the temporary file is removed and an
    existing ``target`` is left as it was.

    Frames are ``(H, W, 3)`` uint8 RGB arrays of exactly ``width`` x ``height`` (:meth:`write`); frame i gets the
    time stamp ``i / fps``. The container follows ``target``'s ending (``.mp4``, ``.mov``, ``.webm``, ``.gif``,
    ``.mkv``).

    Args:
        target: the file to write.
        fps: frames per second (a Fraction keeps NTSC rates exact).
        width, height: frame size; H.264 / HEVC in 4:2:0 need even sizes (callers round to them).
        codec: ``h264`` (default, libx264), ``hevc``, ``vp9``, ``vp8``, ``av1``, ``mpeg4``, ``gif`` or any FFmpeg
            encoder name.
        crf: constant-quality factor for the encoders that take one (18, visually lossless for x264; lower is
            better and larger); ignored by others.
        audio_from: a video file whose first audio stream is copied into the output (None, the default: no audio);
            nothing happens when it has none. A GIF holds no audio (a warning says it is dropped).

    Raises:
        InvalidSettingError: a codec this FFmpeg build has no encoder for (the message lists what is there), an
            ending that is not a video container, ``crf`` < 0.
        MissingDependencyError: PyAV is not installed.
    """

    def __init__(
        self,
        target: str | os.PathLike,
        fps: Fraction | float,
        width: int,
        height: int,
        codec: str = "h264",
        crf: int = 18,
        audio_from: str | os.PathLike | None = None,
    ) -> None:
        self.av = _av()
        self.target = Path(target)
        self.format = _FORMATS.get(self.target.suffix.lower())
        if self.format is None:
            raise InvalidSettingError(
                f"cannot write a video to '{target}': use one of {', '.join(sorted(_FORMATS))} as the file ending"
            )
        if isinstance(crf, bool) or not isinstance(crf, int) or crf < 0:
            raise InvalidSettingError(f"--crf must be an integer >= 0, got {crf!r}")
        self.encoder = check_codec(codec)
        if (self.encoder == "gif") != (self.format == "gif"):
            raise InvalidSettingError(f"--codec {codec} does not go into a '{self.target.suffix}' file")
        self.fps = Fraction(fps).limit_denominator(1001) if not isinstance(fps, Fraction) else fps
        self.width, self.height, self.crf = int(width), int(height), crf
        self.audio_from = Path(audio_from) if audio_from is not None else None
        self.frames = 0
        self.audio = False

    def __enter__(self) -> ClipWriter:
        av = self.av
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = temporary_path(self.target)
        self.container = av.open(str(self.tmp), "w", format=self.format)
        try:
            stream = self.container.add_stream(self.encoder, rate=self.fps)
            stream.width, stream.height = self.width, self.height
            if self.encoder == "gif":
                stream.pix_fmt = "pal8"
            elif "yuv420p" in [f.name for f in stream.codec.video_formats or []]:
                stream.pix_fmt = "yuv420p"  # what players expect (4:2:0)
            if self.encoder in _CRF_ENCODERS:
                stream.options = {"crf": str(self.crf)}
                if self.encoder.startswith("libvpx"):  # constant quality; libvpx's default speed (0) is very slow
                    stream.options = {**stream.options, "b": "0", "cpu-used": "4", "row-mt": "1"}
            self.stream = stream
            self._open_audio()
        except BaseException:
            self._abort()
            raise
        return self

    def _open_audio(self) -> None:
        self._audio_in = self._audio_packets = None
        self._audio_out = self._transcode = None
        if self.audio_from is None:
            return
        av = self.av
        source = av.open(str(self.audio_from))
        if not source.streams.audio:
            source.close()
            return
        if self.format == "gif":
            source.close()
            warnings.warn("a GIF holds no audio: the clip's audio is left out", UserWarning, stacklevel=3)
            return
        audio = source.streams.audio[0]
        allowed = _AUDIO_CODECS.get(self.format)
        if allowed is None or audio.codec_context.name in allowed:
            self._audio_out = self.container.add_stream_from_template(audio)
        else:  # re-encode to what the container holds
            self._audio_out = self.container.add_stream(
                _AUDIO_ENCODER[self.format], rate=audio.codec_context.sample_rate
            )
            self._audio_out.layout = audio.codec_context.layout
            self._transcode = True
        self._audio_in, self._audio_stream = source, audio
        self._audio_packets = source.demux(audio)
        self._pending = None
        self.audio = True

    def _mux_audio(self, until: float | None) -> None:
        """Copy the source's audio packets up to ``until`` seconds (None: all that is left), interleaved with video."""
        if self._audio_packets is None:
            return
        while True:
            packet = self._pending
            if packet is None:
                packet = next(self._audio_packets, None)
                if packet is None:
                    self._audio_packets = None
                    if self._transcode:
                        for out in self._audio_out.encode(None):
                            self.container.mux(out)
                    return
                if packet.dts is None:
                    continue  # the demuxer's flush packet
            if until is not None and packet.pts is not None and float(packet.pts * packet.time_base) > until:
                self._pending = packet
                return
            self._pending = None
            if self._transcode:
                for frame in packet.decode():
                    frame.pts = None
                    for out in self._audio_out.encode(frame):
                        self.container.mux(out)
            else:
                packet.stream = self._audio_out
                self.container.mux(packet)

    def write(self, frame: np.ndarray) -> None:
        """Encode one ``(height, width, 3)`` uint8 RGB frame.

        Raises:
            ValueError: a frame of another shape or dtype.
        """
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(f"frames must be ({self.height}, {self.width}, 3) uint8, got {frame.shape} {frame.dtype}")
        av = self.av
        video_frame = _gif_frame(av, frame) if self.encoder == "gif" else av.VideoFrame.from_ndarray(frame, "rgb24")
        video_frame.pts = self.frames
        video_frame.time_base = 1 / self.fps  # the muxer may give the stream another time base
        for packet in self.stream.encode(video_frame):
            self.container.mux(packet)
        self.frames += 1
        self._mux_audio(float(self.frames / self.fps))

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._abort()
            return
        try:
            for packet in self.stream.encode(None):
                self.container.mux(packet)
            self._mux_audio(None)
            self._close()
            with open(self.tmp, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(self.tmp, self.target)
        except BaseException:
            self._abort()
            raise

    def _close(self) -> None:
        if self._audio_in is not None:
            self._audio_in.close()
            self._audio_in = None
        self.container.close()

    def _abort(self) -> None:
        try:
            self._close()
        except Exception:
            pass
        self.tmp.unlink(missing_ok=True)


def check_codec(codec: str) -> str:
    """The FFmpeg encoder ``codec`` stands for (:data:`CODECS`, or the name itself), checked to be in this build.

    Raises:
        InvalidSettingError: this FFmpeg build has no such encoder (the message lists the :data:`CODECS` it has).
        MissingDependencyError: PyAV is not installed.
    """
    av = _av()
    name = _encoder_name(codec)
    if not _can_encode(av, name):
        have = [f"{k} ({v})" if k != v else k for k, v in CODECS.items() if k != "h265" and _can_encode(av, v)]
        raise InvalidSettingError(
            f"--codec {codec}: this FFmpeg build (PyAV {av.__version__}) has no '{name}' encoder; available here: "
            f"{', '.join(have)}"
        )
    return name


def _can_encode(av, name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:
        return False
    return True


# --- stylizing ------------------------------------------------------------------------------------------------
def default_batch_size(stylizer: Stylizer, device: str | torch.device | None = None) -> int:
    """Frames per network call when none is given: 8 on a GPU; 1 on the CPU, where larger batches are no faster
    (at 256x256 the Johnson network ran 25% slower per frame in batches of 4 than one by one on this project's
    2-core machine)."""
    from gan_style.inference.fast import _module_device

    where = torch.device(device) if device is not None else _module_device(stylizer)
    return 8 if where.type == "cuda" else 1


def _batches(frames: Iterable[Tensor], batch_size: int) -> Iterator[Tensor]:
    batch: list[Tensor] = []
    for frame in frames:
        batch.append(frame.reshape(1, *frame.shape[-3:]))
        if len(batch) == batch_size:
            yield torch.cat(batch)
            batch = []
    if batch:
        yield torch.cat(batch)


class ClipStylizer:
    """Stylizes the frames of one clip, batch after batch in time order (the state of ``stats`` and ``flow`` is
    carried from one batch to the next; one instance per clip). :func:`stylize_frames` and :func:`stylize_video`
    use it; see :func:`stylize_frames` for the arguments and the temporal modes.

    ``clip_stylizer(batch)``: ``(b, 3, H, W)`` consecutive frames in [-1, 1] on any device -> ``(b, C, H, W)``
    float32 on the CPU in [-1, 1].

    Attributes:
        backend: the fast path's backend (``"auto"`` until the first batch has chosen).

    Raises:
        InvalidSettingError: an unknown ``temporal``, ``batch_size < 1``, a stylizer that is not feed-forward.
        ValueError: inputs and controls the stylizer refuses (from its ``plan_frames``).
        MissingDependencyError: ``flow`` without OpenCV.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        styles: Sequence[Tensor] | None = None,
        temporal: Temporal = "none",
        batch_size: int | None = None,
        backend: Backend = "auto",
        device: str | torch.device | None = None,
        smoothing: float = 0.9,
        flow_weight: float = 0.7,
        flow_method: Literal["dis", "farneback"] = "dis",
        expected_frames: int | None = None,
        **controls: Any,
    ) -> None:
        if temporal not in TEMPORAL_MODES:
            raise InvalidSettingError(f"--temporal must be one of {', '.join(TEMPORAL_MODES)}, got {temporal!r}")
        if batch_size is None:
            batch_size = default_batch_size(stylizer, device)
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidSettingError(f"--batch_size must be an integer >= 1, got {batch_size!r}")
        if not stylizer.feed_forward:
            raise InvalidSettingError(
                f"{stylizer.describe()} optimizes each image (not feed-forward); video needs a feed-forward network"
            )
        from gan_style.inference.temporal import FlowBlender, SmoothedNorm

        self.batch_size = batch_size
        plan = stylizer.plan_frames(styles, temporal == "stats", smoothing, **controls)
        calls = None if expected_frames is None else math.ceil(expected_frames / batch_size)
        self.fast = FastPath(stylizer, backend, device, expected_calls=calls, graph=plan.stateless)
        controls = {k: v for k, v in controls.items() if v is not None}
        styles = list(styles) if styles else None
        self._run = (lambda x: self.fast(x, styles, **controls)) if plan.stateless else self.fast.wrap(plan.fn)
        self._blender = FlowBlender(flow_weight, flow_method) if temporal == "flow" else None
        self._smoothed = SmoothedNorm(plan.smoothed_norm, smoothing) if plan.smoothed_norm is not None else None

    @property
    def backend(self) -> str:
        return self.fast.backend

    def __call__(self, batch: Tensor) -> Tensor:
        if self._smoothed is not None:
            with self._smoothed:
                out = self._run(batch)
        else:
            out = self._run(batch)
        if self._blender is not None:
            out = self._blender(batch.to(out.device), out)
        return out.clamp(-1.0, 1.0).cpu()


def stylize_frames(
    stylizer: Stylizer,
    frames: Iterable[Tensor],
    styles: Sequence[Tensor] | None = None,
    temporal: Temporal = "none",
    batch_size: int | None = None,
    backend: Backend = "auto",
    device: str | torch.device | None = None,
    smoothing: float = 0.9,
    flow_weight: float = 0.7,
    flow_method: Literal["dis", "farneback"] = "dis",
    expected_frames: int | None = None,
    **controls: Any,
) -> Iterator[Tensor]:
    """Stylize the frames of one clip, in order, in batches; yields the outputs batch by batch (streaming).

    ``temporal``:

    - ``none``: each frame as an image (the same as ``stylizer(frame)``);
    - ``stats``: normalization statistics that move smoothly over time, as the stylizer plans them
      (:meth:`~gan_style.inference.Stylizer.plan_frames` with ``temporal_statistics=True``; for instance-norm
      networks :class:`~gan_style.inference.temporal.SmoothedNorm`, for AdaIN its content statistics), a moving
      average with weight ``smoothing`` for the past;
    - ``flow``: each output blended with the previous output warped along the optical flow where the flow is
      reliable (:class:`~gan_style.inference.temporal.FlowBlender`, weight ``flow_weight``).

    Args:
        stylizer: a feed-forward stylizer.
        frames: each ``(3, H, W)`` or ``(1, 3, H, W)`` float in [-1, 1], all of one size (H, W multiples of the
            stylizer's ``size_multiple``), on any device.
        styles: style images ``(1, 3, h, w)`` in [-1, 1] on ``device`` (None: none; required when the stylizer
            takes style).
        temporal: ``"none"`` (default), ``"stats"`` or ``"flow"``.
        batch_size: frames per network call (None, the default: :func:`default_batch_size`, 8 on a GPU, 1 on the
            CPU).
        backend: the fast path's backend (``"auto"``; :class:`~gan_style.inference.fast.FastPath`).
        device: where the network runs (None: where the stylizer's weights are).
        smoothing: ``stats``: weight of the past in the moving average, in [0, 1) (0.9).
        flow_weight: ``flow``: weight of the warped previous output, in [0, 1] (0.7).
        flow_method: ``flow``: ``"dis"`` (default) or ``"farneback"``.
        expected_frames: about how many frames come (None: unknown); lets ``auto`` judge whether measuring
            ONNX Runtime pays off.
        controls: the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color``).

    Yields:
        ``(b, C, H, W)`` float32 on the CPU in [-1, 1], b <= ``batch_size``.

    Raises:
        InvalidSettingError: an unknown ``temporal``, ``batch_size < 1``, a stylizer that is not feed-forward.
        ValueError: inputs and controls the stylizer refuses (from its ``plan_frames``).
        MissingDependencyError: ``flow`` without OpenCV.
    """
    clip = ClipStylizer(
        stylizer,
        styles,
        temporal,
        batch_size,
        backend,
        device,
        smoothing,
        flow_weight,
        flow_method,
        expected_frames,
        **controls,
    )
    for batch in _batches(frames, clip.batch_size):
        yield clip(batch)


@dataclass
class VideoResult:
    """What :func:`stylize_video` wrote.

    Attributes:
        path: the output file.
        frames: frames written (the input's count).
        fps: frames per second (the input's).
        width, height: the output's frame size.
        audio: whether an audio stream was copied.
        backend: the fast path's backend that ran (``eager``, ``onnxruntime`` ...).
    """

    path: Path
    frames: int
    fps: Fraction
    width: int
    height: int
    audio: bool
    backend: str


def _to_uint8(images: Tensor) -> np.ndarray:
    """(b, C, H, W) in [-1, 1] -> (b, H, W, 3) uint8 (as ``to_image``: clamped, rounded); one channel is greyed."""
    x = ((images.float().clamp(-1, 1) + 1.0) * 127.5).round().to(torch.uint8)
    if x.shape[1] == 1:
        x = x.expand(-1, 3, -1, -1)
    return x[:, :3].permute(0, 2, 3, 1).contiguous().numpy()


def stylize_video(
    stylizer: Stylizer,
    source: str | os.PathLike,
    target: str | os.PathLike,
    styles: Sequence[Tensor] | None = None,
    size: int | None = None,
    fps: float | None = None,
    temporal: Temporal = "none",
    batch_size: int | None = None,
    backend: Backend = "auto",
    codec: str = "h264",
    crf: int = 18,
    device: str | torch.device | None = None,
    smoothing: float = 0.9,
    flow_weight: float = 0.7,
    progress: bool = True,
    max_pixels: int | None = MAX_OUTPUT_PIXELS,
    **controls: Any,
) -> VideoResult:
    """Stylize a clip, file to file, streaming: decode a few frames, run them, encode them, repeat.

    The output keeps the clip's frame count and frame rate; frames are sized like images by the one runner's policy
    (:mod:`gan_style.inference.run`: the clip's own size, or the shorter side ``size``; the network at that size
    rounded to its ``size_multiple``, resized back), odd sides less one pixel for codecs in 4:2:0; the audio stream
    is copied. Memory holds one batch of frames, the network
    and the codec's buffers, whatever the clip's length. Frame sizes over the limits (the clip's frames over the
    image limit, :func:`gan_style.data.images.max_image_pixels`, or its output frames over ``max_pixels``) are
    refused from the container's header, before any frame is decoded and before the output file is created.

    Args:
        stylizer: a feed-forward stylizer (eval mode).
        source: a video file or a folder of numbered frames (:class:`ClipReader`).
        target: the output file; its ending picks the container (:class:`ClipWriter`).
        styles: style images ``(1, 3, h, w)`` in [-1, 1] on ``device`` for stylizers that take them (None: none).
        size: the shorter side in pixels (None, the default: the clip's own).
        fps: frames per second of a folder of frames (None: required for a folder; a video keeps its own).
        temporal: ``"none"`` (default), ``"stats"`` or ``"flow"`` (:func:`stylize_frames`).
        batch_size: frames per network call (None, the default: 8 on a GPU, 1 on the CPU).
        backend: ``"auto"`` (default), ``"eager"``, ``"compile"`` or ``"onnxruntime"``
            (:class:`~gan_style.inference.fast.FastPath`).
        codec: ``"h264"`` (default), or another of :data:`CODECS` / an FFmpeg encoder name; must fit ``target``.
        crf: constant-quality factor (18).
        device: where the network runs (None: where the stylizer's weights are).
        smoothing: ``stats``: weight of the past (0.9).
        flow_weight: ``flow``: weight of the warped previous output (0.7).
        progress: show a progress bar with frames/s on stderr (True).
        max_pixels: the most pixels (width x height) an output frame may have, after ``size``
            (:data:`~gan_style.inference.sizing.MAX_OUTPUT_PIXELS`, 4096 x 4096, by default); None: no limit.
        controls: the stylizer's controls (``alpha``, ``style_weights``, ``preserve_color``).

    Returns:
        :class:`VideoResult`.

    Raises:
        DatasetNotFoundError, ImageLoadError: a missing or undecodable clip, or one whose frames are over the image
            limit (the message names it); no partial output is left.
        InvalidSettingError: a bad ``temporal``, ``batch_size``, ``fps``, ``codec``, ``crf`` or ``max_pixels``; output
            frames over ``max_pixels`` (the message names the clip, the sizes, ``--size`` and ``--max_pixels``).
        ValueError: ``target`` is ``source``.
        MissingDependencyError: PyAV (or OpenCV for ``flow``) is not installed.
    """
    from tqdm.auto import tqdm

    source, target = Path(source), Path(target)
    if target.resolve() == source.resolve():
        raise ValueError(f"output '{target}' would overwrite the input video; choose another output name")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels < 1):
        raise InvalidSettingError(f"--max_pixels must be a number of pixels >= 1 or null, got {max_pixels!r}")
    reader = ClipReader(source, fps)
    info = reader.info
    # the sizing of every door (gan_style.inference.run): the output at the clip's own size or --size, the network
    # at that size rounded to its multiple, resized back; 4:2:0 chroma needs even sides, so odd ones lose a pixel
    height, width = output_size(info.height, info.width, size)
    height, width = max(2, height // 2 * 2), max(2, width // 2 * 2)
    net_height, net_width = network_size(height, width, stylizer.size_multiple)
    if max_pixels is not None and height * width > max_pixels:
        at = f"--size {size}" if size else "their own size"
        raise InvalidSettingError(
            f"video '{source}' has {info.width}x{info.height} frames: at {at} they would be stylized at "
            f"{width}x{height} = {width * height} pixels, more than --max_pixels {max_pixels}; give a smaller --size "
            "(the shorter side, e.g. --size 512) or raise --max_pixels"
        )

    def frames() -> Iterator[Tensor]:
        for array in reader:
            yield resize(to_tensor_uint8(array), net_height, net_width)

    clip = ClipStylizer(
        stylizer,
        styles,
        temporal,
        batch_size,
        backend,
        device,
        smoothing,
        flow_weight,
        expected_frames=info.frames,
        **controls,
    )
    with ClipWriter(target, info.fps, width, height, codec, crf, source if info.audio else None) as writer:
        bar = tqdm(total=info.frames, unit="frame", desc=source.name, disable=not progress, leave=False)
        try:
            for batch in _batches(frames(), clip.batch_size):
                for frame in _to_uint8(resize_back(clip(batch), height, width)):
                    writer.write(frame)
                bar.update(batch.shape[0])
        finally:
            bar.close()
    return VideoResult(target, writer.frames, info.fps, width, height, writer.audio, clip.backend)


def to_tensor_uint8(array: np.ndarray) -> Tensor:
    """An ``(H, W, 3)`` uint8 RGB frame as ``(1, 3, H, W)`` float32 in [-1, 1] (as :func:`gan_style.data.transforms.to_tensor`)."""
    from torchvision.transforms.v2 import functional as TF

    array = np.ascontiguousarray(array) if array.flags.writeable else np.array(array)
    pixels = torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0)
    return TF.to_dtype(pixels, torch.float32, scale=True) * 2.0 - 1.0  # exactly as to_tensor converts an image
