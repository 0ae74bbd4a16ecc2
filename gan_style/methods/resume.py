"""Where a checkpoint sits in training, told from Lightning's saved loop progress, and one form per position
that Lightning resumes from exactly.

Lightning saves its fit loop's counters as they are at the moment of saving. A checkpoint written inside an
epoch (``on_train_batch_end``, including the last batch, or after the epoch's validation) resumes exactly.
A checkpoint written after the epoch's training ended (``on_train_epoch_end``, the end of a run, an
exception after the epoch's validation) does not: Lightning 2.x replays the finished epoch as an empty one,
counting one epoch too many and giving the data sampler the wrong epoch, and a run stopped by ``max_steps``
in the middle of an epoch is saved as if that epoch had finished. :func:`normalize_fit_loop_state` rewrites
those states, before Lightning restores them, into the form of the same position that resumes exactly.
"""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["TrainingPosition", "normalize_fit_loop_state"]

TrainingPosition = Literal["inside_epoch", "epoch_start", "mid_epoch", "unknown"]
"""What :func:`normalize_fit_loop_state` found: ``inside_epoch`` (kept as saved), ``epoch_start`` (an epoch
had ended, with its validation and end hooks: training continues with the next epoch's first batch),
``mid_epoch`` (a run stopped by ``max_steps`` inside an epoch: training continues with that epoch's next
batch), ``unknown`` (no fit loop state, or one of another form: kept as saved)."""

_FIELDS = ("ready", "started", "processed", "completed")


def _counters(progress: dict[str, Any]) -> dict[str, int] | None:
    counters = progress.get("current") if isinstance(progress, dict) else None
    if not isinstance(counters, dict) or not all(isinstance(counters.get(f), int) for f in _FIELDS):
        return None
    return counters


def normalize_fit_loop_state(checkpoint: dict[str, Any]) -> TrainingPosition:
    """Rewrite ``checkpoint["loops"]["fit_loop"]`` (in place) into the form of the same training position that
    Lightning resumes from exactly; return the position found.

    Positions, from the epoch counters (ready, started, processed, completed) and the batch counters of the
    current epoch:

    - processed < started: the checkpoint was written inside an epoch (after a batch, including the last, or
      after the epoch's validation). Lightning resumes these exactly: kept as saved;
    - processed == started, last batch reached: the epoch's training, validation and end hooks ran (saved in
      ``on_train_epoch_end``, at the end of the run, or on an exception after the validation). Rewritten to
      "n epochs done, none started": epoch counters all n, batch counters of the current epoch 0;
    - processed == started, last batch not reached: the run stopped at ``max_steps`` after k batches of epoch
      n - 1 and its epoch counters were advanced anyway. Rewritten to the form Lightning saves after batch k
      of epoch n - 1 (``on_train_batch_end``).

    Args:
        checkpoint: a Lightning checkpoint dict; one without ``loops`` is left alone.

    Returns:
        The :data:`TrainingPosition` found.
    """
    fit = checkpoint.get("loops", {}).get("fit_loop") if isinstance(checkpoint.get("loops"), dict) else None
    if not isinstance(fit, dict):
        return "unknown"
    epochs = fit.get("epoch_progress")
    batches = fit.get("epoch_loop.batch_progress")
    epoch_now, batch_now = _counters(epochs), _counters(batches)
    if epoch_now is None or batch_now is None or not _counters({"current": epochs.get("total")}):
        return "unknown"
    if epoch_now["processed"] < epoch_now["started"]:
        return "inside_epoch"
    if epoch_now["processed"] != epoch_now["started"] or epoch_now["started"] != epoch_now["ready"]:
        return "unknown"
    if batches.get("is_last_batch") or batch_now["processed"] == 0:
        for counters in (epochs["current"], epochs["total"]):
            counters["completed"] = counters["processed"]
        for field in _FIELDS:
            batch_now[field] = 0
        batches["is_last_batch"] = False
        return "epoch_start"
    if epoch_now["processed"] < 1 or batch_now["completed"] < 1:
        return "unknown"
    for counters in (epochs["current"], epochs["total"]):
        counters["processed"] -= 1
        counters["completed"] = counters["processed"]
    batch_total = _counters({"current": batches.get("total")})
    for counters in (batch_now, batch_total):
        if counters is not None:
            counters["completed"] = counters["processed"] - 1
    return "mid_epoch"
