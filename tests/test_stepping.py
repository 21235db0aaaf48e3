"""Stepping (em_core.stepping): half-steps, the course's loops, the bounded history and the stopping rules."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import builtin, em, kmeans, naive_em, stepping
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, init
from em_core.validation import max_magnitude


def blobs():
    return builtin.blobs_2d(n=120, seed=5)


def ratings():
    return builtin.planted_ratings(60, 8, 3, missing=0.3, seed=11)[0]


# name -> (algorithm, its module's run, data, K)
ALGORITHMS = {
    "kmeans": (kmeans.algorithm(), kmeans.run, blobs, 3),
    "naive-em": (naive_em.algorithm(), naive_em.run, blobs, 3),
    "em": (em.algorithm(), em.run, ratings, 3),
}


def course_loop(name, X, mixture):
    """The course's own ``run`` loops, written out; returns mixture, post, score and the iteration count."""
    post, iterations = None, 0
    if name == "kmeans":
        previous = cost = None
        while previous is None or previous - cost > 1e-4:
            previous = cost
            post = kmeans.estep(X, mixture)
            mixture, cost = kmeans.mstep(X, post, mixture)
            iterations += 1
        return mixture, post, cost, iterations
    estep, mstep = (naive_em.estep, naive_em.mstep) if name == "naive-em" else (em.estep, em.mstep)
    previous = log_likelihood = None
    while previous is None or log_likelihood - previous > 1e-6 * abs(log_likelihood):
        previous = log_likelihood
        post, log_likelihood = estep(X, mixture)
        mixture = mstep(X, post, mixture)
        iterations += 1
    return mixture, post, log_likelihood, iterations


def assert_same_mixture(a, b):
    for name, x, y in zip(GaussianMixture._fields, a, b, strict=True):
        np.testing.assert_array_equal(x, y, err_msg=name)


def fresh(name, seed=0, max_history=None):
    algorithm, _, data, K = ALGORITHMS[name]
    X = data()
    return algorithm, X, stepping.start(*init(X, K, seed), max_history=max_history)


# ---------------------------------------------------------------- half-steps and steps


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_e_then_m_half_step_equals_one_step(name):
    algorithm, X, state = fresh(name)
    for _ in range(4):
        after_e = stepping.half_step(algorithm, X, state)
        assert after_e.next_step == "M" and after_e.iteration == state.iteration
        assert_same_mixture(after_e.mixture, state.mixture)  # an E-step leaves the parameters alone
        after_m = stepping.half_step(algorithm, X, after_e)
        stepped = stepping.step(algorithm, X, state)
        assert after_m.next_step == "E" and after_m.iteration == state.iteration + 1
        assert_same_mixture(after_m.mixture, stepped.mixture)
        np.testing.assert_array_equal(after_m.post, stepped.post)
        assert after_m.scores == stepped.scores
        state = stepped


@pytest.mark.parametrize("name", list(ALGORITHMS))
@pytest.mark.parametrize("steps", [0, 1, 3])
def test_the_view_after_an_mstep_is_the_same_with_the_next_estep_made(name, steps):
    """``view(..., after_mstep=True)`` at the fit's iteration, once the next E-step is made, is the view of
    the fit before that E-step: its mixture and the posterior that produced it; without, the E-step's state."""
    algorithm, X, state = fresh(name)
    for _ in range(steps):
        state = stepping.step(algorithm, X, state)
    after_e = stepping.half_step(algorithm, X, state)
    settled = stepping.view(algorithm, X, after_e, steps, after_mstep=True)
    before = stepping.view(algorithm, X, state, steps)
    assert settled.iteration == before.iteration == steps
    assert_same_mixture(settled.mixture, before.mixture)
    np.testing.assert_allclose(settled.post, before.post, rtol=1e-12, atol=1e-300)
    latest = stepping.view(algorithm, X, after_e, steps)
    np.testing.assert_array_equal(latest.post, after_e.post)


def test_step_after_an_e_half_step_only_finishes_the_iteration():
    algorithm, X, state = fresh("em")
    after_e = stepping.half_step(algorithm, X, state)
    finished = stepping.step(algorithm, X, after_e)
    assert finished.iteration == 1
    assert finished.scores == stepping.step(algorithm, X, state).scores


@pytest.mark.parametrize("name", list(ALGORITHMS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stepping_reproduces_the_course_loop_and_run(name, seed):
    algorithm, X, state = fresh(name, seed)
    expected_mixture, expected_post, expected_score, iterations = course_loop(name, X, state.mixture)
    for _ in range(iterations - 1):
        state = stepping.step(algorithm, X, state)
    assert not state.converged  # the course loop would go on
    state = stepping.step(algorithm, X, state)
    assert state.converged and state.iteration == iterations
    assert_same_mixture(state.mixture, expected_mixture)
    np.testing.assert_array_equal(state.post, expected_post)
    assert state.score == expected_score
    # each module's run() is the same loop
    _, run, data, K = ALGORITHMS[name]
    mixture, post, score = run(X, *init(X, K, seed))
    assert_same_mixture(mixture, expected_mixture)
    np.testing.assert_array_equal(post, expected_post)
    assert score == expected_score


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_a_converged_fit_does_not_move(name):
    algorithm, X, state = fresh(name)
    state = stepping.run(algorithm, X, state)
    assert state.converged
    assert stepping.step(algorithm, X, state) is state
    assert stepping.half_step(algorithm, X, state) is state
    assert stepping.run(algorithm, X, state) is state


def test_em_scores_belong_to_the_mixture_before_each_m_step():
    algorithm, X, state = fresh("em", max_history=1000)
    state = stepping.run(algorithm, X, state, max_iter=6)
    assert len(state.scores) == state.iteration == 6
    for t in range(1, 7):
        _, log_likelihood = em.estep(X, state.mixture_at(t - 1))
        assert state.scores[t - 1] == log_likelihood


def test_kmeans_scores_are_the_costs_of_each_m_step():
    algorithm, X, state = fresh("kmeans", max_history=1000)
    state = stepping.run(algorithm, X, state, max_iter=3)
    for t in range(1, state.iteration + 1):
        post = kmeans.estep(X, state.mixture_at(t - 1))
        assert state.scores[t - 1] == kmeans.mstep(X, post, state.mixture_at(t - 1))[1]


def test_run_stops_at_max_iter_and_reports_every_iteration():
    algorithm, X, state = fresh("em")
    seen = []
    state = stepping.run(algorithm, X, state, max_iter=3, callback=lambda s: seen.append(s.iteration))
    assert not state.converged  # precondition: the limit, not the rule, stopped it
    assert state.iteration == 3 and seen == [1, 2, 3]
    assert state.stopped_by_cap


# ---------------------------------------------------------------- every run ends: the cap, non-finite scores


def never_converging(name: str) -> stepping.Algorithm:
    """The algorithm ``name`` with a stopping rule that never holds."""
    return ALGORITHMS[name][0]._replace(converged=lambda old, new: False)


def test_run_has_a_default_cap_of_1000_iterations():
    assert stepping.MAX_ITER == 1000
    _, X, state = fresh("kmeans")
    state = stepping.run(never_converging("kmeans"), X, state)
    assert (state.iteration, state.converged, state.stopped_by_cap) == (1000, False, True)
    assert len(state.scores) == 1000
    # None is the default cap, not "no limit": there is no unbounded run
    _, X, state = fresh("kmeans")
    assert stepping.run(never_converging("kmeans"), X, state, max_iter=None).iteration == 1000


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_a_run_stopped_by_its_rule_says_so(name):
    algorithm, X, state = fresh(name)
    state = stepping.run(algorithm, X, state)
    assert state.converged and not state.stopped_by_cap
    assert state.iteration < stepping.MAX_ITER


def test_stepping_on_after_the_cap_clears_the_flag():
    algorithm, X, state = fresh("em")
    capped = stepping.run(algorithm, X, state, max_iter=2)
    assert capped.stopped_by_cap
    assert not stepping.half_step(algorithm, X, capped).stopped_by_cap
    assert not stepping.step(algorithm, X, capped).stopped_by_cap
    # the cap counts from iteration 0: a state already there is returned at once
    assert stepping.run(algorithm, X, capped, max_iter=2).iteration == 2


@pytest.mark.parametrize("max_iter", [0, -1, 2.5, True, "10"])
def test_a_bad_cap_is_refused(max_iter):
    algorithm, X, state = fresh("em")
    with pytest.raises(DataError, match=r"the iteration limit must be a whole number >= 1, got .*; give at least 1"):
        stepping.run(algorithm, X, state, max_iter=max_iter)


def nan_from(iteration: int, name: str = "em") -> stepping.Algorithm:
    """The algorithm ``name`` whose score turns NaN at ``iteration``, as overflowing data made it."""
    algorithm = ALGORITHMS[name][0]
    calls = []

    def estep(X, mixture):
        calls.append(1)
        post, score = algorithm.estep(X, mixture)
        return post, (float("nan") if len(calls) >= iteration else score)

    return algorithm._replace(estep=estep, converged=lambda old, new: False)


def test_a_nan_score_stops_the_run_with_an_error_naming_the_iteration():
    # NaN - old <= tol * |NaN| is never true: before, such a run went on for ever
    _, X, state = fresh("em")
    with pytest.raises(DataError) as info:
        stepping.run(nan_from(4), X, state)
    assert str(info.value) == (
        "em iteration 4 (E-step): the log_likelihood is nan, not a finite number; "
        "rescale the data (divide every value by the same power of 10)"
    )


def test_a_nan_score_also_stops_a_single_step():
    _, X, state = fresh("em")
    algorithm = nan_from(1)
    with pytest.raises(DataError, match=r"^em iteration 1 \(E-step\): the log_likelihood is nan"):
        stepping.step(algorithm, X, state)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_overflowing_data_given_past_the_loader_stops_at_iteration_1_without_a_warning(name):
    # init refuses such data; a mixture built by hand gets past it, and the first step must stop
    X = 1e200 * np.random.RandomState(0).choice([-1.0, 1.0], size=(30, 6))
    mixture = GaussianMixture(X[:2].copy(), np.ones(2), np.full(2, 0.5))
    state = stepping.start(mixture, np.full((30, 2), 0.5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would print with a file path
        with pytest.raises(DataError, match=rf"^{name} iteration 1 \(E-step\): the arithmetic overflowed \(overflow"):
            stepping.run(ALGORITHMS[name][0], X, state)


# data a fit must end on by its rule, within the cap: ratings and points at every scale float64 holds


@st.composite
def hostile_data(draw):
    """(name, X): ratings 0-5 or real-valued points, long, square or wider than long, scaled per column
    by powers of 10 from 1e-300 to the largest usable magnitude (mixed scales in one matrix)."""
    name = draw(st.sampled_from(list(ALGORITHMS)))
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 3 * n + 2))  # up to three times wider than long
    bound = max_magnitude(n, d)
    scales = draw(
        # bound / 5 times 5 can round one ulp above the bound, which loading refuses: stay a hair below
        st.lists(
            st.sampled_from([1e-300, 1e-150, 1e-5, 1.0, 1e5, 1e100, bound / 5.0 * (1 - 1e-12)]), min_size=d, max_size=d
        )
    )
    if name == "em":
        values = hnp.arrays(float, (n, d), elements=st.integers(0, 5).map(float))
    else:
        values = hnp.arrays(float, (n, d), elements=st.floats(-5.0, 5.0, allow_subnormal=False))
    X = draw(values) * np.array(scales)
    if name == "em":
        assume((X != 0).any())
    return name, X


@given(hostile_data(), st.integers(0, 2**32 - 1), st.data())
def test_every_fit_on_hostile_data_ends_by_its_rule_within_the_cap(problem, seed, data):
    name, X = problem
    K = data.draw(st.integers(1, X.shape[0]), label="K")
    algorithm = ALGORITHMS[name][0]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and prints no RuntimeWarning
        state = stepping.run(algorithm, X, stepping.start(*init(X, K, seed), max_history=1))
    assert state.converged and not state.stopped_by_cap, f"{name} still going after {state.iteration} iterations"
    assert np.all(np.isfinite(state.scores))
    assert all(np.all(np.isfinite(value)) for value in state.mixture)


# ---------------------------------------------------------------- history


def test_history_keeps_only_the_latest_mixtures():
    algorithm, X, bounded = fresh("naive-em", max_history=3)
    _, _, full = fresh("naive-em", max_history=1000)
    for _ in range(10):
        bounded = stepping.step(algorithm, X, bounded)
        full = stepping.step(algorithm, X, full)
    assert not bounded.converged  # precondition: ten real iterations
    assert len(bounded.mixtures) == 3 and bounded.history_range == (8, 10)
    assert len(full.mixtures) == 11 and full.history_range == (0, 10)
    assert bounded.mixture_at(10) is bounded.mixture
    for t in (8, 9, 10):
        assert_same_mixture(bounded.mixture_at(t), full.mixture_at(t))
    assert len(bounded.scores) == 10  # scores are small and all kept


@pytest.mark.parametrize("iteration", [7, 11, -1])
def test_mixture_outside_the_history_raises_index_error(iteration):
    algorithm, X, state = fresh("naive-em", max_history=3)
    for _ in range(10):
        state = stepping.step(algorithm, X, state)
    with pytest.raises(IndexError, match=rf"iteration {iteration} is not in the history \(it holds 8\.\.10\)"):
        state.mixture_at(iteration)


def test_history_limit_fits_the_budget():
    mixture = GaussianMixture(np.zeros((3, 2)), np.ones(3), np.full(3, 1 / 3))  # 6 + 3 + 3 floats = 96 bytes
    assert stepping.history_limit(mixture, budget_bytes=960) == 10
    assert stepping.history_limit(mixture, budget_bytes=10) == 2  # never fewer than two
    assert stepping.history_limit(mixture, budget_bytes=10**12) == 10_000  # never more than 10 000
    assert stepping.start(mixture, np.ones((4, 3)) / 3).max_history == stepping.history_limit(mixture)
    assert stepping.start(mixture, np.ones((4, 3)) / 3, max_history=0).max_history == 1


def test_fit_state_is_immutable():
    _, _, state = fresh("em")
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.iteration = 5


# ---------------------------------------------------------------- stopping rules


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (-100.0, -99.0, False),  # gain 1 > 1e-6 * 99
        (-100.0, -100.00001, True),  # a fall stops the run
        (-100.0, -99.99995, True),  # gain 5e-5 <= 1e-6 * 99.99995 ~ 1e-4
        (10.0, 10.0, True),  # no gain at a positive LL
        (-1e6, -1e6 + 1.5, False),  # large |LL|: the gain 1.5 exceeds 1e-6 * 999998.5 ~ 1
    ],
)
def test_relative_gain_rule(old, new, expected):
    assert stepping.relative_gain_converged(1e-6)(old, new) is expected


@pytest.mark.parametrize(
    "old, new, expected",
    [
        (10.0, 9.0, False),
        (10.0, 10.0 - 1e-5, True),  # fell by less than 1e-4
        (10.0, 10.0001, True),  # rose
        (0.0, 0.0, True),
    ],
)
def test_absolute_drop_rule(old, new, expected):
    assert stepping.absolute_drop_converged(1e-4)(old, new) is expected


# ---------------------------------------------------------------- the stopping rule and the view at an iteration


@pytest.mark.parametrize("module", [em, naive_em, kmeans])
def test_the_stopping_series_is_what_the_run_decided(module):
    X = ratings() if module is em else blobs()
    algorithm = module.algorithm()
    state = stepping.run(algorithm, X, stepping.start(*init(X, 3, 0)))
    series = algorithm.converged.series(state.scores)
    assert list(series.iterations) == list(range(2, state.iteration + 1))
    # the run stopped at the first iteration whose gain was under the threshold, not before
    assert series.stop[-1] and not series.stop[:-1].any()
    old, new = np.array(state.scores[:-1]), np.array(state.scores[1:])
    expected_gain = old - new if algorithm.score_name == "cost" else new - old
    np.testing.assert_array_equal(series.gain, expected_gain)


def test_the_em_rule_is_the_course_rule():
    rule = em.algorithm().converged
    assert rule(-100.0, -100.0 + 1e-4 * 0.99)  # gain 9.9e-5 <= 1e-6 * 100 = 1e-4
    assert not rule(-100.0, -100.0 + 2e-4)
    np.testing.assert_allclose(rule.series([-200.0, -100.0]).threshold, [1e-4])


def test_view_gives_each_iteration_its_mixture_and_the_e_step_that_led_to_it():
    X = ratings()
    algorithm = em.algorithm()
    state = stepping.start(*init(X, 3, 0))
    states = [state]
    for _ in range(4):
        state = stepping.step(algorithm, X, state)
        states.append(state)
    for t in (1, 2, 3):
        shown = stepping.view(algorithm, X, state, t)
        assert shown.mixture is states[t].mixture
        np.testing.assert_array_equal(shown.post, states[t].post)  # recomputed: the E-step of iteration t
        assert shown.producing_post is shown.post
    start = stepping.view(algorithm, X, state, 0)
    np.testing.assert_array_equal(start.post, np.full_like(state.post, 1 / 3))
    assert start.producing_post is None
    # the latest iteration is the fit itself; after a further E-step its posterior is the new one
    assert stepping.view(algorithm, X, state, 4).producing_post is state.post
    half = stepping.half_step(algorithm, X, state)
    latest = stepping.view(algorithm, X, half, 4)
    assert latest.post is half.post and latest.producing_post is None
