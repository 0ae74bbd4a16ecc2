"""The fast inference path shared by ``gan-style stylize`` (images and videos), video and the demo: one object that
runs a :class:`~gan_style.inference.Stylizer` as fast as this machine allows, with outputs that match the plain
``stylizer(x)`` in eval mode.

Backends (:data:`BACKENDS`):

- ``eager``: the stylizer itself under ``torch.inference_mode()``; on a GPU its weights and inputs in
  channels-last layout and ``torch.autocast`` in bfloat16 (the outputs then differ from float32 by about 1e-2);
  on the CPU float32 in the default layout (channels-last: opt-in with ``channels_last=True``).
- ``onnxruntime``: the stylizer's export form (:meth:`~gan_style.inference.Stylizer.export_module`, the graph
  ``gan-style export`` writes) exported to ONNX in memory once and run by ONNX Runtime on the CPU with as many
  threads as torch uses. Only for a stylizer whose export form takes one ``image`` input (translation networks,
  the Johnson network), run without style images, controls or temporal statistics; outputs within 1e-4 of eager.
- ``compile``: ``torch.compile`` (Inductor) of the same export form; the first call of each frame size compiles
  (tens of seconds on a CPU), so it pays off on long clips only.
- ``auto`` (default): on a GPU ``eager`` (bfloat16, channels-last); on the CPU, when ONNX Runtime can run the
  stylizer and the work is long enough to repay the export (``expected_calls >= 8`` batches), eager and ONNX
  Runtime are both timed on the first batch and the faster one is kept; otherwise ``eager``.

Measured on a 2-core CPU at 512x512 (``benchmarks/video.py --parts fast``, docs/video.md): ONNX Runtime 1.9x the
frames/s of eager for the Johnson network and 1.6x for the CycleGAN ResNet generator, ``torch.compile`` 1.9x for the
Johnson network after about ten minutes of compilation, channels-last alone 1.0-1.1x; outputs within 2e-5.

Frames that keep state between batches (temporal statistics, AdaIN's moving content statistics) run through
:meth:`FastPath.wrap`, which gives them everything of ``eager``.
"""

from __future__ import annotations

import contextlib
import io
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Literal

import torch
from torch import Tensor, nn

from gan_style.errors import InvalidSettingError, MissingDependencyError
from gan_style.inference.onnx import export_onnx
from gan_style.inference.stylizer import Stylizer

__all__ = ["BACKENDS", "TOLERANCE", "Backend", "FastPath"]

Backend = Literal["auto", "eager", "compile", "onnxruntime"]
BACKENDS: tuple[str, ...] = ("auto", "eager", "compile", "onnxruntime")
#: how far a graph backend's output may be from eager's ([-1, 1] units) to be used: ``auto`` keeps eager beyond it,
#: an explicit ``--backend`` warns once (checked on the first batch)
TOLERANCE = 1e-3


def _module_device(module: nn.Module) -> torch.device:
    tensor = next(module.parameters(), None)
    if tensor is None:
        tensor = next(module.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


class FastPath:
    """Runs a stylizer on batches of images fast (see the module docstring for the backends).

    ``fast(content, styles=None, **controls)`` is ``stylizer(content, styles, **controls)``: ``content`` (N, 3, H,
    W) in [-1, 1] on any device (H, W multiples of the stylizer's ``size_multiple``), returns (N, C, H, W)
    float32 in [-1, 1] on the stylizer's device, contiguous. With style images or controls it runs eager.

    Args:
        stylizer: a feed-forward stylizer (in eval mode; it is put there).
        backend: ``"auto"`` (default), ``"eager"``, ``"compile"`` or ``"onnxruntime"``.
        device: where it runs (None, the default: where the stylizer's weights are); the stylizer is moved there.
        channels_last: weights and inputs in channels-last layout for eager and compile (None, the default: on a
            GPU only).
        autocast: bfloat16 autocast for eager and compile (None, the default: on a GPU only).
        expected_calls: about how many batches will run (None, the default: unknown, counted as few); ``auto``
            measures ONNX Runtime against eager on the CPU only from 8 on.
        graph: the work is the stylizer's plain forward on the image alone, so a graph backend may run it
            (True, the default). False (frames with temporal statistics): ``auto`` means eager, and
            ``compile`` / ``onnxruntime`` are refused.

    Attributes:
        backend: the backend in use: what was asked, or ``auto``'s choice once the first batch ran
            (``"auto"`` until then).
        timings: ``auto``'s measurement on the CPU, seconds per batch by backend (empty when nothing was timed).

    Raises:
        InvalidSettingError: an unknown backend, or ``compile`` / ``onnxruntime`` asked for a stylizer or work
            they cannot run (style images, controls, no single-image export form, temporal statistics), or
            ``onnxruntime`` on a GPU without ONNX Runtime's CUDA provider.
        MissingDependencyError: ``onnxruntime`` asked without the ``onnx`` / ``onnxruntime`` packages.
    """

    def __init__(
        self,
        stylizer: Stylizer,
        backend: Backend = "auto",
        device: str | torch.device | None = None,
        channels_last: bool | None = None,
        autocast: bool | None = None,
        expected_calls: int | None = None,
        graph: bool = True,
    ) -> None:
        if backend not in BACKENDS:
            raise InvalidSettingError(f"--backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
        self.device = _module_device(stylizer) if device is None else torch.device(device)
        self.stylizer = stylizer.to(self.device).eval()
        gpu = self.device.type == "cuda"
        self.channels_last = gpu if channels_last is None else bool(channels_last)
        self.autocast = gpu if autocast is None else bool(autocast)
        self.expected_calls = expected_calls
        self.graph_ok, why = self._graph_form(graph)
        if backend in ("compile", "onnxruntime") and not self.graph_ok:
            raise InvalidSettingError(f"--backend {backend} cannot run {stylizer.describe()}: {why}; use eager or auto")
        if backend == "onnxruntime":
            self._require_onnxruntime()
        self.backend: str = backend
        self.timings: dict[str, float] = {}
        self._export = None
        self._session = None
        self._compiled = None
        self._checked = False
        if self.channels_last:
            with torch.no_grad():  # not under inference mode: the weights must stay usable outside it
                self.stylizer.to(memory_format=torch.channels_last)

    def __repr__(self) -> str:
        return f"FastPath({self.stylizer.describe()}, backend={self.backend}, device={self.device})"

    # --- what can run where ---------------------------------------------------------------------------------
    def _graph_form(self, graph: bool) -> tuple[bool, str]:
        if not graph:
            return False, "its frames keep normalization statistics between batches (--temporal stats)"
        if not self.stylizer.feed_forward or self.stylizer.takes_style or self.stylizer.controls:
            return False, "it takes style images or controls (only eager runs those)"
        try:
            module = self.stylizer.export_module()
        except (ValueError, NotImplementedError) as exc:
            return False, f"it has no export form ({exc})"
        if tuple(module.input_names) != ("image",):
            return False, f"its export form takes {', '.join(module.input_names)}, not one image"
        return True, ""

    @staticmethod
    def _require_onnxruntime() -> None:
        import importlib.util

        missing = [m for m in ("onnx", "onnxruntime") if importlib.util.find_spec(m) is None]
        if missing:
            raise MissingDependencyError(
                f'--backend onnxruntime needs {" and ".join(missing)}, not installed: pip install "gan-style[export]"'
            )

    @staticmethod
    def onnxruntime_available() -> bool:
        """Whether ``onnx`` and ``onnxruntime`` are installed."""
        import importlib.util

        return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))

    # --- eager ------------------------------------------------------------------------------------------------
    def _context(self) -> contextlib.ExitStack:
        stack = contextlib.ExitStack()
        stack.enter_context(torch.inference_mode())
        if self.autocast:
            stack.enter_context(torch.autocast(self.device.type, dtype=torch.bfloat16))
        return stack

    def _input(self, x: Tensor) -> Tensor:
        x = x.to(self.device, torch.float32, non_blocking=True)
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    @staticmethod
    def _output(y: Tensor) -> Tensor:
        return y.float().contiguous()

    def wrap(self, fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
        """``fn`` (e.g. a :class:`~gan_style.inference.FramePlan`'s, which may keep state) run the eager way:
        inputs moved to the device (channels-last where enabled), inference mode, autocast where enabled, float32
        contiguous outputs."""

        def run(x: Tensor) -> Tensor:
            with self._context():
                return self._output(fn(self._input(x)))

        return run

    def _eager(self, x: Tensor, styles: Sequence[Tensor] | None = None, **controls: Any) -> Tensor:
        with self._context():
            return self._output(self.stylizer(self._input(x), styles, **controls))

    # --- graph backends ---------------------------------------------------------------------------------------
    def _onnxruntime(self, x: Tensor) -> Tensor:
        if self._session is None:
            self._session = self._make_session(x)
        array = x.to("cpu", torch.float32).contiguous().numpy()
        (out,) = self._session.run(None, {"image": array})
        return torch.from_numpy(out).to(self.device)

    def _make_session(self, x: Tensor):
        import onnxruntime as ort

        module = self.stylizer.export_module().eval()
        buffer = io.BytesIO()
        export_onnx(module, (x[:1].to(self.device, torch.float32).contiguous(),), buffer)  # "image" -> "output"
        options = ort.SessionOptions()
        options.intra_op_num_threads = torch.get_num_threads()
        options.log_severity_level = 3
        providers = ["CPUExecutionProvider"]
        if self.device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise InvalidSettingError(
                    "--backend onnxruntime on a GPU needs onnxruntime-gpu (CUDAExecutionProvider); use eager or auto"
                )
            providers.insert(0, "CUDAExecutionProvider")
        return ort.InferenceSession(buffer.getvalue(), options, providers=providers)

    def _compile(self, x: Tensor) -> Tensor:
        if self._compiled is None:
            self._export = self.stylizer.export_module().eval()
            self._compiled = torch.compile(self._export)
        with self._context():
            return self._output(self._compiled(self._input(x)))

    # --- the call ---------------------------------------------------------------------------------------------
    def __call__(self, content: Tensor, styles: Sequence[Tensor] | None = None, **controls: Any) -> Tensor:
        controls = {k: v for k, v in controls.items() if v is not None}
        if styles or controls or not self.graph_ok:
            if self.backend in ("compile", "onnxruntime"):
                raise InvalidSettingError(
                    f"--backend {self.backend} runs {self.stylizer.describe()} without style images or controls only"
                )
            if self.backend == "auto":
                self.backend = "eager"
            return self._eager(content, styles, **controls)
        if self.backend == "auto":
            return self._choose(content)
        if self.backend == "eager":
            return self._eager(content)
        run = self._onnxruntime if self.backend == "onnxruntime" else self._compile
        if self._checked:
            return run(content)
        y = run(content)
        self._checked = True
        difference = self.max_difference(y, self._eager(content))
        if difference > TOLERANCE:
            warnings.warn(
                f"--backend {self.backend}: outputs differ from eager by up to {difference:.2g} for "
                f"{self.stylizer.describe()} (its export form does not compute the same thing; use eager)",
                UserWarning,
                stacklevel=2,
            )
        return y

    @staticmethod
    def max_difference(a: Tensor, b: Tensor) -> float:
        """The largest absolute difference between two outputs (inf when their shapes differ)."""
        if a.shape != b.shape:
            return float("inf")
        return float((a.double() - b.to(a.device).double()).abs().max()) if a.numel() else 0.0

    def _choose(self, x: Tensor) -> Tensor:
        """``auto`` on the first batch: eager on a GPU or for short work; on the CPU with ONNX Runtime installed
        and enough batches to come, time both on this batch and keep ONNX Runtime when it is faster and its
        output is within :data:`TOLERANCE` of eager's."""
        long_work = (self.expected_calls or 0) >= 8
        if self.device.type != "cpu" or not long_work or not self.onnxruntime_available():
            self.backend = "eager"
            return self._eager(x)
        start = time.perf_counter()
        y = self._eager(x)
        self.timings["eager"] = time.perf_counter() - start
        try:
            first = self._onnxruntime(x)  # export + first run (allocations), not timed
        except Exception as exc:  # an export that fails here only means eager is used
            warnings.warn(f"ONNX Runtime could not run {self.stylizer.describe()}, using eager: {exc}", stacklevel=3)
            self.backend, self._session = "eager", None
            return y
        if self.max_difference(first, y) > TOLERANCE:  # an export form that differs (e.g. dropout at inference)
            self.backend, self._session = "eager", None
            return y
        start = time.perf_counter()
        self._onnxruntime(x)
        self.timings["onnxruntime"] = time.perf_counter() - start
        self.backend = min(self.timings, key=self.timings.get)
        self._checked = True
        if self.backend != "onnxruntime":
            self._session = None
        return y
