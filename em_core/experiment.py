"""The course experiment: fit several K and seeds, keep the best seed per K, score it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from em_core import em, kmeans, naive_em, stepping
from em_core.data import Dataset
from em_core.holdout import Holdout, holdout_rmse
from em_core.mixture import GaussianMixture, bic, init, rmse
from em_core.validation import check_k, check_max_iter, check_seed

ALGORITHMS = ("kmeans", "naive-em", "em")


def algorithm_for(name: str, min_variance: float = 0.25) -> stepping.Algorithm:
    """The steppable algorithm called ``name`` (one of :data:`ALGORITHMS`)."""
    if name == "kmeans":
        return kmeans.algorithm()
    if name == "naive-em":
        return naive_em.algorithm()
    if name == "em":
        return em.algorithm(min_variance)
    raise ValueError(f"unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}")


@dataclass(frozen=True)
class RunResult:
    k: int
    seed: int
    mixture: GaussianMixture
    score: float
    iterations: int
    seconds: float


def fit(
    X: np.ndarray,
    algorithm: str,
    K: int,
    seed: int,
    min_variance: float = 0.25,
    max_iter: int | None = None,
    callback: Callable[[stepping.FitState], None] | None = None,
) -> RunResult:
    """One run from the course's initialisation to convergence."""
    seed = check_seed(seed)
    max_iter = check_max_iter(max_iter)
    start = time.perf_counter()
    mixture, post = init(X, K, seed)
    state = stepping.run(
        algorithm_for(algorithm, min_variance),
        X,
        stepping.start(mixture, post, max_history=1),
        max_iter=max_iter,
        callback=callback,
    )
    return RunResult(K, seed, state.mixture, float(state.score), state.iteration, time.perf_counter() - start)


def best_of(runs: list[RunResult], algorithm: str) -> RunResult:
    """Highest log-likelihood, or lowest cost for K-means; ties go to the first seed."""
    if algorithm == "kmeans":
        return min(runs, key=lambda r: r.score)
    return max(runs, key=lambda r: r.score)


def best_k_by_bic(summary: dict) -> int:
    """The K whose best seed has the highest BIC, from :func:`summarise`'s ``best_per_k`` (EM only)."""
    return max(summary["best_per_k"], key=lambda row: row["bic"])["k"]


def completion_scores(dataset: Dataset, mixture: GaussianMixture) -> dict[str, float | None]:
    """RMSE of the completed matrix against the gold one, over all and over missing entries."""
    if dataset.gold is None:
        return {"rmse": None, "rmse_missing": None}
    X_pred = em.fill_matrix(dataset.X, mixture)
    missing = dataset.X == 0
    return {
        "rmse": rmse(dataset.gold, X_pred),
        "rmse_missing": rmse(dataset.gold, X_pred, missing) if missing.any() else None,
    }


def summarise(
    dataset: Dataset,
    algorithm: str,
    runs: list[RunResult],
    holdout: Holdout | None = None,
    baselines_holdout: dict[str, float] | None = None,
) -> dict:
    """The CLI's JSON object for a finished experiment.

    With ``holdout`` (from :func:`~em_core.holdout.hide` on ``dataset.X``) the runs were fitted on
    ``holdout.X_train``: BIC and the gold scores are those of that matrix (``rmse_missing`` covers
    the hidden entries too), each EM row gains ``rmse_holdout`` (the completion of ``X_train``
    against the original ratings on the hidden entries), and the object gains ``holdout``
    (fraction, seed, n_hidden) and ``baselines_holdout`` (name -> RMSE on the same entries, as given).
    """
    fitted = dataset if holdout is None else replace(dataset, X=holdout.X_train)
    score_key = "cost" if algorithm == "kmeans" else "log_likelihood"
    best_per_k = []
    for K in dict.fromkeys(r.k for r in runs):
        best = best_of([r for r in runs if r.k == K], algorithm)
        row = {"k": K, "seed": best.seed, score_key: best.score}
        if algorithm != "kmeans":
            row["bic"] = bic(fitted.X, best.mixture, best.score)
        if algorithm == "em":
            row.update(completion_scores(fitted, best.mixture))
            if holdout is not None:
                X_pred = em.fill_matrix(holdout.X_train, best.mixture)
                row["rmse_holdout"] = holdout_rmse(dataset.X, holdout, X_pred)
        else:
            row.update({"rmse": None, "rmse_missing": None})
        best_per_k.append(row)
    summary = {
        "dataset": dataset.name,
        "algorithm": algorithm,
        "runs": [
            {"k": r.k, "seed": r.seed, score_key: r.score, "iterations": r.iterations, "seconds": round(r.seconds, 6)}
            for r in runs
        ],
        "best_per_k": best_per_k,
    }
    if holdout is not None:
        summary["holdout"] = {"fraction": holdout.fraction, "seed": holdout.seed, "n_hidden": holdout.n_hidden}
        summary["baselines_holdout"] = dict(baselines_holdout or {})
    return summary


def check_ks(ks, n: int, source: str | None = None) -> list[int]:
    """Each K checked by :func:`~em_core.validation.check_k`; ``source`` names the data in messages."""
    return [check_k(K, n, source) for K in ks]
