"""``gan-style demo``: the page in a real browser (headless Chromium driven by Selenium), its API (``gradio_client``),
and the command's own errors.

One server (``gan-style demo`` in a subprocess, on a free port, with the tiny CycleGAN checkpoint) and one browser
serve the whole module. The results must equal ``gan-style stylize``'s output pixel for pixel: the page runs the
same steps on the same decoded image in the same kind of process, and PNG is lossless.

Browser tests skip when Chromium or chromedriver is missing, except with ``GAN_STYLE_REQUIRE_BROWSER=1`` (set by
``.ci/run``), where they fail. A screenshot of the page after a run and the measured times are written to
``$GAN_STYLE_TEST_ARTIFACTS`` (else the test's temporary folder).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import SAMPLE_ROOT, gan_style_in_process

CONTENT = SAMPLE_ROOT / "testA" / "newyork.jpg"  # 455 x 286
OTHER_CONTENT = "sailboat.jpg"  # one of the bundled examples the page offers
MAX_PIXELS = 300_000  # the server's --max_pixels: above both examples, below the "huge" upload
AB = "CycleGAN · cyclegan/last.ckpt · generator_ab"
BA = "CycleGAN · cyclegan/last.ckpt · generator_ba"


def _pixels(path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def _stylize(checkpoint: Path, out: Path, *extra: str) -> Path:
    """``gan-style stylize`` of :data:`CONTENT` with ``extra`` settings; the written PNG."""
    out.mkdir(parents=True, exist_ok=True)
    gan_style_in_process(
        "stylize", "--checkpoint", str(checkpoint), "--content", str(CONTENT), "--output_dir", str(out), *extra, cwd=out
    )
    return out / "newyork.png"


def _artifacts(tmp_path_factory) -> Path:
    folder = os.environ.get("GAN_STYLE_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the command without a server ----------------------------------------------------------------------------


def test_demo_without_gradio_says_how_to_install(monkeypatch, capsys):
    from gan_style.cli import main

    monkeypatch.setitem(sys.modules, "gradio", None)  # as if the demo extra were not installed
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--checkpoint", "runs/cyclegan"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "gan-style demo: error: gan-style demo needs the package 'gradio', which is not installed: "
        'pip install "gan-style[demo]"'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "give at least one model: --checkpoint RUN_OR_CKPT, --pretrained NAME or --method gatys"),
        (
            ["--checkpoint", "no/such/run"],
            "checkpoint 'no/such/run' does not exist; give a checkpoint file or a run folder",
        ),
        (["--checkpoint", "x.ckpt", "--port", "70000"], "--port must be a TCP port between 1 and 65535, got 70000"),
    ],
)
def test_demo_refuses_bad_requests_with_one_line(args, message, tmp_path):
    if importlib.util.find_spec("gradio") is None:  # without it the message says how to install it (test above)
        pytest.skip("gradio is not installed (pip install -e '.[dev]')")
    proc = gan_style_in_process("demo", *args, cwd=tmp_path, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"gan-style demo: error: {message}"


def test_demo_refuses_a_port_in_use_before_loading_models(tmp_path):
    if importlib.util.find_spec("gradio") is None:
        pytest.skip("gradio is not installed (pip install -e '.[dev]')")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = gan_style_in_process(
            "demo", "--checkpoint", "not/loaded.ckpt", "--port", str(port), cwd=tmp_path, check=False
        )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"gan-style demo: error: --port {port} on 127.0.0.1 cannot be used (Address already in use); choose another "
        "--port, or stop what listens there"
    )


def test_cancel_stops_the_running_model_call_and_frees_the_device():
    """The page's Cancel: the run stops at its next network pass, and the next call gets the device."""
    import threading

    import torch

    from gan_style.demo.runner import ModelRunner, RunCancelled

    runner, started, outcome = ModelRunner(), threading.Event(), {}
    net = torch.nn.Conv2d(1, 1, 1)

    def endless_run() -> None:  # stands in for a long Gatys optimization: network passes until cancelled
        try:
            with runner.turn("visitor"), torch.no_grad():
                started.set()
                while True:
                    net(torch.zeros(1, 1, 4, 4))
        except RunCancelled as err:
            outcome["error"] = str(err)

    worker = threading.Thread(target=endless_run, daemon=True)
    worker.start()
    assert started.wait(30)
    runner.cancel("someone else")  # another session's cancel leaves this run alone
    time.sleep(0.2)
    assert worker.is_alive()
    runner.cancel("visitor")
    worker.join(10)
    assert not worker.is_alive() and outcome["error"] == "the run of session visitor was cancelled"
    with runner.turn("next visitor"):  # the device is free again, and network passes run normally
        assert net(torch.zeros(1, 1, 4, 4)).shape == (1, 1, 4, 4)


# --- one server for the module ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module", autouse=True)
def _demo_process(tiny_cyclegan_checkpoint, tmp_path_factory):
    """``gan-style demo --checkpoint <tiny CycleGAN run>`` started on a free port when the module begins, so that
    it boots while the first tests run: yields (process, URL, log file), or None without Gradio."""
    if importlib.util.find_spec("gradio") is None:
        yield None
        return
    tmp = tmp_path_factory.mktemp("demo_server")
    port = _free_port()
    run_folder = tiny_cyclegan_checkpoint.parents[1]
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", GRADIO_TEMP_DIR=str(tmp / "gradio"))
    log = open(tmp / "server.log", "w+")  # noqa: SIM115 - read back in a failure message, closed below
    command = [sys.executable, "-m", "gan_style", "demo", "--checkpoint", str(run_folder), "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--max_pixels", str(MAX_PIXELS)], cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        yield proc, f"http://127.0.0.1:{port}/", log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def demo_server(_demo_process) -> str:
    """The URL of the demo server, once it answers."""
    if _demo_process is None:
        if os.environ.get("GAN_STYLE_REQUIRE_BROWSER") == "1":
            pytest.fail(
                "gradio is not installed (pip install -e '.[dev]'); GAN_STYLE_REQUIRE_BROWSER=1 forbids skipping"
            )
        pytest.skip("gradio is not installed (pip install -e '.[dev]')")
    proc, url, log = _demo_process
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return url
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"gan-style demo did not start (exit {proc.poll()}):\n{log.read()[-4000:]}")
        time.sleep(0.5)


def _alive(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status == 200


# --- the API (gradio_client) -----------------------------------------------------------------------------------


def _stylize_args(content, size="auto"):
    # model, content, styles, style_weights, masks, alpha, preserve_color, size, tile, tile_overlap, tile_norm,
    # num_samples, seed
    return [AB, content, [], "", [], 1.0, "model's setting", size, 0, 64, "image", 1, 0]


def test_api_gives_the_pixels_of_stylize_and_the_command_that_does(demo_server, tiny_cyclegan_checkpoint, tmp_path):
    from gradio_client import Client, handle_file

    client = Client(demo_server, verbose=False)
    result, info = client.predict(*_stylize_args(handle_file(str(CONTENT))), api_name="/stylize")
    expected = _stylize(tiny_cyclegan_checkpoint, tmp_path / "cli", "--network", "generator_ab")
    assert np.array_equal(_pixels(result), _pixels(expected))
    assert Path(result).name == "newyork.png"
    assert f"**{AB}** · 455x286 px · " in info and " s on cpu" in info  # the photo's own size, not the 32 px crop

    # the command the page shows gives the same pixels
    command = info.split("`")[1]
    words = shlex.split(command)
    assert words[:2] == ["gan-style", "stylize"]
    shown = tmp_path / "shown"
    shown.mkdir()
    gan_style_in_process(*words[1:], "--output_dir", str(shown), cwd=CONTENT.parent)
    assert np.array_equal(_pixels(shown / "newyork.png"), _pixels(result))

    # side by side: both directions on the same photo, one result each, the first the same as above
    items, summary = client.predict([AB, BA], handle_file(str(CONTENT)), [], "auto", api_name="/compare")
    assert [item["caption"].split(" · ")[-2] for item in items] == ["generator_ab", "generator_ba"]
    assert np.array_equal(_pixels(items[0]["image"]), _pixels(expected))
    assert not np.array_equal(_pixels(items[1]["image"]), _pixels(expected))  # the other direction's network
    assert summary.count("455x286 px") == 2


def test_api_refuses_broken_huge_and_unuploaded_files_and_keeps_serving(demo_server, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    client = Client(demo_server, verbose=False)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n not really a PNG")
    with pytest.raises(
        AppError, match=r"Cannot use the content image: image file 'broken.png' is not a readable image"
    ):
        client.predict(*_stylize_args(handle_file(str(broken))), api_name="/stylize")

    huge = tmp_path / "huge.png"
    Image.new("RGB", (700, 500), (200, 30, 30)).save(huge)  # 350 000 pixels > --max_pixels
    with pytest.raises(AppError, match=r"'huge.png' has 700x500 pixels, more than this demo decodes \(300000 pixels"):
        client.predict(*_stylize_args(handle_file(str(huge))), api_name="/stylize")

    # a path on the server, not an upload: refused before anything opens it
    request = urllib.request.Request(
        demo_server + "gradio_api/call/stylize",
        data=json.dumps({"data": _stylize_args({"path": str(CONTENT), "meta": {"_type": "gradio.FileData"}})}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        event = json.loads(response.read())["event_id"]
    with urllib.request.urlopen(f"{demo_server}gradio_api/call/stylize/{event}", timeout=60) as response:
        assert response.read().decode().startswith("event: error")

    assert _alive(demo_server)
    result, _ = client.predict(*_stylize_args(handle_file(str(CONTENT))), api_name="/stylize")
    assert _pixels(result).shape == (286, 455, 3)  # still serving, at the photo's own size


# --- a real browser ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Headless Chromium driven by Selenium, downloading into ``browser.download_dir``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not (chromium and driver):
        reason = "Chromium and chromedriver are needed (apt-get install chromium chromium-driver)"
        if os.environ.get("GAN_STYLE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}; GAN_STYLE_REQUIRE_BROWSER=1 forbids skipping")
        pytest.skip(reason)
    if os.environ.get("GAN_STYLE_REQUIRE_BROWSER") != "1":
        pytest.importorskip("selenium")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path_factory.mktemp("downloads")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.download_dir = downloads
    try:
        yield chrome
    finally:
        chrome.quit()


def _wait(browser, condition, timeout=60, what="the page"):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout).until(condition, message=f"timed out waiting for {what}")


def _toasts(browser) -> list[str]:
    from selenium.webdriver.common.by import By

    return [t.text for t in browser.find_elements(By.CSS_SELECTOR, "[data-testid=toast-text]")]


def _upload(browser, path: Path) -> None:
    from selenium.webdriver.common.by import By

    clear = browser.find_elements(By.CSS_SELECTOR, "#content button[aria-label=Clear]")
    if clear:
        clear[0].click()
    field = _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#content input[type=file]"), what="the upload")
    field.send_keys(str(path))


def _full_page_screenshot(browser, target: Path) -> None:
    """The whole page as a PNG (Chrome DevTools: beyond the window's viewport)."""
    import base64

    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    target.write_bytes(base64.b64decode(shot["data"]))


def test_page_runs_a_model_and_its_download_equals_stylize(
    demo_server, browser, tiny_cyclegan_checkpoint, tmp_path, tmp_path_factory
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    expected = _stylize(tiny_cyclegan_checkpoint, tmp_path / "cli", "--network", "generator_ab", "--size", "256")
    start = time.perf_counter()
    browser.get(demo_server)
    _upload(browser, CONTENT)
    browser.find_element(By.CSS_SELECTOR, "#size-and-tiles button").click()  # open "Size and tiles"
    size = _wait(browser, lambda b: b.find_element(By.CSS_SELECTOR, "#size input"), what="the size field")
    size.click()
    size.send_keys(Keys.CONTROL, "a")
    size.send_keys("256", Keys.ENTER)
    browser.find_element(By.CSS_SELECTOR, "#run").click()
    shown = _wait(
        browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#result img[src*='newyork.png']"), what="a result"
    )
    first_result_s = time.perf_counter() - start
    info = browser.find_element(By.CSS_SELECTOR, "#result-info").text
    assert f"{AB} · 407x256 px · " in info and "--size 256" in info

    artifacts = _artifacts(tmp_path_factory)
    _full_page_screenshot(browser, artifacts / "demo_page.png")
    (artifacts / "demo_timing.json").write_text(json.dumps({"page_load_to_first_result_s": round(first_result_s, 2)}))

    browser.find_element(By.CSS_SELECTOR, "#result button[aria-label=Download]").click()
    target = browser.download_dir / "newyork.png"
    _wait(browser, lambda b: target.is_file() and target.stat().st_size > 0, what="the download")
    assert np.array_equal(_pixels(target), _pixels(expected))
    assert shown[0].get_attribute("src").endswith("newyork.png")


def test_page_shows_a_broken_upload_message_and_the_next_request_works(demo_server, browser, tmp_path):
    from selenium.webdriver.common.by import By

    browser.get(demo_server)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    _upload(browser, broken)
    browser.find_element(By.CSS_SELECTOR, "#run").click()
    message = "Cannot use the content image: image file 'broken.png' is not a readable image"
    _wait(browser, lambda b: any(message in t for t in _toasts(b)), what="the error message")

    # the next request: a bundled example, run, a result
    example = f"//button[normalize-space()='{OTHER_CONTENT}']"
    next(b for b in browser.find_elements(By.XPATH, example) if b.is_displayed()).click()
    browser.find_element(By.CSS_SELECTOR, "#run").click()
    _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#result img[src*='sailboat.png']"), what="a result")
    assert _alive(demo_server)
