"""K-means as the course writes it: hard assignments, then means, variances and weights.

Assignments are the course's argmin over directly computed distances: wherever a row's
two nearest means are tied or nearly tied, its distances are recomputed from the
differences ``x - mu``, so an exact tie goes to the lower index and integer data give the
course's assignments and costs. The means are the course's ``post[:, j] @ X / n_j``.

Where the course gives NaN, em_core stays finite: an empty cluster (the course's mean is
0/0) keeps its previous mean with variance 0 and weight 0.
"""

from __future__ import annotations

import numpy as np

from em_core import _kernels, naive_em, stepping
from em_core.mixture import GaussianMixture

#: Stop when the cost falls by no more than this.
TOL = 1e-4


#: K-means and EM on complete data prepare a matrix the same way (column shift, row norms),
#: so they share one cache and one :func:`prepare`: pass ``prepare(X)`` in place of ``X`` to
#: :func:`estep`, :func:`mstep` and the steps of :func:`algorithm` to skip the per-call check.
_PUBLIC_CACHE = naive_em._PUBLIC_CACHE
prepare = naive_em.prepare


def _prepared(X) -> _kernels.Prepared:
    return _PUBLIC_CACHE(X)


def estep(X: np.ndarray, mixture: GaussianMixture) -> np.ndarray:
    """Assign each row to its nearest mean (ties go to the lower index).

    Returns
    -------
    post : ndarray of shape (n, K)
        One-hot rows.
    """
    data = _prepared(X)
    n = data.shifted.shape[0]
    nearest = np.argmin(_kernels.sq_distances(data, mixture.mu, exact_ties=True), axis=1)
    post = np.zeros((n, mixture.mu.shape[0]))
    post[np.arange(n), nearest] = 1.0
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
    data = _prepared(X)
    n, d = data.shifted.shape
    stats, alive, mu, sse = _kernels.complete_update(data, post, mixture.mu if mixture is not None else None)
    var = np.where(alive, sse / (d * np.where(alive, stats.nk, 1.0)), 0.0)
    return GaussianMixture(mu, var, stats.nk / n), float(sse.sum())


def algorithm() -> stepping.Algorithm:
    """K-means as a steppable :class:`~em_core.stepping.Algorithm` (its score is the cost).

    Keep one per fit: it caches the prepared matrix, checked against a copy on every call
    (see :func:`em_core.em.algorithm`).
    """
    cache = _kernels.Cache(missing_as_zero=False, shared=_PUBLIC_CACHE)  # the shifted data, once per matrix
    return stepping.Algorithm(
        name="kmeans",
        score_name="cost",
        estep=lambda X, mixture: (estep(cache(X), mixture), None),
        mstep=lambda X, post, mixture: mstep(cache(X), post, mixture),
        converged=stepping.absolute_drop_converged(TOL),
    )


def run(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate assignment and update until the cost falls by <= 1e-4.

    Returns
    -------
    mixture, post, cost
    """
    state = stepping.run(algorithm(), prepare(X), stepping.start(mixture, post, max_history=1))
    return state.mixture, state.post, state.score
