"""Held-out RMSE when there is no gold matrix: hide some observed ratings, fit on the rest, score on them.

A rating matrix read from a file usually has no complete "gold" twin, so the completion cannot be
scored on its missing entries. Hiding a random share of the *observed* ratings gives entries whose
true values are known: fit on :attr:`Holdout.X_train`, complete it, and compare with the original
ratings on :attr:`Holdout.hidden` (:func:`holdout_rmse`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from em_core.errors import DataError
from em_core.mixture import rmse
from em_core.sparse_ratings import check_ratings, draw_hidden, hidden_entries, is_sparse, split_entries
from em_core.validation import check_has_observed, check_matrix, check_seed


class Holdout(NamedTuple):
    """Observed ratings set aside for scoring.

    Attributes
    ----------
    X_train : ndarray of shape (n, d), or scipy.sparse CSR matrix
        ``X`` with the hidden entries set to 0 (missing; not stored, for a CSR ``X``); every
        other entry as in ``X``.
    hidden : ndarray of bool, shape (n, d), or scipy.sparse CSR matrix of bool
        The hidden entries (stored as True for a CSR ``X``); a subset of the observed entries of ``X``.
    fraction : float
        The share of observed entries asked for.
    seed : int
        The seed of the draw.
    """

    X_train: np.ndarray
    hidden: np.ndarray
    fraction: float
    seed: int

    @property
    def n_hidden(self) -> int:
        return int(self.hidden.sum())


def check_fraction(fraction) -> float:
    """Return ``fraction`` as a float, checking ``0 < fraction < 1``."""
    try:
        value = float(fraction)
    except (TypeError, ValueError):
        value = float("nan")
    if isinstance(fraction, bool) or not 0.0 < value < 1.0:
        raise DataError(
            f"the held-out fraction must be a number strictly between 0 and 1, got {fraction!r}; "
            "e.g. 0.1 hides 10 % of the observed ratings"
        )
    return value


def n_to_hide(fraction: float, n_observed: int) -> int:
    """``round(fraction * n_observed)``, with Python's ``round`` (a tie goes to the even number)."""
    return round(fraction * n_observed)


def hide(X: np.ndarray, fraction: float = 0.1, seed: int = 0) -> Holdout:
    """Hide ``round(fraction * n_observed)`` observed ratings, drawn at random, to score a completion on.

    The draw: for every user (row) with at least one rating, one of their observed ratings, drawn
    uniformly, is *kept back*; the entries to hide are drawn uniformly without replacement from the
    other observed ratings. Only if that pool is too small (``fraction`` close to 1) are the missing
    few drawn uniformly from the kept-back ratings.

    Guarantee: if ``round(fraction * n_observed) <= n_observed - n_rated_users`` (``n_rated_users``
    = users with at least one rating), every user who has a rating in ``X`` keeps at least one in
    ``X_train``. Otherwise exactly ``round(fraction * n_observed) - (n_observed - n_rated_users)``
    users lose all their ratings, the fewest possible. Items (columns) have no such guarantee: an
    item rated only a few times may lose all its ratings.

    Because of the kept-back rating, a user's ratings are hidden a little less often the fewer
    they have (a user with c ratings has c - 1 candidates); among the candidates the draw is uniform.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 means missing (CSR: the stored entries are the ratings, and the same seed
        hides the same ratings as on the dense form).
    fraction : float
        Share of the observed ratings to hide, strictly between 0 and 1.
    seed : int
        Seed of ``np.random.RandomState``; the same ``(X, fraction, seed)`` hides the same entries.

    Returns
    -------
    Holdout

    Raises
    ------
    DataError
        If ``fraction`` is not in (0, 1), the seed is invalid, ``X`` has no rating, or the fraction
        hides no rating or every rating.
    """
    fraction = check_fraction(fraction)
    seed = check_seed(seed)
    sparse = is_sparse(X)
    X = check_ratings(X) if sparse else check_has_observed(check_matrix(X))
    observed = None if sparse else X != 0
    n_observed = X.nnz if sparse else int(observed.sum())
    n_hide = n_to_hide(fraction, n_observed)
    if n_hide == 0:
        raise DataError(
            f"X has {n_observed} observed rating(s) and {fraction:g} of them rounds to 0, so no rating would be "
            f"held out; use a fraction above {0.5 / n_observed:.3g} or a matrix with more ratings"
        )
    if n_hide == n_observed:
        raise DataError(
            f"X has {n_observed} observed rating(s) and {fraction:g} of them rounds to all {n_observed}, so no "
            "rating would be left to fit on; use a smaller fraction or a matrix with more ratings"
        )
    rng = np.random.RandomState(seed)
    if sparse:
        return Holdout(*split_entries(X, hidden_entries(X, n_hide, rng)), fraction, seed)
    # one uniformly drawn rating per user is kept back: the largest random key among their observed entries
    keys = np.where(observed, rng.random_sample(X.shape), -1.0)
    rated = observed.any(axis=1)
    kept_back = np.zeros(X.shape, dtype=bool)
    kept_back[np.flatnonzero(rated), keys[rated].argmax(axis=1)] = True
    chosen = draw_hidden(np.flatnonzero(observed & ~kept_back), np.flatnonzero(kept_back), n_hide, rng)
    hidden = np.zeros(X.shape, dtype=bool)
    hidden.flat[chosen] = True
    X_train = np.where(hidden, 0.0, X)
    return Holdout(X_train, hidden, fraction, seed)


def holdout_rmse(X: np.ndarray, holdout: Holdout, X_pred: np.ndarray) -> float:
    """RMSE between the original ratings ``X`` and a completion ``X_pred`` on the hidden entries.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The original ratings (the matrix given to :func:`hide`), 0 = missing.
    holdout : Holdout
        From ``hide(X, ...)``.
    X_pred : ndarray of shape (n, d)
        A completion of ``holdout.X_train``. For a CSR ``X``: CSR predictions at (at least) the
        hidden entries, e.g. :func:`em_core.sparse_completion.predict_at`.
    """
    if is_sparse(X):
        return rmse(check_ratings(X), X_pred, holdout.hidden)
    X = check_matrix(X)
    X_pred = check_matrix(X_pred, "X_pred")
    for name, shape in (("the held-out mask", holdout.hidden.shape), ("X_pred", X_pred.shape)):
        if shape != X.shape:
            raise DataError(
                f"{name} is {shape[0]} x {shape[1]} but X is {X.shape[0]} x {X.shape[1]}; "
                "score the completion against the matrix the entries were hidden from"
            )
    return rmse(X, X_pred, holdout.hidden)
