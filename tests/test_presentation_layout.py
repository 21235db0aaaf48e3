"""Presentation mode in chromium: the stepping pages as a projector (1280x720) and a phone (420x800) show them.

What the room must see without scrolling: the step buttons, uncut; the main chart, its plot area as large as
the screen allows (the 2-D pages: the points chart beside a column with its title, the status, the narration,
the slider, the curve and the keys); every chart text at least 18 px; no legend (the on-plot labels name the
components); nothing moving down when the scrub slider appears. The screenshots docs/screenshots/present_*.png
come from these tests (``EM_UPDATE_SCREENSHOTS=1``).

The server runs on this file's own ports (8630-8639), so it can run beside the other browser tests.
"""

from __future__ import annotations

import os
import shutil

import pytest
from playwright.sync_api import Locator, Page, expect

from dashboard import live_chart, presentation
from tests.browser_page import AppPage
from tests.helpers import REPO
from tests.streamlit_server import StreamlitServer, browser_test_server

pytestmark = pytest.mark.browser

PORTS = range(8630, 8640)
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"width": 420, "height": 800}

#: The points chart's plot area at 1280x720 on demo-2d, less a margin: 572 x 485 CSS px was measured
#: (before this layout: 298 x 262). Its height is the screen's less the title and the buttons; its width
#: what equal scaling of the data needs at that height.
MIN_MAIN_PLOT = (540, 470)
#: Each of the two points charts of "K-means beside EM" (532 x 399 measured).
MIN_PAIR_PLOT = (500, 380)

# (page path, its title, its widget prefix) of the 2-D stepping pages
STEPPING_PAGES = [("em_2d", "EM on complete 2-D data", "em2d"), ("kmeans_2d", "K-means (2-D)", "km")]
STEP_KEYS = ("estep", "mstep", "step", "run", "play", "reset")


@pytest.fixture(scope="module")
def app_server():
    # no file watcher: an edit elsewhere in the tree during the test must not rerun the pages under it
    yield from browser_test_server(
        "streamlit_presentation_layout.log", PORTS, extra_args=["--server.fileWatcherType", "none"]
    )


def _open(page: Page, url: str, path: str, title: str, viewport: dict, status: bool = True) -> AppPage:
    page.set_viewport_size(viewport)
    app = AppPage(page, url)
    app.goto(path)
    app.wait_opened(title, status=status)
    app.wait_charts()
    return app


def _box(locator: Locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, locator
    return box


def _on_screen(page: Page, locator: Locator) -> dict:
    box, size = _box(locator), page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] + 0.5, (box, size)
    assert box["y"] + box["height"] <= size["height"] + 0.5, (box, size)
    return box


def _chart(page: Page, key: str) -> Locator:
    """The plotly chart with this key."""
    return page.locator(f".st-key-{key}")


def _plot_area(chart: Locator) -> Locator:
    """The chart's plot area: the rectangle plotly drags in (the axes' inside)."""
    return chart.locator(".nsewdrag").first


def _font_sizes(chart: Locator) -> list[float]:
    return chart.locator("svg text").evaluate_all(
        "els => els.filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))"
    )


def _title_covered_by(page: Page) -> list[str]:
    """What lies over the page title's first letter and is not see-through (Streamlit's header was white)."""
    return page.evaluate(
        """() => { const h1 = document.querySelector('[data-testid="stMain"] h1'), r = h1.getBoundingClientRect();
                   const above = [];
                   for (const e of document.elementsFromPoint(r.x + 5, r.y + r.height / 2)) {
                     if (h1.contains(e) || e.contains(h1)) break;
                     const bg = getComputedStyle(e).backgroundColor;
                     if (bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') above.push(e.dataset.testid || e.tagName);
                   }
                   return above; }"""
    )


def _shoot(page: Page, name: str) -> None:
    """A screenshot into test-artifacts, and into docs/screenshots with EM_UPDATE_SCREENSHOTS=1."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, page.viewport_size["height"] - 1)  # no hover label over the chart
    page.screenshot(path=SCREENSHOTS / name)
    if os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(SCREENSHOTS / name, README_SCREENSHOTS / name)


def _expect_clean(app: AppPage, path: str) -> None:
    """:meth:`AppPage.expect_clean` for a page opened by its own address that
    tests.browser_page.ALLOWED_CONSOLE does not list: Streamlit tries ``/{path}/_stcore/`` as the server's
    base path first and gets 404s there (streamlit/streamlit#7074), not the app's fault."""
    app.console_errors = [error for error in app.console_errors if f"/{path}/_stcore/" not in error]
    app.expect_clean()


def _press(app: AppPage, key: str, shows: Locator, text: str) -> None:
    """Press ``key`` and wait until ``shows`` has ``text`` (new in that run) and the run is over."""
    app.page.keyboard.press(key)
    expect(shows).to_contain_text(text, timeout=app.timeout_ms)
    app.wait_idle()
    app.wait_charts()


# ---------------------------------------------------------------- the 2-D pages


@pytest.mark.parametrize(("path", "title", "prefix"), STEPPING_PAGES)
def test_a_2d_page_on_a_projector(app_server: StreamlitServer, page: Page, path: str, title: str, prefix: str):
    app = _open(page, app_server.url, f"/{path}?dataset=demo-2d&present=1", title, PROJECTOR)
    chart, side = _chart(page, f"{prefix}_points"), page.locator(f".st-key-{prefix}_beside")
    drawn = app.live_chart(f"{prefix}_points").locator("#chart")  # a live chart: drawn in its frame
    e_half, m_half = ("E-step", "M-step") if path == "em_2d" else ("assignment", "update")
    # the sidebar starts collapsed, its toggle stays reachable
    expect(page.get_by_test_id("stSidebar")).to_have_attribute("data-collapsed", "true")
    expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    page.mouse.click(640, 5)  # focus on the page, not on an input
    tops = []
    side_heading = side.locator("h4")  # the chart's state: a new one with each key
    steps = [(None, "Iteration 0 — initial"), ("e", f"Iteration 1 — after the {e_half}")]
    steps += [("m", f"Iteration 1 — after the {m_half}"), ("s", f"Iteration 2 — after the {m_half}")]
    for key, heading in steps:
        if key is not None:
            _press(app, key, side_heading, heading)
        _on_screen(page, app.title)
        assert _title_covered_by(page) == []
        for name in STEP_KEYS:
            _on_screen(page, app.button(key=f"{prefix}_{name}"))
        assert app.cut_labels() == []
        # the chart, and its plot area as large as the screen allows
        _on_screen(page, chart)
        plot = _on_screen(page, _plot_area(drawn))
        assert plot["width"] >= MIN_MAIN_PLOT[0] and plot["height"] >= MIN_MAIN_PLOT[1], plot
        tops.append(round(_box(chart)["y"]))
        # the column beside it: the chart's state as its heading, the narration, the curve and the keys
        expect(side_heading).to_have_text(heading)
        _on_screen(page, side_heading)
        _on_screen(page, page.locator(f".st-key-{prefix}_narration"))
        if key is not None:
            # the latest sentence: "M-step 1: means moved by up to ..."
            expect(page.locator(f".st-key-{prefix}_narration")).to_contain_text(f" {1 if key in 'em' else 2}: ")
        side_chart = side.locator(f'iframe[title="{live_chart.FRAME_TITLE}"]')
        _on_screen(page, side_chart)
        _on_screen(page, side.get_by_text("Keys:"))
        for each in (drawn, side_chart.content_frame.locator("#chart")):
            sizes = _font_sizes(each)
            assert sizes and min(sizes) >= presentation.FONT_PX, sorted(set(sizes))
        expect(drawn.locator("g.legend")).to_have_count(0)  # the on-plot labels name the components
        if key == "m":
            if path == "em_2d":  # the arrows from the ghost means to the new ones, thick enough for the room
                widths = drawn.locator(".annotation-arrow-g path").evaluate_all(
                    "els => els.map(e => parseFloat(getComputedStyle(e).strokeWidth)).filter(w => w > 0)"
                )
                assert widths and min(widths) >= 3, widths
            _shoot(page, f"present_{path}.png")
    assert len(set(tops)) == 1, tops  # no layout jump when the scrub slider appears
    app.expect_clean()


def test_the_arrow_keys_scrub_the_kept_iterations(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/em_2d?dataset=demo-2d&present=1", "EM on complete 2-D data", PROJECTOR)
    side_heading = page.locator(".st-key-em2d_beside h4")
    back, forward = app.button(key="em2d_back"), app.button(key="em2d_forward")
    expect(back).to_be_disabled()  # nothing kept yet: both wait, in their places
    expect(forward).to_be_disabled()
    page.mouse.click(640, 5)  # focus on the page, not on an input
    _press(app, "s", side_heading, "Iteration 1 — after the M-step")
    _press(app, "s", side_heading, "Iteration 2 — after the M-step")
    expect(forward).to_be_disabled()  # the latest iteration is shown
    _press(app, "ArrowLeft", side_heading, "Iteration 1 — after the M-step")
    _press(app, "ArrowLeft", side_heading, "Iteration 0 — initial")
    expect(back).to_be_disabled()
    _press(app, "ArrowRight", side_heading, "Iteration 1 — after the M-step")
    _on_screen(page, back)
    _on_screen(page, forward)
    expect(page.locator(".st-key-em2d_beside")).to_contain_text("scrub")
    app.button(key="em2d_forward").click()  # the buttons do what the keys do
    expect(side_heading).to_contain_text("Iteration 2 — after the M-step", timeout=app.timeout_ms)
    _expect_clean(app, "em_2d")


@pytest.mark.parametrize(("path", "title", "prefix"), STEPPING_PAGES)
def test_a_2d_page_on_a_420px_phone(app_server: StreamlitServer, page: Page, path: str, title: str, prefix: str):
    # the buttons three to a row, then the chart at the screen's width (the column beside it goes below)
    app = _open(page, app_server.url, f"/{path}?dataset=demo-2d&present=1", title, PHONE)
    for name in STEP_KEYS:
        _on_screen(page, app.button(key=f"{prefix}_{name}"))
    chart = _chart(page, f"{prefix}_points")
    box = _on_screen(page, chart)
    assert box["width"] >= 0.85 * PHONE["width"], box
    drawn = app.live_chart(f"{prefix}_points").locator("#chart")  # a live chart: drawn in its frame
    _on_screen(page, _plot_area(drawn))
    assert app.cut_labels() == []
    sizes = _font_sizes(drawn)
    assert sizes and min(sizes) >= presentation.FONT_PX, sorted(set(sizes))
    app.expect_clean()


def _texts_outside(chart: Locator) -> list[str]:
    """The chart's texts that reach past its drawing's or its frame's left or right edge (cut)."""
    return chart.evaluate(
        """(root) => {
            const width = Math.min(root.getBoundingClientRect().right, document.documentElement.clientWidth);
            return Array.from(root.querySelectorAll("svg text"))
                .filter((e) => e.textContent.trim())
                .filter((e) => { const r = e.getBoundingClientRect(); return r.left < -0.5 || r.right > width + 0.5; })
                .map((e) => e.textContent);
        }"""
    )


@pytest.mark.parametrize("dataset", ["demo-small", pytest.param("netflix", marks=pytest.mark.course, id="netflix")])
def test_the_matrix_pages_curve_reads_whole_on_a_420px_phone(
    app_server: StreamlitServer, page: Page, dataset: str, request: pytest.FixtureRequest
):
    # the stopping rule's row title ran past the chart's right edge ("... gain ≤ threshol") on netflix
    if dataset == "netflix":
        request.getfixturevalue("course_dir")  # skips, saying where to get the files, when they are not there
    app = _open(page, app_server.url, f"/em_matrix?dataset={dataset}", "EM for matrix completion", PHONE)
    app.step()
    app.wait_charts()
    drawn = app.live_chart("emx_ll").locator("#chart")
    expect(drawn.locator("svg text").filter(has_text="threshold").first).to_be_attached(timeout=app.timeout_ms)
    assert _texts_outside(drawn) == []
    app.expect_clean()


#: Pages whose controls stood cut at 1280 x 720 beside the sidebar: (path, title, data set, has a status line).
CUT_BEFORE = [(path, title, "demo-2d", True) for path, title, _ in STEPPING_PAGES] + [
    ("em_matrix", "EM for matrix completion", "demo-small", True),
    ("recommendations", "Recommendations", "demo-small", False),
    ("real_data", "Results on real data", "demo-small", False),
]


@pytest.mark.parametrize(("path", "title", "dataset", "status"), CUT_BEFORE)
def test_labels_read_whole_beside_the_sidebar(
    app_server: StreamlitServer, page: Page, path: str, title: str, dataset: str, status: bool
):
    # outside presentation mode, at 1280 x 720 with the sidebar open, "Run to convergence" was cut to
    # "Run to conver...", the toggle to "Play by h...", "Run EM to convergence" and "Prior toward the item
    # mean" too
    app = _open(page, app_server.url, f"/{path}?dataset={dataset}", title, PROJECTOR, status=status)
    expect(app.sidebar).to_be_visible()
    assert app.cut_labels() == []
    _expect_clean(app, path)


# ---------------------------------------------------------------- K-means beside EM


def test_k_means_beside_em_on_a_projector(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/side_by_side?dataset=demo-2d&present=1", "K-means beside EM", PROJECTOR, False)
    page.mouse.click(640, 5)
    tops = []
    for steps in range(3):
        if steps:
            page.keyboard.press("s")  # Step both
            status = app.main.get_by_test_id("stMarkdownContainer").filter(has_text=f"EM at iteration {steps}")
            expect(status).to_be_visible(timeout=app.timeout_ms)
            expect(app.main.get_by_text("Points that disagree")).to_be_visible()
            app.wait_idle()
            app.wait_charts()
        for name in ("step", "play", "reset"):
            _on_screen(page, app.button(key=f"sbs_{name}"))
        for chart_key in ("sbs_kmeans", "sbs_em"):
            chart = _chart(page, chart_key)
            _on_screen(page, chart)
            plot = _on_screen(page, _plot_area(chart))
            assert plot["width"] >= MIN_PAIR_PLOT[0] and plot["height"] >= MIN_PAIR_PLOT[1], plot
            sizes = _font_sizes(chart)
            assert sizes and min(sizes) >= presentation.FONT_PX, sorted(set(sizes))
            expect(chart.locator("g.legend")).to_have_count(0)
            tops.append(round(_box(chart)["y"]))
    assert len(set(tops)) == 1, tops  # the slider that comes with the first step moves nothing
    assert app.cut_labels() == []
    _shoot(page, "present_side_by_side.png")
    _expect_clean(app, "side_by_side")


# ---------------------------------------------------------------- EM for matrix completion


def test_the_matrix_pages_buttons_on_a_projector(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/em_matrix?dataset=demo-small&present=1", "EM for matrix completion", PROJECTOR)
    for name in STEP_KEYS:
        _on_screen(page, app.button(key=f"emx_{name}"))
    assert app.cut_labels() == []
    app.expect_clean()


@pytest.mark.parametrize("dataset", ["demo-small", pytest.param("netflix", marks=pytest.mark.course, id="netflix")])
def test_the_matrix_pages_main_charts_on_a_projector(
    app_server: StreamlitServer, page: Page, dataset: str, request: pytest.FixtureRequest
):
    if dataset == "netflix":
        request.getfixturevalue("course_dir")  # skips, saying where to get the files, when they are not there
    url = f"/em_matrix?dataset={dataset}&present=1"
    app = _open(page, app_server.url, url, "EM for matrix completion", PROJECTOR)
    app.button(key="emx_step").click()  # the keys are tested on the 2-D pages
    page.mouse.move(0, PROJECTOR["height"] - 1)  # the button's tooltip would sit in the screenshot
    expect(app.status_line).to_contain_text("log-likelihood", timeout=app.timeout_ms)
    app.wait_idle()
    app.wait_charts()
    for chart_key in ("emx_ll", "emx_pca"):
        chart = _chart(page, chart_key)
        _on_screen(page, chart)
        sizes = _font_sizes(app.live_chart(chart_key).locator("#chart"))  # a live chart: drawn in its frame
        assert sizes and min(sizes) >= presentation.FONT_PX, sorted(set(sizes))
    if dataset == "netflix":
        # the course's init collapses components on netflix: the warnings say so, under the charts
        warning = app.main.get_by_test_id("stAlertContentWarning").first
        expect(warning).to_contain_text("Component", timeout=app.timeout_ms)
        assert warning.bounding_box()["y"] >= _chart(page, "emx_pca").bounding_box()["y"]
    else:
        _shoot(page, "present_em_matrix.png")
    app.expect_clean()


# ---------------------------------------------------------------- Your own points


def test_your_own_points_on_a_projector_still_take_a_click(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/your_points?present=1", "Your own points", PROJECTOR, status=False)
    chart = page.get_by_test_id("stPlotlyChart").first
    _on_screen(page, chart)
    plot = _on_screen(page, _plot_area(chart))
    assert min(plot["width"], plot["height"]) >= 420, plot  # 444 x 444 measured (358 x 358 before)
    sizes = _font_sizes(chart)
    assert sizes and min(sizes) >= presentation.FONT_PX, sorted(set(sizes))
    for key in ("yp_start_button", "yp_undo", "yp_clear", "yp_clear_means"):
        _on_screen(page, app.button(key=key))
    # the sized canvas keeps its grid: a click in the plot area adds a point
    expect(app.metric("Points")).to_have_text("0")
    app.click_for_a_rerun(lambda: page.mouse.click(plot["x"] + plot["width"] / 2, plot["y"] + plot["height"] / 2))
    expect(app.metric("Points")).to_have_text("1", timeout=app.timeout_ms)
    app.wait_idle()
    _on_screen(page, _plot_area(page.get_by_test_id("stPlotlyChart").first))
    _expect_clean(app, "your_points")
