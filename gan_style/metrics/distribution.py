"""FID and KID as torchmetrics metrics on precomputed features.

:class:`~gan_style.metrics.ImageMetrics` runs the feature network once per batch and hands the (N, D)
features to both metrics, so the Inception is not run twice. The math, the states and their reduction
across processes are torchmetrics' own (``FrechetInceptionDistance``, ``KernelInceptionDistance``); these
subclasses only take features instead of images, raise clear errors when there are too few samples,
(KID) shrink the subset size to the number of samples, and own the public methods that fix their reference
side to precomputed statistics (:meth:`FrechetDistance.set_reference_statistics`,
:meth:`KernelDistance.set_reference_features`, ``clear_reference``), so no caller writes their states.
"""

from __future__ import annotations

import warnings
from typing import Literal

import torch
from torch import Tensor, nn
from torchmetrics.image.fid import FrechetInceptionDistance
from torchmetrics.image.kid import KernelInceptionDistance
from torchmetrics.utilities.data import dim_zero_cat

from gan_style.errors import MetricInputError
from gan_style.metrics.protocols import frechet_distance_sqrtm

__all__ = ["FrechetDistance", "KernelDistance", "MetricInputError"]


class _Precomputed(nn.Module):
    """Identity "feature network": the metric receives features already computed."""

    def __init__(self, num_features: int) -> None:
        super().__init__()
        self.num_features = int(num_features)

    def forward(self, features: Tensor) -> Tensor:
        if features.ndim != 2 or features.shape[1] != self.num_features:
            raise ValueError(f"expected features of shape (N, {self.num_features}), got {tuple(features.shape)}")
        return features


class FrechetDistance(FrechetInceptionDistance):
    """Fréchet distance between the Gaussians fitted to two feature sets (FID; Heusel et al. 2017, "GANs
    Trained by a Two Time-Scale Update Rule Converge to a Local Nash Equilibrium").

    FID = ||mu_r - mu_g||^2 + Tr(S_r + S_g - 2 (S_r S_g)^(1/2)), with means and (N - 1)-normalised
    covariances accumulated in float64 as sums (states ``real_features_sum``, ``real_features_cov_sum``,
    ``real_features_num_samples`` and the ``fake_`` ones, summed across processes).

    ``update(features, real)`` takes (N, num_features) features. Lower is better; 0 for identical sets.
    FID is biased upwards for small sets: compare values computed on the same number of images (published
    numbers use 10k-50k). :meth:`set_reference_statistics` replaces the reference side with precomputed
    sums (kept across ``reset``) and :meth:`clear_reference` undoes it. After ``compute``,
    :attr:`last_num_samples` holds the counts it used (summed across processes).

    Args:
        num_features: D, the feature dimension.
        sqrt_method: how Tr((S_r S_g)^(1/2)) is computed: ``"eigenvalues"`` (default; torchmetrics: the sum of
            the square roots of the eigenvalues of S_r S_g, in float64 on the metric's device) or
            ``"sqrtm"`` (``scipy.linalg.sqrtm`` in float64 on the CPU, as pytorch-fid and clean-fid:
            :func:`~gan_style.metrics.protocols.frechet_distance_sqrtm`). Both compute the same quantity;
            they differ by rounding, most where the covariances are singular (fewer images than D).
        **kwargs: torchmetrics ``Metric`` options (``sync_on_compute`` ...).

    Raises:
        MetricInputError: an unknown ``sqrt_method``; at ``compute``: fewer than 2 reference or 2 generated
            samples, or (``sqrtm``) a square root with a large imaginary part.
    """

    def __init__(
        self, num_features: int, sqrt_method: Literal["eigenvalues", "sqrtm"] = "eigenvalues", **kwargs
    ) -> None:
        if sqrt_method not in ("eigenvalues", "sqrtm"):
            raise MetricInputError(f"unknown FID sqrt_method {sqrt_method!r}; choose from eigenvalues, sqrtm")
        super().__init__(feature=_Precomputed(num_features), **kwargs)
        self.num_features = int(num_features)
        self.sqrt_method = sqrt_method
        self.last_num_samples: dict[str, int] | None = None
        """``{"generated": N_g, "reference": N_r}`` of the last ``compute`` (None before it)."""

    def set_reference_statistics(self, features_sum: Tensor, features_cov_sum: Tensor, num_samples: int) -> None:
        """Make the reference ("real") side these precomputed statistics instead of reference batches.

        The states ``real_features_sum``, ``real_features_cov_sum`` and ``real_features_num_samples`` are
        replaced (float64 sums and an int64 count, on this metric's device) and ``reset`` keeps them from
        now on, until :meth:`clear_reference`; the generated side is left as it is. Under DDP the states are
        summed across processes at ``compute``, so give the statistics to one process and zeros
        (``num_samples=0``) to the others.

        Args:
            features_sum: (D,) sum of the N reference feature vectors, D = ``num_features``; any float dtype
                and device.
            features_cov_sum: (D, D) sum of their outer products (``F^T F`` of the (N, D) features), what
                :meth:`update` accumulates.
            num_samples: N, at least 0 (0 with zero sums holds nothing).

        Raises:
            MetricInputError: a sum of another shape than (D,) / (D, D), or a negative ``num_samples``.
        """
        d = self.num_features
        if tuple(features_sum.shape) != (d,) or tuple(features_cov_sum.shape) != (d, d):
            raise MetricInputError(
                f"FID reference statistics must be a ({d},) sum and a ({d}, {d}) sum of outer products, got "
                f"{tuple(features_sum.shape)} and {tuple(features_cov_sum.shape)}"
            )
        if int(num_samples) < 0:
            raise MetricInputError(f"the number of reference samples cannot be negative, got {num_samples}")
        device = self.device
        self.real_features_sum = features_sum.detach().to(device, torch.float64)
        self.real_features_cov_sum = features_cov_sum.detach().to(device, torch.float64)
        self.real_features_num_samples = torch.tensor(int(num_samples), device=device)
        self.reset_real_features = False

    def clear_reference(self) -> None:
        """Forget the statistics of :meth:`set_reference_statistics`: ``reset`` clears the reference side
        again, and every state (reference and generated) is reset now. A no-op beyond the reset when none
        were set."""
        self.reset_real_features = True
        self.reset()

    def compute(self) -> Tensor:
        real, fake = int(self.real_features_num_samples), int(self.fake_features_num_samples)
        if real < 2 or fake < 2:
            raise MetricInputError(
                f"FID needs at least 2 reference and 2 generated images, got {real} reference and {fake} generated"
            )
        self.last_num_samples = {"generated": fake, "reference": real}
        if self.sqrt_method == "eigenvalues":
            return super().compute()
        statistics = []
        for total, outer, n in (
            (self.real_features_sum, self.real_features_cov_sum, real),
            (self.fake_features_sum, self.fake_features_cov_sum, fake),
        ):
            mean = total.double() / n
            cov = (outer.double() - n * torch.outer(mean, mean)) / (n - 1)
            statistics += [mean.cpu().numpy(), cov.cpu().numpy()]
        value = frechet_distance_sqrtm(*statistics)
        return torch.tensor(value, dtype=torch.float64, device=self.device)


class KernelDistance(KernelInceptionDistance):
    """Squared MMD with the polynomial kernel k(x, y) = (x.y / D + 1)^3 between two feature sets, averaged
    over random subsets (KID; Binkowski et al. 2018, "Demystifying MMD GANs").

    Each of ``subsets`` draws ``subset_size`` reference and generated samples without replacement and
    computes the unbiased MMD^2 estimate; ``compute`` returns (mean, std over subsets). When fewer samples
    than ``subset_size`` exist on either side, the subset size shrinks to the smaller count with a warning
    (then every subset is the whole set, and the std is 0). Subsets come from torch's global random
    generator: seed it for reproducible values. Unlike FID, KID is unbiased, so values from different
    numbers of images are comparable.

    States ``real_features`` / ``fake_features`` keep every feature vector and are concatenated across
    processes (``"cat"``, so processes may hold different numbers of batches). :meth:`set_reference_features`
    replaces the reference side with precomputed features (kept across ``reset``) and :meth:`clear_reference`
    undoes it. After ``compute``, :attr:`last_num_samples` holds the counts it used and the subset size
    it drew (all processes together).

    Raises (at ``compute``):
        MetricInputError: fewer than 2 reference or 2 generated samples.
    """

    def __init__(self, num_features: int, subsets: int = 100, subset_size: int = 1000, **kwargs) -> None:
        with warnings.catch_warnings():  # "will save all extracted features in buffer": documented above
            warnings.filterwarnings("ignore", message=".*save all extracted features.*")
            super().__init__(feature=_Precomputed(num_features), subsets=subsets, subset_size=subset_size, **kwargs)
        self.num_features = int(num_features)
        self.last_num_samples: dict[str, int] | None = None
        """``{"generated": N_g, "reference": N_r, "subset_size": m}`` of the last ``compute`` (None before it)."""
        # one concatenated tensor per process instead of a list gathered element by element
        self.add_state("real_features", [], dist_reduce_fx="cat")
        self.add_state("fake_features", [], dist_reduce_fx="cat")

    def set_reference_features(self, features: Tensor) -> None:
        """Make the reference ("real") side these precomputed feature vectors instead of reference batches.

        The state ``real_features`` is replaced by them (float32, on this metric's device) and ``reset``
        keeps it from now on, until :meth:`clear_reference`; the generated side is left as it is. Under DDP
        the state is concatenated across processes at ``compute``, so give the features to one process and
        an empty (0, D) tensor to the others.

        Args:
            features: (M, D) reference features, M >= 0, D = ``num_features``; any float dtype and device.

        Raises:
            MetricInputError: ``features`` is not of shape (M, D).
        """
        if features.ndim != 2 or features.shape[1] != self.num_features:
            raise MetricInputError(
                f"KID reference features must be of shape (M, {self.num_features}), got {tuple(features.shape)}"
            )
        self.real_features = [features.detach().to(self.device, torch.float32)]
        self.reset_real_features = False

    def clear_reference(self) -> None:
        """Forget the features of :meth:`set_reference_features`: ``reset`` clears the reference side again,
        and every state (reference and generated) is reset now. A no-op beyond the reset when none were
        set."""
        self.reset_real_features = True
        self.reset()

    def compute(self) -> tuple[Tensor, Tensor]:
        empty = torch.zeros(0, self.num_features, device=self.device)
        real = dim_zero_cat(self.real_features) if len(self.real_features) else empty
        fake = dim_zero_cat(self.fake_features) if len(self.fake_features) else empty
        n = min(real.shape[0], fake.shape[0])
        if n < 2:
            raise MetricInputError(
                f"KID needs at least 2 reference and 2 generated images, got {real.shape[0]} reference and "
                f"{fake.shape[0]} generated"
            )
        requested = self.subset_size
        if n < requested:
            warnings.warn(
                f"KID subset size {requested} is larger than the {real.shape[0]} reference / {fake.shape[0]} "
                f"generated images; using subsets of {n}",
                UserWarning,
                stacklevel=2,
            )
        self.subset_size = min(requested, n)
        self.last_num_samples = {
            "generated": fake.shape[0],
            "reference": real.shape[0],
            "subset_size": self.subset_size,
        }
        try:
            return super().compute()
        finally:
            self.subset_size = requested
