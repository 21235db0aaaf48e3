"""The course's formulas in their plainest form, independent of em_core.

Direct differences ``x - mu`` (never an expanded square), one user (and one component, one
item) at a time, no floors and no guards: where the course divides by zero this gives NaN
or inf, exactly as the course's code does. Nothing here imports em_core; the differential
tests (tests/test_differential.py) compare em_core with it.

The E-steps work in the log domain with a per-user log-sum-exp, as the course's
``em.estep`` does; on complete data this is the course's ``naive_em.estep`` (which
multiplies densities and so underflows to 0/0 where the log domain stays finite).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class Mixture(NamedTuple):
    mu: np.ndarray  # (K, d)
    var: np.ndarray  # (K,)
    p: np.ndarray  # (K,)


def init(X: np.ndarray, K: int, seed: int) -> tuple[Mixture, np.ndarray]:
    """``common.init``: K rows drawn by the seeded ``choice``, ``var[j] = mean((X - mu[j])**2)``."""
    n = X.shape[0]
    rows = np.random.RandomState(seed).choice(n, K, replace=False)
    mu = X[rows].copy()
    var = np.zeros(K)
    for j in range(K):
        var[j] = ((X - mu[j]) ** 2).mean()
    return Mixture(mu, var, np.ones(K) / K), np.ones((n, K)) / K


def _log_sum_exp(values: list[float]) -> float:
    if any(math.isnan(v) for v in values):
        return math.nan
    top = max(values)
    if math.isinf(top):
        return top if top > 0 else math.nan  # all -inf: the course's 0/0
    return top + math.log(sum(math.exp(v - top) for v in values))


def _log(value: float) -> float:
    """``log`` as numpy takes it: -inf at 0, NaN below (the course's code warns and goes on)."""
    if value > 0:
        return math.log(value)
    return -math.inf if value == 0 else math.nan


def _log_density(diff: np.ndarray, var: float) -> float:
    """``log N(x; mu, var I)`` over the coordinates of ``diff = x - mu``: NaN or inf where var is 0."""
    sq = float(diff @ diff)
    if var == 0:
        return -math.inf if sq > 0 else math.nan  # the course's -inf - x/0 and -(-inf) - 0/0
    return -diff.size / 2 * _log(2 * math.pi * var) - sq / (2 * var)


# ---------------------------------------------------------------- K-means


def kmeans_estep(X: np.ndarray, mixture: Mixture) -> np.ndarray:
    """Each row to the argmin of its directly computed squared distances (ties: lower index)."""
    n = X.shape[0]
    K = mixture.mu.shape[0]
    post = np.zeros((n, K))
    for i in range(n):
        tiled = np.tile(X[i, :], (K, 1))
        sse = ((tiled - mixture.mu) ** 2).sum(axis=1)
        post[i, int(np.argmin(sse))] = 1.0
    return post


def kmeans_mstep(X: np.ndarray, post: np.ndarray) -> tuple[Mixture, float]:
    """Means, ``var_j = SSE_j / (n_j d)``, ``p_j = n_j / n`` and the cost (NaN for an empty cluster)."""
    n, d = X.shape
    K = post.shape[1]
    n_hat = post.sum(axis=0)
    mu = np.zeros((K, d))
    var = np.zeros(K)
    cost = 0.0
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(K):
            mu[j, :] = post[:, j] @ X / n_hat[j]
            sse = ((mu[j] - X) ** 2).sum(axis=1) @ post[:, j]
            cost += sse
            var[j] = sse / (d * n_hat[j])
    return Mixture(mu, var, n_hat / n), float(cost)


def kmeans_run(X: np.ndarray, mixture: Mixture) -> tuple[Mixture, np.ndarray, float, int]:
    """The course's loop: stop when the cost falls by <= 1e-4. Returns the iteration count too."""
    prev_cost = cost = None
    post = None
    iterations = 0
    while prev_cost is None or prev_cost - cost > 1e-4:
        prev_cost = cost
        post = kmeans_estep(X, mixture)
        mixture, cost = kmeans_mstep(X, post)
        iterations += 1
        if not math.isfinite(cost) or iterations > 1000:
            break
    return mixture, post, cost, iterations


# ---------------------------------------------------------------- EM on complete data


def naive_estep(X: np.ndarray, mixture: Mixture) -> tuple[np.ndarray, float]:
    """``p(j|i) = p_j N(x_i; mu_j, var_j I) / sum_l p_l N(x_i; mu_l, var_l I)`` and the LL."""
    n, d = X.shape
    K = mixture.mu.shape[0]
    post = np.zeros((n, K))
    ll = 0.0
    for i in range(n):
        f = []
        for j in range(K):
            f.append(_log(float(mixture.p[j])) + _log_density(X[i] - mixture.mu[j], float(mixture.var[j])))
        total = _log_sum_exp(f)
        post[i] = [math.exp(v - total) for v in f]
        ll += total
    return post, ll


def naive_sse_about(X: np.ndarray, post: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``sum_i post_ij |x_i - mu_j|^2`` for given means ``mu`` (K, d): the course's variance numerator."""
    return np.array([((mu[j] - X) ** 2).sum(axis=1) @ post[:, j] for j in range(mu.shape[0])])


def naive_mstep(X: np.ndarray, post: np.ndarray, nudge: np.random.RandomState | None = None) -> Mixture:
    """``mu_j = post_j . X / n_j``, ``var_j = sum_i post_ij |x_i - mu_j|^2 / (d n_j)``, ``p_j = n_j / n``.

    ``nudge`` (a seeded generator) moves each coordinate of each new mean one unit in the
    last place up or down before its variance is taken: the course's result as another
    summation order could round the means, to measure how much it depends on that rounding.
    """
    n, d = X.shape
    K = post.shape[1]
    nj = post.sum(axis=0)
    mu = np.zeros((K, d))
    var = np.zeros(K)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(K):
            mu[j] = post[:, j] @ X / nj[j]
            if nudge is not None:
                mu[j] = np.nextafter(mu[j], np.where(nudge.rand(d) < 0.5, -np.inf, np.inf))
            sse = ((mu[j] - X) ** 2).sum(axis=1) @ post[:, j]
            var[j] = sse / (d * nj[j])
    return Mixture(mu, var, nj / n)


def naive_run(
    X: np.ndarray, mixture: Mixture, max_iter: int = 2000, nudge: np.random.RandomState | None = None
) -> tuple[Mixture, np.ndarray, float, int]:
    """The course's loop: stop when the LL gain is <= 1e-6 |LL|.

    ``nudge`` nudges every M-step's means (see :func:`naive_mstep`).
    """
    prev_ll = ll = None
    post = None
    iterations = 0
    while prev_ll is None or ll - prev_ll > 1e-6 * abs(ll):
        prev_ll = ll
        post, ll = naive_estep(X, mixture)
        mixture = naive_mstep(X, post, nudge)
        iterations += 1
        if not math.isfinite(ll) or iterations >= max_iter:
            break
    return mixture, post, ll, iterations


# ---------------------------------------------------------------- EM on incomplete data (0 = missing)


def em_estep(X: np.ndarray, mixture: Mixture) -> tuple[np.ndarray, float]:
    """The course's E-step over each user's observed coordinates C_u."""
    n = X.shape[0]
    K = mixture.mu.shape[0]
    post = np.zeros((n, K))
    ll = 0.0
    for u in range(n):
        seen = X[u] != 0
        f = [
            _log(float(mixture.p[j]) + 1e-16) + _log_density(X[u, seen] - mixture.mu[j, seen], float(mixture.var[j]))
            for j in range(K)
        ]
        total = _log_sum_exp(f)
        post[u] = [math.exp(v - total) for v in f]
        ll += total
    return post, ll


def em_mstep(
    X: np.ndarray,
    post: np.ndarray,
    mixture: Mixture,
    min_variance: float = 0.25,
    nudge: np.random.RandomState | None = None,
) -> Mixture:
    """The course's M-step: a mean coordinate moves where its support is >= 1; variances floored.

    ``nudge`` as in :func:`naive_mstep` (on the coordinates that move).
    """
    n, d = X.shape
    K = post.shape[1]
    mu = mixture.mu.copy()
    var = np.zeros(K)
    with np.errstate(divide="ignore", invalid="ignore"):
        for j in range(K):
            sse, weight = 0.0, 0.0
            for item in range(d):
                seen = X[:, item] != 0
                support = post[seen, j].sum()
                if support >= 1:
                    mu[j, item] = (X[seen, item] @ post[seen, j]) / support
                    if nudge is not None:
                        mu[j, item] = np.nextafter(mu[j, item], -np.inf if nudge.rand() < 0.5 else np.inf)
                sse += ((mu[j, item] - X[seen, item]) ** 2) @ post[seen, j]
                weight += support
            var[j] = sse / weight
            if var[j] < min_variance:
                var[j] = min_variance
    return Mixture(mu, var, post.sum(axis=0) / n)


def em_run(
    X: np.ndarray,
    mixture: Mixture,
    min_variance: float = 0.25,
    max_iter: int = 2000,
    nudge: np.random.RandomState | None = None,
) -> tuple[Mixture, np.ndarray, float, int]:
    """The course's loop: stop when the LL gain is <= 1e-6 |LL|; ``nudge`` as in :func:`naive_run`."""
    prev_ll = ll = None
    post = None
    iterations = 0
    while prev_ll is None or ll - prev_ll > 1e-6 * abs(ll):
        prev_ll = ll
        post, ll = em_estep(X, mixture)
        mixture = em_mstep(X, post, mixture, min_variance, nudge)
        iterations += 1
        if not math.isfinite(ll) or iterations >= max_iter:
            break
    return mixture, post, ll, iterations


def fill_matrix(X: np.ndarray, mixture: Mixture) -> np.ndarray:
    """Missing entries become ``sum_j p(j|u) mu_j``; observed entries stay."""
    X_pred = X.copy()
    post, _ = em_estep(X, mixture)
    for u in range(X.shape[0]):
        for item in range(X.shape[1]):
            if X[u, item] == 0:
                X_pred[u, item] = sum(post[u, j] * mixture.mu[j, item] for j in range(mixture.mu.shape[0]))
    return X_pred
