"""What a student should notice about a mixture: collapsed components, floored variances,
mean coordinates the M-step could not update."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from em_core.em import support
from em_core.mixture import GaussianMixture

#: A component whose weight is below this holds (almost) no users.
EMPTY_WEIGHT = 1e-6


class ComponentReport(NamedTuple):
    """Per-component flags.

    Attributes
    ----------
    empty : ndarray of bool, shape (K,)
        The weight p_j is below :data:`EMPTY_WEIGHT`: the component has lost its users.
    at_floor : ndarray of bool, shape (K,)
        The variance sits at the floor ``min_variance``.
    frozen : ndarray of bool, shape (K, d) or None
        Mean coordinates whose support ``sum_u p(j|u) [i observed for u]`` is below 1, so
        the M-step keeps their previous value (None when no posterior was given).
    """

    empty: np.ndarray
    at_floor: np.ndarray
    frozen: np.ndarray | None


def component_report(
    mixture: GaussianMixture, min_variance: float, X: np.ndarray | None = None, post: np.ndarray | None = None
) -> ComponentReport:
    """Flag collapsed components, floored variances and (given X and post) frozen mean coordinates."""
    frozen = support(X, post) < 1.0 if X is not None and post is not None else None
    return ComponentReport(mixture.p < EMPTY_WEIGHT, mixture.var <= min_variance, frozen)


def describe(report: ComponentReport, min_variance: float) -> list[str]:
    """Plain sentences for the flags that are set (empty list when all is well)."""
    lines = []
    empty = np.flatnonzero(report.empty) + 1
    if empty.size:
        lines.append(
            f"Component(s) {', '.join(f'j={j}' for j in empty)} hold almost no users (p < {EMPTY_WEIGHT:g}); "
            "they stay put because nothing pulls on them."
        )
    floor = np.flatnonzero(report.at_floor) + 1
    if floor.size:
        lines.append(f"Variance of {', '.join(f'j={j}' for j in floor)} sits at the floor {min_variance:g}.")
    if report.frozen is not None and report.frozen.any():
        count = int(report.frozen.sum())
        lines.append(f"{count:,} mean coordinate(s) have support below 1 and keep their previous value.")
    return lines
