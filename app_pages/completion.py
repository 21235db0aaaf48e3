"""The completed matrix against the gold standard, following the current EM iteration."""

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import derived, figures, session

s = session.settings()
st.title("Completion vs gold")
session.require(s, kind="ratings")
slot = session.get_fit("matrix", s, "em")
dataset = s.dataset
X = dataset.X
state = slot.state
done = derived.get_completion(session.content_key(s), X, dataset.gold, state.mixture)
missing = X == 0

st.caption(
    f"The completion of the mixture after iteration {state.iteration} of the run on the "
    "'EM for matrix completion' page: observed ratings stay, every missing one becomes "
    "Σ_j p(j|u)·μ_j."
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
digest = derived.mixture_digest(state.mixture)
images = [("Observed", f"{key}:observed", X, missing), ("Completed", f"{key}:{digest}:completed", done.X_pred, None)]
if dataset.gold is not None:
    images.append(("Gold", f"{key}:gold", dataset.gold, None))
grid = st.columns(len(images) + (1 if dataset.gold is not None else 0))
for column, (title, cache_key, matrix, mask) in zip(grid, images, strict=False):
    with column:
        st.plotly_chart(derived.matrix_figure(cache_key, matrix, mask, title=title), key=f"cmp_{title.lower()}")
if dataset.gold is not None:
    error = np.abs(dataset.gold - done.X_pred)
    with grid[-1]:
        st.plotly_chart(
            derived.matrix_figure(
                f"{key}:{digest}:error",
                error,
                zmin=0.0,
                zmax=4.0,
                colorscale="Reds",
                title="|error|",
                colorbar_title="|error|",
            ),
            key="cmp_error",
        )
    st.caption(
        "Observed entries are exact by construction, so |error| is zero there; the light cells of the "
        "completion are where the mixture had to guess."
    )
    if missing.any():
        st.plotly_chart(
            figures.error_histogram(
                (done.X_pred - dataset.gold)[missing], title="Predicted − gold on the missing entries"
            ),
            key="cmp_hist",
        )
        st.caption("Errors centred on 0 mean the mixture neither over- nor under-rates on average.")

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
    table = table[X[user - 1] == 0]
st.dataframe(table, hide_index=True, width="stretch")
