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
    log_sentences(slot)  # the latest control's entries are the log's newest
    return [_sentence(slot, entry) for entry in slot.last[-LATEST:]]


def _sentence(slot: fits.FitSlot, entry) -> str:
    found = slot.sentences.get(id(entry))
    return found[1] if found is not None and found[0] is entry else entry.sentence


def log_sentences(slot: fits.FitSlot) -> list[str]:
    """The sentence of every entry of the fit's log, oldest first, each entry's written once: a Step adds
    two entries, and the log shows them all again on every run (rewriting every sentence on every click
    was 8 % of a demo-2d click's server time, under the lock all sessions share)."""
    # each entry held beside its sentence, so that its id cannot pass to another entry
    slot.sentences = {id(entry): (entry, _sentence(slot, entry)) for entry in slot.log}
    return [sentence for _, sentence in slot.sentences.values()]


def show(slot: fits.FitSlot, prefix: str, beside: bool = False) -> None:
    """Write the latest sentences and, once there is one, the scrollable step log (newest on top).

    ``beside``: in the narrow column beside a presentation's points chart (three lines, not two).
    Element keys: ``{prefix}_narration`` (the latest sentences), ``{prefix}_log`` (the log).
    """
    present = presentation.is_on()
    latest = latest_sentences(slot)[-1:] if present else latest_sentences(slot)
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
        lines = "\n".join(f"- {sentence}" for sentence in reversed(log_sentences(slot)))
        st.container(height=LOG_HEIGHT, key=f"{prefix}_log").markdown(lines)
