"""Curves and comparisons: the score per iteration with the stopping rule, the scores against K
for model selection, labelled bars (e.g. RMSE per method) and one point's posterior against the prior.

Pure builders: numbers -> ``go.Figure``. Iterations are numbered from 1, as the status line
and the course number them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.figure_style import (
    ACCENT_COLOR,
    BAR_COLOR,
    PALETTE,
    component_colors,
    empty_figure,
    gaps,
    legend_below,
    neutral_key,
    style,
    style_layout,
)
from dashboard.plotly_spec import SpecFigure
from em_core.stepping import StoppingRule

_SCORE_LABELS = {"log_likelihood": "log-likelihood", "cost": "K-means cost"}


# ----------------------------------------------------------------------------- scores


# Every builder on a Step's path writes its figure as a plain spec (dashboard.plotly_spec.SpecFigure), which
# is sent without plotly's validation (a Step on the matrix page spent ~0.9 s of CPU in those checks, a
# hundred times its E- and M-step).

#: The rows of the two-row score curve: (y domain, x and y axis names). Plotly's make_subplots
#: with row heights 0.55 / 0.45 and a vertical spacing of 0.1 gives these domains.
_TOP, _BOTTOM = ([0.505, 1.0], "x", "y"), ([0.0, 0.405], "x2", "y2")


def _stopping_rule_traces(values: np.ndarray, rule: StoppingRule) -> list[dict]:
    """Row 2 of :func:`score_curve`: each iteration's gain (log y) against the stopping threshold.

    The gain and the threshold are em_core's (:meth:`~em_core.stepping.StoppingRule.series`). Gains
    <= 0 cannot sit on a log axis: they are drawn at a floor below every positive value, as red
    down-triangles. Needs two scores (:func:`score_curve` says so on the row before).
    """
    is_cost = not rule.relative
    x, gain, threshold, _ = rule.series(values)
    positive = np.isfinite(gain) & (gain > 0)
    shown = np.concatenate([gain[positive], threshold[np.isfinite(threshold) & (threshold > 0)]])
    floor = float(shown.min()) / 10 if shown.size else 1e-12
    gain_label = "drop cost<sub>t-1</sub> − cost<sub>t</sub>" if is_cost else "gain LL<sub>t</sub> − LL<sub>t-1</sub>"
    row = dict(type="scatter", xaxis=_BOTTOM[1], yaxis=_BOTTOM[2])
    traces = [
        dict(
            row,
            x=x,
            y=gaps(np.where(positive, gain, np.nan)),
            mode="lines+markers",
            name=gain_label,
            line=dict(color=PALETTE[2], width=2),
            marker=dict(size=6),
            hovertemplate="iteration %{x}<br>gain %{y:.3g}<extra></extra>",
        ),
        dict(
            row,
            x=x,
            y=gaps(np.where(threshold > 0, threshold, np.nan)),
            mode="lines",
            name="threshold tol" if is_cost else "threshold tol·|LL<sub>t</sub>|",
            line=dict(color="#555", width=1.5, dash="dash"),
            hovertemplate="iteration %{x}<br>threshold %{y:.3g}<extra></extra>",
        ),
    ]
    not_positive = np.isfinite(gain) & ~positive
    if not_positive.any():
        traces.append(
            dict(
                row,
                x=x[not_positive],
                y=np.full(int(not_positive.sum()), floor),
                customdata=gain[not_positive],
                mode="markers",
                name="gain ≤ 0 (drawn at the floor)",
                marker=dict(symbol="triangle-down", size=10, color=PALETTE[1]),
                hovertemplate="iteration %{x}<br>gain %{customdata:.3g} (≤ 0)<extra></extra>",
            )
        )
    return traces


def _two_row_layout(label: str, T: int, rule: StoppingRule, x_axis: dict) -> dict:
    """The axes and row titles of the score on top and the stopping rule below, sharing the iteration axis."""
    is_cost = not rule.relative
    # short enough to read whole over a phone's plot (420 px wide, "−2.0918545M" ticks beside it)
    titles = (label, "stop when the " + ("drop" if is_cost else "gain") + " ≤ threshold")
    annotations = [
        dict(
            text=text,
            x=0.5,
            xanchor="center",
            xref="paper",
            y=domain[1],
            yanchor="bottom",
            yref="paper",
            showarrow=False,
            font=dict(size=16),
        )
        for text, (domain, _, _) in zip(titles, (_TOP, _BOTTOM), strict=True)
    ]
    if T < 2:
        annotations.append(
            dict(
                text="the gain appears from iteration 2",
                # the middle of the lower row, in paper units: plotly.js put an "x2 domain" note of an
                # axis with no data yet at the top left, over the log-likelihood
                x=0.5,
                y=sum(_BOTTOM[0]) / 2,
                xref="paper",
                yref="paper",
                showarrow=False,
                font=dict(color="#666"),
            )
        )
    return dict(
        xaxis=dict(x_axis, anchor="y", domain=[0.0, 1.0], matches="x2", showticklabels=False),
        yaxis=dict(anchor="x", domain=_TOP[0], title=dict(text=label)),
        xaxis2=dict(x_axis, anchor="y2", domain=[0.0, 1.0], title=dict(text="iteration")),
        yaxis2=dict(
            anchor="x2",
            domain=_BOTTOM[0],
            title=dict(text="drop (log)" if is_cost else "gain (log)"),
            type="log",
            exponentformat="power",
        ),
        annotations=annotations,
    )


def _current_marks(values: np.ndarray, current: int, label: str, two_rows: bool) -> tuple[list[dict], list[dict]]:
    """A dotted line at iteration ``current`` (through both rows once the lower one has data) and a ring
    on its score: (shapes, traces)."""
    line = dict(color="#333", width=1.5, dash="dot")
    rows = (_TOP, _BOTTOM) if two_rows and values.size >= 2 else (_TOP,)
    shapes = [
        dict(type="line", x0=current, x1=current, xref=x, y0=0, y1=1, yref=f"{y} domain", line=line) for _, x, y in rows
    ]
    traces = []
    if 1 <= current <= values.size and np.isfinite(values[current - 1]):
        traces.append(
            dict(
                type="scatter",
                x=[current],
                y=[float(values[current - 1])],
                mode="markers",
                name=f"iteration {current}",
                marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(color="#333", width=2)),
                hovertemplate=f"shown: iteration {current}<br>{label} %{{y:.6g}}<extra></extra>",
                showlegend=False,
                **(dict(xaxis="x", yaxis="y") if two_rows else {}),
            )
        )
    return shapes, traces


def score_curve(
    scores: Sequence[float],
    score_name: str = "log_likelihood",
    rule: StoppingRule | None = None,
    current: int | None = None,
    empty_message: str = "Press Step to start",
) -> go.Figure:
    """The score per iteration and, given the stopping ``rule``, the gain against its threshold.

    Parameters
    ----------
    scores : sequence of float, length T
        ``scores[t - 1]`` is the score of iteration t (EM: the log-likelihood; K-means:
        the cost), drawn at x = 1..T.
    score_name : {"log_likelihood", "cost"} or str
        What the scores are.
    rule : em_core.stepping.StoppingRule, optional
        Draw a second row (shared x, log y) with the stopping rule (the fit algorithm's
        ``converged``). For the log-likelihood the gain ``LL_t - LL_{t-1}`` against
        ``tol * |LL_t|`` (EM stops when gain <= threshold); for the cost the drop
        ``cost_{t-1} - cost_t`` against ``tol``.
        Gains <= 0 cannot sit on a log axis: they are drawn at a floor below every
        positive value, as red down-triangles, with the true gain in the hover.
    current : int, optional
        Iteration to mark with a vertical line (the one the scrub slider shows).
    empty_message : str
        What the figure says while there are no scores.

    Returns
    -------
    go.Figure
        With no scores, an empty figure that says ``empty_message``.
    """
    label = _SCORE_LABELS.get(score_name, score_name.replace("_", " "))
    values = np.asarray(scores, dtype=float).ravel()
    T = values.size
    if T == 0:
        return empty_figure(empty_message, title=label, height=300 if rule is None else 460)
    two_rows = rule is not None
    traces = [
        dict(
            type="scatter",
            x=np.arange(1, T + 1),
            y=gaps(values),
            mode="lines+markers",
            name=label,
            line=dict(color=PALETTE[0], width=2),
            marker=dict(size=6),
            hovertemplate=f"iteration %{{x}}<br>{label} %{{y:.6g}}<extra></extra>",
            **(dict(xaxis="x", yaxis="y") if two_rows else {}),
        )
    ]
    first, last = (1, T) if current is None else (min(1, current), max(T, current))
    x_axis = dict(range=[first - 0.5, last + 0.5], **(dict(dtick=1) if T <= 20 else {}))
    if two_rows:
        layout = _two_row_layout(label, T, rule, x_axis)
        if T >= 2:
            traces += _stopping_rule_traces(values, rule)
    else:
        layout = dict(xaxis=dict(x_axis, title=dict(text="iteration")), yaxis=dict(title=dict(text=label)))
    if current is not None:
        shapes, marks = _current_marks(values, current, label, two_rows)
        layout["shapes"] = shapes
        traces += marks
    # one series needs no legend (the y axis names it); the two-row version keeps one below
    layout.update(hovermode="closest", showlegend=two_rows)
    layout.update(style_layout("", height=500 if two_rows else 300, below=two_rows))
    return SpecFigure(traces, layout)


# ----------------------------------------------------------------------------- model selection


def _best_k_star(best_k: int, y: float | None, name: str, row: int) -> go.Scatter:
    """The star on one panel's curve at the best K (the legend names it once, from the first panel)."""
    return go.Scatter(
        x=[best_k],
        y=[y],
        mode="markers",
        name=f"best K = {best_k}",
        marker=dict(symbol="star", size=16, color="#FECB52", line=dict(color="#333", width=1)),
        hovertemplate=f"best K = {best_k}<br>{name} %{{y:.6g}}<extra></extra>",
        legendgroup="best",
        showlegend=row == 1,
    )


def model_selection_figure(
    ks: Sequence[int],
    series: Mapping[str, Sequence[float]],
    best_k: int | None = None,
    title: str = "",
    star_on: Sequence[str] | None = None,
) -> go.Figure:
    """One stacked panel per score (each with its own y scale) against K, best K marked.

    Parameters
    ----------
    ks : sequence of int, length m
        The K values tried.
    series : mapping of str to sequence of float, each of length m
        E.g. ``{"K-means cost": [...], "EM log-likelihood": [...], "BIC": [...]}``.
    best_k : int, optional
        The chosen K: a dotted vertical line through every panel and a star on each curve.
    title : str
    star_on : sequence of str, optional
        The panels whose curve gets the star (the score that chose K); every panel by default.

    Returns
    -------
    go.Figure
    """
    ks = [int(k) for k in ks]
    if not ks or not series:
        return empty_figure("No scores yet: run the comparison over K", title)
    for name, values in series.items():
        if len(values) != len(ks):
            raise ValueError(f"model_selection_figure: series {name!r} has {len(values)} values for {len(ks)} Ks")
    rows = len(series)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.25 / rows, subplot_titles=list(series))
    for row, (name, values) in enumerate(series.items(), start=1):
        ys = gaps(values)
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=ys,
                mode="lines+markers",
                name=name,
                line=dict(color=PALETTE[(row - 1) % len(PALETTE)], width=2),
                marker=dict(size=7),
                hovertemplate=f"K=%{{x}}<br>{name} %{{y:.6g}}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        starred = star_on is None or name in star_on
        if starred and best_k is not None and best_k in ks and ys[ks.index(best_k)] is not None:
            fig.add_trace(_best_k_star(best_k, ys[ks.index(best_k)], name, row), row=row, col=1)
    if best_k is not None:
        fig.add_vline(x=best_k, line=dict(color="#333", width=1, dash="dot"), row="all", col=1)
    fig.update_xaxes(tickvals=sorted(set(ks)))
    fig.update_xaxes(title_text="K", row=rows, col=1)
    return legend_below(style(fig, title, height=120 + 180 * rows))


def bic_by_type_figure(
    ks: Sequence[int], bics: Mapping[str, Sequence[float]], best: tuple[str, int] | None = None, title: str = ""
) -> go.Figure:
    """BIC against K, one line per covariance type, the best (type, K) starred.

    Parameters
    ----------
    ks : sequence of int, length m
    bics : mapping of covariance type to sequence of float, each of length m
    best : (str, int), optional
        The covariance type and K with the highest BIC.
    title : str
    """
    ks = [int(k) for k in ks]
    if not ks or not bics:
        return empty_figure("No scores yet: compare the covariance types", title)
    fig = go.Figure()
    for index, (name, values) in enumerate(bics.items()):
        if len(values) != len(ks):
            raise ValueError(f"bic_by_type_figure: {name!r} has {len(values)} values for {len(ks)} Ks")
        fig.add_trace(
            go.Scatter(
                x=ks,
                y=gaps(values),
                mode="lines+markers",
                name=name,
                line=dict(color=PALETTE[index % len(PALETTE)], width=2),
                hovertemplate=f"{name}, K=%{{x}}<br>BIC %{{y:.6g}}<extra></extra>",
            )
        )
    if best is not None and best[0] in bics and best[1] in ks:
        star = _best_k_star(best[1], bics[best[0]][ks.index(best[1])], f"BIC ({best[0]})", 1)
        fig.add_trace(star.update(name=f"best: {best[0]}, K = {best[1]}"))
    fig.update_xaxes(title_text="K", tickvals=sorted(set(ks)))
    fig.update_yaxes(title_text="BIC (higher is better)")
    return legend_below(style(fig, title, height=380))


# ----------------------------------------------------------------------------- comparisons


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str = "",
    value_title: str = "",
    highlight: int | None = None,
) -> go.Figure:
    """Labelled bars (e.g. RMSE per method), bar ``highlight`` in a stronger colour.

    Parameters
    ----------
    labels : sequence of str, length m
    values : sequence of float, length m
        Values that are not finite become empty bars marked "n/a".
    title : str
    value_title : str
        Name of the value (y axis and hover).
    highlight : int, optional
        Index of the bar to emphasise (e.g. the best method).

    Returns
    -------
    go.Figure
    """
    labels = [str(label) for label in labels]
    shown = gaps(values)
    if len(shown) != len(labels):
        raise ValueError(f"bar_chart: {len(labels)} labels for {len(shown)} values")
    if not labels:
        return empty_figure("Nothing to compare yet", title)
    colors = [ACCENT_COLOR if i == highlight else BAR_COLOR for i in range(len(labels))]
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=shown,
            marker_color=colors,
            text=[f"{v:.4g}" if v is not None else "n/a" for v in shown],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{x}}<br>{value_title or 'value'} %{{y:.4g}}<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text=value_title, rangemode="tozero")
    return style(fig, title, height=320)


# ----------------------------------------------------------------------------- one point's posterior

#: Posterior bars below this get no value label (a row of "0.00" says nothing).
MIN_LABELLED_PROBABILITY = 0.01


def posterior_bars(post_row: np.ndarray, prior: np.ndarray | None = None, title: str = "") -> go.Figure:
    """One point's posterior over the components, optionally against the prior weights.

    Bars of at least :data:`MIN_LABELLED_PROBABILITY` carry their value; smaller ones are
    left unlabelled (their value is in the hover).

    Parameters
    ----------
    post_row : ndarray of shape (K,)
        The responsibilities p(j | x) of one point; bars in the component colours.
    prior : ndarray of shape (K,), optional
        The mixing weights p_j, drawn as a black tick over each bar.
    title : str

    Returns
    -------
    go.Figure
    """
    post_row = np.asarray(post_row, dtype=float).ravel()
    K = post_row.size
    labels = [f"j={j + 1}" for j in range(K)]
    shown = gaps(post_row)
    traces = [
        dict(
            type="bar",
            x=labels,
            y=shown,
            name="posterior p(j | x)",
            marker=dict(color=component_colors(K), line=dict(color="#333", width=0.5)),
            text=[f"{v:.2f}" if v is not None and v >= MIN_LABELLED_PROBABILITY else "" for v in shown],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>posterior %{y:.3f}<extra></extra>",
            showlegend=False,
        )
    ]
    if prior is not None:
        # the bars' legend key, neutral: the bars take their component's colour, not the first one's
        traces.append(neutral_key("posterior p(j | x)", "square"))
        prior = np.asarray(prior, dtype=float).ravel()
        if prior.size != K:
            raise ValueError(f"posterior_bars: prior has {prior.size} weights, the posterior {K}")
        traces.append(
            dict(
                type="scatter",
                x=labels,
                y=gaps(prior),
                mode="markers",
                name="prior p<sub>j</sub>",
                marker=dict(symbol="line-ew-open", size=34, color="#111", line=dict(color="#111", width=3)),
                hovertemplate="%{x}<br>prior %{y:.3f}<extra></extra>",
            )
        )
    layout = dict(
        xaxis=dict(type="category", title=dict(text="component")),
        yaxis=dict(range=[0, 1.1], tickvals=[0, 0.25, 0.5, 0.75, 1], title=dict(text="probability")),
        bargap=0.3,
        **style_layout(title, height=300, below=prior is not None),
    )
    return SpecFigure(traces, layout)
