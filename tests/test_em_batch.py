"""EM from several starts at once (em_core.em_batch) gives each start's own fit, and sweeps use it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from em_core import em, em_batch, experiment, stepping
from em_core.errors import DataError
from em_core.mixture import init
from tests.helpers import random_ratings


def one_at_a_time(X, starts, max_iter=None):
    algorithm = em.algorithm()
    return [
        stepping.run(algorithm, em.prepare(X), stepping.start(m, p, max_history=1), max_iter=max_iter)
        for m, p in starts
    ]


def assert_same_fit(got: stepping.FitState, expected: stepping.FitState) -> None:
    assert got.iteration == expected.iteration
    assert (got.converged, got.stopped_by_cap, got.interrupted) == (
        expected.converged,
        expected.stopped_by_cap,
        expected.interrupted,
    )
    np.testing.assert_allclose(got.scores, expected.scores, rtol=1e-13)
    # After a whole fit, means to 1e-10, as the posterior below. A mean coordinate backed by little
    # weight is a ratio of small sums, and the batch orders those sums otherwise than a fit alone does
    # (products of more columns, in the orientation timed for their class; a settled component's
    # distances reused and its statistics summed over its few rows). Each iteration agrees to 1e-12
    # (test_one_batch_iteration_from_any_state_is_one_iteration_alone); over a fit's iterations EM
    # carried those last bits to 4e-12 on one coordinate of 6,000 in a CI run (numpy at
    # requirements.txt's floor), where the scores still agreed to 1e-13.
    np.testing.assert_allclose(got.mixture.mu, expected.mixture.mu, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(got.mixture.var, expected.mixture.var, rtol=1e-12)
    np.testing.assert_allclose(got.mixture.p, expected.mixture.p, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.post, expected.post, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    ("n", "d", "missing", "ks", "seed"),
    [
        (60, 40, 0.5, (3, 3, 3), 0),
        (300, 500, 0.3, (12, 12, 12, 12, 12), 1),  # large enough for the timed, batched products
        (80, 30, 0.9, (1, 4, 7), 2),  # starts of different K in one batch, most ratings missing
        (50, 20, 0.0, (2, 5), 3),  # nothing missing
    ],
)
def test_each_start_of_a_batch_is_fitted_as_if_alone(n, d, missing, ks, seed):
    X = random_ratings(n, d, missing, seed)
    starts = [init(X, K, seed=s) for s, K in enumerate(ks)]
    got = em_batch.run(X, starts)
    assert got is not None
    for a, b in zip(got, one_at_a_time(X, starts), strict=True):
        assert_same_fit(a, b)


@pytest.mark.parametrize(
    ("n", "d", "missing", "ks", "seed"),
    [
        (300, 500, 0.3, (12, 12, 12, 12, 12), 1),
        (80, 30, 0.9, (1, 4, 7), 2),
    ],
)
def test_one_batch_iteration_from_any_state_is_one_iteration_alone(n, d, missing, ks, seed):
    """The batch's arithmetic, one iteration at a time and without a fit's accumulation of rounding:
    from each state of each start's fit alone, one iteration of the batch gives that fit's next
    state, means to 1e-12."""
    X = random_ratings(n, d, missing, seed)
    data = em.prepare(X)
    algorithm = em.algorithm()
    fits = []  # per start, its states alone: iteration 0, 1, ... up to convergence
    for mixture, post in (init(X, K, seed=s) for s, K in enumerate(ks)):
        states = [stepping.start(mixture, post, max_history=1)]
        while not states[-1].converged:
            states.append(stepping.step(algorithm, data, states[-1]))
        fits.append(states)
    checked = 0
    for t in range(max(len(states) for states in fits) - 1):
        going = [states for states in fits if t + 1 < len(states)]
        got = em_batch.run(data, [(states[t].mixture, states[t].post) for states in going], max_iter=1)
        for state, states in zip(got, going, strict=True):
            after = states[t + 1]
            assert state.scores[-1] == pytest.approx(after.scores[-1], rel=1e-14)
            np.testing.assert_allclose(state.mixture.mu, after.mixture.mu, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(state.mixture.var, after.mixture.var, rtol=1e-12)
            np.testing.assert_allclose(state.mixture.p, after.mixture.p, rtol=1e-12, atol=1e-15)
            np.testing.assert_allclose(state.post, after.post, rtol=1e-12, atol=1e-14)
            checked += 1
    assert checked == sum(len(states) - 1 for states in fits) >= 3 * len(ks)


def test_rows_and_columns_with_no_rating_are_fitted_as_if_alone():
    X = random_ratings(70, 50, 0.4, 4)
    X[[3, 40], :] = 0.0
    X[:, [0, 17]] = 0.0
    starts = [init(X, K, seed=s) for s, K in enumerate((2, 6, 6))]
    for a, b in zip(em_batch.run(X, starts), one_at_a_time(X, starts), strict=True):
        assert_same_fit(a, b)


def test_a_sparse_matrix_gives_the_dense_batch():
    X = random_ratings(90, 60, 0.7, 5)
    starts = [init(X, 4, seed=s) for s in range(3)]
    for a, b in zip(em_batch.run(sp.csr_matrix(X), starts), em_batch.run(X, starts), strict=True):
        assert_same_fit(a, b)


def test_the_iteration_cap_stops_every_start_there_marked_as_stopped_by_it():
    X = random_ratings(100, 80, 0.5, 6)
    starts = [init(X, 5, seed=s) for s in range(3)]
    got = em_batch.run(X, starts, max_iter=2)
    assert [s.iteration for s in got] == [2, 2, 2]
    assert all(s.stopped_by_cap and not s.converged for s in got)
    for a, b in zip(got, one_at_a_time(X, starts, max_iter=2), strict=True):
        assert_same_fit(a, b)


def test_should_stop_ends_every_start_still_going_marked_interrupted():
    X = random_ratings(100, 80, 0.5, 7)
    starts = [init(X, 5, seed=s) for s in range(3)]
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 2  # two iterations, then stop

    got = em_batch.run(X, starts, should_stop=should_stop)
    assert [s.iteration for s in got] == [2, 2, 2]
    assert all(s.interrupted and not s.converged for s in got)


def test_a_failing_step_returns_none_and_the_sweep_fits_the_seeds_one_by_one(monkeypatch):
    X = random_ratings(60, 40, 0.5, 8)
    expected = experiment.sweep(X, "em", [3], [0, 1, 2], fit_one=experiment._fit_one)
    real = em.log_joint
    calls = []

    def overflowing(data, mixture):
        calls.append(mixture.n_components)
        if mixture.n_components == 9:  # the batch of three starts
            raise FloatingPointError("overflow encountered in multiply")
        return real(data, mixture)

    monkeypatch.setattr(em, "log_joint", overflowing)
    assert em_batch.run(X, [init(X, 3, seed=s) for s in range(3)]) is None
    got = experiment.sweep(X, "em", [3], [0, 1, 2])
    assert 9 in calls and 3 in calls  # tried together, then one by one
    assert [(r.seed, r.iterations, r.score) for r in got.runs] == [
        (r.seed, r.iterations, r.score) for r in expected.runs
    ]


def test_a_non_finite_log_likelihood_in_the_batch_falls_back_to_the_seed_that_names_it(monkeypatch):
    X = random_ratings(60, 40, 0.5, 9)

    def nan_score(f):
        return f, float("nan")

    monkeypatch.setattr(em_batch._kernels, "normalise", nan_score)
    assert em_batch.run(X, [init(X, 3, seed=s) for s in range(2)]) is None
    with pytest.raises(DataError, match=r"em iteration 1 \(E-step\).*log_likelihood is nan"):
        experiment.sweep(X, "em", [3], [0, 1])


def test_a_sweep_fits_each_ks_seeds_together_with_the_numbers_of_fitting_them_one_by_one(monkeypatch):
    X = random_ratings(150, 120, 0.4, 10)
    batches = []
    real = em_batch.run

    def counted(X, starts, *args, **kwargs):
        batches.append(len(starts))
        return real(X, starts, *args, **kwargs)

    monkeypatch.setattr(em_batch, "run", counted)
    together = experiment.sweep(X, "em", [1, 4, 6], [0, 1, 2, 3], gold=None)
    assert batches == [4, 4, 4]
    alone = experiment.sweep(X, "em", [1, 4, 6], [0, 1, 2, 3], fit_one=experiment._fit_one)
    assert batches == [4, 4, 4]  # a fit_one of one's own is called per seed
    for a, b in zip(together.runs, alone.runs, strict=True):
        assert (a.k, a.seed, a.iterations, a.converged) == (b.k, b.seed, b.iterations, b.converged)
        assert a.score == pytest.approx(b.score, rel=1e-13)
        np.testing.assert_allclose(a.mixture.mu, b.mixture.mu, rtol=1e-12, atol=1e-12)
        assert a.seconds > 0
    assert [best.run.seed for best in together.best_per_k] == [best.run.seed for best in alone.best_per_k]
    assert [best.bic for best in together.best_per_k] == pytest.approx([best.bic for best in alone.best_per_k])


def test_a_sweep_stopped_mid_batch_keeps_only_the_runs_that_finished():
    X = random_ratings(150, 120, 0.4, 11)
    asked = []

    def should_stop():
        asked.append(1)
        return len(asked) > 40  # well into the second K's batch

    result = experiment.sweep(X, "em", [2, 5], [0, 1, 2], should_stop=should_stop)
    assert result.stopped
    assert all(run.converged and not run.interrupted for run in result.runs)
    assert {run.k for run in result.runs} <= {2, 5}
    assert len(result.runs) < 6


@pytest.mark.course
def test_the_course_experiment_fitted_together_matches_fitting_each_seed(course_matrix):
    X = course_matrix("netflix_incomplete.txt")
    together = experiment.sweep(X, "em", [1, 12], range(5))
    for run in together.runs:
        alone = experiment.fit(X, "em", run.k, run.seed)
        assert (run.iterations, run.converged) == (alone.iterations, alone.converged)
        assert run.score == pytest.approx(alone.score, rel=1e-13)
        np.testing.assert_allclose(run.mixture.mu, alone.mixture.mu, rtol=1e-12, atol=1e-12)
