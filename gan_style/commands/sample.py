"""``gan-style sample``: images drawn from noise by an unconditional generator (DCGAN), with a latent interpolation.

Examples::

    gan-style sample --checkpoint runs/dcgan_digits/checkpoints/last.ckpt --num_samples 64
    gan-style sample --checkpoint runs/dcgan --num_samples 16 --seed 3 --output_dir my_samples
    gan-style sample --checkpoint runs/dcgan --interpolation linear --interpolation_steps 12

Writes into ``output_dir``: ``grid.png`` (every sample, ``nrow`` per row), ``sample_0000.png`` ... (each sample at
the generator's size) and ``interpolation.png`` (a strip of images along the path between the latents of samples 0
and 1). Every file is written atomically (:func:`gan_style.io.atomic.atomic_write`). The model is read by the one
loader (:func:`gan_style.loading.load_method`): the file is plain data, validated before anything is built.

A model trained on data that is not 8-bit RGB (a data module with ``channels`` or ``scaling``) writes its samples in
the data's values: the scaling its checkpoint records (``gan_style_scaling``) is inverted exactly and the arrays are
written by :func:`gan_style.io.imagery.write_array` (16-bit PNG for 16-bit data of 1 or 3 bands, TIFF for float data
and other band counts). The grid and the strip are 8-bit pictures through the display mapping of
:func:`gan_style.io.imagery.display_rgb`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from gan_style.errors import FileMissingError, InferenceUnavailableError, InvalidSettingError

__all__ = ["interpolate_latents", "sample", "slerp"]

#: Latents per generator call (bounds the memory of a large ``--num_samples``).
_CHUNK = 256


def slerp(a, b, t: float):
    """Spherical linear interpolation between latent vectors ``a`` and ``b`` (tensors of one shape) at ``t`` in
    [0, 1] (Shoemake 1985; White 2016, "Sampling Generative Networks": for Gaussian latents the path stays at the
    norms the generator was trained on, where a straight line passes closer to the origin). Falls back to linear
    interpolation when ``a`` and ``b`` are (nearly) parallel."""
    import torch

    a_flat, b_flat = a.flatten().double(), b.flatten().double()
    cos = torch.dot(a_flat, b_flat) / (a_flat.norm() * b_flat.norm()).clamp_min(1e-12)
    omega = torch.arccos(cos.clamp(-1.0, 1.0))
    if float(torch.sin(omega).abs()) < 1e-6:
        return (1.0 - t) * a + t * b
    sin = torch.sin(omega)
    mixed = torch.sin((1.0 - t) * omega) / sin * a_flat + torch.sin(t * omega) / sin * b_flat
    return mixed.to(a.dtype).reshape(a.shape)


def interpolate_latents(a, b, steps: int, mode: Literal["slerp", "linear"] = "slerp"):
    """``steps`` latents from ``a`` to ``b`` (both included), (steps, *a.shape), evenly spaced in ``t``:
    ``slerp`` (:func:`slerp`) or ``linear`` (``(1 - t) a + t b``).

    Raises:
        InvalidSettingError: ``steps`` < 2 or an unknown ``mode``.
    """
    import torch

    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 2:
        raise InvalidSettingError(f"--interpolation_steps must be an integer >= 2, got {steps!r}")
    if mode not in ("slerp", "linear"):
        raise InvalidSettingError(f"--interpolation must be slerp or linear, got {mode!r}")
    ts = [i / (steps - 1) for i in range(steps)]
    if mode == "linear":
        return torch.stack([(1.0 - t) * a + t * b for t in ts])
    return torch.stack([slerp(a, b, t) for t in ts])


def _checkpoint_file(checkpoint: str) -> Path:
    """The checkpoint file ``checkpoint`` names: a file, or a run folder's ``checkpoints/last.ckpt``.

    Raises:
        FileMissingError: nothing there, or a folder without ``checkpoints/last.ckpt``.
    """
    path = Path(checkpoint)
    if path.is_dir():
        for candidate in (path / "checkpoints" / "last.ckpt", path / "last.ckpt"):
            if candidate.is_file():
                return candidate
        raise FileMissingError(
            f"--checkpoint '{path}' is a folder without checkpoints/last.ckpt; give a checkpoint file written by "
            "gan-style fit (e.g. runs/dcgan/checkpoints/last.ckpt)"
        )
    if not path.is_file():
        raise FileMissingError(
            f"--checkpoint '{path}' does not exist; give a checkpoint written by gan-style fit, e.g. "
            "runs/dcgan/checkpoints/last.ckpt"
        )
    return path


def _output_scaling(checkpoint: Path) -> Any:
    """The :class:`~gan_style.io.imagery.Scaling` of the data the checkpoint's model was trained on (its
    ``gan_style_scaling`` entry, domain ``"A"``: the one domain of unconditional data), or None for 8-bit RGB data
    (no entry).

    Raises:
        ModelConfigError: an entry that is not ``{"A": scaling, ...}`` of a valid scaling (one line).
    """
    from gan_style.errors import ModelConfigError
    from gan_style.io.imagery import Scaling
    from gan_style.loading.sources import read_checkpoint
    from gan_style.loading.stylizers import SCALING_KEY

    stored = read_checkpoint(checkpoint).get(SCALING_KEY)
    if stored is None:
        return None
    source = f"checkpoint '{checkpoint}'"
    if not isinstance(stored, dict) or stored.get("A") is None:
        raise ModelConfigError(f"{source}: {SCALING_KEY} must map the domain A to a scaling; the file was not used")
    try:
        return Scaling.from_dict(stored["A"], f"{SCALING_KEY}.A")
    except InvalidSettingError as err:
        raise ModelConfigError(f"{source}: {err}; the file was not used") from None


def sample(
    checkpoint: str,
    num_samples: int = 64,
    seed: int = 0,
    output_dir: str = "samples",
    nrow: int | None = None,
    interpolation: Literal["slerp", "linear"] = "slerp",
    interpolation_steps: int = 10,
    device: str = "auto",
) -> list[Path]:
    """Draw images from an unconditional generator (DCGAN) and write them with a latent interpolation strip.

    The latents come from a ``torch.Generator`` seeded with ``seed`` on the CPU, so a command gives the same images
    on every device and run; ``num_samples`` latents are drawn (at least 2), and sample ``i`` is the generator's
    output for latent ``i`` in eval mode (batch norm with its running statistics: each image depends on its own
    latent only).

    Args:
        checkpoint: a checkpoint written by ``gan-style fit`` of a method that generates from noise (DCGAN), or its
            run folder (``checkpoints/last.ckpt`` inside it).
        num_samples: images to draw, >= 1 (64).
        seed: seed of the latents, >= 0 (0).
        output_dir: the folder written to ("samples"): ``grid.png``, ``sample_0000.png`` ... and
            ``interpolation.png``; files of the same names are replaced. The single samples of a model trained on
            data that is not 8-bit RGB are in the data's values (the checkpoint's recorded scaling inverted):
            ``sample_0000.png`` for uint8 / uint16 data of 1 or 3 bands, ``sample_0000.tif`` for other data.
        nrow: images per row of the grid, >= 1 (None, the default: ``ceil(sqrt(num_samples))``, 8 for 64).
        interpolation: the path between the latents of samples 0 and 1 in ``interpolation.png``: ``slerp``
            (default: spherical, along the sphere Gaussian latents concentrate on; White 2016) or ``linear``.
        interpolation_steps: images in the strip, both ends included, >= 2 (10); its first and last images are
            samples 0 and 1 (up to rounding).
        device: ``auto`` (default: the GPU when there is one), ``cpu`` or ``cuda``.

    Returns:
        The written files: the grid, the single images, the strip.

    Raises:
        FileMissingError: no checkpoint at ``checkpoint`` (or a run folder without ``checkpoints/last.ckpt``).
        UnsafeFileError, ModelConfigError, UnreadableFileError: from the loader (a file that would run code,
            settings outside the trust rules, a truncated or foreign file); ModelConfigError also for a malformed
            recorded scaling.
        InferenceUnavailableError: the checkpoint's method does not generate from noise (a translation method: use
            ``gan-style stylize``).
        InvalidSettingError: ``num_samples``, ``seed``, ``nrow`` or ``interpolation_steps`` out of range, or an
            unknown ``interpolation``.
    """
    for name, value, low in (("num_samples", num_samples, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise InvalidSettingError(f"--{name} must be an integer >= {low}, got {value!r}")
    if nrow is not None and (isinstance(nrow, bool) or not isinstance(nrow, int) or nrow < 1):
        raise InvalidSettingError(f"--nrow must be an integer >= 1, got {nrow!r}")
    if isinstance(interpolation_steps, bool) or not isinstance(interpolation_steps, int) or interpolation_steps < 2:
        raise InvalidSettingError(f"--interpolation_steps must be an integer >= 2, got {interpolation_steps!r}")
    if interpolation not in ("slerp", "linear"):
        raise InvalidSettingError(f"--interpolation must be slerp or linear, got {interpolation!r}")
    path = _checkpoint_file(checkpoint)

    import torch
    from torchvision.utils import make_grid

    from gan_style.data.transforms import to_image
    from gan_style.io.atomic import atomic_write, remove_stale_temporaries
    from gan_style.io.imagery import display_rgb, write_array
    from gan_style.loading import load_method
    from gan_style.methods.dcgan import UnconditionalGenerator

    dev = torch.device(
        "cuda" if device == "auto" and torch.cuda.is_available() else "cpu" if device == "auto" else device
    )
    model = load_method(path, dev)
    if not isinstance(model, UnconditionalGenerator):
        raise InferenceUnavailableError(
            f"checkpoint '{path}' holds a {type(model).__name__}, which translates images rather than drawing them "
            "from noise; gan-style sample needs a generator of noise such as DCGAN (recipes/dcgan.yaml). Use gan-style "
            "stylize for this checkpoint"
        )
    scaling = _output_scaling(path)  # None: 8-bit RGB data, written through Pillow as always
    latents = model.sample_latents(max(num_samples, 2), torch.Generator().manual_seed(seed))
    images = torch.cat([model.generate(chunk).cpu() for chunk in latents.split(_CHUNK)])
    path_latents = interpolate_latents(latents[0], latents[1], interpolation_steps, interpolation)
    strip = model.generate(path_latents).cpu()

    out = Path(output_dir)
    remove_stale_temporaries(out)  # partial files of an earlier, killed sample

    def write(tensor, target: Path) -> Path:
        with atomic_write(target) as f:
            to_image(tensor).save(f, format="PNG")
        return target

    def shown(tensor):  # (N, C, H, W) -> what a picture shows: gray, RGB, or the first three of N bands
        if tensor.shape[1] in (1, 3):
            return tensor  # make_grid repeats a gray band
        return torch.from_numpy(display_rgb(tensor)).permute(0, 3, 1, 2).float() / 127.5 - 1.0

    suffix = ".png"
    if scaling is not None:
        bands = images.shape[1]
        suffix = ".png" if scaling.dtype in ("uint8", "uint16") and bands in (1, 3) else ".tif"

    def write_sample(tensor, target: Path) -> Path:
        if scaling is None:
            return write(tensor, target)
        write_array(target, scaling.from_tensor(tensor))  # atomic; the data's type and bands
        return target

    per_row = nrow or math.ceil(math.sqrt(num_samples))
    grid = make_grid(shown(images[:num_samples]), nrow=per_row, padding=2, pad_value=1.0)
    written = [write(grid, out / "grid.png")]
    digits = max(4, len(str(num_samples - 1)))
    written += [write_sample(images[i], out / f"sample_{i:0{digits}d}{suffix}") for i in range(num_samples)]
    strip_grid = make_grid(shown(strip), nrow=interpolation_steps, padding=2, pad_value=1.0)
    written.append(write(strip_grid, out / "interpolation.png"))
    print(
        f"sample: wrote {num_samples} sample(s) of {images.shape[-1]}x{images.shape[-2]}, grid.png and "
        f"interpolation.png ({interpolation}, {interpolation_steps} steps) to {out}"
    )
    return written


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style sample``: arguments parsed from :func:`sample`'s signature; errors as one line with
    the exit status of :mod:`gan_style.commands.runner`."""
    from gan_style.commands.runner import run_command

    run_command(sample, args, "gan-style sample")
