"""em_core.lesson_answers and em_core.lesson_plan: each question's right answer is what em_core then does.

Every kind is checked on the built-in sets and, when the course files are there, on the course's toy and
test data; the reference is computed another way than the answer (the public estep/mstep, brute-force
distances, naive_em.run and BIC by hand, fill_matrix), so a wrong index or a wrong step would show.
"""

from __future__ import annotations

import numpy as np
import pytest

from em_core import em, init, kmeans, lesson_plan, naive_em, stepping
from em_core import lesson_answers as answers
from em_core.data import COURSE_FILES, course_available, course_file, data_dir, load_dataset
from em_core.diagnostics import coordinate_support
from em_core.errors import DataError
from em_core.experiment import algorithm_for
from em_core.mixture import bic
from tests.helpers import course_missing_reason

BUILT_IN = {"points": "demo-2d", "ratings": "demo-small"}
COURSE = {"points": "toy", "ratings": "test"}


def _data(name: str):
    if name in COURSE_FILES and not course_available(name):
        files = [f for f in COURSE_FILES[name][:2] if f and course_file(f) is None]
        pytest.skip(course_missing_reason(data_dir(), files))
    return load_dataset(name)


def _state(algorithm_name: str, X, K: int, seed: int, iterations: int, half: str):
    return lesson_plan.position(algorithm_for(algorithm_name), X, K, seed, iterations, half)


COURSE_ROW = pytest.mark.course
POINT_SETS = [("demo-2d", 4), pytest.param("toy", 3, marks=COURSE_ROW)]
RATING_SETS = [("demo-small", 3), pytest.param("test", 4, marks=COURSE_ROW)]


@pytest.mark.parametrize(("name", "K"), POINT_SETS)
@pytest.mark.parametrize("iterations", [0, 1, 3])
def test_kmeans_strongest_is_the_nearest_centre(name, K, iterations):
    X = _data(name).X
    state = _state("kmeans", X, K, 0, iterations, "E")
    for point in (0, 17, X.shape[0] - 1):
        answer = answers.strongest_after_estep(kmeans.algorithm(), X, state, point)
        distances = ((X[point] - state.mixture.mu) ** 2).sum(axis=1)
        assert answer.component == int(np.argmin(distances))
        assert answers.score_strongest(answer, answer.component).correct
        assert not answers.score_strongest(answer, (answer.component + 1) % K).correct


@pytest.mark.parametrize(("name", "K"), POINT_SETS)
def test_em_strongest_equals_the_public_estep(name, K):
    X = _data(name).X
    state = _state("naive-em", X, K, 1, 2, "E")
    post, _ = naive_em.estep(X, state.mixture)
    point = answers.choose_point(naive_em.algorithm(), X, state)
    answer = answers.strongest_after_estep(naive_em.algorithm(), X, state, point)
    assert answer.component == int(np.argmax(post[point]))
    np.testing.assert_allclose(answer.responsibilities, post[point], atol=1e-12)
    # the point chosen is one whose strongest component the step changes, when there is one
    before = np.argmax(state.post, axis=1)
    if (before != np.argmax(post, axis=1)).any():
        assert answer.before != answer.component


@pytest.mark.parametrize(("name", "K"), POINT_SETS)
def test_score_change_is_the_next_log_likelihood(name, K):
    X = _data(name).X
    state = _state("naive-em", X, K, 0, 2, "E")
    answer = answers.score_change(naive_em.algorithm(), X, state)
    mixture = naive_em.mstep(X, state.post, state.mixture)
    _, ll = naive_em.estep(X, mixture)
    assert answer.value == pytest.approx(ll, rel=1e-12)
    assert answer.change == pytest.approx(ll - state.score, abs=1e-9)
    assert answer.direction == "rise"  # EM on complete data never lowers the LL
    assert answers.score_score_change(answer, "rise", abs(answer.change) * 2).points == 2
    assert answers.score_score_change(answer, "rise", abs(answer.change) * 10).points == 1  # size a decade off
    assert answers.score_score_change(answer, "fall", abs(answer.change)).points == 1


def test_score_change_says_stay_at_convergence():
    X = load_dataset("demo-2d").X
    algorithm = naive_em.algorithm()
    state = stepping.run(algorithm, X, stepping.start(*init(X, 4, 0)))
    # one step before the end: the last gain is within the stopping rule
    almost = lesson_plan.position(algorithm, X, 4, 0, state.iteration - 1, "E")
    answer = answers.score_change(algorithm, X, almost)
    assert answer.direction == "stay"
    verdict = answers.score_score_change(answer, "stay", None)
    assert (verdict.points, verdict.out_of) == (1, 1)  # no size is asked for "stay"
    assert "stopping rule" in verdict.sentence
    assert answers.score_score_change(answer, "rise", 1.0).points == 0


@pytest.mark.parametrize(("name", "K"), POINT_SETS)
def test_mean_move_is_the_weighted_average(name, K):
    X = _data(name).X
    state = _state("naive-em", X, K, 0, 1, "M")
    j = answers.choose_component(naive_em.algorithm(), X, state)
    answer = answers.mean_after_mstep(naive_em.algorithm(), X, state, j)
    weights = state.post[:, j]
    np.testing.assert_allclose(answer.new, weights @ X / weights.sum(), atol=1e-10)
    assert answers.score_mean(answer, answer.new + answer.tolerance * 0.9 / np.sqrt(2)).correct
    # staying put never counts: the tolerance is at most half the distance moved
    assert answer.tolerance <= answers.MOVE_SHARE * answer.moved
    assert not answers.score_mean(answer, answer.old).correct


@pytest.mark.parametrize("seed", range(6))
def test_a_mean_left_where_it_was_never_counts(seed):
    X = load_dataset("demo-2d").X
    stage = lesson_plan.stage("em-mean")
    asked = lesson_plan.ask(stage, stage.choices[-1], X, attempt=seed)
    assert not lesson_plan.verdict(asked, tuple(asked.answer.old)).correct
    assert lesson_plan.verdict(asked, tuple(asked.answer.new)).correct


@pytest.mark.parametrize(("name", "K", "seed"), [("demo-small", 4, 2), pytest.param("test", 4, 1, marks=COURSE_ROW)])
def test_frozen_coordinates_are_those_the_mstep_keeps(name, K, seed):
    X = _data(name).X
    state = _state("em", X, K, seed, 0, "M")
    j = answers.choose_frozen_component(X, state)
    answer = answers.frozen_coordinates(em.algorithm(), X, state, j)
    support = coordinate_support(X, state.post)[j]
    new = em.mstep(X, state.post, state.mixture).mu[j]
    assert answer.items == tuple(np.flatnonzero(support < 1))
    assert 0 < len(answer.items) < X.shape[1]  # the stage's data has a component partly frozen
    np.testing.assert_array_equal(new[list(answer.items)], state.mixture.mu[j][list(answer.items)])
    assert set(answer.items) <= set(answer.unchanged)
    assert answers.score_frozen(answer, answer.items, 0).points == 2
    assert answers.score_frozen(answer, answer.items, 1).points == 1
    assert answers.score_frozen(answer, (), 0).points == 1


@pytest.mark.parametrize(("name", "K"), RATING_SETS)
def test_completion_is_fill_matrix(name, K):
    data = _data(name)
    X = data.X
    mixture, _, _ = em.run(X, *init(X, K, 0))
    user, item = answers.choose_missing_cell(X, mixture)
    assert X[user, item] == 0
    answer = answers.completion_value(X, mixture, user, item)
    assert answer.value == pytest.approx(em.fill_matrix(X, mixture)[user, item], abs=1e-12)
    assert answer.tolerance == pytest.approx(0.25)  # ratings 1-5
    assert answers.score_completion(answer, answer.value + 0.24).correct
    assert not answers.score_completion(answer, answer.value + 0.26).correct


@pytest.mark.parametrize(
    ("name", "ks"), [("demo-2d", (1, 2, 3, 4, 5)), pytest.param("toy", (1, 2, 3, 4), marks=COURSE_ROW)]
)
def test_best_k_is_the_highest_bic_by_hand(name, ks):
    X = _data(name).X
    seeds = (0, 1, 2)
    answer = answers.best_k_by_bic(X, "naive-em", ks, seeds)
    by_hand = {}
    for K in ks:
        runs = [naive_em.run(X, *init(X, K, seed)) for seed in seeds]
        mixture, _, ll = max(runs, key=lambda run: run[2])
        by_hand[K] = bic(X, mixture, ll)
    assert answer.best_k == max(by_hand, key=by_hand.get)
    np.testing.assert_allclose(answer.bics, [by_hand[K] for K in ks], rtol=1e-9)


@pytest.mark.parametrize(("name", "K"), RATING_SETS)
def test_versus_user_mean_scores_both_on_the_missing_entries(name, K):
    data = _data(name)
    X, gold = data.X, data.gold
    mixture, _, _ = em.run(X, *init(X, K, 0))
    answer = answers.versus_user_mean(X, gold, mixture)
    missing = X == 0
    pred = em.fill_matrix(X, mixture)
    assert answer.mixture_rmse == pytest.approx(np.sqrt(np.mean((pred - gold)[missing] ** 2)))
    counts = (X != 0).sum(axis=1)
    user_means = X.sum(axis=1) / counts
    assert answer.user_mean_rmse == pytest.approx(np.sqrt(np.mean((user_means[:, None] - gold)[missing] ** 2)))
    better = "mixture" if answer.mixture_rmse <= answer.user_mean_rmse else "user mean"
    assert answer.winner == better


@pytest.mark.parametrize("kind", ["points", "ratings"])
@pytest.mark.parametrize("source", ["built-in", pytest.param("course", marks=COURSE_ROW)])
def test_every_stage_scores_its_right_answer_full_and_a_wrong_one_less(kind, source):
    name = (BUILT_IN if source == "built-in" else COURSE)[kind]
    data = _data(name)
    for stage in lesson_plan.LESSON:
        choice = next((c for c in stage.choices if c.dataset == name), None)
        if choice is None:
            continue
        asked = lesson_plan.ask(stage, choice, data.X, data.gold)
        right = lesson_plan.verdict(asked, lesson_plan.right_guess(asked))
        assert right.correct, (stage.key, right.sentence)
        assert lesson_plan.prompt(asked).endswith("?") or "Click" in lesson_plan.prompt(asked)
        wrong = lesson_plan.verdict(asked, _wrong_guess(asked))
        assert wrong.points < wrong.out_of, stage.key
        assert wrong.sentence  # the explanation a wrong answer gets


def _wrong_guess(asked):
    answer, kind = asked.answer, asked.stage.question
    if kind == "strongest":
        return (answer.component + 1) % answer.responsibilities.size
    if kind == "score_change":
        return ("fall", 1e-3)
    if kind == "mean_move":
        return tuple(answer.old)
    if kind == "frozen":
        return ((), 2)
    if kind == "completion":
        return answer.value + 1.0
    if kind == "best_k":
        return next(k for k in answer.ks if k != answer.best_k)
    return "user mean" if answer.winner == "mixture" else "mixture"


def test_a_retry_uses_the_next_seed_and_records_the_answer():
    stage = lesson_plan.stage("kmeans-assign")
    X = load_dataset("demo-2d").X
    first = lesson_plan.ask(stage, stage.choices[-1], X)
    again = lesson_plan.ask(stage, stage.choices[-1], X, attempt=1)
    assert (first.seed, again.seed) == (0, 1)
    right = lesson_plan.right_guess(again)
    row = lesson_plan.record(again, right, lesson_plan.verdict(again, right))
    assert (row.stage, row.seed, row.points, row.out_of) == ("kmeans-assign", 1, 1, 1)
    assert row.guess == row.right == f"centre {again.answer.component + 1}"
    assert lesson_plan.score_total([row, row]) == (2, 2)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda X, s: answers.strongest_after_estep(kmeans.algorithm(), X, s, 300), "point 301 is outside 1..300"),
        (lambda X, s: answers.mean_after_mstep(naive_em.algorithm(), X, s, 0), "asks before an M-step"),
        (lambda X, s: answers.frozen_coordinates(naive_em.algorithm(), X, s, 0), "before an M-step"),
        (lambda X, s: answers.score_change(kmeans.algorithm(), X, s), "needs EM"),
        (lambda X, s: answers.score_change(naive_em.algorithm(), X, s), "no log-likelihood yet"),
    ],
)
def test_questions_asked_at_the_wrong_moment_say_so(call, message):
    X = load_dataset("demo-2d").X
    state = stepping.start(*init(X, 4, 0))
    with pytest.raises(DataError, match=message):
        call(X, state)


def test_completion_of_an_observed_cell_is_refused():
    X = load_dataset("demo-small").X
    mixture, _ = init(X, 3, 0)
    user, item = np.argwhere(X != 0)[0]
    with pytest.raises(DataError, match=f"user {user + 1}, item {item + 1} is observed"):
        answers.completion_value(X, mixture, user, item)


def test_a_stage_without_its_data_names_what_it_needs():
    with pytest.raises(DataError, match="needs one of toy, demo-2d; none is available"):
        lesson_plan.choose_data(lesson_plan.stage("em-mean"), ["demo-small"])
    assert lesson_plan.choose_data(lesson_plan.stage("em-mean"), ["demo-2d", "toy"]).dataset == "toy"


def test_the_lesson_follows_the_course_order():
    questions = [stage.question for stage in lesson_plan.LESSON]
    assert questions == ["strongest", "mean_move", "score_change", "best_k", "frozen", "completion", "versus_baseline"]
    assert [stage.algorithm for stage in lesson_plan.LESSON][:4] == ["kmeans", "naive-em", "naive-em", "naive-em"]
    for stage in lesson_plan.LESSON:
        assert stage.choices[-1].dataset in ("demo-2d", "demo-small")  # a built-in set when the course files are absent
        assert 2 <= stage.intro.count(". ") + 1 <= 4


def test_a_verdict_on_the_ll_leaves_the_guess_to_the_page_and_items_are_counted():
    # the page writes "you said rise by 10." before the verdict, which repeated "(you said rise by about 10.000)"
    answer = answers.ScoreChangeAnswer("log_likelihood", -120.0, -110.0, 10.0, "rise", None)
    verdict = answers.score_score_change(answer, "rise", 100.0)
    assert (verdict.points, verdict.out_of) == (1, 2)
    assert verdict.sentence.startswith("Half right: the LL went ") and "said" not in verdict.sentence
    stage = next(stage for stage in lesson_plan.LESSON if stage.question == "frozen")
    asked = lesson_plan.Asked(stage, None, 0, None, 0, None)
    assert lesson_plan.guess_text(asked, ((1,), 0)).startswith("item 2; because ")
    assert lesson_plan.guess_text(asked, ((3, 1), 0)).startswith("items 2, 4; because ")
    assert lesson_plan.guess_text(asked, ((), 0)).startswith("no item; because ")
