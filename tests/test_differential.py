"""em_core against the course's formulas in their plainest form (tests/course_reference.py).

A seeded corpus of generated matrices of the kinds where an expanded formula would lose
digits or where rounding decides something: integer grids (exact K-means ties), data far
from 0 (offsets 1e3..1e6), near-duplicate rows (spacing 1e-9..1e-6), rating matrices with
0..95 % missing and users or items with no rating at all, K from 1 to n. For every case
init, K-means, EM on complete data and EM on incomplete data must give the reference's
numbers: 1e-9 relative wherever the reference is finite, the same assignments and the same
number of iterations. Where the reference is not finite (the course divides by zero),
em_core must be finite. Hypothesis properties of the same comparisons shrink a failure to
a small matrix.

Tolerances: values compare at ``rtol=1e-9``. Means also get an absolute ``1e-12`` of the
data's magnitude (a mean near 0 of data around 1e6 has no relative digits to compare);
posteriors, which are probabilities, an absolute 1e-12. A single step gets the same inputs
on both sides and meets that everywhere. A whole run carries each side's rounding into the
next step; where components shrink onto near-duplicate rows, one unit in the last place of
a mean (which any other summation order could give) moves the course's own result by up to
~1e-7 relative. So a run's results must agree to 1e-9 or to within 4x the change the
reference itself shows when its means are nudged by one unit in the last place after each
M-step, whichever is larger; its iteration count must be the same.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import em, kmeans, naive_em, stepping
from em_core.mixture import GaussianMixture, init
from tests import course_reference as ref

RTOL = 1e-9
CASES_PER_FAMILY = 300
KINDS = ("grid", "offset", "near_duplicates", "ratings")


# ---------------------------------------------------------------- generated cases


def generate(case: int, kind: str, missing_allowed: bool) -> tuple[np.ndarray, int]:
    """A seeded matrix of the given kind and a K from 1 to n."""
    rng = np.random.RandomState(case)
    n = rng.randint(2, 13)
    d = rng.randint(1, 5)
    if kind == "grid":
        # small integers: many rows at exactly equal distance from two means
        X = rng.randint(1 if missing_allowed else 0, 4, size=(n, d)).astype(float)
    elif kind == "offset":
        offset = rng.choice([-1.0, 1.0]) * 10 ** rng.uniform(3, 6)
        X = offset + rng.standard_normal((n, d)) * 10 ** rng.uniform(-1, 0.5)
    elif kind == "near_duplicates":
        # a few points, each repeated with a spacing of 1e-9..1e-6 of the data's size
        base = rng.uniform(1.0, 3.0, size=(rng.randint(1, 4), d)) * rng.choice([-1.0, 1.0], size=d)
        X = base[rng.randint(0, base.shape[0], size=n)] + rng.standard_normal((n, d)) * 10 ** rng.uniform(-9, -6)
    else:
        X = rng.randint(1, 6, size=(n, d)).astype(float)
    if kind == "ratings" or (missing_allowed and rng.rand() < 0.5):
        X[rng.random_sample((n, d)) < rng.choice([0.0, 0.3, 0.6, 0.95])] = 0.0
        if missing_allowed and rng.rand() < 0.3:
            X[rng.randint(n), :] = 0.0  # a user with no rating
        if missing_allowed and rng.rand() < 0.3:
            X[:, rng.randint(d)] = 0.0  # an item nobody rated
    return X, int(rng.randint(1, n + 1))


def corpus(family: str) -> list:
    return [pytest.param(case, KINDS[case % len(KINDS)], id=f"{family}-{case}") for case in range(CASES_PER_FAMILY)]


# ---------------------------------------------------------------- comparisons


def rounding_slack(values: list[np.ndarray], expected: np.ndarray) -> float:
    """4x the largest change of ``expected`` over the reference's nudged results (see the module)."""
    changes = [np.abs(np.asarray(v, dtype=float) - expected) for v in values]
    finite = [c[np.isfinite(c)] for c in changes]
    return 4.0 * max((float(c.max()) for c in finite if c.size), default=0.0)


def agree(actual, expected, what: str, atol: float = 0.0, nudged=None) -> None:
    """``actual`` is finite and equals ``expected`` wherever that is finite: to RTOL, or when that
    fails and ``nudged()`` gives the reference's results under one-ulp nudges of its means, to
    within 4x their largest change."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert np.all(np.isfinite(actual)), f"{what}: em_core gives a non-finite value {actual}"
    finite = np.isfinite(expected)
    diff = np.abs(actual - expected)[finite]
    allowed = atol + RTOL * np.abs(expected[finite])
    if np.all(diff <= allowed) or nudged is None:
        np.testing.assert_allclose(actual[finite], expected[finite], rtol=RTOL, atol=atol, err_msg=what)
        return
    allowed = allowed + rounding_slack([np.asarray(v)[finite] for v in nudged()], expected[finite])
    assert np.all(diff <= allowed), f"{what}: {actual} != course {expected} (allowed difference {allowed})"


def agree_mixture(
    actual: GaussianMixture, expected: ref.Mixture, X: np.ndarray, what: str, nudged=None, sse_about=None
) -> None:
    """Means, variances and weights; ``nudged()`` gives the reference's mixtures under nudges.

    ``sse_about(mu)``: the course's variance numerators about given means. Where the course's
    formula, taken about em_core's own means (equal to the course's up to the rounding of a sum),
    gives exactly 0, the course itself hangs on that rounding between a tiny variance and its
    divide-by-zero case, and em_core's guard stands in as it does for a variance of 0.
    """
    # a variance of exactly 0 is where the course's next E-step divides by zero: em_core's guard stands in
    defined = np.isfinite(expected.var) & (expected.var > 0)
    if sse_about is not None:
        defined &= sse_about(np.asarray(actual.mu, dtype=float)) != 0
    for field, atol in (("mu", 1e-12 * np.abs(X).max()), ("var", 0.0), ("p", 0.0)):
        rows = defined if field != "p" else slice(None)

        def nudged_field(field=field, rows=rows):
            return [getattr(m, field)[rows] for m in nudged()]

        agree(
            getattr(actual, field)[rows],
            getattr(expected, field)[rows],
            f"{what}: {field}",
            atol,
            None if nudged is None else nudged_field,
        )


def nudges(run, count: int = 3) -> list:
    """``count`` results of ``run(nudge=...)`` with seeded one-ulp nudges of the reference's means."""
    return [run(nudge=np.random.RandomState(seed)) for seed in range(count)]


def as_mixture(mixture: ref.Mixture) -> GaussianMixture:
    return GaussianMixture(mixture.mu.copy(), mixture.var.copy(), mixture.p.copy())


def finite_mixture(mixture) -> bool:
    return all(np.all(np.isfinite(a)) for a in mixture) and bool(np.all(mixture.var > 0))


def run_em_core(algorithm: stepping.Algorithm, X: np.ndarray, mixture: GaussianMixture, post: np.ndarray):
    state = stepping.run(algorithm, X, stepping.start(mixture, post, max_history=1), max_iter=2000)
    return state.mixture, state.post, state.score, state.iteration


# ---------------------------------------------------------------- the corpus


@pytest.mark.parametrize("case, kind", corpus("init"))
def test_init_matches_the_course(case, kind):
    X, K = generate(case, kind, missing_allowed=True)
    mixture, post = init(X, K, seed=case)
    expected, expected_post = ref.init(X, K, seed=case)
    np.testing.assert_array_equal(mixture.mu, expected.mu)
    agree(mixture.var[expected.var > 0], expected.var[expected.var > 0], "initial variances")
    np.testing.assert_array_equal(mixture.p, expected.p)
    np.testing.assert_array_equal(post, expected_post)


@pytest.mark.parametrize("case, kind", corpus("kmeans"))
def test_kmeans_matches_the_course(case, kind):
    X, K = generate(case, kind, missing_allowed=False)
    start, post0 = ref.init(X, K, seed=case)
    post = kmeans.estep(X, as_mixture(start))
    np.testing.assert_array_equal(post, ref.kmeans_estep(X, start), err_msg="first assignments")
    mixture, cost = kmeans.mstep(X, post, as_mixture(start))
    expected, expected_cost = ref.kmeans_mstep(X, post)
    alive = post.sum(axis=0) > 0  # the course's empty cluster is 0/0
    agree(mixture.mu[alive], expected.mu[alive], "means", atol=1e-12 * np.abs(X).max())
    agree(mixture.var[alive], expected.var[alive], "variances")
    agree(cost, expected_cost, "cost")

    expected_run = ref.kmeans_run(X, start)
    if not math.isfinite(expected_run[2]):
        return  # an empty cluster: the course's means are NaN from there on
    got = run_em_core(kmeans.algorithm(), X, as_mixture(start), post0)
    np.testing.assert_array_equal(got[1], expected_run[1], err_msg="final assignments")
    agree(got[2], expected_run[2], "final cost")
    assert got[3] == expected_run[3], f"iterations {got[3]} != course {expected_run[3]}"


@pytest.mark.parametrize("case, kind", corpus("naive"))
def test_naive_em_matches_the_course(case, kind):
    X, K = generate(case, kind, missing_allowed=False)
    start, post0 = ref.init(X, K, seed=case)
    if not finite_mixture(start):
        return  # identical rows: the course's first E-step divides by a variance of 0
    post, ll = naive_em.estep(X, as_mixture(start))
    expected_post, expected_ll = ref.naive_estep(X, start)
    agree(post, expected_post, "posterior", atol=1e-12)
    agree(ll, expected_ll, "log-likelihood")
    agree_mixture(
        naive_em.mstep(X, expected_post, as_mixture(start)),
        ref.naive_mstep(X, expected_post),
        X,
        "M-step",
        lambda: nudges(lambda nudge: ref.naive_mstep(X, expected_post, nudge)),
        lambda mu: ref.naive_sse_about(X, expected_post, mu),
    )

    expected_run = ref.naive_run(X, start)
    if not (math.isfinite(expected_run[2]) and finite_mixture(expected_run[0])):
        return  # the course's run ends in NaN (a component collapsed onto identical rows)
    got = run_em_core(naive_em.algorithm(), X, as_mixture(start), post0)
    runs = Lazy(lambda: nudges(lambda nudge: ref.naive_run(X, start, nudge=nudge)))
    if got[3] != expected_run[3]:
        counts = {r[3] for r in runs()}
        assert got[3] in counts, f"iterations {got[3]} != course {expected_run[3]} (nudged: {counts})"
    agree(got[2], expected_run[2], "final log-likelihood", nudged=lambda: [r[2] for r in runs()])
    agree_mixture(got[0], expected_run[0], X, "final mixture", lambda: [r[0] for r in runs()])


@pytest.mark.parametrize("case, kind", corpus("em"))
def test_em_matches_the_course(case, kind):
    X, K = generate(case, kind, missing_allowed=True)
    min_variance = (0.25, 0.0, 1e-3)[case % 3]
    start, post0 = ref.init(X, K, seed=case)
    if not finite_mixture(start):
        return  # identical rows: the course's first E-step divides by a variance of 0
    post, ll = em.estep(X, as_mixture(start))
    expected_post, expected_ll = ref.em_estep(X, start)
    agree(post, expected_post, "posterior", atol=1e-12)
    agree(ll, expected_ll, "log-likelihood")
    agree_mixture(
        em.mstep(X, expected_post, as_mixture(start), min_variance),
        ref.em_mstep(X, expected_post, start, min_variance),
        X,
        "M-step",
        lambda: nudges(lambda nudge: ref.em_mstep(X, expected_post, start, min_variance, nudge)),
    )
    agree(em.fill_matrix(X, as_mixture(start)), ref.fill_matrix(X, start), "completed matrix")

    expected_run = ref.em_run(X, start, min_variance)
    if not (math.isfinite(expected_run[2]) and finite_mixture(expected_run[0])):
        return  # the course's run ends in NaN (no observed weight, or a variance of 0)
    got = run_em_core(em.algorithm(min_variance), X, as_mixture(start), post0)
    runs = Lazy(lambda: nudges(lambda nudge: ref.em_run(X, start, min_variance, nudge=nudge)))
    if got[3] != expected_run[3]:
        counts = {r[3] for r in runs()}
        assert got[3] in counts, f"iterations {got[3]} != course {expected_run[3]} (nudged: {counts})"
    agree(got[2], expected_run[2], "final log-likelihood", nudged=lambda: [r[2] for r in runs()])
    agree_mixture(got[0], expected_run[0], X, "final mixture", lambda: [r[0] for r in runs()])
    agree(em.fill_matrix(X, expected_run[0]), ref.fill_matrix(X, expected_run[0]), "final completed matrix")


class Lazy:
    """A value computed on the first call only (the nudged reference runs are slow)."""

    def __init__(self, compute) -> None:
        self._compute = compute
        self._value = None

    def __call__(self):
        if self._value is None:
            self._value = self._compute()
        return self._value


# ---------------------------------------------------------------- properties (shrinking)


@st.composite
def integer_grids(draw, max_n=10, max_d=3):
    n = draw(st.integers(2, max_n))
    d = draw(st.integers(1, max_d))
    X = draw(hnp.arrays(np.float64, (n, d), elements=st.integers(-3, 3).map(float)))
    mu = draw(hnp.arrays(np.float64, (draw(st.integers(1, 5)), d), elements=st.integers(-3, 3).map(float)))
    return X, mu


@given(integer_grids(), st.sampled_from([0.0, 1e3, 1e6]))
def test_kmeans_assignments_are_the_courses_on_integer_grids(problem, offset):
    X, mu = problem
    X, mu = X + offset, mu + offset
    mixture = GaussianMixture(mu, np.ones(len(mu)), np.full(len(mu), 1.0 / len(mu)))
    np.testing.assert_array_equal(kmeans.estep(X, mixture), ref.kmeans_estep(X, ref.Mixture(*mixture)))


@st.composite
def near_duplicate_pairs(draw):
    d = draw(st.integers(1, 3))
    centres = draw(hnp.arrays(np.float64, (draw(st.integers(1, 3)), d), elements=st.floats(-3.0, 3.0)))
    spacing = 10.0 ** draw(st.floats(-9.0, -6.0))
    X = np.vstack([centres, centres + spacing])
    return X, draw(st.integers(1, X.shape[0]))


@given(near_duplicate_pairs(), st.integers(0, 2**32 - 1))
def test_naive_em_steps_are_the_courses_on_near_duplicates(problem, seed):
    X, K = problem
    start, _ = ref.init(X, K, seed)
    if not finite_mixture(start):
        return
    post, ll = naive_em.estep(X, as_mixture(start))
    expected_post, expected_ll = ref.naive_estep(X, start)
    agree(post, expected_post, "posterior", atol=1e-12)
    agree(ll, expected_ll, "log-likelihood")
    mixture = as_mixture(start)
    expected = start
    for _ in range(3):  # the course's own posterior in each step: no drift between the two
        expected_post, _ = ref.naive_estep(X, expected)
        if not finite_mixture(expected):
            break
        mixture = naive_em.mstep(X, expected_post, mixture)
        expected = ref.naive_mstep(X, expected_post)
        agree_mixture(
            mixture,
            expected,
            X,
            "M-step",
            lambda post=expected_post: nudges(lambda nudge: ref.naive_mstep(X, post, nudge)),
            lambda mu, post=expected_post: ref.naive_sse_about(X, post, mu),
        )
        mixture = as_mixture(expected)


@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 8), st.integers(1, 4)), elements=st.integers(0, 5).map(float)),
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.25, 0.0]),
)
def test_em_steps_are_the_courses_on_rating_matrices(X, seed, min_variance):
    K = 1 + seed % X.shape[0]
    start, _ = ref.init(X, K, seed)
    if not finite_mixture(start):
        return
    post, ll = em.estep(X, as_mixture(start))
    expected_post, expected_ll = ref.em_estep(X, start)
    agree(post, expected_post, "posterior", atol=1e-12)
    agree(ll, expected_ll, "log-likelihood")
    mixture = em.mstep(X, expected_post, as_mixture(start), min_variance)
    expected = ref.em_mstep(X, expected_post, start, min_variance)
    agree_mixture(
        mixture,
        expected,
        X,
        "M-step",
        lambda: nudges(lambda nudge: ref.em_mstep(X, expected_post, start, min_variance, nudge)),
    )
