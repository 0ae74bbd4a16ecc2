import lightning as L
import pytest
import torch
from PIL import Image

from conftest import SAMPLE_ROOT
from gan_style.methods import Gatys

CONTENT = str(SAMPLE_ROOT / "testA" / "sailboat.jpg")
STYLE = str(SAMPLE_ROOT / "testB" / "starry_night_crop.jpg")


class LossRecorder(L.Callback):
    def __init__(self):
        self.losses = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.losses.append(float(trainer.callback_metrics["train/loss"]))


def run(make_trainer, tmp_path, **kwargs):
    L.seed_everything(0)
    options = dict(
        content=CONTENT,
        style=STYLE,
        image_size=48,
        num_iterations=6,
        vgg_weights=None,
        output=str(tmp_path / "out.png"),
    )
    options.update(kwargs)
    model = Gatys(**options)
    recorder = LossRecorder()
    trainer = make_trainer(max_epochs=1, callbacks=[recorder], default_root_dir=tmp_path)
    trainer.fit(model)
    return model, recorder.losses


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_total_loss_falls_on_a_real_pair(tmp_path, make_trainer, optimizer):
    model, losses = run(make_trainer, tmp_path, optimizer=optimizer)
    assert len(losses) == 6
    assert losses[-1] < 0.5 * losses[0]
    with Image.open(tmp_path / "out.png") as img, Image.open(CONTENT) as content:
        assert max(img.size) == 48  # image_size is the longer side; the aspect ratio is kept
        assert abs(img.size[0] / img.size[1] - content.size[0] / content.size[1]) < 0.05


def test_loss_terms_match_their_formulas(tmp_path):
    model = Gatys(
        content=CONTENT,
        style=[STYLE, STYLE],
        style_blend_weights=[1, 3],
        image_size=32,
        num_iterations=1,
        vgg_weights=None,
        content_weight=2.0,
        style_weight=5.0,
        tv_weight=0.5,
    )
    model._start_scale(0)
    image = torch.rand_like(model.image) * 2 - 1
    total, logs = model.losses(image)
    assert torch.allclose(total, 2.0 * logs["loss_content"] + 5.0 * logs["loss_style"] + 0.5 * logs["loss_tv"])
    feats = model.vgg(image)
    content_target = model._targets["content"]["relu4_2"]
    assert torch.allclose(logs["loss_content"], ((feats["relu4_2"] - content_target) ** 2).mean())
    # two identical style images blended 1:3 give the single-style loss
    single = sum(0.2 * model.style_loss(feats[n], model._targets["style"][0][n]) for n in model.style_layers)
    assert torch.allclose(logs["loss_style"], single, rtol=1e-5)


def test_the_content_layer_is_the_papers_conv4_2_after_its_relu():
    """The paper's "conv4_2" is Caffe's blob, which the in-place ReLU overwrites: relu4_2 = relu(conv4_2)."""
    from gan_style.nets import VGGFeatures

    model = Gatys(content=CONTENT, style=STYLE, image_size=32, num_iterations=1, vgg_weights=None)
    assert model.content_layers == ["relu4_2"]
    torch.manual_seed(0)
    vgg = VGGFeatures(["conv4_2", "relu4_2"], weights=None)
    feats = vgg(torch.rand(1, 3, 32, 32) * 2 - 1)
    assert torch.equal(feats["relu4_2"], feats["conv4_2"].clamp(min=0)) and (feats["conv4_2"] < 0).any()


def test_the_gram_loss_is_eq_4_times_4_over_n_squared():
    """mean((G - A)^2) with G = F F^T / (N M) equals (4 / N^2) E_l, E_l = sum((FF^T - SS^T)^2) / (4 N^2 M^2)."""
    from gan_style.losses import create_loss

    torch.manual_seed(0)
    n, h, w = 6, 5, 7
    f, s = torch.randn(1, n, h, w, dtype=torch.float64), torch.randn(1, n, h, w, dtype=torch.float64)
    m = h * w
    g, a = f.reshape(n, m) @ f.reshape(n, m).T, s.reshape(n, m) @ s.reshape(n, m).T
    e_l = ((g - a) ** 2).sum() / (4 * n**2 * m**2)
    assert torch.allclose(create_loss("gram")(f, s), 4 / n**2 * e_l)


def test_style_targets_are_gram_matrices_and_tv_off_leaves_the_graph(tmp_path):
    model = Gatys(content=CONTENT, style=STYLE, image_size=32, num_iterations=1, vgg_weights=None, tv_weight=0.0)
    model._start_scale(0)
    targets = model._targets["style"][0]
    assert set(targets) == set(model.style_layers)
    for n in model.style_layers:
        channels = targets[n].shape[-1]
        assert targets[n].shape == (1, channels, channels)  # computed once per scale, not per iteration
    image = (torch.rand_like(model.image) * 2 - 1).requires_grad_(True)
    total, logs = model.losses(image)
    assert torch.allclose(
        total, model.hparams.content_weight * logs["loss_content"] + model.hparams.style_weight * logs["loss_style"]
    )
    assert logs["loss_tv"] > 0  # still logged
    total.backward()
    assert image.grad is not None and torch.isfinite(image.grad).all()


def test_multiscale_colour_preservation_and_snapshots(tmp_path, make_trainer):
    model, _ = run(
        make_trainer,
        tmp_path,
        scales=[32, 48],
        num_iterations=3,
        preserve_color="luminance",
        save_every=3,
        init="noise",
    )
    assert model.image.shape[-1] == 48  # the last scale is the output size
    names = sorted(p.name for p in tmp_path.glob("out*.png"))
    assert names == ["out.png", "out_00003.png", "out_00006.png"]
    _, losses = run(make_trainer, tmp_path / "hist", preserve_color="histogram", num_iterations=2)
    assert len(losses) == 2


def test_settings_are_checked(tmp_path):
    with pytest.raises(ValueError, match="style_blend_weights"):
        Gatys(content=CONTENT, style=[STYLE], style_blend_weights=[1, 1], vgg_weights=None)
    with pytest.raises(ValueError, match="unknown style layers"):
        Gatys(content=CONTENT, style=STYLE, style_layers=["relu9_1"], vgg_weights=None)
    with pytest.raises(ValueError, match="style_weight"):
        Gatys(content=CONTENT, style=STYLE, style_weight=-1, vgg_weights=None)
    with pytest.raises(ValueError, match="content_layer_weights"):
        Gatys(content=CONTENT, style=STYLE, content_layer_weights=[1, 2], vgg_weights=None)
    with pytest.raises(ValueError, match="too small for layer relu5_1"):
        Gatys(content=CONTENT, style=STYLE, image_size=16, vgg_weights=None)._start_scale(0)
    model = Gatys(
        content=CONTENT,
        style=STYLE,
        image_size=16,
        num_iterations=1,
        vgg_weights=None,
        output=CONTENT,
        style_layers=["relu1_1"],
        content_layers=["relu2_1"],
    )
    model._start_scale(0)
    with pytest.raises(ValueError, match="one of the input images"):
        model._write()


def test_lbfgs_with_an_image_already_at_the_output_size(tmp_path, make_trainer):
    # a decoded image that needs no resizing arrives as a permuted (non-contiguous) tensor; L-BFGS needs
    # a contiguous parameter to flatten its gradient
    content = tmp_path / "square.png"
    Image.open(CONTENT).convert("RGB").resize((48, 48)).save(content)
    _, losses = run(make_trainer, tmp_path, content=str(content), image_size=48, num_iterations=2)
    assert len(losses) == 2 and losses[1] < losses[0]
