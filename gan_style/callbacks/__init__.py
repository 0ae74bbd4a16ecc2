"""Callbacks: sample image grids, prediction files, evaluation metrics, the run summary, stale-file cleanup, alarms
for silent training failures."""

from gan_style.callbacks.alarms import SilentFailureAlarms, SilentFailureWarning
from gan_style.callbacks.cleanup import StaleFileCleanup
from gan_style.callbacks.images import ImageWriter, SampleGrid, image_grid
from gan_style.callbacks.learning_rate import LearningRateMonitor
from gan_style.callbacks.metrics import EvaluationMetrics
from gan_style.callbacks.performance import Performance
from gan_style.callbacks.progress import RunModelSummary, RunProgressBar
from gan_style.callbacks.summary import RunSummary, read_run_summary

__all__ = [
    "EvaluationMetrics",
    "LearningRateMonitor",
    "Performance",
    "RunModelSummary",
    "RunProgressBar",
    "SampleGrid",
    "SilentFailureAlarms",
    "SilentFailureWarning",
    "StaleFileCleanup",
    "ImageWriter",
    "RunSummary",
    "image_grid",
    "read_run_summary",
]
