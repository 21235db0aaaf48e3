"""A 2-D chart that takes clicks: an invisible grid of points under Plotly's point selection.

Streamlit reports a click on a Plotly chart only as the selection of a data point
(``st.plotly_chart(on_select="rerun", selection_mode="points")``), so the chart carries an
invisible, dense grid (trace 0): a click anywhere selects the grid point nearest to it, and
its coordinates are where the click landed, to within half a grid step (:attr:`Canvas.step`).
The points and means drawn over it skip hover, so a click on one of them still reaches the
grid. The ranges are fixed and equal per unit on both axes, so the grid fills the plot area.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go

from dashboard.figure_style import PALETTE, component_colors, equal_axes, style

#: Grid cells per side: a click lands within half of 1/GRID_CELLS of the canvas's width.
GRID_CELLS = 80
#: The canvas when there is nothing to fit it to.
DEFAULT_HALF_WIDTH = 5.0
#: The share of the points' extent left free around them when the canvas is fitted to a set.
MARGIN = 0.15
#: Trace names, so a test can find the traces.
GRID_NAME, POINTS_NAME, MEANS_NAME = "click grid", "your points", "placed means"


class Canvas(NamedTuple):
    """A square region of the plane, ``[x0, x0 + width] x [y0, y0 + width]``."""

    x0: float
    y0: float
    width: float

    @property
    def step(self) -> float:
        """The grid's spacing: a click lands within half of it."""
        return self.width / GRID_CELLS

    @property
    def x_range(self) -> list[float]:
        return [self.x0, self.x0 + self.width]

    @property
    def y_range(self) -> list[float]:
        return [self.y0, self.y0 + self.width]

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid's x and y, each of shape ((GRID_CELLS + 1) ** 2,), row by row from the bottom."""
        ticks = np.arange(GRID_CELLS + 1)
        gx, gy = np.meshgrid(self.x0 + ticks * self.step, self.y0 + ticks * self.step)
        return gx.ravel(), gy.ravel()

    def contains(self, X: np.ndarray) -> bool:
        X = np.asarray(X, dtype=float).reshape(-1, 2)
        inside_x = (X[:, 0] >= self.x0) & (X[:, 0] <= self.x0 + self.width)
        inside_y = (X[:, 1] >= self.y0) & (X[:, 1] <= self.y0 + self.width)
        return bool(np.all(inside_x & inside_y))


def canvas_around(X: np.ndarray | None) -> Canvas:
    """A square canvas holding ``X`` (n, 2) with a margin, on round numbers; the default one when empty."""
    X = np.empty((0, 2)) if X is None else np.asarray(X, dtype=float).reshape(-1, 2)
    if X.shape[0] == 0:
        return Canvas(-DEFAULT_HALF_WIDTH, -DEFAULT_HALF_WIDTH, 2 * DEFAULT_HALF_WIDTH)
    low, high = X.min(axis=0), X.max(axis=0)
    extent = max(float((high - low).max()), 1.0)
    half = extent * (0.5 + MARGIN)
    unit = 10.0 ** math.floor(math.log10(half)) / 2  # round the half width up to a half power of ten
    half = math.ceil(half / unit) * unit
    centre = np.round((low + high) / 2 / unit) * unit
    return Canvas(float(centre[0] - half), float(centre[1] - half), 2 * half)


def clicked(event, canvas: Canvas) -> tuple[float, float] | None:
    """The grid point a click selected (``st.plotly_chart``'s return value), or None when there was none."""
    if not event:
        return None
    points = [p for p in event["selection"]["points"] if p.get("curve_number") == 0 and "point_index" in p]
    if not points:
        return None
    index = int(points[0]["point_index"])
    gx, gy = canvas.grid()
    if not 0 <= index < gx.size:
        return None
    return float(gx[index]), float(gy[index])


def canvas_figure(canvas: Canvas, points: np.ndarray, means: np.ndarray | None, title: str, height: int = 560):
    """The click canvas: the grid (invisible), the points, and the placed means as big numbered markers.

    Parameters
    ----------
    canvas : Canvas
    points : ndarray of shape (n, 2)
    means : ndarray of shape (m, 2) or None
        Drawn as large diamonds labelled 1..m in the component colours.
    """
    gx, gy = canvas.grid()
    fig = go.Figure(
        go.Scatter(  # float32 halves the bytes sent per run; a click's coordinates come from the index
            x=gx.astype(np.float32),
            y=gy.astype(np.float32),
            mode="markers",
            marker=dict(size=4, opacity=0),
            hoverinfo="none",
            showlegend=False,
            name=GRID_NAME,
        )
    )
    points = np.asarray(points, dtype=float).reshape(-1, 2)
    fig.add_trace(
        go.Scatter(
            x=points[:, 0],
            y=points[:, 1],
            mode="markers",
            marker=dict(size=8, color=PALETTE[0], line=dict(width=0.5, color="white")),
            hoverinfo="skip",
            name=f"{POINTS_NAME} ({points.shape[0]})",
        )
    )
    if means is not None and len(means):
        means = np.asarray(means, dtype=float).reshape(-1, 2)
        fig.add_trace(
            go.Scatter(
                x=means[:, 0],
                y=means[:, 1],
                mode="markers+text",
                marker=dict(
                    size=26, symbol="diamond", color=component_colors(len(means)), line=dict(width=2, color="black")
                ),
                text=[str(j + 1) for j in range(len(means))],
                textfont=dict(color="white", size=14),
                textposition="middle center",
                hoverinfo="skip",
                name=f"{MEANS_NAME} ({len(means)})",
            )
        )
    fig.update_xaxes(title_text="x1", zeroline=False, fixedrange=True)
    fig.update_yaxes(title_text="x2", zeroline=False, fixedrange=True)
    equal_axes(fig, canvas.x_range, canvas.y_range)
    fig.update_layout(hovermode="closest", dragmode=False, legend=dict(orientation="h", y=-0.12))
    return style(fig, title, height=height)
