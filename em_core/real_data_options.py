"""Options for EM on real rating data, each off by default: the course's EM stays the reference.

On the course's matrices (1200 x 1200, 77 % observed) the course's EM is a fine model. On real
rating data (MovieLens latest-small: 610 x 9,724, 1.7 % observed) three of its choices hurt, and
each option below replaces one of them by a standard remedy. :class:`EMOptions` holds them;
``EMOptions()`` is the course's EM exactly (same initial mixture, same steps, same numbers).

``item_mean_start`` -- the start
    The course starts each mean at a drawn user's row, 0 wherever that user rated nothing; a mean
    coordinate whose support ``sum_u p(j|u) [i observed for u]`` stays below 1 is never updated,
    so most of a mean keeps those zeros and the completion predicts 0-ish ratings for rarely rated
    items. With this option the drawn rows' missing coordinates start at the item's mean rating
    (the global mean for an item nobody rated), and each initial variance is the mean squared
    distance over the *observed* entries, ``sum_u sum_{i in C_u} (x_ui - mu_ji)^2 / sum_u |C_u|``,
    instead of the course's mean over all n x d cells (which counts every missing cell as a 0
    rating). The rows drawn are the course's (``RandomState(seed).choice(n, K, replace=False)``).

``residuals`` -- what the mixture models
    A component predicts item i by its members' average rating of i: a user's overall level
    (some rate everything a star higher) enters only through which component they join. With this
    option EM fits the residuals ``r_ui - (m + b_u + b_i)`` after the damped user and item biases
    of :func:`em_core.baselines.fit_biases`, and the completion adds the biases back:
    ``m + b_u + b_i + sum_j p(j|u) mu_ji``, clipped to the range of the observed ratings as the bias
    baseline's is (the sum can leave the rating scale; a mixture of ratings cannot). A residual of
    exactly 0 would read as "missing" in the dense form, so it is stored as :data:`RESIDUAL_ZERO`.
    The course's start on residuals puts a drawn user's unrated items at residual 0, i.e. at the
    bias prediction.

``prior_strength`` (lambda >= 0) -- the M-step
    A MAP M-step for the means under the prior ``mu_ji ~ N(c_i, var_j / lambda)``, ``c_i`` the
    item's mean in the matrix EM fits (the global mean for an item with none)::

        mu_ji = (sum_u p(j|u) [i in C_u] x_ui + lambda c_i) / (sum_u p(j|u) [i in C_u] + lambda)

    A coordinate with support S moves from ``c_i`` towards its members' average in proportion to
    ``S / (S + lambda)``: every coordinate is updated (the course's "support >= 1" rule is not
    needed: the denominator is at least lambda), a thinly supported one stays near the item mean.
    The variances and weights are the course's, computed around the new means (so the fit is a
    generalised EM: each M-step raises the penalised likelihood in the means, and the stopping rule
    is the course's, on the log-likelihood). ``lambda = 0`` is the course's M-step.

Every function takes the dense form (n x d, 0 = missing) or a CSR matrix (stored entries are the
ratings) and gives the same numbers on both (to rounding).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from em_core import _kernels, em, sparse_kernels, stepping
from em_core.baselines import Biases, fit_biases, predictions_at, rating_entries
from em_core.errors import DataError
from em_core.mixture import GaussianMixture, init
from em_core.sparse_completion import predict_at
from em_core.sparse_ratings import check_entries, check_ratings, is_sparse
from em_core.validation import check_matrix, check_max_iter, check_min_variance, check_seed

#: A residual of exactly 0 is stored as this (0 means "missing" in the dense form, and a CSR
#: matrix may not store a 0); it moves a prediction by at most 1e-12 of a rating.
RESIDUAL_ZERO = 1e-12
#: The prior strength the comparison uses when it turns the prior on: the support at which a mean
#: coordinate is halfway between the item mean and its members' average. Chosen on MovieLens
#: latest-small with a split the reported scores do not use (10 % held out, holdout seed 100, K = 12,
#: all three options on): held-out RMSE 0.8838 at 5, 0.8787 at 10, 0.8769 at 20, 0.8794 at 50
#: (1, 2 and 100 were worse in a first scan).
DEFAULT_PRIOR_STRENGTH = 20.0


@dataclass(frozen=True)
class EMOptions:
    """Which options are on (see the module's docstring); ``EMOptions()`` is the course's EM."""

    item_mean_start: bool = False
    residuals: bool = False
    prior_strength: float = 0.0

    def __post_init__(self) -> None:
        check_prior_strength(self.prior_strength)

    @property
    def is_course(self) -> bool:
        return not self.item_mean_start and not self.residuals and self.prior_strength == 0

    @property
    def name(self) -> str:
        """A short key, e.g. ``"course"`` or ``"item-mean-start+residuals+prior"``."""
        parts = [
            part
            for part, on in (
                ("item-mean-start", self.item_mean_start),
                ("residuals", self.residuals),
                ("prior", self.prior_strength > 0),
            )
            if on
        ]
        return "+".join(parts) or "course"

    @property
    def label(self) -> str:
        """For people, e.g. ``"EM on residuals, item-mean start, prior λ = 5"``."""
        if self.is_course:
            return "EM as in the course"
        parts = ["EM on residuals" if self.residuals else "EM"]
        if self.item_mean_start:
            parts.append("item-mean start")
        if self.prior_strength > 0:
            parts.append(f"prior λ = {self.prior_strength:g}")
        return ", ".join(parts)


def check_prior_strength(value) -> float:
    """``value`` as a float, checking that it is a finite number >= 0."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if isinstance(value, bool) or not np.isfinite(number) or number < 0:
        raise DataError(
            f"the prior strength must be a finite number >= 0, got {value!r}; 0 is the course's M-step, "
            f"e.g. {DEFAULT_PRIOR_STRENGTH:g} shrinks a coordinate with that much support halfway to the item mean"
        )
    return number


#: The course's EM, the reference every option is compared with.
COURSE = EMOptions()


def standard_variants(prior_strength: float = DEFAULT_PRIOR_STRENGTH) -> tuple[EMOptions, ...]:
    """The course's EM, each option alone, and all three together, in that order."""
    return (
        COURSE,
        EMOptions(item_mean_start=True),
        EMOptions(residuals=True),
        EMOptions(prior_strength=prior_strength),
        EMOptions(item_mean_start=True, residuals=True, prior_strength=prior_strength),
    )


def variants_with(item_mean_start: bool, residuals: bool, prior_strength: float) -> tuple[EMOptions, ...]:
    """The course's EM, each option that is on alone, and (with two or more on) their combination.

    ``variants_with(True, True, DEFAULT_PRIOR_STRENGTH)`` is :func:`standard_variants`.
    """
    prior_strength = check_prior_strength(prior_strength)
    alone = [
        EMOptions(item_mean_start=True) if item_mean_start else None,
        EMOptions(residuals=True) if residuals else None,
        EMOptions(prior_strength=prior_strength) if prior_strength > 0 else None,
    ]
    variants = [COURSE, *(v for v in alone if v is not None)]
    if len(variants) > 2:
        variants.append(EMOptions(item_mean_start, residuals, prior_strength))
    return tuple(variants)


#: The parts of a variant's name (:attr:`EMOptions.name`), joined by "+"; "all" names all three.
OPTION_NAMES = ("item-mean-start", "residuals", "prior")


def parse_variant(name: str, prior_strength: float = DEFAULT_PRIOR_STRENGTH) -> EMOptions:
    """The options a name stands for: ``"course"``, ``"all"``, or parts of :data:`OPTION_NAMES` joined by "+".

    ``parse_variant(options.name, strength)`` gives ``options`` back (the prior at ``prior_strength``).
    """
    parts = list(OPTION_NAMES) if name == "all" else [] if name == "course" else str(name).split("+")
    unknown = [part for part in parts if part not in OPTION_NAMES]
    if unknown or len(set(parts)) != len(parts):
        raise DataError(
            f"unknown EM variant {name!r}; give course, all, or {', '.join(OPTION_NAMES)} joined by '+' "
            "(e.g. residuals+prior)"
        )
    strength = check_prior_strength(prior_strength) if "prior" in parts else 0.0
    return EMOptions("item-mean-start" in parts, "residuals" in parts, strength)


# ---------------------------------------------------------------- the matrix EM fits


def _checked(X):
    return check_ratings(X) if is_sparse(X) else check_matrix(X)


def residual_matrix(X, biases: Biases):
    """``x_ui - (m + b_u + b_i)`` at every observed entry, in X's form (a 0 residual is :data:`RESIDUAL_ZERO`).

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or not stored) means missing.
    biases : Biases
        From :func:`em_core.baselines.fit_biases` on ``X``.
    """
    rows, cols, values = rating_entries(X)
    residual = values - biases.at(rows, cols)
    residual[residual == 0] = RESIDUAL_ZERO
    if is_sparse(X):
        X = check_ratings(X)
        return sp.csr_matrix((residual, X.indices.copy(), X.indptr.copy()), shape=X.shape)
    out = np.zeros(X.shape)
    out[rows, cols] = residual
    return out


def item_means(X) -> np.ndarray:
    """Each item's mean rating, shape (d,); the global mean for an item with none."""
    rows, cols, values = rating_entries(X)
    counts = np.bincount(cols, minlength=X.shape[1])
    sums = np.bincount(cols, weights=values, minlength=X.shape[1])
    return np.divide(sums, counts, out=np.full(X.shape[1], values.mean()), where=counts > 0)


def _kernels_for(data):
    return sparse_kernels if isinstance(data, sparse_kernels.Prepared) else _kernels


def item_mean_start(X, K: int, seed: int = 0) -> tuple[GaussianMixture, np.ndarray]:
    """The course's rows as means, each missing coordinate at the item's mean; variances over observed entries.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or not stored) means missing.
    K : int
    seed : int
        The course's draw of rows.

    Returns
    -------
    mixture : GaussianMixture
    post : ndarray of shape (n, K)
        The uniform posterior ``1/K``.
    """
    course, post = init(X, K, seed)
    mu = np.where(course.mu != 0, course.mu, item_means(X)[None, :])
    data = em.prepare(X)
    sq = _kernels_for(data).sq_distances(data, mu)
    var = sq.sum(axis=0) / max(float(np.sum(data.n_observed)), 1.0)
    return GaussianMixture(mu, np.where(var > 0, var, course.var), course.p), post


# ---------------------------------------------------------------- the MAP M-step


def shrunk_mstep(
    X, post: np.ndarray, mixture: GaussianMixture, prior_strength: float, min_variance: float = 0.25
) -> GaussianMixture:
    """The M-step with each mean coordinate shrunk toward its item mean (formula in the module docstring).

    Parameters
    ----------
    X : ndarray of shape (n, d), CSR matrix, or the prepared form of either (:func:`em_core.em.prepare`)
        Ratings; 0 (or not stored) means missing.
    post : ndarray of shape (n, K)
    mixture : GaussianMixture
        The previous parameters (their variances stand in where a component has no weight).
    prior_strength : float
        lambda >= 0; 0 gives :func:`em_core.em.mstep`'s means wherever the support is >= 1.
    min_variance : float

    Returns
    -------
    GaussianMixture
    """
    prior_strength = check_prior_strength(prior_strength)
    min_variance = check_min_variance(min_variance)
    if prior_strength == 0:
        return em.mstep(X, post, mixture, min_variance)
    data = X if isinstance(X, (_kernels.Prepared, sparse_kernels.Prepared)) else em.prepare(X)
    kernels = _kernels_for(data)
    stats = kernels.statistics(data, post)
    # the data are shifted by the column centres, which are the item means (0 for an item with no rating):
    # shifted, the prior centre is 0 for a rated item and the global mean for an item nobody rated
    prior = np.where(_empty_columns(data), _global_mean(data), 0.0)
    mu = data.center + (stats.sums + prior_strength * prior) / (stats.weight + prior_strength)
    total = stats.weight.sum(axis=1)
    sse = kernels.weighted_sse(data, stats, mu, post, min_variance * total)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(total > 0, sse / np.where(total > 0, total, 1.0), mixture.var)
    var = _kernels.variance_guard(data, mu, np.maximum(var, min_variance), em.VAR_FLOOR, mixture.var)
    return GaussianMixture(mu, var, stats.nk / post.shape[0])


def _empty_columns(data) -> np.ndarray:
    if isinstance(data, sparse_kernels.Prepared):
        return np.bincount(data.X.indices, minlength=data.X.shape[1]) == 0
    return ~data.observed.any(axis=0)


def _global_mean(data) -> float:
    if isinstance(data, sparse_kernels.Prepared):
        return float(data.X.data.mean())
    return float(data.X[data.observed != 0].mean())


def shrunk_algorithm(prior_strength: float, min_variance: float = 0.25) -> stepping.Algorithm:
    """EM with :func:`shrunk_mstep` as a steppable algorithm; give it a prepared matrix (:func:`em_core.em.prepare`)."""
    prior_strength = check_prior_strength(prior_strength)
    min_variance = check_min_variance(min_variance)
    if prior_strength == 0:
        return em.algorithm(min_variance)
    return stepping.Algorithm(
        name="em",
        score_name="log_likelihood",
        estep=em.estep,
        mstep=lambda X, post, mixture: (shrunk_mstep(X, post, mixture, prior_strength, min_variance), None),
        converged=stepping.relative_gain_converged(em.TOL),
    )


# ---------------------------------------------------------------- a fit and its completion


class OptionsFit(NamedTuple):
    """One EM run with :class:`EMOptions`.

    Attributes
    ----------
    options : EMOptions
    k, seed : int
    initial : GaussianMixture
        The start.
    mixture : GaussianMixture
        After the last M-step (of residuals when ``options.residuals``).
    post : ndarray of shape (n, K)
        The posterior of the last E-step.
    biases : Biases or None
        The biases EM's residuals were taken after (``options.residuals``), else None.
    log_likelihood : float
        Of the last E-step, on the matrix EM fitted.
    iterations : int
    converged : bool
        False when the run stopped at ``max_iter``.
    seconds : float
    """

    options: EMOptions
    k: int
    seed: int
    initial: GaussianMixture
    mixture: GaussianMixture
    post: np.ndarray
    biases: Biases | None
    log_likelihood: float
    iterations: int
    converged: bool
    seconds: float


def fit(
    X,
    K: int,
    seed: int = 0,
    options: EMOptions = COURSE,
    min_variance: float = 0.25,
    max_iter: int | None = None,
) -> OptionsFit:
    """EM with ``options`` from its start to the course's stopping rule (or ``max_iter``).

    With ``EMOptions()`` this is the course's EM (:func:`em_core.mixture.init`, :func:`em_core.em.run`).

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or not stored) means missing.
    K : int
    seed : int
    options : EMOptions
    min_variance : float
    max_iter : int, optional
    """
    if not isinstance(options, EMOptions):
        raise DataError(f"options must be an EMOptions, got {type(options).__name__}; e.g. EMOptions(residuals=True)")
    seed = check_seed(seed)
    max_iter = check_max_iter(max_iter)
    start = time.perf_counter()
    X = _checked(X)
    biases = fit_biases(X) if options.residuals else None
    X_em = residual_matrix(X, biases) if options.residuals else X
    initial, post = item_mean_start(X_em, K, seed) if options.item_mean_start else init(X_em, K, seed)
    state = stepping.run(
        shrunk_algorithm(options.prior_strength, min_variance),
        em.prepare(X_em),
        stepping.start(initial, post, max_history=1),
        max_iter=max_iter,
    )
    return OptionsFit(
        options,
        initial.n_components,
        seed,
        initial,
        state.mixture,
        state.post,
        biases,
        float(state.score),
        state.iteration,
        state.converged,
        time.perf_counter() - start,
    )


def fitted_matrix(X, result: OptionsFit):
    """The matrix ``result``'s mixture was fitted on: ``X`` itself, or its residuals after ``result.biases``."""
    return residual_matrix(X, result.biases) if result.biases is not None else X


def complete(X, result: OptionsFit, at=None):
    """The completion of ``X`` by a fit of :func:`fit` on it; observed ratings stay.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        The ratings the fit saw.
    result : OptionsFit
    at : scipy.sparse matrix of shape (n, d), optional
        For a CSR ``X`` (required there): the entries to predict, e.g. ``holdout.hidden``.

    Returns
    -------
    ndarray of shape (n, d), or CSR matrix with ``at``'s entries
        ``sum_j p(j|u) mu_j``; for a fit on residuals ``m + b_u + b_i + sum_j p(j|u) mu_j``, clipped to
        the range of the ratings in ``X`` (as :func:`em_core.baselines.user_item_bias` clips).
    """
    X = _checked(X)
    X_em = fitted_matrix(X, result)
    b = result.biases
    if b is not None:
        _, _, ratings = rating_entries(X)
        low, high = ratings.min(), ratings.max()
    if is_sparse(X):
        at = check_entries(at, X.shape)
        mixture_part = predict_at(X_em, result.mixture, at).data  # in at's order, row by row
        if b is None:
            return predictions_at(X, at, lambda rows, cols: mixture_part)
        return predictions_at(X, at, lambda rows, cols: np.clip(mixture_part + b.at(rows, cols), low, high))
    filled = em.fill_matrix(X_em, result.mixture)
    if b is None:
        return filled
    return np.where(X != 0, X, np.clip(filled + b.global_mean + b.user[:, None] + b.item[None, :], low, high))
