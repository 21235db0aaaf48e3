"""The E-step's reuse of settled means' distances and the M-step's sums over few rows.

Both save passes over the data once a mixture settles (components collapsed onto one user);
neither may change what a fit computes beyond the order of a sum.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dashboard import byte_cache
from em_core import _kernels, builtin, em, stepping
from em_core.distance_memo import DistanceMemo
from em_core.mixture import init


def _ratings(n=400, d=200, seed=5):
    X, _ = builtin.planted_ratings(n, d, 5, 0.6, seed=seed)
    return X


def _spy_fresh(monkeypatch) -> list[int]:
    """The number of means each call to ``_kernels._sq_distances`` computed from the data."""
    computed: list[int] = []
    real = _kernels._sq_distances

    def spy(data, mu, exact_ties=False):
        computed.append(mu.shape[0])
        return real(data, mu, exact_ties)

    monkeypatch.setattr(_kernels, "_sq_distances", spy)
    return computed


def test_a_mean_that_comes_back_bit_for_bit_reuses_its_distances_and_any_change_recomputes(monkeypatch):
    X = _ratings()
    data = em.prepare(X)
    mu = init(X, 6, 0)[0].mu
    first = _kernels.sq_distances(data, mu)
    expected_first = first.copy()
    first[:] = -1.0  # the caller overwrites its distances (log_joint does): the memo kept its own copy
    moved = mu.copy()
    moved[1, 3] += 0.5
    moved[4, 0] = np.nextafter(moved[4, 0], np.inf)  # one unit in the last place is a new mean
    computed = _spy_fresh(monkeypatch)
    second = _kernels.sq_distances(data, moved)
    assert computed == [2]
    kept = [0, 2, 3, 5]
    np.testing.assert_array_equal(second[:, kept], expected_first[:, kept])
    np.testing.assert_allclose(second, _kernels._sq_distances(data, moved), rtol=1e-13, atol=0)


def test_negative_zero_is_a_different_mean_for_the_memo(monkeypatch):
    X = _ratings()
    data = em.prepare(X)
    mu = init(X, 3, 0)[0].mu.copy()
    mu[2, 0] = 0.0
    _kernels.sq_distances(data, mu)
    flipped = mu.copy()
    flipped[2, 0] = -0.0
    computed = _spy_fresh(monkeypatch)
    _kernels.sq_distances(data, flipped)
    assert computed == [1]


def test_means_given_as_float32_or_integers_are_remembered_as_the_float64_they_stand_for(monkeypatch):
    X = _ratings()
    data = em.prepare(X)
    mu = init(X, 5, 0)[0].mu  # users' ratings: whole numbers
    for given in (mu.astype(np.float32), mu.astype(np.int64)):
        data.memo.clear()
        first = _kernels.sq_distances(data, given)
        computed = _spy_fresh(monkeypatch)
        again = _kernels.sq_distances(data, mu)  # the same means in float64: reused
        assert computed == []
        np.testing.assert_array_equal(again, first)
        monkeypatch.undo()
        np.testing.assert_allclose(first, _kernels._sq_distances(data, mu), rtol=1e-13)


def test_kmeans_exact_ties_and_small_matrices_compute_every_distance(monkeypatch):
    X = _ratings()
    data = em.prepare(X)
    mu = init(X, 4, 0)[0].mu
    _kernels.sq_distances(data, mu)
    computed = _spy_fresh(monkeypatch)
    _kernels.sq_distances(data, mu, exact_ties=True)
    assert computed == [4]
    small = em.prepare(builtin.small_ratings()[0])
    assert small.memo is None  # a product this small costs less than a lookup
    _kernels.sq_distances(small, small.X[:2])
    _kernels.sq_distances(small, small.X[:2])
    assert computed == [4, 2, 2]


def _collapsing_fit():
    """A fit in which components collapse onto single users and stop moving (as on the course's matrix)."""
    X = _ratings(n=500, d=240, seed=11)
    mixture, post = init(X, 12, 3)
    return X, mixture, post


def test_a_fit_that_reuses_distances_and_sums_few_rows_matches_one_that_does_not(monkeypatch):
    X, mixture, post = _collapsing_fit()
    reference_data = em.prepare(X)._replace(memo=None)
    with monkeypatch.context() as m:
        m.setattr(_kernels, "FEW_ROWS_SHARE", 0.0)
        reference = stepping.run(em.algorithm(), reference_data, stepping.start(mixture, post))
    computed = _spy_fresh(monkeypatch)
    sliced = []
    real_t_times = _kernels.t_times
    monkeypatch.setattr(_kernels, "t_times", lambda left, p: sliced.append(p.shape[1]) or real_t_times(left, p))
    state = stepping.run(em.algorithm(), em.prepare(X), stepping.start(mixture, post))
    # the saving happened: some E-steps computed fewer than 12 means, some M-steps summed fewer columns
    assert min(computed) < 12 and min(sliced) < 12
    assert state.iteration == reference.iteration
    np.testing.assert_allclose(state.scores, reference.scores, rtol=1e-13)
    np.testing.assert_allclose(state.mixture.mu, reference.mixture.mu, rtol=1e-11, atol=1e-11)
    np.testing.assert_allclose(state.mixture.var, reference.mixture.var, rtol=1e-11)
    np.testing.assert_allclose(state.mixture.p, reference.mixture.p, rtol=1e-12)


def test_fits_sharing_one_prepared_matrix_in_threads_get_their_own_results():
    # the dashboard's sessions share a prepared matrix: one fit's means never answer another's
    X, mixture, post = _collapsing_fit()
    other_mixture, other_post = init(X, 12, 4)
    alone = [
        stepping.run(em.algorithm(), em.prepare(X), stepping.start(m, p))
        for m, p in ((mixture, post), (other_mixture, other_post))
    ]
    shared = em.prepare(X)

    def fit(start):
        return stepping.run(em.algorithm(), shared, stepping.start(*start))

    for _ in range(3):
        with ThreadPoolExecutor(2) as pool:
            together = list(pool.map(fit, [(mixture, post), (other_mixture, other_post)] * 2))
        for state, reference in zip(together, alone * 2, strict=True):
            assert state.iteration == reference.iteration
            np.testing.assert_allclose(state.scores, reference.scores, rtol=1e-13)
            np.testing.assert_allclose(state.mixture.mu, reference.mixture.mu, rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("seed", range(4))
def test_sums_over_few_rows_equal_the_product_over_all_rows(seed):
    rng = np.random.default_rng(seed)
    n, e, K = 320, 90, 9
    left = rng.normal(size=(n, e))
    post = rng.random((n, K))
    post[:, 2] = 0.0
    post[rng.integers(n), 2] = 1.0  # collapsed onto one row
    post[:, 5] = 0.0
    post[rng.choice(n, 7, replace=False), 5] = rng.random(7)  # a few rows
    post[:, 7] = 0.0  # no weight at all
    got = _kernels.weighted_rows(left, post)
    np.testing.assert_allclose(got, post.T @ left, rtol=1e-12, atol=1e-12)
    row = np.nonzero(post[:, 2])[0][0]
    np.testing.assert_array_equal(got[2], post[row, 2] * left[row])  # one term: exactly its product
    np.testing.assert_array_equal(got[7], 0.0)


def test_the_memo_forgets_on_clear_and_keeps_only_the_last_call():
    memo = DistanceMemo(max_entries=100)
    mu = np.arange(12.0).reshape(3, 4)
    memo.remember(mu, np.ones((5, 3)))
    found, _ = memo.reusable(mu[::-1].copy())
    np.testing.assert_array_equal(found, [2, 1, 0])
    memo.remember(mu[:1] + 1.0, np.ones((5, 1)))
    found, _ = memo.reusable(mu)
    np.testing.assert_array_equal(found, [-1, -1, -1])
    memo.clear()
    assert memo.reusable(mu[:1] + 1.0)[1] is None


def test_the_memo_keeps_no_more_than_its_bound_and_a_cache_counts_the_bound():
    memo = DistanceMemo(max_entries=50)
    mu = np.arange(12.0).reshape(3, 4)
    memo.remember(mu, np.ones((10, 3)))  # 12 + 30 numbers: kept
    assert memo.reusable(mu)[1] is not None
    memo.remember(mu, np.ones((20, 3)))  # 12 + 60: over the bound, and the last call is forgotten
    assert memo.reusable(mu)[1] is None
    assert sys.getsizeof(memo) >= 8 * 50
    data = em.prepare(_ratings())
    assert data.memo.max_entries == data.stacked.size // _kernels.MEMO_SHARE
    assert byte_cache.nbytes(data) >= data.stacked.nbytes + 8 * data.memo.max_entries
