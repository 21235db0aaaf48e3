"""EM on the rating matrix (0 = missing), one E-step or M-step at a time."""

from typing import NamedTuple

import streamlit as st

from dashboard import (
    caches,
    curve_figures,
    fit_page,
    fits,
    formulas,
    live_chart,
    matrix_figures,
    matrix_views,
    mixture_figures,
    presentation,
    session,
)
from em_core import diagnostics

s = session.settings()
st.title("EM for matrix completion")
st.caption(
    "Each user contributes only the ratings they gave. The E-step weighs every user's fit to every "
    "component in the log domain; the M-step moves a mean coordinate only where at least one user's worth "
    f"of weight rated that item, and floors every variance at {s.min_variance:g}."
)
X = s.dataset.X


def chart(figure, key: str, role: str = "row") -> None:
    """A live chart (:mod:`dashboard.live_chart`: a Step redraws it in place), sized for a projector in
    presentation mode as ``role`` (:func:`dashboard.presentation.size` sizes a new figure: the cached one
    is shared by every session)."""
    live_chart.show(presentation.size(figure, role), key)


class Charts(NamedTuple):
    """What the page draws for the shown iteration, computed before any of it is written."""

    curve: object  # the LL curve with the stopping rule
    users: object  # the users on the start's first two principal components
    circles: str  # how the users' map draws the components (the end of its caption)
    collapse: tuple[str, ...]  # the collapse report's sentences
    means: object  # the means heatmap
    user: int  # the chosen user (1-based) and the posterior bars for them
    posterior: object


def prepare(shown: fit_page.Shown) -> Charts:
    """Every chart of the page for ``shown``, each built once per input (:func:`dashboard.caches.figure_once`:
    a half-step rebuilds only the charts it changed, an M-step leaves the LL curve, an E-step the means).

    All the work of a Step happens here, before the page writes an element: the browser then gets the
    page's elements in one burst and draws them once, not a few at a time between computations."""
    mixture, data_key = shown.mixture, session.content_key(s)
    completed = caches.completed_once(X, mixture)  # the users' map and the collapse report share it
    # the plane of the fit's first mixture, kept: a Step projects (no SVD) and the map does not turn
    done = caches.get_user_map(data_key, X, mixture, start=shown.slot.initial, completed=completed)
    scores, rule, current = shown.scores, shown.slot.algorithm.converged, shown.current
    curve = caches.figure_once(
        "ll",
        f"{scores}|{rule}|{current}",
        lambda: curve_figures.score_curve(scores, shown.slot.score_name, rule=rule, current=current),
    )
    readable = mixture_figures.circles_readable(done.Z, done.sigmas)
    # the start's components: the share of today's variance along them need not fall from PC1 to PC2
    axes = tuple(f"PC{i + 1} of the start ({share:.0%} of variance)" for i, share in enumerate(done.explained))
    plane = caches.array_digest(done.Z, done.means_2d, done.explained)  # the mixture on its kept plane
    users = caches.figure_once(
        "pca",
        f"{data_key}|{caches.mixture_digest(mixture)}|{plane}|{caches.array_digest(shown.post)}",
        lambda: mixture_figures.mixture_scatter(
            done.Z,
            shown.post,
            done.means_2d,
            done.sigmas,
            mixture.p,
            title="Users on the first two principal components",
            axis_titles=axes,
            point_name="user",
            circles=readable,  # circles no one can see are neither built nor sent
            legend_below=True,  # half the page wide: beside the plot, 12 entries left the points 230 px
        ),
    )
    if readable:
        circles = "so each circle is its component's 1σ and 2σ."
    else:
        circles = (
            f"but here σ ≤ {float(done.sigmas.max()):.2g} is too small against the users' spread for "
            "a 1σ or 2σ circle to show, so none is drawn: each component is the × at its mean."
        )
    collapse, means = means_heatmap(shown, completed)
    # the number input's value as the widget will return it (it is written after the charts are made)
    user = min(max(int(st.session_state.get("emx_user", 1)), 1), X.shape[0])
    title = f"p(j | user {user}) against the prior p<sub>j</sub>"
    row, prior = shown.post[user - 1], mixture.p
    posterior = caches.figure_once(
        "posterior",
        f"{title}|{caches.array_digest(row, prior)}",
        lambda: curve_figures.posterior_bars(row, prior=prior, title=title),
    )
    return Charts(curve, users, circles, collapse, means, user, posterior)


def means_heatmap(shown: fit_page.Shown, completed) -> tuple[tuple[str, ...], object]:
    """The collapse report's sentences and the means heatmap: collapsed components flagged, coordinates
    kept from the init drawn as "no data"."""
    mixture, initial = shown.mixture, shown.slot.initial
    no_data, flags, sentences = None, {}, ()
    if shown.iteration > 0 and initial is not None and matrix_views.is_sparse(X):
        # a CSR matrix: the collapse report would complete all n x d cells; the "no data" mask does not
        no_data = diagnostics.kept_from_init(mixture, initial, X, shown.producing_post, not_updated=shown.not_updated)
    elif shown.iteration > 0 and initial is not None:  # at iteration 0 every mean is the init
        # once per mixture; the M-step's own support mask (from its narration) spares a K x n x d product
        found = caches.get_collapse_findings(
            session.content_key(s),
            X,
            mixture,
            initial,
            s.min_variance,
            shown.producing_post,
            shown.not_updated,
            completed=completed,
        )
        sentences, no_data = found.sentences, found.kept_from_init
        flags = {c.j: f"collapsed on user {c.user + 1}" if c.user >= 0 else "collapsed" for c in found.collapsed}
    title = f"Cluster means after iteration {shown.iteration}"
    key = f"{session.content_key(s)}|{caches.mixture_digest(mixture)}|{caches.array_digest(no_data)}|{flags}|{title}"
    means = caches.figure_once(
        "means",
        key,
        lambda: matrix_figures.means_heatmap(
            mixture.mu,
            title=title,
            no_data=no_data,
            flags=flags,
            columns=caches.drawn_corner(session.content_key(s), X).columns,  # a large matrix: its most rated items
        ),
    )
    return sentences, means


def curve_and_map(charts: Charts) -> None:
    """The LL curve with the stopping rule, and the users on the first two principal components."""
    left, right = st.columns(2)
    with left:
        chart(charts.curve, "emx_ll")
        st.caption(
            "Top: the log-likelihood of each E-step. Bottom: each iteration's gain against the stopping "
            "threshold 1e-6·|LL|; the run stops at the first gain under the line."
        )
    with right:
        chart(charts.users, "emx_pca", "points")
        st.caption(
            "Users projected on the first two principal components of the matrix as this fit's starting "
            "mixture completes it, coloured by responsibilities. The axes stay those of the start for the "
            "whole fit, so between steps the picture does not turn: what moves is the users (their "
            "completed ratings) and the means. The axis titles give each axis' share of the current "
            "completion's variance (as the fit moves, PC2 of the start can come to hold more of it than "
            "PC1). A spherical Gaussian projects to a circle of the same σ under "
            f"an orthonormal projection, {charts.circles}"
        )


def means_map(charts: Charts) -> None:
    with st.container():  # always there, so the chart under it keeps its place (a live chart)
        for line in charts.collapse:
            st.warning(line, icon=":material/scatter_plot:")
    chart(charts.means, "emx_means")
    st.caption(
        "Each row is a component's mean rating for every item: the taste of one type of user. Grey cells have no "
        "data: fewer than one user's worth of weight rated that item, so the mean kept its initial value."
    )


def one_user(charts: Charts) -> int:
    """A chosen user's posterior against the prior weights; returns the user (0-based)."""
    user_col, bars_col = st.columns([1, 3])
    with user_col:
        user = st.number_input(
            "User", min_value=1, max_value=X.shape[0], value=1, step=1, key="emx_user", help="Rows are numbered from 1."
        )
        rated = int((X[user - 1] != 0).sum())
        st.caption(f"User {user} rated {rated:,} of {X.shape[1]:,} items.")
    with bars_col:
        chart(charts.posterior, "emx_post")
        st.caption("The posterior of the chosen user: how strongly each component claims them after the E-step.")
    return user - 1


def show_warnings(lines: list[str]) -> None:
    """The components' warnings, in one container that is there even when empty: the live charts under
    it keep their place in the page, so a Step redraws them instead of mounting them anew."""
    with st.container():
        for line in lines:
            st.warning(line, icon=":material/warning:")


def body(shown: fit_page.Shown) -> None:
    mixture, state = shown.mixture, shown.slot.state
    warnings = diagnostics.describe(diagnostics.component_report(mixture, s.min_variance), s.min_variance)
    charts = prepare(shown)
    present = presentation.is_on()  # on a projector the buttons and the two charts come first, the warnings under
    if not present:
        show_warnings(warnings)
    curve_and_map(charts)
    if present:
        show_warnings(warnings)
    means_map(charts)
    user = one_user(charts)
    # a toggle, not an expander: an expander's body would run (a whole extra E-step) on every Step
    if st.toggle(
        "The formulas, with the numbers",
        key="emx_formulas",
        help="The E-step, M-step and stopping rule for one user, component and item, with this "
        "iteration's numbers substituted.",
    ):
        it = shown.iteration
        formulas.render(X, mixture, shown.producing_post, list(state.scores[:it]), it, s.min_variance, user)


fit_page.run(s, fits.EM, "matrix", "emx", body, kind="ratings")
