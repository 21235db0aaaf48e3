"""Presentation mode without a browser: dashboard.presentation's sizes and the 2-D pages' layout in AppTest.

The browser's view of the same (bounding boxes, computed font sizes at 1280x720 and 420x800) is in
tests/test_presentation_layout.py.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard import curve_figures, presentation
from dashboard.mixture_figures import GHOST_NAME, points_figure
from em_core.mixture import GaussianMixture
from tests.apptest_helpers import STEPPERS, Dashboard

# ---------------------------------------------------------------- the figure sizes


def _mixture_figure() -> go.Figure:
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(-2, 1, (40, 2)), rng.normal(2, 1, (40, 2))])
    post = np.repeat([[0.9, 0.1], [0.2, 0.8]], 40, axis=0)
    mixture = GaussianMixture(np.array([[-2.0, 0.0], [2.0, 0.0]]), np.array([1.0, 1.0]), np.array([0.5, 0.5]))
    before = GaussianMixture(np.array([[-1.0, 0.5], [1.0, -0.5]]), np.array([2.0, 2.0]), np.array([0.5, 0.5]))
    return points_figure(X, post, mixture, title="Iteration 1 — after the M-step", previous=before)


def _text_sizes(fig: go.Figure) -> list[float]:
    """Every size a text of the figure is drawn at (unset sizes fall back to the layout's font)."""
    layout = fig.layout
    base = layout.font.size
    sizes = [layout.title.font.size or base] if layout.title.text else []  # no title: none drawn
    for axis in (layout.xaxis, layout.yaxis):
        sizes += [axis.tickfont.size or base, axis.title.font.size or base]
    sizes += [note.font.size or base for note in layout.annotations]
    sizes += [trace.textfont.size or base for trace in fig.data if trace.type == "scatter" and trace.text is not None]
    return sizes


# the figure as its builder returns it (a spec not yet validated, where dashboard.plotly_spec builds it), and
# as a validated go.Figure (the lesson pages' figures)
FORMS = {"built": lambda fig: fig, "validated": lambda fig: go.Figure(fig.to_dict())}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("role", ["main", "side", "row", "points"])
def test_every_text_of_a_sized_figure_is_projector_sized(role: str, form: str):
    fig = presentation.sized(FORMS[form](_mixture_figure()), role)
    sizes = _text_sizes(fig)
    assert None not in sizes and min(sizes) >= presentation.FONT_PX, sizes
    assert fig.layout.showlegend is False  # the on-plot labels name the components
    arrows = [note.arrowwidth for note in fig.layout.annotations if note.showarrow]
    assert arrows and min(arrows) == presentation.ARROW_WIDTH


def test_the_main_chart_gives_its_title_to_the_column_beside_it_and_fills_its_box():
    fig = presentation.sized(_mixture_figure(), "main")
    assert not fig.layout.title.text  # the column beside the chart is headed by it
    assert fig.layout.height == presentation.MAIN_HEIGHT
    # equal scaling still holds, but the axis with room to spare widens its range instead of its plot shrinking
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    assert fig.layout.xaxis.constrain == "range" and fig.layout.yaxis.constrain == "range"
    row = presentation.sized(_mixture_figure(), "row")
    assert row.layout.title.text == "Iteration 1 — after the M-step"
    assert row.layout.xaxis.constrain == "domain"  # a chart in a row keeps its fitted ranges


@pytest.mark.parametrize("form", FORMS)
def test_sizing_makes_a_new_figure_and_leaves_the_one_given_as_it_was(form: str):
    # a cached figure is sized where it is shown: the cache must keep the figure as built
    fig = FORMS[form](_mixture_figure())
    before = fig.to_dict()
    sized = presentation.sized(fig, "main")
    assert sized is not fig and type(sized) is type(fig)
    assert fig.to_dict() == before
    assert sized.to_dict()["layout"]["height"] == presentation.MAIN_HEIGHT
    # a figure still in its spec form is not validated on the way (the slow part of a Step)
    assert getattr(sized, "pending", None) == getattr(fig, "pending", None)


def test_the_score_curve_beside_the_chart_keeps_no_title_to_be_cut():
    """Beside a 2-D page's chart the curve has 6 px above its plot (its axis says what it plots): the empty
    curve's title "log-likelihood" was drawn half outside the chart, cut under the scrub buttons."""
    side = presentation.sized(curve_figures.score_curve([], "log_likelihood"), "side")
    assert not side.layout.title.text and presentation.SIDE_MARGIN["t"] < 20
    assert [note.text for note in side.layout.annotations] == ["Press Step to start"]
    assert presentation.sized(curve_figures.score_curve([], "log_likelihood"), "row").layout.title.text


def test_a_height_given_replaces_the_roles():
    assert presentation.sized(_mixture_figure(), "row", height=333).layout.height == 333


def test_size_leaves_a_figure_alone_outside_presentation_mode(monkeypatch):
    monkeypatch.setattr(presentation, "is_on", lambda: False)
    fig = _mixture_figure()
    before = fig.to_plotly_json()
    assert presentation.size(fig, "main") is fig
    assert fig.to_plotly_json() == before


def test_size_sizes_in_presentation_mode(monkeypatch):
    monkeypatch.setattr(presentation, "is_on", lambda: True)
    assert presentation.size(_mixture_figure(), "row").layout.height == presentation.CHART_HEIGHT


def test_axes_of_a_two_row_figure_are_all_sized():
    fig = go.Figure([go.Scatter(x=[1, 2], y=[1, 2]), go.Scatter(x=[1, 2], y=[3, 4], xaxis="x2", yaxis="y2")])
    fig.update_layout(xaxis2=dict(domain=[0, 1]), yaxis2=dict(domain=[0, 0.4]))
    fig = presentation.sized(fig, "row")
    assert fig.layout.xaxis2.tickfont.size == fig.layout.yaxis2.tickfont.size == presentation.FONT_PX


@pytest.mark.parametrize(
    ("width", "height", "share"),
    [
        (13.0, 10.0, None),  # a little wider than tall: what the plot area needs at MAIN_HEIGHT
        (100.0, 1.0, presentation.MAIN_SHARE[1]),  # a wide strip: at most three quarters
        (1.0, 100.0, presentation.MAIN_SHARE[0]),  # a tall column: at least half (the curve needs no more)
    ],
)
def test_the_points_chart_takes_the_width_its_equal_scaling_needs(width: float, height: float, share):
    X = np.array([[0.0, 0.0], [width, height]])
    got = presentation.main_share(X)
    if share is None:
        margin = presentation.MAIN_MARGIN
        plot = presentation.MAIN_HEIGHT - margin["t"] - margin["b"]
        share = (plot * width / height + margin["l"] + margin["r"]) / presentation.ROW_WIDTH
        assert presentation.MAIN_SHARE[0] < share < presentation.MAIN_SHARE[1]
    assert got == pytest.approx(share)


# ---------------------------------------------------------------- the 2-D pages in AppTest


def _markdown(app: Dashboard) -> list[str]:
    return [element.value for element in app.at.markdown]


@pytest.mark.parametrize(("page_name", "half"), [("em2d", "E-step"), ("kmeans", "assignment")])
def test_a_2d_page_in_presentation_mode_heads_the_side_column_with_the_charts_state(page_name: str, half: str):
    prefix = STEPPERS[page_name].prefix
    app = Dashboard(page=page_name, link={"dataset": "demo-2d", "present": "1"})
    assert not app.at.exception
    heading = "#### Iteration 0 — initial"
    assert heading in _markdown(app)
    figure = app.figure(f"{prefix}_points")
    assert not figure["layout"].get("title", {}).get("text")
    assert figure["layout"]["height"] == presentation.MAIN_HEIGHT
    app.click(f"{prefix}_estep")
    assert f"#### Iteration 1 — after the {half}" in _markdown(app)
    assert heading not in _markdown(app)
    # the narration beside the chart is em_core's sentence for the step just taken
    slot = app.fit(STEPPERS[page_name].slot)
    assert slot.last[-1].sentence in _markdown(app)
    legend = presentation.keys_legend(slot.method.half_labels)
    assert legend in _markdown(app)
    # each page names the half-steps its own way: EM's legend has no K-means words, K-means' no E-step
    kmeans = page_name == "kmeans"
    assert ("Assign" in legend) == kmeans and ("E-step" in legend) == (not kmeans)


def test_after_an_m_step_in_presentation_mode_the_ghost_means_and_their_arrows_stay():
    app = Dashboard(page="em2d", link={"dataset": "demo-2d", "present": "1"})
    app.click("em2d_estep").click("em2d_mstep")
    figure = app.figure("em2d_points")
    assert any(trace.get("name") == GHOST_NAME for trace in figure["data"])
    arrows = [note for note in figure["layout"]["annotations"] if note.get("showarrow", True) and "ax" in note]
    assert arrows and all(note["arrowwidth"] == presentation.ARROW_WIDTH for note in arrows)
    assert "#### Iteration 1 — after the M-step" in _markdown(app)
