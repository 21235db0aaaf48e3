"""Hiding observed ratings to score a completion without a gold matrix: what is hidden, what is kept, the score."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from em_core.data import load_dataset
from em_core.errors import DataError
from em_core.holdout import Holdout, hide, holdout_rmse
from em_core.mixture import rmse
from tests.helpers import random_ratings


@pytest.fixture(scope="module")
def ratings() -> np.ndarray:
    return random_ratings(60, 40, missing=0.3, seed=3)


# ---------------------------------------------------------------- what is hidden


@pytest.mark.parametrize(
    ("fraction", "seed"),
    [
        (0.1, 0),
        (0.25, 7),
        (0.5, 1),
        (0.9, 2),  # still fewer than the ~1620 ratings beyond each user's kept-back one
    ],
)
def test_hides_the_asked_share_of_observed_entries_and_keeps_the_rest(ratings, fraction, seed):
    before = ratings.copy()
    holdout = hide(ratings, fraction, seed)
    observed = ratings != 0
    assert isinstance(holdout, Holdout)
    assert (holdout.fraction, holdout.seed) == (fraction, seed)
    assert holdout.hidden.dtype == bool and holdout.hidden.shape == ratings.shape
    assert not (holdout.hidden & ~observed).any()  # only observed entries are hidden
    assert holdout.n_hidden == holdout.hidden.sum() == round(fraction * observed.sum())
    np.testing.assert_array_equal(holdout.X_train[holdout.hidden], 0.0)
    np.testing.assert_array_equal(holdout.X_train[~holdout.hidden], ratings[~holdout.hidden])
    np.testing.assert_array_equal(ratings, before)  # the caller's matrix is not touched


def test_count_rounds_half_to_even():
    # 25 observed ratings: 0.1 * 25 = 2.5 rounds to 2 (Python's round), 0.14 * 25 = 3.5 to 4
    X = np.ones((5, 5))
    assert hide(X, 0.1).n_hidden == 2
    assert hide(X, 0.14).n_hidden == 4


def test_same_seed_same_entries_other_seed_other_entries(ratings):
    first, again, other = hide(ratings, 0.2, 11), hide(ratings, 0.2, 11), hide(ratings, 0.2, 12)
    np.testing.assert_array_equal(first.hidden, again.hidden)
    np.testing.assert_array_equal(first.X_train, again.X_train)
    assert other.n_hidden == first.n_hidden
    assert (other.hidden != first.hidden).any()


def test_does_not_use_the_global_seed(ratings):
    np.random.seed(1)
    first = hide(ratings, 0.2, 5)
    np.random.seed(2)
    np.testing.assert_array_equal(hide(ratings, 0.2, 5).hidden, first.hidden)


def test_works_on_a_read_only_built_in_matrix():
    X = load_dataset("demo-large").X
    assert not X.flags.writeable
    holdout = hide(X, 0.1, 0)
    assert holdout.n_hidden == round(0.1 * (X != 0).sum())
    assert holdout.X_train.flags.writeable


def test_draw_is_uniform_among_candidates():
    # 4 users with 5 ratings each, 5 hidden: one rating per user is kept back, so each entry is hidden
    # with probability 4/5 * 5/16 = 1/4. Over 2000 seeds the binomial sd is ~0.01; allow 4 sd.
    X = np.arange(1, 21, dtype=float).reshape(4, 5)
    counts = sum(hide(X, 0.25, seed).hidden.astype(int) for seed in range(2000))
    np.testing.assert_allclose(counts / 2000, 0.25, atol=0.04)


# ---------------------------------------------------------------- a user's last rating


@given(
    seed=st.integers(0, 2**32 - 1),
    fraction=st.floats(0.01, 0.99),
    missing=st.floats(0.0, 0.95),
)
def test_every_rated_user_keeps_a_rating_when_avoidable(seed, fraction, missing):
    X = random_ratings(15, 8, missing, seed % 1000)
    observed = X != 0
    n_observed = int(observed.sum())
    n_hide = round(fraction * n_observed)
    if n_observed == 0 or n_hide in (0, n_observed):
        return  # refused; see the bad-input tests
    holdout = hide(X, fraction, seed)
    rated = observed.any(axis=1)
    emptied = rated & ~(holdout.X_train != 0).any(axis=1)
    spare = n_observed - rated.sum()  # ratings beyond each user's first
    # avoidable: nobody loses their last rating; else exactly the excess of users do, the fewest possible
    assert emptied.sum() == max(0, n_hide - spare)


def test_single_ratings_stay_when_others_can_go():
    # users 0 and 2 have one rating each; 0.5 of 6 = 3 hidden, all from user 1's four
    X = np.array([[5.0, 0, 0, 0], [1, 2, 3, 4], [0, 0, 0, 2]])
    for seed in range(20):
        holdout = hide(X, 0.5, seed)
        assert holdout.X_train[0, 0] == 5 and holdout.X_train[2, 3] == 2
        assert (holdout.X_train[1] != 0).sum() == 1


def test_when_unavoidable_the_fewest_users_lose_their_last_rating():
    # 4 ratings, 1 beyond each user's first; 0.75 of 4 = 3 hidden, so 2 of the 3 users must lose all
    X = np.array([[1.0, 2.0, 0], [0, 3.0, 0], [0, 0, 4.0]])
    for seed in range(20):
        holdout = hide(X, 0.75, seed)
        assert (holdout.X_train != 0).sum() == 1
        assert (holdout.X_train != 0).any(axis=1).sum() == 1


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "fraction",
    [
        0,
        1,  # both ends are excluded: nothing hidden, or nothing left to fit on
        -0.1,
        1.5,
        float("nan"),
        float("inf"),
        "ten",
        None,
        True,  # a bool is not a share
    ],
)
def test_fraction_outside_0_1_is_refused(ratings, fraction):
    with pytest.raises(DataError, match=r"strictly between 0 and 1, got .*; e\.g\. 0\.1 hides 10 %"):
        hide(ratings, fraction)


def test_too_few_ratings_to_hide_any():
    X = np.array([[1.0, 0, 3], [0, 2, 0]])  # 3 ratings: 0.1 * 3 rounds to 0
    with pytest.raises(DataError, match=r"X has 3 observed rating\(s\) and 0\.1 of them rounds to 0.*fraction above"):
        hide(X, 0.1)


def test_fraction_that_hides_every_rating():
    X = np.array([[1.0, 0], [0, 2]])  # 0.9 * 2 rounds to 2
    with pytest.raises(DataError, match="rounds to all 2, so no rating would be left to fit on"):
        hide(X, 0.9)


@pytest.mark.parametrize(
    ("X", "message"),
    [
        (np.zeros((3, 3)), "no observed entry"),
        (np.ones(4), "expected a 2-D matrix"),
        (np.array([[1.0, np.nan]]), "not a finite number"),
    ],
    ids=["all-missing", "1-d", "nan"],
)
def test_bad_matrix(X, message):
    with pytest.raises(DataError, match=message):
        hide(X, 0.5)


def test_bad_seed(ratings):
    with pytest.raises(DataError, match="seed must be a whole number from 0"):
        hide(ratings, 0.1, seed=-1)


# ---------------------------------------------------------------- the score


def test_holdout_rmse_by_hand():
    X = np.array([[4.0, 2.0], [0.0, 5.0]])
    holdout = Holdout(np.array([[4.0, 0.0], [0.0, 0.0]]), np.array([[False, True], [False, True]]), 0.5, 0)
    X_pred = np.array([[4.0, 3.0], [9.0, 2.0]])
    # hidden entries: (0, 1) off by 1, (1, 1) off by 3; the unhidden (1, 0) is ignored
    assert holdout_rmse(X, holdout, X_pred) == pytest.approx(np.sqrt((1 + 9) / 2))


def test_holdout_rmse_is_rmse_on_the_hidden_entries(ratings):
    holdout = hide(ratings, 0.3, 4)
    X_pred = np.where(ratings != 0, ratings, 3.0) + np.random.RandomState(0).normal(0, 0.5, ratings.shape)
    assert holdout_rmse(ratings, holdout, X_pred) == rmse(ratings, X_pred, holdout.hidden)
    assert holdout_rmse(ratings, holdout, ratings) == 0.0


def test_holdout_rmse_needs_matching_shapes(ratings):
    holdout = hide(ratings, 0.3)
    with pytest.raises(DataError, match="X_pred is 60 x 39 but X is 60 x 40"):
        holdout_rmse(ratings, holdout, ratings[:, :-1])
    with pytest.raises(DataError, match="the held-out mask is 60 x 40 but X is 59 x 40"):
        holdout_rmse(ratings[:-1], holdout, ratings[:-1])
