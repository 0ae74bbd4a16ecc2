import pickle

import pytest
import torch
from torch import nn

from gan_style.inference import size_multiple_of
from gan_style.nets import (
    NLayerDiscriminator,
    PixelDiscriminator,
    ResnetGenerator,
    TransformationNetwork,
    UnetGenerator,
    init_weights,
    load_reference_state_dict,
    receptive_field,
)


def n_params(net):
    return sum(p.numel() for p in net.parameters())


def test_resnet_9blocks_parameter_count_and_shape():
    g = ResnetGenerator(n_blocks=9)
    assert n_params(g) == 11_378_179
    out = g(torch.rand(2, 3, 64, 48) * 2 - 1)
    assert out.shape == (2, 3, 64, 48)
    assert out.min() >= -1 and out.max() <= 1


def test_resnet_6blocks_and_channels():
    g = ResnetGenerator(input_nc=1, output_nc=3, n_blocks=6, ngf=16)
    assert g(torch.zeros(1, 1, 32, 32)).shape == (1, 3, 32, 32)
    assert sum(isinstance(m, nn.Module) and type(m).__name__ == "ResnetBlock" for m in g.modules()) == 6


def test_resnet_reference_key_layout():
    keys = list(ResnetGenerator().state_dict())
    # c7s1 conv, two downsampling convs, 9 blocks at model.10..18, two transposed convs, final conv
    assert keys[:6] == [
        "model.1.weight",
        "model.1.bias",
        "model.4.weight",
        "model.4.bias",
        "model.7.weight",
        "model.7.bias",
    ]
    assert "model.10.conv_block.1.weight" in keys and "model.10.conv_block.5.weight" in keys
    assert "model.18.conv_block.5.bias" in keys and "model.19.weight" in keys and "model.22.weight" in keys
    assert keys[-2:] == ["model.26.weight", "model.26.bias"]
    assert not any("running" in k for k in keys)  # instance norm keeps no statistics
    with_dropout = ResnetGenerator(use_dropout=True).state_dict()
    assert "model.10.conv_block.6.weight" in with_dropout  # dropout shifts the second conv


def test_batch_norm_generator_has_no_conv_bias():
    sd = ResnetGenerator(norm="batch", n_blocks=2).state_dict()
    assert "model.1.bias" not in sd and "model.2.running_mean" in sd and "model.2.weight" in sd


def test_patchgan_receptive_field_output_and_count():
    d = NLayerDiscriminator()
    assert receptive_field(d) == 70
    assert receptive_field(NLayerDiscriminator(n_layers=2)) == 34
    assert receptive_field(NLayerDiscriminator(n_layers=1)) == 16
    assert d(torch.zeros(1, 3, 256, 256)).shape == (1, 1, 30, 30)
    assert n_params(d) == 2_764_737
    assert n_params(NLayerDiscriminator(input_nc=6, norm="batch")) == 2_768_705  # pix2pix's conditional D
    assert list(d.state_dict())[:4] == ["model.0.weight", "model.0.bias", "model.2.weight", "model.2.bias"]


def test_pixel_discriminator():
    d = PixelDiscriminator()
    assert receptive_field(d) == 1
    assert d(torch.zeros(2, 3, 17, 19)).shape == (2, 1, 17, 19)
    assert set(d.state_dict()) == {
        "net.0.weight",
        "net.0.bias",
        "net.2.weight",
        "net.2.bias",
        "net.5.weight",
        "net.5.bias",
    }


@pytest.mark.parametrize("init_type", ["normal", "xavier", "kaiming", "orthogonal"])
def test_init_types(init_type):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(64, 64, 3), nn.BatchNorm2d(64))
    init_weights(net, init_type, 0.02)
    w = net[0].weight
    assert torch.count_nonzero(net[0].bias) == 0
    if init_type == "normal":
        assert abs(w.std().item() - 0.02) < 0.002
    if init_type == "orthogonal":
        flat = w.detach().flatten(1)
        assert torch.allclose(flat @ flat.T, 0.02**2 * torch.eye(64), atol=1e-5)
    assert abs(net[1].weight.mean().item() - 1.0) < 0.02 and torch.count_nonzero(net[1].bias) == 0


def test_bad_settings_are_errors():
    with pytest.raises(ValueError, match="norm"):
        ResnetGenerator(norm="group")
    with pytest.raises(ValueError, match="init_type"):
        ResnetGenerator(init_type="uniform")
    with pytest.raises(ValueError, match="n_layers"):
        NLayerDiscriminator(n_layers=0)


def reference_style_state_dict(net):
    """A state dict as an old reference checkpoint has it: DataParallel prefix, legacy norm statistics."""
    sd = {f"module.{k}": v.clone() for k, v in net.state_dict().items()}
    for name, m in net.named_modules():
        if isinstance(m, nn.InstanceNorm2d):
            c = m.num_features
            sd[f"module.{name}.running_mean"] = torch.zeros(c)
            sd[f"module.{name}.running_var"] = torch.ones(c)
            sd[f"module.{name}.num_batches_tracked"] = torch.tensor(0)
    return sd


def test_load_reference_checkpoint_file(tmp_path):
    src = ResnetGenerator(ngf=8, n_blocks=2)
    path = tmp_path / "latest_net_G.pth"
    torch.save(reference_style_state_dict(src), path)
    dst = ResnetGenerator(ngf=8, n_blocks=2, init_type="xavier")
    load_reference_state_dict(dst, path)
    x = torch.randn(1, 3, 32, 32)
    assert torch.equal(src(x), dst(x))


def test_load_reference_wrong_architecture_names_the_problem(tmp_path):
    path = tmp_path / "latest_net_G.pth"
    torch.save(ResnetGenerator(ngf=8, n_blocks=2).state_dict(), path)
    with pytest.raises(ValueError, match="n_blocks") as err:
        load_reference_state_dict(ResnetGenerator(ngf=8, n_blocks=3), path)
    assert "latest_net_G.pth" in str(err.value) and "missing keys" in str(err.value)
    with pytest.raises(ValueError, match="shape mismatches"):
        load_reference_state_dict(ResnetGenerator(ngf=16, n_blocks=2), path)


class _Exploit:
    def __reduce__(self):
        return (print, ("this pickle runs code",))


def test_load_reference_refuses_code_and_missing_files(tmp_path):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as f:
        pickle.dump({"model.1.weight": _Exploit()}, f)
    with pytest.raises(ValueError, match="weights_only"):
        load_reference_state_dict(ResnetGenerator(ngf=8, n_blocks=1), path)
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_reference_state_dict(ResnetGenerator(ngf=8, n_blocks=1), tmp_path / "nope.pth")


def test_size_multiple_of_the_generators_inside():
    resnet, unet = ResnetGenerator(ngf=4, n_blocks=1), UnetGenerator(num_downs=6, ngf=4)
    assert size_multiple_of(resnet) == 4
    assert size_multiple_of(unet) == 64
    assert size_multiple_of(nn.ModuleDict({"a": resnet, "b": unet})) == 64  # the largest wins
    assert size_multiple_of(TransformationNetwork()) == 1
    assert size_multiple_of(nn.Conv2d(3, 3, 3)) == 1
    x = torch.rand(1, 3, 64, 68) * 2 - 1  # a side that is a multiple works, the U-Net refuses another
    assert resnet(x).shape == x.shape
    with pytest.raises(ValueError):
        unet(x)
