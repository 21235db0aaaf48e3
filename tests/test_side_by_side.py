"""The K-means beside EM page (AppTest): one set of controls steps both fits; numbers against em_core.

The reference is each algorithm stepped on its own (em_core.kmeans / em_core.naive_em through
em_core.stepping) from em_core's initial mixture, not the page's em_core.lockstep.
"""

from __future__ import annotations

import numpy as np
import pytest

from em_core import kmeans, naive_em
from em_core.data import load_dataset
from em_core.initialisation import initial_mixture
from tests.apptest_helpers import Dashboard
from tests.lockstep_reference import disagreements, separate_runs

DIFFER = "Points that disagree"


def mean_markers(figure: dict) -> np.ndarray:
    """The (K, 2) means a scatter draws: its traces with the x marker, in order."""
    traces = [t for t in figure["data"] if t.get("marker", {}).get("symbol") == "x"]
    return np.array([[t["x"][0], t["y"][0]] for t in traces])


def pair(app: Dashboard):
    return app.at.session_state["side_by_side"].pair


@pytest.mark.parametrize("start,seed", [("course", 0), ("kmeans++", 2)])
def test_step_both_matches_em_core_on_the_same_points(start, seed):
    app = Dashboard(page="side_by_side", em_seed=seed)
    app.at.radio(key="sbs_start").set_value(start)
    app.run()
    X = load_dataset("demo-2d").X
    for _ in range(3):
        app.click("sbs_step")
    km, em = separate_runs(X, 4, seed, start, 3)
    assert pair(app).kmeans.scores == km.scores and pair(app).em.scores == em.scores
    np.testing.assert_allclose(mean_markers(app.figure("sbs_kmeans")), km.mixture.mu, rtol=1e-12)
    np.testing.assert_allclose(mean_markers(app.figure("sbs_em")), em.mixture.mu, rtol=1e-12)
    assert app.figure("sbs_cost")["data"][0]["y"] == pytest.approx(list(km.scores))
    assert app.figure("sbs_ll")["data"][0]["y"] == pytest.approx(list(em.scores))
    assert app.metrics()[DIFFER] == str(disagreements(km, em))


def test_scrub_shows_an_earlier_step_and_reset_starts_again():
    app = Dashboard(page="side_by_side")
    X = load_dataset("demo-2d").X
    for _ in range(4):
        app.click("sbs_step")
    app.at.slider(key="sbs_view").set_value(1)
    app.run()
    km, em = separate_runs(X, 4, 0, "course", 1)
    np.testing.assert_allclose(mean_markers(app.figure("sbs_em")), em.mixture.mu, rtol=1e-12)
    assert app.metrics()[DIFFER] == str(disagreements(km, em))
    assert pair(app).iteration == 4  # scrubbing back keeps the fits where they are
    app.click("sbs_reset")
    assert pair(app).iteration == 0 and DIFFER not in app.metrics()


def test_both_run_to_their_own_convergence():
    app = Dashboard(page="side_by_side")
    X = load_dataset("demo-2d").X
    while not app.button("sbs_step").disabled:
        app.click("sbs_step")
    _, _, cost = kmeans.run(X, *initial_mixture(X, 4, 0))
    _, _, ll = naive_em.run(X, *initial_mixture(X, 4, 0))
    assert pair(app).kmeans.score == cost and pair(app).em.score == pytest.approx(ll, rel=1e-12)
    status = [m.value for m in app.at.markdown if m.value.startswith("**Step ")]
    assert status == [
        f"**Step {pair(app).em.iteration}** · K-means converged after {pair(app).kmeans.iteration} · "
        f"EM converged after {pair(app).em.iteration}"
    ]


def test_placed_means_start_both_and_none_placed_says_where_to_place_them():
    app = Dashboard(page="side_by_side")
    app.at.radio(key="sbs_start").set_value("hand")
    app.run()
    assert app.infos == ["0 means are placed and K is 4: place 4 on the page Your own points"]
    means = np.array([[-4.0, 3.0], [4.0, 3.0], [0.0, -3.0], [4.0, -1.0]])
    app.at.session_state["user_points_state"] = app.at.session_state["user_points_state"]._replace(means=means)
    app.run()
    X = load_dataset("demo-2d").X
    app.click("sbs_step")
    km, em = separate_runs(X, 4, 0, means, 1)
    assert pair(app).kmeans.scores == km.scores and pair(app).em.scores == em.scores
    app.at.session_state["user_points_state"] = app.at.session_state["user_points_state"]._replace(means=means[:3])
    app.run()
    assert app.infos == ["3 means are placed and K is 4: place 4 on the page Your own points, or set K to 3"]


def test_play_steps_both_on_each_rerun_until_both_converge():
    # AppTest does not fire the fragment's timer; each rerun stands for one tick
    app = Dashboard(page="side_by_side")
    app.click("sbs_play")
    assert app.button("sbs_play").label == "Pause" and pair(app).iteration == 1
    app.click("sbs_play")  # Pause
    app.run()
    assert pair(app).iteration == 1
    app.click("sbs_play")
    for _ in range(200):
        if not app.at.session_state["side_by_side"].playing:
            break
        app.run()
    assert pair(app).converged and app.button("sbs_play").label == "Play" and app.button("sbs_play").disabled
    X = load_dataset("demo-2d").X
    km, em = separate_runs(X, 4, 0, "course", pair(app).iteration)
    assert pair(app).kmeans.scores == km.scores and pair(app).em.scores == em.scores
