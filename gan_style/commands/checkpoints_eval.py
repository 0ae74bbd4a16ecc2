"""``gan-style evaluate --checkpoints RUN``: every checkpoint of a run measured on the run's test set, as a table
and a plot against the optimizer step, with the best one named.

For each ``*.ckpt`` of ``RUN/checkpoints`` (the snapshots, ``last.ckpt``, ``best.ckpt``): the model is loaded by the
one loader (:func:`gan_style.loading.load_stylizer`), each test image is run by the one runner
(:class:`gan_style.inference.run.Runner`, sized as ``gan-style predict`` sizes it) and written as an 8-bit PNG, and
the folder of outputs is measured by :func:`gan_style.commands.evaluate.evaluate` against the test set's real
images, exactly as ``gan-style evaluate --generated`` would measure it. The test set is the one of the config the
checkpoint carries (``gan-style fit`` stores the model and data sections in every checkpoint):

==========================  =============================  ==============================  ===========================
DataModule                  inputs                         reference (FID, KID)            default metrics
==========================  =============================  ==============================  ===========================
``UnpairedImageDataModule``  ``testA/``, whole images       ``testB/`` as it is on disk      fid, kid
``PairedImageDataModule``    the ``test`` split's A images  its B images (the ground truth)  fid, kid, psnr, ssim
``ContentStyleDataModule``   ``val_content_dir`` with the   the style images                 artfid, fid, lpips
                             styles in turn
==========================  =============================  ==============================  ===========================

(``direction: BtoA`` swaps the domains as in training.) Output, in ``RUN/evaluation/`` (``output_dir``):
``checkpoints.csv`` and ``checkpoints.json`` (one row per checkpoint file: name, step, epoch, sha256, the metrics),
``checkpoints.png`` (each metric against the optimizer step, the best checkpoint ringed) and ``cache/``. Each
finished checkpoint is cached under the sha256 of its file and the evaluation settings, so an interrupted or
repeated evaluation skips what it has measured and a file copied under another name (``last.ckpt`` of the newest
snapshot) is measured once.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import math
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gan_style.errors import DatasetNotFoundError, FileMissingError, InvalidSettingError, MetricInputError

if TYPE_CHECKING:  # torch and the networks are imported when the command runs
    from torch import nn

__all__ = ["EvaluationSet", "evaluate_checkpoints", "evaluation_set", "find_checkpoints", "plot_metrics"]

#: Where the results go inside the run folder (``output_dir`` changes it).
EVALUATION_FOLDER = "evaluation"
#: Default metrics per kind of test set; the first one picks the best checkpoint unless ``select`` is given.
DEFAULT_METRICS = {
    "unpaired": ("fid", "kid"),
    "paired": ("fid", "kid", "psnr", "ssim"),
    "content_style": ("artfid", "fid", "lpips"),
}
#: Keys of a DataModule's ``init_args`` that name folders (found from the folder a run was started in).
_PATH_KEYS = ("root", "content_dir", "style_dir", "val_content_dir")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def find_checkpoints(run: str | os.PathLike) -> list[Path]:
    """The checkpoint files of the run folder ``run``: ``run/checkpoints/*.ckpt`` (or ``run/*.ckpt`` when ``run`` is
    the checkpoints folder itself), sorted by name.

    Raises:
        FileMissingError: ``run`` does not exist, is a file, or holds no checkpoint; the message names it and what
            to give instead.
    """
    folder = Path(run)
    if not folder.exists():
        raise FileMissingError(
            f"run folder '{folder}' does not exist; give the folder of a trained run (its trainer.default_root_dir, "
            "e.g. runs/cyclegan), which holds checkpoints/"
        )
    if not folder.is_dir():
        parent = folder.parent.parent if folder.parent.name == "checkpoints" else folder.parent
        raise FileMissingError(
            f"'{folder}' is a file; --checkpoints takes a run folder and measures every checkpoint in it (e.g. "
            f"--checkpoints {parent}); one file's outputs: gan-style predict --ckpt_path {folder}, then --generated"
        )
    inside = folder / "checkpoints"
    files = sorted(p for p in (inside if inside.is_dir() else folder).glob("*.ckpt") if p.is_file())
    if not files:
        raise FileMissingError(
            f"'{folder}' holds no checkpoints (no {inside if inside.is_dir() else folder}/*.ckpt); give the run folder "
            f"of a gan-style fit (--trainer.default_root_dir), or train one: gan-style fit ... "
            f"--trainer.default_root_dir {folder}"
        )
    return files


@dataclass
class EvaluationSet:
    """What a run is measured on, from its DataModule.

    Attributes:
        kind: ``unpaired``, ``paired`` or ``content_style``.
        dataset: the items to translate (``dataset[i]`` is a dict of (3, H, W) tensors in [-1, 1] and paths).
        input_key: the item's key of the image the model translates (``"A"`` or ``"content"``).
        reference: folder of the real images FID and KID compare with (None for ``paired``: the ground-truth
            images are written by :func:`evaluate_checkpoints` from the items' ``"B"``).
        content: folder of the input images (LPIPS / ArtFID pair each output with its input), or None.
        size: the shorter side the runner gives outputs (None: each input's own size), as ``predict``.
        files: the input and reference files, for the cache key.
        scaling: for data beyond 8-bit RGB, domain B's :class:`~gan_style.io.imagery.Scaling` (outputs and ground
            truth are written in its type and measured in its range); None for 8-bit RGB data.
        bands: domain B's band count.
        display_bands: the data module's display bands (what FID, KID and LPIPS see of N bands).
    """

    kind: str
    dataset: Any
    input_key: str
    reference: Path | None
    content: Path | None
    size: int | None
    files: list[Path] = field(default_factory=list)
    scaling: Any = None
    bands: int = 3
    display_bands: Any = None

    @property
    def suffix(self) -> str:
        """The file ending outputs and ground truth are written with (``.png`` for 8-bit RGB data)."""
        from gan_style.inference.run import data_suffix

        return ".png" if self.scaling is None else data_suffix(self.scaling.dtype, self.bands)

    def write(self, tensor: Any, path: Path) -> None:
        """Write (C, H, W) in [-1, 1] to ``path`` (its suffix replaced by :attr:`suffix`): an 8-bit PNG, or the
        data's type through :attr:`scaling`, unchanged files left alone (their cached statistics stay valid)."""
        if self.scaling is None:
            _write_png(tensor, path)
            return
        import numpy as np

        from gan_style.io.imagery import read_array, write_array

        target = path.with_suffix(self.suffix)
        array = self.scaling.from_tensor(tensor.detach().float().cpu())
        if target.is_file() and np.array_equal(read_array(target), array):
            return
        write_array(target, array)

    def output_name(self, item: dict[str, Any], index: int) -> str:
        """The file name (relative path, ``.png``) of the output made from ``item``: the input's path relative to
        :attr:`content` (``<content>_<style>`` for style transfer, as ``gan-style stylize`` names them), or, for
        paired data, its index and name (shared with the ground-truth file, so PSNR / SSIM pair them)."""
        path = Path(item[f"{self.input_key}_path"])
        if self.kind == "paired":
            return f"{index:05d}_{path.stem}.png"
        inside = self.content is not None and path.is_relative_to(self.content)
        relative = path.relative_to(self.content) if inside else Path(path.name)  # never a path outside the folder
        stem = relative.with_suffix("").as_posix()
        if self.kind == "content_style":
            stem += f"_{Path(item['style_path']).stem}"
        return f"{stem}.png"


def _common_folder(files: Sequence[Path]) -> Path:
    return Path(os.path.commonpath([str(Path(p).parent) for p in files]))


def _locate(value: Any, run: Path) -> Any:
    """A relative folder of a run's config found from here, else from the folder the run was started in (one of the
    run folder's parents), else left as it is (installed samples are found by the DataModule itself)."""
    if not isinstance(value, str) or not value or os.path.isabs(value) or Path(value).exists():
        return value
    for base in run.resolve().parents:
        if (base / value).exists():
            return str(base / value)
    return value


def evaluation_set(
    run: str | os.PathLike, checkpoint: str | os.PathLike, data_root: str | None = None
) -> EvaluationSet:
    """The test set of ``run``, from the data section of the config ``checkpoint`` carries.

    Args:
        run: the run folder (relative data folders are also looked up from its parents: the folder the run was
            started in).
        checkpoint: a checkpoint written by ``gan-style fit``.
        data_root: another dataset folder with the same layout (replaces ``data.init_args.root``; default: the
            run's own).

    Raises:
        InvalidSettingError: the checkpoint carries no config, its DataModule is not one whose test split is known
            here, or ``data_root`` for a DataModule without ``root``.
        DatasetNotFoundError: the test images are not found; the message names the folder and ``--data_root``.
        UnsafeFileError, ModelConfigError, UnreadableFileError: from the loader.
    """
    import lightning as L

    from gan_style.data import ContentStyleDataModule, PairedImageDataModule, UnpairedImageDataModule
    from gan_style.loading.sources import carried_config, read_checkpoint
    from gan_style.loading.spec import class_spec

    source = f"checkpoint '{checkpoint}'"
    config = carried_config(read_checkpoint(checkpoint), source)
    if config is None or config.get("data") is None:
        raise InvalidSettingError(
            f"{source} carries no data config (it was not written by gan-style fit), so its test set is unknown; "
            "translate the test images with gan-style stylize and measure them with gan-style evaluate --generated"
        )
    data = json.loads(json.dumps(config["data"]))  # a copy to edit
    init = data.setdefault("init_args", {})
    for key in _PATH_KEYS:
        if key in init:
            init[key] = _locate(init[key], Path(run))
    if data_root is not None:
        if "root" not in init and not data["class_path"].endswith(("UnpairedImageDataModule", "PairedImageDataModule")):
            raise InvalidSettingError(
                f"--data_root replaces data.root, which {data['class_path'].rpartition('.')[2]} does not have"
            )
        init["root"] = str(data_root)
    init["num_workers"] = 0
    module = class_spec(data, L.LightningDataModule, source, "gan_style_config.data").build()
    where = init.get("root") or init.get("val_content_dir") or init.get("content_dir")
    fix = (
        f"give the dataset with --data_root, or run from the folder the run was started in (its config names '{where}')"
    )

    def data(split: EvaluationSet) -> EvaluationSet:  # the data's type and display beyond 8-bit RGB
        if getattr(module, "array_data", False):
            split.scaling, split.bands = module.scalings["B"], int(module.channels[1])
        split.display_bands = getattr(module, "display_bands", None)
        return split

    try:
        if isinstance(module, UnpairedImageDataModule):
            module.setup("predict")
            module.setup("test")
            inputs = module.predict_set.files
            references = module.test_set.files_b
            return data(
                EvaluationSet(
                    "unpaired",
                    module.predict_set,
                    module.predict_set.key,
                    _common_folder(references),
                    _common_folder(inputs),
                    module.predict_size_for_runner,
                    [*inputs, *references],
                )
            )
        if isinstance(module, PairedImageDataModule):
            module.setup("test")
            dataset = module.test_set
            pairs = getattr(dataset, "pairs", None)
            files = [Path(p) for p in (dataset.files if pairs is None else [f for pair in pairs for f in pair])]
            return data(EvaluationSet("paired", dataset, "A", None, None, None, files))
        if isinstance(module, ContentStyleDataModule):
            module.setup("predict")
            dataset = module.predict_set
            contents, styles = list(dataset.content_files), list(dataset.style_files)
            return EvaluationSet(
                "content_style",
                dataset,
                "content",
                _common_folder(styles),
                _common_folder(contents),
                None,  # the predict transform already scaled both to predict_size
                [*contents, *styles],
            )
    except DatasetNotFoundError as err:
        raise DatasetNotFoundError(f"the test set of run '{run}' is not found ({err}); {fix}") from None
    raise InvalidSettingError(
        f"{source} trains on {type(module).__name__}, whose test split evaluate --checkpoints does not know (it knows "
        "UnpairedImageDataModule, PairedImageDataModule and ContentStyleDataModule); translate the test images with "
        "gan-style stylize and measure them with gan-style evaluate --generated"
    )


def _write_png(tensor: Any, path: Path) -> None:
    from gan_style.data.transforms import to_image

    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    to_image(tensor).save(buffer, format="PNG")
    data = buffer.getvalue()
    if path.is_file() and path.read_bytes() == data:  # unchanged: its cached FID statistics stay valid
        return
    path.write_bytes(data)


def _read_position(path: Path) -> tuple[int | None, int | None]:
    """(global_step, epoch) a checkpoint records."""
    from gan_style.loading.sources import read_checkpoint

    data = read_checkpoint(path)
    step, epoch = data.get("global_step"), data.get("epoch")
    return (int(step) if step is not None else None), (int(epoch) if epoch is not None else None)


def _better(name: str) -> str:
    from gan_style.commands.evaluate import _BETTER

    return _BETTER.get(name, "lower")


def _format(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"
    return str(value)


def _table(rows: list[dict[str, Any]], names: Sequence[str], best: str | None) -> str:
    header = ["checkpoint", "step", "epoch", *names, "note"]
    lines = [header]
    for row in rows:
        note = []
        if row["checkpoint"] == best:
            note.append("best")
        if row.get("same_as"):
            note.append(f"same file as {row['same_as']}")
        if row.get("cached"):
            note.append("cached")
        cells = [row["checkpoint"], _format(row["global_step"]), _format(row["epoch"])]
        lines.append([*cells, *(_format(row["metrics"].get(n)) for n in names), ", ".join(note)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(
            cell.ljust(w) if i in (0, len(header) - 1) else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(line, widths))
        ).rstrip()
        for line in lines
    )


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    if not math.isfinite(low) or not math.isfinite(high):
        return []
    if high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(low / step) * step
    ticks, value = [], first
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    return ticks


def plot_metrics(
    rows: Sequence[dict[str, Any]],
    names: Sequence[str],
    path: str | os.PathLike,
    best: str | None = None,
    title: str = "",
) -> Path:
    """Draw each metric of ``names`` against the optimizer step, one panel per metric, into the PNG ``path``.

    Args:
        rows: the table's rows (``global_step``, ``metrics``, ``checkpoint``; rows of a file measured under another
            name, ``same_as``, are drawn once).
        names: the metrics to draw, in panel order.
        path: the PNG file (written atomically).
        best: the name of the best checkpoint: ringed in its panels and named in the title (default: none).
        title: the first line of the title (default: none).

    Returns:
        ``path``.
    """
    from PIL import Image, ImageDraw, ImageFont

    from gan_style.io.atomic import atomic_write

    def font(size: int) -> Any:
        try:
            return ImageFont.load_default(size=size)
        except TypeError:  # Pillow < 10.1: one bitmap size
            return ImageFont.load_default()

    small, regular = font(13), font(16)
    points = [r for r in rows if not r.get("same_as") and r.get("global_step") is not None]
    width, panel, top, left, right, bottom = 900, 260, 70, 90, 30, 50
    height = top + panel * max(1, len(names)) + 10
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    best_row = next((r for r in rows if r["checkpoint"] == best), None)
    draw.text((left, 12), title, fill="black", font=regular)
    if best_row is not None:
        draw.text((left, 36), f"best: {best} (step {best_row['global_step']})", fill=(200, 30, 30), font=small)
    steps = [r["global_step"] for r in points]
    x_low, x_high = (min(steps), max(steps)) if steps else (0, 1)
    if x_high == x_low:
        x_low, x_high = x_low - 1, x_high + 1
    x_ticks = _nice_ticks(x_low, x_high, 6)
    for index, name in enumerate(names):
        y0 = top + index * panel
        box = (left, y0 + 10, width - right, y0 + panel - bottom)
        draw.rectangle(box, outline=(120, 120, 120))
        series = sorted(
            (r["global_step"], r["metrics"].get(name))
            for r in points
            if isinstance(r["metrics"].get(name), (int, float)) and math.isfinite(r["metrics"][name])
        )
        label = f"{name} ({_better(name)} is better)" if _better(name) else name
        draw.text((box[0] + 8, box[1] + 6), label, fill="black", font=small)
        if not series:
            draw.text((box[0] + 8, box[1] + 28), "not measured", fill=(120, 120, 120), font=small)
            continue
        values = [v for _, v in series]
        y_low, y_high = min(values), max(values)
        pad = (y_high - y_low) * 0.1 or abs(y_high) * 0.05 or 1.0
        y_low, y_high = y_low - pad, y_high + pad

        def xy(step: float, value: float, box=box, y_low=y_low, y_high=y_high) -> tuple[float, float]:
            x = box[0] + 20 + (step - x_low) / (x_high - x_low) * (box[2] - box[0] - 40)
            y = box[3] - 10 - (value - y_low) / (y_high - y_low) * (box[3] - box[1] - 40)
            return x, y

        for tick in _nice_ticks(y_low, y_high, 5):
            _, y = xy(x_low, tick)
            draw.line((box[0], y, box[0] + 5, y), fill=(120, 120, 120))
            draw.line((box[0] + 6, y, box[2], y), fill=(235, 235, 235))
            text = f"{tick:.4g}"
            draw.text((box[0] - 8 - draw.textlength(text, font=small), y - 7), text, fill="black", font=small)
        for tick in x_ticks:
            x, _ = xy(tick, y_low)
            draw.line((x, box[3], x, box[3] - 5), fill=(120, 120, 120))
            text = f"{tick:g}"
            draw.text((x - draw.textlength(text, font=small) / 2, box[3] + 4), text, fill="black", font=small)
        coords = [xy(s, v) for s, v in series]
        if len(coords) > 1:
            draw.line(coords, fill=(40, 90, 180), width=2)
        for x, y in coords:
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=(40, 90, 180))
        value = best_row["metrics"].get(name) if best_row is not None else None
        if isinstance(value, (int, float)) and math.isfinite(value):
            x, y = xy(best_row["global_step"], value)
            draw.ellipse((x - 9, y - 9, x + 9, y + 9), outline=(200, 30, 30), width=3)
        draw.text((box[2] - 110, box[3] + 24), "optimizer step", fill="black", font=small)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(target) as f:
        image.save(f, format="PNG")
    return target


def _write_json(data: Any, path: Path) -> None:
    from gan_style.io.atomic import atomic_write

    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")


def _plain(values: dict[str, float]) -> dict[str, float | None]:
    return {k: (float(v) if math.isfinite(float(v)) else None) for k, v in values.items()}


def evaluate_checkpoints(
    run: str | os.PathLike,
    metrics: Sequence[str] | None = None,
    select: str | None = None,
    data_root: str | os.PathLike | None = None,
    output_dir: str | os.PathLike | None = None,
    max_images: int | None = None,
    size: int | None = 299,
    batch_size: int = 16,
    device: str = "auto",
    feature_weights: str | os.PathLike | None = None,
    lpips_net: str = "alex",
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    keep_images: bool = False,
    seed: int = 0,
    progress: bool = True,
    feature_network: nn.Module | None = None,
    protocol: str = "gan-style",
    display_bands: int | Sequence[int] | None = None,
) -> dict[str, Any]:
    """Measure every checkpoint of the run folder ``run`` on its test set; print the table, write it as CSV and JSON
    with a plot of each metric against the optimizer step, and name the best checkpoint.

    Which images are compared with which, and where the results go: :mod:`gan_style.commands.checkpoints_eval`.
    Finished checkpoints are cached by the sha256 of their file and the settings that change a value (metrics,
    sizes, KID subsets, seed, data, the feature network), so a second call measures only new checkpoints.

    Args:
        run: the run folder (``trainer.default_root_dir`` of a ``gan-style fit``; its ``checkpoints/*.ckpt``).
        metrics: names from :data:`gan_style.metrics.METRIC_NAMES` (default by test set: fid kid for unpaired
            data; fid kid psnr ssim for paired data; artfid fid lpips for style transfer).
        select: the metric that picks the best checkpoint, lowest or highest as the metric is better (default: the
            first of ``metrics``).
        data_root: another dataset folder with the run's layout (default: the run's own ``data.root``).
        output_dir: where the table, the plot and the cache go (default ``<run>/evaluation``).
        max_images: measure only the first N test images (default None: all).
        size: FID/KID images are resized to size x size when loaded; 0 or None: their own size (default 299).
        batch_size: images per metric forward pass (16).
        device: ``auto`` (CUDA when available; the default), ``cpu``, ``cuda`` or ``cuda:N``: the models and the
            metric networks run there.
        feature_weights: a local Inception-v3 FID weights file instead of the hub cache (default: none).
        lpips_net: LPIPS backbone (``alex``, the default; ``vgg``, ``squeeze``).
        kid_subset_size: images per KID subset (1000; shrunk to the number of images).
        kid_subsets: number of KID subsets (100).
        cache_dir: folder of cached reference statistics (default ``~/.cache/gan_style/metrics``).
        use_cache: read and write cached reference statistics (True); the per-checkpoint cache is always used.
        keep_images: keep each checkpoint's outputs in ``<output_dir>/images/<checkpoint>/`` (False: removed once
            measured).
        seed: seeds the model's random layers (pix2pix's dropout) before each checkpoint's outputs, and KID's
            subsets (0).
        progress: show a progress bar over checkpoints x images on stderr (True).
        feature_network: (Python only) a FID/KID feature network to use instead of the Inception.
        protocol: the FID/KID protocol (``gan-style``, the default; ``legacy``: pytorch-fid's; ``clean``:
            clean-fid's), as for :func:`gan_style.commands.evaluate.evaluate`; each protocol has its own cache entries.
        display_bands: which bands of N-band data the Inception and LPIPS networks see (None, the default: the
            run's data ``display_bands``), as for :func:`gan_style.commands.evaluate.evaluate`.

    Returns:
        The JSON record: ``run``, ``select``, ``better``, ``best`` (the best row), ``rows`` (one per checkpoint
        file, by step: ``checkpoint``, ``sha256``, ``global_step``, ``epoch``, ``metrics``, ``images``, ``cached``,
        ``same_as``), ``settings``, ``files`` (the CSV, JSON and PNG written).

    Raises:
        FileMissingError: ``run`` is not a run folder or holds no checkpoint.
        DatasetNotFoundError: the test images are not found (the message names ``--data_root``).
        MetricInputError: an unknown metric, a ``select`` outside ``metrics``, too few images for a metric.
        InvalidSettingError: a checkpoint without its training config, or a test set of an unknown DataModule.
        WeightsUnavailableError: Inception or LPIPS weights neither cached nor downloadable.
        UnsafeFileError, ModelConfigError, UnreadableFileError: a checkpoint the loader refuses.
    """
    import torch
    from tqdm import tqdm

    from gan_style.commands.evaluate import evaluate
    from gan_style.inference.run import Runner
    from gan_style.loading import load_stylizer
    from gan_style.metrics import METRIC_NAMES

    run = Path(run)
    files = find_checkpoints(run)
    if max_images is not None and (isinstance(max_images, bool) or max_images < 1):
        raise MetricInputError(f"--max_images must be at least 1 (or null for all), got {max_images}")
    newest = next((p for p in files if p.name == "last.ckpt"), max(files, key=os.path.getmtime))
    split = evaluation_set(run, newest, None if data_root is None else os.fspath(data_root))
    if display_bands is not None:
        split.display_bands = display_bands
    names = list(dict.fromkeys(metrics or DEFAULT_METRICS[split.kind]))
    unknown = [m for m in names if m not in METRIC_NAMES]
    if unknown or not names:
        raise MetricInputError(f"unknown metric name(s) {unknown or '(none)'}; choose from {', '.join(METRIC_NAMES)}")
    select = select or names[0]
    if select not in names:
        raise MetricInputError(
            f"--select {select} is not among the measured metrics ({', '.join(names)}); add it to --metrics"
        )
    better = _better(select)
    out = Path(output_dir) if output_dir is not None else run / EVALUATION_FOLDER
    count = len(split.dataset) if max_images is None else min(max_images, len(split.dataset))
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"

    network_id = None
    if feature_network is not None:
        from gan_style.metrics.features import feature_network_id

        network_id = feature_network_id(feature_network)
    # Every setting that changes a value: a cached result is reused only under the same ones.
    settings = {
        "metrics": names,
        "protocol": protocol if {"fid", "kid", "artfid"} & set(names) else None,
        "size": size or None,
        "kid_subset_size": kid_subset_size if "kid" in names else None,
        "kid_subsets": kid_subsets if "kid" in names else None,
        "lpips_net": lpips_net if {"lpips", "artfid"} & set(names) else None,
        "feature_weights": None if feature_weights is None else os.fspath(feature_weights),
        "feature_network": network_id,
        "scaling": None if split.scaling is None else split.scaling.to_dict(),
        "display_bands": split.display_bands,
        "seed": seed,
        "images": count,
        "test_set": split.kind,
        "files": [[str(p), p.stat().st_size, int(p.stat().st_mtime)] for p in split.files],
    }
    settings_digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]
    cache = out / "cache"

    reference = split.reference
    if split.kind == "paired":  # the ground truth of each pair, as 8-bit files like the outputs
        reference = out / "reference"
        for index in range(count):
            item = split.dataset[index]
            split.write(item["B"], reference / split.output_name(item, index))

    rows: list[dict[str, Any]] = []
    seen: dict[str, str] = {}  # sha256 -> the first file measured with it
    notes: list[str] = []
    bar = tqdm(total=len(files) * count, unit="image", desc="checkpoints", file=sys.stderr, disable=not progress)
    try:
        for path in files:
            bar.set_postfix_str(path.name)
            sha = _sha256(path)
            record_path = cache / f"{sha}-{settings_digest}.json"
            row: dict[str, Any] = {"checkpoint": path.name, "sha256": sha, "same_as": seen.get(sha), "cached": False}
            if record_path.is_file():
                record = json.loads(record_path.read_text(encoding="utf-8"))
                row.update(
                    global_step=record["global_step"], epoch=record["epoch"], metrics=record["metrics"], cached=True
                )
                row["images"] = record["images"]
                bar.update(count)
            else:
                step, epoch = _read_position(path)
                stylizer = load_stylizer(path, device=device)
                runner = Runner(stylizer, size=split.size, device=device, max_pixels=None, expected_calls=count)
                images = out / "images" / path.stem
                if images.exists():
                    shutil.rmtree(images)
                torch.manual_seed(seed)
                for index in range(count):
                    item = split.dataset[index]
                    takes_style = stylizer.takes_style and "style" in item
                    styles = runner.prepare_styles([item["style"][None]]) if takes_style else None
                    result = runner(item[split.input_key][None], styles)
                    split.write(result[0], images / split.output_name(item, index))
                    bar.update(1)
                captured_out, captured_err = io.StringIO(), io.StringIO()
                with contextlib.redirect_stdout(captured_out), contextlib.redirect_stderr(captured_err):
                    values = evaluate(
                        generated=images,
                        reference=reference,
                        content=split.content,
                        metrics=names,
                        size=size,
                        batch_size=batch_size,
                        device=device,
                        feature_weights=feature_weights,
                        lpips_net=lpips_net,
                        kid_subset_size=kid_subset_size,
                        kid_subsets=kid_subsets,
                        cache_dir=cache_dir,
                        use_cache=use_cache,
                        seed=seed,
                        feature_network=feature_network,
                        protocol=protocol,
                        scaling=None if split.scaling is None else split.scaling.to_dict(),
                        display_bands=split.display_bands,
                    )
                prefix = "gan-style evaluate: note: "
                notes += [
                    line[len(prefix) :] for line in captured_err.getvalue().splitlines() if line.startswith(prefix)
                ]
                if not keep_images:
                    shutil.rmtree(images, ignore_errors=True)
                row.update(global_step=step, epoch=epoch, metrics=_plain(values), images=count)
                _write_json(
                    {
                        "checkpoint": path.name,
                        "sha256": sha,
                        "global_step": step,
                        "epoch": epoch,
                        "metrics": row["metrics"],
                        "images": count,
                        "settings": settings,
                    },
                    record_path,
                )
            seen.setdefault(sha, path.name)
            rows.append(row)
    finally:
        bar.close()
        if not keep_images and (out / "images").is_dir() and not any((out / "images").iterdir()):
            (out / "images").rmdir()

    rows.sort(key=lambda r: (r["global_step"] if r["global_step"] is not None else -1, r["checkpoint"]))
    measured = [r for r in rows if isinstance(r["metrics"].get(select), (int, float))]
    best_row = None
    if measured:
        key = (lambda r: -r["metrics"][select]) if better == "higher" else (lambda r: r["metrics"][select])
        best_row = min(measured, key=key)  # the earliest of equal values (rows are by step)
    best = best_row["checkpoint"] if best_row is not None else None
    value_names = [n for n in dict.fromkeys(k for r in rows for k in r["metrics"])]

    csv_path, json_path, png_path = out / "checkpoints.csv", out / "checkpoints.json", out / "checkpoints.png"
    from gan_style.io.atomic import atomic_write

    with atomic_write(csv_path, "w", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["checkpoint", "global_step", "epoch", *value_names, "sha256", "same_as", "best"])
        for r in rows:
            values = ["" if r["metrics"].get(n) is None else r["metrics"][n] for n in value_names]
            writer.writerow(
                [
                    r["checkpoint"],
                    r["global_step"],
                    r["epoch"],
                    *values,
                    r["sha256"],
                    r["same_as"] or "",
                    int(r["checkpoint"] == best),
                ]
            )
    plot_metrics(
        rows,
        [n for n in value_names if n != "kid_std"],
        png_path,
        best,
        f"{run.name}: {select} ({better} is better) by checkpoint",
    )
    record = {
        "run": str(run),
        "select": select,
        "better": better,
        "best": best_row,
        "rows": rows,
        "settings": {k: v for k, v in settings.items() if k != "files"},
        "notes": list(dict.fromkeys(notes)),
        "files": {"csv": str(csv_path), "json": str(json_path), "png": str(png_path)},
    }
    _write_json(record, json_path)

    print(f"gan-style evaluate: {len(files)} checkpoint(s) of {run} on {count} test image(s) ({split.kind} test set)")
    for note in record["notes"]:
        print(f"gan-style evaluate: note: {note}", file=sys.stderr)
    print(_table(rows, value_names, best))
    if best_row is not None:
        print(
            f"best: {best_row['checkpoint']} ({select} {_format(best_row['metrics'][select])}, {better} is better; "
            f"step {best_row['global_step']})"
        )
    print(f"wrote {csv_path}, {json_path} and {png_path}")
    return record
