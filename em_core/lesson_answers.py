"""The right answer to each lesson question, computed by em_core, and the scoring of a student's guess.

A lesson (:mod:`em_core.lesson_plan`) asks a student to predict a step before it runs. Each kind of
question has one pure function here that does the step the way the dashboard does it
(:func:`em_core.stepping.half_step`, :func:`em_core.em.fill_matrix`, :func:`em_core.experiment.sweep`)
and returns the answer with the numbers behind it, and one function that scores a guess against it:

=====================  ===============================  ===============================================
kind                   answer                            a guess counts when
=====================  ===============================  ===============================================
``strongest``          :func:`strongest_after_estep`     it names the strongest component (exactly)
``score_change``       :func:`score_change`              the direction is right (1 point) and the size
                                                         within :data:`MAGNITUDE_DECADES` (1 point)
``mean_move``          :func:`mean_after_mstep`          it lies within :data:`POSITION_SHARE` of the
                                                         data's spread of the new mean, and within
                                                         :data:`MOVE_SHARE` of the distance moved
``frozen``             :func:`frozen_coordinates`        the set of coordinates is exact (1 point) and
                                                         the reason is support below 1 (1 point)
``completion``         :func:`completion_value`          within :data:`COMPLETION_SHARE` of the rating
                                                         range of the completed value
``best_k``             :func:`best_k_by_bic`             it names the K of the highest BIC (exactly)
``versus_baseline``    :func:`versus_user_mean`          it names the completion closer to gold
=====================  ===============================  ===============================================

Indices are 0-based in the arrays and 1-based in the sentences (``j=1`` is ``mu[0]``, "user 3" is row 2),
as everywhere in EM Lab.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from em_core import baselines, diagnostics, em, stepping, wording
from em_core.errors import DataError
from em_core.experiment import completion_scores, sweep
from em_core.mixture import GaussianMixture
from em_core.narration import strongest  # the step log's tie rule
from em_core.stepping import Algorithm, FitState

#: The size of a log-likelihood change counts when its guess is within this many decades
#: (powers of ten) of it: 0.5 is a factor of about 3.2 either way.
MAGNITUDE_DECADES = 0.5
#: A clicked mean counts when it is within this share of the data's spread (the RMS distance of the
#: points to their centroid) of the mean after the M-step ...
POSITION_SHARE = 0.1
#: ... and within this share of the distance the mean moved, so that leaving the mean where it was never
#: counts as a right prediction.
MOVE_SHARE = 0.5
#: A guessed completion counts when it is within this share of the observed ratings' range
#: (0.25 on ratings 1-5).
COMPLETION_SHARE = 0.0625
#: The directions a score can take in one step; "stay" is a change the stopping rule calls no change.
DIRECTIONS = ("rise", "fall", "stay")
#: The reasons offered for a mean coordinate the M-step keeps; the first is the right one.
FROZEN_REASONS = (
    "its support, the summed responsibility of the users who rated that item, is below 1",
    "the component's variance is at the floor",
    "the item's ratings are all the same",
)
#: The two completions of the versus-baseline question.
COMPLETIONS = ("mixture", "user mean")


class Verdict(NamedTuple):
    """A scored guess: ``points`` out of ``out_of``, and one sentence with the numbers."""

    points: int
    out_of: int
    sentence: str

    @property
    def correct(self) -> bool:
        return self.points == self.out_of


def _check_index(value, size: int, what: str) -> int:
    """A 0-based index into ``size`` things; the message counts from 1, as the pages do."""
    try:
        index = int(value)
    except (TypeError, ValueError):
        raise DataError(f"{what} must be a whole number, got {value!r}") from None
    if not 0 <= index < size:
        raise DataError(f"{what} {index + 1} is outside 1..{size}; choose one in that range")
    return index


def _check_next(state: FitState, half: str, question: str) -> None:
    if state.converged:
        raise DataError(f"{question}: the fit has converged, no step comes next; ask at an earlier iteration")
    if state.next_step != half:
        raise DataError(f"{question} asks before an {half}-step, but the fit's next step is its {state.next_step}-step")


# ---------------------------------------------------------------- strongest component after the E-step


class StrongestAnswer(NamedTuple):
    """Which component a point (user) belongs to most after the next E-step (K-means: its cluster).

    ``responsibilities`` is the point's row of the new posterior, shape (K,); ``distances`` its distance to
    each mean, shape (K,); ``before`` its strongest component before the step (-1 when none: the uniform
    posterior of iteration 0); ``hard`` for K-means (one-hot assignments to centres); ``after`` the state.
    """

    point: int
    component: int
    responsibilities: np.ndarray
    distances: np.ndarray
    before: int
    hard: bool
    after: FitState


def strongest_after_estep(algorithm: Algorithm, X: np.ndarray, state: FitState, point: int) -> StrongestAnswer:
    """Run the next E-step (as the Step button does) and read ``point``'s strongest component.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    state : FitState
        Its next step must be an E-step.
    point : int
        0-based row.
    """
    _check_next(state, "E", "Strongest component")
    point = _check_index(point, X.shape[0], "point")
    before = int(strongest(state.post[point : point + 1])[0]) if state.iteration > 0 else -1
    after = stepping.half_step(algorithm, X, state)
    row = np.asarray(after.post[point], dtype=float)
    distances = np.linalg.norm(np.asarray(X[point], dtype=float) - state.mixture.mu, axis=1)
    return StrongestAnswer(point, int(np.argmax(row)), row, distances, before, algorithm.name == "kmeans", after)


def score_strongest(answer: StrongestAnswer, guess: int) -> Verdict:
    """Exact: the guess (0-based) must be the strongest component."""
    right = answer.component
    nearest = ", ".join(
        f"{wording.number(answer.distances[j], 2)} from {_name(j, answer.hard)}"
        for j in np.argsort(answer.distances)[:2]
    )
    if answer.hard:
        held = f"point {answer.point + 1} lies {nearest}, so it goes to {_name(right, True)}"
        why = "K-means assigns every point to its nearest centre"
    else:
        share = wording.number(answer.responsibilities[right], 2)
        held = f"point {answer.point + 1} gives j={right + 1} a responsibility of {share} (it lies {nearest})"
        why = "the weights and variances count too: responsibility follows p_j·N(x; μ_j, σ_j²), not distance alone"
    if answer.before >= 0 and answer.before != right:
        held += f"; before the step it belonged most to {_name(answer.before, answer.hard)}"
    if int(guess) == right:
        return Verdict(1, 1, f"Right: {held}.")
    return Verdict(0, 1, f"Not {_name(int(guess), answer.hard)}: {held}; {why}.")


def _name(j: int, hard: bool) -> str:
    """``centre 3`` (K-means) or ``j=3`` (EM) for the 0-based component ``j``."""
    return f"centre {j + 1}" if hard else f"j={j + 1}"


def choose_point(algorithm: Algorithm, X: np.ndarray, state: FitState) -> int:
    """A point worth asking about: one whose strongest component the next E-step changes (the first such),
    else the one whose top two responsibilities after it are closest."""
    post = stepping.half_step(algorithm, X, state).post
    if state.iteration > 0:
        changed = np.flatnonzero(strongest(state.post) != np.argmax(post, axis=1))
        if changed.size:
            return int(changed[0])
    top_two = np.sort(post, axis=1)[:, -2:] if post.shape[1] > 1 else np.zeros((post.shape[0], 2))
    return int(np.argmin(top_two[:, 1] - top_two[:, 0]))


# ---------------------------------------------------------------- the score's change in one step


class ScoreChangeAnswer(NamedTuple):
    """How the score (EM: the log-likelihood) changes from this iteration's E-step to the next one's.

    ``direction`` is one of :data:`DIRECTIONS`; "stay" when the stopping rule of the algorithm calls the
    gain no gain (EM: ``|change| <= 1e-6 |LL|``). ``after`` is the state after the next E-step.
    """

    score_name: str
    before: float
    value: float
    change: float
    direction: str
    after: FitState


def score_change(algorithm: Algorithm, X: np.ndarray, state: FitState) -> ScoreChangeAnswer:
    """Run the M-step still to come (if any) and the next E-step, and compare the two log-likelihoods.

    The state must have a score already (at least one E-step done): the question compares the LL of
    the current mixture's predecessor with the one the next E-step computes.
    """
    if algorithm.score_name != "log_likelihood":
        raise DataError(f"the score-change question needs EM (a log-likelihood); {algorithm.name} has a cost")
    if state.score is None:
        raise DataError("Score change: no log-likelihood yet; ask after the first E-step (iteration 1 or later)")
    if state.converged:
        raise DataError("Score change: the fit has converged, no step comes next; ask at an earlier iteration")
    before = float(state.score)
    after = state
    if after.next_step == "M":
        after = stepping.half_step(algorithm, X, after)
    after = stepping.half_step(algorithm, X, after)
    value = float(after.score)
    change = value - before
    rule = algorithm.converged
    threshold = float(rule.threshold(value)) if isinstance(rule, stepping.StoppingRule) else 0.0
    direction = "stay" if abs(change) <= threshold else ("rise" if change > 0 else "fall")
    return ScoreChangeAnswer(algorithm.score_name, before, value, change, direction, after)


def magnitude_counts(guess: float, change: float) -> bool:
    """Whether a guessed size of change is within :data:`MAGNITUDE_DECADES` of ``|change|``."""
    guess, size = abs(float(guess)), abs(float(change))
    if guess == 0 or size == 0:
        return guess == size
    return abs(np.log10(guess) - np.log10(size)) <= MAGNITUDE_DECADES


def score_score_change(answer: ScoreChangeAnswer, direction: str, size: float | None) -> Verdict:
    """One point for the direction, one for the size (not asked when the answer is "stay")."""
    if direction not in DIRECTIONS:
        raise DataError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    out_of = 1 if answer.direction == "stay" else 2
    points = int(direction == answer.direction)
    if out_of == 2 and size is not None and magnitude_counts(size, answer.change):
        points += 1
    what = f"the LL went {wording.change(answer.before, answer.value)}"
    if answer.direction == "stay":
        why = "the gain is within the stopping rule's 1e-6·|LL|, so EM stops here"
    elif answer.direction == "rise":
        why = "EM never lowers the likelihood: each E-step and M-step can only raise its lower bound"
    else:
        why = "a fall means the M-step's guards (the variance floor, kept means) bent the update"
    # the guess itself is the page's to repeat ("you said rise by 10"): said here too, it read twice
    lead = "Right" if points == out_of else ("Half right" if points else "Not quite")
    return Verdict(points, out_of, f"{lead}: {what}; {why}.")


# ---------------------------------------------------------------- where a mean moves in the M-step


class MeanAnswer(NamedTuple):
    """Where component ``component``'s mean goes in the next M-step (K-means: the centre in the update).

    ``tolerance`` is how far from ``new`` a guess may lie and still count (:data:`POSITION_SHARE` of the
    data's spread, at most :data:`MOVE_SHARE` of ``moved``).
    """

    component: int
    old: np.ndarray
    new: np.ndarray
    moved: float
    tolerance: float
    after: FitState


def spread(X: np.ndarray) -> float:
    """The RMS distance of the rows of X to their centroid: the scale of a position guess."""
    X = np.asarray(X, dtype=float)
    return float(np.sqrt(np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1))))


def mean_after_mstep(algorithm: Algorithm, X: np.ndarray, state: FitState, component: int) -> MeanAnswer:
    """Run the M-step that comes next and read the new mean of ``component`` (0-based)."""
    _check_next(state, "M", "Mean move")
    component = _check_index(component, state.mixture.n_components, "component")
    after = stepping.half_step(algorithm, X, state)
    old = np.asarray(state.mixture.mu[component], dtype=float)
    new = np.asarray(after.mixture.mu[component], dtype=float)
    moved = float(np.linalg.norm(new - old))
    return MeanAnswer(component, old, new, moved, min(POSITION_SHARE * spread(X), MOVE_SHARE * moved), after)


def score_mean(answer: MeanAnswer, guess: Sequence[float]) -> Verdict:
    """The guess (a position) counts within ``answer.tolerance`` of the new mean."""
    guess = np.asarray(guess, dtype=float)
    miss = float(np.linalg.norm(guess - answer.new))
    where = ", ".join(wording.number(v, 2) for v in answer.new)
    head = (
        f"the mean of j={answer.component + 1} moved by {wording.number(answer.moved, 2)} to ({where}), "
        f"the responsibility-weighted average of the points"
    )
    return _within(miss, answer.tolerance, "away", head)


def _within(miss: float, tolerance: float, word: str, sentence: str) -> Verdict:
    """One point when ``miss <= tolerance``; the sentence says how far off the guess was either way."""
    gap = wording.number(miss, 2)
    if miss <= tolerance:
        return Verdict(1, 1, f"Right, {gap} {word}: {sentence}.")
    return Verdict(0, 1, f"{gap} {word} (counts within {wording.number(tolerance, 2)}): {sentence}.")


def choose_component(algorithm: Algorithm, X: np.ndarray, state: FitState) -> int:
    """The component whose mean moves farthest in the next M-step."""
    after = stepping.half_step(algorithm, X, state)
    return int(np.argmax(np.linalg.norm(after.mixture.mu - state.mixture.mu, axis=1)))


# ---------------------------------------------------------------- mean coordinates the M-step keeps


class FrozenAnswer(NamedTuple):
    """The mean coordinates of ``component`` the next M-step leaves as they are: support below 1.

    ``support`` is ``sum_u p(j|u) [i observed for u]`` for every item i, shape (d,); ``items`` the
    0-based items where it is below 1. ``unchanged`` is checked against the M-step's result.
    """

    component: int
    items: tuple[int, ...]
    support: np.ndarray
    unchanged: tuple[int, ...]
    after: FitState


def frozen_coordinates(algorithm: Algorithm, X: np.ndarray, state: FitState, component: int) -> FrozenAnswer:
    """Run the M-step that comes next on a rating matrix (0 = missing): which coordinates of
    ``component``'s mean it keeps, and the support that decides it."""
    _check_next(state, "M", "Kept coordinates")
    if algorithm.name != "em":
        raise DataError(
            f"kept coordinates are a question about EM on incomplete data; {algorithm.name} updates every one"
        )
    component = _check_index(component, state.mixture.n_components, "component")
    support = diagnostics.coordinate_support(X, state.post)[component]
    after = stepping.half_step(algorithm, X, state)
    items = tuple(int(i) for i in np.flatnonzero(support < 1.0))
    same = np.asarray(after.mixture.mu[component]) == np.asarray(state.mixture.mu[component])
    return FrozenAnswer(component, items, support, tuple(int(i) for i in np.flatnonzero(same)), after)


def score_frozen(answer: FrozenAnswer, items: Sequence[int], reason: int) -> Verdict:
    """One point for exactly the kept items (0-based), one for the reason (index into :data:`FROZEN_REASONS`)."""
    guessed = {int(i) for i in items}
    points = int(guessed == set(answer.items)) + int(int(reason) == 0)
    kept = ", ".join(f"item {i + 1} (support {wording.number(answer.support[i], 2)})" for i in answer.items)
    if not kept:
        kept = "none: every item has support of at least 1"
    lowest = int(np.argmin(answer.support))
    sentence = (
        f"The M-step keeps j={answer.component + 1}'s mean at {kept}; the smallest support is "
        f"{wording.number(answer.support[lowest], 2)} (item {lowest + 1}). Below 1 the weighted average "
        "would rest on less than one user's rating, so the mean keeps its previous value."
    )
    lead = "Right. " if points == 2 else ("Half right. " if points else "Not quite. ")
    return Verdict(points, 2, lead + sentence)


def choose_frozen_component(X: np.ndarray, state: FitState) -> int:
    """The component with the most coordinates below support 1 but not all of them (else the most)."""
    counts = (diagnostics.coordinate_support(X, state.post) < 1.0).sum(axis=1)
    partial = np.where(counts < X.shape[1], counts, -1)
    return int(np.argmax(partial) if partial.max() > 0 else np.argmax(counts))


# ---------------------------------------------------------------- the completion of a missing cell


class CompletionAnswer(NamedTuple):
    """The completion of the missing cell (user, item): ``sum_j p(j|u) mu_j[item]``.

    ``post`` is the user's posterior, shape (K,); ``means`` the components' means at the item, shape (K,);
    ``tolerance`` how far a guess may be and count.
    """

    user: int
    item: int
    value: float
    post: np.ndarray
    means: np.ndarray
    user_mean: float
    tolerance: float


def completion_value(X: np.ndarray, mixture: GaussianMixture, user: int, item: int) -> CompletionAnswer:
    """What :func:`em_core.em.fill_matrix` puts in the missing cell ``(user, item)`` (0-based)."""
    user = _check_index(user, X.shape[0], "user")
    item = _check_index(item, X.shape[1], "item")
    if X[user, item] != 0:
        raise DataError(f"user {user + 1}, item {item + 1} is observed ({X[user, item]:g}); ask about a missing cell")
    post, _ = em.estep(X, mixture)
    means = np.asarray(mixture.mu[:, item], dtype=float)
    value = float(em.fill_matrix(X, mixture)[user, item])
    observed = X[X != 0]
    tolerance = COMPLETION_SHARE * float(observed.max() - observed.min()) if observed.size else 0.0
    row = X[user]
    user_mean = float(row[row != 0].mean())
    return CompletionAnswer(user, item, value, post[user], means, user_mean, tolerance)


def score_completion(answer: CompletionAnswer, guess: float) -> Verdict:
    """Counts within ``answer.tolerance`` of the completed value."""
    miss = abs(float(guess) - answer.value)
    top = np.argsort(answer.post)[::-1][:2]
    terms = " + ".join(
        f"{wording.number(answer.post[j], 2)}·{wording.number(answer.means[j], 2)} (j={j + 1})" for j in top
    )
    sentence = (
        f"the completion is {wording.number(answer.value, 2)} = Σ p(j|u)·μ_j ≈ {terms}"
        f"{' + …' if answer.post.size > 2 else ''}; "
        f"user {answer.user + 1}'s own mean is {wording.number(answer.user_mean, 2)}"
    )
    return _within(miss, answer.tolerance, "off", sentence)


def choose_missing_cell(X: np.ndarray, mixture: GaussianMixture) -> tuple[int, int]:
    """The missing cell whose completion lies farthest from its user's own mean (a guess of the
    user's mean is then wrong, and the mixture's point is seen)."""
    X_pred = em.fill_matrix(X, mixture)
    observed = X != 0
    counts = np.maximum(observed.sum(axis=1), 1)
    user_means = (X * observed).sum(axis=1) / counts
    gap = np.where(observed, -np.inf, np.abs(X_pred - user_means[:, None]))
    user, item = np.unravel_index(int(np.argmax(gap)), X.shape)
    if observed[user, item]:
        raise DataError("the matrix has no missing cell to ask about; choose a data set with 0 = missing entries")
    return int(user), int(item)


# ---------------------------------------------------------------- which K BIC chooses


class BicAnswer(NamedTuple):
    """The K with the highest BIC, each K's best seed scored: ``bics[i]`` belongs to ``ks[i]``."""

    ks: tuple[int, ...]
    log_likelihoods: tuple[float, ...]
    bics: tuple[float, ...]
    best_k: int
    seeds: tuple[int, ...] = ()  # the seeds tried per K (the best of them is scored)


def best_k_by_bic(X: np.ndarray, algorithm: str, ks: Sequence[int], seeds: Sequence[int]) -> BicAnswer:
    """The model-selection page's sweep (:func:`em_core.experiment.sweep`) and the K it picks."""
    result = sweep(X, algorithm, ks, seeds)
    rows = result.best_per_k
    return BicAnswer(
        tuple(r.k for r in rows),
        tuple(float(r.run.score) for r in rows),
        tuple(float(r.bic) for r in rows),
        result.best_k_by_bic(),
        tuple(int(seed) for seed in seeds),
    )


def score_best_k(answer: BicAnswer, guess: int) -> Verdict:
    """Exact: the guess must be the K of the highest BIC."""
    table = ", ".join(f"K={k}: {wording.number(b, 1)}" for k, b in zip(answer.ks, answer.bics, strict=True))
    why = "BIC = LL − ½·(number of parameters)·ln n: each component must raise the LL by more than its penalty"
    if int(guess) == answer.best_k:
        return Verdict(1, 1, f"Right, K={answer.best_k}. BIC {table}; {why}.")
    return Verdict(0, 1, f"BIC chooses K={answer.best_k}, not {int(guess)}. BIC {table}; {why}.")


# ---------------------------------------------------------------- the mixture against the user mean


class VersusAnswer(NamedTuple):
    """RMSE on the missing entries against gold: the mixture's completion and the user-mean baseline's."""

    mixture_rmse: float
    user_mean_rmse: float
    winner: str  # one of COMPLETIONS


def versus_user_mean(X: np.ndarray, gold: np.ndarray, mixture: GaussianMixture) -> VersusAnswer:
    """Score the mixture's completion and the user-mean baseline on the entries missing in ``X``."""
    missing = X == 0
    if not missing.any():
        raise DataError("the matrix has no missing entries, so no completion to score; choose a matrix with 0s")
    scores = completion_scores(X, gold, em.fill_matrix(X, mixture))
    baseline = baselines.score_on(gold, baselines.user_mean(X), missing)
    winner = COMPLETIONS[0] if scores.rmse_missing <= baseline else COMPLETIONS[1]
    return VersusAnswer(float(scores.rmse_missing), float(baseline), winner)


def score_versus(answer: VersusAnswer, guess: str) -> Verdict:
    """Exact: the guess must name the completion with the lower RMSE on the missing entries."""
    numbers = (
        f"RMSE on the missing entries: mixture {wording.number(answer.mixture_rmse, 4)}, "
        f"user mean {wording.number(answer.user_mean_rmse, 4)}"
    )
    why = (
        "the mixture borrows from users like this one"
        if answer.winner == COMPLETIONS[0]
        else "components that collapsed onto single users, or kept means, cost the mixture more than it gains"
    )
    if guess == answer.winner:
        return Verdict(1, 1, f"Right, the {answer.winner} is closer: {numbers}; {why}.")
    return Verdict(0, 1, f"The {answer.winner} is closer: {numbers}; {why}.")
