"""``gan-style demo`` with models trained on data other than 8-bit RGB: a 4-band 16-bit CycleGAN and a 1-band 16-bit
one (the tiny checkpoints of ``tests/test_imagery_doors.py``).

The page reads an uploaded file as ``gan-style stylize`` reads it, offers the file ``stylize`` writes, shows both
through the declared display mapping (``display_rgb``) with a choice of bands, and refuses a file the model cannot
read in one line. The page's functions are called directly (``page.fns``, as ``tests/test_bounds.py`` does); one
browser test uploads a 4-band TIFF to a page served in this process.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from test_imagery_doors import _checkpoint

from conftest import gan_style_in_process

gr = pytest.importorskip("gradio")

RANGES = {
    "A": {"kind": "range", "dtype": "uint16", "low": 1000, "high": 9000},
    "B": {"kind": "range", "dtype": "uint16"},
}


def _no_progress(*args, **kwargs) -> None:
    return None


def _png(path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _page(tmp_path: Path, bands: int, suffix: str):
    """(page functions by API name, the generator_ab model, the uploaded scan) for a tiny ``bands``-band uint16
    CycleGAN checkpoint; the scan (36 x 44, values 1000-9000) lies where uploads may be read."""
    from gan_style.demo import app
    from gan_style.demo.models import load_models
    from gan_style.io.imagery import write_array

    ckpt = tmp_path / "model" / "m.ckpt"
    ckpt.parent.mkdir()
    _checkpoint(ckpt, bands, RANGES)
    models = load_models([str(ckpt)])
    scan = tmp_path / "uploads" / f"scan{suffix}"
    scan.parent.mkdir()
    write_array(scan, np.random.default_rng(0).integers(1000, 9000, (36, 44, bands)).astype("uint16"))
    page = app.build_demo(models, "cpu", max_pixels=300_000, examples=([scan], []))
    return {f.api_name: f.fn for f in page.fns.values()}, models[0], scan


def _run(fns, model, path, bands=""):
    # model, content file, display bands, size, tile, tile_overlap, tile_norm, num_samples, seed
    return fns["stylize_data"](model.name, str(path), bands, "auto", 0, 64, "image", 1, 0, request=None,
                               progress=_no_progress)  # fmt: skip


@pytest.mark.parametrize(("bands", "suffix"), [(4, ".tif"), (1, ".png")])
def test_a_16_bit_model_shows_its_file_through_the_display_mapping_and_offers_what_stylize_writes(
    bands, suffix, tmp_path
):
    from gan_style.commands.stylize import stylize
    from gan_style.inference.run import Runner, read_input
    from gan_style.io.imagery import display_rgb, read_array

    fns, model, scan = _page(tmp_path, bands, suffix)
    stylizer = model.stylizer
    assert model.name.endswith("generator_ab") and stylizer.input_scaling is not None  # the recorded scaling
    shown_in, picture, download, info, _ = _run(fns, model, scan)

    # the download is the file gan-style stylize writes for the same input: name, type, bands, values
    (expected,) = stylize(
        str(scan), checkpoint=model.options[1], network="generator_ab", output_dir=str(tmp_path / "cli")
    )
    assert Path(download).name == expected.name == f"scan{suffix}"
    got = read_array(download)
    assert got.dtype == np.uint16 and got.shape == (36, 44, bands) and got.max() > 255
    assert np.array_equal(got, read_array(expected))

    # shown through display_rgb: the runner's output in the model's output scaling, the input as the model reads it
    x = read_input(scan, stylizer)
    y = Runner(stylizer)(x)
    assert np.array_equal(_png(picture), display_rgb(read_array(expected), scaling=stylizer.output_scaling))
    assert np.abs(_png(picture).astype(int) - display_rgb(y[0]).astype(int)).max() <= 1  # the same linear mapping
    assert np.array_equal(_png(shown_in), display_rgb(x[0]))
    if bands == 1:
        assert (_png(shown_in)[..., 0] == _png(shown_in)[..., 2]).all()  # gray as gray

    # the command the page shows writes the same file
    command = info.split("`")[-2]
    assert (
        command
        == f"gan-style stylize --checkpoint {shlex.quote(model.options[1])} --network generator_ab --content scan{suffix}"
    )
    gan_style_in_process(*shlex.split(command)[1:], "--output_dir", str(tmp_path / "shown"), cwd=scan.parent)
    assert np.array_equal(read_array(tmp_path / "shown" / f"scan{suffix}"), got)

    # the page offers a file input, display bands for several bands, and the full-precision download
    updates = fns["controls_for"](model.name)
    image_group, file_group, bands_box, run_button, run_file_button, result_file = updates[-6:]
    assert not image_group["visible"] and file_group["visible"] and result_file["visible"]
    assert not run_button["visible"] and run_file_button["visible"]
    assert bands_box["visible"] == (bands > 1)
    assert f"Reads {bands}-band uint16 images" in updates[0]


def test_display_bands_change_what_is_shown_and_not_the_file(tmp_path):
    from gan_style.io.imagery import display_rgb, read_array

    fns, model, scan = _page(tmp_path, 4, ".tif")
    scaling = model.stylizer.output_scaling
    default_in, default_out, first, _, last = _run(fns, model, scan)
    false_in, false_out, second, _, _ = _run(fns, model, scan, "3, 2, 1")
    data = read_array(first)
    assert np.array_equal(read_array(second), data)  # the file is the same
    assert np.array_equal(_png(default_out), display_rgb(data, scaling=scaling))  # default: bands 0, 1, 2
    assert np.array_equal(_png(false_out), display_rgb(data, (3, 2, 1), scaling=scaling))
    assert not np.array_equal(_png(false_out), _png(default_out))
    assert not np.array_equal(_png(false_in), _png(default_in))  # the input (4 bands too) is shown with the same bands

    # changing the bands redraws the last result without running the model again
    gray_in, gray_out = fns["redisplay"](model.name, str(scan), "3", last)
    assert np.array_equal(_png(gray_out), display_rgb(data, 3, scaling=scaling))
    assert (_png(gray_in)[..., 0] == _png(gray_in)[..., 1]).all()  # one band: gray

    for typed, message in [
        ("0, 1", "Display bands must be one band number or three (R, G, B), numbered from 0 and separated by commas "
                 "(0, 1, 2), got '0, 1'"),
        ("0, 1, 4", "display bands [4] do not exist: the image has 4 band(s), numbered 0-3"),
    ]:  # fmt: skip
        with pytest.raises(gr.Error) as err:
            fns["redisplay"](model.name, str(scan), typed, last)
        assert err.value.message == message


def test_a_file_the_model_cannot_read_is_one_line_and_the_page_keeps_serving(tmp_path):
    from gan_style.io.imagery import write_array

    fns, model, scan = _page(tmp_path, 4, ".tif")
    uploads = scan.parent
    Image.new("RGB", (40, 30), (200, 30, 30)).save(uploads / "photo.jpg")
    (uploads / "broken.tif").write_bytes(b"II*\x00 not really a TIFF")
    write_array(uploads / "gray.png", np.full((30, 40, 1), 3000, np.uint16))
    accepts = "upload 4-band uint16 images (TIFF or .npy) instead."
    for name, message in [
        ("photo.jpg", f"Cannot use the content file: image file 'photo.jpg' has 3 band(s), but channels is 4; {accepts}"),
        ("broken.tif", f"Cannot use the content file: image file 'broken.tif' is not a readable image (a TIFF without "
                       f"images); {accepts}"),
        ("gray.png", f"Cannot use the content file: image file 'gray.png' has 1 band(s), but channels is 4; {accepts}"),
    ]:  # fmt: skip
        with pytest.raises(gr.Error) as err:
            _run(fns, model, uploads / name)
        assert err.value.message == message
        with pytest.raises(gr.Error, match="Cannot use the content file"):  # on upload, before any run
            fns["preview_data"](model.name, str(uploads / name), "")
    with pytest.raises(gr.Error) as err:  # the 8-bit RGB endpoint refuses the model, in one line
        fns["stylize"](model.name, str(photo := uploads / "photo.jpg"), [], "", [], 1.0, "model's setting", "auto", 0,
                       64, "image", 1, 0, request=None, progress=_no_progress)  # fmt: skip
    assert err.value.message == (
        f"{model.name} reads 4-band uint16 images (TIFF or .npy): upload a content file and run it with /stylize_data."
    )
    with pytest.raises(gr.Error) as err:
        fns["compare"]([model.name, model.name], str(photo), [], "auto", request=None, progress=_no_progress)
    assert err.value.message == (
        f"Side by side compares 8-bit RGB models; {model.name} read other data: run them in the Stylize tab."
    )
    _, picture, download, _, _ = _run(fns, model, scan)  # the next request is served
    assert Path(download).name == "scan.tif" and _png(picture).shape == (36, 44, 3)


# --- a real browser -------------------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_page_takes_a_4_band_tiff_and_shows_the_result(tmp_path, tmp_path_factory, monkeypatch):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    required = os.environ.get("GAN_STYLE_REQUIRE_BROWSER") == "1"
    if not (chromium and driver):
        reason = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if required:
            pytest.fail(f"{reason}; GAN_STYLE_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    if not required:
        pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from gan_style.demo import app
    from gan_style.demo.models import load_models
    from gan_style.io.imagery import write_array

    monkeypatch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
    _checkpoint(tmp_path / "m.ckpt", 4, RANGES)
    scan = tmp_path / "tile.tif"
    write_array(scan, np.random.default_rng(1).integers(1000, 9000, (48, 64, 4)).astype("uint16"))
    page = app.build_demo(load_models([str(tmp_path / "m.ckpt")]), "cpu", examples=([], []))
    port = _free_port()
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    page.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, show_error=False, ssr_mode=False,
                inbrowser=False, quiet=True)  # fmt: skip
    browser = webdriver.Chrome(service=Service(driver), options=options)
    try:
        start = time.perf_counter()
        browser.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(browser, 60)
        field = wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#content-file input[type=file]"))
        field.send_keys(str(scan))
        wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, "#content-view img"), message="the content shown")
        browser.find_element(By.CSS_SELECTOR, "#run-file").click()
        wait.until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#result img[src*='tile_display.png']"), message="a result"
        )
        wait.until(
            lambda b: b.find_elements(By.CSS_SELECTOR, "#result-file a[download='tile.tif']"), message="the download"
        )
        assert "64x48 px, 4 band(s)" in browser.find_element(By.CSS_SELECTOR, "#result-info").text
        seconds = time.perf_counter() - start
        folder = os.environ.get("GAN_STYLE_TEST_ARTIFACTS")
        artifacts = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
        artifacts.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(artifacts / "demo_imagery_page.png"))
        (artifacts / "demo_imagery_timing.json").write_text(json.dumps({"page_load_to_result_s": round(seconds, 2)}))
    finally:
        browser.quit()
        page.close()
