"""benchmarks/dcgan_objectives.py on a tiny budget: the 32x32 -> 8x8 mapping inverts the digits' upsampling, the
classifier's figures tell real digits from constant images and noise, and the table has one row per objective."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest
import torch

pytest.importorskip("sklearn")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("dcgan_objectives", REPO / "benchmarks" / "dcgan_objectives.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


@pytest.fixture(scope="module")
def classifier(bench):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # as the script: many BLAS threads on a busy small machine are slower
        return bench.train_classifier()


def test_pinv_recovers_the_8x8_digits_from_the_data_modules_32x32_images_and_area_does_not(bench):
    from gan_style.data.digits import load_digit_images

    small, large = load_digit_images(8), load_digit_images(32)
    assert (bench.to_8x8(large, "pinv") - small).abs().max() < 1e-5
    assert (bench.to_8x8(large, "area") - small).abs().max() > 0.1  # a blur, not an inverse
    levels = bench.grey_levels(small[:5])
    assert levels.min() >= 0 and levels.max() <= 16 and (abs(levels - levels.round()) < 1e-5).all()


def test_the_classifier_is_accurate_and_scores_real_digits_above_constant_images(bench, classifier):
    assert classifier.accuracy > 0.9
    assert set(classifier.train_index).isdisjoint(classifier.reference_index)
    assert set(classifier.reference_index).isdisjoint(classifier.sample_index)
    real = bench.measure_real(classifier)
    blank = bench.figures(classifier, torch.full((64, 1, 8, 8), -1.0), classifier.reference_features)
    grey = bench.figures(classifier, torch.zeros(64, 1, 8, 8), classifier.reference_features)
    assert real["is"] > 8.0 and real["classes"] == 10
    for constant in (blank, grey):
        assert constant["is"] == pytest.approx(1.0, abs=1e-6)  # every image the same p(y|x): no information
        assert constant["classes"] == 1
        assert real["is"] > constant["is"] + 5


def test_frechet_distance_of_two_real_splits_is_far_below_real_against_noise(bench, classifier):
    from gan_style.data.digits import load_digit_images

    reference = classifier.reference_features
    sample = classifier.features(bench.grey_levels(load_digit_images(8)[torch.from_numpy(classifier.sample_index)]))
    noise = torch.rand(len(sample), 1, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    real_vs_real = bench.frechet_distance(reference, sample)
    real_vs_noise = bench.frechet_distance(reference, classifier.features(bench.grey_levels(noise)))
    assert 0 <= real_vs_real < real_vs_noise / 10
    assert bench.frechet_distance(reference, reference) == pytest.approx(0.0, abs=1e-6)


def test_a_tiny_run_trains_every_objective_on_one_budget_and_tables_one_row_each(bench, tmp_path):
    args = bench._args(["--steps", "4", "--samples", "64", "--grids", str(tmp_path)])
    threads = torch.get_num_threads()
    try:
        result = bench.run(args, "python benchmarks/dcgan_objectives.py --steps 4")
    finally:
        torch.set_num_threads(threads)  # run() sets --threads for the process
    rows = result["rows"]
    assert [r["gan_mode"] for r in rows] == ["vanilla", "lsgan", "wgangp", "hinge"]
    assert {r["optimizer_steps"] for r in rows} == {4} and {r["batches"] for r in rows} == {2}
    assert [r["critic_norm"] for r in rows] == ["batch", "batch", "none", "batch"]
    for row in rows:
        assert math.isfinite(row["fid"]) and row["fid"] >= 0
        assert 1.0 - 1e-9 <= row["is"] <= 10.0 and 1 <= row["classes"] <= 10 and row["images"] == 64
        assert Path(row["grid"]).is_file()
    assert (tmp_path / "real.png").is_file()
    table_rows = [line for line in result["table"].splitlines() if line.startswith("| ") and "---" not in line]
    assert [line.split(" | ")[0][2:] for line in table_rows] == [
        "objective",
        "vanilla",
        "lsgan",
        "wgangp",
        "hinge",
        "real held-out digits",
    ]
