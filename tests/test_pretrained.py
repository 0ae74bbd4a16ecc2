"""Published models one call away: the catalogue, downloads through ``GAN_STYLE_MIRROR`` from a local HTTP server
serving files built here in the published layouts (random weights), the converters, ``from_pretrained``,
``gan-style stylize --pretrained`` and ``gan-style pretrained``; offline, checksum, resume, unsafe-file and
wrong-combination cases."""

from __future__ import annotations

import io
import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from PIL import Image

import gan_style
from conftest import SAMPLE_ROOT, gan_style_in_process
from gan_style.errors import ChecksumError, DownloadSettingError, OfflineError, UnreadableFileError, UnsafeFileError
from gan_style.inference import GeneratorStylizer
from gan_style.methods.adain import AdaINStylizer
from gan_style.methods.pix2pix import Pix2PixStylizer
from gan_style.nets import AdaINDecoder, ResnetGenerator, UnetGenerator, VGGFeatures
from gan_style.pretrained import (
    CATALOGUE,
    cache_dir,
    download_pretrained,
    from_pretrained,
    is_cached,
    mirror_url,
    resolve_pretrained,
)
from gan_style.pretrained import catalogue as catalogue_module

CONTENT = SAMPLE_ROOT / "testA"


def _bytes(obj) -> bytes:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    return buffer.getvalue()


def _path(url: str) -> str:
    """The path part a mirror serves for an official URL (query kept, as a mirror sees it)."""
    rest = url.split("://", 1)[1]
    return rest[rest.index("/") :]


# --- files in the published layouts ----------------------------------------------------------------------------


def cyclegan_file(seed: int = 0) -> tuple[dict, bytes]:
    """A CycleGAN zoo generator: ResnetGenerator (9 blocks, instance norm) keys, plus the instance-norm
    running-statistics keys (running_mean, running_var, num_batches_tracked) that the zoo files carry."""
    torch.manual_seed(seed)
    state = ResnetGenerator().state_dict()
    published = dict(state)
    net = ResnetGenerator()
    for name, module in net.named_modules():  # every instance-norm layer, as the zoo files have them
        if isinstance(module, torch.nn.InstanceNorm2d):
            published[f"{name}.running_mean"] = torch.zeros(module.num_features)
            published[f"{name}.running_var"] = torch.ones(module.num_features)
            published[f"{name}.num_batches_tracked"] = torch.tensor(0)
    return state, _bytes(published)


def fast_neural_style_state(seed: int = 0) -> dict[str, torch.Tensor]:
    """A state dict with the key names, shapes and legacy instance-norm keys of the PyTorch examples'
    ``TransformerNet`` (conv1..conv3, res1..res5, deconv1..deconv3, in1..in5), random weights chosen so that the
    output lies around the middle of [0, 255]."""
    g = torch.Generator().manual_seed(seed)

    def conv(name, cout, cin, k):
        state[f"{name}.conv2d.weight"] = torch.randn(cout, cin, k, k, generator=g) * (1.0 / (cin * k * k)) ** 0.5
        state[f"{name}.conv2d.bias"] = torch.randn(cout, generator=g) * 0.1

    def norm(name, c):
        state[f"{name}.weight"] = 1 + 0.1 * torch.randn(c, generator=g)
        state[f"{name}.bias"] = 0.1 * torch.randn(c, generator=g)
        state[f"{name}.running_mean"] = torch.zeros(c)  # legacy keys, ignored
        state[f"{name}.running_var"] = torch.ones(c)

    state: dict[str, torch.Tensor] = {}
    conv("conv1", 32, 3, 9), norm("in1", 32)
    conv("conv2", 64, 32, 3), norm("in2", 64)
    conv("conv3", 128, 64, 3), norm("in3", 128)
    for i in range(1, 6):
        conv(f"res{i}.conv1", 128, 128, 3), norm(f"res{i}.in1", 128)
        conv(f"res{i}.conv2", 128, 128, 3), norm(f"res{i}.in2", 128)
    conv("deconv1", 64, 128, 3), norm("in4", 64)
    conv("deconv2", 32, 64, 3), norm("in5", 32)
    conv("deconv3", 3, 32, 9)
    state["deconv3.conv2d.weight"] *= 30.0
    state["deconv3.conv2d.bias"] = torch.full((3,), 127.5)
    return state


def fast_neural_style_forward(state: dict[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """The fast-neural-style network (Johnson et al. 2016 with instance norm, as the PyTorch examples build it:
    reflection padding, 9x9 / 3x3 convolutions, five residual blocks, nearest x2 upsampling before a
    convolution, no output activation), written with functional ops straight from the state dict. Works on
    [0, 255] pixels."""

    def conv(x, name, stride=1):
        w = state[f"{name}.conv2d.weight"]
        pad = w.shape[-1] // 2
        return F.conv2d(F.pad(x, (pad, pad, pad, pad), mode="reflect"), w, state[f"{name}.conv2d.bias"], stride)

    def norm(x, name):
        return F.instance_norm(x, weight=state[f"{name}.weight"], bias=state[f"{name}.bias"], eps=1e-5)

    y = F.relu(norm(conv(x, "conv1"), "in1"))
    y = F.relu(norm(conv(y, "conv2", 2), "in2"))
    y = F.relu(norm(conv(y, "conv3", 2), "in3"))
    for i in range(1, 6):
        h = F.relu(norm(conv(y, f"res{i}.conv1"), f"res{i}.in1"))
        y = y + norm(conv(h, f"res{i}.conv2"), f"res{i}.in2")
    y = F.relu(norm(conv(F.interpolate(y, scale_factor=2, mode="nearest"), "deconv1"), "in4"))
    y = F.relu(norm(conv(F.interpolate(y, scale_factor=2, mode="nearest"), "deconv2"), "in5"))
    return conv(y, "deconv3")


def saved_models_zip(states: dict[str, dict]) -> bytes:
    """``saved_models.zip`` as published: a ``saved_models/`` folder holding ``<name>.pth`` files."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, state in states.items():
            zf.writestr(f"saved_models/{name}.pth", _bytes(state))
    return buffer.getvalue()


@pytest.fixture
def zoo(server, tmp_path, monkeypatch):
    """The local server holds the published files of cyclegan/horse2zebra, the four fast-neural-style models
    (one zip) and AdaIN (decoder.pth, vgg_normalised.pth); ``GAN_STYLE_MIRROR`` points at it and the cache
    (``$TORCH_HOME``) is empty."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("GAN_STYLE_MIRROR", server.url(""))
    states = {}
    states["horse2zebra"], server.files[_path(CATALOGUE["cyclegan/horse2zebra"].files["generator"].url)] = (
        cyclegan_file()
    )
    fns = {
        name: fast_neural_style_state(seed) for seed, name in enumerate(["candy", "mosaic", "rain_princess", "udnie"])
    }
    states.update(fns)
    server.files[_path(CATALOGUE["fast_neural_style/candy"].files["generator"].url)] = saved_models_zip(fns)
    torch.manual_seed(1)
    states["decoder"] = AdaINDecoder().state_dict()
    states["vgg_normalised"] = VGGFeatures(["relu5_4"], weights=None, layout="adain").body.state_dict()
    adain = CATALOGUE["adain/coco_wikiart"].files
    server.files[_path(adain["decoder"].url)] = _bytes(states["decoder"])
    server.files[_path(adain["encoder"].url)] = _bytes(states["vgg_normalised"])
    server.states = states
    return server


def _image(size: int = 64, seed: int = 0) -> torch.Tensor:
    return torch.rand(1, 3, size, size, generator=torch.Generator().manual_seed(seed)) * 2 - 1


# --- the catalogue --------------------------------------------------------------------------------------------


def test_the_catalogue_names_every_published_model_with_its_facts():
    names = set(CATALOGUE)
    cyclegan = {n for n in names if n.startswith("cyclegan/")}
    assert len(cyclegan) == 18 and "cyclegan/iphone2dslr_flower" in cyclegan
    assert {n for n in names if n.startswith("pix2pix/")} == {
        f"pix2pix/{m}" for m in ("edges2shoes", "sat2map", "map2sat", "facades_label2photo", "day2night")
    }
    assert {n for n in names if n.startswith("fast_neural_style/")} == {
        f"fast_neural_style/{m}" for m in ("candy", "mosaic", "rain_princess", "udnie")
    }
    horse = CATALOGUE["cyclegan/horse2zebra"]
    assert (
        horse.files["generator"].url == "http://efrosgans.eecs.berkeley.edu/cyclegan/pretrained_models/horse2zebra.pth"
    )
    assert CATALOGUE["pix2pix/edges2shoes"].files["generator"].url == (
        "http://efrosgans.eecs.berkeley.edu/pix2pix/models-pytorch/edges2shoes.pth"
    )
    adain = CATALOGUE["adain/coco_wikiart"].files
    assert adain["decoder"].url.endswith("pytorch-AdaIN/releases/download/v0.0.0/decoder.pth")
    assert adain["encoder"].url.endswith("pytorch-AdaIN/releases/download/v0.0.0/vgg_normalised.pth")
    for entry in CATALOGUE.values():
        assert entry.licence and entry.paper and entry.source and entry.input_size == 256 and entry.size_mb > 1
        assert entry.input_range in ("[-1, 1]", "[0, 1]", "[0, 255]")


def test_names_resolve_where_unambiguous():
    assert resolve_pretrained("horse2zebra").name == "cyclegan/horse2zebra"
    assert resolve_pretrained("Fast-Neural-Style/Candy").name == "fast_neural_style/candy"
    assert resolve_pretrained("adain").name == "adain/coco_wikiart"
    with pytest.raises(DownloadSettingError, match="cyclegan/sat2map, pix2pix/sat2map; give the full name"):
        resolve_pretrained("sat2map")
    with pytest.raises(DownloadSettingError, match="did you mean horse2zebra"):
        resolve_pretrained("horse2zebr")


def test_the_mirror_replaces_scheme_and_host_only(monkeypatch):
    url = "https://www.dropbox.com/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"
    monkeypatch.delenv("GAN_STYLE_MIRROR", raising=False)
    assert mirror_url(url) == url
    monkeypatch.setenv("GAN_STYLE_MIRROR", "http://127.0.0.1:8000/models/")
    assert mirror_url(url) == "http://127.0.0.1:8000/models/s/lrvwfehqdcxoza8/saved_models.zip?dl=1"
    monkeypatch.setenv("GAN_STYLE_MIRROR", "ftp://example.org")
    with pytest.raises(DownloadSettingError, match="GAN_STYLE_MIRROR"):
        mirror_url(url)


def test_docs_list_every_model():
    text = (Path(__file__).resolve().parents[1] / "docs" / "pretrained.md").read_text(encoding="utf-8")
    missing = [name for name in CATALOGUE if f"`{name}`" not in text]
    assert missing == []


# --- from_pretrained: each family --------------------------------------------------------------------------------


def test_cyclegan_zoo_file_runs_as_the_generator_it_holds(zoo, capsys):
    stylizer = gan_style.from_pretrained("horse2zebra", progress=False)
    assert isinstance(stylizer, GeneratorStylizer) and not stylizer.training and stylizer.size_multiple == 4
    assert stylizer.pretrained.name == "cyclegan/horse2zebra"
    assert stylizer.default_size == 256  # the reference test.py runs the zoo at the training size
    path = cache_dir() / "cyclegan" / "horse2zebra.pth"
    assert path.is_file() and is_cached("cyclegan/horse2zebra")
    assert f"downloaded {path} (sha256 " in capsys.readouterr().err  # none published: the computed one is shown
    reference = ResnetGenerator()
    reference.load_state_dict(zoo.states["horse2zebra"])
    x = _image()
    with torch.no_grad():
        assert torch.equal(stylizer(x), reference.eval()(x).clamp(-1, 1))
    requests = len(zoo.requests)
    gan_style.from_pretrained("cyclegan/horse2zebra", progress=False)  # cached: no network
    assert len(zoo.requests) == requests


def test_fast_neural_style_matches_the_network_it_was_trained_as(zoo):
    stylizer = from_pretrained("candy", progress=False)
    extracted = cache_dir() / "fast_neural_style" / "saved_models" / "saved_models" / "candy.pth"
    assert extracted.is_file()
    x = _image(64)
    with torch.no_grad():
        ours = stylizer.generator(x)  # before clamping
        theirs = fast_neural_style_forward(zoo.states["candy"], (x + 1) * 127.5) / 127.5 - 1
    assert ours.shape == theirs.shape == (1, 3, 64, 64)
    assert (ours - theirs).abs().max() <= 1e-4
    assert 0.05 < ((theirs > -1) & (theirs < 1)).float().mean()  # the comparison covers values inside the range
    with torch.no_grad():
        assert torch.equal(stylizer(x), ours.clamp(-1, 1))  # [0, 255] clamping, as their save_image does
    mosaic = from_pretrained("mosaic", progress=False)  # same archive: not downloaded again
    assert sum(r["path"].endswith("saved_models.zip?dl=1") for r in zoo.requests) == 1
    with torch.no_grad():
        assert not torch.equal(mosaic(x), stylizer(x))


def test_adain_runs_with_the_normalised_vgg_it_was_trained_with(zoo):
    stylizer = from_pretrained("adain", progress=False)
    assert isinstance(stylizer, AdaINStylizer) and stylizer.encoder.layout == "adain"
    assert stylizer.default_size == 512  # the reference test.py's content_size
    folder = cache_dir() / "adain"
    encoder = VGGFeatures(["relu4_1"], weights=str(folder / "vgg_normalised.pth"), layout="adain")
    decoder = AdaINDecoder()
    decoder.load_state_dict(zoo.states["decoder"])
    reference = AdaINStylizer(encoder, decoder).eval()
    content, style = _image(64, 0), _image(48, 1)
    with torch.no_grad():
        assert torch.equal(stylizer(content, [style]), reference(content, [style]))
    with pytest.raises(ValueError, match="needs --style"):
        stylizer(content)


def test_adain_trains_with_the_papers_encoder_by_default(zoo):
    """AdaIN's default encoder is the normalised VGG-19 of the AdaIN release, fetched alone (not the decoder)."""
    from gan_style.methods import AdaIN

    model = AdaIN()
    assert model.hparams.encoder_weights == "vgg_normalised" and model.encoder.layout == "adain"
    model.setup("fit")
    assert [r["path"].rsplit("/", 1)[-1] for r in zoo.requests] == ["vgg_normalised.pth"]
    reference = VGGFeatures(["relu4_1"], weights=str(cache_dir() / "adain" / "vgg_normalised.pth"), layout="adain")
    x = _image(32)
    with torch.no_grad():
        assert torch.equal(model.encoder(x, ["relu4_1"])["relu4_1"], reference(x)["relu4_1"])


def test_pix2pix_zoo_file_runs_as_the_reference_test_runs_it(server, tmp_path, monkeypatch):
    """U-Net 256 (batch norm, dropout), in the mode the reference test.py leaves it: test-batch statistics and
    dropout on, the stored running statistics untouched."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch_home"))
    monkeypatch.setenv("GAN_STYLE_MIRROR", server.url(""))
    torch.manual_seed(3)
    net = UnetGenerator(norm="batch", use_dropout=True)
    state = {k: v.clone() for k, v in net.state_dict().items()}
    # saved by PyTorch <= 0.4.0: batch norm without its step counter (load_state_dict fills in 0)
    published = {k: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert len(published) < len(state)
    server.files[_path(CATALOGUE["pix2pix/facades_label2photo"].files["generator"].url)] = _bytes(published)
    stylizer = from_pretrained("pix2pix/facades_label2photo", progress=False)
    assert isinstance(stylizer, Pix2PixStylizer) and stylizer.size_multiple == 256
    x = _image(256)
    with torch.no_grad():
        torch.manual_seed(0)
        ours = stylizer(x)
        net.train()
        torch.manual_seed(0)
        theirs = net(x).clamp(-1, 1)
    assert torch.equal(ours, theirs)
    loaded = stylizer.generator.state_dict()
    assert all(torch.equal(loaded[k], state[k]) for k in state)  # running statistics not updated


# --- downloads: offline, resume, checksum, unsafe and wrong files -------------------------------------------------


def test_offline_names_the_url_and_the_path_then_works_with_the_file_put_there(dead_url, tmp_path, monkeypatch, zoo):
    monkeypatch.setenv("GAN_STYLE_MIRROR", dead_url.rsplit("/", 1)[0])
    with pytest.raises(OfflineError) as err:
        from_pretrained("horse2zebra", progress=False)
    dest = cache_dir() / "cyclegan" / "horse2zebra.pth"
    message = str(err.value)
    assert mirror_url(CATALOGUE["cyclegan/horse2zebra"].files["generator"].url) in message
    assert f"put the file at {dest}" in message
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(zoo.files[_path(CATALOGUE["cyclegan/horse2zebra"].files["generator"].url)])
    assert isinstance(from_pretrained("horse2zebra", progress=False), GeneratorStylizer)  # offline, from the file


def test_a_broken_download_is_resumed(zoo):
    zoo.cut_next = True  # the first answer breaks off halfway
    from_pretrained("horse2zebra", progress=False)
    ranges = [r["range"] for r in zoo.requests if r["path"].endswith("horse2zebra.pth")]
    assert ranges[0] is None and ranges[1].startswith("bytes=") and int(ranges[1][6:-1]) > 0


def test_a_published_checksum_is_checked(zoo, monkeypatch):
    entry = CATALOGUE["cyclegan/horse2zebra"]
    wrong = catalogue_module.PublishedFile(entry.files["generator"].url, sha256="0" * 64, size_mb=45.5)
    monkeypatch.setitem(entry.files, "generator", wrong)
    with pytest.raises(ChecksumError, match="expected 0000"):
        download_pretrained("horse2zebra", progress=False)
    assert not (cache_dir() / "cyclegan" / "horse2zebra.pth").exists()


def test_a_file_that_would_run_code_is_refused(zoo, tmp_path):
    class Payload:
        def __reduce__(self):
            return (Path.touch, (tmp_path / "pwned",))

    zoo.files[_path(CATALOGUE["cyclegan/horse2zebra"].files["generator"].url)] = pickle.dumps(
        {"model.1.weight": Payload()}
    )
    with pytest.raises(UnsafeFileError):
        from_pretrained("horse2zebra", progress=False)
    assert not (tmp_path / "pwned").exists()


def test_a_file_of_another_layout_is_named_with_the_fix(zoo):
    zoo.files[_path(CATALOGUE["cyclegan/horse2zebra"].files["generator"].url)] = _bytes(
        ResnetGenerator(n_blocks=6).state_dict()
    )
    with pytest.raises(UnreadableFileError) as err:
        from_pretrained("horse2zebra", progress=False)
    message = str(err.value)
    assert "does not have the layout of the published cyclegan/horse2zebra" in message
    assert "unexpected keys" in message or "missing keys" in message
    assert message.endswith("delete it to download it again")


# --- the commands -------------------------------------------------------------------------------------------------


def test_stylize_pretrained_writes_images_and_refuses_what_the_model_cannot_take(zoo, tmp_path):
    out = tmp_path / "out"
    proc = gan_style_in_process(
        "stylize",
        "--pretrained",
        "horse2zebra",
        "--content",
        str(CONTENT),
        "--size",
        "64",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    assert "wrote 2 image(s)" in proc.stdout
    for name in ("newyork.png", "sailboat.png"):
        with Image.open(out / name) as img:
            assert img.mode == "RGB" and min(img.size) == 64
    style = SAMPLE_ROOT / "testB" / "starry_night_crop.jpg"
    proc = gan_style_in_process(
        "stylize",
        "--pretrained",
        "horse2zebra",
        "--content",
        str(CONTENT),
        "--style",
        str(style),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "takes no --style" in proc.stderr.strip().splitlines()[-1]
    proc = gan_style_in_process(
        "stylize", "--pretrained", "sat2map", "--content", str(CONTENT), cwd=tmp_path, check=False
    )
    assert proc.returncode == 2 and "give the full name" in proc.stderr
    proc = gan_style_in_process(
        "stylize",
        "--pretrained",
        "candy",
        "--checkpoint",
        "x.ckpt",
        "--content",
        str(CONTENT),
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2 and "give one of --checkpoint" in proc.stderr


def test_pretrained_command_lists_and_downloads(zoo, tmp_path):
    proc = gan_style_in_process("pretrained", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["NAME", "METHOD", "TASK", "SIZE", "CACHED"]  # the licence: gan-style pretrained NAME
    assert max(len(line) for line in lines) <= 100  # fits a 100-column terminal
    assert len(
        [line for line in lines if line.startswith(("cyclegan/", "pix2pix/", "adain/", "fast_", "cut/"))]
    ) == len(CATALOGUE)
    horse = next(line for line in lines if line.startswith("cyclegan/horse2zebra "))
    assert "46 MB" in horse and horse.endswith("no")
    proc = gan_style_in_process("pretrained", "horse2zebra", "--download", cwd=tmp_path)
    assert str(cache_dir() / "cyclegan" / "horse2zebra.pth") in proc.stdout and "cached:   yes" in proc.stdout
    proc = gan_style_in_process("pretrained", cwd=tmp_path)
    assert next(line for line in proc.stdout.splitlines() if line.startswith("cyclegan/horse2zebra ")).endswith("yes")
    proc = gan_style_in_process("pretrained", "--download", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and "--download needs a model name" in proc.stderr


# --- your own models: model folders and the Hub --------------------------------------------------------------------


@pytest.fixture
def model_folder(tiny_cyclegan_checkpoint, tmp_path) -> Path:
    """``gan-style export --formats [safetensors] --network generator_ba`` of the session's tiny CycleGAN."""
    out = tmp_path / "exported"
    gan_style_in_process(
        "export",
        "--checkpoint",
        str(tiny_cyclegan_checkpoint),
        "--formats",
        "[safetensors]",
        "--network",
        "generator_ba",
        "--height",
        "32",
        "--width",
        "32",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    return out / "cyclegan_generator_ba"


def test_export_writes_a_model_folder_that_pretrained_loads(model_folder, tiny_cyclegan_checkpoint, tmp_path):
    from safetensors.torch import load_file

    from gan_style.loading import load_method

    assert sorted(p.name for p in model_folder.iterdir()) == ["config.json", "model.safetensors"]
    config = json.loads((model_folder / "config.json").read_text())
    assert config["format"] == "gan-style-model" and config["network"] == "generator_ba"
    assert config["gan_style_class"] == "gan_style.methods.cyclegan.CycleGAN"
    model = load_method(tiny_cyclegan_checkpoint)
    weights = load_file(str(model_folder / "model.safetensors"))
    assert weights.keys() == model.state_dict().keys()
    stylizer = from_pretrained(str(model_folder))
    x = _image(32)
    with torch.no_grad():
        assert torch.equal(stylizer(x), model.stylizer("generator_ba")(x))
    out = tmp_path / "out"
    gan_style_in_process(
        "stylize",
        "--pretrained",
        str(model_folder),
        "--content",
        str(CONTENT),
        "--size",
        "32",
        "--output_dir",
        str(out),
        cwd=tmp_path,
    )
    assert sorted(p.name for p in out.iterdir()) == ["newyork.png", "sailboat.png"]


def test_a_model_folder_naming_a_foreign_class_is_refused_before_anything_is_built(model_folder, tmp_path):
    config_path = model_folder / "config.json"
    config = json.loads(config_path.read_text())
    config["hyper_parameters"]["generator_ab"]["class_path"] = (
        "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3"
    )
    config_path.write_text(json.dumps(config))
    with pytest.raises(UnsafeFileError, match="FeatureExtractorInceptionV3"):
        from_pretrained(str(model_folder))
    (model_folder / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="has no model.safetensors"):
        from_pretrained(str(model_folder))


def test_a_model_folder_on_the_hub_loads_and_then_works_offline(model_folder, hub, monkeypatch):
    hub.repos["someone/cyclegan-mine"] = {p.name: p.read_bytes() for p in model_folder.iterdir()}
    stylizer = from_pretrained("hf://someone/cyclegan-mine")
    assert ("GET", "/someone/cyclegan-mine/resolve/main/model.safetensors") in hub.requests
    x = _image(32)
    reference = from_pretrained(str(model_folder))
    with torch.no_grad():
        assert torch.equal(stylizer(x), reference(x))
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    seen = len(hub.requests)
    from_pretrained("hf://someone/cyclegan-mine")  # from the Hub cache, no request
    assert len(hub.requests) == seen
    with pytest.raises(OfflineError, match="hf://someone/other"):
        from_pretrained("hf://someone/other")
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", False)
    with pytest.raises(FileNotFoundError, match="not found on the Hub"):
        from_pretrained("hf://someone/missing")
    with pytest.raises(ValueError, match="hf://owner/name"):
        from_pretrained("hf://just-a-name")
