"""K-means beside EM: Hard and soft assignment stepped in lockstep from the same starting means."""

import streamlit as st

from dashboard import curve_figures, lockstep, mixture_figures, presentation, session, user_points
from dashboard.limits import PLAY_INTERVAL
from em_core import DataError
from em_core import lockstep as core

s = session.settings()
st.title("K-means beside EM")
st.caption(
    "Both start from the same K means and take one iteration each per step. K-means gives every point to its "
    "nearest centre (one colour); EM gives it a share of every component (blended colours). Cluster j and "
    "component j start at the same mean, so their colours match."
)
session.require(s, kind="points", two_d=True)
present = presentation.enabled(keys="**Keys:** `S` Step both · `P` Play/Pause")
start = (st.sidebar if present else st).radio(
    "Start both from", list(lockstep.STARTS), format_func=lockstep.STARTS.get, key="sbs_start", horizontal=True
)
try:
    slot = lockstep.get_pair(s, start, user_points.placed_means())
except DataError as err:
    st.info(str(err), icon=":material/info:")
    st.stop()
playing = slot.playing
DIFFER = "Points that disagree"
DIFFER_HELP = (
    "Points whose K-means cluster is not their strongest EM component (the largest responsibility). They "
    "disagree where clusters overlap or differ in spread or weight, which K-means cannot see."
)
CURVE_HEIGHT = 260


@st.fragment(run_every=PLAY_INTERVAL if playing else None)
def panel() -> None:
    X = s.dataset.X
    if slot.playing and playing:
        lockstep.act(slot, X, "step")
    lockstep.buttons(slot, X)
    line, slider, count = st.columns([5, 4, 3], vertical_alignment="center")
    with slider:
        shown = lockstep.scrub(slot)
    if slot.playing != playing:
        st.rerun(scope="app")  # Play, Pause or convergence: the page sets (or stops) the fragment's timer
    km, em = core.views(slot.algorithms, X, slot.pair, shown)
    line.markdown(lockstep.status_line(slot.pair, shown))
    if shown and present:  # one line, as tall as the status beside it: the charts keep their place
        count.markdown(f"{DIFFER}: **{len(core.disagreements(km.post, em.post))}**", help=DIFFER_HELP)
    elif shown:
        count.metric(DIFFER, len(core.disagreements(km.post, em.post)), help=DIFFER_HELP)
    else:
        count.caption("Press Step both: the first assignments come with the first step.")
    left, right = st.columns(2)
    with left:
        title = f"K-means after {km.iteration} iterations: hard assignment"
        figure = mixture_figures.points_figure(X, km.post, km.mixture, title, circles=False, show_weights=False)
        st.plotly_chart(lockstep.compact(figure, present=present), key="sbs_kmeans")
        cost = slot.pair.kmeans.scores
        curve = curve_figures.score_curve(cost, "cost", current=min(shown, len(cost)) or None)
        st.plotly_chart(lockstep.compact(curve, height=CURVE_HEIGHT), key="sbs_cost")
    with right:
        title = f"EM after {em.iteration} iterations: soft assignment"
        figure = mixture_figures.points_figure(X, em.post, em.mixture, title)
        st.plotly_chart(lockstep.compact(figure, present=present), key="sbs_em")
        ll = slot.pair.em.scores
        curve = curve_figures.score_curve(ll, "log_likelihood", current=min(shown, len(ll)) or None)
        st.plotly_chart(lockstep.compact(curve, height=CURVE_HEIGHT), key="sbs_ll")


panel()
