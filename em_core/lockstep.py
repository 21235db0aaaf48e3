"""K-means and EM on complete data, stepped in lockstep from the same starting means.

Both fits start from one mixture (:func:`em_core.initialisation.initial_mixture`: the course's
init, k-means++ or means given by hand), so component j of EM and cluster j of K-means begin at
the same mean and keep the same index: a point's hard cluster and its EM argmax can be compared
directly. One step advances each fit by one iteration (an assignment and an update for K-means,
an E-step and an M-step for EM); a fit whose own stopping rule has held stays where it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from em_core import kmeans, naive_em, stepping
from em_core.initialisation import initial_mixture


@dataclass(frozen=True)
class Lockstep:
    """The two fits, as immutable :class:`~em_core.stepping.FitState` snapshots.

    Attributes
    ----------
    kmeans : FitState
        Scores are costs (one per iteration, from its update).
    em : FitState
        Scores are log-likelihoods (one per iteration, from its E-step).
    """

    kmeans: stepping.FitState
    em: stepping.FitState

    @property
    def iteration(self) -> int:
        """Steps taken: the larger of the two fits' iteration counts."""
        return max(self.kmeans.iteration, self.em.iteration)

    @property
    def converged(self) -> bool:
        """Both stopping rules have held."""
        return self.kmeans.converged and self.em.converged


class Algorithms:
    """The two steppable algorithms of a lockstep fit (keep one per fit: they cache the prepared data)."""

    def __init__(self) -> None:
        self.kmeans = kmeans.algorithm()
        self.em = naive_em.algorithm()


def start(X: np.ndarray, K: int, seed: int = 0, init_with="course") -> Lockstep:
    """Both fits at iteration 0, from the same initial mixture.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Complete data.
    K : int
    seed : int
        Seed of the course's or k-means++'s draw (ignored for means given by hand).
    init_with : {"course", "kmeans++"} or ndarray of shape (K, d)
        See :func:`em_core.initialisation.initial_mixture`.
    """
    mixture, post = initial_mixture(X, K, seed, init_with)
    return Lockstep(stepping.start(mixture, post), stepping.start(mixture, post))


def step(algorithms: Algorithms, X: np.ndarray, pair: Lockstep) -> Lockstep:
    """One iteration of each fit that has not converged."""
    return replace(
        pair,
        kmeans=stepping.step(algorithms.kmeans, X, pair.kmeans),
        em=stepping.step(algorithms.em, X, pair.em),
    )


def views(
    algorithms: Algorithms, X: np.ndarray, pair: Lockstep, iteration: int
) -> tuple[stepping.IterationView, stepping.IterationView]:
    """Each fit as it stood after ``iteration`` steps (a fit that stopped earlier: as it stopped)."""
    return (
        stepping.view(algorithms.kmeans, X, pair.kmeans, min(iteration, pair.kmeans.iteration)),
        stepping.view(algorithms.em, X, pair.em, min(iteration, pair.em.iteration)),
    )


def disagreements(hard_post: np.ndarray, soft_post: np.ndarray) -> np.ndarray:
    """The points whose K-means cluster is not their most responsible EM component.

    Parameters
    ----------
    hard_post : ndarray of shape (n, K)
        K-means' one-hot assignments.
    soft_post : ndarray of shape (n, K)
        EM's responsibilities (a tie goes to the lower index, as ``argmax`` does).

    Returns
    -------
    ndarray of int, shape (m,)
        0-based indices of the points that differ.
    """
    return np.flatnonzero(np.argmax(hard_post, axis=1) != np.argmax(soft_post, axis=1))
