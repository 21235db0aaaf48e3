"""Tests of the figure builders: what a viewer would see, checked on the figure's data."""

from __future__ import annotations

import base64
import io
import json

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from PIL import Image
from plotly.colors import hex_to_rgb

from dashboard import figures
from em_core.mixture import GaussianMixture
from tests.conftest import random_ratings

MB = 1_000_000


# ----------------------------------------------------------------------------- helpers


def _reject_constant(token: str):
    raise AssertionError(f"figure JSON contains {token}")


def _finite_numbers(node, path="fig"):
    """Walk decoded figure JSON; fail on any NaN/inf, including inside base64 typed arrays."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            values = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
            assert np.isfinite(values).all(), f"non-finite number in {path}"
            return
        for key, value in node.items():
            _finite_numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _finite_numbers(value, f"{path}[{index}]")


def serialise(fig: go.Figure) -> str:
    """The JSON the browser gets, after checking the figure is sound: no NaN/inf, house template."""
    assert isinstance(fig, go.Figure)
    text = fig.to_json()
    _finite_numbers(json.loads(text, parse_constant=_reject_constant))
    assert fig.layout.template == pio.templates[figures.TEMPLATE]
    return text


def traces(fig: go.Figure, kind: str) -> list:
    return [trace for trace in fig.data if trace.type == kind]


def annotation_texts(fig: go.Figure) -> list[str]:
    return [annotation.text for annotation in fig.layout.annotations]


def rgb_string(hex_color: str) -> str:
    r, g, b = hex_to_rgb(hex_color)
    return f"rgb({r},{g},{b})"


def decode_image(trace) -> np.ndarray:
    """The RGB pixels of a go.Image trace's data-URI source, shape (n, d, 3)."""
    header, payload = trace.source.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def toy_mixture(seed: int = 0, n_per: int = 30):
    """Three well-separated 2-D blobs, a mixture near them and a posterior from distances."""
    rng = np.random.RandomState(seed)
    mu = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    var = np.array([1.0, 0.25, 2.25])
    p = np.array([0.31, 0.44, 0.25])
    X = np.vstack([rng.normal(m, np.sqrt(v), (n_per, 2)) for m, v in zip(mu, var, strict=True)])
    post = np.exp(-((X[:, None, :] - mu[None]) ** 2).sum(axis=2))
    post /= post.sum(axis=1, keepdims=True)
    return X, post, GaussianMixture(mu, var, p)


# ----------------------------------------------------------------------------- colours


def test_component_colors_distinct_up_to_12_then_cycle():
    colors = figures.component_colors(12)
    assert len(set(colors)) == 12
    assert all(c.startswith("#") and len(c) == 7 for c in colors)
    assert figures.component_colors(14)[12:] == colors[:2]
    assert figures.component_colors(0) == []


def test_blend_of_one_hot_row_is_the_component_colour():
    post = np.eye(4)[[2, 0]]
    colors = figures.component_colors(4)
    assert figures.blend_colors(post) == [rgb_string(colors[2]), rgb_string(colors[0])]


def test_blend_of_fifty_fifty_row_is_the_midpoint():
    first, second = (np.array(hex_to_rgb(c)) for c in figures.component_colors(2))
    (blend,) = figures.blend_colors(np.array([[0.5, 0.5]]))
    channels = np.array([int(v) for v in blend[4:-1].split(",")])
    assert np.abs(channels - (first + second) / 2).max() <= 0.5


# ----------------------------------------------------------------------------- matrices


def test_large_matrix_is_a_small_png_image_with_missing_in_grey():
    X = random_ratings(1200, 1200, missing=0.23, seed=0)
    missing = X == 0
    fig = figures.matrix_image(X, missing, title="ratings")
    size = len(serialise(fig))
    assert size < 1.5 * MB, f"{size / MB:.2f} MB"
    assert not traces(fig, "heatmap")
    (image,) = traces(fig, "image")
    pixels = decode_image(image)
    assert pixels.shape == (1200, 1200, 3)
    # what the viewer sees: grey where missing, the ends of Viridis for ratings 1 and 5
    assert (pixels[missing] == hex_to_rgb(figures.MISSING_COLOR)).all()
    assert (pixels[X == 1] == hex_to_rgb("#440154")).all()
    assert (pixels[X == 5] == hex_to_rgb("#fde725")).all()
    # a colour bar is still shown, the axes say what rows and columns are, rows run downwards
    assert any(t.type == "scatter" and t.marker.showscale for t in fig.data)
    assert "user" in image.hovertemplate and "item" in image.hovertemplate
    assert (fig.layout.xaxis.title.text, fig.layout.yaxis.title.text) == ("item", "user")
    assert fig.layout.yaxis.range[0] > fig.layout.yaxis.range[1]
    assert "missing" in [t.name for t in traces(fig, "scatter") if t.showlegend]


def test_small_matrix_heatmap_shows_missing_cells_in_grey():
    X = np.array([[5.0, 0.0, 3.0], [0.0, 1.0, 4.0]])
    fig = figures.matrix_image(X, X == 0)
    serialise(fig)
    missing_layer, values = traces(fig, "heatmap")
    # cell (user 1, item 2) is missing: a gap in the value layer, grey in the layer underneath
    assert values.z[0][1] is None and missing_layer.z[0][1] == 1
    assert {color for _, color in missing_layer.colorscale} == {figures.MISSING_COLOR}
    assert missing_layer.z[0][0] is None and values.z[0][0] == 5
    assert values.text[0][1] == "missing" and values.text[1][2] == "4"
    assert "user" in values.hovertemplate and "item" in values.hovertemplate
    assert (values.zmin, values.zmax) == (1.0, 5.0)
    # users and items are numbered from 1, like the pages
    assert (values.x0, values.y0) == (1, 1)


@pytest.mark.parametrize(
    "M, missing",
    [
        (np.zeros((3, 4)), np.ones((3, 4), bool)),  # all missing
        (np.full((1, 1), 2.0), None),  # a single observed cell, no mask
        (np.array([[np.nan, 2.0], [np.inf, 3.0]]), None),  # non-finite values are drawn as missing
        (np.zeros((300, 300)), np.ones((300, 300), bool)),  # all missing, image path
    ],
)
def test_matrix_image_edge_cases_serialise(M, missing):
    fig = figures.matrix_image(M, missing)
    serialise(fig)
    assert len(fig.data) >= 1


def test_matrix_image_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"mask has shape \(2, 2\), the matrix \(2, 3\)"):
        figures.matrix_image(np.ones((2, 3)), np.ones((2, 2), bool))


def test_means_heatmap_of_12_by_1200_is_small_and_labelled():
    mu = np.random.RandomState(0).uniform(1, 5, (12, 1200))
    fig = figures.means_heatmap(mu, title="means")
    assert len(serialise(fig)) < 1.5 * MB
    (heatmap,) = fig.data
    assert list(heatmap.y) == [f"j={j}" for j in range(1, 13)]
    assert np.allclose(heatmap.z, mu, atol=1e-3)
    assert "component" in heatmap.hovertemplate and "item" in heatmap.hovertemplate
    assert fig.layout.yaxis.autorange == "reversed"  # j=1 on top
    serialise(figures.means_heatmap(np.full((1, 1), 3.0)))  # K=1, one item


def test_rating_histogram_has_one_bar_per_rating():
    X = random_ratings(50, 40, missing=0.3, seed=1)
    values = X[X > 0]
    fig = figures.rating_histogram(values)
    serialise(fig)
    (bar,) = fig.data
    assert list(bar.x) == [1, 2, 3, 4, 5]
    assert list(bar.y) == [int((values == r).sum()) for r in range(1, 6)]


def test_rating_histogram_bins_continuous_values_and_handles_none():
    values = np.random.RandomState(2).normal(3, 1, 1000)
    (bar,) = figures.rating_histogram(values).data
    assert len(bar.x) == 40 and sum(bar.y) == 1000
    empty = figures.rating_histogram(np.array([]))
    serialise(empty)
    assert annotation_texts(empty) == ["No observed values"]


# ----------------------------------------------------------------------------- scores


@pytest.mark.parametrize("tol", [None, 1e-6])
def test_score_curve_without_scores_says_press_step(tol):
    fig = figures.score_curve([], tol=tol)
    serialise(fig)
    assert "Press Step to start" in annotation_texts(fig)
    assert not fig.data


def test_score_curve_with_one_score_draws_one_point():
    fig = figures.score_curve([-123.4], tol=1e-6, current=1)
    serialise(fig)
    assert list(fig.data[0].x) == [1] and list(fig.data[0].y) == [-123.4]
    assert "the gain appears from iteration 2" in annotation_texts(fig)


def test_score_curve_gain_against_threshold_on_a_log_axis():
    scores = [-1500.0, -1300.0, -1250.0, -1249.999, -1250.5]  # the last gain is negative
    fig = figures.score_curve(scores, tol=1e-6, current=3)
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
    fig = figures.score_curve([10.0, 8.0, 8.0], score_name="cost", current=2)
    serialise(fig)
    assert fig.data[0].name == "K-means cost"
    assert fig.layout.yaxis.title.text == "K-means cost"
    assert fig.layout.shapes[0].x0 == 2


def test_model_selection_stacks_one_panel_per_score_and_marks_best_k():
    series = {"K-means cost": [10.0, 6.0, 5.0], "EM log-likelihood": [-50.0, -40.0, -39.0], "BIC": [-55, -48, -50]}
    fig = figures.model_selection_figure([1, 2, 3], series, best_k=2, title="choose K")
    serialise(fig)
    assert annotation_texts(fig) == list(series)  # the panel titles
    stars = [t for t in fig.data if t.marker.symbol == "star"]
    assert [(t.x[0], t.y[0]) for t in stars] == [(2, 6.0), (2, -40.0), (2, -48.0)]
    assert {t.yaxis for t in stars} == {"y", "y2", "y3"}  # each score on its own scale
    assert all(shape.x0 == 2 for shape in fig.layout.shapes) and len(fig.layout.shapes) == 3


def test_model_selection_edge_cases():
    assert "No scores yet" in annotation_texts(figures.model_selection_figure([], {}))[0]
    serialise(figures.model_selection_figure([1], {"BIC": [float("nan")]}, best_k=1))
    with pytest.raises(ValueError, match="series 'BIC' has 1 values for 2 Ks"):
        figures.model_selection_figure([1, 2], {"BIC": [1.0]})


# ----------------------------------------------------------------------------- mixtures


def test_mixture_scatter_draws_sigma_circles_means_and_weights():
    X, post, mixture = toy_mixture()
    sigmas = np.sqrt(mixture.var)
    fig = figures.mixture_scatter(X, post, mixture.mu, sigmas, mixture.p, title="EM")
    serialise(fig)
    points = fig.data[0]
    assert points.type == "scatter" and len(points.x) == len(X)
    assert list(points.marker.color) == figures.blend_colors(post)
    assert points.hovertext[0].startswith("point 1<br>j=1: ")
    colors = figures.component_colors(3)
    for j in range(3):
        circles = [t for t in fig.data if t.mode == "lines" and t.legendgroup == f"j={j + 1}"]
        assert len(circles) == 2
        for level, circle in zip((1, 2), circles, strict=True):
            radius = np.hypot(np.asarray(circle.x) - mixture.mu[j, 0], np.asarray(circle.y) - mixture.mu[j, 1])
            assert radius == pytest.approx(level * sigmas[j])
            assert circle.line.color == colors[j]
        assert [c.line.dash for c in circles] == ["solid", "dash"]
        (mean,) = [t for t in fig.data if t.mode == "markers+text" and t.legendgroup == f"j={j + 1}"]
        assert (mean.x[0], mean.y[0]) == tuple(mixture.mu[j])
        assert mean.marker.color == colors[j] and mean.marker.symbol == "x"
        assert f"p={mixture.p[j]:.2f}" in mean.text[0] and f"j={j + 1}" in mean.text[0]
    assert "p=0.31" in fig.data[3].text[0]
    assert fig.layout.yaxis.scaleanchor == "x"  # circles look round


def test_points_figure_without_circles_still_shows_centroids():
    X, post, mixture = toy_mixture()
    one_hot = np.eye(3)[post.argmax(axis=1)]
    fig = figures.points_figure(X, one_hot, mixture, title="K-means", circles=False)
    serialise(fig)
    assert not [t for t in fig.data if t.mode == "lines"]
    assert len([t for t in fig.data if t.mode == "markers+text"]) == 3
    assert set(fig.data[0].marker.color) <= {rgb_string(c) for c in figures.component_colors(3)}


def test_mixture_scatter_uses_webgl_for_many_points_and_names_them():
    rng = np.random.RandomState(3)
    Z = rng.normal(size=(1500, 2))
    post = np.full((1500, 2), 0.5)
    fig = figures.mixture_scatter(Z, post, np.zeros((2, 2)), np.ones(2), np.full(2, 0.5), point_name="user")
    serialise(fig)
    assert fig.data[0].type == "scattergl"
    assert fig.data[0].hovertext[41].startswith("user 42<br>")


def test_mixture_scatter_single_point_single_component():
    fig = figures.mixture_scatter(np.array([[1.0, 2.0]]), np.ones((1, 1)), np.array([[1.0, 2.0]]), [0.5], [1.0])
    serialise(fig)
    assert "p=1.00" in fig.data[-1].text[0]


def test_points_figure_refuses_wide_data_with_a_hint():
    X, post, mixture = toy_mixture()
    with pytest.raises(ValueError, match="points_figure draws 2-D data.*project wider data first"):
        figures.points_figure(np.hstack([X, X]), post, mixture)


def test_mixture_scatter_rejects_a_posterior_of_the_wrong_shape():
    X, post, mixture = toy_mixture()
    with pytest.raises(ValueError, match=r"post has shape \(90, 2\), expected \(n, K\) = \(90, 3\)"):
        figures.mixture_scatter(X, post[:, :2], mixture.mu, np.sqrt(mixture.var), mixture.p)


def test_plain_points_draws_every_point_on_equal_axes():
    X, _, _ = toy_mixture()
    fig = figures.plain_points(X, title="points")
    serialise(fig)
    assert len(fig.data[0].x) == len(X) and fig.layout.yaxis.scaleanchor == "x"


def test_posterior_bars_against_prior():
    fig = figures.posterior_bars(np.array([0.7, 0.2, 0.1]), prior=np.array([0.31, 0.44, 0.25]))
    serialise(fig)
    bars, prior = fig.data
    assert list(bars.y) == [0.7, 0.2, 0.1] and list(bars.x) == ["j=1", "j=2", "j=3"]
    assert list(bars.marker.color) == figures.component_colors(3)
    assert list(prior.y) == [0.31, 0.44, 0.25]
    assert fig.layout.yaxis.range[0] == 0 and fig.layout.yaxis.range[1] >= 1
    serialise(figures.posterior_bars(np.array([1.0])))  # K=1, no prior
    with pytest.raises(ValueError, match="prior has 2 weights, the posterior 3"):
        figures.posterior_bars(np.ones(3) / 3, prior=np.ones(2) / 2)


# ----------------------------------------------------------------------------- errors and comparisons


def test_error_histogram_counts_every_error_and_marks_zero():
    errors = np.random.RandomState(4).normal(0.2, 0.7, 2000)
    fig = figures.error_histogram(errors, title="errors")
    serialise(fig)
    (bar,) = fig.data
    assert sum(bar.y) == 2000
    assert np.isclose(np.asarray(bar.x) - np.asarray(bar.width) / 2, 0).any()  # 0 is a bin edge
    assert [shape.x0 for shape in fig.layout.shapes] == [0]


@pytest.mark.parametrize(
    "errors, message",
    [
        (np.array([]), "No missing entries to score"),  # nothing was missing
        (np.array([np.nan]), "No missing entries to score"),  # nothing finite
    ],
)
def test_error_histogram_without_errors(errors, message):
    fig = figures.error_histogram(errors)
    serialise(fig)
    assert annotation_texts(fig) == [message]


def test_error_histogram_of_perfect_predictions():
    fig = figures.error_histogram(np.zeros(10))
    serialise(fig)
    assert sum(fig.data[0].y) == 10


def test_bar_chart_highlights_one_bar_and_marks_missing_values():
    fig = figures.bar_chart(["mean", "EM K=1", "EM K=12"], [1.1, float("nan"), 0.48], value_title="RMSE", highlight=2)
    serialise(fig)
    (bar,) = fig.data
    assert list(bar.y) == [1.1, None, 0.48]
    assert list(bar.text) == ["1.1", "n/a", "0.48"]
    assert bar.marker.color[2] == figures.ACCENT_COLOR
    assert bar.marker.color[0] == bar.marker.color[1] != figures.ACCENT_COLOR
    assert fig.layout.yaxis.title.text == "RMSE"
    serialise(figures.bar_chart([], []))
