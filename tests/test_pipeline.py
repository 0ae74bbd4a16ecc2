"""The notebook API: ``gan_style.load`` then call it on a path, a PIL image, a NumPy array or a tensor, and get
the same kind of image back at the input's size."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import gan_style
from conftest import SAMPLE_ROOT
from gan_style.errors import ImageLoadError
from gan_style.methods import AdaIN
from gan_style.pipeline import Pipeline

PHOTO = SAMPLE_ROOT / "testA" / "newyork.jpg"


@pytest.fixture(scope="module")
def model(tiny_cyclegan_checkpoint):
    return gan_style.load(tiny_cyclegan_checkpoint)


def test_three_lines_from_a_checkpoint_on_every_image_type(model):
    assert model.stylizer.default_size == 32 and not model.stylizer.training  # the recorded training crop
    photo = Image.open(PHOTO).convert("RGB").resize((455, 286))
    out = model(photo)
    assert isinstance(out, Image.Image) and out.size == (455, 286) and out.mode == "RGB"
    from_path = model(str(PHOTO))
    assert isinstance(from_path, Image.Image) and from_path.size == Image.open(PHOTO).size
    array = np.asarray(photo)
    out_array = model(array)
    assert out_array.shape == (286, 455, 3) and out_array.dtype == np.uint8
    assert np.array_equal(out_array, np.asarray(out))  # the same result whatever the container
    unit = model(array.astype(np.float32) / 255.0)
    assert unit.dtype == np.float32 and 0.0 <= unit.min() and unit.max() <= 1.0
    grey = model(array[..., 0])
    assert grey.shape == (286, 455, 3)
    batch = torch.rand(2, 3, 50, 62) * 2 - 1
    assert model(batch).shape == (2, 3, 50, 62) and model(batch[0]).shape == (3, 50, 62)
    outs = model([photo, str(PHOTO)])
    assert [o.size for o in outs] == [(455, 286), Image.open(PHOTO).size]


def test_the_result_is_the_stylizer_output_at_the_working_size(model):
    """At a size the network takes (multiples of 4, size=None) nothing is resized: exactly G(x); otherwise G of the
    resized image, resized back (bicubic) to the input's size."""
    x = torch.rand(1, 3, 32, 48) * 2 - 1
    with torch.no_grad():
        expected = model.stylizer(x)
    assert torch.equal(model(x, size=None), expected)
    y = model(torch.rand(1, 3, 30, 45) * 2 - 1, size=None)  # 30 x 45 runs at 28 x 44, comes back 30 x 45
    assert y.shape == (1, 3, 30, 45) and y.abs().max() <= 1


def test_style_images_for_a_model_that_takes_them_and_not_otherwise(model):
    torch.manual_seed(0)
    adain = Pipeline(AdaIN(encoder_weights=None).eval().stylizer())
    content, style = (
        Image.open(PHOTO).convert("RGB").resize((64, 48)),
        str(SAMPLE_ROOT / "testB" / "starry_night_crop.jpg"),
    )
    out = adain(content, style=style, alpha=0.5, size=None)
    assert isinstance(out, Image.Image) and out.size == (64, 48)
    with pytest.raises(ValueError, match="needs --style"):
        adain(content)
    with pytest.raises(ValueError, match="takes no --style"):
        model(content, style=style)


def test_bad_inputs_are_named(model, tmp_path):
    with pytest.raises(TypeError, match="cannot read an image from dict"):
        model({"not": "an image"})
    with pytest.raises(ValueError, match=r"\(3, H, W\) or \(N, 3, H, W\)"):
        model(torch.rand(4, 8, 8))
    with pytest.raises(ImageLoadError, match="does not exist"):
        model(str(tmp_path / "missing.png"))
    with pytest.raises(ValueError, match="network picks a network"):
        gan_style.load("horse2zebra", network="generator_ba")
