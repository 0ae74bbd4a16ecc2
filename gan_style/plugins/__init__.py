"""Lightning plugins: atomic, safe checkpoint files and float16 mixed precision with one scaler per optimizer."""

from gan_style.plugins.checkpoint_io import AtomicCheckpointIO, NoRetryAfterWriteError
from gan_style.plugins.precision import PerOptimizerMixedPrecision

__all__ = ["AtomicCheckpointIO", "NoRetryAfterWriteError", "PerOptimizerMixedPrecision"]
