"""Image-quality metrics for style transfer and image-to-image translation, built on torchmetrics.

- :class:`ImageMetrics`: FID, KID, LPIPS, LPIPS diversity, ArtFID, PSNR, SSIM over a stream of batches,
  correct under DDP (torchmetrics state sync); what validation/test loops and ``gan-style evaluate`` use.
- :class:`InceptionFeatures`: the standard FID Inception-v3 (TF port, 2048-d pool features).
- :data:`FID_PROTOCOLS`: ``gan-style`` (default), ``legacy`` (pytorch-fid's values) and ``clean`` (clean-fid's):
  how images are resized for the Inception and how FID's matrix square root is taken
  (:mod:`gan_style.metrics.protocols`).
- :func:`reference_statistics`: reference-set feature statistics, cached on disk per dataset.
- :class:`PerImagePSNR`, :class:`PerImageSSIM`: the one PSNR / SSIM definition (mean over images of the
  per-image value, on images rescaled to [0, 1]), used by :class:`ImageMetrics` and by Pix2Pix's own logs.
- :func:`create_lpips_network`, :func:`art_fid`, :class:`FrechetDistance`, :class:`KernelDistance`.

Images are float tensors (N, 3, H, W) in [-1, 1] throughout.

Papers: FID -- Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
Equilibrium"; KID -- Binkowski et al. 2018, "Demystifying MMD GANs"; LPIPS -- Zhang et al. 2018, "The
Unreasonable Effectiveness of Deep Features as a Perceptual Metric"; ArtFID -- Wright & Ommer 2022,
"ArtFID: Quantitative Evaluation of Neural Style Transfer"; SSIM -- Wang et al. 2004, "Image Quality
Assessment: From Error Visibility to Structural Similarity".
"""

from gan_style.metrics.distribution import FrechetDistance, KernelDistance, MetricInputError
from gan_style.metrics.features import (
    FID_INCEPTION_URL,
    PYTORCH_FID_INCEPTION_URL,
    InceptionFeatures,
    feature_network_id,
    fid_inception_path,
)
from gan_style.metrics.image_metrics import METRIC_NAMES, ImageMetrics, art_fid
from gan_style.metrics.lpips import LPIPS_NETS, create_lpips_network, lpips_backbone_path, lpips_backbone_url
from gan_style.metrics.paired import PerImagePSNR, PerImageSSIM, to_unit_range
from gan_style.metrics.protocols import FID_PROTOCOLS, check_protocol, frechet_distance_sqrtm, inception_input
from gan_style.metrics.reference import (
    ReferenceStatistics,
    default_cache_dir,
    image_batches,
    load_image_tensor,
    reference_statistics,
)

__all__ = [
    "FID_INCEPTION_URL",
    "FID_PROTOCOLS",
    "LPIPS_NETS",
    "METRIC_NAMES",
    "PYTORCH_FID_INCEPTION_URL",
    "FrechetDistance",
    "ImageMetrics",
    "InceptionFeatures",
    "KernelDistance",
    "MetricInputError",
    "PerImagePSNR",
    "PerImageSSIM",
    "ReferenceStatistics",
    "art_fid",
    "check_protocol",
    "create_lpips_network",
    "default_cache_dir",
    "feature_network_id",
    "fid_inception_path",
    "frechet_distance_sqrtm",
    "image_batches",
    "inception_input",
    "load_image_tensor",
    "lpips_backbone_path",
    "lpips_backbone_url",
    "reference_statistics",
    "to_unit_range",
]
