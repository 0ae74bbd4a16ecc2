"""Diverse outputs through the Stylizer contract (``stochastic``, ``style_optional``, the ``seed`` control): the doors
draw samples from seeds, never naming a method. A small stochastic stylizer stands in for a trained one here;
tests/test_munit.py runs the same doors with MUNIT."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from gan_style.errors import InvalidSettingError
from gan_style.inference.run import Runner
from gan_style.inference.stylizer import GeneratorStylizer, Stylizer


class NoisyStylizer(Stylizer):
    """content + a colour drawn from ``seed`` (or the mean colour of the example style image), clamped."""

    takes_style = True
    style_optional = True
    stochastic = True
    controls = ("seed",)

    def run(self, content, styles, seed=0, **controls):
        if styles:
            shift = styles[0].mean(dim=(2, 3), keepdim=True)
        else:
            gen = torch.Generator().manual_seed(seed)
            shift = torch.rand(1, content.shape[1], 1, 1, generator=gen) - 0.5
        return (content + shift.to(content)).clamp(-1, 1)


def _photo(folder: Path, name: str = "photo.png", size=(40, 28)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)).save(folder / name)
    return folder / name


@pytest.fixture
def noisy(monkeypatch):
    import gan_style.commands.stylize as command

    stylizer = NoisyStylizer().eval()
    monkeypatch.setattr(command, "load_stylizer", lambda *args, **kwargs: (stylizer, stylizer.describe()))
    return stylizer


def _array(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def test_num_samples_writes_each_sample_and_a_grid_reproducibly(noisy, tmp_path):
    from gan_style.commands.stylize import stylize

    photo = _photo(tmp_path / "in")
    written = stylize(str(photo), checkpoint="model.ckpt", output_dir=str(tmp_path / "a"), num_samples=3, seed=5)
    names = sorted(p.name for p in written)
    assert names == ["photo_sample0.png", "photo_sample1.png", "photo_sample2.png", "photo_samples.png"]
    samples = [_array(tmp_path / "a" / f"photo_sample{k}.png") for k in range(3)]
    assert all(s.shape == (28, 40, 3) for s in samples)
    assert np.abs(samples[0] - samples[1]).mean() > 1 and np.abs(samples[1] - samples[2]).mean() > 1  # diverse
    with Image.open(tmp_path / "a" / "photo_samples.png") as grid:
        assert grid.size == (3 * 40 + 4 * 4, 28 + 2 * 4)  # one row of 3, 4-pixel gaps
    # sample k is seed + k: the same command, or seed 6 alone, gives the same pixels
    again = stylize(str(photo), checkpoint="model.ckpt", output_dir=str(tmp_path / "b"), seed=6)
    assert [p.name for p in again] == ["photo.png"]
    assert np.array_equal(_array(again[0]), samples[1])


def test_an_example_style_image_replaces_the_random_draw(noisy, tmp_path):
    from gan_style.commands.stylize import stylize

    photo = _photo(tmp_path / "in")
    example = tmp_path / "in" / "example.png"
    Image.new("RGB", (16, 16), (255, 0, 0)).save(example)
    out = stylize(str(photo), style=str(example), checkpoint="model.ckpt", output_dir=str(tmp_path / "o"))
    assert [p.name for p in out] == ["photo_example.png"]
    got, content = _array(out[0]), _array(photo)
    assert (got[..., 0] >= content[..., 0]).all() and got[..., 0].mean() > content[..., 0].mean() + 50


def test_deterministic_models_refuse_samples_and_seeds_in_one_line(monkeypatch, tmp_path):
    import gan_style.commands.stylize as command

    plain = GeneratorStylizer(torch.nn.Identity(), name="a generator").eval()
    monkeypatch.setattr(command, "load_stylizer", lambda *args, **kwargs: (plain, plain.describe()))
    photo = _photo(tmp_path / "in")
    for kwargs, needle in (({"num_samples": 4}, "--num_samples is for models with diverse"), ({"seed": 1}, "--seed")):
        with pytest.raises(InvalidSettingError, match=needle):
            command.stylize(str(photo), checkpoint="m.ckpt", output_dir=str(tmp_path / "o"), **kwargs)
    with pytest.raises(InvalidSettingError, match="num_samples must be an integer >= 1"):
        command.stylize(str(photo), checkpoint="m.ckpt", output_dir=str(tmp_path / "o"), num_samples=0)
    assert not (tmp_path / "o").exists()


def test_the_seed_holds_the_draw_fixed_across_tiles():
    stylizer = NoisyStylizer().eval()
    x = torch.rand(1, 3, 96, 128) * 2 - 1
    whole = Runner(stylizer)(x, seed=3)
    tiled = Runner(stylizer, tile=64, tile_overlap=16)(x, seed=3)
    assert torch.allclose(whole, tiled, atol=1e-5)
    assert not torch.allclose(whole, Runner(stylizer)(x, seed=4))
    with pytest.raises(ValueError, match="--seed must be an integer >= 0"):
        Runner(stylizer)(x, seed=-1)


def test_the_notebook_api_gives_the_same_samples_as_stylize(noisy, tmp_path):
    from gan_style.commands.stylize import stylize
    from gan_style.pipeline import Pipeline

    photo = _photo(tmp_path / "in")
    stylize(str(photo), checkpoint="model.ckpt", output_dir=str(tmp_path / "o"), num_samples=2, seed=9)
    got = Pipeline(noisy).samples(str(photo), 2, seed=9)
    for k, image in enumerate(got):
        assert np.array_equal(np.asarray(image, dtype=np.int16), _array(tmp_path / "o" / f"photo_sample{k}.png"))
    with pytest.raises(ValueError, match="samples\\(\\) is for models with diverse outputs"):
        Pipeline(GeneratorStylizer(torch.nn.Identity())).samples(str(photo), 2)


def test_the_demo_draws_samples_side_by_side_and_names_the_command(noisy, tmp_path):
    pytest.importorskip("gradio")
    from gan_style.commands.stylize import stylize
    from gan_style.demo import app
    from gan_style.demo.models import DemoModel

    photo = _photo(tmp_path / "uploads")
    model = DemoModel("noisy", "MUNIT", noisy, ["--checkpoint", "m.ckpt"])
    page = app.build_demo([model], "cpu", max_pixels=1_000_000, examples=([photo], []))
    run = {f.api_name: f.fn for f in page.fns.values()}["stylize"]
    args = ["noisy", str(photo), [], "", [], 1.0, "model's setting", "auto", 0, 64, "image"]
    result, info = run(*args, 3, 2, request=None, progress=lambda *a, **k: None)
    with Image.open(result) as grid:
        assert grid.size == (3 * 40 + 4 * 4, 28 + 2 * 4)
    assert "--num_samples 3 --seed 2" in info
    single, info = run(*args, 1, 3, request=None, progress=lambda *a, **k: None)
    assert "--seed 3" in info and "--num_samples" not in info
    out = stylize(str(photo), checkpoint="m.ckpt", output_dir=str(tmp_path / "o"), seed=3)
    assert np.array_equal(_array(Path(single)), _array(out[0]))  # the demo's pixels are the command's


def test_a_clip_keeps_one_drawn_style_for_every_frame():
    from gan_style.inference.video import ClipStylizer

    stylizer = NoisyStylizer().eval()
    clip = ClipStylizer(stylizer, None, "none", 2, "auto", "cpu", 0.9, 0.7, expected_frames=40, seed=4)
    frames = torch.rand(6, 3, 24, 32) * 2 - 1
    with torch.no_grad():
        out = torch.cat([clip(frames[i : i + 2]) for i in range(0, 6, 2)])
        expected = torch.cat([stylizer(frames[i : i + 1], seed=4) for i in range(6)])
    assert torch.allclose(out, expected, atol=1e-6)
