"""Start-up of the ``gan-style`` command: wall seconds of ``--help``, a command's ``--help`` and a misspelt command,
against the interpreter alone (``python -c pass``) and the torch + torchvision import floor, in one run.

    python benchmarks/startup.py                              # this checkout's gan_style
    python benchmarks/startup.py --tree /tmp/before           # PYTHONPATH=/tmp/before: that tree's gan_style
    python benchmarks/startup.py --tree /tmp/before --tree .  # both trees, alternating in the same rounds
    python benchmarks/startup.py --rounds 9 --cases help stylize_help

Each case is a fresh process (``python -m gan_style ...`` or ``python -c ...``) started from an empty temporary
folder, so the tree named by ``--tree`` (default: the checkout this script lies in) is the one imported. The cases
of every tree run in alternating rounds, one process per case per round, each round in a rotated order, so load
from other processes hits every case alike; the median of the rounds is reported. ``python -c pass`` and
``python -c "import torch, torchvision"`` (the import floor of any command that runs a model) always run. Before
the timed rounds each case runs once untimed under ``-X importtime`` to record whether it imported torch and
Lightning.

One JSON line per case and tree (``tree``, ``case``, ``command``, ``rounds``, ``sec_median``, ``sec_min``,
``sec_all``, ``exit_status``, ``imports_torch``, ``imports_lightning``, ``x_pass`` = median / median of
``pass``, ``x_torch_floor`` = median / median of ``torch_floor``), one line describing the run (the trees'
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
}
DEFAULT_CASES = ["help", "stylize_help", "pretrained_help", "fit_help", "misspelt", "pass", "torch_floor"]


def _environment(tree: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(tree.resolve()), os.environ.get("PYTHONPATH", "")) if p)
    env.pop("GAN_STYLE_TRACEBACK", None)
    return env


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
    parser.add_argument("--cases", nargs="+", choices=list(CASES), default=DEFAULT_CASES, help="cases to run")
    args = parser.parse_args(argv)
    trees = args.tree or [REPO]
    labels = [tree.resolve().name for tree in trees]
    if len(set(labels)) < len(labels):
        labels = [str(tree.resolve()) for tree in trees]
    references = ["pass", "torch_floor"]  # the same in every tree: run once per round
    runs = [(labels[0], name) for name in references]
    runs += [(label, name) for label in labels for name in args.cases if name not in references]
    envs = {label: _environment(tree) for label, tree in zip(labels, trees, strict=True)}
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="gan-style-startup-") as cwd:
        where = {label: _where(env, cwd) for label, env in envs.items()}
        imports = {(label, name): _imports(CASES[name][0], envs[label], cwd) for label, name in runs}
        times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        status: dict[tuple[str, str], int] = {}
        for r in range(args.rounds):
            shift = r % len(runs)
            for label, name in runs[shift:] + runs[:shift]:
                seconds, status[label, name] = _run(CASES[name][0], envs[label], cwd)
                times[label, name].append(seconds)
    load_after = os.getloadavg()

    median = {run: statistics.median(values) for run, values in times.items()}
    floor_pass, floor_torch = median[labels[0], "pass"], median[labels[0], "torch_floor"]
    rows = []
    for label, name in runs:
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
                "load_avg_after": [round(x, 2) for x in load_after],
            }
        )
    )
    print()
    width = max(len(row["tree"]) for row in rows)
    header = (
        f"{'tree':<{width}}  {'command':<38} {'median s':>9} {'min s':>7} {'x pass':>8} {'x torch':>8}  "
        "torch  lightning  status"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['tree']:<{width}}  {row['command']:<38} {row['sec_median']:>9.3f} {row['sec_min']:>7.3f} "
            f"{row['x_pass']:>8.1f} {row['x_torch_floor']:>8.3f}  {'yes' if row['imports_torch'] else 'no':<5}  "
            f"{'yes' if row['imports_lightning'] else 'no':<9}  {row['exit_status']}"
        )


if __name__ == "__main__":
    main()
