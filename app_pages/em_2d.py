"""EM on complete 2-D data: responsibilities, 1σ and 2σ ellipses, the log-likelihood; covariance type and start."""

import pandas as pd
import streamlit as st

from dashboard import covariance_views, curve_figures, downloads, fit_page, fits, presentation, session, work
from dashboard.url import PAGE_CHOICES
from em_core import diagnostics, start_comparison
from em_core.covariance_em import COVARIANCE_TYPES, REG_COVAR
from em_core.mixture import VAR_FLOOR

COVARIANCE_HELP = {
    "spherical": "one variance per component, the same along every axis (the course's model): circles",
    "diag": "one variance per axis: ellipses along the axes",
    "full": "a full covariance matrix: ellipses at any angle",
}

s = session.settings()
st.title("EM on complete 2-D data")
st.caption(
    "The E-step gives each point a responsibility for each component; the M-step moves each component to "
    "the responsibility-weighted mean, resizes it and reweighs it. The log-likelihood never falls."
)
session.require(s, kind="points", two_d=True)


def kept_radio(column, label: str, options: list[str], widget_key: str, kept_key: str, default: str, **kwargs) -> str:
    """A horizontal radio whose value is kept under ``kept_key`` (which outlives a visit to another page)."""
    if st.session_state.get(kept_key, default) not in options:
        st.session_state[kept_key] = default
    st.session_state[widget_key] = st.session_state.get(kept_key, default)

    def keep() -> None:
        st.session_state[kept_key] = st.session_state[widget_key]

    return column.radio(label, options, key=widget_key, horizontal=True, on_change=keep, **kwargs)


def start_controls() -> fits.Start:
    """The covariance type and the start, kept in the session and the link; returns the fit's start.

    In presentation mode they sit in the sidebar, so the buttons and the chart still fit the projector.
    """
    if presentation.is_on():
        left = right = st.sidebar.container(border=True)
    else:
        left, right = st.columns(2)
    covariance_type = kept_radio(
        left,
        "Covariance",
        list(COVARIANCE_TYPES),
        "em2d_cov",
        PAGE_CHOICES["cov"][0],
        "spherical",
        format_func=lambda name: name + (" (the course's)" if name == "spherical" else ""),
        help="; ".join(f"**{name}**: {text}" for name, text in COVARIANCE_HELP.items())
        + f". diag and full add {REG_COVAR:g} to each variance, as scikit-learn does.",
    )
    means = covariance_views.placed_means()
    hand_ready = means is not None and means.shape == (s.K, 2)
    options = [name for name in fits.INITS if hand_ready or name != "hand"]
    init = kept_radio(
        right,
        "Start",
        options,
        "em2d_init_choice",
        PAGE_CHOICES["init"][0],
        "course",
        format_func=lambda name: fits.INITS[name],
        help="The course's init draws K points with the sidebar's seed; k-means++ draws them spread out, "
        "each with probability growing with its squared distance to those drawn before.",
    )
    if not hand_ready:
        placed = "" if means is None else f" (you placed {means.shape[0]}; K is {s.K})"
        right.caption(f"Your placed means: place K = {s.K} means on the page 'Your own points' to start here{placed}.")
    return fits.Start(covariance_type, init, tuple(map(tuple, means.tolist())) if init == "hand" else None)


def body(shown: fit_page.Shown) -> None:
    mixture = shown.mixture
    # a projector: beside the chart, on screen; in a container that is always there, so that the live charts
    # after it keep their place in the page as warnings come and go (dashboard.live_chart)
    warnings = (st if shown.row is None else shown.row.side).container()
    for line in diagnostics.describe(diagnostics.component_report(mixture, VAR_FLOOR), VAR_FLOOR):
        warnings.warning(line, icon=":material/warning:")
    spherical = shown.slot.key.start.covariance_type == "spherical"
    shape = "circles" if spherical else "ellipses"
    captions = (
        f"Each point's colour blends the component colours by its responsibilities; {shape} mark 1σ "
        "(solid) and 2σ (dashed) around each mean, from each component's covariance, labelled with its weight p.",
        "The log-likelihood of each E-step; EM stops when it gains no more than 1e-6·|LL|.",
    )
    fit_page.points_and_curve(shown, "em2d", captions, curve_key="em2d_ll")
    # full width: a diag or full covariance adds columns (variances, covariance, the ellipse's axes and angle)
    st.dataframe(covariance_views.parameter_table(mixture), hide_index=True, key="em2d_params")
    meta = {"dataset": s.dataset_id, "seed": s.seed, "iteration": shown.iteration}
    files = downloads.fit_files(s.dataset_id, mixture, shown.scores, shown.slot.score_name, meta)
    downloads.buttons("em2d", files)


def compare_starts(start: fits.Start) -> None:
    """Every start's final LL side by side, on a click (course and k-means++ with seeds 0-4, your placed means)."""
    st.subheader("Compare starts")
    means = covariance_views.placed_means()
    hand = tuple(map(tuple, means.tolist())) if means is not None and means.shape == (s.K, 2) else None
    request = (session.content_key(s), s.K, start.covariance_type, hand)
    st.caption(
        f"EM with K = {s.K} and {start.covariance_type} covariances to convergence from the course's init and "
        "from k-means++, each with seeds 0–4" + (", and from your placed means" if hand else "") + "."
    )
    if st.button("Compare starts", key="em2d_compare", icon=":material/compare_arrows:"):
        st.session_state.em2d_compared = request
    if st.session_state.get("em2d_compared") != request:
        return
    limit = work.WorkLimit("Fitting from every start")
    runs, complete = covariance_views.starts_compared(
        *request,
        s.dataset.X,
        _should_stop=limit,
        _on_run=lambda run, done, total: limit.progress(done / total, f"Fitting from every start: {done} of {total}"),
    )
    limit.done()
    if not complete:
        st.warning(limit.message(f"the {len(runs)} starts that finished"), icon=":material/timer_off:")
    if not runs:
        return
    gaps = start_comparison.gaps_to_best(runs)
    labels = [run.label for run in runs]
    figure = curve_figures.bar_chart(
        labels,
        gaps,
        title="Final log-likelihood below the best start (0: the same optimum)",
        value_title="LL − best LL",
    )
    left, right = st.columns([3, 2])
    left.plotly_chart(figure, key="em2d_starts_chart")
    table = pd.DataFrame(
        {
            "start": labels,
            "final log-likelihood": [run.log_likelihood for run in runs],
            "below the best": gaps,
            "iterations": [run.iterations for run in runs],
            "converged": [run.converged for run in runs],
        }
    )
    right.dataframe(
        table,
        hide_index=True,
        key="em2d_starts",
        column_config={"final log-likelihood": st.column_config.NumberColumn(format="%.6f")},
    )
    right.caption(
        f"Starts within {start_comparison.SAME_OPTIMUM:g}·|LL| of the best reached the same optimum (0 below "
        "the best); a start further below stopped in a worse one."
    )


start = start_controls()
fit_page.run(s, fits.NAIVE_EM, "em2d", "em2d", body, kind="points", two_d=True, start=start)
compare_starts(start)
