"""The fits of a session: one per fit page, keyed by the settings it was started with.

A :class:`FitSlot` keeps one em_core algorithm object for the life of its fit, so what the
algorithm prepares once per matrix (EM's shifted data and mask) survives between Step
clicks; every step is em_core's :mod:`em_core.stepping`. The algorithm objects are shared
by every session's fits on the same data set (as the data set itself is), so a room full
of sessions holds that prepared matrix once, not once per session.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field, replace
from typing import NamedTuple

import numpy as np
import streamlit as st

from dashboard.byte_cache import byte_cache, nbytes
from dashboard.limits import CACHE_BYTES
from dashboard.session import Settings, content_key, dataset_label, iteration_cap
from dashboard.work import WorkLimit
from em_core import narration, stepping
from em_core.covariance_em import with_covariance_type
from em_core.experiment import algorithm_for
from em_core.initialisation import initial_mixture
from em_core.mixture import GaussianMixture

#: What an algorithm's prepared matrix costs, in copies of the data set (EM's shifted data, mask and norms).
PREPARED_COPIES = 3
#: The step log keeps this many half-steps (the newest); older ones scroll off.
LOG_LIMIT = 200


class Method(NamedTuple):
    """An algorithm as a fit page runs it.

    Attributes
    ----------
    algorithm : str
        em_core's name for it (:func:`em_core.experiment.algorithm_for`).
    uses_min_variance : bool
        Whether the sidebar's variance floor applies (so a change of it resets the fit).
    has_spread : bool
        Whether its components have a variance and a weight to draw (K-means' centres do not).
    half_labels : (str, str)
        The names of its two half-steps on the buttons and in the status line.
    title : str
        What it is called on the pages.
    half_phrases : (str, str)
        The two half-steps in a chart title: "Iteration 3 — after the E-step".
    """

    algorithm: str
    uses_min_variance: bool
    has_spread: bool
    half_labels: tuple[str, str] = ("E-step", "M-step")
    title: str = ""
    half_phrases: tuple[str, str] = ("the E-step", "the M-step")


KMEANS = Method("kmeans", False, False, ("Assign", "Update"), "K-means", ("the assignment", "the update"))
NAIVE_EM = Method("naive-em", False, True, title="EM on complete data")
EM = Method("em", True, True, title="EM on incomplete data (0 = missing)")


#: The ways a fit can start (em_core.initialisation), as the 2-D EM page names them.
INITS = {"course": "the course's init", "kmeans++": "k-means++", "hand": "your placed means"}


class Start(NamedTuple):
    """How a fit starts and which covariance it fits (the 2-D EM page's controls; the course's by default).

    Attributes
    ----------
    covariance_type : {"spherical", "diag", "full"}
        em_core.covariance_em's types (applies to EM on complete data).
    init : {"course", "kmeans++", "hand"}
        The start: the course's draw, k-means++ (both by the sidebar's seed), or means placed by hand.
    means : tuple of (x, y) tuples, or None
        The means placed by hand (``init="hand"``), hashable so that the fit key compares them.
    """

    covariance_type: str = "spherical"
    init: str = "course"
    means: tuple | None = None

    def init_with(self):
        """em_core's ``init_with``: the strategy's name, or the placed means as a (K, d) array."""
        return np.array(self.means, dtype=float) if self.init == "hand" else self.init

    @property
    def phrase(self) -> str:
        """``"the course's init"``, ``"k-means++"`` or ``"your placed means"``, with a non-spherical type."""
        covariance = "" if self.covariance_type == "spherical" else f", {self.covariance_type} covariances"
        return INITS[self.init] + covariance


COURSE_START = Start()


class FitKey(NamedTuple):
    """The settings a fit was started with: a change of any of them starts a new fit."""

    content: str  # session.content_key: names the data set's content
    algorithm: str
    K: int
    seed: int
    min_variance: float | None  # None for a method the floor does not apply to
    start: Start = COURSE_START


@dataclass
class FitSlot:
    """One fit of a page: its key, its algorithm (one object for the fit's life) and its current state."""

    key: FitKey
    method: Method
    algorithm: stepping.Algorithm
    state: stepping.FitState
    playing: bool = False
    notice: str | None = None
    rerun_page: bool = False  # Play or Pause was pressed: the whole page must run to (re)set the timer
    initial: GaussianMixture | None = None  # the fit's iteration 0 (its start), for "kept from init"
    log: deque = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))  # narration.LogEntry, oldest first
    last: tuple = ()  # the log entries of the latest control (empty after a reset or no-op)

    @property
    def score_name(self) -> str:
        """``"log_likelihood"`` or ``"cost"``: what the fit's scores are."""
        return self.algorithm.score_name


def fit_key(s: Settings, method: Method, start: Start = COURSE_START) -> FitKey:
    min_variance = s.min_variance if method.uses_min_variance else None
    return FitKey(content_key(s), method.algorithm, s.K, s.seed, min_variance, start)


def start_mixture(X: np.ndarray, K: int, seed: int, start: Start) -> tuple[GaussianMixture, np.ndarray]:
    """em_core's start (:func:`~em_core.initialisation.initial_mixture`) written for the start's covariance type."""
    mixture, post = initial_mixture(X, K, seed, start.init_with())
    return with_covariance_type(mixture, start.covariance_type), post


def _describe_change(old: FitKey, new: FitKey, s: Settings) -> str:
    what = []
    if old.content != new.content:
        what.append(f"data set is now {dataset_label(s.dataset_id)}")
    if old.K != new.K:
        what.append(f"K is now {s.K}")
    if old.seed != new.seed:
        what.append(f"seed is now {s.seed}")
    if old.min_variance != new.min_variance:
        what.append(f"min variance is now {s.min_variance:g}")
    if old.start.covariance_type != new.start.covariance_type:
        what.append(f"covariance is now {new.start.covariance_type}")
    if old.start.init != new.start.init:
        what.append(f"the start is now {INITS[new.start.init]}")
    elif old.start.means != new.start.means:
        what.append("the placed means changed")
    return "Run reset: " + ", ".join(what) + "." if what else "Run reset."


def get_fit(slot_name: str, s: Settings, method: Method, start: Start = COURSE_START) -> FitSlot:
    """The fit of ``slot_name`` for the current settings and start; a change of them resets it visibly."""
    fits = st.session_state.fits
    key = fit_key(s, method, start)
    slot = fits.get(slot_name)
    if slot is None or slot.key != key:
        notice = _describe_change(slot.key, key, s) if slot is not None else None
        slot = new_fit(s, method, key)
        slot.notice = notice
        fits[slot_name] = slot
        pending = st.session_state.pop("pending_iteration", None)
        if pending:
            for _ in range(pending):
                if slot.state.converged:
                    break
                advance(slot, s.dataset.X, "step")
    return slot


@byte_cache(CACHE_BYTES["algorithms"], weigh=lambda arguments, _: PREPARED_COPIES * nbytes(arguments["_X"]))
def shared_algorithm(
    content: str, algorithm: str, min_variance: float, covariance_type: str = "spherical", _X=None
) -> stepping.Algorithm:
    """em_core's ``algorithm`` for the data set whose content key is ``content``, one per server.

    Its cache of the prepared matrix checks every matrix it is given against the one it
    prepared, so sharing it between sessions (and threads) never mixes up two matrices. The
    cache keeps algorithms within a byte budget, each counted as :data:`PREPARED_COPIES` times
    ``_X`` (the data set it will prepare).
    """
    return algorithm_for(algorithm, min_variance, covariance_type)


def new_fit(s: Settings, method: Method, key: FitKey) -> FitSlot:
    """A fit at iteration 0 (the course's init unless ``key.start`` says otherwise), with the history em_core's
    budget allows."""
    mixture, post = start_mixture(s.dataset.X, s.K, s.seed, key.start)
    algorithm = shared_algorithm(key.content, method.algorithm, s.min_variance, key.start.covariance_type, s.dataset.X)
    return FitSlot(key=key, method=method, algorithm=algorithm, state=stepping.start(mixture, post), initial=mixture)


def advance(slot: FitSlot, X: np.ndarray, action: str, max_iter: int | None = None) -> None:
    """Apply a control to a fit: "E", "M", "step", "run" or "reset".

    "run" goes on until the stopping rule holds, until ``max_iter`` iterations in all (the sidebar's
    "Max iterations", em_core's MAX_ITER by default) or for :data:`~dashboard.limits.WORK_SECONDS`
    (then ``slot.notice`` says so), so no click runs without end; a closed session stops it sooner.

    The half-steps done are narrated (:func:`em_core.narration.log_entries`) into ``slot.log``;
    ``slot.last`` holds the entries of this control alone.
    """
    algo = slot.algorithm
    state = slot.state
    previous = state
    entries: list = []
    notice = None
    if action == "E" and state.next_step == "E":
        state = stepping.half_step(algo, X, state)
    elif action == "M" and state.next_step == "M":
        state = stepping.half_step(algo, X, state)
    elif action == "step":
        state = stepping.step(algo, X, state)
    elif action == "run":
        limit = WorkLimit("Running to convergence")
        cap = max_iter or iteration_cap()
        state, entries = narration.run_with_log(algo, X, state, cap, slot.key.min_variance, should_stop=limit)
        limit.done()
        notice = limit.message("the run so far is shown; press Run to convergence to go on") if limit.stopped else None
    elif action == "reset":
        mixture, post = start_mixture(X, slot.state.mixture.n_components, slot.key.seed, slot.key.start)
        state = stepping.start(mixture, post, max_history=state.max_history)
        slot.playing = False
        slot.log.clear()
    if action in ("E", "M", "step"):
        entries = narration.log_entries(algo, X, state, previous, slot.key.min_variance)
    slot.log.extend(entries)
    slot.last = tuple(entries)
    slot.state = state
    slot.notice = notice
    if state.converged:
        slot.playing = False


def stop_at_cap(slot: FitSlot) -> bool:
    """Play's cap: a fit at the sidebar's "Max iterations" stops playing, marked as stopped by the cap."""
    if slot.state.converged or slot.state.iteration < iteration_cap():
        return False
    slot.playing = False
    slot.state = replace(slot.state, stopped_by_cap=True)
    return True
