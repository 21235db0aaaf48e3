"""Matrices and their values: a users x items matrix as an image, cluster means as a heatmap,
and histograms of ratings and of errors.

Pure builders: arrays -> ``go.Figure``. Users, items and components are numbered from 1
(``user 1``, ``item 1``, ``j=1``): row ``i`` of an array is shown as ``i + 1``.
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from PIL import Image  # a dependency of streamlit (and of plotly's own imshow)
from plotly.colors import get_colorscale, hex_to_rgb, sample_colorscale, unlabel_rgb

from dashboard.figure_style import BAR_COLOR, MISSING_COLOR, empty_figure, style, style_layout
from dashboard.plotly_spec import SpecFigure, typed

#: Matrices with more cells than this are sent as one PNG image instead of a heatmap.
HEATMAP_MAX_CELLS = 20_000
#: Width of the plot area a square matrix is sized for (the page decides the real width).
_SQUARE_PLOT_WIDTH = 440
#: Cells flagged ``outside`` in :func:`matrix_image` (a prediction outside the rating range): a red no
#: colourscale of the dashboard uses, unlike the grey of "missing".
OUTSIDE_COLOR = "#E4002B"
#: The legend's name for those cells.
OUTSIDE_NAME = "outside the rating range"


# ----------------------------------------------------------------------------- colour mapping


def _colorscale(colorscale: str | Sequence) -> list:
    """A named colourscale (``"Viridis"``) or an explicit one, as ``[[0, c0], ..., [1, c1]]``."""
    return get_colorscale(colorscale) if isinstance(colorscale, str) else list(colorscale)


@functools.cache
def _validated_colorscale(name: str) -> list:
    """A named colourscale as plotly's validation writes it into a spec (once)."""
    return [list(step) for step in go.Heatmap(colorscale=name).colorscale]


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


def _legend_swatch(name: str, color: str) -> dict:
    """A legend-only entry: a square of ``color`` (the trace itself draws nothing)."""
    return dict(
        type="scatter",
        x=[None],
        y=[None],
        mode="markers",
        name=name,
        marker=dict(symbol="square", size=12, color=color, line=dict(color="#999", width=1)),
        hoverinfo="skip",
        showlegend=True,
    )


# ----------------------------------------------------------------------------- matrices


class _Look:
    """How :func:`matrix_image` colours a matrix (its keyword arguments, checked once)."""

    def __init__(
        self,
        zmin,
        zmax,
        colorscale,
        missing_color,
        colorbar_title,
        show_colorbar,
        axis_names=("user", "item"),
        outside=None,
    ) -> None:
        self.outside = outside  # (n, d) bool or None: cells drawn in OUTSIDE_COLOR
        self.row_name, self.column_name = axis_names
        self.zmin, self.zmax = zmin, zmax
        self.scale = _colorscale(colorscale)
        self.missing_color = missing_color
        self.title = colorbar_title
        self.show_colorbar = show_colorbar
        self.colorbar = dict(title=dict(text=colorbar_title), thickness=14, len=0.8, y=1.0, yanchor="top")


def _heatmap_traces(M: np.ndarray, missing: np.ndarray, look: _Look) -> list:
    """A small matrix: a grey layer for the missing cells under a heatmap of the values (hover gives both)."""
    n, d = M.shape
    values = np.round(np.where(missing, 0.0, M), 3)
    text = [
        ["missing" if gone else f"{value:g}" for value, gone in zip(row, gone_row, strict=True)]
        for row, gone_row in zip(values, missing, strict=True)
    ]
    gap = 1 if max(n, d) <= 60 else 0
    cells = dict(x0=1, dx=1, y0=1, dy=1, xgap=gap, ygap=gap)
    # Missing cells: a grey layer underneath, seen through the gaps of the value layer.
    grey = go.Heatmap(
        z=np.where(missing, 1, None).tolist(),
        zmin=0,
        zmax=1,
        colorscale=[[0.0, look.missing_color], [1.0, look.missing_color]],
        showscale=False,
        hoverinfo="skip",
        name="missing",
        **cells,
    )
    shown = go.Heatmap(
        z=np.where(missing, None, values).tolist(),
        zmin=look.zmin,
        zmax=look.zmax,
        colorscale=look.scale,
        colorbar=look.colorbar,
        showscale=look.show_colorbar,
        text=text,
        hovertemplate=f"{look.row_name} %{{y}}<br>{look.column_name} %{{x}}<br>{look.title} %{{text}}<extra></extra>",
        hoverongaps=True,
        connectgaps=False,
        name=look.title,
        **cells,
    )
    if look.outside is None or not look.outside.any():
        return [grey, shown]
    flagged = go.Heatmap(  # on top: a prediction outside the range, whatever the colourscale's end colour
        z=np.where(look.outside, 1, None).tolist(),
        zmin=0,
        zmax=1,
        colorscale=[[0.0, OUTSIDE_COLOR], [1.0, OUTSIDE_COLOR]],
        showscale=False,
        text=text,
        hovertemplate=f"{look.row_name} %{{y}}<br>{look.column_name} %{{x}}<br>{look.title} %{{text}}"
        "<br>outside the rating range<extra></extra>",
        hoverongaps=False,
        name=OUTSIDE_NAME,
        **cells,
    )
    return [grey, shown, flagged]


def _image_traces(M: np.ndarray, missing: np.ndarray, look: _Look) -> list:
    """A large matrix: colour-mapped here into one indexed PNG, and an empty scatter for the colour bar."""
    span = (look.zmax - look.zmin) or 1.0
    flagged = look.outside is not None and look.outside.any()
    top = 253 if flagged else 254  # the last palette entries: outside (when flagged), then missing
    palette = [_colorscale_lut(look.scale, top + 1)]
    if flagged:
        palette.append(np.array([_color_rgb(OUTSIDE_COLOR)], dtype=np.uint8))
    palette.append(np.array([_color_rgb(look.missing_color)], dtype=np.uint8))
    palette = np.vstack(palette)
    filled = np.where(missing, look.zmin, M)
    levels = np.clip(np.rint((filled - look.zmin) / span * top), 0, top).astype(np.uint8)
    if flagged:
        levels[look.outside & ~missing] = 254
    levels[missing] = 255
    traces = [
        go.Image(
            source=_palette_png(levels, palette),
            x0=1,
            dx=1,
            y0=1,
            dy=1,
            hovertemplate=f"{look.row_name} %{{y}}<br>{look.column_name} %{{x}}<extra></extra>",
            name=look.title,
        )
    ]
    if look.show_colorbar:
        # The image carries no values, so an empty scatter holds the colour bar.
        bar = dict(color=[look.zmin], cmin=look.zmin, cmax=look.zmax, colorscale=look.scale)
        traces.append(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                marker=dict(**bar, showscale=True, colorbar=look.colorbar),
                hoverinfo="skip",
                showlegend=False,
                name=look.title,
            )
        )
    return traces


def _square_cells(fig: go.Figure, n: int, d: int, title: str, show_colorbar: bool, any_missing: bool) -> go.Figure:
    """Square cells: both axes keep their ranges and give up plot area instead.

    The area is sized for a typical column width, a tall matrix capped so it stays on one
    screen. A narrow matrix moves next to its colour bar and "missing" swatch (they sit at
    the right).
    """
    beside = show_colorbar or any_missing
    fig.update_xaxes(constrain="domain", constraintoward="right" if beside else "center")
    fig.update_yaxes(constrain="domain", constraintoward="top", scaleanchor="x", scaleratio=1)
    # the plot area may end above the figure's bottom: the swatch goes just under the colour bar
    fig.update_layout(legend=dict(y=0.17 if show_colorbar else 1.0, yanchor="top"))
    style(fig, title, height=560)
    plot_height = float(np.clip(_SQUARE_PLOT_WIDTH * n / d, 160, 640))
    fig.update_layout(height=int(round(plot_height + fig.layout.margin.t + fig.layout.margin.b)))
    return fig


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
    axis_names: tuple[str, str] = ("user", "item"),
    outside: np.ndarray | None = None,
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
    axis_names : (str, str)
        What a row and a column are, for the axis titles and the hover: ``("user", "item")``;
        e.g. ``("user by activity", "item by ratings")`` for a corner of a large matrix
        (:mod:`dashboard.matrix_views`), whose positions are ranks, not row numbers.
    outside : ndarray of bool, shape (n, d), optional
        Cells to draw in :data:`OUTSIDE_COLOR` (with a legend entry :data:`OUTSIDE_NAME`) instead of
        the colourscale's end colour: e.g. predictions outside the rating range.

    Returns
    -------
    go.Figure
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2:
        raise ValueError(f"matrix_image expects a matrix of shape (users, items), got shape {M.shape}")
    n, d = M.shape
    missing = np.zeros((n, d), dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    if missing.shape != M.shape:
        raise ValueError(f"matrix_image: the missing mask has shape {missing.shape}, the matrix {M.shape}")
    missing = missing | ~np.isfinite(M)
    if outside is not None:
        outside = np.asarray(outside, dtype=bool)
        if outside.shape != M.shape:
            raise ValueError(f"matrix_image: the outside mask has shape {outside.shape}, the matrix {M.shape}")
        outside = outside & ~missing
    look = _Look(zmin, zmax, colorscale, missing_color, colorbar_title, show_colorbar, axis_names, outside)
    traces = _heatmap_traces(M, missing, look) if n * d <= HEATMAP_MAX_CELLS else _image_traces(M, missing, look)
    fig = go.Figure(traces)
    if missing.any():
        fig.add_trace(_legend_swatch("missing", missing_color))
    if outside is not None and outside.any():
        fig.add_trace(_legend_swatch(OUTSIDE_NAME, OUTSIDE_COLOR))
    fig.update_xaxes(title_text=axis_names[1], showgrid=False, zeroline=False, range=[0.5, d + 0.5])
    fig.update_yaxes(title_text=axis_names[0], showgrid=False, zeroline=False, range=[n + 0.5, 0.5])
    # the "missing" swatch sits under the colour bar
    fig.update_layout(legend=dict(x=1.02, xanchor="left", y=0, yanchor="bottom"), hovermode="closest")
    if square:
        return _square_cells(fig, n, d, title, show_colorbar, bool(missing.any()))
    # scaleanchor=False lifts the square-pixel constraint plotly.js puts on images: cells fill the width
    fig.update_yaxes(scaleanchor=False)
    return style(fig, title, height=int(np.clip(140 + 22 * n, 260, 560)))


#: The legend's name for mean coordinates never updated since the initialisation.
NO_DATA_NAME = "no data: mean kept from its initial value"


def _item_numbers(columns: np.ndarray, d: int, shape: tuple[int, int]) -> tuple[np.ndarray | None, str]:
    """The hover's item number of each drawn column: x itself when every item is drawn in order (no
    per-cell array to send), else a (K, c) int32 customdata. Returns (customdata or None, its placeholder)."""
    if columns.size == d and np.array_equal(columns, np.arange(d)):
        return None, "%{x}"
    return np.broadcast_to((columns + 1).astype(np.int32), shape), "%{customdata}"


#: Up to this many columns a heatmap of means draws a 1 px gap around every cell.
GAPPED_COLUMNS = 60


def _gaps(columns: int) -> dict:
    """A means heatmap's cell gaps: around every cell up to :data:`GAPPED_COLUMNS` columns; beyond,
    none, so plotly.js draws the heatmap as one image of a pixel per cell (its fast path, taken only
    without gaps) instead of painting every cell into a canvas and encoding that, ~0.2 s of a Step
    in chromium on netflix. :func:`means_heatmap` then draws the rows' gaps as lines."""
    gap = 1 if columns <= GAPPED_COLUMNS else 0
    return dict(xgap=gap, ygap=gap)


def _no_data_trace(no_data: np.ndarray, rows: list[str], columns: np.ndarray, d: int) -> dict:
    """The never-updated cells in :data:`~dashboard.figure_style.MISSING_COLOR`, over the means
    (``columns``: the item number, from 0, of each drawn column, of ``d`` items); the other cells are
    gaps (``null``: fewer bytes than a typed array's NaN, most cells being gaps)."""
    customdata, item = _item_numbers(columns, d, no_data.shape)
    trace = dict(
        type="heatmap",
        z=np.where(no_data, 1.0, None).tolist(),
        x0=1,
        dx=1,
        y=rows,
        colorscale=[[0, MISSING_COLOR], [1, MISSING_COLOR]],
        showscale=False,
        name=NO_DATA_NAME,
        hoverongaps=False,  # a cell with data under this layer hovers as the mean it is, not as "no data"
        hovertemplate=f"component %{{y}}<br>item {item}<br>no data: the mean kept its initial value<extra></extra>",
        **_gaps(no_data.shape[1]),
    )
    if customdata is not None:
        trace["customdata"] = typed(customdata)
    return trace


def means_heatmap(
    mu: np.ndarray,
    zmin: float = 1.0,
    zmax: float = 5.0,
    title: str = "",
    no_data: np.ndarray | None = None,
    flags: dict[int, str] | None = None,
    columns: np.ndarray | None = None,
) -> SpecFigure:
    """The cluster means as a K x items heatmap, component ``j=1`` on top.

    Built as a spec (:mod:`dashboard.plotly_spec`): a Step on the matrix page redraws it.

    Parameters
    ----------
    mu : ndarray of shape (K, d)
        Mean of each component (e.g. its mean rating of each item).
    zmin, zmax : float
        The value range the colourscale spans.
    title : str
    no_data : ndarray of bool, shape (K, d), optional
        Mean coordinates never updated since the initialisation
        (:attr:`em_core.diagnostics.CollapseReport.kept_from_init`): drawn grey as "no data",
        never in the colour of a rating, with a legend entry :data:`NO_DATA_NAME`.
    flags : dict of int to str, optional
        A short note per component (0-based), appended to its row label, e.g. ``{2: "collapsed"}``.
    columns : ndarray of int, optional
        The items to draw, in order (e.g. :func:`dashboard.matrix_views.corner`'s most rated); the
        x axis then counts them and says how many of how many, and the hover names each real item.
        ``None``: every item.

    Returns
    -------
    SpecFigure
    """
    mu = np.asarray(mu, dtype=float)
    if mu.ndim != 2:
        raise ValueError(f"means_heatmap expects means of shape (K, items), got shape {mu.shape}")
    K, d = mu.shape
    if no_data is not None and np.shape(no_data) != (K, d):
        raise ValueError(f"means_heatmap: no_data has shape {np.shape(no_data)}, expected (K, items) = {(K, d)}")
    flags = flags or {}
    rows = [f"j={j + 1}" + (f" ({flags[j]})" if j in flags else "") for j in range(K)]
    columns = np.arange(d) if columns is None else np.asarray(columns, dtype=int)
    x_title = "item" if columns.size == d else f"item (rank by ratings: the {columns.size:,} most rated of {d:,})"
    mu = mu[:, columns]
    no_data = None if no_data is None else np.asarray(no_data, dtype=bool)[:, columns]
    customdata, item = _item_numbers(columns, d, (K, columns.size))
    all_items = d
    d = columns.size
    # to 3 decimals, sent as float32 (half the bytes; a mean rating needs no more) when float32 holds every
    # value; means beyond its range (an upload of huge values) go as float64, a non-finite one as a gap
    rounded = np.round(mu, 3)
    finite = np.isfinite(rounded)
    fits = finite.all() and np.abs(rounded).max(initial=0.0) < np.finfo(np.float32).max
    means = dict(
        type="heatmap",
        z=typed(rounded, "float32") if fits else np.where(finite, rounded, None).tolist(),
        x0=1,
        dx=1,
        y=rows,
        zmin=zmin,
        zmax=zmax,
        colorscale=_validated_colorscale("Viridis"),
        colorbar=dict(title=dict(text="mean"), thickness=14),
        hovertemplate=f"component %{{y}}<br>item {item}<br>mean %{{z:.2f}}<extra></extra>",
        **_gaps(d),
    )
    if customdata is not None:
        means["customdata"] = typed(customdata)
    traces = [means]
    layout = style_layout(title, height=int(np.clip(110 + 30 * K, 220, 480)))
    if no_data is not None and np.any(no_data):
        traces += [_no_data_trace(no_data, rows, columns, all_items), _legend_swatch(NO_DATA_NAME, MISSING_COLOR)]
        layout["legend"] = dict(layout["legend"], orientation="h", yanchor="bottom", y=1.02, x=1, xanchor="right")
    layout.update(
        xaxis=dict(title=dict(text=x_title), showgrid=False, zeroline=False),
        yaxis=dict(title=dict(text="component"), showgrid=False, autorange="reversed", type="category"),
    )
    if d > GAPPED_COLUMNS:  # the rows' white gaps as lines over the heatmap (see _gaps)
        line = dict(color="white", width=1)
        layout["shapes"] = [
            dict(type="line", xref="x", yref="y", x0=0.5, x1=d + 0.5, y0=j - 0.5, y1=j - 0.5, line=line)
            for j in range(1, K)
        ]
    return SpecFigure(traces, layout)


# ----------------------------------------------------------------------------- histograms


def _finite_values(values: np.ndarray) -> np.ndarray:
    """The finite ones of ``values`` (any shape), flattened."""
    values = np.asarray(values, dtype=float).ravel()
    return values[np.isfinite(values)]


def _binned_bars(centres: np.ndarray, counts: np.ndarray, edges: np.ndarray, hover: str) -> go.Bar:
    """Touching bars over the bins ``edges`` (hover ``hover`` reads ``customdata`` = the bin's edges)."""
    return go.Bar(
        x=centres,
        y=counts,
        width=np.diff(edges),
        customdata=np.column_stack([edges[:-1], edges[1:]]),
        marker=dict(color=BAR_COLOR, line=dict(color="white", width=0.5)),
        hovertemplate=hover,
    )


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
    values = _finite_values(values)
    if values.size == 0:
        return empty_figure("No observed values", title)
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
        hover = "%{customdata[0]:.3g} to %{customdata[1]:.3g}<br>%{y:,} entries<extra></extra>"
        fig = go.Figure(_binned_bars((edges[:-1] + edges[1:]) / 2, counts, edges, hover))
    fig.update_xaxes(title_text="value")
    fig.update_yaxes(title_text="entries", rangemode="tozero")
    fig.update_layout(showlegend=False, bargap=0.15 if distinct.size <= 20 else 0)
    return style(fig, title, height=300)


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
    errors = _finite_values(errors)
    if errors.size == 0:
        return empty_figure("No missing entries to score", title)
    extent = float(np.abs(errors).max()) or 0.5
    per_side = int(np.clip(np.sqrt(errors.size) / 2, 5, 30))
    edges = np.linspace(-extent, extent, 2 * per_side + 1)
    counts, _ = np.histogram(errors, bins=edges)
    hover = "error %{customdata[0]:.2f} to %{customdata[1]:.2f}<br>%{y:,} entries<extra></extra>"
    bars = _binned_bars((edges[:-1] + edges[1:]) / 2, counts, edges, hover)
    bars.showlegend = False
    fig = go.Figure(bars)
    fig.add_vline(x=0, line=dict(color="#333", width=1.5, dash="dash"))
    fig.update_xaxes(title_text="predicted − gold", zeroline=False)
    fig.update_yaxes(title_text="entries", rangemode="tozero")
    fig.update_layout(bargap=0)
    return style(fig, title, height=300)
