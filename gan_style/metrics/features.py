"""Feature networks for FID and KID: the TF-ported Inception-v3 and the identity of any feature network.

FID (Heusel et al. 2017) and KID (Binkowski et al. 2018) compare distributions of 2048-d pool features of
the Inception-v3 that TensorFlow's original FID code used (``inception-2015-12-05``). Its PyTorch port is
the network of pytorch-fid, torch-fidelity and torchmetrics' default ``FrechetInceptionDistance``;
:class:`InceptionFeatures` uses torchmetrics' wrapper of torch-fidelity's port, so the numbers are the ones
``torchmetrics.image.fid.FrechetInceptionDistance(feature=2048)`` gives on the same 8-bit images.

Weights: ``weights-inception-2015-12-05-6726825d.pth`` (95 MB, torch-fidelity's copy, the file torchmetrics
downloads), kept in the torch hub cache (``$TORCH_HOME/hub/checkpoints``, shared with torchmetrics and
torch-fidelity) and downloaded there on first use. pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``
has the same layout (torchvision ``Inception3`` parameter names, a 1008-class ``fc``, no ``AuxLogits``) and
can be given as a local file instead.

How images become the network's 299 x 299 input depends on the FID / KID protocol
(:mod:`gan_style.metrics.protocols`): ``gan-style`` (torchmetrics' antialiased bilinear resize, the default),
``legacy`` (pytorch-fid's) or ``clean`` (clean-fid's). The weights are the same for all three.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import Tensor, nn

from gan_style.errors import FileMissingError, UnreadableFileError
from gan_style.io.download import download_to_hub_cache, hub_cache_path
from gan_style.metrics.protocols import Protocol, check_protocol, inception_input, to_uint8
from gan_style.nets.reference import read_weights_file

__all__ = [
    "FID_INCEPTION_URL",
    "PYTORCH_FID_INCEPTION_URL",
    "InceptionFeatures",
    "feature_network_id",
    "fid_inception_path",
]

FID_INCEPTION_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
"""torch-fidelity's PyTorch port of TensorFlow's FID Inception-v3 (what torchmetrics' default FID downloads)."""

PYTORCH_FID_INCEPTION_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
"""pytorch-fid's port of the same network, same parameter names; usable as a local ``weights`` file."""


def fid_inception_path() -> Path:
    """Where the FID Inception-v3 weights live in the torch hub cache (``$TORCH_HOME/hub/checkpoints``)."""
    return hub_cache_path(FID_INCEPTION_URL)


def _download_fid_inception() -> Path:
    url = FID_INCEPTION_URL  # read at call time, so tests can point it elsewhere
    return download_to_hub_cache(
        url,
        f"the FID Inception-v3 weights ({os.path.basename(url)}, 95 MB)",
        "give a local copy with --feature_weights FILE (pytorch-fid's "
        f"{os.path.basename(PYTORCH_FID_INCEPTION_URL)} works too)",
    )


class InceptionFeatures(nn.Module):
    """Frozen FID Inception-v3 returning the 2048-d pool features (Szegedy et al. 2016; the TF FID graph).

    Input (N, 3, H, W) float RGB in [-1, 1] (values outside are clamped), any H and W. Output (N, 2048)
    float32. The images are converted as when they are saved: rounded to 8 bits per channel
    (``round((x + 1) * 127.5)``). Under the default ``gan-style`` protocol the network then resizes them to
    299 x 299 with antialiased bilinear interpolation (``F.interpolate(..., mode="bilinear",
    antialias=True)``, torchmetrics' default) and scales them with ``(x - 128) / 128`` as the TF graph does.
    So FID computed on generated tensors equals FID computed on the PNG files they are saved to.

    Comparability: under ``gan-style``, identical to torchmetrics' ``FrechetInceptionDistance(feature=2048)``
    on 8-bit images. pytorch-fid and the original TF code resize without antialiasing and clean-fid with
    Pillow's bicubic filter, so on images that are not 299 x 299 their FIDs differ (by up to a point or two);
    ``protocol="legacy"`` or ``"clean"`` resizes and scales the 8-bit images as pytorch-fid or clean-fid do
    (:func:`~gan_style.metrics.protocols.inception_input`) and runs them through the same layers up to the
    2048-d average pool, so the features equal those packages' features on the same files and weights.
    Their resize starts from the images' own size: feed images at the size they were saved at (not resized
    beforehand). ``clean`` resizes with Pillow on the CPU.

    The network is always in eval mode with ``requires_grad=False``; it needs the ``torch-fidelity`` package.

    Args:
        weights: ``"fid"`` (default): the torch hub cache file ``weights-inception-2015-12-05-6726825d.pth``,
            downloaded from :data:`FID_INCEPTION_URL` on first use; or a path to a local copy of it or of
            pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``. Files are checked with
            ``torch.load(weights_only=True)`` before torch-fidelity loads them.
        protocol: how images become the network input, one of
            :data:`~gan_style.metrics.protocols.FID_PROTOCOLS`: ``"gan-style"`` (default), ``"legacy"``
            (pytorch-fid), ``"clean"`` (clean-fid).

    Raises:
        MetricInputError: an unknown ``protocol`` (the message lists the choices).
        WeightsUnavailableError: ``"fid"`` weights neither cached nor downloadable (offline); the message
            names the file, its URL and where to put it.
        FileMissingError: a weights path that does not exist.
        UnsafeFileError / UnreadableFileError: a weights file that would run code, is corrupt, or does not
            fit the network (the message names it).
        ImportError: ``torch-fidelity`` is not installed.
    """

    num_features = 2048
    """Feature dimension (read by :class:`~gan_style.metrics.ImageMetrics` instead of a probe forward)."""

    _LAYERS = (
        "Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "MaxPool_1", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_2",
        "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e", "Mixed_7a",
        "Mixed_7b", "Mixed_7c", "AvgPool",
    )  # fmt: skip
    """The network's modules from its input to the 2048-d average pool, in order."""

    def __init__(self, weights: str | os.PathLike = "fid", protocol: Protocol = "gan-style") -> None:
        super().__init__()
        self.protocol = check_protocol(protocol)
        try:
            from torchmetrics.image.fid import NoTrainInceptionV3
            from torchmetrics.utilities.imports import _TORCH_FIDELITY_AVAILABLE
        except ImportError:  # pragma: no cover - torchmetrics is a dependency
            _TORCH_FIDELITY_AVAILABLE = False
        if not _TORCH_FIDELITY_AVAILABLE:
            raise ImportError(
                "the FID Inception-v3 needs the torch-fidelity package: pip install torch-fidelity "
                "(or inject another feature network)"
            )
        if os.fspath(weights) == "fid":
            path = _download_fid_inception()
        else:
            path = Path(weights)
            if not path.is_file():
                raise FileMissingError(f"Inception-v3 weights file '{path}' does not exist")
        read_weights_file(path)  # refuses pickles that would run code; torch-fidelity reads with weights_only=False
        try:
            self.net = NoTrainInceptionV3(
                name="inception-v3-compat",
                features_list=[str(self.num_features)],
                feature_extractor_weights_path=str(path),
                antialias=True,
            )
        except RuntimeError as exc:  # load_state_dict: missing / unexpected keys, shape mismatches
            first = str(exc).strip().splitlines()
            raise UnreadableFileError(
                f"weights file '{path}' does not fit the FID Inception-v3 (torchvision Inception3 parameter "
                f"names, 1008-class fc, no AuxLogits): {' '.join(first[:3])[:400]}. Use "
                f"{os.path.basename(FID_INCEPTION_URL)} or {os.path.basename(PYTORCH_FID_INCEPTION_URL)}"
            ) from None
        self.weights_path = str(path)
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> InceptionFeatures:
        """Stays in eval mode: the extractor is frozen."""
        return super().train(False)

    def forward(self, images: Tensor) -> Tensor:
        """(N, 3, H, W) in [-1, 1] -> (N, 2048) float32 features."""
        if images.ndim != 4 or images.shape[1] != 3:
            raise ValueError(f"expected images of shape (N, 3, H, W), got {tuple(images.shape)}")
        x = to_uint8(images)
        if self.protocol == "gan-style":
            return self.net(x).float()
        x = inception_input(x, self.protocol)  # type: ignore[arg-type]
        for name in self._LAYERS:
            x = getattr(self.net, name)(x)
        return torch.flatten(x, 1).float()

    def extra_repr(self) -> str:
        if self.protocol == "gan-style":
            return "input=[-1,1] -> uint8, resize=bilinear-antialias-299, features=2048"
        resize = {"legacy": "bilinear-299 (pytorch-fid)", "clean": "pil-bicubic-299 (clean-fid)"}[self.protocol]
        return f"input=[-1,1] -> uint8, protocol={self.protocol}, resize={resize}, features=2048"


def feature_network_id(network: nn.Module) -> str:
    """A string that changes when ``network`` computes different features: its ``cache_id`` attribute when
    it has one, else a SHA-256 of its class, its ``repr`` and every tensor of its ``state_dict``.

    Keys the cached reference statistics (:func:`~gan_style.metrics.reference_statistics`). Give a feature
    network without parameters, whose behaviour depends on something else, a ``cache_id`` attribute.
    """
    explicit = getattr(network, "cache_id", None)
    if explicit:
        return str(explicit)
    digest = hashlib.sha256()
    digest.update(f"{type(network).__module__}.{type(network).__qualname__}\n{network!r}".encode())
    for name, value in sorted(network.state_dict().items()):
        if isinstance(value, Tensor):
            digest.update(f"{name}:{value.dtype}:{tuple(value.shape)}".encode())
            digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return f"{type(network).__qualname__}-{digest.hexdigest()[:32]}"
