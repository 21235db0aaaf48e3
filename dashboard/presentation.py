"""Presentation mode: the stepping pages sized for a projector (1280x720 at 100 %).

A sidebar toggle (key ``present``), switched on by a link with ``?present=1``. In presentation
mode the charts' text is at least :data:`FONT_PX` px, the main chart is sized so that the step
buttons and the whole chart fit in 720 px, the captions and the step log are left out, and
button labels wrap instead of being cut ("Run to convergence", not "Run to conver…").
"""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

#: Session key of the toggle, and the link's query parameter that switches it on.
KEY = "present"
#: The smallest chart text in presentation mode, in CSS px.
FONT_PX = 18
#: Height of the main chart in presentation mode, in CSS px (buttons and chart within 720 px).
CHART_HEIGHT = 390
#: The height the scrub slider takes (label hidden), held before it appears: no layout jump.
SLIDER_HEIGHT = 40
#: The narration's fixed height in presentation mode (two lines of text), in CSS px.
NARRATION_HEIGHT = 56
#: The M-step's arrows from the ghost means to the new ones, in CSS px (1.5 off a projector).
ARROW_WIDTH = 3.5
#: The 2-D pages' columns in presentation mode: the points chart takes most of the width, the curve the rest.
COLUMNS = (3, 1)

#: The keys of the stepping buttons (:data:`dashboard.controls.SHORTCUTS`), shown in presentation mode.
KEYS_LEGEND = "**Keys:** `E` E-step (Assign) · `M` M-step (Update) · `S` Step · `P` Play/Pause"

# The header is made see-through (its buttons stay: the sidebar's toggle, the menu): opaque, it hid the title.
_CSS = """
<style>
[data-testid="stHeader"] { background: transparent; }
[data-testid="stMainBlockContainer"] { padding: 2.2rem 1.5rem 1rem 1.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 1.6rem; padding: 0 0 0.2rem 0; }
[data-testid="stMain"] [data-testid="stCaptionContainer"] { display: none; }
.stButton button p { white-space: normal; overflow: visible; text-overflow: clip; line-height: 1.15; }
/* a phone (Streamlit stacks columns under 640 px): the step buttons three to a row, so the chart stays on screen */
@media (max-width: 640px) {
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stButton) { flex-wrap: wrap; gap: 0.5rem; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has(.stButton) > [data-testid="stColumn"] {
    min-width: calc(33% - 0.5rem) !important; flex: 1 1 calc(33% - 0.5rem) !important; width: auto !important;
  }
  /* the status line keeps its "Play by half-steps" toggle beside it, not on a row of its own */
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_play_halves"]) { flex-wrap: nowrap; }
  [data-testid="stMain"] [data-testid="stHorizontalBlock"]:has([class*="_play_halves"]) > [data-testid="stColumn"] {
    min-width: 0 !important;
  }
}
</style>
"""


def enabled() -> bool:
    """The sidebar toggle (on when the link says ``present=1``); writes the mode's styles when on."""
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
        st.sidebar.markdown(KEYS_LEGEND)
    return on


def is_on() -> bool:
    """Whether presentation mode is on (without drawing the toggle; before it is drawn, as the link says)."""
    return bool(st.session_state.get(KEY, st.query_params.get(KEY) == "1"))


def sized(fig: go.Figure, height: int = CHART_HEIGHT) -> go.Figure:
    """``fig`` for a projector: every text at least :data:`FONT_PX` px, the given height, no legend
    (the on-plot labels name the components)."""
    fig.update_layout(
        font=dict(size=FONT_PX),
        title=dict(font=dict(size=FONT_PX + 4)),
        height=height,
        showlegend=False,
        margin=dict(l=60, r=20, t=50, b=50),
    )
    fig.update_xaxes(tickfont=dict(size=FONT_PX), title_font=dict(size=FONT_PX))
    fig.update_yaxes(tickfont=dict(size=FONT_PX), title_font=dict(size=FONT_PX))
    fig.update_annotations(font_size=FONT_PX)
    fig.update_traces(textfont_size=FONT_PX, selector=dict(type="scatter"))
    fig.for_each_annotation(lambda note: note.update(arrowwidth=ARROW_WIDTH) if note.showarrow else None)
    return fig
