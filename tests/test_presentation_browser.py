"""Issue 11 in chromium: notices that go when they should, labels that never overprint, Play by half-steps.

Presentation mode's layout on a projector and on a phone is tested in tests/test_presentation_layout.py.

The server runs on this file's own ports (8730-8739), so it can run beside the other browser tests.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from em_core.data import course_available, data_dir
from tests.browser_page import AppPage
from tests.helpers import REPO, course_missing_reason
from tests.streamlit_server import StreamlitServer, browser_test_server

pytestmark = pytest.mark.browser

PORTS = range(8730, 8740)
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def app_server():
    yield from browser_test_server("streamlit_presentation.log", PORTS)


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


# until the map's labels are the same over two pairs of frames: plotly has finished drawing them
_LABELS_DRAWN = """el => new Promise(resolve => {
    let last = -1;
    const tick = () => {
        const n = el.querySelectorAll('g.textpoint text').length;
        if (n > 0 && n === last) { resolve(n); return; }
        last = n;
        requestAnimationFrame(() => requestAnimationFrame(tick));
    };
    tick();
})"""


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
    counts = []
    for iteration in range(8):
        link = f"/em_matrix?dataset={dataset}&k=4&it={iteration}"
        app = _open(page, app_server.url, link, "EM for matrix completion")
        # the link's iteration is shown (not the start, drawn first) and its chart drawn: count its labels
        expect(app.status_line).to_contain_text(
            f"Iteration {iteration} ·" if iteration else "Initial mixture", timeout=app.timeout_ms
        )
        app.wait_idle()
        app.wait_charts()
        chart = app.live_chart("emx_pca").locator("#chart")
        chart.evaluate(_LABELS_DRAWN)
        boxes = chart.evaluate(_LABEL_BOXES)
        assert _overprinted(boxes) == [], (iteration, boxes)
        counts.append(len(boxes))
    # most means keep their label (a label is left out only where it would overprint)
    assert sum(counts) >= 8 * 3, f"labels per iteration: {counts}"
    app.expect_clean()


#: From now on, every title the points chart (a live chart: drawn in its frame, which a Step keeps) is sent
#: (``window.__emSent``: the figures the server sends its frame, in order) and every title it shows
#: (``window.__emTitles``). A frame busy drawing skips to the newest figure it was sent, so on a loaded machine
#: a half-step can be sent and never drawn: what the server sends is the fit's sequence, what is drawn a part of it.
_RECORD_TITLES = """() => {
    window.__emTitles = [];
    window.__emSent = [];
    const frame = document.querySelector('.st-key-em2d_points iframe');
    const drawn = frame.contentDocument;
    const push = (list, text) => { if (text && text !== list[list.length - 1]) list.push(text); };
    const record = () => {
        const title = drawn.querySelector('#chart .gtitle');
        push(window.__emTitles, title ? title.textContent : null);
    };
    frame.contentWindow.addEventListener("message", (event) => {
        const args = event.data && event.data.type === "streamlit:render" ? event.data.args : null;
        if (!args || !args.spec) return;
        const title = JSON.parse(args.spec).layout.title;
        const text = typeof title === "string" ? title : title && title.text;
        push(window.__emSent, text ? text.replace(/<[^>]*>/g, "") : null);
    });
    new MutationObserver(record).observe(drawn.body, { subtree: true, childList: true, characterData: true });
}"""


def test_play_by_half_steps_sends_each_half_step_and_shows_them_in_order(app_server: StreamlitServer, page: Page):
    app = _open(page, app_server.url, "/em_2d?dataset=demo-2d", "EM on complete 2-D data")
    page.locator(".st-key-em2d_play_halves label").click()
    expect(page.locator(".st-key-em2d_play_halves input")).to_be_checked()
    app.wait_idle()
    page.evaluate(_RECORD_TITLES)
    app.button(key="em2d_play").click()
    # each half-step is a tick (0.6 s): the E-step's state, then the M-step's, then the next E-step's, each sent
    # to the chart in turn; the chart shows them in that order (every one, unless the machine is too loaded to
    # draw one within its tick: it then goes on to the newest)
    wanted = ["Iteration 1 — after the E-step", "Iteration 1 — after the M-step", "Iteration 2 — after the E-step"]
    try:
        page.wait_for_function("(last) => window.__emSent.includes(last)", arg=wanted[-1], timeout=app.timeout_ms)
        app.wait_charts()  # the newest figure sent is drawn
    finally:  # on a timeout, what the chart was sent and showed
        sent, titles = page.evaluate("() => [window.__emSent, window.__emTitles]")
        print(f"titles sent: {sent}; shown: {titles}; the status line: {app.status_line.text_content()!r}")
    assert [title for title in sent if title in wanted] == wanted, sent
    shown = [title for title in titles if title.startswith("Iteration")]
    assert shown, titles
    assert all(title in sent for title in shown), (shown, sent)
    assert shown == sorted(shown, key=sent.index), (shown, sent)  # never an older state after a newer one
    app.button(key="em2d_play").click()  # Pause
    expect(app.button(key="em2d_play")).to_contain_text("Play", timeout=app.timeout_ms)
    app.expect_clean()
