"""dashboard.click_canvas: the invisible grid that turns a click into coordinates."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard.click_canvas import (
    GRID_CELLS,
    GRID_NAME,
    MEANS_NAME,
    Canvas,
    canvas_around,
    canvas_figure,
    clicked,
)
from em_core.data import load_dataset


def selection(*points) -> dict:
    """What st.plotly_chart(on_select="rerun") returns for a click on these (curve, index) points."""
    return {"selection": {"points": [{"curve_number": c, "point_index": i} for c, i in points]}}


@pytest.mark.parametrize("name", ["demo-2d", "scenario-long-thin", "scenario-outlier"])
def test_canvas_around_a_set_holds_it_with_room_to_spare(name):
    X = load_dataset(name).X
    canvas = canvas_around(X)
    assert canvas.contains(X)
    extent = np.ptp(X, axis=0).max()
    assert extent < canvas.width <= 3 * extent  # room around the points, not a canvas of empty space
    assert canvas.step == canvas.width / GRID_CELLS


def test_the_empty_canvas_is_ten_by_ten_around_zero():
    assert canvas_around(None) == canvas_around(np.empty((0, 2))) == Canvas(-5.0, -5.0, 10.0)


def test_a_click_gives_the_grid_point_it_selected():
    canvas = Canvas(-5.0, -5.0, 10.0)
    gx, gy = canvas.grid()
    assert gx.size == (GRID_CELLS + 1) ** 2
    assert (gx.min(), gx.max(), gy.min(), gy.max()) == (-5.0, 5.0, -5.0, 5.0)  # the grid fills the canvas
    row, column = 40, 3
    index = row * (GRID_CELLS + 1) + column
    assert clicked(selection((0, index)), canvas) == pytest.approx((-5.0 + 3 * canvas.step, 0.0))


@pytest.mark.parametrize(
    "event",
    [
        None,  # no chart state yet
        selection(),  # a click that selected nothing
        selection((1, 0)),  # a point of another trace (the points skip hover, but be safe)
        selection((0, (GRID_CELLS + 1) ** 2)),  # an index past the grid
    ],
)
def test_anything_else_is_no_click(event):
    assert clicked(event, Canvas(0.0, 0.0, 1.0)) is None


def test_the_figure_keeps_the_grid_invisible_and_numbers_the_means():
    canvas = Canvas(0.0, 0.0, 8.0)
    means = np.array([[1.0, 1.0], [6.0, 2.0]])
    fig = canvas_figure(canvas, np.array([[2.0, 3.0]]), means, "title")
    grid, points, placed = fig.data
    assert grid.name == GRID_NAME and grid.marker.opacity == 0 and grid.hoverinfo == "none"
    assert points.hoverinfo == placed.hoverinfo == "skip"  # a click on them reaches the grid
    assert placed.name == f"{MEANS_NAME} (2)" and list(placed.text) == ["1", "2"]
    assert list(fig.layout.xaxis.range) == list(fig.layout.yaxis.range) == [0.0, 8.0]
    assert fig.layout.dragmode is False
