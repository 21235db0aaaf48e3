"""K-means beside EM: Hard and soft assignment stepped in lockstep from the same starting means."""

import streamlit as st

st.title("K-means beside EM")
st.info("This page is being built.")
