"""DCGAN's four adversarial objectives (``gan_mode``: vanilla, lsgan, wgangp, hinge) on scikit-learn's digits at one
budget, measured offline with a digits classifier instead of the Inception network.

    python benchmarks/dcgan_objectives.py                               # 4 objectives x 2000 optimizer steps, seed 0
    python benchmarks/dcgan_objectives.py --seeds 0 1 2 --grids runs/objectives --output objectives.json
    python benchmarks/dcgan_objectives.py --steps 200 --gan_modes vanilla hinge   # a quick look

Training is the project's own path: :class:`gan_style.methods.DCGAN` on :class:`gan_style.data.DigitsDataModule`
through a ``lightning.Trainer`` (checkpoints off, no logger, its folder a temporary one), with the networks, the
optimizer and the data settings of ``recipes/dcgan.yaml`` + ``recipes/demo/digits.yaml`` (read from the installed
recipes: generator ngf 16, discriminator ndf 16, 32x32, one channel, nz 100, Adam 2e-4 / (0.5, 0.999), batch 64,
one discriminator step then one generator step per batch). Per seed, every objective starts from the same seed
(``seed_everything``: the same generator initialisation and the same data order) and runs the same number of
optimizer steps (``--steps``, D and G steps counted as ``trainer.global_step`` counts them). Only ``gan_mode``
changes, plus one thing the method itself requires: for ``wgangp`` the discriminator (the critic) has no batch norm,
since the gradient penalty needs each score to depend on its own image only (Gulrajani et al. 2017, Sec. 4; what
``DCGAN`` builds by default for wgangp). ``--critic_norm batch`` or ``none`` gives all four the same discriminator.
``n_critic`` stays the recipe's 1 for every objective (the WGAN-GP paper uses 5), so all four see the same number
of discriminator and generator updates.

Measurement. Inception-v3 weights cannot be downloaded here, so the figures come from a small classifier of the
real 8x8 digits (scikit-learn ``MLPClassifier``, one hidden layer of 64 ReLU units, trained on a stratified half of
the 1,797 digits; its accuracy on the other half is printed). The held-out half is split again (stratified) into a
reference set and a real sample. For each objective ``--samples`` images are drawn from seeded latents (the same
latents for every objective) with the generator in eval mode, as ``gan-style sample`` draws them, and mapped back
to the 8x8 grid the classifier reads:

- 32x32 -> 8x8 (``--downsample pinv``, the default): the least-squares inverse of the data module's upsampling.
  :func:`gan_style.data.digits.load_digit_images` upsamples the 8x8 grey levels bilinearly (``align_corners=False``)
  to 32x32, a linear map U from 64 to 1024 values with full column rank (singular values 1.35 to 4), so its
  pseudo-inverse recovers a real digit exactly (the round-trip error printed is ~1e-14) and gives any other image
  the 8x8 image whose upsampling is closest to it in the least-squares sense. ``--downsample area`` averages 4x4
  blocks instead: simpler, but it does not invert the bilinear upsampling (it blurs every digit by a [1/8, 3/4,
  1/8] kernel per axis; round-trip error up to 6 grey levels).
- values: the data module maps grey level v (0..16) to v / 8 - 1 in [-1, 1]; the 8x8 image is clamped to
  [-1, 1] and mapped back, v = 8 (x + 1), and the classifier reads v / 16 (as it was trained). Values are not
  rounded to the 17 integer levels.

The real sample goes through the same path (its 32x32 images from the data module, the same down-sampling), so
every row is measured alike. Figures per row:

- ``fid``: "digits FID", the Fréchet distance between the classifier's hidden-layer features (64-d) of the
  reference set and of the row's images (:class:`gan_style.metrics.FrechetDistance`, torchmetrics' computation);
  lower is better. Like FID it is biased upwards for small sets: the real row uses fewer images (the real sample)
  than the generated rows (``--samples``), which raises its value a little.
- ``is``: the classifier's Inception-Score analogue exp(E_x KL(p(y|x) || p(y))), p(y) the mean of p(y|x) over the
  row's images; 1 for images that all look alike to the classifier, 10 at most (ten confidently recognised,
  equally frequent digits).
- ``classes``: digit classes the classifier assigns to at least ``--coverage`` (5%) of the images (10 at most).
- ``max_p``: the mean over images of the classifier's largest class probability (its confidence).
- ``train_s`` / ``train_cpu_s``: wall and CPU seconds of ``trainer.fit`` (the CPU time of all threads).

Prints one JSON line per run, one summary line per objective (mean and sample standard deviation over seeds), then
a Markdown table with the budget and the command. ``--output`` writes all of it as one JSON file; ``--grids DIR``
writes each run's first 64 samples as an 8x8 grid (``<gan_mode>_seed<seed>.png``, the grid of ``gan-style
sample``) and 64 real digits of the real sample (``real.png``).

A run of the defaults takes about 4 minutes of CPU time on one thread (torch and the classifier): about 55 s of
training per objective, 75 s for wgangp (the gradient penalty's second backward pass), a few seconds for the
classifier and the measurements; longer in wall time on a busy machine. Results in docs/methods/dcgan.md.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import platform
import shlex
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
import yaml
from torch import Tensor

from gan_style.commands.recipes import list_recipes
from gan_style.data import DigitsDataModule
from gan_style.data.digits import load_digit_images
from gan_style.losses import GAN_MODES
from gan_style.methods.dcgan import DCGAN
from gan_style.metrics import FrechetDistance
from gan_style.nets.dcgan import DCGANDiscriminator, DCGANGenerator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import quiet_cpu_trainer  # noqa: E402

#: The figures of a row, in the table's order.
METRICS = ("fid", "is", "classes", "max_p")
#: Samples in a saved grid (8 per row, as ``gan-style sample`` lays out 64).
GRID_SAMPLES = 64
#: Seed of the classifier and of the real-data splits: the measuring instrument is the same for every run.
CLASSIFIER_SEED = 0
#: Hidden units of the classifier, the dimension of the "digits FID" features.
HIDDEN_UNITS = 64
REAL = "real held-out digits"


# --- the recipe ----------------------------------------------------------------------------------------------------
def recipe_settings() -> dict[str, Any]:
    """The DCGAN settings of ``gan-style fit --config dcgan --config demo/digits``: ``model`` (the method's
    init_args but the networks), ``generator``, ``discriminator`` (the networks' init_args) and ``data``
    (``image_size``, ``batch_size``), read from the installed recipes, the second over the first (a network's
    init_args merged key by key, as the CLI merges them)."""
    recipes = list_recipes()
    model: dict[str, Any] = {}
    networks: dict[str, dict[str, Any]] = {"generator": {}, "discriminator": {}}
    data: dict[str, Any] = {}
    for name in ("dcgan", "demo/digits"):
        config = yaml.safe_load(recipes[name].read_text())
        for key, value in config.get("model", {}).get("init_args", {}).items():
            if key in networks:
                expected = (DCGANGenerator if key == "generator" else DCGANDiscriminator).__name__
                if not value["class_path"].endswith(expected):
                    raise SystemExit(f"recipe {name}: the {key} is {value['class_path']}, not {expected}")
                networks[key].update(value.get("init_args", {}))
            else:
                model[key] = value
        if config.get("data", {}).get("class_path", "").endswith("DigitsDataModule"):
            data.update(config["data"].get("init_args", {}))
    model.pop("gan_mode", None)
    return {"model": model, **networks, "data": {k: data[k] for k in ("image_size", "batch_size")}}


# --- 32x32 -> 8x8 --------------------------------------------------------------------------------------------------
def upsampling_matrix(image_size: int = 32) -> Tensor:
    """U, (image_size^2, 64): the data module's 8x8 -> image_size upsampling as a matrix, built by upsampling the
    64 unit images (the call of :func:`gan_style.data.digits.load_digit_images`: bilinear, ``align_corners=False``,
    no antialiasing; its clamp to [-1, 1] is a no-op on digits and left out)."""
    basis = torch.eye(64, dtype=torch.float64).reshape(64, 1, 8, 8)
    up = F.interpolate(basis, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return up.reshape(64, image_size * image_size).T


def to_8x8(images: Tensor, method: str = "pinv") -> Tensor:
    """Images (N, 1, S, S) in [-1, 1] at the data module's size -> (N, 1, 8, 8) in [-1, 1] (clamped).

    ``pinv``: the least-squares inverse of the data module's upsampling (exact on its images); ``area``: the mean
    of each (S/8)x(S/8) block."""
    n, _, size, _ = images.shape
    if method == "pinv":
        inverse = torch.linalg.pinv(upsampling_matrix(size))  # (64, S^2)
        small = images.reshape(n, size * size).double() @ inverse.T
        small = small.float().reshape(n, 1, 8, 8)
    elif method == "area":
        small = F.adaptive_avg_pool2d(images.float(), 8)
    else:
        raise ValueError(f"unknown downsample method {method!r}; choose pinv or area")
    return small.clamp(-1.0, 1.0)


def grey_levels(images8: Tensor) -> np.ndarray:
    """(N, 1, 8, 8) in [-1, 1] -> (N, 64) grey levels in [0, 16], the inverse of the data module's v / 8 - 1."""
    return ((images8.reshape(len(images8), 64).double() + 1.0) * 8.0).numpy()


# --- the classifier ------------------------------------------------------------------------------------------------
@dataclass
class DigitsClassifier:
    """An ``MLPClassifier`` of the 8x8 digits (input: grey levels / 16) and the real-data splits.

    Attributes:
        mlp: the fitted classifier (one hidden ReLU layer).
        train_index, reference_index, sample_index: indices into the 1,797 digits: the classifier's training
            half, then the held-out half split into the FID reference set and the real sample (stratified, disjoint).
        accuracy: its accuracy on the held-out half (reference set + real sample).
        downsample: the 32x32 -> 8x8 method of every row (:func:`to_8x8`).
        reference_features: the hidden features (N_ref, hidden units) of the reference set's 32x32 images (from the
            data module) mapped back to 8x8 by ``downsample``.
    """

    mlp: Any
    train_index: np.ndarray
    reference_index: np.ndarray
    sample_index: np.ndarray
    accuracy: float
    downsample: str
    reference_features: Tensor | None = None

    def features(self, levels: np.ndarray) -> Tensor:
        """Hidden-layer activations (N, hidden units), float64, of grey levels (N, 64) in [0, 16]."""
        x = np.asarray(levels, np.float64) / 16.0
        return torch.from_numpy(np.maximum(x @ self.mlp.coefs_[0] + self.mlp.intercepts_[0], 0.0))

    def probabilities(self, levels: np.ndarray) -> np.ndarray:
        """p(y|x), (N, 10), of grey levels (N, 64) in [0, 16]."""
        return self.mlp.predict_proba(np.asarray(levels, np.float64) / 16.0)


def train_classifier(
    downsample: str = "pinv", seed: int = CLASSIFIER_SEED, hidden_units: int = HIDDEN_UNITS, image_size: int = 32
) -> DigitsClassifier:
    """Fit the classifier on a stratified half of scikit-learn's digits (raw 8x8 grey levels) and split the other
    half into the FID reference set and the real sample; the reference features are computed from the data module's
    ``image_size`` images of the reference set, mapped back by ``downsample`` as the generated images are (with
    ``pinv`` identical to the raw digits up to rounding)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    index = np.arange(len(digits.target))
    train, held = train_test_split(index, test_size=0.5, stratify=digits.target, random_state=seed)
    reference, sample = train_test_split(held, test_size=0.5, stratify=digits.target[held], random_state=seed)
    mlp = MLPClassifier(hidden_layer_sizes=(hidden_units,), activation="relu", max_iter=2000, random_state=seed)
    mlp.fit(digits.data[train] / 16.0, digits.target[train])
    accuracy = float(mlp.score(digits.data[held] / 16.0, digits.target[held]))
    classifier = DigitsClassifier(mlp, np.sort(train), np.sort(reference), np.sort(sample), accuracy, downsample)
    reference8 = to_8x8(real_images(classifier.reference_index, image_size), downsample)
    classifier.reference_features = classifier.features(grey_levels(reference8))
    return classifier


def real_images(index: np.ndarray, image_size: int = 32) -> Tensor:
    """The data module's images (N, 1, image_size, image_size) in [-1, 1] of the digits at ``index``."""
    return load_digit_images(image_size)[torch.from_numpy(np.asarray(index))]


def frechet_distance(reference: Tensor, features: Tensor) -> float:
    """The Fréchet distance between the Gaussians of two feature sets (N, D), by
    :class:`gan_style.metrics.FrechetDistance` (torchmetrics' FID computation on precomputed features)."""
    metric = FrechetDistance(num_features=reference.shape[1])
    metric.update(reference.double(), real=True)
    metric.update(features.double(), real=False)
    return float(metric.compute())


def inception_score(probabilities: np.ndarray) -> float:
    """exp(E_x KL(p(y|x) || p(y))) of class probabilities (N, K), p(y) their mean: from 1 to K."""
    p = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp((p * (np.log(p) - np.log(marginal))).sum(axis=1).mean()))


def figures(classifier: DigitsClassifier, images8: Tensor, reference: Tensor, coverage: float = 0.05) -> dict[str, Any]:
    """The figures of one row for its 8x8 images (N, 1, 8, 8) in [-1, 1] against the reference features."""
    levels = grey_levels(images8)
    p = classifier.probabilities(levels)
    counts = np.bincount(p.argmax(axis=1), minlength=p.shape[1])
    return {
        "fid": frechet_distance(reference, classifier.features(levels)),
        "is": inception_score(p),
        "classes": int((counts >= coverage * len(p)).sum()),
        "max_p": float(p.max(axis=1).mean()),
        "class_counts": counts.tolist(),
        "images": len(p),
    }


# --- training ------------------------------------------------------------------------------------------------------
def critic_norm_for(gan_mode: str, setting: str, recipe_norm: str) -> str:
    """The discriminator's norm: ``auto`` keeps the recipe's, but none for wgangp (what DCGAN requires of a
    critic with a gradient penalty); ``batch`` / ``none`` force it."""
    if setting == "auto":
        return "none" if gan_mode == "wgangp" else recipe_norm
    return setting


def train_objective(
    gan_mode: str, steps: int, seed: int, settings: dict[str, Any], critic_norm: str = "auto"
) -> tuple[DCGAN, dict[str, Any]]:
    """Train one DCGAN with ``gan_mode`` for ``steps`` optimizer steps from ``seed``; (model, facts of the run)."""
    L.seed_everything(seed, verbose=False)
    discriminator_args = dict(settings["discriminator"])
    discriminator_args["norm"] = critic_norm_for(gan_mode, critic_norm, discriminator_args.get("norm", "batch"))
    model = DCGAN(
        generator=DCGANGenerator(**settings["generator"]),
        discriminator=DCGANDiscriminator(**discriminator_args),
        gan_mode=gan_mode,
        **settings["model"],
    )
    data = DigitsDataModule(**settings["data"], num_workers=0, seed=seed)
    with tempfile.TemporaryDirectory(prefix="dcgan_objectives_") as root:
        trainer = quiet_cpu_trainer(max_steps=steps, default_root_dir=root)
        start, cpu = time.perf_counter(), time.process_time()
        trainer.fit(model, data)
        train_s, train_cpu_s = time.perf_counter() - start, time.process_time() - cpu
    losses = {k.split("/")[1]: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    return model, {
        "optimizer_steps": int(trainer.global_step),
        "batches": int(trainer.fit_loop.epoch_loop.batch_progress.total.completed),
        "critic_norm": discriminator_args["norm"],
        "final_losses": losses,
        "train_s": round(train_s, 1),
        "train_cpu_s": round(train_cpu_s, 1),
    }


def draw(model: DCGAN, n: int, seed: int) -> Tensor:
    """``n`` images (n, C, S, S) in [-1, 1] from latents of a CPU generator seeded with ``seed`` (the same latents
    for every objective), the generator in eval mode, as ``gan-style sample`` draws them."""
    latents = model.sample_latents(n, torch.Generator().manual_seed(seed))
    return torch.cat([model.generate(chunk).cpu() for chunk in latents.split(256)])


def save_grid(images: Tensor, path: Path) -> Path:
    """The first 64 images as the grid of ``gan-style sample`` (8 per row, 2-pixel white gaps), written atomically."""
    from torchvision.utils import make_grid

    from gan_style.data.transforms import to_image
    from gan_style.io.atomic import atomic_write

    shown = images[:GRID_SAMPLES]
    grid = make_grid(shown, nrow=math.ceil(math.sqrt(len(shown))), padding=2, pad_value=1.0)
    with atomic_write(path) as f:
        to_image(grid).save(f, format="PNG")
    return path


# --- the run -------------------------------------------------------------------------------------------------------
def _args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--steps",
        type=int,
        default=2000,
        help="optimizer steps per run, D and G counted, 2 per batch (default 2000: 1000 batches, half of "
        "demo/digits' 4000)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (default 0); mean ± sd over several")
    parser.add_argument("--gan_modes", nargs="+", default=list(GAN_MODES), choices=GAN_MODES, help="objectives")
    parser.add_argument("--samples", type=int, default=1000, help="generated images per run (default 1000)")
    parser.add_argument("--downsample", choices=("pinv", "area"), default="pinv", help="32x32 -> 8x8 (default pinv)")
    parser.add_argument(
        "--coverage", type=float, default=0.05, help="share of the images a covered class needs (default 0.05)"
    )
    parser.add_argument(
        "--critic_norm",
        choices=("auto", "batch", "none"),
        default="auto",
        help="the discriminator's norm: auto (the recipe's batch norm, none for wgangp), or one for all",
    )
    parser.add_argument("--threads", type=int, default=1, help="torch and BLAS threads (default 1)")
    parser.add_argument(
        "--grids", type=Path, default=None, help="folder for each run's grid of 64 samples and real.png"
    )
    parser.add_argument("--output", type=Path, default=None, help="write everything as one JSON file")
    parser.add_argument("--no_table", action="store_true", help="leave out the Markdown table")
    args = parser.parse_args(argv)
    if args.steps < 1 or args.samples < 2 or args.threads < 1 or not 0 < args.coverage <= 1:
        parser.error("--steps >= 1, --samples >= 2, --threads >= 1 and 0 < --coverage <= 1 are required")
    return args


def measure_real(classifier: DigitsClassifier, coverage: float = 0.05, image_size: int = 32) -> dict[str, Any]:
    """The ceiling row: the real sample through the same 32x32 -> 8x8 path as the generated images."""
    images8 = to_8x8(real_images(classifier.sample_index, image_size), classifier.downsample)
    return {"gan_mode": REAL, **figures(classifier, images8, classifier.reference_features, coverage)}


def run_one(
    classifier: DigitsClassifier, settings: dict[str, Any], args: argparse.Namespace, gan_mode: str, seed: int
) -> dict[str, Any]:
    """Train one objective and measure its samples; the JSON row."""
    model, facts = train_objective(gan_mode, args.steps, seed, settings, args.critic_norm)
    images = draw(model, args.samples, seed)
    if args.grids is not None:
        facts["grid"] = str(save_grid(images, args.grids / f"{gan_mode}_seed{seed}.png"))
    row = figures(classifier, to_8x8(images, classifier.downsample), classifier.reference_features, args.coverage)
    return {"benchmark": "dcgan_objectives", "gan_mode": gan_mode, "seed": seed, **row, **facts}


def summarize(rows: list[dict[str, Any]], gan_mode: str) -> dict[str, Any]:
    """Mean and sample standard deviation over the seeds of one objective (0 for one seed)."""
    picked = [r for r in rows if r["gan_mode"] == gan_mode]
    out: dict[str, Any] = {"benchmark": "dcgan_objectives", "summary": True, "gan_mode": gan_mode, "seeds": len(picked)}
    for key in (*METRICS, "train_s", "train_cpu_s"):
        values = [float(r[key]) for r in picked]
        out[f"{key}_mean"] = statistics.fmean(values)
        out[f"{key}_sd"] = statistics.stdev(values) if len(values) > 1 else 0.0
    return out


def _cell(summary: dict[str, Any], key: str, digits: int) -> str:
    mean, sd = summary[f"{key}_mean"], summary[f"{key}_sd"]
    return f"{mean:.{digits}f}" if summary["seeds"] == 1 else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def table(summaries: list[dict[str, Any]], real: dict[str, Any], context: dict[str, Any]) -> str:
    """The Markdown table: one row per objective, then the real held-out digits."""
    lines = [
        f"DCGAN on scikit-learn's digits (32x32), {context['optimizer_steps']} optimizer steps ({context['batches']} "
        f"batches of {context['batch_size']}) per objective, seeds {' '.join(map(str, context['seeds']))}"
        f"{' (mean ± sd)' if len(context['seeds']) > 1 else ''}; CPU, threads {context['threads']}. Classifier: MLP "
        f"64-{HIDDEN_UNITS}-10, held-out accuracy {context['accuracy']:.3f}; {context['samples']} samples per run "
        f"mapped to 8x8 by {context['downsample']} (round-trip error on real digits {context['roundtrip']:.1e}); "
        f"FID against {context['reference']} held-out digits; real row: {real['images']} other held-out digits.",
        "",
        "| objective | D norm | digits FID ↓ | classifier IS ↑ (max 10) | classes ≥ "
        f"{context['coverage']:.0%} | mean max p | train s (CPU s) |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in summaries:
        cells = [_cell(s, "fid", 2), _cell(s, "is", 2), _cell(s, "classes", 1 if s["seeds"] > 1 else 0)]
        cells += [_cell(s, "max_p", 3), f"{s['train_s_mean']:.0f} ({s['train_cpu_s_mean']:.0f})"]
        lines.append(f"| {s['gan_mode']} | {s['critic_norm']} | {' | '.join(cells)} |")
    lines.append(f"| {REAL} | — | {real['fid']:.2f} | {real['is']:.2f} | {real['classes']} | {real['max_p']:.3f} | — |")
    lines += ["", f"command: {context['command']}"]
    return "\n".join(lines)


def run(args: argparse.Namespace, command: str = "") -> dict[str, Any]:
    """The whole benchmark; returns ``{"settings", "classifier", "real", "rows", "summaries", "table", "machine",
    "wall_s", "cpu_s"}`` (seconds from the start of the classifier to the table, imports not counted)."""
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    start, cpu = time.perf_counter(), time.process_time()
    settings = recipe_settings()
    size = settings["data"]["image_size"]
    with threadpool_limits(args.threads):
        classifier = train_classifier(args.downsample, image_size=size)
        roundtrip = float((to_8x8(load_digit_images(size), args.downsample) - load_digit_images(8)).abs().max())
        real = measure_real(classifier, args.coverage, size)
        if args.grids is not None:
            real["grid"] = str(save_grid(real_images(classifier.sample_index, size), args.grids / "real.png"))
        print(json.dumps({"benchmark": "dcgan_objectives", "classifier_accuracy": classifier.accuracy, **real}))
        rows = []
        for seed in args.seeds:
            for gan_mode in args.gan_modes:
                row = run_one(classifier, settings, args, gan_mode, seed)
                rows.append(row)
                print(json.dumps(row), flush=True)
    summaries = []
    for gan_mode in args.gan_modes:
        summary = summarize(rows, gan_mode)
        summary["critic_norm"] = next(r["critic_norm"] for r in rows if r["gan_mode"] == gan_mode)
        summaries.append(summary)
        print(json.dumps(summary), flush=True)
    context = {
        "optimizer_steps": rows[0]["optimizer_steps"],
        "batches": rows[0]["batches"],
        "batch_size": settings["data"]["batch_size"],
        "seeds": args.seeds,
        "threads": torch.get_num_threads(),
        "accuracy": classifier.accuracy,
        "samples": args.samples,
        "downsample": args.downsample,
        "roundtrip": roundtrip,
        "reference": len(classifier.reference_index),
        "coverage": args.coverage,
        "command": command,
    }
    result = {
        "settings": {**{k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}, "recipe": settings},
        "classifier": {
            "model": f"MLPClassifier 64-{HIDDEN_UNITS}-10 (relu), trained on {len(classifier.train_index)} digits",
            "held_out_accuracy": classifier.accuracy,
            "reference_digits": len(classifier.reference_index),
            "real_sample_digits": len(classifier.sample_index),
            "downsample_roundtrip_max_error": roundtrip,
        },
        "real": real,
        "rows": rows,
        "summaries": summaries,
        "table": table(summaries, real, context),
        "machine": {
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            "torch": torch.__version__,
        },
    }
    result["wall_s"] = round(time.perf_counter() - start, 1)
    result["cpu_s"] = round(time.process_time() - cpu, 1)
    return result


def main(argv: list[str] | None = None) -> None:
    args = _args(argv)
    warnings.filterwarnings("ignore", category=UserWarning, module="lightning")  # the CPU / worker hints
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*")  # torch's deprecation, raised inside Lightning
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)  # "GPU available ..." once per run
    command = "python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
    result = run(args, command)
    if args.output is not None:
        from gan_style.io.atomic import atomic_write

        with atomic_write(args.output, "w", encoding="utf-8") as f:
            f.write(json.dumps(result, indent=1) + "\n")
    if not args.no_table:
        print()
        print(result["table"])
        print(f"\nwall time: {result['wall_s']:.0f} s (CPU {result['cpu_s']:.0f} s), imports not counted")


if __name__ == "__main__":
    main()
