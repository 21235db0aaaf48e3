"""EM for a mixture of spherical Gaussians on complete data (every coordinate observed).

The same maths as scikit-learn's ``GaussianMixture(covariance_type="spherical")`` with
``reg_covar=0``; the stopping rule is the course's (LL gain <= 1e-6 * |LL|).
"""

from __future__ import annotations

import numpy as np

from em_core import _kernels, stepping
from em_core.mixture import VAR_FLOOR, GaussianMixture

TOL = 1e-6


def _prepared(X) -> _kernels.Prepared:
    return X if isinstance(X, _kernels.Prepared) else _kernels.prepare(X, missing_as_zero=False)


def estep(X: np.ndarray, mixture: GaussianMixture) -> tuple[np.ndarray, float]:
    """E-step: the posterior, shape (n, K), and the log-likelihood of ``mixture``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data (0 is an ordinary value here).
    """
    data = _prepared(X)
    sq = _kernels.sq_distances(data, mixture.mu)
    with np.errstate(divide="ignore"):
        log_p = np.log(mixture.p)
    f = _kernels.log_joint(sq, data.n_observed, mixture.var, log_p)
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
    data = _prepared(X)
    n, d = data.shifted.shape
    previous = mixture.mu if mixture is not None else None
    stats, alive, mu, sse = _kernels.complete_update(data, post, previous, VAR_FLOOR)
    var = sse / (d * np.where(alive, stats.nk, 1.0))
    if mixture is not None:
        var = np.where(alive, var, mixture.var)
    var = np.maximum(var, VAR_FLOOR)
    return GaussianMixture(mu, var, stats.nk / n)


def algorithm() -> stepping.Algorithm:
    """EM on complete data as a steppable :class:`~em_core.stepping.Algorithm`."""
    cache = _kernels.Cache(missing_as_zero=False)  # the shifted data, once per matrix
    return stepping.Algorithm(
        name="naive-em",
        score_name="log_likelihood",
        estep=lambda X, mixture: estep(cache(X), mixture),
        mstep=lambda X, post, mixture: (mstep(cache(X), post, mixture), None),
        converged=stepping.relative_gain_converged(TOL),
    )


def run(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate E and M steps until the LL gain is <= 1e-6 * |LL|; see :func:`em_core.em.run`."""
    state = stepping.run(algorithm(), X, stepping.start(mixture, post, max_history=1))
    return state.mixture, state.post, state.score
