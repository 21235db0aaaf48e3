"""Stepping controls shared by the K-means and EM pages.

Under load (a class of 30 on one server, benchmarks/load_sessions.py): a fit runs one control at a
time (:func:`one_fit_at_a_time`; a click that comes while one runs is left out, and says so), and Play
slows down instead of asking for more than the server gives (:func:`play_wait`; and on a busy server
the Play frames of every fit take turns within a share of a core, :mod:`dashboard.play_pace`), and each
frame stays on screen at least :data:`MIN_DWELL` after the run that drew it (:func:`dwell_wait`). Streamlit itself folds
the timer ticks that arrive while a Play frame runs into one pending rerun, so no backlog builds up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from dashboard import fits, play_pace, presentation, session, step_log
from dashboard.limits import PLAY_INTERVAL
from em_core import DataError, stepping

#: Play under load: a frame (a Play step and the page it draws, from one tick to the next) that took
#: more than PLAY_OVERRUN x PLAY_INTERVAL is followed by a wait of PLAY_BACKOFF x its length (at most
#: MAX_PLAY_WAIT s, so Pause answers), so a playing session keeps its script thread busy at most half the
#: time and plays slower the busier the server is. Quiet, a frame fits in the interval and nothing waits.
PLAY_OVERRUN = 1.5
PLAY_BACKOFF = 1.0
MAX_PLAY_WAIT = 3.0
#: Play keeps the state a frame drew on screen at least this long after that frame's run ended: on a loaded
#: machine the next tick can come right after a long run, before the browser has drawn what the run sent,
#: and the browser then skips that state (a CI run of "Play by half-steps" went from the E-step of iteration
#: 1 to the E-step of iteration 2 without showing the M-step between). Quiet, a run ends well before the
#: next tick (PLAY_INTERVAL after the last) and nothing waits.
MIN_DWELL = 0.4
BUSY_MESSAGE = "This fit is still busy with the previous click; that click was left out."

_running: set[int] = set()  # id() of the fits a control is running on, in this server process
_running_lock = threading.Lock()


#: The width of the "Run to convergence" column against each other stepping button's (1).
RUN_WIDTH = 1.35
#: The status line's and the "Play by half-steps" toggle's widths on their row (outside presentation mode).
STATUS_ROW = (3.6, 1.4)


@contextmanager
def one_fit_at_a_time(slot: fits.FitSlot) -> Iterator[bool]:
    """``with one_fit_at_a_time(slot) as free:`` -- ``free`` is False while another control runs on
    this fit (in any thread), and True otherwise, the fit then being marked busy until the block ends."""
    with _running_lock:
        free = id(slot) not in _running
        _running.add(id(slot))
    try:
        yield free
    finally:
        if free:
            with _running_lock:
                _running.discard(id(slot))


def play_wait(previous_start: float | None, now: float) -> float:
    """Seconds the Play frame ticked at ``now`` waits before it steps (see :data:`PLAY_BACKOFF`).

    ``previous_start`` is when the previous Play frame started stepping (``time.monotonic()``), None
    for the first frame after Play was pressed.
    """
    if previous_start is None:
        return 0.0
    frame = now - previous_start
    if frame <= PLAY_OVERRUN * PLAY_INTERVAL:
        return 0.0
    return min(MAX_PLAY_WAIT, PLAY_BACKOFF * frame)


def dwell_wait(drawn_at: float | None, now: float) -> float:
    """Seconds the Play frame ticked at ``now`` waits so that the state drawn at ``drawn_at`` (the end of the
    run that drew the previous frame, ``time.monotonic()``; None for the first frame) stays :data:`MIN_DWELL`."""
    return 0.0 if drawn_at is None else max(0.0, MIN_DWELL - (now - drawn_at))


def _act(slot: fits.FitSlot, X, action: str, view_key: str) -> None:
    """Apply ``action``; a DataError (a non-finite score) stops Play and is kept for the stepper to show."""
    st.session_state.pop(f"{view_key}_error", None)
    with one_fit_at_a_time(slot) as free:
        if not free:
            st.session_state[f"{view_key}_busy"] = BUSY_MESSAGE
            return
        try:
            fits.advance(slot, X, action)
        except DataError as err:
            slot.playing = False
            st.session_state[f"{view_key}_error"] = str(err)
    st.session_state[view_key] = latest_position(slot.state)


def _set_play(slot: fits.FitSlot, playing: bool, prefix: str) -> None:
    """Play or Pause: set the state the button showed (two fast clicks on Play still play)."""
    if slot.playing != playing:
        slot.playing = playing
        st.session_state.pop(f"{prefix}_play_started", None)  # a new Play starts unpaced
        # the fragment's timer is set when the whole page runs, so the page must run again
        slot.rerun_page = True


#: Keyboard shortcuts of the stepping buttons (Streamlit's own ``st.button(shortcut=...)``), in
#: presentation mode, whose sidebar lists them (elsewhere a key badge would crowd the labels).
SHORTCUTS = {"estep": "E", "mstep": "M", "step": "S", "play": "P"}


def _shortcut(key: str) -> str | None:
    return SHORTCUTS[key] if presentation.is_on() else None


def buttons(slot: fits.FitSlot, X, prefix: str, half_steps: bool) -> None:
    """E-step / M-step / Step / Run / Reset / Play buttons acting on ``slot``.

    The half-steps are named as the fit's method names them (K-means: Assign, Update).

    Widget keys: ``{prefix}_estep``, ``{prefix}_mstep``, ``{prefix}_step``, ``{prefix}_run``,
    ``{prefix}_reset``, ``{prefix}_play``.
    """
    state = slot.state
    half_labels = slot.method.half_labels
    view_key = f"{prefix}_view"
    done = state.converged
    labels = [("step", "Step", "Step: one E-step and one M-step")]
    if half_steps:
        labels = [
            ("estep", half_labels[0], "Recompute the responsibilities from the current parameters"),
            ("mstep", half_labels[1], "Re-estimate the parameters from the responsibilities"),
        ] + labels
    # "Run to convergence" is the longest label: a wider column keeps it whole beside the sidebar at 1280 px
    columns = st.columns([1.0] * len(labels) + [RUN_WIDTH, 1.0, 1.0])
    for column, (key, label, help_text) in zip(columns, labels, strict=False):
        action = {"estep": "E", "mstep": "M", "step": "step"}[key]
        disabled = done or (action == "E" and state.next_step != "E") or (action == "M" and state.next_step != "M")
        column.button(
            label,
            key=f"{prefix}_{key}",
            help=help_text,
            disabled=disabled,
            on_click=_act,
            args=(slot, X, action, view_key),
            width="stretch",
            type="primary" if key == "step" else "secondary",
            shortcut=_shortcut(key),
        )
    rest = columns[len(labels) :]
    rest[0].button(
        "Run to convergence",
        key=f"{prefix}_run",
        disabled=done,
        on_click=_act,
        args=(slot, X, "run", view_key),
        width="stretch",
    )
    rest[1].button(
        "Pause" if slot.playing else "Play",
        key=f"{prefix}_play",
        disabled=done and not slot.playing,
        on_click=_set_play,
        args=(slot, not slot.playing, prefix),
        width="stretch",
        icon=":material/pause:" if slot.playing else ":material/play_arrow:",
        shortcut=_shortcut("play"),
    )
    rest[2].button(
        "Reset",
        key=f"{prefix}_reset",
        on_click=_act,
        args=(slot, X, "reset", view_key),
        width="stretch",
        icon=":material/restart_alt:",
    )


def run_to_convergence(slot: fits.FitSlot, X, key: str, where: DeltaGenerator | None = None) -> None:
    """ "Run EM to convergence" on a page that shows the fit of the 'EM for matrix completion' page
    (Recommendations, Completion vs gold): that fit, run until the course's stopping rule holds."""
    if (where or st).button(
        "Run EM to convergence",
        key=key,
        disabled=slot.state.converged,
        help="Runs the fit of the 'EM for matrix completion' page until the course's stopping rule holds.",
    ):
        with st.spinner("Running EM ..."):
            fits.advance(slot, X, "run")
        st.rerun()  # the page, this button too (now disabled), drawn from the converged fit


def initial_mixture_note(what: str) -> str:
    """What a page of the matrix fit's results says while that fit is at its start."""
    return (
        " That is the course's initial mixture: press Run EM to convergence (or step the fit on the 'EM for "
        f"matrix completion' page) for {what} from a fitted one."
    )


def play_action(slot: fits.FitSlot, prefix: str) -> str:
    """What one Play tick does: a whole Step, or with the ``{prefix}_play_halves`` toggle on the next
    half-step (E, M, E, M ...), so each half-step's chart is on screen for a tick."""
    if st.session_state.get(f"{prefix}_play_halves"):
        return slot.state.next_step  # "E" or "M"
    return "step"


def play_tick(slot: fits.FitSlot, X, prefix: str) -> None:
    """Called on each timed rerun of a playing fragment: one more step (or half-step), and stop at convergence."""
    if slot.rerun_page:
        slot.rerun_page = False
        st.rerun(scope="app")  # Play or Pause was pressed: start or stop the fragment's timer
    if slot.playing and fits.stop_at_cap(slot):
        st.rerun()  # the sidebar's "Max iterations": the whole page, so the fragment stops its timer
    # a tick steps on only from a state a finished run has drawn: a run cut short by the next tick (a busy
    # server) would otherwise leave a half-step that was never on screen. On a server so busy that no run
    # finishes, it steps on after MAX_PLAY_WAIT all the same: Play slows down, it does not stall
    clock = f"{prefix}_play_started"
    previous, now = st.session_state.get(clock), time.monotonic()  # previous: None for the first frame
    waited = now - (previous or 0.0)
    if slot.playing and not slot.state.converged and (drawn(slot, prefix) or waited > MAX_PLAY_WAIT):
        # this fit's own backoff, the previous frame's time on screen, or the turn of the frames of every fit
        # playing here (dashboard.play_pace)
        drawn_at = st.session_state.get(f"{prefix}_drawn_at") if previous is not None else None
        wait = max(play_wait(previous, now), dwell_wait(drawn_at, now), play_pace.PACE.book(id(slot)))
        time.sleep(min(MAX_PLAY_WAIT, wait))
        st.session_state[clock] = time.monotonic()
        st.session_state[f"{prefix}_frame_cpu"] = (threading.get_ident(), time.thread_time())
        _act(slot, X, play_action(slot, prefix), f"{prefix}_view")
        if not slot.playing:
            st.rerun()  # the step failed: the whole page, so the fragment stops its timer
    if slot.playing and slot.state.converged:
        slot.playing = False
        st.rerun()  # the whole page, so the fragment stops its timer


def _state_mark(slot: fits.FitSlot) -> tuple[int, str]:
    return slot.state.iteration, slot.state.next_step


def mark_drawn(slot: fits.FitSlot, prefix: str) -> None:
    """Note, at the end of a page's run, that the fit's current state has been drawn (and, after a Play
    frame, what the frame cost, for :mod:`dashboard.play_pace`)."""
    mark = _state_mark(slot)
    if st.session_state.get(f"{prefix}_drawn") != mark:
        st.session_state[f"{prefix}_drawn_at"] = time.monotonic()  # a new state on screen from now (MIN_DWELL)
    st.session_state[f"{prefix}_drawn"] = mark
    thread, start = st.session_state.pop(f"{prefix}_frame_cpu", (None, 0.0))
    if thread == threading.get_ident():  # a run cut short leaves another thread's clock: not this frame's
        play_pace.PACE.record(min(time.thread_time() - start, MAX_PLAY_WAIT))


def drawn(slot: fits.FitSlot, prefix: str) -> bool:
    """Whether a finished run drew the fit's current state (True on a page that does not note it)."""
    mark = st.session_state.get(f"{prefix}_drawn")
    return mark is None or mark == _state_mark(slot)


def latest_position(state: stepping.FitState) -> int:
    """The scrub slider's position of the fit's current state: its iteration, or, between an E-step and its
    M-step, the next one (whose E-step is shown, as the status line and the chart's title number it)."""
    return state.iteration + (state.next_step == "M")


def status_line(slot: fits.FitSlot, showing: int | None = None) -> str:
    """One sentence on where the fit stands; ``showing``, an earlier iteration the view was scrubbed back to,
    is named at its end."""
    state = slot.state
    half_labels = slot.method.half_labels
    if state.iteration == 0 and state.next_step == "E":
        start = "mixture" if slot.method.has_spread else "centres"
        return f"Initial {start} ({slot.key.start.phrase}). Press {half_labels[0]} or Step to begin."
    if state.next_step == "M":
        # between the halves of iteration t + 1: its number, as the chart's title and the narration say it
        parts = [f"**Iteration {state.iteration + 1}**", f"{half_labels[0]} done, {half_labels[1]} next"]
    else:
        parts = [f"**Iteration {state.iteration}**"]
    if state.score is not None:
        label = "log-likelihood" if slot.score_name == "log_likelihood" else "cost"
        parts.append(f"{label} {state.score:,.6f}")
    if state.converged:
        parts.append(f"converged after {state.iteration} iterations")
    elif state.stopped_by_cap:
        parts.append(f"stopped at the cap of {state.iteration} iterations, before the stopping rule held")
    if showing is not None and showing < latest_position(state):
        parts.append(f"**showing iteration {showing}**")
    return " · ".join(parts)


#: Presentation mode's keys that scrub the kept history one iteration back and forward.
SCRUB_KEYS = {"back": "Left", "forward": "Right"}


def _scrub(key: str, first: int, last: int, by: int) -> None:
    """Move the scrub slider's iteration by ``by`` within [first, last] (a callback: before the rerun)."""
    st.session_state[key] = min(last, max(first, st.session_state.get(key, last) + by))


def view_slider(slot: fits.FitSlot, prefix: str) -> int:
    """A slider to scrub back through the kept history; returns the iteration to show.

    In presentation mode the slider has a Back and a Forward button beside it, on the keys
    :data:`SCRUB_KEYS` (a room's clicker sends the arrow keys)."""
    first, last = slot.state.history_range[0], latest_position(slot.state)
    key = f"{prefix}_view"
    _view_value(slot, prefix)
    present = presentation.is_on()
    if not present:
        if last == first:
            return last
        return _slider(key, first, last, present)
    back, middle, forward = st.columns([1.2, 5, 1.2], vertical_alignment="center", gap="small")
    for column, name, by, icon in ((back, "back", -1, "chevron_left"), (forward, "forward", 1, "chevron_right")):
        at_end = st.session_state[key] == (first if by < 0 else last)  # also when nothing is kept yet
        column.button(
            "",
            key=f"{prefix}_{name}",
            icon=f":material/{icon}:",
            help=f"Show the {'previous' if by < 0 else 'next'} kept iteration",
            disabled=at_end,
            on_click=_scrub,
            args=(key, first, last, by),
            shortcut=SCRUB_KEYS[name],
            width="stretch",
        )
    with middle:
        if last == first:  # hold the slider's place, so the chart does not jump down when it appears
            st.container(height=presentation.SLIDER_HEIGHT, border=False, key=f"{prefix}_view_space")
            return last
        return _slider(key, first, last, present)


def _view_value(slot: fits.FitSlot, prefix: str) -> int:
    """The iteration the scrub slider shows on this run (the latest unless scrubbed back within the kept
    history), known before the slider is written: the status line and the narration above it follow it."""
    first, last = slot.state.history_range[0], latest_position(slot.state)
    key = f"{prefix}_view"
    if key not in st.session_state or not first <= st.session_state[key] <= last:
        st.session_state[key] = last
    return st.session_state[key]


def _slider(key: str, first: int, last: int, present: bool) -> int:
    return st.slider(
        "Show iteration",
        min_value=first,
        max_value=last,
        key=key,
        help="Scrub back through the iterations kept in this session's history.",
        label_visibility="collapsed" if present else "visible",
    )


def stepper(slot: fits.FitSlot, s: session.Settings, prefix: str) -> int:
    """The stepping block of a fit page, run inside its fragment: :func:`step_buttons`, then
    :func:`step_status` under them. Returns the iteration to show."""
    step_buttons(slot, s, prefix)
    return step_status(slot, prefix)


def step_buttons(slot: fits.FitSlot, s: session.Settings, prefix: str) -> None:
    """The top of the stepping block: a Play tick, the reset notice, the buttons, the URL, and what
    went wrong with the last click."""
    X = s.dataset.X
    play_tick(slot, X, prefix)
    # inside the fragment, so the notice goes with the first control after it (a page-level
    # element would stay until the whole page ran again). The notices come and go in containers that
    # are always there: the elements under them keep their places, so a Step that drops the notice
    # does not leave the last status line on screen, stale, beside the new one until the run ends
    with st.container():
        reset_notice(slot)
    buttons(slot, X, prefix, half_steps=True)
    session.sync_url(s, slot.state.iteration)
    with st.container():
        error = st.session_state.get(f"{prefix}_view_error")
        if error:
            st.error(error, icon=":material/error:")
        busy = st.session_state.pop(f"{prefix}_view_busy", None)
        if busy:
            st.info(busy, icon=":material/hourglass_top:")


def step_status(slot: fits.FitSlot, prefix: str, side: DeltaGenerator | None = None) -> int:
    """The status line with the "Play by half-steps" toggle, the narration and the scrub slider;
    returns the iteration to show.

    Under the buttons across the page (in presentation mode the slider on the status's row), or in
    ``side``, the column beside a presentation's points chart (:func:`dashboard.presentation.beside`),
    one under the other.
    """
    toggle_help = f"Play runs {slot.method.half_labels[0]}, {slot.method.half_labels[1]}, ... one half-step per tick."
    one_row = side is None and presentation.is_on()  # a projector: the slider on the status's row, not its own
    with side if side is not None else nullcontext():
        if side is not None:
            line = halves = scrub = side
        elif one_row:
            line, halves, scrub = st.columns([5, 1.5, 3], vertical_alignment="center")
        else:
            # beside the status, no row of its own, and wide enough for its whole label beside the sidebar
            line, halves = st.columns(STATUS_ROW, vertical_alignment="center")
        showing = _view_value(slot, prefix)
        line.markdown(status_line(slot, showing))
        halves.toggle("Play by half-steps", key=f"{prefix}_play_halves", help=toggle_help)
        if one_row:
            with scrub:
                shown = view_slider(slot, prefix)
        scrubbed = showing < latest_position(slot.state)
        step_log.show(slot, prefix, beside=side is not None, showing=showing if scrubbed else None)
        return shown if one_row else view_slider(slot, prefix)


def reset_notice(slot: fits.FitSlot) -> None:
    """Say so when a change of settings has just reset the run."""
    if slot.notice:
        st.info(slot.notice, icon=":material/restart_alt:")
