"""8-bit RGB training throughput of this checkout against a reference revision (default 2454e85, the last commit
before 1-band / N-band / 16-bit data support): batches/s of CycleGAN and Pix2Pix trained by a Lightning ``Trainer``
through the real data modules on the bundled sample data, and whether both trees give the same batches.

    python benchmarks/rgb8_throughput.py                                  # 3 rounds, both methods, 1 thread
    python benchmarks/rgb8_throughput.py --rounds 5 --batches 60 --methods cyclegan
    python benchmarks/rgb8_throughput.py --rev 2454e85 --output /tmp/rgb8.json

The reference revision is checked out into a temporary folder (``git worktree add --detach``) and removed at the
end, also after an error or an interrupt; the checkout this script lies in is read, never changed. Every
measurement is a fresh process of this same script (``--_child``) with ``PYTHONPATH`` set to one tree's root and an
empty temporary folder as its working directory, so ``import gan_style`` resolves to that tree; the process checks
that ``gan_style.__file__`` lies inside the tree and prints it. Both trees run the same code here and read the same
files: the sample data of this checkout (``examples/data/photo2painting``, ``examples/data/facades``). Bytecode is
not written into either tree (``PYTHONDONTWRITEBYTECODE``).

What a process runs, per method, with settings both revisions accept (the demo recipes' networks, smaller):

- ``cyclegan``: ``UnpairedImageDataModule`` on ``photo2painting`` (resize 108, random 96x96 crop, flip), two
  5-level U-Net generators (32 filters, instance norm) and two 3-layer PatchGANs (32 filters, instance norm),
  the paper's losses, pool of 50, batch 1;
- ``pix2pix``: ``PairedImageDataModule`` on ``facades`` (labels -> photo, resize 143, random 128x128 crop, flip),
  a 7-level U-Net (32 filters, batch norm, dropout) and a 3-layer PatchGAN on 6 channels (32 filters, batch norm),
  batch 1.

``L.seed_everything(0)`` and the data module's ``seed=0`` fix the initial weights and the data order. The
``Trainer`` (CPU, fp32, no logger, checkpoints, progress bar or validation) fits for ``--warmup`` untimed batches,
then ``--batches`` timed ones (default 35 for CycleGAN, 70 for Pix2Pix: ~15 s each on one thread here); a callback
records ``time.perf_counter`` at ``on_train_batch_start`` of the first timed batch and at ``on_train_batch_end`` of
the last (then stops the run), so the window holds the training steps and the data loading between them, not the
trainer's set-up. With ``--num_workers 0`` (the default) the batches are read, decoded, cropped and collated in the
training process, so a slower data path counts in full; ``auto`` is the recipes' setting (worker processes).
``torch.set_num_threads(--threads)`` (1 by default: on a shared machine two threads spin at barriers whenever one
is descheduled).

Rounds interleave the trees: per round and method one process per tree, the reference first in even rounds and
the current tree first in odd ones, so drift of the machine's load hits both alike. Three figures per process:
``batches/s`` = timed batches / the window's seconds; ``1 / median batch interval`` and ``1 / fastest batch
interval``, from the intervals between successive ``on_train_batch_start`` of the timed batches (each a training
step plus the loading of the next batch). Every batch does the same work, so the last two ride out load from other
processes (a process that shares the cores stretches some intervals, not the fastest). The table gives, per figure,
the median of the rounds +- half their range, the ratio of the medians (current / reference; 1.0 = unchanged,
> 1: current faster) and the range of the per-round ratios.

Identical batches: each process hashes (SHA-256) the values, dtypes, shapes and strides of the tensors and the file
names of the first ``--hash_batches`` training batches it got (from the warm-up, outside the timed window);
``identical: yes`` when both trees gave the same hash in every round. Also reported, for information: whether the
initial weights and the weights after the last timed batch match between the trees (same seeds, one thread).

One JSON line per method: per figure (``batches_per_sec``, ``batches_per_sec_median_interval``,
``batches_per_sec_fastest_interval``) the rounds' values of ``reference`` and ``current``, their medians and
spreads, ``ratio`` and ``round_ratios``; ``step_sec_median`` (``on_train_batch_start`` -> ``on_train_batch_end``,
without data loading), ``identical_batches``, ``identical_initial_weights``,
``identical_weights_after_timed_batches``. Then the Markdown table and the identical lines; ``--output`` writes
every process's row (also the intervals, CPU seconds of the window, load average) and the summary as JSON.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import quiet_cpu_trainer  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
METHODS = ("cyclegan", "pix2pix")
DATA = {"cyclegan": REPO / "examples" / "data" / "photo2painting", "pix2pix": REPO / "examples" / "data" / "facades"}
#: timed batches per process when --batches is not given: ~15 s each on one thread of a 2-core EPYC VM
BATCHES = {"cyclegan": 35, "pix2pix": 70}
CHILD_MARK = "RGB8_ROW "


# --- the child: one method, one tree ----------------------------------------------------------------------------
def _sha(h: Any, value: Any, root: str) -> None:
    import torch

    if isinstance(value, torch.Tensor):
        h.update(f"{value.dtype}{tuple(value.shape)}{value.stride()}".encode())  # the layout as delivered
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    elif isinstance(value, (list, tuple)):
        for v in value:
            _sha(h, v, root)
    else:  # file paths: relative to the data root
        h.update(os.path.relpath(str(value), root).encode())


def batch_digest(batch: dict[str, Any], root: str) -> str:
    h = hashlib.sha256()
    for key in sorted(batch):
        h.update(key.encode())
        _sha(h, batch[key], root)
    return h.hexdigest()


def params_digest(module: Any) -> str:
    h = hashlib.sha256()
    for name, t in sorted(module.state_dict().items()):
        h.update(name.encode())
        _sha(h, t, "")
    return h.hexdigest()


def build(method: str, num_workers: int | str):
    """(model, data module): the same settings in both trees."""
    from gan_style.data import PairedImageDataModule, UnpairedImageDataModule
    from gan_style.methods import CycleGAN, Pix2Pix
    from gan_style.nets import NLayerDiscriminator, UnetGenerator

    if method == "cyclegan":

        def generator():
            return UnetGenerator(num_downs=5, ngf=32, norm="instance", use_dropout=False)

        def discriminator():
            return NLayerDiscriminator(input_nc=3, ndf=32, n_layers=3, norm="instance")

        model = CycleGAN(generator(), generator(), discriminator(), discriminator(), gan_mode="lsgan")
        data = UnpairedImageDataModule(
            root=str(DATA[method]),
            preprocess="resize_and_crop",
            load_size=108,
            crop_size=96,
            flip=True,
            direction="AtoB",
            batch_size=1,
            num_workers=num_workers,
            seed=0,
        )
    else:
        model = Pix2Pix(
            UnetGenerator(num_downs=7, ngf=32, norm="batch", use_dropout=True),
            NLayerDiscriminator(input_nc=6, ndf=32, n_layers=3, norm="batch"),
            gan_mode="vanilla",
        )
        data = PairedImageDataModule(
            root=str(DATA[method]),
            preprocess="resize_and_crop",
            load_size=143,
            crop_size=128,
            flip=True,
            direction="BtoA",
            batch_size=1,
            num_workers=num_workers,
            seed=0,
        )
    return model, data


def child(spec: dict[str, Any]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(spec["threads"])
    import gan_style

    tree = Path(spec["tree"]).resolve()
    where = Path(gan_style.__file__).resolve()
    if tree not in where.parents:
        raise SystemExit(f"gan_style imported from {where}, not from the tree {tree}")
    print(f"gan_style: {where}", file=sys.stderr, flush=True)

    import lightning as L
    from common import _cpu_name

    warmup, batches, n_hash = spec["warmup"], spec["batches"], spec["hash_batches"]
    root = str(DATA[spec["method"]])

    class Window(L.Callback):
        """Times batches ``warmup`` .. ``warmup + batches - 1`` (counted over epochs), hashes the first ones."""

        def __init__(self) -> None:
            self.seen = 0
            self.t0 = self.t1 = self.cpu0 = self.cpu1 = self._t = 0.0
            self.starts: list[float] = []  # perf_counter at each timed on_train_batch_start
            self.steps: list[float] = []  # on_train_batch_start -> on_train_batch_end of each timed batch
            self.digests: list[str] = []
            self.params_end = ""

        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if self.seen < n_hash:
                self.digests.append(batch_digest(batch, root))
            self._t = time.perf_counter()
            if self.seen == warmup:
                self.t0, self.cpu0 = self._t, time.process_time()
            if self.seen >= warmup:
                self.starts.append(self._t)

        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            now = time.perf_counter()
            if self.seen >= warmup:
                self.steps.append(now - self._t)
            if self.seen == warmup + batches - 1:
                self.t1, self.cpu1 = now, time.process_time()
                trainer.should_stop = True
                self.params_end = params_digest(module)
            self.seen += 1

    L.seed_everything(0, verbose=False)
    model, data = build(spec["method"], spec["num_workers"])
    params_start = params_digest(model)
    window = Window()
    trainer = quiet_cpu_trainer(precision="32-true", max_epochs=1000, callbacks=[window], default_root_dir=os.getcwd())
    trainer.fit(model, datamodule=data)
    if window.seen < warmup + batches:
        raise SystemExit(f"the run stopped after {window.seen} batches, before {warmup + batches}")
    sec, cpu = window.t1 - window.t0, window.cpu1 - window.cpu0
    intervals = [b - a for a, b in zip(window.starts, window.starts[1:])]
    interval = statistics.median(intervals)
    return {
        "method": spec["method"],
        "tree": spec["label"],
        "round": spec["round"],
        "gan_style": str(where),
        "device_name": _cpu_name(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "lightning": L.__version__,
        "num_workers": data.num_workers(),
        "warmup": warmup,
        "timed_batches": batches,
        "window_sec": round(sec, 4),
        "batches_per_sec": round(batches / sec, 4),
        "interval_sec_median": round(interval, 5),
        "batches_per_sec_median_interval": round(1 / interval, 4),
        "batches_per_sec_fastest_interval": round(1 / min(intervals), 4),
        "cpu_sec": round(cpu, 4),
        "batches_per_cpu_sec": round(batches / cpu, 4),
        "step_sec_median": round(statistics.median(window.steps), 5),
        "step_share": round(sum(window.steps) / sec, 4),
        "intervals_sec": [round(t, 4) for t in intervals],
        "batch_digests": window.digests,
        "params_start": params_start,
        "params_end": window.params_end,
        "load_avg": [round(x, 2) for x in os.getloadavg()],
    }


# --- the parent: trees, rounds, table -----------------------------------------------------------------------
def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def run_child(spec: dict[str, Any], workdir: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=spec["tree"], PYTHONDONTWRITEBYTECODE="1", PYTHONWARNINGS="ignore")
    cwd = Path(tempfile.mkdtemp(prefix=f"{spec['label']}_{spec['method']}_", dir=workdir))
    proc = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--_child", json.dumps(spec)],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
    )
    rows = [line[len(CHILD_MARK) :] for line in proc.stdout.splitlines() if line.startswith(CHILD_MARK)]
    if proc.returncode != 0 or not rows:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"{spec['label']} {spec['method']} (round {spec['round']}) failed: exit {proc.returncode}")
    for line in proc.stderr.splitlines():
        if line.startswith("gan_style: "):
            print(f"  [{spec['label']:9s}] {line}", file=sys.stderr, flush=True)
    return json.loads(rows[-1])


def spread(values: list[float]) -> float:
    return (max(values) - min(values)) / 2


#: row key -> what the table calls it: the window's batches/s first (the figure asked for), then two that ride out
#: load from other processes: 1 / the median interval between successive batch starts, and 1 / the shortest one
#: (the batch that ran least disturbed; every batch does the same work)
MEASURES = {
    "batches_per_sec": "batches/s",
    "batches_per_sec_median_interval": "batches/s, 1 / median batch interval",
    "batches_per_sec_fastest_interval": "batches/s, 1 / fastest batch interval",
}


def summarize(method: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    by = {label: sorted((r for r in rows if r["tree"] == label), key=lambda r: r["round"]) for label in ("ref", "cur")}
    same = {
        key: all(a[key] == b[key] for a, b in zip(by["ref"], by["cur"]))
        for key in ("batch_digests", "params_start", "params_end")
    }
    stable = all(r["batch_digests"] == by["ref"][0]["batch_digests"] for r in by["ref"] + by["cur"])
    out: dict[str, Any] = {"method": method}
    for key in MEASURES:
        ref, cur = [r[key] for r in by["ref"]], [r[key] for r in by["cur"]]
        out[key] = {
            "reference": ref,
            "current": cur,
            "reference_median": round(statistics.median(ref), 4),
            "reference_spread": round(spread(ref), 4),
            "current_median": round(statistics.median(cur), 4),
            "current_spread": round(spread(cur), 4),
            "ratio": round(statistics.median(cur) / statistics.median(ref), 4),
            "round_ratios": [round(c / r, 4) for r, c in zip(ref, cur)],
        }
    out["step_sec_median"] = {
        "reference": round(statistics.median(r["step_sec_median"] for r in by["ref"]), 5),
        "current": round(statistics.median(r["step_sec_median"] for r in by["cur"]), 5),
    }
    out["identical_batches"] = same["batch_digests"] and stable
    out["hashed_batches"] = len(by["ref"][0]["batch_digests"])
    out["identical_initial_weights"] = same["params_start"]
    out["identical_weights_after_timed_batches"] = same["params_end"]
    return out


def table(summaries: list[dict[str, Any]], command: str, rev: str) -> str:
    lines = [
        f"| method | measure | reference {rev} (median ± half range) | current | current / reference "
        "| per-round ratios |",
        "|---|---|---|---|---|---|",
    ]
    for s in summaries:
        for key, name in MEASURES.items():
            m = s[key]
            lines.append(
                f"| {s['method']} | {name} | {m['reference_median']:.3f} ± {m['reference_spread']:.3f} "
                f"| {m['current_median']:.3f} ± {m['current_spread']:.3f} | {m['ratio']:.3f} "
                f"| {min(m['round_ratios']):.3f}-{max(m['round_ratios']):.3f} |"
            )
    lines.append("")
    lines.append(f"command: `{command}`")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rev", default="2454e85", help="reference revision (default: 2454e85)")
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--rounds", type=int, default=3, help="processes per tree and method, interleaved")
    p.add_argument(
        "--batches",
        type=int,
        default=None,
        help="timed training batches per process (default: cyclegan 35, pix2pix 70)",
    )
    p.add_argument("--warmup", type=int, default=5, help="untimed training batches first (>= 1)")
    p.add_argument("--hash_batches", type=int, default=3, help="first batches hashed (<= --warmup)")
    p.add_argument("--threads", type=int, default=1, help="torch.set_num_threads in each process")
    p.add_argument("--num_workers", default="0", help="the data modules' num_workers: a number or 'auto' (default 0)")
    p.add_argument("--output", type=Path, default=None, help="write every process's row and the summary here (JSON)")
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._child is not None:
        print(CHILD_MARK + json.dumps(child(json.loads(a._child))), flush=True)
        return
    if a.rounds < 1 or (a.batches is not None and a.batches < 2) or a.warmup < 1 or not 0 <= a.hash_batches <= a.warmup:
        raise SystemExit("--rounds and --warmup must be >= 1, --batches >= 2, and 0 <= --hash_batches <= --warmup")
    num_workers: int | str = a.num_workers if a.num_workers == "auto" else int(a.num_workers)
    command = "python benchmarks/rgb8_throughput.py" + "".join(" " + shlex.quote(x) for x in sys.argv[1:])

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # the finally below removes the worktree
    full = git("rev-parse", "--verify", f"{a.rev}^{{commit}}")
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="rgb8_throughput_"))
    ref_tree = workdir / "reference"
    rows: list[dict[str, Any]] = []
    try:
        git("worktree", "add", "--detach", str(ref_tree), full)
        trees = {"ref": str(ref_tree), "cur": str(REPO)}
        print(f"reference {full[:12]} in {ref_tree}; current: {REPO}", file=sys.stderr, flush=True)
        for r in range(a.rounds):
            order = ("ref", "cur") if r % 2 == 0 else ("cur", "ref")
            for method in a.methods:
                for label in order:
                    spec = dict(
                        method=method,
                        tree=trees[label],
                        label=label,
                        round=r,
                        threads=a.threads,
                        warmup=a.warmup,
                        batches=a.batches or BATCHES[method],
                        hash_batches=a.hash_batches,
                        num_workers=num_workers,
                    )
                    row = run_child(spec, workdir)
                    rows.append(row)
                    print(
                        f"round {r} {method:8s} {label}: {row['batches_per_sec']:.3f} batches/s "
                        f"({row['window_sec']:.1f} s window, load {row['load_avg'][0]})",
                        file=sys.stderr,
                        flush=True,
                    )
    finally:
        subprocess.run(["git", "-C", str(REPO), "worktree", "remove", "--force", str(ref_tree)], capture_output=True)
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.perf_counter() - started

    summaries = [summarize(m, [r for r in rows if r["method"] == m]) for m in a.methods]
    for s in summaries:
        print(json.dumps(s), flush=True)
    print()
    print(table(summaries, command, full[:7]))
    print()
    for s in summaries:
        print(
            f"{s['method']}: identical: {'yes' if s['identical_batches'] else 'no'} (first {s['hashed_batches']} "
            f"training batches, every round); initial weights identical: "
            f"{'yes' if s['identical_initial_weights'] else 'no'}; weights after the timed batches identical: "
            f"{'yes' if s['identical_weights_after_timed_batches'] else 'no'}"
        )
    print(f"identical: {'yes' if all(s['identical_batches'] for s in summaries) else 'no'}")
    print(f"wall time: {wall:.0f} s, threads {a.threads}, num_workers {a.num_workers}, {a.rounds} rounds")
    if a.output is not None:
        a.output.write_text(
            json.dumps(
                {"command": command, "rev": full, "wall_sec": round(wall, 1), "summary": summaries, "rows": rows}
            )
        )


if __name__ == "__main__":
    main()
