"""Issue 11's small page fixes, in AppTest: model selection's caption, star and button; the completion page's
out-of-range predictions and its explanation; the PCA map's labels on a small matrix; Play by half-steps."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image

from dashboard import matrix_figures
from dashboard.limits import FREE_SWEEP_COST
from em_core import diagnostics, init, stepping
from em_core.data import load_dataset
from em_core.experiment import algorithm_for
from tests.apptest_helpers import Dashboard
from tests.helpers import random_ratings

SMALL_SWEEP = {"ms_kmax": 3, "ms_seeds": 1}


def _matrix_file(X: np.ndarray) -> bytes:
    return "\n".join(" ".join(f"{v:g}" for v in row) for row in X).encode()


def _model_selection(dataset: str | None = None, **widgets) -> Dashboard:
    app = Dashboard(dataset)
    for key, value in widgets.items():
        app.at.session_state[key] = value
    return app.open("model_selection")


def test_model_selection_caption_allows_the_curve_to_drop():
    # its own chart can drop from one K to the next (each K's best seed is a local optimum)
    app = _model_selection("demo-2d", **SMALL_SWEEP)
    text = " ".join(app.captions)
    assert "always fit" not in text
    assert "local optimum" in text and "drop" in text


def test_model_selection_star_only_on_the_bic_panel():
    app = _model_selection("demo-2d", **SMALL_SWEEP)
    figure = app.figure("ms_figure")
    titles = [a["text"] for a in figure["layout"]["annotations"]]
    assert titles[-1] == "BIC"  # the third, lowest panel (y3)
    stars = [t for t in figure["data"] if t.get("marker", {}).get("symbol") == "star"]
    assert [t.get("yaxis") for t in stars] == [f"y{len(titles)}"], stars
    bic = [t for t in figure["data"] if t.get("name") == "BIC"][0]
    best = int(stars[0]["x"][0])
    assert stars[0]["y"][0] == max(bic["y"]) == bic["y"][list(bic["x"]).index(best)]


def test_model_selection_button_and_notice_go_once_the_results_show():
    # 600 x 1,200 ratings, K = 1..2, one seed: 720,000 values x 3 > FREE_SWEEP_COST, so the page asks first
    X = random_ratings(600, 1200, missing=0.5, seed=0)
    assert X.size * 3 > FREE_SWEEP_COST
    app = Dashboard(em_k=2)
    app.upload("ratings.txt", _matrix_file(X))
    app.at.session_state["ms_kmax"] = 2
    app.at.session_state["ms_seeds"] = 1
    app.open("model_selection")
    assert "ms_run" in app.widget_keys() and any("take a while" in info for info in app.infos)
    app.click("ms_run")
    assert app.at.success, "the results show"
    assert "ms_run" not in app.widget_keys()
    assert not any("take a while" in info for info in app.infos)


# ---------------------------------------------------------------- completion: out of range, and why it loses


def _em_state(X: np.ndarray, K: int, seed: int, steps: int | None):
    """em_core's fit as the matrix page runs it: the course's init, then ``steps`` Steps (None: to convergence)."""
    mixture, post = init(X, K, seed)
    state = stepping.start(mixture, post)
    algo = algorithm_for("em")
    if steps is None:
        return mixture, stepping.run(algo, X, state)
    for _ in range(steps):
        state = stepping.step(algo, X, state)
    return mixture, state


def _outside_cells(figure: dict) -> set[tuple[int, int]]:
    """(user, item), numbered from 1, of the cells the completed image draws in the out-of-range colour."""
    [layer] = [t for t in figure["data"] if t.get("name") == matrix_figures.OUTSIDE_NAME and t["type"] == "heatmap"]
    return {(i + 1, j + 1) for i, row in enumerate(layer["z"]) for j, v in enumerate(row) if v is not None}


def test_completion_counts_and_colours_the_predictions_outside_the_rating_range():
    # demo-small's course init takes rows with zeros as means: iteration 0 predicts below 1 for a few entries
    app = Dashboard("demo-small", page="completion")
    dataset = load_dataset("demo-small")
    initial, state = _em_state(dataset.X, app.at.session_state["em_k"], app.at.session_state["em_seed"], 0)
    report = diagnostics.collapse_report(dataset.X, state.mixture, initial, 0.25)
    assert report.n_out_of_range > 0
    assert app.metrics()["Outside 1–5"] == f"{report.n_out_of_range:,}"
    want = {(int(i) + 1, int(j) + 1) for i, j in zip(*np.nonzero(report.out_of_range), strict=True)}
    assert _outside_cells(app.figure("cmp_completed")) == want
    names = [t.get("name") for t in app.figure("cmp_completed")["data"]]
    assert matrix_figures.OUTSIDE_NAME in names  # its legend swatch


def test_completion_says_why_the_mixture_loses_to_the_user_mean_with_em_cores_numbers():
    # 40 x 10, 70 % missing, K = 6: a component collapses, its kept zeros fall outside 1-5
    X = random_ratings(40, 10, missing=0.7, seed=0)
    gold = random_ratings(40, 10, missing=0.0, seed=100)
    gold[X != 0] = X[X != 0]
    app = Dashboard(em_k=6, em_seed=0)
    app.upload("x.txt", _matrix_file(X), "gold.txt", _matrix_file(gold))
    app.open("matrix").click("emx_run")
    initial, state = _em_state(X, 6, 0, None)
    assert app.fit("matrix").state.iteration == state.iteration
    app.open("completion")
    report = diagnostics.collapse_report(X, state.mixture, initial, 0.25)
    versus = diagnostics.compare_with_user_mean(X, gold, report)
    assert report.collapsed and versus.mixture_loses
    warnings = [w.value for w in app.at.warning]
    assert "**Why the mixture loses to the user mean here.** " + versus.sentence in warnings
    assert all(line in warnings for line in report.sentences())
    assert app.metrics()["Outside 1–5"] == f"{report.n_out_of_range:,}"


def test_a_large_completed_image_paints_the_outside_cells_red_and_missing_grey():
    # more cells than a heatmap takes: one palette PNG, where "outside" must not be the colourscale's end colour
    rng = np.random.default_rng(0)
    M = rng.uniform(-1.0, 7.0, size=(150, 150))
    outside = (M < 1.0) | (M > 5.0)
    missing = rng.random((150, 150)) < 0.1
    assert M.size > matrix_figures.HEATMAP_MAX_CELLS
    fig = matrix_figures.matrix_image(M, missing, title="Completed", outside=outside)
    source = fig.data[0].source
    pixels = np.asarray(Image.open(io.BytesIO(base64.b64decode(source.split(",", 1)[1]))).convert("RGB"))
    red = np.array([int(matrix_figures.OUTSIDE_COLOR[i : i + 2], 16) for i in (1, 3, 5)])
    is_red = (pixels == red).all(axis=2)
    assert (is_red == (outside & ~missing)).all()
    assert {t.name for t in fig.data} >= {"missing", matrix_figures.OUTSIDE_NAME}


# ---------------------------------------------------------------- Play by half-steps


def _points_title(app: Dashboard) -> str:
    return app.figure("em2d_points")["layout"]["title"]["text"]


def test_play_by_half_steps_alternates_e_and_m_steps_and_matches_em_core():
    # AppTest does not fire the fragment's timer; each rerun stands for one tick
    app = Dashboard("demo-2d", page="em2d")
    app.set_toggle("em2d_play_halves", True)
    app.click("em2d_play")
    titles = [_points_title(app)]
    for _ in range(3):
        app.run()
        titles.append(_points_title(app))
    assert [title.split(" — ")[0] for title in titles] == ["Iteration 1", "Iteration 1", "Iteration 2", "Iteration 2"]
    assert ["E-step" in title for title in titles] == [True, False, True, False], titles
    assert ["M-step" in title for title in titles] == [False, True, False, True], titles
    state = app.fit("em2d").state
    dataset = load_dataset("demo-2d")
    _, want = _em_state_2d(dataset.X, app.at.session_state["em_k"], app.at.session_state["em_seed"], 2)
    assert state.iteration == want.iteration == 2
    np.testing.assert_allclose(state.mixture.mu, want.mixture.mu, rtol=1e-12)


def test_play_without_the_toggle_still_takes_whole_steps():
    app = Dashboard("demo-2d", page="em2d")
    app.click("em2d_play")
    app.run()
    assert app.fit("em2d").state.iteration == 2 and "M-step" in _points_title(app)


def _em_state_2d(X: np.ndarray, K: int, seed: int, steps: int):
    mixture, post = init(X, K, seed)
    state = stepping.start(mixture, post)
    algo = algorithm_for("naive-em")
    for _ in range(steps):
        state = stepping.step(algo, X, state)
    return mixture, state
