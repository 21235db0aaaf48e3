"""The built-in data sets: the same everywhere, the shapes their descriptions promise, and useful for EM."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from em_core import builtin, em, experiment
from em_core.data import BUILTIN, check_gold, load_dataset

RATING_SETS = ("demo-small", "demo-large")
GENERATORS = {
    "demo-2d": builtin.blobs_2d,
    "demo-small": builtin.small_ratings,
    "demo-large": builtin.large_ratings,
}


def as_bytes(value) -> bytes:
    arrays = value if isinstance(value, tuple) else (value,)
    return b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)


@pytest.fixture
def global_random_state():
    """Restore numpy's global random state after a test that changes it."""
    state = np.random.get_state()
    yield
    np.random.set_state(state)


@pytest.mark.parametrize("name", list(GENERATORS))
def test_same_bytes_whatever_the_global_seed(name, global_random_state):
    # a user on another machine (or after other code touched np.random) sees the same data
    np.random.seed(1)
    first = GENERATORS[name]()
    np.random.seed(2)
    np.random.random_sample(17)
    second = GENERATORS[name]()
    assert as_bytes(first) == as_bytes(second)


@pytest.mark.parametrize(
    ("name", "shape", "has_gold"),
    [
        ("demo-2d", (300, 2), False),
        ("demo-small", (20, 5), True),
        ("demo-large", (1200, 1200), True),
    ],
)
def test_shape_is_the_one_described(name, shape, has_gold):
    dataset = load_dataset(name)
    assert dataset.X.shape == shape
    assert (dataset.gold is not None) == has_gold
    # the description a user picks from names the size
    description = BUILTIN[name][0]
    assert str(shape[0]) in description


def test_demo_2d_is_finite_points_in_several_places():
    X = load_dataset("demo-2d").X
    assert np.isfinite(X).all()
    # four clusters: the points spread over both axes, not one blob around the origin
    assert (X[:, 0] < -1).any() and (X[:, 0] > 1).any()
    assert (X[:, 1] < -1).any() and (X[:, 1] > 1).any()


@pytest.mark.parametrize("name", RATING_SETS)
def test_ratings_are_whole_stars_from_1_to_5(name):
    dataset = load_dataset(name)
    assert set(np.unique(dataset.gold)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    assert set(np.unique(dataset.X)) <= {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}


@pytest.mark.parametrize("name", RATING_SETS)
def test_every_user_has_an_observed_rating(name):
    X = load_dataset(name).X
    assert (X != 0).any(axis=1).all()


@pytest.mark.parametrize("name", RATING_SETS)
def test_gold_agrees_with_every_observed_rating(name):
    dataset = load_dataset(name)
    observed = dataset.X != 0
    np.testing.assert_array_equal(dataset.gold[observed], dataset.X[observed])
    check_gold(dataset.X, dataset.gold, name, f"{name} gold")  # the loader's own check passes too


def test_demo_large_misses_about_23_percent():
    # The description promises "23 % missing", i.e. 22.5-23.5 % after rounding. With 1.44 million entries
    # hidden independently the share's standard deviation is about 0.035 points, so only a change
    # in the generator can break this bound.
    X = load_dataset("demo-large").X
    share = float(np.mean(X == 0))
    assert 0.225 <= share <= 0.235


def test_demo_small_has_something_to_complete():
    # 100 entries, about a quarter hidden: there must be gaps, yet most ratings are seen
    X = load_dataset("demo-small").X
    assert 0 < np.mean(X == 0) < 0.5


@given(
    n_users=st.integers(1, 30),
    n_items=st.integers(1, 8),
    n_clusters=st.integers(1, 4),
    missing=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**32 - 1),
)
def test_planted_ratings_keep_a_rating_per_user_and_agree_with_gold(n_users, n_items, n_clusters, missing, seed):
    X, gold = builtin.planted_ratings(n_users, n_items, n_clusters, missing, seed)
    assert X.shape == gold.shape == (n_users, n_items)
    assert (X != 0).any(axis=1).all()  # even when every entry was to be hidden
    observed = X != 0
    np.testing.assert_array_equal(X[observed], gold[observed])
    assert ((gold >= 1) & (gold <= 5)).all()


def test_em_with_12_types_completes_demo_large_better_than_one():
    # demo-large is planted with 12 user types: a mixture of 12 must predict the hidden ratings
    # clearly better than a single Gaussian (which predicts roughly each item's mean). The types'
    # tastes differ by about 0.9 stars per item against 0.55 of noise, so 10 % is a loose floor.
    dataset = load_dataset("demo-large")
    scores = {}
    for K in (1, 12):
        run = experiment.fit(dataset.X, "em", K, seed=0)
        filled = em.fill_matrix(dataset.X, run.mixture)
        scores[K] = experiment.completion_scores(dataset.X, dataset.gold, filled).rmse_missing
    assert scores[12] < 0.9 * scores[1]
