"""DCGAN (Radford, Metz & Chintala, ICLR 2016): the networks' shapes, layers and initialization as the paper sets
them, the objective chosen by name from the loss registry, spectral norm, a training step, the two DataModules
(scikit-learn's digits and a plain image folder), ``gan-style sample`` and exact resume."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from PIL import Image
from torch import nn
from torch.nn.utils import parametrize

from conftest import REPO, gan_style_in_process, quiet_trainer, write_image
from gan_style.data import DigitsDataModule, ImageFolderDataModule
from gan_style.errors import DatasetNotFoundError, InferenceUnavailableError, MissingDependencyError
from gan_style.losses import GAN_MODES, LOSSES, GANLoss
from gan_style.methods.dcgan import DCGAN, UnconditionalGenerator
from gan_style.nets.dcgan import DCGANDiscriminator, DCGANGenerator, apply_spectral_norm

HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
NO_SKLEARN = 'scikit-learn is not installed (pip install "gan-style[digits]"): the digits cannot be loaded'


def tiny_dcgan(channels: int = 1, size: int = 32, **kwargs) -> DCGAN:
    """A DCGAN with 4 filters in the widest-resolution layers: seconds on a CPU."""
    return DCGAN(
        DCGANGenerator(ngf=4, output_nc=channels, image_size=size),
        kwargs.pop("discriminator", None) or DCGANDiscriminator(ndf=4, input_nc=channels, image_size=size),
        **kwargs,
    )


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory) -> Path:
    """8 small random images of mixed sizes and modes in two subfolders (the DataModule ignores folder names)."""
    root = tmp_path_factory.mktemp("dcgan_images")
    for i in range(8):
        mode = "L" if i % 3 == 0 else "RGB"
        write_image(root / f"class{i % 2}" / f"img{i}.png", size=(40 + 4 * i, 36), mode=mode, seed=i)
    return root


# --- the networks --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_for_both_sizes_and_channel_counts(size, channels):
    g = DCGANGenerator(ngf=8, output_nc=channels, image_size=size)
    d = DCGANDiscriminator(ndf=8, input_nc=channels, image_size=size)
    images = g(torch.randn(3, 100))
    assert images.shape == (3, channels, size, size)
    assert images.min() >= -1 and images.max() <= 1  # Tanh
    assert g(torch.randn(3, 100, 1, 1)).shape == images.shape  # (N, nz, 1, 1) as well
    assert d(images).shape == (3,)  # one logit per image


def test_layers_follow_the_papers_guidelines():
    """Sec. 3: batch norm everywhere but G's output and D's input; ReLU + Tanh in G, LeakyReLU 0.2 in D; no pooling,
    no fully connected layers; the PyTorch example's widths and parameter counts at 64x64 RGB."""
    g, d = DCGANGenerator(), DCGANDiscriminator()
    g_layers, d_layers = list(g.main), list(d.main)
    assert isinstance(g_layers[-2], nn.ConvTranspose2d) and isinstance(g_layers[-1], nn.Tanh)  # no BN at the output
    assert [m.out_channels for m in g_layers if isinstance(m, nn.ConvTranspose2d)] == [512, 256, 128, 64, 3]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in g_layers) == 4
    assert all(isinstance(m, nn.ReLU) for m in g_layers if isinstance(m, (nn.ReLU, nn.LeakyReLU)))
    assert isinstance(d_layers[0], nn.Conv2d) and isinstance(d_layers[1], nn.LeakyReLU)  # no BN at the input
    assert [m.out_channels for m in d_layers if isinstance(m, nn.Conv2d)] == [64, 128, 256, 512, 1]
    assert sum(isinstance(m, nn.BatchNorm2d) for m in d_layers) == 3
    assert {m.negative_slope for m in d_layers if isinstance(m, nn.LeakyReLU)} == {0.2}
    for net in (g, d):
        assert not any(isinstance(m, (nn.Linear, nn.MaxPool2d, nn.AvgPool2d)) for m in net.modules())
    assert sum(p.numel() for p in g.parameters()) == 3_576_704
    assert sum(p.numel() for p in d.parameters()) == 2_765_568
    assert not any(isinstance(m, nn.BatchNorm2d) for m in DCGANDiscriminator(norm="none").modules())


def _example_networks(nz=100, ngf=8, ndf=8, nc=3) -> tuple[nn.Sequential, nn.Sequential]:
    """The ``main`` stacks of the PyTorch DCGAN example's Generator and Discriminator (copied from
    pytorch/examples, ``dcgan/main.py``), at small widths."""
    g = nn.Sequential(
        nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
        nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
        nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    d = nn.Sequential(
        nn.Conv2d(nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, inplace=True),
        nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid(),
    )  # fmt: skip
    return g, d


def test_the_pytorch_examples_weights_load_and_give_the_same_outputs():
    """Same key layout (``main.{i}.weight``) and the same function as the PyTorch DCGAN example at 64x64; its
    discriminator ends in a sigmoid, ours gives the logit."""
    torch.manual_seed(0)
    theirs_g, theirs_d = _example_networks()
    ours_g, ours_d = DCGANGenerator(ngf=8), DCGANDiscriminator(ndf=8)
    ours_g.load_state_dict({f"main.{k}": v for k, v in theirs_g.state_dict().items()}, strict=True)
    ours_d.load_state_dict({f"main.{k}": v for k, v in theirs_d.state_dict().items()}, strict=True)
    for net in (theirs_g, theirs_d, ours_g, ours_d):
        net.eval()
    z = torch.randn(2, 100, 1, 1)
    with torch.no_grad():
        images = theirs_g(z)
        assert torch.equal(ours_g(z), images)
        assert torch.allclose(torch.sigmoid(ours_d(images)), theirs_d(images).view(-1), atol=1e-6)


def test_initial_weights_are_normal_with_std_002():
    torch.manual_seed(0)
    g, d = DCGANGenerator(), DCGANDiscriminator()
    convs = torch.cat(
        [m.weight.flatten() for net in (g, d) for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd)]
    )
    scales = torch.cat([m.weight.flatten() for net in (g, d) for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    shifts = torch.cat([m.bias.flatten() for net in (g, d) for m in net.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(convs.mean()) < 1e-3 and abs(convs.std() - 0.02) < 5e-4  # N(0, 0.02), Sec. 4
    assert abs(scales.mean() - 1) < 5e-3 and abs(scales.std() - 0.02) < 3e-3  # N(1, 0.02)
    assert torch.all(shifts == 0)
    assert all(m.bias is None for net in (g, d) for m in net.modules() if isinstance(m, nn.modules.conv._ConvNd))


@pytest.mark.parametrize(
    "make, setting",
    [
        (lambda: DCGANGenerator(image_size=48), "image_size"),
        (lambda: DCGANGenerator(output_nc=0), "output_nc"),
        (lambda: DCGANDiscriminator(input_nc=0), "input_nc"),
        (lambda: DCGANGenerator(nz=0), "nz"),
        (lambda: DCGANDiscriminator(ndf=0), "ndf"),
        (lambda: DCGANDiscriminator(norm="instance"), "norm"),
        (lambda: tiny_dcgan(lr=0.0), "lr"),
        (lambda: tiny_dcgan(noise="cauchy"), "noise"),
        (lambda: tiny_dcgan(n_critic=0), "n_critic"),
        (lambda: tiny_dcgan(gan_mode="wgan"), "gan_mode"),
        (lambda: DCGAN(DCGANGenerator(ngf=4, image_size=32), DCGANDiscriminator(ndf=4, image_size=64)), "image_size"),
        (lambda: DCGAN(DCGANGenerator(ngf=4, output_nc=1), DCGANDiscriminator(ndf=4)), "output_nc: 3"),
        (lambda: DCGAN(nn.Conv2d(3, 3, 1)), "nz"),
    ],
)
def test_bad_settings_are_one_line_naming_the_setting(make, setting):
    with pytest.raises(ValueError, match=setting) as info:
        make()
    assert "\n" not in str(info.value)


# --- the objective and spectral norm -------------------------------------------------------------------------


@pytest.mark.parametrize("gan_mode", GAN_MODES)
def test_the_objective_is_the_registrys_loss_chosen_by_name(gan_mode, monkeypatch):
    built = []

    class Spy(GANLoss):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            built.append(kwargs)

    monkeypatch.setitem(LOSSES, "gan", Spy)
    model = tiny_dcgan(gan_mode=gan_mode)
    assert built == [{"gan_mode": gan_mode}] and isinstance(model.gan_loss, Spy)
    assert model.gan_loss.gan_mode == gan_mode


def test_wgangp_and_spectral_norm_default_to_a_critic_without_batch_norm():
    for kwargs in ({"gan_mode": "wgangp"}, {"spectral_norm": True}):
        model = DCGAN(DCGANGenerator(ngf=4, output_nc=1, image_size=32), **kwargs)
        assert not any(isinstance(m, nn.BatchNorm2d) for m in model.discriminator.modules())
    with pytest.warns(UserWarning, match="batch norm"):  # a batch-norm critic given with wgangp is warned about
        tiny_dcgan(gan_mode="wgangp")


def test_spectral_norm_wraps_every_discriminator_layer_when_asked():
    model = tiny_dcgan(spectral_norm=True)
    convs = [m for m in model.discriminator.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 4 and all(parametrize.is_parametrized(m, "weight") for m in convs)
    assert not any(parametrize.is_parametrized(m) for m in model.generator.modules())
    assert not any(parametrize.is_parametrized(m) for m in tiny_dcgan().discriminator.modules())
    assert apply_spectral_norm(model.discriminator) == 0  # layers already wrapped are left alone
    model.discriminator.train()
    for _ in range(20):  # power iterations, one per forward pass in training mode
        model.discriminator(torch.rand(2, 1, 32, 32))
    sigma = torch.linalg.matrix_norm(convs[1].weight.detach().flatten(1), ord=2)
    assert abs(float(sigma) - 1.0) < 0.05


# --- training ----------------------------------------------------------------------------------------------------


def _folder_data(root: Path, **kwargs) -> ImageFolderDataModule:
    kwargs = {"image_size": 32, "channels": 1, "batch_size": 4, "num_val": 2, "num_workers": 0, **kwargs}
    return ImageFolderDataModule(root=str(root), **kwargs)


@pytest.mark.parametrize("gan_mode", ["vanilla", "wgangp"])
def test_a_training_step_changes_both_networks(gan_mode, image_folder, make_trainer):
    L.seed_everything(0, verbose=False)
    model = tiny_dcgan(
        gan_mode=gan_mode, discriminator=DCGANDiscriminator(ndf=4, input_nc=1, image_size=32, norm="none")
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = make_trainer(max_steps=2, limit_val_batches=0)  # one batch: a D step, then a G step
    trainer.fit(model, _folder_data(image_folder))
    after = model.state_dict()
    for net in ("generator", "discriminator"):
        weights = [k for k in before if k.startswith(f"{net}.") and k.endswith("weight")]
        assert weights and all(not torch.equal(before[k], after[k]) for k in weights), net
    assert torch.equal(before["fixed_noise"], after["fixed_noise"])
    assert set(trainer.callback_metrics) >= {"train/loss_g", "train/loss_d", "train/loss_d_real", "train/loss_d_fake"}
    assert ("train/gp" in trainer.callback_metrics) == (gan_mode == "wgangp")


def test_samples_and_evaluation_images_leave_the_training_state_alone():
    model = tiny_dcgan().train()
    real = torch.rand(3, 1, 32, 32) * 2 - 1
    state = {k: v.clone() for k, v in model.state_dict().items()}
    rng = torch.get_rng_state()
    images = model.sample_images({"image": real})
    assert list(images) == ["real"] + [f"fake_{j}" for j in range(1, 8)]
    assert all(v.shape == (3, 1, 32, 32) for v in images.values())
    evaluation = model.evaluation_images({"image": real})
    # the data's one band: ImageMetrics repeats it as gray for FID / KID
    assert evaluation["generated"].shape == evaluation["reference"].shape == (3, 1, 32, 32)
    assert torch.equal(evaluation["reference"], real)
    assert model.training and model.generator.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())  # BN statistics untouched
    assert torch.equal(rng, torch.get_rng_state())  # the training noise stream is untouched
    assert isinstance(model, UnconditionalGenerator)
    with pytest.raises(InferenceUnavailableError, match="gan-style sample"):
        model.stylizer()


def test_data_of_other_channels_than_the_generator_is_refused_naming_the_setting(image_folder, make_trainer):
    trainer = make_trainer(max_steps=1, limit_val_batches=0)
    with pytest.raises(
        ValueError, match=r"data has channels 3 but the generator makes output_nc 1; set model.init_args"
    ):
        trainer.fit(tiny_dcgan(), _folder_data(image_folder, channels=3))


# --- data --------------------------------------------------------------------------------------------------------


@pytest.mark.skipif(not HAS_SKLEARN, reason=NO_SKLEARN)
def test_digits_are_1797_one_channel_32x32_images_in_minus_one_to_one():
    data = DigitsDataModule(num_workers=0, batch_size=16, seed=0)
    data.setup("fit")
    images = data.train_set.images
    assert len(data.train_set) == 1797 and images.shape == (1797, 1, 32, 32) and images.dtype == torch.float32
    assert float(images.min()) == -1.0 and float(images.max()) <= 1.0 and float(images.max()) > 0.99
    assert (images == -1).float().mean() > 0.2  # the blank background
    batch = next(iter(data.train_dataloader()))
    assert batch["image"].shape == (16, 1, 32, 32)
    assert len(data.eval_set) == 64 and torch.equal(data.eval_set.images, images[:64])


def test_digits_without_scikit_learn_is_one_line_naming_the_extra(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a))
    with pytest.raises(MissingDependencyError, match=r'pip install "gan-style\[digits\]"') as info:
        DigitsDataModule()
    assert "\n" not in str(info.value)


def test_the_image_folder_module_reads_any_folder_recursively(image_folder):
    gray = _folder_data(image_folder, batch_size=8)
    gray.setup("fit")
    assert len(gray.train_set) == 8 and len(gray.eval_set) == 2  # both subfolders; the first num_val for validation
    batch = next(iter(gray.train_dataloader()))
    assert batch["image"].shape == (8, 1, 32, 32) and len(batch["image_path"]) == 8
    assert batch["image"].min() >= -1 and batch["image"].max() <= 1
    rgb = _folder_data(image_folder, channels=3, image_size=16, num_val=0, val_root=str(image_folder / "class1"))
    rgb.setup("validate")
    assert rgb.eval_set[0]["image"].shape == (3, 16, 16) and len(rgb.eval_set) == 4
    assert rgb.train_transform.output_size == 16
    with pytest.raises(DatasetNotFoundError, match="data.init_args.root"):
        _folder_data(image_folder / "missing").setup("fit")
    with pytest.raises(ValueError, match="channels"):
        _folder_data(image_folder, channels=0)
    with pytest.raises(InferenceUnavailableError, match="gan-style sample"):
        gray.predict_dataloader()


def test_a_grayscale_image_is_converted_with_pillows_luma(tmp_path):
    Image.new("RGB", (10, 10), (255, 0, 0)).save(tmp_path / "red.png")
    data = _folder_data(tmp_path, image_size=8, num_val=1)
    data.setup("validate")
    value = data.eval_set[0]["image"]
    assert value.shape == (1, 8, 8)
    assert torch.allclose(value, torch.full_like(value, 76 / 255 * 2 - 1))  # L = 0.299 R: 76


# --- gan-style fit and sample ---------------------------------------------------------------------------------------

TINY_ARGS = [
    "--model.init_args.generator.init_args.ngf=4",
    "--model.init_args.generator.init_args.output_nc=1",
    "--model.init_args.generator.init_args.image_size=32",
    "--model.init_args.discriminator.init_args.ndf=4",
    "--model.init_args.discriminator.init_args.image_size=32",
    "--data.init_args.image_size=32",
    "--data.init_args.channels=1",
    "--data.init_args.batch_size=4",
    "--data.init_args.num_workers=0",
    "--trainer.max_steps=4",
    "--trainer.limit_val_batches=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]


@pytest.fixture(scope="module")
def dcgan_checkpoint(tmp_path_factory, image_folder) -> Path:
    """``last.ckpt`` of a 4-step ``gan-style fit --config dcgan`` with tiny networks on ``image_folder``."""
    tmp = tmp_path_factory.mktemp("dcgan_fit")
    callbacks = tmp / "callbacks.yaml"  # only last.ckpt: no FID (its Inception weights are not here)
    callbacks.write_text(
        "trainer:\n  callbacks:\n    - class_path: lightning.pytorch.callbacks.ModelCheckpoint\n"
        "      init_args: {save_last: true}\n"
    )
    run = tmp / "dcgan"
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "dcgan.yaml"),
        "--config",
        str(callbacks),
        *TINY_ARGS,
        f"--data.init_args.root={image_folder}",
        f"--trainer.default_root_dir={run}",
        cwd=tmp,
    )
    ckpt = run / "checkpoints" / "last.ckpt"
    settings = torch.load(ckpt, weights_only=True)["hyper_parameters"]
    assert settings["discriminator"]["init_args"]["input_nc"] == 1  # followed data.init_args.channels
    return ckpt


def test_sample_writes_a_grid_single_images_and_an_interpolation(dcgan_checkpoint, tmp_path):
    out = tmp_path / "out"
    proc = gan_style_in_process(
        "sample", "--checkpoint", str(dcgan_checkpoint), "--num_samples", "10", "--seed", "3",
        "--output_dir", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert "wrote 10 sample(s) of 32x32" in proc.stdout
    singles = sorted(out.glob("sample_*.png"))
    assert [p.name for p in singles] == [f"sample_{i:04d}.png" for i in range(10)]
    with Image.open(singles[0]) as img:
        assert img.size == (32, 32) and img.mode == "L"  # one channel in, one channel out
    with Image.open(out / "grid.png") as grid:  # 4 per row (ceil(sqrt(10))), 3 rows, 2-pixel borders
        assert grid.size == (4 * 34 + 2, 3 * 34 + 2)
    with Image.open(out / "interpolation.png") as strip:  # 10 steps by default
        assert strip.size == (10 * 34 + 2, 34 + 2)
    assert not list(out.glob(".*.tmp-*"))  # written atomically: no temporary file left
    again = tmp_path / "again"
    gan_style_in_process(
        "sample",
        "--checkpoint",
        str(dcgan_checkpoint.parent.parent),
        "--num_samples",
        "10",
        "--seed",
        "3",
        "--output_dir",
        str(again),
        cwd=tmp_path,
    )  # fmt: skip  (a run folder works too)
    assert (again / "grid.png").read_bytes() == (out / "grid.png").read_bytes()  # seeded: the same images


def test_sample_refuses_a_missing_checkpoint_in_one_line(tmp_path):
    proc = gan_style_in_process("sample", "--checkpoint", "nowhere.ckpt", cwd=tmp_path, check=False)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "gan-style sample: error: --checkpoint 'nowhere.ckpt' does not exist"
    )
    assert not (tmp_path / "samples").exists()
    proc = gan_style_in_process("sample", "--checkpoint", "x.ckpt", "--num_samples", "0", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "--num_samples must be an integer >= 1" in proc.stderr


def test_sample_refuses_a_method_that_does_not_generate_from_noise(tmp_path, monkeypatch):
    """A translation method's checkpoint (here a stand-in: the loader is replaced) is refused in one line that points
    to ``gan-style stylize``."""
    import gan_style.loading

    class Translator(nn.Module):  # no sample_latents / generate: not an UnconditionalGenerator
        pass

    (tmp_path / "cyclegan.ckpt").write_bytes(b"stand-in")
    monkeypatch.setattr(gan_style.loading, "load_method", lambda path, device: Translator())
    proc = gan_style_in_process("sample", "--checkpoint", "cyclegan.ckpt", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert "holds a Translator" in proc.stderr and "gan-style stylize" in proc.stderr


# --- exact resume --------------------------------------------------------------------------------------------------


def _resume_fit(root: Path, data_root: Path, callbacks=(), ckpt_path=None) -> DCGAN:
    L.seed_everything(7, verbose=False)
    model = tiny_dcgan()
    trainer = quiet_trainer(
        root,
        max_steps=16,  # 2 epochs of 4 batches of 2 images, 2 optimizer steps each
        limit_val_batches=1,
        num_sanity_val_steps=0,
        callbacks=list(callbacks),
        enable_checkpointing=any(isinstance(c, ModelCheckpoint) for c in callbacks),
    )
    trainer.fit(model, _folder_data(data_root, batch_size=2), ckpt_path=ckpt_path)
    assert trainer.global_step == 16
    return model


def test_resume_from_a_mid_epoch_checkpoint_is_bit_identical(image_folder, tmp_path):
    """Weights, batch-norm statistics and the fixed latents after a run resumed mid-epoch equal, bit for bit, those
    of the run that was never stopped (the training noise comes from the global torch RNG, saved in checkpoints)."""
    from test_resume import SaveAt

    full = _resume_fit(tmp_path / "full", image_folder).state_dict()
    ckpt = tmp_path / "mid.ckpt"
    _resume_fit(tmp_path / "first", image_folder, [SaveAt("mid_epoch", ckpt, epoch=1)])
    saved = torch.load(ckpt, weights_only=True)
    assert saved["global_step"] == 12 and "fixed_noise" in saved["state_dict"]  # epoch 1, after its 2nd of 4 batches
    resumed = _resume_fit(tmp_path / "resumed", image_folder, ckpt_path=ckpt).state_dict()
    assert [k for k in full if not torch.equal(full[k], resumed[k])] == []


def test_export_writes_the_generator_from_latents_checked_against_generate(dcgan_checkpoint, tmp_path):
    """``gan-style export`` of a DCGAN: ``latent`` (N, nz) -> ``output`` (N, 1, 32, 32), TorchScript and ONNX equal
    to the method's ``generate`` at another batch size than traced; a model folder and other networks refused."""
    import json

    from gan_style.commands.export import ExportError, export, exportable_networks
    from gan_style.loading import load_method

    written = export(str(dcgan_checkpoint), output_dir=str(tmp_path / "exp"))
    assert {p.name for p in written.values()} == {"dcgan_generator.pt", "dcgan_generator.onnx", "dcgan_generator.json"}
    meta = json.loads(written["metadata"].read_text())
    model = load_method(dcgan_checkpoint)
    assert meta["network"] == "generator" and meta["latent_size"] == model.latent_size
    assert meta["inputs"] == [{"name": "latent", "shape": ["batch", model.latent_size], "dtype": "float32"}]
    assert meta["outputs"][0]["shape"] == ["batch", 1, 32, 32]
    z = torch.randn(3, model.latent_size, generator=torch.Generator().manual_seed(1))
    expected = model.generate(z)
    scripted = torch.jit.load(str(written["torchscript"]))
    assert torch.allclose(scripted(z), expected, atol=1e-6)
    import numpy as np
    import onnxruntime

    session = onnxruntime.InferenceSession(str(written["onnx"]), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {"latent": z.numpy()})
    assert np.abs(got - expected.numpy()).max() < 1e-5
    assert exportable_networks(model) == ("generator",)
    with pytest.raises(ExportError, match="a model folder is for stylize --pretrained"):
        export(str(dcgan_checkpoint), output_dir=str(tmp_path / "folder"), formats=["safetensors"])
    with pytest.raises(ExportError, match="its one network to export is 'generator'"):
        export(str(dcgan_checkpoint), output_dir=str(tmp_path / "other"), network="discriminator")
    assert not (tmp_path / "folder").exists() or not any((tmp_path / "folder").iterdir())
