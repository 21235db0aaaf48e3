"""The heavy work one click starts: bounded in time, and stopped when its session goes away.

A :class:`WorkLimit` is em_core's ``should_stop`` hook (asked between runs and iterations). Each
time it is asked it may update its progress bar; every element update is where Streamlit stops a
script whose session was closed or asked for a rerun (a new click), so a closed tab ends the work
within one iteration. After :data:`~dashboard.limits.WORK_SECONDS` it answers True: em_core ends
the work there and returns what finished, and the page says so with :meth:`WorkLimit.message`.
"""

from __future__ import annotations

import time

import streamlit as st

from dashboard.limits import WORK_SECONDS

#: Seconds between two updates of the progress bar (each one lets Streamlit stop the work).
PROGRESS_INTERVAL = 0.2
#: Work shorter than this shows no progress bar at all (a Step, a cached result).
QUIET_SECONDS = 0.5


class WorkLimit:
    """``should_stop`` for one click's work: True once ``seconds`` (:data:`WORK_SECONDS`) have passed.

    ``what`` is the progress bar's text; :meth:`progress` sets how far the work is (0..1) and what
    it is doing now. The bar appears after :data:`QUIET_SECONDS` of work and goes with :meth:`done`.
    """

    def __init__(self, what: str, seconds: float | None = None) -> None:
        self.what = what
        self.seconds = float(WORK_SECONDS if seconds is None else seconds)
        self.started = time.monotonic()
        self.stopped = False
        self._fraction = 0.0
        self._bar = None
        self._shown = self.started

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def progress(self, fraction: float, text: str | None = None) -> None:
        """How far the work is (0..1), and what it is doing now."""
        self._fraction = min(max(float(fraction), 0.0), 1.0)
        if text is not None:
            self.what = text
        self._show(force=True)

    def _show(self, force: bool = False) -> None:
        now = time.monotonic()
        if now - self.started < QUIET_SECONDS or (not force and now - self._shown < PROGRESS_INTERVAL):
            return
        self._shown = now
        text = f"{self.what} ({now - self.started:.0f} s of at most {self.seconds:.0f} s)"
        if self._bar is None:
            self._bar = st.empty()
        self._bar.progress(self._fraction, text=text)  # where Streamlit stops a closed session's work

    def __call__(self) -> bool:
        self._show()
        self.stopped = self.stopped or self.elapsed > self.seconds
        return self.stopped

    def done(self) -> None:
        """Remove the progress bar."""
        if self._bar is not None:
            self._bar.empty()
            self._bar = None

    def message(self, partial: str) -> str:
        """What the page says when the limit stopped the work: ``partial`` names what is shown."""
        return f"Stopped after {self.elapsed:.0f} s (the limit of one click's work is {self.seconds:.0f} s): {partial}."
