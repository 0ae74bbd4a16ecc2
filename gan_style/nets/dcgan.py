"""DCGAN generator and discriminator (Radford, Metz & Chintala, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", ICLR 2016, Sec. 3 and Fig. 1).

The paper's architecture guidelines (Sec. 3), as built here:

- no pooling: strided convolutions in the discriminator, fractionally-strided (transposed) convolutions in the
  generator;
- batch norm in both networks, except the generator's output layer and the discriminator's input layer;
- no fully connected hidden layers: the latent ``z`` enters as a (nz, 1, 1) map and a 4x4 transposed convolution
  projects it to a 4x4 map; the discriminator's last 4x4 convolution gives one score;
- ReLU in the generator with Tanh at the output; LeakyReLU (slope 0.2) in the discriminator;
- weights N(0, 0.02) (Sec. 4), batch-norm scales N(1, 0.02), no biases (the authors' code, ``dcgan.torch``, removes
  them: batch norm follows every convolution but the last, where a bias changes little).

Channel widths follow Fig. 1 and the authors' code: at 64x64 the generator goes nz -> 8 ngf (4x4) -> 4 ngf (8x8)
-> 2 ngf (16x16) -> ngf (32x32) -> output_nc (64x64), and the discriminator mirrors it. Other sizes (a power of two
from 16 to 128; 32 for the digits) add or remove one stride-2 layer per factor of two.
"""

from __future__ import annotations

import math

from torch import Tensor, nn

from gan_style.nets.init import init_weights

__all__ = ["DCGANDiscriminator", "DCGANGenerator", "IMAGE_SIZES", "apply_spectral_norm"]

#: Image sides the DCGAN networks are built for (the paper trains at 64; the digits demo at 32).
IMAGE_SIZES = (16, 32, 64, 128)


def _check(image_size: int, channels: int, channels_name: str, width: int, width_name: str) -> int:
    """The number of stride-2 layers for ``image_size``; refuses bad settings with a ValueError naming them."""
    if isinstance(image_size, bool) or image_size not in IMAGE_SIZES:
        raise ValueError(f"image_size must be one of {', '.join(map(str, IMAGE_SIZES))}, got {image_size!r}")
    if isinstance(channels, bool) or not isinstance(channels, int) or channels < 1:
        raise ValueError(f"{channels_name} must be a channel count >= 1 (1 grayscale, 3 RGB), got {channels!r}")
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"{width_name} must be an integer >= 1, got {width!r}")
    return int(math.log2(image_size)) - 2  # 4x4 -> image_size in stride-2 steps


class DCGANGenerator(nn.Module):
    """The DCGAN generator G: latent ``z`` (N, nz) or (N, nz, 1, 1) -> images (N, output_nc, image_size, image_size)
    in [-1, 1] (Tanh).

    Layers at 64x64: ConvT(nz -> 8 ngf, 4x4, stride 1) -> BN -> ReLU, then three ConvT(4x4, stride 2, padding 1) ->
    BN -> ReLU halving the width (4 ngf, 2 ngf, ngf), then ConvT(ngf -> output_nc, 4x4, stride 2) -> Tanh. At 32x32 the
    first layer gives 4 ngf and one stride-2 layer fewer. 3,576,704 parameters at the defaults (64x64, RGB, ngf 64).

    Args:
        nz: size of the latent vector (100, as in the paper).
        ngf: filters of the last hidden layer; the first has ``ngf * image_size / 8`` (64).
        output_nc: output channels (bands), >= 1: 1 for grayscale, 3 for RGB (3).
        image_size: output side in pixels, one of :data:`IMAGE_SIZES` (64, as in the paper).
        init_gain: standard deviation of the initial convolution weights, N(0, init_gain), and of the batch-norm
            scales around 1 (0.02, Sec. 4).

    Attributes:
        nz, output_nc, image_size: the settings, read by :class:`gan_style.methods.dcgan.DCGAN` and ``gan-style sample``.

    Raises:
        ValueError: an ``image_size`` not in :data:`IMAGE_SIZES`, or ``output_nc``, ``nz`` or ``ngf`` below 1.
    """

    def __init__(
        self, nz: int = 100, ngf: int = 64, output_nc: int = 3, image_size: int = 64, init_gain: float = 0.02
    ) -> None:
        super().__init__()
        if isinstance(nz, bool) or not isinstance(nz, int) or nz < 1:
            raise ValueError(f"nz (latent size) must be an integer >= 1, got {nz!r}")
        n_up = _check(image_size, output_nc, "output_nc", ngf, "ngf")
        self.nz, self.output_nc, self.image_size = nz, output_nc, image_size
        width = ngf * 2 ** (n_up - 1)
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, width, 4, 1, 0, bias=False),  # project z to a 4x4 map (Fig. 1)
            nn.BatchNorm2d(width),
            nn.ReLU(True),
        ]
        for _ in range(n_up - 1):
            layers += [nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False), nn.BatchNorm2d(width // 2)]
            layers.append(nn.ReLU(True))
            width //= 2
        layers += [nn.ConvTranspose2d(width, output_nc, 4, 2, 1, bias=False), nn.Tanh()]  # no BN at the output
        self.main = nn.Sequential(*layers)
        init_weights(self, "normal", init_gain)

    def forward(self, z: Tensor) -> Tensor:
        """(N, nz) or (N, nz, 1, 1) -> (N, output_nc, image_size, image_size) in [-1, 1]."""
        if z.dim() == 2:
            z = z[:, :, None, None]
        return self.main(z)


class DCGANDiscriminator(nn.Module):
    """The DCGAN discriminator D: images (N, input_nc, image_size, image_size) in [-1, 1] -> one raw score (logit)
    per image, shape (N,). No sigmoid: the loss applies it (:class:`gan_style.losses.GANLoss`, ``vanilla``).

    Layers at 64x64: Conv(input_nc -> ndf, 4x4, stride 2, padding 1) -> LeakyReLU(0.2) (no BN at the input), then
    three Conv(4x4, stride 2) -> BN -> LeakyReLU(0.2) doubling the width (2, 4, 8 ndf), then Conv(8 ndf -> 1, 4x4,
    stride 1, no padding) on the 4x4 map. 2,765,568 parameters at the defaults (64x64, RGB, ndf 64).

    Args:
        ndf: filters of the first layer (64).
        input_nc: input channels (bands), >= 1: 1 for grayscale, 3 for RGB (3). ``gan-style fit`` sets it from the
            data's ``channels`` when the recipe leaves it out.
        image_size: input side in pixels, one of :data:`IMAGE_SIZES` (64).
        norm: ``batch`` (the paper, default) or ``none``: no normalization, for ``gan_mode: wgangp`` (the gradient
            penalty needs each score to depend on its own image only; Gulrajani et al. 2017, Sec. 4) and for the
            SN-DCGAN of Miyato et al. 2018.
        init_gain: standard deviation of the initial weights, N(0, init_gain) (0.02, Sec. 4).

    Raises:
        ValueError: a bad ``image_size``, ``input_nc``, ``ndf`` or ``norm``.
    """

    def __init__(
        self, ndf: int = 64, input_nc: int = 3, image_size: int = 64, norm: str = "batch", init_gain: float = 0.02
    ) -> None:
        super().__init__()
        n_down = _check(image_size, input_nc, "input_nc", ndf, "ndf")
        if norm not in ("batch", "none"):
            raise ValueError(f"norm must be 'batch' or 'none' for the DCGAN discriminator, got {norm!r}")
        self.input_nc, self.image_size = input_nc, image_size
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True)]
        width = ndf
        for _ in range(n_down - 1):
            layers.append(nn.Conv2d(width, width * 2, 4, 2, 1, bias=False))
            if norm == "batch":
                layers.append(nn.BatchNorm2d(width * 2))
            layers.append(nn.LeakyReLU(0.2, True))
            width *= 2
        layers.append(nn.Conv2d(width, 1, 4, 1, 0, bias=False))  # 4x4 map -> one score
        self.main = nn.Sequential(*layers)
        init_weights(self, "normal", init_gain)

    def forward(self, x: Tensor) -> Tensor:
        """(N, input_nc, image_size, image_size) in [-1, 1] -> (N,) logits."""
        return self.main(x).flatten()


def apply_spectral_norm(network: nn.Module) -> int:
    """Wrap every ``Conv2d``, ``ConvTranspose2d`` and ``Linear`` weight of ``network`` in spectral normalization
    (Miyato et al., ICLR 2018: each weight divided by its largest singular value, estimated by one power iteration per
    forward pass in training mode), in place, with ``torch.nn.utils.parametrizations.spectral_norm``. Layers already
    parametrized are left as they are. Returns the number of layers wrapped.

    The state dict keys of a wrapped layer change (``weight`` becomes ``parametrizations.weight.original`` plus the
    power-iteration vectors ``_u`` and ``_v``), so a network is wrapped before its weights are loaded.
    """
    from torch.nn.utils import parametrize
    from torch.nn.utils.parametrizations import spectral_norm

    layers = [
        m
        for m in network.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) and not parametrize.is_parametrized(m, "weight")
    ]
    for layer in layers:
        spectral_norm(layer)  # its default dim: 1 for transposed convolutions (their output channels), else 0
    return len(layers)
