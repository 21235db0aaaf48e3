"""A class at once: one fit runs one control at a time, Play slows down under load, and a short load run.

The unit tests hold the controls' overload rules (dashboard/controls.py). ``test_short_class`` drives
five Streamlit sessions through Streamlit's own websocket protocol for 20 s on demo-2d, as
benchmarks/load_sessions.py does for the full table (30-100 sessions, minutes), and asserts no error
and a p95 that catches a hang, not a figure: the machine CI runs on is shared.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from dashboard import controls, fits, session
from dashboard.limits import PLAY_INTERVAL
from em_core.data import load_dataset

# ---------------------------------------------------------------- one control at a time


class FakeSlot:
    """What ``controls._act`` touches of a fit: its play flag and its state's iteration and next half-step."""

    def __init__(self) -> None:
        self.playing = False
        self.iteration = 0
        self.next_step = "E"  # whole Steps only: the slider's latest position is the iteration

    @property
    def state(self):
        return self


def test_one_fit_at_a_time_refuses_a_second_control_while_one_runs():
    slot, other = FakeSlot(), FakeSlot()
    with controls.one_fit_at_a_time(slot) as first:
        assert first
        with controls.one_fit_at_a_time(slot) as second:
            assert not second  # the same fit: refused
        with controls.one_fit_at_a_time(other) as elsewhere:
            assert elsewhere  # another fit (another session's) is not held up
        with controls.one_fit_at_a_time(slot) as third:
            assert not third  # a refused block does not free the fit it did not hold
    with controls.one_fit_at_a_time(slot) as after:
        assert after  # free again once the running control ends


def test_a_click_during_a_running_step_is_left_out_and_said(monkeypatch: pytest.MonkeyPatch):
    """Two threads press Step on one fit: the second press does not start a second fit, and says why."""
    slot = FakeSlot()
    entered, release = threading.Event(), threading.Event()
    calls = []

    def slow_advance(fit, X, action):
        calls.append(action)
        entered.set()
        assert release.wait(10), "the test never released the first step"
        fit.iteration += 1

    monkeypatch.setattr(controls.fits, "advance", slow_advance)
    state: dict = {}
    monkeypatch.setattr(controls.st, "session_state", state)
    first = threading.Thread(target=controls._act, args=(slot, None, "step", "emx_view"))
    first.start()
    assert entered.wait(10)
    controls._act(slot, None, "step", "emx_view")  # while the first is inside its step
    assert calls == ["step"]
    assert state["emx_view_busy"] == controls.BUSY_MESSAGE
    release.set()
    first.join(10)
    assert slot.iteration == 1 and state["emx_view"] == 1
    controls._act(slot, None, "step", "emx_view")  # the fit is free again: this one steps
    assert calls == ["step", "step"] and slot.iteration == 2


# ---------------------------------------------------------------- Play under load


@pytest.mark.parametrize(
    ("frame", "wait"),
    [
        (PLAY_INTERVAL, 0.0),  # quiet: the frame fits in the timer's interval, Play keeps its pace
        (0.99 * controls.PLAY_OVERRUN * PLAY_INTERVAL, 0.0),  # just under the edge: not yet an overrun
        (2.0, 2.0 * controls.PLAY_BACKOFF),  # a 2 s frame is followed by a wait as long as it took
        (60.0, controls.MAX_PLAY_WAIT),  # a very slow frame: capped, so Pause still answers
    ],
)
def test_play_waits_after_a_frame_that_overran(frame: float, wait: float):
    assert controls.play_wait(100.0, 100.0 + frame) == pytest.approx(wait)


def test_the_first_frame_after_play_never_waits():
    assert controls.play_wait(None, 123.0) == 0.0


def test_a_playing_session_takes_at_most_half_of_its_thread_when_frames_overrun():
    """Simulated: every frame costs 2 s of the server's time; with the wait, Play asks for half of it."""
    now, started, busy = 0.0, None, 0.0
    for _ in range(20):
        now += controls.play_wait(started, now)
        started = now
        now += 2.0  # the frame's work; the next tick comes as soon as it ends (coalesced by Streamlit)
        busy += 2.0
    assert busy / now == pytest.approx(1 / (1 + controls.PLAY_BACKOFF), rel=0.05)


# ---------------------------------------------------------------- what one student's fit holds

#: A netflix K=12 fit's private bytes (its history of mixtures, its posterior, its step log) from
#: start to convergence: 16-27 iterations x 116 kB of mixtures, 115 kB of posterior, ~30 kB per
#: E-step in the log. With Streamlit's own objects for a session (about a megabyte) and the widgets,
#: a student stays under the 10 MB that tests/test_concurrency.py measures from outside.
FIT_BUDGET_MB = 5.0


def private_bytes(obj, seen: set[int] | None = None) -> int:
    """The bytes of the distinct numpy arrays reachable from ``obj`` (through tuples, lists, deques,
    dicts and dataclasses), each counted once; the fit's shared algorithm object is left out."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return obj.nbytes
    if isinstance(obj, tuple | list | deque):
        return sum(private_bytes(item, seen) for item in obj)
    if isinstance(obj, dict):
        return sum(private_bytes(item, seen) for item in obj.values())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(private_bytes(getattr(obj, f.name), seen) for f in dataclasses.fields(obj) if f.name != "algorithm")
    return 0


@pytest.mark.parametrize("seed", [0, 1])  # 23 and 27 iterations to convergence: the longest of seeds 0-4
def test_a_netflix_fit_holds_a_few_megabytes(course_dir, seed: int):
    dataset = load_dataset("netflix")
    s = session.Settings("netflix", dataset, 12, seed, 0.25)
    slot = fits.new_fit(s, fits.EM, fits.fit_key(s, fits.EM))
    steps = 0
    while not slot.state.converged:
        fits.advance(slot, dataset.X, "step")  # as Step or Play does, with its narrated log
        steps += 1
        assert steps < 100, "netflix K=12 did not converge"
    held_mb = private_bytes(slot) / 2**20
    mixture_mb = sum(a.nbytes for a in slot.state.mixture if isinstance(a, np.ndarray)) / 2**20
    assert held_mb <= FIT_BUDGET_MB, f"{held_mb:.1f} MB after {steps} Steps ({mixture_mb:.2f} MB per mixture)"
    # the history keeps every mixture of a fit this short: nothing the slider shows was dropped
    assert slot.state.history_range == (0, steps)


# ---------------------------------------------------------------- a short class, end to end

SESSIONS = 5
SECONDS = 20.0
HANG_SECONDS = 30.0  # p95 above this is a hang on any machine (quiet: about 0.3 s; load 15 on 2 cores: 10 s)


@pytest.mark.load
def test_short_class():
    pytest.importorskip(
        "websockets", reason="the load test speaks Streamlit's websocket protocol (pip install websockets)"
    )
    from benchmarks import load_sessions
    from tests.streamlit_server import StreamlitServer

    behaviour = load_sessions.Behaviour(think=2.0, arrive=5.0, play_share=0.2, upload_share=0.1)
    with StreamlitServer() as server, ThreadPoolExecutor(1) as worker:
        # its own thread: the generator runs an asyncio loop, and a browser test earlier in the same pytest
        # process (Playwright's sync API) leaves one running in this thread
        job = worker.submit(
            load_sessions.run, server.url, [server], SESSIONS, SECONDS, "2d", {"dataset": "demo-2d", "k": 4}, behaviour
        )
        result = job.result()
    check_class(result)


def check_class(result: dict) -> None:
    steps = result["click_to_done"].get("step", {})
    assert result["errors"] == 0, result["error_examples"]
    assert steps.get("count", 0) >= SESSIONS, result  # every student stepped at least once or so
    assert steps["p95"] < HANG_SECONDS, result
    assert result["click_to_shown"]["step"]["count"] == steps["count"], "a Step's status line never came"


@pytest.mark.load
@pytest.mark.deploy
def test_short_class_through_the_shipped_proxy(tmp_path):
    """The load generator through nginx in front of two replicas (``load_sessions.py --replicas 2``): each
    student carries the affinity cookie the proxy gave it, so its websocket and its upload (HTTP) reach one
    replica; an upload that reached the other would fail (that replica never heard of the file) and count
    as an error. Both replicas' CPU is counted."""
    pytest.importorskip(
        "websockets", reason="the load test speaks Streamlit's websocket protocol (pip install websockets)"
    )
    from benchmarks import load_sessions
    from tests import nginx_proxy

    if nginx_proxy.NGINX is None:
        pytest.skip(nginx_proxy.NGINX_MISSING)
    behaviour = load_sessions.Behaviour(think=2.0, arrive=3.0, play_share=0.1, upload_share=0.5)
    query = {"dataset": "demo-2d", "k": 4}
    with nginx_proxy.deployment(tmp_path) as (proxy, servers), ThreadPoolExecutor(1) as worker:
        job = worker.submit(load_sessions.run, proxy.url, servers, SESSIONS, SECONDS, "2d", query, behaviour)
        result = job.result()
        rows = proxy.requests()
    uploads = [r for r in rows if "/_stcore/upload_file" in r["request"] and r["request"].startswith("PUT")]
    by_key: dict[str, set[str]] = {}
    for row in rows:
        if row["cookie"] not in ("", "-"):  # a student's first request (its health check) has no cookie yet
            by_key.setdefault(row["cookie"], set()).add(row["upstream"])
    check_class(result)
    assert result["replicas"] == 2 and result["click_to_done"].get("upload", {}).get("count", 0) >= 1, result
    assert uploads and all(r["status"] in ("200", "204") for r in uploads), uploads
    assert by_key and all(len(upstreams) == 1 for upstreams in by_key.values()), f"a student split: {by_key}"
