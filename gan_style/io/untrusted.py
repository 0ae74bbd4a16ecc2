"""Reading files from outside safely: ``torch.load(weights_only=True)`` with errors that name the file.

A pickle that would run code is refused (:class:`~gan_style.errors.UnsafeFileError`); a truncated or
foreign file is named (:class:`~gan_style.errors.UnreadableFileError`).
"""

from __future__ import annotations

import os
import pickle
from typing import Any

import torch

from gan_style.errors import FileMissingError, UnreadableFileError, UnsafeFileError

__all__ = ["is_local", "safe_load"]


def is_local(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a local file path (no ``scheme://``, or ``file://``)."""
    return "://" not in os.fspath(path) or os.fspath(path).startswith("file://")


def safe_load(path: str | os.PathLike, map_location: Any = "cpu", what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` with errors that name the file.

    Only tensors, containers and plain Python values are rebuilt; any other object in the pickle (a class
    whose unpickling would import and run code) is refused before it runs.

    Args:
        path: a local file written by ``torch.save``.
        map_location: passed to ``torch.load`` (default ``"cpu"``).
        what: how the file is called in messages (``"checkpoint"``, ``"weights file"`` ...).

    Raises:
        FileMissingError: ``path`` does not exist (a ``FileNotFoundError``).
        UnsafeFileError: the file holds objects other than plain data (``weights_only`` refused it).
        UnreadableFileError: the file is empty, truncated or not a PyTorch file.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileMissingError(f"{what} '{path}' does not exist")
    if os.path.getsize(path) == 0:
        raise UnreadableFileError(f"{what} '{path}' is empty (0 bytes); it was not written completely. Delete it")
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = str(exc).strip().splitlines()
        with open(path, "rb") as f:
            head = f.read(2)
        if not head.startswith((b"\x80", b"PK")):  # neither a pickle nor torch's zip: foreign bytes (text, HTML)
            reason = next((line for line in detail if "Unsupported operand" in line), detail[0] if detail else "")
            raise UnreadableFileError(
                f"cannot read {what} '{path}' ({reason.strip()[:200]}); the file is truncated, corrupt or not a "
                "PyTorch file"
            ) from None
        reason = next(
            (line for line in detail if "GLOBAL" in line or "Unsupported" in line), detail[0] if detail else ""
        )
        raise UnsafeFileError(
            f"refused to load {what} '{path}': it contains objects other than tensors and plain data, which "
            f"could run code when loaded ({reason.strip()}). Only load files from sources you trust; gan-style "
            "reads checkpoints and weights with torch.load(weights_only=True)"
        ) from None
    except Exception as exc:  # torch's readers raise many types for foreign bytes (IndexError for a text file)
        lines = str(exc).strip().splitlines()
        raise UnreadableFileError(
            f"cannot read {what} '{path}' ({type(exc).__name__}{': ' + lines[0][:200] if lines else ''}); the "
            "file is truncated, corrupt or not a PyTorch file"
        ) from None
