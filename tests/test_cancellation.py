"""Heavy work stops when asked (issue 14): em_core's ``should_stop`` hooks, and the dashboard's time
limit per click and Streamlit's stop request (a closed session) that use them."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard import caches, work
from em_core import baselines, em, experiment, stepping
from em_core.data import load_dataset
from em_core.holdout import hide
from em_core.mixture import init
from em_core.report import course_report
from tests.apptest_helpers import Dashboard
from tests.browser_page import AppPage
from tests.helpers import CHROMIUM, CHROMIUM_MISSING
from tests.streamlit_server import StreamlitServer


class AfterCalls:
    """A ``should_stop`` that says True from its ``n + 1``-th call on, counting every call."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.calls = 0

    def __call__(self) -> bool:
        self.calls += 1
        return self.calls > self.n


@pytest.fixture(scope="module")
def ratings() -> np.ndarray:
    return load_dataset("demo-large").X


# ------------------------------------------------------------------ em_core: stepping and one fit


def test_run_stops_before_the_iteration_the_hook_refuses_and_says_so(ratings):
    mixture, post = init(ratings, 3, 0)
    state = stepping.run(em.algorithm(), em.prepare(ratings), stepping.start(mixture, post), should_stop=AfterCalls(3))
    assert state.iteration == 3 and state.interrupted
    assert not state.converged and not state.stopped_by_cap


def test_run_without_a_hook_or_with_one_that_never_stops_is_the_same_run(ratings):
    mixture, post = init(ratings, 3, 0)
    plain = stepping.run(em.algorithm(), em.prepare(ratings), stepping.start(mixture, post))
    hooked = stepping.run(em.algorithm(), em.prepare(ratings), stepping.start(mixture, post), should_stop=lambda: False)
    assert hooked.converged and not hooked.interrupted
    assert hooked.scores == plain.scores and np.array_equal(hooked.mixture.mu, plain.mixture.mu)


def test_a_fit_stopped_before_its_first_iteration_has_no_score(ratings):
    run = experiment.fit(ratings, "em", 3, 0, should_stop=lambda: True)
    assert run.interrupted and not run.converged and run.iterations == 0 and np.isnan(run.score)


def test_em_run_and_the_course_report_raise_rather_than_print_an_unconverged_run(ratings):
    with pytest.raises(stepping.InterruptedRunError, match="EM stopped after 2 iterations, before convergence"):
        course_report(ratings, K=3, seed=0, should_stop=AfterCalls(2))


# ------------------------------------------------------------------ em_core: a sweep keeps what finished


def test_a_sweep_stopped_between_runs_keeps_the_finished_runs_and_their_best(ratings):
    # a fit_one of one's own fits one seed at a time: the hook is asked before each run
    full = experiment.sweep(ratings, "em", [1, 2, 3], [0, 1])
    stop = _StopAfterRuns(3)
    partial = experiment.sweep(
        ratings, "em", [1, 2, 3], [0, 1], fit_one=experiment.fit, on_run=stop.done, should_stop=stop
    )
    assert partial.stopped and not full.stopped
    assert [(r.k, r.seed) for r in partial.runs] == [(1, 0), (1, 1), (2, 0)]
    assert [r.score for r in partial.runs] == pytest.approx([r.score for r in full.runs[:3]], rel=1e-12)
    assert partial.ks == [1, 2]  # K = 2 from its one finished seed; K = 3 has none
    assert partial.best_per_k[0].run.score == pytest.approx(full.best_per_k[0].run.score, rel=1e-12)


def test_a_batched_sweep_stopped_after_a_k_keeps_that_k_whole(ratings):
    # by default EM's seeds of one K are fitted together: a stop asked for mid-K takes effect at the
    # next iteration of the batch, here after K = 2's batch has finished both its seeds
    full = experiment.sweep(ratings, "em", [1, 2, 3], [0, 1])
    stop = _StopAfterRuns(3)
    partial = experiment.sweep(ratings, "em", [1, 2, 3], [0, 1], on_run=stop.done, should_stop=stop)
    assert partial.stopped
    assert [(r.k, r.seed) for r in partial.runs] == [(1, 0), (1, 1), (2, 0), (2, 1)]
    assert [r.score for r in partial.runs] == [r.score for r in full.runs[:4]]
    assert partial.ks == [1, 2]
    assert [b.run.score for b in partial.best_per_k] == [b.run.score for b in full.best_per_k[:2]]


class _StopAfterRuns:
    """Says True once ``n`` runs have finished (told by ``done``)."""

    def __init__(self, n: int) -> None:
        self.n, self.finished = n, 0

    def done(self, run, finished, total) -> None:
        self.finished = finished

    def __call__(self) -> bool:
        return self.finished >= self.n


def test_a_run_interrupted_inside_a_sweep_is_dropped_not_kept_as_a_result(ratings):
    # the hook stops mid-way through the first run: no run is finished, so none is reported
    sweep = experiment.sweep(ratings, "em", [2, 3], [0], should_stop=AfterCalls(4))
    assert sweep.stopped and sweep.runs == () and sweep.best_per_k == ()


def test_a_stopped_sweep_with_a_holdout_scores_no_baseline(ratings):
    split = hide(ratings, 0.1, 0)
    sweep = experiment.sweep(ratings, "em", [2], [0], holdout=split, should_stop=AfterCalls(2))
    assert sweep.stopped and sweep.baselines_holdout == ()


# ------------------------------------------------------------------ em_core: baselines and the held-out comparison


def test_baselines_after_the_stop_are_listed_as_not_run(ratings):
    missing = ratings == 0
    scores = experiment.score_baselines(
        ratings, ratings, ~missing, ["global_mean", "user_mean", "item_mean"], AfterCalls(1)
    )
    assert [s.name for s in scores] == ["global_mean", "user_mean", "item_mean"]
    assert scores[0].rmse is not None and scores[0].error is None
    assert [(s.rmse, s.error) for s in scores[1:]] == [(None, experiment.NOT_RUN)] * 2
    assert scores[1].label == baselines.METHODS["user_mean"][0]


def test_a_held_out_comparison_stopped_during_em_scores_nothing_and_says_stopped(ratings):
    result = experiment.holdout_comparison(ratings, 3, 0, methods=["global_mean"], should_stop=AfterCalls(2))
    assert result.stopped
    assert [(s.name, s.rmse, s.error) for s in result.scores] == [
        ("em", None, experiment.NOT_RUN),
        ("global_mean", None, experiment.NOT_RUN),
    ]


def test_a_held_out_comparison_that_is_never_stopped_is_not_marked_stopped(ratings):
    result = experiment.holdout_comparison(ratings, 3, 0, methods=["global_mean"], should_stop=lambda: False)
    assert not result.stopped and all(s.rmse is not None for s in result.scores)


# ------------------------------------------------------------------ the dashboard: one click's time limit


@pytest.fixture
def no_time_to_work(monkeypatch):
    """One click's work may last 0 s: every heavy job stops at its first check."""
    monkeypatch.setattr(work, "WORK_SECONDS", 0.0)
    for cache in (caches.fitted, caches.holdout_scores, caches.baselines_on_gold, caches.report):
        cache.clear()


def test_model_selection_past_the_time_limit_says_stopped_and_shows_no_made_up_result(no_time_to_work):
    app = Dashboard("demo-small", page="model_selection")
    [warning] = [w.value for w in app.at.warning]
    assert warning.startswith("Stopped after 0 s (the limit of one click's work is 0 s): 0 of ")
    assert "fits finished" in warning and not app.at.success  # no "Best K" from nothing
    assert len(caches.fitted.store) == 0  # a cut-short run is never cached as a result


def test_run_to_convergence_past_the_time_limit_keeps_the_run_so_far_and_says_so(no_time_to_work):
    app = Dashboard("demo-large", page="matrix").click("emx_run")
    state = app.fit("matrix").state
    assert state.interrupted and not state.converged and not state.stopped_by_cap
    assert any(info.startswith("Stopped after 0 s") and "Run to convergence to go on" in info for info in app.infos)


def test_held_out_scores_past_the_time_limit_show_n_a_and_say_stopped(no_time_to_work):
    app = Dashboard("demo-small", page="completion")
    app.set_toggle("cmp_holdout", True)
    assert any(w.value.startswith("Stopped after 0 s") for w in app.at.warning)
    table = next(df.value for df in app.at.dataframe if "note" in df.value.columns)
    assert set(table["note"]) == {"n/a: " + experiment.NOT_RUN} and table["RMSE"].isna().all()
    assert len(caches.holdout_scores.store) == 0


def test_check_your_numbers_past_the_time_limit_prints_nothing_and_says_why(no_time_to_work):
    app = Dashboard("demo-small", page="check_numbers")
    assert not app.at.code
    assert any("Stopped after 0 s" in w.value and "before convergence" in w.value for w in app.at.warning)


def test_within_the_time_limit_the_same_pages_show_their_results():
    app = Dashboard("demo-small", page="model_selection")
    assert app.at.success and not app.at.warning
    app.open("check_numbers")
    assert app.at.code and not app.at.warning


# ------------------------------------------------------------------ a real server: a closed tab stops the work

#: This suite's port for its own server (the hostile-input tests own 8610-8619).
SERVER_PORT = 8613


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (/proc/<pid>/stat, fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_rate(pid: int, seconds: float) -> float:
    """The cores process ``pid`` used on average over the next ``seconds``."""
    before = _cpu_seconds(pid)
    time.sleep(seconds)  # measuring a rate over wall time: a wait on the clock is the point
    return (_cpu_seconds(pid) - before) / seconds


def _seconds_until_idle(pid: int, limit: float, window: float = 0.5, idle: float = 0.05) -> float:
    """Seconds until process ``pid`` first spends a ``window`` using under ``idle`` cores (``limit`` at most)."""
    start = time.monotonic()
    while time.monotonic() - start < limit and _cpu_rate(pid, window) >= idle:
        pass
    return time.monotonic() - start


@pytest.mark.browser
@pytest.mark.course
def test_closing_the_tab_during_a_long_sweep_stops_the_servers_work_within_seconds(course_dir, browser):
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    server = StreamlitServer()
    server.port = SERVER_PORT
    with server:
        app = AppPage.new_context(browser, server.url, timeout_ms=300_000)
        app.goto("/model_selection?" + urlencode({"dataset": "netflix", "k": 12}))
        # the longest sweep the page offers, K = 1 .. 16 with ten seeds each: its time limit (60 s), not
        # seconds (K = 1 .. 12 with two seeds took 6 s on the 2-core VM: over before the tab closed)
        for label in ("Largest K", "Seeds per K"):
            app.main.get_by_role("slider", name=label).press("End")
            app.wait_idle()
        expect(app.button(key="ms_run")).to_have_text("Fit K = 1 .. 16 with 10 seed(s) each", timeout=app.timeout_ms)
        app.button(key="ms_run").click()
        # from K = 5 on, one fit lasts a second or more: the old per-run progress would only stop after it
        progress = re.compile(r"K = ([5-9]|1[0-4]), seed")
        expect(app.page.get_by_test_id("stProgress")).to_contain_text(progress, timeout=app.timeout_ms)
        working = _cpu_rate(server.pid, 1.0)
        app.close()
        to_idle = _seconds_until_idle(server.pid, limit=30.0)
        after = _cpu_rate(server.pid, 2.0)
        print(
            f"server CPU {working:.2f} cores while fitting; idle {to_idle:.1f} s after the tab closed; then {after:.2f}"
        )
        assert working > 2 * after  # it was fitting, and stopped
        assert to_idle < 3.0 and after < 0.05


def test_the_progress_bar_of_a_run_started_by_a_button_callback_is_shown_and_removed(monkeypatch):
    # Run to convergence works in the button's callback: its progress updates (Streamlit's stop points) must
    # be allowed there, and the bar must be gone once the run is over
    monkeypatch.setattr(work, "QUIET_SECONDS", 0.0)
    monkeypatch.setattr(work, "PROGRESS_INTERVAL", 0.0)
    shown = []
    original = work.WorkLimit._show

    def counting(self, force=False):
        original(self, force)
        shown.append(self._bar is not None)

    monkeypatch.setattr(work.WorkLimit, "_show", counting)
    app = Dashboard("demo-large", page="matrix").click("emx_run")
    assert app.fit("matrix").state.converged and shown and all(shown)
    assert not app.at.get("progress")


def test_compare_starts_past_the_time_limit_says_stopped_and_keeps_nothing(no_time_to_work):
    from dashboard import covariance_views

    covariance_views.starts_compared.clear()
    app = Dashboard("demo-2d", page="em2d").click("em2d_compare")
    assert any(
        w.value.startswith("Stopped after 0 s") and "the 0 starts that finished" in w.value for w in app.at.warning
    )
    assert len(covariance_views.starts_compared.store) == 0  # a cut-short comparison is never cached
    assert app.errors == []


def test_covariance_types_past_the_time_limit_say_stopped_and_compare_nothing_made_up(monkeypatch):
    # the sweep over K runs in full; the comparison of covariance types gets no time at all
    from dashboard import covariance_views

    real = work.WorkLimit

    def limit(what, seconds=None):
        return real(what, 0.0 if what == "Fitting every covariance type" else seconds)

    monkeypatch.setattr(work, "WorkLimit", limit)
    covariance_views.fitted.clear()
    app = Dashboard("demo-2d", page="model_selection")
    [warning] = [w.value for w in app.at.warning]
    assert warning.startswith("Stopped after 0 s") and "the 0 fits that finished are compared" in warning
    assert not any("covariances with **K" in m.value for m in app.at.markdown)  # no best type from nothing
    assert app.errors == [] and app.at.success  # the sweep over K still gave its best K
