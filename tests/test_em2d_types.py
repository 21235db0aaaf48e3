"""The 2-D EM page's covariance types and starts, and model selection across types, through AppTest against em_core.

References are computed here with em_core's E- and M-steps called directly (not the page's stepping module),
em_core.ellipses for the drawn geometry, and em_core's workflows (compare_starts, select_covariance) for the
tables.
"""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import covariance_views
from em_core import builtin, covariance_em, export, naive_em, scenarios
from em_core.covariance_em import with_covariance_type
from em_core.covariance_selection import select_covariance
from em_core.ellipses import sigma_ellipses
from em_core.initialisation import initial_mixture
from em_core.start_comparison import compare_starts, gaps_to_best
from tests.apptest_helpers import Dashboard

# the page runs the same em_core functions in the same order; room for BLAS summation order only
RTOL = 1e-10
# the status line prints 6 decimals
SHOWN = 5.1e-7


def reference_steps(X, K: int, seed: int, covariance_type: str, n_steps: int, init_with="course"):
    """The mixture and LL after each of ``n_steps`` iterations, from em_core's steps called directly."""
    mixture, _ = initial_mixture(X, K, seed, init_with)
    mixture = with_covariance_type(mixture, covariance_type)
    scores = []
    for _ in range(n_steps):
        if covariance_type == "spherical":
            post, ll = naive_em.estep(X, mixture)
            mixture = naive_em.mstep(X, post, mixture)
        else:
            post, ll = covariance_em.estep(X, mixture)
            mixture = covariance_em.mstep(X, post, mixture, covariance_type)
        scores.append(ll)
    return mixture, scores


def open_em2d(dataset: str, covariance_type: str = "spherical", init: str = "course") -> Dashboard:
    app = Dashboard(dataset, page="em2d")
    if covariance_type != "spherical":
        app.at.radio(key="em2d_cov").set_value(covariance_type)
        app.run()
    if init != "course":
        app.at.radio(key="em2d_init_choice").set_value(init)
        app.run()
    return app


@pytest.mark.parametrize("covariance_type", covariance_em.COVARIANCE_TYPES)
def test_each_type_steps_to_em_cores_numbers_on_demo_2d(covariance_type):
    app = open_em2d("demo-2d", covariance_type)
    status = app.status()
    assert status.initial and "the course's init" in status.text
    assert ("covariances" in status.text) == (covariance_type != "spherical")
    assert app.step("em2d", 3) == 3
    X = builtin.blobs_2d()
    expected, scores = reference_steps(X, 4, 0, covariance_type, 3)
    shown = app.fit("em2d").state
    assert covariance_em.covariance_type_of(shown.mixture) == covariance_type
    np.testing.assert_allclose(shown.mixture.mu, expected.mu, rtol=RTOL)
    np.testing.assert_allclose(shown.mixture.p, expected.p, rtol=RTOL)
    spread = expected.var if covariance_type == "spherical" else expected.cov
    np.testing.assert_allclose(shown.mixture.var if covariance_type == "spherical" else shown.mixture.cov, spread)
    assert app.status().score == pytest.approx(scores[-1], abs=SHOWN)
    # the parameter table shows the covariance as the type has it
    table = app.at.dataframe[0].value
    columns = {"spherical": ["var", "sigma"], "diag": ["var[1]", "var[2]"], "full": ["var[1]", "var[2]", "cov[1,2]"]}
    assert set(columns[covariance_type]) <= set(table.columns)
    if covariance_type == "full":
        np.testing.assert_allclose(table["cov[1,2]"], expected.cov[:, 0, 1], rtol=1e-9)
    if covariance_type == "diag":
        np.testing.assert_allclose(table[["var[1]", "var[2]"]].to_numpy(), expected.cov, rtol=1e-9)
    # the mixture download is offered for every type, a diag or full one with its covariances, read back exactly
    [mixture_file] = [f for f in app.at.session_state["em2d_files"] if f.key == "mixture_json"]
    back, _ = export.read_mixture_json(mixture_file.make())
    np.testing.assert_array_equal(back.mu, shown.mixture.mu)
    if covariance_type != "spherical":
        np.testing.assert_array_equal(back.cov, shown.mixture.cov)


@pytest.mark.parametrize("covariance_type", ["spherical", "full"])
def test_the_drawn_ellipses_are_em_cores_ellipses_of_the_shown_mixture(covariance_type):
    app = open_em2d("scenario-long-thin", covariance_type)
    app.step("em2d", 4)
    mixture = app.fit("em2d").state.mixture
    figure = app.figure("em2d_points")
    traces = {trace.get("name"): trace for trace in figure["data"]}
    for level in (1, 2):
        shapes = sigma_ellipses(mixture, level)
        for j in range(mixture.n_components):
            trace = traces[f"j={j + 1} {level}σ"]
            drawn = np.column_stack([trace["x"], trace["y"]])
            np.testing.assert_allclose(drawn, shapes.outline(j, len(drawn)), rtol=1e-9, atol=1e-12)
            # every drawn point is at Mahalanobis distance `level` from the mean, and the farthest
            # (the outline's first point) lies on the major axis: sqrt of the covariance's largest eigenvalue
            cov = covariance_em.covariance_matrices(mixture)[j]
            centred = drawn - mixture.mu[j]
            mahalanobis = np.sqrt(np.einsum("ij,jk,ik->i", centred, np.linalg.inv(cov), centred))
            np.testing.assert_allclose(mahalanobis, level, rtol=1e-9)
            half_axes = np.sqrt(np.linalg.eigvalsh(cov))[::-1] * level
            assert np.linalg.norm(centred, axis=1).max() == pytest.approx(half_axes[0], rel=1e-9)
            if covariance_type == "spherical":
                assert half_axes[0] == pytest.approx(half_axes[1])


def test_full_follows_the_long_thin_cluster_where_spherical_cannot():
    full, spherical = open_em2d("scenario-long-thin", "full"), open_em2d("scenario-long-thin")
    for app in (full, spherical):
        app.click("em2d_run")
        assert app.status().converged
    assert full.status().score > spherical.status().score + 200
    table = full.at.dataframe[0].value
    long = table.loc[table["1σ major"].idxmax()]
    assert long["angle (°)"] == pytest.approx(30, abs=3) and long["1σ major"] > 5 * long["1σ minor"]


def test_kmeans_plus_plus_start_is_em_cores_and_the_link_keeps_type_and_start():
    app = open_em2d("demo-2d", "diag", "kmeans++")
    assert "k-means++, diag covariances" in app.status().text
    X = builtin.blobs_2d()
    expected, _ = reference_steps(X, 4, 0, "diag", 0, init_with="kmeans++")
    np.testing.assert_allclose(app.fit("em2d").state.mixture.mu, expected.mu, rtol=RTOL)
    assert app.at.query_params["cov"] == "diag" and app.at.query_params["init"] == "kmeans++"
    linked = Dashboard(page="em2d", link={"dataset": "demo-2d", "cov": "diag", "init": "kmeans++", "it": "2"})
    assert linked.at.radio(key="em2d_cov").value == "diag"
    assert linked.at.radio(key="em2d_init_choice").value == "kmeans++"
    assert linked.fit("em2d").state.iteration == 2
    expected, _ = reference_steps(X, 4, 0, "diag", 2, init_with="kmeans++")
    np.testing.assert_allclose(linked.fit("em2d").state.mixture.cov, expected.cov, rtol=RTOL)


def test_a_link_with_an_unknown_covariance_type_says_so_and_uses_the_course_model():
    app = Dashboard(page="em2d", link={"dataset": "demo-2d", "cov": "banana"})
    warnings = [w.value for w in app.at.warning]
    assert any("cov='banana' is not one of spherical, diag, full" in w for w in warnings), warnings
    assert app.at.radio(key="em2d_cov").value == "spherical"


def test_hand_placed_start_is_offered_only_with_k_placed_means(monkeypatch):
    app = open_em2d("demo-2d")
    assert app.at.radio(key="em2d_init_choice").options == ["the course's init", "k-means++"]
    assert any("place K = 4 means on the page 'Your own points'" in caption for caption in app.captions)
    means = np.array([[-3.0, 2.0], [2.0, 3.0], [0.0, -2.0], [4.0, -1.0]])
    monkeypatch.setattr(covariance_views, "placed_means", lambda: means)
    app.run()
    app.at.radio(key="em2d_init_choice").set_value("hand")
    app.run()
    assert "your placed means" in app.status().text
    np.testing.assert_array_equal(app.fit("em2d").state.mixture.mu, means)
    app.step("em2d", 2)
    expected, _ = reference_steps(builtin.blobs_2d(), 4, 0, "spherical", 2, init_with=means)
    np.testing.assert_allclose(app.fit("em2d").state.mixture.mu, expected.mu, rtol=RTOL)


def test_compare_starts_shows_em_cores_final_log_likelihoods():
    app = open_em2d("scenario-outlier", "spherical")
    assert len(app.at.dataframe) == 1  # nothing runs before the click
    app.click("em2d_compare")
    table = app.at.dataframe[1].value
    X = scenarios.draw("scenario-outlier").X
    runs = compare_starts(X, 2, "spherical")
    assert list(table["start"]) == [run.label for run in runs]
    assert list(table["start"])[:2] == ["course, seed 0", "course, seed 1"] and "kmeans++, seed 4" in list(
        table["start"]
    )
    np.testing.assert_allclose(table["final log-likelihood"], [run.log_likelihood for run in runs], rtol=RTOL)
    assert list(table["iterations"]) == [run.iterations for run in runs]
    np.testing.assert_allclose(table["below the best"], gaps_to_best(runs), rtol=RTOL, atol=1e-12)


def test_model_selection_compares_bic_across_types_as_em_core_does():
    app = Dashboard("scenario-long-thin", page="model_selection")
    ks, seeds = list(range(1, app.at.slider(key="ms_kmax").value + 1)), list(range(app.at.slider(key="ms_seeds").value))
    X = scenarios.draw("scenario-long-thin").X
    selection = select_covariance(X, ks, seeds)
    table = app.at.dataframe[1].value
    assert list(table["covariance"]) == [row.covariance_type for row in selection.rows]
    assert list(table["parameters"]) == [
        covariance_em.n_parameters(row.k, 2, row.covariance_type) for row in selection.rows
    ]
    np.testing.assert_allclose(table["BIC"], [row.bic for row in selection.rows], rtol=RTOL)
    starred = table[table["best"] == "★"]
    assert len(starred) == 1 and (starred["covariance"].item(), starred["K"].item()) == ("full", 2)
    assert selection.best.covariance_type == "full" and selection.best.k == 2
    assert any("Best by BIC: **full** covariances with **K = 2**" in m.value for m in app.at.markdown)


def test_half_steps_and_scrubbing_back_show_em_cores_full_mixture():
    app = open_em2d("scenario-long-thin", "full")
    app.click("em2d_estep")
    assert app.status().half_step
    app.click("em2d_mstep")
    app.step("em2d", 2)
    assert app.status().iteration == 3
    app.scrub("em2d", 1)
    X = scenarios.draw("scenario-long-thin").X
    expected, _ = reference_steps(X, 2, 0, "full", 1)
    table = app.at.dataframe[0].value
    np.testing.assert_allclose(table[["var[1]", "var[2]"]].to_numpy(), np.diagonal(expected.cov, axis1=1, axis2=2))
    np.testing.assert_allclose(table["cov[1,2]"], expected.cov[:, 0, 1], rtol=1e-9)
    assert app.figure("em2d_points")["layout"]["title"]["text"].startswith("Iteration 1")
