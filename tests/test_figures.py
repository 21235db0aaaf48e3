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
from tests.helpers import random_ratings

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


def many_blobs(K: int, seed: int = 0, n_per: int = 20, weights=None):
    """K blobs on a circle of radius 10, their means, spreads and weights, and a one-hot posterior."""
    rng = np.random.RandomState(seed)
    angles = 2 * np.pi * np.arange(K) / K
    means = 10 * np.column_stack([np.cos(angles), np.sin(angles)])
    Z = np.vstack([rng.normal(m, 0.5, (n_per, 2)) for m in means])
    post = np.repeat(np.eye(K), n_per, axis=0)
    weights = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=float)
    return Z, post, means, np.full(K, 0.5), weights


def mean_traces(fig: go.Figure) -> list:
    """The mean markers of a mixture scatter, component 1 first (one per legend entry)."""
    return [t for t in fig.data if t.showlegend and t.marker.symbol == "x"]


def axis_range(fig: go.Figure, axis: str) -> tuple[float, float]:
    low, high = getattr(fig.layout, axis).range
    return low, high


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


@pytest.mark.parametrize("shape", [(3, 4), (300, 300)])  # heatmap path, image path
def test_matrix_image_without_a_colour_bar(shape):
    X = random_ratings(*shape, missing=0.2, seed=5)
    fig = figures.matrix_image(X, X == 0, show_colorbar=False)
    serialise(fig)
    assert all(heatmap.showscale is False for heatmap in traces(fig, "heatmap"))
    assert not [t for t in traces(fig, "scatter") if t.marker.showscale]
    # the "missing" swatch still explains the grey
    assert [t.name for t in traces(fig, "scatter") if t.showlegend] == ["missing"]


def test_matrix_image_shows_its_colour_bar_by_default():
    X = random_ratings(3, 4, missing=0.2, seed=5)
    _, values = traces(figures.matrix_image(X, X == 0), "heatmap")
    assert values.showscale is not False and values.colorbar.title.text == "rating"


@pytest.mark.parametrize("shape", [(20, 5), (300, 300)])  # heatmap path, image path
def test_matrix_image_default_cells_fill_the_width(shape):
    fig = figures.matrix_image(np.full(shape, 3.0))
    assert fig.layout.yaxis.scaleanchor is False
    assert fig.layout.xaxis.constrain is None and fig.layout.yaxis.constrain is None


@pytest.mark.parametrize("shape", [(20, 5), (5, 20), (300, 300)])  # tall, wide, image path
def test_square_matrix_image_anchors_y_to_x_and_keeps_the_ranges(shape):
    n, d = shape
    fig = figures.matrix_image(np.full(shape, 3.0), square=True)
    serialise(fig)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    # the plot area shrinks, the ranges stay exactly on the matrix
    assert fig.layout.xaxis.constrain == fig.layout.yaxis.constrain == "domain"
    assert list(fig.layout.xaxis.range) == [0.5, d + 0.5]
    assert list(fig.layout.yaxis.range) == [n + 0.5, 0.5]


def test_square_matrix_image_height_follows_the_shape():
    tall, square, wide = (
        figures.matrix_image(np.full(shape, 3.0), square=True) for shape in [(40, 5), (8, 8), (5, 40)]
    )
    assert tall.layout.height > square.layout.height > wide.layout.height
    assert 200 <= wide.layout.height and tall.layout.height <= 800  # sensible on one screen
    assert figures.matrix_image(np.full((8, 8), 3.0), square=True, title="t").layout.height > square.layout.height


def test_square_large_matrix_stays_small():
    X = random_ratings(1200, 1200, missing=0.23, seed=0)
    fig = figures.matrix_image(X, X == 0, square=True, show_colorbar=False)
    assert len(serialise(fig)) < 1.5 * MB
    assert fig.layout.yaxis.scaleanchor == "x"


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


def test_rating_histogram_counts_have_thousands_separators():
    values = np.repeat([1.0, 3.0], [999, 349_646])
    (bar,) = figures.rating_histogram(values).data
    assert list(bar.text) == ["999", "349,646"]
    assert "%{y:,}" in bar.hovertemplate
    (binned,) = figures.rating_histogram(np.linspace(0, 1, 2000)).data
    assert "%{y:,}" in binned.hovertemplate


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


def test_score_curve_legend_only_with_two_rows():
    single = figures.score_curve([-3.0, -2.0, -1.5], current=2)
    assert single.layout.showlegend is False  # the y axis already names the one series
    both = figures.score_curve([-3.0, -2.0, -1.5], tol=1e-6, current=2)
    assert both.layout.showlegend is not False
    assert {t.name for t in both.data if t.showlegend is not False} >= {
        "log-likelihood",
        "threshold tol·|LL<sub>t</sub>|",
    }


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


@pytest.mark.parametrize(
    "K, labelled",
    [
        (1, True),
        (6, True),  # the last K whose labels fit beside the means
        (7, False),  # from here the legend and the hover carry the labels
        (12, False),
    ],
)
def test_mean_labels_only_for_few_components(K, labelled):
    Z, post, means, sigmas, weights = many_blobs(K)
    fig = figures.mixture_scatter(Z, post, means, sigmas, weights)
    serialise(fig)
    marks = mean_traces(fig)
    assert len(marks) == K
    for j, mark in enumerate(marks):
        label = f"<b>j={j + 1}</b>  p={weights[j]:.2f}"
        assert mark.name == f"j={j + 1}  p={weights[j]:.2f}"  # the legend always carries it
        if labelled:
            assert mark.mode == "markers+text" and mark.text == (label,)
        else:
            assert mark.mode == "markers" and not mark.text
        assert mark.hovertemplate.startswith(label)


def test_mean_labels_are_not_clipped_and_point_into_the_plot():
    Z, post, means, sigmas, weights = many_blobs(4)  # means at the right, top, left and bottom edges
    fig = figures.mixture_scatter(Z, post, means, sigmas, weights)
    marks = mean_traces(fig)
    assert all(mark.cliponaxis is False for mark in marks)
    right, top, left, _ = (mark.textposition for mark in marks)
    assert right.endswith("left") and left.endswith("right")
    assert top.startswith("bottom")


def test_labels_of_coinciding_means_do_not_share_a_corner():
    X, post, mixture = toy_mixture()
    mu = mixture.mu.copy()
    mu[2] = mu[1] + 0.05  # j=2 and j=3 nearly on top of each other
    fig = figures.mixture_scatter(X, post, mu, np.sqrt(mixture.var), mixture.p)
    _, second, third = (mark.textposition for mark in mean_traces(fig))
    assert second != third


@pytest.mark.parametrize("circles", [True, False])
def test_kmeans_centres_never_mention_weights(circles):
    X, post, mixture = toy_mixture()
    one_hot = np.eye(3)[post.argmax(axis=1)]
    fig = figures.points_figure(X, one_hot, mixture, circles=circles, show_weights=False)
    serialise(fig)
    marks = mean_traces(fig)
    assert [mark.name for mark in marks] == ["centre 1", "centre 2", "centre 3"]
    assert [mark.text for mark in marks] == [("<b>centre 1</b>",), ("<b>centre 2</b>",), ("<b>centre 3</b>",)]
    for trace in fig.data:
        words = " ".join(str(v) for v in (trace.name, trace.text, trace.hovertemplate) if v is not None)
        assert "p=" not in words and "p =" not in words
    assert all(mark.opacity in (None, 1) for mark in marks)  # equal weights 1/K never fade
    # a point's hover names its centre, without the zero responsibilities
    first = fig.data[0].hovertext[0]
    assert first == f"point 1<br>centre {one_hot[0].argmax() + 1}: 1.00"
    assert fig.layout.legend.title.text == "centres"


def test_axes_fit_the_points_not_an_empty_far_component():
    Z, post, means, sigmas, weights = many_blobs(3, weights=[0.6, 0.399, 0.001])
    means[2] = [80.0, -60.0]  # holds almost nobody, far away
    sigmas[2] = 15.0
    fig = figures.mixture_scatter(Z, post, means, sigmas, weights, point_name="user")
    serialise(fig)
    for axis, column in (("xaxis", 0), ("yaxis", 1)):
        low, high = axis_range(fig, axis)
        lo, hi = Z[:, column].min(), Z[:, column].max()
        margin = (low - lo, high - hi)
        assert low < lo and hi < high  # every point inside, with a margin
        assert -margin[0] <= 0.1 * (hi - lo) and margin[1] <= 0.1 * (hi - lo)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.xaxis.constrain == "domain"
    # the empty component is drawn faded, its hover says why
    faded = mean_traces(fig)[2]
    assert faded.opacity < 0.5 and faded.marker.line.color != "#1a1a1a"
    assert "holds almost no users (p=0.001)" in faded.hovertemplate
    assert faded.name == "j=3  p<0.01"
    assert faded.cliponaxis is not False  # outside the axes: stays clipped, not drawn over the legend
    rings = [t for t in fig.data if t.mode == "lines" and t.legendgroup == "j=3"]
    assert len(rings) == 2 and all(ring.opacity < 0.5 for ring in rings)
    assert "holds almost no users" in rings[0].hovertemplate
    # a heavy component is never faded
    assert all(mark.opacity in (None, 1) for mark in mean_traces(fig)[:2])


def test_axes_include_the_mean_of_a_component_that_holds_points():
    Z, post, means, sigmas, weights = many_blobs(2)
    means[1] = [40.0, 0.0]  # p = 0.5: its mean matters even away from the points
    fig = figures.mixture_scatter(Z, post, means, sigmas, weights)
    assert axis_range(fig, "xaxis")[1] > 40.0


def test_mixture_scatter_with_non_finite_values_serialises():
    Z, post, means, sigmas, weights = many_blobs(3)
    Z[0] = [np.nan, 1.0]
    means[1] = [np.inf, 0.0]
    sigmas[2] = np.nan
    weights[0] = np.nan
    fig = figures.mixture_scatter(Z, post, means, sigmas, weights)
    serialise(fig)
    low, high = axis_range(fig, "xaxis")
    assert np.isfinite([low, high]).all()


def test_plain_points_draws_every_point_on_equal_axes():
    X, _, _ = toy_mixture()
    fig = figures.plain_points(X, title="points")
    serialise(fig)
    assert len(fig.data[0].x) == len(X) and fig.layout.yaxis.scaleanchor == "x"


def test_plain_points_axes_fit_the_data():
    X = np.random.RandomState(6).uniform([-5, -4], [7, 5], (300, 2))  # like demo-2d
    fig = figures.plain_points(X)
    for axis, column in (("xaxis", 0), ("yaxis", 1)):
        low, high = axis_range(fig, axis)
        lo, hi = X[:, column].min(), X[:, column].max()
        assert lo - 0.1 * (hi - lo) <= low < lo and hi < high <= hi + 0.1 * (hi - lo)
    # equal aspect by shrinking the plot area, not by widening a range
    assert fig.layout.xaxis.constrain == "domain" and fig.layout.yaxis.constrain == "domain"
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1


@pytest.mark.parametrize(
    "X",
    [
        np.array([[2.0, 3.0]]),  # one point: a unit either side, not an empty range
        np.array([[1.0, np.nan], [2.0, 3.0]]),  # a non-finite coordinate becomes a gap
        np.full((2, 2), np.nan),  # nothing finite: the axes range themselves
    ],
)
def test_plain_points_edge_cases_serialise(X):
    fig = figures.plain_points(X)
    serialise(fig)
    for axis in ("xaxis", "yaxis"):
        bounds = getattr(fig.layout, axis).range
        assert bounds is None or bounds[0] < bounds[1]


def test_points_figure_axes_fit_the_data():
    X, post, mixture = toy_mixture()
    fig = figures.points_figure(X, post, mixture)
    low, high = axis_range(fig, "xaxis")
    assert low < X[:, 0].min() and high > X[:, 0].max()
    assert high - low < 1.2 * np.ptp(X[:, 0])
    assert fig.layout.xaxis.constrain == "domain"


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


def test_posterior_bars_label_only_visible_bars():
    post_row = np.zeros(12)
    post_row[[1, 3, 4]] = [0.62, 0.372, 0.008]
    fig = figures.posterior_bars(post_row, prior=np.full(12, 1 / 12))
    serialise(fig)
    bars = fig.data[0]
    labelled = {label: text for label, text in zip(bars.x, bars.text, strict=True) if text}
    assert labelled == {"j=2": "0.62", "j=4": "0.37"}  # no "0.00" and no "0.01" for 0.008
    assert bars.cliponaxis is False and fig.layout.yaxis.range[1] >= 1.05  # room above a bar of 1.00
    # the legend sits below the plot, clear of the bars
    assert fig.layout.legend.orientation == "h" and fig.layout.legend.yref == "container"
    assert [t.name for t in fig.data] == ["posterior p(j | x)", "prior p<sub>j</sub>"]


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
