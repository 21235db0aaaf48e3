"""The narration under the stepping buttons: what the latest control did, in one sentence per
half-step, and the step log the student can scroll back through.

Every sentence is em_core's (:mod:`em_core.narration`); the fit keeps its entries
(:attr:`dashboard.fits.FitSlot.log`, bounded by :data:`dashboard.fits.LOG_LIMIT`).
"""

from __future__ import annotations

import streamlit as st

from dashboard import fits, presentation

#: The latest control's sentences shown under the buttons (a Run narrates its last iteration).
LATEST = 2
#: Height of the scrollable log, in CSS px.
LOG_HEIGHT = 180


def latest_sentences(slot: fits.FitSlot) -> list[str]:
    """The sentences of the latest control (at most :data:`LATEST`, the newest last)."""
    return [entry.sentence for entry in slot.last[-LATEST:]]


def sentences_of(slot: fits.FitSlot, iteration: int) -> list[str]:
    """The sentences of ``iteration``'s E-step and M-step, as the log keeps them (none for iteration 0, or
    once the log has dropped them)."""
    return [entry.sentence for entry in slot.log if entry.iteration == iteration]


def show(slot: fits.FitSlot, prefix: str, beside: bool = False, showing: int | None = None) -> None:
    """Write the latest sentences and, once there is one, the scrollable step log (newest on top).

    ``beside``: in the narrow column beside a presentation's points chart (three lines, not two).
    ``showing``: an earlier iteration the view was scrubbed back to; its own sentences stand under the
    buttons, where the latest control's would.
    Element keys: ``{prefix}_narration`` (the latest sentences), ``{prefix}_log`` (the log).
    """
    present = presentation.is_on()
    latest = latest_sentences(slot) if showing is None else sentences_of(slot, showing)
    latest = latest[-1:] if present else latest
    # on a projector the sentence has a fixed place, so the chart below never moves
    height = "content"
    if present:
        height = presentation.SIDE_NARRATION_HEIGHT if beside else presentation.NARRATION_HEIGHT
    with st.container(key=f"{prefix}_narration", height=height, border=False):
        for sentence in latest:
            st.markdown(sentence)
    if not slot.log or presentation.is_on():  # on a projector the latest sentence is enough
        return
    # a constant label: Streamlit keeps an expander open across reruns only while its label stays
    with st.expander("Step log (newest first)"):
        lines = "\n".join(f"- {entry.sentence}" for entry in reversed(slot.log))
        st.container(height=LOG_HEIGHT, key=f"{prefix}_log").markdown(lines)
