import lightning as L
import pytest
import torch

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process, write_image
from gan_style.data import ContentStyleDataModule
from gan_style.losses import gram_matrix, r1_penalty
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
    opt_g, opt_d = m.optimizers()
    # max_steps counts both optimizers' steps: 2 batches, 2 generator updates (the recipe's arithmetic)
    assert [s["step"].item() for s in opt_g.optimizer.state.values()][0] == 2
    assert [s["step"].item() for s in opt_d.optimizer.state.values()][0] == 2
    assert opt_g.optimizer.defaults["betas"] == (0.5, 0.999)  # betas=None with the discriminator
    assert not torch.equal(g_before, m.generator.head[1].weight)
    assert not torch.equal(d_before, m.discriminator.model[0].weight)


def test_short_fit_and_stylize_through_the_cli(tmp_path):
    run = tmp_path / "run"
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "patchgan.yaml"),
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
    saved = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert saved["global_step"] == 4
    hp = saved["hyper_parameters"]  # the recipe: Johnson's VGG-16 loss network and fixed style target
    assert (hp["loss_network"], hp["style_size"], hp["betas"]) == ("vgg16", 256, None)
    assert (hp["content_layers"], hp["style_layers"]) == (["relu2_2"], ["relu1_2", "relu2_2", "relu3_3", "relu4_3"])
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


def torchvision_vgg16_file(path):
    """An independently built ``torchvision.models.vgg16().features`` (random weights) saved to ``path``."""
    from torchvision.models.vgg import cfgs, make_layers

    torch.manual_seed(1)
    features = make_layers(cfgs["D"]).eval()
    torch.save(features.state_dict(), path)
    return features


def torchvision_taps(features, x, indices):
    """Activations of torchvision VGG ``features`` at module ``indices`` for [-1, 1] images ``x``."""
    mean, std = (
        torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1),
        torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1),
    )
    h, out = ((x + 1) / 2 - mean) / std, {}
    with torch.no_grad():
        for i, module in enumerate(features[: max(indices) + 1]):
            h = module(h)
            if i in indices:
                out[i] = h.clone()  # torchvision's ReLUs are in place
    return out


def test_vgg16_loss_network_uses_johnsons_layers(tmp_path):
    features = torchvision_vgg16_file(tmp_path / "vgg16_features.pth")
    m = PatchGANStyle(
        generator=TransformationNetwork(channels=8, n_residual=1),
        vgg_weights=str(tmp_path / "vgg16_features.pth"),
        loss_network="vgg16",
        adv_weight=0.0,
    )
    m.vgg.load_pretrained()
    assert m.vgg.arch == "vgg16" and m.vgg.layers == ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    x, s = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    y = m.generator(x).detach()
    _, logs = m.generator_loss(x, s, y)
    # torchvision vgg16().features: relu1_2 = 3, relu2_2 = 8, relu3_3 = 15, relu4_3 = 22
    ty, tx, ts = (torchvision_taps(features, t, [3, 8, 15, 22]) for t in (y, x, s))
    style = sum(((gram_matrix(ty[i]) - gram_matrix(ts[i])) ** 2).mean() for i in (3, 8, 15, 22))
    content = ((ty[8] - tx[8]) ** 2).mean()
    assert torch.allclose(logs["loss_style"], style, rtol=1e-4, atol=1e-12)
    assert torch.allclose(logs["loss_content"], content, rtol=1e-4)
    # with VGG-19 the same names are other layers: relu4_3 lies one convolution deeper
    m19 = tiny(adv_weight=0.0)
    assert m19.vgg.arch == "vgg19" and sum(isinstance(t, torch.nn.Conv2d) for t in m19.vgg.body) == 11
    assert sum(isinstance(t, torch.nn.Conv2d) for t in m.vgg.body) == 10


def test_layer_names_must_exist_in_the_loss_network():
    with pytest.raises(
        ValueError, match=r"\['relu3_4'\] are not layers of the loss network VGG-16.*loss_network: vgg19"
    ):
        tiny(loss_network="vgg16", style_layers=["relu1_2", "relu3_4"])
    with pytest.raises(ValueError, match=r"\['relu5_5'\] are not layers of the loss network VGG-19"):
        tiny(content_layers=["relu5_5"])
    with pytest.raises(ValueError, match="loss_network must be one of vgg19, vgg16"):
        tiny(loss_network="vgg11")
    with pytest.raises(ValueError, match="style_size must be None or an integer >= 1"):
        tiny(style_size=0)


def test_betas_follow_the_discriminator_unless_given():
    assert tiny(adv_weight=0.0).configure_optimizers().defaults["betas"] == (0.9, 0.999)  # Johnson
    opt_g, opt_d = tiny(adv_weight=0.1).configure_optimizers()
    assert opt_g.defaults["betas"] == opt_d.defaults["betas"] == (0.5, 0.999)
    assert tiny(adv_weight=0.0, betas=(0.5, 0.9)).configure_optimizers().defaults["betas"] == (0.5, 0.9)


def test_fixed_style_target_is_the_gram_of_the_whole_resized_style_image(tmp_path):
    import torch.nn.functional as F

    from gan_style.data.images import load_image
    from gan_style.data.transforms import to_tensor

    path = str(write_image(tmp_path / "style.png", size=(48, 30)))  # w x h
    m = tiny(adv_weight=0.0, loss_network="vgg16", style_size=32)
    whole = to_tensor(load_image(path))[None]
    resized = F.interpolate(whole, size=(20, 32), mode="bicubic", align_corners=False, antialias=True).clamp(-1, 1)
    with torch.no_grad():
        expected = {n: gram_matrix(f) for n, f in m.vgg(resized).items()}
    targets = m.style_targets([path, path])
    assert set(targets) == set(m.style_layers)
    for n in m.style_layers:
        assert targets[n].shape == (2, *expected[n].shape[1:])
        assert torch.allclose(targets[n], expected[n].expand(2, -1, -1), rtol=1e-5, atol=1e-10)
    # the generator loss uses it: the batch's style crops no longer matter
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    y = m.generator(x)
    _, logs_a = m.generator_loss(x, torch.rand(2, 3, 32, 32) * 2 - 1, y, [path, path])
    _, logs_b = m.generator_loss(x, torch.zeros(2, 3, 32, 32), y, [path, path])
    fy = m.vgg(y)
    style = sum(m.style_loss(fy[n], expected[n]) for n in m.style_layers)
    assert torch.equal(logs_a["loss_style"], logs_b["loss_style"])
    assert torch.allclose(logs_a["loss_style"], style, rtol=1e-5)
    with pytest.raises(ValueError, match="style_size computes the style targets from the whole style images"):
        m.generator_loss(x, x, y)
    with pytest.raises(ValueError, match="too small for relu4_3 .*raise model.style_size"):
        tiny(adv_weight=0.0, loss_network="vgg16", style_size=10).style_targets([path])  # 10x6: needs 8


def test_fixed_style_target_in_training(tmp_path, make_trainer):
    L.seed_everything(0)
    m = tiny(adv_weight=0.0, loss_network="vgg16", style_size=40)
    dm = ContentStyleDataModule(
        content_dir=str(SAMPLE_ROOT / "trainA"),
        style_dir=str(REPO / "examples/data/style/starry_night"),
        load_size=40,
        crop_size=32,
        batch_size=2,
        num_workers=0,
        num_val=1,
    )
    trainer = make_trainer(max_steps=2, limit_val_batches=1)
    trainer.fit(m, dm)
    assert trainer.global_step == 2  # one optimizer step per batch without the discriminator
    opt = m.optimizers().optimizer
    assert next(iter(opt.state.values()))["step"].item() == 2 and opt.defaults["betas"] == (0.9, 0.999)
    style = REPO / "examples/data/style/starry_night/starry_night_crop.jpg"
    assert list(m._style_grams) == [str(style)]  # computed once, from the whole image
