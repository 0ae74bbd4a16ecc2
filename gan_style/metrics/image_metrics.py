"""One object for the image-quality metrics a validation or test loop needs: FID, KID, LPIPS, ArtFID, PSNR,
SSIM, built on torchmetrics so every value is reduced across processes by torchmetrics' state sync."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchmetrics import Metric
from torchmetrics.aggregation import MeanMetric

from gan_style.metrics.distribution import FrechetDistance, KernelDistance, MetricInputError
from gan_style.metrics.features import InceptionFeatures
from gan_style.metrics.lpips import LPIPS_NETS, create_lpips_network
from gan_style.metrics.paired import PerImagePSNR, PerImageSSIM
from gan_style.metrics.protocols import INCEPTION_SIZE, Protocol, check_protocol
from gan_style.metrics.reference import ReferenceStatistics, _is_rank_zero, reference_statistics

__all__ = ["METRIC_NAMES", "ImageMetrics", "art_fid"]

METRIC_NAMES = ("fid", "kid", "lpips", "lpips_diversity", "pixel_diversity", "artfid", "psnr", "ssim")
"""Names :class:`ImageMetrics` computes (``kid`` also reports ``kid_std``)."""


def art_fid(lpips_content: float, fid_style: float) -> float:
    """ArtFID = (1 + LPIPS(stylized, content)) * (1 + FID(stylized, style)) (Wright & Ommer 2022,
    "ArtFID: Quantitative Evaluation of Neural Style Transfer", Eq. 1). Lower is better; 1 is the minimum."""
    return (1.0 + float(lpips_content)) * (1.0 + float(fid_style))


def _check_images(x: Tensor, name: str) -> Tensor:
    if not isinstance(x, Tensor) or x.ndim != 4 or x.shape[1] < 1:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a float tensor of shape (N, C, H, W) in [-1, 1], got {shape}")
    return x


def _mapping_rule(count: int, bands: list[int]) -> str:
    if bands[0] == bands[1] == bands[2]:
        return "gray repeated" if count < 3 and bands[0] == 0 else f"band {bands[0]} as gray"
    if count == 3 and bands == [0, 1, 2]:
        return "RGB as it is"
    return f"bands {bands[0]}, {bands[1]}, {bands[2]} as R, G, B"


class ImageMetrics(nn.Module):
    """FID, KID, LPIPS, LPIPS and pixel diversity, ArtFID, PSNR and SSIM over a stream of image batches.

    All images are float tensors (N, C, H, W) in [-1, 1] (the project's convention; values outside are
    clamped), C = 3 for RGB; 1-band and N-band data are taken as they are (below). Each metric is a torchmetrics object whose states are summed or concatenated across
    processes when :meth:`compute` runs, so under DDP every process feeds its own shard and all processes
    call :meth:`compute` (it is a collective operation) and get the same values. Never average the values
    yourself.

    ===================  =========================================================================  ======
    name                 what                                                                       better
    ===================  =========================================================================  ======
    ``fid``              Fréchet Inception Distance, generated vs reference (Heusel et al. 2017)    lower
    ``kid``              Kernel Inception Distance, mean over subsets (Binkowski et al. 2018);      lower
                         ``kid_std`` is its standard deviation over the subsets
    ``lpips``            mean LPIPS(generated_i, content_i), the content distance                   lower
                         (Zhang et al. 2018)
    ``lpips_diversity``  mean LPIPS over all pairs of outputs made from the same input              higher
    ``pixel_diversity``  mean over all pairs of outputs made from the same input of their mean      higher
                         absolute difference per pixel and band on [0, 1] images (0: identical
                         outputs; 1: black against white everywhere)
    ``artfid``           (1 + lpips) * (1 + fid) with the reference set = style images              lower
                         (Wright & Ommer 2022)
    ``psnr``             mean over images of the per-image PSNR (dB), 10 log10(1 / MSE_i) on [0, 1]  higher
                         images, generated vs paired reference (:class:`PerImagePSNR`)
    ``ssim``             mean over images of the per-image SSIM (Wang et al. 2004; Gaussian window   higher
                         11, sigma 1.5) on [0, 1] images, paired (:class:`PerImageSSIM`)
    ===================  =========================================================================  ======

    Feeding data: :meth:`update` takes whatever a batch has; the specific methods feed one group of
    metrics each. A metric that was asked for but got no data raises at :meth:`compute`.

    - FID / KID: generated images against reference images (:meth:`update_distribution`), or against
      reference statistics computed once per dataset and cached on disk (:meth:`load_reference`,
      :meth:`set_reference`); these stay across :meth:`reset`.
    - PSNR / SSIM: generated images against their paired reference (same shape; :meth:`update_paired`),
      rescaled to [0, 1] and computed with data range 1 by :class:`~gan_style.metrics.PerImagePSNR` and
      :class:`~gan_style.metrics.PerImageSSIM` -- the same metric classes, hence the same numbers, as the
      ``psnr`` / ``ssim`` that Pix2Pix logs itself.
    - LPIPS and ArtFID's content term: generated images against the content images they were made from
      (:meth:`update_content`); a content batch of another size is resized to the generated size.
    - LPIPS and pixel diversity: groups of outputs of the same input (:meth:`update_diversity`); a
      deterministic method's groups give 0. Diversity in the sense of MUNIT (Huang et al. 2018) and
      BicycleGAN (Zhu et al. 2017), which report the LPIPS form.

    Data that is not 8-bit RGB (1-band, N-band, 16-bit or float data scaled to [-1, 1] by a
    :class:`~gan_style.io.imagery.Scaling`):

    - PSNR, SSIM and pixel diversity use every band. Their [0, 1] is the data's true range: the scaling's
      ``low``..``high`` of each band (for 16-bit data over its type, 0..65535), so PSNR is
      ``10 log10(R^2 / MSE)`` in the data's units with peak R = high - low, and SSIM's constants are
      K1 R and K2 R; :func:`gan_style.commands.evaluate.evaluate` records the scaling beside the values.
    - FID, KID and LPIPS run 3-channel networks; ``display_bands`` declares how the bands become their 3
      channels, the same rule as the display mapping (:func:`gan_style.io.imagery.display_band_indices`):
      1 band is repeated as gray, 3 are taken as RGB, 4 or more through the first three, or a chosen band
      (as gray) or band triple. :meth:`record` names the mapping used for each band count fed.

    Use in a LightningModule (the values are already reduced across processes)::

        self.val_metrics = ImageMetrics(metrics=("fid", "kid"), max_samples=2000)  # in __init__ or setup

        def validation_step(self, batch, batch_idx):
            self.val_metrics.update(self.generator_ab(batch["A"]), reference=batch["B"])

        def on_validation_epoch_end(self):
            values = self.val_metrics.compute()
            self.log_dict({f"val/{k}": v for k, v in values.items()}, rank_zero_only=True)
            self.val_metrics.reset()

    FID / KID protocol (``protocol``; :mod:`gan_style.metrics.protocols`): ``gan-style`` (default) resizes
    with torchmetrics' antialiased bilinear interpolation; ``legacy`` gives pytorch-fid's values (the
    convention of most published image-to-image translation FIDs) and ``clean`` clean-fid's, from the same
    Inception weights. Under those two, feed images at the size they were saved at: the protocol's own
    resize to 299 must be the only one (:attr:`input_size` is None, and reference folders are loaded at
    their own size). :meth:`record` tells, after :meth:`compute`, the protocol and the numbers of images
    behind FID and KID, for a results file::

        metrics = ImageMetrics(("fid", "kid"), protocol="legacy")
        metrics.load_reference("datasets/horse2zebra/testB", size=metrics.input_size)
        ...
        values, record = metrics.compute(), metrics.record()
        # {"fid": ..., "kid": ..., "kid_std": ...}, {"protocol": "legacy", "fid_samples": {...}, ...}

    The pretrained networks (Inception, LPIPS backbone; :attr:`feature_network`, :attr:`lpips_network`) are
    not registered submodules: they move with ``.to(device)`` but stay frozen, in eval mode and float32, and
    are left out of ``state_dict`` (checkpoints stay small), parameter lists, DDP and model summaries.

    Args:
        metrics: names from :data:`METRIC_NAMES`. ``artfid`` also computes ``fid`` and ``lpips`` (and
            reports them).
        feature_network: the FID/KID feature extractor: any module mapping (N, 3, H, W) images in [-1, 1]
            to (N, D) features. Default: :class:`~gan_style.metrics.InceptionFeatures` (the standard FID
            Inception-v3, 2048-d; weights from the torch hub cache, downloaded on first use). Its
            ``num_features`` attribute (or ``num_features`` below) gives D; otherwise one probe forward of a
            (1, 3, 299, 299) zero image finds it. A network with a ``protocol`` attribute (an
            :class:`~gan_style.metrics.InceptionFeatures`) must follow ``protocol``; other networks go with
            ``gan-style`` only.
        feature_weights: weights of the default Inception: ``"fid"`` (hub cache) or a local file.
        protocol: FID / KID protocol, one of :data:`~gan_style.metrics.protocols.FID_PROTOCOLS`:
            ``"gan-style"`` (default; torchmetrics' FID), ``"legacy"`` (pytorch-fid) or ``"clean"``
            (clean-fid). Sets the default Inception's resize and, for ``legacy`` / ``clean``, computes FID's
            matrix square root with ``scipy.linalg.sqrtm`` as those packages do.
        num_features: D, when ``feature_network`` has no ``num_features`` attribute.
        lpips_net: LPIPS backbone, ``alex`` (default; the LPIPS paper's and ArtFID's choice), ``vgg`` or
            ``squeeze``.
        max_samples: at most this many images per input stream (generated, reference, paired, content
            pairs, diversity groups) enter the metrics per process until :meth:`reset`; later ones are
            ignored (None: no limit). With N processes up to N * max_samples images count.
        kid_subset_size: images per KID subset (1000, the KID paper's choice; shrunk with a warning to
            the number of images when there are fewer).
        kid_subsets: number of KID subsets (100).
        display_bands: how C-band images become the 3 channels of the Inception and LPIPS networks: None
            (default: 1 or 2 bands as gray repeated, 3 as they are, 4 or more the first three), one band number
            (that band as gray) or three (R, G, B), from 0. As in sample grids, images that lack a chosen band
            (a gray input beside 4-band outputs) take the default rule; :meth:`record` tells which bands each
            band count got. PSNR, SSIM and pixel diversity use all bands.

    Raises:
        MetricInputError: an unknown metric name or protocol (the message lists the choices), a
            ``feature_network`` that does not follow ``protocol``, or other bad settings.
        WeightsUnavailableError: default Inception or LPIPS weights not cached and not downloadable.
    """

    def __init__(
        self,
        metrics: Sequence[str] = ("fid", "kid"),
        feature_network: nn.Module | None = None,
        feature_weights: str | os.PathLike = "fid",
        num_features: int | None = None,
        lpips_net: Literal["alex", "vgg", "squeeze"] = "alex",
        max_samples: int | None = None,
        kid_subset_size: int = 1000,
        kid_subsets: int = 100,
        protocol: Protocol = "gan-style",
        display_bands: int | Sequence[int] | None = None,
    ) -> None:
        super().__init__()
        if display_bands is not None:  # the form; the band numbers are checked against each batch's bands
            chosen = [display_bands] if isinstance(display_bands, int) else display_bands
            if (
                isinstance(chosen, (str, bytes))
                or not isinstance(chosen, Sequence)
                or len(chosen) not in (1, 3)
                or not all(isinstance(b, int) and not isinstance(b, bool) and b >= 0 for b in chosen)
            ):
                raise MetricInputError(
                    f"display_bands must be one band number or three (R, G, B), from 0; got {display_bands!r}"
                )
            display_bands = display_bands if isinstance(display_bands, int) else tuple(display_bands)
        self.display_bands = display_bands
        self._band_mappings: dict[int, list[int]] = {}
        self.protocol = check_protocol(protocol)
        names = [metrics] if isinstance(metrics, str) else list(metrics)
        unknown = [m for m in names if m not in METRIC_NAMES]
        if unknown or not names:
            raise MetricInputError(
                f"unknown metric name(s) {unknown or '(none given)'}; choose from {', '.join(METRIC_NAMES)}"
            )
        if lpips_net not in LPIPS_NETS:
            raise MetricInputError(f"unknown LPIPS network {lpips_net!r}; choose from {', '.join(LPIPS_NETS)}")
        if max_samples is not None and max_samples < 1:
            raise MetricInputError(f"max_samples must be a positive number or None, got {max_samples}")
        if kid_subset_size < 2 or kid_subsets < 1:
            raise MetricInputError(
                f"kid_subset_size must be at least 2 and kid_subsets at least 1, got {kid_subset_size}, {kid_subsets}"
            )
        self.metrics = tuple(dict.fromkeys(names))
        needed = set(self.metrics)
        if "artfid" in needed:
            needed |= {"fid", "lpips"}
        self.max_samples = max_samples
        self.lpips_net_name = lpips_net
        self.register_buffer("_device_marker", torch.zeros(0), persistent=False)

        # the pretrained networks are not registered as submodules: they never train, never enter
        # state_dict (checkpoints), optimizers, DDP/FSDP wrapping or model summaries; _apply moves them
        self._frozen: dict[str, nn.Module] = {}
        self.fid: FrechetDistance | None = None
        self.kid: KernelDistance | None = None
        if needed & {"fid", "kid"}:
            if feature_network is None:
                network = InceptionFeatures(feature_weights, protocol=self.protocol)
            elif getattr(feature_network, "protocol", "gan-style") != self.protocol:
                given = getattr(feature_network, "protocol", None)
                given = f"one of protocol {given!r}" if given else "a custom network"
                raise MetricInputError(
                    f"protocol {self.protocol!r} needs the FID Inception-v3 of that protocol, but feature_network is "
                    f"{given}; leave feature_network unset or give InceptionFeatures(protocol={self.protocol!r})"
                )
            else:
                network = feature_network
            # moves with this module from now on (like any submodule, it starts on the CPU)
            self._frozen["feature_network"] = network.requires_grad_(False).eval().float().to(self.device)
            dim = num_features or getattr(network, "num_features", None)
            if not dim:
                with torch.no_grad():
                    dim = int(network(torch.zeros(1, 3, 299, 299, device=self.device)).shape[-1])
            self.num_features = int(dim)
            if "fid" in needed:
                sqrt_method = "eigenvalues" if self.protocol == "gan-style" else "sqrtm"
                self.fid = FrechetDistance(self.num_features, sqrt_method=sqrt_method)
            if "kid" in needed:
                self.kid = KernelDistance(self.num_features, subsets=kid_subsets, subset_size=kid_subset_size)

        self.lpips: MeanMetric | None = None
        self.lpips_diversity: MeanMetric | None = None
        if needed & {"lpips", "lpips_diversity"}:
            self._frozen["lpips_network"] = create_lpips_network(lpips_net).float()
            if "lpips" in needed:
                self.lpips = MeanMetric()
            if "lpips_diversity" in needed:
                self.lpips_diversity = MeanMetric()

        self.pixel_diversity = MeanMetric() if "pixel_diversity" in needed else None
        self.psnr = PerImagePSNR() if "psnr" in needed else None
        self.ssim = PerImageSSIM() if "ssim" in needed else None
        self.kid_subsets = kid_subsets
        self._fixed_reference = False
        self._counts: dict[str, int] = {}

    # ----------------------------------------------------------------------------------------- helpers
    @property
    def feature_network(self) -> nn.Module | None:
        """The FID/KID feature network (None without FID, KID and ArtFID)."""
        return self._frozen.get("feature_network")

    @property
    def lpips_network(self) -> nn.Module | None:
        """The LPIPS network (None without LPIPS, its diversity and ArtFID)."""
        return self._frozen.get("lpips_network")

    @property
    def input_size(self) -> int | None:
        """The size FID / KID images should be loaded at (``size`` of :meth:`load_reference` and of
        :func:`~gan_style.metrics.image_batches`): 299 under the ``gan-style`` protocol, None (each image's
        own size, the protocol resizes it) under ``legacy`` and ``clean``."""
        return INCEPTION_SIZE if self.protocol == "gan-style" else None

    @property
    def device(self) -> torch.device:
        """Where the metric states (and networks) are."""
        return self._device_marker.device

    def _take(self, stream: str, *tensors: Tensor) -> tuple[Tensor, ...]:
        """The leading images of ``tensors`` that still fit under ``max_samples`` for ``stream``."""
        n = tensors[0].shape[0]
        if self.max_samples is not None:
            n = max(0, min(n, self.max_samples - self._counts.get(stream, 0)))
        self._counts[stream] = self._counts.get(stream, 0) + n
        return tuple(t[:n].to(self.device).float().clamp(-1, 1) for t in tensors)

    def _rgb(self, images: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, 3, H, W): the bands the 3-channel networks see (``display_bands``)."""
        from gan_style.io.imagery import display_band_indices

        count = images.shape[1]
        if count == 3 and self.display_bands is None:
            self._band_mappings.setdefault(3, [0, 1, 2])
            return images
        bands = self._band_mappings.get(count)
        if bands is None:  # a choice naming bands these images lack is not theirs (a gray input beside N bands)
            wanted = self.display_bands
            chosen = [wanted] if isinstance(wanted, int) else list(wanted or [])
            bands = display_band_indices(wanted if chosen and max(chosen) < count else None, count)
            self._band_mappings[count] = bands
        return images[:, bands]

    def _features(self, images: Tensor) -> Tensor:
        images = self._rgb(images)
        with torch.no_grad(), torch.autocast(images.device.type, enabled=False):
            features = self.feature_network(images.float())
        if features.ndim != 2 or features.shape != (images.shape[0], self.num_features):
            raise ValueError(
                f"the feature network returned {tuple(features.shape)} for {images.shape[0]} images; expected "
                f"({images.shape[0]}, {self.num_features})"
            )
        return features.float()

    def _lpips_scores(self, a: Tensor, b: Tensor) -> Tensor:
        a, b = self._rgb(a), self._rgb(b)
        if a.shape[-2:] != b.shape[-2:]:
            b = F.interpolate(b, size=a.shape[-2:], mode="bilinear", align_corners=False, antialias=True)
        try:
            with torch.no_grad(), torch.autocast(a.device.type, enabled=False):
                return self.lpips_network(a, b.clamp(-1, 1)).reshape(-1)
        except RuntimeError as exc:
            if "too small" not in str(exc):
                raise
            raise MetricInputError(
                f"images of {a.shape[-1]}x{a.shape[-2]} pixels are too small for LPIPS with the "
                f"'{self.lpips_net_name}' backbone; use larger images (64x64 or more)"
            ) from None

    # ------------------------------------------------------------------------------------------ update
    def update(self, generated: Tensor, reference: Tensor | None = None, content: Tensor | None = None) -> None:
        """Feed one batch to every metric it is enough for.

        Args:
            generated: (N, 3, H, W) outputs in [-1, 1].
            reference: real images. FID/KID: added to the reference distribution (any count M) unless
                reference statistics were loaded (:meth:`load_reference`). PSNR/SSIM: paired with
                ``generated`` (needs the same shape).
            content: (N, 3, H', W') the images ``generated`` was made from (LPIPS, ArtFID).
        """
        _check_images(generated, "generated")
        self.update_distribution(generated=generated, reference=reference)
        if reference is not None and (self.psnr is not None or self.ssim is not None):
            self.update_paired(generated, reference)
        if content is not None and self.lpips is not None:
            self.update_content(generated, content)

    def update_distribution(self, generated: Tensor | None = None, reference: Tensor | None = None) -> None:
        """FID/KID: add generated and/or reference images (any counts, any size the feature network takes).
        Reference images are ignored while reference statistics are loaded."""
        if self.feature_network is None:
            return
        for images, real in ((generated, False), (reference, True)):
            if images is None or (real and self._fixed_reference):
                continue
            (images,) = self._take("reference" if real else "generated", _check_images(images, "images"))
            if images.shape[0] == 0:
                continue
            features = self._features(images)
            for metric in (self.fid, self.kid):
                if metric is not None:
                    metric.update(features, real=real)

    def update_paired(self, generated: Tensor, reference: Tensor) -> None:
        """PSNR/SSIM on pairs (generated_i, reference_i) of the same shape (see :class:`PerImagePSNR`,
        :class:`PerImageSSIM` for the definitions; nothing happens when neither metric is on).

        Args:
            generated: (N, C, H, W) outputs in [-1, 1] (clamped); H and W at least 6 for SSIM.
            reference: (N, C, H, W) their ground truth in [-1, 1] (clamped).

        Raises:
            ValueError: a tensor that is not (N, C, H, W).
            MetricInputError: the shapes differ, or SSIM is on and H or W is below 6.
        """
        _check_images(generated, "generated")
        _check_images(reference, "reference")
        if generated.shape != reference.shape:
            raise MetricInputError(
                f"PSNR and SSIM compare paired images of the same shape; got generated {tuple(generated.shape)} "
                f"and reference {tuple(reference.shape)}"
            )
        generated, reference = self._take("paired", generated, reference)
        if generated.shape[0] == 0:
            return
        for metric in (self.psnr, self.ssim):
            if metric is not None:
                metric.update(generated, reference)

    def update_content(self, generated: Tensor, content: Tensor) -> None:
        """LPIPS content distance (and ArtFID's content term) on pairs (generated_i, content_i); a content
        batch of another height/width is resized to the generated size (antialiased bilinear).

        Raises:
            MetricInputError: different batch sizes.
        """
        _check_images(generated, "generated")
        _check_images(content, "content")
        if generated.shape[0] != content.shape[0]:
            raise MetricInputError(
                f"LPIPS pairs each generated image with its content image; got {generated.shape[0]} generated "
                f"and {content.shape[0]} content images"
            )
        if self.lpips is None:
            return
        generated, content = self._take("content", generated, content)
        if generated.shape[0]:
            self.lpips.update(self._lpips_scores(generated, content))

    def update_diversity(self, samples: Tensor | Sequence[Tensor]) -> None:
        """LPIPS and pixel diversity: the LPIPS, and the mean absolute difference on [0, 1] images, of every
        unordered pair of outputs within each group (each pair counts once in the mean over all pairs).

        Args:
            samples: (G, K, C, H, W) -- G inputs with K outputs each (different styles or random codes) --,
                a (K, C, H, W) single group, or a sequence of (K_i, C, H_i, W_i) groups. Groups with fewer
                than 2 outputs add nothing; ``max_samples`` counts groups.
        """
        if self.lpips_diversity is None and self.pixel_diversity is None:
            return
        if isinstance(samples, Tensor):
            groups = list(samples) if samples.ndim == 5 else [samples]
        else:
            groups = list(samples)
        for group in groups:
            _check_images(group, "each diversity group")
            if group.shape[0] < 2:
                continue
            (group,) = self._take("diversity", group[None])
            if group.shape[0] == 0:
                return
            group = group[0]
            first, second = torch.triu_indices(group.shape[0], group.shape[0], offset=1, device=group.device)
            for start in range(0, first.numel(), 16):
                i, j = first[start : start + 16], second[start : start + 16]
                if self.lpips_diversity is not None:
                    self.lpips_diversity.update(self._lpips_scores(group[i], group[j]))
                if self.pixel_diversity is not None:  # |a - b| / 2 is the difference on [0, 1] images
                    self.pixel_diversity.update((group[i] - group[j]).abs().mean(dim=(1, 2, 3)) / 2)

    # ----------------------------------------------------------------------------------- reference data
    def set_reference(self, statistics: ReferenceStatistics) -> None:
        """Use precomputed reference statistics for FID/KID instead of reference batches; they stay until
        :meth:`clear_reference` (:meth:`reset` keeps them). Under DDP they are held by process 0 only, so the
        sum across processes counts them once. Hands them to :meth:`FrechetDistance.set_reference_statistics`
        and :meth:`KernelDistance.set_reference_features`.

        Args:
            statistics: from :func:`~gan_style.metrics.reference_statistics` or
                :meth:`ReferenceStatistics.from_features`, made with this feature network (D-d features);
                with ``features`` (N, D) when KID is on.

        Raises:
            MetricInputError: neither FID nor KID is on, the feature dimension differs, or KID is on and the
                statistics have no features.
        """
        if self.feature_network is None:
            raise MetricInputError("reference statistics are for FID/KID, and neither is among the metrics")
        if statistics.num_features != self.num_features:
            raise MetricInputError(
                f"reference statistics have {statistics.num_features}-d features, the feature network "
                f"{self.num_features}-d; they come from another network"
            )
        if self.kid is not None and statistics.features is None:
            raise MetricInputError(
                "KID needs the reference feature vectors; compute the statistics with keep_features=True"
            )
        owner = _is_rank_zero()  # the other processes hold zeros / no features
        if self.fid is not None:
            features_sum, cov_sum = statistics.features_sum, statistics.features_cov_sum
            if owner:
                self.fid.set_reference_statistics(features_sum, cov_sum, statistics.num_samples)
            else:
                self.fid.set_reference_statistics(torch.zeros_like(features_sum), torch.zeros_like(cov_sum), 0)
        if self.kid is not None:
            features = statistics.features
            self.kid.set_reference_features(features if owner else features[:0])
        self._fixed_reference = True

    def load_reference(
        self,
        folder: str | os.PathLike,
        *,
        size: int | None = 299,
        batch_size: int = 16,
        cache_dir: str | os.PathLike | None = None,
        use_cache: bool = True,
        max_samples: int | None = None,
        num_workers: int = 0,
    ) -> ReferenceStatistics:
        """Compute (or read from the cache) the feature statistics of the reference images in ``folder`` and
        :meth:`set_reference` them. The feature network runs on this module's device. See
        :func:`~gan_style.metrics.reference_statistics` for the arguments, the cache key and errors; under the
        ``legacy`` and ``clean`` protocols ``size`` must be None (:attr:`input_size`)."""
        if self.feature_network is None:
            raise MetricInputError("reference statistics are for FID/KID, and neither is among the metrics")
        statistics = reference_statistics(
            folder,
            self.feature_network,
            size=size,
            batch_size=batch_size,
            device=self.device,
            cache_dir=cache_dir,
            use_cache=use_cache,
            keep_features=self.kid is not None,
            max_samples=max_samples,
            num_workers=num_workers,
        )
        self.set_reference(statistics)
        return statistics

    def clear_reference(self) -> None:
        """Forget loaded reference statistics; FID/KID take reference batches again. Their accumulated data
        (generated images too) is cleared as well."""
        for metric in (self.fid, self.kid):
            if metric is not None:
                metric.clear_reference()
        self._fixed_reference = False

    # ----------------------------------------------------------------------------------------- compute
    def _require(self, metric: Metric | None, name: str, hint: str) -> Metric:
        assert metric is not None
        if metric.update_count == 0:
            raise MetricInputError(f"{name} got no data; {hint}")
        return metric

    def compute(self) -> dict[str, float]:
        """The metrics over everything fed since the last :meth:`reset`, reduced across processes.

        Returns:
            ``{name: value}`` for the requested names in the order of :data:`METRIC_NAMES`, with ``kid_std``
            after ``kid`` (and ``fid`` / ``lpips`` when ``artfid`` was asked for). PSNR is ``inf`` when
            any pair is identical (its MSE is 0).

        Raises:
            MetricInputError: a requested metric got no data or too little (names it and what to pass).
        """
        out: dict[str, float] = {}
        if self.fid is not None:
            self._require(self.fid, "FID", "pass generated images (update or update_distribution)")
            out["fid"] = float(self.fid.compute())
        if self.kid is not None:
            self._require(self.kid, "KID", "pass generated images (update or update_distribution)")
            mean, std = self.kid.compute()
            out["kid"], out["kid_std"] = float(mean), float(std)
        if self.lpips is not None:
            hint = "pass the content images (update(..., content=...) or update_content)"
            out["lpips"] = float(self._require(self.lpips, "LPIPS", hint).compute())
        if self.lpips_diversity is not None:
            hint = "pass groups of at least 2 outputs per input (update_diversity)"
            out["lpips_diversity"] = float(self._require(self.lpips_diversity, "LPIPS diversity", hint).compute())
        if self.pixel_diversity is not None:
            hint = "pass groups of at least 2 outputs per input (update_diversity)"
            out["pixel_diversity"] = float(self._require(self.pixel_diversity, "pixel diversity", hint).compute())
        if "artfid" in self.metrics:
            out["artfid"] = art_fid(out["lpips"], out["fid"])
        hint = "pass paired reference images (update(..., reference=...) or update_paired)"
        if self.psnr is not None:
            out["psnr"] = float(self._require(self.psnr, "PSNR", hint).compute())
        if self.ssim is not None:
            out["ssim"] = float(self._require(self.ssim, "SSIM", hint).compute())
        order = [*METRIC_NAMES[:2], "kid_std", *METRIC_NAMES[2:]]
        return {name: out[name] for name in order if name in out}

    def record(self) -> dict[str, Any]:
        """What the FID and KID of the last :meth:`compute` were computed with, for a results file
        (``metrics.json``). Plain JSON values; the counts are summed across processes.

        Returns:
            ``{"band_mapping": {"4": {"rgb_from_bands": [0, 1, 2], "rule": "bands 0, 1, 2 as R, G, B"}},
            "protocol": "legacy", "feature_network": <weights file or class name>,
            "fid_samples": {"generated": N_g, "reference": N_r},
            "kid_samples": {"generated": N_g, "reference": N_r, "subset_size": m}, "kid_subsets": 100}``:
            ``band_mapping`` (for each band count fed to the Inception or LPIPS networks since the metrics were
            made: the bands that became their R, G, B), ``protocol`` and ``feature_network`` always
            (``feature_network`` None without FID and KID);
            ``fid_samples`` with FID, ``kid_samples`` and ``kid_subsets`` with KID (``m``: the subset size
            drawn, shrunk to the number of images when they are fewer). ``fid_samples`` and ``kid_samples``
            are None before the first :meth:`compute`.
        """
        network = self.feature_network
        out: dict[str, Any] = {
            "band_mapping": {
                str(count): {"rgb_from_bands": bands, "rule": _mapping_rule(count, bands)}
                for count, bands in sorted(self._band_mappings.items())
            },
            "protocol": self.protocol,
            "feature_network": None
            if network is None
            else str(getattr(network, "weights_path", type(network).__name__)),
        }
        if self.fid is not None:
            out["fid_samples"] = dict(self.fid.last_num_samples) if self.fid.last_num_samples else None
        if self.kid is not None:
            out["kid_samples"] = dict(self.kid.last_num_samples) if self.kid.last_num_samples else None
            out["kid_subsets"] = self.kid_subsets
        return out

    def reset(self) -> None:
        """Clear the accumulated data (loaded reference statistics stay) and the ``max_samples`` counts."""
        for metric in (
            self.fid,
            self.kid,
            self.lpips,
            self.lpips_diversity,
            self.pixel_diversity,
            self.psnr,
            self.ssim,
        ):
            if metric is not None:
                metric.reset()
        self._counts = {}

    # ------------------------------------------------------------------------- frozen pretrained networks
    def _apply(self, fn: Any, *args: Any, **kwargs: Any) -> ImageMetrics:
        """``.to(device)``, ``.cuda()`` ... move the pretrained networks too; they stay in float32 (a
        ``.half()`` of the model does not lower the precision of the metrics)."""
        super()._apply(fn, *args, **kwargs)
        for network in self._frozen.values():
            network._apply(fn)
            network.float()
        return self
