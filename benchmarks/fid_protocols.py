"""FID and KID of gan-style's ``legacy`` and ``clean`` protocols beside pytorch-fid and clean-fid, on the same
folders and the same Inception weights; one JSON line per protocol, with the absolute differences.

    python benchmarks/fid_protocols.py                                   # bundled sample crops, random weights
    python benchmarks/fid_protocols.py --generated out/ --reference datasets/horse2zebra/testB --weights real

Rows (``protocol``):

- ``legacy``: gan-style ``ImageMetrics(protocol="legacy")`` against pytorch-fid's
  ``calculate_fid_given_paths`` (batch size 1, so images of different sizes work). pytorch-fid has no KID:
  ``reference.kid`` is clean-fid's ``kernel_distance`` on pytorch-fid's own features.
- ``clean``: gan-style ``ImageMetrics(protocol="clean")`` against clean-fid's ``compute_fid`` /
  ``compute_kid`` (``mode="clean"``).
- ``gan-style``: gan-style's default protocol, for scale (no other implementation).

Fields: ``gan_style`` and ``reference`` hold ``fid``, ``kid`` (and gan-style's ``kid_std``) and ``seconds``
(gan-style: FID and KID together; the package: its FID); ``fid_abs_diff``, ``kid_abs_diff`` their absolute
differences; ``images`` the counts; ``weights``: ``random`` or ``real``; ``weights_files`` the file each side
read.

Weights (``--weights``):

- ``random`` (default when the real files are missing): one random-weight Inception-v3 in the published layout,
  written where each package looks for it in a temporary ``$TORCH_HOME`` (gan-style's
  ``weights-inception-2015-12-05-6726825d.pth``, pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth``) and,
  for clean-fid, as a TorchScript ``inception-2015-12-05.pt`` with the call signature of the file it
  downloads, in a temporary folder that clean-fid's ``InceptionV3W`` is pointed to. As in
  ``tests/test_protocols.py``, only 8 of the 2048 features vary, which keeps the matrix square roots real.
- ``real``: the published files: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` in the torch hub cache
  (gan-style and pytorch-fid read it) and clean-fid's ``/tmp/inception-2015-12-05.pt`` (NVIDIA's TorchScript
  port of the same TensorFlow network). ``auto`` picks ``real`` when both are there.

KID draws random subsets of ``min(1000, images)`` images; when both folders hold the same number of images,
up to 1000, each subset is both whole sets and the values are deterministic; otherwise the two
implementations draw different subsets and their KIDs differ by that sampling.

Needs ``pip install pytorch-fid clean-fid`` (in the ``dev`` extra). FID under ``legacy`` and ``clean`` takes a
2048 x 2048 ``scipy.linalg.sqrtm``, tens of seconds per FID on a CPU, on both sides.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import warnings
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from gan_style.data.images import list_images
from gan_style.metrics import ImageMetrics, image_batches

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "examples" / "data" / "photo2painting"
PYTORCH_FID_FILE = "pt_inception-2015-12-05-6726825d.pth"
GAN_STYLE_FILE = "weights-inception-2015-12-05-6726825d.pth"
CLEANFID_FILE = "inception-2015-12-05.pt"
SIZES = [(299, 299), (64, 80), (200, 120), (286, 286), (400, 250), (150, 286), (97, 213), (320, 180), (50, 50)]
SIZES += [(260, 300)]
ACTIVE_FEATURES = 8


# --- copied from tests/test_protocols.py (random_fid_inception_state, _CleanFidInception, _crops); keep in step
def random_fid_inception_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights in the FID Inception-v3 layout, 8 varying features (see tests/test_protocols.py)."""
    import torchvision

    torch.manual_seed(seed)
    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
    last = ("branch1x1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool")
    state = {}
    for key, value in net.state_dict().items():
        if key.endswith("conv.weight"):
            value = value * 6**0.5
        elif key.endswith("running_mean"):
            value = torch.randn_like(value) * 0.1
        elif key.endswith("running_var"):
            value = torch.rand_like(value) + 0.5
        if any(key in (f"Mixed_7c.{b}.bn.weight", f"Mixed_7c.{b}.bn.bias") for b in last):
            value = value.clone()
            value[ACTIVE_FEATURES if ".branch1x1." in key else 0 :] = 0
            value[:ACTIVE_FEATURES] *= 20  # FIDs of tens, as with the published weights
        state[key] = value
    return state


class _CleanFidInception(nn.Module):
    """The call signature of clean-fid's TorchScript Inception (``layers`` and ``forward(x, return_features)``)."""

    def __init__(self, layers: nn.Module) -> None:
        super().__init__()
        self.layers = layers

    def forward(self, x: torch.Tensor, return_features: bool = False) -> torch.Tensor:
        x = nn.functional.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        return self.layers((x - 128) / 128).flatten(1)


def _crops(sources: list[Path], folder: Path) -> Path:
    folder.mkdir(parents=True)
    for i, (source, (w, h)) in enumerate(zip(sources, SIZES)):
        with Image.open(source) as img:
            img = img.convert("RGB")
            if img.width < w or img.height < h:
                img = img.resize((max(w, img.width), max(h, img.height)), Image.Resampling.LANCZOS)
            left, top = (img.width - w) // 2, (img.height - h) // 2
            img.crop((left, top, left + w, top + h)).save(folder / f"{i:02d}.png")
    return folder


# --- end of the copy


def _sample_folders(tmp: Path) -> tuple[Path, Path]:
    photos = sorted((SAMPLE_ROOT / "trainA").glob("*.jpg")) + sorted((SAMPLE_ROOT / "testA").glob("*.jpg"))
    paintings = sorted((SAMPLE_ROOT / "trainB").glob("*.jpg"))
    return _crops(photos[: len(SIZES)], tmp / "generated"), _crops(paintings[: len(SIZES)], tmp / "reference")


def _random_weights(tmp: Path) -> Path:
    """Write the random network where gan-style, pytorch-fid and clean-fid look; returns clean-fid's folder."""
    from pytorch_fid.inception import InceptionV3

    os.environ["TORCH_HOME"] = str(tmp / "torch")
    checkpoints = tmp / "torch" / "hub" / "checkpoints"
    checkpoints.mkdir(parents=True)
    state = random_fid_inception_state()
    torch.save(state, checkpoints / PYTORCH_FID_FILE)
    torch.save(state, checkpoints / GAN_STYLE_FILE)
    blocks = InceptionV3([3], resize_input=False, normalize_input=False).eval().blocks
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; clean-fid's file is TorchScript
        layers = torch.jit.trace(nn.Sequential(*blocks), torch.zeros(1, 3, 299, 299), check_trace=False)
        folder = tmp / "cleanfid"
        folder.mkdir()
        torch.jit.save(torch.jit.script(_CleanFidInception(layers)), str(folder / CLEANFID_FILE))
    return folder


def _point_cleanfid_to(folder: Path) -> None:
    from cleanfid import features
    from cleanfid.inception_torchscript import InceptionV3W

    class Redirected(InceptionV3W):
        def __init__(self, path, download=True, resize_inside=False):
            super().__init__(str(folder), download=download, resize_inside=resize_inside)

    features.InceptionV3W = Redirected


def _gan_style(protocol: str, generated: Path, reference: Path, weights: str | None, subset: int) -> dict[str, Any]:
    start = time.perf_counter()
    kwargs = {"feature_weights": weights} if weights else {}
    metrics = ImageMetrics(("fid", "kid"), protocol=protocol, kid_subset_size=subset, **kwargs)
    metrics.load_reference(reference, size=metrics.input_size, use_cache=False)
    for (batch,) in image_batches([(p,) for p in list_images(generated)], [metrics.input_size]):
        metrics.update_distribution(generated=batch)
    torch.manual_seed(0)
    values = metrics.compute()
    return {**values, "record": metrics.record(), "seconds": time.perf_counter() - start}


def _pytorch_fid(generated: Path, reference: Path) -> dict[str, Any]:
    from cleanfid.fid import kernel_distance
    from pytorch_fid import fid_score
    from pytorch_fid.inception import InceptionV3

    start = time.perf_counter()
    fid = fid_score.calculate_fid_given_paths([str(generated), str(reference)], 1, "cpu", 2048, num_workers=0)
    seconds = time.perf_counter() - start
    model = InceptionV3([3]).eval()
    extensions = fid_score.IMAGE_EXTENSIONS
    acts = [
        fid_score.get_activations(sorted(f for e in extensions for f in d.glob(f"*.{e}")), model, 1, num_workers=0)
        for d in (generated, reference)
    ]
    np.random.seed(0)
    kid = kernel_distance(acts[0].astype(np.float32), acts[1].astype(np.float32))
    return {
        "fid": float(fid),
        "kid": kid,
        "seconds": seconds,
        "implementation": f"pytorch-fid {version('pytorch-fid')}",
    }


def _clean_fid(generated: Path, reference: Path) -> dict[str, Any]:
    from cleanfid import fid as cleanfid_fid

    options = {"mode": "clean", "num_workers": 0, "batch_size": 8, "device": torch.device("cpu"), "verbose": False}
    start = time.perf_counter()
    fid = cleanfid_fid.compute_fid(str(generated), str(reference), use_dataparallel=False, **options)
    seconds = time.perf_counter() - start
    np.random.seed(0)
    kid = cleanfid_fid.compute_kid(str(generated), str(reference), use_dataparallel=False, **options)
    return {
        "fid": float(fid),
        "kid": float(kid),
        "seconds": seconds,
        "implementation": f"clean-fid {version('clean-fid')}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generated", type=Path, help="folder of generated images (default: bundled sample crops)")
    parser.add_argument("--reference", type=Path, help="folder of reference images (default: bundled sample crops)")
    parser.add_argument("--weights", choices=("auto", "random", "real"), default="auto")
    parser.add_argument("--protocols", nargs="+", default=["legacy", "clean", "gan-style"])
    args = parser.parse_args()
    if (args.generated is None) != (args.reference is None):
        parser.error("give both --generated and --reference, or neither")

    hub = Path(torch.hub.get_dir()) / "checkpoints"
    real = (hub / PYTORCH_FID_FILE).is_file() and Path("/tmp", CLEANFID_FILE).is_file()
    weights = "real" if args.weights == "real" or (args.weights == "auto" and real) else "random"
    if weights == "real" and not real:
        parser.error(f"--weights real needs {hub / PYTORCH_FID_FILE} and /tmp/{CLEANFID_FILE}")
    warnings.filterwarnings("ignore", category=DeprecationWarning)  # pytorch-fid: scipy's sqrtm(disp=False)
    warnings.filterwarnings("ignore", message=".*Matrix is singular.*")  # fewer images than features
    warnings.filterwarnings("ignore", message=".*torch.jit.*")  # clean-fid loads a TorchScript file

    with tempfile.TemporaryDirectory(prefix="gan_style_fid_protocols_") as name:
        tmp = Path(name)
        generated, reference = (args.generated, args.reference) if args.generated else _sample_folders(tmp)
        gan_style_weights = str(hub / PYTORCH_FID_FILE) if weights == "real" else None
        cleanfid_dir = Path("/tmp")
        if weights == "random":
            cleanfid_dir = _random_weights(tmp)
            _point_cleanfid_to(cleanfid_dir)
        checkpoints = Path(torch.hub.get_dir()) / "checkpoints"
        files = {
            "gan-style": gan_style_weights or str(checkpoints / GAN_STYLE_FILE),
            "legacy": str(checkpoints / PYTORCH_FID_FILE),
            "clean": str(cleanfid_dir / CLEANFID_FILE),
        }
        counts = {"generated": len(list_images(generated)), "reference": len(list_images(reference))}
        subset = min(1000, *counts.values())
        for protocol in args.protocols:
            ours = _gan_style(protocol, generated, reference, gan_style_weights, subset)
            row: dict[str, Any] = {
                "protocol": protocol,
                "weights": weights,
                "images": counts,
                "kid_subset_size": subset,
                "weights_files": {"gan_style": files["gan-style"]},
            }
            row["gan_style"] = {k: ours[k] for k in ("fid", "kid", "kid_std", "seconds")}
            theirs = {"legacy": _pytorch_fid, "clean": _clean_fid}.get(protocol)
            if theirs is not None:
                row["reference"] = theirs(generated, reference)
                row["weights_files"]["reference"] = files[protocol]
                row["fid_abs_diff"] = abs(ours["fid"] - row["reference"]["fid"])
                row["kid_abs_diff"] = abs(ours["kid"] - row["reference"]["kid"])
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
