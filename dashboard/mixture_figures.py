"""Mixtures in two dimensions: points coloured by their responsibilities with each component's
mean, sigma circles and weight; plain points before a fit; the PCA map of users (one point's
posterior against the prior is :func:`dashboard.curve_figures.posterior_bars`).

Pure builders: arrays -> ``go.Figure``. Points, users and components are numbered from 1
(``user 1``, ``j=1``): row ``i`` of an array is shown as ``i + 1``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
import plotly.graph_objects as go

from dashboard.figure_style import (
    blend_colors,
    component_colors,
    equal_axes,
    equal_axes_layout,
    finite_or_gaps,
    gaps,
    neutral_key,
    padded_range,
    style,
    style_layout,
)
from dashboard.label_placement import label_positions
from dashboard.plotly_spec import SpecFigure, trace, typed
from dashboard.point_sample import drawn_points, sample_annotation, sample_note
from em_core.covariance_em import mean_variance
from em_core.ellipses import Ellipses, sigma_ellipses

if TYPE_CHECKING:
    from em_core.mixture import GaussianMixture

#: Components whose mixing weight is below this hold almost no points: drawn faded.
FADED_WEIGHT = 0.01
#: With more components than this the means carry no text label (the legend and the hover name them).
MAX_LABELLED_COMPONENTS = 6
_FADED_OPACITY = 0.35
_FADED_OUTLINE = "#aaaaaa"
_CIRCLE_POINTS = 91
#: Opacity of the previous means and circles drawn after an M-step.
_GHOST_OPACITY = 0.3
#: Name of the trace that rings the points whose strongest component changed in an E-step.
CHANGED_NAME = "changed strongest component"
#: Name of the trace of the previous means (after an M-step).
GHOST_NAME = "previous means"
#: A legend below the plot (``legend_below``): entries per row in a half-width column, and a row's height in px.
LEGEND_PER_ROW = 3
LEGEND_ROW_PX = 22


class Previous(NamedTuple):
    """The components before an M-step, drawn as faint ghosts with an arrow to the new means."""

    means: np.ndarray  # (K, 2)
    sigmas: np.ndarray  # (K,)
    shapes: Ellipses | None = None  # the 1σ ellipses (None: circles of radius sigmas)


def _circles(means: np.ndarray, sigmas: np.ndarray) -> Ellipses:
    """Circles of radius ``sigmas`` around ``means`` as em_core's 1σ :class:`Ellipses` (one outline code)."""
    sigmas = np.asarray(sigmas, dtype=float).ravel()
    return Ellipses(np.asarray(means, dtype=float), np.column_stack([sigmas, sigmas]), np.zeros(sigmas.size), 1.0)


def _outline(shapes: Ellipses, j: int, level: float) -> np.ndarray:
    """Component ``j``'s ``level``-σ outline, shape (_CIRCLE_POINTS, 2)."""
    centre = shapes.center[j]
    return centre + (shapes.outline(j, _CIRCLE_POINTS) - centre) * (float(level) / shapes.n_sigma)


def _spread_text(shapes: Ellipses, j: int, level: float = 1.0) -> str:
    """``"σ = 0.8"`` for a circle, ``"1σ half-axes 3 and 0.3, major axis at 30°"`` for an ellipse."""
    a, b = shapes.half_axes[j] * (float(level) / shapes.n_sigma)
    if np.isclose(a, b, rtol=1e-9):
        return f"{level:g}σ = {a:.3g}" if level != 1 else f"σ = {a:.3g}"
    return f"{level:g}σ half-axes {a:.3g} and {b:.3g}, major axis at {np.degrees(shapes.angle[j]):.0f}°"


def _marker_size(n: int) -> int:
    """Marker size for a scatter of ``n`` points: smaller as the points get many."""
    return 8 if n <= 300 else 6 if n <= 3000 else 4


def _scatter_type(n: int) -> type:
    """WebGL for many points (an SVG scatter of thousands is slow to draw)."""
    return go.Scattergl if n > 1000 else go.Scatter


# ----------------------------------------------------------------------------- labels


def _point_hover(post: np.ndarray, point_name: str, top: int = 3, names: Sequence[str] | None = None, numbers=None):
    """Hover text per point: its number (from 1) and its largest responsibilities.

    ``names`` (one per component) replaces ``j=1, j=2, ...``; with names, components with
    zero responsibility are left out (a K-means point shows only its centre).
    """
    order = np.argsort(-post, axis=1, kind="stable")[:, :top]
    label = names if names is not None else [f"j={j + 1}" for j in range(post.shape[1])]
    # Python ints and floats: formatting numpy scalars one by one cost more than the rest of the figure
    values = np.take_along_axis(post, order, axis=1).tolist()
    numbers = range(1, len(post) + 1) if numbers is None else np.asarray(numbers).tolist()
    texts = []
    for number, best, row in zip(numbers, order.tolist(), values, strict=True):
        kept = range(len(best)) if names is None else [k for k in range(len(best)) if k == 0 or row[k] > 0]
        parts = "<br>".join(f"{label[best[k]]}: {row[k]:.2f}" for k in kept)
        texts.append(f"{point_name} {number}<br>{parts}")
    return texts


def _inside(value: float, bounds: list[float] | None) -> bool:
    return bounds is not None and bool(np.isfinite(value)) and bounds[0] <= value <= bounds[1]


# ----------------------------------------------------------------------------- mixture scatter


class _Component(NamedTuple):
    """How one component is drawn: its name, colour, label and whether it is faded."""

    name: str  # "j=1", or "centre 1" for K-means
    color: str
    label: str  # "<b>j=1</b>  p=0.31"
    legend_name: str  # "j=1  p=0.31"
    faded: bool
    almost_empty: str  # the hover's note for a faded component, else ""


def _components(weights: np.ndarray, point_name: str, show_weights: bool) -> list[_Component]:
    """Name, colour and label of each component (K-means centres have no weight to show)."""
    K = weights.size
    faded = show_weights & (weights < FADED_WEIGHT)  # NaN weights compare False: not faded
    components = []
    for j, (color, weight, fade) in enumerate(zip(component_colors(K), weights, faded, strict=True)):
        name = f"j={j + 1}" if show_weights else f"centre {j + 1}"
        text = "" if not show_weights else f"  p<{FADED_WEIGHT:g}" if fade else f"  p={weight:.2f}"
        note = f"holds almost no {point_name}s (p={weight:.2g})" if fade else ""
        components.append(_Component(name, color, f"<b>{name}</b>{text}", name + text, bool(fade), note))
    return components


def _check_scatter(Z, post, means, sigmas, weights) -> tuple[np.ndarray, ...]:
    """The arrays of :func:`mixture_scatter` as floats, their shapes checked against each other."""
    Z = np.asarray(Z, dtype=float)
    post = np.asarray(post, dtype=float)
    means = np.asarray(means, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float).ravel()
    weights = np.asarray(weights, dtype=float).ravel()
    if Z.ndim != 2 or Z.shape[1] != 2:
        raise ValueError(f"mixture_scatter expects points of shape (n, 2), got shape {Z.shape}")
    K = means.shape[0] if means.ndim == 2 else -1
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"mixture_scatter expects means of shape (K, 2), got shape {means.shape}")
    if post.shape != (Z.shape[0], K):
        raise ValueError(f"mixture_scatter: post has shape {post.shape}, expected (n, K) = {(Z.shape[0], K)}")
    if sigmas.shape != (K,) or weights.shape != (K,):
        raise ValueError(f"mixture_scatter: sigmas {sigmas.shape} and weights {weights.shape} must both be ({K},)")
    return Z, post, means, sigmas, weights


def _point_hover_data(post: np.ndarray, point_name: str, numbers=None, top: int = 3) -> tuple[dict, str]:
    """:func:`_point_hover`'s lines as numbers and a template, for components named ``j=1, j=2, ...``:
    ``customdata`` holds each point's number, then its ``top`` largest responsibilities as (j, p) pairs,
    and plotly.js writes the text only for the point hovered. A Step of the matrix page's users' map
    (1,200 points) built 1,200 strings on the server (~14 ms of its ~125) and sent ~100 KB of them.

    The numbers go as float32 (exact for a point's number below 2^24 and for j); each p is rounded to the
    two decimals shown first, so that plotly.js prints the value the server would have.
    """
    top = min(top, post.shape[1])
    order = np.argsort(-post, axis=1, kind="stable")[:, :top]
    columns = np.empty((post.shape[0], 1 + 2 * top), dtype=np.float32)
    columns[:, 0] = np.arange(1, len(post) + 1) if numbers is None else np.asarray(numbers)
    columns[:, 1::2] = order + 1
    columns[:, 2::2] = np.round(np.take_along_axis(post, order, axis=1), 2)
    lines = "".join(f"<br>j=%{{customdata[{1 + 2 * k}]:d}}: %{{customdata[{2 + 2 * k}]:.2f}}" for k in range(top))
    return typed(columns), f"{point_name} %{{customdata[0]:d}}{lines}"


def _points_trace(Z: np.ndarray, post: np.ndarray, point_name: str, names: list[str] | None, numbers=None):
    """The points, each in the blend of its responsibilities' colours."""
    n = Z.shape[0]
    # named components (K-means' centres) leave out zero responsibilities: one text per point; else the
    # numbers and a template (plotly.js writes the text of the point hovered)
    if names is None:
        customdata, hover = _point_hover_data(post, point_name, numbers)
        text = {"customdata": customdata}
    else:
        hover, text = "%{hovertext}", {"hovertext": _point_hover(post, point_name, names=names, numbers=numbers)}
    # a dict, not a trace object: the figure validates it once (a trace object is validated when made
    # and again when the figure takes it; 1,200 colours and hover texts each time)
    return dict(
        type=_scatter_type(n).__name__.lower(),
        x=finite_or_gaps(Z[:, 0]),
        y=finite_or_gaps(Z[:, 1]),
        mode="markers",
        name="points",
        marker=dict(
            color=blend_colors(post),
            size=_marker_size(n),
            opacity=0.85,
            line=dict(color="white", width=0.5 if n <= 300 else 0),
        ),
        **text,
        hovertemplate=f"{hover}<br>(%{{x:.3g}}, %{{y:.3g}})<extra></extra>",
        showlegend=False,
    )


def _circle_traces(shapes: Ellipses, j: int, levels: Sequence[float], c: _Component) -> list[dict]:
    """Component ``j``'s ellipses (circles when spherical) at each level: the first solid, the others dashed."""
    traces = []
    for index, level in enumerate(levels):
        outline = _outline(shapes, j, level)
        traces.append(
            trace(
                "scatter",
                x=outline[:, 0],
                y=outline[:, 1],
                mode="lines",
                name=f"{c.name} {level:g}σ",
                line=dict(
                    color=c.color, width=1 if c.faded else 1.5 if index else 2, dash="dash" if index else "solid"
                ),
                opacity=_FADED_OPACITY if c.faded else 1.0,
                hovertemplate=(
                    f"{c.name}: {_spread_text(shapes, j, level)}"
                    + (f"<br>{c.almost_empty}" if c.faded else "")
                    + "<extra></extra>"
                ),
                legendgroup=c.name,
                showlegend=False,
            )
        )
    return traces


def _mean_trace(mean: np.ndarray, hover: list[str], c: _Component, position: str | None, in_view: bool):
    """The mean as an x in the component's colour; ``position`` places its text label (None: no label)."""
    labelled = position is not None
    return trace(
        "scatter",
        x=gaps(mean[0]),
        y=gaps(mean[1]),
        mode="markers+text" if labelled else "markers",
        name=c.legend_name,
        text=[c.label] if labelled else None,
        textposition=position if labelled else "top right",
        textfont=dict(size=12, color="#888" if c.faded else "#1a1a1a", shadow="0 0 3px white"),
        # Text may spill past the axes (never cut off at the edge); a mean outside them stays clipped.
        cliponaxis=not in_view,
        opacity=_FADED_OPACITY if c.faded else 1.0,
        marker=dict(
            symbol="x", size=14, color=c.color, line=dict(color=_FADED_OUTLINE if c.faded else "#1a1a1a", width=1.5)
        ),
        hovertemplate="<br>".join(hover) + "<extra></extra>",
        legendgroup=c.name,
        showlegend=True,
    )


def _changed_trace(Z: np.ndarray, changed: np.ndarray, n: int) -> dict:
    """A dark ring around each point whose strongest component just changed (an E-step's news)."""
    changed = np.asarray(changed, dtype=int)
    return trace(
        "scatter",
        x=finite_or_gaps(Z[changed, 0]),
        y=finite_or_gaps(Z[changed, 1]),
        mode="markers",
        name=CHANGED_NAME,
        marker=dict(symbol="circle-open", size=_marker_size(n) + 8, color="#1a1a1a", line=dict(width=2)),
        hovertemplate="changed its strongest component in this E-step<extra></extra>",
        showlegend=True,
    )


def _ghost_traces(previous: Previous, means: np.ndarray, components: list, circles: bool) -> list[dict]:
    """The previous means (faint x) and, with ``circles``, their old 1σ circles (faint)."""
    old = np.asarray(previous.means, dtype=float)
    shapes = previous.shapes or _circles(old, previous.sigmas)
    traces = []
    if circles:
        for j, c in enumerate(components):
            if np.isfinite(shapes.half_axes[j]).all() and np.isfinite(old[j]).all():
                outline = _outline(shapes, j, 1.0)
                traces.append(
                    trace(
                        "scatter",
                        x=outline[:, 0],
                        y=outline[:, 1],
                        mode="lines",
                        name=f"{c.name} previous 1σ",
                        line=dict(color=c.color, width=1, dash="dot"),
                        opacity=_GHOST_OPACITY,
                        hoverinfo="skip",
                        legendgroup=GHOST_NAME,
                        showlegend=False,
                    )
                )
    traces.append(
        trace(
            "scatter",
            x=gaps(old[:, 0]),
            y=gaps(old[:, 1]),
            mode="markers",
            name=GHOST_NAME,
            marker=dict(symbol="x", size=12, color=[c.color for c in components]),
            opacity=_GHOST_OPACITY + 0.2,
            hovertext=[f"{c.name} before this M-step" for c in components],
            hovertemplate="%{hovertext}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
            legendgroup=GHOST_NAME,
            showlegend=False,
        )
    )
    # the legend's key, neutral: each ghost has its own component's colour
    traces.append(neutral_key(GHOST_NAME, "x", legendgroup=GHOST_NAME))
    return traces


def _ghost_arrows(previous: Previous, means: np.ndarray) -> list[dict]:
    """One arrow annotation from each previous mean to its new mean (none where it did not move)."""
    old = np.asarray(previous.means, dtype=float)
    arrows = []
    for j in range(means.shape[0]):
        if not (np.isfinite(old[j]).all() and np.isfinite(means[j]).all()) or np.allclose(old[j], means[j]):
            continue
        arrows.append(
            dict(
                x=float(means[j, 0]),
                y=float(means[j, 1]),
                ax=float(old[j, 0]),
                ay=float(old[j, 1]),
                xref="x",
                yref="y",
                axref="x",
                ayref="y",
                showarrow=True,
                arrowhead=2,
                arrowsize=1.2,
                arrowwidth=1.5,
                arrowcolor="rgba(40,40,40,0.6)",
                text="",
                name=f"{GHOST_NAME} j={j + 1}",
            )
        )
    return arrows


def mixture_scatter(
    Z: np.ndarray,
    post: np.ndarray,
    means: np.ndarray,
    sigmas: np.ndarray,
    weights: np.ndarray,
    title: str = "",
    axis_titles: tuple[str, str] = ("x1", "x2"),
    circles: bool = True,
    sigma_levels: Sequence[float] = (1, 2),
    point_name: str = "point",
    show_weights: bool = True,
    changed: np.ndarray | None = None,
    previous: Previous | None = None,
    shapes: Ellipses | None = None,
    legend_below: bool = False,
) -> go.Figure:
    """Points coloured by their responsibilities, with each component's mean, spread and weight.

    Each component j gets a mean marker (an x in its colour, dark outline), circles of
    radius ``level * sigmas[j]`` for each level (the first solid, the others dashed) and,
    for at most :data:`MAX_LABELLED_COMPONENTS` components, the label ``"j=1  p=0.31"``
    beside the mean (with more, the label is in the mean's hover; the legend always
    carries it). The axes keep a 1:1 aspect so circles look round, and are fitted to the
    points and the means of the components that hold points, so a component with weight
    below :data:`FADED_WEIGHT` cannot stretch them; such components are drawn faded.

    Parameters
    ----------
    Z : ndarray of shape (n, 2)
        The points (2-D data, or rows projected to 2-D).
    post : ndarray of shape (n, K)
        Responsibilities; a point's colour is the blend of component colours they weight.
    means : ndarray of shape (K, 2)
        Component means in the same plane.
    sigmas : ndarray of shape (K,)
        Standard deviation of each (spherical) component.
    weights : ndarray of shape (K,)
        Mixing weights p_j.
    title : str
    axis_titles : (str, str)
    circles : bool
        Draw the sigma circles (``False`` for K-means: centroids only).
    sigma_levels : sequence of float
        Radii of the circles in units of sigma.
    point_name : str
        What a point is, for the hover (``"user"`` shows ``user 12``).
    show_weights : bool
        ``False`` for K-means centroids, which have no mixing weight: the means are called
        ``centre 1, centre 2, ...`` and nothing mentions p or fades.
    changed : ndarray of int, shape (m,), optional
        After an E-step: the points (0-based) whose strongest component changed, ringed
        (trace :data:`CHANGED_NAME`).
    previous : Previous, optional
        After an M-step: the means and sigmas before it, drawn faint (trace :data:`GHOST_NAME`,
        old 1σ circles dotted) with an arrow from each to its new mean.
    shapes : Ellipses, optional
        The components' 1σ ellipses (em_core.ellipses), drawn instead of circles of radius ``sigmas``.
    legend_below : bool
        The legend in rows under the plot, not beside it: a chart in half a page's width (the matrix
        page's users map) keeps that width for its points.

    Returns
    -------
    go.Figure
    """
    Z, post, means, sigmas, weights = _check_scatter(Z, post, means, sigmas, weights)
    shapes = shapes or _circles(means, sigmas)
    components = _components(weights, point_name, show_weights)
    faded = np.array([c.faded for c in components], dtype=bool)
    # Fit the axes to the points and to the means that hold points, never to an empty component.
    held = means[~faded]
    x_range = padded_range(np.concatenate([Z[:, 0], held[:, 0]]))
    y_range = padded_range(np.concatenate([Z[:, 1], held[:, 1]]))
    labelled = len(components) <= MAX_LABELLED_COMPONENTS
    positions = label_positions(means, [c.label for c in components], x_range, y_range) if labelled else None

    names = None if show_weights else [c.name for c in components]
    drawn = drawn_points(len(Z), post)  # at most MAX_DRAWN_POINTS, each component in its share
    traces = [_points_trace(Z[drawn], post[drawn], point_name, names, drawn + 1)]
    annotations = [sample_annotation(drawn.size, len(Z))] if drawn.size < len(Z) else []
    if changed is not None and len(changed):
        traces.append(_changed_trace(Z, changed, Z.shape[0]))
    if previous is not None:
        traces += _ghost_traces(previous, means, components, circles)
        annotations += _ghost_arrows(previous, means)
    for j, c in enumerate(components):
        if circles and np.isfinite(shapes.half_axes[j]).all() and np.isfinite(means[j]).all():
            traces += _circle_traces(shapes, j, sigma_levels, c)
        hover = [f"<b>{c.name}</b> {c.almost_empty}" if c.faded else c.label, "mean (%{x:.3g}, %{y:.3g})"]
        if circles or show_weights:
            hover.append(_spread_text(shapes, j))
        in_view = _inside(means[j, 0], x_range) and _inside(means[j, 1], y_range)
        traces.append(_mean_trace(means[j], hover, c, positions[j] if labelled else None, in_view))
    layout = style_layout(title, height=520, below=legend_below)
    if legend_below:  # the legend's rows (about three entries each in a half-width column) under the plot
        layout["margin"]["b"] += LEGEND_ROW_PX * (math.ceil(means.shape[0] / LEGEND_PER_ROW) - 1)
    x_axis, y_axis = equal_axes_layout(x_range, y_range)
    layout.update(
        xaxis=dict(x_axis, title=dict(text=axis_titles[0]), zeroline=False),
        yaxis=dict(y_axis, title=dict(text=axis_titles[1]), zeroline=False),
        hovermode="closest",
        legend=dict(layout["legend"], title=dict(text="component" if show_weights else "centres")),
    )
    if annotations:
        layout["annotations"] = annotations
    return SpecFigure(traces, layout)


def points_figure(
    X: np.ndarray,
    post: np.ndarray,
    mixture: GaussianMixture,
    title: str = "",
    circles: bool = True,
    show_weights: bool = True,
    changed: np.ndarray | None = None,
    previous: GaussianMixture | None = None,
) -> go.Figure:
    """:func:`mixture_scatter` for 2-D data and a ``GaussianMixture``.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    post : ndarray of shape (n, K)
        Responsibilities (one-hot for K-means).
    mixture : GaussianMixture or CovarianceMixture
        ``mu`` of shape (K, 2), ``p`` of shape (K,); each component is drawn with its 1σ and 2σ
        ellipses from em_core.ellipses (circles for the course's spherical ``var``).
    title : str
    circles : bool
        ``False`` for K-means: only the centroids are drawn.
    show_weights : bool
        ``False`` for K-means: centroids have no mixing weight, so the legend and labels
        say ``centre 1, centre 2, ...`` and never mention p.
    changed : ndarray of int, optional
        After an E-step: the points whose strongest component changed (ringed).
    previous : GaussianMixture, optional
        After an M-step: the mixture before it (ghost means, arrows, faint old circles).

    Returns
    -------
    go.Figure
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"points_figure draws 2-D data, got shape {np.shape(X)}; project wider data first "
            "(em_core.projection.principal_axes) and call mixture_scatter"
        )
    before = (
        None if previous is None else Previous(previous.mu, np.sqrt(mean_variance(previous)), sigma_ellipses(previous))
    )
    return mixture_scatter(
        X,
        post,
        mixture.mu,
        np.sqrt(mean_variance(mixture)),
        mixture.p,
        title=title,
        circles=circles,
        sigma_levels=(1, 2),
        show_weights=show_weights,
        changed=changed,
        previous=before,
        shapes=sigma_ellipses(mixture),
    )


#: A 2σ circle narrower than this share of the points' extent reads as a dot, not a circle.
READABLE_CIRCLE = 0.05


def circles_readable(Z: np.ndarray, sigmas: np.ndarray) -> bool:
    """Whether the widest 2σ circle spans at least :data:`READABLE_CIRCLE` of the points' extent.

    Parameters
    ----------
    Z : ndarray of shape (n, 2)
    sigmas : ndarray of shape (K,)
    """
    Z = np.asarray(Z, dtype=float)
    finite = Z[np.isfinite(Z).all(axis=1)]
    sigmas = np.asarray(sigmas, dtype=float)
    if not finite.size or not np.isfinite(sigmas).any():
        return False
    extent = float(np.ptp(finite, axis=0).max())
    return extent == 0 or 4.0 * float(np.nanmax(sigmas)) >= READABLE_CIRCLE * extent


def plain_points(X: np.ndarray, title: str = "", axis_titles: tuple[str, str] = ("x1", "x2")) -> go.Figure:
    """2-D points before any fit: one neutral colour, equal axes, hover gives the point number.

    The axes are fitted to the points with a small margin; the 1:1 aspect shrinks the plot
    area rather than padding the shorter side's range.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    title : str
    axis_titles : (str, str)

    Returns
    -------
    go.Figure
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"plain_points draws 2-D data, got shape {np.shape(X)}")
    drawn = drawn_points(X.shape[0])  # at most MAX_DRAWN_POINTS
    n = drawn.size
    fig = go.Figure(
        _scatter_type(n)(
            x=finite_or_gaps(X[drawn, 0]),
            y=finite_or_gaps(X[drawn, 1]),
            mode="markers",
            marker=dict(color="#555", size=_marker_size(n), opacity=0.7),
            customdata=drawn + 1,
            hovertemplate="point %{customdata}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text=axis_titles[0], zeroline=False)
    fig.update_yaxes(title_text=axis_titles[1], zeroline=False)
    equal_axes(fig, padded_range(X[:, 0]), padded_range(X[:, 1]))
    return sample_note(style(fig, title, height=480), n, X.shape[0])
