"""Build the README gallery from the project's own commands on the bundled sample data.

    python scripts/make_gallery.py                  # --budget quick: the CPU demo recipes, about 15 minutes on 2 cores
    python scripts/make_gallery.py --budget hour    # about an hour per method on 2 CPU cores: larger crops, more steps
    python scripts/make_gallery.py --budget full    # the paper's recipes unchanged (200 epochs at 256x256): a GPU
    python scripts/make_gallery.py --skip-training  # reuse the runs in runs/gallery/<budget>

It trains CycleGAN (photo -> painting) and Pix2Pix (labels -> facade), translates the test images with
``gan-style predict``, and writes ``docs/images/gallery.png`` (``gallery-hour.png``, ``gallery-full.png`` for
the other budgets): each row shows an input and the model's output (and, for Pix2Pix, the ground truth). Next
to it, ``gallery.md`` (``gallery-hour.md``, ...) captions each panel with the commands that made it, the time
they took and the machine. Gatys, AdaIN and the PatchGAN style network need the ImageNet VGG-19 weights and
are not part of this gallery.

Budgets (each method's epoch count follows from its steps, so that the learning rate decays to 0 at the end):

- ``quick``: ``recipes/demo/cpu.yaml`` and ``recipes/demo/pix2pix_cpu.yaml`` as they are;
- ``hour``: CycleGAN with the demo's generator at twice its width (32 filters, Johnson et al.'s) on 128x128
  crops for 3000 optimizer steps; Pix2Pix with the paper's recipe (unet_256 at 256x256) for 5200 steps
  instead of 200 epochs (both estimated from per-step costs, not yet run);
- ``full``: ``recipes/cyclegan.yaml`` and ``recipes/pix2pix.yaml`` unchanged; refused without a GPU.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "runs" / "gallery"
SAMPLES = REPO / "examples" / "data"
TILE = 160
BUDGETS = ("quick", "hour", "full")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}

# Per budget and method: the recipes, then settings on top of them. ``steps`` (optimizer steps, 2 per batch)
# also sets n_epochs / n_epochs_decay: half the run at the recipe's rate, half decaying linearly to 0.
CONFIGS: dict[str, dict[str, dict]] = {
    "quick": {
        "cyclegan": {"recipes": ["recipes/cyclegan.yaml", "recipes/demo/cpu.yaml"], "steps": None, "args": []},
        "pix2pix": {"recipes": ["recipes/pix2pix.yaml", "recipes/demo/pix2pix_cpu.yaml"], "steps": None, "args": []},
    },
    "hour": {
        "cyclegan": {
            "recipes": ["recipes/cyclegan.yaml", "recipes/demo/cpu.yaml"],
            "steps": 3000,
            "args": [
                "--model.init_args.generator_ab.init_args.channels=32",
                "--model.init_args.generator_ba.init_args.channels=32",
                "--data.init_args.load_size=143",
                "--data.init_args.crop_size=128",
            ],
        },
        "pix2pix": {"recipes": ["recipes/pix2pix.yaml"], "steps": 5200, "args": []},
    },
    "full": {
        "cyclegan": {"recipes": ["recipes/cyclegan.yaml"], "steps": None, "args": []},
        "pix2pix": {"recipes": ["recipes/pix2pix.yaml"], "steps": None, "args": []},
    },
}
# Inference with the running batch-norm statistics and without dropout.
EXTRA = {"cyclegan": [], "pix2pix": ["--model.init_args.eval_mode=true"]}
# Training batches per epoch with batch size 1: CycleGAN max(|trainA|, |trainB|), Pix2Pix |train|.
DATA = {"cyclegan": ["photo2painting/trainA", "photo2painting/trainB"], "pix2pix": ["facades/train"]}


def gan_style(*args: str) -> float:
    """Run ``gan-style ARGS`` in the repository; returns its wall time in seconds."""
    cmd = [sys.executable, "-m", "gan_style", *args]
    print("+", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True)
    return time.perf_counter() - start


def epoch_length(method: str) -> int:
    return max(sum(1 for f in (SAMPLES / d).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES) for d in DATA[method])


def settings(budget: str, method: str) -> list[str]:
    """The command-line settings of ``method`` under ``budget``, as a user would type them."""
    config = CONFIGS[budget][method]
    args = [a for recipe in config["recipes"] for a in ("--config", recipe)] + config["args"]
    if config["steps"]:
        epochs = math.ceil(config["steps"] / 2 / epoch_length(method))
        args += [
            f"--trainer.max_steps={config['steps']}",
            f"--model.init_args.n_epochs={epochs - epochs // 2}",
            f"--model.init_args.n_epochs_decay={epochs // 2}",
        ]
    return args + EXTRA[method]


def machine() -> str:
    import torch

    if torch.cuda.is_available():
        return f"1 GPU ({torch.cuda.get_device_name(0)})"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.1f} at the start" if hasattr(os, "getloadavg") else ""
    return f"{cores} CPU cores ({platform.processor() or platform.machine()}{load}), no GPU"


def train(skip: bool, budget: str) -> None:
    for method in ("cyclegan", "pix2pix"):
        run = RUNS / budget / method
        args = settings(budget, method)
        where = [f"--trainer.default_root_dir={run}"]
        record = run / "gallery-timing.json"
        if not skip:
            info = {"fit": "gan-style fit " + " ".join(args), "machine": machine()}
            info["fit_seconds"] = gan_style("fit", *args, *where, "--trainer.enable_progress_bar=false")
            record.write_text(json.dumps(info, indent=1))
        seconds = gan_style("predict", *args, *where, "--ckpt_path=last")
        info = json.loads(record.read_text()) if record.is_file() else {}
        info.update(predict="gan-style predict " + " ".join(args) + " --ckpt_path last", predict_seconds=seconds)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps(info, indent=1))


def tile(image: Image.Image) -> Image.Image:
    image = image.convert("RGB")
    scale = TILE / image.height
    return image.resize((max(1, round(image.width * scale)), TILE), Image.Resampling.LANCZOS)


def row(label: str, images: list[Image.Image]) -> Image.Image:
    tiles = [tile(i) for i in images]
    out = Image.new("RGB", (sum(t.width for t in tiles) + 4 * (len(tiles) + 1), TILE + 26), "white")
    ImageDraw.Draw(out).text((4, 4), label, fill="black")
    x = 4
    for t in tiles:
        out.paste(t, (x, 22))
        x += t.width + 4
    return out


def target(budget: str) -> Path:
    return REPO / "docs" / "images" / ("gallery.png" if budget == "quick" else f"gallery-{budget}.png")


def compose(budget: str) -> Path:
    rows = []
    runs = RUNS / budget
    for name in ("newyork", "sailboat"):
        src = next((SAMPLES / "photo2painting" / "testA").glob(f"{name}.*"))
        out = runs / "cyclegan" / "predictions" / f"{name}.png"
        rows.append(row(f"CycleGAN photo -> painting: input | output ({name})", [Image.open(src), Image.open(out)]))
    for name in ("1", "2", "3"):
        pair = Image.open(SAMPLES / "facades" / "test" / f"{name}.jpg")
        w, h = pair.size
        photo, labels = pair.crop((0, 0, w // 2, h)), pair.crop((w // 2, 0, w, h))
        out = runs / "pix2pix" / "predictions" / f"{name}.png"
        rows.append(
            row(
                f"Pix2Pix labels -> facade: input | output | ground truth ({name}.jpg)",
                [labels, Image.open(out), photo],
            )
        )
    width = max(r.width for r in rows)
    gallery = Image.new("RGB", (width, sum(r.height for r in rows)), "white")
    y = 0
    for r in rows:
        gallery.paste(r, (0, y))
        y += r.height
    path = target(budget)
    path.parent.mkdir(parents=True, exist_ok=True)
    gallery.save(path)
    return path


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "not recorded"
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def captions(budget: str, image: Path) -> Path:
    """``gallery.md`` next to the image: per panel the commands, their wall times and the machine."""
    panels = {
        "cyclegan": "Rows 1-2, CycleGAN photo -> painting (test photos newyork, sailboat): input | output",
        "pix2pix": "Rows 3-5, Pix2Pix labels -> facade (test pairs 1-3): input | output | ground truth",
    }
    lines = [
        f"# Gallery ({budget} budget)",
        "",
        f"![{budget} gallery]({image.name})",
        "",
        f"Made by `python scripts/make_gallery.py --budget {budget}` from the bundled sample data "
        "(`examples/data`), seed 0. Times are wall-clock times of each command as it ran.",
    ]
    for method, title in panels.items():
        info_path = RUNS / budget / method / "gallery-timing.json"
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        fit = info.get("fit", "gan-style fit " + " ".join(settings(budget, method)))
        lines += [
            "",
            f"**{title}.**",
            "",
            "```bash",
            fit,
            info.get("predict", "gan-style predict " + " ".join(settings(budget, method)) + " --ckpt_path last"),
            "```",
            "",
            f"Training took {duration(info.get('fit_seconds'))}, prediction {duration(info.get('predict_seconds'))}, "
            f"on {info.get('machine', 'an unrecorded machine')}.",
        ]
    path = image.with_suffix(".md")
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-training", action="store_true", help="reuse the checkpoints in runs/gallery/<budget>")
    parser.add_argument(
        "--budget",
        choices=BUDGETS,
        default="quick",
        help="quick: the CPU demo recipes (minutes); hour: about an hour per method on 2 CPU cores; "
        "full: the paper's recipes (needs a GPU)",
    )
    args = parser.parse_args()
    if args.budget == "full" and not args.skip_training:
        import torch

        if not torch.cuda.is_available():
            parser.error(
                "--budget full trains the paper's recipes (200 epochs at 256x256) and needs a GPU; "
                "on a CPU use --budget hour"
            )
    train(args.skip_training, args.budget)
    image = compose(args.budget)
    print("wrote", image, "and", captions(args.budget, image))


if __name__ == "__main__":
    main()
