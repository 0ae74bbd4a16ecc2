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
130     interrupted (Ctrl-C; ``fit`` finishes the batch and saves first, as on SIGTERM)
143     stopped by SIGTERM after saving (``fit``)
======  =========================================================================================

Errors print as one line, ``gan-style <subcommand>: error: <message>``, without a traceback; set
``GAN_STYLE_TRACEBACK=1`` to see it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Collection
from typing import Any

from gan_style.errors import BAD_REQUEST_ERRORS, error_message, handled

__all__ = [
    "EXIT_BAD_REQUEST",
    "EXIT_FAILED",
    "EXIT_INTERRUPTED",
    "exit_status",
    "flag_form",
    "print_error",
    "run_command",
]

EXIT_FAILED = 1
EXIT_BAD_REQUEST = 2
EXIT_INTERRUPTED = 130

#: Errors that mean the request itself was wrong (status 2); other gan-style errors are failures (status 1).
_BAD_REQUEST = BAD_REQUEST_ERRORS


def exit_status(exc: BaseException) -> int:
    """The exit status for ``exc`` under the policy of the module docstring."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, _BAD_REQUEST):
        return EXIT_BAD_REQUEST
    return EXIT_FAILED


def print_error(prog: str, exc: BaseException) -> None:
    """Print ``<prog>: error: <message>`` on stderr."""
    print(f"{prog}: error: {error_message(exc)}", file=sys.stderr)


def _is_option(word: str) -> bool:
    """``--name``, ``--name=value``, ``-h``; not a negative number (``--seed -1``)."""
    if not word.startswith("-") or word == "-":
        return False
    try:
        float(word)
    except ValueError:
        return True
    return False


_BOOL_WORDS = {"true", "false", "yes", "no", "on", "off"}
_NO_VALUE = {"-h", "--help", "--print_config"}


def flag_form(
    args: list[str] | None,
    positional: str | None = None,
    many: bool = False,
    lists: Collection[str] = (),
    switches: Collection[str] = (),
) -> list[str]:
    """Rewrite a classic (argparse-style) command line into the ``--name value`` form that
    :func:`run_command` parses, so that command lines written before the one command layer keep working.

    - Bare words that are not an option's value (``gan-style compare runs/a runs/b``, ``gan-style download
      horse2zebra``) become ``--<positional> [a,b]`` (``many``) or ``--<positional> WORD`` (the first word;
      further words are left for the parser to reject). Everything after ``--`` is such a word.
    - ``--<list> a b c`` (every word up to the next option) becomes one list ``--<list> ["a","b","c"]``; a
      value already written as a list (``--metrics [fid,kid]``) or as ``--<list>=VALUE`` is left as it is.
    - ``--<switch>`` alone becomes ``--<switch> true`` (``--list``, ``--force``); ``--<switch> false`` stays.

    Lists are written as JSON, so paths with commas, spaces or ``#`` arrive unchanged. Any other option takes
    the next word as its value unless it is written ``--name=value`` or is ``--help``.

    Args:
        args: the subcommand's arguments (None: ``sys.argv[2:]``, as :func:`run_command` reads them).
        positional: the parameter that takes the bare words (e.g. ``"runs"``, ``"name"``); None: bare words
            are left as they are.
        many: the bare words are a list (``--runs``) rather than one value (``--name``).
        lists: parameters given as several words (e.g. ``["metrics"]``; names without ``--``).
        switches: boolean parameters that may be given without a value (e.g. ``["list", "force"]``).

    Returns:
        The rewritten arguments; the bare words' flag first.
    """
    words = list(sys.argv[2:] if args is None else args)
    list_flags = {f"--{name}" for name in lists}
    switch_flags = {f"--{name}" for name in switches}
    out: list[str] = []
    bare: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "--":
            bare += words[i:]
            break
        if not _is_option(word):
            bare.append(word)
        elif "=" in word or word in _NO_VALUE:
            out.append(word)
        elif word in switch_flags:
            if i < len(words) and words[i].lower() in _BOOL_WORDS:
                out += [word, words[i]]
                i += 1
            else:
                out += [word, "true"]
        elif word in list_flags:
            if i < len(words) and words[i].startswith("["):
                out += [word, words[i]]
                i += 1
                continue
            values = []
            while i < len(words) and not _is_option(words[i]):
                values.append(words[i])
                i += 1
            out += [word, json.dumps(values)] if values else [word]
        else:
            out.append(word)
            if i < len(words) and not _is_option(words[i]):
                out.append(words[i])
                i += 1
    if positional is None or not bare:
        return out + bare
    if many:
        return [f"--{positional}", json.dumps(bare), *out]
    return [f"--{positional}", bare[0], *out, *bare[1:]]


def _with_evaluated_annotations(function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` behind a wrapper whose signature holds its parameters' annotations evaluated in its module's
    namespace, or ``function`` itself when one cannot be evaluated there.

    Command modules import torch and their other heavy modules inside the functions, and name such types for
    type checkers only (``if TYPE_CHECKING:``). Given string annotations (``from __future__ import
    annotations``), jsonargparse would evaluate them itself, executing every ``TYPE_CHECKING`` import of the
    module, so that ``--help`` would import torch; evaluated annotations leave those imports alone."""
    import functools
    import inspect

    signature = inspect.signature(function)
    namespace = getattr(function, "__globals__", {})
    parameters = []
    for parameter in signature.parameters.values():
        annotation = parameter.annotation
        if isinstance(annotation, str):
            try:
                annotation = eval(annotation, namespace)  # noqa: S307 - the command's own source, not input
            except Exception:  # noqa: BLE001 - a type for type checkers only: jsonargparse evaluates it
                return function
        parameters.append(parameter.replace(annotation=annotation))

    @functools.wraps(function)
    def command(*args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=inspect.Signature.empty
    )
    return command


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

    from gan_style.commands.help import ArgumentParser

    try:
        return CLI(
            _with_evaluated_annotations(function),
            args=sys.argv[2:] if args is None else args,
            as_positional=False,
            prog=prog,
            parser_class=ArgumentParser,
        )
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if os.environ.get("GAN_STYLE_TRACEBACK") or not handled(exc):
            raise
        print_error(prog, exc)
        raise SystemExit(exit_status(exc)) from None
