"""Errors that describe a problem with the user's input, files or environment, not a bug.

Every class here derives from :class:`GanStyleError` and from the built-in exception a caller would
expect (``ValueError``, ``FileNotFoundError`` ...), so ``except ValueError`` keeps working. The ``gan-style``
command prints their message (which names the file or setting and the fix) without a traceback and exits
with status 1; set ``GAN_STYLE_TRACEBACK=1`` to see the traceback as well.
"""

from __future__ import annotations

__all__ = [
    "DatasetNotFoundError",
    "GanStyleError",
    "ImageLoadError",
    "InvalidSettingError",
    "NonFiniteLossError",
    "UnreadableFileError",
    "UnsafeFileError",
    "WeightsUnavailableError",
]


class GanStyleError(Exception):
    """Base of gan-style's user-facing errors: the message alone tells what is wrong and what to do."""


class ImageLoadError(GanStyleError, ValueError):
    """An image file could not be read (missing, empty, not an image, truncated, over the pixel limit) or
    does not fit its dataset (odd-width aligned pair, halves of different sizes); the message names the file."""


class InvalidSettingError(GanStyleError, ValueError):
    """A setting (command-line option or config value) was rejected by the class it configures; the message
    names the setting and the value."""


class DatasetNotFoundError(GanStyleError, FileNotFoundError):
    """A dataset, image folder, weights file or checkpoint named in a setting does not exist or is empty."""


class WeightsUnavailableError(GanStyleError, RuntimeError):
    """Pretrained weights are neither in the cache nor downloadable (offline); the message says where to put
    the file."""


class UnsafeFileError(GanStyleError, ValueError):
    """A checkpoint, weights file or archive was refused because loading or extracting it could run code or
    write outside its target (a pickle with code, a path traversal, a link out of the target folder), or its
    checksum does not match."""


class UnreadableFileError(GanStyleError, ValueError):
    """A checkpoint or weights file exists but is truncated, corrupt or not a PyTorch file."""


class NonFiniteLossError(GanStyleError, FloatingPointError):
    """A training loss became NaN or infinite; the message names the step and the loss term. The update of
    that step was not applied, so the weights are still finite."""
