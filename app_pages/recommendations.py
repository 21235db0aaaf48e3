"""Recommendations: A chosen user's top predicted unseen items, beside what they rated highest."""

import streamlit as st

st.title("Recommendations")
st.info("This page is being built.")
