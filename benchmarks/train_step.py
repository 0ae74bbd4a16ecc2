"""Seconds per training step of a method on random 3-channel images; one JSON line per case.

    python benchmarks/train_step.py --methods cyclegan pix2pix --sizes 256 --batch-size 1 --steps 5

A "step" is one training batch (for GANs: a generator update and a discriminator update; for the
PatchGAN style network, batch 1 with its discriminator, the VGG loss network random). The first

``--warmup`` batches are not timed. Runs on the GPU when one is available unless ``--device cpu``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset

from gan_style.methods import CycleGAN, PatchGANStyle, Pix2Pix

METHODS = {"cyclegan": CycleGAN, "pix2pix": Pix2Pix, "patchgan": lambda: PatchGANStyle(vgg_weights=None)}


class RandomPairs(Dataset):
    def __init__(self, n: int, size: int) -> None:
        self.n, self.size = n, size

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        g = torch.Generator().manual_seed(i)
        a, b = (torch.rand(3, self.size, self.size, generator=g) * 2 - 1 for _ in range(2))
        return {"A": a, "B": b, "content": a, "style": b}


class Timer(L.Callback):
    def __init__(self, warmup: int) -> None:
        self.warmup, self.times, self._t = warmup, [], 0.0

    def _sync(self, module) -> None:
        if module.device.type == "cuda":
            torch.cuda.synchronize()

    def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
        self._sync(module)
        self._t = time.perf_counter()

    def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
        self._sync(module)
        if batch_idx >= self.warmup:
            self.times.append(time.perf_counter() - self._t)


def run(method: str, size: int, batch_size: int, steps: int, warmup: int, device: str, precision: str) -> dict:
    L.seed_everything(0, verbose=False)
    model = METHODS[method]()
    timer = Timer(warmup)
    trainer = L.Trainer(
        accelerator=device,
        devices=1,
        precision=precision,
        max_epochs=1,
        limit_train_batches=warmup + steps,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[timer],
        num_sanity_val_steps=0,
    )
    loader = DataLoader(RandomPairs((warmup + steps) * batch_size, size), batch_size=batch_size)
    trainer.fit(model, loader)
    sec = sorted(timer.times)[len(timer.times) // 2]
    return {
        "method": method,
        "size": size,
        "batch_size": batch_size,
        "device": device,
        "device_name": torch.cuda.get_device_name() if device == "gpu" else platform.processor() or platform.machine(),
        "threads": torch.get_num_threads(),
        "precision": precision,
        "sec_per_step_median": round(sec, 4),
        "images_per_sec": round(batch_size / sec, 3),
        "timed_steps": len(timer.times),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--methods", nargs="+", choices=sorted(METHODS), default=sorted(METHODS))
    p.add_argument("--sizes", type=int, nargs="+", default=[256])
    p.add_argument("--batch-size", type=int, default=1)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--device", choices=["cpu", "gpu"], default="gpu" if torch.cuda.is_available() else "cpu")
    p.add_argument("--precision", default="32-true")
    a = p.parse_args()
    for method in a.methods:
        for size in a.sizes:
            print(json.dumps(run(method, size, a.batch_size, a.steps, a.warmup, a.device, a.precision)), flush=True)


if __name__ == "__main__":
    main()
