"""EM on complete 2-D data: responsibilities, circles at 1 and 2 sigma, the log-likelihood."""

import streamlit as st

from dashboard import caches, downloads, fit_page, fits, session
from em_core import diagnostics
from em_core.mixture import VAR_FLOOR

s = session.settings()
st.title("EM on complete 2-D data")
st.caption(
    "The E-step gives each point a responsibility for each component; the M-step moves each component to "
    "the responsibility-weighted mean, resizes it and reweighs it. The log-likelihood never falls."
)


def body(shown: fit_page.Shown) -> None:
    mixture = shown.mixture
    for line in diagnostics.describe(diagnostics.component_report(mixture, VAR_FLOOR), VAR_FLOOR):
        st.warning(line, icon=":material/warning:")
    captions = (
        "Each point's colour blends the component colours by its responsibilities; circles mark 1σ "
        "(solid) and 2σ (dashed) around each mean, labelled with the component's weight p.",
        "The log-likelihood of each E-step; EM stops when it gains no more than 1e-6·|LL|.",
    )
    right = fit_page.points_and_curve(shown, "em2d", captions, curve_key="em2d_ll")
    right.dataframe(caches.parameter_table(mixture), hide_index=True, key="em2d_params")
    meta = {"dataset": s.dataset_id, "seed": s.seed, "iteration": shown.iteration}
    files = downloads.fit_files(s.dataset_id, mixture, shown.scores, shown.slot.score_name, meta)
    downloads.buttons("em2d", files)


fit_page.run(s, fits.NAIVE_EM, "em2d", "em2d", body, kind="points", two_d=True)
