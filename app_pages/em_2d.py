"""EM on complete 2-D data: responsibilities, circles at 1 and 2 sigma, the log-likelihood."""

import streamlit as st

from dashboard import controls, derived, exports, figures, session
from em_core import diagnostics
from em_core.mixture import VAR_FLOOR

s = session.settings()
st.title("EM on complete 2-D data")
st.caption(
    "The E-step gives each point a responsibility for each component; the M-step moves each component to "
    "the responsibility-weighted mean, resizes it and reweighs it. The log-likelihood never falls."
)
session.require(s, kind="points", two_d=True)
slot = session.get_fit("em2d", s, "naive-em")
controls.reset_notice(slot)
X = s.dataset.X


@st.fragment(run_every=controls.PLAY_INTERVAL if slot.playing else None)
def panel():
    shown = controls.stepper(slot, s, "em2d")
    mixture, post = session.view(slot, X, shown)
    for line in diagnostics.describe(diagnostics.component_report(mixture, VAR_FLOOR), VAR_FLOOR):
        st.warning(line, icon=":material/warning:")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(figures.points_figure(X, post, mixture, title=f"Iteration {shown}"), key="em2d_points")
        st.caption(
            "Each point's colour blends the component colours by its responsibilities; circles mark 1σ "
            "(solid) and 2σ (dashed) around each mean, labelled with the component's weight p."
        )
    with right:
        st.plotly_chart(figures.score_curve(list(slot.state.scores), "log_likelihood", current=shown), key="em2d_ll")
        st.caption("The log-likelihood of each E-step; EM stops when it gains no more than 1e-6·|LL|.")
        st.dataframe(derived.parameter_table(mixture), hide_index=True, key="em2d_params")
    meta = {"dataset": s.dataset_id, "seed": s.seed, "iteration": shown}
    exports.downloads(
        "em2d", exports.export_files(s.dataset_id, mixture, list(slot.state.scores), "log_likelihood", meta)
    )


panel()
