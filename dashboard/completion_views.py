"""The completion as the pages show it at any size: em_core's predictions for the cells drawn and
the users asked for, cached per data set content and mixture, never the whole n x d matrix.

Every number is :mod:`em_core.sparse_completion`'s (the same as :func:`em_core.em.fill_matrix` on the
dense form); a cache is keyed by the data set's content key and the mixture's digest.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from dashboard import caches, matrix_views
from dashboard.byte_cache import byte_cache
from dashboard.limits import CACHE_BYTES
from em_core import GaussianMixture, diagnostics, sparse_completion


@byte_cache(CACHE_BYTES["drawn_completion"])
def _completed_block(content_key: str, digest: str, _X, _mixture: GaussianMixture, _where) -> np.ndarray:
    return sparse_completion.fill_block(_X, _mixture, _where.rows, _where.columns)


def completed_block(content_key: str, X, mixture: GaussianMixture, where: matrix_views.Corner) -> np.ndarray:
    """The completed matrix at the corner's rows x columns, shape (r, c) (the corner is a function of X)."""
    return _completed_block(content_key, caches.mixture_digest(mixture), X, mixture, where)


@byte_cache(CACHE_BYTES["user_rows"])
def _completed_row(content_key: str, digest: str, row: int, _X, _mixture: GaussianMixture) -> np.ndarray:
    return sparse_completion.fill_rows(_X, _mixture, [row])[0]


def completed_row(content_key: str, X, mixture: GaussianMixture, row: int) -> np.ndarray:
    """One user's completed row, shape (d,): their ratings kept, the mixture's prediction elsewhere."""
    return _completed_row(content_key, caches.mixture_digest(mixture), row, X, mixture)


@byte_cache(CACHE_BYTES["user_rows"])
def _top_unseen(content_key: str, digest: str, row: int, n_top: int, _X, _mixture: GaussianMixture):
    return sparse_completion.top_unseen(_X, _mixture, n_top, users=[row])


def top_unseen(content_key: str, X, mixture: GaussianMixture, row: int, n_top: int) -> sparse_completion.TopItems:
    """One user's ``n_top`` unseen items with the highest predicted rating (em_core's ``top_unseen``)."""
    return _top_unseen(content_key, caches.mixture_digest(mixture), row, n_top, X, mixture)


class CompletionCheck(NamedTuple):
    """What the completion page says about a dense completion (from :mod:`em_core.diagnostics`)."""

    out_of_range: np.ndarray  # (n, d) bool: missing entries predicted outside the observed rating range
    rating_range: tuple  # (lowest, highest) observed rating
    n_users_out: int  # users with at least one such prediction
    n_predicted_zero: int  # of them, predicted exactly 0 (a kept initial 0)
    n_claimed: int  # users whose strongest component is a collapsed one
    findings: tuple  # CollapseReport.sentences()
    versus: str | None  # UserMeanComparison.sentence: why the mixture loses to the user mean, or that it wins
    mixture_loses: bool | None  # None without a gold matrix


@byte_cache(CACHE_BYTES["completion_check"])
def _completion_check(
    content_key: str, digest: str, initial_digest: str, min_variance: float, _X, _gold, _mixture, _initial, _X_pred
) -> CompletionCheck:
    report = diagnostics.collapse_report(_X, _mixture, _initial, min_variance, X_pred=_X_pred)
    versus = None
    if _gold is not None and (_X == 0).any():
        versus = diagnostics.compare_with_user_mean(_X, _gold, report)  # kept as its sentence (no n x d arrays)
    return CompletionCheck(
        report.out_of_range,
        report.rating_range,
        int(report.users_out_of_range.size),
        report.n_predicted_zero,
        int(report.claimed_users.size),
        tuple(report.sentences()),
        None if versus is None else versus.sentence,
        None if versus is None else versus.mixture_loses,
    )


def completion_check(
    content_key: str, X: np.ndarray, gold, mixture: GaussianMixture, initial: GaussianMixture, min_variance, X_pred
) -> CompletionCheck:
    """Out-of-range predictions, collapsed components and the comparison with the user mean, once per mixture."""
    return _completion_check(
        content_key,
        caches.mixture_digest(mixture),
        caches.mixture_digest(initial),
        float(min_variance),
        X,
        gold,
        mixture,
        initial,
        X_pred,
    )
