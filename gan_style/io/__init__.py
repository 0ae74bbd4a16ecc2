"""File chores shared by every part of gan-style, one module per chore: :mod:`~gan_style.io.atomic` (atomic
writes), :mod:`~gan_style.io.untrusted` (reading outside files safely), :mod:`~gan_style.io.download`
(published weights in the torch hub cache)."""

from gan_style.io.atomic import atomic_torch_save, atomic_write
from gan_style.io.download import download_to_hub_cache, hub_cache_path
from gan_style.io.untrusted import is_local, safe_load

__all__ = ["atomic_torch_save", "atomic_write", "download_to_hub_cache", "hub_cache_path", "is_local", "safe_load"]
