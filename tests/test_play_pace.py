"""Play's share of a busy server (dashboard/play_pace.py): while a process is busy, the Play frames of its
fits take turns, so a class that plays leaves the clicks most of the server; on a quiet server, or alone,
a fit plays at full pace.

The turns are simulated with a clock the test moves; what a class sees is measured by
benchmarks/load_sessions.py (the README's class table).
"""

from __future__ import annotations

import threading
import time
import types

import pytest

from dashboard import controls, play_pace
from dashboard.limits import PLAY_INTERVAL
from tests.apptest_helpers import Dashboard


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CpuClock:
    """The process's CPU seconds as a process using ``share`` of a core since ``clock`` started would have."""

    def __init__(self, clock: Clock, share: float) -> None:
        self.clock, self.share, self.start = clock, share, clock.now

    def __call__(self) -> float:
        return (self.clock.now - self.start) * self.share


def busy_pace(clock: Clock, cost: float) -> play_pace.Pace:
    """A pace that takes turns whatever the process's load (its load rule is tested on its own below)."""
    return play_pace.Pace(cost=cost, busy=0.0, clock=clock)


@pytest.mark.parametrize("cost", [0.03, 0.12])  # a demo-2d frame; a netflix K = 12 frame, whose turn is longer
def test_a_fit_playing_alone_never_waits_for_a_turn(cost: float):
    """Alone, a fit plays at its timer's pace (one frame each PLAY_INTERVAL), whatever a frame costs."""
    clock = Clock()
    pace = busy_pace(clock, cost)
    for _ in range(20):
        assert pace.book("fit") == 0.0
        clock.now += PLAY_INTERVAL


def test_a_second_fit_waits_for_the_first_ones_turn():
    clock = Clock()
    pace = busy_pace(clock, 0.12)  # turns of 0.8 s
    assert pace.book("a") == 0.0
    clock.now += 0.1
    assert pace.book("b") == pytest.approx(pace.turn - 0.1)
    clock.now += PLAY_INTERVAL - 0.1  # a's next tick: after b's turn
    assert pace.book("a") == pytest.approx(2 * pace.turn - PLAY_INTERVAL)


def test_fits_playing_at_once_take_turns_and_use_at_most_their_share():
    """Ten fits whose ticks come together: each waits for the turns before its own, and over a minute
    their frames use SHARE of a core between them, however many ticks they send."""
    clock = Clock()
    cost = 0.03
    pace = busy_pace(clock, cost)
    waits = [pace.book(fit) for fit in range(10)]
    assert waits == pytest.approx([i * pace.turn for i in range(10)])
    # every fit ticks again as soon as its frame is drawn (Streamlit folds ticks into one): frames start
    # no sooner than their turns allow
    clock.now, frames, start = 1000.0, 0, 1000.0
    ready = [clock.now] * 10  # when each fit's next tick asks for a frame
    while clock.now < start + 60.0:
        fit = min(range(10), key=lambda i: ready[i])
        clock.now = max(clock.now, ready[fit])
        clock.now += pace.book(fit)
        frames += 1
        ready[fit] = clock.now + cost
    assert frames * cost / 60.0 == pytest.approx(pace.share, rel=0.05)


@pytest.mark.parametrize(("load", "waits"), [(0.2, False), (0.45, False), (0.6, True), (0.95, True)])
def test_frames_take_turns_only_while_the_process_is_busy(load: float, waits: bool):
    """Ten fits playing at once on a process whose threads use ``load`` of a core: below BUSY (0.5) no
    frame waits; from it, they take turns."""
    clock = Clock()
    pace = play_pace.Pace(cost=0.03, clock=clock, cpu_clock=CpuClock(clock, load))
    pace.book("first")
    clock.now += 1.0
    pace.book("first")  # a second later: the load is known
    booked = [pace.book(fit) for fit in range(10)]
    assert pace.load(clock.now) == pytest.approx(load)
    assert booked == (pytest.approx([(i + 1) * pace.turn for i in range(10)]) if waits else [0.0] * 10)


def test_the_load_is_measured_over_the_last_two_seconds():
    """A process busy for a minute, then quiet: two seconds later its frames no longer wait."""
    clock, cpu = Clock(), [0.0]
    pace = play_pace.Pace(cost=0.03, clock=clock, cpu_clock=lambda: cpu[0])
    for _ in range(60):  # busy: 0.9 s of CPU a second, frames every 0.5 s
        for _ in range(2):
            clock.now += 0.5
            cpu[0] += 0.45
            pace.book("a")
            pace.book("b")
    assert pace.load(clock.now) == pytest.approx(0.9)
    for _ in range(6):  # quiet: 0.1 s of CPU a second
        clock.now += 0.5
        cpu[0] += 0.05
        pace.book("a")
    assert pace.load(clock.now) == pytest.approx(0.1)
    assert pace.book("b") == 0.0


def test_the_turn_follows_the_measured_cost_of_frames():
    pace = play_pace.Pace(cost=0.03)
    for _ in range(60):
        pace.record(0.12)  # netflix K = 12 frames
    assert pace.cost == pytest.approx(0.12, rel=1e-3)
    assert pace.turn == pytest.approx(0.12 / pace.share, rel=1e-3)
    pace.record(-1.0)  # not a frame's cost (a clock from another thread): ignored
    assert pace.cost == pytest.approx(0.12, rel=1e-3)


def test_a_share_outside_0_1_is_refused():
    for share in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="share"):
            play_pace.Pace(share=share)


def test_turns_booked_from_many_threads_never_overlap():
    clock = Clock()
    pace = busy_pace(clock, 0.01)
    waits: list[float] = []
    lock = threading.Lock()

    def book_many() -> None:
        for _ in range(200):
            wait = pace.book()
            with lock:
                waits.append(wait)

    threads = [threading.Thread(target=book_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(waits) == pytest.approx([i * pace.turn for i in range(1600)])


def test_a_play_frame_on_the_page_waits_for_its_turn_and_reports_its_cost(monkeypatch: pytest.MonkeyPatch):
    """The EM page under AppTest (each rerun stands for one timer tick): a frame sleeps until the turns
    booked before it are over, then steps, and its CPU time reaches the pace."""
    clock = Clock()
    pace = busy_pace(clock, 0.18)  # turns of 1.2 s
    monkeypatch.setattr(play_pace, "PACE", pace)
    slept: list[float] = []
    # the controls' clock, with a sleep that only notes its seconds (time.sleep itself is AppTest's too)
    clocks = types.SimpleNamespace(monotonic=time.monotonic, thread_time=time.thread_time, sleep=slept.append)
    monkeypatch.setattr(controls, "time", clocks)
    app = Dashboard("demo-2d", page="em2d")
    first_turn = pace.turn
    app.click("em2d_play")
    assert app.fit("em2d").state.iteration == 1 and slept == [0.0]  # the first frame: nobody else plays
    assert pace.cost != 0.18  # its measured cost has come in
    assert pace.book("another fit") == pytest.approx(first_turn)  # another fit: its turn comes after the first frame's
    other_turn = pace.turn
    clock.now += 0.1
    app.run()  # the page's next tick, 0.1 s later: it waits for both turns
    assert slept[-1] == pytest.approx(first_turn + other_turn - 0.1) and app.fit("em2d").state.iteration == 2


def test_each_play_frame_stays_on_screen_after_the_run_that_drew_it(monkeypatch: pytest.MonkeyPatch):
    """The EM page under AppTest, by half-steps, on a quiet server: a tick that comes soon after the run that
    drew the previous half-step (a long run on a loaded machine) waits until that half-step has been on
    screen MIN_DWELL; a tick that comes later does not wait. The first frame after Play never waits."""
    clock = Clock()
    monkeypatch.setattr(play_pace, "PACE", play_pace.Pace(busy=2.0, clock=clock))  # never busy: no turns
    slept: list[float] = []
    clocks = types.SimpleNamespace(monotonic=clock, thread_time=time.thread_time, sleep=slept.append)
    monkeypatch.setattr(controls, "time", clocks)
    app = Dashboard("demo-2d", page="em2d")
    app.set_toggle("em2d_play_halves", True)
    app.click("em2d_play")
    assert slept == [0.0] and _mark(app) == (0, "M")  # the E-step of iteration 1, at once
    clock.now += 0.1  # the next tick, 0.1 s after the run that drew that E-step ended
    app.run()
    assert slept[-1] == pytest.approx(controls.MIN_DWELL - 0.1)
    assert _mark(app) == (1, "E")  # then the M-step
    clock.now += controls.MIN_DWELL + 0.05  # a tick the previous half-step has been on screen long enough for
    app.run()
    assert slept[-1] == 0.0 and _mark(app) == (1, "M")  # the next E-step


def _mark(app: Dashboard) -> tuple[int, str]:
    """The 2-D EM fit's state: iterations done and the half-step to come."""
    state = app.fit("em2d").state
    return state.iteration, state.next_step
