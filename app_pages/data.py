"""Data: what the chosen matrix holds."""

import streamlit as st

from dashboard import caches, matrix_figures, matrix_views, mixture_figures, session

s = session.settings()
dataset = s.dataset
X = dataset.X
n, d = X.shape
key = session.content_key(s)
session.sync_url(s)

st.title("Data")
st.caption(f"{session.dataset_label(s.dataset_id)} — {n:,} rows x {d:,} columns.")

ratings = dataset.kind == "ratings"
values = matrix_views.observed_values(X) if ratings else X.ravel()
cols = st.columns(4)
cols[0].metric("Rows (users)" if ratings else "Points", f"{n:,}")
cols[1].metric("Columns (items)" if ratings else "Dimensions", f"{d:,}")
cols[2].metric("Observed", f"{values.size / (n * d):.1%}", help="Share of entries that are not 0 (0 = missing).")
cols[3].metric("Gold matrix", "yes" if dataset.gold is not None else "no")

if dataset.kind == "points" and d == 2:
    st.plotly_chart(mixture_figures.plain_points(X, title="The points"), key="data_points")
    st.caption("A complete 2-D point set: K-means and EM on complete data run on sets like this one.")
else:
    lo, hi = (
        (1.0, 5.0)
        if ratings and values.size and values.min() >= 1 and values.max() <= 5
        else (float(values.min()), float(values.max()))
    )
    drawn = matrix_views.corner(X) if ratings else matrix_views.corner(X, n, d)
    names = drawn.axis_names()
    left, right = st.columns(2)
    with left:
        shown = matrix_views.block(X, drawn)
        missing = shown == 0 if ratings else None
        image = caches.matrix_figure(
            f"{key}:observed", shown, missing, zmin=lo, zmax=hi, title="The matrix", axis_names=names
        )
        st.plotly_chart(image, key="data_matrix")
        st.caption(
            " ".join(
                [
                    "Each row is a user, each column an item; grey cells are missing ratings that EM will fill in.",
                    drawn.caption(),
                ]
            ).strip()
        )
    with right:
        st.plotly_chart(matrix_figures.rating_histogram(values, title="Observed values"), key="data_hist")
        st.caption("How often each observed value occurs (missing entries are not counted).")
    if dataset.gold is not None:
        with left:
            gold = caches.matrix_figure(
                f"{key}:gold",
                matrix_views.block(dataset.gold, drawn),
                zmin=lo,
                zmax=hi,
                title="Gold matrix",
                axis_names=names,
            )
            st.plotly_chart(gold, key="data_gold")
            st.caption("The complete matrix the completion is scored against.")
