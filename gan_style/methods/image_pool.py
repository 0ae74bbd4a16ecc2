"""History buffer of generated images (Shrivastava et al. 2017), used by CycleGAN (Zhu et al. 2017, Sec. 4)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["ImagePool"]


class ImagePool:
    """Feeds the discriminator a mix of new fakes and fakes from earlier steps.

    While fewer than ``pool_size`` images are stored, each new image is stored and returned. Once full,
    each new image is, with probability 0.5, swapped for a random stored one (which is returned in its
    place); otherwise it is returned unchanged. ``pool_size=0`` disables the pool.

    The random choices come from the pool's own generator, and :meth:`state_dict` captures the stored
    images and that generator, so a resumed run makes the same choices.

    Args:
        pool_size: images kept (50 in the paper).
        seed: seed of the pool's generator.
    """

    def __init__(self, pool_size: int = 50, seed: int = 0) -> None:
        if pool_size < 0:
            raise ValueError(f"pool_size must be >= 0, got {pool_size}")
        self.pool_size = pool_size
        self.images: list[Tensor] = []
        self.generator = torch.Generator().manual_seed(int(seed))

    def query(self, images: Tensor) -> Tensor:
        """(N, C, H, W) new fakes -> (N, C, H, W) images for the discriminator, detached."""
        images = images.detach()
        if self.pool_size == 0:
            return images
        out = []
        for image in images:
            image = image.unsqueeze(0)
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif float(torch.rand(1, generator=self.generator)) > 0.5:
                idx = int(torch.randint(0, self.pool_size, (1,), generator=self.generator))
                out.append(self.images[idx].to(image.device, image.dtype))
                self.images[idx] = image
            else:
                out.append(image)
        return torch.cat(out, 0)

    def state_dict(self) -> dict[str, Any]:
        """Stored images (on the CPU) and the generator state."""
        return {
            "images": torch.cat([img.cpu() for img in self.images], 0) if self.images else torch.empty(0),
            "generator": self.generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any], device: torch.device | str = "cpu") -> None:
        images = state["images"]
        self.images = [img.unsqueeze(0).to(device) for img in images] if images.numel() else []
        self.generator.set_state(state["generator"])
