"""The small-data effect of DiffAugment: Pix2Pix on the bundled facades (50 training pairs, 25 test pairs) at a
fixed CPU budget, with and without ``diffaugment``, several seeds each; test-set L1, PSNR and SSIM.

    python benchmarks/small_data.py                                   # 3 seeds x {off, color,translation,cutout}
    python benchmarks/small_data.py --seeds 0 --batches 50            # a quick look

A run of the defaults trains for about a minute of CPU time on one thread (600 batches at about 0.1 s each), plus
a few seconds of testing; on a busy shared machine the wall time is longer (``train_s`` against ``train_cpu_s``).

The budget is a number of training batches (each one discriminator and one generator update) at a fixed crop
size, the same for every run; the learning rate is constant for the first half of the epochs and decays
linearly to 0 over the second (the pix2pix schedule, squeezed as in ``recipes/demo/pix2pix_cpu.yaml``). The
networks and losses are the recipe's (``recipes/pix2pix.yaml``: U-Net with batch norm and dropout, 70x70 PatchGAN
on concat(labels, photo), vanilla GAN loss, lambda_l1 100, Adam 2e-4 / (0.5, 0.999), batch size 1) at half width
(``--width 32``: ngf = ndf = 32, a quarter of the weights) and with as many U-Net downsamplings as the crop allows
(6 for 64x64). Data: ``recipes/pix2pix.yaml``'s facades, labels -> photo, resized to ``load_size`` and randomly
cropped to ``crop_size`` with flips for training; test images resized to ``crop_size``. No validation during
training.

Evaluation is Pix2Pix's own test step (``trainer.test``, as ``gan-style test``): ``test/l1`` (mean |G(x) - y| in
[-1, 1]), ``test/psnr`` (dB) and ``test/ssim``, per-image means on [0, 1] images over the 25 test pairs, with the
paper's test-time dropout and batch statistics (``eval_mode: false``), seeded.

Prints one JSON line per run, then one summary line per setting (mean and sample standard deviation over seeds),
then a Markdown table of the two settings side by side with the budget and the command (``--no_table`` leaves it
out).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import shlex
import statistics
import sys
import time
import warnings
from pathlib import Path

import lightning as L
import torch

from gan_style.data import PairedImageDataModule
from gan_style.methods import Pix2Pix
from gan_style.nets import NLayerDiscriminator, UnetGenerator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import quiet_cpu_trainer  # noqa: E402

METRICS = ("l1", "psnr", "ssim")
OFF = "off"


def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--root", default="examples/data/facades", help="paired data (default: the bundled facades)")
    parser.add_argument("--batches", type=int, default=600, help="training batches per run (default 600: 12 epochs)")
    parser.add_argument("--crop_size", type=int, default=64, help="training crop and test size (default 64)")
    parser.add_argument("--load_size", type=int, default=72, help="resize before the random crop (default 72)")
    parser.add_argument("--width", type=int, default=32, help="ngf of the U-Net and ndf of the PatchGAN (default 32)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument(
        "--policies",
        nargs="+",
        default=[OFF, "color,translation,cutout"],
        help=f"diffaugment settings compared; '{OFF}' is none (default: {OFF} color,translation,cutout)",
    )
    parser.add_argument(
        "--threads", type=int, default=1, help="torch.set_num_threads (default 1: steadier on a shared CPU)"
    )
    parser.add_argument("--no_table", action="store_true", help="leave out the Markdown table")
    return parser.parse_args(argv)


def _model(crop_size: int, width: int, epochs: int, policy: str) -> Pix2Pix:
    num_downs = int(math.log2(crop_size))
    if 2**num_downs != crop_size:
        raise SystemExit(f"--crop_size must be a power of 2 (the U-Net halves it down to 1 pixel), got {crop_size}")
    return Pix2Pix(
        generator=UnetGenerator(num_downs=num_downs, ngf=width, norm="batch", use_dropout=True),
        discriminator=NLayerDiscriminator(input_nc=6, n_layers=3, ndf=width, norm="batch"),
        gan_mode="vanilla",
        lambda_l1=100.0,
        n_epochs=epochs // 2,
        n_epochs_decay=epochs - epochs // 2,
        diffaugment=None if policy == OFF else policy,
    )


def run(args: argparse.Namespace, policy: str, seed: int) -> dict:
    """Train one Pix2Pix for ``args.batches`` batches and test it; the JSON row."""
    L.seed_everything(seed, verbose=False)
    data = PairedImageDataModule(
        root=args.root,
        direction="BtoA",
        preprocess="resize_and_crop",
        load_size=args.load_size,
        crop_size=args.crop_size,
        flip=True,
        batch_size=1,
        num_workers=0,
        seed=seed,
    )
    data.setup("fit")
    per_epoch = len(data.train_dataloader())
    epochs = math.ceil(args.batches / per_epoch)
    model = _model(args.crop_size, args.width, epochs, policy)
    trainer = quiet_cpu_trainer(max_steps=2 * args.batches)  # optimizer steps: D and G per batch
    start, cpu = time.perf_counter(), time.process_time()
    trainer.fit(model, data)
    train_s, train_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    L.seed_everything(seed, verbose=False)  # the test's dropout draws do not depend on the training's
    (result,) = trainer.test(model, data, verbose=False)
    data.setup("test")
    return {
        "benchmark": "small_data",
        "method": "pix2pix",
        "diffaugment": policy,
        "seed": seed,
        "batches": int(trainer.fit_loop.epoch_loop.batch_progress.total.completed),
        "optimizer_steps": int(trainer.global_step),
        "epochs": epochs,
        "train_pairs": per_epoch,
        "test_pairs": len(data.test_dataloader()),
        "crop_size": args.crop_size,
        "load_size": args.load_size,
        "width": args.width,
        **{f"test_{m}": float(result[f"test/{m}"]) for m in METRICS},
        "train_s": round(train_s, 1),
        "train_cpu_s": round(train_cpu_s, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "machine": platform.processor() or platform.machine(),
    }


def _summary(rows: list[dict], policy: str) -> dict:
    picked = [r for r in rows if r["diffaugment"] == policy]
    out: dict = {"benchmark": "small_data", "summary": True, "diffaugment": policy, "seeds": len(picked)}
    for m in METRICS:
        values = [r[f"test_{m}"] for r in picked]
        out[f"test_{m}_mean"] = statistics.fmean(values)
        out[f"test_{m}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    out["train_s_mean"] = statistics.fmean(r["train_s"] for r in picked)
    out["train_cpu_s_mean"] = statistics.fmean(r["train_cpu_s"] for r in picked)
    return out


def _table(summaries: list[dict], rows: list[dict], args: argparse.Namespace, command: str) -> str:
    first = rows[0]
    lines = [
        f"Pix2Pix, facades labels -> photo: {first['train_pairs']} training pairs, {first['test_pairs']} test pairs; budget "
        f"{first['batches']} batches ({first['optimizer_steps']} optimizer steps, {first['epochs']} epochs) of "
        f"batch size 1 at {args.crop_size}x{args.crop_size} (resized to {args.load_size}, random crop, flip), U-Net / "
        f"PatchGAN width {args.width}, CPU, torch threads: {first['threads']}; seeds {' '.join(map(str, args.seeds))}; mean ± sd over seeds.",
        "",
        "| diffaugment | test L1 (lower is better) | test PSNR dB | test SSIM | train s/run (CPU s) |",
        "|---|---|---|---|---|",
    ]
    for s in summaries:
        cells = [f"{s[f'test_{m}_mean']:.4f} ± {s[f'test_{m}_sd']:.4f}" for m in ("l1",)]
        cells += [
            f"{s['test_psnr_mean']:.2f} ± {s['test_psnr_sd']:.2f}",
            f"{s['test_ssim_mean']:.4f} ± {s['test_ssim_sd']:.4f}",
        ]
        lines.append(
            f"| {s['diffaugment']} | {' | '.join(cells)} | {s['train_s_mean']:.0f} ({s['train_cpu_s_mean']:.0f}) |"
        )
    lines += ["", f"command: {command}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning, module="lightning")  # the CPU / worker hints
    rows = []
    for seed in args.seeds:  # the settings alternate, so a busy machine slows both alike
        for policy in args.policies:
            row = run(args, policy, seed)
            rows.append(row)
            print(json.dumps(row), flush=True)
    summaries = [_summary(rows, policy) for policy in args.policies]
    for s in summaries:
        print(json.dumps(s), flush=True)
    if not args.no_table:
        command = "python " + " ".join(
            shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])]
        )
        print()
        print(_table(summaries, rows, args, command))


if __name__ == "__main__":
    main()
