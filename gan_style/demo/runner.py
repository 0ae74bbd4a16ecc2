"""One model call at a time on a shared device, and cancelling a visitor's own run (without Gradio)."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import torch

__all__ = ["ModelRunner", "RunCancelled"]


class RunCancelled(Exception):
    """A model call stopped because its session asked to (:meth:`ModelRunner.cancel`); the page shows it as a
    message."""


class ModelRunner:
    """Runs model calls one at a time (one device shared by every visitor of the page) and lets a session cancel
    its own run.

    :meth:`turn` holds a lock for the duration of a model call, so calls never overlap even when the web queue lets
    a new request in while a cancelled one is still winding down. While a call runs, a forward pre-hook on every
    ``nn.Module`` (:func:`torch.nn.modules.module.register_module_forward_pre_hook`, removed afterwards; it acts
    only in the calling thread) stops it at its next network pass once :meth:`cancel` was called for its session:
    Gatys optimization and tiled runs make many such passes, so they stop within one iteration or tile.

    Example::

        runner = ModelRunner()
        with runner.turn(session):        # waits for the device; raises RunCancelled when cancelled
            output = stylizer(content)
        runner.cancel(session)            # from another thread (the page's Cancel button)
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, threading.Event] = {}

    def cancel(self, session: str) -> None:
        """Ask the run of ``session`` (a Gradio session hash) to stop, waiting or running; nothing when it has
        none."""
        event = self._events.get(session)
        if event is not None:
            event.set()

    @contextlib.contextmanager
    def turn(self, session: str) -> Iterator[None]:
        """Wait for the device, then run the body as ``session``'s model call.

        Raises:
            RunCancelled: the run was cancelled (:meth:`cancel`) while it waited or ran.
        """
        event = threading.Event()
        self._events[session] = event
        try:
            with self._lock:
                if event.is_set():
                    raise RunCancelled(f"the run of session {session} was cancelled before it started")
                thread = threading.get_ident()

                def stop_if_cancelled(module: torch.nn.Module, args: Any) -> None:
                    if event.is_set() and threading.get_ident() == thread:
                        raise RunCancelled(f"the run of session {session} was cancelled")

                handle = torch.nn.modules.module.register_module_forward_pre_hook(stop_if_cancelled)
                try:
                    yield
                finally:
                    handle.remove()
        finally:
            if self._events.get(session) is event:
                del self._events[session]
