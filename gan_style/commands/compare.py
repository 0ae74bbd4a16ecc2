"""``gan-style compare RUN_DIR...``: one report comparing trained runs of any methods.

For each run folder (a ``trainer.default_root_dir``) the report gives the method, dataset, optimizer steps,
the evaluation metrics the run logged (``fid``, ``kid``, ``lpips``, ``artfid``, ``psnr``, ``ssim``; the
``test/`` value when the run was tested, else ``val/``) and the training throughput, read from the run's
``metrics.json`` (written by :class:`~gan_style.callbacks.RunSummary`) and ``config.yaml``; and one PNG grid
with each run's output on the same input images (first row: the inputs, then one row per run), made with
the one runner (:class:`gan_style.inference.run.Runner`) from the run's newest checkpoint.
"""

from __future__ import annotations

import html
import os
import sys
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, ImageDraw, ImageOps

from gan_style.errors import DatasetNotFoundError, FileMissingError

__all__ = ["compare", "collect_run"]

METRICS = ("fid", "kid", "lpips", "artfid", "psnr", "ssim")
COLUMNS = ("run", "method", "dataset", "steps", *METRICS, "train images/s")


def _find_config(run: Path) -> dict[str, Any]:
    candidates = [run / "config.yaml", *sorted(run.glob("*/version_*/config.yaml"), key=os.path.getmtime)]
    candidates += sorted(run.glob("**/config.yaml"), key=os.path.getmtime)
    for path in candidates[::-1] if len(candidates) > 1 else candidates:
        if path.is_file():
            with open(path, encoding="utf-8") as f:
                return yaml.safe_load(f) or {}
    return {}


def _find_checkpoint(run: Path) -> Path | None:
    last = run / "checkpoints" / "last.ckpt"
    if last.is_file():
        return last
    found = sorted(run.glob("**/*.ckpt"), key=os.path.getmtime)
    return found[-1] if found else None


def collect_run(run_dir: str | os.PathLike) -> dict[str, Any]:
    """One row of the comparison: ``run``, ``method``, ``dataset``, ``steps``, each of :data:`METRICS`
    (None when not logged), ``train images/s``, ``checkpoint`` (Path or None) and ``missing`` (which of
    ``metrics.json`` and ``config.yaml`` the folder lacks).

    Raises:
        FileMissingError: ``run_dir`` is not a folder, or holds neither a ``metrics.json``, a
            ``config.yaml`` nor a checkpoint.
    """
    from gan_style.callbacks.summary import read_run_summary

    run = Path(run_dir)
    if not run.is_dir():
        raise FileMissingError(f"run folder '{run}' does not exist; give trainer.default_root_dir of a run")
    summary, config, checkpoint = read_run_summary(run), _find_config(run), _find_checkpoint(run)
    if not (summary or config or checkpoint):
        raise FileMissingError(
            f"'{run}' holds no metrics.json, config.yaml or checkpoint; is it a gan-style run folder "
            "(trainer.default_root_dir)?"
        )
    model = config.get("model") or {}
    method = summary.get("method") or (model.get("class_path") if isinstance(model, dict) else None) or "?"
    data = config.get("data") or {}
    root = (data.get("init_args") or {}).get("root") if isinstance(data, dict) else None
    metrics = summary.get("metrics", {})
    row: dict[str, Any] = {
        "run": run.name,
        "method": str(method).rpartition(".")[2],
        "dataset": os.path.basename(os.path.normpath(str(root))) if root else "?",
        "steps": summary.get("global_step"),
        "train images/s": metrics.get("train/images_per_s"),
        "checkpoint": checkpoint,
        "missing": [name for name, found in (("metrics.json", summary), ("config.yaml", config)) if not found],
        "unavailable": dict(summary.get("unavailable_metrics", {})),
    }
    for name in METRICS:
        row[name] = metrics.get(f"test/{name}", metrics.get(f"val/{name}"))
    if row["steps"] is None and checkpoint is not None:
        from gan_style.io.untrusted import safe_load

        row["steps"] = safe_load(checkpoint).get("global_step")
    return row


def empty_column_notes(rows: list[dict[str, Any]]) -> list[str]:
    """One note per metric column that no run filled, saying why: the reason a run recorded
    (``unavailable_metrics`` in its ``metrics.json``: weights that could not be downloaded), or that no run
    logged it (no validation or test with that metric yet, or a method that does not compute it)."""
    why: dict[str, list[str]] = {}
    for name in METRICS:
        if any(row.get(name) is not None for row in rows):
            continue
        reasons = {row["unavailable"][name] for row in rows if name in row.get("unavailable", {})}
        reason = (
            f"not computed ({'; '.join(sorted(reasons))})"
            if reasons
            else "no run logged them (they come from validation or gan-style test with the EvaluationMetrics "
            "callback; PSNR/SSIM need paired data)"
        )
        why.setdefault(reason, []).append(name)
    return [f"empty columns {', '.join(names)}: {reason}" for reason, names in why.items()]


def run_test_images(run: Path) -> tuple[Path | None, str | None]:
    """The folder of test images a run's config names (``data.init_args.root``/``testA``, or its
    ``val_content_dir`` / ``content_dir``) and the path as the config gives it.

    A relative path is looked up from the current folder, then from the folder the run was started in (the
    run folder less its relative ``trainer.default_root_dir``, e.g. ``/work`` for ``/work/runs/cyclegan`` and
    ``runs/cyclegan``), then as an installed sample (:func:`gan_style.data.samples.resolve_data_path`).
    Returns ``(folder, None)`` when found, ``(None, path)`` when the config names one that is not found, and
    ``(None, None)`` when it names none.
    """
    from gan_style.data.samples import resolve_data_path

    config = _find_config(run)
    data = config.get("data") or {}
    init = (data.get("init_args") or {}) if isinstance(data, dict) else {}
    if init.get("root"):
        given = str(Path(init["root"]) / "testA")
    elif init.get("val_content_dir") or init.get("content_dir"):
        given = str(init.get("val_content_dir") or init.get("content_dir"))
    else:
        return None, None
    candidates = [Path(given)]
    start = str((config.get("trainer") or {}).get("default_root_dir") or "")
    if not Path(given).is_absolute() and start and not os.path.isabs(start):
        depth = len(Path(os.path.normpath(start)).parts)
        base = run.resolve()
        if base.parts[-depth:] == Path(os.path.normpath(start)).parts:
            candidates.append(base.parents[depth - 1] / given)
    candidates.append(resolve_data_path(given))
    for candidate in candidates:
        if candidate.is_dir():
            return candidate, None
    return None, given


def _missing_note(row: dict[str, Any]) -> str:
    """Why a row shows ``?`` or ``-``: the files its run folder lacks, and what to do."""
    parts = []
    if "metrics.json" in row["missing"]:
        parts.append(
            "no metrics.json (written when a run ends: this one was interrupted, is still running or was not "
            "evaluated), so its metrics are '-'; run gan-style test with its config and --ckpt_path to compute them"
        )
    if "config.yaml" in row["missing"]:
        parts.append("no config.yaml, so its method and dataset may show '?'")
    return f"{row['run']}: " + "; ".join(parts)


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _label(cell: Image.Image, text: str) -> Image.Image:
    draw = ImageDraw.Draw(cell)
    draw.rectangle((0, 0, min(cell.width, 8 + 7 * len(text)), 14), fill=(0, 0, 0))
    draw.text((4, 1), text, fill=(255, 255, 255))
    return cell


def _grid(rows: list[tuple[str, list[Any]]], size: int) -> Image.Image:
    """Rows of cells (image paths, PIL images or None for a blank), each fitted into ``size`` x ``size``."""
    from gan_style.data.images import load_image

    cols = max(len(files) for _, files in rows)
    grid = Image.new("RGB", (cols * size, len(rows) * size), (255, 255, 255))
    for r, (name, files) in enumerate(rows):
        for c, item in enumerate(files):
            if item is None:
                cell = Image.new("RGB", (size, size), (230, 230, 230))
            else:
                image = item if isinstance(item, Image.Image) else load_image(item)
                cell = ImageOps.fit(image, (size, size), Image.Resampling.BICUBIC)
            if c == 0:
                cell = _label(cell, name)
            grid.paste(cell, (c * size, r * size))
    return grid


def compare(
    runs: list[str],
    output: str = "comparison.md",
    inputs: list[str] | None = None,
    style: list[str] | None = None,
    max_inputs: int = 4,
    size: int = 256,
    device: str = "auto",
) -> Path:
    """Write a Markdown (``.md``) or HTML (``.html``) report comparing ``runs``, and ``<output stem>.png``.

    Args:
        runs: run folders (``trainer.default_root_dir`` of each run); on the command line also the leading
            words, ``gan-style compare runs/a runs/b``.
        output: report path; its suffix picks the format (``.md`` or ``.html``).
        inputs: input images or folders for the output grid (the first ``max_inputs`` images are used);
            default: ``testA/`` of the first run's dataset when it has one. No grid without inputs.
        style: style image(s) for methods that take one (AdaIN); such runs are left blank in the grid
            without it.
        max_inputs: columns of the grid (4).
        size: side of each grid cell in pixels (256); images are processed with shorter side ``size`` by the one
            runner of every door (:class:`gan_style.inference.run.Runner`), each model loaded once, nothing
            written but the report and its grid.
        device: ``auto``, ``cpu`` or ``cuda``.

    Returns:
        The report path.

    Raises:
        DatasetNotFoundError: a run folder or input that does not exist.
        ValueError: no runs, or an output suffix other than .md/.html.
    """
    import torch

    from gan_style.commands.stylize import load_stylizer
    from gan_style.data.images import list_images, load_image
    from gan_style.data.transforms import to_image, to_tensor
    from gan_style.inference.run import Runner
    from gan_style.io.atomic import atomic_write

    dev = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    )

    if not runs:
        raise ValueError("give at least one run folder")
    out = Path(output)
    if out.suffix.lower() not in (".md", ".html"):
        raise ValueError(f"output '{out}' must end in .md or .html")
    rows = [collect_run(r) for r in runs]

    notes: list[str] = [_missing_note(row) for row in rows if row["missing"]]
    notes += empty_column_notes(rows)
    if inputs is None:
        found, looked = run_test_images(Path(runs[0]))
        if found is not None:
            inputs = [str(found)]
        elif looked:
            notes.append(f"the first run's test images ({looked}) are not found from here; give them with --inputs")
    grid_path = out.with_suffix(".png")
    if inputs:
        images: list[Path] = []
        for item in inputs:
            p = Path(item)
            if p.is_dir():
                images += list_images(p)
            elif p.is_file():
                images.append(p)
            else:
                raise DatasetNotFoundError(f"input '{p}' is neither an image nor a folder")
        images = images[:max_inputs]
        grid_rows: list[tuple[str, list[Any]]] = [("input", list(images))]
        contents = [to_tensor(load_image(p)).unsqueeze(0) for p in images]
        for row in rows:
            cells: list[Any] = [None] * len(images)
            if row["checkpoint"] is None:
                notes.append(f"{row['run']}: no checkpoint, no images")
            else:
                stylizer, _ = load_stylizer(row["checkpoint"], None, dev)  # once per run
                if stylizer.takes_style and not style:
                    notes.append(f"{row['run']}: {row['method']} needs --style, no images")
                else:
                    # the one runner of every door: the same pixels as gan-style stylize --size SIZE
                    runner = Runner(stylizer, size=size, device=dev, expected_calls=len(contents))
                    styles = (
                        runner.prepare_styles([to_tensor(load_image(p)).unsqueeze(0) for p in style])
                        if stylizer.takes_style
                        else None
                    )
                    cells = [to_image(runner(x, styles)[0]) for x in contents]
            grid_rows.append((f"{row['run']} ({row['method']})", cells))
        out.parent.mkdir(parents=True, exist_ok=True)
        grid = _grid(grid_rows, size)
        with atomic_write(grid_path) as f:
            grid.save(f, format="PNG")
    elif not any("--inputs" in n for n in notes):
        notes.append("no input images given (--inputs), so no output grid")

    table = [[_fmt(row[c]) for c in COLUMNS] for row in rows]
    if out.suffix.lower() == ".md":
        lines = ["# gan-style comparison", "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
        lines += ["| " + " | ".join(cells) + " |" for cells in table]
        lines += ["", "Metrics: the run's `test/` value when tested, else `val/`; `-`: not logged."]
        if inputs:
            lines += ["", f"![outputs on the same inputs]({grid_path.name})"]
        lines += [f"- {n}" for n in notes]
        text = "\n".join(lines) + "\n"
    else:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in cells) + "</tr>" for cells in table)
        img = f'<p><img src="{html.escape(grid_path.name)}" alt="outputs on the same inputs"></p>' if inputs else ""
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        text = (
            "<!doctype html><meta charset='utf-8'><title>gan-style comparison</title>"
            f"<h1>gan-style comparison</h1><table border='1'><tr>{head}</tr>{body}</table>"
            "<p>Metrics: the run's test/ value when tested, else val/; -: not logged.</p>"
            f"{img}<ul>{items}</ul>\n"
        )
    with atomic_write(out, "w", encoding="utf-8") as f:
        f.write(text)
    for row in rows:
        if row["missing"]:
            print(f"compare: note: {_missing_note(row)}", file=sys.stderr)
    print(f"compare: wrote {out}" + (f" and {grid_path}" if inputs else ""))
    return out


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style compare RUN_DIR... [--output F] [--inputs P...] [--style P...]``: arguments
    parsed from :func:`compare`'s signature (the leading run folders become ``--runs``, several words after
    ``--inputs`` / ``--style`` one list: :func:`gan_style.commands.runner.flag_form`); errors as one line with
    the exit status of :mod:`gan_style.commands.runner` (2 for a missing run folder or input, a bad
    ``--output`` suffix or a malformed argument)."""
    from gan_style.commands.runner import flag_form, run_command

    args = flag_form(args, positional="runs", many=True, lists=["inputs", "style"])
    run_command(compare, args, "gan-style compare")
