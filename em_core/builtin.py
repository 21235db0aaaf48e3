"""Data sets EM Lab generates itself, so a fresh clone has something to show.

All are drawn from explicit ``np.random.RandomState`` seeds, so they are the same on
every machine.
"""

from __future__ import annotations

import numpy as np

from em_core import scenarios


def blobs_2d(n: int = 300, seed: int = 2026) -> np.ndarray:
    """Complete 2-D points from four round clusters of different sizes and spreads.

    Returns
    -------
    X : ndarray of shape (n, 2)
    """
    rng = np.random.RandomState(seed)
    centres = np.array([[-3.0, 2.5], [2.5, 3.0], [0.5, -2.5], [4.5, -1.0]])
    spreads = np.array([0.8, 1.1, 0.9, 0.6])
    weights = np.array([0.3, 0.3, 0.25, 0.15])
    labels = rng.choice(len(centres), size=n, p=weights)
    return centres[labels] + spreads[labels, None] * rng.standard_normal((n, 2))


def planted_ratings(
    n_users: int, n_items: int, n_clusters: int, missing: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Ratings 1-5 from a planted mixture of user types, with entries missing at random.

    Each cluster has its own taste (a mean rating per item); a user's ratings are their
    cluster's tastes plus noise, rounded and clipped to 1-5. Every user keeps at least
    one observed rating.

    Returns
    -------
    X : ndarray of shape (n_users, n_items)
        Observed ratings, 0 = missing.
    gold : ndarray of shape (n_users, n_items)
        The complete ratings.
    """
    rng = np.random.RandomState(seed)
    item_mean = rng.uniform(2.2, 4.3, size=n_items)
    tastes = item_mean[None, :] + rng.normal(0.0, 0.9, size=(n_clusters, n_items))
    labels = rng.choice(n_clusters, size=n_users, p=rng.dirichlet(np.full(n_clusters, 5.0)))
    noisy = tastes[labels] + rng.normal(0.0, 0.55, size=(n_users, n_items))
    gold = np.clip(np.rint(noisy), 1, 5)
    hidden = rng.random_sample((n_users, n_items)) < missing
    keep = rng.randint(n_items, size=n_users)
    hidden[np.arange(n_users), keep] = False
    X = np.where(hidden, 0.0, gold)
    return X, gold


def small_ratings() -> tuple[np.ndarray, np.ndarray]:
    """A 20 x 5 rating matrix from three user types, about 25 % missing, with its gold."""
    return planted_ratings(20, 5, 3, 0.25, seed=7)


def large_ratings() -> tuple[np.ndarray, np.ndarray]:
    """A 1200 x 1200 rating matrix from 12 user types, about 23 % missing, with its gold."""
    return planted_ratings(1200, 1200, 12, 0.23, seed=612)


def scenario_points(name: str) -> np.ndarray:
    """The points of the scenario ``name`` (:data:`em_core.scenarios.SCENARIOS`), drawn with its default seed.

    Returns
    -------
    X : ndarray of shape (n, 2)
    """
    return scenarios.draw(name).X
