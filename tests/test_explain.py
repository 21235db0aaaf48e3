"""The formulas with the numbers (em_core.explain): every term agrees with em.estep / em.mstep."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from em_core import em, stepping
from em_core.errors import DataError
from em_core.explain import (
    estep_terms,
    mstep_terms,
    stopping_terms,
)
from em_core.mixture import VAR_FLOOR, GaussianMixture, init
from tests.helpers import random_ratings

# explain writes the E-step per user over the observed items; em uses the expanded form
# ||x||^2 - 2 x.mu + ||mu||^2 over all users at once. They agree to rounding.
F_TOL = {"rtol": 1e-12, "atol": 1e-12}


# ---------------------------------------------------------------- data helpers


def random_mixture(K, d, seed, min_var=0.3):
    rng = np.random.RandomState(seed)
    mu = rng.uniform(1.0, 5.0, size=(K, d))
    var = rng.uniform(min_var, 5.0, size=K)
    p = rng.dirichlet(np.ones(K))
    return GaussianMixture(mu, var, p)


@st.composite
def problems(draw):
    """Masked ratings with one user who rated nothing and one item nobody rated, a mixture and its posterior."""
    n = draw(st.integers(2, 12))
    d = draw(st.integers(2, 6))
    K = draw(st.integers(1, 4))
    seed = draw(st.integers(0, 2**16))
    X = random_ratings(n, d, draw(st.sampled_from([0.0, 0.3, 0.7])), seed)
    empty_user = draw(st.integers(0, n - 1))
    empty_item = draw(st.integers(0, d - 1))
    X[empty_user, :] = 0.0
    X[:, empty_item] = 0.0
    mixture = random_mixture(K, d, seed + 1)
    post, _ = em.estep(X, mixture)
    u = draw(st.integers(0, n - 1))
    j = draw(st.integers(0, K - 1))
    i = draw(st.integers(0, d - 1))
    return X, mixture, post, u, j, i, empty_user, empty_item


# ---------------------------------------------------------------- E-step


@given(problems())
def test_estep_terms_match_em(problem):
    X, mixture, post, u, j, _, empty_user, _ = problem
    f = em.log_joint(X, mixture)
    for user in (u, empty_user):
        terms = estep_terms(X, mixture, user, j)
        np.testing.assert_allclose(terms.f_row, f[user], **F_TOL)
        assert terms.f == pytest.approx(f[user, j], rel=1e-12, abs=1e-12)
        assert terms.post == pytest.approx(post[user, j], rel=1e-12, abs=1e-15)
        # the terms add up exactly as the formula says
        assert terms.f == terms.log_p + terms.log_norm + terms.quad
        assert terms.f == terms.f_row[j]
        assert terms.log_post == terms.f - terms.logsumexp
        assert terms.post == math.exp(terms.log_post)
        assert terms.n_observed == np.count_nonzero(X[user])
        assert terms.quad == -terms.sq_dist / (2 * mixture.var[j])


@given(problems())
def test_a_user_with_no_rating_gets_the_prior(problem):
    X, mixture, _, _, j, _, empty_user, _ = problem
    terms = estep_terms(X, mixture, empty_user, j)
    assert (terms.n_observed, terms.sq_dist, terms.log_norm, terms.quad) == (0, 0.0, 0.0, 0.0)
    assert terms.f == terms.log_p
    assert terms.post == pytest.approx(mixture.p[j], rel=1e-12, abs=1e-15)


@given(problems())
def test_user_logsumexps_add_up_to_the_log_likelihood(problem):
    X, mixture, _, _, _, _, _, _ = problem
    _, log_likelihood = em.estep(X, mixture)
    total = sum(estep_terms(X, mixture, u, 0).logsumexp for u in range(X.shape[0]))
    assert total == pytest.approx(log_likelihood, rel=1e-12, abs=1e-12)


def test_estep_terms_by_hand():
    # one user, ratings (2, 0, 4) so C_u = {1, 3}; mean (1, 9, 2), variance 2, weight 1/2
    X = np.array([[2.0, 0.0, 4.0]])
    mixture = GaussianMixture(np.array([[1.0, 9.0, 2.0], [2.0, 0.0, 4.0]]), np.array([2.0, 1.0]), np.array([0.5, 0.5]))
    terms = estep_terms(X, mixture, 0, 0)
    assert terms.n_observed == 2
    assert terms.sq_dist == 1.0 + 4.0  # the 9 is at a missing item and does not count
    assert terms.quad == -5.0 / 4.0
    assert terms.log_norm == pytest.approx(-math.log(2 * math.pi * 2.0))
    assert terms.log_p == pytest.approx(math.log(0.5))


# ---------------------------------------------------------------- M-step


@given(problems(), st.sampled_from([0.0, 0.25, 1.0]))
def test_mstep_terms_match_em(problem, min_variance):
    X, mixture, post, _, j, i, _, empty_item = problem
    after = em.mstep(X, post, mixture, min_variance)
    support = em.support(X, post)
    for item in (i, empty_item):
        terms = mstep_terms(X, post, mixture, j, item, min_variance)
        # the same matrix products as em.mstep: the update decision agrees to the bit; the
        # mean to rounding (em works on data shifted by the column centres, explain does not)
        assert terms.support == support[j, item]
        assert terms.updated == (support[j, item] >= 1.0)
        assert terms.mu_hat == pytest.approx(after.mu[j, item], rel=1e-12, abs=1e-12)
        assert terms.p_hat == after.p[j]
        assert terms.var_hat == pytest.approx(after.var[j], rel=1e-12)
        assert terms.mu_hat == (terms.weighted_sum / terms.support if terms.updated else terms.mu_old)
        assert terms.n_users == X.shape[0]
        assert terms.weight_total == pytest.approx(post[:, j] @ np.count_nonzero(X, axis=1), rel=1e-12, abs=1e-12)
        if terms.weight_total > 0:
            assert terms.var_raw == terms.sse / terms.weight_total
            assert terms.floored == (terms.var_raw < max(min_variance, VAR_FLOOR))


@given(problems())
def test_an_item_nobody_rated_keeps_its_mean(problem):
    X, mixture, post, _, j, _, _, empty_item = problem
    terms = mstep_terms(X, post, mixture, j, empty_item)
    assert (terms.support, terms.weighted_sum, terms.updated) == (0.0, 0.0, False)
    assert terms.mu_hat == terms.mu_old == mixture.mu[j, empty_item]


@pytest.mark.parametrize(
    "X, post, expect",
    [
        # every user rates the same: the spread is 0, the variance sits at the floor
        (np.full((4, 3), 3.0), np.full((4, 1), 1.0), {"var_raw": 0.0, "var_hat": 0.25, "floored": True}),
        # component 2 holds nobody: no observed weight, it keeps its (floored) variance
        (random_ratings(5, 3, 0.0, seed=4), np.column_stack([np.ones(5), np.zeros(5)]), {"var_hat": 9.0}),
        # only users who rated nothing hold component 2: observed weight 0 again
        (np.array([[1.0, 2.0], [0.0, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]), {"var_hat": 9.0, "nk": 1.0}),
    ],
)
def test_mstep_terms_edge_cases(X, post, expect):
    K = post.shape[1]
    mixture = GaussianMixture(np.full((K, X.shape[1]), 2.0), np.full(K, 9.0), np.full(K, 1.0 / K))
    j = K - 1
    terms = mstep_terms(X, post, mixture, j, 0)
    after = em.mstep(X, post, mixture)
    assert terms.var_hat == after.var[j]
    for name, value in expect.items():
        assert getattr(terms, name) == value, name
    if terms.weight_total == 0:
        assert math.isnan(terms.var_raw) and not terms.floored


@pytest.mark.course
def test_terms_match_em_on_the_course_test_data(course_matrix):
    X = course_matrix("test_incomplete.txt")
    mixture, _ = init(X, 4, seed=0)
    post, _ = em.estep(X, mixture)
    f = em.log_joint(X, mixture)
    for u in range(X.shape[0]):
        for j in range(4):
            terms = estep_terms(X, mixture, u, j)
            assert terms.f == pytest.approx(f[u, j], rel=1e-12)
            assert terms.post == pytest.approx(post[u, j], rel=1e-12)
    after = em.mstep(X, post, mixture)
    for j in range(4):
        for i in range(X.shape[1]):
            terms = mstep_terms(X, post, mixture, j, i)
            assert terms.p_hat == after.p[j]
            assert terms.mu_hat == pytest.approx(after.mu[j, i], rel=1e-12)
            assert terms.var_hat == pytest.approx(after.var[j], rel=1e-12)


# ---------------------------------------------------------------- stopping


@given(
    st.floats(-1e6, 1e6, allow_nan=False),
    st.floats(-1e6, 1e6, allow_nan=False),
    st.sampled_from([0.0, 1e-6, 1e-3]),
)
def test_stopping_terms_decide_as_stepping_does(ll_old, ll_new, tol):
    terms = stopping_terms(ll_old, ll_new, tol)
    assert terms.gain == ll_new - ll_old
    assert terms.threshold == tol * abs(ll_new)
    assert terms.stop == stepping.relative_gain_converged(tol)(ll_old, ll_new)


@pytest.mark.parametrize(
    "ll_old, ll_new, tol, stop",
    [
        (-200.0, -100.0, 1e-6, False),  # a big gain: continue
        (-100.0, -100.0, 1e-6, True),  # no gain
        (-3.0, -2.0, 0.5, True),  # gain 1 == 0.5 * |-2| exactly: the rule says <=, so stop
        (-3.0, -2.0, 0.25, False),  # gain 1 > 0.25 * 2
        (-100.0, -100.5, 1e-6, True),  # the LL fell (only a bug does that): stop, not loop forever
    ],
)
def test_stopping_terms_table(ll_old, ll_new, tol, stop):
    assert stopping_terms(ll_old, ll_new, tol).stop is stop


# ---------------------------------------------------------------- bad input


@pytest.fixture(scope="module")
def small():
    X = random_ratings(6, 4, 0.3, seed=2)
    mixture = random_mixture(3, 4, seed=3)
    post, _ = em.estep(X, mixture)
    return X, mixture, post


@pytest.mark.parametrize(
    "u, j, match",
    [
        (6, 0, r"user index u must be a whole number in 0\.\.5 \(0-based: u=0 is the first user\), got 6"),
        (-1, 0, r"user index u must be a whole number in 0\.\.5 .*got -1"),  # no counting from the end
        (1.0, 0, r"user index u .*got 1\.0"),
        (True, 0, r"user index u .*got True"),
        (0, 3, r"component index j must be a whole number in 0\.\.2 .*got 3"),
    ],
)
def test_estep_terms_reject_bad_indices(small, u, j, match):
    X, mixture, _ = small
    with pytest.raises(DataError, match=match):
        estep_terms(X, mixture, u, j)


@pytest.mark.parametrize(
    "j, i, match",
    [
        (3, 0, r"component index j must be a whole number in 0\.\.2"),
        (0, 4, r"item index i must be a whole number in 0\.\.3 \(0-based: i=0 is the first item\), got 4"),
        (0, np.int64(-2), r"item index i .*got -2"),
    ],
)
def test_mstep_terms_reject_bad_indices(small, j, i, match):
    X, mixture, post = small
    with pytest.raises(DataError, match=match):
        mstep_terms(X, post, mixture, j, i)


def test_terms_reject_inputs_that_do_not_fit_together(small):
    X, mixture, post = small
    with pytest.raises(DataError, match=r"mixture means: expected shape \(K, 5\) to match the 5 columns of X"):
        estep_terms(np.hstack([X, X[:, :1]]), mixture, 0, 0)
    with pytest.raises(DataError, match=r"expected 3 variances and 3 weights .*got shapes \(2,\) and \(3,\)"):
        estep_terms(X, mixture._replace(var=mixture.var[:2]), 0, 0)
    with pytest.raises(DataError, match=r"variances must be finite and > 0"):
        estep_terms(X, mixture._replace(var=np.zeros(3)), 0, 0)
    with pytest.raises(DataError, match=r"weights must be finite and >= 0"):
        estep_terms(X, mixture._replace(p=np.array([1.5, -0.5, 0.0])), 0, 0)
    with pytest.raises(DataError, match=r"means must be finite numbers"):
        estep_terms(X, mixture._replace(mu=np.full((3, 4), np.nan)), 0, 0)
    with pytest.raises(DataError, match=r"post: expected shape \(6, 3\) .*got \(6, 2\)"):
        mstep_terms(X, post[:, :2], mixture, 0, 0)
    with pytest.raises(DataError, match=r"min variance must be a finite number >= 0, got -1"):
        mstep_terms(X, post, mixture, 0, 0, min_variance=-1)


@pytest.mark.parametrize(
    "args, match",
    [
        ((float("nan"), -1.0), r"ll_old must be a finite number, got nan"),
        ((-1.0, "x"), r"ll_new must be a finite number, got 'x'"),
        ((-2.0, -1.0, -1e-6), r"tol must be >= 0, got -1e-06"),
    ],
)
def test_stopping_terms_reject_bad_input(args, match):
    with pytest.raises(DataError, match=match):
        stopping_terms(*args)
