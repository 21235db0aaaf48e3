"""EM on incomplete data from several starts at once: one matrix product per step for all of them.

A sweep fits each K from several seeds. EM's steps never mix the components of two starts except
in the E-step's normalisation, which runs over each start's own components: so the starts'
components, stacked side by side into one mixture of ``S x K`` components, go through one E-step
product and one M-step product with the data, and the E-step normalises each start's block of
columns on its own. A product with ``S x K`` columns costs far less than ``S`` products with
``K`` (BLAS keeps more of each pass over the data busy): on the course's Netflix matrix, five
seeds of K = 12 together take about half the time of five fits one after the other.

Each start keeps its own log-likelihoods and its own stopping rule (the course's: the gain at
most 1e-6 |LL|), and leaves the batch when the rule holds; the rest go on with fewer columns.
The numbers are those of :func:`em_core.em.run` for each start up to the order of a sum inside
BLAS (a product with more columns may block its sums differently): the same iteration counts,
log-likelihoods within ~1e-15 of their size.

Where a step overflows or a log-likelihood is not finite, :func:`run` returns None: the caller
fits the starts one by one (:func:`em_core.experiment.fit`), which names the start and the
iteration in its error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from em_core import _kernels, em, sparse_kernels, stepping
from em_core.mixture import GaussianMixture
from em_core.validation import check_max_iter, check_min_variance


def _stacked(mixtures: Sequence[GaussianMixture]) -> GaussianMixture:
    """One mixture whose components are those of ``mixtures``, in order (weights are not renormalised)."""
    return GaussianMixture(
        np.concatenate([m.mu for m in mixtures]),
        np.concatenate([m.var for m in mixtures]),
        np.concatenate([m.p for m in mixtures]),
    )


def _estep(data, mixtures: Sequence[GaussianMixture]) -> list[tuple[np.ndarray, float]]:
    """Each start's posterior and log-likelihood, from one product with the data."""
    f = em.log_joint(data, _stacked(mixtures))
    out, start = [], 0
    for mixture in mixtures:
        block = np.ascontiguousarray(f[:, start : start + mixture.n_components])
        out.append(_kernels.normalise(block))
        start += mixture.n_components
    return out


def _mstep(data, posts: Sequence[np.ndarray], mixtures: Sequence[GaussianMixture], min_variance: float):
    """Each start's new mixture, from one product with the data (every M-step rule acts per component)."""
    new = em.mstep(data, np.concatenate(posts, axis=1), _stacked(mixtures), min_variance)
    out, start = [], 0
    for mixture in mixtures:
        block = slice(start, start + mixture.n_components)
        out.append(GaussianMixture(new.mu[block], new.var[block], new.p[block]))
        start += mixture.n_components
    return out


def run(
    X,
    starts: Sequence[tuple[GaussianMixture, np.ndarray]],
    min_variance: float = 0.25,
    max_iter: int | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> list[stepping.FitState] | None:
    """EM from every ``(mixture, post)`` in ``starts`` until each one's stopping rule holds.

    Parameters
    ----------
    X : ndarray of shape (n, d), CSR matrix, or the form :func:`em_core.em.prepare` made of either
        Ratings; 0 (or, in a CSR matrix, an entry not stored) means missing.
    starts : sequence of (GaussianMixture, ndarray of shape (n, K))
        The initial mixture and posterior of each fit (any K, e.g. from
        :func:`em_core.initialisation.initial_mixture`).
    max_iter : int, optional
        Each fit's iteration cap (:data:`em_core.stepping.MAX_ITER` when None).
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before every iteration; True ends every fit still going,
        marked ``interrupted``.

    Returns
    -------
    list of FitState, or None
        One per start, in order, as :func:`em_core.stepping.run` would leave it (``converged``,
        ``stopped_by_cap`` or ``interrupted``; the history holds the last mixture only). None when
        a step overflowed or a log-likelihood was not finite: fit the starts one by one instead.
    """
    min_variance = check_min_variance(min_variance)
    max_iter = check_max_iter(max_iter) or stepping.MAX_ITER
    rule = stepping.relative_gain_converged(em.TOL)
    data = X if isinstance(X, (_kernels.Prepared, sparse_kernels.Prepared)) else em.prepare(X)
    states = [stepping.start(mixture, post, max_history=1) for mixture, post in starts]
    going = list(range(len(states)))
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            while going:
                if should_stop is not None and should_stop():
                    for i in going:
                        states[i] = replace(states[i], interrupted=True)
                    break
                mixtures = [states[i].mixture for i in going]
                estep = _estep(data, mixtures)
                if not all(np.isfinite(score) for _, score in estep):
                    return None
                new = _mstep(data, [post for post, _ in estep], mixtures, min_variance)
                still = []
                for i, (post, score), mixture in zip(going, estep, new, strict=True):
                    scores = states[i].scores + (score,)
                    converged = len(scores) >= 2 and rule(scores[-2], scores[-1])
                    iteration = states[i].iteration + 1
                    states[i] = replace(
                        states[i],
                        mixture=mixture,
                        post=post,
                        scores=scores,
                        mixtures=(mixture,),
                        first_kept=iteration,
                        iteration=iteration,
                        converged=converged,
                        stopped_by_cap=not converged and iteration >= max_iter,
                    )
                    if not converged and iteration < max_iter:
                        still.append(i)
                going = still
    except FloatingPointError:
        return None
    return states
