"""dashboard.matrix_figures: matrices, means heatmap and histograms, checked on the figure's data."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from plotly.colors import hex_to_rgb

from dashboard import figure_style, matrix_figures, matrix_views
from tests.figure_checks import MB, annotation_texts, decode_image, serialise, traces
from tests.helpers import random_ratings


def test_large_matrix_is_a_small_png_image_with_missing_in_grey():
    X = random_ratings(1200, 1200, missing=0.23, seed=0)
    missing = X == 0
    fig = matrix_figures.matrix_image(X, missing, title="ratings")
    size = len(serialise(fig))
    assert size < 1.5 * MB, f"{size / MB:.2f} MB"
    assert not traces(fig, "heatmap")
    (image,) = traces(fig, "image")
    pixels = decode_image(image)
    assert pixels.shape == (1200, 1200, 3)
    # what the viewer sees: grey where missing, the ends of Viridis for ratings 1 and 5
    assert (pixels[missing] == hex_to_rgb(figure_style.MISSING_COLOR)).all()
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
    fig = matrix_figures.matrix_image(X, X == 0)
    serialise(fig)
    missing_layer, values = traces(fig, "heatmap")
    # cell (user 1, item 2) is missing: a gap in the value layer, grey in the layer underneath
    assert values.z[0][1] is None and missing_layer.z[0][1] == 1
    assert {color for _, color in missing_layer.colorscale} == {figure_style.MISSING_COLOR}
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
    fig = matrix_figures.matrix_image(M, missing)
    serialise(fig)
    assert len(fig.data) >= 1


def test_matrix_image_rejects_a_mask_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"mask has shape \(2, 2\), the matrix \(2, 3\)"):
        matrix_figures.matrix_image(np.ones((2, 3)), np.ones((2, 2), bool))


@pytest.mark.parametrize("shape", [(3, 4), (300, 300)])  # heatmap path, image path
def test_matrix_image_without_a_colour_bar(shape):
    X = random_ratings(*shape, missing=0.2, seed=5)
    fig = matrix_figures.matrix_image(X, X == 0, show_colorbar=False)
    serialise(fig)
    assert all(heatmap.showscale is False for heatmap in traces(fig, "heatmap"))
    assert not [t for t in traces(fig, "scatter") if t.marker.showscale]
    # the "missing" swatch still explains the grey
    assert [t.name for t in traces(fig, "scatter") if t.showlegend] == ["missing"]


def test_matrix_image_shows_its_colour_bar_by_default():
    X = random_ratings(3, 4, missing=0.2, seed=5)
    _, values = traces(matrix_figures.matrix_image(X, X == 0), "heatmap")
    assert values.showscale is not False and values.colorbar.title.text == "rating"


@pytest.mark.parametrize("shape", [(20, 5), (300, 300)])  # heatmap path, image path
def test_matrix_image_default_cells_fill_the_width(shape):
    fig = matrix_figures.matrix_image(np.full(shape, 3.0))
    assert fig.layout.yaxis.scaleanchor is False
    assert fig.layout.xaxis.constrain is None and fig.layout.yaxis.constrain is None


@pytest.mark.parametrize("shape", [(20, 5), (5, 20), (300, 300)])  # tall, wide, image path
def test_square_matrix_image_anchors_y_to_x_and_keeps_the_ranges(shape):
    n, d = shape
    fig = matrix_figures.matrix_image(np.full(shape, 3.0), square=True)
    serialise(fig)
    assert fig.layout.yaxis.scaleanchor == "x" and fig.layout.yaxis.scaleratio == 1
    # the plot area shrinks, the ranges stay exactly on the matrix
    assert fig.layout.xaxis.constrain == fig.layout.yaxis.constrain == "domain"
    assert list(fig.layout.xaxis.range) == [0.5, d + 0.5]
    assert list(fig.layout.yaxis.range) == [n + 0.5, 0.5]


def test_square_matrix_image_height_follows_the_shape():
    tall, square, wide = (
        matrix_figures.matrix_image(np.full(shape, 3.0), square=True) for shape in [(40, 5), (8, 8), (5, 40)]
    )
    assert tall.layout.height > square.layout.height > wide.layout.height
    assert 200 <= wide.layout.height and tall.layout.height <= 800  # sensible on one screen
    assert (
        matrix_figures.matrix_image(np.full((8, 8), 3.0), square=True, title="t").layout.height > square.layout.height
    )


def test_square_large_matrix_stays_small():
    X = random_ratings(1200, 1200, missing=0.23, seed=0)
    fig = matrix_figures.matrix_image(X, X == 0, square=True, show_colorbar=False)
    assert len(serialise(fig)) < 1.5 * MB
    assert fig.layout.yaxis.scaleanchor == "x"


def test_means_heatmap_of_12_by_1200_is_small_and_labelled():
    mu = np.random.RandomState(0).uniform(1, 5, (12, 1200))
    fig = matrix_figures.means_heatmap(mu, title="means")
    assert len(serialise(fig)) < 1.5 * MB
    (heatmap,) = fig.data
    assert list(heatmap.y) == [f"j={j}" for j in range(1, 13)]
    assert np.allclose(heatmap.z, mu, atol=1e-3)
    assert "component" in heatmap.hovertemplate and "item" in heatmap.hovertemplate
    assert fig.layout.yaxis.autorange == "reversed"  # j=1 on top
    serialise(matrix_figures.means_heatmap(np.full((1, 1), 3.0)))  # K=1, one item


def test_rating_histogram_has_one_bar_per_rating():
    X = random_ratings(50, 40, missing=0.3, seed=1)
    values = X[X > 0]
    fig = matrix_figures.rating_histogram(values)
    serialise(fig)
    (bar,) = fig.data
    assert list(bar.x) == [1, 2, 3, 4, 5]
    assert list(bar.y) == [int((values == r).sum()) for r in range(1, 6)]


def test_rating_histogram_bins_continuous_values_and_handles_none():
    values = np.random.RandomState(2).normal(3, 1, 1000)
    (bar,) = matrix_figures.rating_histogram(values).data
    assert len(bar.x) == 40 and sum(bar.y) == 1000
    empty = matrix_figures.rating_histogram(np.array([]))
    serialise(empty)
    assert annotation_texts(empty) == ["No observed values"]


def test_rating_histogram_counts_have_thousands_separators():
    values = np.repeat([1.0, 3.0], [999, 349_646])
    (bar,) = matrix_figures.rating_histogram(values).data
    assert list(bar.text) == ["999", "349,646"]
    assert "%{y:,}" in bar.hovertemplate
    (binned,) = matrix_figures.rating_histogram(np.linspace(0, 1, 2000)).data
    assert "%{y:,}" in binned.hovertemplate


def test_error_histogram_counts_every_error_and_marks_zero():
    errors = np.random.RandomState(4).normal(0.2, 0.7, 2000)
    fig = matrix_figures.error_histogram(errors, title="errors")
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
    fig = matrix_figures.error_histogram(errors)
    serialise(fig)
    assert annotation_texts(fig) == [message]


def test_error_histogram_of_perfect_predictions():
    fig = matrix_figures.error_histogram(np.zeros(10))
    serialise(fig)
    assert sum(fig.data[0].y) == 10


# ---------------------------------------------------------------- large matrices: what is drawn (matrix_views)


def heavy_tailed_csr(n, d, seed):
    """A seeded CSR rating matrix whose users and items differ widely in activity (as MovieLens's do)."""
    rng = np.random.RandomState(seed)
    user_weight = rng.pareto(1.2, n) + 0.05
    item_weight = rng.pareto(1.0, d) + 0.05
    cells = rng.random_sample((n, d)) < np.clip(0.6 * np.outer(user_weight, item_weight) / item_weight.mean(), 0, 1)
    X = np.where(cells, rng.randint(1, 6, (n, d)).astype(float), 0.0)
    return sp.csr_matrix(X), X


def test_a_small_matrix_is_drawn_whole_in_its_own_order_without_a_caption():
    X = random_ratings(1200, 1200, missing=0.23, seed=1)  # the Netflix matrix's shape: drawn as before
    where = matrix_views.corner(X)
    assert where.whole and where.caption() == ""
    np.testing.assert_array_equal(where.rows, np.arange(1200))
    assert where.axis_names() == ("user", "item")
    assert matrix_views.block(X, where) is X


@pytest.mark.parametrize("form", ["dense", "csr"])
def test_a_wide_matrix_is_drawn_as_its_most_rated_items_sorted_and_captioned(form):
    X_csr, X = heavy_tailed_csr(300, 3000, seed=2)
    M = X if form == "dense" else X_csr
    where = matrix_views.corner(M, max_rows=1200, max_columns=500)
    counts = (X != 0).sum(axis=0)
    # every drawn item has at least as many ratings as every item left out, most rated first
    assert counts[where.columns].min() >= np.delete(counts, where.columns).max()
    assert np.all(np.diff(counts[where.columns]) <= 0)
    np.testing.assert_array_equal(where.column_counts, counts[where.columns])
    np.testing.assert_array_equal(where.rows, np.arange(300))  # the rows fit: all, in their order
    np.testing.assert_array_equal(matrix_views.block(M, where), X[:, where.columns])
    assert where.caption() == (
        "Drawn: the 300 users (all) × the 500 most rated of 3,000 items (items sorted by their number of ratings, "
        "most first); the whole matrix (300 × 3,000) is too large to draw cell by cell."
    )
    assert where.axis_names() == ("user", "item (rank by ratings)")


def test_a_tall_and_wide_csr_matrix_is_never_densified_whole():
    X_csr, X = heavy_tailed_csr(2000, 2500, seed=3)
    where = matrix_views.corner(X_csr, max_rows=100, max_columns=80)
    shown = matrix_views.block(X_csr, where)
    assert shown.shape == (100, 80)
    np.testing.assert_array_equal(shown, X[np.ix_(where.rows, where.columns)])
    user_counts = (X != 0).sum(axis=1)
    assert user_counts[where.rows].min() >= np.delete(user_counts, where.rows).max()
    np.testing.assert_array_equal(matrix_views.observed_values(X_csr), X[X != 0])


def test_block_refuses_a_matrix_of_another_shape():
    where = matrix_views.corner(np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"the matrix is \(4, 3\), the corner was chosen on \(3, 4\)"):
        matrix_views.block(np.ones((4, 3)), where)


def test_matrix_image_names_its_axes_as_asked():
    fig = matrix_figures.matrix_image(np.ones((2, 3)), axis_names=("user", "item (rank by ratings)"))
    assert fig.layout.xaxis.title.text == "item (rank by ratings)"
    assert "item (rank by ratings) %{x}" in traces(fig, "heatmap")[1].hovertemplate


def test_means_heatmap_of_chosen_columns_draws_them_and_names_the_real_items():
    mu = np.arange(2 * 10, dtype=float).reshape(2, 10)
    no_data = np.zeros((2, 10), dtype=bool)
    no_data[1, 7] = True
    fig = matrix_figures.means_heatmap(mu, no_data=no_data, columns=np.array([7, 2, 9]))
    means, grey = traces(fig, "heatmap")
    np.testing.assert_array_equal(np.asarray(means.z, dtype=float), mu[:, [7, 2, 9]])
    np.testing.assert_array_equal(np.asarray(means.customdata)[0], [8, 3, 10])  # items numbered from 1
    assert np.asarray(grey.z, dtype=object)[1, 0] == 1.0 and np.asarray(grey.z, dtype=object)[0, 0] is None
    assert fig.layout.xaxis.title.text == "item (rank by ratings: the 3 most rated of 10)"
    assert matrix_figures.means_heatmap(mu).layout.xaxis.title.text == "item"


def test_means_beyond_float32_are_drawn_not_dropped():
    # an upload of huge values (near the dashboard's magnitude bound) has means float32 cannot hold: they are
    # sent as they are, not as gaps, and nothing overflows on the way
    import warnings

    mu = np.array([[1e150, 2.0], [3.0, -4e200]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fig = matrix_figures.means_heatmap(mu)
    z = np.array(fig.data[0].z, dtype=float)
    np.testing.assert_array_equal(z, np.round(mu, 3))


@pytest.mark.parametrize(("items", "gap"), [(40, 1), (1200, 0)])
def test_a_wide_means_heatmap_is_drawn_without_cell_gaps_and_with_row_lines(items, gap):
    # plotly.js paints a heatmap as one image (its fast path) only when no cell has a gap; on a wide
    # one the rows' gaps come back as white lines between the components, a narrow one keeps its gaps
    K = 5
    mu = np.random.default_rng(3).uniform(1, 5, size=(K, items))
    no_data = np.zeros((K, items), dtype=bool)
    no_data[1, :3] = True
    fig = matrix_figures.means_heatmap(mu, no_data=no_data)
    heatmaps = [trace for trace in fig.data if trace.type == "heatmap"]
    assert len(heatmaps) == 2
    assert all((trace.xgap, trace.ygap) == (gap, gap) for trace in heatmaps)
    lines = [shape for shape in fig.layout.shapes if shape.type == "line"]
    if gap:
        assert lines == []
    else:
        assert sorted(shape.y0 for shape in lines) == [j - 0.5 for j in range(1, K)]
        assert all(shape.y0 == shape.y1 and (shape.x0, shape.x1) == (0.5, items + 0.5) for shape in lines)
