"""Plotly figure builders: (data, state) -> ``go.Figure``.

Pure functions. Nothing here imports streamlit or computes EM quantities: em_core computes
every number, these functions only draw it. Users, items, points and components are all
numbered from 1 (``user 1``, ``item 1``, ``j=1``), as the pages and the course number them:
row ``i`` of an array is shown as ``i + 1``.

Every figure uses the same look (:data:`TEMPLATE`, compact margins) and carries no NaN or
infinity: values that are not finite are drawn as gaps (``None``).
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import plotly.graph_objects as go
from PIL import Image  # a dependency of streamlit (and of plotly's own imshow)
from plotly.colors import get_colorscale, hex_to_rgb, sample_colorscale, unlabel_rgb
from plotly.subplots import make_subplots

if TYPE_CHECKING:
    from em_core.mixture import GaussianMixture

TEMPLATE = "plotly_white"
#: Matrices with more cells than this are sent as one PNG image instead of a heatmap.
HEATMAP_MAX_CELLS = 20_000
MISSING_COLOR = "#d9d9d9"
#: Colour of plain bars and histograms, and of a highlighted bar.
BAR_COLOR = "#9fb3cf"
ACCENT_COLOR = "#1f4e9c"
#: Twelve distinct component colours: plotly's default ten, then brown and navy.
PALETTE = (
    "#636EFA",
    "#EF553B",
    "#00CC96",
    "#AB63FA",
    "#FFA15A",
    "#19D3F3",
    "#FF6692",
    "#B6E880",
    "#FF97FF",
    "#FECB52",
    "#8C564B",
    "#2F4B7C",
)
#: Components whose mixing weight is below this hold almost no points: drawn faded.
FADED_WEIGHT = 0.01
#: With more components than this the means carry no text label (the legend and the hover name them).
MAX_LABELLED_COMPONENTS = 6
#: Posterior bars below this get no value label (a row of "0.00" says nothing).
MIN_LABELLED_PROBABILITY = 0.01
_FADED_OPACITY = 0.35
_FADED_OUTLINE = "#aaaaaa"
_SCORE_LABELS = {"log_likelihood": "log-likelihood", "cost": "K-means cost"}
_CIRCLE_POINTS = 91
#: Share of the data's extent added on each side of a fitted axis range.
_AXIS_PAD = 0.06
#: Width of the plot area a square matrix is sized for (the page decides the real width).
_SQUARE_PLOT_WIDTH = 440


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
    return [f"rgb({r},{g},{b})" for r, g, b in rgb]


# ----------------------------------------------------------------------------- helpers


def _style(fig: go.Figure, title: str, height: int) -> go.Figure:
    """The shared look: template, compact margins, a left-aligned title."""
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        margin=dict(l=60, r=20, t=48 if title else 24, b=48),
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=15)),
        legend=dict(bgcolor="rgba(255,255,255,0.7)"),
    )
    return fig


def _legend_below(fig: go.Figure) -> go.Figure:
    """A horizontal legend along the bottom edge, clear of the title and the mode bar."""
    fig.update_layout(
        legend=dict(orientation="h", x=0, xanchor="left", y=0, yref="container", yanchor="bottom"),
        margin=dict(b=fig.layout.margin.b + 34),
    )
    return fig


def _empty(message: str, title: str = "", height: int = 300) -> go.Figure:
    """A figure with no data and one centred, friendly message."""
    fig = go.Figure()
    fig.add_annotation(
        text=message, x=0.5, y=0.5, xref="paper", yref="paper", showarrow=False, font=dict(size=15, color="#666")
    )
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _style(fig, title, height)


def _gaps(values: np.ndarray) -> list[float | None]:
    """A plain list with ``None`` where a value is not finite (drawn as a gap, not NaN)."""
    values = np.asarray(values, dtype=float).ravel()
    return [float(v) if np.isfinite(v) else None for v in values]


def _finite_or_gaps(values: np.ndarray) -> np.ndarray | list[float | None]:
    """``values`` as they are when all are finite (sent compactly), else :func:`_gaps`."""
    values = np.asarray(values, dtype=float)
    return values if np.isfinite(values).all() else _gaps(values)


def _colorscale(colorscale: str | Sequence) -> list:
    """A named colourscale (``"Viridis"``) or an explicit one, as ``[[0, c0], ..., [1, c1]]``."""
    return get_colorscale(colorscale) if isinstance(colorscale, str) else list(colorscale)


def _colorscale_lut(colorscale: list, levels: int) -> np.ndarray:
    """``levels`` evenly spaced colours of a colourscale, as a uint8 array of shape (levels, 3)."""
    samples = sample_colorscale(colorscale, list(np.linspace(0.0, 1.0, levels)))
    return np.rint([unlabel_rgb(c) for c in samples]).astype(np.uint8)


def _color_rgb(color: str) -> tuple[int, int, int]:
    """``"#RRGGBB"`` or ``"rgb(r,g,b)"`` as an integer triple."""
    if color.startswith("#"):
        return tuple(int(c) for c in hex_to_rgb(color))
    return tuple(int(round(c)) for c in unlabel_rgb(color))


def _palette_png(levels: np.ndarray, palette: np.ndarray) -> str:
    """A palette PNG (one byte per pixel) as a data URI.

    An indexed PNG is about a third of the size of the RGB one ``px.imshow`` writes, which
    keeps a 1200 x 1200 matrix under 1.5 MB of JSON.

    Parameters
    ----------
    levels : ndarray of uint8, shape (n, d)
        Palette index of each pixel.
    palette : ndarray of uint8, shape (256, 3)
    """
    image = Image.frombytes("P", (levels.shape[1], levels.shape[0]), np.ascontiguousarray(levels).tobytes())
    image.putpalette(palette.astype(np.uint8).tobytes())
    with io.BytesIO() as stream:
        image.save(stream, format="png", compress_level=6)
        return "data:image/png;base64," + base64.b64encode(stream.getvalue()).decode("ascii")


def _padded_range(values: np.ndarray, pad: float = _AXIS_PAD) -> list[float] | None:
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


def _equal_axes(fig: go.Figure, x_range: list[float] | None, y_range: list[float] | None) -> go.Figure:
    """One unit is as long on y as on x; the ranges stay, the plot area shrinks to fit.

    ``constrain="domain"`` keeps the fitted ranges (the default, ``"range"``, would widen
    the longer side's range to fill the plot area with empty space).
    """
    fig.update_xaxes(range=x_range, constrain="domain")
    fig.update_yaxes(range=y_range, constrain="domain", scaleanchor="x", scaleratio=1)
    return fig


def _legend_swatch(name: str, color: str) -> go.Scatter:
    """A legend-only entry: a square of ``color`` (the trace itself draws nothing)."""
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker=dict(symbol="square", size=12, color=color, line=dict(color="#999", width=1)),
        hoverinfo="skip",
        showlegend=True,
    )


# ----------------------------------------------------------------------------- matrices


def matrix_image(
    M: np.ndarray,
    missing: np.ndarray | None = None,
    title: str = "",
    zmin: float = 1.0,
    zmax: float = 5.0,
    colorscale: str | Sequence = "Viridis",
    missing_color: str = MISSING_COLOR,
    colorbar_title: str = "rating",
    show_colorbar: bool = True,
    square: bool = False,
) -> go.Figure:
    """A users x items matrix as a colour image, missing entries in a neutral grey.

    Small matrices (``n * d <= HEATMAP_MAX_CELLS``) become a heatmap whose hover gives the
    user, the item and the value (or "missing"). Larger ones (the 1200 x 1200 Netflix
    matrix) are colour-mapped here and sent as one indexed PNG (a ``go.Image`` trace), so
    the figure stays small; their hover gives user and item only. Values outside
    ``[zmin, zmax]`` take the end colours.

    Parameters
    ----------
    M : ndarray of shape (n, d)
        The values (rows are users, columns items).
    missing : ndarray of bool, shape (n, d), optional
        True where the entry is missing; drawn in ``missing_color``. ``None``: nothing is
        missing. Entries of ``M`` that are not finite are drawn as missing too.
    title : str
    zmin, zmax : float
        The value range the colourscale spans.
    colorscale : str or list
        A plotly colourscale name or ``[[0, colour], ..., [1, colour]]``.
    missing_color : str
        ``"#RRGGBB"`` colour of missing entries.
    colorbar_title : str
        What the values are (also used in the hover).
    show_colorbar : bool
        ``False`` leaves the colour bar out, e.g. for a grid of matrices that share one
        scale (same ``zmin``, ``zmax`` and ``colorscale``) shown once elsewhere.
    square : bool
        ``True`` draws every cell square (the y axis is scale-anchored to x; the plot area
        shrinks to the matrix's shape) and sizes the figure's height from that shape for a
        plot area about 440 pixels wide (a tall matrix is capped at 640 pixels). ``False``
        (the default): cells stretch to fill the width.

    Returns
    -------
    go.Figure
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2:
        raise ValueError(f"matrix_image expects a matrix of shape (users, items), got shape {M.shape}")
    n, d = M.shape
    if missing is None:
        missing = np.zeros((n, d), dtype=bool)
    else:
        missing = np.asarray(missing, dtype=bool)
        if missing.shape != M.shape:
            raise ValueError(f"matrix_image: the missing mask has shape {missing.shape}, the matrix {M.shape}")
    missing = missing | ~np.isfinite(M)
    scale = _colorscale(colorscale)
    hover = f"user %{{y}}<br>item %{{x}}<br>{colorbar_title} %{{text}}<extra></extra>"
    colorbar = dict(title=dict(text=colorbar_title), thickness=14, len=0.8, y=1.0, yanchor="top")

    fig = go.Figure()
    if n * d <= HEATMAP_MAX_CELLS:
        values = np.round(np.where(missing, 0.0, M), 3)
        text = [
            ["missing" if gone else f"{value:g}" for value, gone in zip(row, gone_row, strict=True)]
            for row, gone_row in zip(values, missing, strict=True)
        ]
        gap = 1 if max(n, d) <= 60 else 0
        # Missing cells: a grey layer underneath, seen through the gaps of the value layer.
        fig.add_trace(
            go.Heatmap(
                z=np.where(missing, 1, None).tolist(),
                x0=1,
                dx=1,
                y0=1,
                dy=1,
                zmin=0,
                zmax=1,
                colorscale=[[0.0, missing_color], [1.0, missing_color]],
                showscale=False,
                hoverinfo="skip",
                name="missing",
                xgap=gap,
                ygap=gap,
            )
        )
        fig.add_trace(
            go.Heatmap(
                z=np.where(missing, None, values).tolist(),
                x0=1,
                dx=1,
                y0=1,
                dy=1,
                zmin=zmin,
                zmax=zmax,
                colorscale=scale,
                colorbar=colorbar,
                showscale=show_colorbar,
                text=text,
                hovertemplate=hover,
                hoverongaps=True,
                connectgaps=False,
                name=colorbar_title,
                xgap=gap,
                ygap=gap,
            )
        )
    else:
        span = (zmax - zmin) or 1.0
        lut = _colorscale_lut(scale, 255)
        palette = np.vstack([lut, np.array(_color_rgb(missing_color), dtype=np.uint8)])
        filled = np.where(missing, zmin, M)
        levels = np.clip(np.rint((filled - zmin) / span * 254), 0, 254).astype(np.uint8)
        levels[missing] = 255
        fig.add_trace(
            go.Image(
                source=_palette_png(levels, palette),
                x0=1,
                dx=1,
                y0=1,
                dy=1,
                hovertemplate="user %{y}<br>item %{x}<extra></extra>",
                name=colorbar_title,
            )
        )
        if show_colorbar:
            # The image carries no values, so an empty scatter holds the colour bar.
            fig.add_trace(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="markers",
                    marker=dict(
                        color=[zmin], cmin=zmin, cmax=zmax, colorscale=scale, showscale=True, colorbar=colorbar
                    ),
                    hoverinfo="skip",
                    showlegend=False,
                    name=colorbar_title,
                )
            )
    if missing.any():
        fig.add_trace(_legend_swatch("missing", missing_color))
    fig.update_xaxes(title_text="item", showgrid=False, zeroline=False, range=[0.5, d + 0.5])
    fig.update_yaxes(title_text="user", showgrid=False, zeroline=False, range=[n + 0.5, 0.5])
    # the "missing" swatch sits under the colour bar
    fig.update_layout(legend=dict(x=1.02, xanchor="left", y=0, yanchor="bottom"), hovermode="closest")
    if not square:
        # scaleanchor=False lifts the square-pixel constraint plotly.js puts on images: cells fill the width
        fig.update_yaxes(scaleanchor=False)
        return _style(fig, title, height=int(np.clip(140 + 22 * n, 260, 560)))
    # Square cells: both axes keep their ranges and give up plot area instead; the area is
    # sized for a typical column width, a tall matrix capped so it stays on one screen. A
    # narrow matrix moves next to its colour bar and "missing" swatch (they sit at the right).
    beside = show_colorbar or bool(missing.any())
    fig.update_xaxes(constrain="domain", constraintoward="right" if beside else "center")
    fig.update_yaxes(constrain="domain", constraintoward="top", scaleanchor="x", scaleratio=1)
    # the plot area may end above the figure's bottom: the swatch goes just under the colour bar
    fig.update_layout(legend=dict(y=0.17 if show_colorbar else 1.0, yanchor="top"))
    _style(fig, title, height=560)
    plot_height = float(np.clip(_SQUARE_PLOT_WIDTH * n / d, 160, 640))
    fig.update_layout(height=int(round(plot_height + fig.layout.margin.t + fig.layout.margin.b)))
    return fig


def means_heatmap(mu: np.ndarray, zmin: float = 1.0, zmax: float = 5.0, title: str = "") -> go.Figure:
    """The cluster means as a K x items heatmap, component ``j=1`` on top.

    Parameters
    ----------
    mu : ndarray of shape (K, d)
        Mean of each component (e.g. its mean rating of each item).
    zmin, zmax : float
        The value range the colourscale spans.
    title : str

    Returns
    -------
    go.Figure
    """
    mu = np.asarray(mu, dtype=float)
    if mu.ndim != 2:
        raise ValueError(f"means_heatmap expects means of shape (K, items), got shape {mu.shape}")
    K, d = mu.shape
    z = np.round(mu, 3)
    if not np.isfinite(z).all():
        z = np.where(np.isfinite(z), z, None).tolist()
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x0=1,
            dx=1,
            y=[f"j={j + 1}" for j in range(K)],
            zmin=zmin,
            zmax=zmax,
            colorscale="Viridis",
            colorbar=dict(title=dict(text="mean"), thickness=14),
            hovertemplate="component %{y}<br>item %{x}<br>mean %{z:.2f}<extra></extra>",
            xgap=1 if d <= 60 else 0,
            ygap=1,
        )
    )
    fig.update_xaxes(title_text="item", showgrid=False, zeroline=False)
    fig.update_yaxes(title_text="component", showgrid=False, autorange="reversed", type="category")
    return _style(fig, title, height=int(np.clip(110 + 30 * K, 220, 480)))


def rating_histogram(values: np.ndarray, title: str = "") -> go.Figure:
    """How often each observed value occurs.

    One bar per distinct value when there are at most 20 of them (ratings 1..5), each
    labelled with its count (``349,646``: thousands separated), else a 40-bin histogram.

    Parameters
    ----------
    values : ndarray of any shape
        The observed values only (for a rating matrix ``X[X > 0]``: 0 means missing and
        is not removed here). Values that are not finite are ignored.
    title : str

    Returns
    -------
    go.Figure
    """
    values = np.asarray(values, dtype=float).ravel()
    values = values[np.isfinite(values)]
    if values.size == 0:
        return _empty("No observed values", title)
    distinct, counts = np.unique(values, return_counts=True)
    if distinct.size <= 20:
        bar = go.Bar(
            x=distinct,
            y=counts,
            text=[f"{count:,}" for count in counts],
            textposition="outside",
            cliponaxis=False,
            marker_color=BAR_COLOR,
            hovertemplate="value %{x:g}<br>%{y:,} entries<extra></extra>",
        )
        fig = go.Figure(bar)
        fig.update_xaxes(tickvals=distinct, ticktext=[f"{v:g}" for v in distinct])
    else:
        counts, edges = np.histogram(values, bins=40)
        centres = (edges[:-1] + edges[1:]) / 2
        fig = go.Figure(
            go.Bar(
                x=centres,
                y=counts,
                width=np.diff(edges),
                customdata=np.column_stack([edges[:-1], edges[1:]]),
                marker=dict(color=BAR_COLOR, line=dict(color="white", width=0.5)),
                hovertemplate="%{customdata[0]:.3g} to %{customdata[1]:.3g}<br>%{y:,} entries<extra></extra>",
            )
        )
    fig.update_xaxes(title_text="value")
    fig.update_yaxes(title_text="entries", rangemode="tozero")
    fig.update_layout(showlegend=False, bargap=0.15 if distinct.size <= 20 else 0)
    return _style(fig, title, height=300)


# ----------------------------------------------------------------------------- scores


def score_curve(
    scores: Sequence[float],
    score_name: str = "log_likelihood",
    tol: float | None = None,
    current: int | None = None,
) -> go.Figure:
    """The score per iteration and, given ``tol``, the gain against the stopping threshold.

    Parameters
    ----------
    scores : sequence of float, length T
        ``scores[t - 1]`` is the score of iteration t (EM: the log-likelihood; K-means:
        the cost), drawn at x = 1..T.
    score_name : {"log_likelihood", "cost"} or str
        What the scores are.
    tol : float, optional
        Draw a second row (shared x, log y) with the stopping rule. For the
        log-likelihood the gain ``LL_t - LL_{t-1}`` against ``tol * |LL_t|`` (EM stops when
        gain <= threshold); for the cost the drop ``cost_{t-1} - cost_t`` against ``tol``.
        Gains <= 0 cannot sit on a log axis: they are drawn at a floor below every
        positive value, as red down-triangles, with the true gain in the hover.
    current : int, optional
        Iteration to mark with a vertical line (the one the scrub slider shows).

    Returns
    -------
    go.Figure
        With no scores, an empty figure that says "Press Step to start".
    """
    label = _SCORE_LABELS.get(score_name, score_name.replace("_", " "))
    values = np.asarray(scores, dtype=float).ravel()
    T = values.size
    if T == 0:
        return _empty("Press Step to start", title=label, height=300 if tol is None else 460)
    x = np.arange(1, T + 1)
    score_trace = go.Scatter(
        x=x,
        y=_gaps(values),
        mode="lines+markers",
        name=label,
        line=dict(color=PALETTE[0], width=2),
        marker=dict(size=6),
        hovertemplate=f"iteration %{{x}}<br>{label} %{{y:.6g}}<extra></extra>",
    )
    if tol is None:
        fig = go.Figure(score_trace)
        fig.update_xaxes(title_text="iteration")
        fig.update_yaxes(title_text=label)
        row_kw: dict = {}
    else:
        is_cost = score_name == "cost"
        gain_label = (
            "drop cost<sub>t-1</sub> − cost<sub>t</sub>" if is_cost else "gain LL<sub>t</sub> − LL<sub>t-1</sub>"
        )
        threshold_label = "threshold tol" if is_cost else "threshold tol·|LL<sub>t</sub>|"
        fig = make_subplots(
            rows=2,
            cols=1,
            shared_xaxes=True,
            row_heights=[0.55, 0.45],
            vertical_spacing=0.1,
            subplot_titles=(label, "stopping rule: stop when the " + ("drop" if is_cost else "gain") + " ≤ threshold"),
        )
        fig.add_trace(score_trace, row=1, col=1)
        row_kw = dict(row="all", col=1)
        if T < 2:
            fig.add_annotation(
                text="the gain appears from iteration 2",
                x=0.5,
                y=0.5,
                xref="x2 domain",
                yref="y2 domain",
                showarrow=False,
                font=dict(color="#666"),
            )
        else:
            previous, latest = values[:-1], values[1:]
            gain = previous - latest if is_cost else latest - previous
            threshold = np.full(T - 1, float(tol)) if is_cost else float(tol) * np.abs(latest)
            positive = np.isfinite(gain) & (gain > 0)
            shown = np.concatenate([gain[positive], threshold[np.isfinite(threshold) & (threshold > 0)]])
            floor = float(shown.min()) / 10 if shown.size else 1e-12
            fig.add_trace(
                go.Scatter(
                    x=x[1:],
                    y=_gaps(np.where(positive, gain, np.nan)),
                    mode="lines+markers",
                    name=gain_label,
                    line=dict(color=PALETTE[2], width=2),
                    marker=dict(size=6),
                    hovertemplate="iteration %{x}<br>gain %{y:.3g}<extra></extra>",
                ),
                row=2,
                col=1,
            )
            fig.add_trace(
                go.Scatter(
                    x=x[1:],
                    y=_gaps(np.where(threshold > 0, threshold, np.nan)),
                    mode="lines",
                    name=threshold_label,
                    line=dict(color="#555", width=1.5, dash="dash"),
                    hovertemplate="iteration %{x}<br>threshold %{y:.3g}<extra></extra>",
                ),
                row=2,
                col=1,
            )
            not_positive = np.isfinite(gain) & ~positive
            if not_positive.any():
                fig.add_trace(
                    go.Scatter(
                        x=x[1:][not_positive],
                        y=np.full(int(not_positive.sum()), floor),
                        customdata=gain[not_positive],
                        mode="markers",
                        name="gain ≤ 0 (drawn at the floor)",
                        marker=dict(symbol="triangle-down", size=10, color=PALETTE[1]),
                        hovertemplate="iteration %{x}<br>gain %{customdata:.3g} (≤ 0)<extra></extra>",
                    ),
                    row=2,
                    col=1,
                )
        fig.update_yaxes(title_text=label, row=1, col=1)
        fig.update_yaxes(
            title_text="drop (log)" if is_cost else "gain (log)", type="log", exponentformat="power", row=2, col=1
        )
        fig.update_xaxes(title_text="iteration", row=2, col=1)
    if current is not None:
        fig.add_vline(x=current, line=dict(color="#333", width=1.5, dash="dot"), **row_kw)
        if 1 <= current <= T and np.isfinite(values[current - 1]):
            marker = go.Scatter(
                x=[current],
                y=[float(values[current - 1])],
                mode="markers",
                name=f"iteration {current}",
                marker=dict(size=13, color="rgba(0,0,0,0)", line=dict(color="#333", width=2)),
                hovertemplate=f"shown: iteration {current}<br>{label} %{{y:.6g}}<extra></extra>",
                showlegend=False,
            )
            fig.add_trace(marker, **({"row": 1, "col": 1} if tol is not None else {}))
    first, last = (1, T) if current is None else (min(1, current), max(T, current))
    fig.update_xaxes(range=[first - 0.5, last + 0.5], dtick=1 if T <= 20 else None)
    # one series needs no legend (the y axis names it); the two-row version keeps one below
    fig.update_layout(hovermode="closest", showlegend=tol is not None)
    _style(fig, "", height=300 if tol is None else 500)
    return fig if tol is None else _legend_below(fig)


def model_selection_figure(
    ks: Sequence[int],
    series: Mapping[str, Sequence[float]],
    best_k: int | None = None,
    title: str = "",
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

    Returns
    -------
    go.Figure
    """
    ks = [int(k) for k in ks]
    if not ks or not series:
        return _empty("No scores yet: run the comparison over K", title)
    for name, values in series.items():
        if len(values) != len(ks):
            raise ValueError(f"model_selection_figure: series {name!r} has {len(values)} values for {len(ks)} Ks")
    rows = len(series)
    fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.25 / rows, subplot_titles=list(series))
    for row, (name, values) in enumerate(series.items(), start=1):
        ys = _gaps(values)
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
        if best_k is not None and best_k in ks and ys[ks.index(best_k)] is not None:
            fig.add_trace(
                go.Scatter(
                    x=[best_k],
                    y=[ys[ks.index(best_k)]],
                    mode="markers",
                    name=f"best K = {best_k}",
                    marker=dict(symbol="star", size=16, color="#FECB52", line=dict(color="#333", width=1)),
                    hovertemplate=f"best K = {best_k}<br>{name} %{{y:.6g}}<extra></extra>",
                    legendgroup="best",
                    showlegend=row == 1,
                ),
                row=row,
                col=1,
            )
    if best_k is not None:
        fig.add_vline(x=best_k, line=dict(color="#333", width=1, dash="dot"), row="all", col=1)
    fig.update_xaxes(tickvals=sorted(set(ks)))
    fig.update_xaxes(title_text="K", row=rows, col=1)
    return _legend_below(_style(fig, title, height=120 + 180 * rows))


# ----------------------------------------------------------------------------- mixtures


def _point_hover(post: np.ndarray, point_name: str, top: int = 3, names: Sequence[str] | None = None) -> list[str]:
    """Hover text per point: its number (from 1) and its largest responsibilities.

    ``names`` (one per component) replaces ``j=1, j=2, ...``; with names, components with
    zero responsibility are left out (a K-means point shows only its centre).
    """
    order = np.argsort(-post, axis=1, kind="stable")[:, :top]
    label = names if names is not None else [f"j={j + 1}" for j in range(post.shape[1])]
    texts = []
    for i, (row, best) in enumerate(zip(post, order, strict=True)):
        kept = best if names is None else [j for k, j in enumerate(best) if k == 0 or row[j] > 0]
        parts = "<br>".join(f"{label[j]}: {row[j]:.2f}" for j in kept)
        texts.append(f"{point_name} {i + 1}<br>{parts}")
    return texts


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Area shared by two boxes ``(x0, x1, y0, y1)``."""
    return max(0.0, min(a[1], b[1]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[2], b[2]))


def _label_positions(
    means: np.ndarray,
    labels: Sequence[str],
    x_range: list[float] | None,
    y_range: list[float] | None,
    plot_pixels: float = 420.0,
) -> list[str]:
    """A ``textposition`` per mean, so labels stay inside the axes and off each other.

    Greedy, in component order: each label takes the first of its four corners (towards
    the middle of the plot first) whose box, estimated in data units for a plot area of
    about ``plot_pixels`` on its longer side, leaves the axes least and covers the labels
    placed so far and the other means least.
    """
    K = means.shape[0]
    if x_range is None or y_range is None:
        return ["top right"] * K
    x_mid, y_mid = sum(x_range) / 2, sum(y_range) / 2
    unit = max(x_range[1] - x_range[0], y_range[1] - y_range[0]) / plot_pixels  # data units per pixel
    axes_box = (x_range[0], x_range[1], y_range[0], y_range[1])
    gap, height, marker = 6 * unit, 16 * unit, 8 * unit
    finite = np.isfinite(means).all(axis=1)
    marks = [(x - marker, x + marker, y - marker, y + marker) for x, y in means[finite]]
    placed: list[tuple[float, float, float, float]] = []
    positions = []
    for j, ((x, y), label) in enumerate(zip(means, labels, strict=True)):
        if not finite[j]:
            positions.append("top right")
            continue
        width = (7 * len(label.replace("<b>", "").replace("</b>", "")) + 4) * unit
        sides = ["left", "right"] if x > x_mid else ["right", "left"]
        levels = ["bottom", "top"] if y > y_mid + 0.35 * (y_range[1] - y_range[0]) else ["top", "bottom"]
        best, best_cost = "top right", np.inf
        for vertical in levels:
            for horizontal in sides:
                x0 = x + gap if horizontal == "right" else x - gap - width
                y0 = y + gap if vertical == "top" else y - gap - height
                box = (x0, x0 + width, y0, y0 + height)
                outside = width * height - _overlap(box, axes_box)
                covered = sum(_overlap(box, other) for other in placed + marks)
                cost = 2 * outside + covered
                if cost < best_cost - 1e-12 * unit * unit:
                    best, best_cost, best_box = f"{vertical} {horizontal}", cost, box
        placed.append(best_box)
        positions.append(best)
    return positions


def _inside(value: float, bounds: list[float] | None) -> bool:
    return bounds is not None and bool(np.isfinite(value)) and bounds[0] <= value <= bounds[1]


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

    Returns
    -------
    go.Figure
    """
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
    n = Z.shape[0]
    colors = component_colors(K)
    names = [f"j={j + 1}" if show_weights else f"centre {j + 1}" for j in range(K)]
    faded = show_weights & (weights < FADED_WEIGHT)  # NaN weights compare False: not faded
    labelled = K <= MAX_LABELLED_COMPONENTS
    # Fit the axes to the points and to the means that hold points, never to an empty component.
    held = means[~faded]
    x_range = _padded_range(np.concatenate([Z[:, 0], held[:, 0]]))
    y_range = _padded_range(np.concatenate([Z[:, 1], held[:, 1]]))

    scatter = go.Scattergl if n > 1000 else go.Scatter
    fig = go.Figure()
    fig.add_trace(
        scatter(
            x=_finite_or_gaps(Z[:, 0]),
            y=_finite_or_gaps(Z[:, 1]),
            mode="markers",
            name="points",
            marker=dict(
                color=blend_colors(post),
                size=8 if n <= 300 else 6 if n <= 3000 else 4,
                opacity=0.85,
                line=dict(color="white", width=0.5 if n <= 300 else 0),
            ),
            hovertext=_point_hover(post, point_name, names=None if show_weights else names),
            hovertemplate="%{hovertext}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
            showlegend=False,
        )
    )
    weight_texts = [
        "" if not show_weights else f"  p<{FADED_WEIGHT:g}" if fade else f"  p={weight:.2f}"
        for fade, weight in zip(faded, weights, strict=True)
    ]
    legend_names = [name + text for name, text in zip(names, weight_texts, strict=True)]
    labels = [f"<b>{name}</b>{text}" for name, text in zip(names, weight_texts, strict=True)]
    positions = _label_positions(means, labels, x_range, y_range) if labelled else ["top right"] * K
    theta = np.linspace(0.0, 2.0 * np.pi, _CIRCLE_POINTS)
    for j in range(K):
        group, label = names[j], labels[j]
        sigma = sigmas[j]
        almost_empty = f"holds almost no {point_name}s (p={weights[j]:.2g})" if faded[j] else ""
        if circles and np.isfinite(sigma) and np.isfinite(means[j]).all():
            for index, level in enumerate(sigma_levels):
                radius = float(level) * sigma
                fig.add_trace(
                    go.Scatter(
                        x=means[j, 0] + radius * np.cos(theta),
                        y=means[j, 1] + radius * np.sin(theta),
                        mode="lines",
                        name=f"{group} {level:g}σ",
                        line=dict(
                            color=colors[j],
                            width=1 if faded[j] else 1.5 if index else 2,
                            dash="dash" if index else "solid",
                        ),
                        opacity=_FADED_OPACITY if faded[j] else 1.0,
                        hovertemplate=(
                            f"{group}: {level:g}σ = {radius:.3g}"
                            + (f"<br>{almost_empty}" if faded[j] else "")
                            + "<extra></extra>"
                        ),
                        legendgroup=group,
                        showlegend=False,
                    )
                )
        hover = [f"<b>{group}</b> {almost_empty}" if faded[j] else label, "mean (%{x:.3g}, %{y:.3g})"]
        if circles or show_weights:
            hover.append(f"σ = {sigma:.3g}")
        # Text may spill past the axes (never cut off at the edge); a mean outside them stays clipped.
        in_view = _inside(means[j, 0], x_range) and _inside(means[j, 1], y_range)
        fig.add_trace(
            go.Scatter(
                x=_gaps(means[j, 0]),
                y=_gaps(means[j, 1]),
                mode="markers+text" if labelled else "markers",
                name=legend_names[j],
                text=[label] if labelled else None,
                textposition=positions[j],
                textfont=dict(size=12, color="#888" if faded[j] else "#1a1a1a", shadow="0 0 3px white"),
                cliponaxis=not in_view,
                opacity=_FADED_OPACITY if faded[j] else 1.0,
                marker=dict(
                    symbol="x",
                    size=14,
                    color=colors[j],
                    line=dict(color=_FADED_OUTLINE if faded[j] else "#1a1a1a", width=1.5),
                ),
                hovertemplate="<br>".join(hover) + "<extra></extra>",
                legendgroup=group,
                showlegend=True,
            )
        )
    fig.update_xaxes(title_text=axis_titles[0], zeroline=False)
    fig.update_yaxes(title_text=axis_titles[1], zeroline=False)
    _equal_axes(fig, x_range, y_range)
    fig.update_layout(hovermode="closest", legend=dict(title=dict(text="component" if show_weights else "centres")))
    return _style(fig, title, height=520)


def points_figure(
    X: np.ndarray,
    post: np.ndarray,
    mixture: GaussianMixture,
    title: str = "",
    circles: bool = True,
    show_weights: bool = True,
) -> go.Figure:
    """:func:`mixture_scatter` for 2-D data and a ``GaussianMixture``.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    post : ndarray of shape (n, K)
        Responsibilities (one-hot for K-means).
    mixture : GaussianMixture
        ``mu`` of shape (K, 2), ``var`` of shape (K,), ``p`` of shape (K,).
    title : str
    circles : bool
        ``False`` for K-means: only the centroids are drawn.
    show_weights : bool
        ``False`` for K-means: centroids have no mixing weight, so the legend and labels
        say ``centre 1, centre 2, ...`` and never mention p.

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
    return mixture_scatter(
        X,
        post,
        mixture.mu,
        np.sqrt(mixture.var),
        mixture.p,
        title=title,
        circles=circles,
        sigma_levels=(1, 2),
        show_weights=show_weights,
    )


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
    n = X.shape[0]
    scatter = go.Scattergl if n > 1000 else go.Scatter
    fig = go.Figure(
        scatter(
            x=_finite_or_gaps(X[:, 0]),
            y=_finite_or_gaps(X[:, 1]),
            mode="markers",
            marker=dict(color="#555", size=8 if n <= 300 else 6 if n <= 3000 else 4, opacity=0.7),
            customdata=np.arange(1, n + 1),
            hovertemplate="point %{customdata}<br>(%{x:.3g}, %{y:.3g})<extra></extra>",
            showlegend=False,
        )
    )
    fig.update_xaxes(title_text=axis_titles[0], zeroline=False)
    fig.update_yaxes(title_text=axis_titles[1], zeroline=False)
    _equal_axes(fig, _padded_range(X[:, 0]), _padded_range(X[:, 1]))
    return _style(fig, title, height=480)


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
    shown = _gaps(post_row)
    fig = go.Figure(
        go.Bar(
            x=labels,
            y=shown,
            name="posterior p(j | x)",
            marker=dict(color=component_colors(K), line=dict(color="#333", width=0.5)),
            text=[f"{v:.2f}" if v is not None and v >= MIN_LABELLED_PROBABILITY else "" for v in shown],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{x}<br>posterior %{y:.3f}<extra></extra>",
            showlegend=prior is not None,
        )
    )
    if prior is not None:
        prior = np.asarray(prior, dtype=float).ravel()
        if prior.size != K:
            raise ValueError(f"posterior_bars: prior has {prior.size} weights, the posterior {K}")
        fig.add_trace(
            go.Scatter(
                x=labels,
                y=_gaps(prior),
                mode="markers",
                name="prior p<sub>j</sub>",
                marker=dict(symbol="line-ew-open", size=34, color="#111", line=dict(color="#111", width=3)),
                hovertemplate="%{x}<br>prior %{y:.3f}<extra></extra>",
            )
        )
    fig.update_xaxes(type="category", title_text="component")
    fig.update_yaxes(range=[0, 1.1], tickvals=[0, 0.25, 0.5, 0.75, 1], title_text="probability")
    fig.update_layout(bargap=0.3)
    _style(fig, title, height=300)
    return fig if prior is None else _legend_below(fig)


# ----------------------------------------------------------------------------- errors and comparisons


def error_histogram(errors: np.ndarray, title: str = "") -> go.Figure:
    """Signed errors (predicted - gold) over the missing entries, with a line at 0.

    The bins are symmetric around 0 (0 is a bin edge), so a bias shows as lopsided bars.

    Parameters
    ----------
    errors : ndarray of any shape
        ``X_pred - X_gold`` at the scored entries. Values that are not finite are ignored.
    title : str

    Returns
    -------
    go.Figure
    """
    errors = np.asarray(errors, dtype=float).ravel()
    errors = errors[np.isfinite(errors)]
    if errors.size == 0:
        return _empty("No missing entries to score", title)
    extent = float(np.abs(errors).max()) or 0.5
    per_side = int(np.clip(np.sqrt(errors.size) / 2, 5, 30))
    edges = np.linspace(-extent, extent, 2 * per_side + 1)
    counts, _ = np.histogram(errors, bins=edges)
    fig = go.Figure(
        go.Bar(
            x=(edges[:-1] + edges[1:]) / 2,
            y=counts,
            width=np.diff(edges),
            customdata=np.column_stack([edges[:-1], edges[1:]]),
            marker=dict(color=BAR_COLOR, line=dict(color="white", width=0.5)),
            hovertemplate="error %{customdata[0]:.2f} to %{customdata[1]:.2f}<br>%{y:,} entries<extra></extra>",
            showlegend=False,
        )
    )
    fig.add_vline(x=0, line=dict(color="#333", width=1.5, dash="dash"))
    fig.update_xaxes(title_text="predicted − gold", zeroline=False)
    fig.update_yaxes(title_text="entries", rangemode="tozero")
    fig.update_layout(bargap=0)
    return _style(fig, title, height=300)


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
    shown = _gaps(values)
    if len(shown) != len(labels):
        raise ValueError(f"bar_chart: {len(labels)} labels for {len(shown)} values")
    if not labels:
        return _empty("Nothing to compare yet", title)
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
    return _style(fig, title, height=320)
