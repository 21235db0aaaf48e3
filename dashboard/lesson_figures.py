"""Figures of the lesson page: the 2-D fit with what a question points at, a grid to click a position on,
and the guess beside the answer. Pure builders on top of :mod:`dashboard.mixture_figures`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go

from dashboard import mixture_figures
from em_core.mixture import GaussianMixture

#: The click grid's points per axis: a click anywhere on the plot lands on one of them.
GRID_STEPS = 60
#: The name of the click grid's trace (the page reads clicks on it and on the data points).
GRID_NAME = "click to place"
HIGHLIGHT_COLOR = "#111111"
GUESS_COLOR = "#e69f00"  # orange (Okabe-Ito): apart from the component colours and the dark ring


def bounds(X: np.ndarray, margin: float = 0.08) -> tuple[tuple[float, float], tuple[float, float]]:
    """The x and y ranges of 2-D points with a margin (a share of each range)."""
    low, high = X.min(axis=0), X.max(axis=0)
    pad = margin * np.maximum(high - low, 1e-9)
    return (float(low[0] - pad[0]), float(high[0] + pad[0])), (float(low[1] - pad[1]), float(high[1] + pad[1]))


def fit_title(state, hard: bool) -> str:
    """``"Iteration 2 — after the E-step"`` for a :class:`~em_core.stepping.FitState` (K-means: the
    assignment, the update), as the fit pages title their charts."""
    steps = ("the assignment", "the update") if hard else ("the E-step", "the M-step")
    if state.next_step == "M":
        return f"Iteration {state.iteration + 1} — after {steps[0]}"
    return f"Iteration {state.iteration} — after {steps[1]}" if state.iteration else "Iteration 0 — initial"


def fit_figure(
    X: np.ndarray,
    post: np.ndarray,
    mixture: GaussianMixture,
    title: str,
    has_spread: bool,
    changed: np.ndarray | None = None,
    previous: GaussianMixture | None = None,
) -> go.Figure:
    """The fit page's scatter (colours by responsibility, circles, ghosts), on fixed axes."""
    fig = mixture_figures.points_figure(
        X, post, mixture, title=title, circles=has_spread, show_weights=has_spread, changed=changed, previous=previous
    )
    (x0, x1), (y0, y1) = bounds(X)
    fig.update_xaxes(range=[x0, x1], autorange=False)
    fig.update_yaxes(range=[y0, y1], autorange=False)
    return fig


def ring_point(fig: go.Figure, xy: Sequence[float], label: str) -> go.Figure:
    """A dark ring round the point a question asks about, and its name in a box with an arrow to it (readable
    over points of any colour)."""
    fig.add_trace(
        go.Scatter(
            x=[xy[0]],
            y=[xy[1]],
            mode="markers",
            marker=dict(symbol="circle-open", size=24, color=HIGHLIGHT_COLOR, line=dict(width=3)),
            name=label,
            hoverinfo="skip",
            showlegend=False,
        )
    )
    fig.add_annotation(
        x=xy[0],
        y=xy[1],
        text=f"<b>{label}</b>",
        showarrow=True,
        arrowhead=2,
        arrowwidth=2,
        arrowcolor=HIGHLIGHT_COLOR,
        ax=40,
        ay=-45,
        bgcolor="rgba(255,255,255,0.9)",
        bordercolor=HIGHLIGHT_COLOR,
        font=dict(color=HIGHLIGHT_COLOR),
    )
    return fig


def click_grid(fig: go.Figure, X: np.ndarray, steps: int = GRID_STEPS) -> go.Figure:
    """Invisible points on a ``steps`` x ``steps`` grid over the axes, so a click anywhere selects a position."""
    (x0, x1), (y0, y1) = bounds(X)
    gx, gy = np.meshgrid(np.linspace(x0, x1, steps), np.linspace(y0, y1, steps))
    fig.add_trace(
        go.Scatter(
            x=gx.ravel(),
            y=gy.ravel(),
            mode="markers",
            # small: plotly picks the nearest point within 20 px, and markers larger than the grid's spacing
            # would tie (every one under the cursor at distance 0) and give the first, not the nearest
            marker=dict(size=4, opacity=0.0, color="#000000"),
            name=GRID_NAME,
            hovertemplate="(%{x:.2f}, %{y:.2f})<extra>click to place the mean here</extra>",
            showlegend=False,
        )
    )
    fig.update_layout(clickmode="event+select", dragmode=False)
    return fig


def mark_guess(fig: go.Figure, guess: Sequence[float], truth: Sequence[float] | None = None) -> go.Figure:
    """The student's position (a black x) and, after the step, a dotted line to the true new mean."""
    fig.add_trace(
        go.Scatter(
            x=[guess[0]],
            y=[guess[1]],
            mode="markers+text",
            marker=dict(symbol="star", size=20, color=GUESS_COLOR, line=dict(width=1.5, color=HIGHLIGHT_COLOR)),
            text=["<b>your guess</b>"],
            textposition="bottom center",
            textfont=dict(color=HIGHLIGHT_COLOR),
            name="your guess",
            hoverinfo="skip",
            showlegend=False,
        )
    )
    if truth is not None:
        fig.add_trace(
            go.Scatter(
                x=[guess[0], truth[0]],
                y=[guess[1], truth[1]],
                mode="lines",
                line=dict(color=HIGHLIGHT_COLOR, dash="dot", width=2),
                hoverinfo="skip",
                showlegend=False,
            )
        )
    return fig
