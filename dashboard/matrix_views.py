"""Which part of a rating matrix the pages draw: all of it when it is small, else the most active
users x the most rated items, so no page ever draws (or densifies) n x d cells of a large matrix.

The course's 1200 x 1200 Netflix matrix is drawn whole, rows and columns in their own order, as
before. MovieLens latest-small (610 x 9,724, CSR) is drawn as its 610 users x its 1,200 most rated
movies; MovieLens-25M's 162,541 x 59,047 as 1,200 x 1,200. A cut axis is sorted by the number of
ratings, most first (ties: the lower row or column first), and :meth:`Corner.caption` says so.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

#: The most rows (users) and columns (items) a matrix image draws: the Netflix matrix fits whole.
MAX_DRAWN_ROWS = 1200
MAX_DRAWN_COLUMNS = 1200


class Corner(NamedTuple):
    """The rows and columns of a matrix that a page draws.

    Attributes
    ----------
    rows : ndarray of int, shape (r,)
        Row numbers (0-based), in the order drawn.
    columns : ndarray of int, shape (c,)
        Column numbers (0-based), in the order drawn.
    shape : (int, int)
        The whole matrix's shape (n, d).
    row_counts, column_counts : ndarray of int, shapes (r,) and (c,)
        The number of ratings of each drawn row and column.
    """

    rows: np.ndarray
    columns: np.ndarray
    shape: tuple[int, int]
    row_counts: np.ndarray
    column_counts: np.ndarray

    @property
    def whole(self) -> bool:
        """Every row and every column is drawn (in its own order)."""
        return self.rows.size == self.shape[0] and self.columns.size == self.shape[1]

    def caption(self, rows: str = "users", columns: str = "items") -> str:
        """What is drawn, e.g. "The 610 users (all) x the 1,200 most rated of 9,724 items, ..."; "" when whole."""
        if self.whole:
            return ""
        n, d = self.shape

        def part(count: int, total: int, noun: str, most: str) -> str:
            return f"the {total:,} {noun} (all)" if count == total else f"the {count:,} {most} of {total:,} {noun}"

        drawn = f"{part(self.rows.size, n, rows, 'most active')} × {part(self.columns.size, d, columns, 'most rated')}"
        cut = [
            noun for noun, count, total in ((rows, self.rows.size, n), (columns, self.columns.size, d)) if count < total
        ]
        return (
            f"Drawn: {drawn} ({' and '.join(cut)} sorted by their number of ratings, most first); "
            f"the whole matrix ({n:,} × {d:,}) is too large to draw cell by cell."
        )

    def axis_names(self, rows: str = "user", columns: str = "item") -> tuple[str, str]:
        """Axis titles for :func:`dashboard.matrix_figures.matrix_image`: a cut axis counts ranks, not row numbers."""
        n, d = self.shape
        return (
            rows if self.rows.size == n else f"{rows} (rank by ratings)",
            columns if self.columns.size == d else f"{columns} (rank by ratings)",
        )


def is_sparse(X) -> bool:
    """Whether ``X`` is a scipy.sparse matrix (a CSR data set: never completed or drawn whole)."""
    return sp.issparse(X)


def rating_counts(X, axis: int) -> np.ndarray:
    """Ratings per row (``axis=1``) or per column (``axis=0``) of a dense (0 = missing) or CSR matrix."""
    if sp.issparse(X):
        X = sp.csr_matrix(X)
        if axis == 1:
            return np.diff(X.indptr)
        return np.bincount(X.indices[X.data != 0], minlength=X.shape[1])
    return np.count_nonzero(np.asarray(X), axis=axis)


def _top(counts: np.ndarray, limit: int) -> np.ndarray:
    """All positions in their order when they fit, else the ``limit`` largest counts, most first (stable)."""
    if counts.size <= limit:
        return np.arange(counts.size)
    return np.argsort(-counts, kind="stable")[:limit]


def corner(X, max_rows: int = MAX_DRAWN_ROWS, max_columns: int = MAX_DRAWN_COLUMNS) -> Corner:
    """The most active rows x the most rated columns of ``X``, at most ``max_rows`` x ``max_columns``.

    The columns are chosen by their ratings over all rows (not only the drawn ones).

    Parameters
    ----------
    X : ndarray of shape (n, d) or scipy.sparse matrix
        Ratings; 0 (or no stored entry) means missing.
    """
    row_counts = rating_counts(X, axis=1)
    column_counts = rating_counts(X, axis=0)
    rows, columns = _top(row_counts, max_rows), _top(column_counts, max_columns)
    return Corner(rows, columns, tuple(X.shape), row_counts[rows], column_counts[columns])


def block(M, where: Corner) -> np.ndarray:
    """The drawn cells of ``M`` (dense or CSR, of the corner's whole shape) as a dense array of shape (r, c)."""
    if M.shape != where.shape:
        raise ValueError(f"block: the matrix is {M.shape}, the corner was chosen on {where.shape}")
    if where.whole:
        return M.toarray() if sp.issparse(M) else np.asarray(M)
    if sp.issparse(M):
        return sp.csr_matrix(M)[where.rows][:, where.columns].toarray()
    return np.asarray(M)[np.ix_(where.rows, where.columns)]


def observed_values(X) -> np.ndarray:
    """The observed (non-zero) ratings of a dense or CSR matrix, flattened (row by row)."""
    if sp.issparse(X):
        values = sp.csr_matrix(X).data
        return values[values != 0]
    X = np.asarray(X)
    return X[X != 0]
