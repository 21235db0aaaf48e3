"""The K-means-beside-EM page's fit pair: kept in the session, stepped by one set of controls.

The pair is em_core's :class:`~em_core.lockstep.Lockstep`; a change of data set, K, seed or start
begins a new pair (and says so). Widget keys start with :data:`PREFIX`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import streamlit as st

from dashboard import presentation
from dashboard.figure_style import legend_below
from dashboard.fits import INITS
from dashboard.session import Settings, content_key
from em_core import DataError, lockstep

PREFIX = "sbs"
#: The ways the pair can start, as the 2-D EM page names them.
STARTS = INITS
_SLOT = "side_by_side"


class PairKey(NamedTuple):
    """What the pair was started with: a change of any of it starts a new pair."""

    content: str
    K: int
    seed: int
    start: str
    means: tuple | None  # the placed means (start "hand"), hashable


@dataclass
class PairSlot:
    key: PairKey
    algorithms: lockstep.Algorithms
    pair: lockstep.Lockstep
    playing: bool = False
    error: str | None = None
    notice: str | None = None


def _init_with(key: PairKey):
    return np.array(key.means, dtype=float) if key.start == "hand" else key.start


def get_pair(s: Settings, start: str, means: np.ndarray | None) -> PairSlot:
    """The session's pair for these settings; a new one (with a notice) when they changed.

    Raises
    ------
    DataError
        When the start cannot be made (placed means that do not fit the data or K).
    """
    placed = tuple(map(tuple, means.tolist())) if start == "hand" and means is not None else None
    key = PairKey(content_key(s), s.K, s.seed, start, placed)
    slot = st.session_state.get(_SLOT)
    if slot is None or slot.key != key:
        placed_count = 0 if placed is None else len(placed)
        if start == "hand" and placed_count != s.K:
            raise DataError(
                f"{placed_count} means are placed and K is {s.K}: place {s.K} on the page Your own points"
                + (f", or set K to {placed_count}" if placed_count else "")
            )
        pair = lockstep.start(s.dataset.X, s.K, s.seed, _init_with(key))
        notice = None if slot is None else f"Started again from {STARTS[start]}: the settings changed."
        slot = PairSlot(key, lockstep.Algorithms(), pair, notice=notice)
        st.session_state[_SLOT] = slot
    return slot


def act(slot: PairSlot, X: np.ndarray, action: str) -> None:
    """Widget callback: "step" both fits, or "reset" them to iteration 0."""
    slot.error = slot.notice = None
    if action == "reset":
        slot.pair = lockstep.start(X, slot.key.K, slot.key.seed, _init_with(slot.key))
        slot.playing = False
    else:
        try:
            slot.pair = lockstep.step(slot.algorithms, X, slot.pair)
        except DataError as err:
            slot.error, slot.playing = str(err), False
    if slot.pair.converged:
        slot.playing = False
    st.session_state[f"{PREFIX}_view"] = slot.pair.iteration


def set_play(slot: PairSlot, playing: bool) -> None:
    slot.playing = playing


def buttons(slot: PairSlot, X: np.ndarray) -> None:
    """Step both / Play / Reset, and what went wrong or reset the pair."""
    done = slot.pair.converged
    step, play, reset = st.columns(3)
    step.button(
        "Step both",
        key=f"{PREFIX}_step",
        on_click=act,
        args=(slot, X, "step"),
        disabled=done,
        type="primary",
        width="stretch",
        help="One iteration of each: K-means assigns and updates, EM does an E-step and an M-step",
        shortcut="S" if presentation.is_on() else None,
    )
    play.button(
        "Pause" if slot.playing else "Play",
        key=f"{PREFIX}_play",
        on_click=set_play,
        args=(slot, not slot.playing),
        disabled=done and not slot.playing,
        icon=":material/pause:" if slot.playing else ":material/play_arrow:",
        width="stretch",
        shortcut="P" if presentation.is_on() else None,
    )
    reset.button(
        "Reset",
        key=f"{PREFIX}_reset",
        on_click=act,
        args=(slot, X, "reset"),
        icon=":material/restart_alt:",
        width="stretch",
    )
    if slot.notice:
        st.info(slot.notice, icon=":material/restart_alt:")
    if slot.error:
        st.error(slot.error, icon=":material/error:")


def scrub(slot: PairSlot) -> int:
    """The slider back through the steps taken (none before the first); returns the step to show."""
    last = slot.pair.iteration
    key = f"{PREFIX}_view"
    if key not in st.session_state or not 0 <= st.session_state[key] <= last:
        st.session_state[key] = last
    if last == 0:
        if presentation.is_on():  # hold the slider's place: the charts do not move down when it comes
            st.container(height=presentation.SLIDER_HEIGHT, border=False, key=f"{PREFIX}_view_space")
        return 0
    return st.slider(
        "Show step",
        min_value=0,
        max_value=last,
        key=key,
        label_visibility="collapsed",
        help="Scrub back through the steps: both charts and the curves' markers follow.",
    )


def status_line(pair: lockstep.Lockstep, shown: int) -> str:
    """``Step 3 of 7 · K-means converged after 4 · EM running``."""

    def where(state, name: str) -> str:
        return (
            f"{name} converged after {state.iteration}" if state.converged else f"{name} at iteration {state.iteration}"
        )

    head = f"**Step {shown}**" + (f" of {pair.iteration}" if shown != pair.iteration else "")
    return " · ".join([head, where(pair.kmeans, "K-means"), where(pair.em, "EM")])


#: The height of each of the two scatter charts: both fit beside each other under the controls at 1280 x 720.
CHART_HEIGHT = 430


def compact(figure, height: int = CHART_HEIGHT, present: bool = False):
    """A chart of the page: its legend below the plot, ``height`` pixels tall; ``present``: one of
    the two points charts on a projector (:func:`dashboard.presentation.sized`)."""
    if present:
        return presentation.sized(figure, "points", height=presentation.PAIR_HEIGHT)
    if figure.layout.showlegend is not False:
        legend_below(figure)
    figure.update_layout(height=height)
    return figure
