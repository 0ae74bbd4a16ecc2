"""Cost of the evaluation metrics; one JSON line per case.

    python benchmarks/evaluation.py --images 64 --size 256

- ``inception_ms_per_image``: FID Inception-v3 features (8-bit rounding, antialiased resize to 299, 2048-d
  pool) per image, batch 16;
- ``fid_compute_s``: the Frechet distance from accumulated 2048-d statistics (torchmetrics' matrix square
  root via eigenvalues), once per evaluation;
- ``evaluation_s``: one whole evaluation as ``EvaluationMetrics`` does it: ``--images`` generated plus as
  many reference images, FID and KID.

The Inception has random weights with the FID network's layout (the cost does not depend on them), so no
download is needed.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import torch
import torchvision

from gan_style.metrics import ImageMetrics, InceptionFeatures


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=64, help="generated (and reference) images per evaluation")
    parser.add_argument("--size", type=int, default=256, help="side of the evaluated images")
    parser.add_argument("--batch_size", type=int, default=16)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    info = {"device": torch.cuda.get_device_name() if device.type == "cuda" else platform.processor() or "cpu"}
    info["threads"] = torch.get_num_threads()

    with tempfile.TemporaryDirectory() as tmp:
        net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=1008)
        path = Path(tmp) / "inception_random.pth"
        torch.save(net.state_dict(), path)
        features = InceptionFeatures(str(path)).to(device)
        x = torch.rand(args.batch_size, 3, args.size, args.size, device=device) * 2 - 1
        with torch.no_grad():
            features(x)  # warm-up
            _sync(device)
            start = time.perf_counter()
            reps = max(1, args.images // args.batch_size)
            for _ in range(reps):
                features(x)
            _sync(device)
        per_image = (time.perf_counter() - start) / (reps * args.batch_size)
        print(json.dumps({**info, "case": "inception_ms_per_image", "size": args.size, "value": per_image * 1e3}))

        metrics = ImageMetrics(["fid", "kid"], feature_network=features, kid_subset_size=min(100, args.images))
        metrics.to(device)
        start = time.perf_counter()
        for _ in range(max(1, args.images // args.batch_size)):
            gen = torch.rand(args.batch_size, 3, args.size, args.size, device=device) * 2 - 1
            ref = torch.rand(args.batch_size, 3, args.size, args.size, device=device) * 2 - 1
            metrics.update_distribution(generated=gen, reference=ref)
        _sync(device)
        fed = time.perf_counter() - start
        start = time.perf_counter()
        metrics.compute()
        _sync(device)
        computed = time.perf_counter() - start
        print(json.dumps({**info, "case": "fid_compute_s", "value": computed}))
        print(json.dumps({**info, "case": "evaluation_s", "images": args.images, "value": fed + computed}))


if __name__ == "__main__":
    main()
