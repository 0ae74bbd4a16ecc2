"""Crafted-input probes against the ``gan-style`` command: does a file from someone else run code, write outside the
run, lose an input image or end in a traceback? One JSON line per probe, then a summary line and table.

    python benchmarks/untrusted_probes.py                       # the installed gan_style
    python benchmarks/untrusted_probes.py --tree /tmp/before    # PYTHONPATH=/tmp/before: that tree's gan_style
    python benchmarks/untrusted_probes.py --only string_stylize carried_logger --keep

Run it once per code tree (e.g. a ``git worktree`` of an older commit, then the current one) and compare the two
summaries. The probes are those of ``tests/test_trust.py`` and ``tests/test_untrusted.py``, run as real
processes (``python -m gan_style ...``, one fresh temporary folder each) against the chosen tree:

- ``string_*``: a checkpoint whose ``hyper_parameters.generator_ab`` is the YAML *string* ``{class_path:
  torch_fidelity...FeatureExtractorInceptionV3, init_args: {name: inception-v3-compat, features_list: ['2048'],
  feature_extractor_weights_path: PAYLOAD}}`` (a generic instantiator builds torch-fidelity's Inception, which
  unpickles PAYLOAD; ``--string_as_in_tests``: without ``name`` and ``features_list``, as in
  ``tests/test_trust.py``, which stops in the class's constructor before PAYLOAD is read) through ``stylize
  --checkpoint``, ``export --checkpoint``, ``fit --ckpt_path``, ``predict --config ... --ckpt_path``, ``predict
  --ckpt_path`` alone, ``stylize --pretrained FOLDER`` and ``--pretrained hf://someone/evil`` (a local Hub server
  serving the payload as ``model.safetensors``, ``config.json`` pointing at its blob in the Hub cache);
- ``mapping_*``: the same network as a mapping (with ``name`` and ``features_list``);
- ``carried_*``: the training config a checkpoint carries (``gan_style_config``, YAML text as older versions wrote
  it) for ``predict --ckpt_path FILE`` without ``--config``: callbacks, loggers, profilers and run folders pointing
  outside, foreign model and data classes (``this.Nope``: ``import this`` printing the Zen of Python counts as
  code that ran), and a symlinked checkpoint;
- ``overwrite_input``: ``predict`` with ``ImageWriter(output_dir=<the input folder>)`` on ``x.jpg`` + ``x.png``;
- ``garbage_*``: a text file as a checkpoint, and broken model-folder ``config.json`` files.

Per probe: ``code_ran`` (the payload's marker folder exists, or the Zen of Python was printed),
``written_outside`` (files that appeared in the probe's watched ``outside`` folder, where every crafted file
points its writers), ``inputs_lost`` (input images whose bytes changed or that vanished), ``traceback``
("Traceback" on stderr), plus the exit status, the last stderr line and the seconds. The base checkpoint (a
2-step tiny CycleGAN ``fit`` on ``examples/data/photo2painting``) and its model folder are built with the tree
under test, so each tree reads checkpoints in its own format. The summary table counts probes (not files).
"""

from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE_ROOT = REPO / "examples" / "data" / "photo2painting"
CYCLEGAN = REPO / "gan_style" / "recipes" / "cyclegan.yaml"
INCEPTION = "torch_fidelity.feature_extractor_inceptionv3.FeatureExtractorInceptionV3"
ZEN = "Beautiful is better than ugly"  # what `import this` prints

# CLI overrides that shrink the recipe's networks and images (tests/conftest.py's TINY_CLI_ARGS).
TINY_CLI_ARGS = [
    "--model.init_args.generator_ab.init_args.ngf=8",
    "--model.init_args.generator_ab.init_args.n_blocks=1",
    "--model.init_args.generator_ba.init_args.ngf=8",
    "--model.init_args.generator_ba.init_args.n_blocks=1",
    "--model.init_args.discriminator_a.init_args.ndf=8",
    "--model.init_args.discriminator_a.init_args.n_layers=1",
    "--model.init_args.discriminator_b.init_args.ndf=8",
    "--model.init_args.discriminator_b.init_args.n_layers=1",
    "--data.init_args.load_size=36",
    "--data.init_args.crop_size=32",
    "--data.init_args.num_workers=0",
    "--trainer.enable_progress_bar=false",
    "--trainer.enable_model_summary=false",
]

# Builds the model folder of a checkpoint with the tree under test (run with PYTHONPATH=tree).
_MAKE_FOLDER = """
import sys, torch
from gan_style.methods import load_method
from gan_style.pretrained.folder import save_model_folder
ckpt, folder = sys.argv[1:]
hparams = torch.load(ckpt, weights_only=True)["hyper_parameters"]
save_model_folder(load_method(ckpt), folder, hyper_parameters=hparams)
"""


class _RunsCode:
    """Unpickling this object calls ``os.mkdir(marker)``: proof that code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def _yaml_string_network(weights: Path | str, as_in_tests: bool = False) -> str:
    """A network given as a YAML *string*: parsed by a generic instantiator, it builds torch-fidelity's Inception,
    which unpickles ``weights``. ``as_in_tests``: without the ``name`` and ``features_list`` that class requires,
    as ``tests/test_trust.py`` writes it (an instantiator then runs the class's constructor, which stops at its
    name check before it reads ``weights``)."""
    if as_in_tests:
        return f"{{class_path: {INCEPTION}, init_args: {{feature_extractor_weights_path: {weights}}}}}"
    init = f"name: inception-v3-compat, features_list: ['2048'], feature_extractor_weights_path: {weights}"
    return f"{{class_path: {INCEPTION}, init_args: {{{init}}}}}"


def _mapping_network(weights: Path | str) -> dict:
    """The same network as a mapping, with the arguments torch-fidelity's class requires."""
    init = {"name": "inception-v3-compat", "features_list": ["2048"], "feature_extractor_weights_path": str(weights)}
    return {"class_path": INCEPTION, "init_args": init}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _images(folders: list[Path]) -> dict[Path, str]:
    """sha256 of every file under ``folders``."""
    return {p: _digest(p) for folder in folders if folder.exists() for p in sorted(folder.rglob("*")) if p.is_file()}


def _write_image(path: Path, seed: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8), "RGB").save(path)


# --- one probe's folder --------------------------------------------------------------------------------------


@dataclass
class Base:
    """What every probe starts from, built once per run with the tree under test."""

    checkpoint: Path  # last.ckpt of the tiny fit
    folder: Path  # its model folder
    data: Path  # the data the fit read (checked for changes after every probe)
    string_as_in_tests: bool = False  # the YAML-string network without name and features_list


class Probe:
    """A fresh folder: ``cwd`` (the command's working directory), ``outside`` (watched: every crafted file points
    its writers here), ``attacker`` (the crafted files and the payload; ``attacker/code-ran`` is the marker),
    ``data`` (a copy of the sample images: the inputs)."""

    def __init__(self, root: Path, base: Base) -> None:
        self.root, self.base = root, base
        self.cwd, self.outside, self.attacker = root / "cwd", root / "outside", root / "attacker"
        for folder in (self.cwd, self.outside, self.attacker):
            folder.mkdir(parents=True)
        self.data = root / "data"
        shutil.copytree(SAMPLE_ROOT, self.data)
        self.content = self.data / "testA"
        self.marker = self.attacker / "code-ran"
        self.payload = self.attacker / "payload.pth"
        self.inputs = [self.data]
        self.env: dict[str, str] = {}
        self.hub_files: dict[str, bytes] | None = None  # what the local Hub server serves for this probe
        import torch

        torch.save({"payload": _RunsCode(str(self.marker))}, self.payload)

    def craft(self, name: str, change: Callable[[dict], None]) -> Path:
        """A copy of the base checkpoint changed in place by ``change(checkpoint)``, at ``attacker/name``."""
        import torch

        checkpoint = torch.load(self.base.checkpoint, weights_only=True)
        change(checkpoint)
        target = self.attacker / name
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.save(checkpoint, target)
        return target

    def network_string(self, weights: Path | str) -> str:
        return _yaml_string_network(weights, self.base.string_as_in_tests)

    def string_checkpoint(self) -> Path:
        def change(ckpt):
            ckpt["hyper_parameters"]["generator_ab"] = self.network_string(self.payload)

        return self.craft("string.ckpt", change)

    def mapping_checkpoint(self) -> Path:
        def change(ckpt):
            ckpt["hyper_parameters"]["generator_ab"] = _mapping_network(self.payload)

        return self.craft("mapping.ckpt", change)

    def carried(self, edit: Callable[[dict], None], name: str = "run/checkpoints/last.ckpt") -> Path:
        """A copy of the base checkpoint whose carried config is the whole config as YAML text (as older gan-style
        wrote it), changed by ``edit(config)``; its ``trainer.default_root_dir`` is ``cwd/run`` unless changed."""
        import yaml

        def change(ckpt):
            config = ckpt["gan_style_config"]
            config = dict(config) if isinstance(config, dict) else yaml.safe_load(config)
            config.setdefault("trainer", {})
            config["trainer"]["default_root_dir"] = str(self.cwd / "run")
            edit(config)
            ckpt["gan_style_config"] = yaml.safe_dump(config)

        return self.craft(name, change)

    def model_folder(self) -> Path:
        folder = self.attacker / "folder"
        shutil.copytree(self.base.folder, folder)
        return folder

    def edit_folder(self, edit: Callable[[dict], None]) -> Path:
        folder = self.model_folder()
        config = json.loads((folder / "config.json").read_text())
        edit(config)
        (folder / "config.json").write_text(json.dumps(config))
        return folder

    def stylize(self, *source: str) -> list[str]:
        return ["stylize", *source, "--content", str(self.content), "--output_dir", str(self.cwd / "out")]

    def with_config(self, command: str, path: Path) -> list[str]:
        """``command --config cyclegan.yaml TINY ... --ckpt_path path``: the recipe given, the file resumed from."""
        args = [command, "--config", str(CYCLEGAN), *TINY_CLI_ARGS, f"--data.init_args.root={self.data}"]
        return args + [f"--trainer.default_root_dir={self.cwd / 'run'}", "--trainer.max_steps=2", f"--ckpt_path={path}"]

    def predict_alone(self, path: Path | str, data: bool = True) -> list[str]:
        """``predict --ckpt_path path`` with no ``--config``: the checkpoint's carried config is the recipe."""
        return ["predict", f"--ckpt_path={path}"] + ([f"--data.init_args.root={self.data}"] if data else [])


# --- the probes ----------------------------------------------------------------------------------------------


def _string_folder(p: Probe) -> list[str]:
    def edit(config):
        config["hyper_parameters"]["generator_ab"] = p.network_string(p.payload)

    return p.stylize("--pretrained", str(p.edit_folder(edit)))


def _string_hub(p: Probe) -> list[str]:
    """``config.json`` points at the blob that huggingface_hub stores the served ``model.safetensors`` (the
    payload) under; the payload exists nowhere else."""
    blob_bytes = p.payload.read_bytes()
    hf_home = p.root / "hf_home"
    blob = hf_home / "hub" / "models--someone--evil" / "blobs" / hashlib.sha256(blob_bytes).hexdigest()

    def edit(config):
        config["hyper_parameters"]["generator_ab"] = p.network_string(blob)

    folder = p.edit_folder(edit)
    p.hub_files = {"config.json": (folder / "config.json").read_bytes(), "model.safetensors": blob_bytes}
    p.payload.unlink()
    shutil.rmtree(folder)
    p.env.update(HF_HOME=str(hf_home), HF_HUB_OFFLINE="0")
    return p.stylize("--pretrained", "hf://someone/evil")


def _carried_evaluation(p: Probe, name: str = "run/checkpoints/last.ckpt") -> Path:
    def edit(config):
        network = _mapping_network(p.payload)
        config["trainer"]["callbacks"] = [
            {"class_path": "gan_style.callbacks.EvaluationMetrics", "init_args": {"feature_network": network}}
        ]

    return p.carried(edit, name)


def _carried_trainer(key: str, value: Callable[[Probe], object], name: str = "run/checkpoints/last.ckpt"):
    def probe(p: Probe) -> list[str]:
        def edit(config):
            config["trainer"][key] = value(p)

        return p.predict_alone(p.carried(edit, name))

    return probe


def _carried_section(section: str, value: object):
    def probe(p: Probe) -> list[str]:
        def edit(config):
            config[section] = value

        return p.predict_alone(p.carried(edit), data=False)

    return probe


def _carried_symlink(p: Probe) -> list[str]:
    target = _carried_evaluation(p)
    link = p.cwd / "link" / "checkpoints" / "last.ckpt"
    link.parent.mkdir(parents=True)
    link.symlink_to(target)
    return p.predict_alone(link)


def _overwrite_input(p: Probe) -> list[str]:
    photos = p.root / "photos"
    _write_image(photos / "x.jpg", seed=1)
    _write_image(photos / "x.png", seed=2)
    p.inputs.append(photos)
    user = p.attacker / "user.yaml"
    user.write_text(
        "trainer:\n  callbacks:\n    - class_path: gan_style.callbacks.ImageWriter\n"
        f"      init_args: {{output_dir: {photos}}}\n"
    )
    args = ["predict", "--config", str(CYCLEGAN), "--config", str(user), *TINY_CLI_ARGS]
    return args + [
        f"--data.init_args.root={photos}",
        f"--trainer.default_root_dir={p.cwd / 'run'}",
        f"--ckpt_path={p.base.checkpoint}",
    ]


def _notes(p: Probe) -> Path:
    notes = p.attacker / "notes.ckpt"
    notes.write_text("these are my notes, not a checkpoint\n" * 20)
    return notes


def _garbage_folder(edit: Callable[[dict], None]):
    return lambda p: p.stylize("--pretrained", str(p.edit_folder(edit)))


def _nested_brackets(p: Probe) -> list[str]:
    folder = p.model_folder()
    text = (folder / "config.json").read_text()
    nested = "[" * 200_000 + "]" * 200_000
    (folder / "config.json").write_text(text.replace('"source": ""', '"source": ' + nested, 1))
    return p.stylize("--pretrained", str(folder))


def _set_generator(value):
    def edit(config):
        config["hyper_parameters"]["generator_ab"] = value

    return edit


_PROFILER = "lightning.pytorch.profilers.SimpleProfiler"

#: name -> (what it probes, builder of the command line from a fresh Probe)
PROBES: dict[str, tuple[str, Callable[[Probe], list[str]]]] = {
    # 1. a network given as a YAML string, through every entry point
    "string_stylize": ("generator_ab as a YAML string: stylize --checkpoint", lambda p: p.stylize("--checkpoint", str(p.string_checkpoint()))),
    "string_export": ("generator_ab as a YAML string: export --checkpoint", lambda p: ["export", "--checkpoint", str(p.string_checkpoint()), "--output_dir", str(p.cwd / "out")]),
    "string_fit": ("generator_ab as a YAML string: fit --config cyclegan.yaml --ckpt_path", lambda p: p.with_config("fit", p.string_checkpoint())),
    "string_predict": ("generator_ab as a YAML string: predict --config cyclegan.yaml --ckpt_path", lambda p: p.with_config("predict", p.string_checkpoint())),
    "string_predict_alone": ("generator_ab as a YAML string: predict --ckpt_path alone", lambda p: p.predict_alone(p.string_checkpoint()) + [f"--trainer.default_root_dir={p.cwd / 'run'}"]),
    "string_folder": ("generator_ab as a YAML string: stylize --pretrained FOLDER (config.json)", _string_folder),
    "string_hub": ("generator_ab as a YAML string: stylize --pretrained hf://someone/evil (local Hub server)", _string_hub),
    # 2. the same network as a mapping
    "mapping_stylize": ("generator_ab as a torch_fidelity mapping: stylize --checkpoint", lambda p: p.stylize("--checkpoint", str(p.mapping_checkpoint()))),
    "mapping_export": ("generator_ab as a torch_fidelity mapping: export --checkpoint", lambda p: ["export", "--checkpoint", str(p.mapping_checkpoint()), "--output_dir", str(p.cwd / "out")]),
    "mapping_predict": ("generator_ab as a torch_fidelity mapping: predict --config cyclegan.yaml --ckpt_path", lambda p: p.with_config("predict", p.mapping_checkpoint())),
    # 3. the config a checkpoint carries (predict --ckpt_path FILE, no --config)
    "carried_evaluation": ("carried trainer.callbacks: EvaluationMetrics(feature_network=torch_fidelity mapping)", lambda p: p.predict_alone(_carried_evaluation(p))),
    "carried_model_this": ("carried model.class_path this.Nope", _carried_section("model", {"class_path": "this.Nope"})),
    "carried_model_eval": ("carried model.class_path gan_style.__builtins__.eval", _carried_section("model", {"class_path": "gan_style.__builtins__.eval"})),
    "carried_data_boring": ("carried data.class_path BoringDataModule", _carried_section("data", {"class_path": "lightning.pytorch.demos.boring_classes.BoringDataModule"})),
    "carried_image_writer": ("carried trainer.callbacks: ImageWriter(output_dir=OUTSIDE/pred)", _carried_trainer("callbacks", lambda p: [{"class_path": "gan_style.callbacks.ImageWriter", "init_args": {"output_dir": str(p.outside / "pred")}}])),
    "carried_logger": ("carried trainer.logger: CSVLogger(save_dir=OUTSIDE)", _carried_trainer("logger", lambda p: {"class_path": "lightning.pytorch.loggers.CSVLogger", "init_args": {"save_dir": str(p.outside)}})),
    "carried_profiler": ("carried trainer.profiler: SimpleProfiler(dirpath=OUTSIDE, filename=profile)", _carried_trainer("profiler", lambda p: {"class_path": _PROFILER, "init_args": {"dirpath": str(p.outside), "filename": "profile"}})),
    "carried_root_dir": ("carried trainer.default_root_dir=OUTSIDE/root (checkpoint outside a checkpoints folder)", _carried_trainer("default_root_dir", lambda p: str(p.outside / "root"), name="carried.ckpt")),
    "carried_symlink": ("carried EvaluationMetrics probe through a symlinked --ckpt_path", _carried_symlink),
    # 4. an input overwritten
    "overwrite_input": ("predict: ImageWriter(output_dir=the input folder) on x.jpg + x.png", _overwrite_input),
    # 5. garbage
    "garbage_text_stylize": ("a text file as stylize --checkpoint", lambda p: p.stylize("--checkpoint", str(_notes(p)))),
    "garbage_text_predict": ("a text file as predict --ckpt_path", lambda p: p.predict_alone(_notes(p))),
    "garbage_hparams_list": ("model folder config.json: hyper_parameters a list", _garbage_folder(lambda c: c.update(hyper_parameters=[1, 2]))),
    "garbage_unknown_key": ("model folder config.json: an unknown top-level key", _garbage_folder(lambda c: c.update(extra=1))),
    "garbage_etc_passwd": ("model folder config.json: generator_ab = '/etc/passwd'", _garbage_folder(_set_generator("/etc/passwd"))),
    "garbage_nested": ("model folder config.json: 200,000 nested brackets in source", _nested_brackets),
}  # fmt: skip


# --- the local Hub server: a marked copy of tests/conftest.py's _HubHandler (a benchmark does not import the tests) ---


class _HubHandler(http.server.BaseHTTPRequestHandler):
    """The Hub's file endpoint ``/<owner>/<name>/resolve/<revision>/<file>``: HEAD answers with the commit, ETag
    and size headers huggingface_hub reads, GET with the file."""

    def log_message(self, *args) -> None:
        pass

    def _file(self) -> bytes | None:
        parts = self.path.split("?")[0].strip("/").split("/")
        repo = self.server.repos.get(f"{parts[0]}/{parts[1]}") if len(parts) == 5 and parts[2] == "resolve" else None
        data = None if repo is None else repo.get(parts[4])
        if data is None:
            self.send_response(404)
            self.send_header("X-Error-Code", "RepoNotFound" if repo is None else "EntryNotFound")
            self.send_header("Content-Length", "0")
            self.end_headers()
        return data

    def _headers(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("X-Repo-Commit", "0123456789abcdef0123456789abcdef01234567")
        self.send_header("ETag", f'"{hashlib.sha256(data).hexdigest()}"')
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()

    def do_HEAD(self) -> None:
        data = self._file()
        if data is not None:
            self._headers(data)

    def do_GET(self) -> None:
        data = self._file()
        if data is not None:
            self._headers(data)
            self.wfile.write(data)


# --- running -------------------------------------------------------------------------------------------------


def _environment(tree: Path | None, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WANDB", "HF_", "PYTHONPATH"))}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    env.update(
        WANDB_MODE="offline",
        WANDB_SILENT="true",
        HF_HOME=str(work / "hf_home"),
        HF_HUB_OFFLINE="1",
        TORCH_HOME=str(work / "torch_home"),
    )
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> tuple[int | None, str, str, float]:
    """``python -m gan_style ARGS`` in ``cwd``: (exit status or None on timeout, stdout, stderr, seconds). A run
    past ``timeout`` is stopped with its whole process group."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gan_style", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
        status = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        status = None
    return status, out, err, time.perf_counter() - start


def build_base(work: Path, env: dict[str, str], timeout: float) -> Base:
    """The tiny CycleGAN checkpoint (2 steps, no validation) and its model folder, with the tree under test."""
    base = work / "base"
    data = base / "data"
    shutil.copytree(SAMPLE_ROOT, data)
    args = ["fit", "--config", str(CYCLEGAN), *TINY_CLI_ARGS, f"--data.init_args.root={data}"]
    args += ["--trainer.max_steps=2", "--trainer.limit_val_batches=0", f"--trainer.default_root_dir={base / 'run'}"]
    status, _, err, _ = _run(args, base, env, timeout * 3)
    checkpoint = base / "run" / "checkpoints" / "last.ckpt"
    if status != 0 or not checkpoint.is_file():
        sys.exit(f"building the base checkpoint failed ({status}):\n{err[-3000:]}")
    folder = base / "folder"
    proc = subprocess.run(
        [sys.executable, "-c", _MAKE_FOLDER, str(checkpoint), str(folder)],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout * 3,
    )
    if proc.returncode != 0:
        sys.exit(f"building the model folder failed:\n{proc.stderr[-3000:]}")
    return Base(checkpoint, folder, data)


def run_probe(name: str, root: Path, base: Base, env: dict[str, str], timeout: float, hub) -> dict:
    what, build = PROBES[name]
    probe = Probe(root, base)
    args = build(probe)
    if probe.hub_files is not None:
        hub.repos["someone/evil"] = probe.hub_files
        probe.env["HF_ENDPOINT"] = f"http://127.0.0.1:{hub.server_address[1]}"
    before = _images([*probe.inputs, base.data])
    status, out, err, seconds = _run(args, probe.cwd, {**env, **probe.env}, timeout)
    after = _images([*probe.inputs, base.data])
    lost = sorted(str(p) for p, digest in before.items() if after.get(p) != digest)
    if any(base.data in Path(p).parents for p in lost):  # keep the shared data intact for the next probes
        shutil.rmtree(base.data)
        shutil.copytree(SAMPLE_ROOT, base.data)
    outside = sorted(str(p.relative_to(probe.outside)) for p in probe.outside.rglob("*") if not p.is_dir())
    code_ran = probe.marker.exists() or ZEN in out or ZEN in err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    row = {
        "probe": name,
        "what": what,
        "command": "gan-style " + " ".join(args),
        "exit_status": status,
        "timed_out": status is None,
        "seconds": round(seconds, 1),
        "code_ran": code_ran,
        "written_outside": outside,
        "inputs_lost": lost,
        "traceback": "Traceback" in err,
        "stderr_last": lines[-1][:400] if lines else "",
    }
    if row["code_ran"] or row["traceback"] or outside or lost or status is None:
        row["stderr_tail"] = err[-2000:]
    return row


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--tree",
        type=Path,
        help="source tree whose gan_style package runs (PYTHONPATH); default: the installed package",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per probe (the base fit gets 3x)")
    parser.add_argument("--only", nargs="+", choices=sorted(PROBES), metavar="PROBE", help="run these probes only")
    parser.add_argument(
        "--work", type=Path, help="folder for the probes' files, kept (default: a new temporary folder, removed)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder (its path goes to stderr)")
    parser.add_argument(
        "--string_as_in_tests",
        action="store_true",
        help="string_* probes: the YAML string of tests/test_trust.py (no name, features_list), which a generic "
        "instantiator turns into a constructor call that fails before the payload is read",
    )
    parser.add_argument("--list", action="store_true", help="list the probes and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (what, _) in PROBES.items():
            print(f"{name:24s} {what}")
        return
    tree = args.tree.resolve() if args.tree else None
    if tree is not None and not (tree / "gan_style" / "__init__.py").is_file():
        parser.error(f"--tree {tree}: no gan_style package there")
    work = Path(tempfile.mkdtemp(prefix="untrusted-probes-")) if args.work is None else args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    env = _environment(tree, work)
    where = subprocess.run(
        [sys.executable, "-c", "import gan_style; print(gan_style.__file__)"],
        env=env,
        cwd=work,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    label = str(tree) if tree else "installed"
    strings = "as_in_tests" if args.string_as_in_tests else "with_name"
    print(json.dumps({"tree": label, "gan_style": where, "python": sys.version.split()[0], "string_form": strings}))

    hub = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HubHandler)
    hub.repos = {}
    threading.Thread(target=hub.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
    rows = []
    try:
        base = build_base(work, env, args.timeout)
        base.string_as_in_tests = args.string_as_in_tests
        for name in args.only or list(PROBES):
            row = run_probe(name, work / "probes" / name, base, env, args.timeout, hub)
            rows.append(row)
            print(json.dumps(row), flush=True)
    finally:
        hub.shutdown()
        hub.server_close()
        if args.keep or args.work is not None:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)

    summary = {
        "summary": True,
        "tree": label,
        "string_form": strings,
        "probes_tried": len(rows),
        "code_ran": sum(r["code_ran"] for r in rows),
        "files_written_outside": sum(bool(r["written_outside"]) for r in rows),
        "files_written_outside_total": sum(len(r["written_outside"]) for r in rows),
        "inputs_lost": sum(bool(r["inputs_lost"]) for r in rows),
        "tracebacks": sum(r["traceback"] for r in rows),
        "timed_out": sum(r["timed_out"] for r in rows),
    }
    print(json.dumps(summary), flush=True)
    header = ["tree", "probes tried", "code ran", "files written outside", "inputs lost", "tracebacks"]
    keys = ["tree", "probes_tried", "code_ran", "files_written_outside", "inputs_lost", "tracebacks"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    print("| " + " | ".join(str(summary[k]) for k in keys) + " |")


if __name__ == "__main__":
    main()
