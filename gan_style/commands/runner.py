"""One command layer for the ``gan-style`` subcommands: arguments parsed from a function's signature
(jsonargparse), one error printer, one exit-status policy.

Exit statuses (the same for every subcommand, ``fit`` included):

======  =========================================================================================
status  meaning
======  =========================================================================================
0       done
1       the work failed although the request was valid: a non-finite loss, weights that cannot be
        downloaded, an export whose check failed, a missing optional package, a full disk
2       a bad request: an invalid setting or argument, a missing or unreadable input file, an unsafe
        file (a checkpoint that would run code), an unknown name; nothing was written
130     interrupted (Ctrl-C)
143     stopped by SIGTERM after saving (``fit``)
======  =========================================================================================

Errors print as one line, ``gan-style <subcommand>: error: <message>``, without a traceback; set
``GAN_STYLE_TRACEBACK=1`` to see it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import Any

from gan_style.errors import GanStyleError

__all__ = ["EXIT_BAD_REQUEST", "EXIT_FAILED", "EXIT_INTERRUPTED", "exit_status", "print_error", "run_command"]

EXIT_FAILED = 1
EXIT_BAD_REQUEST = 2
EXIT_INTERRUPTED = 130

#: Errors that mean the request itself was wrong (status 2); other gan-style errors are failures (status 1).
_BAD_REQUEST = (ValueError, FileNotFoundError, KeyError, ImportError, NotADirectoryError, IsADirectoryError)


def exit_status(exc: BaseException) -> int:
    """The exit status for ``exc`` under the policy of the module docstring."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, _BAD_REQUEST):
        return EXIT_BAD_REQUEST
    return EXIT_FAILED


def error_message(exc: BaseException) -> str:
    """``exc``'s message on one line; for an error re-raised from a DataLoader worker (whose message embeds the
    worker's traceback), the original message only; a ``KeyError``'s message without its quotes."""
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    if "Original Traceback" in text:
        pattern = re.compile(rf"(?:[\w.]+\.)?{re.escape(type(exc).__name__)}: (.*)")
        found = [m[1] for m in map(pattern.fullmatch, text.strip().splitlines()) if m]
        if found:
            text = found[-1]
    return re.sub(r"\s+", " ", text).strip()


def print_error(prog: str, exc: BaseException) -> None:
    """Print ``<prog>: error: <message>`` on stderr."""
    print(f"{prog}: error: {error_message(exc)}", file=sys.stderr)


def handled(exc: BaseException) -> bool:
    """Whether ``exc`` is a user-facing error printed as one line (gan-style's own errors and the built-in
    errors of bad input), rather than a bug shown with its traceback."""
    return isinstance(exc, (GanStyleError, *_BAD_REQUEST, OSError))


def run_command(function: Callable[..., Any], args: list[str] | None, prog: str) -> Any:
    """Run ``function`` as a subcommand: its arguments parsed from its signature and docstring (jsonargparse,
    ``--name value``; ``--help`` lists them), errors printed as one line with the policy's exit status.

    Args:
        function: the subcommand's Python function (e.g. :func:`gan_style.commands.stylize.stylize`).
        args: the command-line arguments after the subcommand's name (None: ``sys.argv[2:]``).
        prog: the program name in help and errors (``"gan-style stylize"``).

    Returns:
        What ``function`` returns.

    Raises:
        SystemExit: with the status of :func:`exit_status` after printing a handled error (or re-raises it
            with ``GAN_STYLE_TRACEBACK=1``); jsonargparse's own status 2 for malformed arguments.
    """
    from jsonargparse import CLI

    try:
        return CLI(function, args=sys.argv[2:] if args is None else args, as_positional=False, prog=prog)
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if os.environ.get("GAN_STYLE_TRACEBACK") or not handled(exc):
            raise
        print_error(prog, exc)
        raise SystemExit(exit_status(exc)) from None
