"""Data: what the chosen matrix holds."""

import streamlit as st

from dashboard import caches, matrix_figures, mixture_figures, session

s = session.settings()
dataset = s.dataset
X = dataset.X
n, d = X.shape
observed = dataset.observed
key = session.content_key(s)
session.sync_url(s)

st.title("Data")
st.caption(f"{session.dataset_label(s.dataset_id)} — {n:,} rows x {d:,} columns.")

cols = st.columns(4)
cols[0].metric("Rows (users)" if dataset.kind == "ratings" else "Points", f"{n:,}")
cols[1].metric("Columns (items)" if dataset.kind == "ratings" else "Dimensions", f"{d:,}")
cols[2].metric("Observed", f"{observed.mean():.1%}", help="Share of entries that are not 0 (0 = missing).")
cols[3].metric("Gold matrix", "yes" if dataset.gold is not None else "no")

if dataset.kind == "points" and d == 2:
    st.plotly_chart(mixture_figures.plain_points(X, title="The points"), key="data_points")
    st.caption("A complete 2-D point set: K-means and EM on complete data run on sets like this one.")
else:
    values = X[observed]
    lo, hi = (
        (1.0, 5.0)
        if dataset.kind == "ratings" and values.size and values.min() >= 1 and values.max() <= 5
        else (float(values.min()), float(values.max()))
    )
    left, right = st.columns(2)
    with left:
        missing = ~observed if dataset.kind == "ratings" else None
        st.plotly_chart(
            caches.matrix_figure(f"{key}:observed", X, missing, zmin=lo, zmax=hi, title="The matrix"),
            key="data_matrix",
        )
        st.caption("Each row is a user, each column an item; grey cells are missing ratings that EM will fill in.")
    with right:
        st.plotly_chart(matrix_figures.rating_histogram(values, title="Observed values"), key="data_hist")
        st.caption("How often each observed value occurs (missing entries are not counted).")
    if dataset.gold is not None:
        with left:
            gold = caches.matrix_figure(f"{key}:gold", dataset.gold, zmin=lo, zmax=hi, title="Gold matrix")
            st.plotly_chart(gold, key="data_gold")
            st.caption("The complete matrix the completion is scored against.")
