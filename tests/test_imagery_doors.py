"""A model trained on data other than 8-bit RGB (16-bit, 1 band, N bands) reads and writes files in that data's
values through every door: the checkpoint records the data's scaling (``gan_style_scaling``), the one loader gives
it to the stylizer, and ``stylize`` and ``gan_style.load`` read with it and write its inverse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from gan_style.io.imagery import Scaling, read_array, write_array
from gan_style.nets import ResnetGenerator


def _checkpoint(path: Path, bands: int, scaling: dict | None) -> dict[str, torch.nn.Module]:
    torch.manual_seed(0)
    nets = {name: ResnetGenerator(input_nc=bands, output_nc=bands, ngf=4, n_blocks=1) for name in ("ab", "ba")}
    spec = {"class_path": "gan_style.nets.ResnetGenerator", "init_args": {"input_nc": bands, "output_nc": bands,
                                                                          "ngf": 4, "n_blocks": 1}}  # fmt: skip
    state = {f"generator_{n}.{k}": v for n, net in nets.items() for k, v in net.state_dict().items()}
    data = {
        "gan_style_class": "gan_style.methods.cyclegan.CycleGAN",
        "hyper_parameters": {"generator_ab": spec, "generator_ba": spec},
        "state_dict": state,
    }
    if scaling is not None:
        data["gan_style_scaling"] = scaling
    torch.save(data, path)
    return {k: v.eval() for k, v in nets.items()}


def _expected(net, array: np.ndarray, reads: Scaling, writes: Scaling) -> np.ndarray:
    with torch.no_grad():
        return writes.from_tensor(net(reads.to_tensor(array).unsqueeze(0)).clamp(-1, 1)[0])


@pytest.mark.parametrize(("bands", "dtype", "suffix"), [(1, "uint16", ".png"), (4, "uint16", ".tif")])
def test_stylize_and_the_notebook_api_keep_the_datas_type_and_bands(bands, dtype, suffix, tmp_path):
    import gan_style
    from gan_style.commands.stylize import stylize

    ranges = {"A": {"kind": "range", "dtype": dtype, "low": 1000, "high": 9000},
              "B": {"kind": "range", "dtype": dtype}}  # fmt: skip
    nets = _checkpoint(tmp_path / "m.ckpt", bands, ranges)
    rng = np.random.default_rng(0)
    scan = rng.integers(1000, 9000, (36, 44, bands)).astype(dtype)
    source = tmp_path / "in" / f"scan{suffix}"
    source.parent.mkdir()
    write_array(source, scan)
    written = stylize(str(source), checkpoint=str(tmp_path / "m.ckpt"), output_dir=str(tmp_path / "out"))
    assert [p.name for p in written] == [f"scan{suffix}"]
    got = read_array(written[0])
    assert got.dtype == np.dtype(dtype) and got.shape == (36, 44, bands)
    a, b = Scaling.from_dict(ranges["A"]), Scaling.from_dict(ranges["B"])
    expected = _expected(nets["ab"], read_array(source), a, b).reshape(got.shape)
    assert np.abs(got.astype(np.int64) - expected.astype(np.int64)).max() <= 1
    assert got.max() > 255  # 16-bit values, not 8-bit ones scaled up
    pipe = gan_style.load(str(tmp_path / "m.ckpt"))
    assert np.array_equal(pipe(str(source)).reshape(got.shape), got)  # the notebook API: the same values
    assert np.array_equal(pipe(scan).reshape(got.shape), got)
    back = gan_style.load(str(tmp_path / "m.ckpt"), network="generator_ba")
    assert back.stylizer.input_scaling == b and back.stylizer.output_scaling == a


def test_8bit_rgb_models_have_no_scaling_and_a_bad_entry_is_one_line(tmp_path):
    from gan_style.errors import ModelConfigError
    from gan_style.loading import load_stylizer

    _checkpoint(tmp_path / "rgb.ckpt", 3, None)
    stylizer = load_stylizer(tmp_path / "rgb.ckpt")
    assert stylizer.input_scaling is None and stylizer.output_scaling is None
    _checkpoint(tmp_path / "bad.ckpt", 1, {"A": {"kind": "range", "dtype": "uint16", "low": "os.system"}})
    with pytest.raises(ModelConfigError, match="gan_style_scaling.A"):
        load_stylizer(tmp_path / "bad.ckpt")


def test_a_video_through_an_n_band_model_is_one_line(tmp_path):
    from gan_style.commands.stylize import stylize
    from gan_style.errors import InvalidSettingError

    _checkpoint(
        tmp_path / "m.ckpt", 4, {"A": {"kind": "range", "dtype": "uint16"}, "B": {"kind": "range", "dtype": "uint16"}}
    )
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"")  # refused before it is opened
    with pytest.raises(InvalidSettingError, match="videos are 8-bit RGB.*4-band uint16"):
        stylize(str(clip), checkpoint=str(tmp_path / "m.ckpt"), output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("bands, dtype, suffix", [(1, "uint16", ".png"), (3, "uint16", ".png"), (4, "uint16", ".tif")])
def test_a_unet_is_written_in_the_format_its_last_transposed_convolution_gives(bands, dtype, suffix):
    from gan_style.inference.run import output_suffix
    from gan_style.inference.stylizer import GeneratorStylizer
    from gan_style.nets import UnetGenerator

    stylizer = GeneratorStylizer(UnetGenerator(input_nc=bands, output_nc=bands, num_downs=5, ngf=4))
    stylizer.output_scaling = Scaling(dtype=dtype)
    assert output_suffix(stylizer) == suffix


@pytest.mark.parametrize("network, reads, writes", [(None, "uint16", "uint8"), ("generator_ba", "uint8", "uint16"),
                                                     ("a_to_b", "uint16", "uint8"), ("b_to_a", "uint8", "uint16")])  # fmt: skip
def test_each_direction_reads_its_own_domains_scaling(network, reads, writes):
    from types import SimpleNamespace

    from gan_style.loading.stylizers import attach_scaling

    stored = {"A": Scaling(dtype="uint16").to_dict(), "B": Scaling(dtype="uint8").to_dict()}
    stylizer = attach_scaling(SimpleNamespace(), stored, network, "test")
    assert (stylizer.input_scaling.dtype, stylizer.output_scaling.dtype) == (reads, writes)


def test_a_model_without_its_scaling_or_a_file_of_another_type_is_one_line(tmp_path):
    from gan_style.commands.stylize import stylize
    from gan_style.errors import ImageLoadError, ModelConfigError

    source = tmp_path / "in" / "scan.tif"
    write_array(source, np.zeros((16, 16, 4), np.uint8))
    _checkpoint(tmp_path / "old.ckpt", 4, None)  # a 4-band network, no recorded scaling
    with pytest.raises(ModelConfigError, match=r"reads 4-band images but its file records no scaling") as info:
        stylize(str(source), checkpoint=str(tmp_path / "old.ckpt"), output_dir=str(tmp_path / "out"))
    assert "\n" not in str(info.value)
    _checkpoint(
        tmp_path / "m.ckpt", 4, {"A": {"kind": "range", "dtype": "uint16"}, "B": {"kind": "range", "dtype": "uint16"}}
    )
    with pytest.raises(ImageLoadError, match=r"holds uint8 values, but the model was trained on uint16 data; give it"):
        stylize(str(source), checkpoint=str(tmp_path / "m.ckpt"), output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
