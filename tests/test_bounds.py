"""Memory bounded by the request, not by the file: a small file that declares a huge size (a video's frames, an
archive's members) and a request for a huge output (``--size``, the demo's output size) are refused in one line
before any large allocation, with a message that names the file or setting, the size, the limit and the fix."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import SAMPLE_ROOT, gan_style_in_process
from gan_style.errors import ArchiveError, ImageLoadError, InvalidSettingError, UnsafeArchiveError
from gan_style.inference.sizing import MAX_OUTPUT_PIXELS

PHOTO = SAMPLE_ROOT / "testA" / "newyork.jpg"  # 455 x 286


def _leftovers(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (relative, sorted)."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --- video: frames get the image pixel limit, outputs --max_pixels; checked from the container's header ----------

_BIG_CLIP = textwrap.dedent(
    """
    import sys
    import av

    side = int(sys.argv[2])
    with av.open(sys.argv[1], "w") as out:  # two flat grey frames: a few hundred KB whatever the size
        stream = out.add_stream("libx264", rate=12)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "40"}
        frame = av.VideoFrame(side, side, "yuv420p")
        for plane in frame.planes:
            plane.update(bytes([128]) * plane.buffer_size)
        for i in range(2):
            frame.pts = i
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    """
)


def _write_flat_clip(path: Path, side: int) -> Path:
    """An H.264 mp4 of two flat ``side`` x ``side`` frames, written in a process of its own (x264's buffers for
    8192 x 8192 take about 750 MB, which this process should not keep)."""
    subprocess.run([sys.executable, "-c", _BIG_CLIP, str(path), str(side)], check=True, timeout=120)
    return path


@pytest.fixture(scope="module")
def big_clip(tmp_path_factory) -> Path:
    """An 8192 x 8192 mp4 of a few hundred KB: decoding a frame takes 200 MB of RGB, 800 MB as a float tensor, and
    the network at that size many GB."""
    pytest.importorskip("av")
    clip = _write_flat_clip(tmp_path_factory.mktemp("big_clip") / "clip.mp4", 8192)
    assert clip.stat().st_size < 1_000_000
    return clip


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory) -> Path:
    pytest.importorskip("av")
    return _write_flat_clip(tmp_path_factory.mktemp("small_clip") / "small.mp4", 96)


# ``gan-style stylize ARGS`` in a process of its own, under an address-space cap (so that a regression fails with a
# MemoryError rather than taking the machine's memory); prints the peak RSS (KiB) before and after the command.
_MEASURED_STYLIZE = textwrap.dedent(
    """
    import resource, sys
    import av, torch  # what the command imports anyway: not counted
    import gan_style.commands.stylize, gan_style.inference.video
    from gan_style.cli import main

    size = int(open("/proc/self/status").read().split("VmSize:")[1].split()[0]) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (size + 3 * 1024**3, resource.getrlimit(resource.RLIMIT_AS)[1]))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        main(sys.argv[1:])
        code = 0
    except SystemExit as exc:
        code = exc.code
    print("RSS", before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
    sys.exit(code)
    """
)


def test_a_tiny_8192_clip_is_refused_from_its_header_with_little_memory(big_clip, tiny_cyclegan_checkpoint, tmp_path):
    out = tmp_path / "out"
    args = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(big_clip)]
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURED_STYLIZE, *args, "--output_dir", str(out)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert lines[0] == (
        f"gan-style stylize: error: video '{big_clip}' has 8192x8192 frames: at their own size they would be "
        f"stylized at 8192x8192 = 67108864 pixels, more than --max_pixels {MAX_OUTPUT_PIXELS}; give a smaller --size "
        "(the shorter side, e.g. --size 512) or raise --max_pixels"
    )
    before, after = (int(v) for v in lines[-1].split()[1:])
    # FFmpeg's probe of the header decodes a frame's worth of YUV (about 100 MB); one RGB frame is 200 MB, as a
    # float tensor 800 MB, and the network at 8192 x 8192 took 10 GB
    assert (after - before) / 1024 < 300, f"peak RSS grew by {(after - before) / 1024:.0f} MB"
    assert not out.exists() or _leftovers(out) == []


def test_frames_over_the_image_limit_are_refused_before_any_is_decoded(small_clip, monkeypatch):
    from gan_style.inference.video import ClipReader

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)  # images: refused above 2 x 4000 pixels; 96 x 96 = 9216
    with pytest.raises(ImageLoadError) as err:
        ClipReader(small_clip)  # opens the container only: the check comes before any frame is decoded
    assert str(err.value) == (
        f"video '{small_clip}' has frames of 96x96 = 9216 pixels, more than gan-style decodes (8000 pixels, the image "
        "limit: 2 x PIL.Image.MAX_IMAGE_PIXELS); --size cannot help (frames are decoded whole): downscale the video "
        "first (ffmpeg -i IN -vf scale=-2:1080 OUT), or raise PIL.Image.MAX_IMAGE_PIXELS if you trust the file"
    )
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4608)  # exactly 96 x 96 / 2: allowed
    assert ClipReader(small_clip).info.width == 96

    # a frame larger than its header said (a stream may change size): refused before its RGB copy is made
    reader = ClipReader(small_clip)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4000)
    with pytest.raises(ImageLoadError, match=r"has frame 1 of 96x96 = 9216 pixels, more than gan-style decodes"):
        next(iter(reader))


def test_video_outputs_over_max_pixels_are_refused_and_size_is_the_fix(small_clip, tiny_cyclegan_checkpoint, tmp_path):
    base = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(small_clip)]
    refused = gan_style_in_process(
        *base, "--max_pixels", "4000", "--output_dir", str(tmp_path / "a"), cwd=tmp_path, check=False
    )
    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"gan-style stylize: error: video '{small_clip}' has 96x96 frames: at their own size they would be stylized "
        "at 96x96 = 9216 pixels, more than --max_pixels 4000; give a smaller --size (the shorter side, e.g. --size "
        "512) or raise --max_pixels"
    )
    assert not (tmp_path / "a").exists() or _leftovers(tmp_path / "a") == []

    big = gan_style_in_process(
        *base, "--size", "100000", "--output_dir", str(tmp_path / "b"), cwd=tmp_path, check=False
    )
    assert big.returncode == 2 and len(big.stderr.strip().splitlines()) == 1
    assert "at --size 100000 they would be stylized at 100000x100000 = 10000000000 pixels" in big.stderr

    done = gan_style_in_process(
        *base, "--size", "48", "--max_pixels", "4000", "--output_dir", str(tmp_path / "c"), cwd=tmp_path
    )
    assert "2 frames at 12 fps, 48x48" in done.stdout and (tmp_path / "c" / "small.mp4").is_file()


# --- gan-style stylize: outputs bounded by --max_pixels, checked from the image headers before decoding ----------


def test_stylize_refuses_a_huge_size_in_one_line_before_decoding(tiny_cyclegan_checkpoint, tmp_path, monkeypatch):
    import gan_style.data.images as images_module

    def no_decoding(path):
        raise AssertionError(f"{path} was decoded before the size was checked")

    monkeypatch.setattr(images_module, "load_image", no_decoding)
    base = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(PHOTO)]
    # tiles bound the network's memory, not the image's: the output has the requested size either way
    for extra, width in (([], 159091), (["--tile", "128"], 159091)):
        out = tmp_path / f"out{len(extra)}"
        proc = gan_style_in_process(
            *base, "--size", "100000", *extra, "--output_dir", str(out), cwd=tmp_path, check=False
        )
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert proc.stderr.strip() == (
            f"gan-style stylize: error: content image '{PHOTO}': a 455x286 image at --size 100000 gives a "
            f"{width}x100000 output = {width * 100000} pixels, more than --max_pixels {MAX_OUTPUT_PIXELS}; give a "
            "smaller --size (the shorter side) or raise --max_pixels"
        )
        assert not out.exists()

    # the image's own size against a lower --max_pixels (455 x 286 = 130130)
    proc = gan_style_in_process(
        *base, "--size", "null", "--max_pixels", "100000", "--output_dir", str(tmp_path / "own"), cwd=tmp_path,
        check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"gan-style stylize: error: content image '{PHOTO}': a 455x286 image at its own size gives a 455x286 output "
        "= 130130 pixels, more than --max_pixels 100000; give a smaller --size (the shorter side) or raise "
        "--max_pixels"
    )
    bad = gan_style_in_process(
        *base, "--max_pixels", "0", "--output_dir", str(tmp_path / "z"), cwd=tmp_path, check=False
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "gan-style stylize: error: --max_pixels must be a number of pixels >= 1 or null, got 0"


def test_stylize_within_max_pixels_still_works(tiny_cyclegan_checkpoint, tmp_path):
    out = tmp_path / "out"
    gan_style_in_process(
        "stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(PHOTO), "--size", "null",
        "--max_pixels", "130130", "--output_dir", str(out), cwd=tmp_path,
    )  # fmt: skip
    with Image.open(out / "newyork.png") as img:
        assert img.size == (455, 286)  # the photo's own size, exactly


# --- the demo page: --max_pixels bounds outputs too -----------------------------------------------------------------


def test_demo_refuses_an_output_size_over_max_pixels_and_keeps_serving(tmp_path, monkeypatch):
    pytest.importorskip("gradio")
    import gradio as gr
    import torch

    import gan_style.demo.app as app
    from gan_style.demo.models import DemoModel
    from gan_style.inference import GeneratorStylizer
    from gan_style.nets import ResnetGenerator

    torch.manual_seed(0)
    model = DemoModel("tiny", "CycleGAN", GeneratorStylizer(ResnetGenerator(ngf=4, n_blocks=1)).eval(), ["--x"])
    upload = tmp_path / "uploads" / "small.png"
    upload.parent.mkdir()
    Image.new("RGB", (40, 36), (90, 140, 200)).save(upload)  # a few hundred bytes
    page = app.build_demo([model], "cpu", max_pixels=300_000, examples=([upload], []))
    fns = {f.api_name: f.fn for f in page.fns.values()}
    calls = []
    real = app.stylize_image
    monkeypatch.setattr(app, "stylize_image", lambda *a, **k: calls.append(a[3]) or real(*a, **k))

    def run(size, tile=0):
        # model, content, styles, style_weights, masks, alpha, preserve_color, size, tile, tile_overlap, tile_norm,
        # num_samples, seed
        args = ["tiny", str(upload), [], "", [], 1.0, "model's setting", size, tile, 16, "image", 1, 0]
        return fns["stylize"](*args, request=None, progress=lambda *a, **k: None)

    # tiles bound the network's memory, not the result's: the result has the requested size either way
    for tile, width in ((0, 6667), (64, 6667)):
        with pytest.raises(gr.Error) as err:
            run("6000", tile)
        assert err.value.message == (
            f"At output size 6000 the result would be {width}x6000 pixels, more than this demo produces (300000 "
            "pixels, gan-style demo --max_pixels); choose a smaller output size."
        )
    with pytest.raises(gr.Error, match=r"the result would be 6667x6000 pixels"):
        fns["compare"](["tiny", "tiny"], str(upload), [], "6000", request=None, progress=lambda *a, **k: None)
    assert calls == []  # refused before anything was resized or run

    result, info = run("64")  # the next request is served
    assert calls == [64] and "71x64 px" in info and Path(result).is_file()


def test_demo_default_max_pixels_is_the_output_limit():
    pytest.importorskip("gradio")
    from gan_style.demo.app import DEFAULT_MAX_PIXELS

    assert DEFAULT_MAX_PIXELS == MAX_OUTPUT_PIXELS == 4096 * 4096


# --- archives: size caps, from the headers and while streaming ------------------------------------------------------


def _zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def _targz(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _octal(n: int, width: int) -> bytes:
    return b"%0*o\0" % (width - 1, n)


def _sparse_tar(realsize: int, name: bytes = b"d/big.bin") -> bytes:
    """A tar of one old-GNU sparse member: 512 bytes of data stored, ``realsize`` bytes (holes) once extracted. The
    header's size field says 512; only the sparse map says how large the file is."""
    data = b"x" * 512
    header = bytearray(512)
    header[0 : len(name)] = name
    header[100:108], header[108:116], header[116:124] = _octal(0o644, 8), _octal(0, 8), _octal(0, 8)
    header[124:136], header[136:148] = _octal(len(data), 12), _octal(0, 12)
    header[156:157] = b"S"
    header[257:265] = b"ustar  \0"
    header[386:398], header[398:410] = _octal(realsize - len(data), 12), _octal(len(data), 12)
    header[483:495] = _octal(realsize, 12)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data + b"\0" * 1024


MiB = 1024 * 1024


def test_a_zip_bomb_is_refused_from_its_headers_before_anything_is_read(tmp_path, monkeypatch):
    from gan_style.io.archive import extract_archive

    archive = tmp_path / "bomb.zip"
    archive.write_bytes(_zip([("d/a.bin", b"\0" * 3 * MiB), ("d/b.bin", b"\0" * 3 * MiB)]))
    assert archive.stat().st_size < 30_000

    def no_reading(*args, **kwargs):
        raise AssertionError("a member was read before the headers were checked")

    monkeypatch.setattr(zipfile.ZipFile, "open", no_reading)
    with pytest.raises(UnsafeArchiveError) as err:
        extract_archive(archive, tmp_path / "out", max_bytes=5 * MiB)
    assert isinstance(err.value, ArchiveError)
    assert str(err.value) == (
        f"refusing to extract '{archive}': its members add up to 6291456 bytes (6.0 MiB) by 'd/b.bin', over the "
        "limit of 5242880 bytes (5.0 MiB) in all (max_bytes); nothing was extracted. It may be a "
        "decompression bomb: delete it, or if you trust it pass a larger limit to gan_style.io.archive.extract_archive"
    )
    with pytest.raises(UnsafeArchiveError, match=r"member 'd/a.bin' is 3145728 bytes \(3.0 MiB\), over the limit of "):
        extract_archive(archive, tmp_path / "out", max_member_bytes=2 * MiB)
    assert _leftovers(tmp_path) == ["bomb.zip"]  # no target, no temporary folder


def test_the_module_caps_are_the_defaults(tmp_path, monkeypatch):
    import gan_style.io.archive as archive_module

    archive = tmp_path / "many.zip"
    archive.write_bytes(_zip([(f"d/{i}.txt", b"x") for i in range(20)]))
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 10)
    with pytest.raises(UnsafeArchiveError, match=r"it has more than 10 members, over the limit of 10 \(max_members\)"):
        archive_module.extract_archive(archive, tmp_path / "out")
    monkeypatch.setattr(archive_module, "MAX_MEMBERS", 21)  # 20 files and no folder entries
    monkeypatch.setattr(archive_module, "MAX_EXTRACT_BYTES", 19)
    with pytest.raises(
        UnsafeArchiveError, match=r"add up to 20 bytes by 'd/19.txt', over the limit of 19 bytes in all"
    ):
        archive_module.extract_archive(archive, tmp_path / "out")
    monkeypatch.setattr(archive_module, "MAX_EXTRACT_BYTES", 20)
    out = archive_module.extract_archive(archive, tmp_path / "out")
    assert len(list(out.iterdir())) == 20
    assert archive_module.MAX_MEMBER_BYTES == 4 * 1024**3


def test_a_tar_stops_at_the_member_that_crosses_the_cap_and_an_old_copy_is_kept(tmp_path):
    from gan_style.io.archive import extract_archive

    archive = tmp_path / "big.tar.gz"
    archive.write_bytes(_targz([(f"d/{i}.bin", bytes(400 * 1024)) for i in range(4)]))
    old = tmp_path / "out"
    old.mkdir()
    (old / "keep.txt").write_text("previous copy")
    with pytest.raises(
        UnsafeArchiveError, match=r"add up to 1228800 bytes \(1.2 MiB\) by 'd/2.bin', over the limit of 1048576 bytes"
    ):
        extract_archive(archive, old, replace=True, max_bytes=MiB)
    assert _leftovers(tmp_path) == ["big.tar.gz", "out", "out/keep.txt"]
    assert extract_archive(archive, old, replace=True, max_bytes=2 * MiB) == old  # under the cap: extracted
    assert sorted(p.name for p in old.iterdir()) == ["0.bin", "1.bin", "2.bin", "3.bin"]


def test_a_sparse_tar_member_that_expands_to_gigabytes_is_refused(tmp_path):
    from gan_style.io.archive import extract_archive

    archive = tmp_path / "sparse.tar"
    archive.write_bytes(_sparse_tar(5 * 1024**3))  # 2 KB; its header's size field says 512 bytes
    with pytest.raises(UnsafeArchiveError) as err:
        extract_archive(archive, tmp_path / "out")  # the default caps: 4 GiB a member
    assert str(err.value).startswith(
        f"refusing to extract '{archive}': member 'd/big.bin' is 5368709120 bytes (5.0 GiB), over the limit of "
        "4294967296 bytes (4.0 GiB) per member (max_member_bytes); nothing was extracted."
    )
    assert _leftovers(tmp_path) == ["sparse.tar"]


def test_a_member_that_expands_past_its_header_stops_at_the_cap_while_streaming(tmp_path, monkeypatch):
    """Python's zip reader stops at the size the central directory declares; a reader that did not (or a header the
    reader and the check read differently) is stopped by the count of the bytes actually written."""
    from gan_style.io.archive import extract_archive

    archive = tmp_path / "liar.zip"
    archive.write_bytes(_zip([("d/small.txt", b"0123456789")]))  # declares 10 bytes
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: io.BytesIO(b"\0" * 3 * MiB))
    with pytest.raises(UnsafeArchiveError) as err:
        extract_archive(archive, tmp_path / "out", max_bytes=MiB)
    assert "its members expand to more than their headers say" in str(err.value)
    assert "over the limit of 1048576 bytes (1.0 MiB) in all (max_bytes)" in str(err.value)
    with pytest.raises(UnsafeArchiveError, match=r"member 'd/small.txt' expands to more than its header says"):
        extract_archive(archive, tmp_path / "out", max_member_bytes=MiB)
    assert _leftovers(tmp_path) == ["liar.zip"]


def test_caps_must_be_positive_integers(tmp_path):
    from gan_style.io.archive import extract_archive

    archive = tmp_path / "a.zip"
    archive.write_bytes(_zip([("a.txt", b"a")]))
    with pytest.raises(InvalidSettingError, match=r"max_members must be an integer >= 1, got 0"):
        extract_archive(archive, tmp_path / "out", max_members=0)
    assert os.listdir(tmp_path) == ["a.zip"]
