"""The 2-D EM page's views of covariance types and starts: the parameter table of a mixture of any
covariance type, the placed means handed over by the "Your own points" page, and the cached heavy
work (every start side by side, BIC across covariance types) that pages run on a click.

Every number comes from em_core; the caches are keyed by the data set's content key.
"""

from __future__ import annotations

import importlib

import numpy as np
import pandas as pd

from dashboard.byte_cache import byte_cache
from dashboard.limits import CACHE_BYTES
from em_core import experiment
from em_core.covariance_em import covariance_type_of
from em_core.covariance_selection import CovarianceSelection, select_covariance
from em_core.ellipses import sigma_ellipses
from em_core.initialisation import STRATEGIES
from em_core.start_comparison import SEEDS, StartRun, compare_starts


def parameter_table(mixture) -> pd.DataFrame:
    """One row per component: weight, mean, the covariance as its type has it, and the 1σ ellipse.

    spherical: ``var`` and ``sigma``; diag: ``var[1]``, ``var[2]``; full: ``var[1]``, ``var[2]``,
    ``cov[1,2]`` and the correlation; diag and full in 2-D also the 1σ ellipse's half-axes and the major
    axis' angle (em_core.ellipses).
    """
    K, d = mixture.mu.shape
    table: dict[str, object] = {"component": [f"j={j + 1}" for j in range(K)], "p": mixture.p}
    for i in range(d):
        table[f"mu[{i + 1}]"] = mixture.mu[:, i]
    covariance_type = covariance_type_of(mixture)
    if covariance_type == "spherical":
        table["var"] = mixture.var
        table["sigma"] = np.sqrt(mixture.var)
    else:
        diagonal = mixture.cov if covariance_type == "diag" else np.diagonal(mixture.cov, axis1=1, axis2=2)
        for i in range(d):
            table[f"var[{i + 1}]"] = diagonal[:, i]
        if covariance_type == "full" and d == 2:
            table["cov[1,2]"] = mixture.cov[:, 0, 1]
            table["corr"] = mixture.cov[:, 0, 1] / np.sqrt(diagonal[:, 0] * diagonal[:, 1])
    if d == 2 and covariance_type != "spherical":  # a spherical component's circle is sigma already
        shapes = sigma_ellipses(mixture)
        table["1σ major"] = shapes.half_axes[:, 0]
        table["1σ minor"] = shapes.half_axes[:, 1]
        table["angle (°)"] = np.degrees(shapes.angle)
    return pd.DataFrame(table)


def placed_means() -> np.ndarray | None:
    """The means placed by hand on the "Your own points" page (dashboard.user_points), or None.

    None while that page's module does not exist or no means are placed.
    """
    try:
        user_points = importlib.import_module("dashboard.user_points")
    except ModuleNotFoundError:
        return None
    means = getattr(user_points, "placed_means", lambda: None)()
    return None if means is None else np.asarray(means, dtype=float)


@byte_cache(CACHE_BYTES["start_comparison"], keep=lambda result: result[1])
def starts_compared(
    content: str,
    K: int,
    covariance_type: str,
    means: tuple | None,
    _X: np.ndarray,
    _should_stop=None,
    _on_run=None,
) -> tuple[list[StartRun], bool]:
    """em_core's :func:`~em_core.start_comparison.compare_starts`, once per data set, K, type and placed
    means, and whether every start ran (a comparison a time limit cut short is not kept)."""
    means = None if means is None else np.array(means)
    runs = compare_starts(_X, K, covariance_type, means=means, on_run=_on_run, should_stop=_should_stop)
    return runs, len(runs) == len(STRATEGIES) * len(SEEDS) + (means is not None)


@byte_cache(CACHE_BYTES["covariance_fits"])
def fitted(content: str, covariance_type: str, K: int, seed: int, _X: np.ndarray) -> experiment.RunResult:
    """One run of EM on complete data with ``covariance_type`` from the course's start, cached."""
    return experiment.fit(_X, "naive-em", K, seed, covariance_type=covariance_type)


def covariance_selection(
    content: str, X: np.ndarray, ks, seeds, name: str, on_run=None, should_stop=None
) -> CovarianceSelection:
    """em_core's :func:`~em_core.covariance_selection.select_covariance`, each run through :func:`fitted`."""
    return select_covariance(
        X,
        ks,
        seeds,
        name=name,
        fit_one=lambda X, covariance_type, K, seed: fitted(content, covariance_type, K, seed, X),
        on_run=on_run,
        should_stop=should_stop,
    )
