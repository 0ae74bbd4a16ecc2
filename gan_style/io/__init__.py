"""File chores shared by every part of gan-style, one module per chore: :mod:`~gan_style.io.atomic` (atomic
writes), :mod:`~gan_style.io.untrusted` (reading outside files safely), :mod:`~gan_style.io.download`
(published weights in the torch hub cache; resumable, verified downloads), :mod:`~gan_style.io.archive`
(safe extraction of zip and tar archives)."""

from gan_style.io.archive import extract_archive
from gan_style.io.atomic import atomic_torch_save, atomic_write
from gan_style.io.download import download_file, download_to_hub_cache, file_sha256, hub_cache_path
from gan_style.io.untrusted import is_local, safe_load

__all__ = [
    "atomic_torch_save",
    "atomic_write",
    "download_file",
    "download_to_hub_cache",
    "extract_archive",
    "file_sha256",
    "hub_cache_path",
    "is_local",
    "safe_load",
]
