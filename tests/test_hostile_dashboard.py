"""Hostile or unlucky input in the dashboard (issue 14): links, uploads and buttons that must not
crash, hang or exhaust the server, and must never render what a user typed as Markdown or HTML."""

from __future__ import annotations

import pytest

from em_core import DataError, stepping
from tests.apptest_helpers import Dashboard


def _press_twice_before_rerun(app: Dashboard, key: str) -> None:
    """Two clicks that reach the server before the page has run again (both see the same button)."""
    button = app.button(key)
    metadata = app.at.session_state._state._state._new_widget_state.widget_metadata[button.id]
    for _ in range(2):
        metadata.callback(*metadata.callback_args)


# ------------------------------------------------------------------ Play and Pause set a state


def test_two_fast_clicks_on_play_leave_it_playing():
    app = Dashboard("demo-small", page="matrix")
    assert app.button("emx_play").label == "Play"
    _press_twice_before_rerun(app, "emx_play")
    assert app.fit("matrix").playing


def test_two_fast_clicks_on_pause_leave_it_paused():
    app = Dashboard("demo-small", page="matrix").click("emx_play")
    assert app.button("emx_play").label == "Pause"
    _press_twice_before_rerun(app, "emx_play")
    assert not app.fit("matrix").playing


# ------------------------------------------------------------------ a fit that fails or hits the cap


@pytest.fixture
def step_fails_at_iteration_3(monkeypatch):
    """em_core's step raising as it does on a non-finite score, from iteration 3 on."""
    original = stepping.step

    def failing(algorithm, X, state):
        if state.iteration >= 2:
            raise DataError(f"iteration {state.iteration + 1}: the log_likelihood is nan, not a finite number")
        return original(algorithm, X, state)

    monkeypatch.setattr(stepping, "step", failing)


@pytest.mark.parametrize("button", ["emx_step", "emx_run"])
def test_a_failing_step_shows_one_error_naming_the_iteration(step_fails_at_iteration_3, button):
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 2)
    app.click(button)
    assert app.errors == ["iteration 3: the log_likelihood is nan, not a finite number"]
    assert app.fit("matrix").state.iteration == 2  # the last good state stays


def test_a_failing_step_stops_play(step_fails_at_iteration_3):
    app = Dashboard("demo-small", page="matrix")
    app.click("emx_play")
    for _ in range(4):  # each rerun stands for one tick of the fragment's timer
        app.run()
    slot = app.fit("matrix")
    assert not slot.playing and slot.state.iteration == 2
    assert app.button("emx_play").label == "Play"
    assert app.errors == ["iteration 3: the log_likelihood is nan, not a finite number"]


def test_a_run_stopped_by_the_cap_says_so(monkeypatch):
    original = stepping.run
    monkeypatch.setattr(
        stepping,
        "run",
        lambda algorithm, X, state, max_iter=None, callback=None: original(
            algorithm, X, state, max_iter=2, callback=callback
        ),
    )
    app = Dashboard("demo-large", page="matrix").click("emx_run")
    assert app.fit("matrix").state.stopped_by_cap
    assert (
        "stopped at the cap of 2 iterations"
        in app.at.markdown[[m.value.startswith("**Iteration") for m in app.at.markdown].index(True)].value
    )
