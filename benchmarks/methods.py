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
import contextlib
import dataclasses
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent))

import references  # noqa: E402  (benchmarks/ is not a package)
from common import (  # noqa: E402
    METHODS,
    PRECISIONS,
    FnStepper,
    Settings,
    Stepper,
    add_common_arguments,
    case_images,
    cases,
    emit,
    gatys_files,
    run_interleaved,
    settings_from,
    state_mb,
    sync,
)


# --- ours: LightningModules ------------------------------------------------------------------------------------
class _Images(Dataset):
    def __init__(self, n: int, a: torch.Tensor, b: torch.Tensor) -> None:
        self.n, self.a, self.b = n, a, b

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        j = i % self.a.shape[0]
        return {"A": self.a[j], "B": self.b[j], "content": self.a[j], "style": self.b[j]}


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
        return PatchGANStyle(  # the recipe's loss network and layers (Johnson et al.: VGG-16)
            vgg_weights=None,
            loss_network="vgg16",
            content_layers=["relu2_2"],
            style_layers=["relu1_2", "relu2_2", "relu3_3", "relu4_3"],
        )
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
            content_layers=["conv4_2"],  # where the reference (the PyTorch tutorial's manner) puts its content loss
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
        refs = references.load(a.compare_reference)
    for method, mode, size in cases(a):
        try:
            for row in run_case(method, mode, size, cfg, refs, ref_cfg):
                emit(row)
        except ValueError as exc:  # e.g. a size pix2pix cannot take
            emit({"method": method, "mode": mode, "size": size, "skipped": str(exc)})


if __name__ == "__main__":
    main()
