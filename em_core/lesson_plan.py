"""The guided lesson as data: stages that follow the course project in order, each asking a prediction.

The course project goes K-means on the toy data, EM on the toy data, K by BIC, EM on the incomplete
test matrix, its completion, and the RMSE against gold. :data:`LESSON` is that path as seven
:class:`Stage` values; each names the data set (the course's when its files are there, a built-in
set otherwise), K, seed and iteration it sets, says in two or three sentences what comes, and asks
one question of a kind of :mod:`em_core.lesson_answers`.

:func:`ask` puts a stage's fit where the stage says and computes the right answer (with the state
after the step, for the page to show); :func:`verdict` scores a guess. A retry runs the same stage
from another seed (``seed + attempt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np

from em_core import lesson_answers as answers
from em_core import stepping
from em_core.errors import DataError
from em_core.experiment import algorithm_for
from em_core.mixture import init
from em_core.validation import check_k, check_seed

#: The question kinds, in the order :mod:`em_core.lesson_answers` lists them.
QUESTION_KINDS = ("strongest", "score_change", "mean_move", "frozen", "completion", "best_k", "versus_baseline")
#: The half-step a stage's question comes before: "E" (the fit is after an M-step) or "M" (after an E-step).
HALVES = ("E", "M")


class DataChoice(NamedTuple):
    """A data set with the K and seed a stage uses on it."""

    dataset: str
    k: int
    seed: int


class Stage(NamedTuple):
    """One stage of the lesson.

    Attributes
    ----------
    key : str
        Short, unique; names the stage in the session and in downloads.
    title : str
    algorithm : {"kmeans", "naive-em", "em"}
    choices : tuple of DataChoice
        The first one available is used (course data first, a built-in set last).
    iteration : int or None
        Full iterations run before the question; None runs to convergence.
    half : {"E", "M"}
        The half-step the question comes before ("M": the E-step of the next iteration is done).
    question : str
        One of :data:`QUESTION_KINDS`.
    intro : str
        Two or three sentences on what the student is about to see.
    prompt : str
        The question; ``{target}`` is replaced by the point, component or cell it asks about.
    ks : tuple of int
        For ``best_k``: the Ks compared (the best of ``seeds`` for each).
    seeds : tuple of int
        For ``best_k``: the seeds tried per K.
    """

    key: str
    title: str
    algorithm: str
    choices: tuple[DataChoice, ...]
    iteration: int | None
    half: str
    question: str
    intro: str
    prompt: str
    ks: tuple[int, ...] = ()
    seeds: tuple[int, ...] = ()


_TOY = (DataChoice("toy", 3, 0), DataChoice("demo-2d", 4, 0))
#: Seeds whose components stand apart at iteration 1, so the mean asked about is seen to move.
_TOY_APART = (DataChoice("toy", 3, 7), DataChoice("demo-2d", 4, 9))
_TEST_FROZEN = (DataChoice("test", 4, 1), DataChoice("demo-small", 4, 2))
_TEST = (DataChoice("test", 4, 0), DataChoice("demo-small", 3, 0))

LESSON: tuple[Stage, ...] = (
    Stage(
        "kmeans-assign",
        "K-means on the toy data",
        "kmeans",
        _TOY,
        1,
        "E",
        "strongest",
        "K-means alternates two moves: assign every point to its nearest centre, then move every centre to "
        "the mean of its points. One iteration is done; the crosses are the centres it produced.",
        "Which cluster will the ringed {target} be assigned to in the next assignment?",
    ),
    Stage(
        "em-mean",
        "EM on the toy data: the M-step",
        "naive-em",
        _TOY_APART,
        1,
        "M",
        "mean_move",
        "EM replaces K-means' hard assignment by responsibilities: each point belongs to every component a "
        "little. The E-step of iteration 2 has just recoloured the points; the M-step will move each mean "
        "to the responsibility-weighted average of all points.",
        "Where will the mean of {target} be after the M-step? Click on the chart (or type the position).",
    ),
    Stage(
        "em-ll",
        "EM on the toy data: the log-likelihood",
        "naive-em",
        _TOY,
        2,
        "E",
        "score_change",
        "Each E-step computes the log-likelihood (LL) of the current mixture. Two iterations are done, the "
        "second up to its M-step; the next E-step gives the LL of the mixture that M-step made.",
        "Will the log-likelihood rise, fall or stay after the next step, and by roughly how much?",
    ),
    Stage(
        "bic",
        "Choosing K by BIC",
        "naive-em",
        _TOY,
        None,
        "E",
        "best_k",
        "More components always fit the same data at least as well at their best, so the LL alone cannot "
        "choose K. BIC subtracts a penalty of ½·(parameters)·ln n; the course fits each K from several "
        "seeds and keeps the best.",
        "Which K will BIC choose?",
        ks=(1, 2, 3, 4),
        seeds=(0, 1, 2, 3, 4),
    ),
    Stage(
        "frozen",
        "EM on the incomplete test matrix",
        "em",
        _TEST_FROZEN,
        0,
        "M",
        "frozen",
        "On a rating matrix each user rated only some items (0 = missing), so a component's mean for an "
        "item is learnt only from the users who rated it. The first E-step is done; the M-step comes next.",
        "Which coordinates (items) of the mean of {target} will the M-step leave unchanged, and why?",
    ),
    Stage(
        "completion",
        "Completing the matrix",
        "em",
        _TEST,
        None,
        "E",
        "completion",
        "EM has converged. A missing rating is completed with the user's posterior: the responsibilities "
        "of the components weigh their means at that item.",
        "What value will the completion put in {target}?",
    ),
    Stage(
        "versus",
        "RMSE against gold",
        "em",
        _TEST,
        None,
        "E",
        "versus_baseline",
        "The gold matrix holds the true ratings of the missing entries. The simplest completion fills a "
        "user's missing ratings with their own mean rating.",
        "Which completion will be closer to gold on the missing entries (lower RMSE)?",
    ),
)


def stage(key: str) -> Stage:
    """The stage of :data:`LESSON` called ``key``."""
    for item in LESSON:
        if item.key == key:
            return item
    raise DataError(f"no lesson stage {key!r}; choose one of {', '.join(s.key for s in LESSON)}")


def choose_data(stage: Stage, available: Sequence[str]) -> DataChoice:
    """The first of the stage's data sets that is available (course sets are listed first)."""
    for choice in stage.choices:
        if choice.dataset in available:
            return choice
    names = ", ".join(choice.dataset for choice in stage.choices)
    raise DataError(f"stage {stage.key!r} needs one of {names}; none is available")


def position(algorithm: stepping.Algorithm, X: np.ndarray, K: int, seed: int, iteration: int | None, half: str):
    """The fit from the course's init after ``iteration`` iterations (None: to convergence), and after
    the next E-step too when ``half`` is "M"."""
    if half not in HALVES:
        raise DataError(f"half must be one of {', '.join(HALVES)}, got {half!r}")
    K = check_k(K, X.shape[0])
    mixture, post = init(X, K, check_seed(seed))
    state = stepping.start(mixture, post)
    if iteration is None:
        state = stepping.run(algorithm, X, state)
    for _ in range(iteration or 0):
        state = stepping.step(algorithm, X, state)
    if half == "M":
        state = stepping.half_step(algorithm, X, state)
    return state


class Asked(NamedTuple):
    """A stage put in place: the fit before the step, what the question is about and the right answer.

    ``target`` is a point or component (0-based int), a cell ``(user, item)``, or None (best_k, versus).
    """

    stage: Stage
    choice: DataChoice
    seed: int
    state: stepping.FitState
    target: Any
    answer: Any

    @property
    def after(self) -> stepping.FitState | None:
        """The fit after the step the question predicts (None where no step runs)."""
        return getattr(self.answer, "after", None)


def ask(stage: Stage, choice: DataChoice, X: np.ndarray, gold: np.ndarray | None = None, attempt: int = 0) -> Asked:
    """Put ``stage`` in place on ``X`` (the data set ``choice`` names) from seed ``choice.seed + attempt``,
    choose what to ask about and compute the right answer."""
    seed = check_seed(choice.seed + int(attempt))
    algorithm = algorithm_for(stage.algorithm)
    kind = stage.question
    if kind == "best_k":
        ks = [k for k in stage.ks if k <= X.shape[0]]
        state = position(algorithm, X, choice.k, seed, 0, "E")
        seeds = tuple(s + int(attempt) for s in stage.seeds)
        return Asked(stage, choice, seed, state, None, answers.best_k_by_bic(X, stage.algorithm, ks, seeds))
    state = position(algorithm, X, choice.k, seed, stage.iteration, stage.half)
    if kind == "strongest":
        target = answers.choose_point(algorithm, X, state)
        answer = answers.strongest_after_estep(algorithm, X, state, target)
    elif kind == "score_change":
        target, answer = None, answers.score_change(algorithm, X, state)
    elif kind == "mean_move":
        target = answers.choose_component(algorithm, X, state)
        answer = answers.mean_after_mstep(algorithm, X, state, target)
    elif kind == "frozen":
        target = answers.choose_frozen_component(X, state)
        answer = answers.frozen_coordinates(algorithm, X, state, target)
    elif kind == "completion":
        target = answers.choose_missing_cell(X, state.mixture)
        answer = answers.completion_value(X, state.mixture, *target)
    elif kind == "versus_baseline":
        if gold is None:
            raise DataError(f"stage {stage.key!r} scores against gold; {choice.dataset} has no gold matrix")
        target, answer = None, answers.versus_user_mean(X, gold, state.mixture)
    else:
        raise DataError(f"unknown question kind {kind!r}; use one of {', '.join(QUESTION_KINDS)}")
    return Asked(stage, choice, seed, state, target, answer)


def target_text(asked: Asked) -> str:
    """What the prompt's ``{target}`` says: "point 17", "j=2", "user 3, item 5"."""
    kind = asked.stage.question
    if kind == "strongest":
        noun = "user" if asked.stage.algorithm == "em" else "point"
        return f"{noun} {asked.target + 1}"
    if kind in ("mean_move", "frozen"):
        return f"component j={asked.target + 1}"
    if kind == "completion":
        user, item = asked.target
        return f"the missing cell of user {user + 1}, item {item + 1}"
    return ""


def prompt(asked: Asked) -> str:
    return asked.stage.prompt.format(target=target_text(asked))


def verdict(asked: Asked, guess: Any) -> answers.Verdict:
    """Score ``guess`` for the asked question. Guesses by kind: ``strongest``/``mean_move`` component or
    position; ``score_change`` (direction, size or None); ``frozen`` (items, reason index); ``completion``
    a number; ``best_k`` a K; ``versus_baseline`` one of :data:`~em_core.lesson_answers.COMPLETIONS`."""
    kind, answer = asked.stage.question, asked.answer
    if kind == "strongest":
        return answers.score_strongest(answer, guess)
    if kind == "score_change":
        return answers.score_score_change(answer, *guess)
    if kind == "mean_move":
        return answers.score_mean(answer, guess)
    if kind == "frozen":
        return answers.score_frozen(answer, *guess)
    if kind == "completion":
        return answers.score_completion(answer, guess)
    if kind == "best_k":
        return answers.score_best_k(answer, guess)
    return answers.score_versus(answer, guess)


def right_guess(asked: Asked) -> Any:
    """The guess that scores full points (for tests, and to show after a wrong answer)."""
    kind, answer = asked.stage.question, asked.answer
    return {
        "strongest": lambda: answer.component,
        "score_change": lambda: (answer.direction, None if answer.direction == "stay" else abs(answer.change)),
        "mean_move": lambda: tuple(answer.new),
        "frozen": lambda: (answer.items, 0),
        "completion": lambda: answer.value,
        "best_k": lambda: answer.best_k,
        "versus_baseline": lambda: answer.winner,
    }[kind]()


# ---------------------------------------------------------------- the student's answers, for download


class Record(NamedTuple):
    """One answered question: what was asked, on what, the guess, the right answer and the points."""

    stage: str
    dataset: str
    k: int
    seed: int
    question: str
    guess: str
    right: str
    points: int
    out_of: int
    explanation: str


def record(asked: Asked, guess: Any, result: answers.Verdict) -> Record:
    """The record of one answer (guesses and right answers written as text, components from 1)."""
    return Record(
        asked.stage.key,
        asked.choice.dataset,
        asked.choice.k,
        asked.seed,
        prompt(asked),
        guess_text(asked, guess),
        guess_text(asked, right_guess(asked)),
        result.points,
        result.out_of,
        result.sentence,
    )


def guess_text(asked: Asked, guess: Any) -> str:
    """A guess as the student would write it: components and items from 1, numbers rounded."""
    kind = asked.stage.question
    if kind == "strongest":
        return f"centre {int(guess) + 1}" if asked.stage.algorithm == "kmeans" else f"j={int(guess) + 1}"
    if kind == "score_change":
        direction, size = guess
        return direction if size is None else f"{direction} by {float(size):.3g}"
    if kind == "mean_move":
        return "(" + ", ".join(f"{float(v):.3f}" for v in guess) + ")"
    if kind == "frozen":
        items, reason = guess
        kept = ", ".join(str(int(i) + 1) for i in sorted(items))
        named = "no item" if not items else f"item {kept}" if len(items) == 1 else f"items {kept}"
        return f"{named}; because {answers.FROZEN_REASONS[int(reason)]}"
    if kind == "completion":
        return f"{float(guess):.3f}"
    return str(guess)


def score_total(records: Sequence[Record]) -> tuple[int, int]:
    """Points and the most points possible over ``records``."""
    return sum(r.points for r in records), sum(r.out_of for r in records)
