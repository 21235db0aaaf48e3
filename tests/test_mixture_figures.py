"""dashboard.mixture_figures: points, circles, means and labels."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import figure_style, mixture_figures
from tests.figure_checks import axis_range, hover_text, many_blobs, mean_traces, rgb_string, serialise, toy_mixture


def test_mixture_scatter_draws_sigma_circles_means_and_weights():
    X, post, mixture = toy_mixture()
    sigmas = np.sqrt(mixture.var)
    fig = mixture_figures.mixture_scatter(X, post, mixture.mu, sigmas, mixture.p, title="EM")
    serialise(fig)
    points = fig.data[0]
    assert points.type == "scatter" and len(points.x) == len(X)
    assert list(points.marker.color) == figure_style.blend_colors(post)
    assert hover_text(points, 0).startswith("point 1<br>j=1: ")
    colors = figure_style.component_colors(3)
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
    fig = mixture_figures.points_figure(X, one_hot, mixture, title="K-means", circles=False)
    serialise(fig)
    assert not [t for t in fig.data if t.mode == "lines"]
    assert len([t for t in fig.data if t.mode == "markers+text"]) == 3
    assert set(fig.data[0].marker.color) <= {rgb_string(c) for c in figure_style.component_colors(3)}


def test_mixture_scatter_uses_webgl_for_many_points_and_names_them():
    rng = np.random.RandomState(3)
    Z = rng.normal(size=(1500, 2))
    post = np.full((1500, 2), 0.5)
    fig = mixture_figures.mixture_scatter(Z, post, np.zeros((2, 2)), np.ones(2), np.full(2, 0.5), point_name="user")
    serialise(fig)
    assert fig.data[0].type == "scattergl"
    assert hover_text(fig.data[0], 41).startswith("user 42<br>")


@pytest.mark.parametrize(("n", "K", "seed"), [(40, 1, 0), (40, 2, 1), (300, 3, 2), (1500, 12, 3)])
def test_a_points_hover_names_its_number_and_largest_responsibilities(n, K, seed):
    """What hovering a point says (plotly.js fills the template from ``customdata``) is the text the
    server wrote for it before: its number, then its three largest responsibilities, largest first."""
    rng = np.random.default_rng(seed)
    post = rng.dirichlet(np.full(K, 0.3), size=n)
    fig = mixture_figures.mixture_scatter(
        rng.normal(size=(n, 2)), post, rng.normal(size=(K, 2)), np.ones(K), post.mean(axis=0), point_name="user"
    )
    points = fig.data[0]
    assert points.hovertext is None  # numbers and a template, not one string per point
    written = mixture_figures._point_hover(post, "user")
    for i in range(n):
        lines, _position = hover_text(points, i).rsplit("<br>", 1)
        assert lines == written[i]


def test_mixture_scatter_single_point_single_component():
    fig = mixture_figures.mixture_scatter(np.array([[1.0, 2.0]]), np.ones((1, 1)), np.array([[1.0, 2.0]]), [0.5], [1.0])
    serialise(fig)
    assert "p=1.00" in fig.data[-1].text[0]


def test_points_figure_refuses_wide_data_with_a_hint():
    X, post, mixture = toy_mixture()
    with pytest.raises(ValueError, match="points_figure draws 2-D data.*project wider data first"):
        mixture_figures.points_figure(np.hstack([X, X]), post, mixture)


def test_mixture_scatter_rejects_a_posterior_of_the_wrong_shape():
    X, post, mixture = toy_mixture()
    with pytest.raises(ValueError, match=r"post has shape \(90, 2\), expected \(n, K\) = \(90, 3\)"):
        mixture_figures.mixture_scatter(X, post[:, :2], mixture.mu, np.sqrt(mixture.var), mixture.p)


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
    fig = mixture_figures.mixture_scatter(Z, post, means, sigmas, weights)
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
    fig = mixture_figures.mixture_scatter(Z, post, means, sigmas, weights)
    marks = mean_traces(fig)
    assert all(mark.cliponaxis is False for mark in marks)
    right, top, left, _ = (mark.textposition for mark in marks)
    assert right.endswith("left") and left.endswith("right")
    assert top.startswith("bottom")


def test_labels_of_coinciding_means_do_not_share_a_corner():
    X, post, mixture = toy_mixture()
    mu = mixture.mu.copy()
    mu[2] = mu[1] + 0.05  # j=2 and j=3 nearly on top of each other
    fig = mixture_figures.mixture_scatter(X, post, mu, np.sqrt(mixture.var), mixture.p)
    _, second, third = (mark.textposition for mark in mean_traces(fig))
    assert second != third


@pytest.mark.parametrize("circles", [True, False])
def test_kmeans_centres_never_mention_weights(circles):
    X, post, mixture = toy_mixture()
    one_hot = np.eye(3)[post.argmax(axis=1)]
    fig = mixture_figures.points_figure(X, one_hot, mixture, circles=circles, show_weights=False)
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
    fig = mixture_figures.mixture_scatter(Z, post, means, sigmas, weights, point_name="user")
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
    fig = mixture_figures.mixture_scatter(Z, post, means, sigmas, weights)
    assert axis_range(fig, "xaxis")[1] > 40.0


def test_mixture_scatter_with_non_finite_values_serialises():
    Z, post, means, sigmas, weights = many_blobs(3)
    Z[0] = [np.nan, 1.0]
    means[1] = [np.inf, 0.0]
    sigmas[2] = np.nan
    weights[0] = np.nan
    fig = mixture_figures.mixture_scatter(Z, post, means, sigmas, weights)
    serialise(fig)
    low, high = axis_range(fig, "xaxis")
    assert np.isfinite([low, high]).all()


def test_plain_points_draws_every_point_on_equal_axes():
    X, _, _ = toy_mixture()
    fig = mixture_figures.plain_points(X, title="points")
    serialise(fig)
    assert len(fig.data[0].x) == len(X) and fig.layout.yaxis.scaleanchor == "x"


def test_plain_points_axes_fit_the_data():
    X = np.random.RandomState(6).uniform([-5, -4], [7, 5], (300, 2))  # like demo-2d
    fig = mixture_figures.plain_points(X)
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
    fig = mixture_figures.plain_points(X)
    serialise(fig)
    for axis in ("xaxis", "yaxis"):
        bounds = getattr(fig.layout, axis).range
        assert bounds is None or bounds[0] < bounds[1]


def test_points_figure_axes_fit_the_data():
    X, post, mixture = toy_mixture()
    fig = mixture_figures.points_figure(X, post, mixture)
    low, high = axis_range(fig, "xaxis")
    assert low < X[:, 0].min() and high > X[:, 0].max()
    assert high - low < 1.2 * np.ptp(X[:, 0])
    assert fig.layout.xaxis.constrain == "domain"


def test_a_legend_below_leaves_the_width_to_the_points_and_room_for_its_rows():
    """The matrix page's users map sits in half the page: its legend goes under the plot, in rows, with the
    bottom margin grown by a row for each few components, not beside it (where 12 entries took a third)."""
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((50, 2))
    margins = {}
    for K in (3, 12):
        post = rng.dirichlet(np.ones(K), size=50)
        fig = mixture_figures.mixture_scatter(
            Z, post, rng.standard_normal((K, 2)), np.ones(K), np.full(K, 1 / K), legend_below=True
        )
        legend = fig.layout.legend
        assert legend.orientation == "h" and legend.yref == "container" and legend.yanchor == "bottom"
        margins[K] = fig.layout.margin.b
    beside = mixture_figures.mixture_scatter(Z, post, rng.standard_normal((12, 2)), np.ones(12), np.full(12, 1 / 12))
    assert beside.layout.legend.orientation != "h"
    rows = -(-12 // mixture_figures.LEGEND_PER_ROW)
    assert margins[12] - margins[3] == mixture_figures.LEGEND_ROW_PX * (rows - 1)
