"""One writer per run folder: a second run into a folder in use is refused naming the running process; a
killed run leaves no lock; stale temporary files are removed only when their writer is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import torch
from test_cli import RECIPE

from conftest import SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process
from gan_style.io.atomic import atomic_torch_save, writer_alive

HOLD = textwrap.dedent(
    """
    import sys, time
    from gan_style.io.lock import run_folder_lock
    with run_folder_lock(sys.argv[1]):
        print("held", flush=True)
        time.sleep(120)
    """
)


def _holder(folder):
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(folder)], stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def _fit(run, tmp_path):
    return gan_style_in_process(
        "fit",
        "--config",
        RECIPE,
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.max_steps=1",
        "--trainer.limit_val_batches=0",
        cwd=tmp_path,
        check=False,
    )


def test_a_second_run_into_a_folder_in_use_is_refused_naming_the_process(tmp_path):
    run = tmp_path / "run"
    holder = _holder(run)
    try:
        proc = _fit(run, tmp_path)
        assert proc.returncode == 1, proc.stderr[-2000:]
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith("gan-style: error: run folder") and f"process {holder.pid} " in last
        assert "Traceback" not in proc.stderr
        assert not (run / "checkpoints").exists()  # refused before anything was written
    finally:
        holder.send_signal(signal.SIGKILL)  # killed while holding it: the OS releases the lock
        holder.wait(timeout=30)
    proc = _fit(run, tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (run / "checkpoints" / "last.ckpt").is_file()


def test_stale_temporary_files_are_removed_only_when_their_writer_is_gone(tmp_path):
    target = tmp_path / "last.ckpt"
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], stdin=subprocess.DEVNULL)
    try:
        dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
        dead_pid = int(dead.stdout)
        of_live = tmp_path / f".last.ckpt.tmp-{live.pid}-0123abcd"
        of_dead = tmp_path / f".last.ckpt.tmp-{dead_pid}-4567ef01"
        of_old_layout = tmp_path / f".last.ckpt.tmp-{dead_pid}"
        for p in (of_live, of_dead, of_old_layout):
            p.write_bytes(b"partial")
        assert writer_alive(of_live) and not writer_alive(of_dead) and not writer_alive(of_old_layout)
        atomic_torch_save({"w": torch.ones(2)}, target)
        assert of_live.exists()  # another process may still be writing it
        assert not of_dead.exists() and not of_old_layout.exists()
        assert torch.equal(torch.load(target, weights_only=True)["w"], torch.ones(2))
    finally:
        live.kill()
        live.wait(timeout=30)
    assert os.path.getsize(target) > 0
