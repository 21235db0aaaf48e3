"""em_core.lockstep: K-means and EM from the same start, one iteration each per step."""

from __future__ import annotations

import numpy as np
import pytest

from em_core import DataError, kmeans, lockstep, naive_em
from em_core.data import load_dataset
from em_core.initialisation import initial_mixture, kmeans_plusplus_rows
from tests.lockstep_reference import separate_runs

X = load_dataset("demo-2d").X
K = 4


@pytest.mark.parametrize("init_with", ["course", "kmeans++"])
def test_both_start_from_the_same_means(init_with):
    pair = lockstep.start(X, K, seed=3, init_with=init_with)
    np.testing.assert_array_equal(pair.kmeans.mixture.mu, pair.em.mixture.mu)
    if init_with == "kmeans++":
        np.testing.assert_array_equal(pair.em.mixture.mu, X[kmeans_plusplus_rows(X, K, 3)])
    assert pair.iteration == 0 and not pair.converged


@pytest.mark.parametrize("steps", [1, 2, 5])
def test_steps_equal_separate_runs(steps):
    algorithms = lockstep.Algorithms()
    pair = lockstep.start(X, K, seed=1)
    for _ in range(steps):
        pair = lockstep.step(algorithms, X, pair)
    km, em = separate_runs(X, K, 1, "course", steps)
    assert pair.kmeans.scores == km.scores and pair.em.scores == em.scores
    np.testing.assert_array_equal(pair.kmeans.mixture.mu, km.mixture.mu)
    np.testing.assert_array_equal(pair.em.post, em.post)


def test_a_converged_fit_waits_for_the_other():
    algorithms = lockstep.Algorithms()
    pair = lockstep.start(X, K, seed=0)
    while not pair.converged:
        pair = lockstep.step(algorithms, X, pair)
    _, _, cost = kmeans.run(X, *initial_mixture(X, K, 0))
    _, _, ll = naive_em.run(X, *initial_mixture(X, K, 0))
    assert pair.kmeans.score == cost and pair.em.score == pytest.approx(ll, rel=1e-12)
    # on demo-2d K-means settles in fewer iterations than EM; its state stayed at its own end
    assert pair.kmeans.iteration < pair.em.iteration == pair.iteration
    km_view, em_view = lockstep.views(algorithms, X, pair, pair.iteration)
    assert km_view.iteration == pair.kmeans.iteration and em_view.iteration == pair.em.iteration


def test_placed_means_start_both_and_bad_ones_are_refused():
    means = np.array([[-3.0, 3.0], [3.0, 3.0], [-3.0, -3.0], [3.0, -3.0]])
    pair = lockstep.start(X, K, init_with=means)
    np.testing.assert_array_equal(pair.kmeans.mixture.mu, means)
    with pytest.raises(DataError, match=r"means row 2 repeats the mean of row 1 \(-3, 3\); give 4 different means"):
        lockstep.start(X, K, init_with=np.array([[-3.0, 3.0], [-3.0, 3.0], [0, 0], [1, 1]]))
    with pytest.raises(DataError, match="means holds 2 means but K is 4"):
        lockstep.start(X, K, init_with=means[:2])


def test_disagreements_compare_hard_clusters_with_the_strongest_component():
    hard = np.eye(3)[[0, 1, 2, 2]]
    soft = np.array([[0.9, 0.1, 0.0], [0.6, 0.4, 0.0], [0.2, 0.2, 0.6], [0.5, 0.0, 0.5]])
    # row 1: EM prefers component 0; row 3: a tie goes to the lower index (0), K-means said 2
    np.testing.assert_array_equal(lockstep.disagreements(hard, soft), [1, 3])
