"""How the start changes the end: EM on complete data from several starts, side by side.

:func:`compare_starts` fits the same data, K and covariance type from the course's initialisation
and from k-means++ with each of a few seeds, and from means placed by hand when given; each run
ends by the course's stopping rule (:func:`em_core.experiment.fit`). The final log-likelihoods
show which starts reach the same optimum and which stop in a worse one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from em_core import experiment
from em_core.covariance_em import check_covariance_type
from em_core.initialisation import STRATEGIES, check_means

#: The seeds each drawn start is tried with by default (the course's five).
SEEDS = (0, 1, 2, 3, 4)
#: The name of the start from means placed by hand.
HAND = "hand"
#: Two runs whose final log-likelihoods differ by at most this share of the best one's size ended in
#: the same optimum: the stopping rule (gain <= 1e-6 * |LL|) leaves each a little below its limit.
SAME_OPTIMUM = 1e-4


class StartRun(NamedTuple):
    """One start and where it ended.

    Attributes
    ----------
    init : {"course", "kmeans++", "hand"}
    seed : int or None
        The draw's seed (None for means placed by hand).
    log_likelihood : float
        At convergence (or at the iteration cap).
    iterations : int
    converged : bool
        False when the run stopped at the cap before the stopping rule held.
    """

    init: str
    seed: int | None
    log_likelihood: float
    iterations: int
    converged: bool

    @property
    def label(self) -> str:
        """``"course, seed 0"``, ``"kmeans++, seed 3"`` or ``"hand"``."""
        return self.init if self.seed is None else f"{self.init}, seed {self.seed}"


def compare_starts(
    X: np.ndarray,
    K: int,
    covariance_type: str = "spherical",
    seeds: Sequence[int] = SEEDS,
    means=None,
    max_iter: int | None = None,
    on_run: Callable[[StartRun, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[StartRun]:
    """Fit EM on complete data from every start: the course's and k-means++ per seed, then ``means``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data.
    K : int
    covariance_type : {"spherical", "diag", "full"}
    seeds : sequence of int
    means : array-like of shape (K, d), optional
        Means placed by hand (checked by :func:`em_core.initialisation.check_means`).
    on_run : callable, optional
        ``on_run(run, done, total)`` after each run (a progress bar).
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before every iteration (:func:`em_core.experiment.fit`); once
        True, the run it cut short and the starts not yet run are left out.

    Returns
    -------
    list of StartRun
        Course runs first (by seed), then k-means++ (by seed), then the hand-placed start; fewer
        than that when ``should_stop`` ended the comparison.
    """
    covariance_type = check_covariance_type(covariance_type)
    starts: list[tuple[str, int | None, object]] = [(name, seed, name) for name in STRATEGIES for seed in seeds]
    if means is not None:
        starts.append((HAND, None, check_means(X, means)))
    runs = []
    for init, seed, init_with in starts:
        if should_stop is not None and should_stop():
            break
        result = experiment.fit(
            X,
            "naive-em",
            K,
            0 if seed is None else seed,
            max_iter=max_iter,
            init_with=init_with,
            covariance_type=covariance_type,
            should_stop=should_stop,
        )
        if result.interrupted:
            break
        runs.append(StartRun(init, seed, result.score, result.iterations, result.converged))
        if on_run is not None:
            on_run(runs[-1], len(runs), len(starts))
    return runs


def gaps_to_best(runs: Sequence[StartRun]) -> np.ndarray:
    """How far each run's final log-likelihood is below the best run's, shape (len(runs),).

    0 for the runs within :data:`SAME_OPTIMUM` of the best (they reached the same optimum); a negative
    number for the others.
    """
    scores = np.array([run.log_likelihood for run in runs], dtype=float)
    best = scores.max()
    gaps = scores - best
    return np.where(-gaps <= SAME_OPTIMUM * abs(best), 0.0, gaps)
