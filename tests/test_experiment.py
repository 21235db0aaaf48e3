"""The workflows: one fit, a sweep over K x seeds with the best seed per K, the scores, and the CLI's JSON of it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from em_core import em, experiment, kmeans, naive_em
from em_core.cli import sweep_json
from em_core.data import Dataset, load_dataset
from em_core.errors import DataError
from em_core.experiment import (
    ALGORITHMS,
    BestRun,
    RunResult,
    Sweep,
    algorithm_for,
    best_of,
    check_ks,
    completion_scores,
    fit,
    sweep,
)
from em_core.mixture import GaussianMixture, bic, init, rmse

RUN_KEYS = {"k", "seed", "iterations", "seconds", "stopped_by_cap"}


def mixture_for(X: np.ndarray, K: int) -> GaussianMixture:
    """A valid mixture whose means are the first K rows of X."""
    return GaussianMixture(X[:K].astype(float), np.ones(K), np.full(K, 1.0 / K))


def run(k: int, seed: int, score: float, mixture: GaussianMixture) -> RunResult:
    return RunResult(k=k, seed=seed, mixture=mixture, score=score, iterations=3, seconds=0.01)


@pytest.fixture(scope="module")
def small() -> Dataset:
    return load_dataset("demo-small")


# ---------------------------------------------------------------- best_of


@pytest.mark.parametrize(
    ("algorithm", "best_seed"),
    [
        ("em", 1),  # highest log-likelihood
        ("naive-em", 1),
        ("kmeans", 0),  # lowest cost
    ],
)
def test_best_of_picks_highest_likelihood_or_lowest_cost(algorithm, best_seed, small):
    mixture = mixture_for(small.X, 2)
    runs = [run(2, 0, -5.0, mixture), run(2, 1, -3.0, mixture), run(2, 2, -4.0, mixture)]
    assert best_of(runs, algorithm).seed == best_seed


def test_best_of_ties_go_to_the_first_seed(small):
    mixture = mixture_for(small.X, 2)
    runs = [run(2, 7, -3.0, mixture), run(2, 3, -3.0, mixture)]
    assert best_of(runs, "em").seed == 7
    assert best_of(runs, "kmeans").seed == 7


# ---------------------------------------------------------------- fit


def test_fit_is_the_course_run_from_the_course_init(small):
    X = small.X
    for algorithm, course_run in (("em", em.run), ("kmeans", kmeans.run), ("naive-em", naive_em.run)):
        result = fit(X, algorithm, 3, seed=1)
        mixture, _, score = course_run(X, *init(X, 3, 1))
        assert (result.k, result.seed) == (3, 1)
        assert result.score == pytest.approx(score, rel=1e-12)
        np.testing.assert_allclose(result.mixture.mu, mixture.mu, rtol=1e-12)
        assert result.iterations >= 1


def test_fit_stops_at_max_iter_and_reports_each_iteration(small):
    seen = []
    result = fit(small.X, "em", 3, seed=0, max_iter=2, callback=lambda state: seen.append(state.iteration))
    assert result.iterations == 2
    assert seen == [1, 2]
    assert fit(small.X, "em", 3, seed=0).iterations > 2  # the cap did cut the run short


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_iter": 0}, "iteration limit must be a whole number >= 1, got 0"),
        ({"seed": -1}, "seed must be a whole number from 0 to 4294967295, got -1"),
        ({"seed": 2**32}, "got 4294967296"),
        ({"K": 0}, r"K must be between 1 and 20 \(the number of rows\), got 0"),
        ({"min_variance": -0.5}, "min variance must be a finite number >= 0"),
    ],
)
def test_fit_refuses_bad_settings_with_a_data_error(kwargs, message, small):
    settings = {"K": 2, "seed": 0} | kwargs
    with pytest.raises(DataError, match=message):
        fit(small.X, "em", **settings)


def test_unknown_algorithm_lists_the_choices():
    with pytest.raises(ValueError, match="unknown algorithm 'gmm'; choose one of kmeans, naive-em, em"):
        algorithm_for("gmm")
    for name in ALGORITHMS:
        assert algorithm_for(name).name == name


def test_check_ks_names_the_data():
    assert check_ks([1, 3], 3) == [1, 3]
    with pytest.raises(DataError, match=r"^ratings\.txt: K must be between 1 and 3 .* got 4; choose K from 1 to 3$"):
        check_ks([1, 4], 3, "ratings.txt")
    with pytest.raises(DataError, match="K must be a whole number, got 2.5"):
        check_ks([2.5], 3)


# ---------------------------------------------------------------- completion_scores


def test_completion_scores_compare_the_filled_matrix_with_gold(small):
    mixture = fit(small.X, "em", 2, seed=0).mixture
    filled = em.fill_matrix(small.X, mixture)
    scores = completion_scores(small.X, small.gold, filled)
    missing = small.X == 0
    assert scores.rmse_all == pytest.approx(rmse(small.gold, filled))
    assert scores.rmse_missing == pytest.approx(rmse(small.gold, filled, missing))
    # observed entries are kept, so all of the error sits in the missing ones
    assert scores.rmse_all**2 * small.X.size == pytest.approx(scores.rmse_missing**2 * missing.sum())


def test_rmse_missing_is_none_when_nothing_is_missing():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 5.0]])
    scores = completion_scores(X, X.copy(), em.fill_matrix(X, mixture_for(X, 2)))
    assert scores == (0.0, None)


# ---------------------------------------------------------------- sweep


def replay(runs: list[RunResult]):
    """A ``fit_one`` that hands out prepared runs in order (so a test controls every score)."""
    queue = iter(runs)
    return lambda X, algorithm, K, seed, min_variance, max_iter: next(queue)


def test_sweep_best_per_k_follows_the_scores(small):
    # hand-made runs: K=2 best at seed 1 (LL -3), K=1 best at seed 0; K order as given
    m1, m2 = mixture_for(small.X, 1), mixture_for(small.X, 2)
    runs = [run(2, 0, -5.0, m2), run(2, 1, -3.0, m2), run(1, 0, -8.0, m1), run(1, 1, -9.0, m1)]
    result = sweep(small.X, "em", [2, 1], [0, 1], fit_one=replay(runs))
    assert [(b.k, b.run.seed, b.run.score) for b in result.best_per_k] == [(2, 1, -3.0), (1, 0, -8.0)]
    assert result.best_per_k[0].bic == pytest.approx(bic(small.X, m2, -3.0))
    assert result.runs == tuple(runs)

    costs = sweep(small.X, "kmeans", [2, 1], [0, 1], fit_one=replay(runs))  # read as costs: the lowest wins
    assert [(b.k, b.run.seed) for b in costs.best_per_k] == [(2, 0), (1, 1)]
    assert all(b.bic is None for b in costs.best_per_k)


def test_sweep_reports_progress_after_every_run(small):
    seen = []
    sweep(small.X, "em", [1, 2], [0, 1, 2], on_run=lambda r, done, total: seen.append((r.k, r.seed, done, total)))
    assert seen == [(1, 0, 1, 6), (1, 1, 2, 6), (1, 2, 3, 6), (2, 0, 4, 6), (2, 1, 5, 6), (2, 2, 6, 6)]


def test_sweep_scores_the_best_em_run_against_gold_and_held_out_ratings(small):
    from em_core.holdout import hide, holdout_rmse

    split = hide(small.X, 0.2, seed=3)
    result = sweep(small.X, "em", [1, 3], [0, 1], gold=small.gold, holdout=split)
    for best in result.best_per_k:
        again = fit(split.X_train, "em", best.k, best.run.seed)  # fitted without the hidden ratings
        assert best.run.score == pytest.approx(again.score, rel=1e-12)
        filled = em.fill_matrix(split.X_train, again.mixture)
        assert best.completion == pytest.approx(completion_scores(split.X_train, small.gold, filled))
        assert best.rmse_holdout == pytest.approx(holdout_rmse(small.X, split, filled))
        assert best.bic == pytest.approx(bic(split.X_train, again.mixture, again.score))
    assert [s.name for s in result.baselines_holdout] == list(experiment.HOLDOUT_BASELINES)
    assert all(s.rmse is not None and s.error is None for s in result.baselines_holdout)


def test_sweep_refuses_a_k_above_the_rows_naming_the_data(small):
    with pytest.raises(DataError, match=r"^demo-small: K must be between 1 and 20"):
        sweep(small.X, "em", [1, 21], [0], name="demo-small")


@pytest.mark.parametrize(
    ("algorithm", "score_key", "best_keys", "scored"),
    [
        ("em", "log_likelihood", {"bic", "rmse", "rmse_missing"}, True),
        ("naive-em", "log_likelihood", {"bic", "rmse", "rmse_missing"}, False),  # no completion for complete data
        ("kmeans", "cost", {"rmse", "rmse_missing"}, False),  # no likelihood, so no BIC
    ],
)
def test_sweep_json_is_the_cli_contract(algorithm, score_key, best_keys, scored, small):
    result = sweep(small.X, algorithm, [1, 2], [0, 1], name="demo-small", gold=small.gold)
    summary = sweep_json(result)

    assert json.loads(json.dumps(summary, allow_nan=False)) == summary
    assert set(summary) == {"dataset", "algorithm", "shape", "observed", "runs", "best_per_k"}
    assert (summary["dataset"], summary["algorithm"]) == ("demo-small", algorithm)
    assert len(summary["runs"]) == 4
    for row, one in zip(summary["runs"], result.runs, strict=True):
        assert set(row) == RUN_KEYS | {score_key}
        assert (row["k"], row["seed"], row[score_key], row["iterations"]) == (
            one.k,
            one.seed,
            one.score,
            one.iterations,
        )
        assert row["seconds"] >= 0
    assert [b["k"] for b in summary["best_per_k"]] == [1, 2]
    for best in summary["best_per_k"]:
        assert set(best) == {"k", "seed", score_key} | best_keys
        assert (best["rmse"] is not None) == scored
        assert (best["rmse_missing"] is not None) == scored


def test_best_k_by_bic_is_the_k_with_the_highest_bic(small):
    m = mixture_for(small.X, 1)
    rows = tuple(BestRun(run(k, 0, -1.0, m), bic=value) for k, value in ((1, -30.0), (2, -12.5), (3, -20.0)))
    assert Sweep("x", "em", (), rows).best_k_by_bic() == 2
    with pytest.raises(ValueError, match="K-means has no likelihood"):
        Sweep("x", "kmeans", (), rows).best_k_by_bic()


def test_holdout_comparison_on_a_sparse_matrix_scores_every_method_as_the_dense_one_does():
    # a CSR rating matrix (MovieLens' form) gets the same scores as its dense form, baselines that
    # need the dense form included: before, they refused the CSR matrix and the CLI's --holdout failed
    import scipy.sparse as sp

    from tests.helpers import random_ratings

    X = random_ratings(60, 40, 0.7, seed=3)
    dense = experiment.holdout_comparison(X, K=3, seed=0, fraction=0.2, holdout_seed=1)
    sparse = experiment.holdout_comparison(sp.csr_matrix(X), K=3, seed=0, fraction=0.2, holdout_seed=1)
    assert [s.name for s in sparse.scores] == [s.name for s in dense.scores]
    for d, s in zip(dense.scores, sparse.scores, strict=True):
        assert s.error is None and d.error is None, (s, d)
        assert s.rmse == pytest.approx(d.rmse, rel=1e-9), s.name
