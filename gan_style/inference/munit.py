"""MUNIT and UNIT inference: :class:`MUNITStylizer` (diverse and example-guided translation), its export form
:class:`MUNITExport`, and :class:`UNITStylizer` (deterministic translation through the shared latent space).

They live below :mod:`gan_style.methods` so that running a trained model imports no training code (Lightning, the
methods); :class:`gan_style.methods.munit.MUNIT` and :class:`gan_style.methods.unit.UNIT` hand them out through
``stylizer()``.

Images are float tensors in [-1, 1], (N, C, H, W); H and W multiples of the generators' ``size_multiple`` (4 at the
defaults).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from gan_style.inference.stylizer import ExportModule, Stylizer, size_multiple_of

__all__ = ["MUNITExport", "MUNITStylizer", "UNITStylizer", "random_style_code"]


def _check_index(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{name} must be an integer >= 0, got {value!r}")
    return value


def random_style_code(style_dim: int, seed: int = 0, sample_index: int = 0) -> Tensor:
    """The ``sample_index``-th style code of ``seed``: (1, style_dim, 1, 1) float32 on the CPU, drawn from the
    prior N(0, I) of MUNIT's style codes with a ``torch.Generator`` seeded ``seed``, as row ``sample_index`` of a
    (sample_index + 1, style_dim) draw: sample k of a seed is the same whatever the number of samples asked for,
    on every device, and the global random state is not touched.

    Raises:
        ValueError: ``seed`` or ``sample_index`` not an integer >= 0.
    """
    _check_index("seed", seed)
    _check_index("sample_index", sample_index)
    generator = torch.Generator().manual_seed(seed)
    codes = torch.randn(sample_index + 1, style_dim, generator=generator)
    return codes[sample_index].view(1, style_dim, 1, 1)


class MUNITStylizer(Stylizer):
    """MUNIT translation from the source domain to the target domain (Huang et al. 2018):
    ``x' = G_t(E^c_s(x), s)``, with the style code ``s`` drawn from N(0, I) (diverse outputs) or encoded from an
    example image of the target domain (``s = E^s_t(y)``, example-guided translation).

    ``forward(content, styles=None, seed=None, sample_index=None)``:

    - ``content``: (N, C, H, W) in [-1, 1], H and W multiples of :attr:`size_multiple`;
    - ``styles``: None (a random style), or a list of one example image of the target domain, (1 or N, C, h, w) in
      [-1, 1], any size of at least 16 x 16 (the style encoder pools globally); its style code is used for every
      content image (for N examples, pairwise);
    - ``seed`` (int >= 0; None: the stylizer's ``seed``, 0 by default) and ``sample_index`` (int >= 0; None: 0)
      choose the random style code, :func:`random_style_code`: one code for the whole batch, so a clip's frames,
      an image's tiles and every content image of a call share it. Outputs 0..K-1 of one seed are K diverse
      translations; the same (seed, sample_index) always gives the same output. Refused together with ``styles``.

    Returns (N, C, H, W) in [-1, 1].

    What callers read (the :class:`~gan_style.inference.Stylizer` contract):

    - ``stochastic = True``: outputs depend on a drawn style code, chosen by the ``seed`` control; the doors
      (``stylize --num_samples K --seed S``, ``Pipeline.samples``, the demo) draw sample k with seed S + k;
    - ``takes_style = True`` with ``style_optional = True``: one example image may be given as ``styles``, or none;
    - ``controls = ("seed", "sample_index")``: the seed, and the row of that seed's draw (0 by default);
      :meth:`samples` gives K samples of one seed as rows 0..K-1;
    - tiles: the instance-norm and AdaIN layers use the whole image's statistics (the default plan), the decoder's
      layer norms each tile's own (their statistics span all channels and pixels of the tile);
    - :meth:`export_module`: inputs ``image`` and ``style_code`` (N, style_dim), see :class:`MUNITExport`.

    Args:
        source: the source domain's generator (:class:`~gan_style.nets.munit.MUNITGenerator`); its content encoder
            runs.
        target: the target domain's generator; its style encoder, MLP and decoder run.
        seed: the seed used when a call gives none (0).
        name: how messages call it ("MUNIT").

    Raises:
        ValueError: ``seed`` not an integer >= 0.
    """

    takes_style = True
    style_optional = True
    stochastic = True
    controls = ("seed", "sample_index")

    def __init__(self, source: nn.Module, target: nn.Module, seed: int = 0, name: str = "MUNIT") -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.seed = _check_index("seed", seed)
        self.size_multiple = max(size_multiple_of(source), size_multiple_of(target))
        self.tile_multiple = self.size_multiple
        self.name = name

    @property
    def style_dim(self) -> int:
        """Length of the style code (8 in the paper)."""
        return int(self.target.style_dim)

    def describe(self) -> str:
        return self.name

    def check_inputs(self, styles: Sequence[Tensor] | None, controls: dict[str, Any]) -> None:
        """Refuse unknown controls, more than one style image, and a style image together with ``seed`` /
        ``sample_index``.

        Raises:
            ValueError: as above, naming the options.
        """
        super().check_inputs(None, controls)
        if styles:
            if len(styles) != 1:
                raise ValueError(f"{self.name} takes one --style image (its style code), got {len(styles)}")
            given = [f"--{k}" for k in self.controls if controls.get(k) is not None]
            if given:
                raise ValueError(
                    f"{self.name} takes its style from the --style image or from {' / '.join(given)} (a random "
                    "style), not both"
                )

    def style_code(
        self, styles: Sequence[Tensor] | None = None, seed: int | None = None, sample_index: int | None = None
    ) -> Tensor:
        """The style code a call uses: ``E^s_t(styles[0])`` (1 or N, style_dim, 1, 1), or :func:`random_style_code`
        (1, style_dim, 1, 1) of ``seed`` (None: the stylizer's) and ``sample_index`` (None: 0), on the target
        generator's device and dtype.

        Raises:
            ValueError: ``seed`` or ``sample_index`` not an integer >= 0.
        """
        if styles:
            return self.target.encode_style(styles[0])
        weight = next(self.target.parameters())
        code = random_style_code(self.style_dim, self.seed if seed is None else seed, sample_index or 0)
        return code.to(device=weight.device, dtype=weight.dtype)

    def run(
        self, content: Tensor, styles: list[Tensor], seed: int | None = None, sample_index: int | None = None
    ) -> Tensor:
        code = self.style_code(styles, seed, sample_index)
        c = self.source.encode_content(content)
        if code.shape[0] == 1 and c.shape[0] > 1:
            code = code.expand(c.shape[0], *code.shape[1:])
        elif code.shape[0] != c.shape[0]:
            raise ValueError(
                f"{self.name} takes 1 style image or one per content image, got {code.shape[0]} for {c.shape[0]}"
            )
        return self.target.decode(c, code.to(c.dtype)).clamp(-1.0, 1.0)

    def samples(self, content: Tensor, num_samples: int, seed: int | None = None) -> Tensor:
        """``num_samples`` diverse translations of each content image: (num_samples, N, C, H, W) in [-1, 1], sample
        k with the random style code (seed, k). The content is encoded once.

        Raises:
            ValueError: ``num_samples`` below 1, or a bad ``seed``.
        """
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples < 1:
            raise ValueError(f"num_samples must be an integer >= 1, got {num_samples!r}")
        c = self.source.encode_content(content)
        outputs = []
        for k in range(num_samples):
            code = self.style_code(None, seed, k).expand(c.shape[0], -1, -1, -1)
            outputs.append(self.target.decode(c, code.to(c.dtype)).clamp(-1.0, 1.0))
        return torch.stack(outputs)

    def export_module(self) -> MUNITExport:
        """:class:`MUNITExport`: ``image`` and ``style_code`` in, the translation out."""
        return MUNITExport(self)


class MUNITExport(ExportModule):
    """Export form of :class:`MUNITStylizer`: ``image`` (N, C, H, W) in [-1, 1] and ``style_code`` (N, style_dim)
    -> ``output`` (N, C, H, W) in [-1, 1]. A random translation takes a code drawn from N(0, I); an example-guided
    one needs the style encoder, which is not part of the exported graph.

    Args:
        stylizer: the :class:`MUNITStylizer` to export.
    """

    input_names = ("image", "style_code")

    def __init__(self, stylizer: MUNITStylizer) -> None:
        super().__init__()
        self.stylizer = stylizer

    def forward(self, image: Tensor, style_code: Tensor) -> Tensor:
        content = self.stylizer.source.encode_content(image)
        return self.stylizer.target.decode(content, style_code).clamp(-1.0, 1.0)

    def example_inputs(self, batch: int, height: int, width: int, generator: torch.Generator) -> tuple[Tensor, ...]:
        channels = self.stylizer.source.enc_content.model[0].conv.in_channels
        image = torch.rand(batch, channels, height, width, generator=generator) * 2 - 1
        return image, torch.randn(batch, self.stylizer.style_dim, generator=generator)

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        image = {0: "batch", 2: "height", 3: "width"}
        return {"image": image, "style_code": {0: "batch"}, "output": dict(image)}

    def notes(self) -> list[str]:
        return [
            f"style_code: {self.stylizer.style_dim} numbers per image; draw them from N(0, 1) for a random "
            "translation (the paper's prior). Encoding an example image's style is not part of this graph."
        ]

    def metadata(self) -> dict[str, Any]:
        return {"style_dim": self.stylizer.style_dim, "style_prior": "N(0, I)"}


class UNITStylizer(Stylizer):
    """UNIT translation (Liu et al. 2017, Sec. 2): ``x' = G_t(E_s(x))``, the source encoder's mean decoded by the
    target generator; deterministic (the code's eval-mode translation, no latent noise).

    ``forward(content)``: (N, C, H, W) in [-1, 1], H and W multiples of :attr:`size_multiple` -> (N, C', H, W) in
    [-1, 1]. No style input, no controls; exported as one image in, one out.

    Args:
        source: the source domain's :class:`~gan_style.nets.munit.UNITGenerator` (its encoder runs).
        target: the target domain's generator (its decoder runs).
        name: how messages call it ("UNIT").
    """

    def __init__(self, source: nn.Module, target: nn.Module, name: str = "UNIT") -> None:
        super().__init__()
        self.source = source
        self.target = target
        self.size_multiple = max(size_multiple_of(source), size_multiple_of(target))
        self.tile_multiple = self.size_multiple
        self.name = name

    def describe(self) -> str:
        return self.name

    def run(self, content: Tensor, styles: list[Tensor], **controls: Any) -> Tensor:
        return self.target.decode(self.source.encode(content)).clamp(-1.0, 1.0)
