"""One way to run a model: one model and one input give identical pixels through every door (``stylize``,
``predict``, the demo, ``gan_style.load`` from a checkpoint, a run folder and a model folder, ``compare`` and video
frames), at the input's own size by default, by the sizing policy of :mod:`gan_style.inference.run`."""

from __future__ import annotations

import io
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import SAMPLE_ROOT
from gan_style.inference.run import Runner, network_size, output_size

# a photo whose sides are no multiple of the tiny ResNet generator's 4: the network input is resized and back
WIDTH, HEIGHT = 454, 286


@pytest.fixture(scope="module")
def photo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("photo") / "photos"
    folder.mkdir()
    with Image.open(SAMPLE_ROOT / "testA" / "newyork.jpg") as img:
        img.convert("RGB").crop((0, 0, WIDTH, HEIGHT)).save(folder / "photo.png")
    return folder / "photo.png"


def _cli(args, monkeypatch, cwd: Path) -> None:
    from gan_style.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", sys.argv[:1])
    try:
        main(list(args))
    except SystemExit as exit_info:
        assert exit_info.code in (0, None), exit_info.code


def _pixels(image) -> np.ndarray:
    if isinstance(image, (str, Path)):
        with Image.open(image) as img:
            return np.asarray(img.convert("RGB")).copy()
    return np.asarray(image.convert("RGB")).copy()


def test_every_door_gives_the_same_pixels(tiny_cyclegan_checkpoint, photo, tmp_path, monkeypatch):
    import gan_style
    from gan_style.commands.compare import compare
    from gan_style.data.images import load_image
    from gan_style.demo.inference import stylize_image, to_png
    from gan_style.inference import video
    from gan_style.loading import load_stylizer
    from gan_style.pretrained.folder import save_model_folder

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    ckpt = run / "checkpoints" / "last.ckpt"
    shutil.copy(tiny_cyclegan_checkpoint, ckpt)
    doors: dict[str, np.ndarray] = {}

    _cli(
        ["stylize", "--checkpoint", str(ckpt), "--content", str(photo), "--output_dir", str(tmp_path / "s")],
        monkeypatch,
        tmp_path,
    )
    reference = _pixels(tmp_path / "s" / "photo.png")
    assert reference.shape == (HEIGHT, WIDTH, 3)  # the photo's own size by default, never the training crop

    _cli(
        ["stylize", "--checkpoint", str(run), "--content", str(photo), "--output_dir", str(tmp_path / "r")],
        monkeypatch,
        tmp_path,
    )
    doors["stylize (run folder)"] = _pixels(tmp_path / "r" / "photo.png")

    _cli(["predict", f"--ckpt_path={ckpt}", f"--data.init_args.root={photo.parent}"], monkeypatch, tmp_path)
    doors["predict"] = _pixels(run / "predictions" / "photo.png")

    buffer = io.BytesIO()
    to_png(stylize_image(load_stylizer(ckpt), load_image(photo)), buffer)
    doors["demo"] = _pixels(Image.open(io.BytesIO(buffer.getvalue())))

    doors["gan_style.load(checkpoint)"] = _pixels(gan_style.load(str(ckpt))(str(photo)))
    doors["gan_style.load(run folder)"] = _pixels(gan_style.load(str(run))(str(photo)))
    from gan_style.loading import load_method

    folder = save_model_folder(load_method(ckpt), tmp_path / "folder")
    doors["gan_style.load(model folder)"] = _pixels(gan_style.load(str(folder))(str(photo)))

    cells = {}
    monkeypatch.setattr(
        "gan_style.commands.compare._grid", lambda rows, size: cells.update(rows) or Image.new("RGB", (1, 1))
    )
    compare([str(run)], output=str(tmp_path / "report.md"), inputs=[str(photo)], size=HEIGHT)
    doors["compare"] = _pixels(next(v for k, v in cells.items() if k != "input")[0])

    frames: list[np.ndarray] = []
    original_write = video.ClipWriter.write
    monkeypatch.setattr(
        video.ClipWriter, "write", lambda self, frame: frames.append(frame.copy()) or original_write(self, frame)
    )
    clip = tmp_path / "clip"
    clip.mkdir()
    shutil.copy(photo, clip / "0001.png")
    shutil.copy(photo, clip / "0002.png")
    _cli(
        [
            "stylize",
            "--checkpoint",
            str(ckpt),
            "--content",
            str(clip),
            "--fps",
            "2",
            "--temporal",
            "none",
            "--output_dir",
            str(tmp_path / "v"),
        ],
        monkeypatch,
        tmp_path,
    )
    doors["video frame 0"] = frames[0]

    differences = {door: int(np.abs(image.astype(int) - reference.astype(int)).max()) for door, image in doors.items()}
    assert differences == dict.fromkeys(doors, 0), differences


@pytest.mark.parametrize(
    ("height", "width", "size", "expected"),
    [(286, 455, None, (286, 455)), (286, 455, 128, (128, 204)), (455, 286, 128, (204, 128)), (100, 100, 7, (7, 7))],
)
def test_output_size_keeps_the_aspect_ratio(height, width, size, expected):
    assert output_size(height, width, size) == expected


def test_network_size_rounds_to_the_nearest_multiple():
    assert network_size(286, 455, 32) == (288, 448)
    assert network_size(286, 455, 4) == (288, 456)
    assert network_size(10, 10, 32) == (32, 32)  # at least one multiple


def test_the_runner_sizes_back_and_tiles_above_the_budget():
    from gan_style.errors import InvalidSettingError
    from gan_style.inference.stylizer import GeneratorStylizer
    from gan_style.nets import ResnetGenerator

    torch.manual_seed(0)
    stylizer = GeneratorStylizer(ResnetGenerator(ngf=4, n_blocks=1).eval())
    x = torch.rand(1, 3, 37, 53) * 2 - 1
    whole = Runner(stylizer)(x)
    assert whole.shape == (1, 3, 37, 53)  # run at 36 x 52, sized back
    assert Runner(stylizer, size=20)(x).shape == (1, 3, 20, 29)
    tiled = Runner(stylizer, pixel_budget=16 * 16, tile_overlap=8)(x)  # above the budget: tiles of 512, same size
    assert tiled.shape == (1, 3, 37, 53)
    with pytest.raises(InvalidSettingError, match="--max_pixels 100"):
        Runner(stylizer, max_pixels=100)(x)
