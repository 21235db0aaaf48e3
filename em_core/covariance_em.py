"""EM on complete data with a choice of covariance: spherical (the course's), diagonal or full.

``covariance_type="spherical"`` is the course's model, computed by :mod:`em_core.naive_em`
unchanged (one variance per component, no regularisation). ``"diag"`` and ``"full"`` give each
component its own diagonal or full covariance matrix and are computed here, as scikit-learn's
``GaussianMixture`` computes them:

- the M-step adds :data:`REG_COVAR` (``reg_covar``) to the diagonal of every covariance, so a
  component that shrinks onto a line or a point keeps an invertible covariance;
- the E-step works with the Cholesky factor of each precision matrix (``P_j = U_j U_j^T`` with
  ``U_j = L_j^{-T}``, ``Sigma_j = L_j L_j^T``): ``log N(x; mu_j, Sigma_j) = -d/2 log 2 pi + sum
  log diag U_j - |(x - mu_j) U_j|^2 / 2``, and the responsibilities are normalised in the log
  domain (log-sum-exp).

Differences are taken as ``x - mu_j`` directly (scikit-learn expands ``x U - mu U``), which keeps
the digits for data far from 0; from the same start the two agree to 1e-7 per iteration
(``tests/test_covariance_em.py``). A component with no weight at all (``n_j = 0``) keeps its mean
and covariance, as in :mod:`em_core.naive_em`.

The stopping rule is the course's: the log-likelihood gain is at most 1e-6 of its size.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from em_core import _kernels, naive_em, stepping
from em_core.errors import DataError
from em_core.mixture import GaussianMixture
from em_core.mixture import n_parameters as course_n_parameters

#: The covariance models, simplest first; "spherical" is the course's.
COVARIANCE_TYPES = ("spherical", "diag", "full")

#: What the M-step adds to the diagonal of every diag and full covariance (scikit-learn's
#: ``reg_covar`` and its default). It keeps a covariance invertible when a component collapses
#: onto fewer than d + 1 distinct points, at the price of a bias of 1e-6 in each variance.
REG_COVAR = 1e-6


class CovarianceMixture(NamedTuple):
    """Parameters of a mixture of K Gaussians with diagonal or full covariances, in d dimensions.

    Attributes
    ----------
    mu : ndarray of shape (K, d)
        The component means.
    cov : ndarray of shape (K, d) for "diag", (K, d, d) for "full"
        The variances along each axis, or the covariance matrices.
    p : ndarray of shape (K,)
        The mixing weights; they sum to 1.
    covariance_type : {"diag", "full"}
    """

    mu: np.ndarray
    cov: np.ndarray
    p: np.ndarray
    covariance_type: str

    @property
    def n_components(self) -> int:
        return self.mu.shape[0]


def check_covariance_type(covariance_type) -> str:
    """Return ``covariance_type`` if it is one of :data:`COVARIANCE_TYPES`, else a :class:`DataError`."""
    if covariance_type not in COVARIANCE_TYPES:
        raise DataError(
            f"covariance type must be one of {', '.join(COVARIANCE_TYPES)}, got {covariance_type!r}; "
            "spherical is the course's model"
        )
    return covariance_type


def check_reg_covar(reg_covar) -> float:
    """Return ``reg_covar`` as a finite float >= 0, else a :class:`DataError`."""
    try:
        value = float(reg_covar)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise DataError(f"reg_covar must be a finite number >= 0, got {reg_covar!r}; the default is {REG_COVAR:g}")
    return value


def covariance_type_of(mixture: GaussianMixture | CovarianceMixture) -> str:
    """``"spherical"`` for the course's :class:`~em_core.mixture.GaussianMixture`, else the mixture's own type."""
    return getattr(mixture, "covariance_type", "spherical")


def with_covariance_type(
    mixture: GaussianMixture | CovarianceMixture, covariance_type: str
) -> GaussianMixture | CovarianceMixture:
    """The same Gaussians written for another covariance model.

    A spherical start (the course's :func:`~em_core.mixture.init`, or any strategy of
    :mod:`em_core.initialisation`) becomes ``var_j`` on every axis ("diag") or ``var_j I``
    ("full"), so every type can start from the same means, covariances and weights. Only
    widening is possible (spherical -> diag -> full); a mixture already of the type is returned
    as it is.

    Raises
    ------
    DataError
        For an unknown type, or a narrowing (a full covariance is not diagonal in general).
    """
    covariance_type = check_covariance_type(covariance_type)
    current = covariance_type_of(mixture)
    if current == covariance_type:
        return mixture
    if COVARIANCE_TYPES.index(covariance_type) < COVARIANCE_TYPES.index(current):
        raise DataError(
            f"a {current} mixture cannot be written as {covariance_type}; start the {covariance_type} "
            f"fit from a {covariance_type} or simpler mixture"
        )
    return CovarianceMixture(mixture.mu.copy(), _widen(mixture, covariance_type), mixture.p.copy(), covariance_type)


def _widen(mixture, covariance_type: str) -> np.ndarray:
    K, d = mixture.mu.shape
    diagonal = mixture.var[:, None] * np.ones(d) if covariance_type_of(mixture) == "spherical" else mixture.cov
    if covariance_type == "diag":
        return diagonal.copy()
    full = np.zeros((K, d, d))
    full[:, np.arange(d), np.arange(d)] = diagonal
    return full


def mean_variance(mixture: GaussianMixture | CovarianceMixture) -> np.ndarray:
    """Each component's variance per axis, ``trace(Sigma_j) / d``, shape (K,): ``var`` itself for spherical."""
    if covariance_type_of(mixture) == "spherical":
        return np.asarray(mixture.var, dtype=float)
    diagonal = mixture.cov if mixture.covariance_type == "diag" else np.diagonal(mixture.cov, axis1=1, axis2=2)
    return diagonal.mean(axis=1)


def covariance_matrices(mixture: GaussianMixture | CovarianceMixture) -> np.ndarray:
    """Every component's covariance as a d x d matrix, shape (K, d, d), whatever the type."""
    return _widen(mixture, "full") if covariance_type_of(mixture) != "full" else mixture.cov.copy()


def _matrix(X) -> np.ndarray:
    """The data as a float array; a matrix prepared for the spherical steps (``naive_em.prepare``) gives its own."""
    return X.X if isinstance(X, _kernels.Prepared) else np.asarray(X, dtype=float)


# ---------------------------------------------------------------- E-step


def precision_cholesky(mixture: CovarianceMixture) -> np.ndarray:
    """The Cholesky factors of the precisions, ``U_j`` with ``Sigma_j^{-1} = U_j U_j^T``.

    Returns
    -------
    ndarray of shape (K, d) for "diag" (``1 / sqrt(var)``), (K, d, d) upper triangular for "full"

    Raises
    ------
    DataError
        When a covariance is not positive definite (naming the component and the fix).
    """
    cov = mixture.cov
    if mixture.covariance_type == "diag":
        bad = np.nonzero(~np.all(cov > 0, axis=1))[0]
        if bad.size:
            raise _not_positive_definite(int(bad[0]))
        return 1.0 / np.sqrt(cov)
    try:
        lower = np.linalg.cholesky(cov)  # every component at once
    except np.linalg.LinAlgError:
        for j, matrix in enumerate(cov):
            if not _positive_definite(matrix):
                raise _not_positive_definite(j) from None
        raise
    return np.swapaxes(np.linalg.inv(lower), -1, -2)


def _positive_definite(matrix: np.ndarray) -> bool:
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _not_positive_definite(j: int) -> DataError:
    return DataError(
        f"component {j + 1}'s covariance is not positive definite (it has collapsed onto a line or a point); "
        f"raise reg_covar above its default {REG_COVAR:g}, use fewer components, or a simpler covariance type"
    )


def log_joint(X: np.ndarray, mixture: CovarianceMixture | GaussianMixture) -> np.ndarray:
    """``f(u, j) = log p_j + log N(x_u; mu_j, Sigma_j)``, shape (n, K), for a mixture of any type.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data (0 is an ordinary value).
    """
    X = _matrix(X)
    n, d = X.shape
    if covariance_type_of(mixture) == "spherical":
        mixture = with_covariance_type(mixture, "diag")
    factors = precision_cholesky(mixture)
    full = mixture.covariance_type == "full"
    f = np.empty((n, mixture.n_components))
    for j, (mu, factor) in enumerate(zip(mixture.mu, factors, strict=True)):
        y = (X - mu) @ factor if full else (X - mu) * factor
        log_det = np.log(np.diagonal(factor)).sum() if full else np.log(factor).sum()
        f[:, j] = log_det - 0.5 * (d * np.log(2.0 * np.pi) + np.einsum("ij,ij->i", y, y))
    with np.errstate(divide="ignore"):  # a component with weight 0 has log p = -inf
        f += np.log(mixture.p)[None, :]
    return f


def estep(X: np.ndarray, mixture: CovarianceMixture | GaussianMixture) -> tuple[np.ndarray, float]:
    """E-step: the posterior (responsibilities), shape (n, K), and the log-likelihood of ``mixture``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data.
    mixture : CovarianceMixture or GaussianMixture
        A spherical mixture is read as ``var_j I`` (so a fit can start from the course's init).
    """
    return _kernels.normalise(log_joint(X, mixture))


# ---------------------------------------------------------------- M-step


def mstep(
    X: np.ndarray,
    post: np.ndarray,
    mixture: CovarianceMixture | None = None,
    covariance_type: str | None = None,
    reg_covar: float = REG_COVAR,
) -> CovarianceMixture:
    """M-step: weighted means, covariances (plus ``reg_covar`` on the diagonal) and weights.

    Parameters
    ----------
    X : ndarray of shape (n, d)
    post : ndarray of shape (n, K)
    mixture : CovarianceMixture or GaussianMixture, optional
        Previous parameters (a spherical one is widened, see :func:`with_covariance_type`); a
        component with no weight at all keeps its mean and covariance from here (without it:
        the column means and the data's covariance).
    covariance_type : {"diag", "full"}, optional
        Defaults to ``mixture``'s type (needed when that is spherical or absent).
    reg_covar : float
        Added to the diagonal of every covariance (see :data:`REG_COVAR`).

    Returns
    -------
    CovarianceMixture
        ``n_j = sum_u post[u, j]``, ``mu_j = post[:, j] @ X / n_j``,
        ``Sigma_j = sum_u post[u, j] (x_u - mu_j)(x_u - mu_j)^T / n_j + reg_covar I`` (its diagonal
        only for "diag"), ``p_j = n_j / n``.
    """
    X = _matrix(X)
    n, d = X.shape
    if covariance_type is None:
        if mixture is None:
            raise DataError("mstep needs a covariance_type (diag or full) or a previous mixture to take it from")
        covariance_type = covariance_type_of(mixture)
    if covariance_type not in ("diag", "full"):
        raise DataError(f"covariance_em.mstep fits diag or full covariances, got {covariance_type!r}")
    nk = post.sum(axis=0)
    alive = nk > 0
    K = nk.size
    if mixture is None:
        previous_mu, previous_cov = _whole_data(X, K, covariance_type, reg_covar)
    else:
        widened = with_covariance_type(mixture, covariance_type)
        previous_mu, previous_cov = widened.mu, widened.cov
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = np.where(alive[:, None], (post.T @ X) / nk[:, None], previous_mu)
    cov = np.array(previous_cov, dtype=float)
    for j in np.nonzero(alive)[0]:
        diff = X - mu[j]
        weighted = post[:, j, None] * diff
        if covariance_type == "diag":
            cov[j] = np.einsum("ij,ij->j", weighted, diff) / nk[j] + reg_covar
        else:
            cov[j] = weighted.T @ diff / nk[j]
            cov[j].flat[:: d + 1] += reg_covar
    return CovarianceMixture(mu, cov, nk / n, covariance_type)


def _whole_data(X: np.ndarray, K: int, covariance_type: str, reg_covar: float) -> tuple[np.ndarray, np.ndarray]:
    """K copies of the column means and of the data's covariance plus ``reg_covar I`` (its diagonal for "diag")."""
    n, d = X.shape
    mean = X.mean(axis=0)
    diff = X - mean
    cov = diff.T @ diff / n + reg_covar * np.eye(d)
    if covariance_type == "diag":
        cov = np.diag(cov)
    return np.tile(mean, (K, 1)), np.tile(cov, (K,) + (1,) * cov.ndim)


# ---------------------------------------------------------------- the loop


def algorithm(covariance_type: str = "spherical", reg_covar: float = REG_COVAR) -> stepping.Algorithm:
    """EM on complete data with the given covariance type, as a steppable :class:`~em_core.stepping.Algorithm`.

    ``"spherical"`` is :func:`em_core.naive_em.algorithm` itself (the course's, without
    ``reg_covar``). "diag" and "full" start from a mixture of that type or from a spherical one
    such as the course's init (the first M-step then gives the type; :func:`with_covariance_type`
    makes the start itself of the type, so that every mixture of the history is); the stopping
    rule is the course's (:data:`em_core.naive_em.TOL`).
    """
    covariance_type = check_covariance_type(covariance_type)
    reg_covar = check_reg_covar(reg_covar)
    if covariance_type == "spherical":
        return naive_em.algorithm()
    return stepping.Algorithm(
        name=f"naive-em-{covariance_type}",
        score_name="log_likelihood",
        estep=estep,
        mstep=lambda X, post, mixture: (mstep(X, post, mixture, covariance_type, reg_covar), None),
        converged=stepping.relative_gain_converged(naive_em.TOL),
    )


def run(
    X: np.ndarray,
    mixture: GaussianMixture | CovarianceMixture,
    post: np.ndarray,
    covariance_type: str | None = None,
    reg_covar: float = REG_COVAR,
) -> tuple[GaussianMixture | CovarianceMixture, np.ndarray, float]:
    """Alternate E and M steps until the LL gain is <= 1e-6 * |LL| (or the cap of :func:`stepping.run`).

    ``covariance_type`` defaults to the mixture's; a spherical start is widened to it by
    :func:`with_covariance_type`.
    """
    covariance_type = covariance_type or covariance_type_of(mixture)
    start = with_covariance_type(mixture, covariance_type)
    state = stepping.run(algorithm(covariance_type, reg_covar), X, stepping.start(start, post, max_history=1))
    return state.mixture, state.post, state.score


# ---------------------------------------------------------------- model selection


def n_parameters(K: int, d: int, covariance_type: str = "spherical") -> int:
    """Free parameters of a mixture of K Gaussians in d dimensions.

    spherical ``K*d + K + K-1`` (the course's count); diag ``2*K*d + K-1``; full
    ``K*d + K*d*(d+1)/2 + K-1``.
    """
    covariance_type = check_covariance_type(covariance_type)
    if covariance_type == "spherical":
        return course_n_parameters(K, d)
    covariances = K * d if covariance_type == "diag" else K * d * (d + 1) // 2
    return K * d + covariances + (K - 1)


def bic(X: np.ndarray, mixture: GaussianMixture | CovarianceMixture, log_likelihood: float) -> float:
    """The course's BIC with the parameter count of the mixture's covariance type (higher is better).

    ``LL - 1/2 * n_parameters(K, d, type) * ln n``; for a spherical mixture it equals
    :func:`em_core.mixture.bic`. (scikit-learn's ``GaussianMixture.bic`` is ``-2`` times this.)
    """
    n, d = np.shape(X)
    count = n_parameters(mixture.n_components, d, covariance_type_of(mixture))
    return float(log_likelihood - 0.5 * count * np.log(n))
