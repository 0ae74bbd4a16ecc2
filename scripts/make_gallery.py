"""Build the README gallery from the project's own commands on the bundled sample data.

    python scripts/make_gallery.py                 # about 15 minutes on a 2-core CPU
    python scripts/make_gallery.py --skip-training # reuse the runs in runs/gallery

It trains CycleGAN (photo -> painting) and Pix2Pix (labels -> facade) with the CPU demo pieces, translates
the test images with ``gan-style predict``, and writes ``docs/images/gallery.png``: each row shows an input
and the model's output (and, for Pix2Pix, the ground truth). Gatys, AdaIN and the PatchGAN style network
need the ImageNet VGG-19 weights and are not part of this gallery.

"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]
RUNS = REPO / "runs" / "gallery"
TILE = 160


def gan_style(*args: str) -> None:
    cmd = [sys.executable, "-m", "gan_style", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=REPO, check=True)


def train(skip: bool) -> None:
    cyclegan = [
        "--config",
        "recipes/cyclegan.yaml",
        "--config",
        "recipes/demo/cpu.yaml",
        f"--trainer.default_root_dir={RUNS / 'cyclegan'}",
    ]
    pix2pix = [
        "--config",
        "recipes/pix2pix.yaml",
        "--config",
        "recipes/demo/pix2pix_cpu.yaml",
        f"--trainer.default_root_dir={RUNS / 'pix2pix'}",
        "--model.init_args.eval_mode=true",
    ]
    if not skip:
        gan_style("fit", *cyclegan, "--trainer.enable_progress_bar=false")
        gan_style("fit", *pix2pix, "--trainer.enable_progress_bar=false")
    gan_style("predict", *cyclegan, "--ckpt_path=last")
    gan_style("predict", *pix2pix, "--ckpt_path=last")


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


def compose() -> Path:
    rows = []
    samples = REPO / "examples" / "data"
    for name in ("newyork", "sailboat"):
        src = next((samples / "photo2painting" / "testA").glob(f"{name}.*"))
        out = RUNS / "cyclegan" / "predictions" / f"{name}.png"
        rows.append(row(f"CycleGAN photo -> painting: input | output ({name})", [Image.open(src), Image.open(out)]))
    for name in ("1", "2", "3"):
        pair = Image.open(samples / "facades" / "test" / f"{name}.jpg")
        w, h = pair.size
        photo, labels = pair.crop((0, 0, w // 2, h)), pair.crop((w // 2, 0, w, h))
        out = RUNS / "pix2pix" / "predictions" / f"{name}.png"
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
    target = REPO / "docs" / "images" / "gallery.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    gallery.save(target)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--skip-training", action="store_true", help="reuse the checkpoints in runs/gallery")
    args = parser.parse_args()
    train(args.skip_training)
    print("wrote", compose())


if __name__ == "__main__":
    main()
