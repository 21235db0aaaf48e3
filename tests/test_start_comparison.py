"""em_core.start_comparison: each start fitted as em_core.experiment.fit fits it, in order; the gaps to the best."""

from __future__ import annotations

import numpy as np
import pytest

from em_core import experiment, scenarios
from em_core.errors import DataError
from em_core.start_comparison import SAME_OPTIMUM, StartRun, compare_starts, gaps_to_best

X = scenarios.draw("scenario-outlier").X


@pytest.mark.parametrize("covariance_type", ["spherical", "full"])
def test_each_start_is_one_fit_from_that_start(covariance_type):
    means = np.array([[-2.0, 0.0], [2.0, 0.5]])
    runs = compare_starts(X, 2, covariance_type, seeds=[0, 3], means=means)
    assert [run.label for run in runs] == [
        "course, seed 0",
        "course, seed 3",
        "kmeans++, seed 0",
        "kmeans++, seed 3",
        "hand",
    ]
    starts = [("course", 0), ("course", 3), ("kmeans++", 0), ("kmeans++", 3), (means, 0)]
    for run, (init_with, seed) in zip(runs, starts, strict=True):
        expected = experiment.fit(X, "naive-em", 2, seed, init_with=init_with, covariance_type=covariance_type)
        assert run.log_likelihood == expected.score and run.iterations == expected.iterations
        assert run.converged


def test_without_placed_means_there_is_no_hand_start_and_progress_counts_every_run():
    seen = []
    runs = compare_starts(X, 3, seeds=[0, 1], on_run=lambda run, done, total: seen.append((run.label, done, total)))
    assert [run.init for run in runs] == ["course", "course", "kmeans++", "kmeans++"]
    assert seen == [(run.label, i + 1, 4) for i, run in enumerate(runs)]


def test_placed_means_are_checked_with_a_message_that_names_the_fix():
    with pytest.raises(DataError, match=r"row 2 repeats the mean of row 1 .*give 2 different means"):
        compare_starts(X, 2, means=[[0.0, 0.0], [0.0, 0.0]])
    with pytest.raises(DataError, match="covariance type must be one of spherical, diag, full"):
        compare_starts(X, 2, "tied")


def test_gaps_to_best_are_zero_within_the_tolerance_and_negative_below_it():
    best = -1000.0
    runs = [
        StartRun("course", 0, best, 10, True),
        StartRun("course", 1, best - 0.5 * SAME_OPTIMUM * 1000, 12, True),  # the same optimum, stopped a little early
        StartRun("kmeans++", 0, best - 3.0, 9, True),  # a worse optimum
    ]
    np.testing.assert_array_equal(gaps_to_best(runs), [0.0, 0.0, -3.0])


def test_k3_on_the_outlier_scenario_has_starts_that_end_in_different_optima():
    gaps = gaps_to_best(compare_starts(X, 3))
    assert (gaps == 0).any() and (gaps < -10).any()


def test_a_stop_leaves_out_the_cut_short_run_and_the_starts_not_run():
    from em_core.data import load_dataset

    X = load_dataset("demo-2d").X
    full = compare_starts(X, 3, seeds=[0, 1])
    calls = []

    def stop_in_the_second_run():
        calls.append(1)
        return len(calls) > full[0].iterations + 3  # the first run asks before each iteration, then more

    partial = compare_starts(X, 3, seeds=[0, 1], should_stop=stop_in_the_second_run)
    assert partial == full[:1]
