"""The trust model (docs/reliability.md): what comes from a file is plain data, validated before anything is built.

Every probe here ran code, wrote files outside the run, lost an input or printed a traceback before the loader of
``gan_style.loading`` existed.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, write_image
from gan_style.errors import GanStyleError, ModelConfigError, UnreadableFileError

CYCLEGAN = str(REPO / "gan_style" / "recipes" / "cyclegan.yaml")
INCEPTION = "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3"


class _RunsCode:
    """Unpickling this object calls ``os.mkdir(marker)``: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _payload(folder: Path) -> tuple[Path, Path]:
    """A pickle that creates ``folder/code-ran`` when unpickled, and that marker's path."""
    marker = folder / "code-ran"
    path = folder / "payload.pth"
    torch.save({"payload": _RunsCode(str(marker))}, path)
    return path, marker


def _yaml_string_network(weights: Path | str) -> str:
    """A network given as a YAML *string*: parsed by a generic instantiator, it builds torch-fidelity's Inception,
    which unpickles ``weights``."""
    return (
        f"{{class_path: {INCEPTION}, init_args: {{name: inception-v3-compat, features_list: ['2048'], "
        f"feature_extractor_weights_path: {weights}}}}}"
    )


def _craft(source: Path, target: Path, change) -> Path:
    """A copy of the checkpoint ``source`` changed in place by ``change(checkpoint)``."""
    checkpoint = torch.load(source, weights_only=True)
    change(checkpoint)
    torch.save(checkpoint, target)
    return target


def _cli(args, capsys, monkeypatch, cwd: Path) -> tuple[int, str, str]:
    """``gan-style ARGS`` in this process: (exit status, stdout, stderr)."""
    from gan_style.cli import main

    monkeypatch.chdir(cwd)
    monkeypatch.setattr(sys, "argv", sys.argv[:1])
    status = 0
    try:
        main(list(args))
    except SystemExit as exit_info:
        status = exit_info.code
    out = capsys.readouterr()
    return status, out.out, out.err


def _one_line_error(status: int, stderr: str, *needles: str) -> str:
    assert status == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("gan-style") and ": error: " in last, stderr[-2000:]
    for needle in needles:
        assert needle in last, last
    return last


def _files(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")} if root.exists() else set()


# --- 1. a network given as a YAML string, through every entry point ---------------------------------------------------


@pytest.fixture
def string_chain(tiny_cyclegan_checkpoint, tmp_path) -> tuple[Path, Path]:
    payload, marker = _payload(tmp_path)

    def change(ckpt):
        ckpt["hyper_parameters"]["generator_ab"] = _yaml_string_network(payload)

    return _craft(tiny_cyclegan_checkpoint, tmp_path / "string.ckpt", change), marker


def _model_folder(checkpoint: Path, folder: Path) -> Path:
    from gan_style.loading import load_method
    from gan_style.pretrained.folder import save_model_folder

    model = load_method(checkpoint)
    hparams = torch.load(checkpoint, weights_only=True)["hyper_parameters"]
    return save_model_folder(model, folder, hyper_parameters=hparams)


def _string_folder(folder: Path, weights: Path | str) -> None:
    config = json.loads((folder / "config.json").read_text())
    config["hyper_parameters"]["generator_ab"] = _yaml_string_network(weights)
    (folder / "config.json").write_text(json.dumps(config))


def test_the_yaml_string_really_runs_code_through_a_generic_instantiator(string_chain):
    """What the loader replaces: Lightning's generic instantiation parses the string and builds the class."""
    from lightning.pytorch.cli import instantiate_module

    from gan_style.methods import CycleGAN

    path, marker = string_chain
    hparams = torch.load(path, weights_only=True)["hyper_parameters"]
    with pytest.raises(Exception):  # noqa: B017 - the payload is not a state dict; what matters is that it ran
        instantiate_module(CycleGAN, hparams)
    assert marker.is_dir()


@pytest.mark.parametrize("command", ["stylize", "export", "fit", "predict", "predict-alone", "folder"])
def test_a_network_given_as_a_yaml_string_is_refused_everywhere(
    command, string_chain, tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch
):
    path, marker = string_chain
    out = tmp_path / "out"
    run = tmp_path / "run"
    if command == "stylize":
        args = ["stylize", "--checkpoint", str(path), "--content", str(SAMPLE_ROOT / "testA"), "--output_dir", str(out)]
    elif command == "export":
        args = ["export", "--checkpoint", str(path), "--output_dir", str(out)]
    elif command in ("fit", "predict"):
        args = [command, "--config", CYCLEGAN, *TINY_CLI_ARGS, f"--data.init_args.root={SAMPLE_ROOT}"]
        args += [f"--trainer.default_root_dir={run}", "--trainer.max_steps=2", f"--ckpt_path={path}"]
    elif command == "predict-alone":
        args = ["predict", f"--ckpt_path={path}", f"--trainer.default_root_dir={run}"]
    else:
        folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
        _string_folder(folder, tmp_path / "payload.pth")
        args = [
            "stylize",
            "--pretrained",
            str(folder),
            "--content",
            str(SAMPLE_ROOT / "testA"),
            "--output_dir",
            str(out),
        ]
    status, _, stderr = _cli(args, capsys, monkeypatch, tmp_path)
    _one_line_error(status, stderr, "generator_ab", "got a string")
    assert not marker.exists() and not out.exists() and not run.exists()


def test_a_hub_repository_alone_cannot_run_code(tiny_cyclegan_checkpoint, hub, tmp_path, capsys, monkeypatch):
    """The repository serves a pickle as ``model.safetensors`` and points its ``config.json`` at the pickle's
    predictable place in the Hub cache."""
    folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
    (tmp_path / "attacker").mkdir()
    payload, marker = _payload(tmp_path / "attacker")
    blob_bytes = payload.read_bytes()
    blob = tmp_path / "hf_home" / "hub" / "models--someone--evil" / "blobs" / hashlib.sha256(blob_bytes).hexdigest()
    _string_folder(folder, blob)
    hub.repos["someone/evil"] = {"config.json": (folder / "config.json").read_bytes(), "model.safetensors": blob_bytes}
    payload.unlink()
    status, _, stderr = _cli(
        ["stylize", "--pretrained", "hf://someone/evil", "--content", str(SAMPLE_ROOT / "testA"), "--output_dir",
         str(tmp_path / "out")],
        capsys, monkeypatch, tmp_path,
    )  # fmt: skip
    _one_line_error(status, stderr, "generator_ab", "got a string")
    assert not marker.exists() and not (tmp_path / "out").exists()
    # the same through the Python API
    from gan_style import load

    with pytest.raises(ModelConfigError, match="generator_ab must be"):
        load("hf://someone/evil")
    assert not marker.exists()


# --- 2. the config a checkpoint carries supplies the model and data only ---------------------------------------------


def _carried(tiny_checkpoint: Path, target: Path, edit) -> Path:
    """A copy of the tiny checkpoint whose carried config is the whole legacy config, changed by ``edit(config)``."""
    import yaml

    def change(ckpt):
        config = ckpt["gan_style_config"]
        config = dict(config) if isinstance(config, dict) else yaml.safe_load(config)
        config.setdefault("trainer", {"default_root_dir": "runs/x"})
        edit(config)
        ckpt["gan_style_config"] = yaml.safe_dump(config)  # as older gan-style wrote it: YAML text

    return _craft(tiny_checkpoint, target, change)


def test_carried_trainer_sections_are_ignored_with_one_warning(
    tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch, recwarn
):
    payload, marker = _payload(tmp_path)
    elsewhere = tmp_path / "elsewhere"

    def edit(config):
        config["trainer"] = {
            "default_root_dir": str(elsewhere / "root"),
            "logger": {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(elsewhere)}},
            "profiler": {"class_path": "lightning.pytorch.profilers.SimpleProfiler",
                         "init_args": {"dirpath": str(elsewhere), "filename": "profile"}},
            "callbacks": [
                {"class_path": "gan_style.callbacks.ImageWriter", "init_args": {"output_dir": str(elsewhere / "pred")}},
                {"class_path": "gan_style.callbacks.EvaluationMetrics",
                 "init_args": {"feature_network": {"class_path": INCEPTION,
                                                   "init_args": {"name": "inception-v3-compat",
                                                                 "features_list": ["2048"],
                                                                 "feature_extractor_weights_path": str(payload)}}}},
            ],
        }  # fmt: skip
        config["seed_everything"] = 3

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    path = _carried(tiny_cyclegan_checkpoint, run / "checkpoints" / "last.ckpt", edit)
    status, _, stderr = _cli(
        ["predict", f"--ckpt_path={path}", f"--data.init_args.root={SAMPLE_ROOT}"], capsys, monkeypatch, tmp_path
    )
    assert status == 0, stderr[-3000:]
    warnings = [str(w.message) for w in recwarn if "carries the section(s)" in str(w.message)]
    assert len(warnings) == 1 and "seed_everything, trainer in its training config; ignored" in warnings[0]
    assert not marker.exists() and not elsewhere.exists()
    assert sorted(p.name for p in (run / "predictions").iterdir()) == ["newyork.png", "sailboat.png"]


@pytest.mark.parametrize(
    ("section", "value", "needle"),
    [
        ("model", {"class_path": "this.Nope"}, "'this.Nope'"),
        ("model", {"class_path": "gan_style.__builtins__.eval"}, "not a class path of public names"),
        ("data", {"class_path": "lightning.pytorch.demos.boring_classes.BoringDataModule"}, "BoringDataModule"),
        ("data", {"class_path": "gan_style.nets.ResnetGenerator"}, "not a LightningDataModule"),
        ("model", "{class_path: gan_style.methods.CycleGAN}", "given as a mapping"),
    ],
)
def test_a_carried_config_naming_foreign_classes_is_one_line(
    section, value, needle, tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch
):
    def edit(config):
        config[section] = value

    path = _carried(tiny_cyclegan_checkpoint, tmp_path / "c.ckpt", edit)
    sys.modules.pop("this", None)
    status, stdout, stderr = _cli(["predict", f"--ckpt_path={path}"], capsys, monkeypatch, tmp_path)
    _one_line_error(status, stderr, needle)
    assert "this" not in sys.modules and "Beautiful is better" not in stdout  # `import this` never ran
    assert _files(tmp_path) == {path}


def test_a_symlinked_checkpoint_is_read_by_the_same_rules(string_chain, tmp_path, capsys, monkeypatch):
    path, marker = string_chain
    link = tmp_path / "link" / "checkpoints" / "last.ckpt"
    link.parent.mkdir(parents=True)
    link.symlink_to(path)
    for args in (
        ["predict", f"--ckpt_path={link}"],
        ["stylize", "--checkpoint", str(link), "--content", str(SAMPLE_ROOT / "testA")],
    ):
        status, _, stderr = _cli(args, capsys, monkeypatch, tmp_path)
        _one_line_error(status, stderr, "generator_ab")
    assert not marker.exists() and sorted(p.name for p in (tmp_path / "link").rglob("*")) == [
        "checkpoints",
        "last.ckpt",
    ]


# --- 3. nothing overwrites an input -------------------------------------------------------------------------------


def test_predict_never_overwrites_an_input(tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch):
    photos = tmp_path / "photos"
    write_image(photos / "x.jpg", size=(40, 36), seed=1)
    write_image(photos / "x.png", size=(40, 36), seed=2)
    before = {p.name: p.read_bytes() for p in photos.iterdir()}
    user = tmp_path / "user.yaml"
    user.write_text(
        "trainer:\n  callbacks:\n    - class_path: gan_style.callbacks.ImageWriter\n"
        f"      init_args: {{output_dir: {photos}}}\n"
    )
    args = ["predict", "--config", CYCLEGAN, "--config", str(user), *TINY_CLI_ARGS, f"--data.init_args.root={photos}"]
    args += [f"--trainer.default_root_dir={tmp_path / 'run'}", f"--ckpt_path={tiny_cyclegan_checkpoint}"]
    status, _, stderr = _cli(args, capsys, monkeypatch, tmp_path)
    _one_line_error(status, stderr, "would overwrite the input image", "x.png")
    assert {p.name: p.read_bytes() for p in photos.iterdir()} == before


# --- 4. garbage files are one line ----------------------------------------------------------------------------------


def test_a_text_file_as_a_checkpoint_is_one_line(tmp_path, capsys, monkeypatch):
    notes = tmp_path / "notes.ckpt"
    notes.write_text("these are my notes, not a checkpoint\n" * 20)
    status, _, stderr = _cli(
        ["stylize", "--checkpoint", str(notes), "--content", str(SAMPLE_ROOT / "testA")], capsys, monkeypatch, tmp_path
    )
    _one_line_error(status, stderr, "notes.ckpt", "not a PyTorch file")
    status, _, stderr = _cli(["predict", f"--ckpt_path={notes}"], capsys, monkeypatch, tmp_path)
    _one_line_error(status, stderr, "notes.ckpt")


def test_a_text_file_in_the_pretrained_cache_is_one_line(tmp_path, monkeypatch):
    from gan_style.pretrained import cached_path, from_pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    target = cached_path("horse2zebra", "generator")
    target.parent.mkdir(parents=True)
    target.write_text("<html>a captive portal, not weights</html>")
    with pytest.raises(UnreadableFileError, match="horse2zebra.pth"):
        from_pretrained("horse2zebra", progress=False)


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda c: c.update(hyper_parameters=[1, 2]), "hyper_parameters must be a mapping"),
        (lambda c: c.update(extra=1), "unknown key(s) extra"),
        (lambda c: c["hyper_parameters"].update(lambda_cycel=3.0), "lambda_cycel is not a setting of CycleGAN"),
        (lambda c: c["hyper_parameters"].update(generator_ab="/etc/passwd"), "generator_ab must be"),
        (lambda c: c["hyper_parameters"]["generator_ab"]["init_args"].update(ngf="8"), "ngf must be"),
        (lambda c: c["hyper_parameters"]["generator_ab"]["init_args"].update(ngf=10**6), "ngf is 1000000"),
        (lambda c: c.update(gan_style_class="gan_style.__builtins__.eval"), "not a class path of public names"),
    ],
)
def test_a_bad_model_config_is_one_line(edit, needle, tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch):
    folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))
    status, _, stderr = _cli(
        ["stylize", "--pretrained", str(folder), "--content", str(SAMPLE_ROOT / "testA"), "--output_dir",
         str(tmp_path / "out")],
        capsys, monkeypatch, tmp_path,
    )  # fmt: skip
    _one_line_error(status, stderr, needle)
    assert not (tmp_path / "out").exists()


def test_settings_inference_does_not_read_are_checked_by_the_whole_loader(tiny_cyclegan_checkpoint, tmp_path):
    """stylize reads the network that runs (gan_style.loading.stylizers); export and fit build the whole method and
    check every setting's type."""
    from gan_style.loading.spec import method_spec

    folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
    config = json.loads((folder / "config.json").read_text())
    config["hyper_parameters"]["lr"] = "0.1"
    with pytest.raises(ModelConfigError, match="lr must be a number, got a string"):
        method_spec(config["hyper_parameters"], "'config.json'", config["gan_style_class"])


def test_deeply_nested_brackets_are_one_line(tiny_cyclegan_checkpoint, tmp_path, capsys, monkeypatch):
    folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
    config = (folder / "config.json").read_text()
    (folder / "config.json").write_text(config.replace('"source": ""', '"source": ' + "[" * 200_000 + "]" * 200_000))
    status, _, stderr = _cli(
        ["stylize", "--pretrained", str(folder), "--content", str(SAMPLE_ROOT / "testA")], capsys, monkeypatch, tmp_path
    )
    _one_line_error(status, stderr, "config.json", "nested too deeply")


def test_settings_that_outgrow_the_weights_are_refused_before_allocation(tiny_cyclegan_checkpoint, tmp_path):
    """A file of kilobytes asking for a network of billions of values is refused on the meta device."""
    from gan_style.loading import load_method

    def change(ckpt):
        ckpt["hyper_parameters"]["generator_ab"]["init_args"].update(ngf=4096, n_blocks=64)

    path = _craft(tiny_cyclegan_checkpoint, tmp_path / "big.ckpt", change)
    with pytest.raises(ModelConfigError, match=r"build a CycleGAN of [\d,]+ values but the file holds [\d,]+ weights"):
        load_method(path)


# --- 5. what a file may choose: a round trip is exact ------------------------------------------------------------------


def test_a_checkpoint_and_its_model_folder_load_to_the_same_network(tiny_cyclegan_checkpoint, tmp_path):
    from gan_style.loading import load_method
    from gan_style.pretrained.folder import load_model_folder

    model = load_method(tiny_cyclegan_checkpoint)
    assert model.hparams["generator_ab"]["class_path"] == "gan_style.nets.resnet_generator.ResnetGenerator"
    folder = _model_folder(tiny_cyclegan_checkpoint, tmp_path / "folder")
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        assert torch.equal(load_model_folder(folder)(x), model.stylizer()(x))


# --- 6. property-based: anything a file holds gives a gan-style model or one GanStyleError line -----------------------


_NASTY = [
    _yaml_string_network("/tmp/x"),
    "{class_path: os.system, init_args: {command: id}}",
    "gan_style.__builtins__.eval",
    "this.Nope",
    "os.system",
    "gan_style.nets.ResnetGenerator",
    "gan_style.cli.Path",
    "!!python/object/apply:os.system [id]",
    "../../etc/passwd",
    "",
    "instance",
    "lsgan",
]
_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=True),
    st.sampled_from(_NASTY),
    st.text(max_size=20),
)
_json = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["class_path", "init_args", "ngf", "__path__", "_class_path", "lr"]),
                st.text(max_size=8),
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=20,
)


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, (*prefix, i))


@pytest.fixture(scope="module")
def fuzz_base(tiny_cyclegan_checkpoint, tmp_path_factory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("fuzz")
    folder = _model_folder(tiny_cyclegan_checkpoint, root / "folder")
    (root / "cwd").mkdir()
    return folder, json.loads((folder / "config.json").read_text())


def _replace(config, path, value):
    if not path:
        return value
    config = json.loads(json.dumps(config))
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


# GAN_STYLE_FUZZ_EXAMPLES=4000 runs a longer search locally; CI runs 150 examples
@settings(
    max_examples=int(os.environ.get("GAN_STYLE_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(data=st.data())
def test_fuzz_the_loader_gives_a_gan_style_model_or_one_line(fuzz_base, data):
    from gan_style.loading.sources import carried_config
    from gan_style.pretrained.folder import load_model_folder

    folder, base = fuzz_base
    mode = data.draw(st.sampled_from(["replace", "whole", "carried-yaml", "carried-data"]))
    modules = set(sys.modules)
    cwd = os.getcwd()
    os.chdir(folder.parent / "cwd")  # relative paths in the data would land here
    files = _files(folder.parent)
    try:
        if mode in ("replace", "whole"):
            paths = list(_paths(base))
            where = data.draw(st.sampled_from(paths)) if mode == "replace" else ()
            config = _replace(base, where, data.draw(_json))
            (folder / "config.json").write_text(json.dumps(config))
            result = load_model_folder(folder)
            assert type(result).__module__.startswith("gan_style.")
        else:
            import yaml

            value = data.draw(_json)
            carried = {"model": value} if data.draw(st.booleans()) else value
            raw = yaml.safe_dump(carried) if mode == "carried-yaml" else carried
            result = carried_config({"gan_style_config": raw}, "checkpoint 'fuzz.ckpt'")
            assert result is None or set(result) <= {"model", "data"}
    except GanStyleError as err:
        assert "\n" not in str(err).strip() and str(err).strip()
    finally:
        (folder / "config.json").write_text(json.dumps(base))
        os.chdir(cwd)
    new = {m for m in set(sys.modules) - modules if not m.startswith("gan_style")}
    assert not new, new
    assert _files(folder.parent) == files


@pytest.mark.parametrize(
    "where, value, expected",
    [
        # keys with line breaks, found by the fuzz test: they are quoted, so the message stays one line
        (("hyper_parameters", "generator_ab", "\n"), 1, "generator_ab has the key(s) '\\n'"),
        (("hyper_parameters", "generator_ab", "init_args", "a\nb"), 1, "'a\\nb'"),
        (("hyper_parameters", "x\ny"), 1, "hyper_parameters['x\\ny']"),
        # the network named by the file (not by the caller) is the file's fault
        (("network",), "{class_path: x}\nnext line", "network names no network of the method"),
    ],
)
def test_a_crafted_key_or_network_name_gives_one_line_naming_it(fuzz_base, where, value, expected):
    from gan_style.pretrained.folder import load_model_folder

    folder, base = fuzz_base
    try:
        (folder / "config.json").write_text(json.dumps(_replace(base, where, value)))
        with pytest.raises(ModelConfigError) as info:
            load_model_folder(folder)
    finally:
        (folder / "config.json").write_text(json.dumps(base))
    message = str(info.value)
    assert "\n" not in message and expected in message, message
