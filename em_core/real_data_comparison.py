"""EM (course-exact and with the options of :mod:`em_core.real_data_options`) against the baselines
on held-out real ratings, and why the course's model scores what it scores there.

:func:`compare` hides a share of the observed ratings (:func:`em_core.holdout.hide`, once per
holdout seed), fits every EM variant at every K (best of the EM seeds by log-likelihood, as a sweep
keeps it) and every baseline on the rest, and scores them all on the hidden ratings
(:class:`Comparison`). :func:`diagnose` puts numbers on what the course's model does on such data
(:class:`CourseDiagnosis`): collapsed components, mean coordinates still at their initial 0, and
the predictions far below every rating that they cause. The CLI's ``compare`` command prints it;
the dashboard's "Results on real data" page shows it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from em_core import _kernels, baselines, em, real_data_options, sparse_kernels, wording
from em_core.diagnostics import holds_at_most_one_point
from em_core.errors import DataError
from em_core.holdout import Holdout, check_fraction, hide, holdout_rmse
from em_core.real_data_options import EMOptions, OptionsFit
from em_core.sparse_ratings import as_form, is_sparse, row_of_entries
from em_core.validation import check_k, check_seed

#: The baselines :func:`compare` runs by default: all of them (KNN needs scikit-learn).
COMPARISON_BASELINES = tuple(baselines.METHODS)


class MethodRow(NamedTuple):
    """One method's held-out RMSE on each split.

    Attributes
    ----------
    name : str
        ``"em:<options name>"`` for EM (e.g. ``"em:course"``), the baseline's name otherwise.
    label : str
    k : int or None
        The number of components (None for a baseline).
    rmse : tuple of float
        One per holdout seed; NaN where the method failed (see ``error``).
    seconds : float
        Wall time over all splits (and, for EM, all seeds).
    error : str or None
        Why the method could not run on this matrix (one line), else None.
    """

    name: str
    label: str
    k: int | None
    rmse: tuple[float, ...]
    seconds: float
    error: str | None = None

    @property
    def mean_rmse(self) -> float:
        """The mean over the splits (NaN when the method failed)."""
        return float(np.mean(self.rmse)) if self.rmse else float("nan")

    @property
    def is_em(self) -> bool:
        return self.k is not None


@dataclass(frozen=True)
class Comparison:
    """Every EM variant at every K and every baseline, scored on the same hidden ratings.

    ``rows`` lists the EM variants K by K (in the order of ``ks``, variants in the order given),
    then the baselines. ``diagnoses`` holds the course model's :class:`CourseDiagnosis` at each K
    on the first split (empty when the course's EM was not among the variants).
    """

    dataset: str
    shape: tuple[int, int]
    n_ratings: int
    fraction: float
    holdout_seeds: tuple[int, ...]
    n_hidden: tuple[int, ...]
    ks: tuple[int, ...]
    seeds: tuple[int, ...]
    rows: tuple[MethodRow, ...]
    diagnoses: tuple[CourseDiagnosis, ...] = ()

    def row(self, name: str, k: int | None = None) -> MethodRow:
        """The row of method ``name`` (at ``k`` for EM)."""
        for row in self.rows:
            if row.name == name and row.k == k:
                return row
        raise KeyError(f"no row {name!r} at K = {k}")

    def best(self, em_rows: bool) -> MethodRow:
        """The EM row (or the baseline) with the lowest mean held-out RMSE."""
        rows = [r for r in self.rows if r.is_em == em_rows and r.error is None]
        return min(rows, key=lambda r: r.mean_rmse)

    @property
    def verdict(self) -> str:
        """One sentence with the numbers: does the best EM variant beat the user + item bias baseline?"""
        em_best = self.best(True)
        try:
            bias = self.row("user_item_bias")
        except KeyError:
            return f"Best EM variant: {em_best.label} at K = {em_best.k}, held-out RMSE {em_best.mean_rmse:.4f}."
        per_split = np.asarray(em_best.rmse) - np.asarray(bias.rmse)
        where = f"{em_best.label} at K = {em_best.k}"
        if em_best.mean_rmse < bias.mean_rmse:
            wins = int((per_split < 0).sum())
            return (
                f"{where} beats the user + item bias baseline: held-out RMSE {em_best.mean_rmse:.4f} against "
                f"{bias.mean_rmse:.4f} (mean of {wording.count(len(per_split), 'split')}; lower on {wins} of them)."
            )
        return (
            f"No EM variant beats the user + item bias baseline: the best, {where}, scores "
            f"{em_best.mean_rmse:.4f} against {bias.mean_rmse:.4f}."
        )


# ---------------------------------------------------------------- why the course's model scores what it does


class CourseDiagnosis(NamedTuple):
    """What the course's EM does on a sparse rating matrix, in numbers (a fit on one split).

    Attributes
    ----------
    k : int
    n_users, n_items : int
    n_collapsed : int
        Components holding at most one user's worth of weight (``n p_j <= 1``).
    share_kept : float
        Of the K x d mean coordinates, the share whose support stayed below 1: never updated, still
        the drawn user's rating or, where that user rated nothing, 0.
    share_zero : float
        Of the K x d mean coordinates, the share still at an initial 0.
    n_hidden : int
    n_low : int
        Hidden ratings predicted below the lowest rating in the data (pulled towards the initial 0s).
    low_error_share : float
        The share of the model's squared error on the hidden ratings that falls on those.
    mean_prediction, mean_hidden : float
        The mean prediction and the mean true rating over the hidden ratings.
    low_rating : float
        The lowest rating in the data.
    user_spread : float
        The standard deviation of the users' damped biases (:func:`em_core.baselines.fit_biases`):
        how much users differ in their overall level, which the course's model can only express
        through the component a user joins.
    """

    k: int
    n_users: int
    n_items: int
    n_collapsed: int
    share_kept: float
    share_zero: float
    n_hidden: int
    n_low: int
    low_error_share: float
    mean_prediction: float
    mean_hidden: float
    low_rating: float
    user_spread: float

    def sentences(
        self, rmse_course: float, rmse_user_mean: float, rmse_item_mean: float, where: str = "the hidden ratings"
    ) -> list[str]:
        """Why the course's model scores ``rmse_course`` on ``where`` (the split these numbers come from),
        against the user and item means."""
        n_cells = self.k * self.n_items
        out = [
            f"K = {self.k}: the course's model scores {rmse_course:.3f} on {where}, against "
            f"{rmse_user_mean:.3f} for the user mean and {rmse_item_mean:.3f} for the item mean."
        ]
        out.append(
            f"Supports below 1 keep initial values: {wording.share(self.share_kept)} of the {n_cells:,} mean "
            f"coordinates were never updated, and {wording.share(self.share_zero)} are still the 0 the drawn "
            "user had where they rated nothing."
        )
        if self.n_collapsed:
            out.append(
                f"{wording.count(self.n_collapsed, 'component')} of {self.k} collapsed onto (a share of) one user "
                f"(n·p_j ≤ 1): every item that user left unrated keeps its initial value in that mean."
            )
        out.append(
            f"So {wording.share(self.n_low / max(self.n_hidden, 1))} of the {self.n_hidden:,} hidden ratings are "
            f"predicted below {self.low_rating:g}, the lowest rating; they carry "
            f"{wording.share(self.low_error_share)} of the model's squared error (mean prediction "
            f"{self.mean_prediction:.2f}, mean true rating {self.mean_hidden:.2f})."
        )
        return out

    @property
    def user_level_sentence(self) -> str:
        """The user-mean effect, with the spread of the users' levels (the same at every K)."""
        return (
            f"The user-mean effect: users' overall levels differ (their damped biases spread with standard "
            f"deviation {self.user_spread:.2f} stars), which a component's item averages cannot express; "
            "the user + item bias baseline models exactly that, and EM on its residuals keeps it."
        )


def diagnose(X_train, result: OptionsFit, X, hidden) -> CourseDiagnosis:
    """Numbers behind the course model's score on held-out ratings.

    Parameters
    ----------
    X_train : ndarray of shape (n, d), or CSR matrix
        The ratings ``result`` was fitted on.
    result : OptionsFit
        A fit of :func:`em_core.real_data_options.fit` on ``X_train`` (any options; the numbers
        speak of the course's model when its options are the course's).
    X : ndarray or CSR matrix of shape (n, d)
        The ratings before some were hidden.
    hidden : ndarray of bool, or CSR matrix
        The hidden entries (:attr:`em_core.holdout.Holdout.hidden`).
    """
    X_em = real_data_options.fitted_matrix(X_train, result)
    data = em.prepare(X_em)
    kernels = sparse_kernels if isinstance(data, sparse_kernels.Prepared) else _kernels
    support = kernels.statistics(data, result.post).weight
    kept = (result.mixture.mu == result.initial.mu) & (support < 1.0)
    truth, predicted = _hidden_values(X, real_data_options.complete(X_train, result, _as_entries(X, hidden)), hidden)
    _, _, ratings = baselines.rating_entries(X_train)
    low = float(ratings.min())
    error = (truth - predicted) ** 2
    below = predicted < low
    n, d = X_em.shape
    return CourseDiagnosis(
        k=result.k,
        n_users=n,
        n_items=d,
        n_collapsed=int(holds_at_most_one_point(result.mixture, n).sum()),
        share_kept=float(kept.mean()),
        share_zero=float((kept & (result.initial.mu == 0)).mean()),
        n_hidden=int(truth.size),
        n_low=int(below.sum()),
        low_error_share=float(error[below].sum() / error.sum()) if error.sum() > 0 else 0.0,
        mean_prediction=float(predicted.mean()),
        mean_hidden=float(truth.mean()),
        low_rating=low,
        user_spread=float(np.std(baselines.fit_biases(X_train).user)),
    )


def _as_entries(X, hidden):
    """``hidden`` as the ``at=`` of a CSR ``X`` (a dense ``X`` needs none)."""
    return sp.csr_matrix(hidden) if is_sparse(X) else None


def _hidden_values(X, X_pred, hidden) -> tuple[np.ndarray, np.ndarray]:
    """The true and predicted values at the hidden entries, each of shape (n_hidden,), row by row."""
    if is_sparse(X):
        at = sp.csr_matrix(hidden)
        at.sort_indices()
        rows = row_of_entries(at.indptr)
        return np.asarray(X[rows, at.indices]).ravel(), np.asarray(sp.csr_matrix(X_pred)[rows, at.indices]).ravel()
    return np.asarray(X)[hidden], np.asarray(X_pred)[hidden]


# ---------------------------------------------------------------- the comparison


class ComparisonStoppedError(Exception):
    """A ``should_stop`` hook ended :func:`compare` before it finished (the message says how far it got)."""


def _check_stop(should_stop: Callable[[], bool] | None, done: int, total: int) -> None:
    if should_stop is not None and should_stop():
        raise ComparisonStoppedError(f"stopped after {done} of {total} fits and baselines")


def _check_variants(variants: Sequence[EMOptions]) -> tuple[EMOptions, ...]:
    variants = tuple(variants)
    if not variants or not all(isinstance(v, EMOptions) for v in variants):
        raise DataError("variants must be a non-empty list of EMOptions; e.g. real_data_options.standard_variants()")
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise DataError(f"each variant may appear once, got {', '.join(names)}; drop the repeats")
    return variants


def _baseline_rmse(name: str, X, split: Holdout) -> float:
    """Baseline ``name`` fitted on ``split.X_train``, scored on the hidden ratings (sparse-aware)."""
    return holdout_rmse(X, split, baselines.complete(name, split.X_train, _as_entries(X, split.hidden)))


def _failure(err: BaseException) -> str:
    return f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else 'failed'}"[:200]


def compare(
    X,
    ks: Sequence[int],
    variants: Sequence[EMOptions] | None = None,
    seeds: Sequence[int] = (0,),
    holdout_seeds: Sequence[int] = (0,),
    fraction: float = 0.1,
    methods: Sequence[str] = COMPARISON_BASELINES,
    *,
    name: str = "X",
    min_variance: float = 0.25,
    max_iter: int | None = None,
    on_progress: Callable[[int, int, str], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Comparison:
    """Score EM variants and baselines on the same held-out ratings, for each holdout seed.

    Parameters
    ----------
    X : ndarray of shape (n, d), or scipy.sparse CSR matrix
        Ratings; 0 (or not stored) means missing. Worked on in :func:`em_core.sparse_ratings.as_form`'s
        automatic form (sparse for MovieLens); Soft-Impute and KNN get the dense form.
    ks : sequence of int
    variants : sequence of EMOptions, optional
        :func:`em_core.real_data_options.standard_variants` by default.
    seeds : sequence of int
        EM seeds; each variant keeps its best seed per K by log-likelihood on the training ratings.
    holdout_seeds : sequence of int
        One split per seed, each hiding ``fraction`` of the observed ratings.
    methods : sequence of str
        Baselines from :data:`em_core.baselines.METHODS`.
    name : str
        How messages and the result name the data.
    on_progress : callable, optional
        ``on_progress(done, total, what)`` after each fit.
    should_stop : callable, optional
        ``should_stop() -> bool``, asked before each fit and baseline; True ends the work with
        :class:`ComparisonStoppedError` (a comparison is only shown whole).
    """
    variants = _check_variants(real_data_options.standard_variants() if variants is None else variants)
    X = as_form(X, "auto")
    n, d = X.shape
    ks = tuple(check_k(K, n, name) for K in ks)
    seeds = tuple(check_seed(seed) for seed in seeds)
    holdout_seeds = tuple(check_seed(seed) for seed in holdout_seeds)
    fraction = check_fraction(fraction)
    unknown = [m for m in methods if m not in baselines.METHODS]
    if unknown or not ks or not seeds or not holdout_seeds:
        raise DataError(
            f"give at least one K, seed and holdout seed, and baselines from {', '.join(baselines.METHODS)}"
            + (f" (unknown: {unknown[0]!r})" if unknown else "")
        )
    total = len(holdout_seeds) * (len(ks) * len(variants) * len(seeds) + len(methods))
    done = 0
    scores: dict[tuple[str, int | None], list[float]] = {}
    seconds: dict[tuple[str, int | None], float] = {}
    errors: dict[tuple[str, int | None], str] = {}
    diagnoses: list[CourseDiagnosis] = []
    splits = []
    for split_number, holdout_seed in enumerate(holdout_seeds):
        split = hide(X, fraction, holdout_seed)
        splits.append(split)
        for K in ks:
            for options in variants:
                key = (f"em:{options.name}", K)
                fits = []
                for seed in seeds:
                    _check_stop(should_stop, done, total)
                    fits.append(real_data_options.fit(split.X_train, K, seed, options, min_variance, max_iter))
                    seconds[key] = seconds.get(key, 0.0) + fits[-1].seconds
                    done += 1
                    if on_progress is not None:
                        on_progress(done, total, f"{options.label}, K = {K}, seed {seed}")
                best = max(fits, key=lambda f: f.log_likelihood)
                X_pred = real_data_options.complete(split.X_train, best, _as_entries(X, split.hidden))
                scores.setdefault(key, []).append(holdout_rmse(X, split, X_pred))
                if options.is_course and split_number == 0:
                    diagnoses.append(diagnose(split.X_train, best, X, split.hidden))
        for method in methods:
            _check_stop(should_stop, done, total)
            key = (method, None)
            start = time.perf_counter()
            try:
                scores.setdefault(key, []).append(_baseline_rmse(method, X, split))
            except baselines.BASELINE_FAILURES as err:  # one baseline failing must not take the others down
                errors[key] = _failure(err)
            seconds[key] = seconds.get(key, 0.0) + time.perf_counter() - start
            done += 1
            if on_progress is not None:
                on_progress(done, total, baselines.METHODS[method][0])
    rows = []
    for K in ks:
        for options in variants:
            key = (f"em:{options.name}", K)
            rows.append(MethodRow(key[0], options.label, K, tuple(scores[key]), seconds[key]))
    for method in methods:
        key = (method, None)
        failed = key in errors
        rmse = (float("nan"),) * len(holdout_seeds) if failed else tuple(scores[key])
        rows.append(MethodRow(method, baselines.METHODS[method][0], None, rmse, seconds[key], errors.get(key)))
    return Comparison(
        dataset=name,
        shape=(n, d),
        n_ratings=int(X.nnz if is_sparse(X) else np.count_nonzero(X)),
        fraction=fraction,
        holdout_seeds=holdout_seeds,
        n_hidden=tuple(split.n_hidden for split in splits),
        ks=ks,
        seeds=seeds,
        rows=tuple(rows),
        diagnoses=tuple(diagnoses),
    )


def table(result: Comparison) -> str:
    """The comparison as plain text: one line per method, RMSE per split and their mean, best first per group."""
    # numbered from 1, as the explanation counts them ("split 1 of 3"); the header line names their seeds
    splits = " ".join(f"{'split ' + str(i + 1):>9}" for i in range(len(result.holdout_seeds)))
    lines = [
        f"{result.dataset}: {result.shape[0]:,} x {result.shape[1]:,}, {result.n_ratings:,} ratings; "
        f"{result.fraction * 100:g} % held out per split (holdout seeds {', '.join(map(str, result.holdout_seeds))}), "
        f"EM best of seeds {', '.join(map(str, result.seeds))} by log-likelihood",
        "",
        f"{'method':<52} {'K':>3} {splits} {'mean':>8} {'seconds':>8}",
    ]
    for row in result.rows:
        cells = " ".join(f"{value:>9.4f}" for value in row.rmse)
        k = "-" if row.k is None else str(row.k)
        lines.append(f"{row.label:<52} {k:>3} {cells} {row.mean_rmse:>8.4f} {row.seconds:>8.2f}")
        if row.error:
            lines.append(f"    ({row.error})")
    lines += ["", result.verdict]
    for diagnosis in result.diagnoses:
        sentences = explain(result, diagnosis)
        lines += ["", *sentences] if sentences else []
    if result.diagnoses:
        lines += ["", result.diagnoses[0].user_level_sentence]
    return "\n".join(lines)


def explain(result: Comparison, diagnosis: CourseDiagnosis) -> list[str]:
    """:meth:`CourseDiagnosis.sentences` with the first split's scores (empty without the mean baselines)."""
    names = {row.name for row in result.rows}
    if not {"user_mean", "item_mean"} <= names:
        return []
    rows = [result.row(name, k) for name, k in (("em:course", diagnosis.k), ("user_mean", None), ("item_mean", None))]
    splits = len(rows[0].rmse)
    # the diagnosis is the first split's fit: its scores, said to be that split's (the chart shows the means)
    where = (
        "the hidden ratings"
        if splits == 1
        else f"the hidden ratings of split 1 of {splits}, which these numbers describe"
    )
    return diagnosis.sentences(*(row.rmse[0] for row in rows), where=where)
