"""Issue 11's small page fixes, in AppTest: model selection's caption, star and button; the completion page's
out-of-range predictions and its explanation; the PCA map's labels on a small matrix; Play by half-steps."""

from __future__ import annotations

import numpy as np

from dashboard.limits import FREE_SWEEP_COST
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
