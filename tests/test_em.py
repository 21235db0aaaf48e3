"""EM on incomplete data (em_core.em): the course's numbers, a loop reference, EM on complete data, properties."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import _kernels, builtin, diagnostics, em, naive_em, stepping
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, init, rmse
from tests.helpers import random_ratings
from tests.solutions import SECTIONS, load_solutions, parse_solutions

# test_solutions.txt prints arrays with numpy's default 8 digits after the point (or 8
# significant digits in e-notation), so a printed value is within 5e-9 of the exact one;
# 1e-6 is the tolerance the issue asks for and leaves room for summation order.
SOLUTIONS_ATOL = 1e-6


# ---------------------------------------------------------------- data helpers


def masked_ratings(n, d, missing, seed, empty_rows=(), empty_cols=()):
    """Seeded ratings 1-5 with a share missing, plus users who rated nothing and items nobody rated."""
    X = random_ratings(n, d, missing, seed)
    X[list(empty_rows), :] = 0.0
    X[:, list(empty_cols)] = 0.0
    return X


def random_posterior(n, K, seed):
    """Seeded rows on the probability simplex, shape (n, K)."""
    return np.random.RandomState(seed).dirichlet(np.ones(K), size=n)


# ---------------------------------------------------------------- loop reference
# The course's incomplete-data E- and M-steps written the plain way: one user at a time,
# one component at a time, over that user's observed items. Nothing here is shared with
# em_core's vectorised code.


def reference_estep(X, mixture):
    n, _ = X.shape
    K = len(mixture.p)
    post = np.empty((n, K))
    log_likelihood = 0.0
    for u in range(n):
        seen = X[u] != 0
        f = []
        for j in range(K):
            diff = X[u, seen] - mixture.mu[j, seen]
            log_density = -0.5 * seen.sum() * math.log(2 * math.pi * mixture.var[j]) - diff @ diff / (
                2 * mixture.var[j]
            )
            f.append(math.log(mixture.p[j] + 1e-16) + log_density)
        top = max(f)
        total = top + math.log(sum(math.exp(v - top) for v in f))
        post[u] = [math.exp(v - total) for v in f]
        log_likelihood += total
    return post, log_likelihood


def reference_mstep(X, post, mixture, min_variance):
    n, d = X.shape
    K = post.shape[1]
    sums = np.zeros((K, d))
    support = np.zeros((K, d))
    for u in range(n):
        for j in range(K):
            for i in range(d):
                if X[u, i] != 0:
                    sums[j, i] += post[u, j] * X[u, i]
                    support[j, i] += post[u, j]
    mu = mixture.mu.copy()
    for j in range(K):
        for i in range(d):
            if support[j, i] >= 1:  # the course moves a mean coordinate only with support >= 1
                mu[j, i] = sums[j, i] / support[j, i]
    sse = np.zeros(K)
    weight = np.zeros(K)
    for u in range(n):
        for j in range(K):
            for i in range(d):
                if X[u, i] != 0:
                    sse[j] += post[u, j] * (X[u, i] - mu[j, i]) ** 2
                    weight[j] += post[u, j]
    var = np.empty(K)
    for j in range(K):
        # a component nobody observed keeps its variance (em_core's documented rule; the course divides by 0)
        var[j] = sse[j] / weight[j] if weight[j] > 0 else mixture.var[j]
        var[j] = max(var[j], min_variance)
    p = post.sum(axis=0) / n
    return GaussianMixture(mu, var, p)


def assert_mixture_close(actual, expected, **tolerance):
    np.testing.assert_allclose(actual.mu, expected.mu, **tolerance, err_msg="means differ")
    np.testing.assert_allclose(actual.var, expected.var, **tolerance, err_msg="variances differ")
    np.testing.assert_allclose(actual.p, expected.p, **tolerance, err_msg="weights differ")


# ---------------------------------------------------------------- the course's test_solutions.txt


@pytest.fixture(scope="module")
def solutions(course_dir):
    return load_solutions(course_dir / "test_solutions.txt")


@pytest.fixture(scope="module")
def course_start(course_matrix, solutions):
    X = course_matrix("test_incomplete.txt")
    K = int(solutions["Input"]["K"])
    mixture, post = init(X, K, seed=0)
    return X, mixture, post


@pytest.mark.course
def test_solutions_describe_the_course_test_matrices(course_matrix, solutions):
    # the file's input and gold are the course's test matrices: the numbers below refer to them
    np.testing.assert_array_equal(solutions["Input"]["X"], course_matrix("test_incomplete.txt"))
    np.testing.assert_array_equal(solutions["After a run"]["X_gold"], course_matrix("test_complete.txt"))


@pytest.mark.course
def test_first_estep_matches_solutions(course_start, solutions):
    X, mixture, _ = course_start
    post, log_likelihood = em.estep(X, mixture)
    expected = solutions["After first E-step"]
    np.testing.assert_allclose(post, expected["post"], rtol=0, atol=SOLUTIONS_ATOL)
    # LL is printed with all 17 significant digits
    assert log_likelihood == pytest.approx(expected["LL"], rel=0, abs=SOLUTIONS_ATOL)


@pytest.mark.course
def test_first_mstep_matches_solutions(course_start, solutions):
    X, mixture, _ = course_start
    post, _ = em.estep(X, mixture)
    after = em.mstep(X, post, mixture, min_variance=0.25)
    expected = solutions["After first M-step"]
    assert_mixture_close(
        after, GaussianMixture(expected["Mu"], expected["Var"], expected["P"]), rtol=0, atol=SOLUTIONS_ATOL
    )


@pytest.mark.course
def test_run_matches_solutions(course_start, solutions):
    X, mixture, post = course_start
    fitted, post, log_likelihood = em.run(X, mixture, post)
    expected = solutions["After a run"]
    assert_mixture_close(
        fitted, GaussianMixture(expected["Mu"], expected["Var"], expected["P"]), rtol=0, atol=SOLUTIONS_ATOL
    )
    np.testing.assert_allclose(post, expected["post"], rtol=0, atol=SOLUTIONS_ATOL)
    assert log_likelihood == pytest.approx(expected["LL"], rel=0, abs=SOLUTIONS_ATOL)


@pytest.mark.course
def test_completion_and_rmse_match_solutions(course_start, course_matrix, solutions):
    X, mixture, post = course_start
    fitted, _, _ = em.run(X, mixture, post)
    X_pred = em.fill_matrix(X, fitted)
    expected = solutions["After a run"]
    np.testing.assert_allclose(X_pred, expected["X_pred"], rtol=0, atol=SOLUTIONS_ATOL)
    # the course scores every entry (observed ones contribute 0) against the gold matrix
    assert rmse(course_matrix("test_complete.txt"), X_pred) == pytest.approx(expected["RMSE"], rel=0, abs=1e-6)


@pytest.mark.course
def test_netflix_twelve_components_fit_better_than_one(course_matrix):
    X = course_matrix("netflix_incomplete.txt")
    log_likelihood = {K: em.run(X, *init(X, K, seed=0))[2] for K in (1, 12)}
    assert log_likelihood[12] > log_likelihood[1]


def test_parser_reads_numpy_printed_arrays():
    rng = np.random.RandomState(0)
    wide = rng.standard_normal((3, 12)) * 1e3  # long rows: numpy wraps them over several lines
    tiny = rng.random_sample((4, 3)) * 1e-14  # e-notation
    vector = rng.random_sample(5)
    sections = [
        f"Input:\nX:\n{wide}\nK: 3\nVar: {vector}",
        f"After first E-step:\npost:\n{tiny}\nLL:{-152.5}",
        f"After first M-step:\nP: {vector}",
        f"After a run\nRMSE: {0.25}",
    ]
    assert "\n  " in str(wide)  # the wrapping case is really exercised
    parsed = parse_solutions("\n\n".join(sections))
    assert list(parsed) == list(SECTIONS)
    # numpy prints 8 significant digits
    np.testing.assert_allclose(parsed["Input"]["X"], wide, rtol=1e-7)
    np.testing.assert_allclose(parsed["After first E-step"]["post"], tiny, rtol=1e-7)
    np.testing.assert_allclose(parsed["Input"]["Var"], vector, rtol=1e-7)
    assert parsed["Input"]["K"] == 3
    assert parsed["After first E-step"]["LL"] == -152.5
    assert parsed["After a run"]["RMSE"] == 0.25


def test_parser_names_a_missing_section():
    with pytest.raises(ValueError, match="sections not found: After a run"):
        parse_solutions("Input:\nK: 1\nAfter first E-step:\nLL: 0\nAfter first M-step:\nP: [1.]\n")


# ---------------------------------------------------------------- against the loop reference

REFERENCE_CASES = [
    # n, d, K, missing share, seed, users with no rating, items nobody rated
    (20, 5, 4, 0.25, 0, (), ()),
    (12, 6, 3, 0.5, 1, (0, 7), ()),
    (15, 4, 2, 0.3, 2, (), (1,)),
    (9, 7, 5, 0.6, 3, (2,), (0, 6)),
    (30, 8, 1, 0.1, 4, (), ()),  # a single component
    (6, 3, 6, 0.4, 5, (5,), (2,)),  # as many components as users
    (25, 3, 4, 0.9, 6, (), ()),  # most entries missing: many supports below 1
]


@pytest.mark.parametrize("n, d, K, missing, seed, empty_rows, empty_cols", REFERENCE_CASES)
@pytest.mark.parametrize("min_variance", [0.25, 1e-3])
def test_steps_match_loop_reference(n, d, K, missing, seed, empty_rows, empty_cols, min_variance):
    X = masked_ratings(n, d, missing, seed, empty_rows, empty_cols)
    mixture, _ = init(X, K, seed)
    expected_mixture = mixture
    for _ in range(8):
        post, log_likelihood = em.estep(X, mixture)
        expected_post, expected_ll = reference_estep(X, expected_mixture)
        np.testing.assert_allclose(post, expected_post, rtol=1e-9, atol=1e-12)
        assert log_likelihood == pytest.approx(expected_ll, rel=1e-10)
        mixture = em.mstep(X, post, mixture, min_variance)
        expected_mixture = reference_mstep(X, expected_post, expected_mixture, min_variance)
        assert_mixture_close(mixture, expected_mixture, rtol=1e-9, atol=1e-12)


def test_user_without_ratings_gets_the_prior():
    X = np.array([[1.0, 4.0], [0.0, 0.0], [5.0, 2.0]])
    mixture = GaussianMixture(np.array([[1.0, 4.0], [5.0, 2.0]]), np.array([1.0, 2.0]), np.array([0.3, 0.7]))
    post, _ = em.estep(X, mixture)
    np.testing.assert_allclose(post[1], [0.3, 0.7], rtol=1e-14)


def test_mean_coordinate_with_support_below_one_keeps_its_value():
    # item 1 is rated by one user only, whose weight for component 0 is 0.4 (< 1)
    X = np.array([[2.0, 0.0], [4.0, 0.0], [3.0, 5.0]])
    post = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]])
    previous = GaussianMixture(np.array([[1.0, 1.0], [2.0, 2.0]]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    mixture = em.mstep(X, post, previous, min_variance=0.0)
    # component 0, item 0: support 2.1 -> (0.9*2 + 0.8*4 + 0.4*3) / 2.1
    assert mixture.mu[0, 0] == pytest.approx(6.2 / 2.1)
    assert mixture.mu[0, 1] == 1.0
    # component 1, item 1: support 0.6 < 1 as well; item 0: support 0.9 < 1
    np.testing.assert_array_equal(mixture.mu[1], [2.0, 2.0])


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_mstep_rejects_a_bad_min_variance(bad):
    X = random_ratings(4, 3, 0.2, seed=0)
    mixture, post = init(X, 2)
    with pytest.raises(DataError, match="min variance must be a finite number >= 0"):
        em.mstep(X, post, mixture, min_variance=bad)
    with pytest.raises(DataError, match="min variance must be a finite number >= 0"):
        em.algorithm(bad)


# ---------------------------------------------------------------- complete data: the same as naive EM


def complete_datasets():
    blobs = builtin.blobs_2d()
    planted = builtin.planted_ratings(40, 6, 3, missing=0.0, seed=1)[1]
    return [
        pytest.param(blobs, 3, 0, id="blobs-K3"),
        pytest.param(blobs, 4, 1, id="blobs-K4"),
        pytest.param(planted, 2, 2, id="planted-ratings-K2"),
    ]


def assert_em_equals_naive_em(X, mixture, n_iter):
    assert np.all(X != 0), "the comparison needs a matrix without missing entries"
    em_mixture = naive_mixture = mixture
    for _ in range(n_iter):
        em_post, em_ll = em.estep(X, em_mixture)
        naive_post, naive_ll = naive_em.estep(X, naive_mixture)
        np.testing.assert_allclose(em_post, naive_post, rtol=1e-9, atol=1e-12)
        assert em_ll == pytest.approx(naive_ll, rel=1e-10)
        # naive EM always moves every mean; incomplete EM only where the support is >= 1
        assert np.all(em.support(X, em_post) >= 1.0), "the comparison needs every support >= 1"
        em_mixture = em.mstep(X, em_post, em_mixture, min_variance=0.0)
        naive_mixture = naive_em.mstep(X, naive_post, naive_mixture)
        assert_mixture_close(em_mixture, naive_mixture, rtol=1e-9)


@pytest.mark.parametrize("X, K, seed", complete_datasets())
def test_em_on_complete_data_equals_naive_em(X, K, seed):
    assert_em_equals_naive_em(X, init(X, K, seed)[0], n_iter=25)


@pytest.mark.course
@pytest.mark.parametrize("name, K", [("toy_data.txt", 3), ("test_complete.txt", 2)])
def test_em_on_complete_course_data_equals_naive_em(course_matrix, name, K):
    X = course_matrix(name)
    assert_em_equals_naive_em(X, init(X, K, seed=0)[0], n_iter=25)


# ---------------------------------------------------------------- properties


@st.composite
def rating_matrices(draw, max_n=30, max_d=8):
    """Matrices with 0 = missing: ratings 1-5, values far from 1-5, or a constant; random masks
    that may hold users with no rating, items nobody rated, or nothing observed at all."""
    n = draw(st.integers(1, max_n))
    d = draw(st.integers(1, max_d))
    kind = draw(st.sampled_from(["ratings", "far", "constant"]))
    if kind == "ratings":
        values = draw(hnp.arrays(np.float64, (n, d), elements=st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0])))
    elif kind == "far":
        element = st.one_of(
            st.sampled_from([1e4, -50.0]),
            st.floats(-50.0, 1e4, allow_subnormal=False).filter(lambda v: v != 0),
        )
        values = draw(hnp.arrays(np.float64, (n, d), elements=element))
    else:
        values = np.full((n, d), draw(st.sampled_from([3.0, 1e4, -50.0])))
    observed = draw(hnp.arrays(np.bool_, (n, d)))
    if draw(st.booleans()):
        observed[draw(st.integers(0, n - 1)), :] = False
    if draw(st.booleans()):
        observed[:, draw(st.integers(0, d - 1))] = False
    return np.where(observed, values, 0.0)


@st.composite
def em_problems(draw):
    X = draw(rating_matrices())
    K = draw(st.integers(1, X.shape[0]))
    seed = draw(st.integers(0, 2**32 - 1))
    min_variance = draw(st.one_of(st.just(0.25), st.just(0.0), st.floats(1e-6, 10.0)))
    return X, K, seed, min_variance


def assert_finite_mixture(mixture):
    for name, values in zip(GaussianMixture._fields, mixture, strict=True):
        assert np.all(np.isfinite(values)), f"{name} is not finite: {values}"


@given(em_problems())
def test_iterations_keep_posteriors_normalised_and_everything_finite(problem):
    X, K, seed, min_variance = problem
    mixture, _ = init(X, K, seed)
    for _ in range(5):
        post, log_likelihood = em.estep(X, mixture)
        assert np.all(np.isfinite(post)) and np.isfinite(log_likelihood)
        np.testing.assert_allclose(post.sum(axis=1), 1.0, rtol=1e-12)
        mixture = em.mstep(X, post, mixture, min_variance)
        assert_finite_mixture(mixture)
        assert np.all(mixture.var >= min_variance)
        assert mixture.p.sum() == pytest.approx(1.0, rel=1e-12)


@given(em_problems())
def test_run_terminates(problem):
    X, K, seed, min_variance = problem
    state = stepping.run(em.algorithm(min_variance), X, stepping.start(*init(X, K, seed), max_history=1), 10_000)
    assert state.converged, f"not converged after {state.iteration} iterations; last scores {state.scores[-3:]}"
    assert np.isfinite(state.score)


@given(em_problems())
def test_fill_matrix_keeps_observed_entries_and_fills_the_rest(problem):
    X, K, seed, min_variance = problem
    mixture, post = init(X, K, seed)
    for _ in range(3):
        post, _ = em.estep(X, mixture)
        mixture = em.mstep(X, post, mixture, min_variance)
    X_pred = em.fill_matrix(X, mixture)
    observed = X != 0
    np.testing.assert_array_equal(X_pred[observed], X[observed])
    assert np.all(np.isfinite(X_pred[~observed]))


@given(
    hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9),
        elements=st.one_of(
            st.floats(-3000.0, 50.0),  # most entries: live ones and ones far below a row's best
            st.floats(-760.0, -500.0),  # around the edge of exp's underflow, and exp's own special range
            st.just(-np.inf),
        ),
    )
)
def test_the_posterior_is_the_course_formula_bit_for_bit(f):
    """``exp(f - logsumexp f)`` with the log-sum-exp as ``top + log(sum(exp(f - top)))``, numpy's plain calls
    to the last bit, whatever the share of entries that underflow to 0; a row of -inf gives NaN."""
    expected_f = f.copy()
    with np.errstate(under="ignore", invalid="ignore"):
        top = expected_f.max(axis=1, keepdims=True)
        log_norm = np.log(np.exp(expected_f - top).sum(axis=1, keepdims=True)) + top
        expected = np.exp(expected_f - log_norm)
    post, log_likelihood = _kernels.normalise(f.copy())
    np.testing.assert_array_equal(post, expected)
    np.testing.assert_array_equal(log_likelihood, float(log_norm.sum()))  # NaN as NaN


@given(em_problems(), st.integers(0, 2**32 - 1))
def test_fill_matrix_is_the_definition_bit_for_bit(problem, post_seed):
    """The completion is ``where(X != 0, X, post @ mu)`` to the last bit, also for negative ratings and
    for a posterior with a NaN row (a user whose densities all underflowed), whose ratings stay."""
    X, K, seed, _ = problem
    X = np.where(X != 0, X - 3.0 * (X > 3), 0.0)  # ratings of both signs (3 - 3 = 0 stays missing)
    mixture, _ = init(X, K, seed)
    post = random_posterior(X.shape[0], K, post_seed)
    for posterior in (post, np.vstack([np.full((1, K), np.nan), post[1:]])):
        X_pred = em.fill_matrix(X, mixture, posterior)
        expected = np.where(X != 0, X, posterior @ mixture.mu)
        np.testing.assert_array_equal(X_pred, expected)


@given(em_problems(), st.integers(0, 2**32 - 1))
def test_steps_do_not_modify_their_inputs(problem, post_seed):
    X, K, seed, min_variance = problem
    mixture, _ = init(X, K, seed)
    post = random_posterior(X.shape[0], K, post_seed)
    before = (X.copy(), post.copy(), [a.copy() for a in mixture])
    em.estep(X, mixture)
    new = em.mstep(X, post, mixture, min_variance)
    em.fill_matrix(X, mixture)
    np.testing.assert_array_equal(X, before[0])
    np.testing.assert_array_equal(post, before[1])
    for old, kept in zip(mixture, before[2], strict=True):
        np.testing.assert_array_equal(old, kept)
    # the new mixture owns its arrays: changing it later cannot reach back into the old one
    for fresh in new:
        assert not any(np.shares_memory(fresh, a) for a in (X, post, *mixture))


@given(em_problems(), st.integers(0, 2**32 - 1), st.data())
def test_component_without_users_keeps_finite_parameters(problem, post_seed, data):
    X, K, seed, min_variance = problem
    assume(K >= 2)
    mixture, _ = init(X, K, seed)
    dead = data.draw(st.integers(0, K - 1), label="dead component")
    post = random_posterior(X.shape[0], K, post_seed)
    post[:, dead] = 0.0
    post /= post.sum(axis=1, keepdims=True)
    after = em.mstep(X, post, mixture, min_variance)
    assert_finite_mixture(after)
    np.testing.assert_array_equal(after.mu[dead], mixture.mu[dead])
    assert after.var[dead] == max(mixture.var[dead], min_variance)
    assert after.p[dead] == 0.0
    new_post, log_likelihood = em.estep(X, after)
    assert np.all(np.isfinite(new_post)) and np.isfinite(log_likelihood)
    np.testing.assert_allclose(new_post.sum(axis=1), 1.0, rtol=1e-12)


# ---------------------------------------------------------------- the prepared-matrix cache


def swap_two_rows(X):
    X[[0, 1]] = X[[1, 0]]  # same values, other places: a sum or a sample of X would not notice


def hide_a_rating(X):
    X[np.argwhere(X != 0)[3][0], np.argwhere(X != 0)[3][1]] = 0.0


def one_unit_in_the_last_place(X):
    r, c = np.argwhere(X != 0)[5]
    X[r, c] = np.nextafter(X[r, c], np.inf)


@pytest.mark.parametrize("modify", [swap_two_rows, hide_a_rating, one_unit_in_the_last_place])
def test_steps_never_answer_from_a_matrix_modified_in_place(modify):
    X = masked_ratings(40, 6, 0.3, seed=8)
    X[1] = [5.0, 0.0, 1.0, 0.0, 2.0, 3.0]  # row 1 unlike row 0, so swapping them changes the answer
    mixture, _ = init(X, 3, seed=0)
    post = random_posterior(40, 3, seed=1)
    algorithm = em.algorithm(0.25)
    # prime both caches: the public steps' and a kept algorithm's
    em.estep(X, mixture), em.mstep(X, post, mixture), algorithm.estep(X, mixture)
    before = em.estep(X, mixture)
    modify(X)
    fresh = X.copy()  # a new array: prepared from scratch
    for got, want in (
        (em.estep(X, mixture), em.estep(fresh, mixture)),
        (algorithm.estep(X, mixture), em.estep(fresh, mixture)),
        (em.mstep(X, post, mixture), em.mstep(fresh, post, mixture)),
        (algorithm.mstep(X, post, mixture)[0], em.mstep(fresh, post, mixture)),
        (em.fill_matrix(X, mixture), em.fill_matrix(fresh, mixture)),
    ):
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a, b)
    assert not np.array_equal(em.estep(X, mixture)[0], before[0]) or modify is one_unit_in_the_last_place


@pytest.mark.parametrize("kept_as", ["copy", "digest"])
def test_an_algorithms_support_is_its_m_steps_and_never_stale(kept_as, monkeypatch):
    """``algorithm.support`` (what a step's narration compares with 1) answers from the last M-step when
    asked about the posterior and matrix that M-step was given, and computes afresh for any other: a
    posterior or a matrix changed in place since (by one bit, too), another posterior, another matrix. The
    M-step keeps a small posterior's bits, a large one's digest (``kept_as``: the limit set so)."""
    monkeypatch.setattr(em, "COPY_BYTES", 2**30 if kept_as == "copy" else 0)
    X = masked_ratings(40, 6, 0.3, seed=5)
    mixture, _ = init(X, 3, seed=0)
    post = random_posterior(40, 3, seed=2)
    algorithm = em.algorithm(0.25)
    algorithm.mstep(X, post, mixture)
    kept = algorithm.support(X, post)
    assert algorithm.support(X, post.copy()) is kept  # the same numbers: the M-step's own
    np.testing.assert_allclose(kept, diagnostics.coordinate_support(X, post), rtol=1e-14, atol=1e-14)
    other = random_posterior(40, 3, seed=3)
    np.testing.assert_allclose(algorithm.support(X, other), diagnostics.coordinate_support(X, other), rtol=1e-14)
    post[7] = post[7, ::-1]  # the posterior changed in place since the M-step
    changed = algorithm.support(X, post)
    assert changed is not kept
    np.testing.assert_allclose(changed, diagnostics.coordinate_support(X, post), rtol=1e-14, atol=1e-14)
    algorithm.mstep(X, post, mixture)
    kept = algorithm.support(X, post)
    post[3, 1] = np.nextafter(post[3, 1], 2.0)  # one bit
    assert algorithm.support(X, post) is not kept
    algorithm.mstep(X, post, mixture)
    hide_a_rating(X)  # the matrix changed in place since
    np.testing.assert_allclose(algorithm.support(X, post), diagnostics.coordinate_support(X, post), rtol=1e-14)


def test_an_algorithm_prepares_its_matrix_once_per_fit():
    X = masked_ratings(30, 5, 0.2, seed=2)
    mixture, post = init(X, 2, seed=0)
    cache = em._PUBLIC_CACHE
    first = cache(X)
    assert cache(X) is first  # the same, unchanged matrix: the prepared form is reused
    assert cache(X.copy()) is first  # equal contents are the same matrix
    Y = X.copy()
    Y[0, 0] = 0.0 if Y[0, 0] else 3.0
    assert cache(Y) is not first


def test_a_prepared_matrix_gives_the_raw_arrays_numbers_and_keeps_them():
    X = masked_ratings(25, 5, 0.3, seed=4)
    mixture, post = init(X, 3, seed=1)
    prepared = em.prepare(X)
    expected = (em.estep(X, mixture), em.mstep(X, post, mixture), em.fill_matrix(X, mixture))
    X[:] = 0.0  # the prepared form holds its own copy
    got = (em.estep(prepared, mixture), em.mstep(prepared, post, mixture), em.fill_matrix(prepared, mixture))
    for a, b in zip(got[0] + tuple(got[1]) + (got[2],), expected[0] + tuple(expected[1]) + (expected[2],), strict=True):
        np.testing.assert_array_equal(a, b)
    algorithm = em.algorithm()
    np.testing.assert_array_equal(algorithm.estep(prepared, mixture)[0], expected[0][0])


def test_choosing_an_orientation_times_both_on_the_first_product_and_answers_only_with_the_chosen(monkeypatch):
    # every answer of a class comes from the orientation kept, so a fit run twice gives the same bits
    calls = []
    monkeypatch.setattr(_kernels, "_ORIENTATION", {})
    slow, fast = np.zeros(2), np.ones(2)

    def plain():
        calls.append("plain")
        time.sleep(0.002)
        return slow

    def flipped():
        calls.append("flipped")
        return fast

    answers = [_kernels._product("k", plain, flipped) for _ in range(4)]
    order = [["plain", "flipped"], ["flipped", "plain"]]
    assert calls[: 2 * _kernels.TRIALS] == [name for trial in range(_kernels.TRIALS) for name in order[trial % 2]]
    assert calls[2 * _kernels.TRIALS :] == ["flipped"] * 3
    assert all(answer is fast for answer in answers)
    assert _kernels._ORIENTATION == {"k": True}


def test_a_slow_start_does_not_choose_the_slower_orientation(monkeypatch):
    # the first three products of a process are slow whichever orientation runs them (BLAS threads
    # waking, say): the orientation that is faster afterwards is chosen all the same
    monkeypatch.setattr(_kernels, "_ORIENTATION", {})
    calls = []

    def product(name, seconds):
        def run():
            calls.append(name)
            time.sleep(0.03 if len(calls) <= 3 else seconds)
            return name

        return run

    assert _kernels._product("k", product("plain", 0.002), product("flipped", 0.008)) == "plain"
    assert _kernels._ORIENTATION == {"k": False}


def test_the_same_fit_twice_in_one_process_gives_the_same_bits(monkeypatch):
    # the first fit chooses the orientations (timing both), the second uses them: no difference
    monkeypatch.setattr(_kernels, "_ORIENTATION", {})
    X = masked_ratings(700, 400, 0.3, seed=8)
    mixture, post = init(X, 5, 0)
    first = stepping.run(em.algorithm(), em.prepare(X), stepping.start(mixture, post))
    second = stepping.run(em.algorithm(), em.prepare(X), stepping.start(mixture, post))
    assert first.scores == second.scores
    np.testing.assert_array_equal(first.mixture.mu, second.mixture.mu)
    np.testing.assert_array_equal(first.mixture.var, second.mixture.var)


@pytest.mark.parametrize("flipped", [False, True])
def test_either_orientation_of_the_data_products_gives_the_same_steps(flipped, monkeypatch):
    # which orientation runs is timed on the machine; both branches must give one result
    X = masked_ratings(700, 400, 0.3, seed=6)  # large enough for the timed branch
    mixture, post = init(X, 5, seed=0)
    data = em.prepare(X)
    expected = (em.estep(data, mixture), em.mstep(data, post, mixture))
    monkeypatch.setattr(_kernels, "_product", lambda key, plain, flipped_fn: (flipped_fn if flipped else plain)())
    got = (em.estep(data, mixture), em.mstep(data, post, mixture))
    np.testing.assert_allclose(got[0][0], expected[0][0], rtol=1e-12, atol=1e-15)
    assert got[0][1] == pytest.approx(expected[0][1], rel=1e-13)
    for a, b in zip(got[1], expected[1], strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)
