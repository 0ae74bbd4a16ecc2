import lightning as L
import pytest
import torch

from gan_style.data import ContentStyleDataModule
from gan_style.methods import AdaIN
from gan_style.nets import AdaINDecoder, adaptive_instance_norm, load_reference_state_dict


def model():
    """AdaIN with random weights; the decoder gets He initialization so that its output depends visibly
    on its input (PyTorch's default init makes a random decoder's output nearly constant)."""
    torch.manual_seed(0)
    m = AdaIN(encoder_weights=None).eval()
    for layer in m.decoder.modules():
        if isinstance(layer, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(layer.weight)
    return m


def test_decoder_layout_matches_the_published_file(tmp_path):
    d = AdaINDecoder()
    keys = list(d.state_dict())
    assert keys[::2] == [f"{i}.weight" for i in (1, 5, 8, 11, 14, 18, 21, 25, 28)]
    assert d.state_dict()["1.weight"].shape == (256, 512, 3, 3) and d.state_dict()["28.weight"].shape == (3, 64, 3, 3)
    assert d(torch.zeros(1, 512, 4, 5)).shape == (1, 3, 32, 40)
    path = tmp_path / "decoder.pth"
    torch.save(d.state_dict(), path)
    other = load_reference_state_dict(AdaINDecoder(), path)
    assert torch.equal(other(torch.ones(1, 512, 2, 2)), d(torch.ones(1, 512, 2, 2)))


def test_the_published_decoder_is_refused_with_another_encoder(tmp_path):
    """decoder.pth was trained with the normalised VGG-19: with torchvision's (the default "imagenet") it loads
    but gives wrong images, so the combination is refused naming the fix; with vgg_normalised.pth it is taken."""
    from gan_style.errors import InvalidSettingError
    from gan_style.nets import VGGFeatures

    decoder = tmp_path / "decoder.pth"
    torch.save(AdaINDecoder().state_dict(), decoder)
    torchvision_vgg = tmp_path / "vgg19_features.pth"
    torch.save(VGGFeatures(["relu4_1"], weights=None).body.state_dict(), torchvision_vgg)
    for encoder in ("imagenet", str(torchvision_vgg)):
        with pytest.raises(InvalidSettingError, match="trained with the normalised VGG-19") as err:
            AdaIN(encoder_weights=encoder, reference_weights={"decoder": str(decoder)})
        assert "--model.init_args.encoder_weights to vgg_normalised.pth" in str(err.value)
    normalised = tmp_path / "vgg_normalised.pth"
    torch.save(VGGFeatures(["relu5_4"], weights=None, layout="adain").body.state_dict(), normalised)
    model = AdaIN(encoder_weights=str(normalised), reference_weights={"decoder": str(decoder)})
    assert model.encoder.layout == "adain"


def test_a_checkpoint_records_its_encoder_and_refuses_another(tmp_path):
    """The decoder belongs to the encoder it was trained with: the checkpoint says which, and loading it with
    the other encoder is refused."""
    from gan_style.errors import InvalidSettingError
    from gan_style.nets import VGGFeatures

    torchvision_vgg = tmp_path / "vgg19_features.pth"
    torch.save(VGGFeatures(["relu4_1"], weights=None).body.state_dict(), torchvision_vgg)
    normalised = tmp_path / "vgg_normalised.pth"
    torch.save(VGGFeatures(["relu5_4"], weights=None, layout="adain").body.state_dict(), normalised)
    model = AdaIN(encoder_weights=str(torchvision_vgg))
    checkpoint: dict = {"state_dict": model.state_dict()}
    model.on_save_checkpoint(checkpoint)
    assert checkpoint["gan_style_adain_encoder"] == "torchvision"
    AdaIN(encoder_weights=str(torchvision_vgg)).on_load_checkpoint(dict(checkpoint))  # the same encoder: fine
    with pytest.raises(InvalidSettingError, match="trained with the torchvision VGG-19 encoder"):
        AdaIN(encoder_weights=str(normalised)).on_load_checkpoint(dict(checkpoint))


def test_adaptive_instance_norm_statistics():
    torch.manual_seed(0)
    c, s = torch.randn(2, 8, 5, 5) * 3 + 1, torch.randn(1, 8, 7, 7) * 0.5 - 2
    t = adaptive_instance_norm(c, s)
    flat_t, flat_s = t.flatten(2), s.flatten(2)
    assert torch.allclose(flat_t.mean(2), flat_s.mean(2).expand(2, 8), atol=1e-4)
    assert torch.allclose(flat_t.std(2), flat_s.std(2).expand(2, 8), atol=1e-3)


def test_alpha_zero_decodes_the_content_features():
    m = model()
    c, s = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 2 - 1
    out = m.stylizer()(c, [s], alpha=0.0)
    with torch.no_grad():
        expected = m.decode(m.encoder(c)["relu4_1"]).clamp(-1, 1)
    assert torch.allclose(out, expected, atol=1e-6)
    full = m.stylizer()(c, [s], alpha=1.0)
    half = m.stylizer()(c, [s], alpha=0.5)
    assert not torch.allclose(full, expected) and not torch.allclose(half, full)


def test_interpolation_weights():
    m = model()
    c = torch.rand(1, 3, 32, 32) * 2 - 1
    s1, s2 = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 40, 24) * 0.2
    only_first = m.stylizer()(c, [s1, s2], style_weights=[1.0, 0.0])
    assert torch.allclose(only_first, m.stylizer()(c, [s1]), atol=1e-6)
    with torch.no_grad():
        fc = m.encoder(c)["relu4_1"]
        t = 0.25 * adaptive_instance_norm(fc, m.encoder(s1)["relu4_1"]) + 0.75 * adaptive_instance_norm(
            fc, m.encoder(s2)["relu4_1"]
        )
        expected = m.decode(t).clamp(-1, 1)
    assert torch.allclose(m.stylizer()(c, [s1, s2], style_weights=[1, 3]), expected, atol=1e-5)
    with pytest.raises(ValueError, match="style_weights"):
        m.stylizer()(c, [s1, s2], style_weights=[1.0])


def test_masks_apply_each_style_in_its_region():
    m = model()
    c = torch.rand(1, 3, 64, 64) * 2 - 1
    s1, s2 = torch.rand(1, 3, 32, 32) * 2 - 1, torch.rand(1, 3, 32, 32) * 0.1 + 0.5
    left = torch.zeros(64, 64)
    left[:, :32] = 1
    masked = m.stylizer()(c, [s1, s2], masks=[left, 1 - left])
    assert masked.shape == c.shape
    # the mask covering everything with one style equals plain transfer with that style
    whole = m.stylizer()(c, [s1], masks=[torch.ones(64, 64)])
    assert torch.allclose(whole, m.stylizer()(c, [s1]), atol=1e-5)
    # swapping the masks changes the image on both halves
    swapped = m.stylizer()(c, [s1, s2], masks=[1 - left, left])
    assert not torch.allclose(masked[..., :24], swapped[..., :24]) and not torch.allclose(
        masked[..., 40:], swapped[..., 40:]
    )
    with pytest.raises(ValueError, match="one mask per style"):
        m.stylizer()(c, [s1, s2], masks=[left])


def test_output_keeps_the_input_size_and_colour_option():
    m = model()
    c = torch.rand(1, 3, 30, 44) * 2 - 1
    assert m.stylizer()(c, [torch.rand(1, 3, 16, 16)]).shape == (1, 3, 30, 44)
    assert m.stylizer()(c, [torch.rand(1, 3, 16, 16)], preserve_color=True).shape == (1, 3, 30, 44)
    with pytest.raises(ValueError, match="alpha"):
        m.stylizer()(c, [c], alpha=1.5)


def test_training_lowers_nothing_it_should_not_and_checkpoints_the_decoder(tmp_path, sample_root, make_trainer):
    L.seed_everything(0)
    m = AdaIN(encoder_weights=None)
    encoder_before = {k: v.clone() for k, v in m.encoder.state_dict().items()}
    decoder_before = {k: v.clone() for k, v in m.decoder.state_dict().items()}
    dm = ContentStyleDataModule(
        content_dir=str(sample_root / "trainA"),
        style_dir=str(sample_root / "trainB"),
        load_size=40,
        crop_size=32,
        batch_size=2,
        num_workers=0,
    )
    trainer = make_trainer(
        max_steps=3,
        enable_checkpointing=True,  # Lightning's default checkpoint: the test saves the decoder
        limit_val_batches=1,
    )
    trainer.fit(m, dm)
    assert all(torch.equal(v, m.encoder.state_dict()[k]) for k, v in encoder_before.items())  # frozen
    assert any(not torch.equal(v, m.decoder.state_dict()[k]) for k, v in decoder_before.items())
    lr = trainer.optimizers[0].param_groups[0]["lr"]
    assert lr == pytest.approx(1e-4 / (1 + 5e-5 * 3))  # inverse decay per iteration
