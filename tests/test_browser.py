"""The dashboard in a real browser: Debian's chromium driven by Playwright against ``streamlit run app.py``.

Every page renders its title without an exception box, Step advances EM on the 2-D points and on a
rating matrix (the course's netflix set when EM_DATA_DIR holds it, else demo-large), and the
completion page scores the result. No console errors from the app, no HTTP 5xx from the server.

Full-page screenshots go to test-artifacts/screenshots/; with EM_UPDATE_SCREENSHOTS=1 the README's
images in docs/screenshots/ are refreshed from them.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from em_core import init, naive_em, stepping
from em_core.data import course_available, load_dataset
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO
from tests.streamlit_server import StreamlitServer

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
README_SHOTS = {"em_2d.png", "em_matrix.png", "completion.png"}  # copied when EM_UPDATE_SCREENSHOTS=1

# (sidebar link, the page's h1)
PAGES = [
    ("Data", "Data"),
    ("K-means (2-D)", "K-means (2-D)"),
    ("EM on complete 2-D data", "EM on complete 2-D data"),
    ("EM for matrix completion", "EM for matrix completion"),
    ("Completion vs gold", "Completion vs gold"),
]
TITLE = dict(PAGES)
SHOT = {"Data": "data.png", "K-means (2-D)": "kmeans_2d.png"}  # other pages: their link as a file name
SHOT_LATER = {"EM on complete 2-D data", "EM for matrix completion", "Completion vs gold"}  # after a few steps

RMSE = re.compile(r"^\d+\.\d{6}$")


@pytest.fixture(scope="session")
def app_server():
    """One ``streamlit run app.py`` on a free port of 127.0.0.1 for the whole session."""
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    with StreamlitServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A laptop-sized window: wide enough for the pages' two-column layouts."""
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@pytest.fixture
def app(app_server: StreamlitServer, page: Page) -> AppPage:
    """A fresh browser session (so fresh Streamlit session state) on the Data page."""
    session = AppPage(page, app_server.url)
    session.goto("/")
    session.wait_opened(TITLE["Data"], status=False)
    expect(page.get_by_role("combobox", name="Data set")).to_be_visible(timeout=session.timeout_ms)
    return session


def go(app: AppPage, link: str) -> str:
    """Follow a sidebar link; a page this test knows must show its own title, a new one any new h1."""
    return app.go(link, TITLE.get(link))


def screenshot(app: AppPage, name: str) -> Path:
    """The whole page (the main column scrolls, so the window is stretched to its height)."""
    page = app.page
    app.wait_idle()
    app.wait_charts()
    page.mouse.move(0, 0)  # off the last button clicked: its tooltip would cover the page
    page.evaluate("() => document.activeElement?.blur()")  # and no focus ring on it
    expect(page.get_by_test_id("stTooltipContent")).to_have_count(0)
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    try:
        app.wait_charts()
        path = SCREENSHOTS / name
        path.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=path, full_page=True)
    finally:
        page.set_viewport_size(size)
    if name in README_SHOTS and os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
        README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, README_SCREENSHOTS / name)
    return path


def test_every_page_renders_from_the_sidebar(app: AppPage):
    links = app.nav.get_by_role("link").get_by_test_id("stMarkdownContainer").all_inner_texts()  # not the icons
    assert [link for link in links if link in TITLE] == [link for link, _ in PAGES], links
    for link in links[1:] + links[:1]:  # the Data page last: it is where the app opened
        go(app, link)
        if link not in SHOT_LATER:
            screenshot(app, SHOT.get(link) or re.sub(r"[^a-z0-9]+", "_", link.lower()).strip("_") + ".png")
    app.expect_clean()


def test_em_2d_steps_raise_the_log_likelihood(app: AppPage):
    go(app, "EM on complete 2-D data")
    expect(app.status_line).to_contain_text("Initial mixture")
    lls = [app.step().score for _ in range(3)]
    assert app.status().iteration == 3
    # EM on complete data never lowers the log-likelihood (a hair of rounding aside)
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(lls, lls[1:], strict=False)), lls
    app.wait_charts()  # the points and the LL curve: live charts (dashboard/live_chart.py), each in its frame
    for key in ("em2d_points", "em2d_ll"):
        expect(app.live_chart(key).locator("#chart .main-svg").first).to_be_visible()
    screenshot(app, "em_2d.png")
    app.expect_clean()


def test_matrix_completion_steps_and_scores(app: AppPage):
    options = app.dataset_options()
    assert options[:3] == ["demo-2d (built-in)", "demo-small (built-in)", "demo-large (built-in)"], options
    if course_available("netflix"):
        assert "netflix (course)" in options, f"EM_DATA_DIR holds the netflix files but the sidebar offers {options}"
    dataset = "netflix (course)" if "netflix (course)" in options else "demo-large (built-in)"
    expect(app.title).to_have_text(TITLE["Data"])  # whose caption names the chosen data set
    app.choose_dataset(dataset)
    expect(app.main.get_by_test_id("stCaptionContainer").first).to_contain_text("1,200 rows x 1,200 columns")
    app.expect_no_exception()
    screenshot(app, "data_ratings.png")

    go(app, "EM for matrix completion")
    expect(app.main).to_contain_text("floors every variance at 0.25")  # the course's default
    expect(app.status_line).to_contain_text("Initial mixture")
    history = [app.step() for _ in range(3)]
    assert [status.iteration for status in history] == [1, 2, 3]
    lls = [status.score for status in history]
    assert len(set(lls)) == len(lls), f"the log-likelihood should move with every step: {lls}"
    # the LL curve, the users on two principal components, the means heatmap, one user's posterior: live
    # charts (dashboard/live_chart.py), each drawn in its frame
    app.wait_charts()
    for key in ("emx_ll", "emx_pca", "emx_means", "emx_post"):
        expect(app.live_chart(key).locator("#chart .main-svg").first).to_be_visible()
    screenshot(app, "em_matrix.png")

    go(app, "Completion vs gold")
    expect(app.metric("Iteration")).to_have_text("3")  # follows the run on the previous page
    for label in ("RMSE (all entries)", "RMSE (missing only)"):
        expect(app.metric(label)).to_have_text(RMSE)
    # observed, completed, gold and |error| side by side, then one user's table
    expect(app.main.get_by_test_id("stPlotlyChart").nth(3)).to_be_visible()
    expect(app.main.get_by_test_id("stDataFrame")).to_be_visible()
    screenshot(app, "completion.png")
    app.expect_clean()


def test_play_runs_em_to_convergence_on_its_own(app: AppPage):
    # Play starts a timed rerun of the stepping fragment; it must keep stepping until the stopping rule holds
    go(app, "EM on complete 2-D data")
    expect(app.status_line).to_contain_text("Initial mixture")
    app.button("Play").click()
    expect(app.button("Pause")).to_be_visible(timeout=app.timeout_ms)
    app.wait_converged(timeout_ms=120_000)
    dataset = load_dataset("demo-2d")
    state = stepping.run(naive_em.algorithm(), dataset.X, stepping.start(*init(dataset.X, 4, 0)))
    status = app.status()
    assert (status.iteration, status.score_text) == (state.iteration, f"{state.score:,.6f}")
    expect(app.button("Play")).to_be_disabled()
    app.expect_clean()


PRESENT_BUTTONS = ("em2d_estep", "em2d_mstep", "em2d_step", "em2d_run", "em2d_play", "em2d_reset")


def _inside_viewport(app: AppPage, locator) -> None:
    box = locator.bounding_box()
    size = app.page.viewport_size
    assert box is not None
    assert box["x"] >= 0 and box["y"] >= 0, box
    assert box["x"] + box["width"] <= size["width"] and box["y"] + box["height"] <= size["height"], (box, size)


def test_presentation_mode_fits_a_1280x720_projector(app_server: StreamlitServer, page: Page):
    page.set_viewport_size({"width": 1280, "height": 720})
    app = AppPage(page, app_server.url)
    app.goto("/em_2d?dataset=demo-2d&present=1")
    app.wait_opened(TITLE["EM on complete 2-D data"])
    expect(page.locator(".st-key-present input")).to_be_checked(timeout=app.timeout_ms)  # switched on by the link
    chart = app.live_chart_frame("em2d_points")  # a live chart's frame (dashboard/live_chart.py)
    tops = []
    page.mouse.click(5, 5)  # focus on the page, not on an input
    for press, shows in ((None, "Initial"), ("e", "done"), ("m", "Iteration 1"), ("s", "Iteration 2")):
        if press is not None:  # before and after the scrub slider appears
            app.page.keyboard.press(press)  # the keys of presentation mode
            expect(app.status_line).to_contain_text(shows, timeout=app.timeout_ms)
            app.wait_idle()
        app.wait_charts()
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"presentation_em_2d_{len(tops)}.png")  # what the room sees
        for key in PRESENT_BUTTONS:
            _inside_viewport(app, app.button(key=key))
        _inside_viewport(app, chart)
        tops.append(round(chart.bounding_box()["y"]))
        assert app.cut_labels() == []  # no label cut with an ellipsis
        sizes = (
            app.live_chart("em2d_points")
            .locator("#chart svg text")
            .evaluate_all(
                "els => els.filter(e => e.textContent.trim()).map(e => parseFloat(getComputedStyle(e).fontSize))"
            )
        )
        assert sizes and min(sizes) >= 18, sorted(set(sizes))
    assert len(set(tops)) == 1, tops  # the chart never jumps (the slider's place is held)
    app.expect_clean()


def test_presentation_mode_keys_step_the_fit(app: AppPage):
    go(app, "EM on complete 2-D data")
    expect(app.status_line).to_contain_text("Initial mixture")
    expect(app.page.locator(".st-key-present input")).not_to_be_checked()
    app.page.locator(".st-key-present label").click()  # the sidebar toggle
    expect(app.sidebar).to_contain_text("Keys: E E-step", timeout=app.timeout_ms)
    app.wait_idle()
    app.page.mouse.click(5, 5)  # focus on the page, not on an input
    app.page.keyboard.press("e")
    expect(app.status_line).to_contain_text("E-step done, M-step next", timeout=app.timeout_ms)
    app.wait_idle()
    app.page.keyboard.press("m")
    expect(app.status_line).not_to_contain_text("E-step done", timeout=app.timeout_ms)
    expect(app.status_line).to_contain_text("Iteration 1 ·")
    app.wait_idle()
    # a toggle clicked with the mouse (Play by half-steps) does not keep the focus from the keys
    app.page.locator(".st-key-em2d_play_halves label").click()
    expect(app.page.locator(".st-key-em2d_play_halves input")).to_be_checked()
    app.wait_idle()
    app.page.keyboard.press("s")
    expect(app.status_line).to_contain_text("Iteration 2 ·", timeout=app.timeout_ms)
    app.wait_idle()
    # from the keyboard the toggle keeps its own key: Space works it, and leaves the focus on it
    toggle = app.page.locator(".st-key-em2d_play_halves input")
    toggle.focus()
    app.page.keyboard.press(" ")
    expect(toggle).not_to_be_checked(timeout=app.timeout_ms)
    app.wait_idle()
    # a click on the chart (to hover or zoom) puts the focus in its frame: the keys still drive the fit
    app.wait_charts()
    # on an axis title (a press on the plot itself starts a zoom, which keeps the focus where it was)
    app.live_chart("em2d_points").locator("#chart .xtitle").click(force=True)
    assert app.page.evaluate("() => document.activeElement.tagName") == "IFRAME"
    app.page.keyboard.press("s")
    expect(app.status_line).to_contain_text("Iteration 3 ·", timeout=app.timeout_ms)
    app.wait_idle()
    app.page.keyboard.press("ArrowLeft")  # scrub back, from inside the frame too
    heading = app.page.locator(".st-key-em2d_beside h4")  # the state shown, beside the chart on a projector
    expect(heading).to_have_text("Iteration 2 — after the M-step", timeout=app.timeout_ms)
    app.wait_idle()
    app.expect_clean()
