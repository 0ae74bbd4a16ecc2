"""Untrusted files: checkpoints and weights that would run code are refused before the code runs."""

from __future__ import annotations

import os

import pytest
import torch

from conftest import REPO, SAMPLE_ROOT, TINY_CLI_ARGS, gan_style_in_process
from gan_style.errors import UnreadableFileError, UnsafeFileError
from gan_style.io.untrusted import safe_load
from gan_style.methods import load_method
from gan_style.nets import ResnetGenerator, VGGFeatures, load_reference_state_dict, read_weights_file
from gan_style.plugins.checkpoint_io import AtomicCheckpointIO


class _RunsCode:
    """Unpickling this object calls ``os.mkdir(marker)``: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


@pytest.fixture
def evil(tmp_path):
    """A file saved with torch.save whose unpickling would create the folder ``marker``."""
    marker = tmp_path / "code-ran"
    path = tmp_path / "evil.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "payload": _RunsCode(str(marker))}, path)
    return path, marker


def test_unpickling_the_fixture_really_runs_code(evil):
    path, marker = evil
    torch.load(path, weights_only=False)  # what an unsafe loader would do
    assert marker.is_dir()


@pytest.mark.parametrize(
    "load",
    [
        pytest.param(lambda p: safe_load(p), id="safe_load"),
        pytest.param(read_weights_file, id="read_weights_file"),
        pytest.param(lambda p: load_reference_state_dict(ResnetGenerator(ngf=8, n_blocks=1), p), id="reference"),
        pytest.param(lambda p: VGGFeatures(["relu1_1"], weights=str(p)), id="vgg_weights"),
        pytest.param(load_method, id="stylize_checkpoint"),
        pytest.param(lambda p: AtomicCheckpointIO().load_checkpoint(p), id="lightning_checkpoint_io"),
    ],
)
def test_a_pickle_that_would_run_code_is_refused(evil, load):
    path, marker = evil
    with pytest.raises(UnsafeFileError, match="refused to load") as err:
        load(path)
    assert str(path) in str(err.value) and "mkdir" in str(err.value)
    assert not marker.exists()


def test_resuming_from_a_malicious_checkpoint_is_a_clear_error(evil, tmp_path):
    path, marker = evil
    proc = gan_style_in_process(
        "fit",
        "--config",
        str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
        *TINY_CLI_ARGS,
        f"--data.init_args.root={SAMPLE_ROOT}",
        f"--trainer.default_root_dir={tmp_path / 'run'}",
        "--trainer.max_steps=2",
        f"--ckpt_path={path}",
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2  # an unsafe file is a bad request, in every command
    assert f"gan-style: error: refused to load checkpoint '{path}'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists()


def test_truncated_and_empty_files_are_named(tmp_path):
    good = tmp_path / "good.pth"
    torch.save({"w": torch.arange(1000.0)}, good)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[:300])
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(UnreadableFileError, match="truncated.pth.*truncated, corrupt or not a PyTorch file"):
        read_weights_file(truncated)
    with pytest.raises(UnreadableFileError, match="empty.pth' is empty"):
        safe_load(empty)
    with pytest.raises(FileNotFoundError, match="missing.pth' does not exist"):
        safe_load(tmp_path / "missing.pth")
    assert torch.equal(read_weights_file(good)["w"], torch.arange(1000.0))


def test_stylize_refuses_a_class_outside_gan_style(tmp_path):
    path = tmp_path / "foreign.ckpt"
    torch.save({"gan_style_class": "antigravity.Fly", "state_dict": {}}, path)
    with pytest.raises(UnsafeFileError, match="'antigravity.Fly'.*outside gan-style"):
        load_method(path)
    torch.save({"gan_style_class": "gan_style.nets.ResnetGenerator", "state_dict": {}}, path)
    with pytest.raises(ValueError, match="not a LightningModule"):
        load_method(path)


# --- a plain-data checkpoint must not choose what to build ---------------------------------------------------


@pytest.fixture
def chain(tmp_path, evil):
    """A checkpoint that passes ``weights_only=True`` but whose hyper-parameters name, as a network's class_path,
    torch-fidelity's ``FeatureExtractorInceptionV3`` with ``feature_extractor_weights_path`` pointing at the
    pickle of ``evil``, which that class would unpickle with ``weights_only=False`` (code execution through one of
    our own dependencies). Everything else is a valid CycleGAN checkpoint of ``gan-style fit``."""
    import lightning as L

    from gan_style.methods import CycleGAN

    payload, marker = evil
    model = CycleGAN(generator_ab=ResnetGenerator(ngf=8, n_blocks=1))
    tiny = {"class_path": "gan_style.nets.ResnetGenerator", "init_args": {"ngf": 8, "n_blocks": 1}}
    hparams = {
        "_instantiator": "lightning.pytorch.cli.instantiate_module",
        "_class_path": "gan_style.methods.CycleGAN",
        "generator_ab": {
            "class_path": "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3",
            "init_args": {
                "name": "inception-v3-compat",
                "features_list": ["2048"],
                "feature_extractor_weights_path": str(payload),
            },
        },
        "generator_ba": tiny,
    }
    ckpt = {"state_dict": model.state_dict(), "hyper_parameters": hparams, "pytorch-lightning_version": L.__version__}
    model.on_save_checkpoint(ckpt)
    path = tmp_path / "chain.ckpt"
    torch.save(ckpt, path)
    assert isinstance(torch.load(path, weights_only=True), dict)  # plain data: weights_only lets it through
    return path, marker


def test_the_torch_fidelity_chain_really_runs_code(chain):
    from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

    path, marker = chain
    init = torch.load(path, weights_only=True)["hyper_parameters"]["generator_ab"]["init_args"]
    with pytest.raises(Exception):  # noqa: B017 - the payload is not a state dict; what matters is that it ran
        FeatureExtractorInceptionV3(**init)
    assert marker.is_dir()


def test_a_nested_foreign_class_path_is_refused_before_anything_is_built(chain):
    path, marker = chain
    with pytest.raises(
        UnsafeFileError, match=r"FeatureExtractorInceptionV3' \(hyper_parameters.generator_ab.class_path\)"
    ):
        load_method(path)
    assert not marker.exists()


def _cli_in_process(args, capsys, monkeypatch) -> tuple[int, str]:
    """``gan-style ARGS`` in this process (no interpreter start-up); returns (exit status, stderr)."""
    import sys

    from gan_style.cli import main

    monkeypatch.setattr(sys, "argv", sys.argv[:1])  # pytest's own arguments are not the command's
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    return exit_info.value.code, capsys.readouterr().err


@pytest.mark.parametrize("command", ["stylize", "export", "fit", "predict"])
def test_every_command_refuses_the_chain(chain, tmp_path, command, capsys, monkeypatch):
    path, marker = chain
    if command in ("stylize", "export"):
        extra = ["--content", str(SAMPLE_ROOT / "testA")] if command == "stylize" else []
        args = [command, "--checkpoint", str(path), *extra, "--output_dir", str(tmp_path / "out")]
    else:
        args = [
            command,
            "--config",
            str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
            *TINY_CLI_ARGS,
            f"--data.init_args.root={SAMPLE_ROOT}",
            f"--trainer.default_root_dir={tmp_path / 'run'}",
            "--trainer.max_steps=2",
            f"--ckpt_path={path}",
        ]
    status, stderr = _cli_in_process(args, capsys, monkeypatch)
    assert status == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith("gan-style") and ": error: " in last and "Traceback" not in stderr
    assert "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3" in last
    assert not marker.exists() and not (tmp_path / "out").exists() and not (tmp_path / "run").exists()


def test_other_instantiators_and_nested_foreign_classes_are_refused():
    from gan_style.loading.spec import method_spec

    base = {"_class_path": "gan_style.methods.CycleGAN"}
    with pytest.raises(UnsafeFileError, match="instantiator 'os.system'"):
        method_spec({**base, "_instantiator": "os.system"}, "checkpoint 'x.ckpt'")
    with pytest.raises(UnsafeFileError, match=r"'subprocess.Popen' \(hyper_parameters.generator_ab.class_path\)"):
        method_spec({**base, "generator_ab": {"class_path": "subprocess.Popen"}}, "checkpoint 'x.ckpt'")
    spec = method_spec(
        {**base, "generator_ab": {"class_path": "gan_style.nets.ResnetGenerator", "init_args": {"ngf": 8}}}, "x"
    )
    assert spec.init_args["generator_ab"].cls is ResnetGenerator
    assert spec.init_args["generator_ab"].init_args == {"ngf": 8}


# --- a checkpoint given as a URL ---------------------------------------------------------------------------------


def test_a_remote_ckpt_path_is_refused_and_never_fetched(evil, tmp_path):
    import http.server
    import threading

    path, marker = evil
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(path.parent), **kwargs)

        def log_message(self, *args):
            requests.append(args)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/{path.name}"
    try:
        proc = gan_style_in_process(
            "fit",
            "--config",
            str(REPO / "gan_style" / "recipes" / "cyclegan.yaml"),
            *TINY_CLI_ARGS,
            f"--data.init_args.root={SAMPLE_ROOT}",
            f"--trainer.default_root_dir={tmp_path / 'run'}",
            "--trainer.max_steps=2",
            f"--ckpt_path={url}",
            cwd=tmp_path,
            check=False,
        )
        with pytest.raises(UnsafeFileError, match="remote"):
            AtomicCheckpointIO().load_checkpoint(url)
    finally:
        server.shutdown()
        thread.join(timeout=10)
    assert proc.returncode == 2 and "remote checkpoints are not loaded" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not marker.exists() and not requests  # refused before any request
    assert not (tmp_path / "run" / "checkpoints").exists()
