import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gan_style.losses import GANLoss, create_loss, gradient_penalty, list_losses, register_loss
from gan_style.losses.registry import LOSSES


def test_registry_lists_and_creates():
    assert {"gan", "l1", "mse"} <= set(list_losses())
    assert list_losses() == sorted(list_losses())
    loss = create_loss("gan", gan_mode="hinge")
    assert isinstance(loss, GANLoss) and loss.gan_mode == "hinge"
    x, y = torch.randn(4, 3), torch.randn(4, 3)
    assert torch.allclose(create_loss("l1")(x, y), (x - y).abs().mean())
    assert torch.allclose(create_loss("mse")(x, y), ((x - y) ** 2).mean())


def test_unknown_loss_lists_known_names():
    with pytest.raises(KeyError) as err:
        create_loss("perceptual_typo")
    msg = str(err.value)
    assert "perceptual_typo" in msg and "gan" in msg and "l1" in msg and "mse" in msg


def test_duplicate_registration_is_an_error():
    with pytest.raises(ValueError, match="already registered"):
        register_loss("l1")(nn.L1Loss)
    name = "test_only_loss"
    try:
        register_loss(name)(nn.L1Loss)
        assert name in list_losses()
    finally:
        LOSSES.pop(name, None)


def test_unknown_gan_mode():
    with pytest.raises(ValueError, match="vanilla, lsgan, wgangp, hinge"):
        GANLoss("wgan")


def test_vanilla_is_bce_with_logits():
    loss = GANLoss("vanilla")
    d = torch.tensor([[0.3, -1.2], [2.0, 0.0]])
    s = torch.sigmoid(d)
    assert torch.allclose(loss(d, True), (-torch.log(s)).mean(), atol=1e-6)
    assert torch.allclose(loss(d, False), (-torch.log(1 - s)).mean(), atol=1e-6)
    # generator term is the non-saturating -log D(G(z))
    assert torch.allclose(loss.generator_loss(d), (-torch.log(s)).mean(), atol=1e-6)


def test_lsgan_and_label_values():
    d = torch.tensor([0.5, -1.0, 2.0])
    assert torch.allclose(GANLoss("lsgan")(d, True), ((d - 1) ** 2).mean())
    assert torch.allclose(GANLoss("lsgan")(d, False), (d**2).mean())
    smoothed = GANLoss("lsgan", real_label=0.9)
    assert torch.allclose(smoothed(d, True), ((d - 0.9) ** 2).mean())


def test_wgangp_and_hinge_terms():
    d = torch.tensor([0.5, -1.5, 2.0, 0.2])
    w = GANLoss("wgangp")
    assert torch.allclose(w(d, True), -d.mean()) and torch.allclose(w(d, False), d.mean())
    h = GANLoss("hinge")
    assert torch.allclose(h(d, True), F.relu(1 - d).mean())
    assert torch.allclose(h(d, False), F.relu(1 + d).mean())
    assert torch.allclose(h.generator_loss(d), -d.mean())


class LinearCritic(nn.Module):
    """D(x) = <w, x> per sample: its input gradient is w everywhere."""

    def __init__(self, shape):
        super().__init__()
        self.w = nn.Parameter(torch.randn(*shape))

    def forward(self, x):
        return (x * self.w).flatten(1).sum(1)


def test_gradient_penalty_of_linear_critic_is_exact():
    torch.manual_seed(0)
    critic = LinearCritic((3, 4, 4))
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    expected = (critic.w.detach().norm() - 1.0) ** 2
    assert torch.allclose(gradient_penalty(critic, real, fake), expected, atol=1e-5)


def test_wgangp_discriminator_loss_applies_penalty_to_the_critic():
    torch.manual_seed(0)
    critic = LinearCritic((3, 4, 4))
    real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4, requires_grad=True)
    loss_fn = GANLoss("wgangp", lambda_gp=10.0)
    loss, logs = loss_fn.discriminator_loss(critic, real, fake)
    wasserstein = -critic(real).mean() + critic(fake.detach()).mean()
    gp = (critic.w.detach().norm() - 1.0) ** 2
    assert torch.allclose(loss, wasserstein + 10.0 * gp, atol=1e-4)
    assert torch.allclose(logs["gp"], gp, atol=1e-5)
    loss.backward()
    # the penalty's gradient reaches the critic: d/dw of 10 (|w| - 1)^2 = 20 (|w| - 1) w / |w|
    w = critic.w.detach()
    grad_gp = 20.0 * (w.norm() - 1) * w / w.norm()
    grad_w = (fake.detach() - real).mean(0) + grad_gp
    assert torch.allclose(critic.w.grad, grad_w, atol=1e-3)
    assert fake.grad is None  # the fake batch is detached from the generator


def test_discriminator_loss_scale_without_penalty():
    d = nn.Conv2d(3, 1, 1)
    real, fake = torch.randn(2, 3, 5, 5), torch.randn(2, 3, 5, 5)
    loss_fn = GANLoss("lsgan")
    loss, logs = loss_fn.discriminator_loss(d, real, fake, scale=0.5)
    expected = 0.5 * (((d(real) - 1) ** 2).mean() + (d(fake) ** 2).mean())
    assert torch.allclose(loss, expected) and "gp" not in logs
    assert math.isclose(float(logs["d_real"] + logs["d_fake"]) * 0.5, loss.item(), rel_tol=1e-6)


def test_wgangp_scale_multiplies_the_penalty_too():
    """loss = scale * (critic terms + lambda_gp * GP): lambda_gp stays relative to the critic terms."""
    torch.manual_seed(0)
    critic = LinearCritic((3, 4, 4))
    real, fake = torch.randn(3, 3, 4, 4), torch.randn(3, 3, 4, 4)
    loss, logs = GANLoss("wgangp", lambda_gp=10.0).discriminator_loss(critic, real, fake, scale=0.5)
    with torch.no_grad():
        critic_terms = -critic(real).mean() + critic(fake).mean()
        gp = (critic.w.norm() - 1.0) ** 2  # exact for a linear critic, whatever the interpolates
    assert torch.allclose(loss, 0.5 * (critic_terms + 10.0 * gp), atol=1e-5)
    assert torch.allclose(logs["d_real"] + logs["d_fake"], critic_terms, atol=1e-6)  # logged before scale
    assert torch.allclose(logs["gp"], gp, atol=1e-5)  # logged before lambda_gp and scale
    unscaled, _ = GANLoss("wgangp", lambda_gp=10.0).discriminator_loss(critic, real, fake, scale=1.0)
    assert torch.allclose(unscaled, 2 * loss, atol=1e-5)


def test_gradient_norm_has_eps_under_the_square_root():
    torch.manual_seed(0)
    critic = LinearCritic((3, 4, 4))
    real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    w2 = critic.w.detach().pow(2).sum()
    expected = (torch.sqrt(w2 + 0.25) - 1.0) ** 2  # sqrt(sum(g^2) + eps), not ||g + eps||
    assert torch.allclose(gradient_penalty(critic, real, fake, eps=0.25), expected, atol=1e-5)


class DeadReluCritic(nn.Module):
    """A critic whose ReLU never fires: its input gradient is exactly zero."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 1)
        nn.init.constant_(self.conv.bias, -100.0)

    def forward(self, x):
        return F.relu(self.conv(x)).flatten(1).sum(1)


@pytest.mark.parametrize("critic", [DeadReluCritic(), LinearCritic((3, 4, 4))], ids=["dead_relu", "zero_weights"])
def test_gradient_penalty_backward_is_finite_for_a_zero_gradient(critic):
    for p in critic.parameters():
        if p.dim() == 3:  # LinearCritic: w = 0, so grad_x D = 0 everywhere
            nn.init.zeros_(p)
    real, fake = torch.randn(2, 3, 4, 4), torch.randn(2, 3, 4, 4)
    loss, logs = GANLoss("wgangp").discriminator_loss(critic, real, fake, scale=0.5)
    assert torch.allclose(logs["gp"], torch.tensor(1.0), atol=1e-5)  # (sqrt(0 + eps) - 1)^2
    loss.backward()
    for p in critic.parameters():
        assert p.grad is None or torch.isfinite(p.grad).all()
    # the penalty alone, too: d/dw (sqrt(|w|^2 + eps) - 1)^2 at w = 0 is 0, not 0/0
    critic.zero_grad()
    gradient_penalty(critic, real, fake).backward()
    for p in critic.parameters():
        assert p.grad is None or torch.isfinite(p.grad).all()
