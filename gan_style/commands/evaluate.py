"""``gan-style evaluate``: image-quality metrics of a folder of generated images, or of every checkpoint of a run.

Examples::

    # translation (CycleGAN): distribution of outputs vs real images of the target domain
    gan-style evaluate --generated runs/cyclegan/predictions --reference datasets/horse2zebra/testB
    # paired translation (pix2pix): outputs vs ground truth, matched by file name
    gan-style evaluate --generated out/ --reference datasets/facades/testB --metrics fid psnr ssim
    # style transfer: ArtFID = (1 + LPIPS to the content) * (1 + FID to the style images)
    gan-style evaluate --generated stylized/ --reference styles/ --content photos/ --metrics artfid lpips_diversity
    # every checkpoint of a run on its test set: a table, a plot against the step, the best one named
    gan-style evaluate --checkpoints runs/cyclegan

Which files are compared with which:

- FID, KID (and ArtFID's FID term): all generated images against all ``--reference`` images, any counts.
  The reference statistics are computed once and cached (``--cache_dir``, default
  ``~/.cache/gan_style/metrics``, following ``$XDG_CACHE_HOME``); they are recomputed when a reference
  file is added, removed or changed.
- PSNR, SSIM: each generated image against the ``--reference`` image with the same name without
  extension (relative path inside the folder, e.g. ``sub/0001.png`` ~ ``sub/0001.jpg``), at native size;
  every generated image needs one.
- LPIPS (and ArtFID's content term): each generated image against its ``--content`` image: the one with the
  same name, else the one whose name is the generated name's prefix before an underscore (``gan-style
  stylize`` writes ``<content>_<style>.png``; the longest such prefix wins). A content image of another
  size is resized to the generated size.
- LPIPS diversity: all pairs of generated images made from the same content image (all pairs in the folder
  without ``--content``; the cost grows with the square of the group size).

The table is printed; ``--output`` also writes it as JSON (atomically).

``--checkpoints RUN`` measures every checkpoint of a run folder instead: see
:mod:`gan_style.commands.checkpoints_eval`.
"""

from __future__ import annotations

import json
import math
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from gan_style.errors import DatasetNotFoundError, ImageLoadError, MetricInputError

if TYPE_CHECKING:  # torch, the metrics and the image loading are imported when the command runs
    from torch import nn

__all__ = ["evaluate", "evaluate_command", "main", "match_files", "sample_grids"]

_BETTER = {
    "fid": "lower",
    "kid": "lower",
    "kid_std": "",
    "lpips": "lower",
    "lpips_diversity": "higher",
    "pixel_diversity": "higher",
    "artfid": "lower",
    "psnr": "higher",
    "ssim": "higher",
}
_DISTRIBUTION = {"fid", "kid", "artfid"}
_PAIRED = {"psnr", "ssim"}
_CONTENT = {"lpips", "artfid"}
_DIVERSITY = {"lpips_diversity", "pixel_diversity"}


def sample_grids(files: Sequence[Path]) -> set[Path]:
    """The grids ``gan-style stylize --num_samples`` writes beside the samples they show: ``<name>_samples.<ext>``
    where ``<name>_sample0.<ext>`` is also among ``files``. They are pictures of several outputs, not outputs,
    and ``evaluate`` leaves them out."""
    present = {p.with_suffix("").as_posix() for p in files}
    return {
        p for p in files if p.stem.endswith("_samples") and p.with_name(p.stem[: -len("s")] + "0").as_posix() in present
    }


def _data_scaling(
    setting: Any, first: Path, fit_files: Sequence[Path], protocol: str
) -> Any:  # gan_style.io.imagery.Scaling
    """The one Scaling every file of a data evaluation goes through: ``setting`` (a Scaling mapping), its bounds
    fitted on ``fit_files`` when it has none, or by default the type of ``first`` over its full range."""
    from gan_style.errors import InvalidSettingError
    from gan_style.io.imagery import Scaling, read_array

    if protocol != "gan-style":
        raise MetricInputError(
            f"--protocol {protocol} is defined on 8-bit RGB files; 16-bit, float and N-band data are measured under "
            "--protocol gan-style"
        )
    if setting is None:
        dtype = str(read_array(first).dtype)
        if dtype.startswith("float"):
            raise InvalidSettingError(
                f"'{first}' holds {dtype} data, whose range is not its type's: give the values that -1 and +1 stand "
                f"for, as --scaling '{{dtype: {dtype}, low: 0.0, high: 1.0}}' (or {{kind: percentile, dtype: "
                f"{dtype}}} to take them from the reference images)"
            )
        return Scaling(dtype=dtype)
    if not isinstance(setting, dict):
        raise InvalidSettingError(
            f"--scaling must be a mapping such as '{{dtype: uint16, low: 0, high: 4095}}', got {setting!r}"
        )
    scaling = Scaling.from_dict(setting if "kind" in setting else {"kind": "range", **setting}, "--scaling")
    return scaling if scaling.fitted else scaling.fit(fit_files)


def _key(path: Path, root: Path) -> str:
    return path.relative_to(root).with_suffix("").as_posix()


def _names(paths: Sequence[Path], root: Path, limit: int = 5) -> str:
    shown = ", ".join(f"'{p.relative_to(root).as_posix()}'" for p in paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def match_files(
    generated: Sequence[Path],
    generated_root: str | os.PathLike,
    others: Sequence[Path],
    others_root: str | os.PathLike,
    what: str,
    prefix: bool = False,
) -> list[tuple[Path, Path]]:
    """Pair each generated file with the file of ``others`` that has the same name without extension
    (relative to its folder); with ``prefix``, else with the one whose name is the generated name's prefix
    before an underscore (``photo_style`` -> ``photo``; the longest prefix wins).

    Returns:
        ``[(generated_file, matched_file), ...]`` in the order of ``generated``.

    Raises:
        DatasetNotFoundError: a generated file has no match (the message names up to five of them) or two
            files of ``others`` share a name.
    """
    gen_root, other_root = Path(generated_root), Path(others_root)
    index: dict[str, Path] = {}
    for path in others:
        key = _key(path, other_root)
        if key in index:
            raise DatasetNotFoundError(
                f"{what} images '{index[key].relative_to(other_root)}' and '{path.relative_to(other_root)}' in "
                f"'{other_root}' have the same name without extension; keep one of them"
            )
        index[key] = path
    pairs, unmatched = [], []
    for path in generated:
        key = _key(path, gen_root)
        match = index.get(key)
        if match is None and prefix:
            cuts = [i for i, ch in enumerate(key) if ch == "_"]
            match = next((index[key[:i]] for i in reversed(cuts) if key[:i] in index), None)
        if match is None:
            unmatched.append(path)
        else:
            pairs.append((path, match))
    if unmatched:
        rule = "the same name without extension" + (" (or the name's prefix before an '_')" if prefix else "")
        raise DatasetNotFoundError(
            f"{len(unmatched)} of {len(generated)} generated image(s) in '{gen_root}' have no {what} image with "
            f"{rule} in '{other_root}': {_names(unmatched, gen_root)}; rename them to match, or remove them"
        )
    return pairs


def _write_json(data: dict[str, Any], path: Path) -> None:
    from gan_style.io.atomic import atomic_write

    with atomic_write(path, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, allow_nan=False)
        f.write("\n")


def _format(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3e}"


def _table(values: dict[str, float]) -> str:
    rows = [("metric", "value", "better")] + [(k, _format(v), _BETTER.get(k, "")) for k, v in values.items()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    return "\n".join(f"{r[0]:<{widths[0]}}  {r[1]:>{widths[1]}}  {r[2]}".rstrip() for r in rows)


def evaluate(
    generated: str | os.PathLike,
    reference: str | os.PathLike | None = None,
    content: str | os.PathLike | None = None,
    metrics: Sequence[str] | None = None,
    size: int | None = 299,
    batch_size: int = 16,
    device: str = "auto",
    output: str | os.PathLike | None = None,
    feature_weights: str | os.PathLike | None = None,
    lpips_net: str = "alex",
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    cache_dir: str | os.PathLike | None = None,
    use_cache: bool = True,
    num_workers: int = 0,
    seed: int = 0,
    feature_network: nn.Module | None = None,
    protocol: Literal["gan-style", "legacy", "clean"] = "gan-style",
    scaling: dict[str, Any] | None = None,
    display_bands: int | Sequence[int] | None = None,
) -> dict[str, float]:
    """Compute image-quality metrics of the images in ``generated`` and print them as a table.

    8-bit gray and RGB files are read as RGB. When a file holds more (16-bit PNG, TIFF, ``.npy``: more bands, more
    levels, floats; :func:`gan_style.metrics.reference.is_data_file`), or ``scaling`` is given, every file keeps
    its type and bands (:func:`gan_style.io.imagery.read_array`) and goes through one
    :class:`~gan_style.io.imagery.Scaling` to [-1, 1]. PSNR, SSIM and pixel diversity then measure in the data's
    true range (PSNR's peak is the scaling's ``high - low``, 65535 for 16-bit data by default), and FID, KID and
    LPIPS see the bands chosen by ``display_bands``; both are recorded in the ``--output`` file (``scaling``,
    ``band_mapping``). Reference statistics of such data are not cached.

    Args:
        generated: folder of generated images (subfolders included).
        reference: real images: the target domain or style images (FID, KID, ArtFID) and the ground
            truth paired by name (PSNR, SSIM).
        content: the images the generated ones were made from (LPIPS, ArtFID, diversity groups).
        metrics: names from :data:`gan_style.metrics.METRIC_NAMES`; default ``fid kid``, plus ``lpips
            artfid`` when ``content`` is given.
        size: FID/KID images are resized to size x size (antialiased bilinear) when loaded; 0 or None feeds
            each image at its own size (the Inception resizes it to 299 itself). PSNR, SSIM and LPIPS
            always use the images' own sizes.
        batch_size: images per forward pass.
        device: ``auto`` (CUDA when available), ``cpu`` or ``cuda`` (``cuda:1`` ...).
        output: also write ``{"metrics": {...}, "generated": ..., "counts": {...}, ...}`` to this JSON file
            (atomically; non-finite values, e.g. the PSNR of identical images, are written as null).
        feature_weights: a local Inception-v3 weights file instead of the hub cache (FID/KID).
        lpips_net: LPIPS backbone ``alex`` (default), ``vgg`` or ``squeeze``.
        kid_subset_size: images per KID subset (shrunk, with a warning, to the number of images).
        kid_subsets: number of KID subsets.
        cache_dir: folder of cached reference statistics (default ``$XDG_CACHE_HOME/gan_style/metrics``).
        use_cache: False neither reads nor writes cached reference statistics.
        num_workers: image-decoding worker processes.
        seed: seeds torch's generator before KID draws its subsets (reproducible values).
        feature_network: (Python only) a FID/KID feature network to use instead of the Inception.
        protocol: how FID and KID read and resize images (``gan-style``, the default: ``size`` above;
            ``legacy``: pytorch-fid's, the CycleGAN, pix2pix and CUT papers' numbers; ``clean``: clean-fid's), see
            :mod:`gan_style.metrics.protocols`. ``legacy`` and ``clean`` resize from each image's own size, and
            take 8-bit RGB files only.
        scaling: how data values map to [-1, 1], a :meth:`gan_style.io.imagery.Scaling.to_dict` mapping (the
            ``scaling`` a run's data module was given, or the bounds its checkpoint stores): ``{dtype: uint16,
            low: 0, high: 4095}``; ``kind`` defaults to ``range``, and a ``percentile`` scaling without bounds is
            fitted on the reference images (else the generated ones). None (default): 8-bit files as RGB; other
            data over its type's full range (float data needs a scaling).
        display_bands: which bands become the R, G, B of the Inception and LPIPS networks (None, the default:
            gray repeated, RGB as it is, the first three of N bands; one band number, shown as gray; or three),
            see :class:`~gan_style.metrics.ImageMetrics`.

    Returns:
        ``{metric: value}`` as printed.

    Raises:
        DatasetNotFoundError: a missing or empty folder, or generated images without a reference/content
            counterpart (named).
        MetricInputError: an unknown metric name, a metric without the folder it needs, too few images,
            ``display_bands`` naming a band the images do not have, or a published protocol on data.
        ImageLoadError: an unreadable image, or a generated image and its paired reference of different sizes.
        InvalidSettingError: a bad ``scaling``, float data without one, or a file of another type than the
            scaling's (named).
        WeightsUnavailableError: Inception or LPIPS weights neither cached nor downloadable.
    """
    import torch
    import torch.nn.functional as F

    from gan_style.data.images import ARRAY_EXTENSIONS, list_images
    from gan_style.metrics import METRIC_NAMES, ImageMetrics, MetricInputError, image_batches
    from gan_style.metrics.reference import is_data_file

    if metrics is None:
        metrics = ["fid", "kid"] + (["lpips", "artfid"] if content is not None else [])
    names = list(dict.fromkeys(metrics))
    unknown = [m for m in names if m not in METRIC_NAMES]
    if unknown or not names:
        raise MetricInputError(
            f"unknown metric name(s) {unknown or '(none given)'} in --metrics; choose from {', '.join(METRIC_NAMES)}"
        )
    wanted = set(names)
    if wanted & (_DISTRIBUTION | _PAIRED) and reference is None:
        which = ", ".join(m for m in names if m in _DISTRIBUTION | _PAIRED)
        raise MetricInputError(f"{which} need(s) --reference (the real, ground-truth or style images)")
    if wanted & _CONTENT and content is None:
        which = ", ".join(m for m in names if m in _CONTENT)
        raise MetricInputError(f"{which} need(s) --content (the images the generated ones were made from)")
    if batch_size < 1:
        raise MetricInputError(f"--batch_size must be at least 1, got {batch_size}")
    if size is not None and size < 0:
        raise MetricInputError(f"--size must be a positive number of pixels, or 0 for the images' own size; got {size}")
    size = size or None
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        dev = torch.device(device)
    except RuntimeError:
        raise MetricInputError(f"--device must be auto, cpu, cuda or cuda:N; got {device!r}") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise MetricInputError("--device cuda was given, but no CUDA device is available; use --device cpu")

    gen_root = Path(generated)
    gen_files = list_images(gen_root, extensions=ARRAY_EXTENSIONS)
    grids = sample_grids(gen_files)
    gen_files = [p for p in gen_files if p not in grids]
    ref_root = Path(reference) if reference is not None else None
    ref_files = (
        list_images(ref_root, extensions=ARRAY_EXTENSIONS)
        if ref_root is not None and wanted & (_DISTRIBUTION | _PAIRED)
        else []
    )
    content_root = Path(content) if content is not None else None
    content_files = list_images(content_root, extensions=ARRAY_EXTENSIONS) if content_root is not None else []
    # match names first: a naming mistake fails in a second, before any network runs
    paired = match_files(gen_files, gen_root, ref_files, ref_root, "reference") if wanted & _PAIRED else []
    with_content = (
        match_files(gen_files, gen_root, content_files, content_root, "content", prefix=True)
        if content_root is not None and wanted & (_CONTENT | _DIVERSITY)
        else []
    )
    groups: dict[Path, list[Path]] = {}  # diversity: the outputs of each content image
    if wanted & _DIVERSITY:
        which = " and ".join(m for m in names if m in _DIVERSITY)
        for gen, cont in with_content or [(p, gen_root) for p in gen_files]:
            groups.setdefault(cont, []).append(gen)
        if not any(len(g) > 1 for g in groups.values()):
            raise MetricInputError(
                f"{which} needs at least two generated images made from the same content image; each "
                f"content image in '{content_root}' has at most one"
                if content_root is not None
                else f"{which} needs at least two images in '{gen_root}'"
            )
    # data beyond 8-bit RGB: every file keeps its type and bands, through one declared scaling
    data_scaling = None
    if scaling is not None or any(is_data_file(p) for p in (*gen_files, *ref_files, *content_files)):
        data_scaling = _data_scaling(scaling, gen_files[0], ref_files or gen_files, protocol)
    if display_bands is not None:  # checked against the generated files' bands, before any network runs
        from gan_style.io.imagery import display_band_indices, read_array

        count = read_array(gen_files[0]).shape[-1] if data_scaling is not None else 3
        try:
            display_band_indices(display_bands, count)
        except ValueError as err:
            raise MetricInputError(f"--display_bands: {err} ('{gen_files[0]}')") from None

    kwargs: dict[str, Any] = {"feature_network": feature_network}
    if feature_weights is not None:
        kwargs["feature_weights"] = feature_weights
    evaluator = ImageMetrics(
        metrics=names,
        lpips_net=lpips_net,  # type: ignore[arg-type]
        kid_subset_size=kid_subset_size,
        kid_subsets=kid_subsets,
        protocol=protocol,
        display_bands=display_bands,
        **kwargs,
    ).to(dev)
    fid_size = size if evaluator.protocol == "gan-style" else None  # the published protocols resize themselves

    def batches(items: Sequence[tuple[Path, ...]], sizes: list[int | None], count: int = batch_size) -> Any:
        return image_batches(items, sizes, count, num_workers, scaling=data_scaling)

    if wanted & _DISTRIBUTION:
        if data_scaling is None:
            evaluator.load_reference(
                ref_root,
                size=fid_size,
                batch_size=batch_size,
                cache_dir=cache_dir,
                use_cache=use_cache,
                num_workers=num_workers,
            )
        else:  # statistics of data are not cached: the scaling is part of what they depend on
            for (batch,) in batches([(p,) for p in ref_files], [fid_size]):
                evaluator.update_distribution(reference=batch.to(dev))
        for (batch,) in batches([(p,) for p in gen_files], [fid_size]):
            evaluator.update_distribution(generated=batch.to(dev))
    done = 0
    for gen, ref in batches(paired, [None, None]):
        if gen.shape != ref.shape:
            gen_file, ref_file = paired[done]
            raise ImageLoadError(
                f"PSNR/SSIM compare images of the same size, but generated '{gen_file}' is "
                f"{gen.shape[-1]}x{gen.shape[-2]} and its reference '{ref_file}' {ref.shape[-1]}x{ref.shape[-2]}; "
                "resize one folder to the other's size"
            )
        evaluator.update_paired(gen.to(dev), ref.to(dev))
        done += gen.shape[0]
    if wanted & _CONTENT:
        for gen, cont in batches(with_content, [None, None]):
            evaluator.update_content(gen.to(dev), cont.to(dev))
    if wanted & _DIVERSITY:
        for files in groups.values():
            if len(files) > 1:
                images = [t for (t,) in batches([(p,) for p in files], [None], 1)]
                h, w = images[0].shape[-2:]
                resized = [
                    t
                    if t.shape[-2:] == (h, w)
                    else F.interpolate(t, size=(h, w), mode="bilinear", align_corners=False, antialias=True)
                    for t in images
                ]
                evaluator.update_diversity(torch.cat(resized).to(dev))

    torch.manual_seed(seed)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        values = evaluator.compute()
    for warning in caught:  # e.g. the KID subset size shrunk to the number of images
        print(f"gan-style evaluate: note: {warning.message}", file=sys.stderr)
    if grids:
        print(f"gan-style evaluate: note: left out {len(grids)} sample grid(s) (<name>_samples)", file=sys.stderr)
    print(
        f"gan-style evaluate: {len(gen_files)} generated image(s) in {gen_root}"
        + (f"; reference {ref_root} ({len(ref_files)})" if ref_files else "")
        + (f"; content {content_root} ({len(content_files)})" if content_files else "")
    )
    print(_table(values))
    if output is not None:
        record = {
            "metrics": {k: (v if math.isfinite(v) else None) for k, v in values.items()},
            "generated": str(gen_root),
            "reference": str(ref_root) if ref_root is not None else None,
            "content": str(content_root) if content_root is not None else None,
            "counts": {"generated": len(gen_files), "reference": len(ref_files), "content": len(content_files)},
            "size": size,
            "feature_network": (
                None
                if evaluator.feature_network is None
                else str(getattr(evaluator.feature_network, "weights_path", type(evaluator.feature_network).__name__))
            ),
            "lpips_net": lpips_net if wanted & (_CONTENT | {"lpips_diversity"}) else None,
            "scaling": None if data_scaling is None else data_scaling.to_dict(),
            "band_mapping": evaluator.record()["band_mapping"],
            "kid_subset_size": kid_subset_size if "kid" in wanted else None,
            "kid_subsets": kid_subsets if "kid" in wanted else None,
        }
        if wanted & _DISTRIBUTION:
            record["protocol_record"] = evaluator.record()  # protocol, feature network, sample counts
        _write_json(record, Path(output))
        print(f"wrote {output}")
    return values


def _metric_list(values: Sequence[str]) -> list[str]:
    """``fid kid``, ``fid,kid`` and ``[fid,kid]`` all mean the same."""
    names: list[str] = []
    for value in values:
        names += [v.strip() for v in value.strip("[]").split(",") if v.strip()]
    return names


def evaluate_command(
    generated: str | None = None,
    reference: str | None = None,
    content: str | None = None,
    metrics: list[str] | None = None,
    size: int | None = 299,
    batch_size: int = 16,
    device: str = "auto",
    output: str | None = None,
    feature_weights: str | None = None,
    lpips_net: Literal["alex", "vgg", "squeeze"] = "alex",
    kid_subset_size: int = 1000,
    kid_subsets: int = 100,
    cache_dir: str | None = None,
    no_cache: bool = False,
    num_workers: int = 0,
    seed: int = 0,
    checkpoints: str | None = None,
    select: str | None = None,
    data_root: str | None = None,
    max_images: int | None = None,
    keep_images: bool = False,
    protocol: Literal["gan-style", "legacy", "clean"] = "gan-style",
    scaling: dict[str, Any] | None = None,
    display_bands: int | list[int] | None = None,
) -> dict[str, Any]:
    """FID, KID, LPIPS, ArtFID, PSNR and SSIM of a folder of generated images, or of every checkpoint of a run
    (``gan-style evaluate``).

    Which files are compared with which, and the reference cache: see :mod:`gan_style.commands.evaluate`
    (docs/evaluation.md). The table is printed; ``--output`` also writes it as JSON. With ``--checkpoints RUN``,
    every checkpoint of the run folder is measured on the run's test set
    (:func:`gan_style.commands.checkpoints_eval.evaluate_checkpoints`): the table, ``checkpoints.csv``,
    ``checkpoints.json`` and the plot ``checkpoints.png`` go to ``RUN/evaluation/``, and the best checkpoint is
    named.

    Args:
        generated: folder of generated images (subfolders included); required unless ``--checkpoints`` is given.
        reference: real / ground-truth / style images: FID, KID and ArtFID compare distributions with them,
            PSNR and SSIM pair them with the generated images by name (default: none).
        content: the images the generated ones were made from: LPIPS, ArtFID, diversity groups (default:
            none).
        metrics: any of fid, kid, lpips, lpips_diversity, pixel_diversity, artfid, psnr, ssim, as
            ``--metrics fid psnr``,
            ``--metrics fid,psnr`` or ``--metrics [fid,psnr]`` (default: fid kid, plus lpips artfid with
            ``--content``).
        size: FID/KID images are resized to size x size; 0 or null keeps each image's own size (default 299).
        batch_size: images per forward pass (default 16).
        device: auto, cpu, cuda or cuda:N (default auto: CUDA when available).
        output: also write the metrics to this JSON file (default: none).
        feature_weights: a local Inception-v3 FID weights file instead of the hub cache (default: none).
        lpips_net: LPIPS backbone (default alex).
        kid_subset_size: images per KID subset (default 1000; shrunk to the number of images).
        kid_subsets: number of KID subsets (default 100).
        cache_dir: folder of cached reference statistics (default ``~/.cache/gan_style/metrics``, following
            ``$XDG_CACHE_HOME``).
        no_cache: neither read nor write cached reference statistics (default false; ``--no_cache`` alone
            means true).
        num_workers: image-decoding worker processes (default 0).
        seed: seed of the KID subsets (default 0); with ``--checkpoints`` also of the models' random layers.
        checkpoints: a run folder (``trainer.default_root_dir``): measure each of its ``checkpoints/*.ckpt`` on the
            test set of the config it carries, instead of ``--generated`` (default: none). Finished checkpoints are
            cached by the sha256 of their file, so a second call measures only new ones.
        select: with ``--checkpoints``, the metric that picks the best checkpoint (default: the first of
            ``--metrics``; the default metrics are fid kid for unpaired data, fid kid psnr ssim for paired data,
            artfid fid lpips for style transfer).
        data_root: with ``--checkpoints``, another dataset folder with the run's layout (default: the run's own
            ``data.root``).
        max_images: with ``--checkpoints``, only the first N test images (default: all).
        keep_images: with ``--checkpoints``, keep each checkpoint's outputs in ``RUN/evaluation/images/`` (default
            false; ``--keep_images`` alone means true).
        protocol: how FID and KID read and resize images (default ``gan-style``: ``--size``); ``legacy``: as
            pytorch-fid, the CycleGAN, pix2pix and CUT papers' numbers; ``clean``: as clean-fid (docs/evaluation.md).
        scaling: for 16-bit, float or N-band files, how their values map to [-1, 1], as a data module's
            ``scaling``: ``--scaling '{dtype: uint16, low: 0, high: 4095}'`` (default: none; 8-bit files are read as
            RGB, other integer data over its type's full range). PSNR and SSIM measure in that range.
        display_bands: which bands the Inception and LPIPS networks see as R, G, B: one band number (as gray) or
            three, ``--display_bands [3,2,1]`` (default: none; gray repeated, the first three of N bands; with
            ``--checkpoints``, the run's data ``display_bands``).

    Returns:
        ``{metric: value}`` as printed; with ``--checkpoints``, the record written to ``checkpoints.json``.

    Raises:
        MetricInputError: both or neither of ``--generated`` and ``--checkpoints``, or an option of one given to
            the other.
    """
    if (generated is None) == (checkpoints is None):
        raise MetricInputError(
            "give --generated FOLDER (images to measure) or --checkpoints RUN (every checkpoint of a run folder), "
            "one of them"
        )
    common: dict[str, Any] = dict(  # the settings both measurements take
        metrics=_metric_list(metrics) if metrics else None,
        size=size,
        batch_size=batch_size,
        device=device,
        feature_weights=feature_weights,
        lpips_net=lpips_net,
        kid_subset_size=kid_subset_size,
        kid_subsets=kid_subsets,
        cache_dir=cache_dir,
        use_cache=not no_cache,
        seed=seed,
        protocol=protocol,
        display_bands=display_bands,
    )
    if checkpoints is not None:
        if reference is not None or content is not None:
            raise MetricInputError(
                "--checkpoints measures a run on the test set its config names; leave out --reference and --content "
                "(another dataset: --data_root)"
            )
        if scaling is not None:
            raise MetricInputError("--checkpoints measures in the scaling the run stores; leave out --scaling")
        from gan_style.commands.checkpoints_eval import evaluate_checkpoints

        record = evaluate_checkpoints(
            checkpoints,
            select=select,
            data_root=data_root,
            max_images=max_images,
            keep_images=keep_images,
            **common,
        )
        if output is not None:
            _write_json(record, Path(output))
            print(f"wrote {output}")
        return record
    if select is not None or data_root is not None or max_images is not None or keep_images:
        raise MetricInputError("--select, --data_root, --max_images and --keep_images go with --checkpoints RUN")
    return evaluate(
        generated=generated,
        reference=reference,
        content=content,
        output=output,
        num_workers=num_workers,
        scaling=scaling,
        **common,
    )


def main(args: list[str] | None = None) -> None:
    """Entry point of ``gan-style evaluate``: arguments parsed from :func:`evaluate_command`'s signature
    (``--metrics fid psnr`` and ``--no_cache`` alone are accepted, see
    :func:`gan_style.commands.runner.flag_form`); errors as one line with the exit status of
    :mod:`gan_style.commands.runner` (2 for a missing folder, unmatched names, an unknown metric or a
    malformed argument; 1 for missing weights or an output that cannot be written)."""
    from gan_style.commands.runner import flag_form, run_command

    args = flag_form(args, lists=["metrics"], switches=["no_cache", "keep_images"])
    run_command(evaluate_command, args, "gan-style evaluate")


if __name__ == "__main__":
    main(sys.argv[1:])
