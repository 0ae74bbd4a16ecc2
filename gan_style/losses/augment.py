"""Differentiable augmentation of the discriminator's inputs (DiffAugment: Zhao, Liu, Lin, Zhu & Han,
"Differentiable Augmentation for Data-Efficient GAN Training", NeurIPS 2020, arXiv:2006.10738; code:
github.com/mit-han-lab/data-efficient-gans, ``DiffAugment_pytorch.py``).

With little training data the discriminator memorises the real images and its feedback to the generator
degrades. DiffAugment changes the adversarial objective so that the discriminator only ever sees randomly
transformed images, real and generated alike, in the discriminator's update and in the generator's (the paper's
Eq. 3-4, with T the random transform):

- ``L_D = E_x[f(-D(T(x)))] + E_z[f(D(T(G(z))))]``;
- ``L_G = E_z[f(-D(T(G(z))))]``.

Every transform is differentiable in its input, so the generator is trained through it. It lives beside the
adversarial losses because it is part of that objective: a method hands the losses of
:mod:`gan_style.losses.adversarial` the discriminator seen through the augmentation (:func:`augmented`).

Policies (comma-separated in a policy string, applied in the order given), on images in [-1, 1] (the reference
code's range; 0 is mid-grey):

=============  ==========================================================================================
policy         what, per image (one random draw per image and operation)
=============  ==========================================================================================
``color``      brightness ``x + b``, b ~ U[-0.5, 0.5]; then saturation ``m_c + s (x - m_c)``, s ~ U[0, 2],
               m_c the per-pixel mean over channels; then contrast ``m + c (x - m)``, c ~ U[0.5, 1.5], m the
               image's mean over channels and pixels
``translation``  integer shift of up to ``round(H / 8)`` rows and ``round(W / 8)`` columns each way
               (uniform), the uncovered border filled with zeros
``cutout``     a zero rectangle of ``round(H / 2)`` x ``round(W / 2)`` whose centre is uniform over the image
               (clipped where it crosses the border)
=============  ==========================================================================================

The paper's default policy with 100 images or fewer is ``color,translation,cutout``.

Random draws: real and generated batches are augmented by separate calls, so each image gets its own draws, with
the same policy (as in the reference code, where D's forward pass augments whatever batch it is given). Within one
image the draws are shared by all its channels; an image made of several stacked images (a conditional
discriminator's ``concat(condition, output)``) gets the same transform on each part when its channel ``groups`` are
given (the colour statistics are then taken per part, so augmenting the concatenation equals concatenating the
parts each augmented with the same draws). The draws come from the CPU torch generator passed in, by default the
global one, whatever the images' device: a checkpoint's saved torch RNG state covers them (exact resume), and CPU
and GPU runs draw the same transforms.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import Tensor

__all__ = [
    "DIFFAUGMENT_POLICIES",
    "DiffAugment",
    "augmented",
    "brightness",
    "contrast",
    "cutout",
    "parse_policy",
    "saturation",
    "translation",
]

#: The policy names a DiffAugment policy string may hold.
DIFFAUGMENT_POLICIES = ("color", "translation", "cutout")


def parse_policy(policy: str, setting: str = "diffaugment") -> tuple[str, ...]:
    """The policy names of a policy string, in order: ``"color,translation,cutout"`` ->
    ``("color", "translation", "cutout")`` (spaces around names are ignored).

    Args:
        policy: comma-separated names of :data:`DIFFAUGMENT_POLICIES`, each at most once.
        setting: how the error message names the setting (default ``"diffaugment"``).

    Raises:
        ValueError: not a string, an empty string or name, an unknown name or one given twice; one line naming
            ``setting`` and the choices.
    """
    choices = ", ".join(DIFFAUGMENT_POLICIES)
    hint = f'choose from {choices}, comma-separated (the paper\'s "color,translation,cutout"), or null for none'
    if not isinstance(policy, str):
        raise ValueError(f"{setting} must be a string of policy names or null, got {policy!r}; {hint}")
    names = tuple(name.strip() for name in policy.split(","))
    unknown = [name for name in names if name not in DIFFAUGMENT_POLICIES]
    if unknown:
        raise ValueError(f"{setting} {policy!r} names unknown policies {unknown}; {hint}")
    if len(set(names)) != len(names):
        raise ValueError(f"{setting} {policy!r} names a policy twice; {hint}")
    return names


def _uniform(x: Tensor, low: float, high: float, generator: torch.Generator | None) -> Tensor:
    """One draw per image from U[low, high), drawn on the CPU, as (N, 1, 1, 1) of ``x``'s dtype and device."""
    draw = torch.rand(x.shape[0], generator=generator)
    return (low + (high - low) * draw).to(device=x.device, dtype=x.dtype).view(-1, 1, 1, 1)


def _per_group(x: Tensor, groups: Sequence[int] | None, fn: Callable[[Tensor], Tensor]) -> Tensor:
    """``fn`` on each channel group of ``x`` (N, C, H, W), concatenated back; the whole of ``x`` when ``groups`` is
    None."""
    if groups is None:
        return fn(x)
    return torch.cat([fn(part) for part in x.split(list(groups), dim=1)], dim=1)


def _check_groups(x: Tensor, groups: Sequence[int] | None) -> None:
    if x.dim() != 4:
        raise ValueError(f"DiffAugment takes images of shape (N, C, H, W), got shape {tuple(x.shape)}")
    if groups is not None and (any(int(g) < 1 for g in groups) or sum(groups) != x.shape[1]):
        raise ValueError(f"channel groups {list(groups)} do not split the {x.shape[1]} channels of the images")


def brightness(x: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """``x + b`` with b ~ U[-0.5, 0.5] per image, the same for every channel and pixel.

    Args:
        x: images (N, C, H, W) in [-1, 1] (results may leave the range, as in the reference code).
        generator: CPU torch generator of the draws (None, the default: the global one).

    Returns:
        (N, C, H, W), differentiable in ``x``.
    """
    return x + _uniform(x, -0.5, 0.5, generator)


def saturation(x: Tensor, generator: torch.Generator | None = None, groups: Sequence[int] | None = None) -> Tensor:
    """``m_c + s (x - m_c)`` with s ~ U[0, 2] per image and ``m_c`` each pixel's mean over the channels (of its
    group): 0 turns an image grey, 1 keeps it.

    Args:
        x: images (N, C, H, W) in [-1, 1].
        generator: CPU torch generator of the draws (None, the default: the global one).
        groups: channel counts of the stacked images in ``x`` (e.g. (3, 3) for concat(condition, image)), each
            part desaturated towards its own grey with the same ``s``; None (default): one image.

    Returns:
        (N, C, H, W), differentiable in ``x``.
    """
    factor = _uniform(x, 0.0, 2.0, generator)
    return _per_group(x, groups, lambda part: (part - part.mean(1, keepdim=True)) * factor + part.mean(1, keepdim=True))


def contrast(x: Tensor, generator: torch.Generator | None = None, groups: Sequence[int] | None = None) -> Tensor:
    """``m + c (x - m)`` with c ~ U[0.5, 1.5] per image and ``m`` the image's mean over its channels (of its group)
    and pixels.

    Args:
        x: images (N, C, H, W) in [-1, 1].
        generator: CPU torch generator of the draws (None, the default: the global one).
        groups: channel counts of the stacked images in ``x``, each part scaled about its own mean with the same
            ``c``; None (default): one image.

    Returns:
        (N, C, H, W), differentiable in ``x``.
    """
    factor = _uniform(x, 0.5, 1.5, generator)

    def scale(part: Tensor) -> Tensor:
        mean = part.mean((1, 2, 3), keepdim=True)
        return (part - mean) * factor + mean

    return _per_group(x, groups, scale)


def translation(x: Tensor, ratio: float = 0.125, generator: torch.Generator | None = None) -> Tensor:
    """Shift each image by whole pixels: output pixel (i, j) is input pixel (i + dy, j + dx), or 0 where that lies
    outside the image, with dy uniform over the integers in [-round(H * ratio), round(H * ratio)] and dx likewise
    over the width (the reference code's rounding, ``int(size * ratio + 0.5)``).

    Args:
        x: images (N, C, H, W) in [-1, 1].
        ratio: the largest shift as a fraction of the side (default 1/8, the paper's).
        generator: CPU torch generator of the draws (None, the default: the global one).

    Returns:
        (N, C, H, W), differentiable in ``x`` (the gradient of a pixel shifted out of the image is 0).
    """
    n, c, h, w = x.shape
    reach_h, reach_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-reach_h, reach_h + 1, (n,), generator=generator).to(x.device)
    dx = torch.randint(-reach_w, reach_w + 1, (n,), generator=generator).to(x.device)
    rows = torch.arange(h, device=x.device)[None, :] + dy[:, None]  # (N, H): source row of each output row
    cols = torch.arange(w, device=x.device)[None, :] + dx[:, None]  # (N, W)
    inside = ((rows >= 0) & (rows < h))[:, None, :, None] & ((cols >= 0) & (cols < w))[:, None, None, :]
    out = x.gather(2, rows.clamp(0, h - 1)[:, None, :, None].expand(n, c, h, w))
    out = out.gather(3, cols.clamp(0, w - 1)[:, None, None, :].expand(n, c, h, w))
    return torch.where(inside, out, out.new_zeros(()))


def cutout(x: Tensor, ratio: float = 0.5, generator: torch.Generator | None = None) -> Tensor:
    """Zero one rectangle of ``round(H * ratio)`` x ``round(W * ratio)`` pixels per image, in every channel.

    The rectangle's centre row is uniform over 0 .. H - 1 (0 .. H for an even height, so both borders are reached
    equally) and likewise its column; the part outside the image is clipped (the reference code's draws).

    Args:
        x: images (N, C, H, W) in [-1, 1].
        ratio: the rectangle's side as a fraction of the image's (default 1/2, the paper's).
        generator: CPU torch generator of the draws (None, the default: the global one).

    Returns:
        (N, C, H, W), differentiable in ``x`` (zero gradient inside the rectangle).
    """
    n, _, h, w = x.shape
    size_h, size_w = int(h * ratio + 0.5), int(w * ratio + 0.5)
    top = torch.randint(0, h + 1 - size_h % 2, (n,), generator=generator).to(x.device) - size_h // 2
    left = torch.randint(0, w + 1 - size_w % 2, (n,), generator=generator).to(x.device) - size_w // 2
    rows = torch.arange(h, device=x.device)[None, :]
    cols = torch.arange(w, device=x.device)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < top[:, None] + size_h)  # (N, H)
    in_cols = (cols >= left[:, None]) & (cols < left[:, None] + size_w)  # (N, W)
    cut = in_rows[:, None, :, None] & in_cols[:, None, None, :]
    return torch.where(cut, x.new_zeros(()), x)


class DiffAugment:
    """A DiffAugment policy (module docstring): a random, differentiable transform of a batch of images.

    Each call draws new transforms, one per image and operation, and applies the policies in the order given.

    Args:
        policy: comma-separated names of :data:`DIFFAUGMENT_POLICIES` (default ``"color,translation,cutout"``, the
            paper's choice for 100 images or fewer).
        translation_ratio: the largest shift as a fraction of the side (1/8, the paper's).
        cutout_ratio: the side of the cut-out rectangle as a fraction of the image's (1/2, the paper's).
        setting: how error messages name the setting the policy comes from (``"diffaugment"``).

    Raises:
        ValueError: an unknown policy name (the message names ``setting`` and the choices), or a ratio outside
            (0, 1].

    >>> augment = DiffAugment("color,translation,cutout")
    >>> augment(torch.zeros(2, 3, 16, 16)).shape
    torch.Size([2, 3, 16, 16])
    """

    def __init__(
        self,
        policy: str = "color,translation,cutout",
        translation_ratio: float = 0.125,
        cutout_ratio: float = 0.5,
        setting: str = "diffaugment",
    ) -> None:
        self.policies = parse_policy(policy, setting)
        for name, ratio in (("translation_ratio", translation_ratio), ("cutout_ratio", cutout_ratio)):
            if not 0 < ratio <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {ratio}")
        self.translation_ratio = float(translation_ratio)
        self.cutout_ratio = float(cutout_ratio)

    @classmethod
    def from_setting(cls, policy: str | None, setting: str = "diffaugment") -> DiffAugment | None:
        """The augmentation a method's setting asks for: None for None (no augmentation), else ``cls(policy)``.

        Raises:
            ValueError: as the constructor.
        """
        return None if policy is None else cls(policy, setting=setting)

    @property
    def policy(self) -> str:
        """The policy string, normalised: ``"color,translation,cutout"``."""
        return ",".join(self.policies)

    def __repr__(self) -> str:
        return f"DiffAugment({self.policy!r})"

    def __call__(
        self, x: Tensor, groups: Sequence[int] | None = None, generator: torch.Generator | None = None
    ) -> Tensor:
        """Augment a batch.

        Args:
            x: images (N, C, H, W), float, in [-1, 1].
            groups: channel counts of the images stacked in ``x`` (e.g. (3, 3) for a conditional discriminator's
                concat(condition, image)): each part gets the same transform, its colour statistics its own.
                None (default): ``x`` holds one image per sample.
            generator: CPU torch generator of the draws (None, the default: the global one, saved in checkpoints).

        Returns:
            The augmented images, (N, C, H, W) of ``x``'s dtype and device, differentiable in ``x``.

        Raises:
            ValueError: ``x`` is not 4-dimensional, or ``groups`` do not add up to its channels.
        """
        _check_groups(x, groups)
        for name in self.policies:
            if name == "color":
                x = brightness(x, generator)
                x = saturation(x, generator, groups)
                x = contrast(x, generator, groups)
            elif name == "translation":
                x = translation(x, self.translation_ratio, generator)
            else:
                x = cutout(x, self.cutout_ratio, generator)
        return x


def augmented(
    discriminator: Callable[[Tensor], Tensor],
    augment: DiffAugment | None,
    groups: Sequence[int] | None = None,
) -> Callable[[Tensor], Tensor]:
    """``discriminator`` seen through ``augment``: ``x -> discriminator(augment(x, groups))``, or ``discriminator``
    itself when ``augment`` is None.

    Hand the result to :meth:`gan_style.losses.GANLoss.discriminator_loss`, :func:`gan_style.losses.r1_penalty` or
    call it on generated images for the generator's term: every image the discriminator sees is then augmented,
    each call with its own draws, and penalties on input gradients (WGAN-GP, R1) are taken through the
    augmentation, with respect to the images before it.

    Args:
        discriminator: D, images (N, C, H, W) -> scores of any shape.
        augment: the augmentation, or None.
        groups: channel groups of D's input (see :meth:`DiffAugment.__call__`; None: one image per sample).
    """
    if augment is None:
        return discriminator

    def judge(x: Tensor) -> Tensor:
        return discriminator(augment(x, groups))

    return judge
