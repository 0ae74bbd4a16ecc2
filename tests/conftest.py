"""Shared fixtures: tiny image folders, tiny networks, the bundled sample set."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import random
import socket
import subprocess
import sys
import threading
import traceback
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "examples" / "data" / "photo2painting"

# Keep CPU tests predictable on small machines.
os.environ.setdefault("WANDB_MODE", "offline")
os.environ.setdefault("WANDB_SILENT", "true")


def write_image(path: Path, size=(40, 36), mode="RGB", seed=0) -> Path:
    """Write a random image of ``size`` (w, h) and ``mode`` to ``path``."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    Image.fromarray(arr, "RGB").convert(mode).save(path)
    return path


@pytest.fixture
def tiny_unpaired(tmp_path: Path) -> Path:
    """root/{trainA: 3, trainB: 2, testA: 2, testB: 1} small random PNG images."""
    root = tmp_path / "data"
    counts = {"trainA": 3, "trainB": 2, "testA": 2, "testB": 1}
    for i, (folder, n) in enumerate(counts.items()):
        for j in range(n):
            write_image(root / folder / f"{folder}_{j}.png", seed=10 * i + j)
    return root


@pytest.fixture
def sample_root() -> Path:
    return SAMPLE_ROOT


def quiet_trainer(root: Path, **overrides):
    """A quiet single-process CPU Lightning trainer writing under ``root``: ``accelerator="cpu"``,
    ``devices=1``, no logger, no checkpointing, no progress bar, no model summary,
    ``default_root_dir=root``. Every keyword given overrides the default of the same name and any other
    keyword goes to ``L.Trainer`` as it is; the run's length (``max_steps``/``max_epochs``), validation
    limits and callbacks are for each test to choose. Pass ``enable_checkpointing=True`` together with a
    ``ModelCheckpoint`` callback (Lightning refuses one while checkpointing is off)."""
    import lightning as L

    options = dict(
        accelerator="cpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        default_root_dir=root,
    )
    options.update(overrides)
    return L.Trainer(**options)


@pytest.fixture
def make_trainer(tmp_path: Path):
    """A factory ``make_trainer(**overrides) -> L.Trainer`` of :func:`quiet_trainer` in the test's own
    temporary folder (so nothing is written to the working directory)."""
    return lambda **overrides: quiet_trainer(tmp_path, **overrides)


def tiny_cyclegan_kwargs() -> dict:
    """CycleGAN keyword arguments with networks small enough for CPU tests."""
    from gan_style.nets import NLayerDiscriminator, ResnetGenerator

    return dict(
        generator_ab=ResnetGenerator(ngf=8, n_blocks=1),
        generator_ba=ResnetGenerator(ngf=8, n_blocks=1),
        discriminator_a=NLayerDiscriminator(ndf=8, n_layers=1),
        discriminator_b=NLayerDiscriminator(ndf=8, n_layers=1),
    )


# CLI overrides that shrink the recipe's networks and images for subprocess tests.
TINY_CLI_ARGS = [
    "--model.init_args.generator_ab.init_args.ngf=8",
    "--model.init_args.generator_ab.init_args.n_blocks=1",
    "--model.init_args.generator_ba.init_args.ngf=8",
    "--model.init_args.generator_ba.init_args.n_blocks=1",
    "--model.init_args.discriminator_a.init_args.ndf=8",
    "--model.init_args.discriminator_a.init_args.n_layers=1",
    "--model.init_args.discriminator_b.init_args.ndf=8",
    "--model.init_args.discriminator_b.init_args.n_layers=1",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


FACADES_ROOT = REPO / "examples" / "data" / "facades"


@pytest.fixture
def facades_root() -> Path:
    return FACADES_ROOT


def tiny_pix2pix_kwargs() -> dict:
    """Pix2Pix keyword arguments with networks small enough for CPU tests (32x32 inputs)."""
    from gan_style.nets import NLayerDiscriminator, UnetGenerator

    return dict(
        generator=UnetGenerator(num_downs=5, ngf=8),
        discriminator=NLayerDiscriminator(input_nc=6, ndf=8, n_layers=1, norm="batch"),
    )


TINY_PIX2PIX_CLI_ARGS = [
    "--model.init_args.generator.init_args.num_downs=5",
    "--model.init_args.generator.init_args.ngf=8",
    "--model.init_args.discriminator.init_args.ndf=8",
    "--model.init_args.discriminator.init_args.n_layers=1",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


# --- the gan-style command in this process ------------------------------------------------------------------

_LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")

# A fresh interpreter's warning filters (no -W options): what ``python -m gan_style`` shows on stderr.
_FRESH_WARNING_FILTERS = [
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
]


@contextlib.contextmanager
def _logging_to(out: io.StringIO, err: io.StringIO):
    """Lightning's log messages to ``out``/``err`` while the command runs, as in a process of its own.

    A stream handler bound to the real stdout/stderr (Lightning's, created at import, holds the stream of that
    moment) writes to ``out``/``err`` meanwhile; Lightning's loggers, which get a stderr handler of their own only
    when the root logger has none at import (always so in ``python -m gan_style``, not under pytest), get one
    on ``err``."""
    real = {id(sys.stdout): out, id(sys.__stdout__): out, id(sys.stderr): err, id(sys.__stderr__): err}
    loggers = [logging.getLogger()] + [
        lg for lg in list(logging.Logger.manager.loggerDict.values()) if isinstance(lg, logging.Logger)
    ]
    swapped: list[tuple[logging.StreamHandler, object]] = []
    added: list[tuple[logging.Logger, logging.Handler, bool]] = []
    try:
        for logger in loggers:
            for handler in logger.handlers:
                if type(handler) is logging.StreamHandler and id(handler.stream) in real:
                    swapped.append((handler, handler.setStream(real[id(handler.stream)])))
        for name in _LIGHTNING_LOGGERS:
            logger = logging.getLogger(name)
            if not any(type(h) is logging.StreamHandler for h in logger.handlers):
                handler = logging.StreamHandler(err)
                logger.addHandler(handler)
                added.append((logger, handler, logger.propagate))
                logger.propagate = False
        yield
    finally:
        for logger, handler, propagate in added:
            logger.removeHandler(handler)
            logger.propagate = propagate
        for handler, stream in swapped:
            handler.setStream(stream)


def gan_style_in_process(*args, cwd, env_extra=None, check=True) -> subprocess.CompletedProcess:
    """``gan-style ARGS`` run by ``gan_style.cli.main`` in this process, without the interpreter start-up (about
    7 s: torch and Lightning) of ``test_cli.gan_style``, which it stands in for: same arguments, same result
    (``returncode``, ``stdout``, ``stderr``), same ``check``.

    As in that subprocess: the working directory is ``cwd``; the environment is this one without ``WANDB*``
    variables, plus ``env_extra`` (whose ``PYTHONPATH`` entries also go to the front of ``sys.path``);
    ``sys.argv`` holds no pytest arguments; stdout, stderr, Lightning's log messages and warnings (with a fresh
    interpreter's filters) are captured; ``SystemExit`` gives the exit status (0 when ``main`` returns) and an
    uncaught exception status 1 with its traceback on stderr. Afterwards the working directory, ``os.environ``
    (the recipes' ``seed_everything`` sets ``PL_GLOBAL_SEED``), ``sys.argv``, ``sys.path``, the global RNGs
    (torch, NumPy, ``random``) and torch's deterministic-algorithms switch (off during the run, as in a new
    process) are as they were.

    Not for what needs a process of its own: signals, DDP, errors from DataLoader worker processes, a module
    that must not have been imported yet, the interpreter's own output."""
    import numpy as np
    import torch

    import gan_style.commands.lightning_cli  # noqa: F401  (importing Lightning sets environment variables: before the snapshot)
    from gan_style.cli import main

    env_extra = dict(env_extra or {})
    saved_environ, saved_cwd = dict(os.environ), os.getcwd()
    saved_argv, saved_path = sys.argv, list(sys.path)
    saved_rng = (torch.random.get_rng_state(), np.random.get_state(), random.getstate())
    saved_deterministic = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
    )
    out, err = io.StringIO(), io.StringIO()
    try:
        for key in [k for k in os.environ if k.startswith("WANDB")]:
            del os.environ[key]
        os.environ.update(env_extra)
        sys.path[:0] = [p for p in env_extra.get("PYTHONPATH", "").split(os.pathsep) if p]
        sys.argv = [saved_argv[0]]
        torch.use_deterministic_algorithms(False)  # as in a new process (a Trainer(deterministic=True) leaves it on)
        os.chdir(cwd)
        with (
            _logging_to(out, err),  # first: it looks for handlers on the streams sys.stdout/stderr are now
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
            warnings.catch_warnings(),
        ):
            warnings.resetwarnings()
            for action, category, module in _FRESH_WARNING_FILTERS:
                warnings.filterwarnings(action, category=category, module=module, append=True)
            warnings.showwarning = _show_warning
            try:
                main(list(args))
                returncode = 0
            except SystemExit as exc:
                if exc.code is None or isinstance(exc.code, int):
                    returncode = exc.code or 0
                else:
                    print(exc.code, file=sys.stderr)
                    returncode = 1
            except Exception:
                traceback.print_exc(file=sys.stderr)
                returncode = 1
    finally:
        os.chdir(saved_cwd)
        sys.argv = saved_argv
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_environ)
        torch.random.set_rng_state(saved_rng[0])
        np.random.set_state(saved_rng[1])
        random.setstate(saved_rng[2])
        torch.use_deterministic_algorithms(saved_deterministic[0], warn_only=saved_deterministic[1])
    proc = subprocess.CompletedProcess(["gan-style", *args], returncode, out.getvalue(), err.getvalue())
    if check and proc.returncode != 0:
        raise AssertionError(
            f"gan-style {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
        )
    return proc


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings printed on (the captured) stderr, as the interpreter prints them."""
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


@pytest.fixture(scope="session")
def tiny_cyclegan_checkpoint(tmp_path_factory) -> Path:
    """``last.ckpt`` of a 2-step ``gan-style fit`` of the CycleGAN recipe with ``TINY_CLI_ARGS`` on the sample
    images (no validation), made once for the tests that read such a checkpoint (export, stylize). Shared:
    read it, write nothing into its run folder."""
    tmp = tmp_path_factory.mktemp("tiny_cyclegan")
    run = tmp / "cyclegan"
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={run}",
        "--trainer.max_steps=2",
        "--trainer.limit_val_batches=0",
        cwd=tmp,
    )
    ckpt = run / "checkpoints" / "last.ckpt"
    assert ckpt.is_file()
    return ckpt


# --- a local HTTP server for download tests ----------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:
        server = self.server
        server.requests.append({"path": self.path, "range": self.headers.get("Range")})
        data = server.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        header = self.headers.get("Range")
        if header and not server.ignore_range:
            start = int(header.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if server.cut_next:  # announce everything, send half, hang up
            server.cut_next = False
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture
def server():
    """A threading HTTP server on a random local port with Range support.

    Attributes: ``files`` (path -> bytes), ``requests`` (path and Range header of each GET),
    ``cut_next`` (send only half of the next body, then close), ``ignore_range`` (always answer 200),
    ``url(path)``.
    """
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.files, httpd.requests, httpd.cut_next, httpd.ignore_range = {}, [], False, False
    httpd.url = lambda path: f"http://127.0.0.1:{httpd.server_address[1]}{path}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def dead_url() -> str:
    """A URL on a local port where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/horse2zebra.zip"


# --- a local Hugging Face Hub server -------------------------------------------------------------------------------


class _HubHandler(BaseHTTPRequestHandler):
    """The Hub's file endpoint, ``/<owner>/<name>/resolve/<revision>/<file>``: HEAD answers with the commit, ETag
    and size headers huggingface_hub reads, GET with the file."""

    def log_message(self, *args) -> None:
        pass

    def _file(self) -> bytes | None:
        """The file asked for, or None after answering 404 with the Hub's error code (RepoNotFound or
        EntryNotFound), which huggingface_hub turns into its exceptions."""
        self.server.requests.append((self.command, self.path))
        parts = self.path.split("?")[0].strip("/").split("/")
        repo = self.server.repos.get(f"{parts[0]}/{parts[1]}") if len(parts) == 5 and parts[2] == "resolve" else None
        data = None if repo is None else repo.get(parts[4])
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound" if repo is None else "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
        return data

    def _headers(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def do_HEAD(self) -> None:
        data = self._file()
        if data is not None:
            self._headers(data)

    def do_GET(self) -> None:
        data = self._file()
        if data is None:
            return
        self._headers(data)
        self.wfile.write(data)


@pytest.fixture
def hub(tmp_path, monkeypatch):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _HubHandler)
    httpd.repos, httpd.requests = {}, []
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    endpoint = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("HF_ENDPOINT", endpoint)
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "ENDPOINT", endpoint)  # read at import time
    # also built at import time (huggingface_hub may have been imported already, e.g. by Gradio in the demo tests)
    monkeypatch.setattr(
        hf_constants, "HUGGINGFACE_CO_URL_TEMPLATE", endpoint + "/{repo_id}/resolve/{revision}/{filename}"
    )
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(tmp_path / "hf_home" / "hub"))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    yield httpd
    httpd.shutdown()
    httpd.server_close()
