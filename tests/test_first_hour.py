"""What a newcomer meets first: predicting from a checkpoint alone, own folders, help and errors that read as
one line, the sample data and recipes from any folder, compare's notes."""

import shutil
from pathlib import Path

import pytest
import torch
import yaml
from PIL import Image

from conftest import REPO, TINY_CLI_ARGS, gan_style_in_process, write_image
from gan_style.commands.compare import empty_column_notes, run_test_images
from gan_style.commands.help import nearest_options, plain_text
from gan_style.data.samples import copy_samples, resolve_data_path, sample_data_dir


def _copy_run(checkpoint: Path, tmp_path: Path) -> Path:
    """A copy of the shared tiny CycleGAN run's checkpoint in a run folder of this test's own."""
    target = tmp_path / "run" / "checkpoints" / "last.ckpt"
    target.parent.mkdir(parents=True)
    shutil.copy(checkpoint, target)
    return target


def test_predict_from_the_checkpoint_alone_keeps_the_aspect_ratio_of_a_plain_folder(tmp_path, tiny_cyclegan_checkpoint):
    """No --config: the checkpoint's own training config is used; a folder without testA/ is translated whole,
    each image at its own size (never the 32 px training crop), beside the copied checkpoint."""
    ckpt = _copy_run(tiny_cyclegan_checkpoint, tmp_path)
    photos = tmp_path / "photos"
    write_image(photos / "wide.png", size=(90, 60))
    write_image(photos / "tall.jpg", size=(40, 64), seed=1)
    result = gan_style_in_process("predict", "--ckpt_path", str(ckpt), "--data.root", str(photos), cwd=tmp_path)
    assert "Traceback" not in result.stderr
    out = tmp_path / "run" / "predictions"
    sizes = {p.name: Image.open(p).size for p in out.iterdir()}
    assert sizes == {"wide.png": (90, 60), "tall.png": (40, 64)}, sizes
    assert not (tmp_path / "run" / "lightning_logs").exists()  # predict adds no logger version


def test_a_checkpoint_without_a_config_asks_for_the_recipes(tmp_path, tiny_cyclegan_checkpoint):
    checkpoint = torch.load(tiny_cyclegan_checkpoint, map_location="cpu", weights_only=True)
    assert "gan_style_config" in checkpoint  # written by gan-style fit
    del checkpoint["gan_style_config"]
    bare = tmp_path / "bare.ckpt"
    torch.save(checkpoint, bare)
    result = gan_style_in_process("predict", "--ckpt_path", str(bare), cwd=tmp_path, check=False)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"gan-style: error: checkpoint '{bare}' carries no training config (it was not written by "
        f"gan-style fit); give the recipes it was trained with, e.g. gan-style predict --config cyclegan "
        f"--ckpt_path {bare}"
    ]


def test_training_on_a_folder_without_test_folders_runs_without_validation(tmp_path):
    root = tmp_path / "mine"
    for domain in "AB":
        for i in range(2):
            write_image(root / f"train{domain}" / f"{i}.png", size=(40, 40), seed=i)
    result = gan_style_in_process(
        "fit",
        "--config",
        "cyclegan",
        *TINY_CLI_ARGS,
        f"--data.init_args.root={root}",
        f"--trainer.default_root_dir={tmp_path / 'run'}",
        "--trainer.max_steps=2",
        cwd=tmp_path,
    )
    said = [line for line in result.stderr.splitlines() if "training without validation" in line]
    assert said == [
        f"gan-style: warning: dataset root '{root}' has no 'testA/' and 'testB/': training without validation "
        "(add test folders for validation samples and metrics)"
    ]
    assert "Total length" not in result.stderr + result.stdout
    assert (tmp_path / "run" / "checkpoints" / "last.ckpt").is_file()


def test_method_help_names_its_settings_and_gan_style_networks_in_plain_text(tmp_path):
    result = gan_style_in_process("fit", "--model.help", "CycleGAN", cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    text = result.stdout
    # the networks are named in plain text; the known-subclass list may give the class by its defining module
    # (gan_style.nets.resnet_generator.ResnetGenerator) or wrap it, depending on what earlier code imported
    assert "--model.lambda_cycle" in text and "ResnetGenerator" in " ".join(text.split())
    assert "torch.nn.Linear" not in text and "``" not in text and ":class:" not in text
    assert len(text.splitlines()) < 300


def test_plain_text_removes_rst_markup():
    assert plain_text("a ``class_path`` and :class:`~gan_style.nets.ResnetGenerator`") == (
        "a class_path and ResnetGenerator"
    )
    assert plain_text(":func:`gan_style.load` and :class:`the table <gan_style.Foo>`") == (
        "gan_style.load and the table"
    )
    assert plain_text("default: %(default)s, *emphasis* and **strong**") == "default: %(default)s, emphasis and strong"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["fit", "--config", "cyclegan", "--trainer.max_stepz", "3"],
            "gan-style fit: error: unrecognized arguments: --trainer.max_stepz 3; did you mean --trainer.max_steps? "
            "(gan-style fit --help lists the options)",
        ),
        (
            ["stylize", "--contnet", "x.jpg"],
            "gan-style stylize: error: unrecognized arguments: --contnet x.jpg; did you mean --content? "
            "(gan-style stylize --help lists the options)",
        ),
        (
            ["stylise", "--content", "x.jpg"],
            "gan-style: error: unknown command 'stylise'; did you mean 'stylize'?",
        ),
    ],
)
def test_a_misspelt_option_or_command_is_one_line_with_the_nearest(tmp_path, args, expected):
    result = gan_style_in_process(*args, cwd=tmp_path, check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(expected), lines


def test_nearest_options_compares_the_last_part_among_siblings():
    class Parser:
        _option_string_actions = {o: None for o in ("--trainer.max_steps", "--trainer.logger", "--model.lr")}

    assert nearest_options(Parser(), "unrecognized arguments: --trainer.max_step=5") == ["--trainer.max_steps"]
    assert nearest_options(Parser(), "unrecognized arguments: --trainer.bogus 1") == []
    assert nearest_options(Parser(), "something else") == []


def test_sample_paths_resolve_to_the_installed_copy_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no examples/ here
    found = resolve_data_path("examples/data/photo2painting")
    assert found == sample_data_dir() / "photo2painting" and (found / "trainA").is_dir()
    assert resolve_data_path("examples/data/missing") == Path("examples/data/missing")
    assert resolve_data_path("elsewhere/photos") == Path("elsewhere/photos")
    copied = copy_samples(tmp_path / "copy")
    assert sorted(p.name for p in (copied / "photo2painting" / "testA").iterdir()) == ["newyork.jpg", "sailboat.jpg"]
    assert resolve_data_path("examples/data/photo2painting") == sample_data_dir() / "photo2painting"
    with pytest.raises(FileExistsError):
        copy_samples(copied)


def test_download_sample_copies_the_sample_sets(tmp_path):
    result = gan_style_in_process("download", "sample", "--root", str(tmp_path / "d"), cwd=tmp_path)
    assert (tmp_path / "d" / "sample" / "facades" / "train").is_dir()
    assert "gan-style fit --config cyclegan --config demo/cpu --data.init_args.root" in result.stdout
    again = gan_style_in_process("download", "sample", "--root", str(tmp_path / "d"), cwd=tmp_path, check=False)
    assert again.returncode == 2 and "add --force to replace it" in again.stderr


def test_compare_finds_relative_test_images_from_the_folder_the_run_started_in(tmp_path, monkeypatch):
    base = tmp_path / "project"
    run = base / "runs" / "mine"
    run.mkdir(parents=True)
    write_image(base / "mydata" / "testA" / "a.png")
    config = {"trainer": {"default_root_dir": "runs/mine"}, "data": {"init_args": {"root": "mydata"}}}
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.chdir(tmp_path)  # not the folder the run was started in
    assert run_test_images(Path("project/runs/mine")) == (base / "mydata" / "testA", None)
    config["data"]["init_args"]["root"] = "gone"
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    assert run_test_images(Path("project/runs/mine")) == (None, "gone/testA")


def test_compare_says_why_a_metric_column_is_empty():
    rows = [
        {"fid": None, "kid": None, "lpips": 0.3, "artfid": None, "psnr": None, "ssim": None,
         "unavailable": {"fid": "weights missing: X", "kid": "weights missing: X"}},
        {"fid": None, "kid": None, "lpips": None, "artfid": None, "psnr": None, "ssim": None, "unavailable": {}},
    ]  # fmt: skip
    notes = empty_column_notes(rows)
    assert notes[0] == "empty columns fid, kid: not computed (weights missing: X)"
    assert notes[1].startswith("empty columns artfid, psnr, ssim: no run logged them")
    assert len(notes) == 2


def test_the_sample_data_is_package_data():
    """The wheel carries the sample sets (gan_style/sample_data is the source tree's examples/data)."""
    assert sample_data_dir().resolve() == (REPO / "examples" / "data").resolve()
    import tomllib

    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["gan_style"]
    assert "sample_data/*/*/*.jpg" in patterns


def test_gatys_without_its_weights_is_one_line_naming_the_flag(tmp_path, monkeypatch, dead_url):
    """Offline, `stylize --method gatys` ends with one line that names the file, where to put it and the
    command's own flag, exit status 1 (weights that cannot be downloaded)."""
    import gan_style.nets.vgg as vgg

    monkeypatch.setattr(vgg, "IMAGENET_VGG19_URL", dead_url.replace("horse2zebra.zip", "vgg19-dcbb9e9d.pth"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    photo = write_image(tmp_path / "photo.png", size=(32, 32))
    art = write_image(tmp_path / "art.png", size=(32, 32), seed=3)
    result = gan_style_in_process(
        "stylize", "--method", "gatys", "--content", str(photo), "--style", str(art), "--size", "32",
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("gan-style stylize: error: the ImageNet VGG-19 weights (vgg19-dcbb9e9d.pth")
    assert lines[0].endswith("or give a local copy with --vgg_weights FILE (vgg_weights= in Python)")
    assert not (tmp_path / "stylized").exists()
