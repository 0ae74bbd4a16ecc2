"""The one ONNX export of a stylizer's export form (:meth:`~gan_style.inference.Stylizer.export_module`), used by
``gan-style export`` (to a file, checked by ONNX Runtime) and by the fast path's ``onnxruntime`` backend (in memory,
:mod:`gan_style.inference.fast`), with the one set of warning filters both need.

The filters are scoped to the export (``warnings.catch_warnings``): nothing is changed at import time or outside
:func:`quiet_export`.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import sys
import warnings
from collections.abc import Iterator
from typing import IO, Any

import torch
from torch import Tensor

from gan_style.errors import ExportError, GanStyleError
from gan_style.inference.stylizer import ExportModule

__all__ = ["QUIET_MESSAGES", "export_onnx", "quiet_export"]

#: Messages of the exporters (TorchScript tracing, the TorchScript-based ONNX exporter) that say nothing about the
#: model being exported, silenced during an export.
QUIET_MESSAGES: tuple[str, ...] = (
    r".*torch\.jit\.\w+.* is deprecated.*",  # TorchScript is deprecated (FutureWarning), still the format asked for
    r".*legacy TorchScript-based ONNX export.*",
    r".*torch\.onnx\.export.*",  # notices about the exporter's own API and defaults
    r"The feature will be removed.*",
    r"Constant folding - Only steps=1.*",
    r"ONNX export mode is set to TrainingMode\.EVAL, but operator 'instance_norm'.*",  # no running stats: correct
)


@contextlib.contextmanager
def quiet_export() -> Iterator[None]:
    """Silence the exporters' expected warnings inside the block: tracer warnings about shape checks inside torch
    (checking the exported graph at another input size is what proves it generalizes) and the messages of
    :data:`QUIET_MESSAGES`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        for pattern in QUIET_MESSAGES:
            warnings.filterwarnings("ignore", message=pattern)
        yield


def export_onnx(
    module: ExportModule,
    inputs: tuple[Tensor, ...],
    f: str | os.PathLike[str] | IO[bytes],
    opset: int = 17,
    dynamic: bool = True,
    dynamo: bool = False,
) -> None:
    """Export ``module`` (an :class:`~gan_style.inference.ExportModule` in eval mode) to ONNX, traced on ``inputs``.

    Inputs and outputs are named by ``module.input_names`` / ``output_names``; with ``dynamic``, the axes of
    ``module.dynamic_axes()`` (batch, height, width ...) stay free. Runs without gradients and under
    :func:`quiet_export`.

    Args:
        module: what to export.
        inputs: example inputs, one tensor per input name.
        f: a file path, or a binary buffer (``io.BytesIO``) for an in-memory model.
        opset: the ONNX opset (17).
        dynamic: free dynamic axes (True); False: fixed at the shapes of ``inputs``.
        dynamo: torch's dynamo (``torch.export``) exporter, which needs ``onnxscript`` (False: the TorchScript-based
            exporter); its progress messages go to stderr.

    Raises:
        ExportError: the export failed (the message names the exporter, the opset and the cause), or ``dynamo``
            with a torch that has no dynamo exporter.
    """
    names_in, names_out = list(module.input_names), list(module.output_names)
    axes = module.dynamic_axes() if dynamic else None
    kwargs: dict[str, Any] = {"input_names": names_in, "output_names": names_out, "opset_version": opset}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = dynamo
    elif dynamo:
        raise ExportError(f"torch {torch.__version__} has no dynamo ONNX exporter; leave dynamo false")
    if dynamo:
        kwargs["external_data"] = False  # one self-contained file
        kwargs["verbose"] = False
        if axes:
            kwargs["dynamic_shapes"] = tuple(axes[n] for n in names_in)
    else:
        kwargs["do_constant_folding"] = True
        if axes:
            kwargs["dynamic_axes"] = axes
    target = os.fspath(f) if isinstance(f, (str, os.PathLike)) else f
    try:
        with torch.no_grad(), quiet_export():
            if dynamo:  # the dynamo exporter reports progress on stdout
                with contextlib.redirect_stdout(sys.stderr):
                    torch.onnx.export(module, inputs, target, **kwargs)
            else:
                torch.onnx.export(module, inputs, target, **kwargs)
    except (GanStyleError, KeyboardInterrupt):
        raise
    except Exception as exc:
        raise ExportError(
            f"ONNX export ({'dynamo' if dynamo else 'TorchScript-based'} exporter, opset {opset}) failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
