import pytest
import torch

from gan_style.inference.color import combine_luminance, luminance_only, match_color, rgb_to_yiq, yiq_to_rgb
from gan_style.losses import create_loss, gram_matrix, mean_std


def test_gram_matrix_by_hand():
    f = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]], [[0.0, 1.0], [0.0, 1.0]]]])  # (1, 2, 2, 2)
    # F = [[1,2,3,4],[0,1,0,1]]; F F^T = [[30, 6], [6, 2]]; / (C H W = 8)
    expected = torch.tensor([[[30.0, 6.0], [6.0, 2.0]]]) / 8
    assert torch.allclose(gram_matrix(f), expected)
    target = torch.zeros(1, 2, 3, 3)  # other spatial size is fine
    assert torch.allclose(create_loss("gram")(f, target), (expected**2).mean())


def test_gram_matrix_gradient_matches_autograd_of_the_formula():
    torch.manual_seed(0)
    f = torch.randn(2, 5, 4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(gram_matrix, (f,))  # the one-product backward against finite differences
    g_out = torch.randn(2, 5, 5, dtype=torch.float64)
    (ours,) = torch.autograd.grad(gram_matrix(f), f, g_out)
    flat = f.reshape(2, 5, 12)
    (plain,) = torch.autograd.grad(flat @ flat.transpose(1, 2) / 60, f, g_out)
    assert torch.allclose(ours, plain, atol=1e-12)
    assert ours.is_contiguous()


def test_gram_matrix_under_autocast_keeps_the_input_dtype_for_its_gradient():
    f = torch.randn(1, 4, 6, 6, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g = gram_matrix(f)
    assert g.dtype == torch.bfloat16  # the product runs in the autocast dtype, as F @ F^T would
    g.float().sum().backward()
    assert f.grad.dtype == torch.float32
    flat = f.detach().reshape(1, 4, 36)
    expected = 2 * flat.sum(1, keepdim=True).expand(1, 4, 36) / (4 * 36)  # d(sum G)/dF = (1 + 1^T) F / CHW
    assert torch.allclose(f.grad.reshape(1, 4, 36), expected, rtol=2e-2, atol=1e-3)


def test_gram_style_loss_with_a_prepared_target():
    torch.manual_seed(1)
    loss = create_loss("gram")
    f, s = torch.randn(2, 3, 5, 5, requires_grad=True), torch.randn(1, 3, 7, 4)
    prepared = loss.prepare_target(s)
    assert prepared.shape == (1, 3, 3)
    assert torch.allclose(prepared, gram_matrix(s))
    a, b = loss(f, s), loss(f, prepared)
    assert torch.allclose(a, b)
    (ga,), (gb,) = torch.autograd.grad(a, f), torch.autograd.grad(b, f)
    assert torch.allclose(ga, gb)


def test_mean_std_and_style_loss_by_hand():
    f = torch.tensor([[[[1.0, 3.0]], [[2.0, 2.0]]]])  # (1, 2, 1, 2)
    mu, sigma = mean_std(f, eps=0.0)
    assert torch.allclose(mu.flatten(), torch.tensor([2.0, 2.0]))
    assert torch.allclose(sigma.flatten(), torch.tensor([2.0**0.5, 0.0]))  # unbiased variance: (1 + 1) / 1
    s = torch.tensor([[[[0.0, 0.0, 0.0]], [[1.0, 2.0, 3.0]]]])  # mu (0, 2), var (0, 1)
    loss = create_loss("mean_std")(f, s)
    sig_f = torch.tensor([2.0 + 1e-5, 1e-5]).sqrt()
    sig_s = torch.tensor([1e-5, 1.0 + 1e-5]).sqrt()
    expected = ((torch.tensor([2.0, 2.0]) - torch.tensor([0.0, 2.0])) ** 2).mean() + ((sig_f - sig_s) ** 2).mean()
    assert torch.allclose(loss, expected, atol=1e-6)


def test_content_and_tv():
    a, b = torch.zeros(1, 1, 2, 2), torch.ones(1, 1, 2, 2)
    assert create_loss("content")(a, b).item() == 1.0
    img = torch.tensor([[[[0.0, 1.0], [0.0, 1.0]]]])
    assert create_loss("tv")(img).item() == pytest.approx(1.0)  # dx = 1 everywhere, dy = 0
    assert create_loss("tv", p=1)(img * 2).item() == pytest.approx(2.0)
    with pytest.raises(ValueError):
        create_loss("tv", p=3)


def test_colour_ops():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 16, 16) * 2 - 1
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-5)
    grey = luminance_only(x)
    assert torch.allclose(grey[:, 0], grey[:, 1]) and torch.allclose(grey[:, 1], grey[:, 2])
    # combining a stylized luminance with the content's chroma keeps the content's I and Q
    content = x * 0.3  # low saturation: the recombined colours stay inside the RGB cube (no clamping)
    combined = combine_luminance(torch.zeros_like(x), content)
    assert torch.allclose(rgb_to_yiq(combined)[:, 1:], rgb_to_yiq(content)[:, 1:], atol=1e-5)
    assert torch.allclose(rgb_to_yiq(combined)[:, :1], torch.full_like(combined[:, :1], 0.5), atol=1e-5)
    ref = torch.rand(1, 3, 20, 20) * 0.4 - 0.6
    matched = match_color(x * 0.3, ref)
    flat_m, flat_r = matched.reshape(3, -1), ref.reshape(3, -1)
    assert torch.allclose(flat_m.mean(1), flat_r.mean(1), atol=1e-4)
    assert torch.allclose(torch.cov(flat_m), torch.cov(flat_r), atol=1e-4)


def test_match_color_matches_each_image_of_a_batch_on_its_own():
    """N = 2: the same as two single-image calls (not one mix of both images' colours); one style and two
    content references give that style recoloured like each of them."""
    torch.manual_seed(0)
    images = torch.rand(2, 3, 8, 9) * 2 - 1
    refs = torch.stack([torch.rand(3, 6, 5) * 0.5 - 0.8, torch.rand(3, 6, 5) * 0.4 + 0.3])
    both = match_color(images, refs)
    for i in range(2):
        assert torch.allclose(both[i : i + 1], match_color(images[i : i + 1], refs[i : i + 1]), atol=1e-6)
    assert not torch.allclose(both[0:1], match_color(images[0:1], refs[1:2]), atol=1e-3)
    one_style = match_color(images[0:1], refs)
    assert one_style.shape == (2, 3, 8, 9)
    for i in range(2):
        assert torch.allclose(one_style[i : i + 1], match_color(images[0:1], refs[i : i + 1]), atol=1e-6)
    shared = match_color(images, refs[0:1])
    assert torch.allclose(shared[1:2], match_color(images[1:2], refs[0:1]), atol=1e-6)
    with pytest.raises(ValueError, match="3 references for 2 images"):
        match_color(images, torch.rand(3, 3, 4, 4))
