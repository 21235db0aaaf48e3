"""K-means on a 2-D point set, one assignment or update at a time."""

import streamlit as st

from dashboard import fit_page, fits, session

s = session.settings()
st.title("K-means (2-D)")
st.caption(
    "Assign every point to its nearest centre, move each centre to the mean of its points, repeat until "
    "the cost (total squared distance) stops falling by more than 1e-4."
)


def body(shown: fit_page.Shown) -> None:
    fit_page.points_and_curve(
        shown,
        "km",
        (
            "Colour = the cluster a point is assigned to; x = the cluster centres.",
            "K-means never increases its cost; it stops when an iteration lowers it by 1e-4 or less.",
        ),
        curve_key="km_cost",
    )


fit_page.run(s, fits.KMEANS, "kmeans", "km", body, kind="points", two_d=True)
