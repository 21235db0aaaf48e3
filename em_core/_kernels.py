"""Vectorised pieces shared by K-means, EM on complete data and EM on incomplete data.

Everything is a matrix product over the observed mask: the squared distance of row u to
mean j over u's observed coordinates is ``sum(x_u**2) - 2 x_u . mu_j + observed_u . mu_j**2``
(recomputed from the differences where that form cancels; see :func:`sq_distances`).
"""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

#: Where the expanded form keeps less than this share of the size of its terms, rounding
#: has eaten too many of its digits; those distances are recomputed from the differences.
CANCELLATION = 1e-3
#: At most this many numbers in the temporary of one recomputation chunk.
CHUNK_ENTRIES = 2**20


def sq_distances(X: np.ndarray, mu: np.ndarray, observed: np.ndarray | None = None) -> np.ndarray:
    """Squared distances, shape (n, K), over the observed coordinates of each row.

    ``observed`` is the (n, d) 0/1 mask; ``None`` means every coordinate is observed.

    The expanded form loses digits to cancellation when a row is much nearer a mean than
    both are to the origin (data around 1e4, a component shrunk onto a point); the few
    distances that are small next to their terms are recomputed from the differences.
    """
    sq_norms = np.einsum("ij,ij->i", X, X)
    mu_sq = mu * mu
    if observed is None:
        mu_term = mu_sq.sum(axis=1)[None, :]
    else:
        mu_term = observed @ mu_sq.T
    sq = sq_norms[:, None] - 2.0 * (X @ mu.T) + mu_term
    rows, cols = np.nonzero(sq < CANCELLATION * (sq_norms[:, None] + mu_term))
    step = max(1, CHUNK_ENTRIES // X.shape[1])
    for start in range(0, rows.size, step):
        r, c = rows[start : start + step], cols[start : start + step]
        diff = X[r] - mu[c]
        if observed is not None:
            diff *= observed[r]
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


def weighted_sse(post: np.ndarray, X: np.ndarray, mu: np.ndarray, observed: np.ndarray | None = None) -> np.ndarray:
    """``sum_u post[u, j] * ||x_u - mu_j||^2`` over observed coordinates, shape (K,).

    A weighted sum of :func:`sq_distances` (non-negative terms, so no digits cancel).
    """
    return np.einsum("uk,uk->k", post, sq_distances(X, mu, observed))
