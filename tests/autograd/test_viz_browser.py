"""The explorer and the walkthrough in a real browser: headless Chromium, offline.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them) and the
``selenium`` package (the ``dev`` extra); skipped when any is missing. Chromium runs
headless with a fresh profile and no network features. Set ``TOPOGRAD_SCREENSHOTS``
to a folder (``examples/images``) to keep the screenshots.
"""

from __future__ import annotations

import os
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import pytest

from autograd.viz import backward_steps, explore
from benchmarks.bench_viz import EXAMPLES

pytestmark = pytest.mark.browser
webdriver = pytest.importorskip("selenium.webdriver")


CHROMIUM_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--window-size=1600,900",
)


def _find(*names: str) -> str | None:
    for name in names:
        found = shutil.which(name) or (
            f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None
        )
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    chromium, driver = _find("chromium", "chromium-browser"), _find("chromedriver")
    if chromium is None or driver is None:
        pytest.skip(
            "headless Chromium or chromedriver not found: apt-get install chromium chromium-driver"
        )
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="topograd-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()
    shutil.rmtree(profile, ignore_errors=True)


def click(browser, element) -> None:
    """A real click event on an SVG element (WebDriver clicks need HTML elements)."""
    browser.execute_script(
        "arguments[0].dispatchEvent(new MouseEvent('click', {bubbles: true}))", element
    )


def box(browser, title: str):
    """The SVG group (node or cluster) whose <title> is ``title``."""
    return browser.execute_script(
        "return [...document.querySelectorAll('#canvas g.node, #canvas g.cluster')]"
        ".find((g) => g.querySelector('title').textContent === arguments[0]) || null",
        title,
    )


def not_blank(png: bytes) -> bool:
    """Whether a screenshot (PNG) has real content: many distinct pixel bytes."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == b"IDAT":
            chunks.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    pixels = zlib.decompress(b"".join(chunks))
    return len(set(pixels[::7])) > 40


def keep(name: str, png: bytes) -> None:
    folder = os.environ.get("TOPOGRAD_SCREENSHOTS")
    if folder:
        (Path(folder) / name).write_bytes(png)


def test_explorer_opens_a_module_and_shows_a_node(browser, tmp_path):
    page = explore(EXAMPLES.gpt_loss(), tmp_path / "gpt.html", max_views=6)
    browser.get(page.as_uri())
    titles = browser.execute_script(
        "return [...document.querySelectorAll('#canvas g.node title')].map((t) => t.textContent)"
    )
    modules = [t for t in titles if t.startswith("m")]
    assert len(modules) == 5 and "Explore the graph" in browser.find_element("id", "panel").text
    keep("explorer.png", png := browser.get_screenshot_as_png())
    assert not_blank(png)
    blocks = next(
        m
        for m in modules
        if "Sequential blocks" in browser.execute_script(f"return data.items['{m}']")
    )
    click(browser, box(browser, blocks))  # open the blocks: Block 0 appears, collapsed
    assert browser.execute_script("return view") != 0
    assert box(browser, f"cluster_{blocks[1:]}") is not None and box(browser, blocks) is None
    assert "Sequential blocks" in browser.find_element("id", "panel").text
    inner = [t for t in browser.execute_script(
        "return [...document.querySelectorAll('#canvas g.node title')].map((t) => t.textContent)"
    ) if t.startswith("m") and t not in modules]  # fmt: skip
    assert inner, "the opened module shows its sub-modules as boxes"
    keep("explorer-opened.png", browser.get_screenshot_as_png())
    ce = next(t for t in titles if t.startswith("op") and "softmax_cross_entropy"
              in browser.execute_script(f"return data.items['{t}']"))  # fmt: skip
    click(browser, box(browser, ce))
    text = browser.find_element("id", "panel").text
    assert "op softmax_cross_entropy" in text and "dz = (S - I_y) / m" in text
    assert "selected" in box(browser, ce).get_attribute("class")
    click(browser, box(browser, f"cluster_{blocks[1:]}"))  # close it again
    assert browser.execute_script("return view") == 0


def test_explorer_walks_the_backward_pass(browser, tmp_path):
    page = explore(EXAMPLES.two_layer_loss(), tmp_path / "two.html")
    browser.get(page.as_uri())
    body = browser.find_element("tag name", "body")
    body.send_keys("\ue014")  # →: the seed
    body.send_keys("\ue014")  # →: the first VJP
    assert browser.find_element("id", "counter").text == "step 1 of 4"
    panel = browser.find_element("id", "panel").text
    assert "Step 1 of 4: softmax_cross_entropy" in panel and "(S - I_y) / m" in panel
    lit = browser.execute_script(
        "return [...document.querySelectorAll('#canvas g.lit title')].map((t) => t.textContent)"
    )
    assert len(lit) == 1 and lit[0].startswith("op")
    keep("explorer-walkthrough.png", png := browser.get_screenshot_as_png())
    assert not_blank(png)


def test_walkthrough_page_steps_through_its_frames(browser, tmp_path):
    files = backward_steps(EXAMPLES.two_layer_loss(), tmp_path / "steps")
    browser.get(files[-1].as_uri())
    frame = browser.find_element("id", "frame")
    assert (
        browser.execute_script("return arguments[0].complete && arguments[0].naturalWidth", frame)
        > 100
    )
    browser.find_element("tag name", "body").send_keys("\ue014")  # →
    assert browser.find_element("id", "counter").text == "step 1 of 4"
    assert frame.get_attribute("src").endswith("step_001.svg")
    assert "softmax_cross_entropy" in browser.find_element("id", "panel").text
    assert not_blank(browser.get_screenshot_as_png())
