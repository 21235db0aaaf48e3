"""Check your own numbers: the course's test case laid out exactly as test_solutions.txt."""

import scipy.sparse as sp
import streamlit as st

from dashboard import caches, session, work
from dashboard.limits import FREE_REPORT_COST
from em_core.stepping import InterruptedRunError

s = session.settings()
session.sync_url(s)
st.title("Check your numbers")
st.caption(
    "The initial mixture, the first E-step, the first M-step and the converged run, printed the way the "
    "course's test_solutions.txt prints them — compare them with your own implementation's line by line. "
    "They agree with the course's file to 1e-6; a number printed to 17 digits (a log-likelihood) can differ "
    "in its last digit, as any sum taken in another order does."
)
session.require(s, kind="ratings")
dataset = s.dataset
if sp.issparse(dataset.X):
    st.info(
        f"{session.dataset_label(s.dataset_id)} is a sparse {dataset.X.shape[0]:,} x {dataset.X.shape[1]:,} matrix: "
        "the course's printout lists X and X_pred cell by cell, which means nothing at this size. Choose the "
        "course's test set (or demo-small) in the sidebar to print and compare.",
        icon=":material/info:",
    )
    st.stop()
if s.dataset_id == "test" and (s.K, s.seed) != (4, 0):
    st.info(
        "The course's test case is K = 4, seed 0; set them in the sidebar to compare with test_solutions.txt.",
        icon=":material/info:",
    )
if dataset.X.size > 20_000:
    st.warning(
        f"{session.dataset_label(s.dataset_id)} is {dataset.X.shape[0]:,} x {dataset.X.shape[1]:,}: the "
        "printout abbreviates large arrays as numpy does. The download holds the same text.",
        icon=":material/warning:",
    )


cost = dataset.X.size * s.K
request = (session.content_key(s), s.K, s.seed, s.min_variance)
if cost > FREE_REPORT_COST and st.session_state.get("check_request") != request:
    st.info(
        f"The printout runs EM to convergence on the {dataset.X.shape[0]:,} x {dataset.X.shape[1]:,} matrix with "
        f"K = {s.K} (values x K: {cost:,}, above the {FREE_REPORT_COST:,} that runs without asking).",
        icon=":material/hourglass:",
    )
    if not st.button("Run EM and print", key="check_run", type="primary"):
        st.stop()
    st.session_state.check_request = request
limit = work.WorkLimit("Running EM to convergence")
try:
    text = caches.report(session.content_key(s), s.K, s.seed, s.min_variance, dataset.X, dataset.gold, limit)
except InterruptedRunError as stopped:
    st.warning(limit.message(f"{stopped}; nothing to print"), icon=":material/timer_off:")
    st.stop()
finally:
    limit.done()
st.download_button(
    "Download as text",
    text,
    file_name=f"{s.dataset_id}_K{s.K}_seed{s.seed}_solutions.txt",
    mime="text/plain",
    key="check_download",
    icon=":material/download:",
)
st.code(text, language=None)
