"""K-means on a 2-D point set, one assignment or update at a time."""

import streamlit as st

from dashboard import controls, figures, session

s = session.settings()
st.title("K-means (2-D)")
st.caption(
    "Assign every point to its nearest centre, move each centre to the mean of its points, repeat until "
    "the cost (total squared distance) stops falling by more than 1e-4."
)
session.require(s, kind="points", two_d=True)
slot = session.get_fit("kmeans", s, "kmeans")
controls.reset_notice(slot)
X = s.dataset.X


@st.fragment(run_every=controls.PLAY_INTERVAL if slot.playing else None)
def panel():
    shown = controls.stepper(slot, s, "km", "cost", ("Assign", "Update"))
    mixture, post = session.view(slot, X, shown)
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(
            figures.points_figure(X, post, mixture, title=f"Iteration {shown}", circles=False, show_weights=False),
            key="km_points",
        )
        st.caption("Colour = the cluster a point is assigned to; x = the cluster centres.")
    with right:
        st.plotly_chart(figures.score_curve(list(slot.state.scores), "cost", current=shown), key="km_cost")
        st.caption("K-means never increases its cost; it stops when an iteration lowers it by 1e-4 or less.")


panel()
