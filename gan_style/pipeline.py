"""The Python API for notebooks and scripts: ``gan_style.load`` a trained checkpoint or a published model, call it on
an image, get the same kind of image back at the input's size.

Example::

    import gan_style

    model = gan_style.load("horse2zebra")                  # or "runs/cyclegan/checkpoints/last.ckpt"
    zebra = model("horse.jpg")                             # a PIL image, the size of horse.jpg
    model.video("horse.mp4", "zebra.mp4", temporal="flow")  # a clip, without flicker (docs/video.md)
    art = gan_style.load("adain")(photo, style="starry_night.jpg", alpha=0.8)

Images may be a file path, a ``PIL.Image``, a NumPy array (H, W, 3) or (H, W) of ``uint8`` (0..255) or floats
(0..1), or a tensor (3, H, W) or (N, 3, H, W) of floats in [-1, 1]; a list of them is a batch. Each result has
the type, and the height and width, of its input (a path gives a ``PIL.Image``). Gradients are off.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from gan_style.data.images import load_image
from gan_style.data.transforms import to_image, to_tensor
from gan_style.inference.stylizer import Stylizer

__all__ = ["Pipeline", "load"]

ImageLike = Any  # str | os.PathLike | PIL.Image.Image | np.ndarray | torch.Tensor


def _to_batch(image: ImageLike) -> tuple[Tensor, Any]:
    """(1 or N, 3, H, W) float in [-1, 1] on the CPU, and how to give a result back in the input's form."""
    if isinstance(image, (str, os.PathLike)):
        return to_tensor(load_image(image)).unsqueeze(0), ("pil", None)
    if isinstance(image, Image.Image):
        return to_tensor(image.convert("RGB")).unsqueeze(0), ("pil", None)
    if isinstance(image, np.ndarray):
        array = image
        if array.ndim == 2:
            array = np.repeat(array[..., None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] not in (3, 4):
            raise ValueError(f"a NumPy image must be (H, W), (H, W, 3) or (H, W, 4), got shape {image.shape}")
        if array.dtype == np.uint8:  # the same conversion as a PIL image
            return to_tensor(Image.fromarray(np.ascontiguousarray(array[..., :3]))).unsqueeze(0), ("numpy", image.dtype)
        unit = np.ascontiguousarray(array[..., :3], dtype=np.float32)
        tensor = torch.from_numpy(unit).permute(2, 0, 1) * 2.0 - 1.0
        return tensor.unsqueeze(0).clamp(-1, 1), ("numpy", image.dtype)
    if isinstance(image, Tensor):
        if image.dim() == 3 and image.shape[0] == 3:
            return image.detach().float().unsqueeze(0).cpu(), ("tensor3", (image.dtype, image.device))
        if image.dim() == 4 and image.shape[1] == 3:
            return image.detach().float().cpu(), ("tensor4", (image.dtype, image.device))
        raise ValueError(f"a tensor image must be (3, H, W) or (N, 3, H, W) in [-1, 1], got shape {tuple(image.shape)}")
    raise TypeError(
        f"cannot read an image from {type(image).__name__}: give a file path, a PIL image, a NumPy array or a tensor"
    )


def _from_batch(images: Tensor, form: Any, stylizer: Stylizer | None = None) -> Any:
    kind, detail = form
    if kind == "data" and stylizer is not None and stylizer.output_scaling is not None:
        return stylizer.output_scaling.from_tensor(images[0])
    if kind == "data":
        return np.asarray(to_image(images[0]))
    if kind == "pil":
        return to_image(images[0])
    if kind == "numpy":
        if detail == np.uint8:
            return np.asarray(to_image(images[0]))
        return ((images[0].clamp(-1, 1) + 1.0) / 2.0).permute(1, 2, 0).numpy().astype(detail)
    dtype, device = detail
    out = images.to(device=device, dtype=dtype)
    return out[0] if kind == "tensor3" else out


class Pipeline:
    """A stylizer with image conversion, sizing and ``torch.no_grad`` around it (:func:`load` makes one).

    ``pipeline(image, style=None, size=None, **controls)``:

    - ``image``: one image or a list (see the module docstring for the accepted types); a list is run one image at
      a time (images of different sizes);
    - ``style``: style image(s) for a model that takes them (AdaIN): one image or a list, interpolated with
      ``style_weights``; refused by translation models;
    - ``size``: the shorter side of the result in pixels, the aspect ratio kept; None (default; ``"auto"`` means
      the same): the input's own size. Sizing, tiles and precision are those of every door
      (:class:`gan_style.inference.run.Runner`), so ``gan-style stylize`` gives the same pixels;
    - ``controls``: the model's controls (``alpha``, ``style_weights``, ``preserve_color``; ``seed`` for a model
      with diverse outputs; masks are not taken here: use ``gan-style stylize --masks``).

    ``pipeline.samples(image, num_samples, seed=0, style=None, size=None)`` gives several outputs of a model with
    diverse outputs (MUNIT), sample k drawn with ``seed + k`` as ``gan-style stylize --num_samples`` does.

    Returns the result(s) in the input's form, at the input's size (or the shorter side ``size``). A model trained
    on data other than 8-bit RGB (16-bit, float, N bands: ``stylizer.input_scaling``) reads files and NumPy arrays
    ``(H, W, C)`` in the data's own type and returns ``(H, W, C)`` arrays in its output type, scaled back exactly.

    Attributes:
        stylizer: the :class:`~gan_style.inference.Stylizer` (an ``nn.Module`` in eval mode).
        device: where it runs.
    """

    def __init__(self, stylizer: Stylizer, device: str | torch.device = "cpu") -> None:
        self.device = torch.device(device)
        self.stylizer = stylizer.to(self.device).eval()
        self._runners: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"Pipeline({self.stylizer.describe()}, device={self.device})"

    def _run_one(self, image: ImageLike, styles: list[Tensor] | None, size: Any, controls: dict) -> Any:
        from gan_style.inference.run import Runner

        scaling = self.stylizer.input_scaling
        if scaling is not None and isinstance(image, (str, os.PathLike, np.ndarray)):
            # a model trained on other data than 8-bit RGB: the file's own type and bands, its recorded scaling
            from gan_style.inference.run import read_input

            array = image if isinstance(image, np.ndarray) else None
            batch = read_input(image, self.stylizer) if array is None else scaling.to_tensor(array).unsqueeze(0)
            form: Any = ("data", None)
        else:
            batch, form = _to_batch(image)
        runner = self._runners.get(size)
        if runner is None:  # one runner (and its fast path) per size, kept across calls
            runner = self._runners[size] = Runner(self.stylizer, size=size, device=self.device, expected_calls=1)
        y = runner(batch, runner.prepare_styles(styles), **controls)
        return _from_batch(y, form, self.stylizer)

    def __call__(
        self,
        image: ImageLike | Sequence[ImageLike],
        style: ImageLike | Sequence[ImageLike] | None = None,
        size: int | Literal["auto"] | None = None,
        **controls: Any,
    ) -> Any:
        styles = None
        if style is not None:
            items = list(style) if isinstance(style, (list, tuple)) else [style]
            styles = [_to_batch(s)[0] for s in items]
        if isinstance(image, (list, tuple)):
            return [self._run_one(item, styles, size, controls) for item in image]
        return self._run_one(image, styles, size, controls)

    def samples(
        self,
        image: ImageLike,
        num_samples: int,
        seed: int = 0,
        style: ImageLike | Sequence[ImageLike] | None = None,
        size: int | Literal["auto"] | None = None,
        **controls: Any,
    ) -> list[Any]:
        """``num_samples`` outputs of one image from a model with diverse outputs (a stochastic stylizer, MUNIT),
        sample k drawn with ``seed + k``: the same pixels as ``gan-style stylize --num_samples N --seed S``.

        Args:
            image: one image (a file path, a PIL image, a NumPy array or a tensor, as for ``__call__``).
            num_samples: how many outputs, >= 1.
            seed: the first sample's seed, >= 0 (0).
            style: None (the default): the samples' styles are drawn at random; an example's style is one output,
                ``pipeline(image, style=example)``.
            size: the shorter side of the results (None, the default: the input's own).
            controls: the model's other controls.

        Returns:
            A list of ``num_samples`` results in the input's form.

        Raises:
            ValueError: ``num_samples`` < 1, a ``style`` given, or a model whose outputs are not random
                (``stylizer.stochastic`` is False: it would give the same image ``num_samples`` times).
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
        if not self.stylizer.stochastic:
            raise ValueError(
                f"{self.stylizer.describe()} gives one output per input (nothing in it is drawn at random); samples() "
                "is for models with diverse outputs (MUNIT)"
            )
        if style is not None:
            raise ValueError("style gives every sample the example's style; samples() draws styles at random")
        return [self(image, None, size, seed=seed + k, **controls) for k in range(num_samples)]

    def video(
        self,
        source: str | os.PathLike,
        target: str | os.PathLike,
        style: ImageLike | Sequence[ImageLike] | None = None,
        temporal: Literal["none", "stats", "flow"] = "none",
        size: int | None = None,
        **options: Any,
    ) -> Any:
        """Stylize a video file (or a folder of numbered frames, with ``fps=``) into ``target`` (``.mp4``,
        ``.webm``, ``.gif`` ...), streaming: :func:`gan_style.inference.video.stylize_video`, which keeps the frame
        count, frame rate and size and copies the audio. Needs ``pip install "gan-style[video]"``.

        Args:
            source: the clip.
            target: the output file.
            style: style image(s) for a model that takes them, as for ``__call__`` (None: none).
            temporal: ``"none"`` (default), ``"stats"`` or ``"flow"`` (temporal consistency, docs/video.md).
            size: the shorter side of the frames in pixels (None, the default: the clip's own).
            options: ``stylize_video``'s other settings (``batch_size``, ``backend``, ``codec``, ``crf``, ``fps``,
                ``smoothing``, ``flow_weight``, ``progress``) and the model's controls (``alpha`` ...).

        Returns:
            A :class:`gan_style.inference.video.VideoResult` (path, frames, fps, width, height, audio, backend).

        Raises:
            MissingDependencyError: PyAV (or OpenCV for ``flow``) is not installed; and what ``stylize_video``
                raises for a clip it cannot read or settings it refuses.
        """
        from gan_style.inference.video import stylize_video

        styles = None
        if style is not None:
            items = list(style) if isinstance(style, (list, tuple)) else [style]
            styles = [_to_batch(s)[0].to(self.device) for s in items]
        options.setdefault("device", self.device)
        return stylize_video(self.stylizer, source, target, styles, size=size, temporal=temporal, **options)


def load(source: str | os.PathLike, network: str | None = None, device: str | torch.device = "cpu") -> Pipeline:
    """A model ready to call on images: a checkpoint written by ``gan-style fit`` (``.ckpt``), a model folder
    (``config.json`` + ``model.safetensors``), ``hf://owner/name``, or a published model's name (``horse2zebra``,
    ``adain``, ``candy``; ``gan-style pretrained`` lists them).

    Args:
        source: what to load (see above).
        network: which network of a checkpoint's method runs (CycleGAN: ``generator_ab``, the default, or
            ``generator_ba``); None (default): the method's default.
        device: where it runs (``"cpu"``; ``"cuda"``).

    Returns:
        A :class:`Pipeline`.

    Raises:
        FileMissingError, UnsafeFileError, UnreadableFileError: a missing, unsafe or unreadable checkpoint or file.
        DownloadSettingError: an unknown published model name; OfflineError: a published model that is not cached
            and cannot be downloaded (the message says where to put the file).
        InferenceUnavailableError: the checkpoint's method hands out no stylizer.
    """
    from gan_style.loading import load_stylizer

    return Pipeline(load_stylizer(source, network, device), device)
