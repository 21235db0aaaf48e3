"""Colours and the shared look of every figure.

The palette and the colour of each component (and of a blend of components), the template
and margins every figure uses, empty figures with a message, fitted and equal axes, and
gaps for values that are not finite. The figure modules (:mod:`dashboard.matrix_figures`,
:mod:`dashboard.mixture_figures`, :mod:`dashboard.curve_figures`) build on these; nothing
here imports streamlit or computes EM quantities.

Every figure carries no NaN or infinity: values that are not finite are drawn as gaps
(``None``).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import hex_to_rgb

from dashboard import palette

TEMPLATE = "plotly_white"
MISSING_COLOR = "#d9d9d9"
#: Colour of plain bars and histograms, and of a highlighted bar.
BAR_COLOR = "#9fb3cf"
ACCENT_COLOR = "#1f4e9c"
#: The legend key of a trace whose marks each take their component's colour (the posterior's bars, the
#: previous means): a neutral grey, as the first mark's colour would say "component 1".
NEUTRAL_KEY = "#9e9e9e"
#: Twelve component colours that stay distinct, and distinct when blended, up to K = 12
#: (chosen by a stated rule: :mod:`dashboard.palette`).
PALETTE = palette.PALETTE
#: Share of the data's extent added on each side of a fitted axis range.
AXIS_PAD = 0.06


# ----------------------------------------------------------------------------- colours


def component_colors(K: int) -> list[str]:
    """Hex colours of components ``j = 1..K``: distinct up to 12, then the palette repeats.

    Parameters
    ----------
    K : int
        Number of components (``K >= 0``).

    Returns
    -------
    list of str of length K
        ``"#RRGGBB"`` strings; component ``j`` (1-based) gets ``colors[j - 1]``.
    """
    if K < 0:
        raise ValueError(f"component_colors expects K >= 0, got {K}")
    return [PALETTE[j % len(PALETTE)] for j in range(K)]


def blend_colors(post: np.ndarray) -> list[str]:
    """Each row's colour: its responsibilities' weighted mix of the component colours.

    A point that belongs half to component 1 and half to component 2 gets the midpoint of
    their two colours (a blend, not the argmax), so uncertain points look mixed.

    Parameters
    ----------
    post : ndarray of shape (n, K)
        Responsibilities; each row sums to 1.

    Returns
    -------
    list of str of length n
        ``"rgb(r,g,b)"`` strings with integer channels in 0..255.
    """
    post = np.asarray(post, dtype=float)
    if post.ndim != 2:
        raise ValueError(f"blend_colors expects responsibilities of shape (n, K), got shape {post.shape}")
    base = np.array([hex_to_rgb(c) for c in component_colors(post.shape[1])], dtype=float).reshape(-1, 3)
    rgb = np.clip(np.rint(np.nan_to_num(post) @ base), 0, 255).astype(int)
    return [f"rgb({r},{g},{b})" for r, g, b in rgb.tolist()]  # Python ints: formatted ~5x faster


# ----------------------------------------------------------------------------- layout


#: The horizontal legend along the bottom edge (:func:`legend_below`) and the margin it adds below.
LEGEND_BELOW = dict(orientation="h", x=0, xanchor="left", y=0, yref="container", yanchor="bottom")
LEGEND_BELOW_MARGIN = 34


def style_layout(title: str, height: int, below: bool = False) -> dict:
    """The layout of :func:`style` (and, with ``below``, of :func:`legend_below`) as a dict, for a
    figure built in one constructor call (each ``update_layout`` validates the figure again)."""
    legend = dict(bgcolor="rgba(255,255,255,0.7)", **(LEGEND_BELOW if below else {}))
    bottom = 48 + (LEGEND_BELOW_MARGIN if below else 0)
    return dict(
        # named on every figure: plotly's default template is not ours (Streamlit sets its own on import)
        template=TEMPLATE,
        height=height,
        margin=dict(l=60, r=20, t=48 if title else 24, b=bottom),
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)),
        legend=legend,
    )


def neutral_key(name: str, symbol: str, **extra) -> dict:
    """A legend entry alone (no mark on the plot) in :data:`NEUTRAL_KEY`, for a trace whose marks each take
    their component's colour and so show no legend of their own; ``extra``: e.g. its ``legendgroup``."""
    marker = dict(symbol=symbol, size=12, color=NEUTRAL_KEY, line=dict(color="#333", width=0.5))
    key = dict(type="scatter", x=[None], y=[None], mode="markers", name=name, marker=marker, showlegend=True)
    return dict(key, hoverinfo="skip", **extra)


def style(fig: go.Figure, title: str, height: int) -> go.Figure:
    """The shared look: template, compact margins, a left-aligned title."""
    fig.update_layout(style_layout(title, height))
    return fig


def legend_below(fig: go.Figure) -> go.Figure:
    """A horizontal legend along the bottom edge, clear of the title and the mode bar."""
    fig.update_layout(legend=LEGEND_BELOW, margin=dict(b=fig.layout.margin.b + LEGEND_BELOW_MARGIN))
    return fig


def empty_figure(message: str, title: str = "", height: int = 300) -> go.Figure:
    """A figure with no data and one centred, friendly message."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15, color="#666")
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return style(fig, title, height)


# ----------------------------------------------------------------------------- values and axes


def gaps(values: np.ndarray) -> list[float | None]:
    """A plain list with ``None`` where a value is not finite (drawn as a gap, not NaN)."""
    values = np.asarray(values, dtype=float).ravel()
    return [float(v) if np.isfinite(v) else None for v in values]


def finite_or_gaps(values: np.ndarray) -> np.ndarray | list[float | None]:
    """``values`` as they are when all are finite (sent compactly), else :func:`gaps`."""
    values = np.asarray(values, dtype=float)
    return values if np.isfinite(values).all() else gaps(values)


def padded_range(values: np.ndarray, pad: float = AXIS_PAD) -> list[float] | None:
    """``[low, high]`` around the finite ``values`` plus ``pad`` of their extent on each side.

    A single distinct value gets one unit either side; ``None`` when nothing is finite (the
    axis then ranges itself).
    """
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return None
    low, high = float(values.min()), float(values.max())
    margin = pad * (high - low) if high > low else 1.0
    return [low - margin, high + margin]


def equal_axes_layout(x_range: list[float] | None, y_range: list[float] | None) -> tuple[dict, dict]:
    """The x and y axis settings of :func:`equal_axes`, as dicts for a layout (a range of None: none set)."""
    x_axis = dict(range=x_range, constrain="domain")
    y_axis = dict(range=y_range, constrain="domain", scaleanchor="x", scaleratio=1)
    return tuple({key: value for key, value in axis.items() if value is not None} for axis in (x_axis, y_axis))


def equal_axes(fig: go.Figure, x_range: list[float] | None, y_range: list[float] | None) -> go.Figure:
    """One unit is as long on y as on x; the ranges stay, the plot area shrinks to fit.

    ``constrain="domain"`` keeps the fitted ranges (the default, ``"range"``, would widen
    the longer side's range to fill the plot area with empty space).
    """
    x_axis, y_axis = equal_axes_layout(x_range, y_range)
    fig.update_xaxes(dict(x_axis, range=x_range))
    fig.update_yaxes(dict(y_axis, range=y_range))
    return fig
