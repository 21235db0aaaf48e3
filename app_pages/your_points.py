"""Your own points: click to add points, or start from a scenario; place starting means by hand."""

import streamlit as st

from dashboard import click_canvas, downloads, presentation, session, user_points
from dashboard.limits import plain

s = session.settings()
user_points.init_state()
presentation.enabled(keys=None)  # a projector: the canvas's text at 18 px, the sidebar closed
st.title("Your own points")
st.caption(
    "Click on the chart to add a point, or switch to placing starting means and click where each of the K "
    "means should start. The points become the data set **your points** in the sidebar once there are K of "
    "them; the placed means are the hand-placed start on the 2-D pages."
)

ADD, PLACE = "Add points", "Place starting means"
if "yp_clicks" not in st.session_state:
    st.session_state.yp_clicks = 0
message = None  # why the click or the start of this run was refused

controls, chart_column, side = st.columns([2, 5, 2])
with controls:
    mode = st.radio("A click will", [ADD, PLACE], key="yp_mode")
    start = st.selectbox("Start from", user_points.starting_sets(), key="yp_start")
    if st.button("Replace the points by it", key="yp_start_button", width="stretch"):
        message = user_points.start_from(session.current_dataset(start).X, start)
    st.button("Undo", key="yp_undo", on_click=user_points.undo, disabled=not user_points.can_undo(), width="stretch")
    st.button("Clear points", key="yp_clear", on_click=user_points.clear_points, width="stretch")
    st.button("Clear means", key="yp_clear_means", on_click=user_points.clear_means, width="stretch")

canvas = user_points.canvas()
chart_key = f"yp_canvas_{st.session_state.yp_clicks}"
where = click_canvas.clicked(st.session_state.get(chart_key), canvas)
if where is not None:  # the click of the previous run: apply it, then draw a fresh chart (no selection)
    add = user_points.add_point if mode == ADD else lambda x, y: user_points.add_mean(x, y, s.K)
    message = add(*where)
    st.session_state.yp_clicks += 1
    chart_key = f"yp_canvas_{st.session_state.yp_clicks}"

X, means = user_points.points(), user_points.placed_means()
with chart_column:
    placed = 0 if means is None else len(means)
    title = f"Click to place mean {placed + 1} of {s.K}" if placed < s.K else f"All {s.K} means placed"
    title = "Click to add a point" if mode == ADD else title
    # on a projector: its text sized, its ranges kept (a click lands on the canvas's grid)
    figure = presentation.size(click_canvas.canvas_figure(canvas, X, means, title), height=presentation.MAIN_HEIGHT)
    st.plotly_chart(figure, key=chart_key, on_select="rerun", selection_mode="points", config={"displayModeBar": False})
    st.caption(
        f"A click lands on the nearest point of an invisible grid: within {canvas.step / 2:g} of where you "
        f"clicked (the grid's step is {canvas.step:g}). Started from {plain(user_points.source())}."
    )
    if message:
        st.warning(message, icon=":material/block:")
    if X.shape[0]:
        downloads.buttons("yp", user_points.download_files())

with side:
    n, m = X.shape[0], placed
    st.metric("Points", n)
    st.metric("Means placed", f"{m} of {s.K}")
    if n >= s.K:
        if s.dataset_id != user_points.DATASET:
            st.button(
                "Use them as the data set",
                key="yp_use",
                on_click=user_points.use_as_dataset,
                type="primary",
            )
        else:
            st.success("They are the current data set.", icon=":material/check:")
    else:
        st.info(f"Add {s.K - n} more to use them as a data set (K = {s.K}).", icon=":material/info:")
    if m and m != s.K:
        st.info(f"The 2-D pages start from placed means when there are exactly K = {s.K}.", icon=":material/info:")
