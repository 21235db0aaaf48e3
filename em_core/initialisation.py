"""Where a fit starts: the course's initialisation, k-means++, or means given by hand.

Every strategy chooses K means and derives the rest as the course's
:func:`~em_core.mixture.init` does (:func:`~em_core.mixture.from_means`): ``var[j]`` is the
mean over all n*d entries of ``(X - mu[j])**2``, the weights and the posterior are uniform.
The course's initialisation stays the default and stays exact.

- ``"course"``: K distinct rows drawn by ``RandomState(seed).choice(n, K, replace=False)``;
- ``"kmeans++"``: D^2 sampling (:func:`kmeans_plusplus_rows`), reproducible by seed;
- an array of shape (K, d), or a text file of one mean per line (:func:`load_means`): means
  placed by hand, checked by :func:`check_means`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

import numpy as np

from em_core.errors import DataError
from em_core.file_reading import read_file
from em_core.matrix_file import parse_matrix
from em_core.mixture import GaussianMixture, from_means, init
from em_core.validation import check_k, check_matrix, check_seed

#: The strategies that draw their means from a seed; means given by hand are the third way.
STRATEGIES = ("course", "kmeans++")


def kmeans_plusplus_rows(X: np.ndarray, K: int, seed: int = 0) -> np.ndarray:
    """The rows k-means++ picks as means: D^2 sampling with one trial per mean, shape (K,).

    The first row is drawn uniformly; each next one with probability proportional to its squared
    distance to the nearest row already picked. The draws are those of scikit-learn's
    ``kmeans_plusplus(X, K, random_state=seed, n_local_trials=1)``: ``RandomState(seed).choice(n)``
    for the first row, then one ``uniform()`` per row, located in the cumulative sum of the squared
    distances. (scikit-learn's default ``n_local_trials = 2 + ln K`` draws several candidates per
    mean and keeps the one that lowers the cost most; with one trial this is the textbook
    algorithm of Arthur and Vassilvitskii.) Once every row sits on a picked mean (fewer than K
    distinct rows) the distances are all 0 and the first row is picked again.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data.
    K : int
        Number of means, ``1 <= K <= n``.
    seed : int
        Seed of the ``RandomState``.
    """
    X = check_matrix(X)
    n = X.shape[0]
    K = check_k(K, n)
    rng = np.random.RandomState(check_seed(seed))
    rows = np.empty(K, dtype=int)
    rows[0] = rng.choice(n, p=np.full(n, 1.0 / n))
    closest_sq = _sq_distances_to(X, rows[0])
    for c in range(1, K):
        target = rng.uniform() * closest_sq.sum()
        rows[c] = min(int(np.searchsorted(np.cumsum(closest_sq), target)), n - 1)
        np.minimum(closest_sq, _sq_distances_to(X, rows[c]), out=closest_sq)
    return rows


def _sq_distances_to(X: np.ndarray, row: int) -> np.ndarray:
    diff = X - X[row]
    return np.einsum("ij,ij->i", diff, diff)


def kmeans_plusplus(X: np.ndarray, K: int, seed: int = 0) -> tuple[GaussianMixture, np.ndarray]:
    """Initialise at the rows of :func:`kmeans_plusplus_rows`; the rest as the course's init.

    Returns
    -------
    mixture : GaussianMixture
    post : ndarray of shape (n, K)
        The uniform posterior ``1/K``.
    """
    X = check_matrix(X)
    return from_means(X, X[kmeans_plusplus_rows(X, K, seed)].copy())


def check_means(X: np.ndarray, means, source: str = "means", line_numbers: Sequence[int] | None = None) -> np.ndarray:
    """Means given by hand, checked against the data: shape (K, d), finite, K distinct rows, K <= n.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    means : array-like of shape (K, d)
    source : str
        How messages name the means (a file name, "means").
    line_numbers : sequence of int, optional
        The file line of each mean, so that messages name lines; rows are named otherwise.

    Returns
    -------
    ndarray of shape (K, d), a float copy

    Raises
    ------
    DataError
        One line naming what is wrong and the fix.
    """
    n, d = np.shape(X)
    try:
        mu = np.array(means, dtype=float)
    except (TypeError, ValueError):
        raise DataError(
            f"{source}: expected K means of {d} numbers each (a K x {d} array), got something that is not "
            "an array of numbers; give one mean per row"
        ) from None
    if mu.ndim == 1 and d == 1:
        mu = mu[:, None]
    if mu.ndim != 2 or mu.shape[0] == 0:
        raise DataError(
            f"{source}: expected K means of {d} numbers each (a K x {d} array), got shape {mu.shape}; "
            "give one mean per row"
        )
    where = (lambda r: f"line {line_numbers[r]}") if line_numbers is not None else (lambda r: f"row {r + 1}")
    if mu.shape[1] != d:
        raise DataError(
            f"{source}: each mean has {mu.shape[1]} values but the data have {d} columns; give {d} numbers per mean"
        )
    if not np.all(np.isfinite(mu)):
        r, c = np.argwhere(~np.isfinite(mu))[0]
        raise DataError(f"{source} {where(r)} column {c + 1} is {mu[r, c]}, not a finite number; give finite means")
    K = mu.shape[0]
    if K > n:
        raise DataError(f"{source}: {K} means but the data have only {n} rows; give at most {n} means")
    _, first, inverse = np.unique(mu, axis=0, return_index=True, return_inverse=True)
    repeats = np.nonzero(first[inverse.ravel()] != np.arange(K))[0]
    if repeats.size:
        r = int(repeats[0])
        original = int(first[inverse.ravel()[r]])
        values = ", ".join(f"{v:g}" for v in mu[r])
        raise DataError(
            f"{source} {where(r)} repeats the mean of {where(original)} ({values}); give {K} different means"
        )
    return check_matrix(mu, source)


def given_means(
    X: np.ndarray, means, source: str = "means", line_numbers: Sequence[int] | None = None
) -> tuple[GaussianMixture, np.ndarray]:
    """Initialise at means placed by hand (checked by :func:`check_means`); the rest as the course's init.

    Returns
    -------
    mixture : GaussianMixture
    post : ndarray of shape (n, K)
        The uniform posterior ``1/K``.
    """
    X = check_matrix(X)
    return from_means(X, check_means(X, means, source, line_numbers))


class MeansFile(NamedTuple):
    """Means read from a text file.

    Attributes
    ----------
    name : str
        The file's name, for messages.
    means : ndarray of shape (K, d)
    line_numbers : sequence of int, length K
        The file line of each mean.
    """

    name: str
    means: np.ndarray
    line_numbers: Sequence[int]

    @property
    def n_means(self) -> int:
        return self.means.shape[0]


def load_means(path: str | os.PathLike) -> MeansFile:
    """Read a means file: one mean per line, values separated by spaces, tabs or commas.

    It is parsed as :func:`em_core.matrix_file.parse_matrix` parses a data file (every problem a
    :class:`DataError` naming the file and the line); check it against the data with
    :func:`given_means` (``given_means(X, f.means, f.name, f.line_numbers)``).
    """
    path = Path(path)
    means, line_numbers = parse_matrix(read_file(path), path.name)
    return MeansFile(path.name, means, line_numbers)


def initial_mixture(X: np.ndarray, K: int, seed: int = 0, init_with="course") -> tuple[GaussianMixture, np.ndarray]:
    """The starting mixture and posterior of a fit, by strategy.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    K : int
        Number of components; for means given by hand it must equal their number.
    seed : int
        Seed of the draw (ignored for means given by hand).
    init_with : {"course", "kmeans++"}, ndarray of shape (K, d), or MeansFile
        The strategy, or the means.
    """
    if isinstance(init_with, str):
        if init_with == "course":
            return init(X, K, seed)
        if init_with == "kmeans++":
            return kmeans_plusplus(X, K, seed)
        raise DataError(f"unknown initialisation {init_with!r}; choose {' or '.join(STRATEGIES)}, or give the means")
    source, lines = "means", None
    if isinstance(init_with, MeansFile):
        source, lines, init_with = init_with.name, init_with.line_numbers, init_with.means
    mixture, post = given_means(X, init_with, source, lines)
    if mixture.n_components != K:
        raise DataError(
            f"{source} holds {mixture.n_components} means but K is {K}; give K = {mixture.n_components} or {K} means"
        )
    return mixture, post
