"""Play's share of a busy server: the fits playing in one server process take turns when it is busy.

A Play frame is a page's run like a click's, and a class plays a lot: with one action in ten a Play of
6-12 s, half of what a demo-2d server ran for 100 students was Play frames, and 50 students on one
process waited 0.65-2.2 s for a Step at p95 where they waited 0.35 s with nobody playing
(benchmarks/load_sessions.py, 2026-12-01). A student who clicks waits; a fit that plays only plays
slower. So while the process is busy (its threads used at least :data:`BUSY` of a core over the last
:data:`WINDOW` seconds), the frames of all its playing fits take turns: a frame's turn lasts its CPU cost
divided by :data:`SHARE` (the cost measured, a moving average of the process's recent frames), turns
follow one another, and a frame whose turn has not come sleeps until it does (a sleep holds no CPU and
no lock; the session's timer ticks meanwhile fold into one pending rerun, see :mod:`dashboard.controls`).
Play frames then use about :data:`SHARE` of a core between them, and the rest is the clicks'.

On a quiet server nothing waits. A fit playing alone never waits for its own previous turn either, so it
plays at the pace of its timer (:data:`~dashboard.limits.PLAY_INTERVAL`) whatever its frames cost. A
wait never exceeds :data:`~dashboard.controls.MAX_PLAY_WAIT`, so Pause answers.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

#: The share of one core that the Play frames of one busy server process use between them.
SHARE = 0.15
#: A process whose threads used at least this share of a core over the last WINDOW s is busy.
BUSY = 0.5
#: Seconds over which the process's CPU use is measured.
WINDOW = 2.0
#: What a frame is taken to cost (CPU seconds) before one has been measured: a demo-2d frame.
INITIAL_COST = 0.03
#: Weight of the newest frame in the moving average of the cost.
SMOOTHING = 0.2


class Pace:
    """The turns of the Play frames of one process (:meth:`book` before a frame, :meth:`record` after).

    ``clock`` is the wall clock, ``cpu_clock`` the process's CPU seconds (all its threads); ``busy`` the
    share of a core from which frames take turns (0: always).
    """

    def __init__(
        self,
        share: float = SHARE,
        cost: float = INITIAL_COST,
        busy: float = BUSY,
        clock: Callable[[], float] = time.monotonic,
        cpu_clock: Callable[[], float] = time.process_time,
    ) -> None:
        if not 0 < share <= 1:
            raise ValueError(f"share must be in (0, 1], got {share}")
        self.share = share
        self.cost = cost
        self.busy = busy
        self._clock = clock
        self._cpu_clock = cpu_clock
        self._next_turn = float("-inf")
        self._last_fit: object = None
        self._samples: deque[tuple[float, float]] = deque()  # (wall, CPU) at each booking
        self._load = 0.0
        self._lock = threading.Lock()

    @property
    def turn(self) -> float:
        """Seconds one frame's turn lasts: its estimated CPU cost over :attr:`share`."""
        return self.cost / self.share

    def load(self, now: float) -> float:
        """The share of a core the process used over about the last :data:`WINDOW` s (with the lock held)."""
        cpu = self._cpu_clock()
        self._samples.append((now, cpu))
        while len(self._samples) > 2 and now - self._samples[1][0] >= WINDOW:
            self._samples.popleft()  # the oldest kept is the last one at least WINDOW s old
        then, cpu_then = self._samples[0]
        if now - then >= WINDOW / 4:  # shorter spans say too little: keep the last figure
            self._load = (cpu - cpu_then) / (now - then)
        return self._load

    def book(self, fit: object = None) -> float:
        """Book the next free turn for a frame of ``fit`` (any identity that ``==`` compares) about to
        run; returns the seconds until it starts: 0 on a quiet process, or for a fit that booked the last
        turn too (alone, it starts now)."""
        with self._lock:
            now = self._clock()
            quiet = self.load(now) < self.busy
            alone = fit is not None and fit == self._last_fit
            start = now if quiet or alone else max(now, self._next_turn)
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
