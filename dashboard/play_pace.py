"""Play's share of a server: every fit playing in one server process takes turns within a CPU budget.

A Play frame is a page's run like a click's, and a class plays a lot: with one action in ten a Play of
6-12 s, half of what a demo-2d server ran for 50 students was Play frames, and they took Step's p95 from
0.35 s (nobody playing) to 0.65-2.2 s (benchmarks/load_sessions.py, one process, 2026-12-01). A student
who clicks waits; a fit that plays only plays slower. So the frames of all the fits playing in a process
take turns: a frame's turn lasts its CPU cost divided by :data:`SHARE` (the cost measured, a moving
average of the process's recent frames), turns follow one another, and a frame whose turn has not come
sleeps until it does (a sleep holds no CPU and no lock; the session's timer ticks meanwhile fold into
one pending rerun, see :mod:`dashboard.controls`). Play frames then use at most :data:`SHARE` of a core
between them, and the rest is the clicks'.

A fit playing alone never waits for its own previous turn, so it plays at the pace of its timer
(:data:`~dashboard.limits.PLAY_INTERVAL`) whatever its frames cost; with others playing, each waits for
the turns booked before its own (ten demo-2d fits at once: a turn of 0.2 s each, a frame every 2 s). A
wait never exceeds :data:`~dashboard.controls.MAX_PLAY_WAIT`, so Pause answers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

#: The share of one core that the Play frames of one server process use between them, at most.
SHARE = 0.15
#: What a frame is taken to cost (CPU seconds) before one has been measured: a demo-2d frame.
INITIAL_COST = 0.03
#: Weight of the newest frame in the moving average of the cost.
SMOOTHING = 0.2


class Pace:
    """The turns of the Play frames of one process (:func:`book` before a frame, :func:`record` after)."""

    def __init__(
        self, share: float = SHARE, cost: float = INITIAL_COST, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.share = share
        self.cost = cost
        self._clock = clock
        self._next_turn = float("-inf")
        self._last_fit: object = None
        self._lock = threading.Lock()

    @property
    def turn(self) -> float:
        """Seconds one frame's turn lasts: its estimated CPU cost over :attr:`share`."""
        return self.cost / self.share

    def book(self, fit: object = None) -> float:
        """Book the next free turn for a frame of ``fit`` (any hashable identity) about to run; returns the
        seconds until it starts (0 when free). A fit that booked the last turn too is alone: it starts now."""
        with self._lock:
            now = self._clock()
            alone = fit is not None and fit == self._last_fit
            start = now if alone else max(now, self._next_turn)
            self._next_turn = start + self.turn
            self._last_fit = fit
            return start - now

    def record(self, cpu_seconds: float) -> None:
        """A frame's measured CPU seconds, folded into the cost of the turns booked after it."""
        if cpu_seconds >= 0:
            with self._lock:
                self.cost += SMOOTHING * (cpu_seconds - self.cost)


#: The process's pace: every page's Play shares it.
PACE = Pace()
