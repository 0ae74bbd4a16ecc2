"""Video: real mp4 files decoded and encoded (frame count, frame rate, size, audio), the temporal modes (statistics
along time, optical-flow blending) against their formulas, the warping error against a hand computation, the fast
inference path against eager, and ``gan-style stylize --content clip.mp4 --temporal flow`` end to end."""

from __future__ import annotations

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import SAMPLE_ROOT, gan_style_in_process

av = pytest.importorskip("av")
pytest.importorskip("cv2")

from gan_style.data.images import load_image  # noqa: E402
from gan_style.data.transforms import to_tensor  # noqa: E402
from gan_style.errors import ImageLoadError, InvalidSettingError, MissingDependencyError  # noqa: E402
from gan_style.inference import GeneratorStylizer  # noqa: E402
from gan_style.inference.fast import FastPath  # noqa: E402
from gan_style.inference.temporal import (  # noqa: E402
    FlowBlender,
    MovingStatistics,
    SmoothedNorm,
    camera_path_clip,
    warp,
    warping_error,
)
from gan_style.inference.video import ClipReader, ClipWriter, stylize_frames, stylize_video  # noqa: E402
from gan_style.nets import ResnetGenerator  # noqa: E402

PHOTO = SAMPLE_ROOT / "testA" / "sailboat.jpg"
FPS = Fraction(12)
SAMPLE_RATE = 16000


def photo() -> torch.Tensor:
    return to_tensor(load_image(PHOTO))


def tiny_stylizer(seed: int = 0) -> GeneratorStylizer:
    torch.manual_seed(seed)
    return GeneratorStylizer(ResnetGenerator(ngf=4, n_blocks=1)).eval()


def write_clip(path: Path, frames: torch.Tensor, fps: Fraction = FPS, audio: bool = True) -> Path:
    """An H.264 mp4 of ``frames`` (T, 3, H, W) in [-1, 1] with, optionally, an AAC sine tone as long as the video."""
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=fps)
        video.height, video.width = frames.shape[-2:]
        video.pix_fmt = "yuv420p"
        video.options = {"crf": "10"}
        tone = out.add_stream("aac", rate=SAMPLE_RATE) if audio else None
        if tone is not None:
            tone.layout = "mono"
        for frame in ((frames.clamp(-1, 1) + 1) * 127.5).round().byte().permute(0, 2, 3, 1).numpy():
            for packet in video.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                out.mux(packet)
        for packet in video.encode():
            out.mux(packet)
        if tone is not None:
            samples = int(SAMPLE_RATE * len(frames) / fps)
            for start in range(0, samples, 1024):
                n = min(1024, samples - start)
                wave = 0.3 * np.sin(2 * np.pi * 440 * (start + np.arange(n)) / SAMPLE_RATE).astype(np.float32)
                chunk = av.AudioFrame.from_ndarray(wave[None], format="fltp", layout="mono")
                chunk.sample_rate, chunk.pts = SAMPLE_RATE, start
                for packet in tone.encode(chunk):
                    out.mux(packet)
            for packet in tone.encode():
                out.mux(packet)
    return path


def probe(path: Path) -> dict:
    """What a player sees: decoded frame count, frame rate, size, codec, audio codec and duration."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        info = {
            "fps": stream.average_rate,
            "size": (stream.codec_context.width, stream.codec_context.height),
            "codec": stream.codec_context.name,
            "audio": [a.codec_context.name for a in container.streams.audio],
        }
        audio_seconds = 0.0
        if container.streams.audio:
            a = container.streams.audio[0]
            audio_seconds = float(sum(p.duration or 0 for p in container.demux(a) if p.dts is not None) * a.time_base)
        info["audio_seconds"] = audio_seconds
    with av.open(str(path)) as container:
        info["frames"] = sum(1 for _ in container.decode(video=0))
    return info


@pytest.fixture(scope="module")
def pan_clip():
    return camera_path_clip(photo(), "pan", num_frames=10, size=(48, 64), speed=0.02)


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory, pan_clip) -> Path:
    return write_clip(tmp_path_factory.mktemp("clip") / "clip.mp4", pan_clip.frames)


# --- decoding and encoding ---------------------------------------------------------------------------------------
def test_stylize_video_keeps_frames_rate_size_and_audio(clip_file, tmp_path):
    source = probe(clip_file)
    assert source["frames"] == 10 and source["fps"] == FPS and source["audio"] == ["aac"]
    info = ClipReader(clip_file).info
    assert (info.frames, info.fps, info.width, info.height, info.audio) == (10, FPS, 64, 48, True)

    out = tmp_path / "out" / "styled.mp4"
    result = stylize_video(tiny_stylizer(), clip_file, out, batch_size=3, backend="eager", progress=False)
    assert (result.frames, result.fps, result.width, result.height, result.audio) == (10, FPS, 64, 48, True)
    got = probe(out)
    assert got["frames"] == 10 and got["fps"] == FPS and got["size"] == (64, 48) and got["codec"] == "h264"
    assert got["audio"] == ["aac"]
    assert got["audio_seconds"] == pytest.approx(source["audio_seconds"], abs=1e-6)  # packets copied, not cut
    assert sorted(p.name for p in out.parent.iterdir()) == ["styled.mp4"]  # no temporary file left

    # the frames are the stylizer's outputs, in order: compared in luma (4:2:0 halves the colour resolution)
    def luma(x: torch.Tensor) -> torch.Tensor:
        return (torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1) * x).sum(1)

    inputs = pan_clip_frames(clip_file)
    expected = torch.cat(list(stylize_frames(tiny_stylizer(), inputs, backend="eager")))
    other = torch.cat(list(stylize_frames(tiny_stylizer(seed=1), inputs, backend="eager")))
    decoded = torch.stack([torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1 for a in ClipReader(out)])
    error = (luma(decoded) - luma(expected)).abs().mean()
    assert error < 0.03 and (luma(decoded) - luma(other)).abs().mean() > 3 * error
    assert (luma(decoded[1:]) - luma(expected[:-1])).abs().mean() > 2 * error  # not shifted by a frame


def pan_clip_frames(path: Path) -> list[torch.Tensor]:
    return [torch.from_numpy(a).permute(2, 0, 1).float() / 127.5 - 1 for a in ClipReader(path)]


def test_frame_folder_size_rounding_and_other_codecs(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    from PIL import Image

    for number in (10, 2, 1):  # ordered by number, not by name ("10" < "2" as text)
        level = number * 20
        Image.fromarray(np.full((30, 42, 3), level, np.uint8)).save(frames / f"f{number}.png")
    reader = ClipReader(frames, fps=5)
    assert [int(a[0, 0, 0]) for a in reader] == [20, 40, 200]
    assert (reader.info.frames, reader.info.fps, reader.info.audio) == (3, Fraction(5), False)

    # the frames' own size, as for images (the network runs at 32 x 44, the stylizer's multiple of 4, sized back)
    out = stylize_video(tiny_stylizer(), frames, tmp_path / "f.mp4", fps=5, backend="eager", progress=False)
    assert (out.width, out.height) == (42, 30) and probe(out.path)["frames"] == 3

    gif = stylize_video(tiny_stylizer(), frames, tmp_path / "f.gif", fps=5, codec="gif", progress=False)
    assert probe(gif.path)["frames"] == 3 and probe(gif.path)["codec"] == "gif"
    with ClipWriter(tmp_path / "red.gif", 5, 8, 8, codec="gif") as writer:
        writer.write(np.tile(np.array([200, 30, 30], np.uint8), (8, 8, 1)))
    red = next(iter(ClipReader(tmp_path / "red.gif")))
    assert np.abs(red.astype(int) - [200, 30, 30]).max() <= 8  # the palette keeps the colour


def test_clear_errors_and_no_partial_output(clip_file, tmp_path, monkeypatch):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(ImageLoadError, match="cannot decode video .*broken.mp4"):
        stylize_video(tiny_stylizer(), broken, tmp_path / "out.mp4", progress=False)
    with pytest.raises(InvalidSettingError, match=r"no 'nosuchcodec' encoder; available here: h264 \(libx264\)"):
        stylize_video(tiny_stylizer(), clip_file, tmp_path / "out.mp4", codec="nosuchcodec", progress=False)
    with pytest.raises(ValueError, match="overwrite the input video"):
        stylize_video(tiny_stylizer(), clip_file, clip_file, progress=False)

    class Failing(nn.Module):  # fails on the second batch, after frames were written
        calls = 0

        def forward(self, x):
            Failing.calls += 1
            if Failing.calls == 2:
                raise RuntimeError("out of memory (simulated)")
            return x

    with pytest.raises(RuntimeError, match="simulated"):
        stylize_video(GeneratorStylizer(Failing()), clip_file, tmp_path / "half.mp4", batch_size=4, progress=False)
    assert list(tmp_path.glob("*half*")) == [] and not (tmp_path / "out.mp4").exists()

    monkeypatch.setitem(sys.modules, "av", None)  # PyAV not installed
    with pytest.raises(MissingDependencyError, match=r'pip install "gan-style\[video\]"'):
        ClipReader(clip_file)


# --- the warping error ---------------------------------------------------------------------------------------------
def test_warping_error_matches_a_hand_computation():
    g = torch.Generator().manual_seed(0)
    frames = torch.rand(3, 3, 4, 5, generator=g) * 2 - 1
    flows = torch.zeros(2, 4, 5, 2)
    flows[0, ..., 0] = 1.0  # pair 0: frame 1 seen one pixel to the right
    flows[1, ..., 0] = 0.5  # pair 1: half a pixel: bilinear, the mean of two neighbours
    masks = torch.zeros(2, 4, 5)
    masks[:, :, :4] = 1  # the last column leaves the frame
    masks[1, 0, :] = 0  # an occluded row in pair 1

    unit = ((frames + 1) / 2).numpy().astype(np.float64)  # E_warp works in [0, 1]
    e0 = ((unit[1][:, :, 1:5] - unit[0][:, :, 0:4]) ** 2).sum() / (3 * 4 * 4)
    warped = 0.5 * (unit[2][:, 1:, 0:4] + unit[2][:, 1:, 1:5])
    e1 = ((warped - unit[1][:, 1:, 0:4]) ** 2).sum() / (3 * 3 * 4)
    assert warping_error(frames, flows, masks) == pytest.approx((e0 + e1) / 2, rel=1e-5)

    # without masks: the pixels whose target lies inside the frame (here the same columns, all rows)
    e1_all = ((0.5 * (unit[2][:, :, 0:4] + unit[2][:, :, 1:5]) - unit[1][:, :, 0:4]) ** 2).sum() / (3 * 4 * 4)
    assert warping_error(frames, flows) == pytest.approx((e0 + e1_all) / 2, rel=1e-5)
    assert warping_error(torch.stack([frames[0]] * 3), torch.zeros(2, 4, 5, 2)) == 0.0
    with pytest.raises(ValueError, match="T >= 2"):
        warping_error(frames[:1], flows[:0])


def test_camera_path_clips_carry_their_true_flow():
    for motion in ("pan", "zoom", "object"):
        clip = camera_path_clip(photo(), motion, num_frames=6, size=(48, 64))
        assert clip.frames.shape == (6, 3, 48, 64) and clip.forward.shape == (5, 48, 64, 2)
        # the true flow explains the input almost exactly (bilinear re-sampling only); a wrong flow does not
        assert warping_error(clip.frames, clip.forward, clip.masks) < 1e-3
        assert warping_error(clip.frames, torch.zeros_like(clip.forward)) > 3 * warping_error(
            clip.frames, clip.forward, clip.masks
        )
    pan = camera_path_clip(photo(), "pan", num_frames=3, size=(48, 64), speed=0.02)
    assert torch.allclose(pan.forward[..., 0], torch.tensor(-0.02 * 64)) and pan.forward[..., 1].abs().max() < 1e-5
    assert not pan.masks[:, :, :2].any() and pan.masks[:, :, 2:].all()  # 1.28 px to the left: 2 columns leave
    obj = camera_path_clip(photo(), "object", num_frames=3, size=(48, 64))
    assert obj.forward[0].abs().amax(dim=-1).max() == 1.0  # the patch moves one pixel per frame
    assert (~obj.masks[0]).sum() == 12  # the column the patch covers next: occluded (48 // 4 rows)


# --- temporal statistics -------------------------------------------------------------------------------------------
def test_moving_statistics_and_smoothed_norm_follow_the_formula():
    average = MovingStatistics(0.5)
    m, v = average(torch.tensor([[2.0], [4.0]]), torch.tensor([[1.0], [3.0]]))
    assert m.flatten().tolist() == [2.0, 3.0] and v.flatten().tolist() == [1.0, 2.0]
    m, v = average(torch.tensor([[7.0]]), torch.tensor([[4.0]]))  # carried over to the next batch
    assert m.item() == 5.0 and v.item() == 3.0

    norm = nn.InstanceNorm2d(2, affine=True)
    nn.init.uniform_(norm.weight)
    net = nn.Sequential(norm)
    x = torch.randn(3, 2, 5, 5) * torch.tensor([1.0, 2.0, 3.0]).view(3, 1, 1, 1) + 1
    with SmoothedNorm(net, smoothing=0.5), torch.no_grad():
        y = net(x)
    mean, var = x.mean((2, 3)), x.var((2, 3), correction=0)
    m1, v1 = 0.5 * mean[0] + 0.5 * mean[1], 0.5 * var[0] + 0.5 * var[1]
    expected = (x[1] - m1.view(2, 1, 1)) / torch.sqrt(v1.view(2, 1, 1) + norm.eps)
    expected = expected * norm.weight.view(2, 1, 1) + norm.bias.view(2, 1, 1)
    assert torch.allclose(y[1], expected, atol=1e-5)
    assert torch.allclose(y[0], norm(x[:1])[0], atol=1e-5)  # the first frame: its own statistics
    assert torch.allclose(net(x), norm(x))  # hooks removed afterwards


def test_stats_mode_on_still_frames_and_first_frame_equals_per_frame(pan_clip):
    stylizer = tiny_stylizer()
    still = pan_clip.frames[:1].expand(5, -1, -1, -1)
    per_frame = torch.cat(list(stylize_frames(stylizer, still, backend="eager")))
    stats = torch.cat(list(stylize_frames(stylizer, still, temporal="stats", batch_size=2, backend="eager")))
    assert torch.allclose(stats, per_frame, atol=1e-5)  # the average of equal statistics is the same

    moving = torch.cat(list(stylize_frames(stylizer, pan_clip.frames, temporal="stats", backend="eager")))
    plain = torch.cat(list(stylize_frames(stylizer, pan_clip.frames, backend="eager")))
    assert torch.allclose(moving[0], plain[0], atol=1e-5) and not torch.allclose(moving[1:], plain[1:], atol=1e-4)


def test_adain_stats_mode_averages_content_statistics():
    from gan_style.methods.adain import AdaINStylizer

    class Encoder(nn.Module):  # stands in for VGG up to relu4_1 (1/8 resolution), whose random features are dead
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 8, stride=8)

        def forward(self, x, layers):
            return {"relu4_1": self.conv(x)}

    torch.manual_seed(0)
    stylizer = AdaINStylizer(Encoder(), nn.Identity()).eval()
    stylizer.decode_to = lambda t, size: t  # look at the decoder's input t (Eq. 8)
    g = torch.Generator().manual_seed(1)
    frames = torch.rand(3, 3, 32, 32, generator=g) * 2 - 1
    style = [torch.rand(1, 3, 32, 32, generator=g) * 2 - 1]
    with torch.no_grad():
        plain = stylizer(frames, style)
        plan = stylizer.plan_frames(style, temporal_statistics=True, smoothing=0.5, alpha=1.0)
        smoothed = torch.cat([plan.fn(frames[:2]), plan.fn(frames[2:])])
        assert not plan.stateless and plan.smoothed_norm is None
        assert torch.allclose(smoothed[0], plain[0], atol=1e-5)  # first frame: its own statistics
        # frames 1 and 2 by hand: the running average of the frames' relu4_1 statistics (unbiased variance)
        fc, fs = stylizer.encode(frames), stylizer.encode(style[0])
        mean, var = fc.mean((2, 3)), fc.var((2, 3))
        m, v = mean[0], var[0]
        for i in (1, 2):
            m, v = 0.5 * m + 0.5 * mean[i], 0.5 * v + 0.5 * var[i]
            t = (fc[i] - m.view(-1, 1, 1)) / (v + 1e-5).sqrt().view(-1, 1, 1)
            t = t * (fs.var((2, 3)) + 1e-5).sqrt().view(-1, 1, 1) + fs.mean((2, 3)).view(-1, 1, 1)
            assert torch.allclose(smoothed[i], t, atol=1e-4)
            assert (smoothed[i] - plain[i]).abs().max() > 100 * (smoothed[0] - plain[0]).abs().max() + 1e-4
        with pytest.raises(ValueError, match="masks"):
            stylizer.plan_frames(style, temporal_statistics=True, masks=[torch.ones(32, 32)])
        # without temporal statistics: each frame's own statistics, as forward (the style encoded once)
        own = stylizer.plan_frames(style, temporal_statistics=False, alpha=0.7)
        assert torch.allclose(
            torch.cat([own.fn(frames[:1]), own.fn(frames[1:])]), stylizer(frames, style, alpha=0.7), atol=1e-5
        )


# --- flow ----------------------------------------------------------------------------------------------------------
def test_flow_blending_rule_on_a_still_clip():
    frame = camera_path_clip(photo(), "pan", num_frames=2, size=(48, 64)).frames[:1]
    frames = frame.expand(3, -1, -1, -1)
    g = torch.Generator().manual_seed(0)
    outputs = torch.rand(3, 3, 48, 64, generator=g) * 2 - 1
    blended = FlowBlender(weight=0.6)(frames, outputs)
    # no motion: the flow is ~0 and reliable everywhere, so y_t = s_t + 0.6 (y_(t-1) - s_t)
    y1 = outputs[1] + 0.6 * (outputs[0] - outputs[1])
    y2 = outputs[2] + 0.6 * (y1 - outputs[2])
    assert torch.equal(blended[0], outputs[0])
    assert (blended[1] - y1).abs().mean() < 0.01 and (blended[2] - y2).abs().mean() < 0.01
    warped, inside = warp(outputs[:1], torch.zeros(48, 64, 2))
    assert torch.allclose(warped, outputs[:1], atol=1e-5) and inside.all()


def test_flow_mode_lowers_the_warping_error(pan_clip):
    stylizer = tiny_stylizer()
    none = torch.cat(list(stylize_frames(stylizer, pan_clip.frames, backend="eager")))
    flow = torch.cat(list(stylize_frames(stylizer, pan_clip.frames, temporal="flow", backend="eager")))
    assert warping_error(flow, pan_clip.forward, pan_clip.masks) < 0.6 * warping_error(
        none, pan_clip.forward, pan_clip.masks
    )


# --- the fast path -------------------------------------------------------------------------------------------------
def test_fast_path_backends_match_eager():
    pytest.importorskip("onnxruntime")
    stylizer = tiny_stylizer()
    x = torch.rand(2, 3, 32, 48) * 2 - 1
    with torch.no_grad():
        reference = stylizer(x)
    ort = FastPath(stylizer, "onnxruntime")
    assert (ort(x) - reference).abs().max() < 1e-3 and ort.backend == "onnxruntime"
    assert (ort(x[:1, :, :16, :16]) - stylizer(x[:1, :, :16, :16])).abs().max() < 1e-3  # other sizes too
    auto = FastPath(stylizer, "auto", expected_calls=100)
    assert torch.allclose(auto(x), reference, atol=1e-5)  # the first batch is eager's output
    assert auto.backend in ("eager", "onnxruntime") and set(auto.timings) == {"eager", "onnxruntime"}
    assert FastPath(stylizer, "auto").backend == "auto" and FastPath(stylizer)(x).shape == reference.shape
    with pytest.raises(InvalidSettingError, match="temporal stats"):
        FastPath(stylizer, "onnxruntime", graph=False)


# --- the command line ----------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny_model_folder(tmp_path_factory) -> Path:
    from gan_style.methods import CycleGAN
    from gan_style.nets import NLayerDiscriminator
    from gan_style.pretrained.folder import save_model_folder

    net = {"class_path": "gan_style.nets.ResnetGenerator", "init_args": {"ngf": 4, "n_blocks": 1}}
    disc = {"class_path": "gan_style.nets.NLayerDiscriminator", "init_args": {"ndf": 4, "n_layers": 1}}
    torch.manual_seed(0)
    model = CycleGAN(
        ResnetGenerator(ngf=4, n_blocks=1),
        ResnetGenerator(ngf=4, n_blocks=1),
        NLayerDiscriminator(ndf=4, n_layers=1),
        NLayerDiscriminator(ndf=4, n_layers=1),
    )
    hparams = {"generator_ab": net, "generator_ba": net, "discriminator_a": disc, "discriminator_b": disc}
    return save_model_folder(model, tmp_path_factory.mktemp("model") / "tiny", hyper_parameters=hparams)


def test_cli_stylizes_a_video_with_temporal_flow(tiny_model_folder, clip_file, tmp_path):
    out = tmp_path / "out"
    proc = gan_style_in_process(
        "stylize",
        "--pretrained",
        str(tiny_model_folder),
        "--content",
        str(clip_file),
        "--temporal",
        "flow",
        "--batch_size",
        "4",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    assert "10 frames at 12 fps, 64x48, audio copied, --temporal flow" in proc.stdout
    assert "wrote 0 image(s) and 1 video(s)" in proc.stdout
    got = probe(out / "clip.mp4")
    assert got["frames"] == 10 and got["fps"] == FPS and got["size"] == (64, 48) and got["audio"] == ["aac"]

    # one-line errors, nothing written: an undecodable clip, a codec FFmpeg lacks, a video with Gatys
    broken = tmp_path / "broken.mov"
    broken.write_bytes(b"not a video at all" * 50)
    for args, message in (
        (["--content", str(broken)], "cannot decode video"),
        (["--content", str(clip_file), "--codec", "nosuchcodec"], "no 'nosuchcodec' encoder"),
        (["--content", str(clip_file), "--temporal", "sideways"], "temporal"),
    ):
        bad = gan_style_in_process(
            "stylize", "--pretrained", str(tiny_model_folder), *args, "--output_dir", str(tmp_path / "bad"),
            cwd=tmp_path, check=False,
        )  # fmt: skip
        assert bad.returncode == 2 and message in bad.stderr, bad.stderr
    assert not any((tmp_path / "bad").glob("*.mp4")) if (tmp_path / "bad").exists() else True


def test_notebook_api_stylizes_a_video(tiny_model_folder, clip_file, tmp_path):
    import gan_style

    result = gan_style.load(tiny_model_folder).video(clip_file, tmp_path / "v.webm", temporal="stats", codec="vp9")
    got = probe(tmp_path / "v.webm")
    assert (result.frames, got["frames"], got["fps"], got["codec"]) == (10, 10, FPS, "vp9")
    assert got["audio"] == ["opus"]  # AAC does not go into webm: re-encoded
    assert got["audio_seconds"] == pytest.approx(probe(clip_file)["audio_seconds"], abs=0.1)
