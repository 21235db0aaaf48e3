"""Vectorised pieces shared by K-means, EM on complete data and EM on incomplete data.

Everything is a matrix product over the observed mask. The data are first shifted by a
centre per column (the mean of the column's observed values), which leaves every distance
unchanged but keeps the numbers small, so the expanded forms below keep their digits even
for data far from 0 (ratings around 1e4, say). With ``X~`` the shifted data (0 where
missing) and ``m_j = mu_j - centre``:

- squared distance of row u to mean j over u's observed coordinates:
  ``sum(x~_u**2) - 2 x~_u . m_j + observed_u . m_j**2`` (:func:`sq_distances`);
- the M-step's sufficient statistics: ``post.T @ X~``, ``post.T @ observed`` and
  ``post.T @ sum(x~**2)`` (:func:`statistics`), from which means and variances follow
  without another pass over the data (:func:`weighted_sse`).

The shifted matrix keeps the zeros of the missing entries, so a ``scipy.sparse`` matrix
could take its place. :func:`prepare` computes it once per data matrix; a fit reuses it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import logsumexp

#: Where the expanded form keeps less than this share of the size of its terms, rounding
#: has eaten too many of its digits; those distances are recomputed from the differences.
CANCELLATION = 1e-3
#: At most this many numbers in the temporary of one recomputation chunk.
CHUNK_ENTRIES = 2**20


class Prepared(NamedTuple):
    """What every step needs of a data matrix, computed once by :func:`prepare`.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        The data as given (kept to recognise it again).
    shifted : ndarray of shape (n, d)
        ``X - center`` on observed coordinates, 0 elsewhere.
    center : ndarray of shape (d,)
        The mean of each column's observed values (0 for a column with none).
    observed : ndarray of shape (n, d) or None
        The float 0/1 mask of observed entries; ``None`` when every entry counts.
    n_observed : ndarray of shape (n,) or float
        Observed coordinates per row.
    sq_norms : ndarray of shape (n,)
        ``sum(shifted**2)`` per row.
    """

    X: np.ndarray
    shifted: np.ndarray
    center: np.ndarray
    observed: np.ndarray | None
    n_observed: np.ndarray | float
    sq_norms: np.ndarray


def prepare(X: np.ndarray, missing_as_zero: bool) -> Prepared:
    """Shift, mask and row norms of ``X``; with ``missing_as_zero`` a 0 entry is missing."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    if missing_as_zero:
        observed = (X != 0).astype(float)
        counts = observed.sum(axis=0)
        center = np.divide(X.sum(axis=0), counts, out=np.zeros(d), where=counts > 0)
        shifted = (X - center) * observed
        n_observed = observed.sum(axis=1)
    else:
        observed = None
        center = X.mean(axis=0) if n else np.zeros(d)
        shifted = X - center
        n_observed = float(d)
    return Prepared(X, shifted, center, observed, n_observed, np.einsum("ij,ij->i", shifted, shifted))


class Cache:
    """Remembers the :class:`Prepared` form of the last matrix seen (a fit steps on one matrix)."""

    def __init__(self, missing_as_zero: bool) -> None:
        self.missing_as_zero = missing_as_zero
        self._last: Prepared | None = None

    def __call__(self, X: np.ndarray) -> Prepared:
        if isinstance(X, Prepared):
            return X
        if self._last is None or self._last.X is not X:
            self._last = prepare(X, self.missing_as_zero)
        return self._last


def sq_distances(data: Prepared, mu: np.ndarray) -> np.ndarray:
    """Squared distances, shape (n, K), over the observed coordinates of each row.

    The few distances that are small next to the terms of the expanded form (a row sitting
    on a mean far from the column centres) are recomputed from the differences.
    """
    m = mu - data.center
    m_sq = m * m
    if data.observed is None:
        mu_term = np.broadcast_to(m_sq.sum(axis=1)[None, :], (data.shifted.shape[0], m.shape[0]))
    else:
        mu_term = data.observed @ m_sq.T
    sq = data.sq_norms[:, None] - 2.0 * (data.shifted @ m.T) + mu_term
    rows, cols = np.nonzero(sq < CANCELLATION * (data.sq_norms[:, None] + mu_term))
    step = max(1, CHUNK_ENTRIES // max(data.shifted.shape[1], 1))
    for start in range(0, rows.size, step):
        r, c = rows[start : start + step], cols[start : start + step]
        diff = data.shifted[r] - m[c]
        if data.observed is not None:
            diff *= data.observed[r]
        sq[r, c] = np.einsum("ij,ij->i", diff, diff)
    # the expanded form can dip a hair below 0 through rounding
    return np.maximum(sq, 0.0)


def log_joint(sq: np.ndarray, n_dims, var: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """``f(u, j) = log p_j + log N(x_u; mu_j, var_j I)`` from squared distances.

    ``n_dims`` is the number of coordinates each row contributes: a scalar, or shape (n,).
    """
    n_dims = np.asarray(n_dims, dtype=float)
    if n_dims.ndim == 1:
        n_dims = n_dims[:, None]
    return log_p[None, :] - 0.5 * n_dims * np.log(2.0 * np.pi * var)[None, :] - sq / (2.0 * var)[None, :]


def normalise(f: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior ``exp(f - logsumexp f)`` row by row, and the log-likelihood ``sum(logsumexp f)``."""
    log_norm = logsumexp(f, axis=1)
    with np.errstate(under="ignore"):
        post = np.exp(f - log_norm[:, None])
    return post, float(log_norm.sum())


class Statistics(NamedTuple):
    """The M-step's sufficient statistics of a posterior.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        ``sum_u post[u, j]``.
    sums : ndarray of shape (K, d)
        ``post.T @ shifted``.
    weight : ndarray of shape (K, d)
        ``post.T @ observed``: the support of each mean coordinate (``nk`` in every
        column when all entries are observed).
    sq : ndarray of shape (K,)
        ``post.T @ sq_norms``.
    """

    nk: np.ndarray
    sums: np.ndarray
    weight: np.ndarray
    sq: np.ndarray


def support(observed: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``post.T @ observed``, shape (K, d): the weight behind each mean coordinate."""
    return (observed.T @ post).T


def statistics(data: Prepared, post: np.ndarray) -> Statistics:
    """Sufficient statistics of ``post`` over ``data`` (two matrix products with the data)."""
    nk = post.sum(axis=0)
    # (data.T @ post).T: the same numbers as post.T @ data, and BLAS does it twice as fast
    sums = (data.shifted.T @ post).T
    if data.observed is None:
        weight = np.broadcast_to(nk[:, None], sums.shape)
    else:
        weight = support(data.observed, post)
    return Statistics(nk, sums, weight, post.T @ data.sq_norms)


def weighted_sse(
    data: Prepared, stats: Statistics, mu: np.ndarray, post: np.ndarray, floor: np.ndarray | None = None
) -> np.ndarray:
    """``sum_u post[u, j] * ||x_u - mu_j||^2`` over observed coordinates, shape (K,), for any ``mu``.

    From the sufficient statistics: ``sq - 2 sums . m + weight . m**2`` with ``m = mu - center``.
    Where that difference is small next to its terms (a component shrunk onto a point far
    from the column centres), the component's sum is recomputed from its distances, unless
    it lies so far under ``floor`` (shape (K,), in the same units) that the floor decides.
    """
    m = mu - data.center
    quad = np.einsum("kd,kd->k", stats.weight, m * m)
    scale = stats.sq + quad
    sse = stats.sq - 2.0 * np.einsum("kd,kd->k", stats.sums, m) + quad
    cancelled = sse < CANCELLATION * scale
    if floor is not None:
        # rounding moves the expanded form by far less than 1e-12 of its terms
        cancelled &= sse + 1e-12 * scale > floor
    if cancelled.any():
        sse[cancelled] = np.einsum("uk,uk->k", post[:, cancelled], sq_distances(data, mu[cancelled]))
    return np.maximum(sse, 0.0)


def complete_update(
    data: Prepared, post: np.ndarray, previous: np.ndarray | None, var_floor: float | None = None
) -> tuple[Statistics, np.ndarray, np.ndarray, np.ndarray]:
    """The M-step on complete data shared by K-means and EM: statistics, live components, means, SSE.

    A component with no weight keeps its ``previous`` mean (the column centres without one).
    ``var_floor`` spares the exact recompute of sums the variance floor decides anyway.
    """
    stats = statistics(data, post)
    alive = stats.nk > 0
    d = data.shifted.shape[1]
    previous = previous if previous is not None else np.broadcast_to(data.center, stats.sums.shape)
    mu = means(data, stats, np.broadcast_to(alive[:, None], stats.sums.shape), previous)
    floor = None if var_floor is None else var_floor * d * stats.nk
    return stats, alive, mu, weighted_sse(data, stats, mu, post, floor)


def means(data: Prepared, stats: Statistics, update: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Weighted means where ``update`` (shape (K, d)) holds, ``previous`` elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted_mean = stats.sums / np.where(update, stats.weight, 1.0)
    return np.where(update, shifted_mean + data.center, previous)
