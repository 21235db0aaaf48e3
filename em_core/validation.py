"""Checks at the public entry points; each raises :class:`DataError` with a message a user can act on."""

from __future__ import annotations

import numpy as np

from em_core.errors import DataError

#: float64's largest finite value.
FLOAT_MAX = float(np.finfo(np.float64).max)
#: How many times ``n * d * max|x|**2`` the arithmetic of a fit may reach. A difference of two values
#: (a rating and a mean, or a column's centre) is at most ``2 max|x|``, its square ``4 max|x|**2``; the
#: expanded squared distances and the M-step's sufficient statistics add up to four such sums over all
#: ``n * d`` entries (``16 n d max|x|**2``); a further factor 4 keeps a margin.
OVERFLOW_MARGIN = 64.0


def max_magnitude(n: int, d: int) -> float:
    """The largest ``|x|`` an n x d matrix may hold so that no sum a fit computes overflows float64.

    ``sqrt(FLOAT_MAX / (OVERFLOW_MARGIN * n * d))``: about 1.7e153 for one value, 1.4e150 for the
    course's 1200 x 1200 Netflix matrix. Beyond it squares overflow, the log-likelihood turns NaN
    and no stopping rule can ever hold.
    """
    return float(np.sqrt(FLOAT_MAX / (OVERFLOW_MARGIN * max(n, 1) * max(d, 1))))


def check_magnitude(X: np.ndarray, name: str = "X", line_numbers=None, extremes=None) -> np.ndarray:
    """Refuse a finite matrix whose largest ``|x|`` is above :func:`max_magnitude` for its shape.

    ``line_numbers`` (the file line of each row) makes the message name the line, as a file's
    errors do; without it the message names the row. ``extremes``, ``(X.min(), X.max())`` when
    the caller has them, saves two passes.
    """
    n, d = X.shape
    bound = max_magnitude(n, d)
    if X.size and extremes is None:
        extremes = (X.min(), X.max())
    if X.size and max(-extremes[0], extremes[1]) <= bound:
        return X  # two passes without a temporary: the common case, a matrix well inside the bound
    with np.errstate(invalid="ignore"):
        too_large = np.abs(X) > bound
    if too_large.any():
        r, c = divmod(int(np.argmax(too_large)), d)
        where = f"line {line_numbers[r]}" if line_numbers is not None else f"row {r + 1}"
        raise DataError(
            f"{name} {where} column {c + 1}: {X[r, c]:.6g} is too large for EM on a {n} x {d} matrix (the largest "
            f"usable magnitude is {_rounded_down(bound)}, above which its squares overflow); rescale the data, "
            "dividing every value by the same power of 10"
        )
    return X


def _rounded_down(value: float) -> str:
    """``value`` (> 0) to three significant digits, rounded towards 0 (a bound a message may quote)."""
    step = 10.0 ** (np.floor(np.log10(value)) - 2)
    return f"{np.floor(value / step) * step:.2e}"


def check_matrix(X, name: str = "X", bounded: bool = True) -> np.ndarray:
    """Return ``X`` as a finite 2-D float array with at least one row and one column.

    ``bounded`` (the default, for every input a fit uses) also refuses values above
    :func:`max_magnitude`; an export, which only writes the numbers, passes ``False``.
    """
    arr = np.asarray(X, dtype=float)
    if arr.ndim != 2:
        raise DataError(f"{name}: expected a 2-D matrix (rows x columns), got {arr.ndim} dimension(s)")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise DataError(
            f"{name}: the matrix is empty ({arr.shape[0]} x {arr.shape[1]}); give at least one row of numbers"
        )
    # min and max carry a NaN or an infinity through: two passes without a temporary find that
    # every entry is finite, and only a matrix with a bad entry pays for finding where it is
    extremes = (arr.min(), arr.max())
    if not (np.isfinite(extremes[0]) and np.isfinite(extremes[1])):
        r, c = np.argwhere(~np.isfinite(arr))[0]
        raise DataError(
            f"{name}: row {r + 1} column {c + 1} is {arr[r, c]}, not a finite number; use 0 for a missing rating"
        )
    return check_magnitude(arr, f"{name}:", extremes=extremes) if bounded else arr


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
    """Return ``max_iter`` as an int >= 1, or ``None`` (the default cap, :data:`em_core.stepping.MAX_ITER`)."""
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


#: The largest variance floor: the square of the largest magnitude any matrix may hold
#: (``max_magnitude(1, 1)**2``). A floor above it makes ``2 pi var`` and the log-likelihood overflow.
MAX_MIN_VARIANCE = FLOAT_MAX / OVERFLOW_MARGIN


def check_min_variance(min_variance) -> float:
    """Return ``min_variance`` as a float, checking ``0 <= min_variance <=`` :data:`MAX_MIN_VARIANCE`."""
    try:
        value = float(min_variance)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise DataError(f"min variance must be a finite number >= 0, got {min_variance!r}; the default is 0.25")
    if value > MAX_MIN_VARIANCE:
        raise DataError(
            f"min variance {value:g} is too large: above {MAX_MIN_VARIANCE:.3g} the log-likelihood overflows; "
            "give a floor near the variance of your ratings (the default is 0.25)"
        )
    return value
