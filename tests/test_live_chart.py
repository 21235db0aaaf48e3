"""dashboard.live_chart: the folder it is served from, what it sends, and (in chromium) a Step that
redraws the matrix page's charts in place instead of mounting them anew.

The browser tests run their own server on this file's ports (8790-8799), beside the other browser tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import plotly
import plotly.graph_objects as go
import pytest
from playwright.sync_api import Page, expect

from dashboard import live_chart, plotly_spec
from tests.browser_page import AppPage
from tests.streamlit_server import StreamlitServer, browser_test_server

PLOTLY_JS = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
PAGE = Path(live_chart.__file__).with_name("live_chart_frame") / "index.html"


# ---------------------------------------------------------------- the folder Streamlit serves


def test_the_frame_folder_holds_the_page_and_the_plotly_js_of_plotly_py(tmp_path: Path):
    folder = live_chart.frame_folder(tmp_path)
    assert (folder / "index.html").read_bytes() == PAGE.read_bytes()
    assert (folder / "plotly.min.js").read_bytes() == PLOTLY_JS.read_bytes()
    assert sorted(path.name for path in folder.iterdir()) == ["index.html", "plotly.min.js"]  # no partial file left


def test_the_frame_folder_is_made_once_and_mended_when_a_file_is_cut_short(tmp_path: Path):
    folder = live_chart.frame_folder(tmp_path)
    script = folder / "plotly.min.js"
    made = script.stat().st_mtime_ns
    assert live_chart.frame_folder(tmp_path) == folder and script.stat().st_mtime_ns == made  # not copied again
    script.write_bytes(script.read_bytes()[:1000])  # e.g. a disk that filled up mid-copy
    live_chart.frame_folder(tmp_path)
    assert script.read_bytes() == PLOTLY_JS.read_bytes()


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
