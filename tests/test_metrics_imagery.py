"""Metrics on data that is not 8-bit RGB, and pixel diversity.

PSNR and SSIM in the data's true range (checked against the formula and torchmetrics in the data's units), the
declared band mapping to the 3-channel networks (the bands a recording network receives, and the record in the
JSON file), the one-line errors, and the pixel diversity of groups of outputs against its formula."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn
from torchmetrics.functional.image import structural_similarity_index_measure

from gan_style.commands.evaluate import evaluate
from gan_style.errors import InvalidSettingError
from gan_style.io.imagery import write_array
from gan_style.metrics import ImageMetrics, MetricInputError


class RecordingFeatures(nn.Module):
    """Mean of each of the 3 channels and of their squares (6-d); keeps every batch it receives."""

    num_features = 6

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        assert x.shape[1] == 3
        self.seen.append(x.clone())
        return torch.cat([x.mean(dim=(2, 3)), (x * x).mean(dim=(2, 3))], dim=1)


def _bands(count: int, n: int = 3, size: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, count, size, size, generator=g) * 2 - 1


@pytest.mark.parametrize(
    "count, display_bands, expected, rule",
    [
        (1, None, [0, 0, 0], "gray repeated"),
        (3, None, [0, 1, 2], "RGB as it is"),
        (4, None, [0, 1, 2], "bands 0, 1, 2 as R, G, B"),
        (13, (3, 2, 1), [3, 2, 1], "bands 3, 2, 1 as R, G, B"),
        (4, 3, [3, 3, 3], "band 3 as gray"),
    ],
)
def test_the_networks_see_the_declared_bands_and_the_record_names_them(count, display_bands, expected, rule):
    network = RecordingFeatures()
    metrics = ImageMetrics(("fid",), feature_network=network, display_bands=display_bands)
    generated, reference = _bands(count, seed=1), _bands(count, seed=2)
    metrics.update_distribution(generated=generated, reference=reference)
    assert torch.equal(network.seen[0], generated[:, expected])
    assert torch.equal(network.seen[1], reference[:, expected])
    assert math.isfinite(metrics.compute()["fid"])
    assert metrics.record()["band_mapping"] == {str(count): {"rgb_from_bands": expected, "rule": rule}}


def test_images_lacking_a_chosen_band_take_the_default_rule_and_a_malformed_choice_is_one_line():
    network = RecordingFeatures()
    metrics = ImageMetrics(("fid",), feature_network=network, display_bands=(3, 2, 1))
    gray, bands = _bands(1, seed=6), _bands(4, seed=7)
    metrics.update_distribution(generated=bands, reference=gray)  # as a gray input beside 4-band outputs
    assert torch.equal(network.seen[0], bands[:, [3, 2, 1]]) and torch.equal(network.seen[1], gray[:, [0, 0, 0]])
    assert {k: v["rule"] for k, v in metrics.record()["band_mapping"].items()} == {
        "1": "gray repeated",
        "4": "bands 3, 2, 1 as R, G, B",
    }
    with pytest.raises(MetricInputError, match="one band number or three"):
        ImageMetrics(("fid",), feature_network=RecordingFeatures(), display_bands=(0, 1))


def test_evaluate_refuses_display_bands_the_generated_files_lack(tmp_path):
    _uint16_pairs(tmp_path)
    with pytest.raises(
        MetricInputError, match=r"--display_bands: display bands \[2, 2, 2\] do not exist: the image has 1 band"
    ):
        evaluate(tmp_path / "gen", tmp_path / "ref", metrics=["psnr"], device="cpu", display_bands=2)


def test_psnr_and_ssim_use_every_band():
    metrics = ImageMetrics(("psnr", "ssim"))
    generated, reference = _bands(4, seed=3), _bands(4, seed=4)
    metrics.update_paired(generated, reference)
    values = metrics.compute()
    unit_g, unit_r = (generated + 1) / 2, (reference + 1) / 2
    mse = ((unit_g - unit_r) ** 2).mean(dim=(1, 2, 3))
    assert values["psnr"] == pytest.approx(float((10 * torch.log10(1 / mse)).mean()), rel=1e-5)
    ssim = structural_similarity_index_measure(unit_g, unit_r, data_range=1.0)
    assert values["ssim"] == pytest.approx(float(ssim), abs=1e-5)


def test_pixel_diversity_is_the_mean_pairwise_difference_on_unit_images():
    group = _bands(3, n=3, seed=5)
    metrics = ImageMetrics(("pixel_diversity",))
    metrics.update_diversity(torch.stack([group, group[[0, 0, 0]]]))  # a diverse group and a collapsed one
    unit = (group + 1) / 2
    pairs = [(unit[i] - unit[j]).abs().mean() for i, j in ((0, 1), (0, 2), (1, 2))] + [torch.tensor(0.0)] * 3
    assert metrics.compute()["pixel_diversity"] == pytest.approx(float(torch.stack(pairs).mean()), rel=1e-6)
    metrics.reset()
    metrics.update_diversity(group[[1, 1]])
    assert metrics.compute()["pixel_diversity"] == 0.0


# ------------------------------------------------------------------------------------------------ evaluate


def _uint16_pairs(root, count=3, size=24):
    rng = np.random.default_rng(0)
    truth = rng.integers(500, 3500, size=(count, size, size, 1)).astype(np.uint16)
    noise = rng.integers(-200, 200, size=truth.shape)
    outputs = np.clip(truth.astype(np.int64) + noise, 500, 3500).astype(np.uint16)
    for i in range(count):
        write_array(root / "gen" / f"{i}.png", outputs[i])
        write_array(root / "ref" / f"{i}.png", truth[i])
    return outputs.astype(np.float64), truth.astype(np.float64)


@pytest.mark.parametrize(
    "scaling, peak, low", [(None, 65535.0, 0.0), ({"dtype": "uint16", "low": 500, "high": 3500}, 3000.0, 500.0)]
)
def test_evaluate_measures_16_bit_files_in_their_true_range(tmp_path, scaling, peak, low):
    outputs, truth = _uint16_pairs(tmp_path)
    values = evaluate(
        tmp_path / "gen",
        tmp_path / "ref",
        metrics=["psnr", "ssim"],
        device="cpu",
        scaling=scaling,
        output=tmp_path / "metrics.json",
    )
    mse = ((outputs - truth) ** 2).mean(axis=(1, 2, 3))
    assert values["psnr"] == pytest.approx(float(np.mean(10 * np.log10(peak**2 / mse))), rel=1e-5)
    units = [torch.from_numpy(a).permute(0, 3, 1, 2) for a in (outputs, truth)]
    expected_ssim = structural_similarity_index_measure(units[0] - low, units[1] - low, data_range=peak)
    assert values["ssim"] == pytest.approx(float(expected_ssim), abs=1e-4)
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["scaling"]["dtype"] == "uint16"
    assert (record["scaling"]["low"], record["scaling"]["high"]) == (low, low + peak)


def test_evaluate_maps_four_bands_for_fid_and_records_the_mapping(tmp_path):
    rng = np.random.default_rng(1)
    for folder in ("gen", "ref"):
        for i in range(4):
            write_array(tmp_path / folder / f"{i}.tif", rng.integers(0, 65535, (20, 20, 4)).astype(np.uint16))
    network = RecordingFeatures()
    evaluate(
        tmp_path / "gen",
        tmp_path / "ref",
        metrics=["fid"],
        device="cpu",
        size=0,
        feature_network=network,
        display_bands=[3, 2, 1],
        output=tmp_path / "metrics.json",
    )
    record = json.loads((tmp_path / "metrics.json").read_text())
    assert record["band_mapping"] == {"4": {"rgb_from_bands": [3, 2, 1], "rule": "bands 3, 2, 1 as R, G, B"}}
    assert record["protocol_record"]["band_mapping"] == record["band_mapping"]
    assert (record["scaling"]["dtype"], record["scaling"]["low"], record["scaling"]["high"]) == ("uint16", 0, 65535)
    first = np.asarray(__import__("tifffile").imread(tmp_path / "gen" / "0.tif"), dtype=np.float64)
    expected = torch.from_numpy(first[..., [3, 2, 1]] / 65535 * 2 - 1).permute(2, 0, 1).float()
    seen = torch.cat(network.seen)
    assert any(torch.allclose(image, expected, atol=1e-6) for image in seen)


def test_evaluate_refuses_a_published_protocol_or_float_data_without_a_scaling_in_one_line(tmp_path):
    _uint16_pairs(tmp_path)
    with pytest.raises(MetricInputError, match="--protocol legacy is defined on 8-bit RGB files"):
        evaluate(tmp_path / "gen", tmp_path / "ref", metrics=["psnr"], device="cpu", protocol="legacy")
    write_array(tmp_path / "float" / "0.tif", np.zeros((8, 8, 1), np.float32))
    write_array(tmp_path / "float" / "1.tif", np.ones((8, 8, 1), np.float32))
    with pytest.raises(InvalidSettingError, match=r"float32 data.*--scaling") as info:
        evaluate(tmp_path / "float", metrics=["pixel_diversity"], device="cpu")
    assert "\n" not in str(info.value)
    values = evaluate(
        tmp_path / "float", metrics=["pixel_diversity"], device="cpu", scaling={"dtype": "float32", "low": 0, "high": 2}
    )
    assert values["pixel_diversity"] == pytest.approx(0.5)  # 0 and 1 on a 0..2 range


def test_evaluate_groups_pixel_diversity_by_content(tmp_path):
    rng = np.random.default_rng(2)
    write_array(tmp_path / "content" / "a.png", rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))
    write_array(tmp_path / "content" / "b.png", rng.integers(0, 255, (16, 16, 3), dtype=np.uint8))
    same = rng.integers(0, 255, (16, 16, 3), dtype=np.uint8)
    for k in range(3):  # a deterministic model: three equal outputs of b
        write_array(tmp_path / "gen" / f"b_sample{k}.png", same)
    black, white = np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 255, np.uint8)
    write_array(tmp_path / "gen" / "a_sample0.png", black)
    write_array(tmp_path / "gen" / "a_sample1.png", white)
    values = evaluate(tmp_path / "gen", content=tmp_path / "content", metrics=["pixel_diversity"], device="cpu")
    assert values["pixel_diversity"] == pytest.approx(1 / 4)  # pairs: a (1.0) and b's three (0)


def test_evaluate_leaves_out_the_grid_stylize_writes_beside_the_samples(tmp_path, capsys):
    black, white = np.zeros((16, 16, 3), np.uint8), np.full((16, 16, 3), 255, np.uint8)
    write_array(tmp_path / "content" / "photo.png", black)
    write_array(tmp_path / "gen" / "photo_sample0.png", black)
    write_array(tmp_path / "gen" / "photo_sample1.png", white)
    write_array(tmp_path / "gen" / "photo_samples.png", np.concatenate([black, white], axis=1))
    values = evaluate(tmp_path / "gen", content=tmp_path / "content", metrics=["pixel_diversity"], device="cpu")
    assert values["pixel_diversity"] == pytest.approx(1.0)  # one pair, black against white; the grid is not a sample
    captured = capsys.readouterr()
    assert "left out 1 sample grid(s)" in captured.err and "2 generated image(s)" in captured.out
