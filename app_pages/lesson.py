"""Lesson: predict, then step: A guided path through the course project: predict each step before it runs."""

import streamlit as st

st.title("Lesson: predict, then step")
st.info("This page is being built.")
