"""The reference for every test of K-means beside EM: each algorithm stepped on its own, not em_core.lockstep."""

from __future__ import annotations

import numpy as np

from em_core import kmeans, naive_em, stepping
from em_core.initialisation import initial_mixture


def separate_runs(X: np.ndarray, K: int, seed: int, init_with, steps: int):
    """K-means and EM from em_core's initial mixture, ``steps`` iterations each (a converged fit stays).

    Returns
    -------
    (FitState, FitState)
        K-means' and EM's states.
    """
    mixture, post = initial_mixture(X, K, seed, init_with)
    km, em = stepping.start(mixture, post), stepping.start(mixture, post)
    km_algo, em_algo = kmeans.algorithm(), naive_em.algorithm()
    for _ in range(steps):
        km, em = stepping.step(km_algo, X, km), stepping.step(em_algo, X, em)
    return km, em


def disagreements(km: stepping.FitState, em: stepping.FitState) -> int:
    """How many points' hard cluster is not their EM argmax (counted here, not by em_core)."""
    return int(np.count_nonzero(np.argmax(km.post, axis=1) != np.argmax(em.post, axis=1)))
