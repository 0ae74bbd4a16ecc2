"""``gan-style evaluate`` on folders written by the tests: the printed table, the JSON file, how files are
paired, the reuse of cached reference statistics, and one-line errors. No network: the Inception and LPIPS
weights are random state dicts in temporary files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from conftest import write_image
from gan_style.commands.evaluate import evaluate, main, match_files
from gan_style.errors import DatasetNotFoundError
from gan_style.metrics import MetricInputError, lpips_backbone_path


def random_inception_state() -> dict[str, torch.Tensor]:
    """Random weights with the FID Inception-v3's layout (torchvision Inception3 names, a 1008-class fc, no
    AuxLogits); conv weights scaled to He initialisation so the features neither vanish nor explode."""
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    return {k: v * 6**0.5 if k.endswith("conv.weight") else v for k, v in net.state_dict().items()}


class CountingFeatures(nn.Module):
    """4x4 average pooling and a fixed random projection to 8-d; counts its calls."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(0)
        self.proj = nn.Linear(48, 8)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(8, 48, generator=generator) / 4)
            self.proj.bias.zero_()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.proj(F.adaptive_avg_pool2d(x, 4).flatten(1))


@pytest.fixture(scope="module")
def random_inception(tmp_path_factory) -> Path:
    """A random-weight state dict with the FID Inception-v3's layout (torchvision names, 1008 classes)."""
    path = tmp_path_factory.mktemp("weights") / "pt_inception-random.pth"
    torch.manual_seed(0)
    torch.save(random_inception_state(), path)
    return path


@pytest.fixture
def squeeze_lpips(tmp_path: Path, monkeypatch) -> None:
    """A temporary torch hub cache holding a random-weight SqueezeNet 1.1 (LPIPS 'squeeze' backbone)."""
    import torchvision

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    path = lpips_backbone_path("squeeze")
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), path)


def one_line_error(capsys, argv: list[str], status: int = 2) -> str:
    """The one-line error of ``gan-style evaluate argv``; status 2: a bad request (gan_style.commands.runner)."""
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == status
    err = capsys.readouterr().err.strip()
    assert err.startswith("gan-style evaluate: error: ") and "\n" not in err and "Traceback" not in err
    return err


def test_kid_with_an_inception_weights_file(tmp_path: Path, random_inception: Path, capsys):
    pytest.importorskip("torch_fidelity")
    for i in range(2):
        write_image(tmp_path / "gen" / f"g{i}.png", size=(48, 40), seed=i)
        write_image(tmp_path / "ref" / f"r{i}.jpg", size=(40, 48), seed=10 + i)
    out = tmp_path / "out" / "metrics.json"
    # KID only: torchmetrics' FID of 2048-d features (a 2048 x 2048 eigendecomposition) takes tens of seconds
    # on a small CPU; FID through the command is checked with a small feature network below
    argv = ["--generated", str(tmp_path / "gen"), "--reference", str(tmp_path / "ref"), "--metrics", "kid"]
    argv += ["--size", "0", "--device", "cpu", "--output", str(out), "--feature_weights", str(random_inception)]
    argv += ["--cache_dir", str(tmp_path / "cache")]
    main(argv)
    captured = capsys.readouterr()
    assert "note: KID subset size 1000 is larger than the 2 reference / 2 generated images" in captured.err
    printed = captured.out
    assert "2 generated image(s)" in printed and "metric" in printed and "better" in printed
    assert any(line.split()[:1] == ["kid"] and line.split()[-1] == "lower" for line in printed.splitlines())
    record = json.loads(out.read_text())
    assert set(record["metrics"]) == {"kid", "kid_std"}
    assert record["metrics"]["kid"] != 0 and record["metrics"]["kid_std"] == 0.0  # subsets of 2 = the whole sets
    assert record["counts"] == {"generated": 2, "reference": 2, "content": 0}
    assert record["feature_network"] == str(random_inception) and record["size"] is None
    assert len(list((tmp_path / "cache").glob("ref-*.pt"))) == 1
    assert not list(out.parent.glob(".*tmp*"))  # written atomically, no temporary file left


def test_style_transfer_lpips_artfid_diversity_and_cached_reference(tmp_path: Path, squeeze_lpips, capsys):
    gen, content, style = tmp_path / "stylized", tmp_path / "content", tmp_path / "style"
    write_image(content / "photo.png", size=(64, 64), seed=1)
    write_image(content / "photo_2.png", size=(80, 72), seed=2)  # another size: resized for LPIPS
    for s in range(3):
        write_image(style / f"art{s}.png", size=(64, 64), seed=20 + s)
        # stylize names its outputs <content>_<style>.png; 'photo_2_art0' belongs to 'photo_2', not 'photo'
        write_image(gen / f"photo_art{s}.png", size=(64, 64), seed=30 + s)
        write_image(gen / f"photo_2_art{s}.png", size=(64, 64), seed=40 + s)
    net = CountingFeatures()
    kwargs = dict(generated=gen, reference=style, content=content, size=32, batch_size=4, device="cpu")
    values = evaluate(
        **kwargs,
        metrics=["artfid", "lpips_diversity", "kid"],
        lpips_net="squeeze",
        kid_subset_size=3,
        cache_dir=tmp_path / "cache",
        feature_network=net,
        output=tmp_path / "m.json",
    )
    assert list(values) == ["fid", "kid", "kid_std", "lpips", "lpips_diversity", "artfid"]
    assert values["artfid"] == pytest.approx((1 + values["lpips"]) * (1 + values["fid"]))
    assert values["lpips"] > 0 and values["lpips_diversity"] > 0
    assert net.calls == 1 + 2  # 3 style images in one batch, 6 generated images in two batches
    record = json.loads((tmp_path / "m.json").read_text())
    assert record["metrics"]["artfid"] == pytest.approx(values["artfid"])
    assert record["lpips_net"] == "squeeze" and record["counts"]["content"] == 2

    net.calls = 0
    again = evaluate(**kwargs, metrics=["fid"], lpips_net="squeeze", cache_dir=tmp_path / "cache", feature_network=net)
    assert net.calls == 2  # the reference statistics came from the cache: only the generated images ran
    assert again["fid"] == pytest.approx(values["fid"], rel=1e-6)
    assert "lpips_diversity" in capsys.readouterr().out


def test_lpips_through_the_command_line(tmp_path: Path, squeeze_lpips, capsys):
    for name, seed in (("a", 1), ("b", 2)):
        write_image(tmp_path / "content" / f"{name}.png", size=(64, 64), seed=seed)
        write_image(tmp_path / "gen" / f"{name}_s.png", size=(64, 64), seed=seed + 10)
    out = tmp_path / "m.json"
    main(
        ["--generated", str(tmp_path / "gen"), "--content", str(tmp_path / "content"), "--metrics", "lpips"]
        + ["--lpips_net", "squeeze", "--device", "cpu", "--output", str(out)]
    )
    assert json.loads(out.read_text())["metrics"]["lpips"] > 0
    assert "lpips" in capsys.readouterr().out


def _write_rgb(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr.astype(np.uint8), "RGB").save(path)


def test_psnr_and_ssim_pair_files_by_name(tmp_path: Path, capsys):
    rng = np.random.default_rng(0)
    for name in ("a", "sub/b"):
        arr = rng.integers(20, 230, (32, 32, 3))
        _write_rgb(tmp_path / "ref" / f"{name}.bmp", arr)  # same name, other extension
        _write_rgb(tmp_path / "gen" / f"{name}.png", arr + 10)  # off by 10 levels everywhere
    _write_rgb(tmp_path / "ref" / "unused.png", rng.integers(0, 255, (32, 32, 3)))  # extra references are fine
    out = tmp_path / "m.json"
    argv = ["--generated", str(tmp_path / "gen"), "--reference", str(tmp_path / "ref"), "--metrics", "[psnr,ssim]"]
    main([*argv, "--output", str(out), "--device", "cpu"])
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["psnr"] == pytest.approx(20 * np.log10(255 / 10), rel=1e-3)
    assert 0 < metrics["ssim"] < 1
    assert "psnr" in capsys.readouterr().out

    # identical pairs: PSNR is infinite, written as null
    # the metrics as separate words, a switch without its value: the classic command-line forms
    main(["--generated", str(tmp_path / "ref"), "--reference", str(tmp_path / "ref"), "--metrics", "psnr", "ssim"]
         + ["--no_cache", "--output", str(out), "--device", "cpu"])  # fmt: skip
    metrics = json.loads(out.read_text())["metrics"]
    assert metrics["psnr"] is None and metrics["ssim"] == pytest.approx(1.0)
    assert "inf" in capsys.readouterr().out

    _write_rgb(tmp_path / "gen" / "c.png", rng.integers(0, 255, (32, 32, 3)))
    err = one_line_error(capsys, [*argv, "--device", "cpu"])
    assert "1 of 3 generated image(s)" in err and "'c.png'" in err and "no reference image" in err

    (tmp_path / "gen" / "c.png").unlink()
    _write_rgb(tmp_path / "gen" / "unused.png", rng.integers(0, 255, (16, 16, 3)))
    err = one_line_error(capsys, [*argv, "--device", "cpu"])
    assert "unused.png" in err and "16x16" in err and "32x32" in err


def test_one_line_errors_name_the_folder_or_setting(tmp_path: Path, capsys):
    write_image(tmp_path / "gen" / "a.png")
    write_image(tmp_path / "gen" / "b.png")
    err = one_line_error(capsys, ["--generated", str(tmp_path / "nope"), "--metrics", "psnr", "--reference", "x"])
    assert "nope" in err and "does not exist" in err
    err = one_line_error(capsys, ["--generated", str(tmp_path / "gen"), "--metrics", "lpips"])
    assert "--content" in err
    err = one_line_error(capsys, ["--generated", str(tmp_path / "gen"), "--metrics", "fid"])
    assert "--reference" in err
    err = one_line_error(
        capsys, ["--generated", str(tmp_path / "gen"), "--metrics", "lpips_diversity", "--device", "gpu0"]
    )
    assert "--device" in err
    err = one_line_error(capsys, ["--generated", str(tmp_path / "gen"), "--metrics", "fid", "sharpness"])
    assert "'sharpness'" in err and "choose from" in err
    (tmp_path / "empty").mkdir()
    err = one_line_error(capsys, ["--generated", str(tmp_path / "gen"), "--reference", str(tmp_path / "empty")])
    assert "empty" in err and "contains no images" in err
    with pytest.raises(SystemExit) as exit_info:  # malformed: the parser's own message, status 2
        main(["--generated", str(tmp_path / "gen"), "--batch_size", "many"])
    assert exit_info.value.code == 2 and "batch_size" in capsys.readouterr().err


def test_match_files_by_name_and_by_content_prefix(tmp_path: Path):
    gen = [tmp_path / "g" / n for n in ("a_s.png", "a_b_s.png", "a_b.png", "x_y_z.png")]
    content = [tmp_path / "c" / n for n in ("a.jpg", "a_b.png", "x.png")]
    pairs = match_files(gen, tmp_path / "g", content, tmp_path / "c", "content", prefix=True)
    assert [(g.name, c.name) for g, c in pairs] == [
        ("a_s.png", "a.jpg"),
        ("a_b_s.png", "a_b.png"),  # the longest prefix wins
        ("a_b.png", "a_b.png"),  # an exact name first
        ("x_y_z.png", "x.png"),
    ]
    with pytest.raises(DatasetNotFoundError, match="'a_s.png'"):
        match_files(gen, tmp_path / "g", content, tmp_path / "c", "reference")
    with pytest.raises(DatasetNotFoundError, match="same name without extension"):
        match_files(gen, tmp_path / "g", [*content, tmp_path / "c" / "a.png"], tmp_path / "c", "content")
    with pytest.raises(MetricInputError, match="lpips_diversity needs at least two"):
        write_image(tmp_path / "one" / "a.png")
        evaluate(tmp_path / "one", metrics=["lpips_diversity"], lpips_net="squeeze", device="cpu")
