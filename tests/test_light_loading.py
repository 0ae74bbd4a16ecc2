"""A built-in method's stylizer is read from a checkpoint or a model folder without the training code
(:mod:`gan_style.loading.stylizers`): the same network and pixels as the whole method gives, the same refusals, and
neither Lightning nor the methods imported."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_style.errors import ModelConfigError, UnreadableFileError
from gan_style.loading import load_method, load_stylizer
from gan_style.loading.stylizers import PLANS, plan_for, read_stylizer
from gan_style.pretrained.folder import save_model_folder


def _class(path: str) -> type:
    import importlib

    module, _, name = path.rpartition(".")
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize("class_path", sorted(PLANS))
def test_each_plan_lists_its_methods_settings_and_networks(class_path):
    cls = _class(class_path)
    parameters = [k for k in inspect.signature(cls.__init__).parameters if k != "self"]
    plan = PLANS[class_path]
    assert sorted(plan.settings) == sorted(parameters)
    assert plan.networks == tuple(cls.stylizer_networks)
    assert plan.name == cls.__name__
    import typing

    import gan_style.methods

    hints = typing.get_type_hints(cls.__init__)
    takes_network = {k for k in parameters if "Module" in str(hints.get(k))}
    assert set(plan.components) == takes_network
    alias = f"gan_style.methods.{plan.name}"  # the re-export LightningCLI records
    assert (getattr(gan_style.methods, plan.name, None) is cls) == (plan_for(alias) is plan)


@pytest.fixture(scope="module")
def model_folder(tiny_cyclegan_checkpoint, tmp_path_factory) -> Path:
    model = load_method(tiny_cyclegan_checkpoint)
    hparams = torch.load(tiny_cyclegan_checkpoint, weights_only=True)["hyper_parameters"]
    return save_model_folder(model, tmp_path_factory.mktemp("folder") / "model", hyper_parameters=hparams)


@pytest.mark.parametrize("network", ["generator_ab", "generator_ba"])
def test_the_light_stylizer_equals_the_methods(network, tiny_cyclegan_checkpoint, model_folder):
    method = load_method(tiny_cyclegan_checkpoint)
    whole = method.stylizer(network).eval()
    x = torch.rand(1, 3, 40, 52) * 2 - 1
    with torch.no_grad():
        expected = whole(x)
        for source in (tiny_cyclegan_checkpoint, model_folder):
            light = load_stylizer(source, network)
            assert type(light) is type(whole) and light.name == whole.name
            assert torch.equal(light(x), expected)
    assert load_stylizer(tiny_cyclegan_checkpoint, network).default_size == method.trained_image_size() == 32


def _read(hparams, state, network=None):
    def weights(prefix):
        return {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}

    return read_stylizer(None, hparams, weights, network, "checkpoint 'x.ckpt'")


@pytest.fixture(scope="module")
def stored(tiny_cyclegan_checkpoint):
    data = torch.load(tiny_cyclegan_checkpoint, weights_only=True)
    return data["hyper_parameters"], data["state_dict"]


def test_the_light_reader_refuses_what_the_whole_loader_refuses(stored):
    hparams, state = stored
    with pytest.raises(ModelConfigError, match="lambda_cycel is not a setting of CycleGAN"):
        _read({**hparams, "lambda_cycel": 3.0}, state)
    with pytest.raises(ModelConfigError, match="instantiator"):
        _read({**hparams, "_instantiator": "builtins.eval"}, state)
    with pytest.raises(ModelConfigError, match="nested more than"):
        _read({**hparams, "lr": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}, state)
    big = json.loads(json.dumps(hparams["generator_ab"]))
    big["init_args"]["ngf"] = 4000
    with pytest.raises(ModelConfigError, match="the file holds"):
        _read({**hparams, "generator_ab": big}, state)
    foreign = {"class_path": "gan_style.nets.resnet_generator.os.system", "init_args": {}}
    with pytest.raises(ModelConfigError):
        _read({**hparams, "generator_ab": foreign}, state)
    wrong = json.loads(json.dumps(hparams["discriminator_a"]))
    wrong["init_args"]["n_layers"] = "3"  # the discriminators are checked too, though never built here
    with pytest.raises(ModelConfigError, match="discriminator_a.init_args.n_layers"):
        _read({**hparams, "discriminator_a": wrong}, state)
    renamed = {(k + "_x" if k == "generator_ab.model.1.weight" else k): v for k, v in state.items()}
    with pytest.raises(UnreadableFileError, match="do not fit CycleGAN's generator_ab"):
        _read(hparams, renamed)
    with pytest.raises(ValueError, match="choose one of: generator_ab, generator_ba"):
        _read(hparams, state, "discriminator_a")


def test_methods_without_a_plan_or_with_a_string_network_go_to_the_whole_loader(stored):
    hparams, state = stored
    assert _read({**hparams, "_class_path": "gan_style.methods.adain.AdaIN"}, state) is None
    assert _read({**hparams, "generator_ab": "{class_path: gan_style.nets.ResnetGenerator}"}, state) is None
    # the whole loader then refuses the string
    from gan_style.loading.spec import method_spec

    with pytest.raises(ModelConfigError, match="generator_ab must be"):
        method_spec({**hparams, "generator_ab": "{class_path: x}"}, "checkpoint 'x.ckpt'")


def test_running_a_trained_model_imports_no_lightning(tiny_cyclegan_checkpoint, model_folder):
    script = (
        "import sys, torch, gan_style\n"
        "from PIL import Image\n"
        "for source in sys.argv[1:]:\n"
        "    out = gan_style.load(source)(Image.new('RGB', (40, 28)))\n"
        "    assert out.size == (40, 28), out.size\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] == 'lightning' or m.startswith('gan_style.methods'))\n"
        "print('HEAVY', heavy)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tiny_cyclegan_checkpoint), str(model_folder)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY []" in result.stdout, result.stdout
