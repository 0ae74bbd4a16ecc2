"""CUT and FastCUT training cost, side by side in one run: against CycleGAN and against the CUT authors' code.

    python benchmarks/cut.py --reference /tmp/cutref                 # 256x256, this CPU, all four cases
    python benchmarks/cut.py --reference /tmp/cutref --sizes 128 --steps 3 --warmup 1
    python benchmarks/cut.py --device cuda --precision bf16           # ours only (no --reference)

One JSON line per case (the fields of ``benchmarks/methods.py``: ``images_per_sec``, ``peak_mem_mb``,
``peak_mem_delta_mb``, ``flops`` ...), then ``"compare"`` lines: ``gan_style/reference`` (``speed_ratio`` = our
images/s / the reference's, goal >= 1.0) and ``cut/cyclegan`` (CUT's images/s / CycleGAN's, goal >= 1.5).

- ours (``cut``, ``fastcut``): ``CUT.training_step`` run by a real ``lightning.Trainer`` with the recipe's default
  networks (resnet_9blocks anti-aliased generator, anti-aliased PatchGAN, MLP head of 256, 256 patches on 5
  layers), timed from ``on_train_batch_start`` to ``on_train_batch_end`` (D step then G step, Lightning included);
- ``cyclegan``: ``CycleGAN.training_step`` likewise (``benchmarks/methods.py``'s stepper);
- reference (``--reference DIR``, the CUT code checkout, imported from outside the repository): its
  ``CUTModel.optimize_parameters()`` after ``set_input`` (forward, D step, G and F steps), built by its own option
  parser with ``--CUT_mode CUT|FastCUT`` and the same image size and batch; ``data_dependent_initialize`` runs
  untimed first (it creates the MLP head). It alternates step by step with ours (ABBA) in this process, so machine
  load affects both alike.

Random weights and inputs: the cost does not depend on them.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    FnStepper,
    Settings,
    Stepper,
    case_images,
    emit,
    settings_from,
)
from methods import LightningTrainStepper, compare_row  # noqa: E402


class CUTTrainStepper(LightningTrainStepper):
    """Ours: :class:`gan_style.methods.cut.CUT` in ``mode`` with its default networks, through ``Trainer.fit``."""

    def __init__(self, mode: str, size: int, cfg: Settings) -> None:
        from gan_style.methods.cut import CUT

        what = "lightning.Trainer.fit, on_train_batch_start -> on_train_batch_end (training_step + Lightning)"
        Stepper.__init__(self, "gan_style", mode, "train", size, cfg, what)
        self.model = CUT(mode=mode)
        if cfg.channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.trainer = None


def reference_stepper(ref_root: str, mode: str, size: int, cfg: Settings) -> FnStepper:
    """The CUT code's training step (``optimize_parameters``) on the same size, batch and device."""
    if ref_root not in sys.path:
        sys.path.insert(0, ref_root)
    from models import create_model
    from options.train_options import TrainOptions

    tmp = tempfile.mkdtemp(prefix="cut_bench_ref_")
    gpu = str(cfg.device.index or 0) if cfg.is_cuda else "-1"
    args = (
        f"--dataroot {tmp} --name bench --checkpoints_dir {tmp} --gpu_ids {gpu} --batch_size {cfg.batch_size} "
        f"--load_size {size} --crop_size {size} --model cut --CUT_mode {'CUT' if mode == 'cut' else 'FastCUT'}"
    ).split()
    saved = sys.argv
    sys.argv = ["train.py", *args]  # its model options read sys.argv directly
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            opt = TrainOptions(cmd_line=" ".join(args)).parse()
            model = create_model(opt)
    finally:
        sys.argv = saved
    a, b = case_images(size, cfg.batch_size)
    data = {"A": a.to(cfg.device), "B": b.to(cfg.device), "A_paths": ["a"], "B_paths": ["b"]}
    np.random.seed(0)
    with contextlib.redirect_stdout(sys.stderr):  # it prints; stdout carries the JSON lines only
        model.data_dependent_initialize(data)
        model.setup(opt)
    model.set_input(data)
    what = "reference CUTModel.optimize_parameters (forward, D step, G + F steps)"

    def modules():
        return [model.netG, model.netD, model.netF]

    return FnStepper(
        "reference", mode, "train", size, cfg, what, model.optimize_parameters, modules, lambda: model.optimizers
    )


def main() -> None:
    from common import add_common_arguments

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_arguments(p)
    p.add_argument(
        "--reference", default=None, help="folder of the CUT code (taesungp/contrastive-unpaired-translation)"
    )
    p.add_argument("--cases", nargs="+", default=["cut", "fastcut", "cyclegan"], choices=["cut", "fastcut", "cyclegan"])
    a = p.parse_args()
    if a.sizes == [256, 512]:  # this script's default: 256 only
        a.sizes = [256]
    cfg = settings_from(a)
    for size in a.sizes:
        rows = {}
        for case in a.cases:
            torch.manual_seed(0)
            if case == "cyclegan":
                ours = LightningTrainStepper("cyclegan", size, cfg)
                ours.fit()
                rows[case] = ours.row()
                emit(rows[case])
                continue
            reference = reference_stepper(a.reference, case, size, cfg) if a.reference else None
            ours = CUTTrainStepper(case, size, cfg)
            ours.fit(partner=reference.run_phase if reference is not None else None)
            rows[case] = ours.row()
            emit(rows[case])
            if reference is not None:
                ref_row = reference.row()
                emit(ref_row)
                emit(compare_row(rows[case], ref_row))
        if "cyclegan" in rows:
            for case in ("cut", "fastcut"):
                if case in rows:
                    emit(
                        {
                            "compare": f"{case}/cyclegan",
                            "size": size,
                            "device": rows[case]["device"],
                            "precision": rows[case]["precision"],
                            "unit": "images/s",
                            "ours_per_sec": rows[case]["per_sec"],
                            "cyclegan_per_sec": rows["cyclegan"]["per_sec"],
                            "speed_ratio": round(rows[case]["per_sec"] / rows["cyclegan"]["per_sec"], 4),
                            "peak_mem_delta_ratio": (
                                round(rows[case]["peak_mem_delta_mb"] / rows["cyclegan"]["peak_mem_delta_mb"], 4)
                                if rows[case].get("peak_mem_delta_mb") and rows["cyclegan"].get("peak_mem_delta_mb")
                                else None
                            ),
                        }
                    )


if __name__ == "__main__":
    main()
