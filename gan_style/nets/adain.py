"""AdaIN's decoder and the adaptive instance normalization operation (Huang & Belongie, ICCV 2017)."""

from __future__ import annotations

from torch import Tensor, nn

from gan_style.losses.perceptual import mean_std

__all__ = ["AdaINDecoder", "adaptive_instance_norm", "masked_adaptive_instance_norm"]


def adaptive_instance_norm(content: Tensor, style: Tensor, eps: float = 1e-5) -> Tensor:
    """``AdaIN(x, y) = sigma(y) * (x - mu(x)) / sigma(x) + mu(y)`` (Eq. 8), per sample and channel.

    ``content`` (N, C, H, W), ``style`` (N or 1, C, h, w); statistics over the spatial positions with
    ``sigma = sqrt(var + eps)`` (:func:`gan_style.losses.mean_std`). Returns the content's shape.
    """
    mu_c, sigma_c = mean_std(content, eps)
    mu_s, sigma_s = mean_std(style, eps)
    return (content - mu_c) / sigma_c * sigma_s + mu_s


def masked_adaptive_instance_norm(content: Tensor, style: Tensor, mask: Tensor, eps: float = 1e-5) -> Tensor:
    """AdaIN whose content statistics come from the positions where ``mask`` (N or 1, 1, H, W) is > 0.5
    (spatial control, Huang & Belongie 2017, Sec. 7.3). Returns the normalized map at every position;
    the caller keeps the masked part.
    """
    m = (mask > 0.5).to(content.dtype)
    count = m.sum(dim=(2, 3), keepdim=True).clamp_min(2.0)
    mu_c = (content * m).sum(dim=(2, 3), keepdim=True) / count
    var_c = ((content - mu_c) ** 2 * m).sum(dim=(2, 3), keepdim=True) / (count - 1)
    mu_s, sigma_s = mean_std(style, eps)
    return (content - mu_c) / (var_c + eps).sqrt() * sigma_s + mu_s


class AdaINDecoder(nn.Sequential):
    """Decoder g of AdaIN: mirrors VGG-19 up to relu4_1, nearest-neighbour upsampling instead of pooling,
    reflection padding, no normalization (Sec. 6).

    Input (N, 512, h, w) relu4_1-space features; output (N, 3, 8h, 8w) RGB in the [0, 1] range of the
    AdaIN code (no final activation: values may leave the range; callers clamp). It is an
    ``nn.Sequential`` whose indices match the published ``decoder.pth`` (``1.weight``, ``5.weight``, ...
    ``28.weight``), so that file loads with :func:`gan_style.nets.load_reference_state_dict`.
    """

    def __init__(self) -> None:
        def conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
            # in place: the convolution's output is not needed for its backward pass, so no copy is made
            return [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)] + ([nn.ReLU(inplace=True)] if relu else [])

        up = [nn.Upsample(scale_factor=2, mode="nearest")]
        super().__init__(
            *conv(512, 256),
            *up,
            *conv(256, 256),
            *conv(256, 256),
            *conv(256, 256),
            *conv(256, 128),
            *up,
            *conv(128, 128),
            *conv(128, 64),
            *up,
            *conv(64, 64),
            *conv(64, 3, relu=False),
        )
