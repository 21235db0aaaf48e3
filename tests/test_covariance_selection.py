"""em_core.covariance_selection: one sweep per type, BIC with each type's parameter count, the best (type, K)."""

from __future__ import annotations

import numpy as np
import pytest

from em_core import covariance_em, experiment, scenarios
from em_core.covariance_selection import select_covariance

X = scenarios.draw("scenario-long-thin").X


def test_rows_are_each_types_best_seed_scored_by_its_own_bic():
    ks, seeds = [1, 2, 3], [0, 1]
    selection = select_covariance(X, ks, seeds)
    assert [(row.covariance_type, row.k) for row in selection.rows] == [
        (t, k) for t in covariance_em.COVARIANCE_TYPES for k in ks
    ]
    for row in selection.rows:
        runs = [experiment.fit(X, "naive-em", row.k, seed, covariance_type=row.covariance_type) for seed in seeds]
        best = experiment.best_of(runs, "naive-em")
        assert row.log_likelihood == best.score and row.seed == best.seed
        assert row.n_parameters == covariance_em.n_parameters(row.k, 2, row.covariance_type)
        assert row.bic == pytest.approx(best.score - 0.5 * row.n_parameters * np.log(X.shape[0]), rel=1e-12)
    assert (selection.best.covariance_type, selection.best.k) == ("full", 2)


def test_parameter_counts_are_the_textbook_ones():
    # K = 3 in d = 2: means 6, weights 2, and 3 / 6 / 9 covariance numbers
    assert [covariance_em.n_parameters(3, 2, t) for t in covariance_em.COVARIANCE_TYPES] == [11, 14, 17]


def test_a_fit_one_and_progress_are_used_for_every_run():
    calls, progress = [], []

    def fit_one(X, covariance_type, K, seed):
        calls.append((covariance_type, K, seed))
        return experiment.fit(X, "naive-em", K, seed, covariance_type=covariance_type)

    select_covariance(
        X, [1, 2], [0], ["spherical", "diag"], fit_one=fit_one, on_run=lambda t, r, d, n: progress.append((t, d, n))
    )
    assert calls == [("spherical", 1, 0), ("spherical", 2, 0), ("diag", 1, 0), ("diag", 2, 0)]
    assert progress == [("spherical", 1, 4), ("spherical", 2, 4), ("diag", 3, 4), ("diag", 4, 4)]


def test_mean_variance_is_the_variance_per_axis_of_every_type():
    spherical = experiment.fit(X, "naive-em", 2, 0).mixture
    np.testing.assert_array_equal(covariance_em.mean_variance(spherical), spherical.var)
    full = experiment.fit(X, "naive-em", 2, 0, covariance_type="full").mixture
    np.testing.assert_allclose(covariance_em.mean_variance(full), np.trace(full.cov, axis1=1, axis2=2) / 2)
    diag = covariance_em.with_covariance_type(spherical, "diag")
    np.testing.assert_allclose(covariance_em.mean_variance(diag), spherical.var)


def test_a_stop_keeps_the_types_and_ks_that_finished():
    # should_stop answers True from the fourth question on: three runs finish, the rest are left out
    from em_core.data import load_dataset

    X = load_dataset("demo-2d").X
    asked = []

    def stop_after_three():
        asked.append(1)
        return len(asked) > 3

    selection = select_covariance(X, [1, 2], [0, 1], should_stop=stop_after_three)
    full = select_covariance(X, [1, 2], [0, 1])
    assert selection.stopped and not full.stopped
    finished = [run for sweep in selection.sweeps.values() for run in sweep.runs]
    assert len(finished) == 3
    expected = list(full.sweeps["spherical"].runs)[:3]
    assert [(r.k, r.seed, r.score) for r in finished] == [(r.k, r.seed, r.score) for r in expected]
