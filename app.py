"""EM Lab: watch EM fit Gaussian mixtures and complete rating matrices.

Run with ``streamlit run app.py``.
"""

import streamlit as st

from dashboard import blas_threads, heap, sidebar

# The pages live in app_pages/, not pages/: Streamlit treats a folder named pages/ beside the
# entry script as a legacy multipage app; on a fresh server it would run a deep-linked page
# without this file (so without the sidebar), and AppTest.switch_page would do the same.

# Once per server process: the imports' objects out of the collection Streamlit runs after every run.
heap.freeze_imports()
# One BLAS thread: a second one spins between a Step's products and takes a core from the browser or
# from the other sessions (dashboard/blas_threads.py says what it measured).
blas_threads.limit()

st.set_page_config(page_title="EM Lab", page_icon="📈", layout="wide")

PAGES = [
    st.Page("app_pages/data.py", title="Data", icon=":material/table_chart:", default=True),
    st.Page("app_pages/kmeans_2d.py", title="K-means (2-D)", icon=":material/hub:"),
    st.Page("app_pages/em_2d.py", title="EM on complete 2-D data", icon=":material/bubble_chart:"),
    st.Page("app_pages/side_by_side.py", title="K-means beside EM", icon=":material/compare_arrows:"),
    st.Page("app_pages/your_points.py", title="Your own points", icon=":material/touch_app:"),
    st.Page("app_pages/em_matrix.py", title="EM for matrix completion", icon=":material/grid_on:"),
    st.Page("app_pages/completion.py", title="Completion vs gold", icon=":material/compare:"),
    st.Page("app_pages/recommendations.py", title="Recommendations", icon=":material/recommend:"),
    st.Page("app_pages/real_data.py", title="Results on real data", icon=":material/insights:"),
    st.Page("app_pages/model_selection.py", title="Model selection", icon=":material/leaderboard:"),
    st.Page("app_pages/check_numbers.py", title="Check your numbers", icon=":material/fact_check:"),
    st.Page("app_pages/lesson.py", title="Lesson: predict, then step", icon=":material/school:"),
]

page = st.navigation(PAGES)
sidebar.render()
page.run()
