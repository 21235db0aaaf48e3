"""Narration (em_core.narration): what each half-step changed, in numbers and in one sentence.

The numbers are checked against quantities recomputed here the plain way (argmax per row, the
norm of each mean's move, the support as ``post.T @ observed``, the score from the algorithm's own
E- or M-step), on hand-made cases, the built-in data sets and the course's Netflix matrix.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from em_core import em, kmeans, naive_em, narration, stepping
from em_core.data import load_dataset
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, init

M = "\u2212"  # the minus sign the sentences use


def people(value: float, decimals: int) -> str:
    """A number as the sentences write it: thousands separators, a real minus sign."""
    return f"{value:,.{decimals}f}".replace("-", M)


def two_significant(change: float, minimum: int = 1) -> int:
    """Decimals that show ``change`` with two significant digits."""
    return max(minimum, 1 - math.floor(math.log10(abs(change))))


def strongest_by_hand(post: np.ndarray) -> list[int]:
    """Each row's strongest component, -1 where its two largest responsibilities tie."""
    result = []
    for row in post:
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))
        tied = len(row) > 1 and row[order[0]] - row[order[1]] <= 1e-12
        result.append(-1 if tied else order[0])
    return result


# ---------------------------------------------------------------- hand-made cases


def test_estep_sentence_by_hand():
    before = np.array([[1.0, 0.0], [0.5, 0.5], [0.2, 0.8]])
    after = np.array([[0.0, 1.0], [0.6, 0.4], [0.2, 0.8]])
    ll = narration.ScoreChange("log_likelihood", -1412.3, -1410.9)
    change = narration.estep_change(before, after, ll, iteration=2)
    # row 1 had no strongest component before (a tie), so only row 0 changed
    np.testing.assert_array_equal(change.changed, [0])
    np.testing.assert_allclose(change.moved, [1.0, 0.1, 0.0])
    assert change.score.change == pytest.approx(1.4)
    assert change.sentence == (
        "E-step 2: 1 point changed its strongest component (responsibility moved by up to 1.00, "
        f"0.367 on average); LL {M}1,412.3 → {M}1,410.9 (+1.4)."
    )


def test_first_estep_counts_points_per_component():
    uniform = np.full((4, 2), 0.5)
    after = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    change = narration.estep_change(uniform, after, narration.ScoreChange("log_likelihood", None, -10.0))
    assert change.first and change.n_changed == 0
    assert change.sentence == (
        f"E-step 1: the first responsibilities; points per strongest component j=1: 3, j=2: 1; LL {M}10.0."
    )


def test_mstep_sentence_by_hand():
    before = GaussianMixture(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([1.0, 0.3]), np.array([0.5, 0.5]))
    after = GaussianMixture(np.array([[0.3, 0.4], [1.0, 1.0]]), np.array([0.25, 0.3]), np.array([0.75, 0.25]))
    change = narration.mstep_change(before, after, n_points=4, min_variance=0.25)
    np.testing.assert_allclose(change.mean_shift, [0.5, 0.0])
    np.testing.assert_array_equal(change.reached_floor, [0])
    np.testing.assert_array_equal(change.collapsed, [1])  # 4 * 0.25 = one point's worth
    np.testing.assert_array_equal(change.newly_collapsed, [1])
    assert change.sentence == (
        "M-step 1: means moved by up to 0.50 (j=1); variance of j=1 fell to the floor 0.25; "
        "weight of j=1 0.50 → 0.75 (+0.25); j=2 now holds at most one point's worth of weight."
    )


def test_mstep_reports_the_coordinates_it_could_not_update():
    # item 2 is rated by user 0 only, and user 0 belongs to component 0 by half: support 0.5 < 1
    X = np.array([[5.0, 4.0, 1.0], [4.0, 5.0, 0.0], [1.0, 2.0, 0.0], [2.0, 1.0, 0.0]])
    post = np.array([[0.5, 0.5], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    before, _ = init(X, 2, seed=0)
    after = em.mstep(X, post, before, 0.25)
    change = narration.mstep_change(before, after, 4, 0.25, X, post)
    support = post.T @ (X != 0)
    np.testing.assert_array_equal(change.not_updated, support < 1)
    assert change.n_not_updated == 2
    assert "2 mean coordinates kept their value (support < 1)" in change.sentence


def test_a_steps_narration_takes_the_m_steps_own_support(monkeypatch):
    """A Step's log says which coordinates its M-step kept from the support that M-step computed: the
    product is not made a second time (on netflix, K = 12, it was ~7 of a Step's ~125 ms of server time)."""
    X = np.array([[5.0, 4.0, 1.0], [4.0, 5.0, 0.0], [1.0, 2.0, 0.0], [2.0, 1.0, 0.0]])
    algorithm = em.algorithm(0.25)
    start = stepping.start(*init(X, 2, seed=0))
    expected = narration.log_entries(algorithm, X, stepping.step(algorithm, X, start), start, 0.25)[1].change

    def again(*_):
        raise AssertionError("the narration computed the support again")

    monkeypatch.setattr(narration.diagnostics, "coordinate_support", again)
    monkeypatch.setattr(em._kernels, "support", again)
    state = stepping.step(algorithm, X, start)
    change = narration.log_entries(algorithm, X, state, start, 0.25)[1].change
    np.testing.assert_array_equal(change.not_updated, expected.not_updated)
    np.testing.assert_array_equal(change.not_updated, state.post.T @ (X != 0) < 1)


# ---------------------------------------------------------------- the step log on every algorithm


def steppable(name: str):
    """A fresh algorithm (it caches its matrix) and its E-step, which gives the score to recompute."""
    return {
        "kmeans": (kmeans.algorithm(), None),
        "naive-em": (naive_em.algorithm(), naive_em.estep),
        "em": (em.algorithm(0.25), em.estep),
    }[name]


CASES = [
    ("kmeans", "demo-2d", 4),
    ("naive-em", "demo-2d", 4),
    ("em", "demo-small", 3),
    ("em", "demo-large", 12),  # wide (1200 items): the sentence also gives the largest coordinate's move
]


def check_estep_entry(entry, previous, state, X, name, estep):
    change = entry.change
    assert (entry.half, entry.iteration) == ("E", previous.iteration + 1)
    before, after = strongest_by_hand(previous.post), strongest_by_hand(state.post)
    changed = [u for u in range(len(before)) if before[u] >= 0 and before[u] != after[u]]
    np.testing.assert_array_equal(change.changed, changed)
    np.testing.assert_allclose(change.moved, 0.5 * np.abs(state.post - previous.post).sum(axis=1))
    noun = "user" if name == "em" else "point"
    if change.first:
        assert "the first" in entry.sentence
    else:
        assert f"{len(changed):,} {noun}" in entry.sentence
    if estep is None:  # K-means' assignment has no score
        assert change.score.after is None and "cost" not in entry.sentence
        return
    post, ll = estep(X, previous.mixture)
    np.testing.assert_allclose(state.post, post, atol=1e-12)
    assert change.score.after == pytest.approx(ll, rel=1e-12)
    if previous.scores:
        gain = ll - previous.scores[-1]
        digits = two_significant(gain)
        expected = f"LL {people(previous.scores[-1], digits)} → {people(ll, digits)} ({'+' if gain > 0 else ''}"
        assert expected in entry.sentence


def check_mstep_entry(entry, previous, state, X, name):
    change = entry.change
    assert (entry.half, entry.iteration) == ("M", previous.iteration + 1)
    shift = np.linalg.norm(state.mixture.mu - previous.mixture.mu, axis=1)
    np.testing.assert_allclose(change.mean_shift, shift, rtol=1e-12)
    largest = shift.max()
    if largest > 0:
        j = int(np.argmax(shift))
        moved = "centres" if name == "kmeans" else "means"
        assert f"{moved} moved by up to {people(largest, two_significant(largest, 2))} (j={j + 1}" in entry.sentence
    if name == "em":
        support = previous.post.T @ (X != 0).astype(float)
        np.testing.assert_array_equal(change.not_updated, support < 1)
        count = int((support < 1).sum())
        assert (f"{count:,} mean coordinate" in entry.sentence) == (count > 0)
        floor = np.flatnonzero((state.mixture.var <= 0.25) & (previous.mixture.var > 0.25))
        np.testing.assert_array_equal(change.reached_floor, floor)
    else:
        assert change.not_updated is None
    if name == "kmeans":
        assert change.score.after == state.score
        assert "cost " in entry.sentence


@pytest.mark.parametrize("name, dataset, K", CASES)
def test_log_entries_match_recomputed_numbers(name, dataset, K):
    X = load_dataset(dataset).X
    algorithm, estep = steppable(name)
    state = stepping.start(*init(X, K, seed=0))
    for _ in range(6):  # three iterations, one half-step at a time
        previous, state = state, stepping.half_step(algorithm, X, state)
        (entry,) = narration.log_entries(algorithm, X, state, previous, min_variance=0.25)
        if entry.half == "E":
            check_estep_entry(entry, previous, state, X, name, estep)
        else:
            check_mstep_entry(entry, previous, state, X, name)


@pytest.mark.parametrize("name, dataset, K", CASES)
@pytest.mark.parametrize("start_with", ["E", "M"])
def test_a_whole_step_logs_the_same_two_entries_as_two_half_steps(name, dataset, K, start_with):
    X = load_dataset(dataset).X
    algorithm, _ = steppable(name)
    state = stepping.start(*init(X, K, seed=1))
    state = stepping.step(algorithm, X, state)
    if start_with == "M":
        state = stepping.half_step(algorithm, X, state)
    middle = stepping.half_step(algorithm, X, state)
    after = stepping.half_step(algorithm, X, middle)
    halves = [
        *narration.log_entries(algorithm, X, middle, state, 0.25),
        *narration.log_entries(algorithm, X, after, middle, 0.25),
    ]
    whole = narration.log_entries(algorithm, X, after, state, 0.25)
    assert [e.sentence for e in whole] == [e.sentence for e in halves]
    assert [(e.iteration, e.half) for e in whole] == [(e.iteration, e.half) for e in halves]


@pytest.mark.parametrize("name, dataset, K", CASES[:3])
def test_run_with_log_keeps_every_half_step(name, dataset, K):
    X = load_dataset(dataset).X
    start = stepping.start(*init(X, K, seed=2))
    algorithm, _ = steppable(name)
    state, entries = narration.run_with_log(algorithm, X, start, min_variance=0.25)
    plain = stepping.run(steppable(name)[0], X, start)
    assert (state.iteration, state.scores) == (plain.iteration, plain.scores)
    assert [(e.iteration, e.half) for e in entries] == [(t, h) for t in range(1, state.iteration + 1) for h in "EM"]
    scores = [e.change.score.after for e in entries if e.change.score.after is not None]
    assert scores == list(state.scores)  # EM's LL from each E-step, K-means' cost from each M-step
    np.testing.assert_array_equal(entries[-1].change.after.mu, state.mixture.mu)


def test_a_converged_fit_logs_nothing():
    X = load_dataset("demo-2d").X
    algorithm = kmeans.algorithm()
    state = stepping.run(algorithm, X, stepping.start(*init(X, 3, seed=0)))
    assert state.converged
    assert narration.log_entries(algorithm, X, stepping.half_step(algorithm, X, state), state) == []


def test_states_that_do_not_follow_each_other_are_refused():
    X = load_dataset("demo-2d").X
    algorithm = naive_em.algorithm()
    first = stepping.start(*init(X, 3, seed=0))
    later = stepping.step(algorithm, X, stepping.step(algorithm, X, first))
    went = r"from iteration 0 \(E-step next\) to iteration 2 \(E-step next\), 4 half-steps"
    with pytest.raises(DataError, match=went):
        narration.log_entries(algorithm, X, later, first)
    with pytest.raises(DataError, match=r"-4 half-steps; pass the states before and after one half-step or one step"):
        narration.log_entries(algorithm, X, first, later)


def test_posteriors_of_different_shapes_are_refused():
    with pytest.raises(DataError, match=r"shapes \(3, 2\) and \(3, 3\); pass two \(n, K\) posteriors of the same fit"):
        narration.estep_change(np.full((3, 2), 0.5), np.full((3, 3), 1 / 3))


# ---------------------------------------------------------------- the course's Netflix matrix


def test_netflix_first_iteration(course_matrix):
    X = course_matrix("netflix_incomplete.txt")
    algorithm = em.algorithm(0.25)
    start = stepping.start(*init(X, 12, seed=0))
    state = stepping.step(algorithm, X, start)
    e_entry, m_entry = narration.log_entries(algorithm, X, state, start, 0.25)
    _, ll = em.estep(X, start.mixture)
    assert e_entry.change.score.after == pytest.approx(ll, rel=1e-12)
    assert e_entry.sentence.endswith(f"LL {people(ll, 1)}.")
    support = state.post.T @ (X != 0).astype(float)
    count = int((support < 1).sum())
    assert m_entry.change.n_not_updated == count
    assert f"{count:,} mean coordinates kept their value (support < 1)" in m_entry.sentence


def test_k_means_update_speaks_of_centres_and_cost_only():
    # K-means moves centres: its update's sentence names no variance or weight (EM's M-step's do)
    X = load_dataset("demo-2d").X
    for name, forbidden in (("kmeans", ("variance", "weight")), ("naive-em", ())):
        algorithm, _ = steppable(name)
        start = stepping.start(*init(X, 4, seed=0))
        _, entries = narration.run_with_log(algorithm, X, start, min_variance=0.25)
        updates = [e.change.sentence for e in entries if e.half == "M"]
        assert updates and all(s.startswith("Update" if name == "kmeans" else "M-step") for s in updates)
        for word in forbidden:
            assert not any(word in s for s in updates), updates
        if name == "naive-em":
            assert any("variance of j=" in s for s in updates) and any("weight of j=" in s for s in updates)
        else:
            assert any("cost" in s for s in updates), updates
            assert all("centres moved by up to" in s or "no centre moved" in s for s in updates), updates
