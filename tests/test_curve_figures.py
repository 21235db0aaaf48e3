"""dashboard.curve_figures: score curve with the stopping rule, model selection, bars."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import curve_figures, figure_style
from em_core.stepping import relative_gain_converged
from tests.figure_checks import annotation_texts, serialise

EM_RULE = relative_gain_converged(1e-6)  # the course's rule


@pytest.mark.parametrize("rule", [None, EM_RULE])
def test_score_curve_without_scores_says_press_step(rule):
    fig = curve_figures.score_curve([], rule=rule)
    serialise(fig)
    assert "Press Step to start" in annotation_texts(fig)
    assert not fig.data


def test_score_curve_with_one_score_draws_one_point():
    fig = curve_figures.score_curve([-123.4], rule=EM_RULE, current=1)
    serialise(fig)
    assert list(fig.data[0].x) == [1] and list(fig.data[0].y) == [-123.4]
    assert "the gain appears from iteration 2" in annotation_texts(fig)


def test_score_curve_gain_against_threshold_on_a_log_axis():
    scores = [-1500.0, -1300.0, -1250.0, -1249.999, -1250.5]  # the last gain is negative
    fig = curve_figures.score_curve(scores, rule=EM_RULE, current=3)
    serialise(fig)
    by_name = {trace.name: trace for trace in fig.data}
    ll = by_name["log-likelihood"]
    assert list(ll.x) == [1, 2, 3, 4, 5] and list(ll.y) == scores
    gain = next(t for name, t in by_name.items() if name.startswith("gain LL"))
    threshold = next(t for name, t in by_name.items() if name.startswith("threshold"))
    assert list(gain.x) == [2, 3, 4, 5]
    assert gain.y[:3] == pytest.approx([200.0, 50.0, 0.001]) and gain.y[3] is None
    assert threshold.y == pytest.approx([1e-6 * abs(s) for s in scores[1:]])
    # the non-positive gain is shown at a floor under everything else, with its true value
    floor = next(t for name, t in by_name.items() if name.startswith("gain ≤ 0"))
    assert list(floor.x) == [5] and floor.customdata[0] == pytest.approx(-0.501)
    assert 0 < floor.y[0] < min(min(gain.y[:3]), min(threshold.y))
    assert fig.layout.yaxis2.type == "log"
    assert fig.layout.xaxis2.title.text == "iteration"
    # the scrubbed iteration is marked across both rows
    assert [shape.x0 for shape in fig.layout.shapes] == [3, 3]


def test_score_curve_for_kmeans_cost_names_the_cost():
    fig = curve_figures.score_curve([10.0, 8.0, 8.0], score_name="cost", current=2)
    serialise(fig)
    assert fig.data[0].name == "K-means cost"
    assert fig.layout.yaxis.title.text == "K-means cost"
    assert fig.layout.shapes[0].x0 == 2


def test_score_curve_legend_only_with_two_rows():
    single = curve_figures.score_curve([-3.0, -2.0, -1.5], current=2)
    assert single.layout.showlegend is False  # the y axis already names the one series
    both = curve_figures.score_curve([-3.0, -2.0, -1.5], rule=EM_RULE, current=2)
    assert both.layout.showlegend is not False
    assert {t.name for t in both.data if t.showlegend is not False} >= {
        "log-likelihood",
        "threshold tol·|LL<sub>t</sub>|",
    }


def test_model_selection_stacks_one_panel_per_score_and_marks_best_k():
    series = {"K-means cost": [10.0, 6.0, 5.0], "EM log-likelihood": [-50.0, -40.0, -39.0], "BIC": [-55, -48, -50]}
    fig = curve_figures.model_selection_figure([1, 2, 3], series, best_k=2, title="choose K")
    serialise(fig)
    assert annotation_texts(fig) == list(series)  # the panel titles
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [(t.x[0], t.y[0]) for t in stars] == [(2, 6.0), (2, -40.0), (2, -48.0)]
    assert {t.yaxis for t in stars} == {"y", "y2", "y3"}  # each score on its own scale
    assert all(shape.x0 == 2 for shape in fig.layout.shapes) and len(fig.layout.shapes) == 3


def test_model_selection_edge_cases():
    assert "No scores yet" in annotation_texts(curve_figures.model_selection_figure([], {}))[0]
    serialise(curve_figures.model_selection_figure([1], {"BIC": [float("nan")]}, best_k=1))
    with pytest.raises(ValueError, match="series 'BIC' has 1 values for 2 Ks"):
        curve_figures.model_selection_figure([1, 2], {"BIC": [1.0]})


def test_bar_chart_highlights_one_bar_and_marks_missing_values():
    fig = curve_figures.bar_chart(
        ["mean", "EM K=1", "EM K=12"], [1.1, float("nan"), 0.48], value_title="RMSE", highlight=2
    )
    serialise(fig)
    (bar,) = fig.data
    assert list(bar.y) == [1.1, None, 0.48]
    assert list(bar.text) == ["1.1", "n/a", "0.48"]
    assert bar.marker.color[2] == figure_style.ACCENT_COLOR
    assert bar.marker.color[0] == bar.marker.color[1] != figure_style.ACCENT_COLOR
    assert fig.layout.yaxis.title.text == "RMSE"
    serialise(curve_figures.bar_chart([], []))


def test_posterior_bars_against_prior():
    fig = curve_figures.posterior_bars(np.array([0.7, 0.2, 0.1]), prior=np.array([0.31, 0.44, 0.25]))
    serialise(fig)
    bars, key, prior = fig.data
    # the legend's key for the bars is neutral: each bar has its component's colour, the first is no key
    assert bars.showlegend is False and key.marker.color == figure_style.NEUTRAL_KEY
    assert key.marker.color not in figure_style.component_colors(12)
    assert list(bars.y) == [0.7, 0.2, 0.1] and list(bars.x) == ["j=1", "j=2", "j=3"]
    assert list(bars.marker.color) == figure_style.component_colors(3)
    assert list(prior.y) == [0.31, 0.44, 0.25]
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 1
    serialise(curve_figures.posterior_bars(np.array([1.0])))  # K=1, no prior
    with pytest.raises(ValueError, match="prior has 2 weights, the posterior 3"):
        curve_figures.posterior_bars(np.ones(3) / 3, prior=np.ones(2) / 2)


def test_posterior_bars_label_only_visible_bars():
    post_row = np.zeros(12)
    post_row[[1, 3, 4]] = [0.62, 0.372, 0.008]
    fig = curve_figures.posterior_bars(post_row, prior=np.full(12, 1 / 12))
    serialise(fig)
    bars = fig.data[0]
    labelled = {label: text for label, text in zip(bars.x, bars.text, strict=True) if text}
    assert labelled == {"j=2": "0.62", "j=4": "0.37"}  # no "0.00" and no "0.01" for 0.008
    assert bars.cliponaxis is False and fig.layout.yaxis.range[1] >= 1.05  # room above a bar of 1.00
    # the legend sits below the plot, clear of the bars
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.yref == "container"
    assert [t.name for t in fig.data if t.showlegend is not False] == ["posterior p(j | x)", "prior p<sub>j</sub>"]
