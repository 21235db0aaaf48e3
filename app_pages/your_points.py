"""Your own points: Click to add points, or start from a scenario; place starting means by hand."""

import streamlit as st

st.title("Your own points")
st.info("This page is being built.")
