"""EM options for real rating data: off by default (the course's numbers), each checked against a plain
reference, the same numbers on the dense and the CSR form, and bad settings refused in one line."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from em_core import em, experiment
from em_core.baselines import fit_biases
from em_core.errors import DataError
from em_core.holdout import hide, holdout_rmse
from em_core.mixture import GaussianMixture, init, rmse
from em_core.real_data_options import (
    COURSE,
    DEFAULT_PRIOR_STRENGTH,
    RESIDUAL_ZERO,
    EMOptions,
    complete,
    fit,
    item_mean_start,
    item_means,
    parse_variant,
    residual_matrix,
    shrunk_mstep,
    standard_variants,
    variants_with,
)
from tests.helpers import random_ratings
from tests.solutions import load_solutions

#: Dense and sparse sum in different orders; everything a user reads agrees to this.
RTOL = 1e-9

ALL_ON = EMOptions(item_mean_start=True, residuals=True, prior_strength=3.0)


def sparse_ratings(n=60, d=40, missing=0.8, seed=0):
    """Ratings 1-5, mostly missing, with a user who rated nothing and an item nobody rated."""
    X = random_ratings(n, d, missing, seed)
    X[3] = 0.0
    X[:, 5] = 0.0
    return X


# ---------------------------------------------------------------- off by default: the course's EM


def test_default_options_are_the_course():
    assert EMOptions() == COURSE and COURSE.is_course and COURSE.name == "course"
    assert [v.name for v in standard_variants(2.0)] == [
        "course",
        "item-mean-start",
        "residuals",
        "prior",
        "item-mean-start+residuals+prior",
    ]


def test_course_options_give_experiment_fits_numbers_bit_for_bit():
    X = sparse_ratings()
    ours = fit(X, 4, 2)
    theirs = experiment.fit(X, "em", 4, 2)
    for a, b in zip(ours.mixture, theirs.mixture, strict=True):
        np.testing.assert_array_equal(a, b)
    assert ours.log_likelihood == theirs.score and ours.iterations == theirs.iterations
    np.testing.assert_array_equal(complete(X, ours), em.fill_matrix(X, theirs.mixture))


@pytest.mark.course
def test_course_options_reproduce_test_solutions(course_matrix, course_dir):
    expected = load_solutions(course_dir / "test_solutions.txt")["After a run"]
    X = course_matrix("test_incomplete.txt")
    result = fit(X, 4, 0, COURSE)
    assert result.log_likelihood == pytest.approx(expected["LL"], rel=0, abs=1e-6)
    X_pred = complete(X, result)
    np.testing.assert_allclose(X_pred, expected["X_pred"], rtol=0, atol=1e-6)
    assert rmse(course_matrix("test_complete.txt"), X_pred) == pytest.approx(expected["RMSE"], abs=1e-6)


# ---------------------------------------------------------------- each option against a plain reference


def test_item_mean_start_fills_the_drawn_rows_missing_coordinates_with_item_means():
    X = sparse_ratings()
    course, _ = init(X, 5, 7)
    mixture, post = item_mean_start(X, 5, 7)
    rated = course.mu != 0
    np.testing.assert_array_equal(mixture.mu[rated], course.mu[rated])  # the course's rows, as drawn
    for j, i in zip(*np.nonzero(~rated), strict=True):
        column = X[:, i][X[:, i] != 0]
        assert mixture.mu[j, i] == pytest.approx(column.mean() if column.size else X[X != 0].mean(), rel=1e-14)
    # variance: mean squared distance over the observed entries only
    observed = X != 0
    for j in range(5):
        expected = (((X - mixture.mu[j]) ** 2) * observed).sum() / observed.sum()
        assert mixture.var[j] == pytest.approx(expected, rel=1e-12)
    np.testing.assert_array_equal(post, np.full((X.shape[0], 5), 0.2))


def test_residual_matrix_subtracts_the_biases_and_completion_adds_them_back():
    X = sparse_ratings()
    biases = fit_biases(X)
    R = residual_matrix(X, biases)
    rows, cols = np.nonzero(X)
    expected = X[rows, cols] - (biases.global_mean + biases.user[rows] + biases.item[cols])
    np.testing.assert_allclose(R[rows, cols], np.where(expected == 0, RESIDUAL_ZERO, expected), rtol=0, atol=1e-15)
    assert np.array_equal(R != 0, X != 0)  # the same entries are observed
    result = fit(X, 3, 0, EMOptions(residuals=True))
    post, _ = em.estep(R, result.mixture)
    bias_part = biases.global_mean + biases.user[:, None] + biases.item[None, :]
    expected = np.clip(bias_part + post @ result.mixture.mu, 1.0, 5.0)  # clipped to the ratings' range, 1..5
    assert ((bias_part + post @ result.mixture.mu) > 5.0).any()  # (this test sees the clip at work)
    np.testing.assert_allclose(complete(X, result), np.where(X != 0, X, expected))


def reference_shrunk_means(X, post, strength):
    """The MAP means by loops: (sum_u p x + lambda c_i) / (sum_u p [observed] + lambda)."""
    n, d = X.shape
    K = post.shape[1]
    observed = X != 0
    centre = np.array([X[observed[:, i], i].mean() if observed[:, i].any() else X[observed].mean() for i in range(d)])
    mu = np.empty((K, d))
    for j in range(K):
        for i in range(d):
            weights = post[observed[:, i], j]
            mu[j, i] = (weights @ X[observed[:, i], i] + strength * centre[i]) / (weights.sum() + strength)
    return mu


@pytest.mark.parametrize("strength", [0.5, 20.0])
def test_shrunk_mstep_means_match_the_formula(strength):
    X = sparse_ratings()
    mixture, _ = init(X, 4, 1)
    post, _ = em.estep(X, mixture)
    new = shrunk_mstep(X, post, mixture, strength)
    np.testing.assert_allclose(new.mu, reference_shrunk_means(X, post, strength), rtol=1e-12)
    # an item nobody rated sits at the global mean; weights are the course's
    np.testing.assert_allclose(new.mu[:, 5], X[X != 0].mean(), rtol=1e-12)
    np.testing.assert_allclose(new.p, post.sum(axis=0) / X.shape[0], rtol=1e-14)
    # the variance is the course's formula around the new means, floored at 0.25
    observed = X != 0
    for j in range(4):
        sse = sum(post[u, j] * (((X[u] - new.mu[j]) ** 2)[observed[u]]).sum() for u in range(X.shape[0]))
        expected = max(sse / (post[:, j] @ observed.sum(axis=1)), 0.25)
        assert new.var[j] == pytest.approx(expected, rel=1e-10)


def test_shrunk_mstep_with_strength_zero_is_the_course_mstep():
    X = sparse_ratings()
    mixture, _ = init(X, 4, 1)
    post, _ = em.estep(X, mixture)
    for a, b in zip(shrunk_mstep(X, post, mixture, 0.0), em.mstep(X, post, mixture), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_strong_prior_pulls_every_mean_to_the_item_means():
    X = sparse_ratings()
    result = fit(X, 3, 0, EMOptions(prior_strength=1e9))
    np.testing.assert_allclose(result.mixture.mu, np.broadcast_to(item_means(X), (3, X.shape[1])), rtol=1e-6)


# ---------------------------------------------------------------- dense and sparse agree


def assert_same_mixture(dense: GaussianMixture, sparse: GaussianMixture):
    for name, a, b in zip(("mu", "var", "p"), dense, sparse, strict=True):
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=RTOL * np.abs(a).max(), err_msg=name)


@pytest.mark.parametrize("options", [*standard_variants(3.0), EMOptions(residuals=True, prior_strength=3.0)])
def test_dense_and_sparse_give_the_same_fit_and_held_out_score(options):
    X = sparse_ratings(80, 50, 0.85, seed=2)
    split = hide(X, 0.1, 0)
    S = sp.csr_matrix(X)
    s_split = hide(S, 0.1, 0)
    dense = fit(split.X_train, 4, 1, options)
    sparse = fit(s_split.X_train, 4, 1, options)
    assert sparse.iterations == dense.iterations
    assert sparse.log_likelihood == pytest.approx(dense.log_likelihood, rel=RTOL)
    assert_same_mixture(dense.mixture, sparse.mixture)
    dense_rmse = holdout_rmse(X, split, complete(split.X_train, dense))
    sparse_rmse = holdout_rmse(S, s_split, complete(s_split.X_train, sparse, s_split.hidden))
    assert sparse_rmse == pytest.approx(dense_rmse, rel=RTOL)


# ---------------------------------------------------------------- bad settings


@pytest.mark.parametrize("strength", [-1.0, float("inf"), "strong", True])
def test_bad_prior_strength_is_refused(strength):
    with pytest.raises(DataError, match=r"the prior strength must be a finite number >= 0, got .*; 0 is the course"):
        EMOptions(prior_strength=strength)


def test_options_must_be_emoptions():
    with pytest.raises(DataError, match=r"options must be an EMOptions, got dict; e.g. EMOptions\(residuals=True\)"):
        fit(sparse_ratings(), 2, 0, {"residuals": True})


def test_a_sparse_completion_needs_the_entries_to_predict():
    S = sp.csr_matrix(sparse_ratings())
    with pytest.raises(DataError, match="pass at= the entries to predict"):
        complete(S, fit(S, 2, 0, ALL_ON))


@pytest.mark.parametrize(
    "on, names",
    [
        ((False, False, 0.0), ["course"]),
        ((False, True, 0.0), ["course", "residuals"]),
        ((True, False, 2.0), ["course", "item-mean-start", "prior", "item-mean-start+prior"]),
    ],
)
def test_variants_with_lists_each_option_alone_and_their_combination(on, names):
    assert [v.name for v in variants_with(*on)] == names


def test_all_options_on_are_the_standard_variants():
    assert variants_with(True, True, DEFAULT_PRIOR_STRENGTH) == standard_variants()


@pytest.mark.parametrize("options", [*standard_variants(7.0), EMOptions(residuals=True, prior_strength=7.0)])
def test_a_variant_name_gives_its_options_back(options):
    assert parse_variant(options.name, 7.0) == options


@pytest.mark.parametrize("name", ["residual", "prior+prior", "course+prior", ""])
def test_unknown_variant_names_are_refused(name):
    with pytest.raises(DataError, match=r"unknown EM variant .*; give course, all, or item-mean-start, residuals"):
        parse_variant(name)
