"""Tiled inference of a full-size CycleGAN ResnetGenerator on a large image: time, peak memory, seams.

    python benchmarks/tiled_inference.py --size 2048               # quick: 2048x2048 tiled, 1024x1024 untiled
    python benchmarks/tiled_inference.py --size 4096 --hard_cuts   # + the same tiles without blending
    python benchmarks/tiled_inference.py --size 512 --tile 256 --untiled_size 512 --norm image --compare

Prints one JSON line per case, then a summary line:

- ``untiled``: the generator on a whole ``--untiled_size`` image (1024: a size that still fits);
- ``tiled``: :func:`gan_style.inference.tiling.tiled_apply` on a ``--size`` image, ``--tile`` 512 overlapping by
  ``--overlap`` 64, instance-norm statistics per tile or (``--norm image``) of the whole image; writes the output PNG (``--output``) of a smooth synthetic input (colour gradients,
  soft-edged disks and squares) so the seams can be inspected, and prints the seam metric;
- ``hard_cuts`` (with ``--hard_cuts``): the same tiles side by side without overlap, for comparison.

Each case runs in its own subprocess so its peak memory is its own: on CUDA ``torch.cuda.max_memory_allocated``
(``peak_gb``); on the CPU the process's peak resident set size (``ru_maxrss``), reported as ``peak_rss_gb``
(whole process: Python, torch, the weights, the input image) and ``compute_peak_gb`` (the peak during the
timed call minus the resident memory just before it: activations, the output buffer, one tile batch).

Seam metric: the mean absolute difference between neighbouring pixels across the tile boundaries (the lines
where a tile starts or ends and the middle of each overlap; horizontal differences across vertical lines,
vertical ones across horizontal lines) divided by the same mean over all other lines; 1.0 means the
boundaries look like the rest of the image, a visible seam gives a larger value.
``seam_ratio_worst_line`` is the largest ratio of a single boundary line. ``seam_ratio_coarse`` (and its worst
line) is the same on the output averaged over 8x8 pixel blocks: a tone difference between tiles, blended over
the overlap into a gentle ramp, shows there (the tile grid as soft patches), while the full-resolution measure
mostly sees the fine texture of a random-weight generator. ``input_seam_ratio`` is the measure on the input
image; the ``untiled`` case reports the measures of the untiled output on the same kind of lines, the value
without any tiling. ``--compare`` adds the differences between the tiled output and the untiled one, and
the untiled output's seam measures on the same lines (``untiled_seam_ratio...``): a content edge that lies
along a boundary line raises both, so a seam shows as the tiled figure above the untiled one.

The weights are random (init ``normal``, 0.02, as before training): the cost does not depend on them, but
the instance-norm statistics per tile (see :mod:`gan_style.inference.tiling`) do, so the seam figures of a trained
model on photographs can differ.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from gan_style.data.transforms import to_image
from gan_style.inference.tiling import tile_spans, tiled_apply
from gan_style.nets import ResnetGenerator


def synthetic_image(size: int) -> torch.Tensor:
    """(1, 3, size, size) in [-1, 1]: smooth colour gradients with soft-edged disks and squares."""
    axis = torch.linspace(-1, 1, size)
    y, x = torch.meshgrid(axis, axis, indexing="ij")
    image = torch.stack([0.8 * x, 0.8 * y, 0.6 * torch.cos(math.pi * (x * x + y * y).sqrt())])
    pixel = 2.0 / size  # edge softness: about two pixels at any size
    shapes = [
        ("disk", -0.45, -0.40, 0.30, (0.9, 0.2, -0.6)),
        ("disk", 0.50, 0.35, 0.22, (-0.7, 0.8, 0.1)),
        ("square", 0.30, -0.50, 0.18, (0.1, -0.8, 0.9)),
        ("square", -0.35, 0.55, 0.25, (0.95, 0.9, 0.95)),
    ]
    for kind, cx, cy, radius, color in shapes:
        if kind == "disk":
            distance = ((x - cx) ** 2 + (y - cy) ** 2).sqrt()
        else:
            distance = torch.maximum((x - cx).abs(), (y - cy).abs())
        mask = ((radius - distance) / (2 * pixel) + 0.5).clamp(0, 1)
        image = image * (1 - mask) + torch.tensor(color).view(3, 1, 1) * mask
    return image.clamp(-1, 1).unsqueeze(0)


def boundary_positions(length: int, tile: int, overlap: int, multiple: int) -> list[int]:
    """Pixel positions along one axis where a seam could show: where each overlap starts (a tile begins), its
    middle (the cut) and where it ends (a tile ends); position p means between pixels p - 1 and p."""
    spans = tile_spans(length, tile, overlap, multiple)
    return sorted({p for (_, end), (start, _) in zip(spans, spans[1:]) for p in (start, (start + end) // 2, end)})


def seam_metric(image: torch.Tensor, positions_x: list[int], positions_y: list[int]) -> dict:
    """Mean |neighbour difference| across the boundary lines / across all other lines, for (1, C, H, W)."""
    image = image[0].float()
    columns = (image[:, :, 1:] - image[:, :, :-1]).abs().mean(dim=(0, 1))  # (W - 1,): between x - 1 and x
    rows = (image[:, 1:, :] - image[:, :-1, :]).abs().mean(dim=(0, 2))  # (H - 1,)
    lines_x = torch.zeros_like(columns, dtype=torch.bool)
    lines_y = torch.zeros_like(rows, dtype=torch.bool)
    lines_x[[min(max(p - 1, 0), len(columns) - 1) for p in positions_x]] = True
    lines_y[[min(max(p - 1, 0), len(rows) - 1) for p in positions_y]] = True
    if not lines_x.any() and not lines_y.any():
        return {"ratio": None, "worst_line": None}
    inside = torch.cat([columns[lines_x], rows[lines_y]])
    outside = torch.cat([columns[~lines_x], rows[~lines_y]]).mean().clamp_min(1e-12)
    return {"ratio": round(float(inside.mean() / outside), 3), "worst_line": round(float(inside.max() / outside), 3)}


def seam_report(output: torch.Tensor, image: torch.Tensor, tile: int, overlap: int, multiple: int) -> dict:
    """The seam metrics of the module docstring for an ``output`` of ``image`` (both (1, C, H, W))."""
    px = boundary_positions(output.shape[-1], tile, overlap, multiple)
    py = boundary_positions(output.shape[-2], tile, overlap, multiple)
    full = seam_metric(output, px, py)
    coarse = seam_metric(F.avg_pool2d(output, 8), sorted({p // 8 for p in px}), sorted({p // 8 for p in py}))
    return {
        "seam_ratio": full["ratio"],
        "seam_ratio_worst_line": full["worst_line"],
        "seam_ratio_coarse": coarse["ratio"],
        "seam_ratio_coarse_worst_line": coarse["worst_line"],
        "input_seam_ratio": seam_metric(image, px, py)["ratio"],
    }


def _peak_rss_gb() -> float:
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**30


def _current_rss_gb() -> float:
    """Resident memory now (Linux ``/proc``); elsewhere the peak so far, a conservative stand-in."""
    try:
        import os

        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**30
    except (OSError, ValueError, IndexError):
        return _peak_rss_gb()


def run_case(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    torch.manual_seed(args.seed)
    net = ResnetGenerator(ngf=args.ngf, n_blocks=args.n_blocks).to(device).eval()
    size = args.untiled_size if args.case == "untiled" else args.size
    image = synthetic_image(size)
    if args.case == "untiled":
        image = image.to(device)
    tiled = args.case != "untiled"
    overlap = 0 if args.case == "hard_cuts" else args.overlap
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    rss_before = _current_rss_gb()
    start = time.perf_counter()
    with torch.no_grad():
        if tiled:
            norm = net if args.norm == "image" else None
            output = tiled_apply(net, image, args.tile, overlap, 4, device=device, whole_image_norm=norm)
        else:
            output = net(image)
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    row = {
        "case": args.case,
        "size": size,
        "tile": args.tile if tiled else None,
        "overlap": overlap if tiled else None,
        "norm": args.norm if tiled else None,
        "tiles": len(tile_spans(size, args.tile, overlap, 4)) ** 2 if tiled else 1,
        "seconds": round(seconds, 2),
        "megapixels_per_sec": round(size * size / seconds / 1e6, 3),
    }
    if device.type == "cuda":
        row["peak_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 3)
        row["compute_peak_gb"] = round((torch.cuda.max_memory_allocated() - base) / 2**30, 3)
    else:
        rss_after = _peak_rss_gb()
        row["peak_rss_gb"] = round(rss_after, 3)
        row["compute_peak_gb"] = round(rss_after - rss_before, 3)
    output = output.cpu()
    row.update(seam_report(output, image.cpu(), args.tile, overlap, 4))  # untiled: the same lines, a baseline
    if tiled and args.compare:
        with torch.no_grad():
            direct = net(image.to(device)).cpu()
        difference = (output - direct).abs()
        row["mean_abs_diff_vs_untiled"] = float(difference.mean())
        row["max_abs_diff_vs_untiled"] = float(difference.max())
        row["coarse_diff_vs_untiled"] = float((F.avg_pool2d(output, 16) - F.avg_pool2d(direct, 16)).abs().mean())
        # the untiled output measured on the same lines: content edges that happen to lie on a boundary line
        # raise both, so a seam is the tiled figure exceeding this one
        row.update(
            {
                f"untiled_{k}": v
                for k, v in seam_report(direct, image.cpu(), args.tile, overlap, 4).items()
                if k != "input_seam_ratio"
            }
        )
    if tiled:
        target = Path(args.output or f"tiled_{args.case}_{size}.png")
        if args.case == "hard_cuts":
            target = target.with_name(f"{target.stem}_hard_cuts{target.suffix}")
        target.parent.mkdir(parents=True, exist_ok=True)
        to_image(output[0].clamp(-1, 1)).save(target)
        to_image(image[0]).save(target.with_name(f"{target.stem}_input{target.suffix}"))
        row["output"] = str(target)
    return row


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", type=int, default=2048, help="side of the tiled image (2048; 4096 for the full run)")
    p.add_argument("--untiled_size", type=int, default=1024, help="side of the untiled comparison image")
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64, help="generator width (64: the CycleGAN paper's)")
    p.add_argument("--n_blocks", type=int, default=9, help="residual blocks (9: resnet_9blocks)")
    p.add_argument("--hard_cuts", action="store_true", help="also run the tiles without overlap or blending")
    p.add_argument(
        "--norm",
        choices=["tile", "image"],
        default="tile",
        help="instance-norm statistics: per tile (one pass) or of the whole image (whole_image_norm, ~10x passes)",
    )
    p.add_argument(
        "--compare", action="store_true", help="also run the untiled network on the tiled image (small sizes)"
    )
    p.add_argument("--output", default=None, help="output PNG of the tiled case (tiled_<size>.png)")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--case", choices=["all", "untiled", "tiled", "hard_cuts"], default="all", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    info = {
        "device": torch.cuda.get_device_name() if args.device.startswith("cuda") else platform.machine(),
        "threads": torch.get_num_threads(),
        "ngf": args.ngf,
        "n_blocks": args.n_blocks,
    }
    if args.case != "all":
        print(json.dumps({**run_case(args), **info}), flush=True)
        return
    if args.output is None:
        args.output = f"tiled_{args.size}.png"
    rows = {}
    cases = (["untiled"] if args.untiled_size else []) + ["tiled"] + (["hard_cuts"] if args.hard_cuts else [])
    for case in cases:  # one process per case: its peak memory is its own
        settings = ["size", "untiled_size", "tile", "overlap", "ngf", "n_blocks", "output", "device", "seed", "norm"]
        settings += ["threads"] if args.threads else []
        flags = ["--compare"] if args.compare and case == "tiled" else []
        command = [sys.executable, __file__, "--case", case, *flags]
        for name in settings:
            command += [f"--{name}", str(getattr(args, name))]
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode != 0:
            print(json.dumps({"case": case, "error": proc.stderr.strip().splitlines()[-1:]}), flush=True)
            continue
        rows[case] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(json.dumps(rows[case]), flush=True)
    if "tiled" in rows and "untiled" in rows:
        key = "peak_gb" if "peak_gb" in rows["tiled"] else "peak_rss_gb"
        t, u = rows["tiled"], rows["untiled"]
        summary = {
            "summary": (
                f"{t['size']}x{t['size']} tiled ({t['tile']}/{t['overlap']}, {t['norm']} norm) in {t[key]} GB peak "
                f"({t['compute_peak_gb']} GB for the call) and {t['seconds']} s vs untiled {u[key]} GB "
                f"({u['compute_peak_gb']} GB) at {u['size']}x{u['size']}; seam ratio {t['seam_ratio']}, coarse "
                f"{t['seam_ratio_coarse']} (untiled {u['seam_ratio_coarse']})"
            ),
            **info,
        }
        print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
