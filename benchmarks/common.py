"""What ``methods.py`` (ours) and ``references.py`` (the reference implementations) share: the settings of a
run, the stepper that times one implementation of one case and turns it into a JSON row, the inputs every
implementation gets, and the command-line options and case list both scripts accept.

Both scripts import this module; it imports neither of them (``methods.py`` -> ``references.py`` -> ``common.py``).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import json
import platform
import resource
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

METHODS = ("cyclegan", "pix2pix", "patchgan", "adain", "gatys")
MODES = {"cyclegan": ("train", "infer"), "pix2pix": ("train", "infer"), "patchgan": ("train", "infer")}
MODES.update({"adain": ("train", "infer"), "gatys": ("iteration",)})
PRECISIONS = {"32": "32-true", "bf16": "bf16-mixed", "16": "16-mixed"}


# --- settings and small helpers ----------------------------------------------------------------------------
@dataclass
class Settings:
    """What every case shares; ours and the reference run under the same instance."""

    device: torch.device
    precision: str = "32"
    channels_last: bool = False
    batch_size: int = 1
    steps: int = 5
    warmup: int = 2
    peak_tflops: float | None = None
    cudnn_benchmark: bool = True
    adain_vgg_layout: str = "adain"
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="gan_style_bench_")))

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    def schedule(self) -> list[str]:
        """Phase of each step: ``warmup`` ... ``measure`` ``timed`` ..."""
        return ["warmup"] * self.warmup + ["measure"] + ["timed"] * self.steps

    def autocast(self) -> contextlib.AbstractContextManager:
        """``torch.autocast`` for bf16 / 16, nothing for 32."""
        if self.precision == "32":
            return contextlib.nullcontext()
        dtype = torch.bfloat16 if self.precision == "bf16" else torch.float16
        return torch.autocast(self.device.type, dtype=dtype)

    def memory_format(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last and x.dim() == 4 else x

    def info(self) -> dict[str, Any]:
        if self.is_cuda:
            name = torch.cuda.get_device_name(self.device)
        else:
            name = _cpu_name()
        return {
            "device": self.device.type,
            "device_name": name,
            "threads": torch.get_num_threads(),
            "precision": self.precision,
            "channels_last": self.channels_last,
            "batch_size": self.batch_size,
            "torch": torch.__version__,
        }


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def random_images(n: int, size: int, seed: int) -> torch.Tensor:
    """(n, 3, size, size) uniform in [-1, 1], reproducible."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=g) * 2 - 1


def tensor_mb(tensors: Iterable[torch.Tensor]) -> float:
    seen, total = set(), 0
    for t in tensors:
        if isinstance(t, torch.Tensor) and t.data_ptr() not in seen:
            seen.add(t.data_ptr())
            total += t.numel() * t.element_size()
    return total / 2**20


def state_mb(modules: Iterable[nn.Module], optimizers: Iterable[torch.optim.Optimizer] = ()) -> float:
    """Parameters, buffers and optimizer state (MiB)."""
    tensors: list[torch.Tensor] = []
    for m in modules:
        tensors += list(m.parameters()) + list(m.buffers())
    for opt in optimizers:
        for s in opt.state.values():
            tensors += [v for v in s.values() if isinstance(v, torch.Tensor)]
    return round(tensor_mb(tensors), 1)


# --- memory --------------------------------------------------------------------------------------------------
class MemoryMeter:
    """Peak memory of one step: CUDA allocator peak, or the CPU peak RSS (VmHWM reset via clear_refs)."""

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.kind = "cuda_max_memory_allocated" if device.type == "cuda" else self._cpu_kind()
        self._base = 0

    @staticmethod
    def _cpu_kind() -> str:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return "cpu_peak_rss (VmHWM after clear_refs reset)"
        except OSError:
            return "cpu_ru_maxrss (process lifetime, no delta)"

    @staticmethod
    def _status_kb(key: str) -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def start(self) -> None:
        if self.device.type == "cuda":
            sync(self.device)
            self._base = torch.cuda.memory_allocated(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        elif self.kind.startswith("cpu_peak_rss"):
            with contextlib.suppress(OSError, AttributeError):
                ctypes.CDLL("libc.so.6").malloc_trim(0)  # return freed heap pages, so RSS counts live memory
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            self._base = self._status_kb("VmRSS") * 1024

    def stop(self) -> tuple[float, float | None]:
        """(peak MiB, peak above the start MiB or None)."""
        if self.device.type == "cuda":
            sync(self.device)
            peak = torch.cuda.max_memory_allocated(self.device)
            return peak / 2**20, (peak - self._base) / 2**20
        if self.kind.startswith("cpu_peak_rss"):
            peak = self._status_kb("VmHWM") * 1024
            return peak / 2**20, (peak - self._base) / 2**20
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, None


# --- one implementation of one case ---------------------------------------------------------------------------
class Stepper:
    """One (implementation, method, size, mode): runs phases and turns what it saw into a JSON row."""

    def __init__(self, implementation: str, method: str, mode: str, size: int, cfg: Settings, what: str) -> None:
        self.implementation, self.method, self.mode, self.size, self.cfg, self.what = (
            implementation,
            method,
            mode,
            size,
            cfg,
            what,
        )
        self.times: list[float] = []
        self.flops: int | None = None
        self.peak: tuple[float, float | None] | None = None
        self.meter = MemoryMeter(cfg.device)
        self.images_per_step = 1 if mode == "iteration" else cfg.batch_size

    # subclasses: one unit of work, and the tensors that make up the implementation's state
    def step(self) -> None:
        raise NotImplementedError

    def state(self) -> float:
        return 0.0

    def run_phase(self, phase: str) -> None:
        if phase == "warmup":
            self.step()
        elif phase == "measure":
            self.meter.start()
            with FlopCounterMode(display=False) as counter:
                self.step()
            self.peak = self.meter.stop()
            self.flops = counter.get_total_flops()
        else:
            sync(self.cfg.device)
            start = time.perf_counter()
            self.step()
            sync(self.cfg.device)
            self.times.append(time.perf_counter() - start)

    def row(self) -> dict[str, Any]:
        return make_row(self)


def make_row(s: Stepper) -> dict[str, Any]:
    cfg = s.cfg
    sec = statistics.median(s.times)
    row: dict[str, Any] = {
        "implementation": s.implementation,
        "method": s.method,
        "mode": s.mode,
        "size": s.size,
        **cfg.info(),
        "timed_steps": len(s.times),
        "warmup": cfg.warmup,
        "sec_median": round(sec, 5),
        "sec_all": [round(t, 4) for t in s.times],
        "per_sec": round(s.images_per_step / sec, 4),
    }
    if s.mode == "train":
        row["sec_per_step"] = round(sec, 4)
        row["images_per_sec"] = round(cfg.batch_size / sec, 4)
    elif s.mode == "infer":
        row["ms_per_image"] = round(sec / cfg.batch_size * 1000, 2)
        row["images_per_sec"] = round(cfg.batch_size / sec, 3)
    else:
        row["sec_per_iteration"] = round(sec, 4)
        row["iterations_per_sec"] = round(1 / sec, 4)
        row["batch_size"] = 1
    if s.flops is not None:
        row["flops"] = s.flops
        row["gflops"] = round(s.flops / 1e9, 2)
        row["achieved_tflops"] = round(s.flops / sec / 1e12, 4)
        if cfg.peak_tflops:
            row["utilization"] = round(s.flops / sec / 1e12 / cfg.peak_tflops, 4)
    row["memory_kind"] = s.meter.kind
    if s.peak is not None:
        row["peak_mem_mb"] = round(s.peak[0], 1)
        row["peak_mem_delta_mb"] = None if s.peak[1] is None else round(s.peak[1], 1)
    row["state_mb"] = s.state()
    row["timed"] = s.what
    return row


class FnStepper(Stepper):
    """A step that is a plain call (inference, a reference training step), under autocast and a grad mode."""

    def __init__(
        self,
        implementation: str,
        method: str,
        mode: str,
        size: int,
        cfg: Settings,
        what: str,
        fn: Callable[[], Any],
        modules: Callable[[], list[nn.Module]],
        optimizers: Callable[[], list[torch.optim.Optimizer]] = list,
        grad: str = "enabled",
    ) -> None:
        super().__init__(implementation, method, mode, size, cfg, what)
        self.fn, self.modules, self.optimizers = fn, modules, optimizers
        self.grad_mode = {
            "enabled": contextlib.nullcontext,
            "no_grad": torch.no_grad,
            "inference_mode": torch.inference_mode,
        }[grad]

    def step(self) -> None:
        with self.grad_mode(), self.cfg.autocast():
            self.fn()

    def state(self) -> float:
        return state_mb(self.modules(), self.optimizers())


def run_interleaved(steppers: list[Stepper], schedule: list[str]) -> None:
    """Each phase for every stepper in turn, the order reversed every other step (ABBA)."""
    for i, phase in enumerate(schedule):
        for s in steppers if i % 2 == 0 else reversed(steppers):
            s.run_phase(phase)


# --- inputs and command line ----------------------------------------------------------------------------------
def case_images(size: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The inputs every implementation gets: A/content and B/style, (N, 3, size, size) in [-1, 1]."""
    return random_images(batch_size, size, seed=size), random_images(batch_size, size, seed=size + 1)


def gatys_files(size: int, cfg: Settings) -> tuple[Path, Path]:
    from PIL import Image

    paths = []
    for name, seed in (("content", size), ("style", size + 1)):
        x = ((random_images(1, size, seed)[0] + 1) * 127.5).round().clamp(0, 255).byte()
        path = cfg.tmp / f"{name}_{size}.png"
        Image.fromarray(x.permute(1, 2, 0).numpy()).save(path)
        paths.append(path)
    return paths[0], paths[1]


def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


def add_common_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument(
        "--modes", nargs="+", choices=["train", "infer", "iteration"], default=["train", "infer", "iteration"]
    )
    p.add_argument("--batch_size", type=int, default=1)
    p.add_argument("--steps", type=int, default=5, help="timed steps per case (median reported)")
    p.add_argument("--warmup", type=int, default=2, help="untimed steps first (>= 1)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu | cuda | cuda:N")
    p.add_argument("--precision", choices=sorted(PRECISIONS), default="32", help="32 | bf16 | 16 (torch.autocast)")
    p.add_argument("--channels_last", action="store_true", help="networks and inputs in channels-last layout")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--peak_tflops", type=float, default=None, help="device peak, to print utilization")
    p.add_argument(
        "--no_cudnn_benchmark",
        dest="cudnn_benchmark",
        action="store_false",
        help="CUDA: leave cudnn.benchmark off (default on, as the reference code sets it globally)",
    )
    p.add_argument(
        "--adain_vgg_layout",
        choices=["adain", "torchvision"],
        default="adain",
        help="AdaIN encoder layout: 'adain' (vgg_normalised.pth, as the reference) or 'torchvision' (imagenet)",
    )


def settings_from(a: argparse.Namespace) -> Settings:
    if a.warmup < 1 or a.steps < 1:
        raise SystemExit("--warmup and --steps must be >= 1")
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda but CUDA is not available; use --device cpu")
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = a.cudnn_benchmark
    cfg = Settings(
        device=device,
        precision=a.precision,
        channels_last=a.channels_last,
        batch_size=a.batch_size,
        steps=a.steps,
        warmup=a.warmup,
        peak_tflops=a.peak_tflops,
        cudnn_benchmark=a.cudnn_benchmark,
        adain_vgg_layout=a.adain_vgg_layout,
    )
    atexit.register(shutil.rmtree, cfg.tmp, True)  # Gatys' input images and outputs, Trainer files
    return cfg


def cases(a: argparse.Namespace) -> list[tuple[str, str, int]]:
    return [(m, mode, s) for m in a.methods for s in a.sizes for mode in MODES[m] if mode in a.modes]


def quiet_cpu_trainer(**settings: Any) -> Any:
    """A Lightning ``Trainer`` on one CPU that trains and measures only: no validation, sanity check, logger,
    checkpoints, progress bar or model summary. ``settings`` (``max_steps``, ``callbacks``, ``default_root_dir``
    ...) are added to, or replace, those."""
    import lightning as L

    base: dict[str, Any] = dict(
        accelerator="cpu",
        devices=1,
        limit_val_batches=0,
        num_sanity_val_steps=0,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    return L.Trainer(**{**base, **settings})
