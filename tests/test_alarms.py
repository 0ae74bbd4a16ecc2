"""SilentFailureAlarms: each alarm fires on a run made to fail that way, with the step and advice, and stays
silent on healthy runs."""

from __future__ import annotations

import warnings

import lightning as L
import pytest
import torch
from torch.utils.data import DataLoader

from conftest import quiet_trainer, tiny_cyclegan_kwargs
from gan_style.callbacks import SilentFailureAlarms, SilentFailureWarning


@pytest.fixture(autouse=True)
def _one_thread():
    """The networks here are tiny: one thread runs them fastest, and stays fast on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _images(n: int, seed: int, size: int = 16) -> torch.Tensor:
    """``n`` smooth random RGB images in [-1, 1] (N, 3, size, size)."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(n, 3, 4, 4, generator=generator) * 2 - 1
    return torch.nn.functional.interpolate(coarse, size=size, mode="bilinear", align_corners=False)


class _Translator(L.LightningModule):
    """A stand-in method: ``evaluation_images`` runs ``mapping`` on ``batch["A"]`` (4 validation images in
    batches of 2); the i-th training batch of the run logs the discriminator and generator losses ``losses(i)``
    gives (or none)."""

    def __init__(
        self, mapping=None, losses=None, paired: bool = False, gan_mode: str = "lsgan", key: str = "A"
    ) -> None:
        super().__init__()
        self.key = key  # "image": batches of an unconditional GAN, without input images
        self.save_hyperparameters({"gan_mode": gan_mode})
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.mapping = mapping
        self.losses = losses
        self.paired = paired
        self.batches = 0

    def training_step(self, batch, batch_idx):
        if self.losses is not None:
            d_loss, g_loss = self.losses(self.batches)
            self.log_dict({"train/loss_d": torch.tensor(d_loss), "train/loss_g_gan": torch.tensor(g_loss)})
        self.batches += 1
        return (self.weight**2).sum()

    def validation_step(self, batch, batch_idx):
        pass

    def evaluation_images(self, batch):
        if self.mapping is None:
            raise NotImplementedError
        if self.key != "A":  # an unconditional GAN: fakes (here from the real images' count) and the real images
            return {"generated": self.mapping(batch[self.key]), "reference": batch[self.key]}
        images = {"generated": self.mapping(batch["A"]), "reference": batch["B"], "content": batch["A"]}
        if self.paired:
            images["paired"] = batch["B"]
        return images

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)

    def train_dataloader(self):
        return DataLoader([{"A": torch.zeros(3, 16, 16)}] * 64, batch_size=1)

    def val_dataloader(self):
        a, b = _images(4, seed=1), _images(4, seed=2)
        if self.key != "A":
            return DataLoader([{self.key: a[i]} for i in range(4)], batch_size=2)
        return DataLoader([{"A": a[i], "B": b[i]} for i in range(4)], batch_size=2)


def _fit(tmp_path, module, alarms: SilentFailureAlarms, datamodule=None, **trainer_args) -> tuple[L.Trainer, list[str]]:
    """Fit ``module`` (on ``datamodule``) with ``alarms``; the messages of the SilentFailureWarnings given."""
    trainer = quiet_trainer(tmp_path, callbacks=[alarms], num_sanity_val_steps=0, **trainer_args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.fit(module, datamodule=datamodule)
    return trainer, [str(w.message) for w in caught if issubclass(w.category, SilentFailureWarning)]


# four validations, one training batch before each: validation k (from 1) runs at global step k
_VALIDATIONS = dict(max_epochs=4, limit_train_batches=1)


def _healthy(x: torch.Tensor) -> torch.Tensor:  # a translation: darker, warmer, input-dependent
    return (0.6 * x + torch.tensor([0.2, 0.0, -0.2]).view(1, 3, 1, 1)).clamp(-1, 1)


def test_identity_collapse_fires_at_the_step_with_advice(tmp_path):
    alarms = SilentFailureAlarms(patience=3)
    trainer, messages = _fit(tmp_path, _Translator(mapping=lambda x: x.clone()), alarms, **_VALIDATIONS)
    assert len(messages) == 1, messages  # once, at the third validation in a row; not again at the fourth
    message = messages[0]
    assert message.startswith("SilentFailureAlarms: identity collapse at step 3: mean |G(x) - x| = 0.0000")
    assert "3 validations in a row" in message and "Advice: lower lambda_identity" in message
    assert [f["alarm"] for f in alarms.fired] == ["identity_collapse"] and alarms.fired[0]["step"] == 3
    metrics = trainer.callback_metrics
    assert float(metrics["alarms/identity_collapse"]) == 1.0 and float(metrics["alarms/identity_distance"]) == 0.0
    assert float(metrics["alarms/mode_collapse"]) == 0.0 and float(metrics["alarms/color_inversion"]) == 0.0


def test_mode_collapse_fires_on_a_constant_output(tmp_path):
    constant = torch.tensor([0.3, -0.1, 0.5]).view(1, 3, 1, 1)
    alarms = SilentFailureAlarms(patience=3)
    trainer, messages = _fit(
        tmp_path, _Translator(mapping=lambda x: constant.expand_as(x).clone()), alarms, **_VALIDATIONS
    )
    assert len(messages) == 1, messages
    assert messages[0].startswith("SilentFailureAlarms: mode collapse at step 3: the outputs' mean pairwise distance")
    assert (
        "different inputs give nearly the same output" in messages[0]
        and "Advice: weaken the discriminator" in messages[0]
    )
    assert float(trainer.callback_metrics["alarms/output_diversity"]) == 0.0
    assert float(trainer.callback_metrics["alarms/mode_collapse"]) == 1.0


def test_mode_collapse_of_an_unconditional_gan_is_measured_against_the_real_images(tmp_path):
    constant = torch.tensor([0.3, -0.1, 0.5]).view(1, 3, 1, 1)
    collapsed = _Translator(mapping=lambda x: constant.expand_as(x).clone(), key="image")
    trainer, messages = _fit(tmp_path, collapsed, SilentFailureAlarms(patience=3), **_VALIDATIONS)
    assert len(messages) == 1 and messages[0].startswith("SilentFailureAlarms: mode collapse at step 3:"), messages
    # no input images: identity and colour inversion are not measured
    assert {k for k in trainer.callback_metrics if k.startswith("alarms/")} == {
        "alarms/mode_collapse",
        "alarms/output_diversity",
    }
    trainer, messages = _fit(
        tmp_path, _Translator(mapping=_healthy, key="image"), SilentFailureAlarms(patience=1), **_VALIDATIONS
    )
    assert messages == [] and float(trainer.callback_metrics["alarms/output_diversity"]) == pytest.approx(0.6, abs=0.01)


def test_color_inversion_fires_on_an_inverted_output_of_an_unpaired_method(tmp_path):
    alarms = SilentFailureAlarms(patience=2)
    trainer, messages = _fit(tmp_path, _Translator(mapping=lambda x: -x), alarms, **_VALIDATIONS)
    assert len(messages) == 1, messages
    assert messages[0].startswith("SilentFailureAlarms: color inversion at step 2: the correlation of the outputs' ")
    assert (
        "was -1.000 (below -0.5)" in messages[0] and "Advice: train again with another seed_everything" in messages[0]
    )
    assert float(trainer.callback_metrics["alarms/color_inversion"]) == 1.0


def test_color_inversion_is_not_checked_for_paired_methods(tmp_path):
    trainer, messages = _fit(
        tmp_path, _Translator(mapping=lambda x: -x, paired=True), SilentFailureAlarms(), **_VALIDATIONS
    )
    assert messages == []
    assert "alarms/color_inversion" not in trainer.callback_metrics


def test_healthy_translation_fires_nothing_and_logs_zero_flags(tmp_path):
    alarms = SilentFailureAlarms(patience=1)  # the most eager setting
    trainer, messages = _fit(tmp_path, _Translator(mapping=_healthy), alarms, **_VALIDATIONS)
    assert messages == [] and alarms.fired == []
    metrics = trainer.callback_metrics
    for name in ("identity_collapse", "mode_collapse", "color_inversion"):
        assert float(metrics[f"alarms/{name}"]) == 0.0
    assert 0.1 < float(metrics["alarms/identity_distance"]) < 0.5
    assert float(metrics["alarms/output_diversity"]) == pytest.approx(0.6, abs=0.01)
    assert float(metrics["alarms/luminance_correlation"]) > 0.99


def test_at_most_max_images_are_measured_per_validation(tmp_path):
    sizes = []

    def mapping(x):
        sizes.append(x.shape[0])
        return _healthy(x)

    _fit(tmp_path, _Translator(mapping=mapping), SilentFailureAlarms(max_images=3), **_VALIDATIONS)
    assert sizes == [2, 1] * 4  # the first batch whole, one image of the second, no more; in each validation


def test_methods_without_evaluation_images_or_loss_keys_are_not_checked(tmp_path):
    trainer, messages = _fit(tmp_path, _Translator(), SilentFailureAlarms(patience=1, loss_window=4), max_steps=12)
    assert messages == [] and not [k for k in trainer.callback_metrics if k.startswith("alarms/")]


def _losing_generator(i: int) -> tuple[float, float]:  # D loss at 0, the generator's adversarial loss climbing
    return 0.0, 1.0 + 0.1 * i


def test_discriminator_wins_fires_when_d_loss_vanishes_and_g_loss_rises(tmp_path):
    alarms = SilentFailureAlarms(loss_window=8, patience=2)
    trainer, messages = _fit(tmp_path, _Translator(losses=_losing_generator), alarms, max_steps=16, limit_val_batches=0)
    # checks after every 2nd batch; windows full after batch 8; second check in a row after batch 10 = step 10
    assert len(messages) == 1, messages
    message = messages[0]
    assert message.startswith(
        "SilentFailureAlarms: discriminator wins at step 10: train/loss_d averaged 0.00e+00 (below 0.005) over the "
        "last 8 training batches while train/loss_g_gan rose from 1.350 to 1.750, in 2 checks in a row"
    )
    assert "Advice: weaken the discriminator (fewer layers or filters: n_layers, ndf)" in message
    assert float(trainer.callback_metrics["alarms/discriminator_wins"]) == 1.0


@pytest.mark.parametrize(
    "losses, gan_mode",
    [
        (lambda i: (0.4 + 0.05 * (i % 3), 1.0 + 0.1 * i), "lsgan"),  # G loss rises, but D is not winning
        (lambda i: (0.0, 3.0 - 0.1 * i), "lsgan"),  # D loss at 0 but the generator keeps up
        (_losing_generator, "wgangp"),  # a critic's loss has no floor: not checked
    ],
    ids=["healthy", "g-falling", "wgangp"],
)
def test_discriminator_wins_stays_silent_otherwise(tmp_path, losses, gan_mode):
    module = _Translator(losses=losses, gan_mode=gan_mode)
    trainer, messages = _fit(
        tmp_path, module, SilentFailureAlarms(loss_window=8, patience=1), max_steps=24, limit_val_batches=0
    )
    assert messages == []
    assert float(trainer.callback_metrics.get("alarms/discriminator_wins", 0.0)) == 0.0


def test_a_real_cyclegan_run_uses_the_public_hooks_and_fires_nothing(tmp_path, tiny_unpaired):
    from gan_style.data import UnpairedImageDataModule
    from gan_style.methods import CycleGAN

    L.seed_everything(0)
    alarms = SilentFailureAlarms(patience=1, loss_window=4)
    trainer, messages = _fit(
        tmp_path,
        CycleGAN(**tiny_cyclegan_kwargs()),
        alarms,
        UnpairedImageDataModule(root=str(tiny_unpaired), load_size=36, crop_size=32, num_workers=0),
        max_epochs=2,
        limit_train_batches=2,
    )
    assert messages == []
    metrics = trainer.callback_metrics
    assert {"alarms/identity_distance", "alarms/output_diversity", "alarms/luminance_correlation"} <= set(metrics)
    assert float(metrics["alarms/identity_distance"]) > 0.05
    # CycleGAN's two directions are watched pair by pair
    assert "discriminator_wins:train/loss_d_b|train/loss_g_ab" in alarms.streaks


def test_state_survives_a_checkpoint():
    alarms = SilentFailureAlarms(loss_window=4)
    alarms.streaks = {"identity_collapse": 2}
    alarms._window("train/loss_d").extend(torch.tensor(v) for v in (0.5, 0.25))
    restored = SilentFailureAlarms(loss_window=4)
    restored.load_state_dict(alarms.state_dict())
    assert restored.streaks == {"identity_collapse": 2}
    assert [float(v) for v in restored._losses["train/loss_d"]] == [0.5, 0.25]


@pytest.mark.parametrize(
    "setting, value",
    [
        ("identity_threshold", -0.1),
        ("mode_collapse_threshold", -1.0),
        ("d_loss_threshold", float("nan")),
        ("g_loss_rise", -0.5),
        ("inversion_threshold", 0.3),
        ("patience", 0),
        ("loss_window", 2),
        ("max_images", 1),
        ("compare_size", 0),
        ("alarms", ["identity_collapse", "blurriness"]),
    ],
)
def test_bad_settings_are_refused_naming_the_setting(setting, value):
    with pytest.raises(ValueError, match=f"^{setting}") as info:
        SilentFailureAlarms(**{setting: value})
    assert "\n" not in str(info.value)
