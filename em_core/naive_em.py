"""EM for a mixture of spherical Gaussians on complete data (every coordinate observed).

The same maths as scikit-learn's ``GaussianMixture(covariance_type="spherical")`` with
``reg_covar=0``; the stopping rule is the course's (LL gain <= 1e-6 * |LL|).
"""

from __future__ import annotations

import numpy as np

from em_core import _kernels, stepping
from em_core.mixture import VAR_FLOOR, GaussianMixture

TOL = 1e-6


def estep(X: np.ndarray, mixture: GaussianMixture) -> tuple[np.ndarray, float]:
    """E-step: the posterior, shape (n, K), and the log-likelihood of ``mixture``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data (0 is an ordinary value here).
    """
    sq = _kernels.sq_distances(X, mixture.mu)
    with np.errstate(divide="ignore"):
        log_p = np.log(mixture.p)
    f = _kernels.log_joint(sq, X.shape[1], mixture.var, log_p)
    return _kernels.normalise(f)


def mstep(X: np.ndarray, post: np.ndarray, mixture: GaussianMixture | None = None) -> GaussianMixture:
    """M-step: weighted means, pooled spherical variances and weights.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    post : ndarray of shape (n, K)
    mixture : GaussianMixture, optional
        Previous parameters; a component with no weight at all keeps its mean and
        variance from here (without it, such a component would be undefined).
    """
    n, d = X.shape
    nk = post.sum(axis=0)
    sums = post.T @ X
    alive = nk > 0
    safe_nk = np.where(alive, nk, 1.0)
    mu = sums / safe_nk[:, None]
    sse = _kernels.weighted_sse(post, X, mu)
    var = sse / (d * safe_nk)
    if mixture is not None:
        mu = np.where(alive[:, None], mu, mixture.mu)
        var = np.where(alive, var, mixture.var)
    var = np.maximum(var, VAR_FLOOR)
    return GaussianMixture(mu, var, nk / n)


def algorithm() -> stepping.Algorithm:
    """EM on complete data as a steppable :class:`~em_core.stepping.Algorithm`."""
    return stepping.Algorithm(
        name="naive-em",
        score_name="log_likelihood",
        estep=estep,
        mstep=lambda X, post, mixture: (mstep(X, post, mixture), None),
        converged=stepping.relative_gain_converged(TOL),
    )


def run(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate E and M steps until the LL gain is <= 1e-6 * |LL|; see :func:`em_core.em.run`."""
    state = stepping.run(algorithm(), X, stepping.start(mixture, post, max_history=1))
    return state.mixture, state.post, state.score
