"""Training and inference cost of every gan-style method; one JSON line per (method, size, mode).

    python benchmarks/methods.py                                   # all methods, 256 and 512, this device
    python benchmarks/methods.py --methods cyclegan pix2pix --sizes 256 --device cpu
    python benchmarks/methods.py --compare_reference /tmp/refs     # the reference code too, alternating
    python benchmarks/methods.py --device cuda --precision bf16 --channels_last --peak_tflops 989
    python benchmarks/methods.py --device cuda --precision bf16 --channels_last \\
        --compare_reference /tmp/refs --reference_as_published   # our bf16 against the reference's fp32

Modes (``--modes``):

- ``train``: one full training step exactly as the LightningModule does it, run by a real
  ``lightning.Trainer`` and timed from ``on_train_batch_start`` to ``on_train_batch_end`` (CycleGAN: both
  generators then both discriminators; Pix2Pix: D then G; PatchGAN style: D then G; AdaIN: Lightning's
  automatic optimization of the decoder). ``images_per_sec`` = batch size / median step time.
- ``infer``: the prediction path under ``torch.inference_mode`` in eval mode (CycleGAN and PatchGAN:
  ``translate``, one generator pass; Pix2Pix: ``translate`` with the paper's train-mode generator;
  AdaIN: ``stylize``, encoder on content and style + AdaIN + decoder). ``ms_per_image``.
- ``iteration`` (Gatys only, instead of train/infer): one L-BFGS iteration of ``Gatys`` run by a Trainer
  (one closure evaluation: VGG-19 forward and backward up to relu5_1, plus the L-BFGS update).
  ``sec_per_iteration``.

Each case runs ``--warmup`` untimed steps, one untimed *measure* step, then ``--steps`` timed steps
(reported: the median; ``sec_all`` lists them). The measure step gives:

- ``flops``: FLOPs of one step / inference call / iteration counted by ``torch.utils.flop_counter``
  (convolutions, matmuls and their backward; element-wise ops, norms and optimizer updates are not
  counted); ``achieved_tflops`` = flops / median time; ``utilization`` = achieved / ``--peak_tflops``;
- memory (``memory_kind`` says which): on CUDA ``torch.cuda.max_memory_allocated`` (``peak_mem_mb``,
  process-wide) and its excess over the allocation before the step (``peak_mem_delta_mb``); on the CPU the
  peak resident set size (``VmHWM`` of /proc/self/status after resetting it through
  /proc/self/clear_refs, ``malloc_trim`` first) and its excess over the RSS before the step; where that
  reset is not allowed, ``resource.getrusage`` ru_maxrss (process lifetime, no delta). ``state_mb``:
  parameters, buffers and optimizer state of the implementation.

Weights are random (``vgg_weights=None`` / ``encoder_weights=None``): the cost does not depend on them.
``--compare_reference DIR`` also runs the reference implementations of ``benchmarks/references.py``
(fetched under DIR, outside the repository) on identical settings, alternating step by step with ours in
this one process so machine load affects both alike, and prints a ``"compare"`` line per case with
``speed_ratio`` = ours / reference (units per second; > 1: ours faster). With ``--reference_as_published``
the reference keeps its own fp32, contiguous settings while ours uses ``--precision`` / ``--channels_last``
(the compare line names both precisions).
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import ctypes
import dataclasses
import json
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset
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


# --- ours: LightningModules ------------------------------------------------------------------------------------
class _Images(Dataset):
    def __init__(self, n: int, a: torch.Tensor, b: torch.Tensor) -> None:
        self.n, self.a, self.b = n, a, b

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        j = i % self.a.shape[0]
        return {"A": self.a[j], "B": self.b[j], "content": self.a[j], "style": self.b[j]}


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


def build_module(method: str, size: int, cfg: Settings, iterations: int = 1):
    """The method's LightningModule with its default networks and random weights."""
    from gan_style.methods import AdaIN, CycleGAN, Gatys, PatchGANStyle, Pix2Pix

    if method == "cyclegan":
        return CycleGAN()
    if method == "pix2pix":
        if size % 256:
            raise ValueError(f"pix2pix's unet_256 needs sizes that are multiples of 256, got {size}")
        return Pix2Pix()
    if method == "patchgan":
        return PatchGANStyle(vgg_weights=None)
    if method == "adain":
        model = AdaIN(encoder_weights=None)
        if cfg.adain_vgg_layout == "adain":  # the layout of the AdaIN code's vgg_normalised.pth (the reference)
            from gan_style.methods.adain import STYLE_LAYERS
            from gan_style.nets.vgg import VGGFeatures

            model.encoder = VGGFeatures(STYLE_LAYERS, weights=None, layout="adain")
        return model
    if method == "gatys":
        content, style = gatys_files(size, cfg)
        return Gatys(
            content=str(content),
            style=str(style),
            image_size=size,
            num_iterations=iterations,
            vgg_weights=None,
            output=str(cfg.tmp / f"gatys_{size}.png"),
        )
    raise ValueError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")


class LightningTrainStepper(Stepper):
    """Ours, trained by ``lightning.Trainer.fit``; a callback times each batch and can run a partner's
    step (the reference) between ours, outside our timing: after ours on even steps, before ours on odd
    steps (ABBA), so the two alternate step by step and neither always goes first."""

    def __init__(self, method: str, size: int, cfg: Settings) -> None:
        mode = "iteration" if method == "gatys" else "train"
        what = "lightning.Trainer.fit, on_train_batch_start -> on_train_batch_end (training_step + Lightning)"
        super().__init__("gan_style", method, mode, size, cfg, what)
        self.model = build_module(method, size, cfg, iterations=len(cfg.schedule()))
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.trainer = None

    def step(self) -> None:  # driven by the Trainer instead
        raise RuntimeError("LightningTrainStepper runs through fit()")

    def state(self) -> float:
        optimizers = [getattr(o, "optimizer", o) for o in (self.trainer.optimizers if self.trainer else [])]
        return state_mb([self.model], optimizers)

    def fit(self, partner: Callable[[str], None] | None = None) -> None:
        import lightning as L

        cfg, schedule = self.cfg, self.cfg.schedule()
        stepper = self

        class PhaseTimer(L.Callback):
            def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
                self.phase = schedule[batch_idx]
                if partner is not None and batch_idx % 2:  # ABBA: the partner goes first every other step
                    partner(self.phase)
                if self.phase == "measure":
                    stepper.meter.start()
                    self.counter = FlopCounterMode(display=False)
                    self.counter.__enter__()
                sync(cfg.device)
                self.start = time.perf_counter()

            def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
                sync(cfg.device)
                elapsed = time.perf_counter() - self.start
                if self.phase == "measure":
                    self.counter.__exit__(None, None, None)
                    stepper.peak = stepper.meter.stop()
                    stepper.flops = self.counter.get_total_flops()
                elif self.phase == "timed":
                    stepper.times.append(elapsed)
                if partner is not None and not batch_idx % 2:
                    partner(self.phase)

        loaders = None
        if self.method != "gatys":
            a, b = case_images(self.size, cfg.batch_size)

            def collate(items: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
                return {k: cfg.memory_format(torch.stack([it[k] for it in items])) for k in items[0]}

            loaders = DataLoader(_Images(len(schedule) * cfg.batch_size, a, b), cfg.batch_size, collate_fn=collate)
        self.trainer = L.Trainer(
            accelerator="gpu" if cfg.is_cuda else "cpu",
            devices=1,
            precision=PRECISIONS[cfg.precision],
            max_epochs=1,
            limit_train_batches=len(schedule),
            logger=False,
            enable_checkpointing=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            num_sanity_val_steps=0,
            callbacks=[PhaseTimer()],
            default_root_dir=str(cfg.tmp),
            benchmark=cfg.cudnn_benchmark if cfg.is_cuda else None,
        )
        with contextlib.redirect_stdout(sys.stderr):
            self.trainer.fit(self.model, train_dataloaders=loaders)


def ours_infer(method: str, size: int, cfg: Settings) -> FnStepper:
    """The prediction path of ``method`` (see the module docstring)."""
    model = build_module(method, size, cfg).to(cfg.device).eval()
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    a, b = (cfg.memory_format(x.to(cfg.device)) for x in case_images(size, cfg.batch_size))
    if method == "cyclegan":
        fn, what = (lambda: model.translate({"A": a})), "CycleGAN.translate (generator_ab), eval, inference_mode"
    elif method == "pix2pix":
        fn, what = (lambda: model.translate({"A": a})), "Pix2Pix.translate (train-mode G, paper), inference_mode"
    elif method == "patchgan":
        fn, what = (lambda: model.translate({"content": a})), "PatchGANStyle.translate (generator), inference_mode"
    elif method == "adain":
        fn, what = (lambda: model.stylize(a, [b])), "AdaIN.stylize (encoder x2, AdaIN, decoder), inference_mode"
    else:
        raise ValueError(f"{method} has no inference mode")
    return FnStepper("gan_style", method, "infer", size, cfg, what, fn, lambda: [model], grad="inference_mode")


# --- running cases --------------------------------------------------------------------------------------------
def emit(row: dict[str, Any]) -> None:
    print(json.dumps(row), flush=True)


def compare_row(ours: dict[str, Any], ref: dict[str, Any]) -> dict[str, Any]:
    def ratio(key: str) -> float | None:
        a, b = ours.get(key), ref.get(key)
        return round(a / b, 4) if a and b else None

    return {
        "compare": "gan_style/reference",
        "method": ours["method"],
        "mode": ours["mode"],
        "size": ours["size"],
        "device": ours["device"],
        "precision": ours["precision"],
        "reference_precision": ref["precision"],
        "reference_channels_last": ref["channels_last"],
        "unit": {"train": "images/s", "infer": "images/s", "iteration": "iterations/s"}[ours["mode"]],
        "ours_per_sec": ours["per_sec"],
        "reference_per_sec": ref["per_sec"],
        "speed_ratio": ratio("per_sec"),
        "flops_ratio": ratio("flops"),
        "peak_mem_delta_ratio": ratio("peak_mem_delta_mb"),
    }


def run_case(
    method: str, mode: str, size: int, cfg: Settings, refs: Any = None, ref_cfg: Settings | None = None
) -> list[dict[str, Any]]:
    """Rows for one case: ours, and the reference (plus a compare row) when ``refs`` is given; the reference
    runs under ``ref_cfg`` (default: ``cfg``, the same settings)."""
    torch.manual_seed(0)
    reference = None
    if refs is not None:
        import references

        reference = references.make_stepper(refs, method, mode, size, ref_cfg or cfg)
    if mode in ("train", "iteration"):
        ours = LightningTrainStepper(method, size, cfg)
        ours.fit(partner=reference.run_phase if reference is not None else None)
    else:
        ours = ours_infer(method, size, cfg)
        run_interleaved([ours] + ([reference] if reference is not None else []), cfg.schedule())
    rows = [ours.row()]
    if reference is not None:
        ref_row = reference.row()
        rows += [ref_row, compare_row(rows[0], ref_row)]
    return rows


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


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(p)
    p.add_argument(
        "--compare_reference",
        metavar="DIR",
        default=None,
        help="reference checkouts (see benchmarks/README.md), run alternating with ours",
    )
    p.add_argument(
        "--reference_as_published",
        action="store_true",
        help="run the reference as its scripts do (fp32, contiguous) whatever --precision / --channels_last "
        "say, e.g. to compare our bf16 with the reference's fp32",
    )
    a = p.parse_args()
    cfg = settings_from(a)
    ref_cfg = dataclasses.replace(cfg, precision="32", channels_last=False) if a.reference_as_published else cfg
    warnings.filterwarnings("ignore", message=".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=".*`training_step` returned `None`.*")
    refs = None
    if a.compare_reference:
        sys.modules.setdefault("methods", sys.modules[__name__])  # references.py imports this file as `methods`
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        import references

        refs = references.load(a.compare_reference)
    for method, mode, size in cases(a):
        try:
            for row in run_case(method, mode, size, cfg, refs, ref_cfg):
                emit(row)
        except ValueError as exc:  # e.g. a size pix2pix cannot take
            emit({"method": method, "mode": mode, "size": size, "skipped": str(exc)})


if __name__ == "__main__":
    main()
