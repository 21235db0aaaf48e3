"""EM for a mixture of spherical Gaussians on complete data (every coordinate observed).

The same maths as scikit-learn's ``GaussianMixture(covariance_type="spherical")`` with
``reg_covar=0``; the stopping rule is the course's (LL gain <= 1e-6 * |LL|).

There is no variance floor: a component shrunk onto near-duplicate points gets the
course's tiny variance (two pairs of points 1e-7 apart: 1.25e-15). The guards, all where
the course's formulas give NaN: a component with no weight at all (``n_j = 0``; the course
divides 0 by 0) keeps its mean and variance; a variance of exactly 0 (every row the
component weighs sits on its mean, or all rows are identical; the course's next E-step
divides by 0) becomes :data:`~em_core.mixture.VAR_FLOOR`, or the component's previous
variance where that is smaller (so the log-likelihood never falls); and a variance so
small (below 1e-300 of the largest squared distance a row can have to the mean) that the
next E-step would overflow is raised to that bound. The E-step works in the log
domain, so it stays finite where the course's densities underflow to 0 (and its
posterior is 0/0).
"""

from __future__ import annotations

import numpy as np

from em_core import _kernels, stepping
from em_core.mixture import VAR_FLOOR, GaussianMixture
from em_core.validation import check_matrix

TOL = 1e-6


#: The prepared form behind the public :func:`estep` and :func:`mstep` on raw arrays.
_PUBLIC_CACHE = _kernels.Cache(missing_as_zero=False)


def prepare(X: np.ndarray) -> _kernels.Prepared:
    """The matrix prepared once for every step of a fit (column shift, row norms).

    It holds its own copy of ``X``, so changing ``X`` later cannot reach it. Pass it in
    place of ``X`` to :func:`estep`, :func:`mstep` and to the steps of :func:`algorithm` (e.g.
    ``stepping.run(algorithm(), prepare(X), state)``): they then skip the check that a raw
    array gets on every call (a comparison with the copy of the matrix last prepared, about
    one read of the matrix).
    """
    return _kernels.prepare_copy(check_matrix(X), missing_as_zero=False)


def _prepared(X) -> _kernels.Prepared:
    return _PUBLIC_CACHE(X)


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

    Returns
    -------
    GaussianMixture
        ``mu_j = post[:, j] @ X / n_j``, ``var_j = sum_u post[u, j] ||x_u - mu_j||^2 / (d n_j)``
        with no floor except for an exact 0 (see the module), ``p_j = n_j / n``.
    """
    data = _prepared(X)
    n, d = data.shifted.shape
    previous = mixture.mu if mixture is not None else None
    stats, alive, mu, sse = _kernels.complete_update(data, post, previous)
    var = sse / (d * np.where(alive, stats.nk, 1.0))
    if mixture is not None:
        var = np.where(alive, var, mixture.var)
    var = _kernels.variance_guard(data, mu, var, VAR_FLOOR, None if mixture is None else mixture.var)
    return GaussianMixture(mu, var, stats.nk / n)


def algorithm() -> stepping.Algorithm:
    """EM on complete data as a steppable :class:`~em_core.stepping.Algorithm`.

    Keep one per fit: it caches the prepared matrix, checked against a copy on every call
    (see :func:`em_core.em.algorithm`).
    """
    cache = _kernels.Cache(missing_as_zero=False, shared=_PUBLIC_CACHE)  # the shifted data, once per matrix
    return stepping.Algorithm(
        name="naive-em",
        score_name="log_likelihood",
        estep=lambda X, mixture: estep(cache(X), mixture),
        mstep=lambda X, post, mixture: (mstep(cache(X), post, mixture), None),
        converged=stepping.relative_gain_converged(TOL),
    )


def run(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate E and M steps until the LL gain is <= 1e-6 * |LL|; see :func:`em_core.em.run`."""
    state = stepping.run(algorithm(), prepare(X), stepping.start(mixture, post, max_history=1))
    return state.mixture, state.post, state.score
