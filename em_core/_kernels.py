"""Vectorised pieces shared by K-means, EM on complete data and EM on incomplete data.

Everything is a matrix product over the observed mask. The data are first shifted by a
centre per column (the mean of the column's observed values), which leaves every distance
unchanged but keeps the numbers small, so the expanded forms below keep their digits even
for data far from 0 (ratings around 1e4, say). With ``X~`` the shifted data (0 where
missing) and ``m_j = mu_j - centre``:

- squared distance of row u to mean j over u's observed coordinates:
  ``sum(x~_u**2) - 2 x~_u . m_j + observed_u . m_j**2`` (:func:`sq_distances`);
- the M-step's sufficient statistics: ``post.T @ X~``, ``post.T @ observed`` and
  ``post.T @ sum(x~**2)`` (:func:`statistics`), from which means and variances follow
  without another pass over the data (:func:`weighted_sse`).

Where an expanded form loses its digits (a distance small next to its terms) or where
its rounding could decide something (two nearly equal distances in K-means' argmin), the
value is recomputed from direct differences ``x - mu`` of the data as given, exactly as the
course computes it.

The shifted data and the mask sit side by side in one array (``Prepared.stacked``), so
each step makes a single matrix product with the data: ``stacked @ [-2 m; m**2].T`` in
the E-step and ``stacked.T @ post`` in the M-step. Which orientation of a product BLAS
runs faster differs between machines; :func:`_product` decides it once per class of shapes by timing
both on the step's own products (the two give the same numbers up to the order of a sum).

Once a mixture settles, much of that work repeats or adds zeros: a component collapsed onto one
user comes back from each M-step with the same mean, and its posterior is exactly 0 on every
other row. The E-step reuses the distances of a mean that came back bit for bit
(:class:`~em_core.distance_memo.DistanceMemo`), and the M-step sums such a component over its
few rows only (:func:`weighted_rows`). On the course's Netflix matrix (7 of 12 components
collapse from the course's start) the five K = 12 fits one at a time took about 5 % less, the
course's experiment (its seeds fitted together, 60 components per product) about a sixth less.
"""

from __future__ import annotations

import ctypes
import sys
import time
from typing import NamedTuple

import numpy as np

from em_core.distance_memo import DistanceMemo

#: Where the expanded form keeps less than this share of the size of its terms, rounding
#: has eaten too many of its digits; those distances are recomputed from the differences.
CANCELLATION = 1e-3
#: K-means recomputes directly every distance of a row whose two smallest expanded
#: distances lie within this share of the size of their terms (the expanded form is good
#: to ~1e-15 of it), so exact and near ties are decided as the course decides them.
TIE_MARGIN = 1e-9
#: At most this many numbers in the temporary of one recomputation chunk.
CHUNK_ENTRIES = 2**20


class Prepared(NamedTuple):
    """What every step needs of a data matrix, computed once by :func:`prepare`.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        The data as given (direct differences are taken from it).
    stacked : ndarray of shape (n, 2d)
        ``[shifted | observed]`` for incomplete data, ``[shifted | X]`` for complete data:
        the one operand of each step's matrix product.
    shifted : ndarray of shape (n, d)
        ``X - center`` on observed coordinates, 0 elsewhere (a view into ``stacked``).
    center : ndarray of shape (d,)
        The mean of each column's observed values (0 for a column with none).
    observed : ndarray of shape (n, d) or None
        The float 0/1 mask of observed entries (a view into ``stacked``); ``None`` when
        every entry counts.
    n_observed : ndarray of shape (n,) or float
        Observed coordinates per row.
    sq_norms : ndarray of shape (n,)
        ``sum(shifted**2)`` per row.
    memo : DistanceMemo or None
        The last E-step's distances on this matrix (:func:`sq_distances` reuses a column whose
        mean comes back unchanged); None on matrices too small for it to pay.
    """

    X: np.ndarray
    stacked: np.ndarray
    shifted: np.ndarray
    center: np.ndarray
    observed: np.ndarray | None
    n_observed: np.ndarray | float
    sq_norms: np.ndarray
    memo: DistanceMemo | None = None


#: A matrix with fewer numbers than this (in its stacked form) gets no :class:`DistanceMemo`:
#: a product with it costs little more than looking the means up.
MEMO_MIN_ENTRIES = 2**16
#: A memo keeps at most 1/MEMO_SHARE as many numbers as the stacked form (the course's matrix:
#: up to K = 150 components of 1,200 items for 1,200 users).
MEMO_SHARE = 8


def prepare(X: np.ndarray, missing_as_zero: bool) -> Prepared:
    """Shift, mask and row norms of ``X``; with ``missing_as_zero`` a 0 entry is missing."""
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    stacked = np.empty((n, 2 * d))
    shifted = stacked[:, :d]
    if missing_as_zero:
        observed = stacked[:, d:]
        np.not_equal(X, 0.0, out=observed)
        counts = observed.sum(axis=0)
        center = np.divide(X.sum(axis=0), counts, out=np.zeros(d), where=counts > 0)
        np.subtract(X, center, out=shifted)
        shifted *= observed
        n_observed = observed.sum(axis=1)
    else:
        observed = None
        center = X.mean(axis=0) if n else np.zeros(d)
        np.subtract(X, center, out=shifted)
        stacked[:, d:] = X
        n_observed = float(d)
    memo = DistanceMemo(stacked.size // MEMO_SHARE) if stacked.size >= MEMO_MIN_ENTRIES else None
    return Prepared(X, stacked, shifted, center, observed, n_observed, np.einsum("ij,ij->i", shifted, shifted), memo)


def prepare_copy(X: np.ndarray, missing_as_zero: bool) -> Prepared:
    """:func:`prepare` on a private copy of ``X``: later changes to ``X`` cannot reach the result,
    and its arrays are read-only, so nothing can change it in place."""
    prepared = prepare(np.array(X, dtype=float, order="C", copy=True), missing_as_zero)
    for array in prepared:
        if isinstance(array, np.ndarray):
            array.flags.writeable = False
    return prepared


class Cache:
    """The :class:`Prepared` form of the last matrix seen, reused while that matrix is unchanged.

    A fit steps many times on one matrix; the dashboard keeps one algorithm (and so one
    cache) per fit. The cache holds a private copy of the matrix it prepared and compares
    the matrix of each call with it, bit for bit, before reusing anything: a matrix that
    was modified in place since (even one entry by one unit in the last place) is prepared
    again, so a result is never computed from stale data. The comparison reads the matrix
    once, a fraction of a step's cost; a :class:`Prepared` passed in skips it.

    ``shared``, another cache (a module's), is consulted before preparing and told of what
    this one prepares, so that many fits on one matrix (a sweep over K and seeds) prepare
    it once.
    """

    def __init__(self, missing_as_zero: bool, shared: Cache | None = None) -> None:
        self.missing_as_zero = missing_as_zero
        self.shared = shared
        # (private copy of the matrix, its prepared form), replaced whole so that threads
        # sharing a cache never pair one matrix's copy with another's prepared form
        self._entry: tuple[np.ndarray, Prepared] | None = None

    def __call__(self, X: np.ndarray) -> Prepared:
        if isinstance(X, Prepared):
            return X
        entry = self._entry
        if entry is not None and same_contents(X, entry[0]):
            return entry[1]
        entry = self.shared._entry if self.shared is not None else None
        if entry is None or not same_contents(X, entry[0]):
            # our own copy: the caller may modify theirs in place later
            prepared = prepare_copy(X, self.missing_as_zero)
            entry = (prepared.X, prepared)
            if self.shared is not None:
                self.shared._entry = entry
        self._entry = entry
        return entry[1]


def _load_memcmp():
    """The C library's ``memcmp`` (one pass, no temporary, stops at the first difference), or None."""
    try:
        libc = ctypes.CDLL(None) if sys.platform != "win32" else ctypes.cdll.msvcrt
        memcmp = libc.memcmp
    except (OSError, AttributeError):
        return None
    memcmp.restype = ctypes.c_int
    memcmp.argtypes = (ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t)
    return memcmp


_MEMCMP = _load_memcmp()


def same_contents(X, copy: np.ndarray) -> bool:
    """Whether ``X`` holds exactly the bits of ``copy`` (a C-contiguous float64 array)."""
    if not isinstance(X, np.ndarray) or X.dtype != np.float64 or X.shape != copy.shape:
        return False
    if not X.flags.c_contiguous:
        return bool(np.array_equal(X, copy)) and bool(np.array_equal(np.signbit(X), np.signbit(copy)))
    if _MEMCMP is not None:
        return _MEMCMP(X.ctypes.data, copy.ctypes.data, X.nbytes) == 0
    return bool(np.array_equal(X.view(np.uint64), copy.view(np.uint64)))


# ---------------------------------------------------------------- orientation of the products

#: The orientation chosen for each class of product (True: the flipped one), once timed.
_ORIENTATION: dict[tuple, bool] = {}
#: Times each orientation is timed on a class's first product before one is chosen (in alternating
#: order, so that a slow start, BLAS threads waking say, does not fall on one orientation only).
TRIALS = 3


def _product(key: tuple, plain, flipped) -> np.ndarray:
    """The product that ``plain()`` and ``flipped()`` both compute, in the orientation faster here.

    Both give the same matrix up to the order of a sum (on OpenBLAS often the same bits). The
    first product of each ``key`` times both, :data:`TRIALS` times each, interleaved in alternating
    order (plain, flipped, flipped, plain, ...), on the caller's own operands; the best times decide
    (a burst of load, or a few slow first products, does not), and the choice is kept for the life of
    the process: a wrong one would slow every product of a dashboard server (on the course's matrix
    the slower orientation can take 1.6 times as long). Every result returned for a key comes from
    its chosen orientation, so the same fit run twice in one process gives the same bits. The result
    returned by the first call is the chosen orientation's last timed product: choosing costs
    ``2 * TRIALS - 1`` extra products per class.
    """
    if key in _ORIENTATION:
        return (flipped if _ORIENTATION[key] else plain)()
    best = [np.inf, np.inf]
    outs = [None, None]
    for trial in range(TRIALS):
        for index in (0, 1) if trial % 2 == 0 else (1, 0):
            product = (plain, flipped)[index]
            start = time.perf_counter()
            outs[index] = product()
            best[index] = min(best[index], time.perf_counter() - start)
    chosen = best[1] < best[0]
    _ORIENTATION[key] = chosen
    return outs[int(chosen)]


def _small(a: np.ndarray, b: np.ndarray) -> bool:
    """Products too small for the orientation to matter are not timed."""
    return a.size * b.shape[-1] < 2**18


def _columns_class(k: int) -> int:
    """The number of columns ``k`` rounded up to a power of 2: one timing serves a class of products
    (a batch of fits, :mod:`em_core.em_batch`, shrinks through many column counts as its fits end)."""
    return 1 << max(0, int(k) - 1).bit_length()


def times(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``left @ right`` for a data operand ``left`` of shape (n, e) and ``right`` (e, K)."""
    if _small(left, right):
        return left @ right
    key = ("data@", left.shape, _columns_class(right.shape[1]), left.strides)
    return _product(key, lambda: left @ right, lambda: (right.T @ left.T).T)


def t_times(left: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``post.T @ left``, shape (K, e), for a data operand ``left`` of shape (n, e)."""
    if _small(left, post):
        return (left.T @ post).T
    key = ("@data", left.shape, _columns_class(post.shape[1]), left.strides, post.strides[0] > post.strides[1])
    return _product(key, lambda: (left.T @ post).T, lambda: post.T @ left)


# ---------------------------------------------------------------- E-step


def direct_sq_distances(data: Prepared, rows: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """``sum((x_u - mu_j)**2)`` over u's observed coordinates for the given rows and every
    mean, shape (len(rows), K), from the differences as the course takes them."""
    out = np.empty((rows.size, mu.shape[0]))
    step = max(1, CHUNK_ENTRIES // max(mu.size, 1))
    for start in range(0, rows.size, step):
        r = rows[start : start + step]
        diff = data.X[r][:, None, :] - mu[None, :, :]
        if data.observed is not None:
            diff *= data.observed[r][:, None, :]
        out[start : start + step] = (diff**2).sum(axis=-1)
    return out


def sq_distances(data: Prepared, mu: np.ndarray, exact_ties: bool = False) -> np.ndarray:
    """Squared distances, shape (n, K), over the observed coordinates of each row.

    A mean equal bit for bit to one of the last call's on the same matrix takes its distances
    from ``data.memo`` (:class:`DistanceMemo`); the others come from :func:`_sq_distances`.
    K-means' calls (``exact_ties``) compute every distance.
    """
    memo = getattr(data, "memo", None)
    if memo is None or exact_ties:
        return _sq_distances(data, mu, exact_ties)
    mu = np.asarray(mu, dtype=float)  # the memo compares float64 bits (means may come as float32 or ints)
    found, old_sq = memo.reusable(mu)
    reused = found >= 0
    if not reused.any():
        sq = _sq_distances(data, mu)
    else:
        sq = np.empty((data.stacked.shape[0], mu.shape[0]))
        sq[:, reused] = old_sq[:, found[reused]]
        fresh = ~reused
        if fresh.any():
            sq[:, fresh] = _sq_distances(data, mu[fresh])
    memo.remember(mu, sq)
    return sq


def _sq_distances(data: Prepared, mu: np.ndarray, exact_ties: bool = False) -> np.ndarray:
    """Squared distances, shape (n, K), over the observed coordinates of each row, from the data.

    The few distances that are small next to the terms of the expanded form (a row sitting
    on a mean far from the column centres) are recomputed from the differences. With
    ``exact_ties`` (K-means), so is every distance of a row whose two smallest distances lie
    within :data:`TIE_MARGIN` of the size of their terms: the argmin then sees the numbers
    the course's direct differences give, and an exact tie goes to the lower index.
    """
    K, d = mu.shape
    m = mu - data.center
    if data.observed is None:
        total_m_sq = (m * m).sum(axis=1)
        sq = times(data.shifted, -2.0 * m.T)
        sq += total_m_sq
        empty = None
    else:
        # one product: [shifted | observed] @ [-2 m | m**2].T, the right operand written row by row
        right = np.empty((K, 2 * d))
        np.multiply(m, -2.0, out=right[:, :d])
        m_sq = np.multiply(m, m, out=right[:, d:])
        total_m_sq = m_sq.sum(axis=1)
        sq = times(data.stacked, right.T)
        empty = data.n_observed == 0
    sq += data.sq_norms[:, None]
    # the size of the terms of distance (u, j) is sq_norms[u] + total_m_sq[j] (bounded above by all of m**2;
    # 0 for a row with nothing observed); its largest over j bounds a row's: only the entries under that
    # bound are candidates, and only those are compared with their own size
    row_scale = data.sq_norms + (total_m_sq.max() if K else 0.0)
    if empty is not None and empty.any():
        row_scale[empty] = 0.0
    rows, cols = _cancelled(sq, row_scale, data.sq_norms, total_m_sq, empty)
    step = max(1, CHUNK_ENTRIES // max(d, 1))
    for start in range(0, rows.size, step):
        r, c = rows[start : start + step], cols[start : start + step]
        diff = data.X[r] - mu[c]
        if data.observed is not None:
            diff *= data.observed[r]
        sq[r, c] = (diff**2).sum(axis=-1)
    # the expanded form can dip a hair below 0 through rounding
    np.maximum(sq, 0.0, out=sq)
    if exact_ties and K > 1:
        two = np.partition(sq, 1, axis=1)[:, :2]
        near = np.nonzero(two[:, 1] - two[:, 0] <= TIE_MARGIN * row_scale)[0]
        if near.size:
            sq[near] = direct_sq_distances(data, near, mu)
    return sq


def _cancelled(
    sq: np.ndarray, row_scale: np.ndarray, sq_norms: np.ndarray, total_m_sq: np.ndarray, empty: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns of the distances under :data:`CANCELLATION` times the size of their terms
    (``sq_norms[u] + total_m_sq[j]``, 0 on an ``empty`` row), found without an (n, K) array of sizes:
    ``row_scale``, each row's largest size, picks the candidates (rounding is monotonic, so none is missed)."""
    candidates = sq < (CANCELLATION * row_scale)[:, None]
    if not candidates.any():
        return np.empty(0, np.intp), np.empty(0, np.intp)
    rows, cols = np.divmod(np.flatnonzero(candidates), sq.shape[1])
    scale = sq_norms[rows] + total_m_sq[cols]
    if empty is not None:
        scale[empty[rows]] = 0.0
    keep = sq[rows, cols] < CANCELLATION * scale
    return rows[keep], cols[keep]


def log_joint(sq: np.ndarray, n_dims, var: np.ndarray, log_p: np.ndarray) -> np.ndarray:
    """``f(u, j) = log p_j + log N(x_u; mu_j, var_j I)`` from squared distances, in place of ``sq``.

    ``n_dims`` is the number of coordinates each row contributes: a scalar, or shape (n,).
    """
    n_dims = np.asarray(n_dims, dtype=float)
    f = sq
    # divide as the course does: -0.5 / var overflows for a subnormal variance
    f /= (-2.0 * var)[None, :]
    if n_dims.ndim == 1:
        f -= np.multiply.outer(0.5 * n_dims, np.log(2.0 * np.pi * var))
    else:
        f -= (0.5 * n_dims * np.log(2.0 * np.pi * var))[None, :]
    f += log_p[None, :]
    return f


#: ``exp`` of anything at or below this is exactly 0 in float64 (the smallest subnormal is
#: ``exp(-744.44)``): :func:`normalise` writes those zeros without calling ``exp``, whose slow path
#: for underflow costs several times a normal call (most of a collapsed mixture's entries).
UNDERFLOW = -746.0


def _row_max(f: np.ndarray) -> np.ndarray:
    """``f.max(axis=1, keepdims=True)`` by columns (a reduction over 12 entries per row is slow in numpy)."""
    top = f[:, 0].copy()
    for j in range(1, f.shape[1]):
        np.maximum(top, f[:, j], out=top)
    return top[:, None]


def normalise(f: np.ndarray) -> tuple[np.ndarray, float]:
    """Posterior ``exp(f - logsumexp f)`` row by row, and the log-likelihood ``sum(logsumexp f)``.

    The log-sum-exp is numpy's own (``top + log(sum(exp(f - top)))``, faster than scipy's);
    the posterior is then ``exp(f - lse)`` as the course writes it, not ``exp(f - top) / sum``,
    so that a posterior within rounding of 1 rounds as the course's does (the M-step's rule
    ``support >= 1`` can hang on it). ``f`` is overwritten. A row whose every entry is
    ``-inf`` gives NaN, as the course's formula does. Entries at or below :data:`UNDERFLOW` are
    set to the 0 that ``exp`` gives them, past ``exp``'s slow path for underflow (:func:`_exp_live`):
    the same bits, less time.
    """
    top = _row_max(f)
    with np.errstate(invalid="ignore"):  # -inf - -inf: a row of -inf gives NaN, as the course's formula does
        terms = f - top
    dead = terms <= UNDERFLOW  # NaN stays live, so it gives NaN
    with np.errstate(under="ignore"):
        _exp_live(terms, dead)
        log_norm = np.log(terms.sum(axis=1, keepdims=True)) + top
        f -= log_norm
        np.less_equal(f, UNDERFLOW, out=dead)
        _exp_live(f, dead)
    return f, float(log_norm.sum())


def _exp_live(a: np.ndarray, dead: np.ndarray) -> None:
    """``exp(a)`` in place, with 0 where ``dead``: a dead entry is set to 0 before ``exp`` (whose
    input 0 is its cheapest) and its result to 0 after. Faster than ``exp`` with ``where=``, which
    takes numpy's masked loop; the live entries get the same bits."""
    np.copyto(a, 0.0, where=dead)
    np.exp(a, out=a)
    np.copyto(a, 0.0, where=dead)


class Statistics(NamedTuple):
    """The M-step's sufficient statistics of a posterior.

    Attributes
    ----------
    nk : ndarray of shape (K,)
        ``sum_u post[u, j]``.
    sums : ndarray of shape (K, d)
        ``post.T @ shifted``.
    weight : ndarray of shape (K, d)
        ``post.T @ observed``: the support of each mean coordinate (``nk`` in every
        column when all entries are observed).
    sq : ndarray of shape (K,)
        ``post.T @ sq_norms``.
    raw_sums : ndarray of shape (K, d) or None
        ``post.T @ X`` on complete data (the course's numerator of the means), else None.
    """

    nk: np.ndarray
    sums: np.ndarray
    weight: np.ndarray
    sq: np.ndarray
    raw_sums: np.ndarray | None


def support(observed: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``post.T @ observed``, shape (K, d): the weight behind each mean coordinate."""
    return t_times(observed, post)


#: A component whose posterior is nonzero on at most this share of the rows gets its
#: statistics from those rows only (:func:`weighted_rows`).
FEW_ROWS_SHARE = 1 / 16


def weighted_rows(left: np.ndarray, post: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """``post.T @ left``, shape (K, e), with the components that weigh few rows summed over those rows.

    A component collapsed onto a user has a posterior of exactly 0 on every other row (each
    ``exp`` below :data:`UNDERFLOW`); summing its column over the whole data adds nothing but
    zeros. Components nonzero on at most :data:`FEW_ROWS_SHARE` of the rows are summed over
    the rows where any of them is nonzero, the rest by one product with the whole data: the same
    sums, up to the order of their terms inside BLAS. ``weights``, the column sums of ``post``
    when the caller has them, spares counting the columns that weigh more than that share (a
    posterior is at most 1, so such a column is nonzero on more rows).
    """
    n, K = post.shape
    limit = n * FEW_ROWS_SHARE
    if K < 2 or limit < 2:
        return t_times(left, post)
    weights = post.sum(axis=0) if weights is None else weights
    candidates = np.nonzero(weights <= limit)[0]
    nonzero = post[:, candidates] != 0
    few_of_candidates = np.count_nonzero(nonzero, axis=0) <= limit
    if not few_of_candidates.any():
        return t_times(left, post)
    few = np.zeros(K, dtype=bool)
    few[candidates[few_of_candidates]] = True
    out = np.empty((K, left.shape[1]))
    if not few.all():
        out[~few] = t_times(left, np.ascontiguousarray(post[:, ~few]))
    rows = np.nonzero(nonzero[:, few_of_candidates].any(axis=1))[0]
    out[few] = post[np.ix_(rows, np.nonzero(few)[0])].T @ left[rows]
    return out


def statistics(data: Prepared, post: np.ndarray) -> Statistics:
    """Sufficient statistics of ``post`` over ``data``: one matrix product with the data
    (:func:`weighted_rows`)."""
    nk = post.sum(axis=0)
    d = data.shifted.shape[1]
    both = weighted_rows(data.stacked, post, nk)
    sums = both[:, :d]
    if data.observed is None:
        weight, raw_sums = np.broadcast_to(nk[:, None], sums.shape), both[:, d:]
    else:
        weight, raw_sums = both[:, d:], None
    return Statistics(nk, sums, weight, post.T @ data.sq_norms, raw_sums)


def expanded_sse(stats: Statistics, m: np.ndarray, floor: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``sq - 2 sums . m + weight . m**2`` per component, shape (K,), and where it cancelled.

    ``m`` is ``mu - center`` (K, d). A component is flagged when the difference is small next to
    its terms (its sum must then be recomputed from distances), unless it lies so far under
    ``floor`` (shape (K,)) that the floor decides. Dense and sparse steps share this form.
    """
    quad = np.einsum("kd,kd->k", stats.weight, m * m)
    scale = stats.sq + quad
    sse = stats.sq - 2.0 * np.einsum("kd,kd->k", stats.sums, m) + quad
    cancelled = sse < CANCELLATION * scale
    if floor is not None:
        # rounding moves the expanded form by far less than 1e-12 of its terms
        cancelled &= sse + 1e-12 * scale > floor
    return sse, cancelled


def weighted_sse(
    data: Prepared, stats: Statistics, mu: np.ndarray, post: np.ndarray, floor: np.ndarray | None = None
) -> np.ndarray:
    """``sum_u post[u, j] * ||x_u - mu_j||^2`` over observed coordinates, shape (K,), for any ``mu``.

    From the sufficient statistics: ``sq - 2 sums . m + weight . m**2`` with ``m = mu - center``.
    Where that difference is small next to its terms (a component shrunk onto a point far
    from the column centres), the component's sum is recomputed from its distances, unless
    it lies so far under ``floor`` (shape (K,), in the same units) that the floor decides.
    """
    sse, cancelled = expanded_sse(stats, mu - data.center, floor)
    if cancelled.any():
        # from the data, past the memo: a few components' distances would replace the last E-step's
        sse[cancelled] = np.einsum("uk,uk->k", post[:, cancelled], _sq_distances(data, mu[cancelled]))
    return np.maximum(sse, 0.0)


def complete_update(
    data: Prepared, post: np.ndarray, previous: np.ndarray | None
) -> tuple[Statistics, np.ndarray, np.ndarray, np.ndarray]:
    """The M-step on complete data shared by K-means and EM: statistics, live components, means, SSE.

    The means are the course's ``post.T @ X / n_j`` (bit for bit on integer data, so K-means'
    ties fall as in the course). A component with no weight keeps its ``previous`` mean (the
    column centres without one); the course's formula gives 0/0 = NaN there.
    """
    stats = statistics(data, post)
    alive = stats.nk > 0
    previous = previous if previous is not None else np.broadcast_to(data.center, stats.sums.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw_mean = stats.raw_sums / stats.nk[:, None]
    mu = np.where(alive[:, None], raw_mean, previous)
    return stats, alive, mu, weighted_sse(data, stats, mu, post)


def means(data: Prepared, stats: Statistics, update: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Weighted means where ``update`` (shape (K, d)) holds, ``previous`` elsewhere."""
    with np.errstate(divide="ignore", invalid="ignore"):
        shifted_mean = stats.sums / np.where(update, stats.weight, 1.0)
    return np.where(update, shifted_mean + data.center, previous)


#: No variance goes below this share of the largest squared distance a row can have to
#: the component's mean: below it ``sq / (2 var)`` overflows in the next E-step.
OVERFLOW_SHARE = 1e-300


def variance_guard(
    data: Prepared, mu: np.ndarray, var: np.ndarray, floor: float, previous: np.ndarray | None = None
) -> np.ndarray:
    """``var`` kept as it is wherever the course's next E-step stays finite, shape (K,).

    Two guards, both where the course's formulas break down:

    - an exact 0 (every row a component weighs sits on its mean, or every row is the
      same; the course's next E-step divides by zero and gives NaN) becomes ``floor``, or
      the ``previous`` variance where that is smaller (a variance that only shrinks keeps
      EM's log-likelihood from falling);
    - a variance below :data:`OVERFLOW_SHARE` times ``2 (max_u |x~_u|^2 + |mu_j - c|^2)``
      (a bound on every row's squared distance to ``mu_j``) is raised to it: below, the
      next E-step's ``sq / (2 var)`` overflows and every density of a far row is 0.
    """
    stand_in = floor if previous is None else np.minimum(previous, floor)
    var = np.where(var > 0, var, stand_in)
    m = mu - data.center
    reach = 2.0 * ((data.sq_norms.max() if data.sq_norms.size else 0.0) + np.einsum("kd,kd->k", m, m))
    return np.maximum(var, OVERFLOW_SHARE * reach)
