"""The workflows around a fit, as typed results: one run, a sweep over K x seeds, scores.

Everything the command line prints and the dashboard shows about a set of fits comes from here:

- :func:`fit`: one run from the course's initialisation to convergence (:class:`RunResult`);
- :func:`sweep`: every K and seed, the best seed per K with its BIC, its completion scores against a
  gold matrix and, with a :class:`~em_core.holdout.Holdout`, its RMSE on the hidden ratings
  beside the baselines' (:class:`Sweep`);
- :func:`completion_scores`: RMSE over all entries and over the missing ones;
- :func:`score_baselines`: the completion baselines scored on chosen entries (:class:`MethodScore`);
- :func:`holdout_comparison`: hide observed ratings, fit EM and the baselines on the rest, score
  them all on the hidden ones (:class:`HoldoutComparison`).

On real rating data the comparison with the options of :mod:`em_core.real_data_options` (EM variants
at several K, several splits, the course model's diagnosis) is its own workflow beside these:
:func:`em_core.real_data_comparison.compare` (:class:`~em_core.real_data_comparison.Comparison`).

The CLI's JSON is a serialisation of these results (``em_core.cli``); the dashboard's tables and
charts are views of them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from em_core import baselines, covariance_em, em, em_batch, kmeans, stepping
from em_core.covariance_em import CovarianceMixture, bic, with_covariance_type
from em_core.errors import DataError
from em_core.holdout import Holdout, hide, holdout_rmse
from em_core.initialisation import initial_mixture
from em_core.mixture import GaussianMixture, init_seeds, rmse
from em_core.sparse_ratings import is_sparse
from em_core.validation import check_k, check_max_iter, check_seed

ALGORITHMS = ("kmeans", "naive-em", "em")
#: The baselines a sweep scores on held-out ratings by default: the numpy ones (KNN takes seconds).
HOLDOUT_BASELINES = baselines.NUMPY_METHODS


def algorithm_for(name: str, min_variance: float = 0.25, covariance_type: str = "spherical") -> stepping.Algorithm:
    """The steppable algorithm called ``name`` (one of :data:`ALGORITHMS`).

    ``covariance_type`` (see :mod:`em_core.covariance_em`) applies to ``"naive-em"``; the others
    are spherical.
    """
    covariance_type = covariance_em.check_covariance_type(covariance_type)
    if covariance_type != "spherical" and name != "naive-em":
        raise DataError(
            f"covariance type {covariance_type} applies to naive-em (EM on complete points) only; {name} is "
            "spherical; use --algorithm naive-em or drop the covariance type"
        )
    if name == "kmeans":
        return kmeans.algorithm()
    if name == "naive-em":
        return covariance_em.algorithm(covariance_type)
    if name == "em":
        return em.algorithm(min_variance)
    raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")


def score_name(algorithm: str) -> str:
    """``"cost"`` for K-means, ``"log_likelihood"`` for both EMs (:attr:`stepping.Algorithm.score_name`)."""
    return algorithm_for(algorithm).score_name


def completes_matrices(algorithm: str) -> bool:
    """Whether ``algorithm`` reads 0 as missing and so makes a completion (only ``"em"``)."""
    return algorithm == "em"


@dataclass(frozen=True)
class RunResult:
    """One run of :func:`fit`.

    ``score`` is the final log-likelihood (EM) or cost (K-means); ``converged`` is False when the
    run stopped at ``max_iter`` before its stopping rule held; ``interrupted`` when its
    ``should_stop`` hook ended it (its ``score`` is NaN if that was before the first iteration).
    """

    k: int
    seed: int
    mixture: GaussianMixture | CovarianceMixture
    score: float
    iterations: int
    seconds: float
    converged: bool = True
    interrupted: bool = False


def fit(
    X: np.ndarray,
    algorithm: str,
    K: int,
    seed: int,
    min_variance: float = 0.25,
    max_iter: int | None = None,
    callback: Callable[[stepping.FitState], None] | None = None,
    init_with="course",
    covariance_type: str = "spherical",
    should_stop: Callable[[], bool] | None = None,
) -> RunResult:
    """One run from its start to convergence (or ``max_iter`` iterations).

    ``should_stop() -> bool`` is asked before every iteration (:func:`em_core.stepping.run`); True
    ends the run there, marked ``interrupted``.

    ``init_with`` is the start: ``"course"`` (the course's initialisation, the default),
    ``"kmeans++"``, or means given by hand (an array or a :class:`~em_core.initialisation.MeansFile`);
    see :func:`~em_core.initialisation.initial_mixture`. ``covariance_type`` ("spherical", "diag" or
    "full") applies to ``"naive-em"``.
    """
    seed = check_seed(seed)
    max_iter = check_max_iter(max_iter)
    steps = algorithm_for(algorithm, min_variance, covariance_type)
    start = time.perf_counter()
    mixture, post = initial_mixture(X, K, seed, init_with)
    # prepared once for the whole run: the steps then skip their per-call check of the matrix
    prepared = em.prepare(X) if completes_matrices(algorithm) else kmeans.prepare(X)  # naive EM shares it
    state = stepping.run(
        steps,
        prepared,
        stepping.start(with_covariance_type(mixture, covariance_type), post, max_history=1),
        max_iter=max_iter,
        callback=callback,
        should_stop=should_stop,
    )
    score = float("nan") if state.score is None else float(state.score)
    seconds = time.perf_counter() - start
    return RunResult(K, seed, state.mixture, score, state.iteration, seconds, state.converged, state.interrupted)


def best_of(runs: Sequence[RunResult], algorithm: str) -> RunResult:
    """Highest log-likelihood, or lowest cost for K-means; ties go to the first seed."""
    if score_name(algorithm) == "cost":
        return min(runs, key=lambda r: r.score)
    return max(runs, key=lambda r: r.score)


def check_ks(ks, n: int, source: str | None = None) -> list[int]:
    """Each K checked by :func:`~em_core.validation.check_k`; ``source`` names the data in messages."""
    return [check_k(K, n, source) for K in ks]


# ---------------------------------------------------------------- scores


class CompletionScores(NamedTuple):
    """RMSE of a completion against the gold matrix.

    ``rmse_all`` is the course's RMSE over every entry; ``rmse_missing`` covers only the entries
    that were missing (0) in the fitted matrix, or is None when none were.
    """

    rmse_all: float
    rmse_missing: float | None


def completion_scores(X: np.ndarray, gold: np.ndarray, X_pred: np.ndarray) -> CompletionScores:
    """RMSE of ``X_pred`` (a completion of ``X``, 0 = missing) against ``gold``, all (n, d)."""
    missing = X == 0
    return CompletionScores(rmse(gold, X_pred), rmse(gold, X_pred, missing) if missing.any() else None)


class MethodScore(NamedTuple):
    """One completion method scored on a set of entries.

    ``rmse`` is None when the method failed on this matrix; ``error`` then says why (one line).
    """

    name: str
    label: str
    rmse: float | None
    seconds: float
    error: str | None = None


#: The ``error`` of a method a ``should_stop`` hook kept from running.
NOT_RUN = "stopped before it finished"


def _not_run(name: str) -> MethodScore:
    return MethodScore(name, baselines.METHODS[name][0], None, 0.0, NOT_RUN)


def score_baselines(
    X_fit: np.ndarray,
    truth: np.ndarray,
    mask: np.ndarray,
    methods: Sequence[str] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[MethodScore]:
    """Run the baselines on ``X_fit`` (0 = missing) and score each on ``mask`` against ``truth``.

    Parameters
    ----------
    X_fit : ndarray of shape (n, d)
        The ratings the baselines see.
    truth : ndarray of shape (n, d)
        The true values on ``mask``: a gold matrix, or the ratings before some were hidden.
    mask : ndarray of bool, shape (n, d)
        The entries to score.
    methods : sequence of str, optional
        Names from :data:`em_core.baselines.METHODS`; all of them by default.
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before each method; once True, the rest are not run
        (their ``error`` is :data:`NOT_RUN`).
    """
    names = list(baselines.METHODS) if methods is None else list(methods)
    results = []
    for name in names:
        if should_stop is not None and should_stop():
            results.append(_not_run(name))
            continue
        [r] = baselines.run_all(X_fit, [name], at=mask if is_sparse(X_fit) else None)
        rmse_value = None if r.X_pred is None else baselines.score_on(truth, r.X_pred, mask)
        results.append(MethodScore(r.name, r.label, rmse_value, r.seconds, r.error))
    return results


# ---------------------------------------------------------------- a sweep over K x seeds


@dataclass(frozen=True)
class BestRun:
    """The best seed of one K, with what it is scored by.

    ``bic`` is None for K-means; ``completion`` is set for EM when a gold matrix is known;
    ``rmse_holdout`` for EM fitted with a :class:`~em_core.holdout.Holdout`.
    """

    run: RunResult
    bic: float | None = None
    completion: CompletionScores | None = None
    rmse_holdout: float | None = None

    @property
    def k(self) -> int:
        return self.run.k


@dataclass(frozen=True)
class Sweep:
    """Every run of a sweep over K x seeds, and the best seed of each K, in the order of the Ks given."""

    dataset: str
    algorithm: str
    runs: tuple[RunResult, ...]
    best_per_k: tuple[BestRun, ...]
    holdout: Holdout | None = None
    baselines_holdout: tuple[MethodScore, ...] = ()
    stopped: bool = False  # a should_stop hook ended it early: ``runs`` holds the runs that finished
    shape: tuple[int, int] | None = None  # (users, items) of the matrix swept
    n_observed: int | None = None  # its observed values: the ratings (all n x d values for complete points)

    @property
    def score_name(self) -> str:
        return score_name(self.algorithm)

    @property
    def ks(self) -> list[int]:
        return [best.k for best in self.best_per_k]

    def best_k_by_bic(self) -> int:
        """The K whose best seed has the highest BIC (EM only)."""
        if self.score_name == "cost":
            raise ValueError("K-means has no likelihood, so no BIC; sweep an EM algorithm to choose K by BIC")
        return max(self.best_per_k, key=lambda best: best.bic).k


FitOne = Callable[[np.ndarray, str, int, int, float, "int | None"], RunResult]


def _fit_one(X: np.ndarray, algorithm: str, K: int, seed: int, min_variance: float, max_iter: int | None) -> RunResult:
    return fit(X, algorithm, K, seed, min_variance, max_iter)


def _fit_seeds(
    X, K: int, seeds: Sequence[int], min_variance: float, max_iter: int | None, should_stop, prepared=None
) -> list[RunResult] | None:
    """EM from the course's start for every seed of one K, fitted together (:func:`em_core.em_batch.run`).

    Each run's ``seconds`` is its share of the batch's time, in proportion to its iterations. None
    when a step of the batch failed: the caller then fits the seeds one by one (whose errors name
    the seed's iteration).
    """
    start = time.perf_counter()
    starts = init_seeds(X, K, seeds)  # the course's start, X checked once
    states = em_batch.run(X if prepared is None else prepared, starts, min_variance, max_iter, should_stop)
    if states is None:
        return None
    seconds = time.perf_counter() - start
    total = max(1, sum(state.iteration for state in states))
    return [
        RunResult(
            K,
            seed,
            state.mixture,
            float("nan") if state.score is None else float(state.score),
            state.iteration,
            seconds * max(1, state.iteration) / total,
            state.converged,
            state.interrupted,
        )
        for seed, state in zip(seeds, states, strict=True)
    ]


def sweep(
    X: np.ndarray,
    algorithm: str,
    ks: Sequence[int],
    seeds: Sequence[int],
    *,
    name: str = "X",
    gold: np.ndarray | None = None,
    min_variance: float = 0.25,
    max_iter: int | None = None,
    holdout: Holdout | None = None,
    holdout_baselines: Sequence[str] = HOLDOUT_BASELINES,
    fit_one: FitOne | None = None,
    on_run: Callable[[RunResult, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Sweep:
    """Fit every K in ``ks`` with every seed in ``seeds``; keep and score the best seed of each K.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        The data (ratings with 0 = missing for ``"em"``, complete points otherwise).
    algorithm : {"kmeans", "naive-em", "em"}
    ks, seeds : sequences of int
        Checked against X's number of rows (a K above n is an error naming ``name``).
    name : str
        How messages name the data.
    gold : ndarray of shape (n, d), optional
        The complete matrix: the best EM run of each K gets :class:`CompletionScores`.
    holdout : Holdout, optional
        From :func:`~em_core.holdout.hide` on ``X``: every run is fitted on ``holdout.X_train``
        (BIC and gold scores are those of that matrix), the best EM runs get ``rmse_holdout``, and
        the baselines in ``holdout_baselines`` are scored on the same hidden ratings.
    fit_one : callable, optional
        ``fit_one(X, algorithm, K, seed, min_variance, max_iter) -> RunResult``; by default
        :func:`fit`, except that EM's seeds of one K are then fitted together, one product with the
        data per step for all of them (:mod:`em_core.em_batch`: the same fits to rounding, in about
        half the time). The dashboard passes a cached one.
    on_run : callable, optional
        ``on_run(run, done, total)`` after each run (a progress bar, a progress line).
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before each run (and, with the default ``fit_one``, before
        each iteration); once True the sweep ends with the runs that finished (``stopped``), the
        best of each K among them, and no baselines. A ``fit_one`` of one's own may return an
        ``interrupted`` run: it is dropped and the sweep ends.
    """
    ks = check_ks(ks, X.shape[0], name)
    seeds = [check_seed(seed) for seed in seeds]
    X_fit = X if holdout is None else holdout.X_train
    total = len(ks) * len(seeds)
    # EM's seeds of one K are fitted together, one product with the data per step (em_core.em_batch)
    batched = fit_one is None and algorithm == "em" and len(seeds) > 1
    fit_one = _fit_one if fit_one is None else fit_one
    if fit_one is _fit_one and should_stop is not None:

        def fit_one(X, algorithm, K, seed, min_variance, max_iter):
            return fit(X, algorithm, K, seed, min_variance, max_iter, should_stop=should_stop)

    runs: list[RunResult] = []
    stopped = False
    prepared = em.prepare(X_fit) if batched else None  # once for every K
    for K in ks:
        batch = _fit_seeds(X_fit, K, seeds, min_variance, max_iter, should_stop, prepared) if batched else None
        for index, seed in enumerate(seeds):
            if batch is not None:
                run = batch[index]
            else:
                stopped = should_stop is not None and should_stop()
                run = None if stopped else fit_one(X_fit, algorithm, K, seed, min_variance, max_iter)
            if stopped or run.interrupted:
                stopped = True
                break
            runs.append(run)
            if on_run is not None:
                on_run(run, len(runs), total)
        if stopped:
            break
    best_per_k = []
    for K in dict.fromkeys(run.k for run in runs):
        best = best_of([r for r in runs if r.k == K], algorithm)
        row = BestRun(best)
        if score_name(algorithm) != "cost":
            row = BestRun(best, bic=bic(X_fit, best.mixture, best.score))
        if completes_matrices(algorithm) and (gold is not None or holdout is not None):
            X_pred = em.fill_matrix(X_fit, best.mixture)
            row = BestRun(
                best,
                bic=row.bic,
                completion=None if gold is None else completion_scores(X_fit, gold, X_pred),
                rmse_holdout=None if holdout is None else holdout_rmse(X, holdout, X_pred),
            )
        best_per_k.append(row)
    scored = ()
    if holdout is not None and completes_matrices(algorithm) and not stopped:
        scored = tuple(score_baselines(holdout.X_train, X, holdout.hidden, holdout_baselines, should_stop))
    n_observed = (X.nnz if is_sparse(X) else int(np.count_nonzero(X))) if completes_matrices(algorithm) else X.size
    n, d = X.shape
    return Sweep(name, algorithm, tuple(runs), tuple(best_per_k), holdout, scored, stopped, (n, d), n_observed)


# ---------------------------------------------------------------- held-out comparison


@dataclass(frozen=True)
class HoldoutComparison:
    """EM and the baselines, fitted without the same hidden ratings and scored on them.

    ``scores[0]`` is the mixture's; the baselines follow in :data:`em_core.baselines.METHODS` order.
    """

    holdout: Holdout
    scores: tuple[MethodScore, ...]

    @property
    def n_hidden(self) -> int:
        return self.holdout.n_hidden

    @property
    def stopped(self) -> bool:
        """A ``should_stop`` hook ended it early: some method (EM or a baseline) was not run to its end."""
        return any(score.error == NOT_RUN for score in self.scores)


def holdout_comparison(
    X: np.ndarray,
    K: int,
    seed: int,
    min_variance: float = 0.25,
    fraction: float = 0.1,
    holdout_seed: int = 0,
    methods: Sequence[str] | None = None,
    max_iter: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> HoldoutComparison:
    """Hide ``fraction`` of the observed ratings of ``X``; fit EM (K, seed) and the baselines on the rest.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    methods : sequence of str, optional
        Baselines from :data:`em_core.baselines.METHODS`; all of them by default.
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before every EM iteration and before each baseline; once
        True, EM (if unfinished) and the rest are scored None with error :data:`NOT_RUN` (``stopped``).
    """
    split = hide(X, fraction, holdout_seed)
    run = fit(split.X_train, "em", K, seed, min_variance, max_iter, should_stop=should_stop)
    label = f"Mixture, K = {K} (EM to convergence)"
    if run.interrupted:
        names = list(baselines.METHODS) if methods is None else list(methods)
        stopped = (MethodScore("em", label, None, run.seconds, NOT_RUN), *map(_not_run, names))
        return HoldoutComparison(split, stopped)
    rmse_value = holdout_rmse(X, split, em.fill_matrix(split.X_train, run.mixture))
    mixture_score = MethodScore("em", label, rmse_value, run.seconds)
    scores = score_baselines(split.X_train, X, split.hidden, methods, should_stop)
    return HoldoutComparison(split, (mixture_score, *scores))
