"""The mixture value, the course's initialisation and the scores (RMSE, BIC)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from em_core import sparse_kernels
from em_core._kernels import CANCELLATION
from em_core.sparse_ratings import check_ratings, is_sparse, rmse_stored
from em_core.validation import check_k, check_matrix

#: The variance that stands in for an exact 0, where the course's formulas would divide by
#: zero in the next E-step (every row a component weighs sits on its mean, or all rows are
#: identical) and give NaN. Every positive variance, however small, is kept as it is.
VAR_FLOOR = 1e-12


class GaussianMixture(NamedTuple):
    """Parameters of a mixture of K spherical Gaussians in d dimensions.

    Attributes
    ----------
    mu : ndarray of shape (K, d)
        The component means.
    var : ndarray of shape (K,)
        The variance of each component (the same in every dimension).
    p : ndarray of shape (K,)
        The mixing weights; they sum to 1.
    """

    mu: np.ndarray
    var: np.ndarray
    p: np.ndarray

    @property
    def n_components(self) -> int:
        return self.mu.shape[0]


def init(X: np.ndarray, K: int, seed: int = 0) -> tuple[GaussianMixture, np.ndarray]:
    """Initialise a mixture exactly as the course's ``common.init`` does.

    The K rows drawn by ``np.random.RandomState(seed).choice(n, K, replace=False)``
    become the means; ``var[j]`` is the mean over all n*d entries of ``(X - mu[j])**2``
    (missing entries count as 0, as in the course); the weights and the posterior are
    uniform. The variances are computed from column-centred data, so they keep their
    digits for data far from 0 (1e6 + small spread); a variance that comes out exactly 0
    (every row equal to ``mu[j]``, where the course's first E-step divides by zero and gives
    NaN) is replaced by :data:`VAR_FLOOR`.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The data (for rating matrices 0 means missing).
    K : int
        Number of components, ``1 <= K <= n``.
    seed : int
        Seed of the row draw.

    Returns
    -------
    mixture : GaussianMixture
    post : ndarray of shape (n, K)
        The uniform posterior ``1/K``.
    """
    return init_seeds(X, K, [seed])[0]


def init_seeds(X: np.ndarray, K: int, seeds) -> list[tuple[GaussianMixture, np.ndarray]]:
    """``[init(X, K, seed) for seed in seeds]``, the same values, with ``X`` checked and its column
    moments (which every seed's variances start from) computed once: a sweep's seeds of one K."""
    sparse = is_sparse(X)  # a CSR matrix: the same numbers, from its stored ratings
    X = check_ratings(X) if sparse else check_matrix(X)
    n, d = X.shape
    K = check_k(K, n)
    moments = None if sparse else _moments(X)
    starts = []
    for seed in seeds:
        rows = np.random.RandomState(seed).choice(n, K, replace=False)
        starts.append(from_means(X, sparse_kernels.rows_of(X, rows) if sparse else X[rows].copy(), moments))
    return starts


def from_means(X: np.ndarray, mu: np.ndarray, moments: _Moments | None = None) -> tuple[GaussianMixture, np.ndarray]:
    """The course's initialisation around given means: its variances, uniform weights and posterior.

    :func:`init` after its draw, and every start of :mod:`em_core.initialisation` (k-means++,
    means given by hand): ``var[j]`` is the mean over all n*d entries of ``(X - mu[j])**2``,
    an exact 0 becoming :data:`VAR_FLOOR`.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Checked data.
    mu : ndarray of shape (K, d)
        Checked means (kept, not copied).
    moments : optional
        ``_moments(X)`` when the caller starts several mixtures on one dense ``X``.

    Returns
    -------
    mixture : GaussianMixture
    post : ndarray of shape (n, K)
        The uniform posterior ``1/K``.
    """
    K = mu.shape[0]
    var = sparse_kernels.mean_sq_distance(X, mu) if is_sparse(X) else _mean_sq_distance(X, mu, moments)
    var = np.where(var > 0, var, VAR_FLOOR)
    return GaussianMixture(mu, var, np.full(K, 1.0 / K)), np.full((X.shape[0], K), 1.0 / K)


class _Moments(NamedTuple):
    """What every initial variance on one dense ``X`` starts from (:func:`_moments`)."""

    center: np.ndarray  # (d,) the column means
    total_sq: float  # sum((X - center)**2)
    column_sums: np.ndarray  # (d,) sum over rows of X - center (0 up to rounding)


def _moments(X: np.ndarray) -> _Moments:
    center = X.mean(axis=0)
    shifted = X - center
    return _Moments(center, float(np.einsum("ij,ij->", shifted, shifted)), shifted.sum(axis=0))


def _mean_sq_distance(X: np.ndarray, mu: np.ndarray, moments: _Moments | None = None) -> np.ndarray:
    """``mean((X - mu[j])**2)`` over all n*d entries for each row of ``mu``, shape (K,).

    Expanded around the column means c: ``sum((X-c)**2) - 2 (mu-c) . sum(X-c) + n |mu-c|**2``,
    whose terms are all of the size of the spread, not of the data; where that still
    cancels (a mean on a dense cluster far from c) the sum is taken from the differences.
    """
    n, d = X.shape
    center, total_sq, column_sums = moments if moments is not None else _moments(X)
    m = mu - center
    quad = n * np.einsum("kd,kd->k", m, m)
    sq = total_sq - 2.0 * (m @ column_sums) + quad
    for j in np.nonzero(sq <= CANCELLATION * (total_sq + quad))[0]:
        sq[j] = ((X - mu[j]) ** 2).sum()
    return sq / (n * d)


def rmse(X_gold: np.ndarray, X_pred: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Root mean squared error between two matrices of the same shape.

    Parameters
    ----------
    X_gold, X_pred : ndarray of shape (n, d)
    mask : ndarray of bool, shape (n, d), optional
        Score only these entries (e.g. the missing ones). ``None`` scores all entries.

    A CSR ``X_gold`` (ratings at its stored entries) is scored over its stored entries, or
    ``mask``'s, read in a CSR ``X_pred`` (e.g. :func:`em_core.sparse_completion.predict_at`).
    """
    if is_sparse(X_gold):
        return rmse_stored(X_gold, X_pred, mask)
    diff = np.asarray(X_gold, dtype=float) - np.asarray(X_pred, dtype=float)
    if mask is not None:
        diff = diff[mask]
    if diff.size == 0:
        return float("nan")
    return float(np.sqrt(np.mean(diff * diff)))


def n_parameters(K: int, d: int) -> int:
    """Free parameters of a spherical mixture: K*d means, K variances, K-1 weights."""
    return K * d + K + (K - 1)


def bic(X: np.ndarray, mixture: GaussianMixture, log_likelihood: float) -> float:
    """The course's BIC: ``LL - 1/2 * (K*d + K + K - 1) * ln n`` (higher is better)."""
    n, d = np.shape(X)
    return float(log_likelihood - 0.5 * n_parameters(mixture.n_components, d) * np.log(n))
