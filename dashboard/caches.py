"""The dashboard's caches: results derived from a fit and the figures built from them.

Every number comes from em_core; a cache is keyed by the data set's content (and the
mixture's digest), never by the arrays themselves. Each cache keeps at most its byte budget
(:data:`dashboard.limits.CACHE_BYTES`) for all sessions together, least recently used out first
(:mod:`dashboard.byte_cache`); what it returns is shared, so it is read-only.

The heavy ones (a fit, the baselines, a held-out comparison, a printout) take a ``_should_stop``
hook (:class:`dashboard.work.WorkLimit`): a result it cut short is returned but never kept.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import scipy.sparse as sp

from dashboard import matrix_figures, matrix_views
from dashboard.byte_cache import byte_cache
from dashboard.limits import CACHE_BYTES
from em_core import GaussianMixture, diagnostics, em, experiment, rmse
from em_core.projection import Projection, completion_plane, users_on_plane
from em_core.report import course_report

StopHook = Callable[[], bool] | None


def mixture_digest(mixture: GaussianMixture) -> str:
    digest = hashlib.sha1()
    for array in mixture:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


class Completion(NamedTuple):
    X_pred: np.ndarray  # (n, d) completed matrix
    rmse_all: float | None
    rmse_missing: float | None


class UserMap(NamedTuple):
    Z: np.ndarray  # (n, 2) users on two principal components (em_core.projection.users_on_plane)
    means_2d: np.ndarray  # (K, 2)
    sigmas: np.ndarray  # (K,)
    explained: np.ndarray  # (2,)


@byte_cache(CACHE_BYTES["completion"])
def completion(
    dataset_key: str, digest: str, _X: np.ndarray, _gold: np.ndarray | None, _mixture: GaussianMixture
) -> Completion:
    """em_core's completed matrix for ``_mixture`` and its RMSE against the gold (few entries: each is n x d)."""
    X_pred = em.fill_matrix(_X, _mixture)
    rmse_all = rmse_missing = None
    if _gold is not None:
        missing = _X == 0
        rmse_all = rmse(_gold, X_pred)
        rmse_missing = rmse(_gold, X_pred, missing) if missing.any() else None
    return Completion(X_pred, rmse_all, rmse_missing)


@byte_cache(CACHE_BYTES["user_map"])
def user_plane(dataset_key: str, digest: str, _X: np.ndarray, _mixture: GaussianMixture) -> Projection:
    """The first two principal components of the matrix completed by ``_mixture`` (one SVD per mixture)."""
    return completion_plane(_X, _mixture)  # a CSR matrix is never completed whole


class MixtureCompletion:
    """The posterior under one mixture (``em.estep(X, mixture)[0]``) and the completion it makes
    (``em.fill_matrix``; None for a CSR matrix, which is never completed whole), each made when first
    asked for, then kept. A page that needs them for two cached results (the users' map and the collapse
    report) passes one of these to both: one E-step and one completion at most per run, none when both
    results are cached; nothing keeps the n x d array after the run."""

    def __init__(self, X, mixture: GaussianMixture) -> None:
        self._X, self._mixture = X, mixture

    @functools.cached_property
    def post(self) -> np.ndarray:
        return em.estep(self._X, self._mixture)[0]

    @functools.cached_property
    def X_pred(self) -> np.ndarray | None:  # noqa: N802 - the name em_core gives the completion
        return None if sp.issparse(self._X) else em.fill_matrix(self._X, self._mixture, self.post)


def completed_once(X, mixture: GaussianMixture) -> MixtureCompletion:
    """:class:`MixtureCompletion` of ``mixture`` on ``X``, for one run of a page."""
    return MixtureCompletion(X, mixture)


def _given(completed: MixtureCompletion | None) -> np.ndarray | None:
    return None if completed is None else completed.X_pred


@byte_cache(CACHE_BYTES["user_map"])
def user_map(
    dataset_key: str,
    digest: str,
    plane_digest: str,
    _X: np.ndarray,
    _mixture: GaussianMixture,
    _plane: Projection,
    _completed: MixtureCompletion | None = None,
) -> UserMap:
    """The users and the components on ``_plane`` (named by ``plane_digest``): a projection, no SVD.
    ``_completed``: :func:`completed_once` of ``_mixture``, if the page has one."""
    return UserMap(*users_on_plane(_X, _mixture, _plane, X_pred=_given(_completed)))


def get_completion(dataset_key: str, X, gold, mixture: GaussianMixture) -> Completion:
    return completion(dataset_key, mixture_digest(mixture), X, gold, mixture)


def get_user_map(
    dataset_key: str,
    X,
    mixture: GaussianMixture,
    start: GaussianMixture | None = None,
    completed: MixtureCompletion | None = None,
) -> UserMap:
    """The users and ``mixture`` on the first two principal components of the completion by ``start`` (the
    fit's first mixture: the axes stay put from step to step), or by ``mixture`` itself when None.
    ``completed``: :func:`completed_once` of ``mixture``, to share its completion."""
    start = mixture if start is None else start
    plane_digest = mixture_digest(start)
    plane = user_plane(dataset_key, plane_digest, X, start)
    return user_map(dataset_key, mixture_digest(mixture), plane_digest, X, mixture, plane, completed)


@byte_cache(CACHE_BYTES["step_figures"])
def _figure(kind: str, key: str, _build: Callable[[], go.Figure]) -> go.Figure:
    return _build()


def figure_once(kind: str, key: str, build: Callable[[], go.Figure]) -> go.Figure:
    """``build()``, made once per ``(kind, key)`` and shared: a rerun (or a half-step) that leaves a figure's
    inputs as they were neither builds it again nor sends it again (Streamlit sends a spec it sent before
    as a reference). ``key`` must name every input of ``build``; the figure returned must not be changed."""
    return _figure(kind, key, build)


def array_digest(*arrays) -> str:
    """A short digest of some arrays' contents (None counts as empty), for :func:`figure_once` keys."""
    digest = hashlib.sha1()
    for array in arrays:
        if array is not None:
            digest.update(np.ascontiguousarray(array).tobytes())
        digest.update(b"|")
    return digest.hexdigest()


class CollapseFindings(NamedTuple):
    """What the matrix page shows of :func:`em_core.diagnostics.collapse_report` (small: no n x d array)."""

    sentences: tuple[str, ...]
    kept_from_init: np.ndarray  # (K, d) bool: mean coordinates drawn as "no data"
    collapsed: tuple  # diagnostics.CollapsedComponent, in order of j


@byte_cache(CACHE_BYTES["collapse"])
def rating_range(dataset_key: str, _X: np.ndarray) -> tuple[float, float]:
    """The lowest and highest observed rating of a data set, once per data set (a pass over the whole
    matrix that every Step's collapse report would otherwise make again)."""
    return diagnostics.observed_range(_X)


@byte_cache(CACHE_BYTES["collapse"])
def drawn_corner(dataset_key: str, _X) -> matrix_views.Corner:
    """:func:`dashboard.matrix_views.corner` of a data set (its most active users and most rated items), once:
    a Step's means heatmap draws the same items, and counting a 1,200 x 1,200 matrix's ratings took a tenth
    of the server's time of a Step."""
    return matrix_views.corner(_X)


@byte_cache(CACHE_BYTES["collapse"])
def collapse_findings(
    dataset_key: str,
    digest: str,
    initial_digest: str,
    min_variance: float,
    support_known: bool,
    _X: np.ndarray,
    _mixture: GaussianMixture,
    _initial: GaussianMixture,
    _post: np.ndarray | None,
    _not_updated: np.ndarray | None,
    _completed: MixtureCompletion | None = None,
) -> CollapseFindings:
    """em_core's collapse report for ``_mixture``, once per mixture (an E-step or a rerun that leaves the
    mixture as it was finds it here). ``support_known``: ``_post`` or ``_not_updated`` was given.
    ``_completed``: :func:`completed_once` of ``_mixture``, if the page has one."""
    report = diagnostics.collapse_report(
        _X,
        _mixture,
        _initial,
        min_variance,
        _post,
        not_updated=_not_updated,
        X_pred=_given(_completed),
        current_post=None if _completed is None else _completed.post,
        rating_range=rating_range(dataset_key, _X),
    )
    return CollapseFindings(tuple(report.sentences()), report.kept_from_init, report.collapsed)


def get_collapse_findings(
    dataset_key: str,
    X,
    mixture: GaussianMixture,
    initial: GaussianMixture,
    min_variance: float,
    post: np.ndarray | None = None,
    not_updated: np.ndarray | None = None,
    completed: MixtureCompletion | None = None,
) -> CollapseFindings:
    """:func:`collapse_findings`; ``not_updated`` (the M-step's own support mask) spares ``post``'s products;
    ``completed`` (:func:`completed_once` of ``mixture``) shares the completion with the users' map."""
    known = post is not None or not_updated is not None
    return collapse_findings(
        dataset_key,
        mixture_digest(mixture),
        mixture_digest(initial),
        min_variance,
        known,
        X,
        mixture,
        initial,
        None if not_updated is not None else post,
        not_updated,
        completed,
    )


def parameter_table(mixture: GaussianMixture, max_columns: int = 8) -> pd.DataFrame:
    """The mixture as a table: one row per component (means shown up to ``max_columns`` coordinates)."""
    K, d = mixture.mu.shape
    table = {
        "component": [f"j={j + 1}" for j in range(K)],
        "p": mixture.p,
        "var": mixture.var,
        "sigma": np.sqrt(mixture.var),
    }
    for i in range(min(d, max_columns)):
        table[f"mu[{i + 1}]"] = mixture.mu[:, i]
    return pd.DataFrame(table)


@byte_cache(CACHE_BYTES["error_figures"])
def error_figures(dataset_key: str, digest: str, _X: np.ndarray, _gold: np.ndarray, _X_pred: np.ndarray):
    """The |error| image and the histogram of predicted − gold on the missing entries, once per mixture."""
    error = _X_pred - _gold
    image = matrix_figures.matrix_image(
        np.abs(error), zmin=0.0, zmax=4.0, colorscale="Reds", title="|error|", colorbar_title="|error|"
    )
    missing = _X == 0
    histogram = (
        matrix_figures.error_histogram(error[missing], title="Predicted − gold on the missing entries")
        if missing.any()
        else None
    )
    return image, histogram


@byte_cache(CACHE_BYTES["matrix_figure"])
def matrix_figure(key: str, _M: np.ndarray, _missing: np.ndarray | None = None, **style):
    """``matrix_figures.matrix_image``, built once per ``key`` (which must name the matrix's content)."""
    return matrix_figures.matrix_image(_M, missing=_missing, **style)


@byte_cache(CACHE_BYTES["fitted"], keep=lambda run: not run.interrupted)
def fitted(
    content_key: str,
    algorithm: str,
    K: int,
    seed: int,
    min_variance: float,
    _X: np.ndarray,
    max_iter: int | None = None,
    _should_stop: StopHook = None,
):
    """One run of the course experiment (em_core.experiment.fit), cached per data set, algorithm, K, seed and cap."""
    return experiment.fit(_X, algorithm, K, seed, min_variance, max_iter, should_stop=_should_stop)


def _all_run(scores) -> bool:
    return all(score.error != experiment.NOT_RUN for score in scores)


@byte_cache(CACHE_BYTES["baselines"], keep=_all_run)
def baselines_on_gold(
    content_key: str, _X: np.ndarray, _gold: np.ndarray, _should_stop: StopHook = None
) -> list[experiment.MethodScore]:
    """Every completion baseline on ``_X`` (0 = missing), scored on its missing entries; cached per content."""
    return experiment.score_baselines(_X, _gold, _X == 0, should_stop=_should_stop)


@byte_cache(CACHE_BYTES["holdout"], keep=lambda result: not result.stopped)
def holdout_scores(
    content_key: str,
    fraction: float,
    holdout_seed: int,
    K: int,
    seed: int,
    min_variance: float,
    _X: np.ndarray,
    _should_stop: StopHook = None,
) -> experiment.HoldoutComparison:
    """Hide a share of the observed ratings, fit EM and the baselines on the rest, score on the hidden ones."""
    return experiment.holdout_comparison(_X, K, seed, min_variance, fraction, holdout_seed, should_stop=_should_stop)


@byte_cache(CACHE_BYTES["report"])
def report(
    content_key: str, K: int, seed: int, min_variance: float, _X: np.ndarray, _gold, _should_stop: StopHook = None
) -> str:
    """em_core's course printout (:func:`em_core.report.course_report`); a stopped run raises, so is never kept."""
    return course_report(_X, K=K, seed=seed, X_gold=_gold, min_variance=min_variance, should_stop=_should_stop)
