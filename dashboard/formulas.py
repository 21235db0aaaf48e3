"""The "formulas, with the numbers" expander of the matrix EM page (every number from em_core)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import formula_latex
from em_core import GaussianMixture, diagnostics, em, explain


def render(
    X: np.ndarray,
    mixture: GaussianMixture,
    post_used: np.ndarray | None,
    scores: list[float],
    shown: int,
    min_variance: float,
    u: int,
) -> None:
    """Write the E-step, M-step and stopping rule for user ``u``, a chosen component and item.

    ``post_used`` is the posterior of the E-step that produced ``mixture`` (None before the
    first M-step); the E- and M-step shown are the ones the next Step will do. ``u`` (0-based)
    is the user the page's "User" input chose; the component starts as that user's strongest
    in the next E-step (a live one, never a dead component whose posterior is exp(-11702) = 0).
    """
    n, d = X.shape
    K = mixture.mu.shape[0]
    post_next, _ = em.estep(X, mixture)
    st.caption(
        f"What the next Step does to the mixture after iteration {shown}, for user u = {u + 1} (the User "
        "above), one component j and one item i. Users, components and items are numbered from 1."
    )
    if st.session_state.get("emx_fj_user") != u:  # a new user: start from their strongest component
        st.session_state["emx_fj"] = int(np.argmax(post_next[u])) + 1
        st.session_state["emx_fj_user"] = u
    cols = st.columns(2)
    j = cols[0].number_input("component j", min_value=1, max_value=K, step=1, key="emx_fj") - 1
    i = cols[1].number_input("item i", min_value=1, max_value=d, value=1, step=1, key="emx_fi") - 1

    st.markdown("**E-step** — the log joint f(u, j) and the posterior through LogSumExp")
    st.latex(formula_latex.latex_estep(explain.estep_terms(X, mixture, u, j), u, j))
    st.markdown("**M-step** — the weight, the thresholded mean update and the floored variance")
    mstep = explain.mstep_terms(X, post_next, mixture, j, i, min_variance)
    st.latex(formula_latex.latex_mstep(mstep, j, i, min_variance))
    if len(scores) >= 2:
        st.markdown("**Stopping rule** — the last two log-likelihoods")
        st.latex(formula_latex.latex_stopping(explain.stopping_terms(scores[-2], scores[-1])))

    report = diagnostics.component_report(mixture, min_variance, X, post_used)
    table = pd.DataFrame(
        {
            "component": [f"j={k + 1}" for k in range(K)],
            "p": mixture.p,
            "variance": mixture.var,
            "variance at the floor": report.at_floor,
        }
    )
    if report.frozen is not None:
        table["mean coordinates not updated"] = report.frozen.sum(axis=1)
        st.markdown(f"**Which parameters the M-step of iteration {shown} could not move**")
        frozen_items = np.flatnonzero(report.frozen[j]) + 1
        if frozen_items.size:
            shown_items = ", ".join(map(str, frozen_items[:40])) + (" ..." if frozen_items.size > 40 else "")
            st.caption(
                f"Component j={j + 1} kept its previous mean on {frozen_items.size:,} item(s) whose support "
                f"Σ_u p(j|u)·[i rated by u] was below 1: {shown_items}."
            )
        else:
            st.caption(f"Every mean coordinate of component j={j + 1} had support ≥ 1 and was updated.")
    st.dataframe(table, hide_index=True, width="stretch")
