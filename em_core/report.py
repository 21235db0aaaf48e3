"""Check your own numbers: em_core's fit printed in the layout of the course's ``test_solutions.txt``.

The course printed its expected numbers with plain ``print`` calls: a header per stage, each
array as numpy prints it (``str(ndarray)``, 8 digits), each scalar as Python prints it. A
student who prints their own implementation the same way can diff the two texts line by line.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from em_core import em
from em_core.data import check_gold
from em_core.mixture import GaussianMixture, init, rmse
from em_core.validation import check_has_observed, check_k, check_matrix, check_min_variance, check_seed

#: numpy's default print options (``np.set_printoptions`` at import time), so a caller that
#: changed them globally still gets the course's layout.
NUMPY_DEFAULT_PRINT = {
    "precision": 8,
    "threshold": 1000,
    "edgeitems": 3,
    "linewidth": 75,
    "suppress": False,
    "nanstr": "nan",
    "infstr": "inf",
    "sign": "-",
    "floatmode": "maxprec",
    "formatter": None,
    "legacy": False,
}


def _matrix(name: str, array: np.ndarray) -> str:
    """``Name:`` on its own line, then the array (how the course prints matrices)."""
    return f"{name}:\n{np.array_str(array)}"


def _vector(name: str, array: np.ndarray) -> str:
    """``Name: [...]`` on one line (how the course prints vectors)."""
    return f"{name}: {np.array_str(array)}"


def _mixture(mixture: GaussianMixture) -> list[str]:
    return [_matrix("Mu", mixture.mu), _vector("Var", mixture.var), _vector("P", mixture.p)]


def course_report(
    X: np.ndarray,
    K: int = 4,
    seed: int = 0,
    X_gold: np.ndarray | None = None,
    min_variance: float = 0.25,
    should_stop: Callable[[], bool] | None = None,
) -> str:
    """The course's ``test_solutions.txt`` layout, with em_core's numbers for ``X``.

    Sections, in order: ``Input:`` (X, K and the initial Mu, Var, P), ``After first E-step:``
    (post, LL), ``After first M-step:`` (Mu, Var, P) and ``After a run`` (Mu, Var, P, post, LL
    of :func:`em_core.em.run`), then, when ``X_gold`` is given, ``X_gold``, ``X_pred`` (from
    :func:`em_core.em.fill_matrix`) and ``RMSE`` over all entries, as the course scores it.
    Arrays are printed with numpy's default options (large ones are abbreviated with ``...``,
    as numpy does); the text ends with a newline.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    K : int
        Number of components, ``1 <= K <= n``.
    seed : int
        Seed of :func:`em_core.mixture.init`.
    X_gold : ndarray of shape (n, d), optional
        The complete matrix; it must agree with every observed entry of X.
    min_variance : float
        The variance floor of the M-step.
    should_stop : callable, optional
        Asked before every iteration of the run; True raises
        :class:`~em_core.stepping.InterruptedRunError` (see :func:`em_core.em.run`).
    """
    X = check_has_observed(check_matrix(X, "X"), "X")
    K = check_k(K, X.shape[0])
    seed = check_seed(seed)
    min_variance = check_min_variance(min_variance)
    if X_gold is not None:
        X_gold = check_gold(X, check_matrix(X_gold, "X_gold"), "X", "X_gold")

    start, uniform = init(X, K, seed)
    first_post, first_ll = em.estep(X, start)
    first_mixture = em.mstep(X, first_post, start, min_variance)
    fitted, post, log_likelihood = em.run(X, start, uniform, min_variance, should_stop)

    with np.printoptions(**NUMPY_DEFAULT_PRINT):
        lines = ["Input:", _matrix("X", X), f"K: {K}", *_mixture(start), ""]
        lines += ["After first E-step:", _matrix("post", first_post), f"LL:{float(first_ll)}", ""]
        lines += ["After first M-step:", *_mixture(first_mixture), ""]
        lines += ["After a run", *_mixture(fitted), _matrix("post", post), f"LL: {float(log_likelihood)}"]
        if X_gold is not None:
            X_pred = em.fill_matrix(X, fitted)
            lines += [_matrix("X_gold", X_gold), _matrix("X_pred", X_pred), f"RMSE: {rmse(X_gold, X_pred)}"]
    return "\n".join(lines) + "\n"
