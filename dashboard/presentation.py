"""Presentation mode: the stepping pages sized for a projector (1280x720 at 100 %).

A sidebar toggle (key ``present``), switched on by a link with ``?present=1``. In presentation
mode the charts' text is at least :data:`FONT_PX` px, the step buttons and the main chart fit in
720 px, the captions and the step log are left out, and button labels wrap instead of being cut
("Run to convergence", not "Run to conver…").

The 2-D pages lay out as :func:`beside` says: under the buttons, the points chart on the left,
as tall as the screen allows and as wide as its data's equal scaling needs; on the right the
chart's title, the status line, the narration, the scrub slider, the score curve and the keys.
Other pages call :func:`size` on their charts (a row of charts under the stepping block).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard.figure_style import padded_range

#: Session key of the toggle, and the link's query parameter that switches it on.
KEY = "present"
#: The smallest chart text in presentation mode, in CSS px.
FONT_PX = 18
#: Height of a chart in a row under the stepping block (:func:`size`'s role ``"row"``), in CSS px.
CHART_HEIGHT = 390
#: The 2-D pages' points chart (role ``"main"``): from under the buttons (141 px down) to the screen's foot.
MAIN_HEIGHT = 572
#: Its margins: room for 18 px tick labels and axis titles; no title (it heads the column beside).
MAIN_MARGIN = dict(l=62, r=6, t=6, b=50)
#: The score curve in the column beside the points chart (role ``"side"``).
SIDE_HEIGHT = 230
SIDE_MARGIN = dict(l=96, r=10, t=6, b=50)
#: The width the main block gives a row of two columns at 1280 px (1280 − 2 × 1.5 rem − the 1 rem gap).
ROW_WIDTH = 1216
#: The points chart's share of that row: at least half, at most three quarters.
MAIN_SHARE = (0.5, 0.75)
#: The height the scrub slider takes (label hidden), held before it appears: no layout jump.
SLIDER_HEIGHT = 40
#: The narration's fixed height in presentation mode (two lines of text), in CSS px.
NARRATION_HEIGHT = 56
#: Beside the points chart the narration has three lines of the column's width.
SIDE_NARRATION_HEIGHT = 84
#: The M-step's arrows from the ghost means to the new ones, in CSS px (1.5 off a projector).
ARROW_WIDTH = 3.5


def keys_legend(half_labels: tuple[str, str]) -> str:
    """The keys of the stepping buttons (:data:`dashboard.controls.SHORTCUTS`), shown in presentation mode,
    with the half-steps named as the page's method names them (K-means: Assign, Update)."""
    return f"**Keys:** `E` {half_labels[0]} · `M` {half_labels[1]} · `S` Step · `P` Play/Pause · `←` `→` scrub"


# The header is made see-through (its buttons stay: the sidebar's toggle, the menu): opaque, it hid the title.
_CSS = """
<style>
[data-testid="stHeader"] { background: transparent; }
[data-testid="stMainBlockContainer"] { padding: 2.2rem 1.5rem 1rem 1.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; padding: 0 0 0.2rem 0; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { display: none; }
.stButton button p { white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.15; }
/* the narration is read by the room: projector-sized text */
[data-testid="stMain"] [class*="_narration"] p { font-size: 18px; line-height: 1.4; }
/* the column beside the points chart: its parts close together, so the score curve fits too */
[data-testid="stMain"] [class*="_beside"] { gap: 0.45rem; }
[data-testid="stMain"] [class*="_beside"] p { margin-bottom: 0; }
/* a phone (Streamlit stacks columns under 640 px): the step buttons three to a row, so the chart stays on screen */
@media (max-width: 640px) {
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stButton) { flex-wrap: wrap; gap: 0.5rem; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stButton) > [data-testid="stColumn"] {
    min-width: calc(33% - 0.5rem) !important; flex: 1 1 calc(33% - 0.5rem) !important; width: auto !important;
  }
  /* the points chart over the column beside it, each the screen's width */
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_beside"]) { flex-direction: column; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_beside"]) > [data-testid="stColumn"] {
    width: 100% !important; flex: 1 1 auto !important;
  }
  /* the status line keeps its "Play by half-steps" toggle beside it, not on a row of its own */
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_play_halves"]) { flex-wrap: nowrap; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_play_halves"]) > [data-testid="stColumn"] {
    min-width: 0 !important;
  }
}
</style>
"""


def enabled(keys: str | None = None) -> bool:
    """The sidebar toggle (on when the link says ``present=1``); writes the mode's styles and, under
    the toggle, the page's ``keys`` when on."""
    if KEY not in st.session_state:
        st.session_state[KEY] = st.query_params.get(KEY) == "1"
        if st.session_state[KEY]:  # opened by a link: the room sees the page, the toggle stays reachable
            st.set_page_config(initial_sidebar_state="collapsed")
    on = st.sidebar.toggle(
        "Presentation mode",
        key=KEY,
        help="For a projector: large chart text, the buttons and the main chart on one 1280x720 screen.",
    )
    if on:
        st.html(_CSS)
        if keys:
            st.sidebar.markdown(keys)
    return on


def is_on() -> bool:
    """Whether presentation mode is on (without drawing the toggle; before it is drawn, as the link says)."""
    return bool(st.session_state.get(KEY, st.query_params.get(KEY) == "1"))


class Beside(NamedTuple):
    """The 2-D pages' row in presentation mode (:func:`beside`)."""

    main: DeltaGenerator  # the points chart
    side: DeltaGenerator  # the stepping block's status, narration and slider, then the score curve
    heading: DeltaGenerator  # the first line of ``side``: the points chart's title


def main_share(X: np.ndarray) -> float:
    """The share of a 1280 px row the points chart takes: the width its plot area needs at
    :data:`MAIN_HEIGHT` for the data's equal scaling, within :data:`MAIN_SHARE`.

    Parameters
    ----------
    X : ndarray of shape (n, 2)
    """
    X = np.asarray(X, dtype=float)
    x_range, y_range = padded_range(X[:, 0]), padded_range(X[:, 1])
    plot_height = MAIN_HEIGHT - MAIN_MARGIN["t"] - MAIN_MARGIN["b"]
    aspect = 1.0 if x_range is None or y_range is None else np.ptp(x_range) / np.ptp(y_range)
    width = plot_height * aspect + MAIN_MARGIN["l"] + MAIN_MARGIN["r"]
    low, high = MAIN_SHARE
    return float(np.clip(width / ROW_WIDTH, low, high))


def beside(X: np.ndarray, prefix: str) -> Beside:
    """The row under the stepping buttons: the points chart, and the column beside it (keyed
    ``{prefix}_beside``). On a phone Streamlit stacks them, the chart first."""
    share = main_share(X)
    main, right = st.columns([share, 1 - share], gap="medium")
    side = right.container(key=f"{prefix}_beside")
    return Beside(main, side, side.empty())


class _Role(NamedTuple):
    height: int
    margin: dict
    titled: bool  # the figure keeps its title
    fill: bool  # equal scaling widens an axis's range to fill the plot area (no empty band beside it)


#: The two points charts side by side under the K-means-beside-EM page's controls.
PAIR_HEIGHT = 515

_ROW_MARGIN = dict(l=60, r=20, t=50, b=50)
_ROLES = {
    "main": _Role(MAIN_HEIGHT, MAIN_MARGIN, titled=False, fill=True),
    # no room above the score curve for a title (the axis names it): the empty curve's "log-likelihood" was cut
    "side": _Role(SIDE_HEIGHT, SIDE_MARGIN, titled=False, fill=False),
    "row": _Role(CHART_HEIGHT, _ROW_MARGIN, titled=True, fill=False),
    "points": _Role(CHART_HEIGHT, dict(l=62, r=6, t=44, b=50), titled=True, fill=True),
}


def size(fig: go.Figure, role: str = "row", height: int | None = None) -> go.Figure:
    """``fig`` for a projector when presentation mode is on (as it is otherwise): every text at
    least :data:`FONT_PX` px, no legend (on-plot labels name the components), the M-step's arrows
    :data:`ARROW_WIDTH` wide, and the size of its ``role``:

    ``"main"``
        the 2-D pages' points chart: :data:`MAIN_HEIGHT` tall, no title (:func:`beside` heads the
        column beside it with it), its plot area filling the box (equal scaling widens the range
        of the axis with room to spare, rather than leaving the room empty);
    ``"side"``
        the score curve beside it, :data:`SIDE_HEIGHT` tall;
    ``"row"``
        a chart in a row under the stepping block, :data:`CHART_HEIGHT` tall;
    ``"points"``
        a points chart in such a row (K-means beside EM's two, the matrix page's users map): its
        title kept, its plot area filling the box as ``"main"``'s does.

    ``height`` replaces the role's height. Returns a new figure of ``fig``'s class, made from its
    spec (``fig.to_dict()``), and leaves ``fig`` as it was: a cached figure can be sized where it is
    shown, e.g. ``chart(presentation.size(curve), "emx_ll")``. A figure kept as its spec (not yet
    validated, as :mod:`dashboard.plotly_spec` builds them) stays so: nothing here looks inside it.
    """
    if not is_on():
        return fig
    return sized(fig, role, height)


def sized(fig: go.Figure, role: str = "row", height: int | None = None) -> go.Figure:
    """:func:`size` whatever the mode."""
    kind = _ROLES[role]
    spec = fig.to_dict()
    data = [_sized_trace(trace) for trace in spec.get("data", [])]
    layout = dict(spec.get("layout", {}), height=height or kind.height, showlegend=False, margin=dict(kind.margin))
    layout["font"] = dict(layout.get("font", {}), size=FONT_PX)
    title = _as_dict(layout.get("title"))
    layout["title"] = dict(title, font=_font(title, size=FONT_PX + 4)) if kind.titled else dict(title, text="")
    for name in _axis_names(layout, data):
        axis = dict(layout.get(name, {}))
        axis["tickfont"] = _font(axis, "tickfont")
        axis_title = _as_dict(axis.get("title"))
        axis["title"] = dict(axis_title, font=_font(axis_title))
        if kind.fill:
            axis["constrain"] = "range"
        layout[name] = axis
    if layout.get("annotations"):
        layout["annotations"] = [_sized_note(note) for note in layout["annotations"]]
    return type(fig)(data, layout)


def _as_dict(title) -> dict:
    """A title as plotly's spec writes it (a bare string is its text)."""
    return dict(text=title) if isinstance(title, str) else dict(title or {})


def _font(parent: dict, key: str = "font", size: int = FONT_PX) -> dict:
    """``parent[key]`` (a font) at least ``size`` px."""
    font = dict(parent.get(key) or {})
    font["size"] = max(font.get("size") or 0, size)
    return font


def _sized_trace(trace: dict) -> dict:
    """A scatter trace's text (the components' on-plot labels) at :data:`FONT_PX` px."""
    if trace.get("type", "scatter") != "scatter":
        return trace
    return dict(trace, textfont=dict(trace.get("textfont") or {}, size=FONT_PX))


def _sized_note(note: dict) -> dict:
    """An annotation's text at :data:`FONT_PX` px; an arrow (the M-step's) :data:`ARROW_WIDTH` wide."""
    note = dict(note, font=dict(note.get("font") or {}, size=FONT_PX))
    if note.get("showarrow"):
        note["arrowwidth"] = ARROW_WIDTH
    return note


def _axis_names(layout: dict, data: list[dict]) -> list[str]:
    """The figure's axes (``xaxis``, ``yaxis2`` ...), as the layout names them; at least the first pair."""
    names = {"xaxis", "yaxis"} | {name for name in layout if name.startswith(("xaxis", "yaxis"))}
    for trace in data:
        for axis in ("xaxis", "yaxis"):
            ref = trace.get(axis)
            if ref:
                names.add(axis + ref[1:])
    return sorted(names)
