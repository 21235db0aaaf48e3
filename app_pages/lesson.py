"""Lesson: predict, then step. A guided path through the course project, and an instructor's script."""

import streamlit as st

from dashboard import lesson_script_view, lesson_state, lesson_view

st.title("Lesson: predict, then step")
lesson_state.init()
mode = st.segmented_control("Mode", lesson_state.MODES, key="lesson_mode", label_visibility="collapsed")
if mode == lesson_state.MODES[1]:
    lesson_script_view.show()
else:
    st.caption(
        "Seven stages in the course project's order. Each sets the data, K, seed and iteration, asks you to "
        "predict the next step, then runs it and shows your answer against what happened. The lesson sets "
        "its own data; the sidebar's data set, K and seed do not apply here."
    )
    lesson_view.show()
