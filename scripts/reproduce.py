"""Reproduce one row of the reproduction table (docs/results.md) end to end and append the measured value.

    python scripts/reproduce.py --list                              # the rows
    python scripts/reproduce.py cyclegan-horse2zebra                # the published model: download, stylize, FID
    python scripts/reproduce.py cut-horse2zebra --mode fit          # train from the recipe, FID of every checkpoint
    python scripts/reproduce.py pix2pix-facades --dry-run           # print the commands, run nothing
    python scripts/reproduce.py pix2pix-facades --tiny --metrics psnr ssim   # the wiring, in a minute on a CPU

Each row is a published model and dataset. ``--mode pretrained`` (the default) downloads the dataset and the
published weights, translates the test set with ``gan-style stylize --pretrained`` and measures FID / KID with
``gan-style evaluate --protocol legacy`` (pytorch-fid's conventions, those of the papers' tables). ``--mode fit``
trains the row's recipe on the dataset and measures every checkpoint of the run with ``gan-style evaluate
--checkpoints`` (the papers report the best FID seen during training; the table names the best checkpoint). Every
command is printed before it runs, so a row can also be reproduced by hand.

The result is appended as one JSON line to ``--results`` (default ``<out>/results.jsonl``): the row, the mode, the
metric and its value, the paper's and others' figures, whether it lies within the row's tolerance, the protocol,
the checkpoint (fit) and the commands. Copy the value into the "gan-style measured" column of docs/results.md.

``--tiny`` proves the wiring without a download or a GPU: the bundled sample data stands in for the dataset, the
networks are a few thousand parameters, the run is 2 epochs of 2 batches with a snapshot each epoch, 4 test images
are measured, and the result is appended like a real one (marked ``"tiny": true``). Offline, give ``--metrics psnr ssim`` (paired rows) or
an Inception weights file with ``--feature_weights`` for FID / KID.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import inspect
import json
import os
import platform
import shlex
import sys
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Row:
    """One published model and dataset of docs/results.md.

    Attributes:
        name: the row's id (``cyclegan-horse2zebra``).
        title: what the row is.
        dataset: the ``gan-style download`` name.
        folder: the dataset's folder under ``--root``.
        paired: aligned A|B files (pix2pix layout) instead of testA/testB.
        recipe: the installed recipe ``--mode fit`` trains.
        pretrained: the published model ``--mode pretrained`` runs.
        fit_args: settings on top of the recipe (``--model.init_args.lambda_identity=0``).
        tiny_args: the tiny networks of ``--tiny`` for this recipe.
        paper: the paper's figure (None: the paper reports none) and where it is from.
        others: the published model's figure as measured by others, and where it is from.
        tolerance: how far a measurement may lie from the reference figure, in FID points, for ``pretrained``
            and ``fit``.
    """

    name: str
    title: str
    dataset: str
    folder: str
    paired: bool
    recipe: str
    pretrained: str
    fit_args: tuple[str, ...] = ()
    tiny_args: tuple[str, ...] = ()
    paper: tuple[float | None, str] = (None, "")
    others: tuple[float | None, str] = (None, "")
    tolerance: dict[str, float] = field(default_factory=lambda: {"pretrained": 2.0, "fit": 10.0})

    @property
    def reference(self) -> float | None:
        """The figure a measurement is compared with: the others' measurement of the published model, else the
        paper's."""
        return self.others[0] if self.others[0] is not None else self.paper[0]


TINY_CYCLEGAN = tuple(
    f"--model.init_args.{net}.init_args.{key}={value}"
    for net in ("generator_ab", "generator_ba")
    for key, value in (("ngf", 8), ("n_blocks", 1))
) + tuple(
    f"--model.init_args.{net}.init_args.{key}={value}"
    for net in ("discriminator_a", "discriminator_b")
    for key, value in (("ndf", 8), ("n_layers", 1))
)
TINY_PIX2PIX = (
    "--model.init_args.generator.init_args.num_downs=5",
    "--model.init_args.generator.init_args.ngf=8",
    "--model.init_args.discriminator.init_args.ndf=8",
    "--model.init_args.discriminator.init_args.n_layers=1",
)
TINY_CUT = (
    "--model.init_args.generator.init_args.ngf=8",
    "--model.init_args.generator.init_args.n_blocks=2",
    "--model.init_args.discriminator.init_args.ndf=8",
    "--model.init_args.discriminator.init_args.n_layers=1",
    "--model.init_args.nce_layers=[0,4,8,12]",
    "--model.init_args.num_patches=8",
    "--model.init_args.mlp_channels=16",
)

_MMAGIC_CYCLEGAN = "MMEditing / mmagic, configs/cyclegan/README.md, 'FID comparison with official'"
_CUT_TABLE_1 = "CUT paper (Park et al. 2020, arXiv:2007.15651) Table 1, pytorch-fid"

ROWS = {
    row.name: row
    for row in (
        Row(
            "cyclegan-horse2zebra",
            "CycleGAN, horse -> zebra, identity loss 0.5 (the published model; recipes/cyclegan.yaml)",
            "horse2zebra",
            "horse2zebra",
            False,
            "cyclegan",
            "cyclegan/horse2zebra",
            tiny_args=TINY_CYCLEGAN,
            others=(62.1, _MMAGIC_CYCLEGAN + ": 62.111"),
        ),
        Row(
            "cyclegan-horse2zebra-id0",
            "CycleGAN, horse -> zebra, without the identity loss (--model.init_args.lambda_identity=0)",
            "horse2zebra",
            "horse2zebra",
            False,
            "cyclegan",
            "cyclegan/horse2zebra",
            fit_args=("--model.init_args.lambda_identity=0",),
            tiny_args=TINY_CYCLEGAN,
            others=(77.2, _MMAGIC_CYCLEGAN + ", horse2zebra-id0: 77.202"),
        ),
        Row(
            "pix2pix-facades",
            "Pix2Pix, facade labels -> photo (recipes/pix2pix.yaml)",
            "pix2pix/facades",
            "facades_pix2pix",
            True,
            "pix2pix",
            "pix2pix/facades_label2photo",
            tiny_args=TINY_PIX2PIX,
            others=(119.1, "MMEditing / mmagic, configs/pix2pix/README.md, 'FID comparison with official': 119.135"),
        ),
        Row(
            "cut-horse2zebra",
            "CUT, horse -> zebra (recipes/cut.yaml)",
            "horse2zebra",
            "horse2zebra",
            False,
            "cut",
            "cut/horse2zebra_cut",
            tiny_args=TINY_CUT,
            paper=(45.5, _CUT_TABLE_1),
        ),
        Row(
            "fastcut-horse2zebra",
            "FastCUT, horse -> zebra (recipes/fastcut.yaml)",
            "horse2zebra",
            "horse2zebra",
            False,
            "fastcut",
            "cut/horse2zebra_fastcut",
            tiny_args=TINY_CUT,
            paper=(73.4, _CUT_TABLE_1),
        ),
    )
}

#: ``--tiny``: the run's length and a snapshot at every epoch, so that evaluate --checkpoints has several to compare
TINY_FIT = (
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.max_epochs=2",
    "--trainer.limit_train_batches=2",
    "--trainer.limit_val_batches=1",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.callbacks+=lightning.pytorch.callbacks.ModelCheckpoint",
    "--trainer.callbacks.every_n_epochs=1",
    "--trainer.callbacks.save_top_k=-1",
    "--trainer.callbacks.filename=snapshot-{epoch}",
)


#: ``--tiny``: a few test images are enough to connect the steps
TINY_EVALUATE = ("--max_images", "4")


def evaluate_has_protocol() -> bool:
    """Whether ``gan-style evaluate`` takes ``--protocol`` (legacy / clean / gan-style FID and KID)."""
    from gan_style.commands.evaluate import evaluate_command

    return "protocol" in inspect.signature(evaluate_command).parameters


def split_aligned_folder(source: str | os.PathLike, target: str | os.PathLike) -> tuple[Path, Path]:
    """Cut each aligned A|B image of ``source`` (the pix2pix layout) into ``target/A/<name>.png`` and
    ``target/B/<name>.png``, so that ``stylize`` gets the inputs and ``evaluate`` the ground truth as folders.

    Returns:
        The A and B folders.

    Raises:
        DatasetNotFoundError: ``source`` holds no images. ImageLoadError: an image of odd width.
    """
    from gan_style.data.images import list_images, load_image
    from gan_style.data.paired import split_aligned

    folders = Path(target) / "A", Path(target) / "B"
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    for path in list_images(source):
        for half, folder in zip(split_aligned(load_image(path), path), folders):
            half.save(folder / f"{path.stem}.png")
    return folders


def commands(
    row: Row, mode: str, root: Path, out: Path, tiny: bool, metrics: list[str], extra: list[str]
) -> list[list[str]]:
    """The steps of ``row`` as argument lists: ``["gan-style", ...]`` for the command line, ``["split", SRC, DST]``
    for :func:`split_aligned_folder` (printed as this script's ``--split``)."""
    protocol = ["--protocol", "legacy"] if evaluate_has_protocol() else []
    measure = ["--metrics", *metrics, *protocol, *extra]
    data = root / row.folder
    steps: list[list[str]] = [] if tiny else [["gan-style", "download", row.dataset, "--root", str(root)]]
    if mode == "pretrained":
        generated = out / "generated"
        if row.paired:  # labels (B) -> photo (A), as the published facades model translates
            steps.append(["split", str(data / "test"), str(out / "test")])
            content, reference = out / "test" / "B", out / "test" / "A"
        else:
            content, reference = data / "testA", data / "testB"
        steps.append(
            [
                "gan-style",
                "stylize",
                "--pretrained",
                row.pretrained,
                "--content",
                str(content),
                "--output_dir",
                str(generated),
            ]
        )
        steps.append(
            ["gan-style", "evaluate", "--generated", str(generated), "--reference", str(reference), *measure]
            + ["--output", str(out / "metrics.json")]
        )
        return steps
    run = out / "run"
    fit = ["gan-style", "fit", "--config", row.recipe, f"--data.init_args.root={data}"]
    fit += [f"--trainer.default_root_dir={run}", *row.fit_args]
    if tiny:
        fit += [*row.tiny_args, *TINY_FIT]
    steps.append(fit)
    steps.append(["gan-style", "evaluate", "--checkpoints", str(run), *measure, *(TINY_EVALUATE if tiny else ())])
    return steps


def shown(step: list[str]) -> str:
    """A step as the shell line that runs it."""
    if step[0] == "split":
        return shlex.join(["python", "scripts/reproduce.py", "--split", *step[1:]])
    return shlex.join(step)


def run_step(step: list[str]) -> None:
    """Run one step in this process (``gan_style.cli.main``; ``split``: :func:`split_aligned_folder`).

    Raises:
        SystemExit: the command failed; its status is kept and its one-line error was printed.
    """
    if step[0] == "split":
        split_aligned_folder(step[1], step[2])
        return
    from gan_style.cli import main

    try:
        main(step[1:])
    except SystemExit as exc:
        if exc.code not in (0, None):
            print(f"reproduce: step failed ({exc.code}): {shown(step)}", file=sys.stderr)
            raise


def measured(mode: str, out: Path, metric: str) -> tuple[float | None, str | None, int | None]:
    """(value of ``metric``, the best checkpoint (fit), the number of images) read from what the steps wrote."""
    if mode == "pretrained":
        record = json.loads((out / "metrics.json").read_text())
        return record["metrics"].get(metric), None, record["counts"]["generated"]
    record = json.loads((out / "run" / "evaluation" / "checkpoints.json").read_text())
    best = record["best"] or {}
    return best.get("metrics", {}).get(metric), best.get("checkpoint"), best.get("images")


def reproduce(
    name: str,
    mode: str = "pretrained",
    root: str | os.PathLike = "datasets",
    out: str | os.PathLike = "runs/reproduce",
    results: str | os.PathLike | None = None,
    tiny: bool = False,
    dry_run: bool = False,
    metrics: list[str] | None = None,
    extra: list[str] | None = None,
) -> dict | None:
    """Run the row ``name`` and append its result to ``results``.

    Args:
        name: a key of :data:`ROWS`.
        mode: ``pretrained`` (default: the published model) or ``fit`` (train the recipe).
        root: where datasets are downloaded (``datasets``).
        out: where the row's outputs go; the row gets ``<out>/<name>`` (``runs/reproduce``).
        results: the JSON-lines file the result is appended to (default ``<out>/results.jsonl``).
        tiny: the bundled sample data and tiny settings instead of the dataset (fit only; False).
        dry_run: print the commands and stop (False).
        metrics: what ``evaluate`` measures (default ``fid kid``); the first is the row's value.
        extra: more ``gan-style evaluate`` options (e.g. ``--feature_weights FILE --device cpu``).

    Returns:
        The appended record (None with ``dry_run``).

    Raises:
        KeyError: an unknown row. ValueError: ``--tiny`` with ``--mode pretrained``.
        SystemExit: a step failed (its status).
    """
    if name not in ROWS:
        raise KeyError(f"unknown row {name!r}; the rows are {', '.join(ROWS)}")
    row = ROWS[name]
    if tiny and mode == "pretrained":
        mode = "fit"  # the published weights need a download
    metrics = list(metrics or ["fid", "kid"])
    data_root = Path(root)
    if tiny:
        from gan_style.data.samples import sample_data_dir

        data_root = sample_data_dir()
        row = dataclasses.replace(row, folder="facades" if row.paired else "photo2painting")
    row_out = Path(out) / name
    steps = commands(row, mode, data_root, row_out, tiny, metrics, list(extra or []))
    print(f"reproduce: {row.name}: {row.title} ({'tiny, ' if tiny else ''}{mode})")
    for step in steps:
        print(f"$ {shown(step)}", flush=True)
        if not dry_run:
            run_step(step)
    if dry_run:
        return None
    value, checkpoint, images = measured(mode, row_out, metrics[0])
    reference = row.reference
    tolerance = row.tolerance[mode]
    record = {
        "row": row.name,
        "mode": mode,
        "tiny": tiny,
        "metric": metrics[0],
        "value": value,
        "protocol": "legacy" if evaluate_has_protocol() else "gan-style",
        "images": images,
        "checkpoint": checkpoint,
        "paper": row.paper[0],
        "others": row.others[0],
        "tolerance": tolerance,
        "within_tolerance": (
            None if value is None or reference is None or metrics[0] != "fid" else abs(value - reference) <= tolerance
        ),
        "commands": [shown(step) for step in steps],
        "python": platform.python_version(),
        "machine": platform.platform(),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    target = Path(results) if results is not None else Path(out) / "results.jsonl"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target, "a", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n")
    print(f"reproduce: {row.name}: {metrics[0]} = {value} ({record['protocol']} protocol); appended to {target}")
    return record


def main(argv: list[str] | None = None) -> None:
    """Command line of this script (``--help``)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog="Rows: " + ", ".join(ROWS))
    parser.add_argument("row", nargs="?", help="the row of docs/results.md to reproduce")
    parser.add_argument("--mode", choices=("pretrained", "fit"), default="pretrained")
    parser.add_argument("--root", default="datasets", help="dataset folder (datasets)")
    parser.add_argument("--out", default="runs/reproduce", help="output folder (runs/reproduce)")
    parser.add_argument("--results", default=None, help="JSON-lines results file (<out>/results.jsonl)")
    parser.add_argument("--tiny", action="store_true", help="bundled sample data and tiny settings: the wiring")
    parser.add_argument("--dry-run", action="store_true", help="print the commands, run nothing")
    parser.add_argument("--metrics", nargs="+", default=None, help="what evaluate measures (fid kid)")
    parser.add_argument("--feature_weights", default=None, help="a local Inception-v3 FID weights file")
    parser.add_argument("--device", default=None, help="auto, cpu or cuda for evaluate (auto)")
    parser.add_argument("--list", action="store_true", help="list the rows")
    parser.add_argument("--split", nargs=2, metavar=("SOURCE", "TARGET"), help="cut aligned A|B images into A/, B/")
    args = parser.parse_args(argv)
    if args.list:
        for row in ROWS.values():
            print(f"{row.name:26}  {row.title}")
        return
    if args.split:
        split_aligned_folder(*args.split)
        return
    if not args.row:
        parser.error("give a row (--list shows them)")
    extra = []
    if args.feature_weights:
        extra += ["--feature_weights", args.feature_weights]
    if args.device:
        extra += ["--device", args.device]
    try:
        reproduce(args.row, args.mode, args.root, args.out, args.results, args.tiny, args.dry_run, args.metrics, extra)
    except KeyError as exc:
        parser.error(str(exc.args[0]))


if __name__ == "__main__":
    main()
