"""Advance a fit one E-step or one M-step at a time, keeping a bounded history.

Every ``run`` in em_core is built on :func:`step`, so the dashboard's Step button, the
CLI and the benchmark all execute the same maths.

Iteration t (t = 1, 2, ...) is an E-step on ``mixture[t-1]`` followed by an M-step that
gives ``mixture[t]``. EM's score (the log-likelihood) comes from the E-step, K-means'
score (the cost) from the M-step; either way ``scores[t-1]`` belongs to iteration t. A
fit has converged when, after an M-step, the rule of its algorithm says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from em_core.errors import DataError
from em_core.mixture import GaussianMixture
from em_core.validation import check_max_iter

#: The iteration cap of :func:`run` when none is given. The course's fits stop by their rule in
#: fewer than 120 iterations (Netflix, K = 12: 16-27); a fit still going at 1000 is not converging.
MAX_ITER = 1000

#: Default memory budget for the mixtures kept in a history, in bytes.
HISTORY_BYTES = 8 * 2**20


class Algorithm(NamedTuple):
    """The two steps of an algorithm and its stopping rule.

    ``estep(X, mixture) -> (post, score or None)``;
    ``mstep(X, post, mixture) -> (mixture, score or None)``;
    ``converged(previous_score, score) -> bool``;
    ``support(X, post) -> (K, d)`` (EM on a rating matrix, else None): the weight behind each mean
    coordinate, ``sum_u p(j|u) [i observed for u]``, which the M-step compares with 1 (a step's
    narration says which coordinates it kept).
    """

    name: str
    score_name: str  # "log_likelihood" or "cost"
    estep: Callable
    mstep: Callable
    converged: Callable[[float, float], bool]
    support: Callable | None = None


@dataclass(frozen=True)
class FitState:
    """An immutable snapshot of a fit.

    Attributes
    ----------
    mixture : GaussianMixture
        The current parameters (after the latest M-step, or the initial ones).
    post : ndarray of shape (n, K)
        The posterior of the latest E-step (uniform before the first).
    iteration : int
        Completed iterations (M-steps).
    next_step : {"E", "M"}
        Which half-step comes next.
    scores : tuple of float
        One score per iteration, in order (EM: the log-likelihood of each E-step).
    mixtures : tuple of GaussianMixture
        The mixture after each of the most recent iterations, oldest first; the newest
        is ``mixture``. Bounded by ``max_history``.
    first_kept : int
        The iteration whose mixture is ``mixtures[0]``.
    converged : bool
        The stopping rule held after the latest M-step.
    max_history : int
    stopped_by_cap : bool
        :func:`run` returned because it reached its iteration cap, not because the rule held.
    interrupted : bool
        :func:`run` returned because its ``should_stop`` hook said so (a time limit, a closed
        session), before the rule held or the cap was reached.
    """

    mixture: GaussianMixture
    post: np.ndarray
    iteration: int = 0
    next_step: str = "E"
    scores: tuple = ()
    mixtures: tuple = ()
    first_kept: int = 0
    converged: bool = False
    max_history: int = 1000
    stopped_by_cap: bool = False
    interrupted: bool = False

    @property
    def score(self) -> float | None:
        """The latest score, or ``None`` before the first."""
        return self.scores[-1] if self.scores else None

    def mixture_at(self, iteration: int) -> GaussianMixture:
        """The mixture after ``iteration`` iterations, if the history still holds it."""
        index = iteration - self.first_kept
        if not 0 <= index < len(self.mixtures):
            raise IndexError(
                f"iteration {iteration} is not in the history (it holds {self.first_kept}..{self.iteration})"
            )
        return self.mixtures[index]

    @property
    def history_range(self) -> tuple[int, int]:
        """First and last iteration whose mixture the history holds."""
        return self.first_kept, self.first_kept + len(self.mixtures) - 1


def history_limit(mixture: GaussianMixture, budget_bytes: int = HISTORY_BYTES) -> int:
    """How many mixtures like this one fit in ``budget_bytes`` (at least 2, at most 10 000)."""
    size = sum(field.nbytes for field in mixture if isinstance(field, np.ndarray))  # any covariance type
    return int(min(10_000, max(2, budget_bytes // max(size, 1))))


def start(mixture: GaussianMixture, post: np.ndarray, max_history: int | None = None) -> FitState:
    """A fit that has done nothing yet, from an initial mixture and posterior."""
    if max_history is None:
        max_history = history_limit(mixture)
    return FitState(mixture=mixture, post=post, mixtures=(mixture,), max_history=max(1, int(max_history)))


def _checked(algorithm: Algorithm, state: FitState, half, *args):
    """Call one half-step; an overflow or a non-finite score becomes a :class:`DataError` naming the iteration.

    Expected underflow and empty components are silenced where they happen (in the kernels); any
    other floating-point trouble here means the data's magnitude is beyond what float64 holds, and
    a NaN score would keep every stopping rule from ever holding.
    """
    iteration = state.iteration + 1
    what = f"{algorithm.name} iteration {iteration} ({state.next_step}-step)"
    fix = "rescale the data (divide every value by the same power of 10)"
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            result, score = half(*args)
    except FloatingPointError as err:
        raise DataError(f"{what}: the arithmetic overflowed ({err}); {fix}") from None
    if score is not None and not np.isfinite(score):
        raise DataError(f"{what}: the {algorithm.score_name} is {score}, not a finite number; {fix}")
    return result, score


def half_step(algorithm: Algorithm, X: np.ndarray, state: FitState) -> FitState:
    """Do the next half-step (E or M). A converged fit is returned unchanged.

    Raises
    ------
    DataError
        When the step overflows or its score is not finite (the message names the iteration).
    """
    if state.converged:
        return state
    if state.next_step == "E":
        post, score = _checked(algorithm, state, algorithm.estep, X, state.mixture)
        scores = state.scores if score is None else state.scores + (score,)
        return replace(state, post=post, scores=scores, next_step="M", stopped_by_cap=False, interrupted=False)
    mixture, score = _checked(algorithm, state, algorithm.mstep, X, state.post, state.mixture)
    scores = state.scores if score is None else state.scores + (score,)
    mixtures = state.mixtures + (mixture,)
    first_kept = state.first_kept
    if len(mixtures) > state.max_history:
        drop = len(mixtures) - state.max_history
        mixtures = mixtures[drop:]
        first_kept += drop
    converged = len(scores) >= 2 and algorithm.converged(scores[-2], scores[-1])
    return replace(
        state,
        mixture=mixture,
        scores=scores,
        mixtures=mixtures,
        first_kept=first_kept,
        iteration=state.iteration + 1,
        next_step="E",
        converged=converged,
        stopped_by_cap=False,
        interrupted=False,
    )


def step(algorithm: Algorithm, X: np.ndarray, state: FitState) -> FitState:
    """Complete the current iteration: the E-step (if it is next) and the M-step."""
    state = half_step(algorithm, X, state)
    if state.next_step == "M":
        state = half_step(algorithm, X, state)
    return state


def run(
    algorithm: Algorithm,
    X: np.ndarray,
    state: FitState,
    max_iter: int | None = MAX_ITER,
    callback: Callable[[FitState], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FitState:
    """Step until the stopping rule holds, or until ``max_iter`` iterations in all (the cap).

    Parameters
    ----------
    max_iter : int, optional
        The cap, counted from iteration 0 (a state already at or past it is returned as it is,
        marked ``stopped_by_cap``); ``None`` means :data:`MAX_ITER`. There is no unbounded run.
    callback : callable, optional
        Called with the state after every iteration.
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before every iteration; True ends the run there (a time
        limit, a session that went away). It may also raise, which abandons the run.

    Returns
    -------
    FitState
        ``converged`` when the rule stopped it, ``stopped_by_cap`` when the cap did,
        ``interrupted`` when ``should_stop`` did.

    Raises
    ------
    DataError
        When a step overflows or its score is not finite (see :func:`half_step`).
    """
    max_iter = check_max_iter(max_iter) or MAX_ITER
    while not state.converged and state.iteration < max_iter:
        if should_stop is not None and should_stop():
            return replace(state, interrupted=True)
        state = step(algorithm, X, state)
        if callback is not None:
            callback(state)
    return state if state.converged else replace(state, stopped_by_cap=True)


class InterruptedRunError(Exception):
    """A run that must end converged was stopped by its ``should_stop`` hook (see :func:`run`)."""


class StoppingSeries(NamedTuple):
    """A stopping rule applied to every pair of consecutive scores.

    Entry t - 2 belongs to iteration t (t = 2 .. T): ``gain[t-2]`` is the improvement of iteration t
    over t - 1 (EM: ``LL_t - LL_{t-1}``; K-means: ``cost_{t-1} - cost_t``), ``threshold[t-2]`` the
    amount it had to beat, and ``stop[t-2]`` is ``gain <= threshold``.
    """

    iterations: np.ndarray
    gain: np.ndarray
    threshold: np.ndarray
    stop: np.ndarray


@dataclass(frozen=True)
class StoppingRule:
    """When a fit stops: ``gain <= threshold`` after an M-step.

    ``relative=True`` is EM's rule (gain ``new - old`` against ``tol * |new|``); ``relative=False``
    K-means' (drop ``old - new`` against ``tol``). Calling the rule with ``(old, new)`` decides one
    step (it is the ``converged`` of an :class:`Algorithm`); :meth:`series` gives the gain and the
    threshold of a whole run, for the dashboard's curve and the formulas.
    """

    tol: float
    relative: bool

    def gain(self, old, new):
        return new - old if self.relative else old - new

    def threshold(self, new):
        return self.tol * np.abs(new) if self.relative else np.full(np.shape(new), float(self.tol))

    def __call__(self, old: float, new: float) -> bool:
        return bool(self.gain(old, new) <= self.threshold(new))

    def series(self, scores) -> StoppingSeries:
        """The rule at every iteration from the second: ``scores[t-1]`` is iteration t's score."""
        values = np.asarray(scores, dtype=float).ravel()
        old, new = values[:-1], values[1:]
        gain, threshold = self.gain(old, new), self.threshold(new)
        with np.errstate(invalid="ignore"):
            stop = gain <= threshold
        return StoppingSeries(np.arange(2, values.size + 1), gain, threshold, stop)


def relative_gain_converged(tol: float) -> StoppingRule:
    """EM's rule: stop when ``new - old <= tol * |new|``."""
    return StoppingRule(tol, relative=True)


def absolute_drop_converged(tol: float) -> StoppingRule:
    """K-means' rule: stop when the cost falls by ``<= tol``."""
    return StoppingRule(tol, relative=False)


class IterationView(NamedTuple):
    """A fit as it stood at one iteration.

    Attributes
    ----------
    iteration : int
    mixture : GaussianMixture
        The mixture after ``iteration`` iterations.
    post : ndarray of shape (n, K)
        The responsibilities to show with it: at the fit's latest iteration its own latest posterior
        (so an E-step recolours the points before the M-step moves the components); at an earlier
        one the E-step that led to ``mixture``; uniform at iteration 0.
    producing_post : ndarray of shape (n, K) or None
        The posterior the M-step that produced ``mixture`` used, when known (None at iteration 0, and
        at the latest iteration once the next E-step has replaced it).
    """

    iteration: int
    mixture: GaussianMixture
    post: np.ndarray
    producing_post: np.ndarray | None


def view(
    algorithm: Algorithm, X: np.ndarray, state: FitState, iteration: int, after_mstep: bool = False
) -> IterationView:
    """The mixture after ``iteration`` iterations and the responsibilities that go with it.

    An iteration the history no longer holds raises IndexError; an earlier iteration's E-step is
    recomputed from the mixture before it (history permitting), never stored. At the fit's own
    iteration the view is its current state, the next E-step included if it has made one; with
    ``after_mstep``, the state right after that iteration's M-step (its posterior recomputed).
    """
    latest = state.next_step == "E" or not after_mstep
    if iteration > state.iteration or (iteration == state.iteration and latest):
        producing = state.post if state.iteration > 0 and state.next_step == "E" else None
        return IterationView(state.iteration, state.mixture, state.post, producing)
    mixture = state.mixture_at(iteration)
    if iteration == 0:
        return IterationView(0, mixture, np.full_like(state.post, 1.0 / state.post.shape[1]), None)
    first, _ = state.history_range
    before = state.mixture_at(iteration - 1) if iteration - 1 >= first else mixture
    post, _ = algorithm.estep(X, before)
    return IterationView(iteration, mixture, post, post)
