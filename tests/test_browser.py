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
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, Response, expect

from em_core import init, naive_em, stepping
from em_core.data import course_available, load_dataset
from tests.streamlit_server import REPO_ROOT, StreamlitServer

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
README_SCREENSHOTS = REPO_ROOT / "docs" / "screenshots"
README_SHOTS = {"em_2d.png", "em_matrix.png", "completion.png"}  # copied when EM_UPDATE_SCREENSHOTS=1

FIRST_RENDER_MS = 30_000  # a fresh server imports numpy, scipy and plotly on its first run
RERUN_MS = 30_000  # one EM step on the 1200 x 1200 netflix matrix, plus its figures

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

# Console errors that are not the app's fault, each with the reason it is ignored:
# (text the message starts with, URL the message comes from).
BENIGN_CONSOLE = [
    # page_icon=":material/scatter_plot:" makes Streamlit fetch the favicon from Google's font CDN,
    # which a machine without internet (CI, a classroom behind a proxy) cannot resolve.
    ("Failed to load resource", "https://fonts.gstatic.com/"),
]

STATUS = re.compile(r"Initial mixture|Iteration \d+ ·")
STATUS_NUMBERS = re.compile(r"Iteration (\d+) · (?:.* · )?log-likelihood (-?[\d,]+\.\d+)")
RMSE = re.compile(r"^\d+\.\d{6}$")


@pytest.fixture(scope="session")
def app_server():
    """One ``streamlit run app.py`` on a free port of 127.0.0.1 for the whole session."""
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}; install it with: apt-get install -y chromium")
    with StreamlitServer() as server:
        yield server


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A laptop-sized window: wide enough for the pages' two-column layouts."""
    return {**browser_context_args, "viewport": {"width": 1400, "height": 900}}


@dataclass
class App:
    """One browser session of the dashboard, with what went wrong on the way."""

    page: Page
    url: str
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("response", self._on_response)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if any(message.text.startswith(text) and source.startswith(url) for text, url in BENIGN_CONSOLE):
            return
        self.console_errors.append(f"{message.text} ({source})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 500 and response.url.startswith(self.url):
            self.server_errors.append(f"{response.status} {response.url}")

    # ------------------------------------------------------------ waiting

    @property
    def main(self) -> Locator:
        return self.page.get_by_test_id("stMain")

    @property
    def title(self) -> Locator:
        return self.main.locator("h1")

    def wait_idle(self) -> None:
        """Until the script run is over and no element is stale (greyed out).

        ``data-test-script-state`` is the attribute Streamlit's own end-to-end tests wait on. Call this only
        after something showed that the rerun started (a new title, a new status line): just after a click
        the previous run still counts as over.
        """
        app = self.page.get_by_test_id("stApp")
        expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=RERUN_MS)
        expect(self.page.locator('[data-stale="true"]')).to_have_count(0, timeout=RERUN_MS)

    def wait_charts(self) -> None:
        """Until every plotly chart on the page has drawn its SVG."""
        for chart in self.main.get_by_test_id("stPlotlyChart").all():
            expect(chart.locator(".main-svg").first).to_be_visible(timeout=RERUN_MS)

    def expect_no_exception(self) -> None:
        expect(self.page.get_by_test_id("stException")).to_have_count(0)

    # ------------------------------------------------------------ actions

    def open(self) -> None:
        self.page.goto(self.url)
        expect(self.title).to_have_text(TITLE["Data"], timeout=FIRST_RENDER_MS)
        expect(self.page.get_by_role("combobox", name="Data set")).to_be_visible(timeout=FIRST_RENDER_MS)
        self.wait_idle()

    @property
    def nav(self) -> Locator:
        return self.page.get_by_test_id("stSidebarNav")

    def go(self, link: str) -> str:
        """Follow a sidebar link, check the page renders its title without an exception; return the title.

        A page this test does not know yet only has to show a new h1.
        """
        before = self.title.inner_text()
        self.nav.get_by_role("link", name=link, exact=True).click()
        if link in TITLE:
            expect(self.title).to_have_text(TITLE[link], timeout=RERUN_MS)
        else:
            expect(self.title).not_to_have_text(before, timeout=RERUN_MS)
        self.wait_idle()
        self.expect_no_exception()
        return self.title.inner_text()

    def dataset_options(self) -> list[str]:
        box = self.page.get_by_role("combobox", name="Data set")
        box.click()
        options = self.page.get_by_role("option")
        expect(options.first).to_be_visible()
        labels = options.all_inner_texts()
        box.press("Escape")
        return labels

    def choose_dataset(self, label: str) -> None:
        """Pick a data set in the sidebar while on the Data page, whose caption then names it."""
        expect(self.title).to_have_text(TITLE["Data"])
        box = self.page.get_by_role("combobox", name="Data set")
        box.click()
        self.page.get_by_role("option", name=label, exact=True).click()
        expect(box).to_have_value(label)
        expect(self.main.get_by_test_id("stCaptionContainer").first).to_contain_text(label, timeout=RERUN_MS)
        self.wait_idle()
        self.expect_no_exception()

    @property
    def status(self) -> Locator:
        """The status line under the stepping buttons."""
        return self.main.get_by_test_id("stMarkdownContainer").filter(has_text=STATUS)

    def iteration_and_ll(self) -> tuple[int, float | None]:
        text = self.status.inner_text()
        if text.startswith("Initial mixture"):
            return 0, None
        found = STATUS_NUMBERS.search(text)
        assert found, f"status line not understood: {text!r}"
        return int(found[1]), float(found[2].replace(",", ""))

    def step(self) -> tuple[int, float]:
        """Press the primary Step button; wait for the next iteration's status line and return it."""
        iteration, _ = self.iteration_and_ll()
        button = self.main.get_by_role("button", name="Step", exact=True)
        expect(button).to_have_attribute("data-testid", "stBaseButton-primary")
        button.click()
        expect(self.status).to_contain_text(f"Iteration {iteration + 1} ·", timeout=RERUN_MS)
        self.wait_idle()
        self.expect_no_exception()
        now, ll = self.iteration_and_ll()
        assert now == iteration + 1
        assert ll is not None, "a completed step shows its log-likelihood"
        return now, ll

    def screenshot(self, name: str) -> Path:
        """The whole page (the main column scrolls, so the window is stretched to its height)."""
        self.wait_idle()
        self.wait_charts()
        self.page.mouse.move(0, 0)  # off the last button clicked: its tooltip would cover the page
        self.page.evaluate("() => document.activeElement?.blur()")  # and no focus ring on it
        expect(self.page.get_by_test_id("stTooltipContent")).to_have_count(0)
        size = self.page.viewport_size
        height = self.page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        self.page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        try:
            self.wait_charts()
            path = SCREENSHOTS / name
            path.parent.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=path, full_page=True)
        finally:
            self.page.set_viewport_size(size)
        if name in README_SHOTS and os.environ.get("EM_UPDATE_SCREENSHOTS") == "1":
            README_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, README_SCREENSHOTS / name)
        return path

    def expect_clean(self) -> None:
        assert not self.console_errors, "browser console errors:\n" + "\n".join(self.console_errors)
        assert not self.server_errors, "HTTP 5xx from the server:\n" + "\n".join(self.server_errors)


@pytest.fixture
def app(app_server: StreamlitServer, page: Page) -> App:
    """A fresh browser session (so fresh Streamlit session state) on the Data page."""
    session = App(page, app_server.url)
    session.open()
    return session


def metric(app: App, label: str) -> Locator:
    return app.main.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")


def test_every_page_renders_from_the_sidebar(app: App):
    links = app.nav.get_by_role("link").get_by_test_id("stMarkdownContainer").all_inner_texts()  # not the icons
    assert [link for link in links if link in TITLE] == [link for link, _ in PAGES], links
    for link in links[1:] + links[:1]:  # the Data page last: it is where the app opened
        app.go(link)
        if link not in SHOT_LATER:
            app.screenshot(SHOT.get(link) or re.sub(r"[^a-z0-9]+", "_", link.lower()).strip("_") + ".png")
    app.expect_clean()


def test_em_2d_steps_raise_the_log_likelihood(app: App):
    app.go("EM on complete 2-D data")
    expect(app.status).to_contain_text("Initial mixture")
    lls = [app.step()[1] for _ in range(3)]
    assert app.iteration_and_ll()[0] == 3
    # EM on complete data never lowers the log-likelihood (a hair of rounding aside)
    assert all(b >= a - 1e-6 * abs(a) for a, b in zip(lls, lls[1:], strict=False)), lls
    expect(app.main.get_by_test_id("stPlotlyChart").nth(1)).to_be_visible()  # the points and the LL curve
    app.screenshot("em_2d.png")
    app.expect_clean()


def test_matrix_completion_steps_and_scores(app: App):
    options = app.dataset_options()
    assert options[:3] == ["demo-2d (built-in)", "demo-small (built-in)", "demo-large (built-in)"], options
    if course_available("netflix"):
        assert "netflix (course)" in options, f"EM_DATA_DIR holds the netflix files but the sidebar offers {options}"
    dataset = "netflix (course)" if "netflix (course)" in options else "demo-large (built-in)"
    app.choose_dataset(dataset)
    expect(app.main.get_by_test_id("stCaptionContainer").first).to_contain_text("1,200 rows x 1,200 columns")
    app.expect_no_exception()
    app.screenshot("data_ratings.png")

    app.go("EM for matrix completion")
    expect(app.main).to_contain_text("floors every variance at 0.25")  # the course's default
    expect(app.status).to_contain_text("Initial mixture")
    history = [app.step() for _ in range(3)]
    assert [iteration for iteration, _ in history] == [1, 2, 3]
    lls = [ll for _, ll in history]
    assert len(set(lls)) == len(lls), f"the log-likelihood should move with every step: {lls}"
    # the LL curve, the users on two principal components, the means heatmap, one user's posterior
    expect(app.main.get_by_test_id("stPlotlyChart").nth(3)).to_be_visible()
    app.screenshot("em_matrix.png")

    app.go("Completion vs gold")
    expect(metric(app, "Iteration")).to_have_text("3")  # follows the run on the previous page
    for label in ("RMSE (all entries)", "RMSE (missing only)"):
        expect(metric(app, label)).to_have_text(RMSE)
    # observed, completed, gold and |error| side by side, then one user's table
    expect(app.main.get_by_test_id("stPlotlyChart").nth(3)).to_be_visible()
    expect(app.main.get_by_test_id("stDataFrame")).to_be_visible()
    app.screenshot("completion.png")
    app.expect_clean()


def test_play_runs_em_to_convergence_on_its_own(app: App):
    # Play starts a timed rerun of the stepping fragment; it must keep stepping until the stopping rule holds
    app.go("EM on complete 2-D data")
    expect(app.status).to_contain_text("Initial mixture")
    app.main.get_by_role("button", name="Play").click()
    expect(app.main.get_by_role("button", name="Pause")).to_be_visible(timeout=RERUN_MS)
    expect(app.status).to_contain_text("converged after", timeout=120_000)
    dataset = load_dataset("demo-2d")
    state = stepping.run(naive_em.algorithm(), dataset.X, stepping.start(*init(dataset.X, 4, 0)))
    iteration, ll = app.iteration_and_ll()
    assert (iteration, f"{ll:,.6f}") == (state.iteration, f"{state.score:,.6f}")
    expect(app.main.get_by_role("button", name="Play")).to_be_disabled()
    app.expect_clean()
