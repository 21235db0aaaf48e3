"""Hostile or unlucky input in the dashboard (issue 14): links, uploads and buttons that must not
crash, hang or exhaust the server, and must never render what a user typed as Markdown or HTML."""

from __future__ import annotations

import os
import re
from urllib.parse import urlencode

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard import session
from dashboard.limits import (
    FREE_REPORT_COST,
    FREE_SWEEP_COST,
    MAX_DRAWN_POINTS,
    MAX_ITER_SETTING,
    MAX_POINTS_2D,
    MAX_ROWS,
    MAX_UPLOAD_LINES,
    clip,
)
from dashboard.point_sample import drawn_points
from em_core import DataError, experiment, stepping
from em_core.data import load_dataset
from tests.apptest_helpers import Dashboard
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING
from tests.streamlit_server import StreamlitServer


def _press_twice_before_rerun(app: Dashboard, key: str) -> None:
    """Two clicks that reach the server before the page has run again (both see the same button)."""
    button = app.button(key)
    metadata = app.at.session_state._state._state._new_widget_state.widget_metadata[button.id]
    for _ in range(2):
        metadata.callback(*metadata.callback_args)


# ------------------------------------------------------------------ Play and Pause set a state


def test_two_fast_clicks_on_play_leave_it_playing():
    app = Dashboard("demo-small", page="matrix")
    assert app.button("emx_play").label == "Play"
    _press_twice_before_rerun(app, "emx_play")
    assert app.fit("matrix").playing


def test_two_fast_clicks_on_pause_leave_it_paused():
    app = Dashboard("demo-small", page="matrix").click("emx_play")
    assert app.button("emx_play").label == "Pause"
    _press_twice_before_rerun(app, "emx_play")
    assert not app.fit("matrix").playing


# ------------------------------------------------------------------ a fit that fails or hits the cap


@pytest.fixture
def step_fails_at_iteration_3(monkeypatch):
    """em_core's step raising as it does on a non-finite score, from iteration 3 on."""
    original = stepping.step

    def failing(algorithm, X, state):
        if state.iteration >= 2:
            raise DataError(f"iteration {state.iteration + 1}: the log_likelihood is nan, not a finite number")
        return original(algorithm, X, state)

    monkeypatch.setattr(stepping, "step", failing)


@pytest.mark.parametrize("button", ["emx_step", "emx_run"])
def test_a_failing_step_shows_one_error_naming_the_iteration(step_fails_at_iteration_3, button):
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 2)
    app.click(button)
    assert app.errors == ["iteration 3: the log_likelihood is nan, not a finite number"]
    assert app.fit("matrix").state.iteration == 2  # the last good state stays


def test_a_failing_step_stops_play(step_fails_at_iteration_3):
    app = Dashboard("demo-small", page="matrix")
    app.click("emx_play")
    for _ in range(4):  # each rerun stands for one tick of the fragment's timer
        app.run()
    slot = app.fit("matrix")
    assert not slot.playing and slot.state.iteration == 2
    assert app.button("emx_play").label == "Play"
    assert app.errors == ["iteration 3: the log_likelihood is nan, not a finite number"]


def _status(app: Dashboard) -> str:
    return next(m.value for m in app.at.markdown if m.value.startswith("**Iteration"))


def test_max_iterations_is_in_the_sidebar_with_em_cores_cap_by_default_and_bounded():
    app = Dashboard("demo-large", page="matrix")
    cap = app.at.number_input(key="em_max_iter")
    assert cap.label == "Max iterations" and cap.value == stepping.MAX_ITER and cap.max == MAX_ITER_SETTING


def test_run_to_convergence_stops_at_the_sidebar_cap_and_says_so():
    app = Dashboard("demo-large", page="matrix").set_number("em_max_iter", 2).click("emx_run")
    state = app.fit("matrix").state
    assert state.iteration == 2 and state.stopped_by_cap and not state.converged
    assert "stopped at the cap of 2 iterations" in _status(app)


def test_model_selection_fits_stop_at_the_sidebar_cap_and_the_page_says_how_many():
    app = Dashboard("demo-small", page="model_selection", em_max_iter=2)
    [info] = [i for i in app.infos if "stopped at the cap" in i]
    X = load_dataset("demo-small").X  # the page's defaults there: K = 1 .. 4, seeds 0 .. 4
    capped = sum(not experiment.fit(X, "em", K, seed, max_iter=2).converged for K in range(1, 5) for seed in range(5))
    assert capped > 0 and info.startswith(f"{capped} fit(s) stopped at the cap of 2 iterations (sidebar)")


def test_play_stops_at_the_sidebar_cap_and_says_so():
    app = Dashboard("demo-large", page="matrix").set_number("em_max_iter", 3).click("emx_play")
    for _ in range(5):  # each rerun stands for one tick of the fragment's timer
        app.run()
    slot = app.fit("matrix")
    assert not slot.playing and slot.state.iteration == 3 and slot.state.stopped_by_cap
    assert app.button("emx_play").label == "Play" and "stopped at the cap of 3 iterations" in _status(app)


# ------------------------------------------------------------------ what a user typed is shown as plain text

CRAFTED = "[Click here](http://evil)![x](http://evil/b.png)"


def _unescaped(markdown: str, characters: str) -> list[str]:
    """The Markdown-active characters of ``markdown`` not escaped by a backslash."""
    return re.findall(rf"(?<!\\)[{re.escape(characters)}]", markdown)


def test_a_crafted_dataset_link_is_shown_as_text_not_as_a_link_or_image():
    app = Dashboard(link={"dataset": CRAFTED})
    [warning] = [w.value for w in app.at.warning]
    assert "data set '" in warning and "Click here" in warning
    assert _unescaped(warning, "[]()!") == []  # no link, no image: every bracket is a literal one
    assert "http://" not in warning  # and no autolink


@pytest.mark.parametrize("parameter", ["k", "seed", "minvar", "it"])
def test_a_huge_number_in_a_link_is_not_echoed_whole(parameter):
    # Streamlit itself drops a query string over 524,288 characters (the 19,990,000 digits);
    # this one gets through, and was echoed whole
    app = Dashboard(link={parameter: "9" * 500_000})
    [warning] = [w.value for w in app.at.warning]
    assert f"{parameter}='999" in warning and "…" in warning
    assert len(warning) < 300


def test_an_uploaded_file_name_is_plain_text_in_captions():
    app = Dashboard(page="data", em_k=1)
    app.upload("[x](http://evil)![b](http://evil/b.png).txt", b"1 2 0\n0 4 5\n")
    [caption] = [c for c in app.captions if c.startswith("upload: ")]
    assert _unescaped(caption, "[]()!") == [] and "http://" not in caption
    assert app.at.selectbox(key="dataset").value == "upload"


def test_a_bad_upload_quoting_the_file_shows_it_verbatim_in_a_code_span():
    app = Dashboard(page="data")
    app.upload("bad.txt", b"1 2 3\n4 [x](http://evil) 6\n")
    [error] = app.errors
    assert error.startswith("` ") and error.endswith(" `") and error.count("`") == 2
    assert "bad.txt" in error


# ------------------------------------------------------------------ limits that follow the cost


def _points(n: int) -> bytes:
    rng = np.random.default_rng(0)
    return "\n".join(f"{a:.3f} {b:.3f}" for a, b in rng.normal(size=(n, 2))).encode()


def test_six_million_rows_in_one_column_are_refused_before_parsing_saying_the_limit():
    app = Dashboard(page="data")
    app.upload("column.txt", b"3\n" * 6_000_000)
    [error] = app.errors
    assert f"6,000,000 lines; the dashboard takes at most {MAX_UPLOAD_LINES:,}" in error
    assert "draw every row" in error and app.dataset != "upload"


def test_more_2d_points_than_the_pages_draw_are_refused_saying_why():
    app = Dashboard(page="data")
    app.upload("points.txt", _points(MAX_POINTS_2D + 1), kind="points")
    [error] = app.errors
    assert f"at most {MAX_POINTS_2D:,}" in error and app.dataset != "upload"


def test_more_rows_than_the_image_can_draw_are_refused_after_parsing_saying_why():
    app = Dashboard(page="data")
    app.upload("tall.txt", b"1 2 3\n" * (MAX_ROWS + 1))
    [error] = app.errors
    assert f"{MAX_ROWS + 1:,} x 3; the dashboard takes at most {MAX_ROWS:,} rows" in error and "image" in error


def test_model_selection_on_100000_points_waits_for_the_click():
    # 100,000 x 2 = 200,000 values: the old guard (X.size > 200_000) let it run for minutes
    app = Dashboard(em_k=2)
    app.upload("points.txt", _points(100_000), kind="points")
    app.open("model_selection")
    assert "ms_run" in app.widget_keys() and not app.at.success
    assert any("take a while" in info and f"{FREE_SWEEP_COST:,}" in info for info in app.infos)


def test_held_out_scoring_stays_off_without_gold_when_it_would_be_expensive():
    rng = np.random.default_rng(0)
    M = rng.integers(0, 6, size=(400, 1000))
    M[:, 0] = 3  # every user has a rating
    app = Dashboard(em_k=3)
    app.upload("wide.txt", "\n".join(" ".join(map(str, row)) for row in M).encode())
    app.open("completion")
    assert app.at.toggle(key="cmp_holdout").value is False
    assert "cmp_holdout_fraction" not in app.widget_keys()  # nothing was fitted


def test_held_out_scoring_still_starts_by_itself_on_a_small_matrix_without_gold():
    app = Dashboard(em_k=2)
    app.upload("small.txt", b"1 2 0 4\n0 4 5 1\n3 0 2 5\n5 1 0 2\n2 2 3 0\n")
    app.open("completion")
    assert app.at.toggle(key="cmp_holdout").value is True


# ------------------------------------------------------------------ uploads are per session


def test_two_sessions_uploading_the_same_bytes_share_no_cache_key():
    keys = []
    for _ in range(2):
        app = Dashboard(page="data", em_k=1)
        app.upload("same.txt", b"1 2 0\n0 4 5\n")
        keys.append(app.at.session_state["uploaded"]["digest"])
    assert keys[0] != keys[1]


def test_the_upload_store_keeps_its_byte_budget_least_recently_used_first():
    dataset = load_dataset("demo-small")  # 20 x 5 floats and the gold: 1,600 bytes
    store = session.UploadStore(budget=2 * session.UploadStore.size(dataset))
    store.put("a", dataset)
    store.put("b", dataset)
    assert store.get("a") is dataset  # a is now the most recently used
    store.put("c", dataset)
    assert store.get("b") is None and store.get("a") is dataset and store.get("c") is dataset
    assert store.nbytes <= store.budget


# ------------------------------------------------------------------ EM_DATA_DIR


def test_folders_that_do_not_exist_are_reported_once_in_the_sidebar(monkeypatch, tmp_path):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("EM_DATA_DIR", os.pathsep.join([str(tmp_path), str(missing)]))
    app = Dashboard(page="data")
    warnings = [w.value for w in app.at.sidebar.warning]
    # the path as the sidebar shows it: cut at MAX_SHOWN_CHARS (pytest-xdist's workers make tmp_path longer)
    assert len(warnings) == 1 and clip(missing) in warnings[0].replace("\\", "")


def test_the_course_sets_cache_key_names_every_folder(monkeypatch, tmp_path):
    first = str(tmp_path)
    monkeypatch.setenv("EM_DATA_DIR", os.pathsep.join([first, str(tmp_path / "a")]))
    before = session.folders_key()
    monkeypatch.setenv("EM_DATA_DIR", os.pathsep.join([first, str(tmp_path / "b")]))
    assert session.folders_key() != before and str(tmp_path / "b") in session.folders_key()


# ------------------------------------------------------------------ the same link in a real browser


@pytest.fixture(scope="module")
def app_server():
    """``streamlit run app.py`` on a free port of 127.0.0.1 for this module's browser test."""
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    with StreamlitServer() as server:
        yield server


@pytest.mark.browser
def test_a_crafted_link_renders_no_link_and_loads_no_image_in_the_browser(app_server, page):
    requested = []
    page.on("request", lambda request: requested.append(request.url))
    app = AppPage(page, app_server.url)
    app.goto("/?" + urlencode({"dataset": CRAFTED}))
    app.wait_opened("Data", status=False)
    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_contain_text("Click here", timeout=app.timeout_ms)
    expect(page.locator("a[href*='evil']")).to_have_count(0)
    expect(page.locator("img[src*='evil']")).to_have_count(0)
    assert not [url for url in requested if "evil" in url.split("?")[0]]


def test_check_your_numbers_on_a_large_matrix_waits_for_the_click():
    rng = np.random.default_rng(0)
    M = rng.integers(1, 6, size=(2000, 300))
    app = Dashboard(em_k=100)  # 600,000 values x K = 100: 60,000,000
    app.upload("large.txt", "\n".join(" ".join(map(str, row)) for row in M).encode())
    app.open("check_numbers")
    assert "check_run" in app.widget_keys() and not app.at.code
    assert any(f"{FREE_REPORT_COST:,}" in info for info in app.infos)


# ------------------------------------------------------------------ figures draw a bounded number of points


def test_the_sample_keeps_each_components_share_is_seeded_and_exactly_the_limit():
    rng = np.random.default_rng(1)
    labels = rng.choice(3, size=50_000, p=[0.7, 0.25, 0.05])
    post = np.eye(3)[labels]
    drawn = drawn_points(50_000, post, limit=1_000)
    assert drawn.size == 1_000 and np.unique(drawn).size == 1_000
    shares = np.bincount(labels[drawn], minlength=3) / 1_000
    assert np.allclose(shares, np.bincount(labels) / 50_000, atol=1e-3)  # largest-remainder rounding
    assert np.array_equal(drawn, drawn_points(50_000, post, limit=1_000))  # the same on every rerun
    assert np.array_equal(drawn_points(999, post[:999], limit=1_000), np.arange(999))  # under the limit: all


def _drawn(figure: dict) -> int:
    """The markers of the points trace (the one trace with more than a handful of points)."""
    return max(len(trace.get("x", ())) for trace in figure["data"])


def _notes(figure: dict) -> list[str]:
    return [a["text"] for a in figure["layout"].get("annotations", ()) if a.get("name") == "sample_note"]


def test_200000_points_are_accepted_and_every_page_draws_a_sample_saying_so():
    app = Dashboard(em_k=3)
    app.upload("many.txt", _points(200_000), kind="points")
    assert app.dataset == "upload"
    note = f"showing {MAX_DRAWN_POINTS:,} of 200,000 points"
    for page, key in [("data", "data_points"), ("kmeans", "km_points"), ("em2d", "em2d_points")]:
        app.open(page)
        figure = app.figure(key)
        assert _drawn(figure) == MAX_DRAWN_POINTS, page
        assert [text.startswith(note) for text in _notes(figure)] == [True], page
    app.click("em2d_step")
    assert _drawn(app.figure("em2d_points")) == MAX_DRAWN_POINTS


def test_a_small_data_set_draws_every_point_and_no_note():
    figure = Dashboard("demo-2d", page="em2d").figure("em2d_points")
    assert _drawn(figure) == load_dataset("demo-2d").X.shape[0] and _notes(figure) == []
