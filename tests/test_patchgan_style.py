import lightning as L
import pytest
import torch

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process
from gan_style.data import ContentStyleDataModule
from gan_style.losses import r1_penalty
from gan_style.methods import PatchGANStyle
from gan_style.methods.patchgan_style import random_patches
from gan_style.nets import NLayerDiscriminator, TransformationNetwork


def tiny(**kwargs):
    torch.manual_seed(0)
    return PatchGANStyle(
        generator=TransformationNetwork(channels=8, n_residual=1),
        discriminator=NLayerDiscriminator(ndf=8, n_layers=2),
        vgg_weights=None,
        **kwargs,
    )


@pytest.mark.parametrize("size", [(33, 47), (17, 9), (64, 64)])
def test_output_size_equals_input_size(size):
    g = TransformationNetwork()
    out = g(torch.rand(1, 3, *size) * 2 - 1)
    assert out.shape == (1, 3, *size) and out.abs().max() <= 1
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in g.modules())  # resize-convolution only


def test_johnson_setting_has_no_discriminator_and_exact_terms():
    m = tiny(adv_weight=0.0, content_weight=2.0, style_weight=3.0, tv_weight=0.5)
    assert m.discriminator is None and not isinstance(m.configure_optimizers(), list)
    x, s = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    y = m.generator(x)
    loss, logs = m.generator_loss(x, s, y)
    assert "loss_adv" not in logs
    fy, fx, fs = m.vgg(y), m.vgg(x), m.vgg(s)
    content = ((fy["relu2_2"] - fx["relu2_2"]) ** 2).mean()
    style = sum(m.style_loss(fy[n], fs[n]) for n in m.style_layers)
    assert torch.allclose(logs["loss_content"], content) and torch.allclose(logs["loss_style"], style)
    assert torch.allclose(loss, 2.0 * content + 3.0 * style + 0.5 * m.tv_loss(y))


def test_adversarial_term_is_added():
    m = tiny(adv_weight=0.25)
    x, s = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    y = m.generator(x)
    loss, logs = m.generator_loss(x, s, y)
    expected_adv = ((m.discriminator(y) - 1) ** 2).mean()  # lsgan generator term
    assert torch.allclose(logs["loss_adv"], expected_adv)
    base = m.hparams.content_weight * logs["loss_content"] + m.hparams.style_weight * logs["loss_style"]
    assert torch.allclose(loss, base + 0.25 * expected_adv, atol=1e-6)
    loss_d, logs_d = m.discriminator_loss(s, y)
    assert torch.isfinite(loss_d) and {"loss_d_real", "loss_d_fake"} <= set(logs_d)


def test_patches_and_r1():
    style = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).view(2, 3, 16, 16)
    patches = random_patches(style, [1.0, 0.5], torch.Generator().manual_seed(0))
    assert patches.shape == (4, 3, 16, 16)
    assert torch.equal(patches[:2], style)  # scale 1.0: the whole crop
    d = torch.nn.Conv2d(3, 1, 1, bias=False)
    x = torch.rand(2, 3, 4, 4)
    # D(x) = <w, x> per pixel: gradient w at every pixel, squared norm = 16 * |w|^2 per sample
    assert torch.allclose(r1_penalty(d, x), 16 * d.weight.pow(2).sum(), rtol=1e-5)
    m = tiny(adv_weight=0.1, r1_gamma=2.0)
    loss, logs = m.discriminator_loss(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
    assert "r1" in logs and torch.allclose(
        logs["loss_d"], 0.5 * (logs["loss_d_real"] + logs["loss_d_fake"]) + logs["r1"]
    )


@pytest.mark.parametrize("gan_mode", ["hinge", "wgangp"])
def test_training_steps(gan_mode, tmp_path, make_trainer):
    L.seed_everything(0)
    m = tiny(adv_weight=0.1, gan_mode=gan_mode)
    g_before = m.generator.head[1].weight.clone()
    d_before = m.discriminator.model[0].weight.clone()
    dm = ContentStyleDataModule(
        content_dir=str(SAMPLE_ROOT / "trainA"),
        style_dir=str(REPO / "examples/data/style/starry_night"),
        load_size=40,
        crop_size=32,
        batch_size=2,
        num_workers=0,
        num_val=1,
    )
    trainer = make_trainer(max_steps=4, limit_val_batches=1)
    trainer.fit(m, dm)
    assert trainer.global_step == 4
    assert not torch.equal(g_before, m.generator.head[1].weight)
    assert not torch.equal(d_before, m.discriminator.model[0].weight)


def test_short_fit_and_stylize_through_the_cli(tmp_path):
    run = tmp_path / "run"
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "recipes" / "patchgan.yaml"),
        "--model.init_args.vgg_weights=null",
        "--model.init_args.generator.init_args.channels=8",
        "--model.init_args.generator.init_args.n_residual=1",
        "--model.init_args.discriminator.init_args.ndf=8",
        f"--data.init_args.content_dir={SAMPLE_ROOT / 'trainA'}",
        f"--data.init_args.style_dir={REPO / 'examples/data/style/starry_night'}",
        f"--data.init_args.val_content_dir={SAMPLE_ROOT / 'testA'}",
        "--data.init_args.load_size=40",
        "--data.init_args.crop_size=32",
        "--data.init_args.batch_size=2",
        "--data.init_args.num_workers=0",
        "--trainer.max_steps=4",
        "--trainer.limit_val_batches=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={run}",
        cwd=tmp_path,
    )
    ckpt = run / "checkpoints" / "last.ckpt"
    assert torch.load(ckpt, map_location="cpu", weights_only=True)["global_step"] == 4
    out = tmp_path / "out"
    gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(ckpt),
        "--content",
        str(SAMPLE_ROOT / "testA" / "sailboat.jpg"),
        "--size",
        "50",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    from PIL import Image

    with Image.open(out / "sailboat.png") as img:
        assert img.size == (50, 50)  # any size: the transformation network keeps it
