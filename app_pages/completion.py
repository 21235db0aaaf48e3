"""The completed matrix against the gold standard, following the current EM iteration."""

import numpy as np
import pandas as pd
import scipy.sparse as sp
import streamlit as st

from dashboard import (
    caches,
    comparison,
    completion_views,
    controls,
    downloads,
    fits,
    matrix_figures,
    matrix_views,
    session,
)
from dashboard import recommendation_tables as tables

s = session.settings()
st.title("Completion vs gold")
session.require(s, kind="ratings")
slot = fits.get_fit("matrix", s, fits.EM)
controls.run_to_convergence(slot, s.dataset.X, "cmp_run")
session.sync_url(s, slot.state.iteration)
dataset = s.dataset
X = dataset.X
n, d = X.shape
state = slot.state
key = session.content_key(s)
digest = caches.mixture_digest(state.mixture)
# a CSR data set is never completed whole (n x d cells): only the cells drawn and the user asked for
whole = None if sp.issparse(X) else caches.get_completion(key, X, dataset.gold, state.mixture)
n_missing = n * d - matrix_views.observed_values(X).size
check = None  # out-of-range predictions and collapse, from em_core.diagnostics (a dense completion only)
if whole is not None and slot.initial is not None:
    check = completion_views.completion_check(
        key, X, dataset.gold, state.mixture, slot.initial, s.min_variance, whole.X_pred
    )

st.caption(
    f"The completion of the mixture after iteration {state.iteration} of the run on the "
    "'EM for matrix completion' page: observed ratings stay, every missing one becomes "
    r"$\sum_j p(j \mid u)\,\mu_j$." + (controls.initial_mixture_note("a completion") if state.iteration == 0 else "")
)
cols = st.columns(5)
cols[0].metric("Iteration", state.iteration)
cols[1].metric("Missing entries", f"{n_missing:,}")
if check is not None:
    low, high = check.rating_range
    cols[4].metric(
        f"Outside {low:g}–{high:g}",
        f"{int(check.out_of_range.sum()):,}",
        help="Missing entries the mixture predicts outside the observed rating range (red in the completion).",
    )
if dataset.gold is None:
    cols[2].metric("RMSE (all entries)", "—")
    cols[3].metric("RMSE (missing only)", "—")
    where = "below" if comparison.held_out_here(dataset) else "on the 'Results on real data' page"
    st.info(
        "This data set has no gold matrix, so the completion cannot be scored. Upload a gold file with the "
        f"matrix (sidebar) to compare, or score it on held-out ratings {where}.",
        icon=":material/info:",
    )
else:
    cols[2].metric("RMSE (all entries)", f"{whole.rmse_all:.6f}", help="The course's RMSE: over every entry.")
    cols[3].metric(
        "RMSE (missing only)",
        "—" if whole.rmse_missing is None else f"{whole.rmse_missing:.6f}",
        help="Only the entries EM had to guess.",
    )

drawn = matrix_views.corner(X)
names = drawn.axis_names()
observed = matrix_views.block(X, drawn)
if whole is None:
    completed = completion_views.completed_block(key, X, state.mixture, drawn)
else:
    completed = matrix_views.block(whole.X_pred, drawn)
if check is not None and check.out_of_range.any():
    outside = matrix_views.block(check.out_of_range, drawn)
    completed_image = caches.figure_once(
        "completed_outside",
        f"{key}:{digest}:{drawn.shape}",
        lambda: matrix_figures.matrix_image(completed, title="Completed", axis_names=names, outside=outside),
    )
else:
    completed_image = caches.matrix_figure(f"{key}:{digest}:completed", completed, title="Completed", axis_names=names)
charts = [
    ("observed", caches.matrix_figure(f"{key}:observed", observed, observed == 0, title="Observed", axis_names=names)),
    ("completed", completed_image),
]
histogram = None
if dataset.gold is not None:
    gold = matrix_views.block(dataset.gold, drawn)
    if drawn.whole:
        error_image, histogram = caches.error_figures(key, digest, X, dataset.gold, whole.X_pred)
    else:
        error_image = caches.matrix_figure(
            f"{key}:{digest}:error",
            np.abs(completed - gold),
            zmin=0.0,
            zmax=4.0,
            colorscale="Reds",
            title="|error|",
            colorbar_title="|error|",
            axis_names=names,
        )
        histogram = matrix_figures.error_histogram(
            (whole.X_pred - dataset.gold)[X == 0], title="Predicted − gold on the missing entries"
        )
    charts += [
        ("gold", caches.matrix_figure(f"{key}:gold", gold, title="Gold", axis_names=names)),
        ("error", error_image),
    ]
cells = [cell for _ in range(2) for cell in st.columns(2)]
for cell, (name, chart) in zip(cells, charts, strict=False):
    with cell:
        st.plotly_chart(chart, key=f"cmp_{name}")
if not drawn.whole:
    st.caption(drawn.caption())
if dataset.gold is not None:
    st.caption(
        "Observed entries are exact by construction, so |error| is zero there; the light cells of the "
        "completion are where the mixture had to guess."
    )
    if histogram is not None:
        st.plotly_chart(histogram, key="cmp_hist")
        st.caption("Errors centred on 0 mean the mixture neither over- nor under-rates on average.")

st.subheader("How good is this completion?")
if check is not None:
    for line in check.findings:
        st.warning(line, icon=":material/warning:")
    if check.versus is not None:
        if check.mixture_loses:
            st.warning("**Why the mixture loses to the user mean here.** " + check.versus, icon=":material/help:")
        else:
            st.success(check.versus, icon=":material/check_circle:")
comparison.baselines_on_gold(key, dataset, None if whole is None else whole.rmse_missing, state.iteration)
comparison.held_out(key, dataset, s.K, s.seed, s.min_variance)

st.subheader("Download this iteration")
files = downloads.fit_files(
    s.dataset_id,
    state.mixture,
    list(state.scores),
    slot.score_name,
    {
        "dataset": s.dataset_id,
        "seed": s.seed,
        "min_variance": s.min_variance,
        "iteration": state.iteration,
        "log_likelihood": state.score,
    },
    X_pred=None if whole is None else whole.X_pred,
)
downloads.buttons("cmp", files)
if whole is None:
    st.caption(
        f"No completed-matrix download here: it would hold {n * d:,} values. The Recommendations page lists "
        "each user's highest predictions; the command line (python -m em_core) scores held-out ratings."
    )

st.subheader("One user")
user = st.number_input(
    "User", min_value=1, max_value=n, value=1, step=1, key="cmp_user", help="Rows are numbered from 1."
)
if dataset.user_ids is not None:
    st.caption(f"Row {user} is user id {int(dataset.user_ids[user - 1])} in {session.dataset_label(s.dataset_id)}.")
rated, ratings = tables.user_ratings(dataset, user - 1)
line = np.full(d, np.nan)
line[rated] = ratings
row = {"item": tables.item_ids(dataset)}
if dataset.item_titles:
    row["title"] = tables.item_names(dataset, np.arange(d))
row["observed"] = line
row["predicted"] = (
    completion_views.completed_row(key, X, state.mixture, user - 1) if whole is None else whole.X_pred[user - 1]
)
if dataset.gold is not None:
    row["gold"] = dataset.gold[user - 1]
    row["|error|"] = np.abs(dataset.gold[user - 1] - whole.X_pred[user - 1])
table = pd.DataFrame(row)
only_missing = st.toggle("Only the items this user did not rate", value=True, key="cmp_only_missing")
if only_missing:
    table = table[np.isnan(line)].drop(columns="observed")
# the same three decimals for predictions and errors: a prediction of 3.99999999998 shown as "4" beside an
# |error| of 0.00000000002 (the default formats) read as a contradiction
decimals = {name: st.column_config.NumberColumn(format="%.3f") for name in ("observed", "predicted", "gold", "|error|")}
st.dataframe(table, hide_index=True, width="stretch", column_config=decimals)
