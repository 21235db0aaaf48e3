"""K-means (em_core.kmeans): hand cases, a loop reference, scikit-learn's Lloyd from the same start, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.cluster import KMeans

from em_core import builtin, kmeans, stepping
from em_core.mixture import GaussianMixture, init
from tests import course_reference as ref


def mixture_at(mu):
    mu = np.asarray(mu, dtype=float)
    K = mu.shape[0]
    return GaussianMixture(mu, np.ones(K), np.full(K, 1.0 / K))


def reference_mstep(X, labels, previous_mu):
    """Means, ``var_j = SSE_j / (n_j d)``, ``p_j = n_j / n`` and the cost, one cluster at a time."""
    n, d = X.shape
    K = previous_mu.shape[0]
    mu = previous_mu.copy()
    var = np.zeros(K)
    p = np.zeros(K)
    cost = 0.0
    for j in range(K):
        members = X[labels == j]
        if len(members) == 0:
            continue
        mu[j] = members.mean(axis=0)
        sse = ((members - mu[j]) ** 2).sum()
        var[j] = sse / (len(members) * d)
        p[j] = len(members) / n
        cost += sse
    return GaussianMixture(mu, var, p), cost


# ---------------------------------------------------------------- assignments


@pytest.mark.parametrize(
    "X, mu, expected",
    [
        ([[0.0]], [[-1.0], [1.0]], [0]),
        ([[0.0]], [[1.0], [-1.0]], [0]),  # the same tie with the means swapped: still the lower index
        ([[1.0, 2.0]], [[0.0, 2.0], [2.0, 2.0]], [0]),  # midway in 2-D
        ([[1.0, 1.0], [5.0, 5.0]], [[1.0, 1.0], [1.0, 1.0], [5.0, 5.0]], [0, 2]),  # duplicate means
        ([[3.0], [0.9], [9.0]], [[1.0], [3.0], [8.0]], [1, 0, 2]),  # no tie: the nearest
    ],
)
def test_rows_go_to_the_nearest_mean_and_ties_to_the_lower_index(X, mu, expected):
    post = kmeans.estep(np.array(X), mixture_at(mu))
    np.testing.assert_array_equal(post, np.eye(len(mu))[expected])


def test_empty_cluster_keeps_its_mean_with_finite_parameters():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    previous = mixture_at([[0.5], [2.5], [100.0]])  # nobody is near 100
    post = kmeans.estep(X, previous)
    assert post[:, 2].sum() == 0
    mixture, cost = kmeans.mstep(X, post, previous)
    assert mixture.mu[2, 0] == 100.0
    assert mixture.var[2] == 0.0 and mixture.p[2] == 0.0
    for values in mixture:
        assert np.all(np.isfinite(values))
    np.testing.assert_allclose(mixture.mu[:2, 0], [0.5, 2.5])
    # each kept cluster holds two points 0.5 from its mean: SSE 0.5, var 0.5 / (2 * 1)
    np.testing.assert_allclose(mixture.var[:2], [0.25, 0.25])
    assert cost == pytest.approx(1.0)


@pytest.mark.parametrize("n, d, K, seed", [(30, 2, 3, 0), (50, 5, 4, 1), (12, 3, 12, 2), (40, 1, 2, 3)])
def test_mstep_matches_loop_reference(n, d, K, seed):
    X = np.random.RandomState(seed).standard_normal((n, d)) * 3
    start, _ = init(X, K, seed)
    post = kmeans.estep(X, start)
    mixture, cost = kmeans.mstep(X, post, start)
    expected, expected_cost = reference_mstep(X, post.argmax(axis=1), start.mu)
    np.testing.assert_allclose(mixture.mu, expected.mu, rtol=1e-12)
    np.testing.assert_allclose(mixture.var, expected.var, rtol=1e-10)
    np.testing.assert_allclose(mixture.p, expected.p, rtol=1e-14)
    assert cost == pytest.approx(expected_cost, rel=1e-10)


# ---------------------------------------------------------------- scikit-learn and the course


def assert_agrees_with_sklearn(X, K, seed):
    start, post = init(X, K, seed)
    mixture, post, cost = kmeans.run(X, start, post)
    # Lloyd from the same centres; tol=0 iterates until the labels stop changing
    theirs = KMeans(K, init=start.mu, n_init=1, algorithm="lloyd", tol=0.0, max_iter=1000).fit(X)
    np.testing.assert_array_equal(post.argmax(axis=1), theirs.labels_)
    np.testing.assert_allclose(mixture.mu, theirs.cluster_centers_, rtol=1e-10)
    assert cost == pytest.approx(theirs.inertia_, rel=1e-10)


@pytest.mark.parametrize("K, seed", [(2, 0), (3, 1), (4, 2), (5, 4)])
def test_run_agrees_with_sklearn_lloyd_on_blobs(K, seed):
    assert_agrees_with_sklearn(builtin.blobs_2d(), K, seed)


@pytest.mark.course
@pytest.mark.parametrize("K, seed", [(1, 0), (2, 3), (3, 0), (4, 4)])
def test_run_agrees_with_sklearn_lloyd_on_toy_data(course_matrix, K, seed):
    assert_agrees_with_sklearn(course_matrix("toy_data.txt"), K, seed)


@pytest.mark.course
def test_best_cost_falls_as_k_grows_on_toy_data(course_matrix):
    X = course_matrix("toy_data.txt")
    best = [min(kmeans.run(X, *init(X, K, seed))[2] for seed in range(5)) for K in range(1, 5)]
    assert all(later < earlier for earlier, later in zip(best, best[1:], strict=False)), best


@pytest.mark.course
def test_costs_never_rise_on_toy_data(course_matrix):
    X = course_matrix("toy_data.txt")
    state = stepping.run(kmeans.algorithm(), X, stepping.start(*init(X, 4, seed=0)))
    assert state.converged and state.iteration >= 2
    assert all(later <= earlier for earlier, later in zip(state.scores, state.scores[1:], strict=False))


# ---------------------------------------------------------------- properties


@st.composite
def kmeans_problems(draw, max_n=30, max_d=8):
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    kind = draw(st.sampled_from(["ratings", "far", "constant"]))
    if kind == "ratings":
        X = draw(hnp.arrays(np.float64, (n, d), elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])))
    elif kind == "far":
        element = st.one_of(st.sampled_from([1e4, -50.0, 0.0]), st.floats(-50.0, 1e4, allow_subnormal=False))
        X = draw(hnp.arrays(np.float64, (n, d), elements=element))
    else:
        X = np.full((n, d), draw(st.sampled_from([3.0, 1e4, -50.0])))
    K = draw(st.integers(1, n))
    seed = draw(st.integers(0, 2**32 - 1))
    return X, K, seed


@given(kmeans_problems())
def test_run_terminates_with_falling_costs_and_one_hot_posts(problem):
    X, K, seed = problem
    state = stepping.run(kmeans.algorithm(), X, stepping.start(*init(X, K, seed), max_history=1), max_iter=1000)
    assert state.converged, f"not converged after {state.iteration} iterations"
    for earlier, later in zip(state.scores, state.scores[1:], strict=False):
        # Lloyd's two steps can only lower the cost; the slack is rounding in a sum of n*d squares
        assert later <= earlier + 1e-12 * earlier, state.scores
    assert set(np.unique(state.post)) <= {0.0, 1.0}
    np.testing.assert_array_equal(state.post.sum(axis=1), 1.0)
    for values in state.mixture:
        assert np.all(np.isfinite(values))


@given(kmeans_problems(), st.data())
def test_a_duplicated_mean_never_wins_over_its_lower_copy(problem, data):
    X, K, seed = problem
    mixture, _ = init(X, K, seed)
    source = data.draw(st.integers(0, K - 1), label="copied mean")
    mu = np.vstack([mixture.mu, mixture.mu[source]])  # the copy gets index K, above its original
    post = kmeans.estep(X, mixture_at(mu))
    assert post[:, K].sum() == 0


# ---------------------------------------------------------------- exact ties (the course's direct distances)


def test_an_exact_tie_far_from_zero_goes_to_the_lower_index():
    # 1005 is at squared distance exactly 4 from 1003 and from 1007; expanded around the
    # column mean, one of the two came out 4.000000000000001 and the row went to the higher index
    X = np.array([[1007.0], [1004.0], [1001.0], [1004.0], [1005.0]])
    post = kmeans.estep(X, mixture_at([[1003.0], [1007.0]]))
    np.testing.assert_array_equal(post.argmax(axis=1), [1, 0, 0, 0, 0])


@pytest.mark.parametrize("seed", [0, 9, 22, 190])  # seeds where rounding once led to another local optimum
def test_run_on_an_integer_grid_ends_where_the_course_ends(seed):
    X = np.random.RandomState(seed).randint(0, 10, size=(30, 2)).astype(float)
    start, post = init(X, 7, seed)
    mixture, post, cost = kmeans.run(X, start, post)
    expected, expected_post, expected_cost, _ = ref.kmeans_run(X, ref.init(X, 7, seed)[0])
    np.testing.assert_array_equal(post, expected_post)
    assert cost == pytest.approx(expected_cost, rel=1e-12)
    np.testing.assert_array_equal(mixture.mu, expected.mu)  # the course's post @ X / n_j, bit for bit
