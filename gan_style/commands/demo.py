"""``gan-style demo``: a local web page (Gradio) to try trained checkpoints and published models in a browser.

Examples::

    gan-style demo --checkpoint runs/cyclegan                      # a run folder: its checkpoints/last.ckpt
    gan-style demo --checkpoint runs/adain/checkpoints/last.ckpt runs/cyclegan --pretrained horse2zebra adain
    gan-style demo --method gatys --num_iterations 100             # Gatys optimization (downloads VGG-19 once)
    gan-style demo --checkpoint runs/cyclegan --host 0.0.0.0 --port 8080   # reachable from other machines
    gan-style demo --checkpoint runs/cyclegan --share              # a temporary public link (Gradio's share link)

Needs the ``demo`` extra: ``pip install "gan-style[demo]"``. The page is described in ``docs/demo.md`` and built by
:func:`gan_style.demo.app.build_demo`; it gives the same pixels as ``gan-style stylize`` with the same settings.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import socket
from typing import Literal

from gan_style.errors import InvalidSettingError, MissingDependencyError

__all__ = ["demo", "main"]

_LISTS = ("checkpoint", "pretrained", "method")


def demo(
    checkpoint: list[str] | None = None,
    pretrained: list[str] | None = None,
    method: list[Literal["gatys"]] | None = None,
    host: str = "127.0.0.1",
    port: int = 7860,
    device: str = "auto",
    max_upload_mb: float = 20.0,
    max_pixels: int = 4096 * 4096,
    num_iterations: int = 500,
    vgg_weights: str | None = "imagenet",
    style_weight: float = 1e6,
    share: bool = False,
) -> None:
    """Serve a web page to try models in a browser, until Ctrl-C.

    The page offers each model given here (grouped by method): a content image (uploaded or a bundled example),
    style images with weights and masks, alpha and colour preservation for the models that take them, output size
    and tiles, and a side-by-side tab. Model calls are queued and run one at a time.

    A model that cannot be loaded (a published model that is not cached while offline, a missing checkpoint) is
    left out with one line on stderr, ``gan-style demo: not loaded: --pretrained NAME: <why>``, and on the page; the
    command stops only when none loads.

    Args:
        checkpoint: checkpoints written by ``gan-style fit``, or run folders (their ``checkpoints/last.ckpt``);
            several allowed. Every network a method offers is listed (CycleGAN: both directions). None (default):
            none.
        pretrained: published models by name (``horse2zebra``, ``adain``; ``gan-style pretrained`` lists them),
            model folders, ``hf://owner/name``, checkpoints or run folders (:func:`gan_style.loading.load_stylizer`);
            published files are downloaded once into the torch hub cache. None (default): none.
        method: ``gatys`` to offer Gatys optimization (slow; VGG-19 weights from ``vgg_weights``). None (default).
        host: the address the server listens on ("127.0.0.1": this machine only; ``0.0.0.0`` for every network
            interface, which lets anyone who can reach the machine use it).
        port: the TCP port (7860).
        device: ``auto`` (default: GPU when available), ``cpu`` or ``cuda``.
        max_upload_mb: largest upload in megabytes (20.0), refused by the server beyond that.
        max_pixels: largest upload, and largest output, in pixels, width x height (4096 x 4096 = 16777216): larger
            images are refused with a message before they are decoded, and an output size that would give a larger
            result (the shorter side set by the page's output size, the aspect kept) before anything is resized.
        num_iterations: Gatys: L-BFGS iterations (500).
        vgg_weights: Gatys: VGG-19 weights (``imagenet``: torch hub cache; a file; null: random, tests only).
        style_weight: Gatys: beta (1e6).
        share: also serve the page through a temporary public link on gradio.live (Gradio's share link, valid
            for a week; anyone with the link can use it, and the models run on this machine). False (default).

    Raises:
        MissingDependencyError: Gradio is not installed (``pip install "gan-style[demo]"``).
        InvalidSettingError: ``port``, ``max_upload_mb`` or ``max_pixels`` out of range; a port in use.
        ValueError: no model given, an unknown method.
        FileMissingError, UnsafeFileError, UnreadableFileError, InferenceUnavailableError: a checkpoint that
            cannot be used (see :func:`gan_style.demo.models.load_models`), when no model loads.
        DownloadSettingError, OfflineError: a published model that is unknown or not cached and cannot be
            downloaded, when no model loads.
    """
    if importlib.util.find_spec("gradio") is None:
        raise MissingDependencyError(
            "gan-style demo needs the package 'gradio', which is not installed: pip install \"gan-style[demo]\""
        )
    if not (checkpoint or pretrained or method):
        raise ValueError("give at least one model: --checkpoint RUN_OR_CKPT, --pretrained NAME or --method gatys")
    if not 0 < port < 65536:
        raise InvalidSettingError(f"--port must be a TCP port between 1 and 65535, got {port}")
    if not max_upload_mb > 0:
        raise InvalidSettingError(f"--max_upload_mb must be > 0, got {max_upload_mb}")
    if max_pixels < 1:
        raise InvalidSettingError(f"--max_pixels must be >= 1, got {max_pixels}")
    _check_port(host, port)
    import torch

    from gan_style.demo.models import load_models

    dev = "cuda" if device == "auto" and torch.cuda.is_available() else ("cpu" if device == "auto" else device)
    gatys = {"num_iterations": num_iterations, "vgg_weights": vgg_weights, "style_weight": style_weight}
    failures: list[str] = []  # one line per model that could not be loaded: said, and the page starts without it
    try:
        models = load_models(checkpoint or [], pretrained or [], method or [], dev, gatys, failures)
    finally:
        import sys

        for line in failures:
            print(f"gan-style demo: not loaded: {line}", file=sys.stderr, flush=True)

    from gan_style.demo.app import build_demo

    page = build_demo(models, dev, max_pixels, unavailable=failures)
    print(f"gan-style demo: {len(models)} model(s) on {dev}: {', '.join(m.name for m in models)}", flush=True)
    if share:
        print("gan-style demo: --share: anyone with the public link can use the page and this machine", flush=True)
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(f"gan-style demo: listening on {host}: anyone who can reach this machine can use the page", flush=True)
    try:
        page.launch(
            server_name=host,
            server_port=port,
            max_file_size=int(max_upload_mb * 1024 * 1024),
            show_error=False,
            ssr_mode=False,
            inbrowser=False,
            share=share,
        )
    except OSError as exc:  # taken while the models loaded
        raise InvalidSettingError(f"--port {port} on {host} cannot be used ({exc}); choose another --port") from None


def _check_port(host: str, port: int) -> None:
    """Refuse a port that is taken, before the models load (binding a socket as the server will).

    Raises:
        InvalidSettingError: the port cannot be bound on ``host``.
    """
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        raise InvalidSettingError(
            f"--port {port} on {host} cannot be used ({exc.strerror or exc}); choose another --port, or stop what "
            "listens there"
        ) from None


def _merge_lists(args: list[str]) -> list[str]:
    """``--checkpoint ["a"] --checkpoint ["b"]`` (an option given twice, as :func:`flag_form` writes it) ->
    ``--checkpoint ["a", "b"]``; other words, and lists that are not JSON (``[a,b]``), are left as they are."""
    merged: dict[str, list] = {}
    slots: dict[str, int] = {}
    out: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        values = None
        if word.startswith("--") and word[2:] in _LISTS and i + 1 < len(args):
            with contextlib.suppress(ValueError):
                values = json.loads(args[i + 1])
        if isinstance(values, list):
            if word not in merged:
                merged[word] = []
                slots[word] = len(out) + 1
                out += [word, ""]  # the list goes where the option first appeared
            merged[word] += values
            i += 2
        else:
            out.append(word)
            i += 1
    for word, slot in slots.items():
        out[slot] = json.dumps(merged[word])
    return out


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style demo``: arguments parsed from :func:`demo`'s signature (``--checkpoint a b`` or
    ``--checkpoint a --checkpoint b``; ``--share`` alone means ``--share true``); errors as one line with the exit
    status of :mod:`gan_style.commands.runner` (1 without Gradio)."""
    from gan_style.commands.runner import flag_form, run_command

    run_command(demo, _merge_lists(flag_form(args, lists=_LISTS, switches=["share"])), "gan-style demo")
