"""One browser session of the dashboard, driven through Playwright: the page object every browser test uses.

``AppPage(page, server.url)`` wraps a Playwright page that pytest-playwright made;
``AppPage.new_context(browser, server.url)`` opens its own browser context (its own cookies, so its own
Streamlit session: one student of a class). Either way it records what went wrong on the way: browser
console errors (less the few that are not the app's fault, :data:`ALLOWED_CONSOLE`) and HTTP 5xx answers.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, FrameLocator, Locator, Page, Response, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from dashboard import live_chart
from tests.helpers import STATUS_START, Status, parse_status

#: Milliseconds a first render or a rerun may take: a fresh server imports numpy, scipy and plotly on its
#: first run, and one EM step on the 1200 x 1200 netflix matrix redraws its figures.
TIMEOUT_MS = 30_000
VIEWPORT = {"width": 1400, "height": 900}  # a laptop: wide enough for the pages' two-column layouts

# Console errors that are not the app's fault, each with the reason: (text it starts with, source URL pattern).
ALLOWED_CONSOLE = [
    # page_icon=":material/scatter_plot:" makes Streamlit fetch the favicon from Google's font CDN,
    # which a machine without internet (CI, a classroom behind a proxy) cannot resolve.
    ("Failed to load resource", re.compile(r"https://fonts\.gstatic\.com/")),
    # Opening a page by its own address (/em_matrix?...) makes Streamlit's frontend try the page's path
    # as the server's base path first: /em_matrix/_stcore/health and .../host-config answer 404, then
    # it uses / (streamlit/streamlit#7074, confirmed upstream). The Data page at / does not do this.
    (
        "Failed to load resource: the server responded with a status of 404",
        re.compile(r"http://127\.0\.0\.1:\d+/(em_matrix|em_2d|kmeans_2d|lesson)/_stcore/(health|host-config)$"),
    ),
]

#: True when every live chart's frame (:mod:`dashboard.live_chart`) has drawn every figure it was sent, and
#: each was sent one. Argument: the frames' title.
LIVE_CHARTS_DRAWN = """(title) => Array.from(document.querySelectorAll(`iframe[title="${title}"]`)).every((frame) => {
  const body = frame.contentDocument && frame.contentDocument.body;
  return Boolean(body) && Number(body.dataset.received) > 0 && body.dataset.drawn === body.dataset.received;
})"""

#: True when every live chart has drawn every figure it was sent or, scrolled out of view, waits to draw the
#: newest when it comes into view (``data-deferred``), and each was sent one: the page as its user sees it.
LIVE_CHARTS_SETTLED = """(title) => Array.from(document.querySelectorAll(`iframe[title="${title}"]`)).every((frame) => {
  const body = frame.contentDocument && frame.contentDocument.body;
  return Boolean(body) && Number(body.dataset.received) > 0
    && (body.dataset.drawn === body.dataset.received || body.dataset.deferred === "1");
})"""

#: The positions (in document order among the live charts) of those waiting out of view to draw.
DEFERRED_CHARTS = """(title) => Array.from(document.querySelectorAll(`iframe[title="${title}"]`))
  .map((frame, i) => (frame.contentDocument?.body?.dataset.deferred === "1" ? i : -1)).filter((i) => i >= 0)"""

#: Scrolls the live chart at position ``i`` into view, keeping in ``window.__emScrolled`` how to scroll
#: everything back (:data:`SCROLL_BACK`): the scroll offsets of the page and of every element that holds it.
SCROLL_TO_CHART = """([title, i]) => {
  const frame = document.querySelectorAll(`iframe[title="${title}"]`)[i];
  const nodes = [];
  for (let node = frame.parentElement; node; node = node.parentElement) nodes.push(node);
  window.__emScrolled = nodes.map((node) => [node, node.scrollTop, node.scrollLeft]);
  window.__emScrolled.push([null, window.scrollY, window.scrollX]);
  frame.scrollIntoView({block: "center"});
}"""

SCROLL_BACK = """() => {
  for (const [node, top, left] of (window.__emScrolled || []).reverse()) {
    if (node === null) window.scrollTo(left, top); else { node.scrollTop = top; node.scrollLeft = left; }
  }
  window.__emScrolled = null;
}"""

CHART_DRAWN = """([title, i]) => {
  const body = document.querySelectorAll(`iframe[title="${title}"]`)[i]?.contentDocument?.body;
  return Boolean(body) && body.dataset.deferred !== "1" && body.dataset.drawn === body.dataset.received;
}"""

#: Per live chart (by its key): figures received and drawn, whether one waits out of view, how the frame
#: got plotly.js ("fetched", "shared" or "script"), and its frame's top and height in the viewport.
LIVE_CHART_STATES = """(title) => Object.fromEntries(
  Array.from(document.querySelectorAll(`iframe[title="${title}"]`)).map((frame) => {
  const body = frame.contentDocument?.body;
  const box = frame.getBoundingClientRect();
  const key = ((frame.closest('[class*="st-key-"]') || {}).className || "").match(/st-key-(\\S+)/)?.[1];
  return [key, {
    received: body ? Number(body.dataset.received) : null, drawn: body ? Number(body.dataset.drawn) : null,
    deferred: body?.dataset.deferred === "1", plotly: body?.dataset.plotly ?? null,
    top: Math.round(box.top), height: Math.round(box.height),
  }];
  }))"""

#: Armed before a click: ``window.__emRerun`` resolves true as soon as the app's script state changes (a
#: rerun started), false after ``ms`` milliseconds without one.
ARM_RERUN = """(ms) => {
  window.__emRerun = new Promise((resolve) => {
    const app = document.querySelector('[data-testid="stApp"]');
    const observer = new MutationObserver(() => { observer.disconnect(); resolve(true); });
    observer.observe(app, { attributes: true, attributeFilter: ["data-test-script-state"] });
    setTimeout(() => { observer.disconnect(); resolve(false); }, ms);
  });
}"""


@dataclass
class AppPage:
    """The dashboard in one browser tab: open it, press buttons, wait for the app, read the status line."""

    page: Page
    url: str  # the server's base URL, e.g. http://127.0.0.1:8501
    timeout_ms: int = TIMEOUT_MS
    context: BrowserContext | None = None  # set when this object opened the context (and so closes it)
    console_errors: list[str] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # console errors on ALLOWED_CONSOLE, by source
    step_seconds: list[float] = field(default_factory=list)  # click to new status line, per press
    _pressed: tuple[int, float] | None = None  # (iteration shown, time) at the last press()

    def __post_init__(self) -> None:
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.console_errors.append(f"uncaught: {error}"))
        self.page.on("response", self._on_response)

    @classmethod
    def new_context(cls, browser: Browser, url: str, timeout_ms: int = TIMEOUT_MS) -> AppPage:
        """A fresh browser context with one page: a new Streamlit session."""
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(timeout_ms)
        return cls(context.new_page(), url, timeout_ms, context)

    def close(self) -> None:
        """Close the context this object opened (once); a page from pytest-playwright is closed by it."""
        context, self.context = self.context, None
        if context is not None:
            context.close()

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        source = message.location.get("url", "")
        if any(message.text.startswith(text) and pattern.match(source) for text, pattern in ALLOWED_CONSOLE):
            self.ignored.append(source)
            return
        self.console_errors.append(f"{message.text} ({source})")

    def _on_response(self, response: Response) -> None:
        if response.status >= 500 and response.url.startswith(self.url):
            self.server_errors.append(f"{response.status} {response.url}")

    # ------------------------------------------------------------ what shows

    @property
    def main(self) -> Locator:
        return self.page.get_by_test_id("stMain")

    @property
    def sidebar(self) -> Locator:
        return self.page.get_by_test_id("stSidebar")

    @property
    def nav(self) -> Locator:
        return self.page.get_by_test_id("stSidebarNav")

    @property
    def title(self) -> Locator:
        return self.main.locator("h1")

    @property
    def status_line(self) -> Locator:
        """The status line under the stepping buttons."""
        return self.main.get_by_test_id("stMarkdownContainer").filter(has_text=STATUS_START)

    def status(self) -> Status:
        """The status line, parsed: iteration, score as shown, converged or not."""
        return parse_status(self.status_line.inner_text())

    def button(self, label: str | None = None, *, key: str | None = None) -> Locator:
        """A button in the main column by its label (exact), or anywhere by its widget key."""
        if key is not None:
            return self.page.locator(f".st-key-{key}").get_by_role("button")
        return self.main.get_by_role("button", name=label, exact=True)

    def metric(self, label: str) -> Locator:
        """The value of the ``st.metric`` with this label."""
        return self.main.get_by_test_id("stMetric").filter(has_text=label).get_by_test_id("stMetricValue")

    # ------------------------------------------------------------ waiting

    def wait_idle(self) -> None:
        """Until the script run is over, no element is stale (greyed out) and every element has been drawn.

        ``data-test-script-state`` is the attribute Streamlit's own end-to-end tests wait on. Call this only
        after something showed that the rerun started (a new title, a new status line): just after a click
        the previous run still counts as over.

        Streamlit (1.67) loads each kind of widget's code when a page first shows one and puts a skeleton
        (``stSkeleton``) in its place meanwhile: a fresh browser has the script run over seconds before its
        buttons are there (seen on CI: the Step button still a skeleton 5 s after the run ended).
        """
        app = self.page.get_by_test_id("stApp")
        expect(app).to_have_attribute("data-test-script-state", "notRunning", timeout=self.timeout_ms)
        expect(self.page.locator('[data-stale="true"]')).to_have_count(0, timeout=self.timeout_ms)
        expect(self.page.get_by_test_id("stSkeleton")).to_have_count(0, timeout=self.timeout_ms)

    def wait_charts(self) -> None:
        """Until every plotly chart on the page has drawn its SVG, and every live chart
        (:mod:`dashboard.live_chart`) has drawn the last figure it was sent.

        A live chart scrolled out of view draws only when it comes into view: each one waiting so is
        scrolled into view in turn until it has drawn, and the page is scrolled back to where it was
        (what a test looks at, or a screenshot shows, is then the newest figure of every chart)."""
        for chart in self.main.get_by_test_id("stPlotlyChart").all():
            expect(chart.locator(".main-svg").first).to_be_visible(timeout=self.timeout_ms)
        title = live_chart.FRAME_TITLE
        deadline = time.monotonic() + self.timeout_ms / 1000
        try:
            # until every chart has drawn: a chart mounted while the others were brought into view (the
            # page's lower charts come after its status line) is settled and brought into view in turn
            while not self.page.evaluate(LIVE_CHARTS_DRAWN, title):
                if time.monotonic() > deadline:
                    raise PlaywrightTimeoutError(f"{self.timeout_ms} ms without every live chart drawn")
                left_ms = max(1.0, (deadline - time.monotonic()) * 1000)
                self.page.wait_for_function(LIVE_CHARTS_SETTLED, arg=title, timeout=left_ms)
                for i in self.page.evaluate(DEFERRED_CHARTS, title):
                    self.page.evaluate(SCROLL_TO_CHART, [title, i])
                    try:
                        left_ms = max(1.0, (deadline - time.monotonic()) * 1000)
                        self.page.wait_for_function(CHART_DRAWN, arg=[title, i], timeout=left_ms)
                    finally:
                        self.page.evaluate(SCROLL_BACK)
        except PlaywrightTimeoutError as error:
            states = self.live_chart_states()
            raise AssertionError(f"live charts not drawn ({error.message.splitlines()[0]}): {states}") from None

    def live_chart_states(self) -> dict[str, dict]:
        """Each live chart's state, by its key (:data:`LIVE_CHART_STATES`)."""
        return self.page.evaluate(LIVE_CHART_STATES, live_chart.FRAME_TITLE)

    def live_chart_frame(self, key: str) -> Locator:
        """The ``<iframe>`` of the live chart ``key`` (:mod:`dashboard.live_chart`), on the page."""
        return self.page.locator(f".st-key-{key} iframe")

    def live_chart(self, key: str) -> FrameLocator:
        """The inside of the live chart ``key`` (:mod:`dashboard.live_chart`): its plotly.js plot is ``#chart``."""
        return self.live_chart_frame(key).content_frame

    def click_for_a_rerun(self, click: Callable[[], None], attempts: int = 3, wait_ms: int | None = None) -> None:
        """``click()`` (e.g. on a chart that reruns the app on a selection) until the app starts a rerun.

        A chart ``st.plotly_chart`` has just mounted anew may draw before its click handlers are bound: on a
        loaded machine a click there is lost, and a test waiting for its effect waits in vain. A click that
        started no rerun within ``wait_ms`` (the page's timeout by default: a click that only started late
        must not be made twice, e.g. placing two points) selected nothing, so it is made again."""
        wait_ms = self.timeout_ms if wait_ms is None else wait_ms
        for _ in range(attempts):
            self.page.evaluate(ARM_RERUN, wait_ms)
            click()
            if self.page.evaluate("() => window.__emRerun"):
                return
        raise AssertionError(f"{attempts} clicks, {wait_ms} ms apart, started no rerun")

    def expect_no_exception(self) -> None:
        expect(self.page.get_by_test_id("stException")).to_have_count(0)

    def cut_labels(self) -> list[str]:
        """The texts in the main column that Streamlit cuts with an ellipsis (a button's or a toggle's label:
        Streamlit 1.67 cuts the markdown box around the label, not its paragraph)."""
        return self.page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stMain"] *')]
                     .filter(e => getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth)
                     .map(e => e.innerText)"""
        )

    def expect_clean(self) -> None:
        """No console error from the app, no HTTP 5xx from the server, so far."""
        assert not self.console_errors, "browser console errors:\n" + "\n".join(self.console_errors)
        assert not self.server_errors, "HTTP 5xx from the server:\n" + "\n".join(self.server_errors)

    # ------------------------------------------------------------ opening pages

    def goto(self, path: str = "/") -> None:
        """Start loading ``path`` (e.g. ``/em_2d?dataset=demo-2d&k=3``); :meth:`wait_opened` waits for it."""
        self.page.goto(self.url + path)

    def wait_opened(self, title: str, status: bool = True) -> None:
        """Until the page shows its title (and, on a stepping page, its status line) with no exception."""
        expect(self.title).to_have_text(title, timeout=self.timeout_ms)
        if status:
            expect(self.status_line).to_be_visible(timeout=self.timeout_ms)
        self.wait_idle()
        self.expect_no_exception()

    def go(self, link: str, title: str | None = None) -> str:
        """Follow a sidebar link and wait for the page: its ``title``, or any new h1; return the title."""
        before = self.title.inner_text()
        self.nav.get_by_role("link", name=link, exact=True).click()
        if title is not None:
            expect(self.title).to_have_text(title, timeout=self.timeout_ms)
        else:
            expect(self.title).not_to_have_text(before, timeout=self.timeout_ms)
        self.wait_idle()
        self.expect_no_exception()
        return self.title.inner_text()

    def dataset_options(self) -> list[str]:
        """The labels the sidebar's data-set box offers."""
        box = self.page.get_by_role("combobox", name="Data set")
        box.click()
        options = self.page.get_by_role("option")
        expect(options.first).to_be_visible()
        labels = options.all_inner_texts()
        box.press("Escape")
        return labels

    def choose_dataset(self, label: str) -> None:
        """Pick a data set in the sidebar while on the Data page, whose caption then names it."""
        box = self.page.get_by_role("combobox", name="Data set")
        box.click()
        self.page.get_by_role("option", name=label, exact=True).click()
        expect(box).to_have_value(label)
        expect(self.main.get_by_test_id("stCaptionContainer").first).to_contain_text(label, timeout=self.timeout_ms)
        self.wait_idle()
        self.expect_no_exception()

    # ------------------------------------------------------------ stepping

    def press(self, label: str | None = None, *, key: str | None = None) -> None:
        """Press a stepping button without waiting for the rerun it starts (see :meth:`wait_stepped`)."""
        iteration = self.status().iteration
        self.button(label, key=key).click()
        self._pressed = (iteration, time.monotonic())

    def wait_stepped(self) -> Status:
        """Until the status line shows the iteration after the one :meth:`press` saw; return it."""
        iteration, pressed_at = self._pressed
        expect(self.status_line).to_contain_text(f"Iteration {iteration + 1} ·", timeout=self.timeout_ms)
        self.wait_idle()
        self.step_seconds.append(time.monotonic() - pressed_at)
        self.expect_no_exception()
        status = self.status()
        assert status.iteration == iteration + 1, status.text
        return status

    def wait_converged(self, timeout_ms: int | None = None) -> Status:
        """Until the status line says the fit converged; return it."""
        expect(self.status_line).to_contain_text("converged after", timeout=timeout_ms or self.timeout_ms)
        self.wait_idle()
        if self._pressed is not None:
            self.step_seconds.append(time.monotonic() - self._pressed[1])
        self.expect_no_exception()
        return self.status()

    def step(self) -> Status:
        """Press the primary Step button and wait for the next iteration; it must show its score."""
        button = self.button("Step")
        expect(button).to_have_attribute("data-testid", "stBaseButton-primary", timeout=self.timeout_ms)
        self.press("Step")
        status = self.wait_stepped()
        assert status.score is not None, f"a completed step shows its score: {status.text!r}"
        return status
