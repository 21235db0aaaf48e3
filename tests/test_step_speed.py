"""A Step rebuilds only what it changed, computes each number once, and the matrix page's small bugs
(issue 11): the link follows the scrub slider; circles no one can see are not drawn.

AppTest runs the page in this process, so a builder is counted by wrapping it (``counting``).
"""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from dashboard import caches, curve_figures, matrix_figures, matrix_views, mixture_figures
from em_core import diagnostics, em, init, narration, stepping
from em_core.experiment import algorithm_for
from tests.apptest_helpers import STEPPERS, Dashboard
from tests.helpers import random_ratings

MIN_VARIANCE = 0.25


@pytest.fixture
def counting(monkeypatch):
    """How often each chart builder of the matrix page ran (the figure cache emptied first)."""
    calls: Counter = Counter()
    for module, name in [
        (curve_figures, "score_curve"),
        (curve_figures, "posterior_bars"),
        (mixture_figures, "mixture_scatter"),
        (matrix_figures, "means_heatmap"),
    ]:
        original = getattr(module, name)

        def counted(*args, _original=original, _name=name, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    caches._figure.clear()
    return calls


def test_each_half_step_rebuilds_only_the_charts_it_changed(counting):
    app = Dashboard("demo-small", page="matrix")
    app.click("emx_step")
    counting.clear()
    app.click("emx_estep")  # new posterior and LL; the mixture (the means) stays
    assert counting == Counter(score_curve=1, posterior_bars=1, mixture_scatter=1)
    counting.clear()
    app.click("emx_mstep")  # new mixture; the LL curve (no new score, same iteration marked) stays
    assert counting == Counter(posterior_bars=1, mixture_scatter=1, means_heatmap=1)
    counting.clear()
    app.set_toggle("emx_formulas", True)  # nothing the charts show changed
    assert counting == Counter()


def test_a_step_completes_the_matrix_once(monkeypatch):
    """The users' map and the collapse report both need the completion by the new mixture, and the
    report the posterior under it: one fill_matrix and one E-step of the new mixture per Step."""
    app = Dashboard("demo-small", page="matrix", link={"k": "4", "seed": "0"})
    app.click("emx_step")
    completions, esteps = [], []

    def counting(original, calls):
        def counted(X, mixture, *args, **kwargs):
            calls.append(caches.mixture_digest(mixture))
            return original(X, mixture, *args, **kwargs)

        return counted

    fill, estep = counting(em.fill_matrix, completions), counting(em.estep, esteps)
    monkeypatch.setattr(em, "fill_matrix", fill)
    monkeypatch.setattr(diagnostics, "fill_matrix", fill)  # its own name for it
    monkeypatch.setattr(em, "estep", estep)
    monkeypatch.setattr(diagnostics, "estep", estep)
    caches.user_map.clear()  # another test may have fitted the same mixture: compute, do not find
    caches.collapse_findings.clear()
    app.click("emx_step")
    new = caches.mixture_digest(app.fit("matrix").state.mixture)
    assert completions == [new]
    assert esteps.count(new) == 1, "the collapse report takes the completion's posterior, not an E-step of its own"
    completions.clear()
    app.click("emx_estep")  # the same mixture: the map and the report come from their caches
    assert completions == []


def test_students_on_one_link_share_the_2d_charts(monkeypatch):
    """A class on one link steps through the same fits: each iteration's points chart and score curve is
    built once on the server, not once per student (on demo-2d a fifth of a click's CPU)."""
    built: Counter = Counter()
    for module, name in [(mixture_figures, "points_figure"), (curve_figures, "score_curve")]:
        original = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _o=original, _n=name, **k: built.update([_n]) or _o(*a, **k))
    caches._figure.clear()
    first, second = Dashboard("demo-2d", page="em2d"), Dashboard("demo-2d", page="em2d")
    first.step("em2d", 2)
    alone = Counter(built)
    second.step("em2d", 2)
    assert built == alone, "the second student's charts came from the cache"
    assert first.chart_spec("em2d_points") == second.chart_spec("em2d_points")
    second.click("em2d_estep")  # a state the first has not reached: built for it
    assert built["points_figure"] == alone["points_figure"] + 1


def test_the_rating_range_is_found_once_per_data_set(monkeypatch):
    """The collapse report's rating range is the data set's: one pass over the matrix, not one per Step."""
    app = Dashboard("demo-small", page="matrix", link={"k": "4", "seed": "0"})
    calls = []
    original = diagnostics.observed_range
    monkeypatch.setattr(diagnostics, "observed_range", lambda X: calls.append(1) or original(X))
    caches.rating_range.clear()
    app.click("emx_step").click("emx_step").click("emx_step")
    assert len(calls) == 1


def test_the_heatmap_items_are_chosen_once_per_data_set(monkeypatch):
    """The means heatmap draws the data set's most rated items: its ratings are counted once, not on
    every Step (a tenth of a Step's server time on the course's matrix)."""
    app = Dashboard("demo-small", page="matrix", link={"k": "4", "seed": "0"})
    calls = []
    original = matrix_views.corner
    monkeypatch.setattr(matrix_views, "corner", lambda X, *a, **k: calls.append(1) or original(X, *a, **k))
    caches.drawn_corner.clear()
    caches._figure.clear()  # another test may have drawn the same heatmaps: build them here
    app.click("emx_step").click("emx_step").click("emx_step")
    assert len(calls) == 1


def test_observed_range_skips_the_missing_zeros():
    X = np.array([[0.0, -2.5, 4.0], [3.0, 0.0, 0.0]])
    assert diagnostics.observed_range(X) == (-2.5, 4.0)
    assert diagnostics.observed_range(np.array([[0.0, 2.0], [3.0, 0.0]])) == (2.0, 3.0)
    with pytest.raises(ValueError):
        diagnostics.observed_range(np.zeros((2, 2)))
    # given, the report uses it as it would have found it
    X = random_ratings(50, 12, missing=0.6, seed=4)
    mixture, post = init(X, 3, 0)
    found = diagnostics.collapse_report(X, mixture, mixture, MIN_VARIANCE)
    given = diagnostics.collapse_report(X, mixture, mixture, MIN_VARIANCE, rating_range=diagnostics.observed_range(X))
    assert given.rating_range == found.rating_range
    np.testing.assert_array_equal(given.out_of_range, found.out_of_range)


def test_a_step_draws_what_the_fit_holds_after_it(counting):
    """The cached charts are the current ones: the LL curve ends at the new score, the means are the new means."""
    app = Dashboard("demo-small", page="matrix")
    app.step("emx", 2)
    state = app.fit("matrix").state
    curve = app.figure("emx_ll")
    top = next(trace for trace in curve["data"] if trace.get("name") == "log-likelihood")
    np.testing.assert_allclose(np.asarray(top["y"], dtype=float), state.scores)
    means = app.figure("emx_means")
    shown = np.array([[np.nan if v is None else v for v in row] for row in means["data"][0]["z"]], dtype=float)
    # the heatmap sends its means to 3 decimals (payload), enough for a rating
    np.testing.assert_allclose(shown[np.isfinite(shown)], state.mixture.mu[np.isfinite(shown)], atol=5e-4)


@pytest.mark.parametrize("page_name", ["kmeans", "em2d", "matrix"])
def test_scrubbing_back_puts_the_shown_iteration_in_the_link(page_name):
    dataset = "demo-small" if page_name == "matrix" else "demo-2d"
    prefix = STEPPERS[page_name].prefix
    app = Dashboard(dataset, page=page_name)
    app.step(prefix, 4)
    assert dict(app.at.query_params)["it"] == "4"
    app.scrub(prefix, 2)
    assert dict(app.at.query_params)["it"] == "2"  # was "4": the link reopened another view
    app.scrub(prefix, 4)
    assert dict(app.at.query_params)["it"] == "4"
    link = dict(app.at.query_params) | {"it": "2"}
    assert Dashboard(page=page_name, link=link).status().iteration == 2


def test_collapse_report_takes_the_support_mask_the_narration_computed():
    """One support product per M-step: the narration's mask gives the report the same "no data"."""
    X = random_ratings(60, 15, missing=0.7, seed=3)
    algorithm = algorithm_for("em", MIN_VARIANCE)
    mixture, post = init(X, 6, 0)
    state = stepping.start(mixture, post)
    for _ in range(3):
        previous, state = state, stepping.step(algorithm, X, state)
    entry = narration.log_entries(algorithm, X, state, previous, MIN_VARIANCE)[-1]
    assert entry.half == "M" and entry.change.not_updated is not None
    by_post = diagnostics.collapse_report(X, state.mixture, mixture, MIN_VARIANCE, post=state.post)
    by_mask = diagnostics.collapse_report(X, state.mixture, mixture, MIN_VARIANCE, not_updated=entry.change.not_updated)
    np.testing.assert_array_equal(by_mask.kept_from_init, by_post.kept_from_init)
    assert by_mask.sentences() == by_post.sentences()
    np.testing.assert_array_equal(by_mask.X_pred, em.fill_matrix(X, state.mixture))
    with pytest.raises(ValueError, match=r"not_updated has shape \(2, 15\), the means \(6, 15\)"):
        diagnostics.collapse_report(X, state.mixture, mixture, MIN_VARIANCE, not_updated=np.zeros((2, 15), bool))
    # the posterior under the mixture, given, gives the report it would have made itself
    current = em.estep(X, state.mixture)[0]
    given = diagnostics.collapse_report(X, state.mixture, mixture, MIN_VARIANCE, post=state.post, current_post=current)
    np.testing.assert_array_equal(given.strongest, by_post.strongest)
    assert given.collapsed == by_post.collapsed and given.sentences() == by_post.sentences()
    with pytest.raises(ValueError, match=r"current_post has shape \(60, 2\), expected \(60, 6\)"):
        diagnostics.collapse_report(X, state.mixture, mixture, MIN_VARIANCE, current_post=current[:, :2])


def test_fill_matrix_with_the_posterior_given_completes_as_without():
    X = random_ratings(40, 9, missing=0.5, seed=1)
    mixture, _ = init(X, 3, 2)
    post, _ = em.estep(X, mixture)
    np.testing.assert_array_equal(em.fill_matrix(X, mixture, post), em.fill_matrix(X, mixture))


@pytest.mark.course
def test_no_circle_is_drawn_where_none_could_be_seen(course_dir):
    """On Netflix the σ circles are far below a pixel: the caption says so and the chart sends none."""
    app = Dashboard(page="matrix", link={"dataset": "netflix", "k": "12", "seed": "0"})
    app.click("emx_step")
    caption = next(text for text in app.captions if text.startswith("Users projected"))
    assert "too small against the users' spread" in caption and "none is drawn" in caption
    names = [trace.get("name", "") for trace in app.figure("emx_pca")["data"]]
    assert not [name for name in names if "σ" in name]
    # what a Step sends: the means as float32 and no per-cell item numbers when every item is drawn
    # (x is the item), so the four charts together stay well under the 474 KiB a Step sent before
    means = json.loads(app.chart_spec("emx_means"))["data"][0]
    assert means["z"]["dtype"] == "f4" and "customdata" not in means and "item %{x}" in means["hovertemplate"]
    grey = json.loads(app.chart_spec("emx_means"))["data"][1]
    assert grey["hoverongaps"] is False  # hovering a mean under the grey layer's gaps reads the mean
    sent = sum(len(app.chart_spec(key)) for key in app.chart_keys())
    assert sent < 360 * 1024, f"the charts of one Step send {sent / 1024:.0f} KiB"
    small = Dashboard("demo-small", page="matrix")
    small.step("emx", 3)
    names = [trace.get("name", "") for trace in small.figure("emx_pca")["data"]]
    assert any(name.endswith("1σ") for name in names)


def test_each_step_log_sentence_is_written_once(monkeypatch):
    """The step log shows every entry again on every run; each entry's sentence is written once, when
    em_core makes the entry (writing them all on every click grew with the log and was 8 % of a demo-2d
    click's server time)."""
    written = []
    for change in (narration.EStepChange, narration.MStepChange):
        original = change.sentence

        def counted(self, original=original):
            written.append(self.iteration)
            return original.fget(self)

        monkeypatch.setattr(change, "sentence", property(counted))
    app = Dashboard("demo-2d", page="em2d", link={"k": "3", "seed": "0"})
    for _ in range(4):
        app.click("em2d_step")
    entries = list(app.fit("em2d").log)
    assert len(entries) == 8
    assert sorted(written) == sorted(entry.iteration for entry in entries)  # once each, not once per run
    log = [m.value for m in app.at.markdown if m.value.startswith("- ")]
    assert log == ["\n".join(f"- {entry.sentence}" for entry in reversed(entries))]
