"""Mixed precision with one gradient scaler per optimizer, channels-last, compile, fused Adam."""

from __future__ import annotations

import lightning as L
import pytest
import torch

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, tiny_cyclegan_kwargs
from gan_style.callbacks import Performance
from gan_style.data import UnpairedImageDataModule
from gan_style.methods import CycleGAN
from gan_style.plugins.precision import PerOptimizerMixedPrecision


def _data():
    return UnpairedImageDataModule(root=str(SAMPLE_ROOT), load_size=36, crop_size=32, num_workers=0)


def _trainer(make_trainer, max_steps, **kwargs):
    return make_trainer(max_steps=max_steps, limit_val_batches=0, num_sanity_val_steps=0, **kwargs)


class OverflowingDiscriminator(CycleGAN):
    """Makes the discriminators' gradients infinite in batch ``overflow_batch``; records weights."""

    def __init__(self, overflow_batch: int):
        super().__init__(**tiny_cyclegan_kwargs())
        self.overflow_batch, self.batches, self.snapshots = overflow_batch, -1, {}
        for p in self.discriminator_a.parameters():
            p.register_hook(lambda g: g * float("inf") if self.batches == self.overflow_batch else g)

    def on_train_batch_start(self, batch, batch_idx):
        self.batches += 1
        self.snapshots[self.batches] = {
            "g": self.generator_ab.model[1].weight.detach().clone(),
            "d": self.discriminator_a.model[0].weight.detach().clone(),
        }


def test_each_optimizer_has_its_own_loss_scale(make_trainer):
    """An overflow in the discriminators' gradients skips their step and halves their scale only; the
    generators keep their scale and are updated (with Lightning's single scaler both would halve)."""
    L.seed_everything(0, verbose=False)
    model = OverflowingDiscriminator(overflow_batch=2)
    plugin = PerOptimizerMixedPrecision("cpu", init_scale=1024.0)
    _trainer(make_trainer, 12, plugins=[plugin]).fit(model, _data())
    scale_g, scale_d = (s.get_scale() for s in plugin.scalers)
    assert len(plugin.scalers) == 2
    assert scale_d == 512.0 and scale_g == 1024.0  # growth needs 2000 clean steps; one backoff for D
    snaps = model.snapshots
    assert torch.equal(snaps[2]["d"], snaps[3]["d"])  # D's step in batch 2 was skipped
    assert not torch.equal(snaps[2]["g"], snaps[3]["g"])  # G's was not
    assert not torch.equal(snaps[3]["d"], snaps[4]["d"])  # and D learns again afterwards
    state = plugin.state_dict()
    fresh = PerOptimizerMixedPrecision("cpu")
    fresh.load_state_dict(state)
    assert [s.get_scale() for s in fresh.scalers] == [1024.0, 512.0]


def test_the_command_uses_one_scaler_per_optimizer_for_16_mixed(tmp_path):
    from gan_style.cli import GanStyleCLI

    cli = GanStyleCLI(
        args=[
            "--config",
            str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
            *TINY_CLI_ARGS,
            f"--data.init_args.root={SAMPLE_ROOT}",
            f"--trainer.default_root_dir={tmp_path}",
            "--trainer.precision=16-mixed",
            "--trainer.accelerator=cpu",
        ],
        run=False,
    )
    assert isinstance(cli.trainer.precision_plugin, PerOptimizerMixedPrecision)
    assert cli.trainer.precision_plugin.device == "cpu"


def test_channels_last_and_compile_keep_outputs_and_checkpoint_keys(make_trainer):
    import copy

    L.seed_everything(0, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs())
    reference = copy.deepcopy(model)
    seen = []

    class Spy(L.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            seen.append(batch["A"].is_contiguous(memory_format=torch.channels_last))

    callback = Performance(channels_last=True, compile=True, compile_backend="eager")
    _trainer(make_trainer, 0, callbacks=[callback, Spy()]).fit(model, _data())  # setup only, no step
    assert sorted(callback.compiled) == ["discriminator_a", "discriminator_b", "generator_ab", "generator_ba"]
    conv = model.generator_ab.model[1].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    assert model.state_dict().keys() == reference.state_dict().keys()  # no _orig_mod. prefixes
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        out = model.generator_ab(x.contiguous(memory_format=torch.channels_last))
        assert torch.allclose(out, reference.generator_ab(x), atol=1e-5)

    _trainer(make_trainer, 4, callbacks=[callback, Spy()]).fit(model, _data())  # trains with NHWC batches
    assert seen and all(seen)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fused Adam needs CUDA parameters")
def test_fused_adam_on_cuda():
    model = CycleGAN(**tiny_cyclegan_kwargs()).cuda()
    assert model.adam(model.generator_ab.parameters(), 2e-4).defaults["fused"] is True


def test_adam_on_cpu_is_the_default_implementation():
    model = CycleGAN(**tiny_cyclegan_kwargs())
    opt = model.adam(model.generator_ab.parameters(), 2e-4, (0.5, 0.999))
    assert not opt.defaults["fused"] and opt.defaults["betas"] == (0.5, 0.999)


def test_auto_workers_follow_the_cores_this_process_may_use(monkeypatch):
    import os

    dm = UnpairedImageDataModule(root=str(SAMPLE_ROOT))  # num_workers="auto"
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    assert dm.num_workers() == 8  # capped
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert dm.num_workers() == 3
    assert UnpairedImageDataModule(root=str(SAMPLE_ROOT), num_workers=0).num_workers() == 0
    with pytest.raises(ValueError, match="num_workers must be 'auto' or an integer >= 0"):
        UnpairedImageDataModule(root=str(SAMPLE_ROOT), num_workers=-1)


def test_gatys_refuses_float16(tmp_path, make_trainer):
    from PIL import Image

    from gan_style.methods import Gatys

    for name in ("content", "style"):
        Image.new("RGB", (32, 32), (100, 50, 20)).save(tmp_path / f"{name}.png")
    model = Gatys(
        content=str(tmp_path / "content.png"),
        style=str(tmp_path / "style.png"),
        image_size=32,
        num_iterations=2,
        vgg_weights=None,
        output=str(tmp_path / "out.png"),
    )
    trainer = make_trainer(plugins=[PerOptimizerMixedPrecision("cpu")], max_epochs=1)
    with pytest.raises(ValueError, match="L-BFGS"):
        trainer.fit(model)


@pytest.mark.parametrize("method", ["cyclegan", "pix2pix"])
def test_bf16_mixed_trains_under_manual_optimization(make_trainer, method):
    from conftest import FACADES_ROOT, tiny_pix2pix_kwargs
    from gan_style.data import PairedImageDataModule
    from gan_style.methods import Pix2Pix

    L.seed_everything(0, verbose=False)
    if method == "cyclegan":
        model, data = CycleGAN(**tiny_cyclegan_kwargs()), _data()
    else:
        model = Pix2Pix(**tiny_pix2pix_kwargs())
        data = PairedImageDataModule(root=str(FACADES_ROOT), load_size=36, crop_size=32, num_workers=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer = _trainer(make_trainer, 4, precision="bf16-mixed")
    trainer.fit(model, data)
    assert trainer.global_step == 4
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in model.parameters())  # fp32 masters
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())
