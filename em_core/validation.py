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


def check_k(K, n: int) -> int:
    """Return ``K`` as an int, checking ``1 <= K <= n``."""
    if isinstance(K, bool) or int(K) != K:
        raise DataError(f"K must be a whole number, got {K!r}")
    K = int(K)
    if K < 1 or K > n:
        raise DataError(f"K must be between 1 and {n} (the number of rows), got {K}; choose a K of at most {n}")
    return K


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
        raise DataError(f"min variance must be a finite number >= 0, got {min_variance!r}")
    return value
