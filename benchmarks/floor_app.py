"""The Streamlit page ``bench_streamlit_floor.py`` clicks: the matrix page's stepping block without its
work. A fragment holds a row of six buttons (Step among them), a status line as the dashboard writes it,
and ``EM_FLOOR_ELEMENTS`` captions that change on every Step; Step only counts. What a click costs here is
what Streamlit itself costs for a fragment rerun of that many elements, before any computation or chart.
"""

import os

import streamlit as st

ELEMENTS = int(os.environ.get("EM_FLOOR_ELEMENTS", "0"))
st.session_state.setdefault("iteration", 0)


def step() -> None:
    st.session_state.iteration += 1


@st.fragment
def panel() -> None:
    iteration = st.session_state.iteration
    columns = st.columns(6)
    columns[0].button("Step", type="primary", on_click=step, width="stretch")
    for i, column in enumerate(columns[1:]):
        column.button(f"Other {i + 1}", width="stretch")
    status = f"**Iteration {iteration}** · log-likelihood {-1000.0 - iteration:,.6f}" if iteration else "Press Step"
    st.markdown(status)
    for i in range(ELEMENTS):
        st.caption(f"Element {i + 1} after iteration {iteration}.")


st.title("Streamlit's floor")
panel()
