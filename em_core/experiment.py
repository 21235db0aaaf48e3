"""The course experiment: fit several K and seeds, keep the best seed per K, score it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from em_core import em, kmeans, naive_em, stepping
from em_core.data import Dataset
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


def summarise(dataset: Dataset, algorithm: str, runs: list[RunResult]) -> dict:
    """The CLI's JSON object for a finished experiment."""
    score_key = "cost" if algorithm == "kmeans" else "log_likelihood"
    best_per_k = []
    for K in dict.fromkeys(r.k for r in runs):
        best = best_of([r for r in runs if r.k == K], algorithm)
        row = {"k": K, "seed": best.seed, score_key: best.score}
        if algorithm != "kmeans":
            row["bic"] = bic(dataset.X, best.mixture, best.score)
        if algorithm == "em":
            row.update(completion_scores(dataset, best.mixture))
        else:
            row.update({"rmse": None, "rmse_missing": None})
        best_per_k.append(row)
    return {
        "dataset": dataset.name,
        "algorithm": algorithm,
        "runs": [
            {"k": r.k, "seed": r.seed, score_key: r.score, "iterations": r.iterations, "seconds": round(r.seconds, 6)}
            for r in runs
        ],
        "best_per_k": best_per_k,
    }


def check_ks(ks, n: int, source: str | None = None) -> list[int]:
    """Each K checked by :func:`~em_core.validation.check_k`; ``source`` names the data in messages."""
    return [check_k(K, n, source) for K in ks]
