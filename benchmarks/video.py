"""Video: temporal consistency, throughput and memory of ``gan-style stylize`` on clips; prints one JSON line per case.

Parts (``--parts``, all by default):

- ``quality``: for each method, size, test clip and ``--temporal`` mode: the warping error E_warp (Lai et al. 2018)
  between consecutive outputs over non-occluded pixels, measured with the clip's *true* flow (the clips are made
  from a shipped photo by a known camera path: :func:`gan_style.inference.temporal.camera_path_clip`), the mean
  squared distance of each output frame to its per-frame stylization (``none``), both in [0, 1] units, and
  frames/s of :func:`gan_style.inference.video.stylize_frames` (eager backend for every mode, so modes compare
  on one backend); rows ``"part": "quality"``, plus a ``"part": "quality_summary"`` row per (method, size, clip)
  with the reductions against ``none``;
- ``overhead`` (not in the default parts): seconds per frame of ``none``, ``stats`` and ``flow`` on the same frames,
  the modes alternating frame by frame, for a fair frames/s ratio on a shared machine;
- ``fast``: frames/s of the network alone at each size on each backend of
  :class:`gan_style.inference.fast.FastPath`, against today's eager path (``stylizer(x)`` under ``no_grad``,
  float32, default layout), steps interleaved (ABBA) so other load hits all alike, and each backend's largest
  difference from eager;
- ``pipeline``: ``gan-style stylize`` (the Python function) on an mp4 with ``--temporal none`` against the same
  function on the clip's frames extracted as PNG files (the image path, one call over the folder), the same model,
  size and backend: frames/s and their ratio;
- ``strip`` (not in the default parts): the before/after strip of docs/video.md (``docs/images/video_strip.png``):
  frames of the pan clip, their ``none`` and ``flow`` outputs and each one's frame-to-frame change;
- ``memory``: peak resident memory of ``stylize_video`` on clips of 100 and 1000 frames (a tiny network at 64x64,
  so that the codec and the frame pipeline, not the network, dominate), through ``common.MemoryMeter``.

Methods: ``cyclegan`` (the ResNet generator, 9 blocks, ngf 64: random weights, or the published reference weights
with ``--cyclegan_weights latest_net_G.pth``), ``johnson`` (the transformation network of PatchGANStyle / fast
neural style, random), ``adain`` (VGG-19 encoder + decoder with random He-initialised weights, so that the random
network is not degenerate, and the shipped starry-night style image).

Examples::

    python benchmarks/video.py --parts quality --methods cyclegan johnson adain --sizes 256 512 --frames 8
    python benchmarks/video.py --parts fast --methods johnson cyclegan --sizes 512 --steps 3
    python benchmarks/video.py --parts pipeline memory
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MemoryMeter, emit  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "examples" / "data" / "photo2painting" / "testA" / "sailboat.jpg"
STYLE = REPO / "examples" / "data" / "photo2painting" / "testB" / "starry_night_crop.jpg"
METHODS = ("cyclegan", "johnson", "adain")


def load(path: Path) -> torch.Tensor:
    from gan_style.data.images import load_image
    from gan_style.data.transforms import to_tensor

    return to_tensor(load_image(path))


def make_stylizer(method: str, cyclegan_weights: str | None = None, seed: int = 0):
    """(stylizer, style tensors or None, description of the weights)."""
    from gan_style.inference import GeneratorStylizer

    torch.manual_seed(seed)
    if method == "cyclegan":
        from gan_style.nets import ResnetGenerator

        net = ResnetGenerator()
        weights = "random (normal 0.02)"
        if cyclegan_weights:
            from gan_style.nets.reference import load_reference_state_dict

            load_reference_state_dict(net, cyclegan_weights)
            weights = f"published {Path(cyclegan_weights).name}"
        return GeneratorStylizer(net, name="CycleGAN generator").eval(), None, weights
    if method == "johnson":
        from gan_style.nets.transformation import TransformationNetwork

        return GeneratorStylizer(TransformationNetwork(), name="Johnson network").eval(), None, "random (normal 0.02)"
    if method == "adain":
        from gan_style.methods.adain import AdaINStylizer
        from gan_style.nets.adain import AdaINDecoder
        from gan_style.nets.vgg import VGGFeatures

        encoder, decoder = VGGFeatures(["relu4_1"], weights=None, layout="adain"), AdaINDecoder()
        with torch.no_grad():
            for m in [*encoder.modules(), *decoder.modules()]:
                if isinstance(m, nn.Conv2d):  # He init keeps activations alive through the 10 + 9 layers
                    nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                    nn.init.zeros_(m.bias)
        stylizer = AdaINStylizer(encoder.eval(), decoder.eval()).eval()
        style = load(STYLE).unsqueeze(0)
        with torch.no_grad():  # scale the last layer so that the output spreads over [0, 1] (std 0.2) around 0.5
            last = [m for m in decoder.modules() if isinstance(m, nn.Conv2d)][-1]
            out = decoder(stylizer.encode(torch.nn.functional.interpolate(load(PHOTO).unsqueeze(0), size=256)))
            last.weight.mul_(0.2 / out.std())
            last.bias.fill_(0.5)
        return stylizer, [style], "random (He init, output scaled to std 0.2)"
    raise SystemExit(f"unknown method {method}")


def frames_of(stylizer, frames: torch.Tensor, styles, temporal: str, batch_size: int) -> tuple[torch.Tensor, float]:
    """All outputs of a clip and the frames/s of the run (after one untimed frame to warm up)."""
    from gan_style.inference.video import stylize_frames

    list(stylize_frames(stylizer, frames[:1], styles, "none", 1, "eager"))  # warm-up (allocator, oneDNN)
    start = time.perf_counter()
    out = torch.cat(list(stylize_frames(stylizer, frames, styles, temporal, batch_size, "eager")))
    return out, len(frames) / (time.perf_counter() - start)


def _sig(x: float) -> float:
    return float(f"{x:.4g}")


# --- quality -----------------------------------------------------------------------------------------------------
def run_quality(a: argparse.Namespace) -> None:
    from gan_style.inference.temporal import camera_path_clip, stylization_distance, warping_error

    photo = load(PHOTO)
    for method in a.methods:
        stylizer, styles, weights = make_stylizer(method, a.cyclegan_weights)
        for size in a.sizes:
            for motion in a.clips:
                clip = camera_path_clip(photo, motion, a.frames, (size, size), speed=a.speed)
                rows = {}
                for temporal in a.modes:
                    out, fps = frames_of(stylizer, clip.frames, styles, temporal, a.batch_size)
                    rows[temporal] = (out, fps)
                reference = rows.get("none", (None,))[0]
                summary = {"part": "quality_summary", "method": method, "size": size, "clip": motion}
                for temporal, (out, fps) in rows.items():
                    row = {
                        "part": "quality",
                        "method": method,
                        "weights": weights,
                        "size": size,
                        "clip": motion,
                        "frames": a.frames,
                        "temporal": temporal,
                        "e_warp": _sig(warping_error(out, clip.forward, clip.masks)),
                        "input_e_warp": _sig(warping_error(clip.frames, clip.forward, clip.masks)),
                        "distance_to_per_frame": None
                        if reference is None
                        else _sig(stylization_distance(out, reference)),
                        "frames_per_sec": round(fps, 3),
                        "threads": torch.get_num_threads(),
                    }
                    emit(row)
                    summary[f"e_warp_{temporal}"] = row["e_warp"]
                    summary[f"fps_{temporal}"] = row["frames_per_sec"]
                if "none" in rows:
                    for temporal in ("stats", "flow"):
                        if temporal in rows:
                            summary[f"e_warp_reduction_{temporal}"] = round(
                                1 - summary[f"e_warp_{temporal}"] / summary["e_warp_none"], 4
                            )
                            summary[f"fps_ratio_{temporal}"] = round(
                                summary[f"fps_{temporal}"] / summary["fps_none"], 4
                            )
                emit(summary)


# --- overhead of the temporal modes, interleaved ------------------------------------------------------------------
def run_overhead(a: argparse.Namespace) -> None:
    """Seconds per frame of ``none``, ``stats`` and ``flow`` on the same frames, the modes alternating frame by frame
    (ABBA order), so that load from other processes hits all modes alike: the fair frames/s ratio on a shared CPU."""
    from gan_style.inference.temporal import camera_path_clip
    from gan_style.inference.video import ClipStylizer

    photo = load(PHOTO)
    for method in a.methods:
        stylizer, styles, weights = make_stylizer(method, a.cyclegan_weights)
        for size in a.sizes:
            clip = camera_path_clip(photo, "pan", a.frames + 1, (size, size), speed=a.speed)
            runners = {t: ClipStylizer(stylizer, styles, t, 1, "eager") for t in a.modes}
            times: dict[str, list[float]] = {t: [] for t in a.modes}
            for i, frame in enumerate(clip.frames):
                order = list(runners) if i % 2 == 0 else list(reversed(runners))
                for temporal in order:
                    start = time.perf_counter()
                    runners[temporal](frame.unsqueeze(0))
                    if i > 0:  # the first frame warms up (and has no previous frame for flow)
                        times[temporal].append(time.perf_counter() - start)
            base = statistics.median(times["none"]) if "none" in times else None
            for temporal, values in times.items():
                sec = statistics.median(values)
                emit(
                    {
                        "part": "overhead",
                        "method": method,
                        "weights": weights,
                        "size": size,
                        "temporal": temporal,
                        "frames_per_sec": round(1 / sec, 4),
                        "fps_ratio_vs_none": None if base is None else round(base / sec, 4),
                        "sec_all": [round(t, 3) for t in values],
                        "threads": torch.get_num_threads(),
                    }
                )


# --- fast path ---------------------------------------------------------------------------------------------------
def run_fast(a: argparse.Namespace) -> None:
    from gan_style.inference.fast import FastPath

    for method in a.methods:
        stylizer, styles, weights = make_stylizer(method, a.cyclegan_weights)
        if styles:
            emit({"part": "fast", "method": method, "skipped": "takes a style image: eager only (no graph backend)"})
            continue
        for size in a.sizes:
            g = torch.Generator().manual_seed(size)
            x = torch.rand(a.batch_size, 3, size, size, generator=g) * 2 - 1
            with torch.no_grad():
                reference = stylizer(x)

            def today(x=x, stylizer=stylizer):
                with torch.no_grad():
                    return stylizer(x)

            runners = {"eager_today": today}
            for backend in a.backends:
                if backend == "eager_channels_last":
                    fast = FastPath(stylizer, "eager", channels_last=True)
                else:
                    fast = FastPath(stylizer, backend, channels_last=False)
                runners[backend] = lambda x=x, fast=fast: fast(x)
            diffs, first, times = {}, {}, {name: [] for name in runners}
            for name, fn in runners.items():  # warm-up: export, compilation, allocations
                start = time.perf_counter()
                y = fn()
                first[name] = time.perf_counter() - start
                diffs[name] = float((y.double() - reference.double()).abs().max())
            for step in range(a.steps):
                order = list(runners) if step % 2 == 0 else list(reversed(runners))
                for name in order:
                    start = time.perf_counter()
                    runners[name]()
                    times[name].append(time.perf_counter() - start)
            base = statistics.median(times["eager_today"])
            for name in runners:
                sec = statistics.median(times[name])
                emit(
                    {
                        "part": "fast",
                        "method": method,
                        "size": size,
                        "batch_size": a.batch_size,
                        "backend": name,
                        "frames_per_sec": round(a.batch_size / sec, 4),
                        "speedup_vs_eager_today": round(base / sec, 3),
                        "max_abs_diff_vs_eager": diffs[name],
                        "first_call_sec": round(first[name], 2),
                        "sec_all": [round(t, 3) for t in times[name]],
                        "threads": torch.get_num_threads(),
                    }
                )
            # restore the default layout for the next size / part
            with torch.no_grad():
                stylizer.to(memory_format=torch.contiguous_format)


# --- pipeline ------------------------------------------------------------------------------------------------------
def write_clip(path: Path, frames: torch.Tensor, fps: int = 24) -> Path:
    from gan_style.inference.video import ClipWriter

    with ClipWriter(path, fps, frames.shape[-1], frames.shape[-2], crf=12) as writer:
        for frame in ((frames.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy():
            writer.write(frame)
    return path


def model_folder(method: str, folder: Path) -> Path:
    """A model folder (config.json + model.safetensors) of the method with random weights, for ``--pretrained``."""
    from gan_style.pretrained.folder import save_model_folder

    torch.manual_seed(0)
    if method == "johnson":
        from gan_style.methods import PatchGANStyle

        net = {"class_path": "gan_style.nets.TransformationNetwork", "init_args": {}}
        model = PatchGANStyle(generator=_build(net), discriminator=None, vgg_weights=None)
        hp = {"generator": net, "vgg_weights": None}
    else:
        from gan_style.methods import CycleGAN

        net = {"class_path": "gan_style.nets.ResnetGenerator", "init_args": {}}
        disc = {"class_path": "gan_style.nets.NLayerDiscriminator", "init_args": {"ndf": 8, "n_layers": 1}}
        model = CycleGAN(_build(net), _build(net), _build(disc), _build(disc))
        hp = {"generator_ab": net, "generator_ba": net, "discriminator_a": disc, "discriminator_b": disc}
    return save_model_folder(model, folder, hyper_parameters=hp)


def _build(config: dict) -> nn.Module:
    import importlib

    module, _, name = config["class_path"].rpartition(".")
    return getattr(importlib.import_module(module), name)(**config["init_args"])


def run_pipeline(a: argparse.Namespace) -> None:
    from PIL import Image

    from gan_style.commands.stylize import stylize
    from gan_style.inference.temporal import camera_path_clip
    from gan_style.inference.video import ClipReader

    size, count = a.pipeline_size, a.pipeline_frames
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        folder = model_folder(a.pipeline_method, tmp / "model")
        clip = camera_path_clip(load(PHOTO), "pan", count, (size, size), speed=0.005)
        video = write_clip(tmp / "clip.mp4", clip.frames)
        frames = tmp / "frames"
        frames.mkdir()
        for i, array in enumerate(ClipReader(video)):  # the frames as a user would extract them
            Image.fromarray(array).save(frames / f"{i:05d}.png")
        common = {"pretrained": str(folder), "size": None, "backend": a.pipeline_backend, "device": "cpu"}
        # warm-up: imports, model loading code paths, allocator
        stylize(content=str(frames / "00000.png"), output_dir=str(tmp / "warm"), **common)
        timings = {"video": [], "image_loop": []}
        for step in range(a.pipeline_repeats):
            order = ["video", "image_loop"] if step % 2 == 0 else ["image_loop", "video"]
            for kind in order:
                start = time.perf_counter()
                if kind == "video":
                    stylize(content=str(video), output_dir=str(tmp / "out_video"), temporal="none", **common)
                else:
                    stylize(content=str(frames), output_dir=str(tmp / "out_frames"), **common)
                timings[kind].append(time.perf_counter() - start)
        fps = {k: count / statistics.median(v) for k, v in timings.items()}
        emit(
            {
                "part": "pipeline",
                "method": a.pipeline_method,
                "size": size,
                "frames": count,
                "backend": a.pipeline_backend,
                "video_frames_per_sec": round(fps["video"], 3),
                "image_loop_frames_per_sec": round(fps["image_loop"], 3),
                "ratio_video_to_image_loop": round(fps["video"] / fps["image_loop"], 3),
                "sec_all": {k: [round(t, 2) for t in v] for k, v in timings.items()},
                "timed": "stylize(content=clip.mp4) vs stylize(content=frames/ of PNGs), model loading included in both",
            }
        )


# --- memory --------------------------------------------------------------------------------------------------------
def run_memory(a: argparse.Namespace) -> None:
    from gan_style.inference import GeneratorStylizer
    from gan_style.inference.temporal import camera_path_clip
    from gan_style.inference.video import stylize_video
    from gan_style.nets import ResnetGenerator

    torch.manual_seed(0)
    stylizer = GeneratorStylizer(ResnetGenerator(ngf=8, n_blocks=2)).eval()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        base = camera_path_clip(load(PHOTO), "pan", 50, (64, 64), speed=0.002).frames
        for count in a.memory_frames:
            frames = base.repeat((count + len(base) - 1) // len(base), 1, 1, 1)[:count]
            video = write_clip(tmp / f"clip_{count}.mp4", frames)
            del frames
            for temporal in a.memory_modes:
                meter = MemoryMeter(torch.device("cpu"))
                meter.start()
                start = time.perf_counter()
                result = stylize_video(
                    stylizer, video, tmp / f"out_{count}_{temporal}.mp4", temporal=temporal, backend="eager",
                    progress=False,
                )  # fmt: skip
                seconds = time.perf_counter() - start
                peak, delta = meter.stop()
                emit(
                    {
                        "part": "memory",
                        "frames": result.frames,
                        "size": 64,
                        "temporal": temporal,
                        "peak_mem_mb": round(peak, 1),
                        "peak_mem_delta_mb": None if delta is None else round(delta, 1),
                        "memory_kind": meter.kind,
                        "frames_per_sec": round(result.frames / seconds, 1),
                    }
                )


# --- the strip of docs/video.md ------------------------------------------------------------------------------------
def run_strip(a: argparse.Namespace) -> None:
    """Frames of the pan clip: input, ``none``, its frame-to-frame change, ``flow``, its change; one PNG."""
    from PIL import Image, ImageDraw

    from gan_style.data.transforms import to_image
    from gan_style.inference.temporal import camera_path_clip, consistency_mask, warp, warping_error
    from gan_style.io.atomic import atomic_write

    stylizer, styles, weights = make_stylizer(a.strip_method, a.cyclegan_weights)
    size, shown = a.strip_size, 4
    clip = camera_path_clip(load(PHOTO), "pan", shown + 4, (size, size), speed=a.speed)
    outputs = {t: frames_of(stylizer, clip.frames, styles, t, 1)[0] for t in ("none", "flow")}

    def change(out: torch.Tensor, t: int) -> torch.Tensor:
        """|y_t - y_(t-1) warped into frame t| along the true flow, x4, black where occluded."""
        previous, _ = warp(out[t - 1 : t], clip.backward[t - 1])
        visible = consistency_mask(clip.backward[t - 1], clip.forward[t - 1], motion_boundaries=False)[0]
        diff = ((out[t : t + 1] - previous).abs().mean(1, keepdim=True) * 4).clamp(0, 2) - 1
        return (diff * visible - (~visible).float()).expand(-1, 3, -1, -1)[0]

    first = len(clip.frames) - shown  # the last frames: the blend has settled
    rows = [("input", [clip.frames[t] for t in range(first, first + shown)])]
    for temporal in ("none", "flow"):
        out = outputs[temporal]
        e = warping_error(out, clip.forward, clip.masks)
        rows.append((f"--temporal {temporal}", [out[t] for t in range(first, first + shown)]))
        rows.append((f"change x4 (E_warp {e:.4f})", [change(out, t) for t in range(first, first + shown)]))
    label_w, pad = 190, 4
    canvas = Image.new("RGB", (label_w + shown * (size + pad), len(rows) * (size + pad)), "white")
    draw = ImageDraw.Draw(canvas)
    for r, (label, images) in enumerate(rows):
        y = r * (size + pad)
        draw.text((6, y + size // 2 - 6), label, fill="black")
        for c, image in enumerate(images):
            canvas.paste(to_image(image), (label_w + c * (size + pad), y))
    with atomic_write(a.strip_output) as f:
        canvas.save(f, format="PNG")
    emit({"part": "strip", "method": a.strip_method, "weights": weights, "size": size, "output": str(a.strip_output)})


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--parts", nargs="+", choices=["quality", "overhead", "fast", "pipeline", "memory", "strip"],
                   default=["quality", "fast", "pipeline", "memory"])  # fmt: skip
    p.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    p.add_argument("--clips", nargs="+", choices=["pan", "zoom", "object"], default=["pan", "zoom"])
    p.add_argument("--modes", nargs="+", choices=["none", "stats", "flow"], default=["none", "stats", "flow"])
    p.add_argument("--frames", type=int, default=8, help="frames per test clip (quality)")
    p.add_argument("--speed", type=float, default=0.01, help="camera motion per frame, fraction of the width")
    p.add_argument("--batch_size", type=int, default=1, help="frames per network call")
    p.add_argument("--cyclegan_weights", default=None, help="a published latest_net_G.pth for the CycleGAN generator")
    p.add_argument("--backends", nargs="+", default=["eager", "eager_channels_last", "onnxruntime", "compile"],
                   help="fast part: FastPath backends to time against today's eager")  # fmt: skip
    p.add_argument("--steps", type=int, default=3, help="fast part: timed steps per backend (median)")
    p.add_argument("--pipeline_method", choices=["johnson", "cyclegan"], default="johnson")
    p.add_argument("--pipeline_size", type=int, default=256)
    p.add_argument("--pipeline_frames", type=int, default=24)
    p.add_argument("--pipeline_backend", default="eager")
    p.add_argument("--pipeline_repeats", type=int, default=2)
    p.add_argument("--memory_frames", type=int, nargs="+", default=[100, 1000])
    p.add_argument("--memory_modes", nargs="+", default=["none", "flow"])
    p.add_argument("--strip_method", choices=METHODS, default="cyclegan")
    p.add_argument("--strip_size", type=int, default=160)
    p.add_argument("--strip_output", default=str(REPO / "docs" / "images" / "video_strip.png"))
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    emit({"settings": vars(a), "torch": torch.__version__, "threads": torch.get_num_threads()})
    for part in a.parts:
        runs = {"quality": run_quality, "fast": run_fast, "pipeline": run_pipeline, "memory": run_memory}
        runs.update(strip=run_strip, overhead=run_overhead)
        runs[part](a)


if __name__ == "__main__":
    main()
