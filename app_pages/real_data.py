"""Results on real data: EM against the baselines on held-out real ratings, and why."""

import streamlit as st

st.title("Results on real data")
st.info("This page is being built.")
