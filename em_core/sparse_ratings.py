"""Rating matrices as ``scipy.sparse`` CSR: the stored entries are the observed ratings.

The dense form (an (n, d) array, 0 = missing) costs ``8 n d`` bytes whatever the share observed;
MovieLens-25M would take 77 GB. In CSR form a matrix costs 12 bytes per rating, and every
function of em_core that accepts one gives the dense path's numbers (to rounding: only the order
of some sums differs).

A stored 0 is refused: in CSR form a stored entry *is* a rating, while 0 means "no rating" in
em_core's dense form, so an explicit zero would be read two ways. :func:`choose_form` decides
dense or sparse from the shape and the number of ratings; :func:`as_form` converts, and forces
either form when asked.

This module also holds what the scoring and baseline modules need on CSR, written with no Python
loop over users or ratings: the RMSE over stored entries, the draw of held-out ratings (the same
entries as :func:`em_core.holdout.hide` draws on the dense form) and the mean baselines.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import scipy.sparse as sp

from em_core.errors import DataError
from em_core.validation import max_magnitude

#: The forms a rating matrix can take.
Form = Literal["dense", "sparse"]
#: Below this share of observed entries the sparse form is the faster one. Measured with
#: ``python benchmarks/bench_scale.py --crossover`` (K = 12, one thread each, CPU time): sparse
#: faster up to 20 % observed on 1200 x 1200 and 2000 x 2000, dense from 40 % (30 %: split).
CROSSOVER_DENSITY = 0.25
#: A dense matrix above this many cells is never chosen: a fit holds about three n x d float
#: arrays (the data, its shifted copy and the mask), 24 bytes a cell; 2**26 cells is ~1.5 GB.
MAX_DENSE_CELLS = 2**26
#: Rows of the key stream drawn at once by :func:`hidden_entries` (bounds its memory).
KEY_CELLS = 2**22


def is_sparse(X) -> bool:
    """Whether ``X`` is a ``scipy.sparse`` matrix or array (any format)."""
    return sp.issparse(X)


def check_ratings(X, name: str = "X") -> sp.csr_matrix:
    """Return ``X`` as a canonical float64 CSR matrix of ratings, or raise :class:`DataError`.

    Canonical: indices sorted within each row, no (row, column) stored twice. Every stored value
    must be a finite, non-zero number no larger than :func:`em_core.validation.max_magnitude`.

    Parameters
    ----------
    X : scipy.sparse CSR matrix or array of shape (n, d)
        The stored entries are the observed ratings; every other entry is missing.
    name : str
        Names the matrix in messages.
    """
    if not sp.issparse(X) or X.format != "csr":
        got = f"a sparse matrix in {X.format.upper()} format" if sp.issparse(X) else type(X).__name__
        raise DataError(f"{name}: expected a scipy.sparse CSR matrix, got {got}; convert it with X.tocsr()")
    n, d = X.shape
    if n == 0 or d == 0:
        raise DataError(f"{name}: the matrix is empty ({n} x {d}); give at least one row and one column")
    if not (np.issubdtype(X.dtype, np.integer) or np.issubdtype(X.dtype, np.floating)) or X.dtype == bool:
        raise DataError(f"{name}: expected numbers, got values of type {X.dtype}; store the ratings as floats")
    data = np.asarray(X.data, dtype=float)
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)
    order_ok = bool(X.has_sorted_indices)
    if not order_ok:  # sort within rows without touching the caller's matrix
        X = X.sorted_indices()
        data, indices = np.asarray(X.data, dtype=float), np.asarray(X.indices)
    X = sp.csr_matrix((data, indices, indptr), shape=(n, d), copy=False)
    if data.size == 0:
        raise DataError(f"{name}: no stored rating (the matrix is all missing); give at least one rating")
    same = np.flatnonzero(np.diff(indices) == 0)
    row_start = np.zeros(data.size + 1, dtype=bool)
    row_start[indptr] = True
    same = same[~row_start[same + 1]]  # equal neighbours within one row
    if same.size:
        r, c = _where(indptr, indices, int(same[0]))
        raise DataError(
            f"{name}: row {r + 1} column {c + 1} is stored twice; keep one rating per (user, item), "
            "e.g. build the matrix from unique pairs or call X.sum_duplicates() if adding them up is meant"
        )
    bad = np.flatnonzero(~np.isfinite(data))
    if bad.size:
        r, c = _where(indptr, indices, int(bad[0]))
        raise DataError(
            f"{name}: row {r + 1} column {c + 1} is {data[bad[0]]}, not a finite number; store ratings only"
        )
    zero = np.flatnonzero(data == 0)
    if zero.size:
        r, c = _where(indptr, indices, int(zero[0]))
        raise DataError(
            f"{name}: row {r + 1} column {c + 1} stores a 0, but in a sparse matrix every stored entry is a rating "
            "and 0 means 'no rating'; drop such entries with X.eliminate_zeros(), or shift the rating scale"
        )
    bound = max_magnitude(n, d)
    big = np.flatnonzero(np.abs(data) > bound)
    if big.size:
        r, c = _where(indptr, indices, int(big[0]))
        raise DataError(
            f"{name}: row {r + 1} column {c + 1}: {data[big[0]]:.6g} is too large for EM on a {n} x {d} matrix "
            f"(the largest usable magnitude is {bound:.2e}); rescale the data, dividing every value by a power of 10"
        )
    return X


def _where(indptr: np.ndarray, indices: np.ndarray, entry: int) -> tuple[int, int]:
    """(row, column) of stored entry number ``entry``."""
    return int(np.searchsorted(indptr, entry, side="right") - 1), int(indices[entry])


def check_entries(at, shape: tuple[int, int]) -> sp.csr_matrix:
    """The entries to predict (``at``'s stored entries) as a CSR copy with sorted indices, of X's ``shape``."""
    if not sp.issparse(at):
        raise DataError(
            "a sparse matrix has no dense completion; pass at= the entries to predict as a sparse matrix "
            "(e.g. holdout.hidden)"
        )
    at = sp.csr_matrix(at, copy=True)
    at.sort_indices()
    if at.shape != shape:
        raise DataError(
            f"at is {at.shape[0]} x {at.shape[1]} but X is {shape[0]} x {shape[1]}; give the entries of X's shape"
        )
    return at


def row_of_entries(indptr: np.ndarray) -> np.ndarray:
    """The row of each stored entry, shape (nnz,), from a CSR ``indptr``."""
    return np.repeat(np.arange(indptr.size - 1), np.diff(indptr))


# ---------------------------------------------------------------- dense or sparse


def choose_form(n_users: int, n_items: int, n_ratings: int) -> Form:
    """Dense or sparse for a fit on an ``n_users x n_items`` matrix holding ``n_ratings`` ratings.

    Sparse when the dense form would pass :data:`MAX_DENSE_CELLS` cells (memory), or when the
    share observed is below :data:`CROSSOVER_DENSITY`, where one sparse EM iteration is faster
    than a dense one (measured; the dense iteration costs ``n d K``, the sparse one ``nnz K``
    at a larger price per term). Dense otherwise: the course's 1200 x 1200 matrix (77 %
    observed) stays dense.
    """
    cells = n_users * n_items
    if cells > MAX_DENSE_CELLS or n_ratings < CROSSOVER_DENSITY * cells:
        return "sparse"
    return "dense"


def as_form(X, form: Literal["auto", "dense", "sparse"] = "auto"):
    """``X`` (dense with 0 = missing, or CSR) in the form asked for; ``"auto"`` uses :func:`choose_form`.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse matrix
    form : {"auto", "dense", "sparse"}
        ``"dense"`` forces an (n, d) array, refused above :data:`MAX_DENSE_CELLS` cells (it would
        not fit a fit's memory); ``"sparse"`` forces CSR.

    Returns
    -------
    ndarray of shape (n, d) or scipy.sparse.csr_matrix
        ``X`` itself when it is already in that form.
    """
    if form not in ("auto", "dense", "sparse"):
        raise DataError(f"form must be 'auto', 'dense' or 'sparse', got {form!r}")
    sparse = sp.issparse(X)
    n, d = X.shape
    if form == "auto":
        n_ratings = X.nnz if sparse else int(np.count_nonzero(X))
        form = choose_form(n, d, n_ratings)
    if form == "sparse":
        return check_ratings(X) if sparse else sp.csr_matrix(np.asarray(X, dtype=float))
    if not sparse:
        return X
    if n * d > MAX_DENSE_CELLS:
        raise DataError(
            f"a dense {n} x {d} matrix has {n * d:,} cells, above the {MAX_DENSE_CELLS:,} a fit can hold; "
            "keep it sparse (form='sparse' or 'auto')"
        )
    return check_ratings(X).toarray()


# ---------------------------------------------------------------- scores


def values_at(X: sp.csr_matrix, at: sp.csr_matrix, name: str = "X_pred") -> np.ndarray:
    """The values ``X`` stores at the stored entries of ``at``, in ``at``'s order, shape (at.nnz,).

    Raises :class:`DataError` if ``X`` does not store one of them (a prediction must exist for
    every entry scored).
    """
    X, at = sp.csr_matrix(X), sp.csr_matrix(at)
    if X.shape != at.shape:
        raise DataError(
            f"{name} is {X.shape[0]} x {X.shape[1]} but the entries to score are in a {at.shape[0]} x {at.shape[1]} "
            "matrix; give matrices of the same shape"
        )
    if X.has_canonical_format and at.has_canonical_format and np.array_equal(X.indptr, at.indptr):
        if np.array_equal(X.indices, at.indices):
            return np.asarray(X.data, dtype=float)
    rows = row_of_entries(at.indptr)
    found = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)[rows, at.indices]
    missing = np.flatnonzero(np.asarray(found).ravel() == 0)
    if missing.size:
        r, c = int(rows[missing[0]]), int(at.indices[missing[0]])
        raise DataError(
            f"{name} has no value at row {r + 1} column {c + 1}, an entry to score; "
            "predict every scored entry (e.g. em_core.sparse_completion.predict_at)"
        )
    return np.asarray(X[rows, at.indices], dtype=float).ravel()


def rmse_stored(X_gold: sp.csr_matrix, X_pred, mask=None) -> float:
    """RMSE over the stored entries of ``X_gold`` (or of ``mask``, if given), read in ``X_pred``.

    Parameters
    ----------
    X_gold : scipy.sparse CSR matrix of shape (n, d)
        The true ratings at its stored entries.
    X_pred : scipy.sparse CSR matrix of shape (n, d), or ndarray of shape (n, d)
        A CSR matrix must store a value at every entry scored; an array holds every value (a
        prediction of 0 included: a mean kept from an initial 0 predicts 0).
    mask : scipy.sparse matrix of shape (n, d), optional
        Score only its stored entries (a subset of ``X_gold``'s).
    """
    gold = sp.csr_matrix(X_gold)
    at = gold if mask is None else sp.csr_matrix(mask)
    if at.nnz == 0:
        return float("nan")
    if sp.issparse(X_pred):
        predicted = values_at(sp.csr_matrix(X_pred), at)
    else:  # never through CSR: converting a dense completion would drop its predictions of 0
        X_pred = np.asarray(X_pred, dtype=float)
        if X_pred.shape != at.shape:
            raise DataError(
                f"X_pred is {X_pred.shape[0]} x {X_pred.shape[1]} but the entries to score are in a "
                f"{at.shape[0]} x {at.shape[1]} matrix; give matrices of the same shape"
            )
        predicted = X_pred[row_of_entries(at.indptr), at.indices]
    diff = values_at(gold, at, "X_gold") - predicted
    return float(np.sqrt(np.mean(diff * diff)))


# ---------------------------------------------------------------- held-out draw


def hidden_entries(X: sp.csr_matrix, n_hide: int, rng: np.random.RandomState) -> np.ndarray:
    """The stored entries (positions in ``X.data``) that :func:`em_core.holdout.hide` hides, sorted.

    The dense draw takes one uniform key per cell, row by row (``rng.random_sample((n, d))``),
    keeps back each user's rating with the largest key, then draws ``n_hide`` of the other
    ratings. Here the same key stream is drawn in blocks of rows (at most :data:`KEY_CELLS`
    cells at a time) and only the keys of stored entries are kept, so the same ``rng`` hides
    the same entries as on the dense form, in memory proportional to the ratings (the time
    still grows with n x d: 10^9 cells take about 10 s).
    """
    n, d = X.shape
    keys = np.empty(X.nnz)
    step = max(1, KEY_CELLS // d)
    for start in range(0, n, step):  # blocks of rows, not users one by one
        stop = min(n, start + step)
        block = rng.random_sample((stop - start, d))
        lo, hi = X.indptr[start], X.indptr[stop]
        keys[lo:hi] = block[row_of_entries(X.indptr[start : stop + 1] - lo), X.indices[lo:hi]]
    starts = X.indptr[:-1][np.diff(X.indptr) > 0]
    top = np.maximum.reduceat(keys, starts)
    rows = row_of_entries(X.indptr)
    is_top = keys == np.repeat(top, np.diff(X.indptr)[np.diff(X.indptr) > 0])
    # the first entry of each row that holds its largest key (argmax's choice)
    first = np.flatnonzero(is_top)
    first = first[np.concatenate([[True], rows[first][1:] != rows[first][:-1]])]
    kept_back = np.zeros(X.nnz, dtype=bool)
    kept_back[first] = True
    return np.sort(draw_hidden(np.flatnonzero(~kept_back), np.flatnonzero(kept_back), n_hide, rng))


def draw_hidden(candidates: np.ndarray, reserve: np.ndarray, n_hide: int, rng: np.random.RandomState) -> np.ndarray:
    """The held-out draw's last step, on either form: ``n_hide`` of the ``candidates`` uniformly
    without replacement, or all of them and the missing few from the kept-back ``reserve``."""
    if n_hide <= candidates.size:
        return candidates[rng.choice(candidates.size, n_hide, replace=False)]
    extra = reserve[rng.choice(reserve.size, n_hide - candidates.size, replace=False)]
    return np.concatenate([candidates, extra])


def split_entries(X: sp.csr_matrix, entries: np.ndarray) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``X`` without the given stored entries, and those entries alone (True), both CSR of X's shape."""
    hide = np.zeros(X.nnz, dtype=bool)
    hide[entries] = True
    rows = row_of_entries(X.indptr)
    keep = ~hide
    train = sp.csr_matrix((X.data[keep], (rows[keep], X.indices[keep])), shape=X.shape)
    hidden = sp.csr_matrix((np.ones(hide.sum(), dtype=bool), (rows[hide], X.indices[hide])), shape=X.shape)
    return train, hidden


# ---------------------------------------------------------------- mean baselines


def observed_means(X: sp.csr_matrix, axis: int) -> np.ndarray:
    """Mean of the stored ratings along ``axis`` (1: per user, 0: per item); the global mean where a line has none."""
    counts = np.diff(X.indptr) if axis == 1 else np.bincount(X.indices, minlength=X.shape[1])
    sums = np.asarray(X.sum(axis=axis)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), X.data.mean())


def mean_predictions(X: sp.csr_matrix, kind: str, at) -> sp.csr_matrix:
    """A mean baseline's predictions at the stored entries of ``at``; where ``X`` stores a rating, that rating.

    Parameters
    ----------
    X : scipy.sparse CSR matrix of shape (n, d)
        The ratings the means are taken from.
    kind : {"global_mean", "user_mean", "item_mean"}
    at : scipy.sparse matrix of shape (n, d)
        The entries to predict (e.g. ``holdout.hidden``).

    Returns
    -------
    scipy.sparse.csr_matrix of shape (n, d)
        With ``at``'s stored entries.
    """
    X = check_ratings(X)
    at = check_entries(at, X.shape)
    rows = row_of_entries(at.indptr)
    if kind == "global_mean":
        values = np.full(at.nnz, X.data.mean())
    elif kind == "user_mean":
        values = observed_means(X, axis=1)[rows]
    elif kind == "item_mean":
        values = observed_means(X, axis=0)[at.indices]
    else:
        raise DataError(f"unknown mean baseline {kind!r}; choose global_mean, user_mean or item_mean")
    stored = np.asarray(X[rows, at.indices]).ravel()
    values = np.where(stored != 0, stored, values)
    return sp.csr_matrix((values, at.indices.copy(), at.indptr.copy()), shape=at.shape)
