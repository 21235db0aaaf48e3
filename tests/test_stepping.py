"""Stepping (em_core.stepping): half-steps, the course's loops, the bounded history and the stopping rules."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from em_core import builtin, em, kmeans, naive_em, stepping
from em_core.mixture import GaussianMixture, init


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
