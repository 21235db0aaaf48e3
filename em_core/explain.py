"""The formulas with the numbers: one user and one component of the E-step, one mean
coordinate and one variance of the M-step, and the stopping rule, term by term.

Each ``*_terms`` function recomputes, for a single user / component / item, the quantities
that :func:`em_core.em.estep` and :func:`em_core.em.mstep` compute for all of them at once,
written the plain way (over the user's observed items), so a student can follow a number
from the data to the posterior. Numbers only: writing them out as formulas is the
dashboard's job.

Indices are 0-based (``u = 0`` is the first row of X).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from em_core._kernels import support
from em_core.em import LOG_EPS, TOL, observed_mask
from em_core.errors import DataError
from em_core.mixture import VAR_FLOOR, GaussianMixture
from em_core.sparse_ratings import check_ratings, is_sparse, row_of_entries
from em_core.stepping import relative_gain_converged
from em_core.validation import check_matrix, check_min_variance


class EStepTerms(NamedTuple):
    """The E-step for one user u and one component j.

    Attributes
    ----------
    n_observed : int
        ``|C_u|``, how many items u rated.
    p_j, var_j : float
        The weight ``p_j`` and variance ``sigma_j^2`` of component j.
    log_p : float
        ``log(p_j + 1e-16)``.
    log_norm : float
        ``-|C_u|/2 * log(2 pi sigma_j^2)``.
    sq_dist : float
        ``||x_Cu - mu_j,Cu||^2``, over u's observed items.
    quad : float
        ``-sq_dist / (2 sigma_j^2)``.
    f : float
        ``f(u, j) = log_p + log_norm + quad``.
    f_row : ndarray of shape (K,)
        ``f(u, l)`` for every component l.
    logsumexp : float
        ``log sum_l exp f(u, l)``: u's contribution to the log-likelihood.
    log_post : float
        ``f - logsumexp``.
    post : float
        ``p(j | u) = exp(log_post)``.
    """

    n_observed: int
    p_j: float
    var_j: float
    log_p: float
    log_norm: float
    sq_dist: float
    quad: float
    f: float
    f_row: np.ndarray
    logsumexp: float
    log_post: float
    post: float


class MStepTerms(NamedTuple):
    """The M-step for component j: its weight, mean coordinate i and variance.

    Attributes
    ----------
    n_users : int
        n.
    nk : float
        ``sum_u p(j|u)``.
    p_hat : float
        The new weight ``nk / n``.
    weighted_sum : float
        ``sum_u p(j|u) x_ui [i observed for u]``.
    support : float
        ``sum_u p(j|u) [i observed for u]``.
    updated : bool
        ``support >= 1``: only then does the mean coordinate move.
    mu_old : float
        ``mu_j,i`` before the step.
    mu_hat : float
        ``weighted_sum / support`` if updated, else ``mu_old``.
    weight_total : float
        ``sum_u p(j|u) |C_u|``.
    sse : float
        ``sum_u p(j|u) ||x_Cu - mu_hat_j,Cu||^2`` (with the new means of component j).
    var_raw : float
        ``sse / weight_total``; NaN when ``weight_total`` is 0.
    var_old : float
        ``sigma_j^2`` before the step (kept when ``weight_total`` is 0).
    var_hat : float
        The new variance ``max(var_raw, floor)`` (``max(var_old, floor)`` when ``weight_total``
        is 0), where the floor is ``max(min_variance, VAR_FLOOR)`` as in :func:`em_core.em.mstep`.
    floored : bool
        ``var_raw`` is below the floor, so the floor was used.
    """

    n_users: int
    nk: float
    p_hat: float
    weighted_sum: float
    support: float
    updated: bool
    mu_old: float
    mu_hat: float
    weight_total: float
    sse: float
    var_raw: float
    var_old: float
    var_hat: float
    floored: bool


class StoppingTerms(NamedTuple):
    """EM's stopping rule after an iteration: stop when ``gain <= tol * |ll_new|``.

    Attributes
    ----------
    ll_old, ll_new : float
        The log-likelihoods of the previous and the latest E-step.
    tol : float
    gain : float
        ``ll_new - ll_old``.
    threshold : float
        ``tol * |ll_new|``.
    stop : bool
        ``gain <= threshold``.
    """

    ll_old: float
    ll_new: float
    tol: float
    gain: float
    threshold: float
    stop: bool


# ---------------------------------------------------------------- validation


def _check_index(value, size: int, symbol: str, what: str) -> int:
    """A 0-based index ``0 <= value < size``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < size:
        shown = value.item() if isinstance(value, np.generic) else value
        raise DataError(
            f"{what} index {symbol} must be a whole number in 0..{size - 1} (0-based: {symbol}=0 is the first "
            f"{what}), got {shown!r}"
        )
    return int(value)


def _check_mixture(X: np.ndarray, mixture: GaussianMixture) -> GaussianMixture:
    """Arrays of shapes (K, d), (K,), (K,) that fit X's d columns, with positive variances."""
    mu = np.asarray(mixture.mu, dtype=float)
    var = np.asarray(mixture.var, dtype=float)
    p = np.asarray(mixture.p, dtype=float)
    if mu.ndim != 2 or mu.shape[1] != X.shape[1]:
        raise DataError(
            f"mixture means: expected shape (K, {X.shape[1]}) to match the {X.shape[1]} columns of X, "
            f"got {mu.shape}; fit the mixture on this matrix"
        )
    K = mu.shape[0]
    if var.shape != (K,) or p.shape != (K,):
        raise DataError(
            f"mixture: expected {K} variances and {K} weights (one per mean), got shapes {var.shape} and {p.shape}"
        )
    if not np.all(np.isfinite(mu)):
        raise DataError("mixture means must be finite numbers; fit the mixture again")
    if not (np.all(np.isfinite(var)) and np.all(var > 0)):
        raise DataError(f"mixture variances must be finite and > 0, got {var}")
    if not (np.all(np.isfinite(p)) and np.all(p >= 0)):
        raise DataError(f"mixture weights must be finite and >= 0, got {p}")
    return GaussianMixture(mu, var, p)


def _check_post(post, n: int, K: int) -> np.ndarray:
    post = np.asarray(post, dtype=float)
    if post.shape != (n, K):
        raise DataError(
            f"post: expected shape ({n}, {K}) (one row per user, one column per component), got {post.shape}; "
            "pass the posterior of an E-step on the same X and mixture"
        )
    if not np.all(np.isfinite(post)):
        raise DataError("post: every entry must be a finite probability; pass the posterior of an E-step")
    return post


def _check_score(value, name: str) -> float:
    try:
        score = float(value)
    except (TypeError, ValueError):
        score = math.nan
    if not math.isfinite(score):
        raise DataError(f"{name} must be a finite number, got {value!r}")
    return score


# ---------------------------------------------------------------- the terms


def estep_terms(X: np.ndarray, mixture: GaussianMixture, u: int, j: int) -> EStepTerms:
    """The E-step's terms for user ``u`` and component ``j`` (0-based).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    mixture : GaussianMixture
        The mixture the E-step uses.
    u : int
        User (row of X), ``0 <= u < n``.
    j : int
        Component, ``0 <= j < K``.

    Returns
    -------
    EStepTerms
        The numbers :func:`em_core.em.estep` computes for this user (to rounding):
        ``f == em.log_joint(X, mixture)[u, j]`` and ``post == em.estep(X, mixture)[0][u, j]``.
        A user with no observed rating has ``f = log_p``, so the posterior is the prior.
    """
    if is_sparse(X):  # a CSR matrix: the user's own row is all this E-step reads
        X = check_ratings(X)
        u = _check_index(u, X.shape[0], "u", "user")
        return estep_terms(X[u].toarray(), mixture, 0, j)
    X = check_matrix(X)
    mixture = _check_mixture(X, mixture)
    u = _check_index(u, X.shape[0], "u", "user")
    j = _check_index(j, mixture.mu.shape[0], "j", "component")
    seen = X[u] != 0
    n_observed = int(seen.sum())
    diff = X[u, seen][None, :] - mixture.mu[:, seen]
    sq_row = np.einsum("kc,kc->k", diff, diff)
    log_p_row = np.log(mixture.p + LOG_EPS)
    log_norm_row = -0.5 * n_observed * np.log(2.0 * np.pi * mixture.var)
    quad_row = -sq_row / (2.0 * mixture.var)
    f_row = log_p_row + log_norm_row + quad_row
    top = f_row.max()
    with np.errstate(under="ignore"):  # far components contribute exp(-large) = 0
        logsumexp = float(top + np.log(np.sum(np.exp(f_row - top))))
    log_post = float(f_row[j] - logsumexp)
    return EStepTerms(
        n_observed=n_observed,
        p_j=float(mixture.p[j]),
        var_j=float(mixture.var[j]),
        log_p=float(log_p_row[j]),
        log_norm=float(log_norm_row[j]),
        sq_dist=float(sq_row[j]),
        quad=float(quad_row[j]),
        f=float(f_row[j]),
        f_row=f_row,
        logsumexp=logsumexp,
        log_post=log_post,
        post=math.exp(log_post),
    )


def mstep_terms(
    X: np.ndarray, post: np.ndarray, mixture: GaussianMixture, j: int, i: int, min_variance: float = 0.25
) -> MStepTerms:
    """The M-step's terms for component ``j`` and item ``i`` (0-based).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    post : ndarray of shape (n, K)
        The posterior of the E-step before this M-step.
    mixture : GaussianMixture
        The parameters before the step (a mean coordinate with support below 1 keeps its value).
    j : int
        Component, ``0 <= j < K``.
    i : int
        Item (column of X), ``0 <= i < d``.
    min_variance : float
        The variance floor.

    Returns
    -------
    MStepTerms
        The numbers :func:`em_core.em.mstep` computes: ``p_hat``, ``mu_hat`` and the
        ``updated`` decision exactly, ``var_hat`` to rounding.
    """
    X = check_ratings(X) if is_sparse(X) else check_matrix(X)
    mixture = _check_mixture(X, mixture)
    n, _ = X.shape
    K = mixture.mu.shape[0]
    post = _check_post(post, n, K)
    j = _check_index(j, K, "j", "component")
    i = _check_index(i, X.shape[1], "i", "item")
    min_variance = check_min_variance(min_variance)
    support_row, sums_row = _support_and_sums(X, post, j)
    update_row = support_row >= 1.0
    mu_row = mixture.mu[j].copy()
    mu_row[update_row] = sums_row[update_row] / support_row[update_row]
    weight = post[:, j]
    weight_total = float(support_row.sum())
    sse = _weighted_sse(X, weight, mu_row)
    floor = max(min_variance, VAR_FLOOR)
    var_old = float(mixture.var[j])
    if weight_total > 0:
        var_raw = sse / weight_total
        var_hat = max(var_raw, floor)
    else:
        var_raw = math.nan
        var_hat = max(var_old, floor)
    nk = float(post.sum(axis=0)[j])
    return MStepTerms(
        n_users=n,
        nk=nk,
        p_hat=nk / n,
        weighted_sum=float(sums_row[i]),
        support=float(support_row[i]),
        updated=bool(update_row[i]),
        mu_old=float(mixture.mu[j, i]),
        mu_hat=float(mu_row[i]),
        weight_total=weight_total,
        sse=sse,
        var_raw=var_raw,
        var_old=var_old,
        var_hat=var_hat,
        floored=bool(var_raw < floor),
    )


def _support_and_sums(X, post: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Component ``j``'s support and weighted sums per item, each of shape (d,).

    Dense: the same matrix products as em.mstep, so the update decision is the same to the bit.
    CSR: sums over the stored entries (the ratings) only.
    """
    if is_sparse(X):
        weight, d = post[row_of_entries(X.indptr), j], X.shape[1]
        return np.bincount(X.indices, weight, d), np.bincount(X.indices, weight * X.data, d)
    return support(observed_mask(X), post)[j], (post.T @ X)[j]


def _weighted_sse(X, weight: np.ndarray, mu_row: np.ndarray) -> float:
    """``sum_u weight_u sum_{i rated by u} (x_ui - mu_row_i)^2``, for a dense (0 = missing) or CSR ``X``."""
    if is_sparse(X):
        diff = X.data - mu_row[X.indices]
        return float(weight[row_of_entries(X.indptr)] @ (diff * diff))
    diff = (X - mu_row[None, :]) * observed_mask(X)
    return float(weight @ np.einsum("ud,ud->u", diff, diff))


def stopping_terms(ll_old: float, ll_new: float, tol: float = TOL) -> StoppingTerms:
    """EM's stopping rule between two successive log-likelihoods.

    ``stop`` is what :func:`em_core.stepping.relative_gain_converged` decides.
    """
    ll_old = _check_score(ll_old, "ll_old")
    ll_new = _check_score(ll_new, "ll_new")
    tol = _check_score(tol, "tol")
    if tol < 0:
        raise DataError(f"tol must be >= 0, got {tol!r}; the course uses 1e-6")
    rule = relative_gain_converged(tol)
    return StoppingTerms(
        ll_old, ll_new, tol, rule.gain(ll_old, ll_new), float(rule.threshold(ll_new)), rule(ll_old, ll_new)
    )
