"""Issue 11 in chromium: notices that go when they should, presentation mode on a projector and on a phone.

The server runs on this file's own ports (8730-8739), so it can run beside the other browser tests.
"""

from __future__ import annotations

import os
import shutil
import socket

import pytest
from playwright.sync_api import Page, expect

from em_core.data import course_available, data_dir
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO, course_missing_reason
from tests.streamlit_server import StreamlitServer, free_port

pytestmark = pytest.mark.browser

PORTS = range(8730, 8740)
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"


def _port() -> int:
    """The first of this file's ports nobody listens on (the OS picks one when all are taken)."""
    for port in PORTS:
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
                sock.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    return free_port()


@pytest.fixture(scope="module")
def app_server():
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    server = StreamlitServer(log_path=REPO / "test-artifacts" / "streamlit_presentation.log")
    server.port = _port()
    with server:
        yield server


def _open(page: Page, url: str, path: str, title: str, status: bool = True) -> AppPage:
    app = AppPage(page, url)
    app.goto(path)
    app.wait_opened(title, status=status)
    return app


def _reset_notices(app: AppPage):
    return app.main.get_by_test_id("stAlert").filter(has_text="Run reset")


def test_the_reset_notice_goes_with_the_next_step(app_server: StreamlitServer, page: Page):
    # it stayed on screen after 9 steps: the notice belongs to the reset, not to the run that follows
    app = _open(page, app_server.url, "/em_2d?dataset=demo-2d", "EM on complete 2-D data")
    app.step()
    box = app.sidebar.get_by_label("K (components)")
    box.fill("3")
    box.press("Enter")
    expect(_reset_notices(app)).to_have_count(1, timeout=app.timeout_ms)
    expect(_reset_notices(app)).to_contain_text("K is now 3")
    expect(app.status_line).to_contain_text("Initial mixture")
    app.wait_idle()
    app.step()
    expect(_reset_notices(app)).to_have_count(0)
    app.step()  # and it does not come back
    expect(_reset_notices(app)).to_have_count(0)
    app.expect_clean()


# the mean labels' boxes on the PCA user map, and each pair of boxes that overlap
_LABEL_BOXES = """el => [...el.querySelectorAll('g.textpoint text')].filter(t => t.textContent.trim())
    .map(t => { const r = t.getBoundingClientRect(); return [t.textContent, r.x, r.y, r.width, r.height]; })"""


def _overprinted(boxes: list) -> list[tuple[str, str]]:
    def hit(a, b):
        return a[1] < b[1] + b[3] and b[1] < a[1] + a[3] and a[2] < b[2] + b[4] and b[2] < a[2] + a[4]

    return [(a[0], b[0]) for i, a in enumerate(boxes) for b in boxes[i + 1 :] if hit(a, b)]


@pytest.mark.parametrize("dataset", ["test", "demo-small"])
def test_pca_labels_of_a_20x5_set_never_overprint(app_server: StreamlitServer, page: Page, dataset: str):
    # the course's test set with K = 4 printed j=1 over j=3 at iteration 2 and j=2 over j=3 at iteration 6
    if dataset == "test" and not course_available("test"):
        pytest.skip(course_missing_reason(data_dir(), ["test.txt"]))
    page.set_viewport_size({"width": 1400, "height": 900})
    labelled = 0
    for iteration in range(8):
        link = f"/em_matrix?dataset={dataset}&k=4&it={iteration}"
        app = _open(page, app_server.url, link, "EM for matrix completion")
        app.wait_charts()
        boxes = app.page.locator(".st-key-emx_pca").evaluate(_LABEL_BOXES)
        assert _overprinted(boxes) == [], (iteration, boxes)
        labelled += len(boxes)
    assert labelled >= 8 * 3, "most means keep their label (a label is left out only where it would overprint)"
    app.expect_clean()


def _update_readme_shot(path, name: str) -> None:
    if os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / name)


# ---------------------------------------------------------------- presentation mode on a projector and a phone

# (page path, its title, its widget prefix) of the 2-D stepping pages
PRESENT_PAGES = [("em_2d", "EM on complete 2-D data", "em2d"), ("kmeans_2d", "K-means (2-D)", "km")]
STEP_KEYS = ("estep", "mstep", "step", "run", "play", "reset")


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _on_screen(page: Page, locator) -> None:
    box, size = _box(locator), page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)


def _chart_font_sizes(chart) -> list[float]:
    return chart.locator("svg text").evaluate_all(
        "els => els.filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))"
    )


def _cut_button_labels(page: Page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMain"] .stButton button p')]
                 .filter(p => p.scrollWidth > p.clientWidth + 1 || getComputedStyle(p).textOverflow === 'ellipsis'
                              && p.scrollWidth > p.clientWidth).map(p => p.innerText)"""
    )


@pytest.mark.parametrize(("path", "title", "prefix"), PRESENT_PAGES)
def test_presentation_mode_at_1280x720(app_server: StreamlitServer, page: Page, path: str, title: str, prefix: str):
    page.set_viewport_size({"width": 1280, "height": 720})
    app = _open(page, app_server.url, f"/{path}?dataset=demo-2d&present=1", title)
    chart = app.main.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible(timeout=app.timeout_ms)
    # the sidebar starts collapsed, its toggle stays reachable
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    tops = []
    page.mouse.click(640, 5)  # focus on the page, not on an input
    for press, shows in ((None, "Initial"), ("e", "done"), ("m", "Iteration 1"), ("s", "Iteration 2")):
        if press is not None:
            page.keyboard.press(press)
            expect(app.status_line).to_contain_text(shows, timeout=app.timeout_ms)
            app.wait_idle()
        app.wait_charts()
        # the title is on screen and not under the header
        _on_screen(page, app.title)
        # whatever lies above the title's first letter is see-through (the header keeps its buttons, not its white)
        covering = page.evaluate(
            """() => { const h1 = document.querySelector('[data-testid="stMain"] h1'), r = h1.getBoundingClientRect();
                       const above = [];
                       for (const e of document.elementsFromPoint(r.x + 5, r.y + r.height / 2)) {
                         if (h1.contains(e) || e.contains(h1)) break;
                         const bg = getComputedStyle(e).backgroundColor;
                         const clear = bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent';
                         if (!clear) above.push(e.dataset.testid || e.tagName);
                       }
                       return above; }"""
        )
        assert covering == [], f"the page title is hidden under {covering}"
        for key in STEP_KEYS:
            _on_screen(page, app.button(key=f"{prefix}_{key}"))
        _on_screen(page, chart)
        assert _box(chart)["width"] >= 0.7 * 1280, _box(chart)
        sizes = _chart_font_sizes(chart)
        assert sizes and min(sizes) >= 18, sorted(set(sizes))
        assert _cut_button_labels(page) == []
        tops.append(round(_box(chart)["y"]))
        if press == "m" and path == "em_2d":  # the arrows from the ghost means to the new ones
            widths = chart.locator(".annotation-arrow-g path").evaluate_all(
                "els => els.map(e => parseFloat(getComputedStyle(e).strokeWidth)).filter(w => w > 0)"  # not the heads
            )
            assert widths and min(widths) >= 3, widths
            shot = SCREENSHOTS / f"present_{path}.png"
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            page.mouse.move(0, 700)
            page.screenshot(path=shot)
            _update_readme_shot(shot, f"present_{path}.png")
    assert len(set(tops)) == 1, tops  # no layout jump when the scrub slider appears
    app.expect_clean()


@pytest.mark.parametrize(("path", "title", "prefix"), PRESENT_PAGES)
def test_presentation_mode_on_a_420px_phone(
    app_server: StreamlitServer, page: Page, path: str, title: str, prefix: str
):
    # stacked one per row, the six buttons pushed the chart below the screen
    page.set_viewport_size({"width": 420, "height": 800})
    app = _open(page, app_server.url, f"/{path}?dataset=demo-2d&present=1", title)
    chart = app.main.get_by_test_id("stPlotlyChart").first
    expect(chart).to_be_visible(timeout=app.timeout_ms)
    app.wait_charts()
    for key in STEP_KEYS:
        _on_screen(page, app.button(key=f"{prefix}_{key}"))
    _on_screen(page, chart)
    assert _cut_button_labels(page) == []
    app.expect_clean()


def test_play_by_half_steps_shows_each_half_step(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/em_2d?dataset=demo-2d", "EM on complete 2-D data")
    page.locator(".st-key-em2d_play_halves label").click()
    expect(page.locator(".st-key-em2d_play_halves input")).to_be_checked()
    app.wait_idle()
    app.button(key="em2d_play").click()
    chart_title = app.main.get_by_test_id("stPlotlyChart").first.locator(".gtitle")
    # each half-step stays on screen for a tick: the E-step's state, then the M-step's, then the next E-step's
    expect(chart_title).to_have_text("Iteration 1 — after the E-step", timeout=app.timeout_ms)
    expect(chart_title).to_have_text("Iteration 1 — after the M-step", timeout=app.timeout_ms)
    expect(chart_title).to_have_text("Iteration 2 — after the E-step", timeout=app.timeout_ms)
    app.button(key="em2d_play").click()  # Pause
    expect(app.button(key="em2d_play")).to_contain_text("Play", timeout=app.timeout_ms)
    app.expect_clean()
