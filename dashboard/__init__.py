"""The Streamlit dashboard: session state and the Plotly figure builders."""
