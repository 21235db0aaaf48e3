"""The completed matrix against the gold standard, following the current EM iteration."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import caches, comparison, downloads, fits, session

s = session.settings()
st.title("Completion vs gold")
session.require(s, kind="ratings")
slot = fits.get_fit("matrix", s, fits.EM)
session.sync_url(s, slot.state.iteration)
dataset = s.dataset
X = dataset.X
state = slot.state
done = caches.get_completion(session.content_key(s), X, dataset.gold, state.mixture)
missing = X == 0

st.caption(
    f"The completion of the mixture after iteration {state.iteration} of the run on the "
    "'EM for matrix completion' page: observed ratings stay, every missing one becomes "
    r"$\sum_j p(j \mid u)\,\mu_j$."
)
cols = st.columns(4)
cols[0].metric("Iteration", state.iteration)
cols[1].metric("Missing entries", f"{int(missing.sum()):,}")
if dataset.gold is None:
    cols[2].metric("RMSE (all entries)", "—")
    cols[3].metric("RMSE (missing only)", "—")
    st.info(
        "This data set has no gold matrix, so the completion cannot be scored. Upload a gold file with the "
        "matrix (sidebar) to compare.",
        icon=":material/info:",
    )
else:
    cols[2].metric("RMSE (all entries)", f"{done.rmse_all:.6f}", help="The course's RMSE: over every entry.")
    cols[3].metric(
        "RMSE (missing only)",
        "—" if done.rmse_missing is None else f"{done.rmse_missing:.6f}",
        help="Only the entries EM had to guess.",
    )

key = session.content_key(s)
digest = caches.mixture_digest(state.mixture)
charts = [
    ("observed", caches.matrix_figure(f"{key}:observed", X, missing, title="Observed")),
    ("completed", caches.matrix_figure(f"{key}:{digest}:completed", done.X_pred, title="Completed")),
]
histogram = None
if dataset.gold is not None:
    error_image, histogram = caches.error_figures(key, digest, X, dataset.gold, done.X_pred)
    charts += [("gold", caches.matrix_figure(f"{key}:gold", dataset.gold, title="Gold")), ("error", error_image)]
cells = [cell for _ in range(2) for cell in st.columns(2)]
for cell, (name, chart) in zip(cells, charts, strict=False):
    with cell:
        st.plotly_chart(chart, key=f"cmp_{name}")
if dataset.gold is not None:
    st.caption(
        "Observed entries are exact by construction, so |error| is zero there; the light cells of the "
        "completion are where the mixture had to guess."
    )
    if histogram is not None:
        st.plotly_chart(histogram, key="cmp_hist")
        st.caption("Errors centred on 0 mean the mixture neither over- nor under-rates on average.")

st.subheader("How good is this completion?")
comparison.baselines_on_gold(key, dataset, done.rmse_missing, state.iteration)
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
    X_pred=done.X_pred,
)
downloads.buttons("cmp", files)

st.subheader("One user")
user = st.number_input("User", min_value=1, max_value=X.shape[0], value=1, step=1, key="cmp_user")
row = {
    "item": np.arange(1, X.shape[1] + 1),
    "observed": np.where(X[user - 1] != 0, X[user - 1], np.nan),
    "predicted": done.X_pred[user - 1],
}
if dataset.gold is not None:
    row["gold"] = dataset.gold[user - 1]
    row["|error|"] = np.abs(dataset.gold[user - 1] - done.X_pred[user - 1])
table = pd.DataFrame(row)
only_missing = st.toggle("Only the items this user did not rate", value=True, key="cmp_only_missing")
if only_missing:
    table = table[X[user - 1] == 0].drop(columns="observed")
st.dataframe(table, hide_index=True, width="stretch")
