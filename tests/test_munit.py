"""UNIT and MUNIT: the networks' shapes and the published key layout, AdaIN / layer norm / the KL term / the
multi-scale losses against their formulas, the loss compositions, one training step of each method, exact resume,
a bf16-mixed step, seeded and diverse random styles, example-guided style, and the stylizers' light imports.
Numbers against the authors' code itself (NVlabs/MUNIT): benchmarks/munit_parity.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import lightning as L
import pytest
import torch
import torch.nn.functional as F
from test_resume import Journal, SaveAt

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process, quiet_trainer
from gan_style.data import UnpairedImageDataModule
from gan_style.errors import UnreadableFileError
from gan_style.inference.munit import MUNITExport, MUNITStylizer, UNITStylizer, random_style_code
from gan_style.inference.tiling import stylize_tiled
from gan_style.losses import create_loss, list_losses
from gan_style.methods.munit import MUNIT, multiscale_discriminator_loss, multiscale_generator_loss
from gan_style.methods.unit import UNIT
from gan_style.nets.munit import (
    AdaptiveInstanceNorm2d,
    Decoder,
    LayerNorm2d,
    MultiScaleDiscriminator,
    MUNITGenerator,
    StyleEncoder,
    UNITGenerator,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One intra-op thread: these networks are tiny, and on a busy 2-core machine a second thread only waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _gen(**kw) -> MUNITGenerator:
    return MUNITGenerator(ngf=8, n_res=1, mlp_dim=16, style_dim=4, **kw)


def _dis() -> MultiScaleDiscriminator:
    return MultiScaleDiscriminator(ndf=8, n_layer=2, num_scales=2)


def tiny_munit(**kwargs) -> MUNIT:
    return MUNIT(_gen(), _gen(), _dis(), _dis(), **kwargs)


def tiny_unit(**kwargs) -> UNIT:
    return UNIT(UNITGenerator(ngf=8, n_res=1), UNITGenerator(ngf=8, n_res=1), _dis(), _dis(), **kwargs)


def _images(n=2, size=32, seed=0, width=None) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, width or size, generator=g) * 2 - 1


# --- networks --------------------------------------------------------------------------------------------------


def test_network_shapes_and_size_rules():
    x = _images()
    g = _gen()
    content, style = g.encode(x)
    assert content.shape == (2, 32, 8, 8) and style.shape == (2, 4, 1, 1)
    out = g.decode(content, style)
    assert out.shape == x.shape and out.abs().max() <= 1 and torch.equal(g(x), out)
    assert g.size_multiple == 4 and g.dec.num_adain_params == 2 * 2 * 32  # 1 block x 2 AdaIN layers x (beta, gamma)
    assert g.encode_style(_images(1, 16, width=40)).shape == (1, 4, 1, 1)  # any size: global pooling
    u = UNITGenerator(ngf=8, n_res=1)
    assert u.encode(x).shape == (2, 32, 8, 8) and u(x).shape == x.shape
    d = _dis()
    assert d.min_size == 8 and [o.shape for o in d(x)] == [(2, 1, 8, 8), (2, 1, 4, 4)]
    with pytest.raises(ValueError, match="at least 8x8 pixels"):
        d(_images(1, 4))
    with pytest.raises(ValueError, match="decode with a style code|give adain_params"):
        g.dec(content)
    for bad, match in (
        (lambda: MultiScaleDiscriminator(norm="adain"), "norm 'adain'"),
        (lambda: MultiScaleDiscriminator(n_layer=0), "n_layer"),
        (lambda: MUNITGenerator(activation="gelu"), "activation 'gelu'"),
        (lambda: MUNITGenerator(padding_type="circular"), "padding_type 'circular'"),
        (lambda: StyleEncoder(n_downsample=1), "n_downsample"),
        (lambda: MUNITGenerator(init_type="uniform"), "init_type"),
    ):
        with pytest.raises(ValueError, match=match):
            bad()


def test_adain_and_layer_norm_follow_their_formulas():
    x = torch.randn(2, 3, 5, 4)
    w, b = torch.randn(2, 3), torch.randn(2, 3)
    mean = x.mean(dim=(2, 3), keepdim=True)
    var = x.var(dim=(2, 3), unbiased=False, keepdim=True)
    expected = (x - mean) / torch.sqrt(var + 1e-5) * w[..., None, None] + b[..., None, None]
    assert torch.allclose(AdaptiveInstanceNorm2d(3)(x, w, b), expected, atol=1e-5)
    ln = LayerNorm2d(3)
    assert ((ln.gamma >= 0) & (ln.gamma < 1)).all() and not ln.beta.any()  # the code's U[0, 1) and zeros
    flat = x.reshape(2, -1)
    m, s = flat.mean(1).view(2, 1, 1, 1), flat.std(1, unbiased=True).view(2, 1, 1, 1)
    expected = (x - m) / (s + 1e-5) * ln.gamma.view(1, 3, 1, 1) + ln.beta.view(1, 3, 1, 1)
    assert torch.allclose(ln(x), expected, atol=1e-5)
    # the MLP's output is split as the code's assign_adain_params: per layer C biases (beta), then C weights (gamma)
    dec = Decoder(n_upsample=0, n_res=1, dim=2, output_nc=3)
    params = torch.arange(8.0).view(1, 8)
    (w0, b0), (w1, b1) = dec.split_adain_params(params)
    assert b0.tolist() == [[0, 1]] and w0.tolist() == [[2, 3]] and b1.tolist() == [[4, 5]] and w1.tolist() == [[6, 7]]
    with pytest.raises(ValueError, match=r"\(N, 8\)"):
        dec.split_adain_params(torch.zeros(1, 7))


#: Keys and shapes of NVlabs/MUNIT's published layout at the configs' settings (networks.py: AdaINGen, VAEGen,
#: MsImageDis; the snapshots hold {"a": gen_a / dis_a, "b": gen_b / dis_b}).
REFERENCE_KEYS = {
    "munit": {
        "enc_style.model.0.conv.weight": (64, 3, 7, 7),
        "enc_style.model.4.conv.weight": (256, 256, 4, 4),
        "enc_style.model.6.weight": (8, 256, 1, 1),
        "enc_content.model.2.conv.weight": (256, 128, 4, 4),
        "enc_content.model.3.model.3.model.1.conv.weight": (256, 256, 3, 3),
        "dec.model.0.model.3.model.1.norm.running_var": (256,),
        "dec.model.2.conv.weight": (128, 256, 5, 5),
        "dec.model.2.norm.gamma": (128,),
        "dec.model.4.norm.beta": (64,),
        "dec.model.5.conv.weight": (3, 64, 7, 7),
        "mlp.model.0.fc.weight": (256, 8),
        "mlp.model.2.fc.weight": (4096, 256),
    },
    "unit": {"enc.model.3.model.0.model.0.conv.weight": (256, 256, 3, 3), "dec.model.5.conv.bias": (3,)},
    "dis": {
        "cnns.0.0.conv.weight": (64, 3, 4, 4),
        "cnns.2.3.conv.weight": (512, 256, 4, 4),
        "cnns.2.4.weight": (1, 512, 1, 1),
    },
}


def test_the_published_key_layout_at_the_configs_settings():
    nets = {"munit": MUNITGenerator(), "unit": UNITGenerator(), "dis": MultiScaleDiscriminator()}
    for name, expected in REFERENCE_KEYS.items():
        state = nets[name].state_dict()
        assert {k: tuple(state[k].shape) for k in expected} == expected
    assert len(nets["munit"].state_dict()) == 82 and len(nets["dis"].state_dict()) == 30


def _reference_file(path: Path, net_a, net_b, legacy_norm_keys: bool = False) -> dict:
    """A file in the code's layout, ``{"a": ..., "b": ...}``, of random values with the networks' keys and shapes;
    with the instance-norm running statistics PyTorch 0.3 wrote (dropped on load, as the code's converter)."""
    g = torch.Generator().manual_seed(len(str(path)))
    data = {}
    for side, net in (("a", net_a), ("b", net_b)):
        state = {k: torch.randn(v.shape, generator=g) for k, v in net.state_dict().items()}
        if legacy_norm_keys:
            state["enc_content.model.0.norm.running_mean"] = torch.zeros(8)
            state["enc_content.model.0.norm.running_var"] = torch.ones(8)
        data[side] = state
    torch.save(data, path)
    return data


def test_files_in_the_reference_layout_load_strictly(tmp_path):
    model = tiny_munit()
    gen = _reference_file(tmp_path / "gen_00010000.pt", model.generator_a, model.generator_b, legacy_norm_keys=True)
    dis = _reference_file(tmp_path / "dis_00010000.pt", model.discriminator_a, model.discriminator_b)
    model = tiny_munit(
        reference_checkpoints={"gen": str(tmp_path / "gen_00010000.pt"), "dis": str(tmp_path / "dis_00010000.pt")}
    )
    model.setup("fit")
    for side, net in (("a", model.generator_a), ("b", model.generator_b)):
        state = net.state_dict()
        assert all(torch.equal(state[k], v) for k, v in gen[side].items() if k in state)
    assert torch.equal(model.discriminator_b.state_dict()["cnns.1.2.weight"], dis["b"]["cnns.1.2.weight"])
    unit = tiny_unit()
    _reference_file(tmp_path / "unit_gen.pt", unit.generator_a, unit.generator_b)
    tiny_unit(reference_checkpoints={"gen": str(tmp_path / "unit_gen.pt")}).setup("fit")
    with pytest.raises(ValueError, match="keys or shapes|do not fit|missing|mismatch"):  # UNIT's file into MUNIT
        tiny_munit(reference_checkpoints={"gen": str(tmp_path / "unit_gen.pt")}).setup("fit")
    torch.save({"a": {}}, tmp_path / "half.pt")
    with pytest.raises(UnreadableFileError, match="'a': state dict, 'b': state dict"):
        tiny_munit(reference_checkpoints={"gen": str(tmp_path / "half.pt")}).setup("fit")
    with pytest.raises(ValueError, match="takes the keys gen and dis"):
        tiny_munit(reference_checkpoints={"generator": "x.pt"})


# --- losses ----------------------------------------------------------------------------------------------------


def test_the_kl_term_is_its_formula_and_the_latent_losses_are_registered():
    assert {"gaussian_kl", "latent_l1"} <= set(list_losses())
    mu = torch.randn(2, 4, 3, 3)
    q, prior = torch.distributions.Normal(mu, 1.0), torch.distributions.Normal(0.0, 1.0)
    kl = torch.distributions.kl_divergence(q, prior).sum()  # 0.5 * sum(mu^2) for unit variances
    loss = create_loss("gaussian_kl")(mu)
    assert torch.allclose(loss, 2 * kl / mu.numel()) and torch.allclose(loss, mu.pow(2).mean())
    a, b = torch.randn(2, 8, 1, 1), torch.randn(2, 8, 1, 1)
    assert torch.allclose(create_loss("latent_l1")(a, b), (a - b).abs().mean())
    with pytest.raises(ValueError, match="one shape"):
        create_loss("latent_l1")(a, b[:1])


def test_the_multiscale_losses_sum_the_scales():
    fake = [torch.randn(2, 1, 4, 4), torch.randn(2, 1, 2, 2)]
    real = [torch.randn(2, 1, 4, 4), torch.randn(2, 1, 2, 2)]
    lsgan = create_loss("gan", gan_mode="lsgan")
    assert torch.allclose(multiscale_generator_loss(lsgan, fake), sum(((f - 1) ** 2).mean() for f in fake))
    expected = sum((f**2).mean() + ((r - 1) ** 2).mean() for f, r in zip(fake, real))
    assert torch.allclose(multiscale_discriminator_loss(lsgan, fake, real), expected)
    vanilla = create_loss("gan", gan_mode="vanilla")  # the code's nsgan: BCE of sigmoid(D)
    expected = sum(
        F.binary_cross_entropy(torch.sigmoid(f), torch.zeros_like(f))
        + F.binary_cross_entropy(torch.sigmoid(r), torch.ones_like(r))
        for f, r in zip(fake, real)
    )
    assert torch.allclose(multiscale_discriminator_loss(vanilla, fake, real), expected, atol=1e-6)
    with pytest.raises(ValueError, match="gan_mode must be lsgan, vanilla"):
        tiny_munit(gan_mode="wgangp")


@pytest.mark.parametrize("method", ["munit", "unit"])
def test_the_generator_and_discriminator_losses_are_the_weighted_sums(method):
    torch.manual_seed(0)
    x_a, x_b = _images(seed=1), _images(seed=2)
    if method == "munit":
        w = dict(gan_w=0.5, recon_x_w=3.0, recon_s_w=2.0, recon_c_w=0.25, recon_x_cyc_w=4.0)
        model = tiny_munit(**w)
        out = model.cycle(x_a, x_b, *model.random_styles(2, x_a))
        terms = {"recon_x_w": "loss_recon_x", "recon_s_w": "loss_recon_s", "recon_c_w": "loss_recon_c",
                 "recon_x_cyc_w": "loss_cyc_x", "gan_w": "loss_g_adv"}  # fmt: skip
    else:
        w = dict(gan_w=0.5, recon_x_w=3.0, recon_kl_w=0.2, recon_x_cyc_w=4.0, recon_kl_cyc_w=0.7)
        model = tiny_unit(**w)
        out = model.cycle(x_a, x_b)
        terms = {"recon_x_w": "loss_recon_x", "recon_kl_w": "loss_kl", "recon_x_cyc_w": "loss_cyc_x",
                 "recon_kl_cyc_w": "loss_kl_cyc", "gan_w": "loss_g_adv"}  # fmt: skip
    loss, logs = model.generator_loss(x_a, x_b, out)
    expected = sum(w[k] * (logs[f"{t}_a"] + logs[f"{t}_b"]) for k, t in terms.items())
    names = {f"{t}_{side}" for t in terms.values() for side in "ab"}
    assert torch.allclose(loss, expected) and set(logs) == names | {"loss_g"}
    if method == "unit":
        assert torch.allclose(logs["loss_kl_a"], out["h_a"].pow(2).mean())
    loss_d, logs_d = model.discriminator_loss(x_a, x_b, out["fake_A"], out["fake_B"])
    assert torch.allclose(loss_d, 0.5 * (logs_d["loss_d_a"] + logs_d["loss_d_b"]))
    loss_d.backward()
    assert all(p.grad is None for p in model.generator_a.parameters())  # the fakes are detached


def test_settings_are_checked():
    for kwargs, match in (
        ({"gan_w": -1.0}, "gan_w must be a number >= 0"),
        ({"recon_s_w": float("nan")}, "recon_s_w"),
        ({"step_size": 0}, "step_size"),
        ({"weight_decay": -1e-4}, "weight_decay"),
    ):
        with pytest.raises(ValueError, match=match):
            tiny_munit(**kwargs)
    g = _gen()
    with pytest.raises(ValueError, match="two distinct generators"):
        MUNIT(g, g, _dis(), _dis())
    with pytest.raises(ValueError, match="one style_dim"):
        MUNIT(_gen(), MUNITGenerator(ngf=8, n_res=1, mlp_dim=16, style_dim=5), _dis(), _dis())
    with pytest.raises(ValueError, match="recon_kl_w"):
        tiny_unit(recon_kl_w=-0.1)


# --- training ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def data_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("munit_data")
    for split, count in (("trainA", 3), ("trainB", 3), ("testA", 1), ("testB", 1)):
        (root / split).mkdir()
        for path in sorted((SAMPLE_ROOT / split).iterdir())[:count]:
            shutil.copy(path, root / split / path.name)
    return root


def _fit(method: str, root: Path, data_root: Path, max_steps: int, callbacks=(), ckpt_path=None, **trainer):
    L.seed_everything(3, verbose=False)
    model = (tiny_munit if method == "munit" else tiny_unit)(step_size=2)  # the rate halves every 2 batches
    data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    journal = Journal()
    t = quiet_trainer(
        root, max_steps=max_steps, limit_val_batches=1, num_sanity_val_steps=0, callbacks=[journal, *callbacks],
        **trainer,
    )  # fmt: skip
    t.fit(model, data, ckpt_path=ckpt_path)
    return model, t, journal.events


@pytest.mark.parametrize("method", ["munit", "unit"])
def test_training_changes_every_network_and_resume_is_exact(method, data_root, tmp_path):
    L.seed_everything(3, verbose=False)
    initial = {k: v.clone() for k, v in (tiny_munit if method == "munit" else tiny_unit)().state_dict().items()}
    # 5 batches, across epochs of 3 with a validation between
    full, trainer, events = _fit(method, tmp_path / "full", data_root, 10)
    assert trainer.global_step == 10 and ("validate", 0) in events
    state = full.state_dict()
    for net in ("generator_a", "generator_b", "discriminator_a", "discriminator_b"):
        assert any(not torch.equal(initial[k], v) for k, v in state.items() if k.startswith(net)), net
    assert [e[4] for e in events if e[0] == "train"] == [1e-4, 1e-4, 5e-5, 5e-5, 2.5e-5]  # StepLR, every 2 batches
    ckpt = tmp_path / "mid.ckpt"
    _fit(method, tmp_path / "first", data_root, 4, [SaveAt("mid_epoch", ckpt)])
    assert torch.load(ckpt, weights_only=True)["global_step"] == 4
    resumed, trainer, tail = _fit(method, tmp_path / "resumed", data_root, 10, ckpt_path=ckpt)
    assert trainer.global_step == 10 and tail == events[len(events) - len(tail) :]
    other = resumed.state_dict()
    assert [k for k in state if not torch.equal(state[k], other[k])] == []


def test_a_bf16_mixed_step_is_finite(data_root, tmp_path):
    L.seed_everything(0, verbose=False)
    model = tiny_munit(recon_x_cyc_w=10.0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    data = UnpairedImageDataModule(root=str(data_root), load_size=36, crop_size=32, num_workers=0)
    trainer = quiet_trainer(tmp_path, max_steps=2, limit_val_batches=0, num_sanity_val_steps=0, precision="bf16-mixed")
    trainer.fit(model, data)
    assert trainer.global_step == 2
    assert all(torch.isfinite(p).all() and p.dtype == torch.float32 for p in model.parameters())
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory) -> Path:
    """``gan-style fit --config munit|unit --config demo/munit|unit`` for 2 steps: ``<folder>/munit``, ``/unit``."""
    root = tmp_path_factory.mktemp("demo_runs")
    for name in ("munit", "unit"):
        gan_style_in_process(
            "fit", "--config", name, "--config", f"demo/{name}", f"--trainer.default_root_dir={root / name}",
            "--trainer.max_steps=2", "--data.init_args.num_workers=0", "--trainer.enable_progress_bar=false",
            "--trainer.limit_val_batches=0", "--trainer.enable_model_summary=false", cwd=REPO,
        )  # fmt: skip
    return root


def test_the_demo_recipes_fit(demo_runs, tmp_path):
    for name in ("munit", "unit"):
        assert (demo_runs / name / "checkpoints" / "last.ckpt").is_file()
    # the doors draw MUNIT's samples through the Stylizer contract (stylize, the notebook API); UNIT refuses them
    import numpy as np
    from PIL import Image

    import gan_style
    from gan_style.commands.stylize import stylize
    from gan_style.errors import InvalidSettingError

    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (28, 40, 3), dtype=np.uint8)).save(photo)
    munit_ckpt = str(demo_runs / "munit" / "checkpoints" / "last.ckpt")
    written = stylize(str(photo), checkpoint=munit_ckpt, output_dir=str(tmp_path / "out"), num_samples=3, seed=1)
    assert sorted(p.name for p in written) == [f"photo_sample{k}.png" for k in range(3)] + ["photo_samples.png"]
    samples = gan_style.load(munit_ckpt).samples(str(photo), 3, seed=1)
    for k, image in enumerate(samples):
        with Image.open(tmp_path / "out" / f"photo_sample{k}.png") as written_image:
            assert np.array_equal(np.asarray(image), np.asarray(written_image))
    assert not np.array_equal(np.asarray(samples[0]), np.asarray(samples[1]))  # diverse
    with pytest.raises(InvalidSettingError, match="--num_samples is for models with diverse outputs"):
        stylize(str(photo), checkpoint=str(demo_runs / "unit" / "checkpoints" / "last.ckpt"), num_samples=2,
                output_dir=str(tmp_path / "unit_out"))  # fmt: skip


# --- inference ---------------------------------------------------------------------------------------------------


def test_random_styles_are_seeded_and_diverse():
    model = tiny_munit().eval()
    stylizer = model.stylizer()
    assert isinstance(stylizer, MUNITStylizer) and stylizer.controls == ("seed", "sample_index")
    assert stylizer.stochastic and stylizer.takes_style and stylizer.style_optional and stylizer.size_multiple == 4
    x = _images()
    rng = torch.get_rng_state()
    with torch.no_grad():
        first = stylizer(x, seed=3, sample_index=1)
        assert torch.equal(first, stylizer(x, seed=3, sample_index=1))  # same seed and sample: same output
        assert torch.equal(stylizer(x), stylizer(x, seed=0, sample_index=0))
        different = [stylizer(x, seed=4, sample_index=1), stylizer(x, seed=3, sample_index=0)]
        assert all((first - d).abs().max() > 1e-3 for d in different)  # another seed or sample: another style
        samples = stylizer.samples(x, 3, seed=3)
        assert samples.shape == (3, 2, 3, 32, 32) and torch.equal(samples[1], first)
        assert torch.equal(stylizer.samples(x, 2, seed=3)[1], first)  # sample k does not depend on how many
        twins = stylizer(torch.cat([x[:1], x[:1]]), seed=9)
        assert torch.equal(twins[0], twins[1])  # one code per call: frames and tiles share it
    assert torch.equal(rng, torch.get_rng_state())  # the global random state is left alone
    g = torch.Generator().manual_seed(3)
    assert torch.equal(random_style_code(4, 3, 1).flatten(), torch.randn(2, 4, generator=g)[1])
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        stylizer(x, seed=-1)
    export = stylizer.export_module()
    assert isinstance(export, MUNITExport) and export.input_names == ("image", "style_code")
    code = random_style_code(4, 3, 1).flatten(1)
    with torch.no_grad():
        assert torch.allclose(export(x, code.expand(2, -1)), first, atol=1e-6)
        tiled = stylize_tiled(stylizer, _images(1, 48, seed=5), None, 32, 8, "cpu", True, seed=3, sample_index=1)
    assert tiled.shape == (1, 3, 48, 48) and torch.isfinite(tiled).all()


def test_example_guided_style():
    model = tiny_munit().eval()
    x, example = _images(), _images(1, 40, seed=7, width=48)  # an image of domain B, any size
    with torch.no_grad():
        out = model.stylizer("a_to_b")(x, [example])
        expected = model.generator_b.decode(
            model.generator_a.encode_content(x), model.generator_b.encode_style(example).expand(2, -1, -1, -1)
        )
        assert torch.allclose(out, expected.clamp(-1, 1), atol=1e-6)
        assert (out - model.stylizer()(x)).abs().max() > 1e-3
        back = model.stylizer("b_to_a")(x, [example])
        assert torch.allclose(back, model.generator_a.decode(model.generator_b.encode_content(x),
                                                             model.generator_a.encode_style(example).expand(2, -1, -1, -1)).clamp(-1, 1), atol=1e-6)  # fmt: skip
    with pytest.raises(ValueError, match="not both"):
        model.stylizer()(x, [example], seed=1)
    with pytest.raises(ValueError, match="one --style image"):
        model.stylizer()(x, [example, example])
    with pytest.raises(ValueError, match="--alpha"):
        model.stylizer()(x, alpha=0.5)
    with pytest.raises(ValueError, match="no network 'generator_ab'"):
        model.stylizer("generator_ab")


def test_unit_translates_deterministically():
    model = tiny_unit().eval()
    stylizer = model.stylizer()
    assert isinstance(stylizer, UNITStylizer) and stylizer.controls == () and not stylizer.takes_style
    x = _images()
    with torch.no_grad():
        out = stylizer(x)
        assert torch.equal(out, stylizer(x))
        assert torch.allclose(out, model.generator_b.decode(model.generator_a.encode(x)).clamp(-1, 1))
        images, _ = model.translate({"B": x})
        assert images.shape == x.shape
        assert torch.allclose(stylizer.export_module()(x), out)
    with pytest.raises(ValueError, match="takes no --style"):
        stylizer(x, [x])


def test_the_stylizers_run_without_lightning():
    code = """
import json, sys, torch
from gan_style.inference.munit import MUNITStylizer, UNITStylizer
from gan_style.nets.munit import MUNITGenerator, UNITGenerator
g = lambda: MUNITGenerator(ngf=8, n_res=1, mlp_dim=16)
x = torch.zeros(1, 3, 16, 16)
shapes = [list(MUNITStylizer(g(), g())(x, seed=1).shape), list(UNITStylizer(UNITGenerator(ngf=8), UNITGenerator(ngf=8))(x).shape)]
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("lightning", "pytorch_lightning") or m.startswith("gan_style.methods"))
print(json.dumps([shapes, heavy]))
"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shapes, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert shapes == [[1, 3, 16, 16], [1, 3, 16, 16]] and heavy == []


@pytest.mark.parametrize("method", ["munit", "unit"])
def test_a_checkpoint_runs_through_the_light_loader_with_the_methods_pixels(method, demo_runs):
    from gan_style.loading import load_stylizer
    from gan_style.loading.sources import load_method

    ckpt = demo_runs / method / "checkpoints" / "last.ckpt"
    whole = load_method(ckpt)
    x = _images(1, size=32, seed=4)
    for network in ("a_to_b", "b_to_a"):
        light = load_stylizer(ckpt, network)
        expected = whole.stylizer(network).eval()
        assert type(light) is type(expected) and light.name == expected.name
        controls = {"seed": 5} if method == "munit" else {}
        with torch.no_grad():
            assert torch.equal(light(x, **controls), expected(x, **controls))
    code = f"""
import json, sys, torch
from gan_style.loading import load_stylizer
stylizer = load_stylizer({str(ckpt)!r}, "b_to_a")
out = stylizer(torch.zeros(1, 3, 32, 32), **({{"seed": 1}} if {method == "munit"} else {{}}))
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("lightning", "pytorch_lightning") or m.startswith("gan_style.methods"))
print(json.dumps([list(out.shape), heavy]))
"""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    shape, heavy = json.loads(done.stdout.strip().splitlines()[-1])
    assert shape == [1, 3, 32, 32] and heavy == []
