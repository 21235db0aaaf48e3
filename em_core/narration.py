"""What one half-step changed, as numbers and as one sentence a student can read.

- :func:`estep_change`: from the posterior before and after an E-step (and the score around it),
  which points changed their strongest component and how far the responsibilities moved
  (:class:`EStepChange`), e.g. "E-step 3: 23 points changed their strongest component ...;
  LL −1,412.3 → −1,410.9 (+1.4)".
- :func:`mstep_change`: from the mixture before and after an M-step, how far each mean moved, the
  variances and weights, the variances that fell to the floor, the components that collapsed and
  (EM on incomplete data) the mean coordinates the M-step could not update (:class:`MStepChange`),
  e.g. "M-step 3: means moved by up to 0.31 (j=2); variance of j=3 fell to the floor 0.25".
- :func:`log_entries`: the entries of a step log for what a fit just did (one half-step, or a whole
  iteration), for K-means, EM on complete data and EM on incomplete data alike;
  :func:`run_with_log` runs a fit to convergence and keeps every entry.

Arrays hold 0-based indices; sentences number components from 1 (``j=1`` is ``mu[0]``), as the
dashboard does. The numbers come from the same functions the fit uses (:mod:`em_core.em`,
:mod:`em_core.diagnostics`); this module only compares and words them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

import numpy as np

from em_core import diagnostics, stepping, wording
from em_core.covariance_em import mean_variance
from em_core.errors import DataError
from em_core.mixture import GaussianMixture
from em_core.stepping import Algorithm, FitState

#: A posterior row whose two largest responsibilities are closer than this has no strongest
#: component (e.g. the uniform posterior before the first E-step).
TIE = 1e-12
#: Short names of the scores, for the sentences.
SCORE_LABELS = {"log_likelihood": "LL", "cost": "cost"}
#: Above this many coordinates, the M-step's sentence also gives the largest single coordinate's move.
FEW_COORDINATES = 3


class ScoreChange(NamedTuple):
    """The fit's score around a half-step (EM: the log-likelihood from the E-step; K-means: the cost
    from the M-step).

    Attributes
    ----------
    name : str
        ``"log_likelihood"`` or ``"cost"``.
    before, after : float or None
        The score before and after the half-step; None where unknown or where this half-step gives none.
    """

    name: str
    before: float | None = None
    after: float | None = None

    @property
    def change(self) -> float | None:
        return None if self.before is None or self.after is None else self.after - self.before

    @property
    def text(self) -> str:
        """``"LL −1,412.3 → −1,410.9 (+1.4)"``, ``"LL −1,412.3"`` without a previous score, ``""`` without one."""
        if self.after is None:
            return ""
        label = SCORE_LABELS.get(self.name, self.name)
        if self.before is None:
            return f"{label} {wording.number(self.after, 1)}"
        return f"{label} {wording.change(self.before, self.after)}"


def _components(indices) -> str:
    """``[0, 2]`` -> ``"j=1, j=3"``."""
    return ", ".join(f"j={int(j) + 1}" for j in indices)


def strongest(post: np.ndarray) -> np.ndarray:
    """Each row's strongest component, shape (n,); -1 where the top two tie (within :data:`TIE`).

    Parameters
    ----------
    post : ndarray of shape (n, K)
    """
    post = np.asarray(post, dtype=float)
    best = np.argmax(post, axis=1)
    if post.shape[1] < 2:
        return best
    top2 = np.partition(post, -2, axis=1)[:, -2:]
    return np.where(top2[:, 1] - top2[:, 0] <= TIE, -1, best)


# ---------------------------------------------------------------- E-step


class EStepChange(NamedTuple):
    """What an E-step changed.

    Attributes
    ----------
    iteration : int
        The iteration this E-step belongs to (1 for the first).
    algorithm : str
        ``"kmeans"``, ``"naive-em"`` or ``"em"`` (chooses the words).
    noun : str
        What a row is called in the sentence (``"point"``, ``"user"``).
    strongest_before, strongest_after : ndarray of int, shape (n,)
        Each row's strongest component before and after (:func:`strongest`; -1 where none).
    changed : ndarray of int, shape (m,)
        The rows (0-based) whose strongest component changed; a row that had none before (the
        uniform posterior of iteration 0) does not count.
    moved : ndarray of shape (n,)
        How much of each row's responsibility moved between components,
        ``1/2 sum_j |post_after[u, j] - post_before[u, j]|`` (0: unchanged, 1: moved entirely).
    score : ScoreChange
        EM: the LL of the previous and of this E-step (K-means' assignment gives no score).
    """

    iteration: int
    algorithm: str
    noun: str
    strongest_before: np.ndarray
    strongest_after: np.ndarray
    changed: np.ndarray
    moved: np.ndarray
    score: ScoreChange

    @property
    def n_changed(self) -> int:
        return int(self.changed.size)

    @property
    def first(self) -> bool:
        """No row had a strongest component before: the first E-step from a uniform posterior."""
        return bool(np.all(self.strongest_before < 0))

    @property
    def max_moved(self) -> float:
        return float(self.moved.max()) if self.moved.size else 0.0

    @property
    def mean_moved(self) -> float:
        return float(self.moved.mean()) if self.moved.size else 0.0

    @property
    def sentence(self) -> str:
        """One sentence, e.g. "E-step 3: 23 points changed their strongest component (...); LL ... → ... (+1.4)"."""
        head = f"{'Assignment' if self.algorithm == 'kmeans' else 'E-step'} {self.iteration}"
        noun = self.noun
        if self.first:
            counts = np.bincount(self.strongest_after[self.strongest_after >= 0])
            held = ", ".join(f"j={j + 1}: {c:,}" for j, c in enumerate(counts) if c)
            if not held:
                parts = [f"the first responsibilities; no {noun} has a strongest component yet"]
            elif self.algorithm == "kmeans":
                parts = [f"the first assignment; {noun}s per cluster {held}"]
            else:
                parts = [f"the first responsibilities; {noun}s per strongest component {held}"]
        elif self.algorithm == "kmeans":
            parts = [f"{wording.count(self.n_changed, noun)} moved to another cluster"]
        else:
            their = "its" if self.n_changed == 1 else "their"
            parts = [
                f"{wording.count(self.n_changed, noun)} changed {their} strongest component "
                f"(responsibility moved by up to {wording.number(self.max_moved, 2)}, "
                f"{wording.number(self.mean_moved, 3)} on average)"
            ]
        if self.score.text:
            parts.append(self.score.text)
        return f"{head}: {'; '.join(parts)}."


def estep_change(
    post_before: np.ndarray,
    post_after: np.ndarray,
    score: ScoreChange | None = None,
    *,
    iteration: int = 1,
    algorithm: str = "em",
    noun: str = "point",
) -> EStepChange:
    """Compare the posteriors around an E-step.

    Parameters
    ----------
    post_before, post_after : ndarray of shape (n, K)
        The posterior before (uniform before the first E-step) and after the E-step.
    score : ScoreChange, optional
        The log-likelihood of the previous E-step and of this one, when known.
    iteration, algorithm, noun
        For the sentence (see :class:`EStepChange`).
    """
    before = np.asarray(post_before, dtype=float)
    after = np.asarray(post_after, dtype=float)
    if before.shape != after.shape or before.ndim != 2:
        raise DataError(
            f"the posteriors before and after the E-step have shapes {before.shape} and {after.shape}; "
            "pass two (n, K) posteriors of the same fit"
        )
    strongest_before, strongest_after = strongest(before), strongest(after)
    changed = np.flatnonzero((strongest_before >= 0) & (strongest_before != strongest_after))
    moved = 0.5 * np.abs(after - before).sum(axis=1)
    return EStepChange(
        iteration=int(iteration),
        algorithm=algorithm,
        noun=noun,
        strongest_before=strongest_before,
        strongest_after=strongest_after,
        changed=changed,
        moved=moved,
        score=score or ScoreChange("log_likelihood"),
    )


# ---------------------------------------------------------------- M-step


class MStepChange(NamedTuple):
    """What an M-step changed.

    Attributes
    ----------
    iteration : int
        The iteration this M-step completes.
    algorithm, noun : str
        As in :class:`EStepChange`.
    before, after : GaussianMixture
        The mixture before and after.
    mean_shift : ndarray of shape (K,)
        ``||mu_after[j] - mu_before[j]||``, the Euclidean distance each mean moved.
    coordinate_shift : ndarray of shape (K,)
        The largest ``|mu_after[j, i] - mu_before[j, i]|`` over the coordinates i.
    min_variance : float or None
        The variance floor (EM on incomplete data), None where there is none.
    at_floor : ndarray of int
        Components whose variance is at the floor after the M-step.
    reached_floor : ndarray of int
        Those of them that were above it before: their variance fell to the floor in this step.
    collapsed : ndarray of int
        Components holding at most one point's worth of weight after the step
        (:func:`em_core.diagnostics.holds_at_most_one_point`).
    newly_collapsed : ndarray of int
        Those of them that held more before.
    not_updated : ndarray of bool, shape (K, d), or None
        EM on incomplete data: the mean coordinates this M-step kept because their support
        ``sum_u p(j|u) [i observed for u]`` was below 1; None for the other algorithms.
    score : ScoreChange
        K-means: the cost of the previous and of this M-step (EM's M-step gives no score).
    """

    iteration: int
    algorithm: str
    noun: str
    before: GaussianMixture
    after: GaussianMixture
    mean_shift: np.ndarray
    coordinate_shift: np.ndarray
    min_variance: float | None
    at_floor: np.ndarray
    reached_floor: np.ndarray
    collapsed: np.ndarray
    newly_collapsed: np.ndarray
    not_updated: np.ndarray | None
    score: ScoreChange

    @property
    def max_shift(self) -> float:
        return float(self.mean_shift.max()) if self.mean_shift.size else 0.0

    @property
    def var_change(self) -> np.ndarray:
        """``var_after - var_before``, shape (K,) (per axis, averaged, for a diag or full covariance)."""
        return mean_variance(self.after) - mean_variance(self.before)

    @property
    def weight_change(self) -> np.ndarray:
        """``p_after - p_before``, shape (K,)."""
        return self.after.p - self.before.p

    @property
    def n_not_updated(self) -> int:
        return 0 if self.not_updated is None else int(self.not_updated.sum())

    @property
    def sentence(self) -> str:
        """One sentence, e.g. "M-step 3: means moved by up to 0.31 (j=2); variance of j=3 fell to the floor 0.25"."""
        head = f"{'Update' if self.algorithm == 'kmeans' else 'M-step'} {self.iteration}"
        parts = [self._shift_text()]
        if self.algorithm != "kmeans":  # K-means' update moves centres only: no variance, no weight
            parts.extend(self._spread_and_weight_text())
        if self.score.text:
            parts.append(self.score.text)
        return f"{head}: {'; '.join(parts)}."

    def _spread_and_weight_text(self) -> list[str]:
        """EM's M-step: the variance that changed most (or those that fell to the floor), the weight
        that changed most, the components that collapsed and the mean coordinates kept."""
        parts = []
        if self.reached_floor.size:
            which = "variance" if self.reached_floor.size == 1 else "variances"
            parts.append(
                f"{which} of {_components(self.reached_floor)} fell to the floor {wording.number(self.min_variance, 2)}"
            )
        else:
            j = int(np.argmax(np.abs(self.var_change)))
            if self.var_change[j] != 0:
                before, after = mean_variance(self.before)[j], mean_variance(self.after)[j]
                parts.append(f"variance of j={j + 1} {wording.change(before, after)}")
        j = int(np.argmax(np.abs(self.weight_change)))
        if self.weight_change[j] != 0:
            parts.append(f"weight of j={j + 1} {wording.change(self.before.p[j], self.after.p[j])}")
        if self.newly_collapsed.size:
            verb = "holds" if self.newly_collapsed.size == 1 else "hold"
            parts.append(f"{_components(self.newly_collapsed)} now {verb} at most one {self.noun}'s worth of weight")
        if self.n_not_updated:
            parts.append(f"{wording.count(self.n_not_updated, 'mean coordinate')} kept their value (support < 1)")
        return parts

    def _shift_text(self) -> str:
        centres = self.algorithm == "kmeans"  # K-means' update moves centres, EM's M-step means
        if self.max_shift == 0:
            return "no centre moved" if centres else "no mean moved"
        j = int(np.argmax(self.mean_shift))
        digits = wording.decimals_for(self.max_shift, minimum=2)
        shift = wording.number(self.max_shift, min(digits, wording.MAX_DECIMALS))
        text = f"{'centres' if centres else 'means'} moved by up to {shift} (j={j + 1}"
        if self.before.mu.shape[1] > FEW_COORDINATES:
            top = float(self.coordinate_shift.max())
            text += f"; one coordinate by up to {wording.number(top, 2)}"
        return text + ")"


def mstep_change(
    before: GaussianMixture,
    after: GaussianMixture,
    n_points: int,
    min_variance: float | None = None,
    X: np.ndarray | None = None,
    post: np.ndarray | None = None,
    score: ScoreChange | None = None,
    *,
    iteration: int = 1,
    algorithm: str = "em",
    noun: str = "point",
    support: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
) -> MStepChange:
    """Compare the mixtures around an M-step.

    Parameters
    ----------
    before, after : GaussianMixture
        The mixture before and after the M-step.
    n_points : int
        n, the rows of the data (one point's worth of weight is ``1/n``).
    min_variance : float, optional
        The variance floor of EM on incomplete data (None: no floor to report).
    X : ndarray of shape (n, d), optional
        With ``post``, for EM on incomplete data: the ratings (0 = missing) ...
    post : ndarray of shape (n, K), optional
        ... and the posterior the M-step used; the coordinates whose support was below 1 are
        reported as not updated.
    score : ScoreChange, optional
        The score the M-step gives (K-means' cost), before and after.
    iteration, algorithm, noun
        For the sentence (see :class:`EStepChange`).
    support : callable, optional
        ``support(X, post)``, the fit's :attr:`~em_core.stepping.Algorithm.support` (EM's keeps its
        M-step's, so the narration does not compute it again); :func:`~em_core.diagnostics.coordinate_support`
        by default.
    """
    if np.shape(before.mu) != np.shape(after.mu):
        raise DataError(
            f"the means before and after the M-step have shapes {np.shape(before.mu)} and {np.shape(after.mu)}; "
            "pass two mixtures of the same fit"
        )
    delta = np.asarray(after.mu, dtype=float) - np.asarray(before.mu, dtype=float)
    if min_variance is None:
        at_floor = reached = np.array([], dtype=int)
    else:
        at_floor = np.flatnonzero(after.var <= min_variance)
        reached = at_floor[before.var[at_floor] > min_variance]
    collapsed = np.flatnonzero(diagnostics.holds_at_most_one_point(after, n_points))
    was = diagnostics.holds_at_most_one_point(before, n_points)
    support = diagnostics.coordinate_support if support is None else support
    not_updated = support(X, post) < 1.0 if X is not None and post is not None else None
    return MStepChange(
        iteration=int(iteration),
        algorithm=algorithm,
        noun=noun,
        before=before,
        after=after,
        mean_shift=np.sqrt(np.einsum("kd,kd->k", delta, delta)),
        coordinate_shift=np.abs(delta).max(axis=1) if delta.shape[1] else np.zeros(delta.shape[0]),
        min_variance=min_variance,
        at_floor=at_floor,
        reached_floor=reached,
        collapsed=collapsed,
        newly_collapsed=collapsed[~was[collapsed]],
        not_updated=not_updated,
        score=score or ScoreChange("log_likelihood"),
    )


# ---------------------------------------------------------------- the step log


class LogEntry(NamedTuple):
    """One line of a step log: a half-step, its sentence and the numbers behind it.

    Attributes
    ----------
    iteration : int
    half : {"E", "M"}
    change : EStepChange or MStepChange
    sentence : str
        ``change.sentence``, written once when the entry is made (a step log shows every entry again
        on every page run).
    """

    iteration: int
    half: str
    change: EStepChange | MStepChange
    sentence: str


def _noun(algorithm: Algorithm) -> str:
    return "user" if algorithm.name == "em" else "point"


def _half_entry(
    algorithm: Algorithm, X: np.ndarray, previous: FitState, state: FitState, min_variance: float | None
) -> LogEntry:
    """The entry of the one half-step that leads from ``previous`` to ``state``."""
    added = state.scores[-1] if len(state.scores) > len(previous.scores) else None
    last = previous.scores[-1] if previous.scores and added is not None else None
    score = ScoreChange(algorithm.score_name, last, added)
    common = {"score": score, "algorithm": algorithm.name, "noun": _noun(algorithm)}
    if previous.next_step == "E":
        iteration = previous.iteration + 1
        change = estep_change(previous.post, state.post, iteration=iteration, **common)
        return LogEntry(iteration, "E", change, change.sentence)
    incomplete = algorithm.name == "em"
    change = mstep_change(
        previous.mixture,
        state.mixture,
        n_points=previous.post.shape[0],
        min_variance=min_variance if incomplete else None,
        X=X if incomplete else None,
        post=previous.post if incomplete else None,
        iteration=state.iteration,
        support=algorithm.support,
        **common,
    )
    return LogEntry(state.iteration, "M", change, change.sentence)


def _half_steps_between(previous: FitState, state: FitState) -> int:
    """How many half-steps lead from ``previous`` to ``state`` (negative when ``state`` came first)."""
    count = 2 * (state.iteration - previous.iteration)
    count += (state.next_step == "M") - (previous.next_step == "M")
    return count


def log_entries(
    algorithm: Algorithm,
    X: np.ndarray,
    state: FitState,
    previous: FitState,
    min_variance: float | None = None,
) -> list[LogEntry]:
    """The step-log entries for what the fit did from ``previous`` to ``state``, oldest first.

    One entry after :func:`em_core.stepping.half_step`, two (the E- and the M-step) after
    :func:`em_core.stepping.step`, none when nothing happened (a converged fit). Works for K-means,
    EM on complete data and EM on incomplete data.

    Parameters
    ----------
    algorithm : Algorithm
        The fit's algorithm (its ``name`` and ``score_name`` choose the words).
    X : ndarray of shape (n, d)
        The fit's data (0 = missing for EM on incomplete data).
    state, previous : FitState
        The state after and before.
    min_variance : float, optional
        The variance floor of EM on incomplete data, to say which variances fell to it.

    Raises
    ------
    DataError
        When ``state`` is not one half-step or one iteration after ``previous``.
    """
    steps = _half_steps_between(previous, state)
    if steps not in (0, 1, 2):
        raise DataError(
            f"the fit went from iteration {previous.iteration} ({previous.next_step}-step next) to iteration "
            f"{state.iteration} ({state.next_step}-step next), {steps} half-steps; pass the states before and after "
            "one half-step or one step"
        )
    if steps == 0:
        return []
    if steps == 1:
        return [_half_entry(algorithm, X, previous, state, min_variance)]
    # a whole iteration: rebuild the state between its two half-steps (an E-step changes only the
    # posterior and, for EM, adds the LL; an M-step changes the mixture and, for K-means, adds the cost)
    first_scores = state.scores[len(previous.scores) :][:1]
    if previous.next_step == "E":
        adds = algorithm.score_name == "log_likelihood"
        middle = replace(previous, post=state.post, next_step="M", scores=previous.scores + first_scores * adds)
    else:
        adds = algorithm.score_name == "cost"
        middle = replace(
            previous,
            mixture=state.mixture,
            iteration=state.iteration,
            next_step="E",
            scores=previous.scores + first_scores * adds,
        )
    return [
        _half_entry(algorithm, X, previous, middle, min_variance),
        _half_entry(algorithm, X, middle, state, min_variance),
    ]


def run_with_log(
    algorithm: Algorithm,
    X: np.ndarray,
    state: FitState,
    max_iter: int | None = None,
    min_variance: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[FitState, list[LogEntry]]:
    """:func:`em_core.stepping.run` (Run to convergence), keeping the log entry of every half-step it did.

    A state whose next half-step is the M-step is first completed by that M-step, as
    :func:`~em_core.stepping.run` does. Returns the final state and the entries, oldest first.
    """
    entries: list[LogEntry] = []
    previous = [state]

    def keep(new: FitState) -> None:
        entries.extend(log_entries(algorithm, X, new, previous[0], min_variance))
        previous[0] = new

    return stepping.run(algorithm, X, state, max_iter=max_iter, callback=keep, should_stop=should_stop), entries
