"""Channels, bit depth and value scaling carried through training and predict (data modules, networks, outputs,
sample grids): 1-channel 16-bit and 4-band data next to the unchanged 8-bit RGB path."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import lightning as L
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from conftest import REPO, gan_style_in_process
from gan_style.callbacks import ImageWriter, image_grid
from gan_style.data import PairedImageDataModule, UnpairedImageDataModule
from gan_style.data.samples import resolve_data_path
from gan_style.errors import InvalidSettingError
from gan_style.io.imagery import Scaling, read_array, write_array

RECIPES = REPO / "gan_style" / "recipes" / "demo"


def _digest(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.contiguous().numpy().tobytes()).hexdigest()[:16]


def _gray16_aligned(root: Path, counts=(("train", 4), ("test", 2)), size=(32, 64), seed=0) -> Path:
    """root/{train, test}/i.png: aligned A|B 1-channel uint16 PNG, values 1000-5000."""
    rng = np.random.default_rng(seed)
    for split, n in counts:
        for i in range(n):
            write_array(root / split / f"{i}.png", rng.integers(1000, 5001, (*size, 1)).astype(np.uint16))
    return root


def _multiband(root: Path, bands=4, size=(32, 32), seed=0) -> Path:
    """root/{trainA: 3, trainB: 2, testA: 2, testB: 1}/i.tif: uint16 TIFF of ``bands`` bands."""
    rng = np.random.default_rng(seed)
    for folder, n in (("trainA", 3), ("trainB", 2), ("testA", 2), ("testB", 1)):
        for i in range(n):
            write_array(root / folder / f"{i}.tif", rng.integers(0, 65536, (*size, bands)).astype(np.uint16))
    return root


def _samples_script():
    spec = importlib.util.spec_from_file_location("make_imagery_samples", REPO / "scripts" / "make_imagery_samples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# --- the 8-bit RGB path ---------------------------------------------------------------------------------------------


def test_rgb8_batches_are_bit_identical_to_the_pillow_path():
    """Digests of the tensors the 8-bit RGB path gave before channels and scaling existed (same files, seeds, sizes)."""
    paired = PairedImageDataModule(
        root=str(resolve_data_path("examples/data/facades")), direction="BtoA", load_size=72, crop_size=64, seed=7
    )
    paired.setup("fit")
    item = paired.train_set[(3, 12345)]
    assert not paired.array_data and paired.checkpoint_scalings() is None
    assert (_digest(item["A"]), _digest(item["B"])) == ("f2f46355ff4697cc", "8d5e131c86961ad8")
    unpaired = UnpairedImageDataModule(
        root=str(resolve_data_path("examples/data/photo2painting")), load_size=72, crop_size=64, seed=7
    )
    unpaired.setup("fit")
    item = unpaired.train_set[(2, 999)]
    assert (_digest(item["A"]), _digest(item["B"])) == ("ab6c35b3d70892f6", "2c7cf3c8cd416ab9")
    unpaired.setup("predict")
    item = unpaired.predict_set[0]
    assert item["A"].shape == (3, 286, 455) and _digest(item["A"]) == "84fc5f0d32f93480"
    assert unpaired.state_dict() == {"seed": 7}  # the checkpoint entry of 8-bit RGB runs is as it was


# --- batches of other data ------------------------------------------------------------------------------------------


def test_gray16_paired_batches_have_one_band_and_the_declared_scaling(tmp_path):
    root = tmp_path / "gray"
    write_array(root / "train" / "flat.png", np.full((32, 64, 1), 3000, np.uint16))
    _gray16_aligned(root, counts=(("train", 2), ("test", 1)))
    dm = PairedImageDataModule(
        root=str(root),
        channels=1,
        scaling={"dtype": "uint16", "low": 1000, "high": 5000},
        load_size=36,
        crop_size=32,
        batch_size=3,
        num_workers=0,
        serial_batches=True,
    )
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["A"].shape == (3, 1, 32, 32) and batch["B"].shape == (3, 1, 32, 32)
    assert batch["A"].dtype == torch.float32 and batch["A"].abs().max() <= 1.0
    flat = [i for i, p in enumerate(batch["A_path"]) if p.endswith("flat.png")][0]
    # 3000 of [1000, 5000] is 0.0 in [-1, 1], through the resize and crop
    torch.testing.assert_close(batch["A"][flat], torch.zeros(1, 32, 32), atol=1e-6, rtol=0)
    assert float(batch["A"].min()) < -0.9 and float(batch["A"].max()) > 0.9  # the random files use the range


def test_colourisation_reads_each_half_with_its_own_bands(tmp_path):
    """channels [1, 3]: the gray input is the luminance of the file's A half, the target its RGB B half."""
    rng = np.random.default_rng(1)
    path = tmp_path / "pairs" / "train" / "0.png"
    write_array(path, rng.integers(0, 256, (16, 32, 3)).astype(np.uint8))
    dm = PairedImageDataModule(
        root=str(tmp_path / "pairs"), channels=[1, 3], preprocess="none", flip=False, num_workers=0
    )
    dm.setup("fit")
    dm.scalings  # noqa: B018 - resolved: the files' own type, uint8 0-255
    item = dm.train_set[0]
    from gan_style.data.transforms import to_tensor
    from gan_style.io.imagery import luminance

    rgb = read_array(path)
    assert torch.equal(item["A"], Scaling().to_tensor(luminance(rgb)[:, :16]))
    assert torch.equal(item["B"], to_tensor(Image.fromarray(rgb[:, 16:])))  # 8-bit values as the Pillow path maps them
    assert dm.scalings["A"] == Scaling(dtype="uint8")


def test_four_band_unpaired_batches_and_predict_items(tmp_path):
    root = _multiband(tmp_path / "mb")
    dm = UnpairedImageDataModule(root=str(root), channels=4, load_size=36, crop_size=32, batch_size=2, num_workers=0)
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    assert batch["A"].shape == (2, 4, 32, 32) and batch["B"].shape == (2, 4, 32, 32)
    assert dm.scalings == {"A": Scaling(dtype="uint16"), "B": Scaling(dtype="uint16")}  # the files' own type
    dm.setup("predict")
    item = dm.predict_set[0]  # the whole file, scaled: exact values of the TIFF
    expected = read_array(root / "testA" / "0.tif").astype(np.float64) / 65535 * 2 - 1
    assert item["A"].shape == (4, 32, 32)
    np.testing.assert_allclose(item["A"].permute(1, 2, 0).numpy(), expected, atol=1e-6)


def test_image_transform_takes_tensors_of_any_band_count():
    from gan_style.data.transforms import CropFlip, ImageTransform

    image = torch.linspace(-1, 1, 5 * 40 * 60).reshape(5, 40, 60)
    transform = ImageTransform("resize_and_crop", load_size=36, crop_size=32)
    out = transform.apply(image, CropFlip(top=2, left=3, flip=True))
    assert out.shape == (5, 32, 32) and out.abs().max() <= 1.0
    resized = torch.nn.functional.interpolate(image[None], (36, 36), mode="bicubic", antialias=True)[0].clamp(-1, 1)
    assert torch.equal(out, resized[:, 2:34, 3:35].flip(-1))


# --- percentile scaling: computed once, stored, restored ------------------------------------------------------------


def test_percentile_scaling_is_stored_in_the_checkpoint_and_restored_on_resume(tmp_path, make_trainer):
    from lightning.pytorch.callbacks import ModelCheckpoint

    from gan_style.loading.stylizers import attach_scaling
    from gan_style.methods import Pix2Pix
    from gan_style.nets import NLayerDiscriminator, UnetGenerator

    root = _gray16_aligned(tmp_path / "gray", counts=(("train", 3),))
    settings = dict(
        root=str(root),
        channels=1,
        scaling={"kind": "percentile", "dtype": "uint16", "percentiles": [1, 99]},
        load_size=36,
        crop_size=32,
        batch_size=3,
        num_workers=0,
    )

    def model():
        return Pix2Pix(
            generator=UnetGenerator(input_nc=1, output_nc=1, num_downs=5, ngf=4),
            discriminator=NLayerDiscriminator(input_nc=2, ndf=4, n_layers=1),
        )

    L.seed_everything(0)
    dm = PairedImageDataModule(**settings)
    checkpoints = ModelCheckpoint(dirpath=tmp_path / "ckpt", save_last=True)
    make_trainer(max_steps=2, enable_checkpointing=True, callbacks=[checkpoints], limit_val_batches=0).fit(model(), dm)
    halves = [read_array(p) for p in sorted((root / "train").iterdir())]
    # direction AtoB: A is the left half of every file, B the right; every pixel is used (fewer than 16384 each)
    low_a, high_a = np.percentile(np.concatenate([h[:, :32].ravel() for h in halves]), [1, 99])
    low_b, high_b = np.percentile(np.concatenate([h[:, 32:].ravel() for h in halves]), [1, 99])
    stored = torch.load(tmp_path / "ckpt" / "last.ckpt", weights_only=True)["PairedImageDataModule"]
    assert stored["channels"] == [1, 1]
    assert stored["scaling"] == dm.checkpoint_scalings()
    assert stored["scaling"]["A"] == {
        "kind": "percentile",
        "dtype": "uint16",
        "low": [low_a],
        "high": [high_a],
        "percentiles": [1.0, 99.0],
        "per_band": True,
    }
    assert stored["scaling"]["B"]["low"] == [low_b] and stored["scaling"]["B"]["high"] == [high_b]
    # the entry's layout is what the checkpoint loader reads (gan_style_scaling)
    stylizer = attach_scaling(type("S", (), {})(), stored["scaling"], None, "test")
    assert stylizer.input_scaling.low == (low_a,) and stylizer.output_scaling.high == (high_b,)

    # resume after the data changed: the run's bounds come back from the checkpoint, not from a new computation
    write_array(root / "train" / "9.png", np.full((32, 64, 1), 60000, np.uint16))
    resumed = PairedImageDataModule(**settings)
    make_trainer(
        max_steps=4,
        enable_checkpointing=True,
        callbacks=[ModelCheckpoint(dirpath=tmp_path / "c2")],
        limit_val_batches=0,
    ).fit(model(), resumed, ckpt_path=tmp_path / "ckpt" / "last.ckpt")
    assert resumed.checkpoint_scalings() == stored["scaling"]
    assert PairedImageDataModule(**settings).scalings["A"].high[0] == 60000.0  # what a new computation would give


def test_the_model_checkpoint_records_gan_style_scaling(tmp_path, make_trainer):
    from lightning.pytorch.callbacks import ModelCheckpoint

    from gan_style.methods import Pix2Pix
    from gan_style.nets import NLayerDiscriminator, UnetGenerator

    root = _gray16_aligned(tmp_path / "gray", counts=(("train", 2),))
    dm = PairedImageDataModule(root=str(root), channels=1, load_size=36, crop_size=32, batch_size=2, num_workers=0)
    model = Pix2Pix(
        generator=UnetGenerator(input_nc=1, output_nc=1, num_downs=5, ngf=4),
        discriminator=NLayerDiscriminator(input_nc=2, ndf=4, n_layers=1),
    )
    make_trainer(
        max_steps=2,
        enable_checkpointing=True,
        callbacks=[ModelCheckpoint(dirpath=tmp_path / "c", save_last=True)],
        limit_val_batches=0,
    ).fit(model, dm)
    checkpoint = torch.load(tmp_path / "c" / "last.ckpt", weights_only=True)
    assert checkpoint["gan_style_scaling"] == {
        "A": Scaling(dtype="uint16").to_dict(),
        "B": Scaling(dtype="uint16").to_dict(),
    }


def test_checkpoint_of_other_channels_is_refused_in_one_line(tmp_path):
    root = _gray16_aligned(tmp_path / "gray", counts=(("train", 1),))
    one = PairedImageDataModule(root=str(root), channels=1, num_workers=0)
    one.setup("fit")
    state = one.state_dict()
    three = PairedImageDataModule(root=str(root), channels=3, scaling={"dtype": "uint16"}, num_workers=0)
    with pytest.raises(InvalidSettingError) as err:
        three.load_state_dict(state)
    assert "\n" not in str(err.value)
    assert "channels [1, 1]" in str(err.value) and "data.init_args.channels is [3, 3]" in str(err.value)
    with pytest.raises(InvalidSettingError, match="reads 8-bit RGB"):
        PairedImageDataModule(root=str(root)).load_state_dict(state)


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"channels": 0}, "data.init_args.channels must be a band count >= 1"),
        ({"channels": [1, 2, 3]}, "data.init_args.channels must be a band count >= 1"),
        ({"scaling": {"dtype": "uint16", "gamma": 2}}, r"data.init_args.scaling: unknown key\(s\) \['gamma'\]"),
        ({"channels": 2, "scaling": {"dtype": "uint16", "low": [0, 0, 0], "high": [1, 1, 1]}}, "bounds for 3 bands"),
        ({"channels": 4, "display_bands": [5, 1, 0]}, r"display_bands \[5, 1, 0\] names band 5"),
    ],
)
def test_bad_data_settings_are_one_line(settings, message):
    with pytest.raises(InvalidSettingError, match=message) as err:
        UnpairedImageDataModule(**settings)
    assert "\n" not in str(err.value)


# --- predict writes what came in ------------------------------------------------------------------------------------


def _predict(model, datamodule, writer, make_trainer):
    make_trainer(callbacks=[writer]).predict(model, datamodule=datamodule, return_predictions=False)
    return sorted(writer.written)


def test_predict_writes_16bit_gray_png_and_the_round_trip_is_exact(tmp_path, make_trainer):
    """An identity generator: the written file holds the input's values (within one level; here exactly)."""
    from gan_style.methods import Pix2Pix
    from gan_style.nets import NLayerDiscriminator

    root = tmp_path / "gray"
    rng = np.random.default_rng(3)
    for split in ("train", "test"):
        for name in ("x", "y"):
            for side in ("A", "B"):
                write_array(root / side / split / f"{name}.png", rng.integers(0, 65536, (32, 32, 1)).astype(np.uint16))
    dm = PairedImageDataModule(root=str(root), channels=1, load_size=32, crop_size=32, num_workers=0)
    model = Pix2Pix(generator=nn.Identity(), discriminator=NLayerDiscriminator(input_nc=2, ndf=4, n_layers=1))
    written = _predict(model, dm, ImageWriter(output_dir=str(tmp_path / "out")), make_trainer)
    assert [p.name for p in written] == ["x.png", "y.png"]
    with Image.open(written[0]) as img:
        assert img.mode == "I;16" and img.size == (32, 32)
        out = np.asarray(img)
    source = read_array(root / "A" / "test" / "x.png")[..., 0]
    assert out.dtype == np.uint16 and out.shape == (32, 32)
    assert np.abs(out.astype(np.int64) - source).max() <= 1
    assert out.min() < 1000 and out.max() > 64000  # the 16-bit range, not 8 bits


def test_predict_writes_four_band_tiff_and_refuses_png(tmp_path, make_trainer):
    from gan_style.methods import CycleGAN
    from gan_style.nets import NLayerDiscriminator

    root = _multiband(tmp_path / "mb")

    def model():
        return CycleGAN(
            generator_ab=nn.Identity(),
            generator_ba=nn.Identity(),
            discriminator_a=NLayerDiscriminator(input_nc=4, ndf=4, n_layers=1),
            discriminator_b=NLayerDiscriminator(input_nc=4, ndf=4, n_layers=1),
        )

    dm = UnpairedImageDataModule(root=str(root), channels=4, num_workers=0)
    written = _predict(model(), dm, ImageWriter(output_dir=str(tmp_path / "out")), make_trainer)
    assert [p.name for p in written] == ["0.tif", "1.tif"]
    out = read_array(written[0])
    assert out.shape == (32, 32, 4) and out.dtype == np.uint16
    assert np.abs(out.astype(np.int64) - read_array(root / "testA" / "0.tif")).max() <= 1
    with pytest.raises(InvalidSettingError, match="cannot write uint16 data with 4 band") as err:
        _predict(
            model(),
            UnpairedImageDataModule(root=str(root), channels=4, num_workers=0),
            ImageWriter(output_dir=str(tmp_path / "png"), extension="png"),
            make_trainer,
        )
    assert "\n" not in str(err.value) and not (tmp_path / "png").exists()


# --- sample grids ---------------------------------------------------------------------------------------------------


def test_grids_show_gray_and_n_band_images_as_rgb():
    four = torch.linspace(-1, 1, 4 * 8 * 8).reshape(1, 4, 8, 8)
    gray = torch.full((1, 1, 8, 8), 0.5)
    rgb = torch.rand(1, 3, 8, 8) * 2 - 1
    grid = image_grid({"real_A": gray, "fake_B": four, "real_B": rgb}, max_images=1)
    assert grid.shape == (3, 2 + 10, 2 + 3 * 10)
    tile = lambda j: grid[:, 2:10, 2 + 10 * j : 10 + 10 * j]  # noqa: E731

    def shown(values):  # as 8-bit display levels
        return torch.round((values.clamp(-1, 1) + 1) * 127.5)

    assert torch.equal(shown(tile(0)), torch.full((3, 8, 8), 191.0))  # gray as gray: 0.5 -> 191 in every channel
    assert torch.equal(shown(tile(1)), shown(four[0, :3]))  # the first three bands as R, G, B
    assert torch.equal(tile(2), rgb[0])  # RGB unchanged
    chosen = image_grid({"real_A": gray, "fake_B": four}, max_images=1, display_bands=(3, 1, 0))
    assert torch.equal(shown(chosen[:, 2:10, 2:10]), torch.full((3, 8, 8), 191.0))  # a gray image has no band 3
    assert torch.equal(shown(chosen[:, 2:10, 12:20]), shown(four[0, [3, 1, 0]]))  # band 3 as red, 1 green, 0 blue


# --- networks take their channels from the data (gan-style fit / predict) -------------------------------------------


@pytest.fixture(scope="module")
def gray16_run(tmp_path_factory):
    """``gan-style fit --config demo/gray16`` for 4 steps on 6 + 6 files of the sample script's data."""
    tmp = tmp_path_factory.mktemp("gray16")
    data = _samples_script().make_gray16(tmp / "data", size=32, limit=6)
    run = tmp / "run"
    gan_style_in_process(
        "fit",
        "--config",
        str(RECIPES / "gray16.yaml"),
        f"--data.init_args.root={data}",
        f"--trainer.default_root_dir={run}",
        "--data.init_args.load_size=32",
        "--trainer.max_steps=4",
        "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false",
        cwd=tmp,
    )
    return tmp, data, run


def test_fit_builds_one_channel_networks_from_the_data(gray16_run):
    _, _, run = gray16_run
    checkpoint = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)
    networks = checkpoint["hyper_parameters"]
    assert networks["generator"]["init_args"]["input_nc"] == 1 and networks["generator"]["init_args"]["output_nc"] == 1
    assert networks["discriminator"]["init_args"]["input_nc"] == 2  # concat(A, B)
    convolutions = [(k, v) for k, v in checkpoint["state_dict"].items() if v.dim() == 4]
    first = {net: next(v for k, v in convolutions if k.startswith(net + ".")) for net in ("generator", "discriminator")}
    assert first["generator"].shape[1] == 1 and first["discriminator"].shape[1] == 2
    last_g = [v for k, v in convolutions if k.startswith("generator.")][-1]
    assert last_g.shape[0] == 1 or last_g.shape[1] == 1  # the output layer (a transposed convolution) writes 1 band
    assert checkpoint["PairedImageDataModule"]["scaling"]["A"]["kind"] == "percentile"


def test_predict_from_the_checkpoint_writes_16bit_gray(gray16_run):
    tmp, data, run = gray16_run
    gan_style_in_process(
        "predict", "--ckpt_path", str(run / "checkpoints" / "last.ckpt"), "--trainer.enable_progress_bar=false", cwd=tmp
    )
    outputs = sorted((run / "predictions").iterdir())
    assert len(outputs) == 6 and all(p.suffix == ".png" for p in outputs)
    with Image.open(outputs[0]) as img:
        out = np.asarray(img)
        assert img.mode == "I;16"
    assert out.dtype == np.uint16 and out.shape == (32, 32)
    scaling = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["PairedImageDataModule"]["scaling"]["B"]
    # the outputs' values lie in the photo domain's bounds, in 16-bit levels the 8-bit path cannot give
    every = np.stack([read_array(p)[..., 0] for p in outputs])
    assert scaling["low"][0] <= every.min() and every.max() <= scaling["high"][0]
    assert len(np.unique(every)) > 256


def test_channel_mismatches_are_one_line(gray16_run):
    tmp, data, run = gray16_run
    given = gan_style_in_process(
        "fit",
        "--config",
        str(RECIPES / "gray16.yaml"),
        f"--data.init_args.root={data}",
        "--model.init_args.generator.init_args.input_nc=3",
        "--trainer.max_steps=1",  # refused before anything is built
        cwd=tmp,
        check=False,
    )
    assert given.returncode != 0
    message = [line for line in given.stderr.splitlines() if line.startswith("gan-style: error:")]
    assert len(message) == 1 and given.stderr.strip().endswith(message[0]), given.stderr
    assert "model.init_args.generator.init_args.input_nc is 3" in message[0]
    assert "data.init_args.channels 1" in message[0] and "set it to 1" in message[0]
    other = gan_style_in_process(
        "predict",
        "--ckpt_path",
        str(run / "checkpoints" / "last.ckpt"),
        "--data.init_args.channels=3",
        cwd=tmp,
        check=False,
    )
    lines = [line for line in other.stderr.splitlines() if line.startswith("gan-style: error:")]
    assert other.returncode != 0 and len(lines) == 1 and other.stderr.strip().endswith(lines[0]), other.stderr
    assert "last.ckpt' holds networks for other data" in lines[0] and "data.init_args.channels 3" in lines[0]


def test_evaluate_checkpoints_measures_a_16bit_run_in_its_data_range(gray16_run):
    """``evaluate --checkpoints`` writes outputs and ground truth as 16-bit files through the run's stored scaling,
    and its PSNR is the formula's in that range (peak high - low of the photo domain's bounds)."""
    from gan_style.commands.checkpoints_eval import evaluate_checkpoints

    tmp, data, run = gray16_run
    record = evaluate_checkpoints(run, metrics=["psnr"], keep_images=True, progress=False, device="cpu")
    scaling = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["PairedImageDataModule"]["scaling"]["B"]
    low, high = scaling["low"][0], scaling["high"][0]
    evaluation = run / "evaluation"
    outputs = sorted((evaluation / "images" / "last").iterdir())
    truths = sorted((evaluation / "reference").iterdir())
    assert [p.name for p in outputs] == [p.name for p in truths] and len(outputs) == 6
    psnrs = []
    for output, truth in zip(outputs, truths):
        x, y = read_array(output), read_array(truth)
        assert x.dtype == y.dtype == np.uint16 and x.shape[-1] == 1
        # the metric reads the files through the scaling (values beyond the bounds clipped, as in training)
        x, y = (np.clip(a.astype(np.float64), low, high) for a in (x, y))
        psnrs.append(10 * np.log10((high - low) ** 2 / np.mean((x - y) ** 2)))
    last = next(row for row in record["rows"] if row["checkpoint"] == "last.ckpt")
    assert last["metrics"]["psnr"] == pytest.approx(float(np.mean(psnrs)), abs=1e-3)
