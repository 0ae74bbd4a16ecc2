"""DiffAugment (Zhao et al. 2020; gan_style.losses.augment) and the ``diffaugment`` setting of every adversarial
method: each operation's statistics, differentiability (finite differences), independent draws for real and fake
batches with one policy, one transform for a conditional discriminator's condition and image, every image D sees
augmented in both updates, off by default (D's inputs untouched), one-line errors, and exact resume."""

from __future__ import annotations

import inspect
import itertools
import shutil
from pathlib import Path

import lightning as L
import pytest
import torch
from test_resume import SaveAt

from conftest import (
    SAMPLE_ROOT,
    TINY_PIX2PIX_CLI_ARGS,
    gan_style_in_process,
    quiet_trainer,
    tiny_cyclegan_kwargs,
    tiny_pix2pix_kwargs,
)
from gan_style.data import UnpairedImageDataModule
from gan_style.errors import ModelConfigError
from gan_style.losses.augment import (
    DIFFAUGMENT_POLICIES,
    DiffAugment,
    brightness,
    contrast,
    cutout,
    saturation,
    translation,
)
from gan_style.methods import CycleGAN, PatchGANStyle, Pix2Pix
from gan_style.methods.cut import CUT, SinCUT
from gan_style.methods.patchgan_style import random_patches
from gan_style.nets import NLayerDiscriminator, TransformationNetwork
from gan_style.nets.cut import CUTDiscriminator, CUTGenerator

FULL = "color,translation,cutout"
METHODS = ("cyclegan", "pix2pix", "cut", "sincut", "patchgan")


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _images(n: int = 2, c: int = 3, h: int = 16, w: int = 16, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, c, h, w, generator=_gen(seed)) * 2 - 1


# --- each operation --------------------------------------------------------------------------------------------


def _shifted(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """out[i, j] = x[i + dy, j + dx], zero outside: the expected translation, written with padding and slicing."""
    _, _, h, w = x.shape
    pad = torch.nn.functional.pad(x, (abs(dx), abs(dx), abs(dy), abs(dy)))
    return pad[..., abs(dy) + dy : abs(dy) + dy + h, abs(dx) + dx : abs(dx) + dx + w]


def test_translation_shifts_by_at_most_an_eighth_with_zero_padding():
    n, h, w = 400, 16, 24  # reach: round(16 / 8) = 2 rows, round(24 / 8) = 3 columns
    image = 1 + torch.arange(h * w, dtype=torch.float32).view(1, 1, h, w).repeat(1, 2, 1, 1)  # no zeros inside
    out = translation(image.repeat(n, 1, 1, 1), generator=_gen(1))
    candidates = list(itertools.product(range(-4, 5), range(-5, 6)))
    hits = torch.stack([(out == _shifted(image, dy, dx)).flatten(1).all(1) for dy, dx in candidates], 1)  # (n, 99)
    assert (hits.sum(1) == 1).all(), "an image is not one whole-pixel, zero-padded shift of the input"
    found = {candidates[int(i)] for i in hits.float().argmax(1)}
    assert found == set(itertools.product(range(-2, 3), range(-3, 4)))  # every shift up to the reach, no more


def test_cutout_zeroes_a_rectangle_of_half_the_sides_in_every_channel():
    n, h, w = 400, 16, 24  # rectangle 8 x 12
    out = cutout(torch.ones(n, 3, h, w), generator=_gen(2))
    assert set(out.unique().tolist()) == {0.0, 1.0}
    zero = out == 0
    assert torch.equal(zero, zero[:, :1].expand_as(zero))  # the same pixels in every channel
    mask = zero[:, 0]
    rows, cols = mask.any(2), mask.any(1)  # (n, h), (n, w)
    assert torch.equal(mask, rows[:, :, None] & cols[:, None, :])  # a rectangle: rows x columns
    r0, c0 = rows.float().argmax(1), cols.float().argmax(1)
    height, width = rows.sum(1), cols.sum(1)
    r1, c1 = r0 + height, c0 + width
    assert torch.equal(rows, (torch.arange(h) >= r0[:, None]) & (torch.arange(h) < r1[:, None]))  # in one piece
    assert torch.equal(cols, (torch.arange(w) >= c0[:, None]) & (torch.arange(w) < c1[:, None]))
    assert ((height == 8) | (r0 == 0) | (r1 == h)).all()  # full height unless clipped by a border
    assert ((width == 12) | (c0 == 0) | (c1 == w)).all()
    assert ((height >= 4) & (height <= 8) & (width >= 6) & (width <= 12)).all()  # at least half of each side inside
    assert ((height == 8) & (width == 12)).sum() > n // 10
    assert (r0 == 0).any() and (r1 == h).any() and (c0 == 0).any() and (c1 == w).any()  # both borders reached


def test_color_draws_stay_in_the_papers_ranges():
    n = 2000
    x = _images(n, seed=3)
    shift = brightness(x, _gen(4)) - x
    per_image = shift.flatten(1)
    assert torch.allclose(per_image, per_image[:, :1].expand_as(per_image), atol=1e-6)  # one shift per image
    b = per_image[:, 0]
    assert -0.5 <= b.min() < -0.45 and 0.45 < b.max() <= 0.5 and abs(float(b.mean())) < 0.03

    def factor(out: torch.Tensor, centre: torch.Tensor) -> torch.Tensor:
        """The one factor f per image with out = centre + f (x - centre) (least squares, then checked)."""
        f = ((out - centre) * (x - centre)).sum((1, 2, 3)) / (x - centre).pow(2).sum((1, 2, 3))
        assert torch.allclose(out, centre + f.view(-1, 1, 1, 1) * (x - centre), atol=1e-5)
        return f

    grey = x.mean(1, keepdim=True)
    s = factor(saturation(x, _gen(5)), grey)
    assert 0 <= s.min() < 0.05 and 1.95 < s.max() <= 2.0
    assert torch.allclose(saturation(grey.expand(-1, 3, -1, -1), _gen(6)), grey.expand(-1, 3, -1, -1))  # grey stays

    mean = x.mean((1, 2, 3), keepdim=True)
    con = contrast(x, _gen(7))
    assert torch.allclose(con.mean((1, 2, 3), keepdim=True), mean, atol=1e-5)  # the image's mean is kept
    c = factor(con, mean)
    assert 0.5 <= c.min() < 0.55 and 1.45 < c.max() <= 1.5


@pytest.mark.parametrize("policy", ["color", "translation", "cutout", FULL])
def test_the_augmentation_matches_finite_differences(policy):
    augment = DiffAugment(policy)
    x = _images(2, 3, 6, 8, seed=8).double().requires_grad_(True)
    # the same draws at every evaluation: a function of x alone, which gradcheck compares with finite differences
    assert torch.autograd.gradcheck(lambda t: augment(t, generator=_gen(9)), (x,), eps=1e-6, atol=1e-6)


def test_the_gradient_reaches_the_input_finite_and_nonzero():
    x = _images(4, seed=10).requires_grad_(True)
    weights = torch.rand(4, 3, 16, 16, generator=_gen(11))
    (DiffAugment(FULL)(x, generator=_gen(12)) * weights).sum().backward()
    grad = x.grad
    assert torch.isfinite(grad).all()
    assert (grad != 0).flatten(1).float().mean(1).min() > 0.3  # cutout and shifted-out pixels aside, all get one


def test_the_draws_come_from_the_generator_given_or_the_global_one():
    x = _images(3, seed=13)
    augment = DiffAugment(FULL)
    assert torch.equal(augment(x, generator=_gen(14)), augment(x, generator=_gen(14)))
    torch.manual_seed(15)
    first = augment(x)
    torch.manual_seed(15)
    assert torch.equal(augment(x), first)  # the global generator, whose state checkpoints save
    assert not torch.equal(augment(x), first)  # and every call draws anew


def test_stacked_images_get_the_same_transform_with_their_own_colour_statistics():
    """A conditional D's concat(condition, image) with groups (3, 3): the same as augmenting each part alone with
    the same draws, so the condition and the image are shifted, cut and recoloured alike."""
    a, b = _images(5, seed=16), _images(5, seed=17)
    augment = DiffAugment(FULL)
    together = augment(torch.cat([a, b], 1), groups=(3, 3), generator=_gen(18))
    apart = torch.cat([augment(a, generator=_gen(18)), augment(b, generator=_gen(18))], 1)
    assert torch.allclose(together, apart, atol=1e-6)
    alike = augment(torch.cat([a, a], 1), groups=(3, 3), generator=_gen(19))
    assert torch.equal(alike[:, :3], alike[:, 3:])
    with pytest.raises(ValueError, match=r"channel groups \[3, 2\] do not split the 6 channels"):
        augment(torch.cat([a, b], 1), groups=(3, 2))


# --- the setting ------------------------------------------------------------------------------------------------


def _build(method: str, **kwargs):
    torch.manual_seed(0)
    if method == "cyclegan":
        return CycleGAN(**tiny_cyclegan_kwargs(), pool_size=0, **kwargs)
    if method == "pix2pix":
        return Pix2Pix(**tiny_pix2pix_kwargs(), **kwargs)
    if method in ("cut", "sincut"):
        net = (CUTGenerator(ngf=8, n_blocks=2), CUTDiscriminator(ndf=8, n_layers=1))
        if method == "cut":
            return CUT(*net, nce_layers=[0, 4, 8, 12], num_patches=8, mlp_channels=16, **kwargs)
        return SinCUT(*net, mlp_channels=16, num_crops=4, crop_size=16, **kwargs)
    return PatchGANStyle(
        generator=TransformationNetwork(channels=8, n_residual=1),
        discriminator=NLayerDiscriminator(ndf=8, n_layers=2),
        vgg_weights=None,
        content_layers=["relu1_2"],  # a VGG truncated after its second layer: cheap, and enough here
        style_layers=["relu1_2"],
        r1_gamma=1.0,
        **kwargs,
    )


def _discriminators(model) -> list[str]:
    return [name for name, _ in model.named_children() if name.startswith("discriminator")]


def _steps(method: str, model) -> dict[str, tuple]:
    """What the discriminator and generator updates of ``model`` feed its discriminators, un-augmented:
    ``{"d": (run the D loss, [expected inputs]), "g": (run the G loss, [expected inputs])}``, in call order."""
    a, b = _images(2, h=32, w=32, seed=20), _images(2, h=32, w=32, seed=21)
    if method == "cyclegan":
        out = model.cycle(a, b)
        fa, fb = out["fake_A"].detach(), out["fake_B"].detach()
        return {
            "d": (lambda: model.discriminator_loss(a, b, fa, fb)[0], [a, fa, b, fb]),
            "g": (lambda: model.generator_loss(a, b, out)[0], [out["fake_B"], out["fake_A"]]),
        }
    if method == "pix2pix":
        fake = model.generator(a)
        return {
            "d": (lambda: model.discriminator_loss(a, a, fake)[0], [torch.cat([a, a], 1), torch.cat([a, fake], 1)]),
            "g": (lambda: model.generator_loss(a, b, fake)[0], [torch.cat([a, fake], 1)]),
        }
    if method in ("cut", "sincut"):
        out = model.translate_pair(a, b)
        fake = out["fake_B"]
        d_inputs = [b, fake] + ([b] if method == "sincut" else [])  # SinCUT's R1 on real_B
        return {
            "d": (lambda: model.discriminator_loss(b, fake)[0], d_inputs),
            "g": (lambda: model.generator_loss(a, b, out)[0], [fake]),
        }
    stylized = model.generator(a)
    torch.manual_seed(22)
    real = random_patches(b, model.patch_scales)
    return {
        "d": (
            lambda: (torch.manual_seed(22), model.discriminator_loss(b, stylized)[0])[1],
            [real, stylized.repeat(3, 1, 1, 1), real],
        ),
        "g": (lambda: model.generator_loss(a, b, stylized)[0], [stylized]),
    }


def _record(model, run) -> tuple[list[torch.Tensor], torch.Tensor]:
    """The inputs of every discriminator call while ``run()`` computes a loss, in call order, and the loss."""
    seen: list[torch.Tensor] = []
    hooks = [
        getattr(model, name).register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
        for name in _discriminators(model)
    ]
    try:
        loss = run()
    finally:
        for hook in hooks:
            hook.remove()
    return seen, loss


@pytest.mark.parametrize("method", METHODS)
def test_off_by_default_the_discriminators_see_the_images_untouched(method):
    cls = type(_build(method))
    assert inspect.signature(cls.__init__).parameters["diffaugment"].default is None
    model = _build(method).train()
    assert model.diffaugment is None and model.hparams.diffaugment is None
    steps = _steps(method, model)
    for step in ("d", "g"):
        run, expected = steps[step]
        seen, _ = _record(model, run)
        assert len(seen) == len(expected)
        for got, want in zip(seen, expected):
            assert torch.equal(got, want.detach())


def _cut_out(got: torch.Tensor, want: torch.Tensor) -> torch.Tensor:
    """Per image, the fraction of pixels zeroed in every channel where ``got`` is ``want`` with a cutout."""
    kept = got == want.detach()
    zero = (got == 0).all(1, keepdim=True).expand_as(got)
    assert (kept | zero).all(), "the image was changed otherwise than by a cutout"
    return zero[:, 0].flatten(1).float().mean(1)


@pytest.mark.parametrize("method", METHODS)
def test_every_image_the_discriminators_see_is_augmented_in_both_updates(method):
    """policy ``cutout``: every input of every D call, real and fake, in D's update and in G's, carries a cutout of
    a quarter of the image (clipped by the border: at least a sixteenth), each with its own draw; gradients reach
    the generator through it; validation (eval mode) sees the images untouched."""
    model = _build(method, diffaugment="cutout").train()
    assert repr(model.diffaugment) == "DiffAugment('cutout')" and model.hparams.diffaugment == "cutout"
    torch.manual_seed(23)
    steps = _steps(method, model)
    for step in ("d", "g"):
        run, expected = steps[step]
        seen, loss = _record(model, run)
        assert len(seen) == len(expected)
        masks = [_cut_out(got, want) for got, want in zip(seen, expected)]
        for fraction in masks:
            assert ((fraction >= 1 / 16 - 1e-6) & (fraction <= 1 / 4 + 1e-6)).all()
        if step == "d":  # real and fake drawn apart: their cut-out squares differ
            cut = [(got == 0).all(1) for got in seen[:2]]
            if cut[0].shape == cut[1].shape:
                assert not torch.equal(cut[0], cut[1])
    model.zero_grad()
    loss.backward()  # the generator's loss: its gradient passes the augmentation
    grads = (
        [p.grad for p in model.generator_ab.parameters() if p.grad is not None]
        if method == "cyclegan"
        else [p.grad for p in model.generator.parameters() if p.grad is not None]
    )
    assert grads and all(torch.isfinite(g).all() for g in grads) and any(g.abs().sum() > 0 for g in grads)
    model.eval()
    run, expected = steps["d"]
    for got, want in zip(_record(model, run)[0], expected):
        assert torch.equal(got, want.detach())


def test_pix2pix_augments_the_condition_and_the_image_alike_and_real_and_fake_apart():
    model = _build("pix2pix", diffaugment=FULL).train()
    a = _images(3, h=32, w=32, seed=24)
    with torch.no_grad():
        fake = model.generator(a)
    torch.manual_seed(25)
    (real_pair, fake_pair), _ = _record(model, lambda: model.discriminator_loss(a, a, fake))  # real pair (a, a)
    assert torch.equal(real_pair[:, :3], real_pair[:, 3:])  # one transform for condition and image
    assert not torch.equal(real_pair[:, :3], fake_pair[:, :3])  # the fake pair's condition, a too, drawn anew
    assert not torch.equal(real_pair[:, :3], a)


def test_the_gradient_of_the_generators_adversarial_term_passes_the_augmentation():
    plain, augmented = _build("pix2pix"), _build("pix2pix", diffaugment=FULL)
    augmented.load_state_dict(plain.state_dict())
    a = _images(2, h=32, w=32, seed=26)
    grads = []
    for model in (plain, augmented):
        fake = model.generator(a).detach().requires_grad_(True)
        torch.manual_seed(28)
        model.gan_loss.generator_loss(
            model.augmented_discriminator(model.discriminator, (3, 3))(torch.cat([a, fake], 1))
        ).backward()
        grads.append(fake.grad)
    assert all(torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    assert not torch.allclose(grads[0], grads[1])


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("bad", ["colour", "", "color,color", "color;cutout"])
def test_an_unknown_policy_is_one_line_naming_the_setting_and_the_choices(method, bad):
    with pytest.raises(ValueError) as err:
        _build(method, diffaugment=bad)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"diffaugment {bad!r}")
    assert ", ".join(DIFFAUGMENT_POLICIES) in message and "null" in message


def test_the_command_line_refuses_an_unknown_policy_in_one_line(tmp_path):
    proc = gan_style_in_process(
        "fit", "--config", "pix2pix", *TINY_PIX2PIX_CLI_ARGS, "--model.init_args.diffaugment=colour",
        f"--trainer.default_root_dir={tmp_path / 'run'}", "--trainer.max_steps=1", cwd=tmp_path, check=False,
    )  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    last = proc.stderr.rstrip().splitlines()[-1]
    assert (
        last.startswith("gan-style: error: ")
        and "diffaugment 'colour'" in last
        and "color, translation, cutout" in last
    )


# --- exact resume -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def three_pairs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("diffaugment_data")
    for split, count in (("trainA", 3), ("trainB", 3), ("testA", 1), ("testB", 1)):
        (root / split).mkdir()
        for path in sorted((SAMPLE_ROOT / split).iterdir())[:count]:
            shutil.copy(path, root / split / path.name)
    return root


def _fit(root: Path, run: Path, max_steps: int, callbacks=(), ckpt_path=None, seen=None) -> CycleGAN:
    """A tiny CycleGAN with ``diffaugment: color,translation,cutout`` fitted for ``max_steps`` optimizer steps; the
    inputs of ``discriminator_a`` are appended to ``seen`` when given."""
    L.seed_everything(7, verbose=False)
    model = CycleGAN(**tiny_cyclegan_kwargs(), n_epochs=1, n_epochs_decay=1, diffaugment=FULL)
    if seen is not None:
        model.discriminator_a.register_forward_pre_hook(lambda _, args: seen.append(args[0].detach().clone()))
    data = UnpairedImageDataModule(root=str(root), load_size=36, crop_size=32, num_workers=0)
    trainer = quiet_trainer(
        run, max_steps=max_steps, limit_val_batches=0, num_sanity_val_steps=0, callbacks=list(callbacks)
    )
    trainer.fit(model, data, ckpt_path=ckpt_path)
    assert trainer.global_step == max_steps
    return model


def test_a_run_with_diffaugment_resumed_mid_epoch_is_bit_identical(three_pairs, tmp_path):
    """The augmentation draws from the global torch generator, whose state checkpoints save: a run saved after
    batch 2 of 3 and resumed into the next epoch ends with the uninterrupted run's weights, bit for bit."""
    total, saved_at = 8, 4  # 4 batches, 2 updates each; saved after batch 2, so the resumed run crosses an epoch's end
    seen: list[torch.Tensor] = []
    whole = _fit(three_pairs, tmp_path / "whole", total, seen=seen).state_dict()
    cut_out = [bool((x == 0).all(1).any()) for x in seen]  # the augmentation ran in fit: every input has a cutout
    assert len(cut_out) == 4 * 3 and all(cut_out)  # per batch: G's fake, D's real and fake (no validation batch)
    ckpt = tmp_path / "mid.ckpt"
    _fit(three_pairs, tmp_path / "first", saved_at, [SaveAt("mid_epoch", ckpt)])
    saved = torch.load(ckpt, weights_only=True)
    assert saved["global_step"] == saved_at and saved["hyper_parameters"]["diffaugment"] == FULL
    resumed = _fit(three_pairs, tmp_path / "resumed", total, ckpt_path=ckpt).state_dict()
    assert [k for k in whole if not torch.equal(whole[k], resumed[k])] == []


def test_a_checkpoint_with_the_setting_loads_whole_and_light(tiny_cyclegan_checkpoint, tmp_path):
    from gan_style.loading import load_method, load_stylizer

    data = torch.load(tiny_cyclegan_checkpoint, weights_only=True)
    assert data["hyper_parameters"]["diffaugment"] is None  # the recipe leaves it off
    data["hyper_parameters"]["diffaugment"] = FULL
    torch.save(data, tmp_path / "augmented.ckpt")
    assert repr(load_method(tmp_path / "augmented.ckpt").diffaugment) == f"DiffAugment({FULL!r})"
    x = torch.rand(1, 3, 32, 32, generator=_gen(29)) * 2 - 1
    with torch.no_grad():
        assert torch.equal(load_stylizer(tmp_path / "augmented.ckpt")(x), load_stylizer(tiny_cyclegan_checkpoint)(x))
    data["hyper_parameters"]["diffaugment"] = "colour"
    torch.save(data, tmp_path / "bad.ckpt")
    with pytest.raises(ModelConfigError, match=r"CycleGAN refused the file's settings \(diffaugment 'colour' names"):
        load_method(tmp_path / "bad.ckpt")
