"""What a student should notice about a mixture: collapsed components, floored variances,
mean coordinates the M-step could not update, and what they do to a completion.

- :func:`component_report` / :func:`describe`: per-component flags of one mixture and their sentences.
- :func:`collapse_report`: for EM on a rating matrix, the components that hold at most one user's
  worth of weight and the user each sits on, the mean coordinates never updated since the
  initialisation ("no data"), and the completion's predictions outside the observed rating range
  (:class:`CollapseReport`).
- :func:`compare_with_user_mean`: the completion against the user-mean baseline on the missing
  entries, with a numbers-backed sentence saying why the mixture loses (or that it wins).

Indices in arrays are 0-based; sentences number users, components and items from 1, as the
dashboard does.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from em_core import _kernels, baselines, wording
from em_core.covariance_em import mean_variance
from em_core.em import estep, fill_matrix, observed_mask
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, rmse
from em_core.validation import check_has_observed, check_matrix, check_min_variance

#: A component whose weight is below this holds (almost) no users.
EMPTY_WEIGHT = 1e-6
#: Rounding slack of "outside the rating range", as a share of the range's width: a completion that is a
#: weighted mean of ratings 1..5 can come out as 5 + 8.9e-16, which is not a prediction outside 1..5.
RANGE_SLACK = 1e-9
#: Rounding slack of "at most one point's worth of weight": a component that sits on one user has
#: ``sum_u p(j|u) = 1`` up to rounding (on the course's Netflix matrix exactly 1.0).
ONE_POINT_SLACK = 1e-9


def coordinate_support(X: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``sum_u p(j|u) [i observed for u]``, shape (K, d): the support EM's M-step compares with 1.

    The product of :func:`em_core.em.support`, taken from X's mask directly instead of through
    em's one-matrix cache (which a dashboard serving several matrices would prepare again and again).

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 means missing (CSR: the stored entries are the observed ones).
    post : ndarray of shape (n, K)
    """
    if sp.issparse(X):
        mask = sp.csr_matrix((np.ones(X.nnz), X.indices, X.indptr), shape=X.shape)
        return np.asarray(mask.T @ post).T
    return _kernels.support(observed_mask(X), post)


class ComponentReport(NamedTuple):
    """Per-component flags.

    Attributes
    ----------
    empty : ndarray of bool, shape (K,)
        The weight p_j is below :data:`EMPTY_WEIGHT`: the component has lost its users.
    at_floor : ndarray of bool, shape (K,)
        The variance sits at the floor ``min_variance``.
    frozen : ndarray of bool, shape (K, d) or None
        Mean coordinates whose support ``sum_u p(j|u) [i observed for u]`` is below 1, so
        the M-step keeps their previous value (None when no posterior was given).
    """

    empty: np.ndarray
    at_floor: np.ndarray
    frozen: np.ndarray | None


def component_report(
    mixture: GaussianMixture, min_variance: float, X: np.ndarray | None = None, post: np.ndarray | None = None
) -> ComponentReport:
    """Flag collapsed components, floored variances and (given X and post) frozen mean coordinates."""
    frozen = coordinate_support(X, post) < 1.0 if X is not None and post is not None else None
    return ComponentReport(mixture.p < EMPTY_WEIGHT, mean_variance(mixture) <= min_variance, frozen)


def describe(report: ComponentReport, min_variance: float) -> list[str]:
    """Plain sentences for the flags that are set (empty list when all is well)."""
    lines = []
    empty = np.flatnonzero(report.empty) + 1
    if empty.size:
        lines.append(
            f"Component(s) {', '.join(f'j={j}' for j in empty)} hold almost no users (p < {EMPTY_WEIGHT:g}); "
            "they stay put because nothing pulls on them."
        )
    floor = np.flatnonzero(report.at_floor) + 1
    if floor.size:
        lines.append(f"Variance of {', '.join(f'j={j}' for j in floor)} sits at the floor {min_variance:g}.")
    if report.frozen is not None and report.frozen.any():
        count = int(report.frozen.sum())
        lines.append(f"{count:,} mean coordinate(s) have support below 1 and keep their previous value.")
    return lines


# ---------------------------------------------------------------- collapse


def points_held(mixture: GaussianMixture, n_points: int) -> np.ndarray:
    """``sum_u p(j|u) = n p_j``, shape (K,): each component's weight counted in points (users)."""
    return np.asarray(mixture.p, dtype=float) * n_points


def holds_at_most_one_point(mixture: GaussianMixture, n_points: int) -> np.ndarray:
    """Components whose weight is at most one point's worth (``n p_j <= 1``), shape (K,) bool.

    Such a component has collapsed: it can learn from (a share of) one point at most, and for
    EM on a rating matrix every mean coordinate that point left missing has support below 1.
    """
    return points_held(mixture, n_points) <= 1.0 + ONE_POINT_SLACK


def kept_from_init(
    mixture: GaussianMixture,
    initial: GaussianMixture,
    X: np.ndarray | None = None,
    post: np.ndarray | None = None,
    *,
    not_updated: np.ndarray | None = None,
) -> np.ndarray:
    """Mean coordinates never updated since the initialisation, shape (K, d) bool.

    A coordinate counts when it still equals its initial value and, given ``X`` and the posterior
    ``post`` of the M-step that produced ``mixture``, its support is below 1 (so a value an update
    happened to reproduce, e.g. a collapsed component on the very user it started from, is data,
    not "no data"). Without ``post`` equality alone decides.

    ``not_updated`` is ``coordinate_support(X, post) < 1`` when the caller has it already (the
    narration of that M-step computed it: :attr:`em_core.narration.MStepChange.not_updated`); it
    stands in for ``X`` and ``post``.
    """
    kept = np.asarray(mixture.mu) == np.asarray(initial.mu)
    if not_updated is not None:
        kept &= np.asarray(not_updated, dtype=bool)
    elif X is not None and post is not None:
        kept &= coordinate_support(X, post) < 1.0
    return kept


class CollapsedComponent(NamedTuple):
    """A component holding at most one user's worth of weight, and what happened to it.

    Attributes
    ----------
    j : int
        The component (0-based).
    points : float
        ``sum_u p(j|u)``, its weight in users.
    user : int
        The user (row, 0-based) it sits on: the largest ``p(j|u)``; -1 when no user has any.
    user_share : float
        That user's share of the component's weight, ``p(j|user) / sum_u p(j|u)``.
    variance : float
    at_floor : bool
        The variance is at the floor ``min_variance``.
    n_rated : int
        Items the user rated.
    n_kept : int
        Mean coordinates never updated since the initialisation (see :func:`kept_from_init`).
    """

    j: int
    points: float
    user: int
    user_share: float
    variance: float
    at_floor: bool
    n_rated: int
    n_kept: int


class CollapseReport(NamedTuple):
    """Collapse and its consequences for EM on a rating matrix (0 = missing).

    Attributes
    ----------
    n_users, n_components : int
    min_variance : float
    collapsed : tuple of CollapsedComponent
        The components with ``n p_j <= 1`` (:func:`holds_at_most_one_point`), in order of j.
    kept_from_init : ndarray of bool, shape (K, d)
        Mean coordinates never updated since the initialisation: draw them as "no data".
    strongest : ndarray of int, shape (n,)
        Each user's strongest component in the completion's E-step.
    rating_range : tuple of float
        The smallest and largest observed rating.
    X_pred : ndarray of shape (n, d)
        The completion (observed entries kept).
    out_of_range : ndarray of bool, shape (n, d)
        Missing entries whose prediction lies outside ``rating_range`` (by more than rounding,
        :data:`RANGE_SLACK`).
    """

    n_users: int
    n_components: int
    min_variance: float
    collapsed: tuple
    kept_from_init: np.ndarray
    strongest: np.ndarray
    rating_range: tuple
    X_pred: np.ndarray
    out_of_range: np.ndarray

    @property
    def collapsed_indices(self) -> np.ndarray:
        """The collapsed components' j (0-based), shape (m,)."""
        return np.array([c.j for c in self.collapsed], dtype=int)

    @property
    def claimed_users(self) -> np.ndarray:
        """Users (0-based) whose strongest component is a collapsed one."""
        return np.flatnonzero(np.isin(self.strongest, self.collapsed_indices))

    @property
    def n_out_of_range(self) -> int:
        return int(np.count_nonzero(self.out_of_range))

    @property
    def users_out_of_range(self) -> np.ndarray:
        """Users (0-based) with at least one prediction outside the rating range."""
        return np.flatnonzero(self.out_of_range.any(axis=1))

    @property
    def n_predicted_zero(self) -> int:
        """Missing entries predicted as exactly 0 (a kept initial 0 under a posterior of 1)."""
        return int(np.count_nonzero(self.out_of_range & (self.X_pred == 0)))

    def sentences(self) -> list[str]:
        """Plain sentences for what went wrong (empty when nothing did); numbers for people."""
        lines = []
        if self.collapsed:
            lines.append(_collapse_sentence(self))
        if self.n_out_of_range:
            lines.append(_out_of_range_sentence(self))
        return lines


def _users(numbers: np.ndarray, limit: int = 8) -> str:
    shown = ", ".join(str(u + 1) for u in numbers[:limit])
    return shown + (f" and {len(numbers) - limit:,} more" if len(numbers) > limit else "")


def _collapse_summary(report: CollapseReport) -> str:
    """``"7 of 12 components hold one user each (variance at the floor 0.25)"``."""
    collapsed = report.collapsed
    one_each = all(abs(c.points - 1.0) <= ONE_POINT_SLACK for c in collapsed)
    held = "hold one user each" if one_each else "hold at most one user's worth of weight"
    if len(collapsed) == 1:
        held = "holds one user" if one_each else "holds at most one user's worth of weight"
    floored = sum(c.at_floor for c in collapsed)
    floor = wording.number(report.min_variance, 2)
    if floored == len(collapsed):
        floor_text = f" (variance at the floor {floor})"
    elif floored:
        floor_text = f" ({floored} of them with variance at the floor {floor})"
    else:
        floor_text = ""
    return f"{len(collapsed)} of {report.n_components} components {held}{floor_text}"


def _kept_text(report: CollapseReport) -> str:
    kept = sum(c.n_kept for c in report.collapsed)
    if not kept:
        return ""
    coordinates = wording.count(kept, "mean coordinate")
    return f"; their means keep their initial values on {coordinates} with no data (support < 1)"


def _collapse_sentence(report: CollapseReport) -> str:
    sits = [f"j={c.j + 1} on user {c.user + 1}" for c in report.collapsed if c.user >= 0]
    where = f": {', '.join(sits)}" if sits else ""
    return f"{_collapse_summary(report)}{where}{_kept_text(report)}."


def _range_text(report: CollapseReport) -> str:
    low, high = report.rating_range
    return f"{wording.number(low, 0 if low == int(low) else 2)}–{wording.number(high, 0 if high == int(high) else 2)}"


def _out_of_range_text(report: CollapseReport) -> str:
    zero = report.n_predicted_zero
    zeros = f" ({wording.number(zero, 0)} of them exactly 0)" if zero else ""
    return (
        f"the completion predicts outside {_range_text(report)} for "
        f"{wording.count(report.n_out_of_range, 'missing entry', 'missing entries')} of "
        f"{wording.count(report.users_out_of_range.size, 'user')}{zeros}"
    )


def _out_of_range_sentence(report: CollapseReport) -> str:
    text = _out_of_range_text(report)
    return f"{text[0].upper()}{text[1:]}: users {_users(report.users_out_of_range)}."


def _check_like(X: np.ndarray, mixture: GaussianMixture, initial: GaussianMixture) -> None:
    mu, first = np.shape(mixture.mu), np.shape(initial.mu)
    if mu != first:
        raise DataError(
            f"the initial mixture has means of shape {first}, the mixture {mu}; pass the initial mixture of this fit"
        )
    if mu[1] != X.shape[1]:
        raise DataError(
            f"the mixture has {mu[1]} coordinates but X has {X.shape[1]} columns; "
            "pass the matrix the mixture was fit on"
        )


def observed_range(X: np.ndarray) -> tuple[float, float]:
    """The lowest and the highest observed entry of ``X`` (0 = missing), as floats.

    Raises
    ------
    DataError
        When no entry is observed.
    """
    return _observed_range(check_has_observed(check_matrix(X)))


def _observed_range(X: np.ndarray) -> tuple[float, float]:
    values = X[X != 0]
    return float(values.min()), float(values.max())


def collapse_report(
    X: np.ndarray,
    mixture: GaussianMixture,
    initial: GaussianMixture,
    min_variance: float,
    post: np.ndarray | None = None,
    X_pred: np.ndarray | None = None,
    *,
    not_updated: np.ndarray | None = None,
    current_post: np.ndarray | None = None,
    rating_range: tuple[float, float] | None = None,
) -> CollapseReport:
    """Collapsed components, never-updated mean coordinates and out-of-range predictions.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    mixture : GaussianMixture
        The fitted (or current) mixture.
    initial : GaussianMixture
        The fit's initial mixture (the course's init), to tell which mean coordinates were never updated.
    min_variance : float
        The fit's variance floor.
    post : ndarray of shape (n, K), optional
        The posterior of the M-step that produced ``mixture`` (``stepping.view(...).producing_post``);
        with it a coordinate is "kept from init" only where its support is also below 1.
    X_pred : ndarray of shape (n, d), optional
        The completion ``em.fill_matrix(X, mixture)`` if the caller has it already (else it is made
        from this function's own E-step, one E-step in all).
    not_updated : ndarray of bool, shape (K, d), optional
        ``coordinate_support(X, post) < 1`` if the caller has it already (see :func:`kept_from_init`).
    current_post : ndarray of shape (n, K), optional
        ``estep(X, mixture)[0]`` if the caller has it already (the posterior under ``mixture`` itself,
        which the completion and the users each component claims come from); else it is computed here.
    rating_range : (float, float), optional
        :func:`observed_range` of ``X`` if the caller has it (the same for every mixture of one
        matrix); else it is computed here.

    Returns
    -------
    CollapseReport
    """
    X = check_has_observed(check_matrix(X))
    min_variance = check_min_variance(min_variance)
    _check_like(X, mixture, initial)
    n = X.shape[0]
    observed = X != 0
    if not_updated is not None and np.shape(not_updated) != np.shape(mixture.mu):
        raise DataError(
            f"not_updated has shape {np.shape(not_updated)}, the means {np.shape(mixture.mu)}; "
            "pass the support mask of the M-step that produced this mixture"
        )
    kept = kept_from_init(mixture, initial, X, post, not_updated=not_updated)
    if current_post is not None and np.shape(current_post) != (n, mixture.n_components):
        raise DataError(
            f"current_post has shape {np.shape(current_post)}, expected {(n, mixture.n_components)}: "
            "pass estep(X, mixture)[0] of this mixture"
        )
    post_now = estep(X, mixture)[0] if current_post is None else np.asarray(current_post, dtype=float)
    if X_pred is None:
        X_pred = fill_matrix(X, mixture, post_now)
    low, high = _observed_range(X) if rating_range is None else map(float, rating_range)  # X checked above
    slack = RANGE_SLACK * max(high - low, 1.0)
    out_of_range = ~observed & ((X_pred < low - slack) | (X_pred > high + slack))
    collapsed = []
    held = points_held(mixture, n)
    for j in np.flatnonzero(holds_at_most_one_point(mixture, n)):
        column = post_now[:, j]
        total = column.sum()
        user = int(np.argmax(column)) if total > 0 else -1
        collapsed.append(
            CollapsedComponent(
                j=int(j),
                points=float(held[j]),
                user=user,
                user_share=float(column[user] / total) if user >= 0 else 0.0,
                variance=float(mixture.var[j]),
                at_floor=bool(mixture.var[j] <= min_variance),
                n_rated=int(observed[user].sum()) if user >= 0 else 0,
                n_kept=int(kept[j].sum()),
            )
        )
    return CollapseReport(
        n_users=n,
        n_components=mixture.n_components,
        min_variance=min_variance,
        collapsed=tuple(collapsed),
        kept_from_init=kept,
        strongest=np.argmax(post_now, axis=1),
        rating_range=(low, high),
        X_pred=X_pred,
        out_of_range=out_of_range,
    )


# ---------------------------------------------------------------- against the user mean


class UserMeanComparison(NamedTuple):
    """The completion against the user-mean baseline on the entries missing in X.

    Attributes
    ----------
    report : CollapseReport
    dataset : str or None
        The data set's name, for the sentence.
    n_missing : int
    rmse_mixture, rmse_user_mean, rmse_item_mean : float
        RMSE against the gold matrix over the missing entries.
    error_share_out_of_range : float
        The share of the mixture's squared error (over the missing entries) that falls on the
        out-of-range predictions.
    rmse_mixture_in_range, rmse_user_mean_in_range : float
        RMSE over the missing entries the mixture predicts inside the rating range (NaN when none).
    """

    report: CollapseReport
    dataset: str | None
    n_missing: int
    rmse_mixture: float
    rmse_user_mean: float
    rmse_item_mean: float
    error_share_out_of_range: float
    rmse_mixture_in_range: float
    rmse_user_mean_in_range: float

    @property
    def mixture_loses(self) -> bool:
        return self.rmse_mixture > self.rmse_user_mean

    @property
    def sentence(self) -> str:
        """Why the mixture loses to the user mean (or that it wins), with the numbers."""
        report = self.report
        prefix = f"K={report.n_components}" + (f" on {self.dataset}" if self.dataset else "")
        facts = []
        if report.collapsed:
            facts.append(_collapse_summary(report) + _kept_text(report))
        if report.n_out_of_range:
            facts.append(_out_of_range_text(report))
        ours, theirs = _rmse(self.rmse_mixture), _rmse(self.rmse_user_mean)
        if not self.mixture_loses:
            facts.append(f"RMSE on the missing entries {ours}, better than the user mean's {theirs}")
            return f"{prefix}: {'; '.join(facts)}."
        facts.append(f"RMSE on the missing entries {ours} against the user mean's {theirs}")
        why = []
        if report.n_out_of_range:
            why.append(
                f"those {wording.number(report.n_out_of_range, 0)} entries carry "
                f"{wording.share(self.error_share_out_of_range)} of the mixture's squared error"
            )
            if np.isfinite(self.rmse_mixture_in_range):
                still = "still scores" if self.rmse_mixture_in_range > self.rmse_user_mean_in_range else "scores"
                why.append(
                    f"without them it {still} {_rmse(self.rmse_mixture_in_range)} against "
                    f"{_rmse(self.rmse_user_mean_in_range)}"
                )
        if not report.n_out_of_range or self.rmse_mixture_in_range > self.rmse_user_mean_in_range:
            why.append(
                "a component completes an item with its users' average rating of it, blind to how high or low "
                f"the user rates overall (the item mean, the same idea with K=1, scores {_rmse(self.rmse_item_mean)})"
            )
        return f"{prefix}: {'; '.join(facts)}. " + _capital("; ".join(why)) + "."


def _rmse(value: float) -> str:
    return wording.number(value, 3)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def compare_with_user_mean(
    X: np.ndarray, gold: np.ndarray, report: CollapseReport, dataset: str | None = None
) -> UserMeanComparison:
    """Score the report's completion and the user-mean and item-mean baselines on the missing entries.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The ratings the mixture was fit on; 0 means missing.
    gold : ndarray of shape (n, d)
        The complete matrix.
    report : CollapseReport
        From :func:`collapse_report` on the same X (its completion and out-of-range entries are used).
    dataset : str, optional
        The data set's name, for the sentence.
    """
    X = check_matrix(X)
    gold = check_matrix(gold, "gold")
    if gold.shape != X.shape or report.X_pred.shape != X.shape:
        raise DataError(
            f"gold has shape {gold.shape}, X {X.shape} and the completion {report.X_pred.shape}; "
            "pass the gold matrix of the data the mixture was fit on"
        )
    missing = X == 0
    if not missing.any():
        raise DataError("X has no missing entry, so there is nothing to compare on; hide some ratings first")
    user_mean = baselines.user_mean(X)
    error = (gold - report.X_pred) ** 2
    in_range = missing & ~report.out_of_range
    return UserMeanComparison(
        report=report,
        dataset=dataset,
        n_missing=int(missing.sum()),
        rmse_mixture=rmse(gold, report.X_pred, missing),
        rmse_user_mean=rmse(gold, user_mean, missing),
        rmse_item_mean=rmse(gold, baselines.item_mean(X), missing),
        error_share_out_of_range=float(error[report.out_of_range].sum() / error[missing].sum())
        if error[missing].sum() > 0
        else 0.0,
        rmse_mixture_in_range=rmse(gold, report.X_pred, in_range),
        rmse_user_mean_in_range=rmse(gold, user_mean, in_range),
    )
