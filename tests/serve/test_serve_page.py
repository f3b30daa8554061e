"""The draw-a-digit page in a real browser: headless Chromium driven by Playwright.

Debian's ``chromium`` is used (Playwright's own browser download is not needed). Without a
browser the tests skip with the reason, unless ``MNIST_INFER_REQUIRE_BROWSER=1`` (CI) makes
that a failure. ``MNIST_INFER_SCREENSHOT=path.png`` also saves the screenshot there, and number
mode's beside it as ``path_number.png`` (the docs' pictures are made so).
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("MNIST_INFER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _missing(reason: str) -> None:
    if os.environ.get("MNIST_INFER_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed (pip install playwright; the dev extra has it)")
    if not Path(CHROMIUM).exists():
        _missing(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (or set MNIST_INFER_CHROMIUM)"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


def draw_stroke(page, points: list[tuple[float, float]]) -> None:
    """One pen-down stroke through ``points`` (fractions of the canvas), with many moves."""
    box = page.locator("#canvas").bounding_box()
    assert box is not None

    def at(fraction: tuple[float, float]) -> tuple[float, float]:
        return box["x"] + fraction[0] * box["width"], box["y"] + fraction[1] * box["height"]

    page.mouse.move(*at(points[0]))
    page.mouse.down()
    for start, end in itertools.pairwise(points):
        for step in range(1, 11):
            t = step / 10
            page.mouse.move(
                *at((start[0] + t * (end[0] - start[0]), start[1] + t * (end[1] - start[1])))
            )
    page.mouse.up()


def answer_for(page, inputs: int) -> str:
    """The answer the page shows once it has answered its ``inputs``-th stroke or image."""
    # A selector, not a JavaScript predicate: the page's policy forbids evaluating strings.
    page.locator(f"body[data-answered='{inputs}']").wait_for(state="attached", timeout=20_000)
    return str(page.locator("#result").text_content())


def test_drawing_a_seven_reads_seven(server, browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    page.goto(server.url + "/")
    draw_stroke(page, [(0.25, 0.22), (0.75, 0.22)])  # the bar
    draw_stroke(page, [(0.75, 0.22), (0.58, 0.5), (0.45, 0.8)])  # the stem
    assert answer_for(page, 2) == "7"
    assert page.locator("#top li").count() == 3
    assert page.locator("#seen").get_attribute("src").startswith("data:image/png;base64,")
    screenshot = tmp_path / "serve_page.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.stat().st_size > 10_000
    target = os.environ.get("MNIST_INFER_SCREENSHOT")
    if target:
        shutil.copyfile(screenshot, target)
    page.close()


def test_uploading_a_photo_reads_its_digit(server, browser) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    page.set_input_files("#file", str(ROOT / "examples" / "0_phone_photo.jpg"))
    assert answer_for(page, 1) == "0"
    page.close()


def test_clear_and_keyboard_controls(server, browser) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    draw_stroke(page, [(0.5, 0.2), (0.5, 0.8)])
    assert answer_for(page, 1) == "1"
    page.keyboard.press("Tab")  # the mode switch, the canvas and the buttons take the focus
    page.locator("#clear").focus()
    page.keyboard.press("Enter")
    assert page.locator("#result").text_content() == "-"
    labels = page.eval_on_selector_all(
        "button, input, canvas:not([aria-hidden])",
        "els => els.map(e => e.getAttribute('aria-label')"
        " || (e.labels && e.labels[0] && e.labels[0].textContent) || e.textContent)",
    )
    assert all(label and label.strip() for label in labels)
    page.close()


def draw_one_and_seven(page) -> None:
    """A 1 and a 7 side by side on the number canvas (640x240): three strokes."""
    draw_stroke(page, [(0.3, 0.15), (0.3, 0.85)])  # the 1
    draw_stroke(page, [(0.48, 0.2), (0.64, 0.2)])  # the 7's bar
    draw_stroke(page, [(0.64, 0.2), (0.58, 0.5), (0.54, 0.82)])  # and its stem


def test_drawing_two_digits_in_number_mode_reads_the_number(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(server.url + "/")
    page.get_by_role("radio", name="A number").check()
    assert page.locator("#canvas").evaluate("c => [c.width, c.height]") == [640, 240]
    draw_one_and_seven(page)
    assert answer_for(page, 3) == "17"
    assert "sure of the whole number" in str(page.locator("#confidence").text_content())
    figures = page.locator("#seen-digits figure")
    assert figures.count() == 2
    digits = [figures.nth(i).get_attribute("data-digit") for i in range(2)]
    boxes = [
        [int(v) for v in str(figures.nth(i).get_attribute("data-box")).split(",")] for i in range(2)
    ]
    assert digits == ["1", "7"]
    (one, seven) = boxes
    assert one[2] <= seven[0]  # the 1 ends before the 7 starts
    assert 0.25 * 640 < one[0] < 0.35 * 640
    assert 0.45 * 640 < seven[0] < 0.6 * 640
    for i in range(2):
        caption = str(figures.nth(i).locator("figcaption").text_content())
        assert caption.startswith(f"{digits[i]} (")
        assert "%)" in caption
        assert f"x {boxes[i][0]}-{boxes[i][2]}, y {boxes[i][1]}-{boxes[i][3]}" in caption
        src = figures.nth(i).locator("img").get_attribute("src")
        assert str(src).startswith("data:image/png;base64,")
    outlined = page.locator("#boxes").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data"
        ".some((v, i) => i % 4 === 3 && v > 0)"
    )
    assert outlined  # the digits are outlined on the drawing
    target = os.environ.get("MNIST_INFER_SCREENSHOT")
    if target:  # beside the digit mode's picture
        page.screenshot(path=str(Path(target).with_name(Path(target).stem + "_number.png")))
    page.close()


def test_two_digits_in_digit_mode_point_to_number_mode(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    page.goto(server.url + "/")
    draw_stroke(page, [(0.2, 0.2), (0.2, 0.8)])
    draw_stroke(page, [(0.45, 0.25), (0.8, 0.25)])
    draw_stroke(page, [(0.8, 0.25), (0.65, 0.55), (0.55, 0.8)])
    page.locator("body[data-answered='3']").wait_for(state="attached", timeout=20_000)
    assert page.locator("#result").text_content() == "-"
    assert "read" in str(page.locator("#error").text_content())
    page.close()


def test_the_page_fits_a_phone(server, browser) -> None:
    page = browser.new_page(
        viewport={"width": 375, "height": 740}, device_scale_factor=2, has_touch=True
    )
    page.goto(server.url + "/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375  # no sideways scrolling
    box = page.locator("#canvas").bounding_box()
    assert box is not None
    assert box["width"] <= 375
    page.close()


def watch_policy(page) -> list[str]:
    """Collect the page's Content-Security-Policy violations and script errors as they happen."""
    problems: list[str] = []
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation',"
        " e => console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )

    def note(message) -> None:
        if "CSP violation" in message.text or "Content Security Policy" in message.text:
            problems.append(message.text)

    page.on("console", note)
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_the_page_works_under_its_content_security_policy(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    problems = watch_policy(page)
    response = page.goto(server.url + "/")
    assert response is not None
    policy = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    draw_stroke(page, [(0.25, 0.22), (0.75, 0.22)])
    draw_stroke(page, [(0.75, 0.22), (0.58, 0.5), (0.45, 0.8)])
    assert answer_for(page, 2) == "7"
    assert page.locator("#top li").count() == 3  # the bars, sized by script
    page.set_input_files("#file", str(ROOT / "examples" / "0_phone_photo.jpg"))
    assert answer_for(page, 3) == "0"  # the photo is shown from a blob: URL
    page.get_by_role("radio", name="A number").check()
    draw_one_and_seven(page)
    assert answer_for(page, 6) == "17"
    assert page.locator("#seen-digits img").count() == 2  # data: URLs
    assert problems == []
    page.close()


def test_the_page_refuses_to_be_framed(server, browser) -> None:
    page = browser.new_page()
    page.set_content("<p>another site</p>")  # about:blank, no policy of its own
    page.evaluate(
        "url => new Promise(done => { const f = document.createElement('iframe');"
        " f.onload = done; f.src = url; document.body.appendChild(f); })",
        server.url + "/",
    )
    (framed,) = page.main_frame.child_frames
    assert framed.evaluate("document.getElementById('canvas') !== null") is False  # refused
    page.close()


def test_the_api_docs_work_under_their_policy(server, browser) -> None:
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    problems = watch_policy(page)
    response = page.goto(server.url + "/docs")
    assert response is not None
    assert "'unsafe-inline'" not in response.headers["content-security-policy"]
    page.wait_for_selector(".opblock-summary-path", timeout=20_000)
    paths = page.locator(".opblock-summary-path").all_text_contents()
    assert {"/v1/predict", "/v1/read", "/v1/info"} <= {path.strip() for path in paths}
    assert problems == []
    page.close()
