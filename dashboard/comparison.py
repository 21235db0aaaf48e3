"""The completion page's two comparisons: baselines on the missing entries, and held-out RMSE."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import streamlit as st

from dashboard import caches, curve_figures, work
from dashboard.limits import FREE_HOLDOUT_COST, literal
from em_core import DataError, experiment
from em_core.data import Dataset
from em_core.validation import MAX_SEED


def _table(scores: list[experiment.MethodScore]) -> pd.DataFrame:
    """One row per method; a method that failed on this matrix shows n/a and why."""
    table = pd.DataFrame(
        {
            "method": [score.label for score in scores],
            "RMSE": [np.nan if score.rmse is None else score.rmse for score in scores],
            "seconds": [score.seconds for score in scores],
        }
    )
    failed = [score for score in scores if score.error]
    if failed:
        table["note"] = ["n/a: " + score.error if score.error else "" for score in scores]
    return table


def _show(scores: list[experiment.MethodScore], key: str, title: str) -> None:
    table = _table(scores)
    scored = table.dropna(subset=["RMSE"]).reset_index(drop=True)
    best = int(scored["RMSE"].idxmin()) if len(scored) else None
    st.plotly_chart(
        curve_figures.bar_chart(
            list(scored["method"]), list(scored["RMSE"]), title=title, value_title="RMSE", highlight=best
        ),
        key=key,
    )
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "RMSE": st.column_config.NumberColumn(format="%.6f"),
            "seconds": st.column_config.NumberColumn(format="%.3f"),
        },
    )


def baselines_on_gold(content_key: str, dataset: Dataset, mixture_rmse: float | None, iteration: int) -> None:
    """The mixture's RMSE on the missing entries beside simple and strong baselines on the same entries."""
    if dataset.gold is None:  # (a CSR data set never has one: X == 0 would be n x d)
        return
    missing = dataset.X == 0
    if not missing.any():
        return
    if not st.toggle(
        "Compare with baselines",
        value=False,
        key="cmp_baselines",
        help="Global, user and item means, Soft-Impute and KNN, scored on the same missing entries.",
    ):
        return
    mixture = experiment.MethodScore("em", f"Mixture after iteration {iteration}", mixture_rmse, float("nan"))
    limit = work.WorkLimit("Running the baselines (KNN takes a few seconds on a large matrix)")
    scores = [mixture, *caches.baselines_on_gold(content_key, dataset.X, dataset.gold, _should_stop=limit)]
    limit.done()
    if limit.stopped:
        st.warning(limit.message("the baselines not run show n/a"), icon=":material/timer_off:")
    _show(scores, "cmp_baselines_chart", "RMSE on the missing entries (lower is better)")
    st.caption(
        f"All methods are scored on the same {int(missing.sum()):,} missing entries against the gold matrix; "
        "'seconds' is each baseline's run time on this machine."
    )


def held_out_here(dataset: Dataset) -> bool:
    """Whether :func:`held_out` scores ``dataset`` on its page: not a sparse set (Soft-Impute and KNN need the
    dense form), which the 'Results on real data' page scores."""
    return not sp.issparse(dataset.X)


def held_out(content_key: str, dataset: Dataset, K: int, seed: int, min_variance: float) -> None:
    """Hide a seeded share of the observed ratings, fit on the rest, and score every method on the hidden ones."""
    if not held_out_here(dataset):
        st.caption(
            "Held-out scores of a sparse data set, against the mean, bias, Soft-Impute and KNN baselines: the "
            "'Results on real data' page."
        )
        return
    cost = dataset.X.shape[0] * dataset.X.shape[1] * K  # values x K
    cheap = cost <= FREE_HOLDOUT_COST
    if not st.toggle(
        "Score on held-out ratings",
        value=dataset.gold is None and cheap,
        key="cmp_holdout",
        help="Works without a gold matrix: some observed ratings are hidden, and every method is "
        "scored on how well it predicts them."
        + ("" if cheap else " Off until switched on: on this matrix it fits EM and five baselines (minutes)."),
    ):
        return
    left, right = st.columns(2)
    fraction = left.slider(
        "Share of observed ratings to hide", 0.01, 0.5, 0.10, 0.01, format="%.2f", key="cmp_holdout_fraction"
    )
    holdout_seed = right.number_input(
        "Hold-out seed", min_value=0, max_value=MAX_SEED, value=0, step=1, key="cmp_holdout_seed"
    )
    limit = work.WorkLimit("Fitting on the kept ratings")
    try:
        result = caches.holdout_scores(
            content_key, fraction, int(holdout_seed), K, seed, min_variance, dataset.X, _should_stop=limit
        )
    except DataError as err:
        st.error(literal(err), icon=":material/error:")
        return
    finally:
        limit.done()
    if result.stopped:
        st.warning(limit.message("the methods not run to their end show n/a"), icon=":material/timer_off:")
    _show(list(result.scores), "cmp_holdout_chart", f"RMSE on {result.n_hidden:,} held-out ratings (lower is better)")
    st.caption(
        f"{fraction:.0%} of the observed ratings (seed {int(holdout_seed)}) were hidden; EM (K = {K}, seed "
        f"{seed}) and the baselines were fitted on the rest. Held-out ratings are observed ones, so they can "
        "behave differently from the entries that were missing in the first place."
    )
