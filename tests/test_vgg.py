import functools
import http.server
import threading

import pytest
import torch
import torchvision

from gan_style.nets import VGG16_LAYERS, VGG19_LAYERS, VGGFeatures, WeightsUnavailableError
from gan_style.nets import vgg as vgg_module

IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def imagenet_normalized(x):
    """[-1, 1] images as torchvision's VGG models take them."""
    return ((x + 1) / 2 - IMAGENET_MEAN) / IMAGENET_STD


def torchvision_features(arch):
    """``torchvision.models.<arch>().features`` built by torchvision's own code (random weights, no classifier)."""
    from torchvision.models.vgg import cfgs, make_layers

    return make_layers(cfgs["D" if arch == "vgg16" else "E"]).eval()


@pytest.fixture(scope="module")
def vgg16_state():
    """The state dict of ``torchvision.models.vgg16(weights=None)`` (features and classifier), built once."""
    torch.manual_seed(0)
    return torchvision.models.vgg16(weights=None).state_dict()


def test_layer_names():
    assert len(VGG19_LAYERS) == 37
    assert VGG19_LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert VGG19_LAYERS[-3:] == ("conv5_4", "relu5_4", "pool5")


def test_taps_shapes_and_truncation():
    v = VGGFeatures(["relu1_1", "conv4_2", "relu3_1", "pool2"], weights=None)
    out = v(torch.rand(2, 3, 64, 48) * 2 - 1)
    assert list(out) == ["relu1_1", "conv4_2", "relu3_1", "pool2"]
    assert out["relu1_1"].shape == (2, 64, 64, 48)
    assert out["pool2"].shape == (2, 128, 16, 12)
    assert out["relu3_1"].shape == (2, 256, 16, 12)
    assert out["conv4_2"].shape == (2, 512, 8, 6)
    assert out["conv4_2"].min() < 0  # a conv tap is taken before its ReLU
    assert len(v.body) == VGG19_LAYERS.index("conv4_2") + 1  # nothing past the deepest tap
    with pytest.raises(ValueError, match="unknown VGG-19 layer"):
        VGGFeatures(["relu6_1"], weights=None)


def test_only_requested_taps_stay_alive_during_forward():
    import weakref

    v = VGGFeatures(["relu1_1", "relu3_1"], weights=None)
    alive_at_end = []
    refs = []

    def keep(module, args, output):
        refs.append(weakref.ref(output))

    def count(module, args, output):
        alive_at_end.append(
            len({id(r()) for r in refs[:-1] if r() is not None})
        )  # an in-place ReLU's output is its input

    handles = [m.register_forward_hook(keep) for m in v.body]
    handles.append(v.body[-1].register_forward_hook(count))
    with torch.no_grad():
        out = v(torch.rand(1, 3, 32, 32) * 2 - 1)
    for h in handles:
        h.remove()
    assert len(refs) == len(v.body) == 12  # conv1_1 ... relu3_1
    # when the last layer runs: the relu1_1 tap and the last layer's input (conv3_1) are alive, nothing else
    assert alive_at_end == [2]
    assert list(out) == ["relu1_1", "relu3_1"]


def test_in_place_relus_keep_conv_taps_and_gradients():
    import copy

    v = VGGFeatures(["conv1_2", "relu2_1", "conv3_1"], weights=None)
    plain = copy.deepcopy(v)
    for m in plain.body:
        if isinstance(m, torch.nn.ReLU):
            m.inplace = False
    inplace = [i for i, m in enumerate(v.body) if isinstance(m, torch.nn.ReLU) and m.inplace]
    assert inplace and all(v._tap_index.get(i - 1) not in ("conv1_2", "conv3_1") for i in inplace)
    x = (torch.rand(1, 3, 32, 32) * 2 - 1).requires_grad_(True)
    y = (x.detach().clone()).requires_grad_(True)
    a, b = v(x), plain(y)
    for name in a:
        assert torch.equal(a[name], b[name])
    assert a["conv1_2"].min() < 0 and a["conv3_1"].min() < 0  # conv taps are not overwritten by their ReLU
    sum(t.square().mean() for t in a.values()).backward()
    sum(t.square().mean() for t in b.values()).backward()
    assert torch.allclose(x.grad, y.grad, rtol=1e-5, atol=1e-8)


def test_a_subset_of_taps_stops_at_the_deepest_one():
    v = VGGFeatures(["relu1_1", "relu2_1", "relu4_1"], weights=None)
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    full = v(x)
    ran = []
    handles = [m.register_forward_hook(lambda m, a, o: ran.append(m)) for m in v.body]
    part = v(x, ["relu2_1"])
    for h in handles:
        h.remove()
    assert list(part) == ["relu2_1"]
    assert torch.equal(part["relu2_1"], full["relu2_1"])
    assert len(ran) == VGG19_LAYERS.index("relu2_1") + 1  # nothing past relu2_1 ran
    with pytest.raises(ValueError, match="relu3_1"):
        v(x, ["relu3_1"])


def test_matches_torchvision_and_is_frozen():
    torch.manual_seed(0)
    tv = torchvision.models.vgg19().features.eval()
    ours = VGGFeatures(["relu2_1"], weights=None)
    ours.body.load_state_dict(tv[:7].state_dict())
    x = torch.rand(1, 3, 32, 32) * 2 - 1
    normalized = ((x + 1) / 2 - torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)) / torch.tensor(
        [0.229, 0.224, 0.225]
    ).view(1, 3, 1, 1)
    assert torch.allclose(ours(x)["relu2_1"], tv[:7](normalized), atol=1e-5)
    assert not any(p.requires_grad for p in ours.parameters())
    ours.train()
    assert not ours.training
    image = x.clone().requires_grad_(True)
    ours(image)["relu2_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0


def test_adain_layout_from_file(tmp_path):
    src = VGGFeatures(["relu4_1"], weights=None, layout="adain")
    keys = list(src.body.state_dict())
    assert keys[:2] == ["0.weight", "0.bias"] and src.body[0].kernel_size == (1, 1)
    assert keys[-2:] == ["29.weight", "29.bias"] and len(src.body) == 31  # vgg_normalised.pth up to relu4_1
    path = tmp_path / "vgg_normalised.pth"
    torch.save(src.body.state_dict(), path)
    loaded = VGGFeatures(["relu4_1"], weights=str(path))
    assert loaded.layout == "adain"
    x = torch.rand(1, 3, 33, 31) * 2 - 1  # ceil-mode pooling keeps odd sizes
    assert torch.equal(loaded(x)["relu4_1"], src(x)["relu4_1"])
    assert loaded(x)["relu4_1"].shape[-2:] == (5, 4)


def test_missing_file_and_offline_imagenet(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        VGGFeatures(weights=str(tmp_path / "nope.pth"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(vgg_module, "IMAGENET_VGG19_URL", "http://127.0.0.1:9/vgg19-dcbb9e9d.pth")  # nothing listens
    with pytest.raises(WeightsUnavailableError) as err:
        VGGFeatures(weights="imagenet")
    msg = str(err.value)
    assert "vgg19-dcbb9e9d.pth" in msg and str(tmp_path / "torch" / "hub" / "checkpoints") in msg
    assert "model.vgg_weights" in msg
    assert not list((tmp_path / "torch" / "hub" / "checkpoints").iterdir())  # no partial file left
    deferred = VGGFeatures(weights="imagenet", defer=True)  # builds; fails only when loading
    with pytest.raises(WeightsUnavailableError):
        deferred.load_pretrained()


def test_imagenet_weights_download_into_the_hub_cache(tmp_path, monkeypatch):
    torch.manual_seed(0)
    served = tmp_path / "served"
    served.mkdir()
    reference = torchvision.models.vgg19()
    torch.save(reference.state_dict(), served / "vgg19-dcbb9e9d.pth")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
        monkeypatch.setattr(
            vgg_module, "IMAGENET_VGG19_URL", f"http://127.0.0.1:{server.server_address[1]}/vgg19-dcbb9e9d.pth"
        )
        v = VGGFeatures(["relu1_1"], weights="imagenet")
    finally:
        server.shutdown()
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"
    assert cached.is_file()
    assert torch.equal(v.body[0].weight, reference.features[0].weight)
    again = VGGFeatures(["relu1_1"], weights="imagenet")  # from the cache, server gone
    assert torch.equal(again.body[0].weight, reference.features[0].weight)


def test_vgg16_layer_names_shapes_and_depth():
    assert len(VGG16_LAYERS) == 31
    assert VGG16_LAYERS[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert VGG16_LAYERS[14:17] == ("conv3_3", "relu3_3", "pool3")
    assert VGG16_LAYERS[-3:] == ("conv5_3", "relu5_3", "pool5")
    assert "relu3_4" not in VGG16_LAYERS and "relu4_4" not in VGG16_LAYERS
    # the names are the modules of torchvision's vgg16().features, in order
    kinds = {torch.nn.Conv2d: "conv", torch.nn.ReLU: "relu", torch.nn.MaxPool2d: "pool"}
    assert [kinds[type(m)] for m in torchvision_features("vgg16")] == [n[:4] for n in VGG16_LAYERS]
    johnson = ["relu1_2", "relu2_2", "relu3_3", "relu4_3"]
    v = VGGFeatures(johnson, weights=None, arch="vgg16")
    assert v.arch == "vgg16" and len(v.body) == VGG16_LAYERS.index("relu4_3") + 1 == 23  # nothing deeper
    out = v(torch.rand(2, 3, 32, 24) * 2 - 1)
    assert {n: tuple(t.shape) for n, t in out.items()} == {
        "relu1_2": (2, 64, 32, 24),
        "relu2_2": (2, 128, 16, 12),
        "relu3_3": (2, 256, 8, 6),
        "relu4_3": (2, 512, 4, 3),
    }
    convs = [m for m in v.body if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 10  # Johnson's relu4_3: VGG-16's 10th convolution ...
    deep19 = VGGFeatures(["relu4_3"], weights=None)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in deep19.body) == 11  # ... VGG-19's relu4_3 is its 11th
    with pytest.raises(ValueError, match=r"unknown VGG-16 layer names \['relu3_4'\] \(relu3_4 exist in the other"):
        VGGFeatures(["relu3_4"], weights=None, arch="vgg16")
    with pytest.raises(ValueError, match="arch must be one of vgg19, vgg16"):
        VGGFeatures(["relu1_1"], weights=None, arch="vgg11")
    with pytest.raises(ValueError, match="adain layout is VGG-19 only"):
        VGGFeatures(["relu1_1"], weights=None, layout="adain", arch="vgg16")


def test_vgg16_loads_torchvision_files_and_matches_torchvision(tmp_path, vgg16_state):
    full, features = tmp_path / "vgg16.pth", tmp_path / "vgg16_features.pth"
    torch.save(vgg16_state, full)  # torchvision.models.vgg16().state_dict(): features.N and classifier.N
    tv = torchvision_features("vgg16")
    tv.load_state_dict({k.removeprefix("features."): v for k, v in vgg16_state.items() if k.startswith("features.")})
    torch.save(tv.state_dict(), features)  # its .features: N.weight, N.bias
    x = torch.rand(1, 3, 24, 20) * 2 - 1
    with torch.no_grad():
        expected = tv[:23](imagenet_normalized(x))  # up to relu4_3
    for path, defer in ((full, False), (features, True)):
        v = VGGFeatures(["relu4_3"], weights=str(path), arch="vgg16", defer=defer)
        v.load_pretrained()
        assert v.layout == "torchvision"
        assert torch.allclose(v(x)["relu4_3"], expected, atol=1e-5)


def test_a_file_of_the_other_network_is_refused_by_its_layout(tmp_path):
    torch.manual_seed(0)
    vgg19_file, vgg16_file, shallow_file = tmp_path / "vgg19.pth", tmp_path / "vgg16.pth", tmp_path / "shallow.pth"
    torch.save(torchvision_features("vgg19").state_dict(), vgg19_file)
    vgg16 = torchvision_features("vgg16")
    torch.save(vgg16.state_dict(), vgg16_file)
    with pytest.raises(ValueError, match=r"hold a VGG-19 .*arch='vgg19'"):
        VGGFeatures(["relu2_2"], weights=str(vgg19_file), arch="vgg16")  # a shallow tap: the file tells
    with pytest.raises(ValueError, match=r"hold a VGG-16 .*arch='vgg16'"):
        VGGFeatures(["relu1_1"], weights=str(vgg16_file))
    # the layers up to relu3_3 are the same modules in both: such a file fits either network
    torch.save(vgg16[:16].state_dict(), shallow_file)
    for arch in ("vgg16", "vgg19"):
        v = VGGFeatures(["relu3_3"], weights=str(shallow_file), arch=arch)
        assert torch.equal(v.body[14].weight, vgg16[14].weight)


def test_missing_file_and_offline_imagenet_vgg16(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="VGG-16 weights file .*nope.pth"):
        VGGFeatures(["relu1_2"], weights=str(tmp_path / "nope.pth"), arch="vgg16")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(vgg_module, "IMAGENET_VGG16_URL", "http://127.0.0.1:9/vgg16-397923af.pth")  # nothing listens
    assert vgg_module.imagenet_vgg16_path() == tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth"
    with pytest.raises(WeightsUnavailableError) as err:
        VGGFeatures(["relu1_2"], weights="imagenet", arch="vgg16")
    msg = str(err.value)
    assert "VGG-16" in msg and "vgg16-397923af.pth" in msg and str(tmp_path / "torch" / "hub" / "checkpoints") in msg
    assert "model.vgg_weights" in msg
    assert not list((tmp_path / "torch" / "hub" / "checkpoints").iterdir())  # no partial file left
    deferred = VGGFeatures(["relu1_2"], weights="imagenet", defer=True, arch="vgg16")  # builds; fails only when loading
    with pytest.raises(WeightsUnavailableError, match="vgg16-397923af.pth"):
        deferred.load_pretrained()


def test_imagenet_vgg16_weights_come_from_the_hub_cache(tmp_path, monkeypatch, vgg16_state):
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "vgg16-397923af.pth"
    cached.parent.mkdir(parents=True)
    # torchvision's vgg16 layout (the classifier, 500 MB of the published file, left out to keep the test fast)
    torch.save({k: v for k, v in vgg16_state.items() if k.startswith("features.")}, cached)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(vgg_module, "IMAGENET_VGG16_URL", "http://127.0.0.1:9/vgg16-397923af.pth")  # offline
    v = VGGFeatures(["relu1_2"], weights="imagenet", arch="vgg16")
    assert torch.equal(v.body[2].weight, vgg16_state["features.2.weight"])
