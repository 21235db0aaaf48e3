"""EM for a mixture of spherical Gaussians on incomplete data (0 = missing).

Each user contributes only their observed coordinates. The E-step works in the log
domain; the M-step updates a mean coordinate only where its support
``sum_u p(j|u) [i observed for u]`` is at least 1, and floors every variance at
``min_variance``.

Where the course's formulas give NaN, em_core stays finite and says so: a component with
no observed weight at all (``sum_u p(j|u) |C_u| = 0``, e.g. a fully missing matrix; the
course's variance is 0/0) keeps its previous variance; with ``min_variance=0`` a variance
of exactly 0 (the course divides by it in the next E-step) becomes
:data:`~em_core.mixture.VAR_FLOOR`, or the previous variance where that is smaller, and
none goes below 1e-300 of the largest squared distance a row can have to the mean (where
the next E-step would overflow). Everywhere else the numbers are the course's.

Speed: the matrix is prepared once (column shift, mask, row norms; see
``em_core._kernels``). :func:`algorithm` keeps the prepared form in its cache for as
long as the same matrix comes back, so keep one algorithm per fit. The public
:func:`estep` and :func:`mstep` share one such cache too. Either cache compares each
matrix with its own copy of the one it prepared, so a matrix modified in place is
prepared again, never answered from stale data.

Sparse: every ``X`` here may also be a ``scipy.sparse`` CSR matrix whose stored entries are
the observed ratings (no stored 0). The steps then run on
:mod:`em_core.sparse_kernels` (memory and time in proportion to the ratings, not to n x d)
and give the same numbers to rounding; :func:`em_core.sparse_ratings.as_form` chooses or
forces the form, and :mod:`em_core.sparse_completion` completes chosen users or each
user's top-N unseen items without the dense n x d matrix.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np

from em_core import _kernels, sparse_kernels, stepping
from em_core.mixture import VAR_FLOOR, GaussianMixture
from em_core.sparse_ratings import as_form, is_sparse
from em_core.validation import check_matrix, check_min_variance

#: The course's stopping rule: stop when the LL gain is <= TOL * |LL|.
TOL = 1e-6
#: Added to the weights inside the log, as in the course.
LOG_EPS = 1e-16


def observed_mask(X: np.ndarray) -> np.ndarray:
    """The (n, d) float 0/1 mask of observed (non-zero) entries."""
    return (X != 0).astype(float)


#: The prepared form behind the public :func:`estep`, :func:`mstep` and :func:`fill_matrix`
#: on raw arrays (reused while the same matrix, unchanged, comes back).
_PUBLIC_CACHE = _kernels.Cache(missing_as_zero=True)
#: The same for a CSR matrix, whose stored entries are the ratings (see :mod:`em_core.sparse_kernels`).
_SPARSE_CACHE = sparse_kernels.Cache()


def prepare(X: np.ndarray) -> _kernels.Prepared:
    """The matrix prepared once for every step of a fit (column shift, mask of the observed entries, row norms).

    It holds its own copy of ``X``, so changing ``X`` later cannot reach it. Pass it in
    place of ``X`` to :func:`estep`, :func:`mstep`, :func:`fill_matrix` and to the steps of :func:`algorithm` (e.g.
    ``stepping.run(algorithm(), prepare(X), state)``): they then skip the check that a raw
    array gets on every call (a comparison with the copy of the matrix last prepared, about
    one read of the matrix).
    """
    if is_sparse(X):
        return sparse_kernels.prepare(X)
    return _kernels.prepare_copy(check_matrix(X), missing_as_zero=True)


def _prepared(X, dense: _kernels.Cache = _PUBLIC_CACHE, sparse: sparse_kernels.Cache = _SPARSE_CACHE):
    """The prepared form of ``X`` from the cache of its form: a CSR matrix goes to the sparse kernels."""
    return sparse(X) if is_sparse(X) or isinstance(X, sparse_kernels.Prepared) else dense(X)


def _kernels_of(data):
    """The kernels (:mod:`em_core._kernels` or :mod:`em_core.sparse_kernels`) for this prepared form."""
    return sparse_kernels if isinstance(data, sparse_kernels.Prepared) else _kernels


def log_joint(X: np.ndarray, mixture: GaussianMixture) -> np.ndarray:
    """``f(u, j) = log(p_j + 1e-16) + log N(x_Cu; mu_Cu, var_j I)``, shape (n, K).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    """
    data = _prepared(X)
    sq = _kernels_of(data).sq_distances(data, mixture.mu)
    return _kernels.log_joint(sq, data.n_observed, mixture.var, np.log(mixture.p + LOG_EPS))


def estep(X: np.ndarray, mixture: GaussianMixture) -> tuple[np.ndarray, float]:
    """E-step: the posterior ``p(j|u)`` and the log-likelihood of ``mixture``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    mixture : GaussianMixture

    Returns
    -------
    post : ndarray of shape (n, K)
        Rows sum to 1. A user with no observed rating gets the prior ``p``.
    log_likelihood : float
    """
    return _kernels.normalise(log_joint(X, mixture))


def support(X: np.ndarray, post: np.ndarray) -> np.ndarray:
    """``sum_u p(j|u) [i observed for u]``, shape (K, d): the weight behind each mean coordinate."""
    return _kernels.support(_prepared(X).observed, post)


def mstep(X: np.ndarray, post: np.ndarray, mixture: GaussianMixture, min_variance: float = 0.25) -> GaussianMixture:
    """M-step: new means, variances and weights from the posterior.

    A mean coordinate moves only where its support is >= 1 (else it keeps its value in
    ``mixture``); every variance is floored at ``min_variance``; ``p_j = sum_u p(j|u) / n``.
    Two guards where the course gives NaN: a component with no observed weight at all keeps
    its variance from ``mixture`` (floored), and a variance of exactly 0 (possible only with
    ``min_variance=0``) becomes :data:`~em_core.mixture.VAR_FLOOR` (or the previous variance
    where that is smaller).

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    post : ndarray of shape (n, K)
    mixture : GaussianMixture
        The previous parameters (their means stand where support is below 1).
    min_variance : float

    Returns
    -------
    GaussianMixture
        A new value; ``mixture`` is not modified.
    """
    return _mstep(_prepared(X), post, mixture, check_min_variance(min_variance))[0]


def _mstep(data, post: np.ndarray, mixture: GaussianMixture, min_variance: float) -> tuple[GaussianMixture, np.ndarray]:
    """:func:`mstep` on a prepared matrix, and the support it compared with 1 (shape (K, d))."""
    kernels = _kernels_of(data)
    stats = kernels.statistics(data, post)
    mu = _kernels.means(data, stats, stats.weight >= 1.0, mixture.mu)
    total = stats.weight.sum(axis=1)
    # the exact recompute of a cancelled sum is skipped only where min_variance decides anyway
    sse = kernels.weighted_sse(data, stats, mu, post, min_variance * total)
    with np.errstate(divide="ignore", invalid="ignore"):
        var = np.where(total > 0, sse / np.where(total > 0, total, 1.0), mixture.var)
    var = _kernels.variance_guard(data, mu, np.maximum(var, min_variance), VAR_FLOOR, mixture.var)
    p = stats.nk / post.shape[0]
    return GaussianMixture(mu, var, p), stats.weight


#: A posterior up to this size is kept as a copy to tell it from another (netflix at K = 12: 115 kB, copied
#: in ~3 us, where a digest took ~145 us of a ~6 ms iteration); a larger one by a digest, so that a fit on a
#: large matrix does not hold a second posterior.
COPY_BYTES = 4 * 2**20


def _fingerprint(post) -> np.ndarray | tuple:
    """What tells one posterior from another, bit for bit: a read-only float64 copy (up to
    :data:`COPY_BYTES`), else its shape and a 128-bit digest of its float64 bits."""
    post = np.ascontiguousarray(post, dtype=float)
    if post.nbytes <= COPY_BYTES:
        kept = post.copy()
        kept.flags.writeable = False
        return kept
    return post.shape, hashlib.blake2b(post, digest_size=16).digest()


def _same_fingerprint(post, fingerprint: np.ndarray | tuple) -> bool:
    """Whether ``post`` has the bits that :func:`_fingerprint` took (-0.0 is not 0.0; a NaN is itself)."""
    if isinstance(fingerprint, np.ndarray):
        return _kernels.same_contents(post, fingerprint)
    return np.shape(post) == fingerprint[0] and _fingerprint(post) == fingerprint


def algorithm(min_variance: float = 0.25) -> stepping.Algorithm:
    """EM on incomplete data as a steppable :class:`~em_core.stepping.Algorithm`.

    The algorithm holds a cache of the prepared matrix (column shift, mask, row norms):
    keep one per fit and pass it to every :func:`em_core.stepping.step` of that fit, and
    the matrix is prepared once, not on every step. Its cache checks each matrix against a
    copy of the one it prepared, so it is safe to keep across calls (a matrix modified in
    place, or another matrix, is prepared again).
    """
    min_variance = check_min_variance(min_variance)
    dense = _kernels.Cache(missing_as_zero=True, shared=_PUBLIC_CACHE)  # the mask and shifted data, once per matrix
    sparse = sparse_kernels.Cache(shared=_SPARSE_CACHE)

    # (prepared matrix, the posterior's fingerprint, its support) of the last M-step, replaced whole
    last: list[tuple | None] = [None]

    def cache(X):
        return _prepared(X, dense, sparse)

    def step_m(X, post, mixture):
        data = cache(X)
        new, weight = _mstep(data, post, mixture, min_variance)
        weight = weight.copy()  # not a view that keeps the M-step's whole (K, 2d) product alive
        weight.flags.writeable = False
        last[0] = (data, _fingerprint(post), weight)
        return new, None

    def step_support(X, post) -> np.ndarray:
        """The support of ``post`` on ``X``: the last M-step's own when it was given these very numbers on
        this matrix (a step's narration asks right after it), else computed."""
        data, entry = cache(X), last[0]
        if entry is not None and entry[0] is data and _same_fingerprint(post, entry[1]):
            return entry[2]
        return _kernels_of(data).statistics(data, np.asarray(post, dtype=float)).weight

    return stepping.Algorithm(
        name="em",
        score_name="log_likelihood",
        estep=lambda X, mixture: estep(cache(X), mixture),
        mstep=step_m,
        converged=stepping.relative_gain_converged(TOL),
        support=step_support,
    )


def run(
    X: np.ndarray,
    mixture: GaussianMixture,
    post: np.ndarray,
    min_variance: float = 0.25,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[GaussianMixture, np.ndarray, float]:
    """Alternate E and M steps until the LL gain is <= 1e-6 * |LL|.

    ``should_stop() -> bool`` is asked before every iteration; True raises
    :class:`~em_core.stepping.InterruptedRunError` (this run returns converged fits only).

    Returns
    -------
    mixture : GaussianMixture
        After the last M-step.
    post : ndarray of shape (n, K)
        From the last E-step.
    log_likelihood : float
        Of the last E-step.
    """
    start = stepping.start(mixture, post, max_history=1)
    state = stepping.run(algorithm(min_variance), prepare(X), start, should_stop=should_stop)
    if state.interrupted:
        raise stepping.InterruptedRunError(f"EM stopped after {state.iteration} iterations, before convergence")
    return state.mixture, state.post, state.score


def fill_matrix(X: np.ndarray, mixture: GaussianMixture, post: np.ndarray | None = None) -> np.ndarray:
    """Complete ``X``: observed entries stay, each missing one becomes ``sum_j p(j|u) mu_j``.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        Ratings; 0 means missing.
    post : ndarray of shape (n, K), optional
        ``estep(X, mixture)[0]`` when the caller has it already (else it is computed here).

    Returns
    -------
    X_pred : ndarray of shape (n, d)
    """
    if post is None:
        post, _ = estep(X, mixture)
    X = X.X if isinstance(X, (_kernels.Prepared, sparse_kernels.Prepared)) else X
    # a CSR matrix is completed densely only while that fits (else: em_core.sparse_completion)
    X = as_form(X, "dense") if is_sparse(X) else np.asarray(X, dtype=float)
    X_pred = post @ mixture.mu
    if np.isfinite(X_pred).all():
        # the observed entries kept: a finite prediction times 0, plus the rating, is the rating bit for
        # bit, and a missing entry's prediction plus 0 is itself (a -0 comes out +0); half the time of
        # a masked copy
        X_pred *= X == 0
        X_pred += X
    else:  # a NaN posterior row (a user whose every density underflowed) keeps its ratings all the same
        np.copyto(X_pred, X, where=X != 0)
    return X_pred
