"""Errors that describe a problem with the user's input, files or environment, not a bug.

Every class here derives from :class:`GanStyleError` and from the built-in exception a caller would
expect (``ValueError``, ``FileNotFoundError`` ...), so ``except ValueError`` keeps working. The ``gan-style``
command prints their message (which names the file or setting and the fix) as one line, without a traceback,
and exits with the status of :mod:`gan_style.commands.runner` (2 for a bad request, 1 for a failure); set
``GAN_STYLE_TRACEBACK=1`` to see the traceback as well. Every user-facing error class lives here.
"""

from __future__ import annotations

import re

__all__ = [
    "BAD_REQUEST_ERRORS",
    "ArchiveError",
    "CheckpointWriteError",
    "ChecksumError",
    "DatasetNotFoundError",
    "ExportCheckError",
    "ExportError",
    "FileMissingError",
    "DownloadError",
    "DownloadSettingError",
    "GanStyleError",
    "ImageLoadError",
    "InferenceUnavailableError",
    "InvalidSettingError",
    "MetricInputError",
    "MissingDependencyError",
    "ModelConfigError",
    "NonFiniteLossError",
    "PluginError",
    "RunFolderInUseError",
    "OfflineError",
    "UnreadableFileError",
    "UnsafeArchiveError",
    "UnsafeFileError",
    "UnwritableFolderError",
    "WeightsUnavailableError",
    "error_message",
    "handled",
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


class ModelConfigError(UnsafeFileError):
    """Settings read from a file (a checkpoint's hyper-parameters, the config it carries, a model folder's
    ``config.json``) are not a valid plain specification: a class outside gan-style and the methods made known,
    a network given as a string, an unknown key, a wrong type, a missing setting, or nesting too deep. The message
    names the file and the key; nothing was imported or built."""


class UnreadableFileError(GanStyleError, ValueError):
    """A checkpoint or weights file exists but is truncated, corrupt or not a PyTorch file."""


class NonFiniteLossError(GanStyleError, FloatingPointError):
    """A training loss became NaN or infinite; the message names the step and the loss term. The update of
    that step was not applied, so the weights are still finite."""


# Downloads and archives (gan_style.io.download, gan_style.io.archive, gan_style.data.download)


class DownloadError(GanStyleError, RuntimeError):
    """A download could not be completed (an HTTP error, a connection that kept breaking, a restricted or
    incomplete dataset); the message names the URL, the file and what to do."""


class OfflineError(DownloadError):
    """The server could not be reached (no network, DNS failure, refused connection, timeout); the message
    says where to put a copy downloaded elsewhere.

    Args:
        message: the full message.
        url: the address that could not be reached ("").
        reason: why, e.g. ``"timed out"`` or ``"ConnectionRefusedError: [Errno 111] Connection refused"`` ("").

    Both are kept as the attributes ``url`` and ``reason``.
    """

    def __init__(self, message: str, url: str = "", reason: str = "") -> None:
        super().__init__(message)
        self.url, self.reason = url, reason


class ChecksumError(DownloadError, UnsafeFileError):
    """A downloaded or user-placed file's sha256 or size differs from the expected value."""


class DownloadSettingError(GanStyleError, ValueError):
    """An unknown or ambiguous dataset name, or a sha256 that is not 64 hexadecimal characters."""


class ArchiveError(UnreadableFileError):
    """An archive is damaged, truncated or not a zip/tar file."""


class UnsafeArchiveError(ArchiveError, UnsafeFileError):
    """An archive member would be written outside the target folder, or is a link or special file."""


class InferenceUnavailableError(GanStyleError, ValueError):
    """A method was asked for inference (stylize, tiles, export, compare, predict) it does not offer: it hands
    out no stylizer, or its stylizer cannot do what was asked (export of an optimization method); the message
    says what to use instead."""


class FileMissingError(GanStyleError, FileNotFoundError):
    """A file named in a setting (a checkpoint, a weights file, a run folder, a model file) does not exist or
    is not a file; the message names it and what to give instead. (Missing image folders are
    :class:`DatasetNotFoundError`.)"""


class PluginError(GanStyleError, ImportError):
    """A method module named with ``--import``, or declared by an installed package under the entry-point group
    ``gan_style.methods``, cannot be imported; the message names it and the import error."""


class MetricInputError(GanStyleError, ValueError):
    """A metric got too little or mismatched input (fewer than two samples, no content images for LPIPS,
    images that cannot be paired) or an unknown setting; the message says what to pass."""


class ExportError(GanStyleError, ValueError):
    """A request that cannot be exported: unknown network or format, a method without a trained network
    (Gatys), a size the network cannot take."""


class ExportCheckError(GanStyleError, RuntimeError):
    """An exported file, loaded and run, disagrees with the PyTorch model (beyond ``atol``, or in shape);
    no file was written."""


class MissingDependencyError(GanStyleError, ImportError):
    """A package needed for the requested work (``onnx``, ``onnxruntime``, ``onnxscript`` for export) is not
    installed; the message says what to ``pip install``."""


class RunFolderInUseError(GanStyleError, RuntimeError):
    """Another running process writes into the run folder (checkpoints, logs, samples); the message names it.
    Two runs in one folder would corrupt each other, so the second is refused before it writes anything."""


class UnwritableFolderError(GanStyleError, ValueError):
    """An output folder named in a setting (the run folder ``trainer.default_root_dir``, an output folder) cannot
    be created or written: no permission, a read-only file system, or a file in the way. Found before anything
    is written; the message names the folder, the reason and the setting to change."""


class CheckpointWriteError(GanStyleError, OSError):
    """A checkpoint could not be written (a full disk, a quota, an I/O error). Nothing partial is left under the
    checkpoint's name: the previous file of that name is kept, and the message says so and how to resume."""


# --- how every door shows them (the command layer, the demo) -------------------------------------------------------

#: Errors that mean the request itself was wrong (exit status 2 in :mod:`gan_style.commands.runner`); other
#: gan-style errors are failures (status 1).
BAD_REQUEST_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    FileNotFoundError,
    KeyError,
    PluginError,
    NotADirectoryError,
    IsADirectoryError,
)


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


def handled(exc: BaseException) -> bool:
    """Whether ``exc`` is a user-facing error shown as one line (gan-style's own errors and the built-in
    errors of bad input), rather than a bug shown with its traceback."""
    return isinstance(exc, (GanStyleError, *BAD_REQUEST_ERRORS, OSError, MissingDependencyError))
