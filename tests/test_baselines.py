"""Completion baselines: they keep what was observed, match hand computations and scikit-learn, and EM is
scored against them on the same held-out entries."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.impute import KNNImputer

from em_core import em, experiment
from em_core.baselines import (
    ITEM_DAMPING,
    METHODS,
    NUMPY_METHODS,
    USER_DAMPING,
    BaselineResult,
    fit_biases,
    global_mean,
    item_mean,
    knn,
    run_all,
    score_on,
    soft_impute,
    user_item_bias,
    user_mean,
)
from em_core.data import load_dataset
from em_core.errors import DataError
from em_core.holdout import hide, holdout_rmse
from em_core.mixture import rmse
from tests.helpers import random_ratings

#: users 0 and 2 rated some items, user 1 none; item 3 was rated by nobody
TINY = np.array(
    [
        [1.0, 0.0, 3.0, 0.0],
        [0.0, 0.0, 0.0, 0.0],
        [4.0, 5.0, 0.0, 0.0],
    ]
)
TINY_MEAN = (1 + 3 + 4 + 5) / 4  # 3.25


def planted_low_rank(n: int = 200, d: int = 150, rank: int = 3, missing: float = 0.4, seed: int = 0):
    """A rank-3 matrix around 3 (no entry is exactly 0) with a share of entries dropped; returns (X, gold)."""
    rng = np.random.RandomState(seed)
    gold = 3.0 + 0.5 * rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d))
    X = np.where(rng.random_sample((n, d)) < missing, 0.0, gold)
    return X, gold


# ---------------------------------------------------------------- hand-computed tiny cases


def test_global_mean_by_hand():
    expected = np.where(TINY != 0, TINY, TINY_MEAN)
    np.testing.assert_array_equal(global_mean(TINY), expected)


def test_user_mean_by_hand():
    expected = np.array(
        [
            [1.0, 2.0, 3.0, 2.0],  # (1 + 3) / 2
            [3.25, 3.25, 3.25, 3.25],  # no rating: the global mean
            [4.0, 5.0, 4.5, 4.5],  # (4 + 5) / 2
        ]
    )
    np.testing.assert_array_equal(user_mean(TINY), expected)


def test_item_mean_by_hand():
    # items 0..3: (1 + 4) / 2, 5, 3, and nobody -> the global mean
    expected = np.array(
        [
            [1.0, 5.0, 3.0, 3.25],
            [2.5, 5.0, 3.0, 3.25],
            [4.0, 5.0, 3.0, 3.25],
        ]
    )
    np.testing.assert_array_equal(item_mean(TINY), expected)


# ---------------------------------------------------------------- every baseline


@pytest.mark.parametrize("name", list(METHODS))
def test_keeps_observed_entries_and_fills_every_missing_one(name):
    X = random_ratings(40, 25, missing=0.35, seed=2)
    X_pred = METHODS[name][1](X)
    assert X_pred.shape == X.shape
    assert np.all(np.isfinite(X_pred))
    np.testing.assert_array_equal(X_pred[X != 0], X[X != 0])
    # predictions stay inside the observed range 1-5 (all five are averages or clipped)
    assert X_pred.min() >= 1 and X_pred.max() <= 5


@pytest.mark.parametrize("name", NUMPY_METHODS)
@given(seed=st.integers(0, 10_000), missing=st.floats(0.0, 0.9))
def test_numpy_baselines_keep_observed_entries_on_any_matrix(name, seed, missing):
    X = random_ratings(12, 9, missing, seed)
    if not (X != 0).any():
        return
    X_pred = METHODS[name][1](X)
    np.testing.assert_array_equal(X_pred[X != 0], X[X != 0])
    assert np.all(np.isfinite(X_pred))


@pytest.mark.parametrize("name", list(METHODS))
def test_input_is_not_modified_and_read_only_input_works(name):
    X = random_ratings(30, 20, missing=0.3, seed=5)
    X.flags.writeable = False
    before = X.copy()
    METHODS[name][1](X)
    np.testing.assert_array_equal(X, before)


@pytest.mark.parametrize("name", list(METHODS))
def test_a_matrix_without_ratings_is_refused(name):
    with pytest.raises(DataError, match="no observed entry"):
        METHODS[name][1](np.zeros((4, 3)))


# ---------------------------------------------------------------- Soft-Impute


def test_soft_impute_recovers_a_planted_low_rank_matrix():
    X, gold = planted_low_rank()
    missing = X == 0
    soft = rmse(gold, soft_impute(X), missing)
    means = rmse(gold, item_mean(X), missing)
    # measured: Soft-Impute 0.058, item mean 0.818 (the planted matrix's spread is 0.83, and its
    # item means carry almost none of it); the bound leaves room for BLAS differences
    assert soft < 0.12
    assert soft < means / 5


def test_soft_impute_is_deterministic():
    X, _ = planted_low_rank(seed=1)
    np.testing.assert_array_equal(soft_impute(X), soft_impute(X))


def test_soft_impute_randomized_svd_agrees_with_the_exact_one(monkeypatch):
    import em_core.baselines as completion

    X, gold = planted_low_rank(100, 80, seed=2)
    missing = X == 0
    fast = soft_impute(X, max_rank=10, tol=1e-8, max_iter=300)
    # a huge oversampling sends every SVD to LAPACK
    monkeypatch.setattr(completion, "OVERSAMPLING", 10**6)
    exact = soft_impute(X, max_rank=10, tol=1e-8, max_iter=300)
    np.testing.assert_allclose(fast, exact, atol=1e-3)
    assert rmse(gold, fast, missing) == pytest.approx(rmse(gold, exact, missing), abs=1e-4)


def test_soft_impute_with_shrinkage_above_every_singular_value_is_the_global_mean():
    X = random_ratings(30, 20, missing=0.3, seed=8)
    np.testing.assert_allclose(soft_impute(X, shrinkage=1e6), global_mean(X))


def test_soft_impute_on_a_tiny_matrix_uses_the_exact_svd():
    # 3 x 4: max_rank is capped at 3 and the SVD is LAPACK's; the fit must still keep observed entries
    X_pred = soft_impute(TINY, shrinkage=0.0)
    np.testing.assert_array_equal(X_pred[TINY != 0], TINY[TINY != 0])
    assert X_pred.min() >= 1 and X_pred.max() <= 5  # clipped to the observed range


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"shrinkage": -1.0}, "shrinkage must be a finite number >= 0, got -1.0"),
        ({"shrinkage": float("nan")}, "shrinkage must be a finite number >= 0"),
        ({"max_rank": 0}, "max_rank must be a whole number >= 1, got 0"),
        ({"max_rank": 2.5}, "max_rank must be a whole number >= 1, got 2.5"),
        ({"max_iter": 0}, "max_iter must be a whole number >= 1"),
        ({"tol": -1e-3}, "tol must be a finite number >= 0"),
    ],
)
def test_soft_impute_bad_settings(kwargs, message):
    with pytest.raises(DataError, match=message):
        soft_impute(TINY, **kwargs)


# ---------------------------------------------------------------- KNN


@pytest.mark.parametrize("n_neighbors", [1, 5, 10])
def test_knn_is_scikit_learns_knn_imputer(n_neighbors):
    X = random_ratings(50, 30, missing=0.3, seed=4)
    assert (X != 0).any(axis=0).all()  # no empty column, where knn departs from KNNImputer
    expected = KNNImputer(n_neighbors=n_neighbors).fit_transform(np.where(X != 0, X, np.nan))
    np.testing.assert_array_equal(knn(X, n_neighbors), expected)


def test_knn_gives_an_unrated_item_the_global_mean():
    X_pred = knn(TINY, n_neighbors=1)
    np.testing.assert_array_equal(X_pred[:, 3], TINY_MEAN)


def test_knn_bad_neighbours():
    with pytest.raises(DataError, match="n_neighbors must be a whole number >= 1, got 0"):
        knn(TINY, 0)


# ---------------------------------------------------------------- run_all and score_on


def test_run_all_runs_every_baseline_with_its_defaults():
    X = random_ratings(30, 20, missing=0.3, seed=6)
    results = run_all(X)
    assert [r.name for r in results] == [
        *("global_mean", "user_mean", "item_mean", "user_item_bias", "soft_impute", "knn")
    ]
    assert [r.label for r in results] == [
        "Global mean",
        "User mean",
        "Item mean",
        "User + item bias",
        "Soft-Impute (rank ≤ 20)",
        "KNN (10 nearest users)",
    ]
    for result in results:
        assert isinstance(result, BaselineResult)
        np.testing.assert_array_equal(result.X_pred, METHODS[result.name][1](X))
        assert result.seconds >= 0


def test_run_all_takes_a_subset_in_the_order_given():
    X = random_ratings(10, 8, missing=0.3, seed=6)
    assert [r.name for r in run_all(X, ["item_mean", "global_mean"])] == ["item_mean", "global_mean"]


def test_run_all_unknown_method():
    with pytest.raises(DataError, match="unknown baseline 'svd'; choose from global_mean, user_mean"):
        run_all(TINY, ["global_mean", "svd"])


def test_score_on_scores_exactly_the_masked_entries():
    gold = np.array([[1.0, 2.0], [3.0, 4.0]])
    X_pred = np.array([[1.0, 5.0], [3.0, 0.0]])  # off by 3 at (0, 1), by 4 at (1, 1)
    assert score_on(gold, X_pred, np.array([[False, True], [False, False]])) == pytest.approx(3.0)
    assert score_on(gold, X_pred, np.array([[False, True], [False, True]])) == pytest.approx(np.sqrt(12.5))
    assert score_on(gold, X_pred, np.ones((2, 2), dtype=bool)) == rmse(gold, X_pred)


@pytest.mark.parametrize(
    ("X_pred", "mask", "message"),
    [
        (np.zeros((2, 3)), np.ones((2, 2), dtype=bool), "X_pred is 2 x 3 but the true values are 2 x 2"),
        (np.zeros((2, 2)), np.ones((2, 1), dtype=bool), "mask is 2 x 1 but the true values are 2 x 2"),
        (np.zeros((2, 2)), np.ones((2, 2)), "mask must be a boolean array"),  # a 0/1 float mask would index
    ],
)
def test_score_on_bad_input(X_pred, mask, message):
    with pytest.raises(DataError, match=message):
        score_on(np.ones((2, 2)), X_pred, mask)


# ---------------------------------------------------------------- EM against the baselines


def held_out_scores(X: np.ndarray, K: int = 12) -> dict[str, float]:
    """Held-out RMSE (10 %, seed 0) of EM with K components (seed 0) and of the numpy baselines."""
    holdout = hide(X, 0.1, 0)
    run = experiment.fit(holdout.X_train, "em", K, seed=0)
    scores = {"em": holdout_rmse(X, holdout, em.fill_matrix(holdout.X_train, run.mixture))}
    for result in run_all(holdout.X_train, NUMPY_METHODS):
        scores[result.name] = score_on(X, result.X_pred, holdout.hidden)
    return scores


def test_em_beats_the_global_mean_on_held_out_demo_large():
    scores = held_out_scores(load_dataset("demo-large").X)
    # measured: EM 0.689, global 1.155, user 1.156, item 0.972, Soft-Impute 0.601
    assert scores["em"] < scores["global_mean"] - 0.3
    assert scores["em"] < scores["item_mean"]
    assert scores["soft_impute"] < scores["item_mean"] < scores["global_mean"]


@pytest.mark.course
def test_em_beats_the_means_on_held_out_netflix(course_dir):
    scores = held_out_scores(load_dataset("netflix").X)
    # measured: EM 0.893, global 1.043, user 0.973, item 0.951, Soft-Impute 0.765
    assert scores["em"] < scores["item_mean"] < scores["global_mean"]
    assert scores["em"] < scores["user_mean"]


# ---------------------------------------------------------------- a failing baseline


def test_soft_impute_completes_a_matrix_whose_ratings_are_all_equal():
    # 0/1 "likes": every observed rating is 1, so the centred matrix is all zero (ARPACK once failed on it)
    rng = np.random.RandomState(0)
    X = np.where(rng.random_sample((60, 60)) < 0.3, 1.0, 0.0)
    X_pred = soft_impute(X)
    assert np.array_equal(X_pred, np.ones_like(X))


def test_a_failing_baseline_is_reported_and_the_others_still_run(monkeypatch):
    import em_core.baselines as completion

    def broken(X):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setitem(completion.METHODS, "soft_impute", ("Soft-Impute", broken))
    X = random_ratings(30, 8, 0.3, seed=1)
    results = {r.name: r for r in run_all(X, NUMPY_METHODS)}
    assert results["soft_impute"].X_pred is None
    assert results["soft_impute"].error == "LinAlgError: SVD did not converge"
    for name in ("global_mean", "user_mean", "item_mean"):
        assert results[name].X_pred is not None and results[name].error is None


# ---------------------------------------------------------------- user + item bias


def ridge_biases(X: np.ndarray, user_damping: float, item_damping: float) -> tuple[float, np.ndarray, np.ndarray]:
    """The reference: the damped biases as one ridge regression, solved directly (no alternation)."""
    n, d = X.shape
    rows, cols = np.nonzero(X)
    values = X[rows, cols]
    design = np.zeros((values.size, n + d))
    design[np.arange(values.size), rows] = 1.0
    design[np.arange(values.size), n + cols] = 1.0
    penalty = np.diag(np.concatenate([np.full(n, user_damping), np.full(d, item_damping)]))
    solution = np.linalg.solve(design.T @ design + penalty, design.T @ (values - values.mean()))
    return values.mean(), solution[:n], solution[n:]


@pytest.mark.parametrize(
    "user_damping, item_damping",
    [
        (USER_DAMPING, ITEM_DAMPING),  # the defaults
        (1.0, 0.5),  # light damping: the alternation converges more slowly
        (0.1, 5.0),  # users barely damped, items strongly
    ],
)
def test_fit_biases_converges_to_the_ridge_solution(user_damping, item_damping):
    X = random_ratings(40, 30, missing=0.6, seed=3)
    X[5] = 0.0  # a user with no rating: bias 0
    X[:, 7] = 0.0  # an item with no rating: bias 0
    m, user, item = ridge_biases(X, user_damping, item_damping)
    biases = fit_biases(X, item_damping, user_damping, max_sweeps=10_000, tol=1e-13)
    assert biases.global_mean == pytest.approx(m, rel=1e-15)
    np.testing.assert_allclose(biases.user, user, atol=1e-10)
    np.testing.assert_allclose(biases.item, item, atol=1e-10)
    assert biases.user[5] == 0.0 and biases.item[7] == 0.0


def test_fit_biases_first_sweep_by_hand():
    # TINY: ratings 1, 3 (user 0), 4, 5 (user 2); mean 3.25; items first, then users
    biases = fit_biases(TINY, item_damping=1.0, user_damping=2.0, max_sweeps=1)
    item = np.array([(1 - 3.25 + 4 - 3.25) / (1 + 2), (5 - 3.25) / (1 + 1), (3 - 3.25) / (1 + 1), 0.0])
    user = np.array(
        [(1 - 3.25 - item[0] + 3 - 3.25 - item[2]) / (2 + 2), 0.0, (4 - 3.25 - item[0] + 5 - 3.25 - item[1]) / (2 + 2)]
    )
    np.testing.assert_allclose(biases.item, item, rtol=1e-14)
    np.testing.assert_allclose(biases.user, user, rtol=1e-14)
    assert biases.sweeps == 1


def test_user_item_bias_predicts_mean_plus_biases_clipped_to_the_rating_range():
    X = random_ratings(30, 25, missing=0.5, seed=8)
    biases = fit_biases(X)
    expected = np.clip(biases.global_mean + biases.user[:, None] + biases.item[None, :], 1.0, 5.0)
    np.testing.assert_array_equal(user_item_bias(X), np.where(X != 0, X, expected))


def test_user_item_bias_on_a_sparse_matrix_gives_the_dense_predictions_at_the_entries_asked_for():
    import scipy.sparse as sp

    X = random_ratings(50, 40, missing=0.7, seed=4)
    split = hide(X, 0.2, 1)
    dense = user_item_bias(split.X_train)
    at = sp.csr_matrix(split.hidden)
    sparse = user_item_bias(sp.csr_matrix(split.X_train), at=at)
    rows, cols = at.nonzero()
    np.testing.assert_allclose(np.asarray(sparse[rows, cols]).ravel(), dense[rows, cols], rtol=1e-12)
    assert holdout_rmse(sp.csr_matrix(X), hide(sp.csr_matrix(X), 0.2, 1), sparse) == pytest.approx(
        holdout_rmse(X, split, dense), rel=1e-12
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"item_damping": -1.0}, r"item_damping must be a finite number >= 0, got -1.0; the default is 25"),
        ({"user_damping": float("nan")}, r"user_damping must be a finite number >= 0, got nan; the default is 10"),
        ({"max_sweeps": 0}, r"max_sweeps must be a whole number >= 1, got 0; e.g. 50"),
    ],
)
def test_fit_biases_bad_settings(kwargs, message):
    with pytest.raises(DataError, match=message):
        fit_biases(TINY, **kwargs)


def test_user_item_bias_beats_both_means_on_held_out_movielens():
    from tests.helpers import movielens_missing_reason, movielens_small_dir

    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    import scipy.sparse as sp

    X = sp.csr_matrix(load_dataset(str(folder / "ratings.csv")).X)
    split = hide(X, 0.1, 0)
    scores = {
        name: holdout_rmse(X, split, METHODS[name][1](split.X_train, at=split.hidden))
        for name in ("user_mean", "item_mean", "user_item_bias")
    }
    # measured: user mean 0.935, item mean 0.973, user + item bias 0.878
    assert scores["user_item_bias"] < scores["user_mean"] - 0.03
    assert scores["user_item_bias"] < scores["item_mean"] - 0.05
