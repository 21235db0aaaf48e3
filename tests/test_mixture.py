"""The mixture value, the course's initialisation and the scores (em_core.mixture)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from em_core import builtin, em, naive_em
from em_core.errors import DataError
from em_core.mixture import VAR_FLOOR, GaussianMixture, bic, init, n_parameters, rmse
from tests.helpers import random_ratings
from tests.solutions import load_solutions


def course_init(X, K, seed):
    """The course's ``common.init``, written out: the global-seed row draw and a loop for the variances."""
    saved = np.random.get_state()
    try:
        np.random.seed(seed)
        rows = np.random.choice(X.shape[0], K, replace=False)
    finally:
        np.random.set_state(saved)
    mu = X[rows]
    var = np.array([((X - mu[j]) ** 2).mean() for j in range(K)])
    return GaussianMixture(mu, var, np.ones(K) / K), np.ones((X.shape[0], K)) / K


# ---------------------------------------------------------------- init


@pytest.mark.course
def test_init_matches_solutions(course_dir, course_matrix):
    expected = load_solutions(course_dir / "test_solutions.txt")["Input"]
    X = course_matrix("test_incomplete.txt")
    mixture, post = init(X, int(expected["K"]), seed=0)
    # the file prints these with numpy's 8 digits; 1e-6 is the tolerance
    np.testing.assert_allclose(mixture.mu, expected["Mu"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mixture.var, expected["Var"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(mixture.p, expected["P"], rtol=0, atol=1e-6)
    np.testing.assert_array_equal(post, np.full((X.shape[0], 4), 0.25))


@pytest.mark.parametrize(
    "X, K, seed",
    [
        (random_ratings(20, 5, 0.25, seed=0), 4, 0),
        (random_ratings(20, 5, 0.25, seed=0), 4, 3),
        (random_ratings(50, 7, 0.6, seed=1), 12, 1),
        (random_ratings(9, 3, 0.0, seed=2), 9, 4),  # K = n: every row becomes a mean
        (builtin.blobs_2d(), 1, 2),
        (builtin.blobs_2d(), 5, 2**32 - 1),  # the largest seed RandomState takes
    ],
)
def test_init_matches_the_courses_global_seed_init(X, K, seed):
    mixture, post = init(X, K, seed)
    expected, expected_post = course_init(X, K, seed)
    np.testing.assert_array_equal(mixture.mu, expected.mu)
    np.testing.assert_allclose(mixture.var, expected.var, rtol=1e-12)
    np.testing.assert_array_equal(mixture.p, expected.p)
    np.testing.assert_array_equal(post, expected_post)


def test_init_copies_the_means_out_of_the_data():
    X = random_ratings(6, 3, 0.0, seed=5)
    before = X.copy()
    mixture, _ = init(X, 3)
    mixture.mu[:] = -1.0
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize(
    "X",
    [
        1e6 + np.array([[0.1], [0.5], [-0.2], [0.3]]),  # four values near 1e6, spread ~0.4: was 0.9 % off
        1e4 + np.array([[1e-3, 0.0], [-1e-3, 2e-3], [0.0, -1e-3]]),  # 1e4 +- 1e-3: was 2.4 % off
        -3e5 + np.random.RandomState(0).standard_normal((20, 3)),
    ],
)
@pytest.mark.parametrize("K", [1, 2, 3])
def test_init_keeps_its_digits_far_from_zero(X, K):
    mixture, _ = init(X, K, seed=0)
    expected, _ = course_init(X, K, seed=0)
    np.testing.assert_allclose(mixture.var, expected.var, rtol=1e-9)
    # and so the first E-step's log-likelihood is the course's too
    expected_ll = naive_em.estep(X, GaussianMixture(expected.mu, expected.var, expected.p))[1]
    assert naive_em.estep(X, mixture)[1] == pytest.approx(expected_ll, rel=1e-9)


@pytest.mark.parametrize(
    "X, K",
    [
        (np.full((4, 3), 1e4), 2),
        (np.ones((1, 2)), 1),  # a single row
        (np.tile([[3.0, 0.0, 5.0]], (5, 1)), 3),  # the same ratings and the same gap in every row
    ],
)
def test_init_on_identical_rows_gives_a_usable_start(X, K):
    # every row is the same, so the course's formula gives variance 0 and the first E-step 0/0
    mixture, _ = init(X, K)
    np.testing.assert_array_equal(mixture.var, VAR_FLOOR)
    for estep in (naive_em.estep, em.estep):
        post, log_likelihood = estep(X, mixture)
        assert np.all(np.isfinite(post)) and np.isfinite(log_likelihood)


@pytest.mark.parametrize(
    "X, K, message",
    [
        (np.ones((3, 2)), 4, r"K must be between 1 and 3 \(the number of rows\), got 4"),
        (np.ones((3, 2)), 0, r"K must be between 1 and 3 \(the number of rows\), got 0"),
        (np.ones((3, 2)), 2.5, r"K must be a whole number, got 2\.5"),
        (np.ones((3, 2)), True, r"K must be a whole number, got True"),  # a bool is not a count
        (np.ones(3), 1, r"X: expected a 2-D matrix \(rows x columns\), got 1 dimension"),
        (np.ones((0, 3)), 1, r"X: the matrix is empty \(0 x 3\)"),
        (np.array([[1.0, 2.0], [np.nan, 3.0]]), 1, r"X: row 2 column 1 is nan, not a finite number"),
    ],
)
def test_init_rejects_bad_input_with_a_clear_message(X, K, message):
    with pytest.raises(DataError, match=message):
        init(X, K)


def test_n_components():
    assert GaussianMixture(np.zeros((4, 2)), np.ones(4), np.full(4, 0.25)).n_components == 4


# ---------------------------------------------------------------- rmse

GOLD = np.array([[1.0, 2.0], [3.0, 4.0]])
PRED = np.array([[1.0, 2.0], [3.0, 6.0]])


@pytest.mark.parametrize(
    "mask, expected",
    [
        (None, 1.0),  # errors 0, 0, 0, 2: sqrt(4 / 4)
        (np.array([[False, False], [False, True]]), 2.0),  # only the wrong entry
        (np.array([[True, True], [True, False]]), 0.0),  # only the right ones
        (np.array([[True, False], [False, True]]), math.sqrt(2.0)),  # sqrt((0 + 4) / 2)
    ],
)
def test_rmse_by_hand(mask, expected):
    assert rmse(GOLD, PRED, mask) == pytest.approx(expected, rel=1e-15)
    assert rmse(PRED, GOLD, mask) == pytest.approx(expected, rel=1e-15)  # symmetric


def test_rmse_of_an_empty_selection_is_nan():
    assert math.isnan(rmse(GOLD, PRED, np.zeros((2, 2), dtype=bool)))


# ---------------------------------------------------------------- bic


@pytest.mark.parametrize(
    "K, d, expected",
    [
        (1, 1, 2),  # a mean and a variance; a single weight is fixed at 1
        (3, 2, 11),  # 6 mean coordinates, 3 variances, 2 free weights
        (12, 1200, 14423),  # the course's Netflix model
    ],
)
def test_n_parameters(K, d, expected):
    assert n_parameters(K, d) == expected


def test_bic_by_hand():
    X = np.zeros((4, 2))
    mixture = GaussianMixture(np.zeros((2, 2)), np.ones(2), np.full(2, 0.5))
    # LL - 1/2 * (K d + K + K - 1) * ln n = -10 - 1/2 * 7 * ln 4
    assert bic(X, mixture, -10.0) == pytest.approx(-10.0 - 3.5 * math.log(4.0), rel=1e-15)


def test_bic_is_minus_half_sklearns():
    X = builtin.blobs_2d()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = SklearnMixture(3, covariance_type="spherical", random_state=0).fit(X)
    mixture = GaussianMixture(model.means_, model.covariances_, model.weights_)
    log_likelihood = model.score(X) * X.shape[0]
    # scikit-learn's BIC is -2 LL + p ln n (lower is better); the course's is LL - p/2 ln n
    assert bic(X, mixture, log_likelihood) == pytest.approx(-0.5 * model.bic(X), rel=1e-12)
