"""Completion baselines for a rating matrix (0 = missing), to put EM's completion in context.

Every function takes ``X`` of shape (n, d) and returns a completed matrix of the same shape whose
observed (non-zero) entries are those of ``X``; only the missing entries are predicted.

==============  ================================================================  ===========================
name            prediction of a missing entry (u, i)                              speed on 1200 x 1200
==============  ================================================================  ===========================
global_mean     the mean of all observed ratings                                  instant
user_mean       the mean of user u's ratings (the global mean if u has none)      instant
item_mean       the mean of item i's ratings (the global mean if i has none)      instant
user_item_bias  m + b_u + b_i, damped biases fitted by alternating least squares  instant
soft_impute     Soft-Impute: a shrunk rank <= 20 fit (see :func:`soft_impute`)   0.2-1 s
knn             the mean of item i's ratings by the 10 users nearest to u         4-9 s (scikit-learn)
==============  ================================================================  ===========================

Soft-Impute (Mazumder, Hastie & Tibshirani 2010, "Spectral regularization algorithms for learning
large incomplete matrices", JMLR 11) is written here in numpy: scikit-learn has no soft-impute or
iterative-SVD imputer (its pull requests #2387, #4237 and #9615 for one were closed unmerged);
fancyimpute, the usual Python source, had its last release in 2021 and pulls in heavy dependencies;
the R package softImpute is the authors' reference. qolmat (scikit-learn-contrib) has one, but it
is a young library with a large dependency set, too much for a 40-line baseline.

Only :func:`knn` needs scikit-learn (``sklearn.impute.KNNImputer``), an optional dependency of
em_core: it is imported inside that function, so importing this module needs numpy and scipy only,
and :func:`run_all` reports a missing scikit-learn as that baseline's error.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import svds

from em_core.errors import DataError
from em_core.mixture import rmse
from em_core.sparse_ratings import (
    as_form,
    check_entries,
    check_ratings,
    is_sparse,
    mean_predictions,
    rmse_stored,
    row_of_entries,
)
from em_core.validation import check_has_observed, check_matrix

#: Rank limit of :func:`soft_impute` when ``max_rank`` is None.
DEFAULT_MAX_RANK = 20
#: Default shrinkage of :func:`soft_impute`, as a share of the largest singular value of the centred,
#: zero-filled matrix. Picked from 0.01, 0.02, 0.05, 0.1, 0.2 by the held-out RMSE (10 %, seed 0)
#: on demo-large and the course's netflix matrix: 0.02 and 0.05 were best on both (within 0.004 of
#: each other); 0.05 converges in fewer iterations and shrinks more where data are thin.
DEFAULT_SHRINKAGE_SHARE = 0.05
#: Extra columns of the randomized SVD beyond the rank asked for (Halko, Martinsson & Tropp 2011).
OVERSAMPLING = 10
#: Neighbours of :func:`knn` by default.
DEFAULT_NEIGHBORS = 10


def _ratings(X) -> np.ndarray:
    if is_sparse(X):
        raise DataError(
            "this baseline needs the dense form (n x d, 0 = missing); the mean baselines take a sparse matrix "
            "with at= the entries to predict, or convert with em_core.sparse_ratings.as_form(X, 'dense')"
        )
    return check_has_observed(check_matrix(X))


def _fill(X: np.ndarray, prediction: np.ndarray) -> np.ndarray:
    """Observed entries of ``X``, ``prediction`` (broadcast to X's shape) elsewhere."""
    return np.where(X != 0, X, np.broadcast_to(prediction, X.shape))


def _observed_means(X: np.ndarray, axis: int) -> np.ndarray:
    """Mean of the observed entries along ``axis``; the global mean where a line has none."""
    observed = X != 0
    counts = observed.sum(axis=axis)
    sums = X.sum(axis=axis)  # missing entries are 0 and add nothing
    global_mean = X[observed].mean()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), global_mean)


def global_mean(X: np.ndarray, at=None) -> np.ndarray:
    """Fill every missing entry with the mean of all observed ratings.

    A CSR ``X`` (ratings at its stored entries) gives CSR predictions at the stored entries of
    ``at`` instead (:func:`em_core.sparse_ratings.mean_predictions`); so do the other two means.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    if is_sparse(X):
        return mean_predictions(X, "global_mean", at)
    X = _ratings(X)
    return _fill(X, X[X != 0].mean())


def user_mean(X: np.ndarray, at=None) -> np.ndarray:
    """Fill user u's missing entries with u's mean rating (the global mean for a user with none).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    if is_sparse(X):
        return mean_predictions(X, "user_mean", at)
    X = _ratings(X)
    return _fill(X, _observed_means(X, axis=1)[:, None])


def item_mean(X: np.ndarray, at=None) -> np.ndarray:
    """Fill item i's missing entries with i's mean rating (the global mean for an item with none).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    if is_sparse(X):
        return mean_predictions(X, "item_mean", at)
    X = _ratings(X)
    return _fill(X, _observed_means(X, axis=0)[None, :])


# ---------------------------------------------------------------- user + item bias

#: Damping of each item bias: ``b_i`` is the sum of item i's residuals divided by
#: ``ITEM_DAMPING + n_i`` (n_i = its ratings), so an item rated a few times stays near 0. The value
#: is Koren's (2010, "Factor in the neighbors", ACM TKDD 4(1), section 2.1: lambda_2 = 25 on Netflix).
ITEM_DAMPING = 25.0
#: Damping of each user bias, ``b_u = sum of u's residuals / (USER_DAMPING + n_u)`` (Koren's lambda_3 = 10).
USER_DAMPING = 10.0
#: The alternating sweeps stop when no bias moves by more than this (in rating units) ...
BIAS_TOL = 1e-6
#: ... or after this many sweeps (each costs two passes over the ratings).
BIAS_SWEEPS = 50


class Biases(NamedTuple):
    """The baseline predictor ``r(u, i) = global_mean + user[u] + item[i]``.

    Attributes
    ----------
    global_mean : float
        The mean of the observed ratings.
    user : ndarray of shape (n,)
        Each user's damped offset (0 for a user with no rating).
    item : ndarray of shape (d,)
        Each item's damped offset (0 for an item with no rating).
    sweeps : int
        Alternating sweeps run.
    """

    global_mean: float
    user: np.ndarray
    item: np.ndarray
    sweeps: int

    def at(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        """``global_mean + user[rows] + item[cols]``, shape of ``rows``."""
        return self.global_mean + self.user[rows] + self.item[cols]


def rating_entries(X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The observed ratings as ``(rows, cols, values)``, each of shape (n_ratings,), row by row.

    ``X`` is dense (0 = missing) or CSR (the stored entries are the ratings).
    """
    if is_sparse(X):
        X = check_ratings(X)
        return row_of_entries(X.indptr), np.asarray(X.indices), np.asarray(X.data)
    X = _ratings(X)
    rows, cols = np.nonzero(X)
    return rows, cols, X[rows, cols]


def fit_biases(
    X,
    item_damping: float = ITEM_DAMPING,
    user_damping: float = USER_DAMPING,
    max_sweeps: int = BIAS_SWEEPS,
    tol: float = BIAS_TOL,
) -> Biases:
    """Damped user and item biases by alternating least squares (Koren 2010, section 2.1).

    They minimise ``sum (r_ui - m - b_u - b_i)^2 + user_damping sum b_u^2 + item_damping sum b_i^2``
    over the observed ratings (``m`` their mean). Each sweep solves for every item bias with the
    user biases fixed, ``b_i = sum_u (r_ui - m - b_u) / (item_damping + n_i)``, then for every user
    bias, ``b_u = sum_i (r_ui - m - b_i) / (user_damping + n_u)``: each half-step is the exact
    minimiser, so the objective falls at every sweep. Two ``bincount`` passes over the ratings per
    sweep; no loop over users, items or ratings.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or not stored) means missing.
    item_damping, user_damping : float
        The ridge penalties, >= 0 (see :data:`ITEM_DAMPING`, :data:`USER_DAMPING`).
    max_sweeps : int
        At most this many sweeps.
    tol : float
        Stop once no bias moves by more than ``tol`` in a sweep.

    Returns
    -------
    Biases
    """
    item_damping = _check_non_negative(item_damping, "item_damping", f"the default is {ITEM_DAMPING:g}")
    user_damping = _check_non_negative(user_damping, "user_damping", f"the default is {USER_DAMPING:g}")
    max_sweeps = _check_positive_int(max_sweeps, "max_sweeps", BIAS_SWEEPS)
    tol = _check_non_negative(tol, "tol", f"the default is {BIAS_TOL:g}")
    rows, cols, values = rating_entries(X)
    n, d = X.shape
    centred = values - values.mean()
    # a line with no rating and no damping has 0 / 0: its bias is 0 (the sum is 0 too)
    item_share = 1.0 / np.maximum(item_damping + np.bincount(cols, minlength=d), np.finfo(float).tiny)
    user_share = 1.0 / np.maximum(user_damping + np.bincount(rows, minlength=n), np.finfo(float).tiny)
    user, item = np.zeros(n), np.zeros(d)
    sweeps = 0
    while sweeps < max_sweeps:  # sweeps, each over all ratings at once
        sweeps += 1
        new_item = np.bincount(cols, weights=centred - user[rows], minlength=d) * item_share
        new_user = np.bincount(rows, weights=centred - new_item[cols], minlength=n) * user_share
        moved = max(np.abs(new_item - item).max(), np.abs(new_user - user).max())
        user, item = new_user, new_item
        if moved <= tol:
            break
    return Biases(float(values.mean()), user, item, sweeps)


def predictions_at(X, at, predict: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> sp.csr_matrix:
    """CSR predictions at the stored entries of ``at``: X's rating where X stores one, else ``predict(rows, cols)``.

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d)
        The ratings.
    at : scipy.sparse matrix of shape (n, d)
        The entries to predict (e.g. ``holdout.hidden``).
    predict : callable
        ``predict(rows, cols) -> values``, each of shape (n_entries,), for the entries row by row.
    """
    X = check_ratings(X)
    at = check_entries(at, X.shape)
    rows = row_of_entries(at.indptr)
    stored = np.asarray(X[rows, at.indices]).ravel()
    values = np.where(stored != 0, stored, predict(rows, at.indices))
    return sp.csr_matrix((values, at.indices, at.indptr), shape=at.shape)


def user_item_bias(X, at=None):
    """Fill each missing entry with ``m + b_u + b_i`` (:func:`fit_biases`), clipped to the ratings' range.

    A CSR ``X`` gives CSR predictions at the stored entries of ``at`` (a rating ``X`` stores
    there stays), as the mean baselines do.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    biases = fit_biases(X)
    _, _, values = rating_entries(X)
    low, high = values.min(), values.max()
    if is_sparse(X):
        return predictions_at(X, at, lambda rows, cols: np.clip(biases.at(rows, cols), low, high))
    X = _ratings(X)
    return _fill(X, np.clip(biases.global_mean + biases.user[:, None] + biases.item[None, :], low, high))


# ---------------------------------------------------------------- Soft-Impute


def _check_positive_int(value, what: str, example: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{what} must be a whole number >= 1, got {value!r}; e.g. {example}")
    return int(value)


def _check_non_negative(value, what: str, example: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not np.isfinite(number) or number < 0:
        raise DataError(f"{what} must be a finite number >= 0, got {value!r}; {example}")
    return number


def _top_svd(
    A: np.ndarray, rank: int, start: np.ndarray, rng: np.random.RandomState
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The leading ``rank`` singular triplets of ``A`` (n, d).

    Exact (LAPACK) when ``rank + OVERSAMPLING`` reaches ``min(n, d)``; else one randomized subspace
    iteration (Halko et al. 2011, with one power step) started from ``start`` (d, rank): Soft-Impute
    passes the previous right singular vectors, so the iterations keep refining the same subspace.
    """
    width = rank + OVERSAMPLING
    if width >= min(A.shape):
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        return U[:, :rank], s[:rank], Vt[:rank]
    V = np.hstack([start, rng.standard_normal((A.shape[1], width - start.shape[1]))])
    Q, _ = np.linalg.qr(A @ V)
    Q, _ = np.linalg.qr(A @ (A.T @ Q))
    U_small, s, Vt = np.linalg.svd(Q.T @ A, full_matrices=False)
    return (Q @ U_small)[:, :rank], s[:rank], Vt[:rank]


def _largest_singular_value(A: np.ndarray) -> float:
    """``||A||_2``: ARPACK from a fixed start vector on a large matrix, LAPACK on a small one."""
    if min(A.shape) <= 50:
        return float(np.linalg.norm(A, ord=2))
    return float(svds(A, k=1, v0=np.ones(min(A.shape)), return_singular_vectors=False)[0])


def soft_impute(
    X: np.ndarray,
    shrinkage: float | None = None,
    max_rank: int | None = None,
    max_iter: int = 100,
    tol: float = 1e-4,
) -> np.ndarray:
    """Soft-Impute (Mazumder, Hastie & Tibshirani 2010): a low-rank completion by shrunk SVDs.

    The ratings are centred at their global mean ``m``. Starting from ``Z = 0``, each iteration fills
    the missing entries of the centred matrix with ``Z`` and replaces ``Z`` by the truncated SVD of
    that matrix with every singular value ``s`` shrunk to ``max(s - shrinkage, 0)``. It stops when
    ``||Z_new - Z||_F^2 <= tol * ||Z||_F^2`` (the paper's rule) or after ``max_iter`` iterations.
    The missing entries become ``m + Z``, clipped to the range of the observed ratings.

    With ``max_rank`` below ``min(n, d) - 10`` each SVD is a randomized one, warm-started from the
    previous iteration's singular vectors and drawn from a fixed seed, so the result is the same on
    every call; otherwise it is LAPACK's full SVD.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    shrinkage : float, optional
        The soft threshold (the paper's lambda), >= 0. ``None``: :data:`DEFAULT_SHRINKAGE_SHARE`
        (0.05) times the largest singular value of the centred matrix with its missing entries at 0.
    max_rank : int, optional
        Keep at most this many singular values. ``None``: :data:`DEFAULT_MAX_RANK` (20), or
        ``min(n, d)`` if smaller.
    max_iter : int
        At most this many iterations.
    tol : float
        Relative change of ``Z`` below which the iterations stop.

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    X = _ratings(X)
    rank_limit = DEFAULT_MAX_RANK if max_rank is None else _check_positive_int(max_rank, "max_rank", 20)
    max_rank = min(rank_limit, *X.shape)
    max_iter = _check_positive_int(max_iter, "max_iter", 100)
    tol = _check_non_negative(tol, "tol", "the default is 1e-4")
    observed = X != 0
    centre = X[observed].mean()
    X_centred = np.where(observed, X - centre, 0.0)
    if not X_centred.any():  # every observed rating is the same value: the low-rank part is 0
        return _fill(X, centre)
    if shrinkage is None:
        shrinkage = DEFAULT_SHRINKAGE_SHARE * _largest_singular_value(X_centred)
    else:
        shrinkage = _check_non_negative(shrinkage, "shrinkage", "e.g. 0 for no shrinkage, or leave it out")
    rng = np.random.RandomState(0)
    Z = np.zeros(X.shape)
    Vt = np.empty((0, X.shape[1]))
    for _ in range(max_iter):
        U, s, Vt = _top_svd(np.where(observed, X_centred, Z), max_rank, Vt.T, rng)
        Z_new = (U * np.maximum(s - shrinkage, 0.0)) @ Vt
        change, size = np.sum((Z_new - Z) ** 2), np.sum(Z * Z)
        Z = Z_new
        if change <= tol * size:
            break
    low, high = X[observed].min(), X[observed].max()
    return _fill(X, np.clip(centre + Z, low, high))


# ---------------------------------------------------------------- KNN


def knn(X: np.ndarray, n_neighbors: int = DEFAULT_NEIGHBORS) -> np.ndarray:
    """scikit-learn's ``KNNImputer`` on the users, with 0 read as missing.

    A missing entry (u, i) becomes the plain mean of item i's ratings by the ``n_neighbors`` users
    nearest to u among those who rated i, by the NaN-aware Euclidean distance over the items both
    rated; a user who shares no rated item with anyone gets item i's mean. An item nobody rated
    (where ``KNNImputer`` would put 0) gets the global mean.

    It compares every pair of users and, for each item, sorts the candidate donors of every user
    who misses it: 4-9 s on 1200 x 1200 (two shared CPU cores), growing as n_users^2 * n_items.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    n_neighbors : int

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    from sklearn.impute import KNNImputer

    X = _ratings(X)
    n_neighbors = _check_positive_int(n_neighbors, "n_neighbors", DEFAULT_NEIGHBORS)
    observed = X != 0
    imputer = KNNImputer(n_neighbors=n_neighbors, keep_empty_features=True)
    X_pred = imputer.fit_transform(np.where(observed, X, np.nan))
    unrated = ~observed.any(axis=0)
    X_pred[:, unrated] = X[observed].mean()
    return _fill(X, X_pred)


# ---------------------------------------------------------------- all at once


class BaselineResult(NamedTuple):
    """One baseline's completion.

    Attributes
    ----------
    name : str
        The function's name, e.g. ``"soft_impute"``.
    label : str
        For people, e.g. ``"Soft-Impute (rank ≤ 20)"``.
    X_pred : ndarray of shape (n, d), or None
        None when the baseline failed on this matrix (see ``error``).
    seconds : float
        Wall time of the completion.
    error : str or None
        Why the baseline could not complete this matrix (one line), else None.
    """

    name: str
    label: str
    X_pred: np.ndarray | None
    seconds: float
    error: str | None = None


#: name -> (label, function with default settings), in the order :func:`run_all` runs them.
METHODS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "global_mean": ("Global mean", global_mean),
    "user_mean": ("User mean", user_mean),
    "item_mean": ("Item mean", item_mean),
    "user_item_bias": ("User + item bias", user_item_bias),
    "soft_impute": (f"Soft-Impute (rank ≤ {DEFAULT_MAX_RANK})", soft_impute),
    "knn": (f"KNN ({DEFAULT_NEIGHBORS} nearest users)", knn),
}
#: What a baseline may raise on an unlucky matrix; :func:`run_all` records it instead of failing.
BASELINE_FAILURES = (ArithmeticError, ValueError, RuntimeError, ImportError, MemoryError, np.linalg.LinAlgError)
#: The baselines that need numpy only (not scikit-learn).
NUMPY_METHODS = ("global_mean", "user_mean", "item_mean", "user_item_bias", "soft_impute")
#: The baselines that take a CSR matrix (with ``at=`` the entries to predict); the others need the dense form.
SPARSE_METHODS = ("global_mean", "user_mean", "item_mean", "user_item_bias")


def complete(name: str, X, at=None):
    """Baseline ``name`` of :data:`METHODS`, with its default settings, on a dense or CSR ``X``.

    Parameters
    ----------
    name : str
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or, for CSR, an entry not stored) means missing.
    at : scipy.sparse matrix of shape (n, d), optional
        For a CSR ``X``: the entries to predict (e.g. ``holdout.hidden``).

    Returns
    -------
    ndarray of shape (n, d), or scipy.sparse CSR matrix
        A dense ``X`` gets its dense completion. A CSR ``X`` gets CSR predictions at ``at`` from the
        baselines of :data:`SPARSE_METHODS`, which never form the (n, d) matrix; the others need the
        dense form, which they get while it stays within
        :data:`~em_core.sparse_ratings.MAX_DENSE_CELLS` cells (a :class:`DataError` above it).
    """
    method = METHODS[name][1]
    if not is_sparse(X):
        return method(_ratings(X))
    if name in SPARSE_METHODS:
        if at is None:
            raise DataError(f"{name} on a sparse matrix predicts at given entries: pass at= (e.g. holdout.hidden)")
        return method(X, at=at)
    return method(check_has_observed(as_form(check_ratings(X), "dense")))


def run_all(X: np.ndarray, methods: Sequence[str] | None = None, at=None) -> list[BaselineResult]:
    """Run baselines with their default settings on ``X`` (each through :func:`complete`).

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 means missing.
    methods : sequence of str, optional
        Names from :data:`METHODS`, run in the order given. ``None``: all of them.
    at : scipy.sparse matrix of shape (n, d), optional
        For a CSR ``X``: the entries to predict (see :func:`complete`).

    Returns
    -------
    list of BaselineResult
        One per method, in order. A method that fails on this matrix (a linear-algebra error, a
        matrix too large for its dense form, or scikit-learn missing for KNN) has ``X_pred=None``
        and its ``error``; the others still run.
    """
    names = list(METHODS) if methods is None else list(methods)
    unknown = [name for name in names if name not in METHODS]
    if unknown:
        raise DataError(f"unknown baseline {unknown[0]!r}; choose from {', '.join(METHODS)}")
    X = check_ratings(X) if is_sparse(X) else _ratings(X)
    results = []
    for name in names:
        start = time.perf_counter()
        try:
            X_pred, error = complete(name, X, at), None
        except BASELINE_FAILURES as err:  # one baseline failing must not take the others down
            X_pred, error = None, f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'failed'}"[:200]
        results.append(BaselineResult(name, METHODS[name][0], X_pred, time.perf_counter() - start, error))
    return results


def score_on(gold_or_X: np.ndarray, X_pred: np.ndarray, mask: np.ndarray) -> float:
    """RMSE between ``gold_or_X`` and ``X_pred`` on exactly the entries where ``mask`` is True.

    Parameters
    ----------
    gold_or_X : ndarray of shape (n, d)
        The true values: a gold matrix, or the original ratings for entries hidden by
        :func:`em_core.holdout.hide`.
    X_pred : ndarray of shape (n, d)
    mask : ndarray of bool, shape (n, d)
        The entries to score (e.g. ``X == 0`` against gold, or ``holdout.hidden``). An empty mask
        gives NaN, as :func:`em_core.rmse` does.

    With a CSR ``gold_or_X``, ``X_pred`` and ``mask`` are CSR too and the score is over ``mask``'s
    stored entries.
    """
    if is_sparse(gold_or_X):
        return rmse_stored(gold_or_X, X_pred, mask)
    truth = check_matrix(gold_or_X, "the true values")
    X_pred = check_matrix(X_pred, "X_pred")
    mask = np.asarray(mask)
    if mask.dtype != bool:
        raise DataError(f"mask must be a boolean array (True = score this entry), got dtype {mask.dtype}")
    for name, shape in (("X_pred", X_pred.shape), ("mask", mask.shape)):
        if shape != truth.shape:
            raise DataError(
                f"{name} is {' x '.join(map(str, shape))} but the true values are "
                f"{truth.shape[0]} x {truth.shape[1]}; give matrices of the same shape"
            )
    return rmse(truth, X_pred, mask)
