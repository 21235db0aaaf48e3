"""Choose the covariance type and K together by BIC, on complete data.

:func:`select_covariance` runs :func:`em_core.experiment.sweep` once per covariance type
(spherical, diag, full) over the same Ks and seeds; each K keeps its best seed, scored by the
course's BIC with that type's parameter count (:func:`em_core.covariance_em.n_parameters`).
The best (type, K) has the highest BIC.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from em_core import experiment
from em_core.covariance_em import COVARIANCE_TYPES, check_covariance_type, n_parameters

#: ``fit_one(X, covariance_type, K, seed) -> RunResult``: one run (the dashboard passes a cached one).
FitOne = Callable[[np.ndarray, str, int, int], experiment.RunResult]


def _fit(X: np.ndarray, covariance_type: str, K: int, seed: int) -> experiment.RunResult:
    return experiment.fit(X, "naive-em", K, seed, covariance_type=covariance_type)


class TypeRow(NamedTuple):
    """The best seed of one (covariance type, K)."""

    covariance_type: str
    k: int
    n_parameters: int
    log_likelihood: float
    bic: float
    seed: int


@dataclass(frozen=True)
class CovarianceSelection:
    """One sweep per covariance type, and their best seeds as rows (type by type, K ascending)."""

    sweeps: dict[str, experiment.Sweep]
    rows: tuple[TypeRow, ...]

    @property
    def stopped(self) -> bool:
        """A ``should_stop`` hook ended it early: the rows hold the runs that finished."""
        return any(sweep.stopped for sweep in self.sweeps.values())

    @property
    def best(self) -> TypeRow:
        """The (type, K) with the highest BIC; a tie goes to the simpler type, then the smaller K."""
        return max(self.rows, key=lambda row: row.bic)


def select_covariance(
    X: np.ndarray,
    ks: Sequence[int],
    seeds: Sequence[int],
    covariance_types: Sequence[str] = COVARIANCE_TYPES,
    *,
    name: str = "X",
    fit_one: FitOne = _fit,
    on_run: Callable[[str, experiment.RunResult, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CovarianceSelection:
    """BIC of every covariance type and K, each K with its best seed.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data.
    ks, seeds : sequences of int
    covariance_types : sequence of {"spherical", "diag", "full"}
    name : str
        How messages name the data.
    fit_one : callable, optional
        ``fit_one(X, covariance_type, K, seed) -> RunResult``.
    on_run : callable, optional
        ``on_run(covariance_type, run, done, total)`` after each run, counted over all types.
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before each run (:func:`em_core.experiment.sweep`); once True,
        the rows hold the runs that finished (``stopped`` is then True).
    """
    types = [check_covariance_type(covariance_type) for covariance_type in covariance_types]
    d = np.shape(X)[1]
    per_type = len(ks) * len(seeds)
    sweeps, rows = {}, []
    for number, covariance_type in enumerate(types):

        def one(X, algorithm, K, seed, min_variance, max_iter, covariance_type=covariance_type):
            return fit_one(X, covariance_type, K, seed)

        def progress(run, done, total, covariance_type=covariance_type, number=number):
            if on_run is not None:
                on_run(covariance_type, run, number * per_type + done, per_type * len(types))

        sweep = experiment.sweep(
            X, "naive-em", ks, seeds, name=name, fit_one=one, on_run=progress, should_stop=should_stop
        )
        sweeps[covariance_type] = sweep
        for best in sweep.best_per_k:
            count = n_parameters(best.k, d, covariance_type)
            rows.append(TypeRow(covariance_type, best.k, count, best.run.score, best.bic, best.run.seed))
    return CovarianceSelection(sweeps, tuple(rows))
