"""CUT / FastCUT / SinCUT (Park et al., ECCV 2020): PatchNCE against a hand computation of Eq. 2, the anti-aliased
networks and their published key layout, the eagerly built MLP head (optimizer, checkpoint), the losses'
composition (Eq. 5), exact resume, SinCUT's crops and R1, mixed precision, the command line (fit, stylize whole
and tiled, export) and the pretrained catalogue's CUT files (built here in the published layout, served locally).
Numbers against the authors' code itself: benchmarks/cut_parity.py."""

from __future__ import annotations

import io
import json
import math
import shutil
import tarfile
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from lightning.pytorch.callbacks import Callback
from PIL import Image

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process, quiet_trainer
from gan_style.data import UnpairedImageDataModule
from gan_style.inference import GeneratorStylizer
from gan_style.losses import create_loss, list_losses
from gan_style.losses.patchnce import PatchNCELoss
from gan_style.methods.cut import CUT, SinCUT
from gan_style.nets import load_reference_state_dict
from gan_style.nets.cut import BlurDownsample, BlurUpsample, CUTDiscriminator, CUTGenerator, PatchSampleMLP

LAYERS = [0, 4, 8, 12]


def tiny_cut(**kwargs) -> CUT:
    kwargs.setdefault("nce_layers", LAYERS)
    kwargs.setdefault("num_patches", 8)
    kwargs.setdefault("mlp_channels", 16)
    return CUT(CUTGenerator(ngf=8, n_blocks=2), CUTDiscriminator(ndf=8, n_layers=1), **kwargs)


def _images(n=2, size=32, seed=0) -> torch.Tensor:
    return torch.rand(n, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- PatchNCE ------------------------------------------------------------------------------------------------


def _hand_patchnce(q: torch.Tensor, k: torch.Tensor, groups: int, tau: float) -> torch.Tensor:
    """Eq. 2 per query, written out: -log(e^{q.k+/tau} / (e^{q.k+/tau} + sum_{j != i} e^{q.k_j/tau} + e^{-10/tau}))
    with the negatives k_j from the query's own group (image, or the whole batch); the e^{-10/tau} term is the
    masked diagonal the authors' code keeps."""
    per_group = q.shape[0] // groups
    out = []
    for i in range(q.shape[0]):
        g = i // per_group
        pos = math.exp(float(q[i] @ k[i]) / tau)
        neg = sum(math.exp(float(q[i] @ k[j]) / tau) for j in range(g * per_group, (g + 1) * per_group) if j != i)
        out.append(-math.log(pos / (pos + neg + math.exp(-10.0 / tau))))
    return torch.tensor(out)


@pytest.mark.parametrize("from_minibatch", [False, True])
def test_patchnce_is_eq2_computed_by_hand(from_minibatch):
    g = torch.Generator().manual_seed(3)
    q = F.normalize(torch.randn(6, 5, generator=g), dim=1)  # 2 images x 3 patches
    k = F.normalize(torch.randn(6, 5, generator=g), dim=1)
    loss = PatchNCELoss(nce_T=0.5, negatives_from_minibatch=from_minibatch, reduction="none")(q, k, batch_size=2)
    expected = _hand_patchnce(q, k, 1 if from_minibatch else 2, 0.5)
    assert loss.shape == (6,) and torch.allclose(loss, expected.float(), atol=1e-5)
    mean = create_loss("patchnce", nce_T=0.5, negatives_from_minibatch=from_minibatch)(q, k, 2)
    assert "patchnce" in list_losses() and torch.allclose(mean, expected.float().mean(), atol=1e-5)


def test_patchnce_trains_the_queries_only_and_refuses_bad_input():
    q = F.normalize(torch.randn(4, 3), dim=1).requires_grad_(True)
    k = F.normalize(torch.randn(4, 3), dim=1).requires_grad_(True)
    PatchNCELoss()(q, k, 2).backward()
    assert q.grad is not None and k.grad is None  # keys detached, as the authors' code
    perfect = torch.eye(4)  # each query equals its key, orthogonal to the others: loss ~ log(1 + 3 e^{-1/T})
    assert float(PatchNCELoss()(perfect, perfect, 1)) == pytest.approx(math.log(1 + 3 * math.exp(-1 / 0.07)), abs=1e-6)
    with pytest.raises(ValueError, match="nce_T"):
        PatchNCELoss(nce_T=0.0)
    with pytest.raises(ValueError, match="one shape"):
        PatchNCELoss()(torch.zeros(4, 3), torch.zeros(4, 2), 1)
    with pytest.raises(ValueError, match="not a multiple of the batch size 3"):
        PatchNCELoss()(torch.zeros(4, 3), torch.zeros(4, 3), 3)


# --- networks ------------------------------------------------------------------------------------------------


def test_blur_layers_are_the_binomial_filters_of_the_cut_code():
    down, up = BlurDownsample(2), BlurUpsample(2)
    assert torch.allclose(down.filt[0, 0], torch.tensor([[1.0, 2, 1], [2, 4, 2], [1, 2, 1]]) / 16)
    b = torch.tensor([1.0, 3, 3, 1])
    assert torch.allclose(up.filt[1, 0], torch.outer(b, b) / 64 * 4)
    x = torch.full((1, 2, 8, 6), 0.3)
    assert torch.allclose(down(x), torch.full((1, 2, 4, 3), 0.3)) and torch.allclose(
        up(x), torch.full((1, 2, 16, 12), 0.3)
    )
    even, odd = torch.zeros(1, 2, 8, 8), torch.zeros(1, 2, 8, 8)
    even[..., 4, 4], odd[..., 3, 3] = 1.0, 1.0  # output (i, j) = sum_uv filt[u, v] x[2i + u - 1, 2j + v - 1]
    expected_even, expected_odd = torch.zeros(4, 4), torch.zeros(4, 4)
    expected_even[2, 2], expected_odd[1:3, 1:3] = 4 / 16, 1 / 16
    assert torch.allclose(down(even)[0, 0], expected_even) and torch.allclose(down(odd)[0, 1], expected_odd)


def test_generator_layout_loads_the_published_keys_and_encodes_the_nce_layers():
    g = CUTGenerator()
    state = g.state_dict()
    assert sum(p.numel() for p in g.parameters()) == 11_378_179  # resnet_9blocks at ngf 64
    published = {  # (key, shape) of the CUT code's latest_net_G.pth, resnet_9blocks, anti-aliased
        "model.1.weight": (64, 3, 7, 7), "model.4.weight": (128, 64, 3, 3), "model.7.filt": (128, 1, 3, 3),
        "model.8.weight": (256, 128, 3, 3), "model.11.filt": (256, 1, 3, 3),
        "model.12.conv_block.1.weight": (256, 256, 3, 3), "model.20.conv_block.5.weight": (256, 256, 3, 3),
        "model.21.filt": (256, 1, 4, 4), "model.22.weight": (128, 256, 3, 3), "model.25.filt": (128, 1, 4, 4),
        "model.26.weight": (64, 128, 3, 3), "model.30.weight": (3, 64, 7, 7), "model.30.bias": (3,),
    }  # fmt: skip
    assert {k: tuple(state[k].shape) for k in published} == published and len(state) == 52
    file_state = {f"module.{k}": v.clone() for k, v in state.items()}  # as saved from DataParallel
    load_reference_state_dict(g, file_state)  # loads, filt buffers included

    small = CUTGenerator(ngf=8, n_blocks=2)
    x = _images()
    feats = small.encode(x, LAYERS)
    assert [tuple(f.shape) for f in feats] == [(2, 3, 38, 38), (2, 16, 32, 32), (2, 32, 16, 16), (2, 32, 8, 8)]
    y = x
    for i in range(13):
        y = small.model[i](y)
    assert torch.equal(feats[3], small.model[:13](x)) and small(x).shape == x.shape
    with pytest.raises(ValueError, match="increasing"):
        small.encode(x, [4, 0])
    plain = CUTGenerator(ngf=8, n_blocks=1, no_antialias=True, no_antialias_up=True)
    assert not any(isinstance(m, (BlurDownsample, BlurUpsample)) for m in plain.modules()) and plain(x).shape == x.shape
    d = CUTDiscriminator()
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30) and "model.2.filt" in d.state_dict()


def test_patch_head_samples_the_same_places_and_keeps_images_apart():
    # seeded: a 7-unit ReLU MLP with zero biases (the code's init) maps some inputs to exactly 0, whose norm is 0
    torch.manual_seed(0)
    feats = [torch.randn(2, 3, 4, 5), torch.randn(2, 6, 2, 2)]
    head = PatchSampleMLP([3, 6], nc=7)
    assert sorted(head.state_dict()) == sorted(
        f"mlp_{i}.{j}.{w}" for i in (0, 1) for j in (0, 2) for w in ("weight", "bias")
    )  # the CUT code's latest_net_F.pth keys
    out, ids = head(feats, num_patches=6)
    assert [tuple(o.shape) for o in out] == [(12, 7), (8, 7)] and [len(i) for i in ids] == [6, 4]  # 4 < 6 places
    norms = out[0].norm(dim=1)  # v / (|v| + 1e-7): 1 up to the epsilon, which matters for the tiny initial MLP outputs
    assert (norms <= 1).all() and (norms > 0.99).all()
    again, _ = head(feats, num_patches=6, patch_ids=ids)
    assert all(torch.equal(a, b) for a, b in zip(out, again))
    plain, pids = PatchSampleMLP([3, 6], use_mlp=False)(feats, num_patches=3)
    loc = int(pids[0][1])
    expected = F.normalize(feats[0][1, :, loc // 5, loc % 5], dim=0)  # image 1, patch 1 -> row 1 * 3 + 1
    assert torch.allclose(plain[0][4], expected, atol=1e-6)
    with pytest.raises(ValueError, match="num_patches"):
        head(feats, num_patches=0)


# --- the method ----------------------------------------------------------------------------------------------


def test_modes_set_the_papers_settings_and_refuse_bad_ones():
    cut, fast = tiny_cut(), tiny_cut(mode="fastcut")
    assert (cut.lambda_nce, cut.nce_idt, cut.flip_equivariance, cut.n_epochs, cut.n_epochs_decay) == (
        1.0,
        True,
        False,
        200,
        200,
    )
    assert (fast.lambda_nce, fast.nce_idt, fast.flip_equivariance, fast.n_epochs, fast.n_epochs_decay) == (
        10.0,
        False,
        True,
        150,
        50,
    )
    assert tiny_cut(mode="fastcut", lambda_nce=2.0).lambda_nce == 2.0
    assert tiny_cut(lambda_nce=0.0).patch_head is None
    for bad, match in [({"mode": "cyclecut"}, "mode"), ({"nce_T": 0.0}, "nce_T"), ({"lambda_nce": -1.0}, "lambda_nce"),
                       ({"num_patches": 0}, "num_patches"), ({"nce_layers": [8, 4]}, "increasing")]:  # fmt: skip
        with pytest.raises(ValueError, match=match):
            tiny_cut(**bad)


@pytest.mark.parametrize("mode, flip", [("cut", False), ("fastcut", True)])
def test_losses_are_eq5_and_the_halved_discriminator_loss(mode, flip):
    torch.manual_seed(0)
    model = tiny_cut(mode=mode)
    a, b = _images(seed=1), _images(seed=2)
    out = model.translate_pair(a, b, flip)
    source = a.flip(3) if flip else a
    assert torch.equal(out["fake_B"], model.generator(source))
    ids = PatchSampleMLP.sample_ids(model.generator.encode(a, LAYERS), 8)
    ids_idt = PatchSampleMLP.sample_ids(model.generator.encode(b, LAYERS), 8)
    loss, logs = model.generator_loss(a, b, out, flip, patch_ids={"nce": ids, "nce_idt": ids_idt})

    def nce(src, tgt, locations):
        q = model.generator.encode(tgt, LAYERS)
        q = [f.flip(3) for f in q] if flip else q
        qs, _ = model.patch_head(q, 8, locations)
        ks, _ = model.patch_head(model.generator.encode(src, LAYERS), 8, locations)
        per_layer = [PatchNCELoss()(x, y, 2) * model.lambda_nce for x, y in zip(qs, ks)]
        return sum(per_layer) / len(LAYERS)

    pred_fake = model.discriminator(out["fake_B"])
    gan = ((pred_fake - 1) ** 2).mean()
    expected = gan + (
        0.5 * (nce(a, out["fake_B"], ids) + nce(b, out["idt_B"], ids_idt))
        if mode == "cut"
        else nce(a, out["fake_B"], ids)
    )
    assert torch.allclose(loss, expected, atol=1e-5) and torch.allclose(logs["loss_g_gan"], gan)
    assert ("loss_nce_idt" in logs) == (mode == "cut")
    d_loss, d_logs = model.discriminator_loss(b, out["fake_B"])
    d_real = ((model.discriminator(b) - 1) ** 2).mean()  # least squares (Mao et al. 2017, Eq. 2)
    d_fake = (pred_fake**2).mean()
    assert torch.allclose(d_loss, 0.5 * (d_real + d_fake), atol=1e-6) and torch.allclose(d_logs["loss_d_real"], d_real)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cut_data")
    for split, count in (("trainA", 3), ("trainB", 3), ("testA", 1), ("testB", 1)):
        (root / split).mkdir()
        for path in sorted((SAMPLE_ROOT / split).iterdir())[:count]:
            shutil.copy(path, root / split / path.name)
    return root


class SaveAfterBatch(Callback):
    def __init__(self, path: Path, batch: int) -> None:
        self.path, self.batch = path, batch

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step == 2 * self.batch and not self.path.exists():
            trainer.save_checkpoint(self.path)


def _fit(root: Path, data_root: Path, steps: int, callbacks=(), ckpt_path=None, **trainer) -> CUT:
    L.seed_everything(5, verbose=False)
    model = tiny_cut(mode="fastcut", n_epochs=1, n_epochs_decay=2)  # flips and patch locations draw random numbers
    data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    t = quiet_trainer(
        root, max_steps=steps, limit_val_batches=1, num_sanity_val_steps=0, callbacks=list(callbacks), **trainer
    )
    t.fit(model, data, ckpt_path=ckpt_path)
    return model


def test_the_head_is_in_the_optimizer_and_checkpoints_and_resume_is_exact(data_root, tmp_path):
    model = tiny_cut()
    head = {id(p) for p in model.patch_head.parameters()}
    assert len(head) == 16 and "patch_head.mlp_3.2.weight" in model.state_dict()  # before any batch
    opt_g, _ = model.configure_optimizers()[0]
    assert head <= {id(p) for group in opt_g.param_groups for p in group["params"]}

    full = _fit(tmp_path / "full", data_root, 10)  # 5 batches over 2 epochs of 3 (2 steps each), validation between
    ckpt = tmp_path / "mid.ckpt"
    _fit(tmp_path / "first", data_root, 4, [SaveAfterBatch(ckpt, 2)])  # mid-epoch
    saved = torch.load(ckpt, weights_only=True)
    assert saved["global_step"] == 4 and "patch_head.mlp_0.0.weight" in saved["state_dict"]
    resumed = _fit(tmp_path / "resumed", data_root, 10, ckpt_path=ckpt)
    a, b = full.state_dict(), resumed.state_dict()
    assert [k for k in a if not torch.equal(a[k], b[k])] == []
    loaded = CUT.load_from_checkpoint(
        ckpt,
        generator=CUTGenerator(ngf=8, n_blocks=2),
        discriminator=CUTDiscriminator(ndf=8, n_layers=1),
        weights_only=True,
    )
    assert torch.equal(loaded.patch_head.mlp_0[0].weight, saved["state_dict"]["patch_head.mlp_0.0.weight"])
    stylizer = loaded.stylizer()
    assert isinstance(stylizer, GeneratorStylizer) and stylizer.size_multiple == 4


def test_bf16_mixed_training_steps_are_finite(data_root, tmp_path):
    model = _fit(tmp_path, data_root, 4, precision="bf16-mixed")
    assert all(torch.isfinite(p).all() for p in model.parameters())


# --- SinCUT --------------------------------------------------------------------------------------------------


def tiny_sincut(**kwargs) -> SinCUT:
    settings = dict(mlp_channels=16, num_crops=4, crop_size=16)
    settings.update(kwargs)
    return SinCUT(CUTGenerator(ngf=8, n_blocks=2), CUTDiscriminator(ndf=8, n_layers=1), **settings)


def test_sincut_crops_and_adds_r1_and_identity():
    model = tiny_sincut(lambda_r1=2.0)
    crops = model.random_crops(_images(n=1, size=40))
    assert crops.shape == (4, 3, 16, 16)
    a, b = crops, model.random_crops(_images(n=1, size=40, seed=1))
    out = model.translate_pair(a, b)
    loss, logs = model.discriminator_loss(b, out["fake_B"])
    real = b.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model.discriminator(real).sum(), real)
    r1 = grad.pow(2).flatten(1).sum(1).mean()  # Mescheder et al. 2018, Eq. 9, times lambda_r1 / 2
    assert torch.allclose(logs["loss_d_r1"], r1, rtol=1e-4) and torch.allclose(
        loss, logs["loss_d_real"] * 0.5 + logs["loss_d_fake"] * 0.5 + r1, rtol=1e-4
    )
    _, logs_g = model.generator_loss(a, b, out)
    assert torch.allclose(logs_g["loss_idt"], F.l1_loss(out["idt_B"], b))
    _, no_r1 = model.discriminator_loss(b, out["fake_B"], penalty=False)
    assert "loss_d_r1" not in no_r1
    with pytest.raises(ValueError, match="at least 16x16"):
        model.random_crops(_images(n=1, size=12))
    with pytest.raises(ValueError, match="crop_size"):
        tiny_sincut(crop_size=18)


def test_sincut_trains_on_one_painting_photo_pair(tmp_path):
    root = tmp_path / "pair"
    for split, src in (("trainA", SAMPLE_ROOT / "testA"), ("trainB", SAMPLE_ROOT / "testB")):
        (root / split).mkdir(parents=True)
        with Image.open(sorted(src.iterdir())[0]) as img:
            img.convert("RGB").resize((48, 40)).save(root / split / "one.png")
    L.seed_everything(0, verbose=False)
    model = tiny_sincut()
    data = UnpairedImageDataModule(root=str(root), preprocess="none", flip=False, num_workers=0)
    seen = {}

    class Shapes(Callback):
        def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
            seen["batch"] = tuple(batch["A"].shape)
            seen["logs"] = sorted(trainer.callback_metrics)

    quiet_trainer(tmp_path, max_steps=4, callbacks=[Shapes()]).fit(model, data)
    assert seen["batch"] == (1, 3, 40, 48) and "train/loss_d_r1" in seen["logs"] and "train/loss_idt" in seen["logs"]


# --- the command line ----------------------------------------------------------------------------------------

TINY = [
    "--model.init_args.generator.init_args.ngf=8",
    "--model.init_args.generator.init_args.n_blocks=2",
    "--model.init_args.discriminator.init_args.ndf=8",
    "--model.init_args.discriminator.init_args.n_layers=1",
    "--model.init_args.num_patches=16",
    "--model.init_args.mlp_channels=16",
    f"--data.init_args.root={SAMPLE_ROOT}",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
    "--trainer.limit_val_batches=0",
]


def test_cut_recipe_fits_then_stylizes_whole_and_tiled_and_exports(tmp_path):
    run = tmp_path / "cut"
    gan_style_in_process("fit", "--config", "fastcut", *TINY, f"--trainer.default_root_dir={run}",
                         "--trainer.max_steps=4", cwd=tmp_path)  # fmt: skip
    ckpt = run / "checkpoints" / "last.ckpt"
    saved = torch.load(ckpt, weights_only=True)
    assert saved["gan_style_class"] == "gan_style.methods.cut.CUT" and saved["hyper_parameters"]["mode"] == "fastcut"
    content = SAMPLE_ROOT / "testA" / "sailboat.jpg"
    gan_style_in_process("stylize", "--checkpoint", str(ckpt), "--content", str(content), "--size", "50",
                         "--output_dir", str(tmp_path / "whole"), cwd=tmp_path)  # fmt: skip
    with Image.open(tmp_path / "whole" / "sailboat.png") as img:
        assert img.size == (50, 50)  # the requested size exactly: the network ran at 48 x 48, sized back
    gan_style_in_process("stylize", "--checkpoint", str(ckpt), "--content", str(content), "--size", "70",
                         "--tile", "32", "--tile_overlap", "8", "--output_dir", str(tmp_path / "tiled"), cwd=tmp_path)  # fmt: skip
    with Image.open(tmp_path / "tiled" / "sailboat.png") as img:
        assert img.size == (70, 70)
    gan_style_in_process("export", "--checkpoint", str(ckpt), "--output_dir", str(tmp_path / "exported"),
                         "--height", "32", "--width", "32", "--formats", "[torchscript]", cwd=tmp_path)  # fmt: skip
    meta = json.loads(next((tmp_path / "exported").glob("*.json")).read_text())
    assert max(meta["check"]["max_abs_diff"].values()) <= 1e-4
    ts = torch.jit.load(str(next((tmp_path / "exported").glob("*.pt"))))
    assert ts(torch.zeros(1, 3, 36, 44)).shape == (1, 3, 36, 44)


# --- the published models ------------------------------------------------------------------------------------


def test_cut_zoo_file_in_the_published_tar_runs_as_its_generator(server, tmp_path, monkeypatch):
    from gan_style.pretrained import CATALOGUE, from_pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("GAN_STYLE_MIRROR", server.url(""))
    entry = CATALOGUE["cut/horse2zebra_cut"]
    assert entry.files["generator"].url == "http://efrosgans.eecs.berkeley.edu/CUT/pretrained_models.tar"
    assert {n for n in CATALOGUE if n.startswith("cut/")} == {
        f"cut/{d}_{m}" for d in ("horse2zebra", "cat2dog", "cityscapes") for m in ("cut", "fastcut")
    }
    torch.manual_seed(0)
    published = CUTGenerator()  # the authors' layout: resnet_9blocks, anti-aliased, filt buffers saved
    # torch.save's pre-1.6 format (the release's torch>=1.4 era); the test below covers the zip format
    blob = io.BytesIO()
    torch.save(published.state_dict(), blob, _use_new_zipfile_serialization=False)
    server.files["/CUT/pretrained_models.tar"] = _tar({entry.files["generator"].member: blob.getvalue()})
    stylizer = from_pretrained("horse2zebra_cut", progress=False)
    assert isinstance(stylizer, GeneratorStylizer) and stylizer.size_multiple == 4
    x = _images(n=1, size=64)
    with torch.no_grad():
        assert torch.equal(stylizer(x), published.eval()(x).clamp(-1, 1))
    assert (REPO / "gan_style" / "recipes" / "cut.yaml").is_file()


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_tar_whose_last_member_is_a_zip_format_pth_extracts_as_a_tar(tmp_path):
    from gan_style.io.archive import extract_archive

    blob = io.BytesIO()
    torch.save({"w": torch.zeros(2)}, blob)  # torch >= 1.6 format: a zip file
    archive = tmp_path / "pretrained_models.tar"
    archive.write_bytes(_tar({"checkpoints/x_pretrained/latest_net_G.pth": blob.getvalue()}))
    extract_archive(archive, tmp_path / "out", strip_single_folder=False)
    assert (tmp_path / "out" / "checkpoints" / "x_pretrained" / "latest_net_G.pth").is_file()
