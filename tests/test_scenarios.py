"""em_core.scenarios: seeded, shaped as described, and each teaches what its sentence says (checked by fitting)."""

from __future__ import annotations

import numpy as np
import pytest

from em_core import covariance_em, experiment, scenarios
from em_core.data import BUILTIN, load_dataset
from em_core.errors import DataError

NAMES = list(scenarios.SCENARIOS)
SEEDS = range(5)


def best_fit(X: np.ndarray, K: int, covariance_type: str) -> experiment.RunResult:
    """The best of the course's seeds 0-4 (highest LL), as the course picks a run."""
    runs = [experiment.fit(X, "naive-em", K, seed, covariance_type=covariance_type) for seed in SEEDS]
    return experiment.best_of(runs, "naive-em")


def agreement(X: np.ndarray, mixture, labels: np.ndarray) -> float:
    """Share of points whose strongest component matches the component that drew them (best of the 2 pairings)."""
    post, _ = covariance_em.estep(X, mixture)
    strongest = post.argmax(axis=1)
    return max(np.mean(strongest == labels), np.mean(strongest == 1 - labels))


@pytest.mark.parametrize("name", NAMES)
def test_a_scenario_is_the_same_for_a_seed_and_differs_across_seeds(name):
    first, again, other = scenarios.draw(name, 3), scenarios.draw(name, 3), scenarios.draw(name, 4)
    np.testing.assert_array_equal(first.X, again.X)
    assert not np.array_equal(first.X, other.X)
    assert first.X.ndim == 2 and first.X.shape[1] == 2 and np.isfinite(first.X).all()
    assert first.labels.shape == (first.X.shape[0],)


@pytest.mark.parametrize("name", NAMES)
def test_each_scenario_is_a_builtin_points_set_whose_description_gives_its_size(name):
    dataset = load_dataset(name)
    np.testing.assert_array_equal(dataset.X, scenarios.draw(name).X)
    assert dataset.kind == "points" and dataset.gold is None
    description, kind = BUILTIN[name]
    assert kind == "points" and f"{dataset.X.shape[0]} points" in description
    scenario = scenarios.scenario(name)
    # one sentence of what it teaches, and a K no larger than the clusters that drew it
    assert scenario.teaches.endswith(".") and scenario.teaches.count(". ") == 0
    assert 1 <= scenario.k <= len(np.unique(scenarios.draw(name).labels))


def test_long_thin_spherical_fails_and_full_succeeds():
    drawn = scenarios.draw("scenario-long-thin")
    X = drawn.X
    spherical, full = best_fit(X, 2, "spherical"), best_fit(X, 2, "full")
    # full wins by BIC although it pays for 4 more parameters, and by far on LL
    full_bic = covariance_em.bic(X, full.mixture, full.score)
    assert full_bic > covariance_em.bic(X, spherical.mixture, spherical.score) + 100
    # full recovers the two clusters; spherical cuts the long one and mixes it with the round one
    assert agreement(X, full.mixture, drawn.labels) > 0.98
    assert agreement(X, spherical.mixture, drawn.labels) < 0.75
    # the fitted long axis points along the cluster (30 degrees) and is about its length (sd 3)
    long_component = int(np.argmax(full.mixture.p))
    values, vectors = np.linalg.eigh(full.mixture.cov[long_component])
    angle = np.degrees(np.arctan2(vectors[1, 1], vectors[0, 1])) % 180
    assert abs(angle - 30) < 3 and abs(np.sqrt(values[1]) - 3.0) < 0.3


def test_overlap_leaves_points_shared_between_the_components():
    X = scenarios.draw("scenario-overlap").X
    fit = best_fit(X, 2, "spherical")
    post, _ = covariance_em.estep(X, fit.mixture)
    shared = np.mean(post.max(axis=1) < 0.8)  # neither component holds these points with 80 %
    assert 0.05 < shared < 0.5


def test_the_outlier_widens_the_component_that_claims_it():
    X = scenarios.draw("scenario-outlier").X
    with_outlier, without = best_fit(X, 2, "spherical"), best_fit(X[:-1], 2, "spherical")
    post, _ = covariance_em.estep(X, with_outlier.mixture)
    claims = int(post[-1].argmax())
    nearest_without = int(np.argmin(np.linalg.norm(without.mixture.mu - with_outlier.mixture.mu[claims], axis=1)))
    assert with_outlier.mixture.var[claims] > 2.5 * without.mixture.var[nearest_without]
    assert np.linalg.norm(with_outlier.mixture.mu[claims] - without.mixture.mu[nearest_without]) < 0.1
    # with K = 3, the best run gives the outlier a component of its own, weight 1/n
    three = best_fit(X, 3, "spherical")
    assert np.min(three.mixture.p) == pytest.approx(1 / X.shape[0], rel=0.05)


def test_the_weights_learn_the_sizes():
    X = scenarios.draw("scenario-sizes").X
    fit = best_fit(X, 2, "spherical")
    np.testing.assert_allclose(np.sort(fit.mixture.p), [0.1, 0.9], atol=0.01)


def test_an_unknown_scenario_names_the_choices():
    with pytest.raises(DataError, match=r"unknown scenario 'scenario-spiral'; choose one of scenario-overlap, "):
        scenarios.draw("scenario-spiral")
