import warnings

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader

from conftest import tiny_pix2pix_kwargs
from gan_style.data import PairedImageDataModule
from gan_style.methods import Pix2Pix
from gan_style.metrics import ImageMetrics
from gan_style.nets import NLayerDiscriminator, UnetGenerator, load_reference_state_dict


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def test_unet_256_count_shapes_and_key_layout():
    g = UnetGenerator()
    assert n_params(g) == 54_413_955
    keys = list(g.state_dict())
    assert keys[0] == "model.model.0.weight"  # outermost down conv, no bias before batch norm
    assert "model.model.1.model.1.weight" in keys and "model.model.1.model.2.running_mean" in keys
    assert "model.model.1.model.5.weight" in keys and "model.model.3.bias" in keys  # up convs
    out = g(torch.rand(1, 3, 256, 256) * 2 - 1)
    assert out.shape == (1, 3, 256, 256) and out.abs().max() <= 1
    assert sum(isinstance(m, nn.Dropout) for m in g.modules()) == 3  # num_downs - 5 inner decoder levels
    assert UnetGenerator(num_downs=7)(torch.zeros(2, 3, 128, 128)).shape == (2, 3, 128, 128)
    assert sum(isinstance(m, nn.Dropout) for m in UnetGenerator(use_dropout=False).modules()) == 0


def test_unet_size_errors():
    with pytest.raises(ValueError, match="divisible by 256"):
        UnetGenerator()(torch.zeros(1, 3, 128, 128))
    with pytest.raises(ValueError, match="num_downs"):
        UnetGenerator(num_downs=4)


def test_unet_reference_checkpoint_round_trip(tmp_path):
    src = UnetGenerator(num_downs=6, ngf=8)
    path = tmp_path / "latest_net_G.pth"
    torch.save(src.state_dict(), path)
    dst = load_reference_state_dict(UnetGenerator(num_downs=6, ngf=8, init_type="kaiming"), path)
    src.eval(), dst.eval()
    x = torch.rand(1, 3, 64, 64)
    assert torch.equal(src(x), dst(x))


def test_losses_match_the_equations():
    torch.manual_seed(0)
    m = Pix2Pix(**tiny_pix2pix_kwargs(), lambda_l1=100.0)
    m.eval()
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    fake = m.generator(a)
    D = m.discriminator
    loss, logs = m.generator_loss(a, b, fake)
    bce = nn.BCEWithLogitsLoss()
    pred_fake = D(torch.cat([a, fake], 1))
    expected = bce(pred_fake, torch.ones_like(pred_fake)) + 100.0 * (fake - b).abs().mean()
    assert torch.allclose(loss, expected, atol=1e-5)
    loss_d, _ = m.discriminator_loss(a, b, fake)
    pred_real = D(torch.cat([a, b], 1))
    expected_d = 0.5 * (bce(pred_real, torch.ones_like(pred_real)) + bce(pred_fake, torch.zeros_like(pred_fake)))
    assert torch.allclose(loss_d, expected_d, atol=1e-5)


def test_inference_mode_setting():
    torch.manual_seed(0)
    kwargs = {**tiny_pix2pix_kwargs(), "generator": UnetGenerator(num_downs=6, ngf=8)}  # one dropout level
    paper = Pix2Pix(**kwargs)  # eval_mode False: dropout and batch statistics at inference
    paper.eval()
    stats = paper.generator.state_dict()["model.model.1.model.2.running_mean"].clone()
    x = torch.rand(2, 3, 64, 64) * 2 - 1
    with torch.inference_mode():
        first, second = paper.generate(x), paper.generate(x)
    assert not torch.equal(first, second)  # dropout is active
    assert torch.equal(stats, paper.generator.state_dict()["model.model.1.model.2.running_mean"])
    assert not paper.generator.training  # mode restored
    plain = Pix2Pix(**{**kwargs, "generator": UnetGenerator(num_downs=6, ngf=8)}, eval_mode=True)
    plain.eval()
    with torch.inference_mode():
        assert torch.equal(plain.generate(x), plain.generate(x))


def test_training_and_metrics_on_facades(facades_root, make_trainer):
    L.seed_everything(0)
    m = Pix2Pix(**tiny_pix2pix_kwargs())
    before = {k: v.clone() for k, v in m.state_dict().items()}
    dm = PairedImageDataModule(root=str(facades_root), direction="BtoA", load_size=36, crop_size=32, num_workers=0)
    trainer = make_trainer(max_steps=8, limit_val_batches=4)
    trainer.fit(m, dm)
    assert trainer.global_step == 8
    for key in ("generator.model.model.0.weight", "discriminator.model.0.weight"):
        assert not torch.equal(before[key], m.state_dict()[key])
    (metrics,) = trainer.validate(m, dm, verbose=False)
    assert {"val/l1", "val/psnr", "val/ssim", "val/loss_g", "val/loss_d"} <= set(metrics)
    assert 0 < metrics["val/l1"] < 2 and 0 < metrics["val/psnr"] < 60 and -1 <= metrics["val/ssim"] <= 1


def test_psnr_is_the_mean_of_per_image_psnr_in_pix2pix_logs_and_image_metrics(make_trainer):
    """One PSNR definition: mean over images of 10 * log10(1 / MSE_i) on images in [0, 1], where MSE_i is
    image i's mean squared error. Pix2Pix's val/ and test/ psnr and ImageMetrics' psnr both give it; with
    unequal errors it differs from the PSNR of the pooled MSE. SSIM: both the same per-image mean too."""
    generator = torch.Generator().manual_seed(0)
    real_b = torch.rand(4, 3, 32, 32, generator=generator) * 0.6 - 0.3
    scale = torch.tensor([0.02, 0.1, 0.3, 0.6]).view(4, 1, 1, 1)  # very unequal errors per image
    real_a = real_b + scale * (torch.rand(4, 3, 32, 32, generator=generator) * 2 - 1)  # stays in [-1, 1]
    # G = identity: the outputs are real_a
    mse = (((real_a + 1) / 2 - (real_b + 1) / 2) ** 2).double().mean(dim=(1, 2, 3))
    expected = float((10 * torch.log10(1 / mse)).mean())
    pooled = float(10 * torch.log10(1 / mse.mean()))
    assert expected - pooled > 3  # the two definitions differ by dB here

    m = Pix2Pix(
        generator=nn.Identity(), discriminator=NLayerDiscriminator(input_nc=6, ndf=8, n_layers=1), eval_mode=True
    )
    loader = DataLoader([{"A": a, "B": b} for a, b in zip(real_a, real_b)], batch_size=3)  # batches of 3 and 1
    trainer = make_trainer()
    (val,) = trainer.validate(m, loader, verbose=False)
    (test,) = trainer.test(m, loader, verbose=False)

    metrics = ImageMetrics(("psnr", "ssim"))
    metrics.update_paired(real_a[:3], real_b[:3])
    metrics.update(real_a[3:], reference=real_b[3:])
    values = metrics.compute()

    assert val["val/psnr"] == pytest.approx(expected, rel=1e-5)
    assert test["test/psnr"] == pytest.approx(expected, rel=1e-5)
    assert values["psnr"] == pytest.approx(expected, rel=1e-5)
    assert val["val/ssim"] == pytest.approx(values["ssim"], rel=1e-5) == test["test/ssim"]


def test_bad_settings():
    with pytest.raises(ValueError, match="lambda_l1"):
        Pix2Pix(**tiny_pix2pix_kwargs(), lambda_l1=-1)
    with pytest.raises(ValueError, match="unknown networks"):
        Pix2Pix(**tiny_pix2pix_kwargs(), reference_weights={"netG": "x"})
    assert NLayerDiscriminator(input_nc=6).model[0].in_channels == 6


def tiny_instance_norm_kwargs():
    return {
        **tiny_pix2pix_kwargs(),
        "discriminator": NLayerDiscriminator(input_nc=6, ndf=8, n_layers=1, norm="instance"),
    }


def test_wgangp_with_the_default_batch_norm_discriminator_warns_once():
    with pytest.warns(UserWarning, match="wgangp with batch norm in discriminator") as record:
        Pix2Pix(generator=UnetGenerator(num_downs=5, ngf=8), gan_mode="wgangp")  # default D: norm="batch"
    (warning,) = [w for w in record if "batch norm" in str(w.message)]
    message = str(warning.message)
    assert "\n" not in message and '"instance"' in message and "model.init_args.discriminator.init_args.norm" in message
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Pix2Pix(**tiny_instance_norm_kwargs(), gan_mode="wgangp")  # instance norm: no warning
        Pix2Pix(**tiny_pix2pix_kwargs(), gan_mode="vanilla")  # batch norm without the penalty: no warning


def test_wgangp_discriminator_loss_halves_the_penalty_too():
    torch.manual_seed(0)
    m = Pix2Pix(**tiny_instance_norm_kwargs(), gan_mode="wgangp")
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    fake = m.generator(a).detach()
    loss, logs = m.discriminator_loss(a, b, fake)
    D = m.discriminator
    with torch.no_grad():
        critic_terms = -D(torch.cat([a, b], 1)).mean() + D(torch.cat([a, fake], 1)).mean()
    assert torch.allclose(loss, 0.5 * (critic_terms + 10.0 * logs["gp"]), atol=1e-5)
    assert logs["gp"] > 0


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_n_critic_must_be_an_integer_of_at_least_one(bad):
    with pytest.raises(ValueError, match="n_critic"):
        Pix2Pix(**tiny_pix2pix_kwargs(), n_critic=bad)


class UpdateRecorder(L.Callback):
    """Which of the module's networks changed their parameters in each training batch."""

    def __init__(self, networks):
        self.networks = networks
        self.changed = {name: [] for name in networks}

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self.before = {
            name: [p.detach().clone() for p in getattr(pl_module, name).parameters()] for name in self.networks
        }

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        for name in self.networks:
            after = list(getattr(pl_module, name).parameters())
            self.changed[name].append(any(not torch.equal(b, p) for b, p in zip(self.before[name], after)))


# the 2-batch epochs with n_critic=3: epoch 0 ends without a generator step, and torch warns when its scheduler
# steps at that epoch end
@pytest.mark.filterwarnings("ignore:Detected call of `lr_scheduler.step\\(\\)` before `optimizer.step\\(\\)`")
@pytest.mark.parametrize(
    ("n_critic", "max_epochs", "batches", "generator_steps"),
    [(2, 1, 4, [False, True, False, True]), (3, 2, 2, [False, False, True, False])],  # counted across epochs
)
def test_n_critic_steps_the_generator_on_every_n_critic_th_batch(
    n_critic, max_epochs, batches, generator_steps, make_trainer
):
    L.seed_everything(0)
    m = Pix2Pix(**tiny_instance_norm_kwargs(), gan_mode="wgangp", n_critic=n_critic)
    data = [{"A": torch.rand(3, 32, 32) * 2 - 1, "B": torch.rand(3, 32, 32) * 2 - 1} for _ in range(batches)]
    recorder = UpdateRecorder(("generator", "discriminator"))
    trainer = make_trainer(max_epochs=max_epochs, callbacks=[recorder], limit_val_batches=0)
    trainer.fit(m, DataLoader(data, batch_size=1))
    assert recorder.changed["generator"] == generator_steps
    assert recorder.changed["discriminator"] == [True] * len(generator_steps)
    assert trainer.global_step == len(generator_steps) + sum(generator_steps)  # optimizer steps taken
    assert torch.isfinite(trainer.callback_metrics["train/loss_g"])
