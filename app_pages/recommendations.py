"""Recommendations: a chosen user's top predicted unseen items, beside what they rated highest."""

import streamlit as st

from dashboard import completion_views, controls, fits, session
from dashboard import recommendation_tables as tables

s = session.settings()
st.title("Recommendations")
st.caption(
    "The mixture predicts every item a user has not rated as $\\sum_j p(j \\mid u)\\,\\mu_j$; the highest "
    "predictions are its recommendations. Shown beside them: what the user rated highest, to judge whether "
    "they fit."
)
session.require(s, kind="ratings")
slot = fits.get_fit("matrix", s, fits.EM)
dataset = s.dataset
X = dataset.X
ids = tables.user_ids(dataset)

pick, count, run = st.columns([2, 2, 1.25], vertical_alignment="bottom")  # the button's label whole at 1280 px
user_id = pick.number_input(
    "User id",
    min_value=int(ids.min()),
    max_value=int(ids.max()),
    value=int(ids[0]),
    step=1,
    key="rec_user",
    help="The user's id in the file (MovieLens userId); rows of a matrix file are numbered from 1.",
)
n_top = count.slider("How many items", 1, min(50, X.shape[1]), min(10, X.shape[1]), key="rec_n")
controls.run_to_convergence(slot, X, "rec_run", run)
session.sync_url(s, slot.state.iteration)

state = slot.state
where = "converged, " if state.converged else ""
st.caption(
    f"Predictions of the fit on the 'EM for matrix completion' page: K = {s.K}, seed {s.seed}, "
    f"{where}iteration {state.iteration}."
    + (controls.initial_mixture_note("recommendations") if state.iteration == 0 else "")
)

row = tables.row_of_user(dataset, int(user_id))
if row is None:
    st.info(f"No user has id {int(user_id)} in this data set; choose another id.", icon=":material/person_off:")
    st.stop()
key = session.content_key(s)
top = completion_views.top_unseen(key, X, state.mixture, row, int(n_top))
rated = tables.highest_rated(dataset, row, int(n_top))
n_rated, n_items = len(tables.user_ratings(dataset, row)[0]), X.shape[1]

left, right = st.columns([3, 2])
with left:
    st.subheader(f"Recommended for user {int(user_id)}")
    table = tables.recommended(dataset, top)
    if table.empty:
        st.info(f"User {int(user_id)} rated every item: there is nothing left to recommend.")
    else:
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            key="rec_top",
            column_config={"predicted rating": st.column_config.NumberColumn(format="%.3f")},
        )
        support = int(table["users who rated it"].median())
        st.caption(
            f"The {len(table)} highest predictions among the {n_items - n_rated:,} items this user did not rate."
            + (
                f" Half of them were rated by {support} user{'s' if support != 1 else ''} or fewer: a mean "
                "that few ratings moved (or none: it keeps its initial value) can sit at the top of the scale. "
                "'Results on real data' shows what that costs."
                if support <= 2
                else ""
            )
        )
with right:
    st.subheader(f"Rated highest by user {int(user_id)}")
    st.dataframe(rated, hide_index=True, width="stretch", key="rec_rated")
    st.caption(f"User {int(user_id)} rated {n_rated:,} of {n_items:,} items; ties are listed by item id.")
