"""Completion from a fitted mixture on a CSR rating matrix, without ever forming the n x d matrix.

:func:`em_core.em.fill_matrix` returns every cell; on MovieLens-25M that is 9.6 billion. Here
the same predictions (``sum_j p(j|u) mu_j``, a user's own ratings kept) are given only where they
are asked for: for chosen users (:func:`fill_rows`), as each user's top-N unseen items
(:func:`top_unseen`), or at given entries such as held-out ratings (:func:`predict_at`). Users are
taken a block at a time, so memory stays bounded by :data:`CELLS_PER_BLOCK`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from em_core import em, sparse_kernels
from em_core.errors import DataError
from em_core.mixture import GaussianMixture
from em_core.sparse_ratings import as_form, check_entries, check_ratings, is_sparse, row_of_entries

#: At most this many predicted cells (users x items) at once.
CELLS_PER_BLOCK = 2**22


class TopItems(NamedTuple):
    """Each user's highest predicted unseen items, best first.

    Attributes
    ----------
    users : ndarray of int, shape (u,)
        The rows asked for.
    items : ndarray of int, shape (u, N)
        Column indices; -1 where a user has fewer than N unseen items.
    scores : ndarray of shape (u, N)
        The predicted ratings; NaN where ``items`` is -1.
    """

    users: np.ndarray
    items: np.ndarray
    scores: np.ndarray


def _ratings(X) -> sp.csr_matrix:
    """``X`` as CSR: a CSR matrix checked, or a dense one (0 = missing) converted."""
    return check_ratings(X) if is_sparse(X) else as_form(np.asarray(X, dtype=float), "sparse")


def _check_users(users, n: int, name: str = "users", unit: str = "row") -> np.ndarray:
    users = np.arange(n) if users is None else np.asarray(users)
    if users.ndim != 1 or not np.issubdtype(users.dtype, np.integer) or users.size == 0:
        raise DataError(f"{name} must be a non-empty list of {unit} numbers, got {users!r}; e.g. [0, 5, 7]")
    if users.min() < 0 or users.max() >= n:
        raise DataError(f"{name} must be {unit} numbers from 0 to {n - 1}, got {int(users.min())}..{int(users.max())}")
    return users


def _user_blocks(users: np.ndarray, n_items: int):
    step = max(1, CELLS_PER_BLOCK // max(n_items, 1))
    for start in range(0, users.size, step):  # blocks of users, each bounded in cells
        yield users[start : start + step]


def posterior(X: sp.csr_matrix, mixture: GaussianMixture, users: np.ndarray) -> np.ndarray:
    """``p(j|u)`` for the given users only, shape (len(users), K): the E-step on their rows."""
    post, _ = em.estep(sparse_kernels.prepare(X[users]), mixture)
    return post


def fill_rows(X, mixture: GaussianMixture, users) -> np.ndarray:
    """The completed rows of the given users: their ratings kept, ``sum_j p(j|u) mu_j`` elsewhere.

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d), or ndarray of shape (n, d)
        Ratings at the stored entries (an array: 0 = missing).
    mixture : GaussianMixture
    users : sequence of int
        Row numbers.

    Returns
    -------
    X_pred : ndarray of shape (len(users), d)
        Row t is :func:`em_core.em.fill_matrix`'s row ``users[t]`` on the dense form.
    """
    X = _ratings(X)
    users = _check_users(users, X.shape[0])
    rows = X[users].toarray()
    return np.where(rows != 0, rows, posterior(X, mixture, users) @ mixture.mu)


def fill_block(X, mixture: GaussianMixture, users, items) -> np.ndarray:
    """The completed matrix at the given users x items only: their ratings kept, ``sum_j p(j|u) mu_j`` elsewhere.

    What a page draws of a large matrix (the most active users x the most rated items) costs
    ``len(users) x len(items)`` cells, never ``len(users) x d``.

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d), or ndarray of shape (n, d) (0 = missing)
    mixture : GaussianMixture
    users : sequence of int
        Row numbers, in the order wanted.
    items : sequence of int
        Column numbers, in the order wanted.

    Returns
    -------
    X_pred : ndarray of shape (len(users), len(items))
        Entry (t, s) is :func:`em_core.em.fill_matrix`'s entry ``(users[t], items[s])``.
    """
    X = _ratings(X)
    users = _check_users(users, X.shape[0])
    items = _check_users(items, X.shape[1], "items", "column")
    rows = X[users][:, items].toarray()
    return np.where(rows != 0, rows, posterior(X, mixture, users) @ mixture.mu[:, items])


def best_columns(values: np.ndarray, n_top: int) -> np.ndarray:
    """The columns of the ``n_top`` largest values of each row, largest first, ties to the lower column,
    shape (rows, n_top).

    What a stable ``argsort(-values)[:, :n_top]`` gives, in linear time per row: the ``n_top``-th
    largest value is found by partition, every larger value is taken, and the ties at that value
    are taken from the left.
    """
    d = values.shape[1]
    kth = -np.partition(-values, n_top - 1, axis=1)[:, n_top - 1 : n_top]
    above = values > kth
    at_kth = values == kth
    # of the values equal to the kth, the leftmost ones fill the remaining places
    take = above | (at_kth & (np.cumsum(at_kth, axis=1) <= n_top - above.sum(axis=1, keepdims=True)))
    columns = np.nonzero(take)[1].reshape(values.shape[0], n_top)
    chosen = np.take_along_axis(values, columns, axis=1)
    order = np.lexsort((columns, -chosen), axis=1) if d else columns
    return np.take_along_axis(columns, order, axis=1)


def top_unseen(X, mixture: GaussianMixture, n_top: int = 10, users=None) -> TopItems:
    """Each user's ``n_top`` unseen items with the highest predicted rating.

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d), or ndarray of shape (n, d) (0 = missing)
    mixture : GaussianMixture
    n_top : int
    users : sequence of int, optional
        Row numbers; ``None``: every user (in blocks of users, never n x d at once).

    Returns
    -------
    TopItems
        Ties go to the lower item index.
    """
    X = _ratings(X)
    users = _check_users(users, X.shape[0])
    if isinstance(n_top, bool) or not isinstance(n_top, (int, np.integer)) or n_top < 1:
        raise DataError(f"n_top must be a whole number >= 1, got {n_top!r}; e.g. 10")
    n_top = min(int(n_top), X.shape[1])
    items = np.full((users.size, n_top), -1)
    scores = np.full((users.size, n_top), np.nan)
    done = 0
    for block in _user_blocks(users, X.shape[1]):
        pred = posterior(X, mixture, block) @ mixture.mu
        seen = X[block]
        pred[row_of_entries(seen.indptr), seen.indices] = -np.inf
        order = best_columns(pred, n_top)
        best = np.take_along_axis(pred, order, axis=1)
        unseen = np.isfinite(best)
        rows = slice(done, done + block.size)
        items[rows] = np.where(unseen, order, -1)
        scores[rows] = np.where(unseen, best, np.nan)
        done += block.size
    return TopItems(users, items, scores)


def predict_at(X, mixture: GaussianMixture, at) -> sp.csr_matrix:
    """The completion at the stored entries of ``at`` (a stored rating of ``X`` stays as it is).

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d)
        The ratings the mixture was fitted on.
    mixture : GaussianMixture
    at : scipy.sparse matrix of shape (n, d)
        The entries to predict, e.g. ``holdout.hidden``.

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, d)
        ``at``'s entries holding :func:`em_core.em.fill_matrix`'s values there; score it with
        :func:`em_core.mixture.rmse` or :func:`em_core.holdout.holdout_rmse`.
    """
    X = check_ratings(X)
    at = check_entries(at, X.shape)
    rows = row_of_entries(at.indptr)
    values = np.empty(at.nnz)
    users = np.flatnonzero(np.diff(at.indptr))
    for block in _user_blocks(users, X.shape[1]):
        post = posterior(X, mixture, block)
        lo, hi = at.indptr[block[0]], at.indptr[block[-1] + 1]
        local = np.searchsorted(block, rows[lo:hi])
        values[lo:hi] = np.einsum("ek,ke->e", post[local], mixture.mu[:, at.indices[lo:hi]])
    stored = np.asarray(X[rows, at.indices]).ravel()
    return sp.csr_matrix((np.where(stored != 0, stored, values), at.indices, at.indptr), shape=at.shape)
