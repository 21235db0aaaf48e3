"""EM on the rating matrix (0 = missing), one E-step or M-step at a time."""

import streamlit as st

from dashboard import controls, derived, figures, formulas, session
from em_core import diagnostics, em

s = session.settings()
st.title("EM for matrix completion")
st.caption(
    "Each user contributes only the ratings they gave. The E-step weighs every user's fit to every "
    "component in the log domain; the M-step moves a mean coordinate only where at least one user's worth "
    f"of weight rated that item, and floors every variance at {s.min_variance:g}."
)
session.require(s, kind="ratings")
slot = session.get_fit("matrix", s, "em")
controls.reset_notice(slot)
dataset = s.dataset
X = dataset.X


@st.fragment(run_every=controls.PLAY_INTERVAL if slot.playing else None)
def panel():
    shown = controls.stepper(slot, s, "emx")
    mixture, post = session.view(slot, X, shown, s.min_variance)
    done = derived.get_user_map(session.content_key(s), X, mixture)
    for line in diagnostics.describe(diagnostics.component_report(mixture, s.min_variance), s.min_variance):
        st.warning(line, icon=":material/warning:")

    left, right = st.columns(2)
    with left:
        st.plotly_chart(
            figures.score_curve(list(slot.state.scores), "log_likelihood", tol=em.TOL, current=shown), key="emx_ll"
        )
        st.caption(
            "Top: the log-likelihood of each E-step. Bottom: each iteration's gain against the stopping "
            "threshold 1e-6·|LL|; the run stops at the first gain under the line."
        )
    with right:
        axes = tuple(f"PC{i + 1} ({share:.0%} of variance)" for i, share in enumerate(done.explained))
        st.plotly_chart(
            figures.mixture_scatter(
                done.Z,
                post,
                done.means_2d,
                done.sigmas,
                mixture.p,
                title="Users on the first two principal components",
                axis_titles=axes,
                point_name="user",
            ),
            key="emx_pca",
        )
        st.caption(
            "Users projected on the first two principal components of the current completed matrix, "
            "coloured by responsibilities. A spherical Gaussian projects to a circle of the same σ under "
            "an orthonormal projection, so each circle is its component's 1σ and 2σ."
        )

    st.plotly_chart(figures.means_heatmap(mixture.mu, title=f"Cluster means after iteration {shown}"), key="emx_means")
    st.caption("Each row is a component's mean rating for every item: the taste of one type of user.")

    user_col, bars_col = st.columns([1, 3])
    with user_col:
        user = st.number_input(
            "User", min_value=1, max_value=X.shape[0], value=1, step=1, key="emx_user", help="Rows are numbered from 1."
        )
        rated = int((X[user - 1] != 0).sum())
        st.caption(f"User {user} rated {rated:,} of {X.shape[1]:,} items.")
    with bars_col:
        st.plotly_chart(
            figures.posterior_bars(post[user - 1], prior=mixture.p, title=f"p(j | user {user}) against the prior p_j"),
            key="emx_post",
        )
        st.caption("The posterior of the chosen user: how strongly each component claims them after the E-step.")

    # a toggle, not an expander: an expander's body would run (a whole extra E-step) on every Step
    if st.toggle(
        "The formulas, with the numbers",
        key="emx_formulas",
        help="The E-step, M-step and stopping rule for one user, component and item, with this "
        "iteration's numbers substituted.",
    ):
        post_used = post if shown > 0 and (shown < slot.state.iteration or slot.state.next_step == "E") else None
        formulas.render(X, mixture, post_used, list(slot.state.scores[:shown]), shown, s.min_variance)


panel()
