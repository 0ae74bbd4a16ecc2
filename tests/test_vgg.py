import functools
import http.server
import threading

import pytest
import torch
import torchvision

from gan_style.nets import VGG19_LAYERS, VGGFeatures, WeightsUnavailableError
from gan_style.nets import vgg as vgg_module


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
