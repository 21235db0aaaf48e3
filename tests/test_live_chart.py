"""dashboard.live_chart: the folder it is served from, what it sends, and (in chromium) a Step that
redraws the matrix page's charts in place instead of mounting them anew.

The browser tests run their own server on this file's ports (8790-8799), beside the other browser tests.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from playwright.sync_api import Page, Route, expect

from dashboard import live_chart, plotly_spec
from em_core import em, init
from em_core.data import load_dataset
from tests.browser_page import LIVE_CHARTS_SETTLED, AppPage
from tests.streamlit_server import StreamlitServer, browser_test_server

PLOTLY_JS = live_chart.FULL_BUNDLE
PAGE = Path(live_chart.__file__).with_name("live_chart_frame") / "index.html"


def bundle(path: Path, version: str) -> Path:
    """A stand-in for a plotly.js bundle of ``version``, its first comment as plotly.js writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"/**\n* plotly.js v{version}\n* Copyright 2012-2026, Plotly, Inc.\n*/\nvar Plotly = {{}};\n")
    return path


# ---------------------------------------------------------------- the plotly.js a frame loads


def test_the_bundle_draws_the_traces_it_is_said_to_and_is_served_when_it_is_plotly_pys_plotly_js():
    """The bundle kept in the repository registers exactly the trace types payload() lets through, and the
    frames load it when it is the version of the plotly.js plotly.py writes figures for (after an upgrade
    of plotly, until it is rebuilt, they load plotly.py's full bundle: the next test)."""
    registered = set(re.findall(r'moduleType:"trace",name:"(\w+)"', live_chart.BUNDLE.read_text()))
    assert registered == live_chart.BUNDLE_TRACES
    version = live_chart.plotly_js_version(live_chart.BUNDLE)
    assert version is not None and live_chart.plotly_js_version(PLOTLY_JS) is not None
    if live_chart.plotly_js_version(PLOTLY_JS) == version:
        assert live_chart.SCRIPT.source == live_chart.BUNDLE and live_chart.SCRIPT.traces == registered
        assert re.fullmatch(rf"plotly-bundle-{re.escape(version)}-[0-9a-f]{{8}}\.min\.js", live_chart.SCRIPT.name)
    else:
        assert live_chart.SCRIPT == (PLOTLY_JS, f"plotly-{live_chart.plotly_js_version(PLOTLY_JS)}.min.js", None)
    # well under half the full bundle: what a fresh page runs before its first chart draws
    assert live_chart.BUNDLE.stat().st_size < PLOTLY_JS.stat().st_size / 2
    licence = live_chart.BUNDLE.with_name("plotly-bundle.LICENSE").read_text()
    assert licence.startswith("MIT License") and "Plotly" in licence


def test_a_plotly_py_of_another_plotly_js_gets_its_own_full_bundle_under_its_version(tmp_path: Path):
    full = bundle(tmp_path / "package_data" / "plotly.min.js", "9.0.0")
    assert live_chart.plotly_script(full) == (full, "plotly-9.0.0.min.js", None)
    ours = bundle(tmp_path / "ours.min.js", "9.0.0")
    chosen = live_chart.plotly_script(full, ours)
    assert chosen.source == ours and chosen.traces == live_chart.BUNDLE_TRACES
    # rebuilt with the same plotly.js (more traces, say), the bundle is served under another name: a browser's
    # copy of the old one is never taken for it
    ours.write_text(ours.read_text() + "Plotly.more = true;\n")
    rebuilt = live_chart.plotly_script(full, ours).name
    assert chosen.name.startswith("plotly-bundle-9.0.0-") and rebuilt.startswith("plotly-bundle-9.0.0-")
    assert rebuilt != chosen.name
    assert live_chart.plotly_script(full, bundle(tmp_path / "older.min.js", "8.9.9")).source == full
    # a bundle that names no version: plotly.py's version names the full one, never the bundle
    (tmp_path / "bare.min.js").write_text("var Plotly = {};\n")
    assert live_chart.plotly_script(tmp_path / "bare.min.js", tmp_path / "bare.min.js") == (
        tmp_path / "bare.min.js",
        f"plotly-{plotly.__version__}.min.js",
        None,
    )


def test_a_figure_with_a_trace_the_bundle_cannot_draw_is_refused_by_name(monkeypatch):
    fig = go.Figure([go.Scattergl(x=[1], y=[2]), go.Scatter3d(x=[1], y=[2], z=[3]), go.Surface(z=[[1, 2], [3, 4]])])
    ours = live_chart.PlotlyScript(live_chart.BUNDLE, "plotly-bundle-4.1.1.min.js", live_chart.BUNDLE_TRACES)
    monkeypatch.setattr(live_chart, "SCRIPT", ours)  # the bundle, whatever plotly is installed here
    with pytest.raises(ValueError, match=r"plotly-bundle-4\.1\.1\.min\.js, which has no scatter3d, surface trace"):
        live_chart.payload(fig)
    # with the full bundle every trace goes
    monkeypatch.setattr(live_chart, "SCRIPT", live_chart.PlotlyScript(PLOTLY_JS, "plotly-x.min.js", None))
    assert json.loads(live_chart.payload(fig)[0])["data"][1]["type"] == "scatter3d"


# ---------------------------------------------------------------- the folder Streamlit serves


def test_the_frame_folder_holds_the_page_and_the_bundle_under_its_name(tmp_path: Path):
    folder = live_chart.frame_folder(tmp_path)
    script = live_chart.SCRIPT.name
    page = (folder / "index.html").read_text()
    # the page as kept in the repository, with the script's name where it asks for it (and nowhere else)
    kept = PAGE.read_text()
    assert kept.count("__PLOTLY_SCRIPT__") == 1 and page == kept.replace("__PLOTLY_SCRIPT__", script)
    assert f'const PLOTLY_SCRIPT = "{script}";' in page
    assert (folder / script).read_bytes() == live_chart.SCRIPT.source.read_bytes()
    assert sorted(path.name for path in folder.iterdir()) == sorted(["index.html", script])  # no partial file left


def test_the_frame_folder_is_made_once_and_mended_when_a_file_is_cut_short(tmp_path: Path):
    folder = live_chart.frame_folder(tmp_path)
    script = folder / live_chart.SCRIPT.name
    made = script.stat().st_mtime_ns
    assert live_chart.frame_folder(tmp_path) == folder and script.stat().st_mtime_ns == made  # not copied again
    script.write_bytes(script.read_bytes()[:1000])  # e.g. a disk that filled up mid-copy
    live_chart.frame_folder(tmp_path)
    assert script.read_bytes() == live_chart.SCRIPT.source.read_bytes()


def test_another_plotly_version_gets_another_folder_and_another_script_name(tmp_path: Path):
    """A browser keeps plotly.js (the frame asks for its cached copy): after an upgrade the frame must ask
    for a file of another name, so that the old copy is never drawn with."""
    folder = live_chart.frame_folder(tmp_path / "served")
    upgraded_js = bundle(tmp_path / "package_data" / "plotly.min.js", "9.0.0")
    upgraded = live_chart.frame_folder(tmp_path / "served", live_chart.plotly_script(upgraded_js))
    assert upgraded != folder
    assert 'const PLOTLY_SCRIPT = "plotly-9.0.0.min.js";' in (upgraded / "index.html").read_text()
    assert (upgraded / "plotly-9.0.0.min.js").read_bytes() == upgraded_js.read_bytes()


# ---------------------------------------------------------------- what a chart sends


def test_a_spec_figure_goes_as_its_spec_unvalidated_with_its_height():
    values = np.arange(6, dtype=np.float64).reshape(2, 3)
    fig = plotly_spec.SpecFigure(
        [plotly_spec.trace("heatmap", z=values, name="means")], {"height": 333, "title": {"text": "t"}}
    )
    sent, height = live_chart.payload(fig)
    assert fig.pending and height == 333  # nothing looked inside the figure (plotly's validation is the slow part)
    spec = json.loads(sent)
    assert spec["data"][0]["z"] == plotly_spec.typed(values) and spec["layout"]["title"] == {"text": "t"}


def test_a_plain_figure_goes_as_plotly_writes_it_and_a_figure_without_height_gets_plotlys_default():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4], name="line"))
    sent, height = live_chart.payload(fig)
    assert json.loads(sent) == json.loads(fig.to_json()) and height == live_chart.DEFAULT_HEIGHT


# ---------------------------------------------------------------- in chromium

PORTS = range(8790, 8800)

#: Marks every live chart's frame and plot before a click, to tell afterwards whether they are still the same.
MARK = """(title) => document.querySelectorAll(`iframe[title="${title}"]`).forEach((frame, i) => {
  frame.dataset.testMark = String(i);
  frame.contentDocument.getElementById("chart").dataset.testMark = String(i);
})"""
#: Per live chart: [key, its frame kept its mark, its plot kept its mark, figures drawn].
KEPT = """(title) => Array.from(document.querySelectorAll(`iframe[title="${title}"]`)).map((frame) => [
  (frame.closest('[class*="st-key-"]').className.match(/st-key-(\\S+)/) || [])[1],
  frame.dataset.testMark !== undefined,
  frame.contentDocument.getElementById("chart").dataset.testMark !== undefined,
  Number(frame.contentDocument.body.dataset.drawn),
])"""


@pytest.fixture(scope="module")
def app_server():
    yield from browser_test_server("streamlit_live_chart.log", PORTS)


@pytest.mark.browser
@pytest.mark.parametrize("dataset", ["demo-small", pytest.param("netflix", marks=pytest.mark.course, id="netflix")])
def test_a_step_redraws_the_matrix_pages_charts_in_place(
    app_server: StreamlitServer, page: Page, dataset: str, request: pytest.FixtureRequest
):
    """Each Step draws the new figures into the same frames and the same plots: nothing is mounted anew,
    not even on netflix, where the collapse warnings above the charts come and go between steps."""
    if dataset == "netflix":
        request.getfixturevalue("course_dir")  # skips, saying where to get the files, when they are not there
    page.set_viewport_size({"width": 1400, "height": 900})
    app = AppPage(page, app_server.url)
    app.goto(f"/em_matrix?dataset={dataset}&k={12 if dataset == 'netflix' else 3}&seed=0")
    app.wait_opened("EM for matrix completion")
    app.step()  # the first step brings the step log and the slider: the charts stay where they were
    app.wait_charts()
    page.evaluate(MARK, live_chart.FRAME_TITLE)
    before = {key: drawn for key, *_, drawn in page.evaluate(KEPT, live_chart.FRAME_TITLE)}
    assert set(before) == {"emx_ll", "emx_pca", "emx_means", "emx_post"}, before
    for _ in range(3):
        status = app.step()
        app.wait_charts()
        title = app.live_chart("emx_means").locator("#chart .gtitle")
        expect(title).to_have_text(f"Cluster means after iteration {status.iteration}")
    after = page.evaluate(KEPT, live_chart.FRAME_TITLE)
    assert [(key, frame, plot) for key, frame, plot, _ in after] == [(key, True, True) for key, *_ in after], (
        "a chart was mounted anew"
    )
    # every chart drew each step's new figure (the LL curve, the map, the means and the posterior all change)
    assert {key: drawn - before[key] for key, *_, drawn in after} == dict.fromkeys(before, 3)
    app.expect_clean()


def plotly_fetches(page: Page) -> Callable[[], list[bool]]:
    """Start recording the page's responses for plotly.js (its frames' too); the function returned gives,
    per response so far, whether it came from the browser's disk cache rather than the server."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    seen: list[bool] = []

    def on_response(event: dict) -> None:
        if re.search(r"/plotly-[^/]+\.min\.js$", event["response"]["url"]):
            seen.append(bool(event["response"].get("fromDiskCache")))

    cdp.on("Network.responseReceived", on_response)
    return lambda: list(seen)


def until(page: Page, fetches: Callable[[], list[bool]], count: int, seconds: float = 10.0) -> list[bool]:
    """The recorded fetches once there are ``count`` of them (chromium may report a response after the
    page has used it), or as they are after ``seconds``."""
    deadline = time.monotonic() + seconds
    while len(fetches()) < count and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # polling: Playwright hands over the recorder's events while it waits
    return fetches()


def wait_four_charts_drawn(app: AppPage) -> None:
    """Until the matrix page's four live charts are there and have drawn what they were sent."""
    app.page.wait_for_function(
        """(title) => document.querySelectorAll(`iframe[title="${title}"]`).length === 4""", arg=live_chart.FRAME_TITLE
    )
    app.wait_charts()


@pytest.mark.browser
def test_a_browser_fetches_plotly_js_from_the_server_once_for_all_its_charts(app_server: StreamlitServer, page: Page):
    """The matrix page's four charts each need plotly.js (4.8 MB; the server gzips it for each response):
    one fetch from the server for all four (before, four), none when the page is opened again."""
    page.set_viewport_size({"width": 1400, "height": 900})
    fetches = plotly_fetches(page)
    app = AppPage(page, app_server.url)
    app.goto("/em_matrix?dataset=demo-small&k=3&seed=0")
    app.wait_opened("EM for matrix completion")
    wait_four_charts_drawn(app)
    # the frames that mounted together share one fetch; one mounted after it takes the browser's copy
    how = [state["plotly"] for state in app.live_chart_states().values()]
    assert "shared" in how and set(how) <= {"fetched", "shared"}, how
    first = until(page, fetches, how.count("fetched"))
    assert first.count(False) == 1 and len(first) == how.count("fetched"), (first, how)
    app.goto("/em_matrix?dataset=demo-small&k=2&seed=1")
    app.wait_opened("EM for matrix completion")
    wait_four_charts_drawn(app)
    how = [state["plotly"] for state in app.live_chart_states().values()]
    again = until(page, fetches, len(first) + how.count("fetched"))[len(first) :]
    assert again == [True] * how.count("fetched") and again, (again, how)  # none from the server
    app.expect_clean()


@pytest.mark.browser
def test_the_charts_are_ready_and_take_their_figures_while_plotly_js_is_still_loading(
    app_server: StreamlitServer, page: Page
):
    """Streamlit calls a frame that has not said it is ready within 60 s a "timeout error": on a loaded
    server plotly.js alone could take that long. The frames say so at once, take the figures Streamlit
    sends, and draw them when plotly.js comes."""
    page.set_viewport_size({"width": 1400, "height": 900})
    held: list[Route] = []
    page.route(re.compile(r"/plotly-[^/]+\.min\.js$"), lambda route: held.append(route))  # answered below, not before
    app = AppPage(page, app_server.url)
    app.goto("/em_matrix?dataset=demo-small&k=3&seed=0")
    app.wait_opened("EM for matrix completion")
    page.wait_for_function(
        """(title) => {
          const frames = Array.from(document.querySelectorAll(`iframe[title="${title}"]`));
          return frames.length === 4 && frames.every((frame) => frame.contentDocument && frame.contentDocument.body
            && Number(frame.contentDocument.body.dataset.received) > 0);
        }""",
        arg=live_chart.FRAME_TITLE,
    )
    assert held and [state["drawn"] for state in app.live_chart_states().values()] == [0, 0, 0, 0]  # none drawn yet
    for route in held:
        route.continue_()
    app.wait_charts()
    assert min(state["drawn"] for state in app.live_chart_states().values()) >= 1
    app.expect_clean()


@pytest.mark.browser
def test_a_chart_out_of_view_draws_the_newest_figure_when_it_comes_into_view(app_server: StreamlitServer, page: Page):
    """On a Step the charts on screen draw; one scrolled out of view keeps its figures for later and draws
    only the newest when the user scrolls to it (a Step spends no time on charts no one sees)."""
    page.set_viewport_size({"width": 1400, "height": 700})  # the LL curve and the map on screen, not the rest
    app = AppPage(page, app_server.url)
    app.goto("/em_matrix?dataset=demo-small&k=3&seed=0")
    app.wait_opened("EM for matrix completion")
    wait_four_charts_drawn(app)
    for _ in range(2):
        app.step()
    page.wait_for_function(LIVE_CHARTS_SETTLED, arg=live_chart.FRAME_TITLE)
    states = app.live_chart_states()
    for key in ("emx_ll", "emx_pca"):  # on screen: every figure drawn
        assert states[key]["received"] == states[key]["drawn"] >= 3 and not states[key]["deferred"], states
    for key in ("emx_means", "emx_post"):  # out of view: the first figure only, the newest waiting
        assert (states[key]["received"], states[key]["drawn"], states[key]["deferred"]) == (3, 1, True), states
    frame = app.live_chart_frame("emx_means")
    waiting_height = frame.bounding_box()["height"]
    frame.scroll_into_view_if_needed()
    expect(app.live_chart("emx_means").locator("#chart .gtitle")).to_have_text("Cluster means after iteration 2")
    # the frame counts a figure drawn once it is painted (two frames after plotly drew it): a loaded machine
    # shows the title before the count (a CI run read 3 received, 1 drawn, still deferred)
    body = app.live_chart("emx_means").locator("body")
    expect(body).to_have_attribute("data-drawn", "3", timeout=app.timeout_ms)
    means = app.live_chart_states()["emx_means"]
    assert (means["received"], means["drawn"], means["deferred"]) == (3, 3, False)
    # while it waited the chart already had its figure's height: drawing it moved nothing on the page
    assert waiting_height == frame.bounding_box()["height"] > 200
    app.expect_clean()


#: In a live chart's frame: each drawn user's place on the page (the frame's offset added) and its nearest
#: neighbour's distance in px, any trace's point counting (a mean's marker catches the hover as well).
USER_PLACES = """(frameTop) => {
  const gd = document.getElementById("chart"), layout = gd._fullLayout, xa = layout.xaxis, ya = layout.yaxis;
  const px = (x, y) => [xa._offset + xa.l2p(x), ya._offset + ya.l2p(y)];
  const marks = gd.calcdata.map((cd) => (cd[0].t && cd[0].t.x ? Array.from(cd[0].t.x, (x, i) => px(x, cd[0].t.y[i]))
                                                                  : cd.map((p) => px(p.x, p.y))));
  const all = marks.flat();
  return marks[0].map(([x, y], i) => {
    const nearest = Math.min(...all.filter((_, k) => k !== i).map(([u, v]) => Math.hypot(u - x, v - y)));
    return [i, x + frameTop[0], y + frameTop[1], nearest];
  });
}"""


@pytest.mark.browser
def test_hovering_a_user_on_the_map_names_them_and_their_largest_responsibilities(
    app_server: StreamlitServer, page: Page
):
    """plotly.js writes a user's hover from the numbers the map sends: the user's number and their three largest
    responsibilities in the E-step shown, as em_core computes them."""
    page.set_viewport_size({"width": 1400, "height": 900})
    app = AppPage(page, app_server.url)
    app.goto("/em_matrix?dataset=demo-small&k=3&seed=0")
    app.wait_opened("EM for matrix completion")
    for _ in range(2):
        app.step()
    app.wait_charts()
    X = load_dataset("demo-small").X
    mixture, _ = init(X, 3, 0)
    for _ in range(2):
        post = em.estep(X, mixture)[0]  # after a Step the map shows the posterior of its E-step
        mixture = em.mstep(X, post, mixture)
    frame = app.live_chart_frame("emx_pca")
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    places = (
        app.live_chart("emx_pca")
        .locator("#chart")
        .evaluate(f"(_, frameTop) => ({USER_PLACES})(frameTop)", [box["x"], box["y"]])
    )
    checked = 0
    for index, x, y, nearest in sorted(places, key=lambda place: -place[3])[:3]:  # the users drawn apart
        assert nearest > 6, f"no user is drawn apart from the others: {places[:5]}"
        page.mouse.move(x, y)
        label = app.live_chart("emx_pca").locator(".hoverlayer .hovertext")
        user = index + 1
        # the label of this user, not the one still shown for the user hovered before (plotly.js redraws it late
        # on a loaded machine)
        expect(label.locator("text.nums tspan.line").first).to_have_text(f"user {user}")
        lines = [line.text_content() for line in label.locator("text.nums tspan.line").all()]
        top = np.argsort(-post[index], kind="stable")
        assert lines[:4] == [f"user {user}"] + [f"j={j + 1}: {post[index, j]:.2f}" for j in top], lines
        checked += 1
    assert checked == 3
    page.mouse.move(0, 0)
    app.expect_clean()
