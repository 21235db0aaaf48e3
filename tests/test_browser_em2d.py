"""The 2-D EM page's covariance types in a real browser: full against spherical on the long-thin scenario.

Two sessions open the page from a link (``cov=spherical`` and ``cov=full``, run to convergence by ``it=``),
show the em_core numbers for the same fits, and are photographed side by side into
docs/screenshots/em_2d_full_vs_spherical.png (the README's picture).
"""

from __future__ import annotations

import os

import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Browser, expect

from em_core import experiment, scenarios
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING, REPO
from tests.streamlit_server import StreamlitServer

pytestmark = pytest.mark.browser

SCREENSHOT = REPO / "docs" / "screenshots" / "em_2d_full_vs_spherical.png"
SCENARIO = "scenario-long-thin"
#: More than either fit needs (spherical converges at 24 iterations, full at 11): the link replays to convergence.
LINK_ITERATIONS = 200


@pytest.fixture(scope="module")
def server():
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    # no file watcher: an edit elsewhere in the tree during the test must not rerun the pages under it
    server = StreamlitServer(
        log_path=REPO / "test-artifacts" / "streamlit_em2d.log", extra_args=["--server.fileWatcherType", "none"]
    )
    if os.environ.get("EM_BROWSER_PORT"):  # a port of one's own on a shared machine; a free one otherwise
        server.port = int(os.environ["EM_BROWSER_PORT"])
    with server as running:
        yield running


def open_converged(browser: Browser, url: str, covariance_type: str) -> AppPage:
    app = AppPage.new_context(browser, url)
    app.goto(f"/em_2d?dataset={SCENARIO}&k=2&seed=0&it={LINK_ITERATIONS}&cov={covariance_type}")
    app.wait_opened("EM on complete 2-D data")
    expect(app.status_line).to_contain_text("converged after", timeout=app.timeout_ms)
    app.wait_charts()
    return app


def points_chart(app: AppPage, path) -> None:
    """The points chart alone (the mouse off it, so no hover label covers it)."""
    app.page.mouse.move(0, 0)
    app.live_chart_frame("em2d_points").screenshot(path=path)  # a live chart: drawn in its frame


def side_by_side(shots: list, labels: list[str]):
    """The screenshots next to each other, each under its label."""
    images = [Image.open(path) for path in shots]
    font = ImageFont.load_default(size=22)
    band, gap = 40, 24
    width = sum(image.width for image in images) + gap * (len(images) - 1)
    picture = Image.new("RGB", (width, band + max(image.height for image in images)), "white")
    draw = ImageDraw.Draw(picture)
    x = 0
    for image, label in zip(images, labels, strict=True):
        draw.text((x + 12, 8), label, fill="#1a1a1a", font=font)
        picture.paste(image, (x, band))
        x += image.width + gap
    return picture


def test_full_follows_the_long_thin_cluster_and_spherical_does_not(server: StreamlitServer, browser: Browser):
    X = scenarios.draw(SCENARIO).X
    shots = []
    scores = {}
    for covariance_type in ("spherical", "full"):
        app = open_converged(browser, server.url, covariance_type)
        try:
            app.wait_idle()
            radio = app.main.get_by_test_id("stRadio").first
            expect(radio.locator("label:has(input:checked)")).to_contain_text(covariance_type, timeout=app.timeout_ms)
            status = app.status()
            expected = experiment.fit(X, "naive-em", 2, 0, covariance_type=covariance_type)
            assert status.converged and status.iteration == expected.iterations
            assert status.score == pytest.approx(expected.score, abs=5.1e-7)
            scores[covariance_type] = status.score
            path = REPO / "test-artifacts" / "screenshots" / f"em_2d_long_thin_{covariance_type}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            points_chart(app, path)
            shots.append(path)
            app.expect_clean()
        finally:
            app.close()
    assert scores["full"] > scores["spherical"] + 200
    labels = [f"{name} covariance: LL {scores[name]:,.1f}" for name in ("spherical", "full")]
    picture = side_by_side(shots, labels)
    out = REPO / "test-artifacts" / "screenshots" / SCREENSHOT.name
    picture.save(out)
    if os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        picture.save(SCREENSHOT)
