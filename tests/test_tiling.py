"""Tiled inference (gan_style.inference.tiling) and ``gan-style stylize --tile``: exact for pointwise functions and
norm-free convolutions, smooth seams for instance-norm generators, tile-sized work for a 4096x4096 image."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from PIL import Image
from torch import nn

from gan_style.inference.tiling import blend_weights, stylize_tiled, tile_spans, tiled_apply


def smooth_image(height: int, width: int, seed: int = 0) -> torch.Tensor:
    """(1, 3, H, W) in [-1, 1]: gradients, a wave and a little noise."""
    g = torch.Generator().manual_seed(seed)
    y, x = torch.meshgrid(torch.linspace(-1, 1, height), torch.linspace(-1, 1, width), indexing="ij")
    image = torch.stack([x, y, torch.sin(3 * x + 2 * y)])[None] * 0.8
    return (image + 0.2 * torch.rand(image.shape, generator=g) - 0.1).clamp(-1, 1)


def strided_conv_net(seed: int = 0) -> nn.Module:
    """No normalization, zero padding, one stride-2 level: translation-equivariant on a 2-pixel grid, with a
    receptive field radius of 5 pixels."""
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 3, 3, padding=1),
        nn.Tanh(),
    ).eval()


@pytest.mark.parametrize(
    "tile,overlap,multiple",
    [(t, o, m) for t, o in [(64, 16), (128, 32), (96, 0), (48, 40)] for m in [1, 4, 8, 16] if (t - o) // m >= 1],
)
def test_tile_spans_cover_the_axis_on_the_grid(tile, overlap, multiple):
    for length in [1, 5, tile - 1, tile, tile + 1, 3 * tile + 7, 1000, 4096]:
        spans = tile_spans(length, tile, overlap, multiple)
        assert spans[0][0] == 0 and spans[-1][1] == length
        if length <= tile:
            assert spans == [(0, length)]
            continue
        for (s0, e0), (s1, _) in zip(spans, spans[1:]):
            assert e0 - s0 == tile and s1 % multiple == 0 and e0 - s1 >= overlap
        assert tile - multiple < spans[-1][1] - spans[-1][0] <= tile  # no thin edge tile
        # the fewest tiles: one less could not keep every overlap
        assert (len(spans) - 2) * ((tile - overlap) // multiple * multiple) + tile < length


@pytest.mark.parametrize("margin", [None, 0, 4, 16])
def test_blend_weights_sum_to_one(margin):
    for length, tile, overlap, multiple in [
        (1000, 256, 32, 4),
        (777, 128, 64, 1),
        (300, 512, 64, 4),
        (513, 512, 32, 16),
    ]:
        if margin is not None and 2 * margin > overlap:
            continue
        spans = tile_spans(length, tile, overlap, multiple)
        weights = blend_weights(spans, overlap, margin)
        total = torch.zeros(length)
        for (start, stop), w in zip(spans, weights):
            assert w.shape == (stop - start,) and bool((w >= 0).all())
            total[start:stop] += w
        assert torch.allclose(total, torch.ones(length), atol=1e-6)
        # image borders are never faded, and a pixel covered by one tile keeps weight 1
        assert weights[0][0] == 1 and weights[-1][-1] == 1
        # 2-D: the outer products over the grid also sum to one at every pixel
        grid = torch.zeros(length, length)
        for (ys, ye), wy in zip(spans, weights):
            for (xs, xe), wx in zip(spans, weights):
                grid[ys:ye, xs:xe] += wy[:, None] * wx[None, :]
        assert torch.allclose(grid, torch.ones_like(grid), atol=1e-5)


def test_blend_weights_are_smooth_and_leave_a_margin():
    spans = tile_spans(448, 256, 64, 1)  # two tiles overlapping by exactly 64: [0, 256) and [192, 448)
    assert spans == [(0, 256), (192, 448)]
    first, second = blend_weights(spans, 64, margin=8)
    assert bool((second[:8] == 0).all()) and bool((first[-8:] == 0).all())  # tile edges carry no weight
    assert bool((first[:200] == 1).all())
    ramp = second[:64]
    assert bool((ramp[1:] >= ramp[:-1]).all()) and float(ramp.diff().abs().max()) < 0.05  # no step


@pytest.mark.parametrize("multiple", [1, 4, 16])
@pytest.mark.parametrize("size", [(200, 333), (257, 129), (64, 64), (40, 70)])
def test_identity_and_pointwise_functions_are_exact(size, multiple):
    image = smooth_image(*size)
    for fn, expected in [
        (lambda t: t, image),
        (lambda t: torch.tanh(2 * t) - 0.3 * t * t, torch.tanh(2 * image) - 0.3 * image * image),
    ]:
        for tile, overlap, batch_size in [(64, 16, 1), (128, 48, 3)]:
            out = tiled_apply(fn, image, tile, overlap, multiple, batch_size=batch_size)
            assert out.shape == image.shape and out.dtype == torch.float32
            assert torch.allclose(out, expected, atol=2e-6), float((out - expected).abs().max())


def test_channels_dtype_and_batches_of_images():
    image = torch.cat([smooth_image(90, 150, seed=s) for s in range(2)])
    grey = tiled_apply(lambda t: t.mean(1, keepdim=True), image, 64, 16, 4, dtype=torch.float64, progress=True)
    assert grey.shape == (2, 1, 90, 150) and grey.dtype == torch.float32
    assert torch.allclose(grey, image.mean(1, keepdim=True), atol=1e-6)


def test_small_images_go_through_whole_padded_to_the_multiple():
    seen = []

    def fn(t):
        seen.append(tuple(t.shape))
        return t * 2

    image = smooth_image(50, 70)
    out = tiled_apply(fn, image, 128, 32, 16)
    assert seen == [(1, 3, 64, 80)]  # one call, reflected up to multiples of 16, cropped back
    assert torch.allclose(out, image * 2)


def test_a_convolution_without_normalization_is_reproduced_exactly():
    net = strided_conv_net()
    image = smooth_image(200, 320)  # 320 = 128 + 3 * 64: tiles overlap by exactly 64
    with torch.no_grad():
        direct = net(image)
    exact = tiled_apply(net, image, 128, 64, 4, margin=8)  # margin 8 >= the 5-pixel receptive radius
    assert float((exact - direct).abs().max()) < 1e-5
    # without a margin the tile edges (zero padding inside the image) leak in with a tiny weight only
    no_margin = tiled_apply(net, image, 128, 64, 4, margin=0)
    assert float((no_margin - direct).abs().max()) < 0.02
    image = smooth_image(256, 384)  # a 2 x 3 grid of tiles side by side: their padded edges show
    with torch.no_grad():
        hard_error = float((tiled_apply(net, image, 128, 0, 4) - net(image)).abs().max())
    assert hard_error > 10 * float((no_margin - direct).abs().max())


def _column_steps(image: torch.Tensor, positions: list[int]) -> tuple[float, float, float]:
    """Tone steps between neighbouring columns (|difference of column means|, averaged over channels): the
    largest at the given boundary positions, the median and the largest elsewhere."""
    profile = image.mean(dim=(0, 2))  # (C, W)
    steps = (profile[:, 1:] - profile[:, :-1]).abs().mean(0)  # steps[j]: between columns j and j + 1
    at = torch.zeros_like(steps, dtype=torch.bool)
    at[[p - 1 for p in positions]] = True
    return float(steps[at].max()), float(steps[~at].median()), float(steps[~at].max())


def _boundaries(length: int, tile: int, overlap: int, multiple: int) -> list[int]:
    """Where a tile starts, where one ends, and the middle of each overlap."""
    spans = tile_spans(length, tile, overlap, multiple)
    return sorted({p for (_, e), (s, _) in zip(spans, spans[1:]) for p in (s, (s + e) // 2, e)})


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_instance_norm_statistics_per_tile_leave_no_seam_step(seed):
    torch.manual_seed(seed)
    net = nn.Sequential(  # instance norm: its statistics come from each tile, so tiles differ in tone
        nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
        nn.InstanceNorm2d(8),
        nn.ReLU(),
        nn.Conv2d(8, 3, 3, padding=1, padding_mode="reflect"),
        nn.Tanh(),
    ).eval()
    image = smooth_image(128, 320, seed=seed)
    tiled = tiled_apply(net, image, 128, 64, 4)
    worst, _, elsewhere_max = _column_steps(tiled, _boundaries(320, 128, 64, 4))
    assert worst <= elsewhere_max  # no column at a tile boundary stands out from the image's own changes
    hard = tiled_apply(net, smooth_image(128, 384, seed=seed), 128, 0, 4)  # tiles side by side, no blending
    hard_worst, hard_median, _ = _column_steps(hard, [128, 256])
    assert hard_worst > 5 * hard_median  # ... there the tone step at a tile edge is plain


def test_resnet_generator_tiles_match_the_whole_image_closely():
    from gan_style.nets import ResnetGenerator

    torch.manual_seed(0)
    net = ResnetGenerator(ngf=8, n_blocks=1).eval()
    image = smooth_image(128, 320)
    with torch.no_grad():
        direct = net(image)
    tiled = tiled_apply(net, image, 128, 64, 4)
    assert tiled.shape == direct.shape and bool(tiled.isfinite().all())
    # instance norm per tile: close to the whole-image result, not equal (the documented caveat)
    assert float((tiled - direct)[..., 8:-8, 8:-8].abs().mean()) < 0.2


@pytest.mark.parametrize("name", ["resnet", "transformation"])
def test_whole_image_norm_matches_the_untiled_output(name):
    from gan_style.nets import ResnetGenerator, TransformationNetwork

    torch.manual_seed(0)
    net = (ResnetGenerator(ngf=8, n_blocks=2) if name == "resnet" else TransformationNetwork(8, 1)).eval()
    image = smooth_image(256, 320)
    with torch.no_grad():
        direct = net(image)
    per_tile = tiled_apply(net, image, 128, 64, 4)
    whole = tiled_apply(net, image, 128, 64, 4, whole_image_norm=net)
    assert float((per_tile - direct).abs().mean()) > 0.05  # each tile normalized by itself: off in tone
    assert float((whole - direct).abs().mean()) < 2e-3 and float((whole - direct).abs().max()) < 0.1


def test_whole_image_norm_takes_one_pass_per_layer_and_covers_batch_norm_in_training_mode():
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect"),
        nn.BatchNorm2d(8),  # in training mode: statistics of its input, like instance norm for one image
        nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, padding_mode="reflect"),
        nn.InstanceNorm2d(8, affine=True),
        nn.ReLU(),
        nn.Conv2d(8, 3, 1),
    ).train()
    calls = []

    def fn(t):
        calls.append(t.shape[0])
        return net(t)

    image = smooth_image(192, 192)
    with torch.no_grad():
        direct = net(image)
    whole = tiled_apply(fn, image, 128, 64, 4, whole_image_norm=net, batch_size=2)
    assert sum(calls) == 4 * 3  # 4 tiles: a pass for each of the 2 layers, then the output pass
    assert float((whole - direct).abs().max()) < 1e-3
    net.eval()  # batch norm on running statistics is the same in every tile and is left alone
    calls.clear()
    tiled_apply(fn, image, 128, 64, 4, whole_image_norm=net)
    assert len(calls) == 4 * 2
    calls.clear()
    tiled_apply(fn, image, 128, 64, 4, whole_image_norm=nn.Conv2d(3, 3, 1))  # no normalization: one pass
    assert len(calls) == 4


def test_a_4096_image_is_processed_in_tile_sized_pieces():
    conv = nn.Conv2d(3, 3, 3, padding=1, bias=False)
    nn.init.dirac_(conv.weight)  # identity in the middle, so the result is checkable
    shapes = []

    def fn(t):
        shapes.append(tuple(t.shape))
        return conv(t)

    image = torch.rand(1, 3, 4096, 4096) * 2 - 1
    out = tiled_apply(fn, image, 512, 64, 4)
    assert out.shape == image.shape
    assert len(shapes) == 81 and set(shapes) == {(1, 3, 512, 512)}  # never more than a tile at once
    assert max(s[0] * s[1] * s[2] * s[3] for s in shapes) * 64 == image.numel()
    assert torch.allclose(out, image, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(tile=64, overlap=64), "overlap"),
        (dict(tile=64, overlap=-1), "overlap"),
        (dict(tile=0), "tile"),
        (dict(tile=100, multiple=16), "multiple of 16"),
        (dict(tile=32, overlap=24, multiple=16), "at least 16"),
        (dict(tile=64, overlap=16, margin=9), "margin"),
        (dict(batch_size=0), "batch_size"),
        (dict(multiple=0), "multiple"),
    ],
)
def test_bad_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        tiled_apply(lambda t: t, smooth_image(32, 32), **kwargs)


def test_bad_images_and_functions_are_clear_errors():
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        tiled_apply(lambda t: t, torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="spatial size"):
        tiled_apply(lambda t: t[..., ::2, ::2], smooth_image(100, 100), 64, 16)
    with pytest.raises(ValueError, match="tile"):
        tiled_apply(lambda t: t[:1], smooth_image(100, 100), 64, 16, batch_size=2)


def test_adain_tiles_use_the_whole_image_statistics():
    from gan_style.losses.perceptual import mean_std
    from gan_style.methods import AdaIN

    torch.manual_seed(0)
    stylizer = AdaIN(encoder_weights=None).eval().stylizer()
    content, style = smooth_image(64, 64), smooth_image(48, 80, seed=3).flip(1)
    with torch.no_grad():
        expected = stylizer(content, [style], alpha=0.7, preserve_color="none")
    per_tile = stylizer.plan_tiles(content, [style], whole_image_statistics=False, alpha=0.7)
    assert per_tile.whole_image_norm is None and per_tile.finish is None
    with torch.no_grad():
        assert torch.allclose(per_tile.fn(content), expected, atol=1e-5)
    # an image smaller than a tile is stylized whole: the same as without tiles, with either statistics
    assert torch.allclose(tiled_apply(per_tile.fn, content, 128, 32, 8), expected, atol=1e-5)
    whole = stylizer.plan_tiles(content, [style], whole_image_statistics=True, tile=128, overlap=32, alpha=0.7)
    assert torch.allclose(tiled_apply(whole.fn, content, 128, 32, 8), expected, atol=1e-5)
    assert torch.allclose(stylize_tiled(stylizer, content, [style], 128, 32, alpha=0.7), expected, atol=1e-5)

    # a larger image: statistics gathered over the tiles match the whole image's; one tile's do not
    large = smooth_image(256, 256)
    with torch.no_grad():
        mean, sigma = mean_std(stylizer.encode(large))
        tile_mean, tile_sigma = mean_std(stylizer.encode(large[..., 64:128, 128:192]))
    gathered_mean, gathered_sigma = stylizer.content_statistics(large, 64, 32)
    assert gathered_mean.shape == gathered_sigma.shape == (1, 512, 1, 1)

    def relative(a, b):
        return float((a - b).abs().mean() / b.abs().mean())

    assert relative(gathered_mean, mean) < 0.01 and relative(gathered_sigma, sigma) < 0.01
    assert relative(tile_mean, mean) > 3 * relative(gathered_mean, mean)
    out = stylize_tiled(stylizer, smooth_image(72, 136), [style], 64, 32)
    assert out.shape == (1, 3, 72, 136) and float(out.abs().max()) <= 1 + 1e-6
    with pytest.raises(ValueError, match="alpha"):
        stylizer.plan_tiles(content, [style], alpha=2.0)
    with pytest.raises(ValueError, match="style_weights"):
        stylizer.plan_tiles(content, [style], style_weights=[1.0, 2.0])
    with pytest.raises(ValueError, match="masks"):
        stylizer.plan_tiles(content, [style], masks=[torch.ones(64, 64)])
    with pytest.raises(ValueError, match="one"):
        stylizer.content_statistics(torch.cat([content, content]))


def _checkpoint(model: L.LightningModule, path) -> str:
    """A checkpoint as ``gan-style fit`` writes it, without training (weights as initialized)."""
    ckpt = {"state_dict": model.state_dict(), "hyper_parameters": dict(model.hparams)}
    ckpt["pytorch-lightning_version"] = L.__version__
    model.on_save_checkpoint(ckpt)
    torch.save(ckpt, path)
    return str(path)


def test_stylize_with_tiles_writes_the_input_size(tmp_path):
    from gan_style.commands.stylize import stylize
    from gan_style.methods import AdaIN, PatchGANStyle

    torch.manual_seed(0)
    content = tmp_path / "photo.png"
    Image.fromarray(((smooth_image(150, 203)[0].permute(1, 2, 0) + 1) * 127.5).byte().numpy()).save(content)
    style = tmp_path / "art.png"
    Image.fromarray(((smooth_image(64, 64, seed=5)[0].permute(1, 2, 0) + 1) * 127.5).byte().numpy()).save(style)

    translator = _checkpoint(PatchGANStyle(vgg_weights=None, adv_weight=0.0), tmp_path / "patchgan.ckpt")
    (written,) = stylize(
        str(content), checkpoint=translator, size=None, tile=128, tile_overlap=32, output_dir=str(tmp_path / "t")
    )
    with Image.open(written) as img:
        assert img.size == (203, 150)  # exact input size (tiles are padded, the image is not rounded)

    adain = _checkpoint(AdaIN(encoder_weights=None), tmp_path / "adain.ckpt")
    (written,) = stylize(
        str(content),
        str(style),
        checkpoint=adain,
        size=None,
        tile=96,
        tile_overlap=24,
        preserve_color="histogram",
        output_dir=str(tmp_path / "a"),
    )
    with Image.open(written) as img:
        assert img.size == (203, 150)
    (written,) = stylize(
        str(content),
        str(style),
        checkpoint=adain,
        size=None,
        tile=96,
        tile_overlap=16,
        tile_norm="tile",
        output_dir=str(tmp_path / "d"),
    )
    with Image.open(written) as img:
        assert img.size == (203, 150)
    with pytest.raises(ValueError, match="tile_norm"):
        stylize(
            str(content), checkpoint=translator, tile=64, tile_overlap=16, tile_norm="all", output_dir=str(tmp_path)
        )
    with pytest.raises(ValueError, match="multiple of 8"):
        stylize(str(content), str(style), checkpoint=adain, size=None, tile=60, output_dir=str(tmp_path / "b"))
    with pytest.raises(ValueError, match="--masks"):
        stylize(str(content), str(style), checkpoint=adain, tile=64, masks=[str(style)], output_dir=str(tmp_path / "c"))
