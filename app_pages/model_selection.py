"""Model selection: which K? K-means cost, EM log-likelihood and BIC for K = 1 .. K_max; on 2-D points,
BIC across covariance types (spherical, diag, full) with their parameter counts."""

import pandas as pd
import streamlit as st

from dashboard import caches, covariance_views, curve_figures, fits, session
from dashboard.limits import FREE_SWEEP_COST
from dashboard.work import WorkLimit
from em_core import experiment
from em_core.covariance_em import COVARIANCE_TYPES

s = session.settings()
session.sync_url(s)
dataset = s.dataset
n = dataset.X.shape[0]
st.title("Model selection")
st.caption(
    "At its best, a mixture with more components fits the data at least as well, so the log-likelihood alone "
    "cannot pick K. Each point below is only the best of a few seeds, a local optimum, so the curve can still "
    "drop from one K to the next. BIC = LL − ½·(free parameters)·ln n charges each extra parameter; the best K "
    "has the highest BIC."
)

methods = [fits.KMEANS, fits.NAIVE_EM] if dataset.kind == "points" else [fits.EM]
left, middle, right = st.columns(3)
large = dataset.X.size * 4 * 5 * len(methods) > FREE_SWEEP_COST  # the defaults below would need a click
if n > 1:
    k_max = left.slider("Largest K", min_value=1, max_value=min(n, 16), value=min(n, 12 if large else 4), key="ms_kmax")
else:
    k_max = 1
    left.markdown("**K = 1** (one row)")
n_seeds = middle.slider(
    "Seeds per K",
    min_value=1,
    max_value=10,
    value=2 if large else 5,
    key="ms_seeds",
    help="Seeds 0, 1, ...; each K keeps its best seed, as in the course.",
)
right.markdown(f"**{n:,} rows**, fitted with {' and '.join(method.title for method in methods)}")

ks = list(range(1, k_max + 1))
seeds = list(range(n_seeds))
content = session.content_key(s)
total = len(ks) * len(seeds) * len(methods)
cost = dataset.X.size * sum(ks) * len(seeds) * len(methods)
request = (content, k_max, n_seeds, s.min_variance)
if cost > FREE_SWEEP_COST and st.session_state.get("ms_request") != request:
    ask = st.empty()  # the notice and the button go once clicked: the results replace them
    with ask.container():
        st.info(
            f"{total} fits on a {n:,} x {dataset.X.shape[1]:,} matrix take a while (values x K x seeds: "
            f"{cost:,}, above the {FREE_SWEEP_COST:,} that runs without asking); they are cached, so a second "
            "visit is instant.",
            icon=":material/hourglass:",
        )
        clicked = st.button(f"Fit K = 1 .. {k_max} with {n_seeds} seed(s) each", key="ms_run", type="primary")
    if not clicked:
        st.stop()
    ask.empty()
    st.session_state.ms_request = request
limit = WorkLimit("Fitting ...")
sweeps = {}
for number, method in enumerate(methods):

    def cached_fit(X, algorithm, K, seed, min_variance, max_iter):
        return caches.fitted(content, algorithm, K, seed, min_variance, X, max_iter, _should_stop=limit)

    def show_progress(run, done, total, number=number, method=method):
        share = (number + done / total) / len(methods)
        limit.progress(share, text=f"Fitting {method.title}: K = {run.k}, seed {run.seed}")

    sweeps[method] = experiment.sweep(
        dataset.X,
        method.algorithm,
        ks,
        seeds,
        name=dataset.name,
        gold=dataset.gold,
        min_variance=s.min_variance,
        max_iter=s.max_iter,
        fit_one=cached_fit,
        on_run=show_progress,
        should_stop=limit,
    )
limit.done()
if limit.stopped:
    finished = sum(len(sweep.runs) for sweep in sweeps.values())
    partial = f"{finished} of {total} fits finished; the chart shows the Ks they cover"
    st.warning(limit.message(partial), icon=":material/timer_off:")
    if not all(sweep.best_per_k for sweep in sweeps.values()):
        st.stop()
capped = sum(not run.converged for sweep in sweeps.values() for run in sweep.runs)
if capped:
    st.info(f"{capped} fit(s) stopped at the cap of {s.max_iter:,} iterations (sidebar) before their rule held.")

likelihood = methods[-1]  # the EM of this kind of data: it has a likelihood, so a BIC
best_rows = sweeps[likelihood].best_per_k
best_k = sweeps[likelihood].best_k_by_bic()
series = {}
if fits.KMEANS in sweeps:
    series["K-means cost (best seed)"] = [best.run.score for best in sweeps[fits.KMEANS].best_per_k]
series["EM log-likelihood (best seed)"] = [best.run.score for best in best_rows]
series["BIC"] = [best.bic for best in best_rows]
if dataset.gold is not None and experiment.completes_matrices(likelihood.algorithm):
    series["RMSE against gold"] = [best.completion.rmse_all for best in best_rows]

st.success(f"Best K by BIC: **{best_k}** (BIC {max(series['BIC']):,.4f}).", icon=":material/star:")
if best_k == k_max < min(n, 16):
    st.info(
        "The best K is the largest one tried: raise 'Largest K' to see whether BIC keeps rising.",
        icon=":material/info:",
    )
st.plotly_chart(curve_figures.model_selection_figure(ks, series, best_k=best_k, star_on=("BIC",)), key="ms_figure")
st.caption(
    "Each point is the best of the seeds for that K (highest LL, lowest cost); the star on the BIC panel marks "
    "the best K by BIC, the dotted line finds it on the other panels."
)

table = pd.DataFrame({"K": ks, **series})
table["best seed (EM)"] = [best.run.seed for best in best_rows]
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={name: st.column_config.NumberColumn(format="%.4f") for name in series},
)

# ---------------------------------------------------------------- covariance types (2-D points)
if dataset.kind == "points" and dataset.X.shape[1] == 2:
    st.subheader("Covariance types")
    st.caption(
        "A diagonal or full covariance fits more shapes but costs more parameters; BIC weighs both. Each "
        "(type, K) keeps its best seed; the star marks the best pair."
    )
    types_request = (content, k_max, n_seeds)
    types_cost = cost * len(COVARIANCE_TYPES) // len(methods)
    if types_cost > FREE_SWEEP_COST and st.session_state.get("ms_types_request") != types_request:
        if not st.button("Compare covariance types", key="ms_types_run", type="primary"):
            st.stop()
        st.session_state.ms_types_request = types_request
    types_limit = WorkLimit("Fitting every covariance type")

    def show_type_progress(covariance_type, run, done, total):
        types_limit.progress(done / total, text=f"Fitting {covariance_type}: K = {run.k}, seed {run.seed}")

    selection = covariance_views.covariance_selection(
        content, dataset.X, ks, seeds, dataset.name, show_type_progress, should_stop=types_limit
    )
    types_limit.done()
    if selection.stopped:
        finished = sum(len(sweep.runs) for sweep in selection.sweeps.values())
        st.warning(types_limit.message(f"the {finished} fits that finished are compared"), icon=":material/timer_off:")
    if not selection.rows:
        st.stop()  # the last section of the page: nothing finished to compare
    best_row = selection.best
    st.markdown(
        f":material/star: Best by BIC: **{best_row.covariance_type}** covariances with **K = {best_row.k}** "
        f"({best_row.n_parameters} parameters, BIC {best_row.bic:,.4f})."
    )
    bics = {name: [row.bic for row in selection.rows if row.covariance_type == name] for name in selection.sweeps}
    st.plotly_chart(
        curve_figures.bic_by_type_figure(ks, bics, best=(best_row.covariance_type, best_row.k)), key="ms_types_figure"
    )
    st.dataframe(
        pd.DataFrame(
            {
                "covariance": [row.covariance_type for row in selection.rows],
                "K": [row.k for row in selection.rows],
                "parameters": [row.n_parameters for row in selection.rows],
                "log-likelihood": [row.log_likelihood for row in selection.rows],
                "BIC": [row.bic for row in selection.rows],
                "best seed": [row.seed for row in selection.rows],
                "best": ["★" if row == best_row else "" for row in selection.rows],
            }
        ),
        hide_index=True,
        width="stretch",
        height="content",  # every (type, K) row in view, no inner scroll
        key="ms_types_table",
        column_config={name: st.column_config.NumberColumn(format="%.4f") for name in ("log-likelihood", "BIC")},
    )
    st.caption(
        "Parameters of K components in d = 2 dimensions: spherical K·d + K + K−1, diag 2·K·d + K−1, "
        "full K·d + K·d(d+1)/2 + K−1 (means, covariances, weights)."
    )
