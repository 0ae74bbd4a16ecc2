"""Two gaps between the data settings and the methods: CUT / FastCUT / SinCUT refuse domains of different band
counts at setup, in one line, when their generator takes images with domain B's bands (``nce_idt``, PatchNCE, SinCUT's
L1 identity); and the image-folder module of unconditional generation (DCGAN) reads 1-band 16-bit data with
``channels`` / ``scaling`` / ``display_bands``, stores the scaling in checkpoints, and ``gan-style sample`` writes the
data's type back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import gan_style_in_process, write_image
from gan_style.commands.sample import sample
from gan_style.data import ImageFolderDataModule, UnpairedImageDataModule
from gan_style.data.samples import resolve_data_path
from gan_style.errors import InvalidSettingError
from gan_style.io.imagery import Scaling, read_array, write_array
from gan_style.loading import load_method
from gan_style.methods.cut import CUT, SinCUT
from gan_style.nets.cut import CUTDiscriminator, CUTGenerator


def _digest(tensor: torch.Tensor) -> str:
    return hashlib.sha256(tensor.contiguous().numpy().tobytes()).hexdigest()[:16]


# --- CUT: a generator that takes B's bands needs equal bands --------------------------------------------------------


@pytest.fixture
def gray_to_rgb(tmp_path: Path) -> Path:
    """root/{trainA, testA}: 1-band uint16 PNG; root/{trainB, testB}: 8-bit RGB PNG; 32x32."""
    root = tmp_path / "gray2rgb"
    rng = np.random.default_rng(0)
    for split, n in (("train", 2), ("test", 1)):
        for i in range(n):
            write_array(root / f"{split}A" / f"{i}.png", rng.integers(0, 65536, (32, 32, 1)).astype(np.uint16))
            write_image(root / f"{split}B" / f"{i}.png", size=(32, 32), seed=i)
    return root


def _gray_to_rgb_data(root: Path) -> UnpairedImageDataModule:
    return UnpairedImageDataModule(
        root=str(root), channels=[1, 3], load_size=32, crop_size=32, batch_size=2, num_workers=0, seed=0
    )


def _tiny_cut(cls=CUT, **kwargs):
    nets = dict(
        generator=CUTGenerator(input_nc=1, output_nc=3, ngf=8, n_blocks=2),
        discriminator=CUTDiscriminator(input_nc=3, ndf=8, n_layers=1),
    )
    return cls(**nets, nce_layers=[0, 4, 8, 12], num_patches=8, mlp_channels=16, **kwargs)


@pytest.mark.parametrize(
    "settings, named, fix",
    [
        (
            {"mode": "cut"},
            "nce_idt and lambda_nce make",
            "--model.init_args.nce_idt false and --model.init_args.lambda_nce 0",
        ),
        ({"mode": "fastcut", "nce_idt": True}, "nce_idt and lambda_nce make", "--model.init_args.nce_idt false and"),
        ({"mode": "cut", "nce_idt": True, "lambda_nce": 0.0}, "nce_idt makes", "set --model.init_args.nce_idt false"),
        ({"mode": "cut", "nce_idt": False}, "lambda_nce makes", "set --model.init_args.lambda_nce 0"),
    ],
)
def test_unequal_bands_are_one_line_at_setup(settings, named, fix, gray_to_rgb, make_trainer):
    """G runs on B's bands with nce_idt (G(y)) and with PatchNCE (G's encoder on G(x)): refused before training."""
    model = _tiny_cut(**settings)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = make_trainer(max_steps=2, limit_val_batches=0)
    with pytest.raises(InvalidSettingError) as info:
        trainer.fit(model, _gray_to_rgb_data(gray_to_rgb))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{named} CUT's generator take images with domain B's bands")
    assert "A has 1 band(s) and B has 3 (data.init_args.channels [1, 3])" in message
    assert (
        "give both domains the same channels (data.init_args.channels: 3 reads gray files as 3 equal bands)" in message
    )
    assert fix in message
    assert trainer.global_step == 0  # refused before training started
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_without_nce_idt_and_patchnce_unequal_bands_train_a_step(gray_to_rgb, make_trainer):
    model = _tiny_cut(mode="cut", nce_idt=False, lambda_nce=0.0)  # the adversarial loss alone
    trainer = make_trainer(max_steps=2, limit_val_batches=0)  # one batch: a D step, then a G step
    trainer.fit(model, _gray_to_rgb_data(gray_to_rgb))
    assert trainer.global_step == 2
    assert set(trainer.callback_metrics) >= {"train/loss_g", "train/loss_d", "train/loss_g_gan"}
    assert all(torch.isfinite(v) for v in trainer.callback_metrics.values())


def test_a_batch_of_unequal_bands_without_a_data_module_is_the_same_error():
    model = _tiny_cut(mode="cut")
    with pytest.raises(InvalidSettingError, match=r"A has 1 band\(s\) and B has 3"):
        model.translate_pair(torch.zeros(1, 1, 32, 32), torch.zeros(1, 3, 32, 32))
    gan_only = _tiny_cut(mode="fastcut", lambda_nce=0.0)
    out = gan_only.translate_pair(torch.zeros(1, 1, 32, 32), torch.zeros(1, 3, 32, 32))
    assert out["fake_B"].shape == (1, 3, 32, 32)


def test_sincut_names_its_l1_identity_too():
    every = _tiny_cut(SinCUT)  # the code's SinCUT: nce_idt, PatchNCE and the L1 identity
    with pytest.raises(InvalidSettingError) as info:
        every.check_domain_channels(1, 3)
    message = str(info.value)
    assert message.startswith("nce_idt, lambda_nce and lambda_identity make SinCUT's generator take images")
    assert (
        "set --model.init_args.nce_idt false, --model.init_args.lambda_nce 0 and --model.init_args.lambda_identity 0"
        in message
    )
    with pytest.raises(InvalidSettingError, match=r"^lambda_identity makes SinCUT's generator"):
        _tiny_cut(SinCUT, nce_idt=False, lambda_nce=0.0).check_domain_channels(1, 3)
    _tiny_cut(SinCUT, nce_idt=False, lambda_nce=0.0, lambda_identity=0.0).check_domain_channels(1, 3)
    every.check_domain_channels(3, 3)
    with pytest.raises(
        InvalidSettingError, match=r"A has 4 band\(s\) and B has 3 .*; give both domains the same channels, or set"
    ):
        every.check_domain_channels(4, 3)


def test_the_command_line_prints_the_one_line(gray_to_rgb, tmp_path):
    proc = gan_style_in_process(
        "fit", "--config", "cut",
        "--model.init_args.generator.init_args.ngf=8", "--model.init_args.generator.init_args.n_blocks=2",
        "--model.init_args.discriminator.init_args.ndf=8", "--model.init_args.discriminator.init_args.n_layers=1",
        "--model.init_args.num_patches=16", "--model.init_args.mlp_channels=16",
        f"--data.init_args.root={gray_to_rgb}", "--data.init_args.channels=[1, 3]",
        "--data.init_args.load_size=32", "--data.init_args.crop_size=32", "--data.init_args.num_workers=0",
        "--trainer.max_steps=2", "--trainer.limit_val_batches=0", "--trainer.enable_progress_bar=false",
        "--trainer.enable_model_summary=false", f"--trainer.default_root_dir={tmp_path / 'run'}",
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and errors[0].startswith("gan-style: error: nce_idt and lambda_nce make CUT's generator")
    assert "A has 1 band(s) and B has 3" in errors[0] and "--model.init_args.nce_idt false" in errors[0]
    assert "Traceback" not in proc.stderr and not (tmp_path / "run" / "checkpoints").exists()


# --- the image folder of DCGAN beyond 8-bit RGB ---------------------------------------------------------------------


@pytest.fixture
def gray16_folder(tmp_path: Path) -> Path:
    """6 uint16 1-band PNG of 32x32 in two subfolders, values 300-4000 with a few outliers at 0 and 65535."""
    root = tmp_path / "gray16"
    rng = np.random.default_rng(1)
    for i in range(6):
        array = rng.integers(300, 4001, (32, 32, 1)).astype(np.uint16)
        array[0, i, 0], array[1, i, 0] = 0, 65535
        write_array(root / f"part{i % 2}" / f"{i}.png", array)
    return root


def _gray16_data(root: Path, **kwargs) -> ImageFolderDataModule:
    kwargs = {"image_size": 32, "channels": 1, "batch_size": 3, "num_val": 2, "num_workers": 0, "seed": 0, **kwargs}
    return ImageFolderDataModule(root=str(root), **kwargs)


def _bound(value) -> float:
    """A bound of a stored scaling: one number for every band, or the first of one per band."""
    return float(value[0] if isinstance(value, list) else value)


def _formula(array: np.ndarray, low: float, high: float) -> np.ndarray:
    """docs/imagery.md: t = 2 (x - low) / (high - low) - 1, clipped to [-1, 1]; (H, W, 1) -> (1, H, W)."""
    t = np.clip(2.0 * (array.astype(np.float64) - low) / (high - low) - 1.0, -1.0, 1.0)
    return np.moveaxis(t, -1, 0)


@pytest.mark.parametrize("scaling", [None, {"kind": "percentile", "dtype": "uint16"}])
def test_uint16_gray_batches_follow_the_scaling_formula(scaling, gray16_folder):
    data = _gray16_data(gray16_folder, scaling=scaling)
    data.setup("fit")
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (3, 1, 32, 32) and batch["image"].dtype == torch.float32
    stored = data.state_dict()["scaling"]
    assert stored["A"] == stored["B"] == data.scalings["A"].to_dict() and data.state_dict()["channels"] == [1, 1]
    low, high = _bound(stored["A"]["low"]), _bound(stored["A"]["high"])
    if scaling is None:
        assert (stored["A"]["kind"], low, high) == ("range", 0.0, 65535.0)  # the file type's full range
    else:  # percentile bounds computed from the files: the outliers are clipped
        assert stored["A"]["kind"] == "percentile" and 300 <= low < 400 and 3900 < high <= 4000
    for image, path in zip(batch["image"], batch["image_path"]):
        expected = torch.from_numpy(_formula(read_array(path), low, high)).float()
        assert torch.allclose(image, expected, atol=1e-6, rtol=0)


def test_tiff_and_npy_files_are_read_too(tmp_path):
    rng = np.random.default_rng(2)
    write_array(tmp_path / "a.tif", rng.integers(0, 65536, (32, 32, 1)).astype(np.uint16))
    np.save(tmp_path / "b.npy", rng.integers(0, 65536, (32, 32)).astype(np.uint16))
    data = _gray16_data(tmp_path, num_val=2, batch_size=2)
    data.setup("validate")  # items read without a loader get the scaling too
    images = [data.eval_set[i]["image"] for i in range(2)]
    assert [Path(data.eval_set[i]["image_path"]).suffix for i in range(2)] == [".tif", ".npy"]
    for image, name in zip(images, ("a.tif", "b.npy")):
        expected = torch.from_numpy(_formula(read_array(tmp_path / name), 0, 65535)).float()
        assert torch.allclose(image, expected, atol=1e-6, rtol=0)


def test_the_settings_are_checked_in_one_line(gray16_folder):
    for bad, match in (
        ({"channels": [1, 3]}, r"data.init_args.channels must be one band count >= 1"),
        ({"channels": 0}, r"data.init_args.channels must be one band count >= 1"),
        ({"scaling": {"kind": "percentile"}}, r"data.init_args.scaling"),
        ({"display_bands": 2}, r"data.init_args.display_bands \[2\] names band 2"),
    ):
        with pytest.raises(InvalidSettingError, match=match) as info:
            _gray16_data(gray16_folder, **bad)
        assert "\n" not in str(info.value)
    assert _gray16_data(gray16_folder, channels=4, display_bands=[3, 2, 1]).display_bands == (3, 2, 1)


def test_rgb8_image_folder_batches_are_bit_identical_to_the_pillow_path():
    """Digests of the tensors the 8-bit RGB path gave before channels and scaling existed here."""
    data = ImageFolderDataModule(
        root=str(resolve_data_path("examples/data/photo2painting")),
        image_size=24, channels=3, flip=True, seed=7, num_workers=0, num_val=3, batch_size=2,
    )  # fmt: skip
    data.setup("fit")
    assert not data.array_data and data.readers is None and data.state_dict() == {"seed": 7}
    items = [data.train_set[(i, 1000 + i)]["image"] for i in range(4)]
    assert [_digest(t) for t in items] == [
        "d4d0abe3202b7ef2",
        "b2e9d88e79b73e3c",
        "87911e452e358a61",
        "41d992633532b906",
    ]
    assert _digest(data.eval_set[1]["image"]) == "40720c2292dd06fa"


@pytest.fixture
def gray16_checkpoint(gray16_folder, tmp_path) -> Path:
    """``last.ckpt`` of ``gan-style fit --config dcgan`` (tiny networks of 1 band, 4 optimizer steps) on
    ``gray16_folder`` with percentile bounds."""
    callbacks = tmp_path / "callbacks.yaml"  # only last.ckpt: no FID (its Inception weights are not here)
    callbacks.write_text(
        "trainer:\n  callbacks:\n    - class_path: lightning.pytorch.callbacks.ModelCheckpoint\n"
        "      init_args: {save_last: true}\n"
    )
    run = tmp_path / "dcgan"
    gan_style_in_process(
        "fit", "--config", "dcgan", "--config", str(callbacks),
        "--model.init_args.generator.init_args.ngf=4", "--model.init_args.generator.init_args.output_nc=1",
        "--model.init_args.generator.init_args.image_size=32", "--model.init_args.discriminator.init_args.ndf=4",
        "--model.init_args.discriminator.init_args.image_size=32",
        f"--data.init_args.root={gray16_folder}", "--data.init_args.image_size=32", "--data.init_args.channels=1",
        "--data.init_args.scaling={kind: percentile, dtype: uint16}", "--data.init_args.batch_size=3",
        "--data.init_args.num_workers=0", "--trainer.max_steps=4", "--trainer.limit_val_batches=0",
        "--trainer.enable_progress_bar=false", "--trainer.enable_model_summary=false",
        f"--trainer.default_root_dir={run}",
        cwd=tmp_path,
    )  # fmt: skip
    return run / "checkpoints" / "last.ckpt"


def test_dcgan_fits_one_band_16_bit_data_and_stores_the_scaling(gray16_checkpoint, gray16_folder):
    saved = torch.load(gray16_checkpoint, weights_only=True)
    assert saved["global_step"] == 4
    settings = saved["hyper_parameters"]
    assert settings["discriminator"]["init_args"]["input_nc"] == 1  # followed data.init_args.channels
    fresh = _gray16_data(gray16_folder, scaling={"kind": "percentile", "dtype": "uint16"})
    recorded = saved["gan_style_scaling"]
    assert recorded["A"] == recorded["B"] == fresh.scalings["A"].to_dict()  # the same bounds from the same files
    assert recorded["A"]["kind"] == "percentile" and recorded["A"]["dtype"] == "uint16"
    state = next(v for k, v in saved.items() if k.endswith("ImageFolderDataModule"))
    assert state["scaling"] == recorded and state["channels"] == [1, 1]
    resumed = _gray16_data(gray16_folder, scaling={"kind": "percentile", "dtype": "uint16"})
    resumed.load_state_dict(state)  # a resumed run uses the run's bounds, computing none
    assert resumed.scalings["A"].to_dict() == recorded["A"]


def test_sample_writes_uint16_files_that_invert_the_scaling(gray16_checkpoint, tmp_path):
    ckpt = gray16_checkpoint
    out = tmp_path / "samples"
    written = sample(str(ckpt), num_samples=3, seed=5, output_dir=str(out), device="cpu")
    singles = sorted(out.glob("sample_*.png"))
    assert [p.name for p in singles] == ["sample_0000.png", "sample_0001.png", "sample_0002.png"]
    assert set(singles) <= set(written) and (out / "grid.png").is_file() and (out / "interpolation.png").is_file()
    model = load_method(ckpt)
    latents = model.sample_latents(3, torch.Generator().manual_seed(5))
    with torch.no_grad():
        fakes = model.generate(latents).cpu().double().numpy()
    recorded = Scaling.from_dict(torch.load(ckpt, weights_only=True)["gan_style_scaling"]["A"]).to_dict()
    low, high = _bound(recorded["low"]), _bound(recorded["high"])
    for i, path in enumerate(singles):
        array = read_array(path)
        assert array.dtype == np.uint16 and array.shape == (32, 32, 1)
        expected = (fakes[i, 0] + 1.0) * (high - low) / 2.0 + low  # the inverse of the formula
        assert np.abs(array[..., 0].astype(np.float64) - expected).max() <= 1.0
        assert array.min() >= np.floor(low) and array.max() <= np.ceil(high)
