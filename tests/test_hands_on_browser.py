"""Hands-on pages in a real browser: clicks at known pixels add points and place means, then both fits step.

Debian's chromium (Playwright) against ``streamlit run app.py``. A click lands on the nearest point of the
canvas's invisible grid, so each added point must lie within one grid step of the data coordinates under
the pixel clicked; the numbers after stepping are compared with em_core on the points the page holds.
"""

from __future__ import annotations

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from dashboard.click_canvas import canvas_around
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO
from tests.lockstep_reference import disagreements, separate_runs
from tests.streamlit_server import StreamlitServer

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
# Two groups of clicks (fractions of the plot area from its top-left corner), then two means, one per group.
POINT_CLICKS = [(0.20, 0.70), (0.30, 0.78), (0.24, 0.62), (0.16, 0.80), (0.70, 0.25), (0.80, 0.30), (0.74, 0.18)]
MEAN_CLICKS = [(0.35, 0.55), (0.60, 0.35)]
K = 2


@pytest.fixture(scope="module")
def hands_on_server():
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    with StreamlitServer(log_path=REPO / "test-artifacts" / "streamlit-hands-on.log") as server:
        yield server


@pytest.fixture
def app(hands_on_server: StreamlitServer, page: Page) -> AppPage:
    page.set_viewport_size({"width": 1280, "height": 720})
    session = AppPage(page, hands_on_server.url, timeout_ms=90_000)  # a shared 2-core VM: a first run can take 30 s
    session.goto("/")
    session.wait_opened("Data", status=False)
    session.go("Your own points", "Your own points")
    return session


def canvas_click(app: AppPage, fraction: tuple[float, float]) -> tuple[float, float]:
    """Click the canvas at a fraction of its plot area; return the data coordinates under that pixel."""
    app.wait_idle()
    plot_area = plots(app).first.locator("rect.nsewdrag").first
    expect(plot_area).to_be_visible(timeout=app.timeout_ms)
    box = plot_area.bounding_box()
    x, y = box["x"] + fraction[0] * box["width"], box["y"] + fraction[1] * box["height"]
    app.page.mouse.move(x, y)
    app.click_for_a_rerun(lambda: app.page.mouse.click(x, y))  # a chart just mounted anew may miss a click
    canvas = canvas_around(None)  # a fresh session's canvas: [-5, 5] x [-5, 5] on a square plot area
    return canvas.x0 + fraction[0] * canvas.width, canvas.y0 + (1 - fraction[1]) * canvas.width


def plots(app: AppPage):
    """The plotly charts the page shows (a chart being replaced can linger, hidden, in the DOM)."""
    return app.main.locator(".js-plotly-plot:visible")


def trace_xy(app: AppPage, chart: int, trace: int) -> np.ndarray:
    """The (x, y) of one trace of the n-th plotly chart, as plotly drew them (``_fullData``: decoded arrays)."""
    script = "(el, t) => [Array.from(el._fullData[t].x), Array.from(el._fullData[t].y)]"
    xy = plots(app).nth(chart).evaluate(script, trace)
    return np.array(xy, dtype=float).T


def trace_y(app: AppPage, chart: int) -> list[float]:
    return plots(app).nth(chart).evaluate("(el) => Array.from(el._fullData[0].y)")


def shoot(app: AppPage, name: str) -> None:
    """The window as a user sees it at 1280 x 720 (no tooltip, no focus ring)."""
    app.page.mouse.move(0, 0)
    app.page.evaluate("() => document.activeElement?.blur()")
    expect(app.page.get_by_test_id("stTooltipContent")).to_have_count(0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    app.page.screenshot(path=SCREENSHOTS / name)


def test_click_points_and_means_then_step_both(app: AppPage):
    k_box = app.page.locator(".st-key-em_k input")
    k_box.fill(str(K))
    k_box.press("Enter")
    expect(app.metric("Means placed")).to_have_text(f"0 of {K}", timeout=app.timeout_ms)
    step = canvas_around(None).step
    expected = []
    for i, fraction in enumerate(POINT_CLICKS):
        expected.append(canvas_click(app, fraction))
        expect(app.metric("Points")).to_have_text(str(i + 1), timeout=app.timeout_ms)
    app.wait_idle()
    points = trace_xy(app, 0, 1)
    assert points.shape == (len(POINT_CLICKS), 2)
    assert np.abs(points - np.array(expected)).max() <= step, (points, expected)  # within the grid's resolution

    app.main.get_by_text("Place starting means").click()
    expect(app.main.get_by_text("Click to place mean 1 of 2")).to_be_visible(timeout=app.timeout_ms)
    expected_means = []
    for i, fraction in enumerate(MEAN_CLICKS):
        expected_means.append(canvas_click(app, fraction))
        expect(app.metric("Means placed")).to_have_text(f"{i + 1} of {K}", timeout=app.timeout_ms)
    app.wait_idle()
    means = trace_xy(app, 0, 2)
    assert np.abs(means - np.array(expected_means)).max() <= step, (means, expected_means)
    np.testing.assert_array_equal(trace_xy(app, 0, 1), points)  # placing means added no point
    shoot(app, "your_points.png")

    app.button("Use them as the data set").click()
    expect(app.main.get_by_text("They are the current data set.")).to_be_visible(timeout=app.timeout_ms)
    app.go("K-means beside EM", "K-means beside EM")
    app.main.get_by_text("your placed means").click()
    expect(app.main.get_by_text("Step 0", exact=False)).to_be_visible(timeout=app.timeout_ms)
    for n in (1, 2):
        app.button("Step both").click()
        expect(app.main.get_by_text(f"Step {n} ·", exact=False).first).to_be_visible(timeout=app.timeout_ms)
        app.wait_idle()
    app.wait_charts()
    app.expect_no_exception()

    km, em = separate_runs(points, K, 0, means, 2)
    # charts in order: K-means points, cost curve, EM points, log-likelihood curve
    np.testing.assert_allclose(trace_y(app, 1), km.scores, rtol=1e-9)
    np.testing.assert_allclose(trace_y(app, 3), em.scores, rtol=1e-9)
    expect(app.metric("Points that disagree")).to_have_text(str(disagreements(km, em)))
    shoot(app, "side_by_side.png")
    app.expect_clean()
