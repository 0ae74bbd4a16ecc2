"""``EvaluationMetrics``: the same metric names in validation and test for every method."""

from __future__ import annotations

import warnings
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from conftest import FACADES_ROOT, SAMPLE_ROOT, tiny_cyclegan_kwargs, tiny_pix2pix_kwargs
from gan_style.callbacks import EvaluationMetrics
from gan_style.callbacks import metrics as metrics_callback
from gan_style.data import PairedImageDataModule, UnpairedImageDataModule
from gan_style.errors import WeightsUnavailableError
from gan_style.methods import CycleGAN, Pix2Pix


class SmallFeatures(nn.Module):
    """8-d features: 4x4 average pooling and a fixed projection (stands in for Inception-v3)."""

    num_features = 8

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Linear(48, 8)
        with torch.no_grad():
            self.proj.weight.copy_(torch.randn(8, 48, generator=torch.Generator().manual_seed(0)) / 4)

    def forward(self, x):
        return self.proj(F.adaptive_avg_pool2d(x, 4).flatten(1))


def _trainer(make_trainer, callback, **kwargs):
    return make_trainer(num_sanity_val_steps=0, callbacks=[callback], **kwargs)


def test_cyclegan_logs_fid_and_kid_in_validation_and_test(make_trainer):
    L.seed_everything(0, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs())
    dm = UnpairedImageDataModule(root=str(SAMPLE_ROOT), load_size=36, crop_size=32, num_workers=0)
    callback = EvaluationMetrics(metrics=["fid", "kid"], feature_network=SmallFeatures(), kid_subset_size=2)
    trainer = _trainer(make_trainer, callback, max_epochs=2, limit_train_batches=2)
    trainer.fit(model, dm)
    val = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
    assert {"val/fid", "val/kid", "val/kid_std"} <= val.keys()
    assert val["val/fid"] > 0 and abs(val["val/kid"]) < 10

    # the logged FID equals FID computed directly from the same images and the same feature network
    from gan_style.metrics import ImageMetrics

    direct = ImageMetrics(["fid"], feature_network=SmallFeatures())
    model.eval()
    with torch.no_grad():
        for batch in dm.val_dataloader():
            images = model.evaluation_images(batch)
            direct.update_distribution(generated=images["generated"], reference=images["reference"])
    assert direct.compute()["fid"] == pytest.approx(val["val/fid"], rel=1e-4)

    results = trainer.test(model, dm, verbose=False)[0]
    assert results["test/fid"] == pytest.approx(val["val/fid"], rel=1e-4)  # the same images, the same weights


def test_every_n_epochs_spaces_the_evaluations(make_trainer):
    L.seed_everything(0, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs())
    dm = UnpairedImageDataModule(root=str(SAMPLE_ROOT), load_size=36, crop_size=32, num_workers=0)
    logged = []

    class Spy(EvaluationMetrics):
        def _log(self, pl_module, prefix):
            if self._active:
                logged.append(pl_module.current_epoch)
            super()._log(pl_module, prefix)

    callback = Spy(metrics=["fid"], feature_network=SmallFeatures(), every_n_epochs=2)
    _trainer(make_trainer, callback, max_epochs=4, limit_train_batches=1, limit_val_batches=2).fit(model, dm)
    assert logged == [1, 3]


def _offline(tmp_path, monkeypatch) -> Path:
    """No weights cached (an empty ``$TORCH_HOME``) and no network; the "said once" memory of the process reset.
    Returns the folder the weights belong in."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setattr(metrics_callback, "_SAID", set(), raising=False)

    def offline(url, dst, *args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    return tmp_path / "torch_home" / "hub" / "checkpoints"


def test_without_weights_warn_drops_metrics_and_error_stops(tmp_path, make_trainer, monkeypatch):
    """Offline with missing_weights='warn': FID/KID/LPIPS are dropped with one short line naming the files and
    where they go, said once per process, and a short reason per metric that is right for that metric; the run goes
    on (Pix2Pix still logs its own PSNR/SSIM); with 'error' the run stops at setup."""
    folder = _offline(tmp_path, monkeypatch)
    L.seed_everything(0, verbose=False)
    model = Pix2Pix(**tiny_pix2pix_kwargs())
    dm = PairedImageDataModule(root=str(FACADES_ROOT), load_size=36, crop_size=32, num_workers=0)
    callback = EvaluationMetrics(missing_weights="warn")  # Pix2Pix's defaults: fid, kid, lpips
    with pytest.warns(UserWarning) as record:
        results = _trainer(make_trainer, callback, limit_test_batches=2).test(model, dm, verbose=False)[0]
    said = [str(w.message) for w in record if "not computed" in str(w.message)]
    assert said == [
        "fid, kid, lpips not computed: copy weights-inception-2015-12-05-6726825d.pth, alexnet-owt-7be5be79.pth "
        f"into {folder} (offline)"
    ]
    assert len(said[0]) <= 120 + len(str(folder))  # one line, not the 600-character download message
    inception = (
        f"the FID Inception-v3 weights (weights-inception-2015-12-05-6726825d.pth) are not in {folder} and could "
        "not be downloaded"
    )
    lpips = (
        f"the LPIPS alex backbone weights (alexnet-owt-7be5be79.pth) are not in {folder} and could not be downloaded"
    )
    assert callback.unavailable_metrics == {"fid": inception, "kid": inception, "lpips": lpips}
    assert "test/fid" not in results and "test/psnr" in results
    again = EvaluationMetrics(missing_weights="warn")  # a second run in the same process: not said again
    with warnings.catch_warnings(record=True) as second:
        warnings.simplefilter("always")
        _trainer(make_trainer, again, limit_test_batches=1).test(model, dm, verbose=False)
    assert not [w for w in second if "not computed" in str(w.message)]
    assert again.unavailable_metrics == callback.unavailable_metrics
    with pytest.raises(WeightsUnavailableError, match="weights-inception"):
        _trainer(make_trainer, EvaluationMetrics(metrics=["fid"])).test(model, dm, verbose=False)
    with pytest.raises(ValueError, match="logs psnr, ssim itself"):
        _trainer(make_trainer, EvaluationMetrics(metrics=["psnr", "ssim"])).test(model, dm, verbose=False)


def test_missing_lpips_weights_leave_fid_computed_and_blame_only_lpips(tmp_path, make_trainer, monkeypatch):
    """Only the LPIPS backbone missing (FID/KID from an injected feature network): LPIPS alone is left out, and its
    reason names the LPIPS file, not the Inception weights."""
    folder = _offline(tmp_path, monkeypatch)
    L.seed_everything(0, verbose=False)
    model = Pix2Pix(**tiny_pix2pix_kwargs())
    dm = PairedImageDataModule(root=str(FACADES_ROOT), load_size=36, crop_size=32, num_workers=0)
    callback = EvaluationMetrics(missing_weights="warn", feature_network=SmallFeatures(), kid_subset_size=2)
    with pytest.warns(UserWarning, match=r"^lpips not computed: copy alexnet-owt-7be5be79.pth into "):
        results = _trainer(make_trainer, callback, limit_test_batches=2).test(model, dm, verbose=False)[0]
    assert "test/fid" in results and "test/kid" in results and "test/lpips" not in results
    assert callback.unavailable_metrics == {
        "lpips": f"the LPIPS alex backbone weights (alexnet-owt-7be5be79.pth) are not in {folder} and could not be "
        "downloaded"
    }


def test_bad_settings():
    with pytest.raises(ValueError, match="unknown metric"):
        EvaluationMetrics(metrics=["fidd"])
    with pytest.raises(ValueError, match="every_n_epochs"):
        EvaluationMetrics(every_n_epochs=0)
