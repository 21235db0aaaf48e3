"""The E- and M-step's pieces of :mod:`em_core._kernels` on a CSR rating matrix, per block of rows.

Same maths as the dense kernels, over the stored (observed) entries only. The data are shifted
by the mean of each column's ratings, as the dense path does; with ``S`` the shifted ratings (CSR),
``O`` their pattern (1 at each rating) and ``m_j = mu_j - center``:

- squared distances (:func:`sq_distances`): ``sq_norms + S @ (-2 m).T + O @ (m**2).T``;
- sufficient statistics (:func:`statistics`): ``post.T @ S``, ``post.T @ O``, ``post.T @ sq_norms``;
- the weighted SSE of the M-step (:func:`weighted_sse`) from those statistics.

Where an expanded form cancels, the value is recomputed from direct differences over the row's
ratings, as the dense kernels do. Everything else (the log-joint, the normalisation, the means,
the variance guard) is :mod:`em_core._kernels`' own code, called with a :class:`Prepared` that has
the attributes they read (``center``, ``sq_norms``, ``n_observed``).

Blocks
------
The rows are cut into blocks of at most :data:`BLOCK_RATINGS` ratings. Each block's products are
independent (E-step) or a partial sum over its users (M-step: the statistics are sums over users),
so memory per step is bounded by a block and the blocks run on a pool of threads (scipy's sparse
products release the GIL). Partial sums are added in block order: the numbers do not depend on
the number of threads. A chunked engine (Dask) could map :func:`block_sq_distances` and
:func:`block_statistics` over row chunks and tree-sum the statistics.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from em_core._kernels import _MEMCMP, CANCELLATION, CHUNK_ENTRIES, Statistics, expanded_sse
from em_core.sparse_ratings import check_ratings, row_of_entries

#: At most this many ratings per block of rows (a row with more is a block of its own): a
#: block's temporaries stay below ~100 MB at K = 12.
BLOCK_RATINGS = 2**21
#: Threads that run the blocks (at most one per CPU this process may use).
THREADS = max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


class Block(NamedTuple):
    """The rows ``start:stop`` of the shifted data and of the pattern, as CSR."""

    start: int
    stop: int
    shifted: sp.csr_matrix
    observed: sp.csr_matrix


class Prepared(NamedTuple):
    """What every step needs of a CSR rating matrix, computed once by :func:`prepare`.

    Attributes
    ----------
    X : scipy.sparse.csr_matrix of shape (n, d)
        The ratings (canonical float64, em_core's own copy).
    blocks : tuple of Block
        The shifted data and the pattern, cut into blocks of rows.
    center : ndarray of shape (d,)
        The mean of each column's ratings (0 for a column with none).
    n_observed : ndarray of shape (n,)
        Ratings per row.
    sq_norms : ndarray of shape (n,)
        ``sum(shifted**2)`` per row.
    """

    X: sp.csr_matrix
    blocks: tuple
    center: np.ndarray
    n_observed: np.ndarray
    sq_norms: np.ndarray

    @property
    def n_users(self) -> int:
        return self.X.shape[0]


def row_sums(values: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """Per-row sums of per-entry ``values`` (shape (nnz,) or (nnz, K)) of a CSR layout, shape (n,) or (n, K)."""
    n = indptr.size - 1
    out = np.zeros((n, *values.shape[1:]))
    filled = indptr[:-1] < indptr[1:]
    if values.shape[0]:
        out[filled] = np.add.reduceat(values, indptr[:-1][filled], axis=0)
    return out


def block_bounds(indptr: np.ndarray, block_ratings: int = BLOCK_RATINGS) -> np.ndarray:
    """Row boundaries ``[0, ..., n]`` of blocks holding at most ``block_ratings`` ratings (or one row)."""
    n = indptr.size - 1
    targets = np.arange(block_ratings, indptr[-1], block_ratings)
    cuts = np.searchsorted(indptr, targets, side="right") - 1
    bounds = np.concatenate([[0], cuts, [n]])  # sorted; a row longer than a block repeats its cut
    return bounds[np.concatenate([[True], bounds[1:] != bounds[:-1]])]


def prepare(X, block_ratings: int = BLOCK_RATINGS) -> Prepared:
    """Shift, pattern, row norms and blocks of a CSR rating matrix (checked by :func:`check_ratings`)."""
    X = check_ratings(X)
    X = sp.csr_matrix((X.data.copy(), X.indices.copy(), X.indptr.copy()), shape=X.shape)
    n, d = X.shape
    counts = np.bincount(X.indices, minlength=d)
    col_sums = np.bincount(X.indices, weights=X.data, minlength=d)
    center = np.divide(col_sums, counts, out=np.zeros(d), where=counts > 0)
    shifted = X.data - center[X.indices]
    ones = np.ones(X.nnz)
    blocks = []
    bounds = block_bounds(X.indptr, block_ratings)
    for start, stop in zip(bounds[:-1], bounds[1:], strict=True):  # blocks, not rows
        lo, hi = X.indptr[start], X.indptr[stop]
        indptr = X.indptr[start : stop + 1] - lo
        indices = X.indices[lo:hi]
        shape = (stop - start, d)
        blocks.append(
            Block(
                int(start),
                int(stop),
                sp.csr_matrix((shifted[lo:hi], indices, indptr), shape=shape, copy=False),
                sp.csr_matrix((ones[lo:hi], indices, indptr), shape=shape, copy=False),
            )
        )
    n_observed = np.diff(X.indptr).astype(float)
    sq_norms = row_sums(shifted * shifted, X.indptr)
    for array in (X.data, X.indices, X.indptr, shifted, ones, center, n_observed, sq_norms):
        array.flags.writeable = False  # em_core's own copy: nothing may change it behind a cache
    return Prepared(X, tuple(blocks), center, n_observed, sq_norms)


class Cache:
    """The :class:`Prepared` form of the last CSR matrix seen, reused while that matrix is unchanged.

    Like :class:`em_core._kernels.Cache`: the prepared form holds em_core's own copy of the
    ratings, and each call compares the matrix given with it (shape, pattern and values, bit for
    bit) before reusing anything, so a matrix modified in place is prepared again. ``shared``,
    another cache (a module's), is consulted before preparing and told of what this one
    prepares, so that a sweep over K and seeds prepares its matrix once.
    """

    def __init__(self, shared: Cache | None = None) -> None:
        self.shared = shared
        self._prepared: Prepared | None = None

    def __call__(self, X) -> Prepared:
        if isinstance(X, Prepared):
            return X
        for cache in (self, self.shared):
            prepared = cache._prepared if cache is not None else None
            if prepared is not None and _same_contents(X, prepared.X):
                break
        else:
            prepared = prepare(X)
            if self.shared is not None:
                self.shared._prepared = prepared
        self._prepared = prepared
        return prepared


def _same_contents(X, copy: sp.csr_matrix) -> bool:
    if not sp.issparse(X) or X.format != "csr" or X.shape != copy.shape or X.nnz != copy.nnz:
        return False
    if X.dtype != np.float64 or not X.has_sorted_indices:
        return False
    return all(_same_bytes(a, b) for a, b in ((X.indptr, copy.indptr), (X.indices, copy.indices), (X.data, copy.data)))


def _same_bytes(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays hold the same bytes (same dtype and size), by ``memcmp`` where the C library has it."""
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    if _MEMCMP is not None and a.flags.c_contiguous and b.flags.c_contiguous:
        return _MEMCMP(a.ctypes.data, b.ctypes.data, a.nbytes) == 0
    return bool(np.array_equal(a, b))


def run_blocks(work: Callable[[Block], object], blocks: Sequence[Block]) -> list:
    """``[work(block) for block in blocks]``, on :data:`THREADS` threads when there are several blocks."""
    if THREADS == 1 or len(blocks) == 1:
        return [work(block) for block in blocks]
    with ThreadPoolExecutor(max_workers=min(THREADS, len(blocks))) as pool:
        return list(pool.map(work, blocks))


# ---------------------------------------------------------------- E-step


def direct_sq_distances(X: sp.csr_matrix, rows: np.ndarray, mu: np.ndarray, comps: np.ndarray) -> np.ndarray:
    """``sum((x_u - mu_j)**2)`` over u's ratings for each pair ``(rows[t], comps[t])``, shape (len(rows),).

    From the differences as the course takes them; in chunks of at most ~:data:`CHUNK_ENTRIES` terms.
    """
    out = np.empty(rows.size)
    lengths = np.diff(X.indptr)[rows]
    ends = np.cumsum(lengths)
    start = 0
    while start < rows.size:  # chunks of pairs, each bounded in terms
        stop = max(start + 1, int(np.searchsorted(ends, (ends[start - 1] if start else 0) + CHUNK_ENTRIES)))
        r, c, length = rows[start:stop], comps[start:stop], lengths[start:stop]
        pair = np.repeat(np.arange(r.size), length)
        offset = np.arange(pair.size) - np.repeat(np.cumsum(length) - length, length)
        entry = X.indptr[r][pair] + offset
        diff = X.data[entry] - mu[c[pair], X.indices[entry]]
        out[start:stop] = np.bincount(pair, weights=diff * diff, minlength=r.size)
        start = stop
    return out


def block_sq_distances(
    block: Block, right_shifted: np.ndarray, right_observed: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``shifted @ right_shifted`` and ``observed @ right_observed`` for one block, each of shape (rows, K)."""
    return block.shifted @ right_shifted, block.observed @ right_observed


def sq_distances(data: Prepared, mu: np.ndarray) -> np.ndarray:
    """Squared distances, shape (n, K), over the ratings of each row (see :func:`em_core._kernels.sq_distances`).

    The size of the expanded form's terms is known exactly here, ``sum(x~**2) + sum(m**2)`` over
    the row's ratings (the second product), so only distances that really cancel are recomputed;
    the dense kernel bounds it by all of ``m**2``, which on a sparse row flags nearly every one.
    """
    m = mu - data.center
    right_shifted, right_observed = np.ascontiguousarray(-2.0 * m.T), np.ascontiguousarray((m * m).T)
    sq = np.empty((data.n_users, mu.shape[0]))
    scale = np.empty_like(sq)

    def work(block: Block) -> None:
        sq[block.start : block.stop], scale[block.start : block.stop] = block_sq_distances(
            block, right_shifted, right_observed
        )

    run_blocks(work, data.blocks)
    scale += data.sq_norms[:, None]
    sq += scale
    rows, cols = np.nonzero(sq < CANCELLATION * scale)
    if rows.size:
        sq[rows, cols] = direct_sq_distances(data.X, rows, mu, cols)
    np.maximum(sq, 0.0, out=sq)
    return sq


# ---------------------------------------------------------------- M-step


def block_statistics(block: Block, post: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """This block's users' share of the sums: ``shifted.T @ post[rows]`` and ``observed.T @ post[rows]``,
    each of shape (d, K)."""
    part = post[block.start : block.stop]
    return block.shifted.T @ part, block.observed.T @ part


def statistics(data: Prepared, post: np.ndarray) -> Statistics:
    """Sufficient statistics of ``post`` (shape (n, K)), summed over the blocks in block order."""
    parts = run_blocks(lambda block: block_statistics(block, post), data.blocks)
    sums, weight = parts[0]
    for more_sums, more_weight in parts[1:]:  # in block order, whatever the threads did
        sums += more_sums
        weight += more_weight
    return Statistics(post.sum(axis=0), sums.T, weight.T, post.T @ data.sq_norms, None)


def weighted_sse(
    data: Prepared, stats: Statistics, mu: np.ndarray, post: np.ndarray, floor: np.ndarray | None = None
) -> np.ndarray:
    """``sum_u post[u, j] * ||x_u - mu_j||^2`` over ratings, shape (K,) (see :func:`em_core._kernels.weighted_sse`)."""
    sse, cancelled = expanded_sse(stats, mu - data.center, floor)
    for j in np.flatnonzero(cancelled):  # rare: a component shrunk onto a point far from the centres
        rows = np.arange(data.n_users)
        sse[j] = post[:, j] @ direct_sq_distances(data.X, rows, mu, np.full(rows.size, j))
    return np.maximum(sse, 0.0)


# ---------------------------------------------------------------- the course's initial variances


def mean_sq_distance(X: sp.csr_matrix, mu: np.ndarray) -> np.ndarray:
    """``mean((X - mu[j])**2)`` over all n*d cells (missing ones count as 0), shape (K,).

    The course's initial variance, as :func:`em_core.mixture._mean_sq_distance` computes it on the
    dense form, expanded around the column means ``c`` of all n cells: ``sum((X - c)**2) + n |mu_j - c|**2``
    (the cross term is 0 by the choice of ``c``), where ``sum((X - c)**2)`` is the ratings' ``(x - c)**2``
    plus the missing cells' ``c**2``. Both terms are sums of squares, so nothing cancels.
    """
    n, d = X.shape
    counts = np.bincount(X.indices, minlength=d)
    center = np.bincount(X.indices, weights=X.data, minlength=d) / n
    gap = X.data - center[X.indices]
    total_sq = float(gap @ gap + (n - counts) @ (center * center))
    m = mu - center
    sq = total_sq + n * np.einsum("kd,kd->k", m, m)
    return sq / (n * d)


def rows_of(X: sp.csr_matrix, rows: np.ndarray) -> np.ndarray:
    """Rows of ``X`` as a dense array with 0 where missing, shape (len(rows), d)."""
    return X[np.asarray(rows)].toarray()


__all__ = [
    "BLOCK_RATINGS",
    "Block",
    "Cache",
    "Prepared",
    "block_sq_distances",
    "block_statistics",
    "direct_sq_distances",
    "mean_sq_distance",
    "prepare",
    "row_of_entries",
    "rows_of",
    "sq_distances",
    "statistics",
    "weighted_sse",
]
