"""K-means as the course writes it: hard assignments, then means, variances and weights."""

from __future__ import annotations

import numpy as np

from em_core import _kernels, stepping
from em_core.mixture import GaussianMixture

#: Stop when the cost falls by no more than this.
TOL = 1e-4


def estep(X: np.ndarray, mixture: GaussianMixture) -> np.ndarray:
    """Assign each row to its nearest mean (ties go to the lower index).

    Returns
    -------
    post : ndarray of shape (n, K)
        One-hot rows.
    """
    nearest = np.argmin(_kernels.sq_distances(X, mixture.mu), axis=1)
    post = np.zeros((X.shape[0], mixture.mu.shape[0]))
    post[np.arange(X.shape[0]), nearest] = 1.0
    return post


def mstep(X: np.ndarray, post: np.ndarray, mixture: GaussianMixture | None = None) -> tuple[GaussianMixture, float]:
    """Means of the assigned rows, ``var_j = SSE_j / (n_j d)``, ``p_j = n_j / n``, and the cost.

    An empty cluster keeps its previous mean (from ``mixture``) with variance 0 and weight 0.

    Returns
    -------
    mixture : GaussianMixture
    cost : float
        Total squared distance of the rows to their cluster's new mean.
    """
    n, d = X.shape
    nk = post.sum(axis=0)
    sums = post.T @ X
    alive = nk > 0
    safe_nk = np.where(alive, nk, 1.0)
    mu = sums / safe_nk[:, None]
    if mixture is not None:
        mu = np.where(alive[:, None], mu, mixture.mu)
    sse = _kernels.weighted_sse(post, X, mu)
    var = np.where(alive, sse / (d * safe_nk), 0.0)
    return GaussianMixture(mu, var, nk / n), float(sse.sum())


def algorithm() -> stepping.Algorithm:
    """K-means as a steppable :class:`~em_core.stepping.Algorithm` (its score is the cost)."""
    return stepping.Algorithm(
        name="kmeans",
        score_name="cost",
        estep=lambda X, mixture: (estep(X, mixture), None),
        mstep=mstep,
        converged=stepping.absolute_drop_converged(TOL),
    )


def run(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate assignment and update until the cost falls by <= 1e-4.

    Returns
    -------
    mixture, post, cost
    """
    state = stepping.run(algorithm(), X, stepping.start(mixture, post, max_history=1))
    return state.mixture, state.post, state.score
