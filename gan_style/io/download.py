"""Downloads of published files: weights kept once in the torch hub cache."""

from __future__ import annotations

import os
from pathlib import Path

import torch

from gan_style.errors import WeightsUnavailableError

__all__ = ["download_to_hub_cache", "hub_cache_path"]


def hub_cache_path(url: str) -> Path:
    """Where the file at ``url`` is kept in the torch hub cache: ``$TORCH_HOME/hub/checkpoints/<file name>``
    (the folder torchvision and torchmetrics use, so a file they downloaded is found here too)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)


def download_to_hub_cache(url: str, what: str, otherwise: str) -> Path:
    """The hub-cache copy of ``url`` (:func:`hub_cache_path`), downloaded with a progress bar when missing.

    The download goes to a temporary file beside the target, renamed when complete (``torch.hub``), so an
    interrupted download leaves no partial file.

    Args:
        url: the published file.
        what: how the error names the file, e.g. ``"the ImageNet VGG-19 weights (vgg19-dcbb9e9d.pth, 548 MB)"``.
        otherwise: the other way to supply the file, appended to the error (a setting naming a local copy).

    Raises:
        WeightsUnavailableError: the file is not cached and could not be downloaded (offline, HTTP error, a
            full disk); the message names the URL, the cache path and ``otherwise``.
    """
    path = hub_cache_path(url)
    if not path.is_file():
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            torch.hub.download_url_to_file(url, str(path), progress=True)
        except Exception as exc:  # URLError, timeouts, HTTP errors, a full disk
            raise WeightsUnavailableError(
                f"{what} are not in the torch hub cache and could not be downloaded from {url} "
                f"({type(exc).__name__}: {exc}). Download that file on a machine with internet access and copy "
                f"it to {path} (the cache folder follows $TORCH_HOME), or {otherwise}"
            ) from None
    return path
