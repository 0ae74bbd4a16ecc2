import warnings

import lightning as L
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch.utils.data import DataLoader

from conftest import tiny_cyclegan_kwargs
from gan_style.data import UnpairedImageDataModule
from gan_style.methods import CycleGAN, ImagePool, LinearDecay
from gan_style.nets import NLayerDiscriminator, ResnetGenerator


def test_linear_decay_policy():
    decay = LinearDecay(n_epochs=2, n_epochs_decay=2)
    assert [round(decay(e), 6) for e in range(6)] == [1.0, 1.0, round(2 / 3, 6), round(1 / 3, 6), 0.0, 0.0]


def test_image_pool():
    assert torch.equal(ImagePool(0).query(torch.ones(2, 3, 4, 4)), torch.ones(2, 3, 4, 4))
    pool = ImagePool(pool_size=2, seed=0)
    first = torch.arange(2.0).view(2, 1, 1, 1).expand(2, 3, 4, 4)
    assert torch.equal(pool.query(first), first)  # filling: returned as given
    later = torch.full((50, 3, 4, 4), 9.0)
    out = pool.query(later)
    swapped = (out[:, 0, 0, 0] != 9.0).sum().item()
    assert 0 < swapped < 50  # about half come from the history
    restored = ImagePool(pool_size=2, seed=123)
    restored.load_state_dict(pool.state_dict())
    probe = torch.full((8, 3, 4, 4), 5.0)
    assert torch.equal(restored.query(probe), pool.query(probe))


def test_generator_and_discriminator_losses_match_the_equations():
    torch.manual_seed(0)
    m = CycleGAN(**tiny_cyclegan_kwargs(), lambda_cycle=10.0, lambda_identity=0.5)
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    out = m.cycle(a, b)
    loss, logs = m.generator_loss(a, b, out)
    G, F, DX, DY = m.generator_ab, m.generator_ba, m.discriminator_a, m.discriminator_b
    l1 = lambda x, y: (x - y).abs().mean()  # noqa: E731
    expected = (
        ((DY(G(a)) - 1) ** 2).mean()
        + ((DX(F(b)) - 1) ** 2).mean()
        + 10.0 * (l1(F(G(a)), a) + l1(G(F(b)), b))
        + 10.0 * 0.5 * (l1(G(b), b) + l1(F(a), a))
    )
    assert torch.allclose(loss, expected, atol=1e-5)
    assert set(logs) == {"loss_g", "loss_g_ab", "loss_g_ba", "loss_cycle_a", "loss_cycle_b", "loss_idt_a", "loss_idt_b"}
    loss_d, logs_d = m.discriminator_loss(a, b, out["fake_A"], out["fake_B"])
    expected_d = 0.5 * (((DX(a) - 1) ** 2).mean() + (DX(F(b)) ** 2).mean()) + 0.5 * (
        ((DY(b) - 1) ** 2).mean() + (DY(G(a)) ** 2).mean()
    )
    assert torch.allclose(loss_d, expected_d, atol=1e-5)
    assert torch.allclose(logs_d["loss_d_a"] + logs_d["loss_d_b"], loss_d)


def test_identity_off_skips_the_term_and_bad_settings_fail():
    m = CycleGAN(**tiny_cyclegan_kwargs(), lambda_identity=0.0)
    a = torch.zeros(1, 3, 32, 32)
    _, logs = m.generator_loss(a, a, m.cycle(a, a))
    assert "loss_idt_a" not in logs
    with pytest.raises(ValueError, match="lambda_cycle"):
        CycleGAN(**tiny_cyclegan_kwargs(), lambda_cycle=float("nan"))
    with pytest.raises(ValueError, match="unknown networks"):
        CycleGAN(**tiny_cyclegan_kwargs(), reference_weights={"netG_A": "x.pth"})
    g = ResnetGenerator(ngf=8, n_blocks=1)
    with pytest.raises(ValueError, match="distinct"):
        CycleGAN(generator_ab=g, generator_ba=g)
    with pytest.raises(KeyError, match="registered losses"):
        CycleGAN(**tiny_cyclegan_kwargs(), cycle_loss="l3")


def test_identity_needs_matching_channels():
    kw = tiny_cyclegan_kwargs()
    kw["generator_ab"] = ResnetGenerator(input_nc=3, output_nc=1, ngf=8, n_blocks=1)
    kw["generator_ba"] = ResnetGenerator(input_nc=1, output_nc=3, ngf=8, n_blocks=1)
    kw["discriminator_b"] = NLayerDiscriminator(input_nc=1, ndf=8, n_layers=1)
    m = CycleGAN(**kw, lambda_identity=0.5)
    with pytest.raises(ValueError, match="lambda_identity"):
        m.generator_loss(
            torch.zeros(1, 3, 32, 32),
            torch.zeros(1, 1, 32, 32),
            m.cycle(torch.zeros(1, 3, 32, 32), torch.zeros(1, 1, 32, 32)),
        )


@pytest.mark.parametrize("gan_mode", ["lsgan", "wgangp"])
def test_training_updates_all_networks(tiny_unpaired, gan_mode, make_trainer):
    L.seed_everything(0)
    m = CycleGAN(**tiny_cyclegan_kwargs(), gan_mode=gan_mode)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    dm = UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0)
    trainer = make_trainer(max_epochs=1, limit_val_batches=1)
    trainer.fit(m, dm)
    assert trainer.global_step == 6  # 3 batches, two optimizer steps each
    for net in ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b"):
        w = f"{net}.model.0.weight" if net.startswith("disc") else f"{net}.model.1.weight"
        assert not torch.equal(before[w], m.state_dict()[w]), net
    metrics = trainer.callback_metrics
    assert torch.isfinite(metrics["train/loss_g"]) and torch.isfinite(metrics["train/loss_d"])
    assert torch.isfinite(metrics["val/loss_g"]) and torch.isfinite(metrics["val/loss_d"])  # validation ran
    if gan_mode == "wgangp":
        assert "train/gp_a" in metrics and "val/gp_a" not in metrics


def test_learning_rate_follows_the_linear_policy(tiny_unpaired, make_trainer):
    L.seed_everything(0)
    m = CycleGAN(**tiny_cyclegan_kwargs(), n_epochs=1, n_epochs_decay=1, lr=1e-3)
    dm = UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0)
    trainer = make_trainer(max_epochs=1, limit_val_batches=0)
    trainer.fit(m, dm)
    opt_g, opt_d = m.optimizers()
    assert opt_g.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5)  # after epoch 0: factor 1 - 1/2
    assert opt_d.param_groups[0]["lr"] == pytest.approx(1e-3 * 0.5)


def test_reference_weights_load_at_setup(tmp_path, tiny_unpaired):
    src = ResnetGenerator(ngf=8, n_blocks=1)
    path = tmp_path / "latest_net_G_A.pth"
    torch.save(src.state_dict(), path)
    m = CycleGAN(**tiny_cyclegan_kwargs(), reference_weights={"generator_ab": str(path)})
    m.setup("predict")
    x = torch.rand(1, 3, 32, 32)
    assert torch.equal(m.generator_ab(x), src(x))


class Crash(L.Callback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        if trainer.global_step >= self.at_step:
            raise RuntimeError("simulated crash")


def _fit(make_trainer, root, run_dir, ckpt_path=None, crash_at=None, **trainer_kwargs):
    L.seed_everything(0, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs(), n_epochs=1, n_epochs_decay=3)
    dm = UnpairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0)
    callbacks = [ModelCheckpoint(dirpath=run_dir / "ck", save_last=True, save_top_k=1, every_n_train_steps=4)]
    if crash_at is not None:
        callbacks.append(Crash(crash_at))
    trainer = make_trainer(
        default_root_dir=run_dir,
        enable_checkpointing=True,  # the ModelCheckpoint above
        callbacks=callbacks,
        limit_val_batches=1,
        num_sanity_val_steps=0,
        **trainer_kwargs,
    )
    try:
        trainer.fit(model, dm, ckpt_path=ckpt_path)
    except RuntimeError as err:
        assert "simulated crash" in str(err)
    return model, trainer


@pytest.mark.parametrize("interruption", ["mid_epoch_crash", "epoch_end"])
def test_resumed_run_equals_uninterrupted_run(tmp_path, sample_root, interruption, make_trainer):
    """8 A images x 18 B images: 18 batches (36 optimizer steps) an epoch; train 48 steps."""
    full, full_trainer = _fit(make_trainer, sample_root, tmp_path / "full", max_steps=48)
    if interruption == "mid_epoch_crash":
        _, crashed = _fit(make_trainer, sample_root, tmp_path / "resumed", max_steps=48, crash_at=14)
        assert crashed.global_step == 14  # last checkpoint at step 12, in the middle of epoch 0
    else:
        _fit(make_trainer, sample_root, tmp_path / "resumed", max_epochs=1)
    resumed, resumed_trainer = _fit(make_trainer, sample_root, tmp_path / "resumed", ckpt_path="last", max_steps=48)
    assert resumed_trainer.global_step == full_trainer.global_step == 48
    assert resumed_trainer.current_epoch == full_trainer.current_epoch
    full_sd, resumed_sd = full.state_dict(), resumed.state_dict()
    for key in full_sd:
        assert torch.equal(full_sd[key], resumed_sd[key]), key
    for a, b in zip(full.optimizers(), resumed.optimizers()):
        assert a.param_groups[0]["lr"] == b.param_groups[0]["lr"]
    assert torch.equal(full.pool_a.state_dict()["images"], resumed.pool_a.state_dict()["images"])


def test_wgangp_discriminator_loss_halves_the_penalty_too():
    torch.manual_seed(0)
    m = CycleGAN(**tiny_cyclegan_kwargs(), gan_mode="wgangp")
    a, b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        fake_a, fake_b = m.generator_ba(b), m.generator_ab(a)
    loss, logs = m.discriminator_loss(a, b, fake_a, fake_b)
    DX, DY = m.discriminator_a, m.discriminator_b
    with torch.no_grad():
        critic_a = -DX(a).mean() + DX(fake_a).mean()
        critic_b = -DY(b).mean() + DY(fake_b).mean()
    assert torch.allclose(logs["loss_d_a"], 0.5 * (critic_a + 10.0 * logs["gp_a"]), atol=1e-5)
    assert torch.allclose(logs["loss_d_b"], 0.5 * (critic_b + 10.0 * logs["gp_b"]), atol=1e-5)
    assert torch.allclose(loss, logs["loss_d_a"] + logs["loss_d_b"])


def test_wgangp_with_a_batch_norm_discriminator_warns():
    kwargs = {**tiny_cyclegan_kwargs(), "discriminator_b": NLayerDiscriminator(ndf=8, n_layers=1, norm="batch")}
    with pytest.warns(UserWarning, match="wgangp with batch norm in discriminator_b:") as record:
        CycleGAN(**kwargs, gan_mode="wgangp")
    (warning,) = [w for w in record if "batch norm" in str(w.message)]
    assert "\n" not in str(warning.message) and "model.init_args.discriminator_b.init_args.norm" in str(warning.message)
    assert "discriminator_a" not in str(warning.message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CycleGAN(**tiny_cyclegan_kwargs(), gan_mode="wgangp")  # the default instance norm
        CycleGAN(**kwargs, gan_mode="lsgan")


@pytest.mark.parametrize("bad", [0, -2, 2.0, False])
def test_n_critic_must_be_an_integer_of_at_least_one(bad):
    with pytest.raises(ValueError, match="n_critic"):
        CycleGAN(**tiny_cyclegan_kwargs(), n_critic=bad)


def test_n_critic_steps_the_generators_on_every_n_critic_th_batch(make_trainer):
    L.seed_everything(0)
    m = CycleGAN(**tiny_cyclegan_kwargs(), gan_mode="wgangp", n_critic=2)
    data = [{"A": torch.rand(3, 32, 32) * 2 - 1, "B": torch.rand(3, 32, 32) * 2 - 1} for _ in range(4)]
    networks = ("generator_ab", "generator_ba", "discriminator_a", "discriminator_b")
    changed = {name: [] for name in networks}

    class Recorder(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            self.before = {n: [p.detach().clone() for p in getattr(pl_module, n).parameters()] for n in networks}

        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            for n in networks:
                params = getattr(pl_module, n).parameters()
                changed[n].append(any(not torch.equal(b, p) for b, p in zip(self.before[n], params)))

    trainer = make_trainer(max_epochs=1, callbacks=[Recorder()], limit_val_batches=0)
    trainer.fit(m, DataLoader(data, batch_size=1))
    assert changed["generator_ab"] == changed["generator_ba"] == [False, True, False, True]
    assert changed["discriminator_a"] == changed["discriminator_b"] == [True] * 4
    assert trainer.global_step == 4 + 2  # optimizer steps taken: 4 discriminator steps, 2 generator steps
    assert torch.isfinite(trainer.callback_metrics["train/loss_g"])
