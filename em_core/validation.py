"""Checks at the public entry points; each raises :class:`DataError` with a message a user can act on."""

from __future__ import annotations

import numpy as np

from em_core.errors import DataError


def check_matrix(X, name: str = "X") -> np.ndarray:
    """Return ``X`` as a finite 2-D float array with at least one row and one column."""
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise DataError(f"{name}: expected a 2-D matrix (rows x columns), got {arr.ndim} dimension(s)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{name}: the matrix is empty ({arr.shape[0]} x {arr.shape[1]}); give at least one row of numbers"
        )
    if not np.all(np.isfinite(arr)):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(
            f"{name}: row {r + 1} column {c + 1} is {arr[r, c]}, not a finite number; use 0 for a missing rating"
        )
    return arr


def check_k(K, n: int, source: str | None = None) -> int:
    """Return ``K`` as an int, checking ``1 <= K <= n``.

    ``source`` names the data (usually its file) in the message.
    """
    try:
        whole = not isinstance(K, bool) and int(K) == K
    except (TypeError, ValueError, OverflowError):
        whole = False
    where = f"{source}: " if source else ""
    if not whole:
        raise DataError(f"{where}K must be a whole number, got {K!r}; choose K from 1 to {n}")
    K = int(K)
    if K < 1 or K > n:
        raise DataError(f"{where}K must be between 1 and {n} (the number of rows), got {K}; choose K from 1 to {n}")
    return K


#: Seeds are those of ``np.random.RandomState``.
MAX_SEED = 2**32 - 1


def check_seed(seed) -> int:
    """Return ``seed`` as an int, checking ``0 <= seed <= 2**32 - 1`` (what ``RandomState`` accepts)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise DataError(f"seed must be a whole number from 0 to {MAX_SEED}, got {seed!r}; choose e.g. 0")
    return int(seed)


def check_max_iter(max_iter) -> int | None:
    """Return ``max_iter`` as an int >= 1, or ``None`` (no limit)."""
    if max_iter is None:
        return None
    if isinstance(max_iter, bool) or not isinstance(max_iter, (int, np.integer)) or max_iter < 1:
        raise DataError(f"the iteration limit must be a whole number >= 1, got {max_iter!r}; give at least 1")
    return int(max_iter)


def check_has_observed(X: np.ndarray, name: str = "X") -> np.ndarray:
    """A rating matrix needs at least one observed (non-zero) entry."""
    if not np.any(X != 0):
        raise DataError(
            f"{name}: no observed entry (every value is 0, and 0 means missing); give at least one non-zero rating"
        )
    return X


def check_min_variance(min_variance) -> float:
    value = float(min_variance)
    if not np.isfinite(value) or value < 0:
        raise DataError(f"min variance must be a finite number >= 0, got {min_variance!r}; the default is 0.25")
    return value
