"""How ``--help`` reads: plain text instead of the docstrings' reStructuredText markup, and only the classes a
user would choose among in the "known subclasses" of a setting (not every ``torch.nn`` module)."""

from __future__ import annotations

import difflib
import re
import sys
from argparse import Action
from typing import Any, NoReturn

from jsonargparse import ArgumentParser as _JsonArgumentParser
from jsonargparse import DefaultHelpFormatter

__all__ = ["ArgumentParser", "HelpFormatter", "OneLineErrors", "nearest_options", "plain_text"]

#: At most this many known subclasses are named for one setting; the rest are counted.
MAX_SUBCLASSES = 12

_ROLE_WITH_TITLE = re.compile(r":[\w:]+:`([^`<]+?)\s*<[^`>]+>`")  # :class:`title <target>` -> title
_ROLE = re.compile(r":[\w:]+:`~?([^`]+)`")  # :class:`~a.b.C` -> C (short form), :func:`a.b` -> a.b
_LITERAL = re.compile(r"``([^`]+)``")
_LINK = re.compile(r"`([^`<]+?)\s*<[^`>]+>`_+")
_EMPHASIS = re.compile(r"(?<![\w*])\*\*?([^*\s][^*]*?)\*\*?(?![\w*])")
#: Packages whose classes are not offered as choices (gan-style's own choices are its networks, gan_style.nets).
_LIBRARIES = frozenset(
    "gan_style torch torchvision torchmetrics torch_fidelity lightning pytorch_lightning lpips timm kornia "
    "transformers diffusers open_clip".split()
)
_SUBCLASSES = re.compile(r", known subclasses: ([^()]*)")


def plain_text(text: str) -> str:
    """``text`` without reStructuredText markup: roles (``:class:`~gan_style.nets.ResnetGenerator``` ->
    ``ResnetGenerator``; a ``~`` keeps the last name, as Sphinx shows it), inline literals (````x```` -> ``x``),
    links and emphasis; ``%(...)s`` help placeholders are kept."""

    def role(match: re.Match) -> str:
        target = match.group(1)
        return target.rsplit(".", 1)[-1] if match.group(0).split("`", 1)[1].startswith("~") else target

    text = _ROLE_WITH_TITLE.sub(r"\1", text)
    text = _ROLE.sub(role, text)
    text = _LINK.sub(r"\1", text)
    text = _LITERAL.sub(r"\1", text)
    return _EMPHASIS.sub(r"\1", text)


def _useful_subclasses(match: re.Match) -> str:
    paths = [p.strip() for p in match.group(1).split(",") if p.strip()]
    chosen = [p for p in paths if p.startswith("gan_style.nets.") or p.split(".", 1)[0] not in _LIBRARIES]
    if not chosen:
        return ""
    more = len(chosen) - MAX_SUBCLASSES
    shown = ", ".join(chosen[:MAX_SUBCLASSES]) + (f" and {more} more" if more > 0 else "")
    return f", e.g. {shown}"


class HelpFormatter(DefaultHelpFormatter):
    """jsonargparse's help formatter (types, defaults) with :func:`plain_text` descriptions, and "known
    subclasses" cut to the choices a user makes (gan-style's networks in ``gan_style.nets``, a plugin's own
    classes; not the torch, Lightning or metric-library classes that share the base class), at most
    :data:`MAX_SUBCLASSES`."""

    def _get_help_string(self, action: Action) -> str:
        text = super()._get_help_string(action)
        return plain_text(_SUBCLASSES.sub(_useful_subclasses, text))

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain_text(text)) if text else super()._format_text(text)


def nearest_options(parser: Any, message: str) -> list[str]:
    """For an "unrecognized arguments: --x ..." ``message`` of ``parser``: the parser's options closest to each
    unknown option (the best one each), by :func:`difflib.get_close_matches`; [] for other messages."""
    if "unrecognized arguments" not in message:
        return []
    known = [
        option
        for option in getattr(parser, "_option_string_actions", {})
        if option.startswith("--") and not option.endswith(("+", ".help"))
    ]
    unknown = [word.split("=", 1)[0] for word in message.split(":", 1)[-1].split() if word.startswith("--")]
    close: list[str] = []
    for word in unknown:
        prefix, _, last = word.rpartition(".")
        siblings = {option.rpartition(".")[2]: option for option in known if option.rpartition(".")[0] == prefix}
        for name in difflib.get_close_matches(last, list(siblings), n=1, cutoff=0.6):
            if siblings[name] not in close:
                close.append(siblings[name])
    return close


_UNION_CAUSE = re.compile(r"Problem with given class_path '([^']+)': (.*?)(?: - Expected a <class 'NoneType'>.*)?$")
_NOT_ACCEPTED = re.compile(r"Option '([^']+)' is not accepted")


def _innermost(text: str) -> str:
    """A jsonargparse Union error ("Does not validate against any of the Union subtypes ...") reduced to the
    class and the setting that failed; an option the class does not take gets its nearest parameters."""
    if "Does not validate against any of the Union subtypes" not in text:
        return text
    match = _UNION_CAUSE.search(text)
    if not match:
        return text
    class_path, cause = match.groups()
    unknown = _NOT_ACCEPTED.search(cause)
    if unknown:
        import importlib
        import inspect

        try:
            module, _, name = class_path.rpartition(".")
            names = list(inspect.signature(getattr(importlib.import_module(module), name)).parameters)
        except Exception:  # noqa: BLE001 - only a hint
            names = []
        close = difflib.get_close_matches(unknown.group(1), names, n=2, cutoff=0.6)
        if close:
            cause += f"; did you mean {' or '.join(close)}"
    return f"{cause} (in {class_path})"


class OneLineErrors:
    """Mixin for jsonargparse parsers: a command-line error (an unknown or malformed option) prints as one line,
    ``<prog>: error: <message>; did you mean --nearest? (<prog> --help lists the options)``, with exit status 2,
    instead of the usage block. Parsers that raise instead of exiting (nested ones) are unchanged."""

    def error(self, message: str, ex: Exception | None = None) -> NoReturn:
        import os

        if not self.exit_on_error or os.environ.get("GAN_STYLE_TRACEBACK"):
            super().error(message, ex)
        parser = getattr(ex, "subcommand_parser", None) or self
        prog = parser.prog.replace(" [options]", "")
        close = nearest_options(parser, message)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        text = " ".join(line.strip() for line in message.strip().splitlines() if line.strip()) or "invalid arguments"
        text = _innermost(text)
        if len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0] + " ..."
        print(f"{prog}: error: {text}{hint} ({prog} --help lists the options)", file=sys.stderr)
        raise SystemExit(2)


class ArgumentParser(OneLineErrors, _JsonArgumentParser):
    """jsonargparse's parser with :class:`HelpFormatter` and :class:`OneLineErrors`: the parser of gan-style's
    own subcommands (``stylize``, ``export`` ...)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)
