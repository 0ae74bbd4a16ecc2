"""Start-up of the ``gan-style`` command: wall seconds of ``--help``, a command's ``--help``, a misspelt command and
``stylize`` of one 512x512 photo with a small U-Net, against the interpreter alone (``python -c pass``), the torch +
torchvision import floor and (for ``stylize``) that floor plus the model's own forward time, in one run.

    python benchmarks/startup.py                              # this checkout's gan_style
    python benchmarks/startup.py --tree /tmp/before           # PYTHONPATH=/tmp/before: that tree's gan_style
    python benchmarks/startup.py --tree /tmp/before --tree .  # both trees, alternating in the same rounds
    python benchmarks/startup.py --rounds 9 --cases help stylize_help
    python benchmarks/startup.py --rounds 3 --cases stylize_checkpoint stylize_folder   # only the stylize rows

Each case is a fresh process (``python -m gan_style ...`` or ``python -c ...``) started from an empty temporary
folder, so the tree named by ``--tree`` (default: the checkout this script lies in) is the one imported. The cases
of every tree run in alternating rounds, one process per case per round, each round in a rotated order, so load
from other processes hits every case alike; the median of the rounds is reported. ``python -c pass`` and
``python -c "import torch, torchvision"`` (the import floor of any command that runs a model) always run. Before
the timed rounds each case runs once untimed under ``-X importtime`` to record whether it imported torch and
Lightning.

The ``stylize_checkpoint`` and ``stylize_folder`` cases need a model, built once per run without network access
in a temporary folder, with this checkout's ``gan_style`` (whatever ``--tree`` says): a tiny CycleGAN checkpoint
(``gan-style fit --config cyclegan --config demo/cpu --trainer.max_steps=2 --trainer.limit_val_batches=0``; the
demo recipe's generators are 5-level, 32-filter U-Nets), the same model exported as a model folder
(``gan-style export --formats [safetensors]``) and a 512x512 photo (the bundled ``sailboat.jpg`` resized). They
time ``gan-style stylize --checkpoint CKPT`` and ``gan-style stylize --pretrained FOLDER`` on that photo (output
written into the temporary folder). Each round also runs one process, ``forward``, that loads both with
``gan_style.loading.load_stylizer`` and times the stylizer alone on a (1, 3, 512, 512) tensor under
``torch.no_grad`` (one warm-up call each, then 5 calls each, alternating; the median of the 5); its rows
(``forward_checkpoint``, ``forward_folder``) give the median of the rounds' medians. ``x_floor_forward`` =
median of the stylize case / (median of ``torch_floor`` + that forward median) is the figure of the goal
"stylizing one image costs at most 1.15x the import floor plus the model's own forward time".

One JSON line per case and tree (``tree``, ``case``, ``command``, ``rounds``, ``sec_median``, ``sec_min``,
``sec_all``, ``exit_status``, ``imports_torch``, ``imports_lightning``, ``x_pass`` = median / median of
``pass``, ``x_torch_floor`` = median / median of ``torch_floor``; stylize cases also ``forward_sec``,
``floor_plus_forward_sec`` and ``x_floor_forward``), one line describing the run (the trees'
``gan_style``, Python, CPUs, load averages before and after), then a table. The load averages say whether the
machine was idle: on a busy machine every figure grows, the ratios less so.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: name -> (what it runs after ``python``, what it shows)
CASES: dict[str, tuple[list[str], str]] = {
    "help": (["-m", "gan_style", "--help"], "gan-style --help"),
    "stylize_help": (["-m", "gan_style", "stylize", "--help"], "gan-style stylize --help"),
    "pretrained_help": (["-m", "gan_style", "pretrained", "--help"], "gan-style pretrained --help"),
    "export_help": (["-m", "gan_style", "export", "--help"], "gan-style export --help"),
    "fit_help": (["-m", "gan_style", "fit", "--help"], "gan-style fit --help"),
    "misspelt": (["-m", "gan_style", "fitt"], "gan-style fitt"),
    "pass": (["-c", "pass"], "python -c pass"),
    "torch_floor": (["-c", "import torch, torchvision"], 'python -c "import torch, torchvision"'),
    "stylize_checkpoint": (
        ["-m", "gan_style", "stylize", "--checkpoint", "<checkpoint>", "--content", "<photo>", "--output_dir", "<out>"],
        "gan-style stylize --checkpoint (512px)",
    ),
    "stylize_folder": (
        ["-m", "gan_style", "stylize", "--pretrained", "<folder>", "--content", "<photo>", "--output_dir", "<out>"],
        "gan-style stylize --pretrained (512px)",
    ),
}
DEFAULT_CASES = [
    "help",
    "stylize_help",
    "pretrained_help",
    "fit_help",
    "misspelt",
    "stylize_checkpoint",
    "stylize_folder",
    "pass",
    "torch_floor",
]
#: stylize case -> the model source (a key of the paths of :func:`_build_model`) its forward row loads
STYLIZE_CASES = {"stylize_checkpoint": "checkpoint", "stylize_folder": "folder"}
SIZE = 512
FORWARD_CALLS = 5

#: the ``forward`` process: argv = checkpoint, model folder, size, calls; prints {source: [seconds per call]}
FORWARD = """
import json, sys, time
import torch
from gan_style.loading import load_stylizer
size, calls = int(sys.argv[3]), int(sys.argv[4])
stylizers = {"checkpoint": load_stylizer(sys.argv[1]), "folder": load_stylizer(sys.argv[2])}
x = torch.rand(1, 3, size, size) * 2 - 1
times = {name: [] for name in stylizers}
with torch.no_grad():
    for stylizer in stylizers.values():
        stylizer(x)
    for _ in range(calls):
        for name, stylizer in stylizers.items():
            start = time.perf_counter()
            stylizer(x)
            times[name].append(time.perf_counter() - start)
print(json.dumps(times))
"""

#: writes a SIZE x SIZE photo: argv = the bundled photo's name, the output file, size
PHOTO = """
import sys
from importlib.resources import files
from PIL import Image
source = files("gan_style") / "sample_data" / "photo2painting" / "testA" / sys.argv[1]
with source.open("rb") as file, Image.open(file) as image:
    image.convert("RGB").resize((int(sys.argv[3]),) * 2, Image.BICUBIC).save(sys.argv[2], quality=95)
"""


def _environment(tree: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree.resolve()), os.environ.get("PYTHONPATH", "")) if p)
    env.pop("GAN_STYLE_TRACEBACK", None)
    return env


def _step(args: list[str], env: dict[str, str], cwd: str, log: Path) -> None:
    """One set-up command (output to ``log``); exits with the log's tail when it fails."""
    with log.open("w") as out:
        proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        raise SystemExit(f"set-up failed (exit status {proc.returncode}): python {' '.join(args)}\n{tail}")


def _build_model(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """A tiny CycleGAN (demo/cpu U-Nets, 2 steps) as a checkpoint and as a model folder, and a SIZE x SIZE photo,
    in ``folder``, without network access; returns the placeholders of the stylize cases -> paths."""
    run, exported = folder / "run", folder / "exported"
    fit = ["-m", "gan_style", "fit", "--config", "cyclegan", "--config", "demo/cpu", "--trainer.max_steps=2"]
    fit += ["--trainer.limit_val_batches=0", f"--trainer.default_root_dir={run}"]
    _step(fit, env, str(folder), folder / "fit.log")
    checkpoint = run / "checkpoints" / "last.ckpt"
    export = ["-m", "gan_style", "export", "--checkpoint", str(checkpoint), "--formats", "[safetensors]"]
    _step([*export, "--output_dir", str(exported)], env, str(folder), folder / "export.log")
    configs = sorted(exported.glob("*/config.json"))
    if len(configs) != 1:
        raise SystemExit(f"set-up: expected one model folder under {exported}, found {len(configs)}")
    photo = folder / f"sailboat_{SIZE}.jpg"
    _step(["-c", PHOTO, "sailboat.jpg", str(photo), str(SIZE)], env, str(folder), folder / "photo.log")
    return {
        "<checkpoint>": str(checkpoint),
        "<folder>": str(configs[0].parent),
        "<photo>": str(photo),
        "<out>": str(folder / "stylized"),
    }


def _forward(paths: dict[str, str], env: dict[str, str], cwd: str) -> tuple[dict[str, float], int]:
    """One ``forward`` process: the median seconds of the stylizer alone per source, and its exit status."""
    args = ["-c", FORWARD, paths["<checkpoint>"], paths["<folder>"], str(SIZE), str(FORWARD_CALLS)]
    proc = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    if proc.returncode != 0:
        return {}, proc.returncode
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    return {name: statistics.median(values) for name, values in times.items()}, 0


def _run(args: list[str], env: dict[str, str], cwd: str) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, *args], env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start, proc.returncode


def _imports(args: list[str], env: dict[str, str], cwd: str) -> tuple[bool, bool]:
    """Whether the command imports torch and Lightning (one untimed run under ``-X importtime``)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    modules = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    return "torch" in modules, "lightning" in modules


def _where(env: dict[str, str], cwd: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-c", "import gan_style; print(gan_style.__file__)"],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or (proc.stderr.strip().splitlines() or ["?"])[-1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed runs of each case (5)")
    parser.add_argument(
        "--tree",
        type=Path,
        action="append",
        help="a source tree whose gan_style is measured (PYTHONPATH; repeatable: the trees alternate); "
        "default: the checkout this script lies in",
    )
    parser.add_argument(
        "--cases",
        nargs="+",
        choices=list(CASES),
        default=DEFAULT_CASES,
        help="cases to run (pass and torch_floor always run; stylize_checkpoint / stylize_folder build a tiny "
        "model first and add the forward rows)",
    )
    args = parser.parse_args(argv)
    trees = args.tree or [REPO]
    labels = [tree.resolve().name for tree in trees]
    if len(set(labels)) < len(labels):
        labels = [str(tree.resolve()) for tree in trees]
    references = ["pass", "torch_floor"]  # the same in every tree: run once per round
    runs = [(labels[0], name) for name in references]
    runs += [(label, name) for label in labels for name in args.cases if name not in references]
    stylizing = any(name in STYLIZE_CASES for name in args.cases)
    runs += [(label, "forward") for label in labels] if stylizing else []
    envs = {label: _environment(tree) for label, tree in zip(labels, trees, strict=True)}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gan-style-startup-") as cwd:
        paths = {}
        if stylizing:
            (Path(cwd) / "model").mkdir()
            paths = _build_model(Path(cwd) / "model", _environment(REPO))
        commands = {name: [paths.get(a, a) for a in command] for name, (command, _) in CASES.items()}
        where = {label: _where(env, cwd) for label, env in envs.items()}
        imports = {(label, name): _imports(commands[name], envs[label], cwd) for label, name in runs if name in CASES}
        load_timed = os.getloadavg()
        times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        status: dict[tuple[str, str], int] = {}
        for r in range(args.rounds):
            shift = r % len(runs)
            for label, name in runs[shift:] + runs[:shift]:
                if name == "forward":
                    forward, status[label, name] = _forward(paths, envs[label], cwd)
                    for source, seconds in forward.items():
                        times.setdefault((label, f"forward_{source}"), []).append(seconds)
                    continue
                seconds, status[label, name] = _run(commands[name], envs[label], cwd)
                times[label, name].append(seconds)
    load_after = os.getloadavg()

    median = {run: statistics.median(values) for run, values in times.items() if values}
    floor_pass, floor_torch = median[labels[0], "pass"], median[labels[0], "torch_floor"]
    rows = []
    for label, name in runs:
        if name == "forward":
            for source in STYLIZE_CASES.values():
                seconds = times.get((label, f"forward_{source}"), [])
                row = {
                    "tree": label,
                    "case": f"forward_{source}",
                    "command": f"{source} stylizer(1x3x{SIZE}x{SIZE}), in-process",
                    "rounds": len(seconds),
                    "sec_median": round(statistics.median(seconds), 4) if seconds else None,
                    "sec_min": round(min(seconds), 4) if seconds else None,
                    "sec_all": [round(t, 4) for t in seconds],
                    "exit_status": status[label, name],
                    "timed": f"median of {FORWARD_CALLS} calls under torch.no_grad after 1 warm-up, per round",
                }
                rows.append(row)
                print(json.dumps(row))
            continue
        row = {
            "tree": "-" if name in references else label,
            "case": name,
            "command": CASES[name][1],
            "rounds": args.rounds,
            "sec_median": round(median[label, name], 4),
            "sec_min": round(min(times[label, name]), 4),
            "sec_all": [round(t, 4) for t in times[label, name]],
            "exit_status": status[label, name],
            "imports_torch": imports[label, name][0],
            "imports_lightning": imports[label, name][1],
            "x_pass": round(median[label, name] / floor_pass, 2),
            "x_torch_floor": round(median[label, name] / floor_torch, 3),
        }
        if name in STYLIZE_CASES:
            forward = median.get((label, f"forward_{STYLIZE_CASES[name]}"))
            row["command_line"] = " ".join(["python", *commands[name]])
            row["forward_sec"] = round(forward, 4) if forward is not None else None
            row["floor_plus_forward_sec"] = round(floor_torch + forward, 4) if forward is not None else None
            ratio = median[label, name] / (floor_torch + forward) if forward is not None else None
            row["x_floor_forward"] = round(ratio, 3) if ratio is not None else None
        rows.append(row)
        print(json.dumps(row))
    print(
        json.dumps(
            {
                "run": "startup",
                "gan_style": where,
                "python": platform.python_version(),
                "cpus": os.cpu_count(),
                "load_avg_before": [round(x, 2) for x in load_before],
                "load_avg_timed_start": [round(x, 2) for x in load_timed],
                "load_avg_after": [round(x, 2) for x in load_after],
            }
        )
    )
    print()
    width = max(len(row["tree"]) for row in rows)
    header = (
        f"{'tree':<{width}}  {'command':<40} {'median s':>9} {'min s':>7} {'x pass':>8} {'x torch':>8} "
        f"{'x fl+fwd':>8}  torch  lightning  status"
    )
    print(header)
    print("-" * len(header))

    def cell(value: float | None, spec: str, size: int) -> str:
        return f"{'-':>{size}}" if value is None else f"{value:>{size}{spec}}"

    def yes(value: bool | None) -> str:
        return "-" if value is None else "yes" if value else "no"

    for row in rows:
        print(
            f"{row['tree']:<{width}}  {row['command']:<40} {cell(row['sec_median'], '.3f', 9)} "
            f"{cell(row['sec_min'], '.3f', 7)} {cell(row.get('x_pass'), '.1f', 8)} "
            f"{cell(row.get('x_torch_floor'), '.3f', 8)} {cell(row.get('x_floor_forward'), '.3f', 8)}  "
            f"{yes(row.get('imports_torch')):<5}  {yes(row.get('imports_lightning')):<9}  {row['exit_status']}"
        )


if __name__ == "__main__":
    main()
