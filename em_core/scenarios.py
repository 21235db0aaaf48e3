"""Named 2-D scenarios that each teach one thing about EM, drawn by seeded code.

Every scenario is a small set of complete 2-D points with a known answer: the components that
drew it (``labels``), and a sentence saying what to watch for. They are offered as built-in data
sets (``scenario-long-thin`` and so on, see :mod:`em_core.data`) and as starting sets for points
placed by hand. Each is drawn from its own ``np.random.RandomState(seed)``, so the points are the
same on every machine; the default seed is :data:`SEED`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from em_core.errors import DataError
from em_core.validation import check_seed

#: The seed the built-in scenario data sets are drawn with.
SEED = 2026


class Drawn(NamedTuple):
    """The points of a scenario and the component that drew each one.

    Attributes
    ----------
    X : ndarray of shape (n, 2)
    labels : ndarray of int, shape (n,)
        0-based; the outlier scenario's far point has its own label.
    """

    X: np.ndarray
    labels: np.ndarray


class Scenario(NamedTuple):
    """A named scenario.

    Attributes
    ----------
    name : str
        The data set name, ``"scenario-..."``.
    title : str
        What it is, for a list of data sets ("one long thin cluster beside a round one").
    teaches : str
        One sentence: what to look at when EM runs on it.
    k : int
        The number of components to fit (the number that drew it, the outlier aside).
    draw : callable
        ``draw(seed) -> Drawn``.
    """

    name: str
    title: str
    teaches: str
    k: int
    draw: Callable[[int], Drawn]


def _gaussian(rng: np.random.RandomState, n: int, mean, cov) -> np.ndarray:
    """``n`` points of N(mean, cov) from ``rng`` (through the Cholesky factor, so the draw is the same everywhere)."""
    lower = np.linalg.cholesky(np.asarray(cov, dtype=float))
    return np.asarray(mean, dtype=float) + rng.standard_normal((n, 2)) @ lower.T


def _stack(parts: list[np.ndarray]) -> Drawn:
    labels = np.concatenate([np.full(len(part), j) for j, part in enumerate(parts)])
    return Drawn(np.vstack(parts), labels)


def _rotated(long_sd: float, short_sd: float, degrees: float) -> np.ndarray:
    """The covariance of a cluster stretched along ``degrees`` from the x axis."""
    angle = np.deg2rad(degrees)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return rotation @ np.diag([long_sd**2, short_sd**2]) @ rotation.T


def two_overlapping(seed: int = SEED) -> Drawn:
    """Two round clusters of 120 points whose centres are 2.2 sigma apart, so their tails overlap."""
    rng = np.random.RandomState(check_seed(seed))
    return _stack([_gaussian(rng, 120, [-1.1, 0.0], np.eye(2)), _gaussian(rng, 120, [1.1, 0.0], np.eye(2))])


def long_thin(seed: int = SEED) -> Drawn:
    """A long thin cluster (sd 3 along 30 degrees, 0.25 across, 200 points) beside a round one (sd 0.7, 100 points)."""
    rng = np.random.RandomState(check_seed(seed))
    return _stack(
        [_gaussian(rng, 200, [0.0, 0.0], _rotated(3.0, 0.25, 30.0)), _gaussian(rng, 100, [1.0, 3.5], 0.49 * np.eye(2))]
    )


def outlier(seed: int = SEED) -> Drawn:
    """Two round clusters of 100 points and one point far from both (the last row)."""
    rng = np.random.RandomState(check_seed(seed))
    parts = [_gaussian(rng, 100, [-2.0, 0.0], 0.5 * np.eye(2)), _gaussian(rng, 100, [2.0, 0.0], 0.5 * np.eye(2))]
    return _stack([*parts, np.array([[12.0, 9.0]])])


def different_sizes(seed: int = SEED) -> Drawn:
    """A big wide cluster of 270 points and a small tight one of 30 beside it."""
    rng = np.random.RandomState(check_seed(seed))
    return _stack([_gaussian(rng, 270, [0.0, 0.0], 2.25 * np.eye(2)), _gaussian(rng, 30, [4.0, 2.5], 0.09 * np.eye(2))])


SCENARIOS = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "scenario-overlap",
            "two overlapping round clusters, 240 points",
            "Points where the clusters overlap get split responsibilities (blended colours): EM shares them "
            "where K-means must give each to one centre.",
            2,
            two_overlapping,
        ),
        Scenario(
            "scenario-long-thin",
            "one long thin cluster beside a round one, 300 points",
            "A spherical component cannot stretch, so it cuts the long cluster into pieces; a full covariance "
            "follows it with one tilted ellipse and wins on BIC.",
            2,
            long_thin,
        ),
        Scenario(
            "scenario-outlier",
            "two round clusters and one far outlier, 201 points",
            "One far point nearly triples the variance of the component that claims it while its mean hardly "
            "moves; with K = 3 a component can take the outlier alone, with weight 1/n.",
            2,
            outlier,
        ),
        Scenario(
            "scenario-sizes",
            "a big wide cluster and a small tight one, 300 points",
            "The weights p learn the clusters' sizes (about 0.9 and 0.1) and each variance its own spread: "
            "a mixture's components need not be alike.",
            2,
            different_sizes,
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name`` (one of :data:`SCENARIOS`); a :class:`DataError` names the choices."""
    if name not in SCENARIOS:
        raise DataError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    return SCENARIOS[name]


def draw(name: str, seed: int = SEED) -> Drawn:
    """The points of scenario ``name`` drawn with ``seed`` (and the component of each)."""
    return scenario(name).draw(seed)
