"""FID and KID in the published protocols, checked against the real packages on the same files and weights:
gan-style's ``legacy`` against pytorch-fid, ``clean`` against clean-fid.

No weights can be downloaded, so one random-weight Inception-v3 in the published layout (torchvision
``Inception3`` parameter names, a 1008-class ``fc``, no ``AuxLogits``: the layout of
``pt_inception-2015-12-05-6726825d.pth``) is written where each implementation looks for it:

- pytorch-fid: ``$TORCH_HOME/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth``;
- gan-style: ``$TORCH_HOME/hub/checkpoints/weights-inception-2015-12-05-6726825d.pth``
  (:func:`gan_style.metrics.fid_inception_path`), the same tensors;
- clean-fid: a TorchScript ``inception-2015-12-05.pt`` with the call signature of the file clean-fid downloads
  (a ``layers`` submodule mapping the normalised (N, 3, 299, 299) input to (N, 2048, 1, 1) features), traced
  from pytorch-fid's network with those weights. clean-fid reads it from a fixed folder (``/tmp``); its
  ``InceptionV3W`` is pointed at a temporary folder instead, so no shared file is written.

The images are crops of varied sizes (smaller and larger than 299, one exactly 299 x 299) of the bundled
sample photos and paintings, saved as PNG. The packages' own folder functions run step by step (pytorch-fid's
``get_activations`` and ``calculate_frechet_distance``, clean-fid's ``get_folder_features``, ``fid_from_feats``
and ``kernel_distance``), so each folder is read once per package and the features are compared too. Only
8 of the 2048 features vary (:func:`random_fid_inception_state`); each 2048 x 2048 ``scipy.linalg.sqrtm``
still takes about 9 s on one CPU core, and the module needs four (gan-style's and the package's, per
protocol) besides about 100 Inception passes: about 80 s on one core.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from conftest import SAMPLE_ROOT
from gan_style.data.images import list_images
from gan_style.metrics import (
    FID_PROTOCOLS,
    FrechetDistance,
    ImageMetrics,
    InceptionFeatures,
    MetricInputError,
    fid_inception_path,
    frechet_distance_sqrtm,
    image_batches,
    inception_input,
    reference_statistics,
)

pytest.importorskip("scipy.linalg")
pytest.importorskip("torch_fidelity")
pytorch_fid = pytest.importorskip("pytorch_fid")
cleanfid = pytest.importorskip("cleanfid")

from cleanfid import features as cleanfid_features  # noqa: E402
from cleanfid import fid as cleanfid_fid  # noqa: E402
from cleanfid.inception_torchscript import InceptionV3W  # noqa: E402
from cleanfid.resize import make_resizer  # noqa: E402
from pytorch_fid import fid_score  # noqa: E402
from pytorch_fid.inception import InceptionV3  # noqa: E402

pytestmark = [
    pytest.mark.filterwarnings("ignore:.*disp.*:DeprecationWarning"),  # pytorch-fid: scipy's sqrtm(disp=False)
    pytest.mark.filterwarnings("ignore:Matrix is singular"),  # pytorch-fid, clean-fid: 10 images, 2048 features
    pytest.mark.filterwarnings("ignore:`torch.jit.*` is deprecated:FutureWarning"),  # clean-fid's file format
]

PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
CLEANFID_FILE = "inception-2015-12-05.pt"
# (w, h) of the crops: upsampled, downsampled, mixed, and one that needs no resize
SIZES = [
    (299, 299),
    (64, 80),
    (200, 120),
    (286, 286),
    (400, 250),
    (150, 286),
    (97, 213),
    (320, 180),
    (50, 50),
    (260, 300),
]


ACTIVE_FEATURES = 8
"""Features left varying: the first channels of the last block's 1 x 1 branch, features 0-7 of 2048."""


def random_fid_inception_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the FID Inception-v3 layout. Conv weights are scaled to He initialisation and the
    batch-norm statistics drawn at random, so every layer shapes the features and they neither vanish nor
    explode. The last batch norms of the last block get zero scale and shift except for the first
    :data:`ACTIVE_FEATURES` channels of its 1 x 1 branch, so only those 8 of the 2048 features vary: with 10
    images per folder both covariances have full rank on them, the product of the covariances has real,
    non-negative eigenvalues, and ``scipy.linalg.sqrtm`` takes its real (faster) path. The matrices are
    still 2048 x 2048, so pytorch-fid, clean-fid and gan-style do their full computation. Those 8 channels
    are scaled by 20, so that FIDs come out in the tens, as with the published weights, and the protocols
    lie apart by far more than the tolerance of the comparisons."""
    import torchvision

    torch.manual_seed(seed)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    last = ("branch1x1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool")
    state = {}
    for key, value in net.state_dict().items():
        if key.endswith("conv.weight"):
            value = value * 6**0.5
        elif key.endswith("running_mean"):
            value = torch.randn_like(value) * 0.1
        elif key.endswith("running_var"):
            value = torch.rand_like(value) + 0.5
        if any(key in (f"Mixed_7c.{b}.bn.weight", f"Mixed_7c.{b}.bn.bias") for b in last):
            value = value.clone()
            value[ACTIVE_FEATURES if ".branch1x1." in key else 0 :] = 0
            value[:ACTIVE_FEATURES] *= 20  # FIDs of tens, as with the published weights
        state[key] = value
    return state


class _CleanFidInception(nn.Module):
    """The call signature of clean-fid's TorchScript Inception: ``layers(x)`` on the normalised 299 x 299
    input (what mode ``clean`` calls) and ``forward(x, return_features)`` on 0..255 images of any size (its
    ``legacy_tensorflow`` mode, not used here)."""

    def __init__(self, layers: nn.Module) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.layers((x - 128) / 128).flatten(1)


def _crops(sources: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, (source, (w, h)) in enumerate(zip(sources, SIZES)):
        with Image.open(source) as img:
            img = img.convert("RGB")
            if img.width < w or img.height < h:
                img = img.resize((max(w, img.width), max(h, img.height)), Image.Resampling.LANCZOS)
            left, top = (img.width - w) // 2, (img.height - h) // 2
            img.crop((left, top, left + w, top + h)).save(folder / f"{i:02d}.png")
    return folder


@pytest.fixture(scope="module")
def setting(tmp_path_factory: pytest.TempPathFactory):
    """Two folders of 10 PNGs and the same random weights where pytorch-fid, clean-fid and gan-style look."""
    root = tmp_path_factory.mktemp("protocols")
    photos = sorted((SAMPLE_ROOT / "trainA").glob("*.jpg")) + sorted((SAMPLE_ROOT / "testA").glob("*.jpg"))
    paintings = sorted((SAMPLE_ROOT / "trainB").glob("*.jpg"))
    generated = _crops(photos[: len(SIZES)], root / "generated")
    reference = _crops(paintings[: len(SIZES)], root / "reference")
    assert len(list(generated.iterdir())) == len(list(reference.iterdir())) == len(SIZES)

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TORCH_HOME", str(root / "torch"))
        checkpoints = root / "torch" / "hub" / "checkpoints"
        checkpoints.mkdir(parents=True)
        state = random_fid_inception_state()
        torch.save(state, checkpoints / PYTORCH_FID_FILE)
        assert fid_inception_path() == checkpoints / "weights-inception-2015-12-05-6726825d.pth"
        torch.save(state, fid_inception_path())

        def no_download(*args, **kwargs):
            raise AssertionError("the files placed in the hub cache must be used")

        patch.setattr(torch.hub, "download_url_to_file", no_download)

        # clean-fid's TorchScript file, traced from pytorch-fid's network with the same weights
        blocks = InceptionV3([3], resize_input=False, normalize_input=False).eval().blocks
        with torch.no_grad():
            layers = torch.jit.trace(nn.Sequential(*blocks), torch.zeros(1, 3, 299, 299), check_trace=False)
        cleanfid_dir = root / "cleanfid"
        cleanfid_dir.mkdir()
        torch.jit.save(torch.jit.script(_CleanFidInception(layers)), str(cleanfid_dir / CLEANFID_FILE))

        class RedirectedInceptionV3W(InceptionV3W):
            def __init__(self, path, download=True, resize_inside=False):
                super().__init__(str(cleanfid_dir), download=download, resize_inside=resize_inside)

        patch.setattr(cleanfid_features, "InceptionV3W", RedirectedInceptionV3W)
        yield {"generated": generated, "reference": reference, "root": root}


def gan_style_values(setting: dict, protocol: str) -> tuple[dict, dict, np.ndarray]:
    """FID, KID and kid_std of the two folders as ``gan-style evaluate`` computes them (reference statistics
    from the folder, generated images streamed), the record, and the reference features; once per protocol."""
    cache = setting.setdefault("gan_style", {})
    if protocol not in cache:
        metrics = ImageMetrics(("fid", "kid"), protocol=protocol, kid_subset_size=len(SIZES))
        statistics = metrics.load_reference(
            setting["reference"], size=metrics.input_size, use_cache=False, batch_size=4
        )
        files = [(p,) for p in list_images(setting["generated"])]
        for (batch,) in image_batches(files, [metrics.input_size], batch_size=4):
            metrics.update_distribution(generated=batch)
        torch.manual_seed(0)
        cache[protocol] = (metrics.compute(), metrics.record(), statistics.features.double().numpy())
    return cache[protocol]


def test_legacy_equals_pytorch_fid(setting):
    generated, reference = setting["generated"], setting["reference"]
    values, record, features = gan_style_values(setting, "legacy")
    # pytorch-fid's calculate_fid_given_paths (python -m pytorch_fid generated reference --batch-size 1, as the
    # sizes differ) step by step, keeping the activations: its statistics are np.mean / np.cov of them
    model = InceptionV3([InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    acts = [
        fid_score.get_activations(sorted(d.glob("*.png")), model, batch_size=1, dims=2048, num_workers=0)
        for d in (generated, reference)
    ]
    stats = [(a.mean(axis=0), np.cov(a, rowvar=False)) for a in acts]
    theirs = fid_score.calculate_frechet_distance(*stats[0], *stats[1])
    assert values["fid"] > 10.0  # a real distance, not a degenerate zero
    assert abs(values["fid"] - theirs) < 1e-3, (values["fid"], theirs)

    # the features themselves, and KID, which pytorch-fid does not compute: the same unbiased MMD^2 on
    # pytorch-fid's features (clean-fid's kernel_distance; with 10 against 10 images every subset is both
    # whole sets, so the value is deterministic)
    assert np.abs(features - acts[1]).max() < 1e-5 * np.abs(acts[1]).max()
    assert 0 < (acts[1].std(0) > 0).sum() <= ACTIVE_FEATURES
    kid = cleanfid_fid.kernel_distance(acts[0].astype(np.float32), acts[1].astype(np.float32))
    # both sides sum the kernel in float32, in different orders: equal to 1e-3 of the value
    assert abs(values["kid"]) > 1e-2 and abs(values["kid"] - kid) < 1e-3 * abs(kid), (values["kid"], kid)
    assert values["kid_std"] < 1e-3 * abs(values["kid"])  # 100 subsets, each both whole sets
    n = len(SIZES)
    assert record == {
        "band_mapping": {"3": {"rgb_from_bands": [0, 1, 2], "rule": "RGB as it is"}},
        "protocol": "legacy",
        "feature_network": str(fid_inception_path()),
        "fid_samples": {"generated": n, "reference": n},
        "kid_samples": {"generated": n, "reference": n, "subset_size": n},
        "kid_subsets": 100,
    }


def test_clean_equals_clean_fid(setting):
    generated, reference = setting["generated"], setting["reference"]
    values, record, features = gan_style_values(setting, "clean")
    # clean-fid's compute_fid and compute_kid of two folders step by step, reading each folder once
    options = {"mode": "clean", "num_workers": 0, "batch_size": 4, "device": torch.device("cpu"), "verbose": False}
    model = cleanfid_features.build_feature_extractor("clean", torch.device("cpu"), use_dataparallel=False)
    feats = [cleanfid_fid.get_folder_features(str(d), model, **options) for d in (generated, reference)]
    fid = cleanfid_fid.fid_from_feats(*feats)
    assert values["fid"] > 10.0
    assert abs(values["fid"] - fid) < 1e-3, (values["fid"], fid)
    assert np.abs(features - feats[1]).max() < 1e-5 * np.abs(feats[1]).max()
    kid = cleanfid_fid.kernel_distance(*feats)  # compute_kid's value (with 10 against 10 images: deterministic)
    # both sides sum the kernel in float32, in different orders: equal to 1e-3 of the value
    assert abs(values["kid"]) > 1e-2 and abs(values["kid"] - kid) < 1e-3 * abs(kid), (values["kid"], kid)
    assert values["kid_std"] < 1e-3 * abs(values["kid"])  # 100 subsets, each both whole sets
    assert record["protocol"] == "clean" and record["fid_samples"] == {"generated": 10, "reference": 10}


def test_the_three_protocols_give_different_values_on_the_same_files(setting):
    fids = {protocol: gan_style_values(setting, protocol)[0]["fid"] for protocol in FID_PROTOCOLS}
    # each gap is far above the 1e-3 to which legacy and clean match pytorch-fid and clean-fid
    gaps = [abs(fids[a] - fids[b]) for a, b in (("legacy", "clean"), ("gan-style", "legacy"), ("gan-style", "clean"))]
    assert min(gaps) > 0.05, fids


def test_clean_resize_equals_clean_fids_resizer():
    rng = np.random.default_rng(3)
    for h, w in ((37, 500), (299, 299), (640, 180)):
        image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        theirs = make_resizer("PIL", False, "bicubic", (299, 299))(image)  # (299, 299, 3) float32 in [0, 255]
        ours = inception_input(torch.from_numpy(image).permute(2, 0, 1)[None].contiguous(), "clean")[0]
        np.testing.assert_array_equal(ours.permute(1, 2, 0).numpy(), (torch.from_numpy(theirs) - 128).numpy() / 128)


def test_sqrtm_and_eigenvalue_fid_agree_on_well_conditioned_features():
    generator = torch.Generator().manual_seed(0)
    real, fake = torch.randn(400, 8, generator=generator), torch.randn(300, 8, generator=generator) * 1.3 + 0.2
    values = []
    for method in ("eigenvalues", "sqrtm"):
        metric = FrechetDistance(8, sqrt_method=method)
        metric.update(real, real=True)
        metric.update(fake, real=False)
        values.append(float(metric.compute()))
        assert metric.last_num_samples == {"generated": 300, "reference": 400}
    r, f = real.double().numpy(), fake.double().numpy()
    direct = frechet_distance_sqrtm(r.mean(0), np.cov(r, rowvar=False), f.mean(0), np.cov(f, rowvar=False))
    assert values[0] == pytest.approx(direct, rel=1e-5) and values[1] == pytest.approx(direct, rel=1e-9)
    assert direct > 0.5
    # a "covariance" with a negative eigenvalue has no real square root: an error, not a silent value
    with pytest.raises(MetricInputError, match="imaginary part of 1; .* use more images"):
        frechet_distance_sqrtm(np.zeros(2), np.diag([1.0, -1.0]), np.zeros(2), np.eye(2))
    with pytest.raises(MetricInputError, match=r"FID statistics do not fit: means \(2,\) and \(3,\)"):
        frechet_distance_sqrtm(np.zeros(2), np.eye(2), np.zeros(3), np.eye(2))


def test_bad_protocol_settings_fail_in_one_line(setting):
    with pytest.raises(MetricInputError, match=r"unknown FID/KID protocol 'tf'; choose from gan-style, legacy, clean"):
        ImageMetrics(("fid",), protocol="tf")
    with pytest.raises(MetricInputError, match="choose from gan-style, legacy, clean"):
        InceptionFeatures(protocol="pytorch-fid")
    clean = InceptionFeatures(protocol="clean")
    with pytest.raises(
        MetricInputError, match=r"protocol 'legacy' needs .* feature_network is one of protocol 'clean'"
    ):
        ImageMetrics(("fid",), protocol="legacy", feature_network=clean)
    with pytest.raises(MetricInputError, match=r"protocol 'gan-style' needs"):
        ImageMetrics(("fid",), feature_network=clean)
    with pytest.raises(MetricInputError, match=r"feature_network is a custom network"):
        ImageMetrics(("fid",), protocol="clean", feature_network=nn.Flatten())
    legacy = InceptionFeatures(protocol="legacy")
    assert ImageMetrics(("kid",), protocol="legacy", feature_network=legacy).input_size is None
    with pytest.raises(MetricInputError, match=r"'legacy' FID/KID protocol resizes each image .* size=None, not 299"):
        reference_statistics(setting["reference"], legacy, size=299, use_cache=False)
    with pytest.raises(MetricInputError, match="unknown FID sqrt_method"):
        FrechetDistance(8, sqrt_method="svd")


def test_gan_style_protocol_is_the_default_and_keeps_its_cache_identity(setting):
    metrics = ImageMetrics(("fid",))
    assert metrics.protocol == "gan-style" and metrics.input_size == 299 and metrics.fid.sqrt_method == "eigenvalues"
    assert metrics.feature_network.extra_repr() == "input=[-1,1] -> uint8, resize=bilinear-antialias-299, features=2048"
    assert metrics.record() == {
        "band_mapping": {},  # nothing fed yet
        "protocol": "gan-style",
        "feature_network": str(fid_inception_path()),
        "fid_samples": None,
    }
    reprs = {repr(InceptionFeatures(protocol=p)) for p in FID_PROTOCOLS}
    assert len(reprs) == 3  # cached reference statistics are kept apart per protocol


def test_evaluate_takes_the_protocol_and_refuses_an_unknown_one_in_one_line(tmp_path):
    from PIL import Image

    from gan_style.commands.evaluate import evaluate_command
    from gan_style.errors import MetricInputError

    for name in ("gen", "ref"):
        (tmp_path / name).mkdir()
        for i in range(2):
            Image.new("RGB", (32, 32), (40 * i, 80, 120)).save(tmp_path / name / f"{i}.png")
    with pytest.raises(MetricInputError, match="unknown FID/KID protocol 'pytorch'; choose from gan-style, legacy, clean"):
        evaluate_command(generated=str(tmp_path / "gen"), reference=str(tmp_path / "ref"), metrics=["fid"],
                         protocol="pytorch", device="cpu")  # fmt: skip
