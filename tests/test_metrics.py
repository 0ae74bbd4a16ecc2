"""gan_style.metrics: FID and KID checked against direct NumPy/SciPy formulas on the same features, LPIPS on
random-weight backbones placed in a temporary hub cache, ArtFID, PSNR/SSIM, cached reference statistics,
errors for missing weights, and the reduction across two processes."""

from __future__ import annotations

import os
import socket
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import write_image
from gan_style.errors import (
    DatasetNotFoundError,
    FileMissingError,
    UnreadableFileError,
    UnsafeFileError,
    WeightsUnavailableError,
)
from gan_style.metrics import (
    FID_INCEPTION_URL,
    FrechetDistance,
    ImageMetrics,
    InceptionFeatures,
    KernelDistance,
    MetricInputError,
    PerImagePSNR,
    PerImageSSIM,
    ReferenceStatistics,
    art_fid,
    create_lpips_network,
    feature_network_id,
    fid_inception_path,
    lpips_backbone_path,
    lpips_backbone_url,
    reference_statistics,
)

scipy_linalg = pytest.importorskip("scipy.linalg")


def random_inception_state() -> dict[str, torch.Tensor]:
    """Random weights with the FID Inception-v3's layout (torchvision Inception3 names, a 1008-class fc, no
    AuxLogits); conv weights scaled to He initialisation so the features neither vanish nor explode."""
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    return {k: v * 6**0.5 if k.endswith("conv.weight") else v for k, v in net.state_dict().items()}


class CountingFeatures(nn.Module):
    """A small, deterministic feature network: 4x4 average pooling and a fixed random projection to 8-d.
    Counts its forward calls."""

    num_features = 8

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.proj = nn.Linear(48, self.num_features)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(self.num_features, 48, generator=generator) / 4)
            self.proj.bias.zero_()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.proj(F.adaptive_avg_pool2d(x, 4).flatten(1))


def images(n: int, seed: int, size: int = 16) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=generator) * 2 - 1


def features_np(net: nn.Module, x: torch.Tensor) -> np.ndarray:
    with torch.no_grad():
        return net(x).double().numpy()


def frechet_np(f1: np.ndarray, f2: np.ndarray) -> float:
    """||mu1 - mu2||^2 + Tr(S1 + S2 - 2 sqrtm(S1 S2)) with (N - 1)-normalised covariances."""
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    covmean = scipy_linalg.sqrtm(s1 @ s2).real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def mmd_np(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD^2 with k(a, b) = (a.b / d + 1)^3 (Binkowski et al. 2018), equal set sizes m."""
    m, d = x.shape

    def k(a, b):
        return (a @ b.T / d + 1) ** 3

    kxx, kyy, kxy = k(x, x), k(y, y), k(x, y)
    return float(
        (kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (m * (m - 1)) - 2 * kxy.sum() / m**2
    )


# ----------------------------------------------------------------------------------------------- FID / KID
def test_fid_is_zero_for_identical_sets_and_matches_scipy_for_shifted_ones():
    net = CountingFeatures()
    real = images(64, seed=1)
    metrics = ImageMetrics(("fid",), feature_network=net)
    for chunk in real.split(24):  # several batches: the sums accumulate
        metrics.update(chunk, reference=chunk)
    assert abs(metrics.compute()["fid"]) < 1e-5

    fake = (real * 0.6 + 0.25).clamp(-1, 1)
    metrics.reset()
    metrics.update_distribution(reference=real)
    for chunk in fake.split(10):
        metrics.update_distribution(generated=chunk)
    fid = metrics.compute()["fid"]
    expected = frechet_np(features_np(net, real), features_np(net, fake))
    assert fid > 0.1
    assert fid == pytest.approx(expected, rel=1e-4)


def test_kid_matches_unbiased_polynomial_mmd_on_one_subset():
    net = CountingFeatures()
    real, fake = images(20, seed=2), (images(20, seed=3) * 0.7 + 0.2).clamp(-1, 1)
    metrics = ImageMetrics(("kid",), feature_network=net, kid_subset_size=20, kid_subsets=1)
    metrics.update(fake, reference=real)
    values = metrics.compute()
    expected = mmd_np(features_np(net, real), features_np(net, fake))
    assert values["kid"] == pytest.approx(expected, rel=1e-4, abs=1e-6)
    assert values["kid_std"] == 0.0
    assert list(values) == ["kid", "kid_std"]


def test_kid_subset_size_shrinks_to_the_number_of_images_and_too_few_images_fail_clearly():
    net = CountingFeatures()
    real, fake = images(12, seed=4), images(9, seed=5)
    metrics = ImageMetrics(("kid", "fid"), feature_network=net, kid_subset_size=1000, kid_subsets=3)
    metrics.update(fake, reference=real)
    with pytest.warns(UserWarning, match="using subsets of 9"):
        values = metrics.compute()
    assert np.isfinite(values["kid"]) and list(values) == ["fid", "kid", "kid_std"]

    few = ImageMetrics(("kid",), feature_network=net, kid_subset_size=10)
    few.update(images(1, seed=6), reference=real)
    with pytest.raises(MetricInputError, match="at least 2 reference and 2 generated images, got 12 reference and 1"):
        few.compute()
    fid = ImageMetrics(("fid",), feature_network=net)
    fid.update_distribution(generated=fake)
    with pytest.raises(MetricInputError, match="FID needs at least 2 reference"):
        fid.compute()


def test_max_samples_caps_each_stream_until_reset():
    net = CountingFeatures()
    metrics = ImageMetrics(("fid",), feature_network=net, max_samples=10)
    for _ in range(3):
        metrics.update(images(4, seed=7), reference=images(6, seed=8))
    assert int(metrics.fid.fake_features_num_samples) == 10
    assert int(metrics.fid.real_features_num_samples) == 10
    metrics.reset()
    metrics.update(images(4, seed=7), reference=images(6, seed=8))
    assert int(metrics.fid.fake_features_num_samples) == 4


def test_unknown_metric_and_missing_data_name_the_fix():
    net = CountingFeatures()
    with pytest.raises(MetricInputError, match="unknown metric name.*'fdi'.*choose from fid, kid"):
        ImageMetrics(("fdi",), feature_network=net)
    metrics = ImageMetrics(("fid", "psnr"), feature_network=net)
    metrics.update(images(4, seed=1), reference=images(4, seed=2))
    metrics.reset()
    with pytest.raises(MetricInputError, match="FID got no data; pass generated images"):
        metrics.compute()


# ------------------------------------------------------------------------------- cached reference statistics
@pytest.fixture
def reference_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "reference"
    for i in range(6):
        write_image(folder / f"ref_{i}.png", size=(24, 20), seed=100 + i)
    return folder


def test_reference_statistics_are_cached_and_reused(reference_folder: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    first = CountingFeatures()
    metrics = ImageMetrics(("fid", "kid"), feature_network=first, kid_subset_size=6)
    stats = metrics.load_reference(reference_folder, size=32, batch_size=4)
    assert first.calls == 2 and stats.num_samples == 6 and stats.features.shape == (6, 8)
    cached = list((tmp_path / "xdg" / "gan_style" / "metrics").glob("reference-*.pt"))
    assert len(cached) == 1

    # a second evaluation (a fresh network with the same weights) reads the cache: no feature calls
    second = CountingFeatures()
    again = ImageMetrics(("fid", "kid"), feature_network=second, kid_subset_size=6)
    stats2 = again.load_reference(reference_folder, size=32, batch_size=4)
    assert second.calls == 0
    assert torch.equal(stats.features_cov_sum, stats2.features_cov_sum) and torch.equal(stats.features, stats2.features)

    # another image size, other weights or a changed file are other keys: computed again
    assert (
        feature_network_id(CountingFeatures())
        == feature_network_id(second)
        != feature_network_id(CountingFeatures(seed=1))
    )
    reference_statistics(reference_folder, second, size=16, batch_size=4)
    assert second.calls == 2
    reference_statistics(reference_folder, CountingFeatures(seed=1), size=32, batch_size=4)
    write_image(reference_folder / "ref_0.png", size=(24, 20), seed=999)
    os.utime(reference_folder / "ref_0.png", ns=(1, 1))
    reference_statistics(reference_folder, second, size=32, batch_size=4)
    assert second.calls == 4
    assert len(list((tmp_path / "xdg" / "gan_style" / "metrics").glob("*.pt"))) == 4


def test_cached_reference_gives_the_fid_of_streamed_reference(reference_folder: Path, tmp_path: Path):
    from gan_style.metrics import load_image_tensor

    net = CountingFeatures()
    real = torch.stack([load_image_tensor(p, 32) for p in sorted(reference_folder.glob("*.png"))])
    fake = images(5, seed=11, size=32)
    streamed = ImageMetrics(("fid", "kid"), feature_network=net, kid_subset_size=5, kid_subsets=1)
    streamed.update(fake, reference=real)
    cached = ImageMetrics(("fid", "kid"), feature_network=net, kid_subset_size=5, kid_subsets=1)
    cached.load_reference(reference_folder, size=32, cache_dir=tmp_path / "cache")
    cached.update(fake, reference=images(3, seed=12, size=32))  # ignored by FID/KID: statistics are loaded
    cached.reset()  # keeps the loaded reference
    cached.update(fake)
    torch.manual_seed(0)
    a = streamed.compute()
    torch.manual_seed(0)
    b = cached.compute()
    assert a["fid"] == pytest.approx(b["fid"], rel=1e-6)
    assert a["kid"] == pytest.approx(b["kid"], rel=1e-5)

    cache_file = next((tmp_path / "cache").glob("*.pt"))
    cache_file.write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="ignoring cached reference statistics"):
        reference_statistics(reference_folder, net, size=32, cache_dir=tmp_path / "cache")

    with pytest.raises(MetricInputError, match="8-d"):
        ImageMetrics(("fid",), feature_network=nn.Flatten(), num_features=4).set_reference(
            ReferenceStatistics.from_features(torch.randn(3, 8))
        )


def test_fid_and_kid_take_reference_statistics_through_their_own_methods():
    net = CountingFeatures()
    with torch.no_grad():
        real, fake = net(images(12, seed=13)), net(images(10, seed=14))
    stats = ReferenceStatistics.from_features(real)

    streamed_fid = FrechetDistance(8)
    streamed_fid.update(real, real=True)
    streamed_fid.update(fake, real=False)
    fid = FrechetDistance(8)
    fid.set_reference_statistics(stats.features_sum, stats.features_cov_sum, stats.num_samples)
    fid.update(fake[:3], real=False)
    fid.reset()  # keeps the reference statistics, drops the generated side
    fid.update(fake, real=False)
    assert float(fid.compute()) == pytest.approx(float(streamed_fid.compute()), rel=1e-6)
    fid.clear_reference()
    assert int(fid.real_features_num_samples) == 0 and int(fid.fake_features_num_samples) == 0
    fid.update(real, real=True)
    fid.reset()  # reference batches are cleared by reset again
    assert int(fid.real_features_num_samples) == 0
    with pytest.raises(MetricInputError, match=r"\(8,\) sum and a \(8, 8\)"):
        fid.set_reference_statistics(torch.zeros(4), torch.zeros(4, 4), 3)
    with pytest.raises(MetricInputError, match="negative"):
        fid.set_reference_statistics(stats.features_sum, stats.features_cov_sum, -1)

    streamed_kid = KernelDistance(8, subsets=2, subset_size=10)
    streamed_kid.update(real, real=True)
    streamed_kid.update(fake, real=False)
    kid = KernelDistance(8, subsets=2, subset_size=10)
    kid.set_reference_features(stats.features)
    kid.reset()
    kid.update(fake, real=False)
    torch.manual_seed(0)
    expected = streamed_kid.compute()
    torch.manual_seed(0)
    assert torch.allclose(torch.stack(kid.compute()), torch.stack(expected), rtol=1e-5)
    kid.clear_reference()
    assert len(kid.real_features) == 0 and len(kid.fake_features) == 0
    with pytest.raises(MetricInputError, match=r"\(M, 8\)"):
        kid.set_reference_features(torch.zeros(3, 4))

    # ImageMetrics.clear_reference: reference batches count again
    metrics = ImageMetrics(("fid",), feature_network=net)
    metrics.set_reference(ReferenceStatistics.from_features(net(images(6, seed=15)).detach()))
    metrics.clear_reference()
    metrics.update(images(10, seed=14), reference=images(12, seed=13))
    assert metrics.compute()["fid"] == pytest.approx(float(streamed_fid.compute()), rel=1e-5)


def test_reference_folder_errors(tmp_path: Path):
    with pytest.raises(DatasetNotFoundError, match="does not exist"):
        reference_statistics(tmp_path / "missing", CountingFeatures())
    write_image(tmp_path / "one" / "a.png")
    with pytest.raises(MetricInputError, match="holds 1 image"):
        reference_statistics(tmp_path / "one", CountingFeatures())


# --------------------------------------------------------------------------------------- LPIPS / ArtFID
@pytest.fixture
def lpips_hub(tmp_path: Path, monkeypatch) -> Path:
    """A temporary torch hub cache with a random-weight SqueezeNet 1.1 (the LPIPS 'squeeze' backbone)."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = lpips_backbone_path("squeeze")
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), path)
    return path


def test_lpips_is_zero_for_identical_images_and_grows_with_the_difference(lpips_hub: Path):
    x = images(4, seed=20, size=48)
    generator = torch.Generator().manual_seed(0)
    near = (x + 0.05 * torch.randn(x.shape, generator=generator)).clamp(-1, 1)
    far = images(4, seed=21, size=48)
    values = {}
    for name, other in (("same", x), ("near", near), ("far", far)):
        metrics = ImageMetrics(("lpips",), lpips_net="squeeze")
        metrics.update(x, content=other)
        values[name] = metrics.compute()["lpips"]
    assert values["same"] == 0.0
    assert 0.0 < values["near"] < values["far"] < 1.0

    diversity = ImageMetrics(("lpips_diversity",), lpips_net="squeeze")
    diversity.update_diversity(torch.stack([x[:1].expand(3, -1, -1, -1)]))  # one input, 3 identical outputs
    assert diversity.compute()["lpips_diversity"] == 0.0
    diversity.reset()
    diversity.update_diversity([x, far[:2]])  # groups of 4 and 2 outputs: 6 + 1 pairs
    assert diversity.lpips_diversity.weight.item() == 7
    assert diversity.compute()["lpips_diversity"] > 0.05


def test_artfid_is_one_plus_lpips_times_one_plus_fid(lpips_hub: Path):
    net = CountingFeatures()
    style, content = images(16, seed=30, size=40), images(16, seed=31, size=48)  # content resized to 40
    stylized = (content[:, :, :40, :40] * 0.5 + style * 0.5).clamp(-1, 1)
    metrics = ImageMetrics(("artfid",), feature_network=net, lpips_net="squeeze")
    metrics.update(stylized, reference=style, content=content)
    values = metrics.compute()
    assert list(values) == ["fid", "lpips", "artfid"]
    assert values["artfid"] == pytest.approx((1 + values["lpips"]) * (1 + values["fid"]))
    assert art_fid(0.5, 10.0) == pytest.approx(16.5)


def test_lpips_offline_without_cached_weights_names_file_url_and_path(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsUnavailableError) as info:
        create_lpips_network("alex")
    message = str(info.value)
    assert "alexnet-owt-7be5be79.pth" in message
    assert lpips_backbone_url("alex") in message
    assert str(tmp_path / "empty" / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth") in message
    with pytest.raises(WeightsUnavailableError):
        ImageMetrics(("lpips",))


# ------------------------------------------------------------------------------------------ PSNR / SSIM
def test_psnr_and_ssim_on_pairs():
    x = images(3, seed=40, size=32) * 0.8
    metrics = ImageMetrics(("psnr", "ssim"))
    metrics.update(x + 0.1, reference=x)  # MSE 0.01 on a data range of 2: 10 log10(4 / 0.01) dB
    values = metrics.compute()
    assert values["psnr"] == pytest.approx(10 * np.log10(4 / 0.01), rel=1e-4)
    assert 0.0 < values["ssim"] < 1.0
    metrics.reset()
    metrics.update(x, reference=x)
    values = metrics.compute()
    assert values["psnr"] == float("inf") and values["ssim"] == pytest.approx(1.0)
    with pytest.raises(MetricInputError, match="same shape"):
        metrics.update_paired(x, x[:, :, :16])


def test_ssim_is_the_standard_ssim_of_images_in_unit_range():
    # SSIM is not shift invariant: it must be computed on [0, 1] images with data range 1, not on [-1, 1]
    from torchmetrics.image import StructuralSimilarityIndexMeasure

    x = images(4, seed=41, size=24)
    y = (x + 0.3 * images(4, seed=42, size=24)).clamp(-1, 1)
    metrics = ImageMetrics(("ssim",))
    metrics.update_paired(x[:2], y[:2])
    metrics.update_paired(x[2:], y[2:])
    expected = StructuralSimilarityIndexMeasure(data_range=1.0)((x + 1) / 2, (y + 1) / 2)
    assert metrics.compute()["ssim"] == pytest.approx(float(expected), rel=1e-5)
    assert float(expected) != pytest.approx(float(StructuralSimilarityIndexMeasure(data_range=(-1.0, 1.0))(x, y)))
    with pytest.raises(MetricInputError, match="at least 6x6"):
        PerImageSSIM().update(x[:, :, :5, :5], y[:, :, :5, :5])
    with pytest.raises(MetricInputError, match="same shape"):
        PerImagePSNR().update(x, y[:3])


# -------------------------------------------------------------------------- the FID Inception-v3 weights
def test_inception_offline_without_cached_weights_names_file_url_and_path(tmp_path: Path, monkeypatch):
    pytest.importorskip("torch_fidelity")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty"))

    def offline(url, dst, *args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    with pytest.raises(WeightsUnavailableError) as info:
        InceptionFeatures()
    message = str(info.value)
    assert "weights-inception-2015-12-05-6726825d.pth" in message and FID_INCEPTION_URL in message
    assert str(tmp_path / "empty" / "hub" / "checkpoints" / "weights-inception-2015-12-05-6726825d.pth") in message
    assert "--feature_weights" in message
    with pytest.raises(WeightsUnavailableError):
        ImageMetrics(("fid",))
    with pytest.raises(FileMissingError, match="missing.pth"):  # a weights file, not a dataset
        InceptionFeatures(tmp_path / "missing.pth")


class _Payload:  # pickled by reference: loading it with weights_only=False would import this class
    pass


def test_inception_weights_files_are_checked(tmp_path: Path):
    pytest.importorskip("torch_fidelity")
    unsafe = tmp_path / "unsafe.pth"
    torch.save({"x": _Payload()}, unsafe)
    with pytest.raises(UnsafeFileError):
        InceptionFeatures(unsafe)
    wrong = tmp_path / "wrong.pth"
    torch.save({"conv.weight": torch.zeros(1)}, wrong)
    with pytest.raises(UnreadableFileError, match="does not fit the FID Inception-v3"):
        InceptionFeatures(wrong)


def test_inception_from_the_hub_cache_with_random_weights(tmp_path: Path, monkeypatch):
    pytest.importorskip("torch_fidelity")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = fid_inception_path()
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(random_inception_state(), path)

    def no_download(*args, **kwargs):
        raise AssertionError("the cached file must be used")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_download)
    features = InceptionFeatures()
    x = ((images(1, seed=50, size=40) + 1) * 127.5).round() / 127.5 - 1  # exactly on the 8-bit levels
    # inputs are rounded to 8 bits as when saved: a change below half a level changes nothing
    out = features(torch.cat([x, x + 0.3 / 127.5]))
    assert out.shape == (2, 2048) and out.dtype == torch.float32 and torch.isfinite(out).all()
    assert torch.equal(out[0], out[1]) and out.abs().mean() > 1e-3
    assert not torch.equal(features(-x)[0], out[0])
    features.train()
    assert not features.training and not any(p.requires_grad for p in features.parameters())

    metrics = ImageMetrics(("fid", "kid"))  # the default feature network: this cached Inception
    assert isinstance(metrics.feature_network, InceptionFeatures) and metrics.num_features == 2048
    assert metrics.feature_network.weights_path == str(path)


# ---------------------------------------------------------------------------- Lightning / nn.Module use
def test_pretrained_networks_stay_out_of_checkpoints_and_parameters_and_follow_the_device(lpips_hub: Path):
    metrics = ImageMetrics(("fid", "lpips"), feature_network=CountingFeatures(), lpips_net="squeeze")
    parent = nn.ModuleDict({"val_metrics": metrics, "generator": nn.Conv2d(3, 3, 1)})
    state = parent.state_dict()
    assert set(state) == {"generator.weight", "generator.bias"}
    parent.load_state_dict(state, strict=True)
    assert len(list(parent.parameters())) == 2
    parent.train()
    assert metrics.training
    assert not metrics.feature_network.training and not metrics.lpips_network.training
    parent.to(torch.float64)  # e.g. .double() / .half() of a model: the metric networks stay in float32
    assert metrics.feature_network.proj.weight.dtype == torch.float32
    parent.to("meta")
    assert metrics.feature_network.proj.weight.device.type == "meta" and metrics.device.type == "meta"


# ------------------------------------------------------------------------------------- two processes (DDP)
def _ddp_worker(rank: int, world_size: int, port: int, reference: torch.Tensor, fake: torch.Tensor, out: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=world_size)
    try:
        metrics = ImageMetrics(("fid", "kid", "psnr"), feature_network=CountingFeatures(), kid_subset_size=100)
        metrics.set_reference(ReferenceStatistics.from_features(CountingFeatures()(reference).detach()))
        shard = fake[:12] if rank == 0 else fake[12:]  # uneven shards: 3 batches on rank 0, 1 on rank 1
        for chunk in shard.split(4):
            metrics.update_distribution(generated=chunk)
            metrics.update_paired(chunk, (chunk * 0.9).clamp(-1, 1))
        torch.manual_seed(0)
        with pytest.warns(UserWarning, match="using subsets"):
            values = metrics.compute()
        torch.save(values, f"{out}.{rank}")
    finally:
        dist.destroy_process_group()


def test_values_are_reduced_across_processes(tmp_path: Path):
    import torch.multiprocessing as mp

    reference, fake = images(14, seed=60), (images(16, seed=61) * 0.5).clamp(-1, 1)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = str(tmp_path / "values")
    mp.spawn(_ddp_worker, args=(2, port, reference, fake, out), nprocs=2, join=True)
    single = ImageMetrics(("fid", "kid", "psnr"), feature_network=CountingFeatures(), kid_subset_size=100)
    single.update_distribution(generated=fake, reference=reference)
    single.update_paired(fake, (fake * 0.9).clamp(-1, 1))
    torch.manual_seed(0)
    with pytest.warns(UserWarning):
        expected = single.compute()
    for rank in range(2):
        values = torch.load(f"{out}.{rank}")
        assert values["fid"] == pytest.approx(expected["fid"], rel=1e-5)
        assert values["kid"] == pytest.approx(expected["kid"], rel=1e-4)  # subsets = whole sets: deterministic
        assert values["psnr"] == pytest.approx(expected["psnr"], rel=1e-5)
