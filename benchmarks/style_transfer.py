"""Speed of the style-transfer methods; one JSON line per case.

    python benchmarks/style_transfer.py --sizes 256 512

- ``gatys``: seconds per L-BFGS iteration (one closure evaluation, VGG-19 forward + backward up to
  relu5_1) on a square image of each size;
- ``adain``: milliseconds per stylized image (encoder on content and style, AdaIN, decoder), batch 1;
- ``patchgan``: milliseconds per image of the PatchGAN style network's generator (Johnson's
  transformation network), batch 1.

Weights are random (the cost does not depend on them), so no download is needed.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
from PIL import Image

from gan_style.methods import AdaIN, Gatys, PatchGANStyle


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def gatys(size: int, iterations: int, device: torch.device, tmp: Path) -> dict:
    for name in ("content", "style"):
        Image.new("RGB", (size, size), (120, 80, 40)).save(tmp / f"{name}.png")
    model = Gatys(
        content=str(tmp / "content.png"),
        style=str(tmp / "style.png"),
        image_size=size,
        num_iterations=iterations,
        vgg_weights=None,
    ).to(device)
    model._start_scale(0)
    opt = model._optimizer

    def closure():
        opt.zero_grad(set_to_none=True)
        loss, _ = model.losses(model.image)
        loss.backward()
        return loss

    opt.step(closure)  # warm-up
    _sync(device)
    start = time.perf_counter()
    for _ in range(iterations):
        opt.step(closure)
    _sync(device)
    sec = (time.perf_counter() - start) / iterations
    return {
        "method": "gatys",
        "size": size,
        "sec_per_iteration": round(sec, 4),
        "sec_per_500_iterations": round(500 * sec, 1),
    }


def adain(size: int, repeats: int, device: torch.device) -> dict:
    model = AdaIN(encoder_weights=None).to(device).eval()
    c, s = torch.rand(1, 3, size, size, device=device) * 2 - 1, torch.rand(1, 3, size, size, device=device) * 2 - 1
    model.stylize(c, [s])
    _sync(device)
    start = time.perf_counter()
    for _ in range(repeats):
        model.stylize(c, [s])
    _sync(device)
    ms = (time.perf_counter() - start) / repeats * 1000
    return {"method": "adain", "size": size, "ms_per_image": round(ms, 1), "images_per_sec": round(1000 / ms, 2)}


def patchgan(size: int, repeats: int, device: torch.device) -> dict:
    model = PatchGANStyle(vgg_weights=None).to(device).eval()
    x = torch.rand(1, 3, size, size, device=device) * 2 - 1
    with torch.no_grad():
        model(x)
        _sync(device)
        start = time.perf_counter()
        for _ in range(repeats):
            model(x)
        _sync(device)
    ms = (time.perf_counter() - start) / repeats * 1000
    return {"method": "patchgan", "size": size, "ms_per_image": round(ms, 1), "images_per_sec": round(1000 / ms, 2)}


def main() -> None:
    import tempfile

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument(
        "--methods", nargs="+", choices=["gatys", "adain", "patchgan"], default=["gatys", "adain", "patchgan"]
    )
    p.add_argument("--iterations", type=int, default=5, help="timed L-BFGS iterations (Gatys)")
    p.add_argument("--repeats", type=int, default=5, help="timed images (AdaIN)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    a = p.parse_args()
    device = torch.device(a.device)
    info = {
        "device": torch.cuda.get_device_name() if device.type == "cuda" else platform.machine(),
        "threads": torch.get_num_threads(),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for method in a.methods:
            for size in a.sizes:
                if method == "gatys":
                    row = gatys(size, a.iterations, device, Path(tmp))
                elif method == "adain":
                    row = adain(size, a.repeats, device)
                else:
                    row = patchgan(size, a.repeats, device)
                print(json.dumps({**row, **info}), flush=True)


if __name__ == "__main__":
    main()
