"""The Your own points page (AppTest): clicks add points and place means, the set is kept, downloaded and used.

A click is what ``st.plotly_chart(on_select="rerun")`` puts in the session for the canvas's key: the
selection of one grid point (the browser test clicks for real, tests/test_hands_on_browser.py).
"""

from __future__ import annotations

import io

import numpy as np
import pytest

from dashboard import user_points
from dashboard.click_canvas import GRID_CELLS, canvas_around
from em_core import kmeans, stepping
from em_core.data import load_dataset
from em_core.mixture import init
from tests.apptest_helpers import Dashboard


def click(app: Dashboard, row: int, column: int) -> tuple[float, float]:
    """Click the canvas's grid point (row, column) from its bottom-left corner; return its coordinates."""
    key = f"yp_canvas_{app.at.session_state['yp_clicks']}"
    index = row * (GRID_CELLS + 1) + column
    app.at.session_state[key] = {"selection": {"points": [{"curve_number": 0, "point_index": index}]}}
    app.run()
    canvas = app.at.session_state["user_points_state"].canvas
    return canvas.x0 + column * canvas.step, canvas.y0 + row * canvas.step


def placed(app: Dashboard):
    state = app.at.session_state["user_points_state"]
    return state.points, state.means


@pytest.fixture
def app() -> Dashboard:
    return Dashboard(page="your_points")


def test_clicks_add_points_where_they_land_and_undo_takes_them_back(app):
    assert app.metrics()["Points"] == "0"
    where = [click(app, 10, 20), click(app, 70, 5), click(app, 40, 40)]
    points, _ = placed(app)
    np.testing.assert_allclose(points, where)
    assert where[2] == (0.0, 0.0)  # the empty canvas is [-5, 5] x [-5, 5], its centre the grid's (40, 40)
    assert app.metrics()["Points"] == "3"
    assert click(app, 70, 5) and "a point sits at" in app.at.warning[0].value  # twice on one spot: one point
    assert app.metrics()["Points"] == "3"
    app.click("yp_undo")
    np.testing.assert_allclose(placed(app)[0], where[:2])
    app.click("yp_clear")
    assert placed(app)[0].shape == (0, 2) and app.metrics()["Points"] == "0"
    app.click("yp_undo")  # a clear is undone too
    np.testing.assert_allclose(placed(app)[0], where[:2])


def test_placing_means_numbers_them_and_stops_at_k(app):
    app.at.radio(key="yp_mode").set_value("Place starting means")
    app.run()
    means = [click(app, 10, 10), click(app, 10, 70), click(app, 70, 10)]
    assert click(app, 10, 10) and "K means must be distinct" in app.at.warning[0].value
    means.append(click(app, 70, 70))
    np.testing.assert_allclose(placed(app)[1], means)
    assert app.metrics()["Means placed"] == "4 of 4"
    click(app, 40, 40)
    assert "4 means placed and K is 4" in app.at.warning[0].value
    app.click("yp_undo")  # the refusal was about that click: it goes with the next run
    assert len(app.at.warning) == 0 and len(placed(app)[1]) == 3
    means.pop()
    assert placed(app)[0].shape == (0, 2)  # means mode adds no points
    figure = app.figure(f"yp_canvas_{app.at.session_state['yp_clicks']}")
    assert figure["data"][2]["text"] == ["1", "2", "3"]
    np.testing.assert_allclose(np.c_[figure["data"][2]["x"], figure["data"][2]["y"]], means)


def test_a_scenario_starts_the_set_and_downloads_read_back(app):
    app.at.selectbox(key="yp_start").set_value("scenario-long-thin")
    app.run()
    app.click("yp_start_button")
    X = load_dataset("scenario-long-thin").X
    points, _ = placed(app)
    np.testing.assert_array_equal(points, X)
    assert app.at.session_state["user_points_state"].canvas == canvas_around(X)
    files = {file.file_name: file.make() for file in app.at.session_state["yp_files"]}
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(files["your_points.txt"])), X)  # the course's format
    np.testing.assert_array_equal(np.loadtxt(io.StringIO(files["your_points.csv"]), delimiter=","), X)


def test_the_points_become_a_data_set_at_k_points_and_the_2d_pages_fit_them(app):
    where = [click(app, r, c) for r, c in [(10, 10), (12, 14), (60, 60), (62, 58), (20, 70)]]
    app.set_number("em_k", 6)
    assert user_points.DATASET not in app.at.selectbox(key="dataset").options  # 5 points, K = 6
    app.set_number("em_k", 2)
    assert user_points.DATASET in app.at.selectbox(key="dataset").options
    app.click("yp_use")
    assert app.dataset == user_points.DATASET
    app.open("kmeans")
    app.step("km", 3)
    assert "dataset" not in app.at.query_params  # a link cannot carry a session's own points
    X = np.array(where)
    mixture, post = init(X, 2, 0)
    state = stepping.start(mixture, post)
    for _ in range(3):
        state = stepping.step(kmeans.algorithm(), X, state)
    fit = app.fit("kmeans").state
    assert fit.scores == state.scores
    np.testing.assert_array_equal(fit.mixture.mu, state.mixture.mu)


def test_the_session_holds_at_most_max_points(app, monkeypatch):
    monkeypatch.setattr(user_points, "MAX_POINTS", 2)
    for i in (1, 2, 3):
        click(app, i, i)
    assert placed(app)[0].shape == (2, 2)
    assert app.at.warning[0].value == "2 points is the most a session can place; undo or clear some first"
