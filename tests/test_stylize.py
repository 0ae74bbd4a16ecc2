"""AdaIN and Gatys through the command line, and ``gan-style stylize`` for every method."""

import pytest
import torch
from PIL import Image

from conftest import REPO, SAMPLE_ROOT, gan_style_in_process

CONTENT = SAMPLE_ROOT / "testA"
STYLE_1 = SAMPLE_ROOT / "testB" / "starry_night_crop.jpg"
STYLE_2 = SAMPLE_ROOT / "trainB" / "mondrian.jpg"


@pytest.fixture(scope="module")
def adain_checkpoint(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("adain")
    run = tmp / "run"
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "adain.yaml"),
        "--model.init_args.encoder_weights=null",
        f"--data.init_args.content_dir={SAMPLE_ROOT / 'trainA'}",
        f"--data.init_args.style_dir={SAMPLE_ROOT / 'trainB'}",
        "--data.init_args.load_size=40",
        "--data.init_args.crop_size=32",
        "--data.init_args.batch_size=2",
        "--data.init_args.num_workers=0",
        "--data.init_args.num_val=2",
        "--trainer.max_steps=3",
        "--trainer.limit_val_batches=1",
        "--trainer.enable_progress_bar=false",
        f"--trainer.default_root_dir={run}",
        cwd=tmp,
    )
    return run / "checkpoints" / "last.ckpt"


def test_adain_fit_through_the_cli(adain_checkpoint):
    ckpt = torch.load(adain_checkpoint, map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 3 and ckpt["hyper_parameters"]["_class_path"] == "gan_style.methods.AdaIN"
    assert any(k.startswith("decoder.") for k in ckpt["state_dict"])
    grids = list((adain_checkpoint.parent.parent / "samples").glob("*.png"))
    assert grids


def test_stylize_with_adain(adain_checkpoint, tmp_path):
    out = tmp_path / "out"
    gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(adain_checkpoint),
        "--content",
        str(CONTENT),
        "--style",
        f"[{STYLE_1},{STYLE_2}]",
        "--style_weights",
        "[0.3,0.7]",
        "--size",
        "64",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    written = sorted(p.name for p in out.iterdir())
    assert written == ["newyork_starry_night_crop+mondrian.png", "sailboat_starry_night_crop+mondrian.png"]
    with Image.open(out / written[1]) as img:
        assert img.size == (64, 64)  # sailboat is square; shorter side = --size
    mask = tmp_path / "mask.png"
    Image.new("L", (64, 64), 255).save(mask)
    gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(adain_checkpoint),
        "--content",
        str(CONTENT / "sailboat.jpg"),
        "--style",
        str(STYLE_1),
        "--masks",
        str(mask),
        "--alpha",
        "0.5",
        "--preserve_color",
        "luminance",
        "--size",
        "64",
        "--output_dir",
        str(tmp_path / "masked"),
        cwd=tmp_path,
    )
    assert (tmp_path / "masked" / "sailboat_starry_night_crop.png").is_file()


def test_stylize_refuses_bad_requests(adain_checkpoint, tmp_path):
    proc = gan_style_in_process(
        "stylize", "--checkpoint", str(adain_checkpoint), "--content", str(CONTENT), cwd=tmp_path, check=False
    )
    assert proc.returncode == 2 and "needs --style" in proc.stderr
    proc = gan_style_in_process(
        "stylize", "--content", str(CONTENT), "--style", str(STYLE_1), cwd=tmp_path, check=False
    )
    assert proc.returncode == 2 and "--checkpoint" in proc.stderr
    # writing next to the inputs with the same name would overwrite an input: refused, input unchanged
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    photo, src = inputs / "photo.png", inputs / "photo_starry_night_crop.png"  # photo's output name is taken
    Image.open(CONTENT / "sailboat.jpg").save(photo)
    Image.open(CONTENT / "newyork.jpg").save(src)
    before = src.read_bytes()
    proc = gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(adain_checkpoint),
        "--content",
        f"[{photo},{src}]",
        "--style",
        str(STYLE_1),
        "--size",
        "32",
        "--output_dir",
        str(inputs),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "overwrite an input" in proc.stderr
    assert src.read_bytes() == before


def test_stylize_translates_with_a_cyclegan_checkpoint(tiny_cyclegan_checkpoint, tmp_path):
    ckpt = tiny_cyclegan_checkpoint  # a 2-step fit of the tiny CycleGAN recipe, shared with test_export
    out = tmp_path / "out"
    gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(ckpt),
        "--content",
        str(CONTENT),
        "--size",
        "48",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    assert sorted(p.name for p in out.iterdir()) == ["newyork.png", "sailboat.png"]
    proc = gan_style_in_process(
        "stylize",
        "--checkpoint",
        str(ckpt),
        "--content",
        str(CONTENT),
        "--style",
        str(STYLE_1),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "takes no --style" in proc.stderr


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--size", "0"], "--size must be a number of pixels >= 1 (the shorter side), auto or null, got 0"),
        (["--size", "-1"], "--size must be a number of pixels >= 1 (the shorter side), auto or null, got -1"),
        (["--alpha", "0.5"], "does not take --alpha"),
    ],
    ids=["size_0", "size_negative", "alpha_for_translation"],
)
def test_stylize_refuses_settings_it_cannot_honour(tiny_cyclegan_checkpoint, tmp_path, extra, message):
    out = tmp_path / "out"
    args = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(CONTENT)]
    proc = gan_style_in_process(*args, "--output_dir", str(out), *extra, cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert message in proc.stderr.strip().splitlines()[-1]
    assert not out.exists()


def test_stylize_keeps_the_photo_size_by_default_never_the_training_crop(tiny_cyclegan_checkpoint, tmp_path):
    """Without --size the output has the photo's own size (not the 32 px training crop the checkpoint records);
    --size sets the shorter side, the aspect ratio kept."""
    assert torch.load(tiny_cyclegan_checkpoint, weights_only=True)["gan_style_image_size"] == 32
    args = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(CONTENT / "newyork.jpg")]
    gan_style_in_process(*args, "--output_dir", str(tmp_path / "own"), cwd=tmp_path)
    with Image.open(tmp_path / "own" / "newyork.png") as img:
        assert img.size == (455, 286)
    gan_style_in_process(*args, "--size", "64", "--output_dir", str(tmp_path / "64"), cwd=tmp_path)
    with Image.open(tmp_path / "64" / "newyork.png") as img:
        assert img.size == (102, 64)


def test_stylize_refuses_two_inputs_with_one_output_name(tiny_cyclegan_checkpoint, tmp_path):
    """x.jpg and x.png would both become x.png: refused before anything is written, naming both."""
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.open(CONTENT / "newyork.jpg").save(photos / "x.jpg")
    Image.open(CONTENT / "sailboat.jpg").save(photos / "x.png")
    out = tmp_path / "out"
    args = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(photos), "--size", "32"]
    proc = gan_style_in_process(*args, "--output_dir", str(out), cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"gan-style stylize: error: content images '{photos / 'x.jpg'}' and '{photos / 'x.png'}' would both be "
        f"written to '{out / 'x.png'}'; stylize them into separate output folders or rename one"
    )
    assert not out.exists()


def test_stylize_skips_bad_images_only_when_asked_and_cleans_stale_partials(tiny_cyclegan_checkpoint, tmp_path):
    """A folder with an unreadable image: refused naming it and --skip_bad_images (which stylize has); with the
    switch, skipped with a warning and counted. Partial images a killed stylize left in the output folder are
    removed."""
    import shutil
    import subprocess
    import sys

    photos = tmp_path / "photos"
    shutil.copytree(CONTENT, photos)
    (photos / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    out.mkdir()
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # a writer that is gone
    partial = out / f".newyork.png.tmp-{child.pid}-0a1b2c3d"
    partial.write_bytes(b"half a png")
    args = ["stylize", "--checkpoint", str(tiny_cyclegan_checkpoint), "--content", str(photos), "--size", "32"]
    proc = gan_style_in_process(*args, "--output_dir", str(out), cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"gan-style stylize: error: image file '{photos / 'broken.png'}' is not a readable image (cannot identify "
        f"image file '{photos / 'broken.png'}'); replace or remove it, or pass --skip_bad_images to skip "
        "unreadable files with a warning"
    )
    proc = gan_style_in_process(*args, "--output_dir", str(out), "--skip_bad_images", cwd=tmp_path)
    assert f"stylize: wrote 2 image(s) to {out} (skipped 1 unreadable: {photos / 'broken.png'})" in proc.stdout
    assert "broken.png" in proc.stderr and "skipped" in proc.stderr  # the warning
    assert sorted(p.name for p in out.iterdir()) == ["newyork.png", "sailboat.png"]


def test_gatys_through_fit_and_stylize(tmp_path):
    gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "gatys.yaml"),
        f"--model.content={CONTENT / 'sailboat.jpg'}",
        f"--model.style={STYLE_1}",
        "--model.image_size=40",
        "--model.num_iterations=3",
        "--model.vgg_weights=null",
        f"--trainer.default_root_dir={tmp_path / 'run'}",
        "--trainer.enable_progress_bar=false",
        cwd=tmp_path,
    )
    assert (tmp_path / "run" / "stylized" / "sailboat_starry_night_crop.png").is_file()
    gan_style_in_process(
        "stylize",
        "--method",
        "gatys",
        "--content",
        str(CONTENT / "newyork.jpg"),
        "--style",
        str(STYLE_1),
        "--size",
        "40",
        "--num_iterations",
        "2",
        "--vgg_weights",
        "null",
        "--output_dir",
        str(tmp_path / "g"),
        cwd=tmp_path,
    )
    with Image.open(tmp_path / "g" / "newyork_starry_night_crop.png") as img:
        assert min(img.size) == 40
