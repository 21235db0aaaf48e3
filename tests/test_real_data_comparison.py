"""The held-out comparison of EM variants and baselines on real data, and the numbers that explain the
course model's score: against the existing held-out workflow, loop references, and MovieLens latest-small."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from em_core import baselines, experiment
from em_core.data import load_dataset
from em_core.errors import DataError
from em_core.holdout import hide, holdout_rmse
from em_core.real_data_comparison import ComparisonStoppedError, compare, diagnose, explain, table
from em_core.real_data_options import COURSE, EMOptions, complete, fit, standard_variants
from tests.helpers import movielens_missing_reason, movielens_small_dir, random_ratings

FAST = baselines.SPARSE_METHODS  # the baselines that take a second at most


def ratings(seed=0):
    X = random_ratings(70, 45, 0.75, seed)
    X[:, 4] = 0.0  # an item nobody rated
    return X


def test_rows_are_the_variants_per_k_then_the_baselines():
    result = compare(ratings(), [1, 3], standard_variants(2.0), holdout_seeds=[0, 1], methods=FAST)
    names = [(row.name, row.k) for row in result.rows]
    variants = [f"em:{v.name}" for v in standard_variants(2.0)]
    assert names == [(v, k) for k in (1, 3) for v in variants] + [(m, None) for m in FAST]
    assert all(len(row.rmse) == 2 and row.error is None for row in result.rows)
    assert result.n_hidden == (hide(ratings(), 0.1, 0).n_hidden, hide(ratings(), 0.1, 1).n_hidden)


def test_course_row_is_holdout_comparisons_em_score_and_baselines_match():
    X = ratings()
    result = compare(X, [3], [COURSE], seeds=[2], holdout_seeds=[5], fraction=0.2, methods=baselines.NUMPY_METHODS)
    reference = experiment.holdout_comparison(X, 3, 2, fraction=0.2, holdout_seed=5, methods=baselines.NUMPY_METHODS)
    by_name = {score.name: score.rmse for score in reference.scores}
    assert result.row("em:course", 3).rmse == (by_name["em"],)
    for name in baselines.NUMPY_METHODS:
        assert result.row(name).rmse[0] == pytest.approx(by_name[name], rel=1e-12)
    # the printed table numbers its splits from 1, as the explanation does ("split 1 of 3"); the header names the seed
    text = table(result)
    assert "holdout seeds 5" in text and "   split 1 " in text and "split 5" not in text


def test_em_keeps_its_best_seed_by_log_likelihood():
    X = ratings(3)
    split = hide(X, 0.1, 0)
    options = EMOptions(residuals=True)
    fits = [fit(split.X_train, 4, seed, options) for seed in (0, 1, 2)]
    best = max(fits, key=lambda f: f.log_likelihood)
    expected = holdout_rmse(X, split, complete(split.X_train, best))
    result = compare(X, [4], [options], seeds=[0, 1, 2], methods=["global_mean"])
    assert result.row("em:residuals", 4).rmse == (expected,)


def test_dense_and_sparse_give_the_same_table():
    X = ratings(1)
    dense = compare(X, [2], standard_variants(2.0), methods=FAST)
    sparse = compare(sp.csr_matrix(X), [2], standard_variants(2.0), methods=FAST)
    for a, b in zip(dense.rows, sparse.rows, strict=True):
        assert (a.name, a.k) == (b.name, b.k)
        np.testing.assert_allclose(b.rmse, a.rmse, rtol=1e-9)


def test_progress_counts_every_fit_and_baseline():
    seen = []
    compare(ratings(), [1, 2], [COURSE], seeds=[0, 1], methods=FAST, on_progress=lambda *args: seen.append(args))
    total = 2 * 2 + len(FAST)
    assert [done for done, _, _ in seen] == list(range(1, total + 1))
    assert {t for _, t, _ in seen} == {total}


def test_a_failing_baseline_is_reported_and_the_rest_still_run(monkeypatch):
    def broken(X):
        raise np.linalg.LinAlgError("SVD did not converge")

    monkeypatch.setitem(baselines.METHODS, "soft_impute", ("Soft-Impute", broken))
    result = compare(ratings(), [2], [COURSE], methods=["item_mean", "soft_impute"])
    assert result.row("soft_impute").error == "LinAlgError: SVD did not converge"
    assert np.isnan(result.row("soft_impute").mean_rmse)
    assert result.row("item_mean").error is None
    assert "(LinAlgError: SVD did not converge)" in table(result)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"methods": ["svd"]}, r"baselines from global_mean, .* \(unknown: 'svd'\)"),
        ({"variants": [COURSE, EMOptions()]}, r"each variant may appear once, got course, course; drop the repeats"),
        ({"variants": []}, r"variants must be a non-empty list of EMOptions"),
        ({"fraction": 1.5}, r"the held-out fraction must be a number strictly between 0 and 1, got 1.5"),
        ({"ks": [500]}, r"K"),
    ],
)
def test_bad_settings_are_refused_in_one_line(kwargs, message):
    arguments = {"ks": [2], **kwargs}
    with pytest.raises(DataError, match=message):
        compare(ratings(), **arguments)


# ---------------------------------------------------------------- the diagnosis, against loops


def test_diagnosis_numbers_match_a_loop_reference():
    X = ratings(2)
    split = hide(X, 0.1, 0)
    result = fit(split.X_train, 6, 0, COURSE)
    diagnosis = diagnose(split.X_train, result, X, split.hidden)
    observed = split.X_train != 0
    K, d = result.mixture.mu.shape
    kept = zero = 0
    for j in range(K):
        for i in range(d):
            support = sum(result.post[u, j] for u in range(X.shape[0]) if observed[u, i])
            if support < 1 and result.mixture.mu[j, i] == result.initial.mu[j, i]:
                kept += 1
                zero += result.initial.mu[j, i] == 0
    assert diagnosis.share_kept == pytest.approx(kept / (K * d))
    assert diagnosis.share_zero == pytest.approx(zero / (K * d))
    assert diagnosis.n_collapsed == sum(result.mixture.p[j] * X.shape[0] <= 1 + 1e-9 for j in range(K))
    X_pred = complete(split.X_train, result)
    predicted, truth = X_pred[split.hidden], X[split.hidden]
    assert diagnosis.n_hidden == split.n_hidden
    assert diagnosis.n_low == int((predicted < 1.0).sum())
    assert diagnosis.mean_prediction == pytest.approx(predicted.mean())
    assert diagnosis.mean_hidden == pytest.approx(truth.mean())


# ---------------------------------------------------------------- MovieLens latest-small


@pytest.fixture(scope="module")
def movielens():
    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    return sp.csr_matrix(load_dataset(str(folder / "ratings.csv")).X)


def test_on_movielens_every_option_beats_the_course_and_the_diagnosis_explains_it(movielens):
    result = compare(movielens, [12], standard_variants(), methods=FAST, name="movielens-small")
    course = result.row("em:course", 12).mean_rmse
    # measured (split 0, seed 0): course 1.204, item-mean start 1.036, prior 0.962, residuals 0.89, all three 0.88
    for options in standard_variants()[1:]:
        assert result.row(f"em:{options.name}", 12).mean_rmse < course - 0.15
    assert course > result.row("user_mean").mean_rmse + 0.2  # the course's model loses to the user mean ...
    (diagnosis,) = result.diagnoses
    assert diagnosis.share_zero > 0.8  # ... because most of its means are still initial zeros (measured 91 %)
    assert diagnosis.n_collapsed >= K_COLLAPSED_AT_LEAST
    assert diagnosis.low_error_share > 0.3  # the few predictions below 0.5 carry much of its error (40 %)
    text = table(result)
    assert "Supports below 1 keep initial values" in text and result.verdict in text


#: Measured 8 of 12 components collapsed on split 0; half of them is a safe floor.
K_COLLAPSED_AT_LEAST = 4


def test_should_stop_ends_the_comparison_saying_how_far_it_got():
    asked = []

    def stop_at_the_third_question() -> bool:
        asked.append(True)
        return len(asked) == 3

    with pytest.raises(ComparisonStoppedError, match=r"stopped after 2 of 5 fits and baselines"):
        compare(ratings(), [2], [COURSE], seeds=[0, 1], methods=FAST[:3], should_stop=stop_at_the_third_question)


@pytest.mark.parametrize("holdout_seeds", [[0], [0, 1, 2]])
def test_the_explanation_gives_the_scores_of_the_split_it_describes_and_says_which(holdout_seeds):
    """The diagnosis is a fit on the first split: its opening sentence quotes that split's scores (not the
    means over splits the chart and table show) and, with several splits, says so."""
    result = compare(ratings(2), [3], [COURSE], holdout_seeds=holdout_seeds, methods=["user_mean", "item_mean"])
    [diagnosis] = result.diagnoses
    first = explain(result, diagnosis)[0]
    scores = [result.row(name, k).rmse[0] for name, k in (("em:course", 3), ("user_mean", None), ("item_mean", None))]
    assert all(f"{score:.3f}" in first for score in scores), first
    assert ("split 1 of 3" in first) == (len(holdout_seeds) == 3), first
