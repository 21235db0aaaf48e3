"""EM on complete data (em_core.naive_em): scikit-learn from the same start, hand cases, the course's BIC answer,
and properties."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture as SklearnMixture

from em_core import builtin, naive_em, stepping
from em_core.mixture import VAR_FLOOR, GaussianMixture, bic, init
from tests import course_reference as ref

#: The course's documented answer for toy_data.txt: BIC (best of seeds 0-4 per K, K = 1..4) picks K = 3.
COURSE_BEST_K_TOY = 3


# ---------------------------------------------------------------- helpers


def naive_iterations(X, mixture, n_iter, stop_when_degenerate=False):
    """``n_iter`` E+M iterations; returns the mixture and the LL of every E-step.

    With ``stop_when_degenerate``, stop before the E-step of a mixture with a variance below
    ``VAR_FLOOR``: a component collapsing onto identical rows, whose course LL grows
    without bound and ends in NaN (the course divides by a variance of 0), where em_core's
    guards stand in.
    """
    log_likelihoods = []
    for _ in range(n_iter):
        if stop_when_degenerate and np.any(mixture.var < VAR_FLOOR):
            break
        post, log_likelihood = naive_em.estep(X, mixture)
        log_likelihoods.append(log_likelihood)
        mixture = naive_em.mstep(X, post, mixture)
    return mixture, log_likelihoods


def sklearn_fit(X, mixture, n_iter):
    """scikit-learn's spherical GaussianMixture started from ``mixture``, stopped after ``n_iter`` M-steps.

    ``tol=0`` never declares convergence, so fit() does exactly ``max_iter`` E+M iterations
    (its final E-step only labels the data; the parameters stay those of the last M-step).
    """
    model = SklearnMixture(
        n_components=mixture.n_components,
        covariance_type="spherical",
        reg_covar=0.0,
        tol=0.0,
        max_iter=n_iter,
        weights_init=mixture.p,
        means_init=mixture.mu,
        precisions_init=1.0 / mixture.var,
        init_params="random",  # unused: every parameter is given; "random" just skips a K-means run
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X)
    return model


def as_mixture(model):
    return GaussianMixture(model.means_, model.covariances_, model.weights_)


def assert_agrees_with_sklearn(X, K, seed, n_iter):
    start, _ = init(X, K, seed)
    ours, _ = naive_iterations(X, start, n_iter)
    theirs = sklearn_fit(X, start, n_iter)
    np.testing.assert_allclose(ours.mu, theirs.means_, rtol=1e-7, err_msg="means")
    np.testing.assert_allclose(ours.var, theirs.covariances_, rtol=1e-7, err_msg="variances")
    np.testing.assert_allclose(ours.p, theirs.weights_, rtol=1e-7, err_msg="weights")
    # the same parameters give the same log-likelihood: scikit-learn's score is the mean per row
    _, log_likelihood = naive_em.estep(X, as_mixture(theirs))
    assert log_likelihood == pytest.approx(theirs.score(X) * X.shape[0], rel=1e-10)


# ---------------------------------------------------------------- scikit-learn from the same start


@pytest.mark.parametrize(
    "K, seed, n_iter",
    [
        (2, 0, 1),
        (3, 0, 10),
        (4, 1, 40),
        (4, 3, 100),  # long enough to reach the optimum
        (1, 0, 5),  # one component: closed form after the first M-step
    ],
)
def test_agrees_with_sklearn_on_blobs(K, seed, n_iter):
    assert_agrees_with_sklearn(builtin.blobs_2d(), K, seed, n_iter)


@pytest.mark.course
@pytest.mark.parametrize("K, seed, n_iter", [(1, 0, 3), (2, 1, 20), (3, 0, 50), (4, 4, 50)])
def test_agrees_with_sklearn_on_toy_data(course_matrix, K, seed, n_iter):
    assert_agrees_with_sklearn(course_matrix("toy_data.txt"), K, seed, n_iter)


@pytest.mark.course
def test_bic_picks_the_course_answer_on_toy_data(course_matrix):
    X = course_matrix("toy_data.txt")
    scores = {}
    for K in range(1, 5):
        best_ll = max(naive_em.run(X, *init(X, K, seed))[2] for seed in range(5))
        mixture = GaussianMixture(np.zeros((K, X.shape[1])), np.ones(K), np.full(K, 1 / K))  # BIC uses K and d only
        scores[K] = bic(X, mixture, best_ll)
    assert max(scores, key=scores.get) == COURSE_BEST_K_TOY, scores


# ---------------------------------------------------------------- hand cases


def test_mstep_by_hand_one_dimension():
    X = np.array([[0.0], [2.0], [4.0]])
    post = np.array([[1.0, 0.0], [0.5, 0.5], [0.0, 1.0]])
    mixture = naive_em.mstep(X, post)
    # nk = 1.5 each; mu_0 = (0 + 0.5*2) / 1.5; var_0 = (1*(0 - 2/3)^2 + 0.5*(2 - 2/3)^2) / 1.5 = 8/9
    np.testing.assert_allclose(mixture.mu, [[2 / 3], [10 / 3]], rtol=1e-14)
    np.testing.assert_allclose(mixture.var, [8 / 9, 8 / 9], rtol=1e-14)
    np.testing.assert_allclose(mixture.p, [0.5, 0.5], rtol=1e-14)


def test_variance_is_pooled_over_dimensions():
    # two points at (0, 0) and (2, 2): mean (1, 1), squared distances 2 + 2 over n*d = 4 entries
    mixture = naive_em.mstep(np.array([[0.0, 0.0], [2.0, 2.0]]), np.ones((2, 1)))
    np.testing.assert_allclose(mixture.mu, [[1.0, 1.0]])
    np.testing.assert_allclose(mixture.var, [1.0])


def test_estep_by_hand():
    X = np.array([[0.0, 1.0]])
    mixture = GaussianMixture(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1.0, 2.0]), np.array([0.25, 0.75]))
    # log N(x; mu, var I) in 2-D = -log(2 pi var) - |x - mu|^2 / (2 var)
    f = np.log([0.25, 0.75]) - np.log(2 * np.pi * np.array([1.0, 2.0])) - np.array([1.0, 1.0]) / (2 * np.array([1, 2]))
    post, log_likelihood = naive_em.estep(X, mixture)
    assert log_likelihood == pytest.approx(np.log(np.exp(f).sum()), rel=1e-14)
    np.testing.assert_allclose(post[0], np.exp(f) / np.exp(f).sum(), rtol=1e-14)


# ---------------------------------------------------------------- properties


@st.composite
def complete_matrices(draw, max_n=30, max_d=8):
    """Complete data (0 is an ordinary value): ratings 1-5, values far from 1-5, or a constant."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    kind = draw(st.sampled_from(["ratings", "far", "constant"]))
    if kind == "ratings":
        return draw(hnp.arrays(np.float64, (n, d), elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])))
    if kind == "far":
        element = st.one_of(st.sampled_from([1e4, -50.0, 0.0]), st.floats(-50.0, 1e4, allow_subnormal=False))
        return draw(hnp.arrays(np.float64, (n, d), elements=element))
    return np.full((n, d), draw(st.sampled_from([3.0, 1e4, -50.0, 0.0])))


@st.composite
def naive_problems(draw):
    X = draw(complete_matrices())
    K = draw(st.integers(1, X.shape[0]))
    seed = draw(st.integers(0, 2**32 - 1))
    return X, K, seed


def assert_finite_mixture(mixture):
    for name, values in zip(GaussianMixture._fields, mixture, strict=True):
        assert np.all(np.isfinite(values)), f"{name} is not finite: {values}"


@given(naive_problems())
def test_log_likelihood_never_falls(problem):
    X, K, seed = problem
    _, log_likelihoods = naive_iterations(X, init(X, K, seed)[0], n_iter=30, stop_when_degenerate=True)
    for old, new in zip(log_likelihoods, log_likelihoods[1:], strict=False):
        # EM cannot lower the LL; the slack covers rounding in a sum of n log-sum-exps
        # (each good to ~1e-15 relative), far below any real fall
        assert new >= old - 1e-9 * abs(old), log_likelihoods


@given(naive_problems())
def test_iterations_keep_posteriors_normalised_and_everything_finite(problem):
    X, K, seed = problem
    mixture, _ = init(X, K, seed)
    for _ in range(5):
        post, log_likelihood = naive_em.estep(X, mixture)
        assert np.all(np.isfinite(post)) and np.isfinite(log_likelihood)
        np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)
        mixture = naive_em.mstep(X, post, mixture)
        assert_finite_mixture(mixture)
        assert np.all(mixture.var > 0)


@given(naive_problems())
def test_run_terminates(problem):
    X, K, seed = problem
    state = stepping.run(naive_em.algorithm(), X, stepping.start(*init(X, K, seed), max_history=1), 10_000)
    assert state.converged, f"not converged after {state.iteration} iterations; last scores {state.scores[-3:]}"
    assert np.isfinite(state.score)


@given(naive_problems(), st.integers(0, 2**32 - 1))
def test_mstep_does_not_modify_its_inputs(problem, post_seed):
    X, K, seed = problem
    mixture, _ = init(X, K, seed)
    post = np.random.RandomState(post_seed).dirichlet(np.ones(K), size=X.shape[0])
    before = (X.copy(), post.copy(), [a.copy() for a in mixture])
    new = naive_em.mstep(X, post, mixture)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(post, before[1])
    for old, kept in zip(mixture, before[2], strict=True):
        np.testing.assert_array_equal(old, kept)
    for fresh in new:
        assert not any(np.shares_memory(fresh, a) for a in (X, post, *mixture))


@given(naive_problems(), st.integers(0, 2**32 - 1), st.data())
def test_component_without_users_keeps_finite_parameters(problem, post_seed, data):
    X, K, seed = problem
    assume(K >= 2)
    mixture, _ = init(X, K, seed)
    dead = data.draw(st.integers(0, K - 1), label="dead component")
    post = np.random.RandomState(post_seed).dirichlet(np.ones(K), size=X.shape[0])
    post[:, dead] = 0.0
    post /= post.sum(axis=1, keepdims=True)
    after = naive_em.mstep(X, post, mixture)
    assert_finite_mixture(after)
    np.testing.assert_array_equal(after.mu[dead], mixture.mu[dead])
    assert after.var[dead] == mixture.var[dead]
    assert after.p[dead] == 0.0
    new_post, log_likelihood = naive_em.estep(X, after)
    assert np.all(np.isfinite(new_post)) and np.isfinite(log_likelihood)
    assert np.all(new_post[:, dead] == 0.0)


# ---------------------------------------------------------------- near-duplicate points: no variance floor


def test_near_duplicate_pairs_keep_the_courses_tiny_variance():
    # two pairs of points 1e-7 apart: each pair's SSE is 2 (0.5e-7)^2 = 5e-15 over n_j d = 4
    # entries, so the course's variance is 1.25e-15 (a 1e-12 floor made the LL 100.395, not 123.138)
    X = np.array([[0.0, 0.0], [1e-7, 0.0], [5.0, 5.0], [5.0 + 1e-7, 5.0]])
    post = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    mixture = naive_em.mstep(X, post)
    expected = ref.naive_mstep(X, post)
    assert mixture.var[0] == pytest.approx(1.25e-15, rel=1e-9)
    np.testing.assert_allclose(mixture.var, expected.var, rtol=1e-9)
    _, log_likelihood = naive_em.estep(X, mixture)
    assert log_likelihood == pytest.approx(ref.naive_estep(X, expected)[1], rel=1e-9)
    assert log_likelihood == pytest.approx(123.138, abs=1e-3)


def test_a_component_on_identical_rows_gets_a_finite_variance():
    # the course's variance is exactly 0 here and its next E-step divides by it
    X = np.array([[2.0], [2.0], [7.0]])
    post = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    previous = GaussianMixture(np.array([[1.0], [6.0]]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    mixture = naive_em.mstep(X, post, previous)
    np.testing.assert_array_equal(mixture.var, [VAR_FLOOR, VAR_FLOOR])
    new_post, log_likelihood = naive_em.estep(X, mixture)
    assert np.all(np.isfinite(new_post)) and np.isfinite(log_likelihood)
