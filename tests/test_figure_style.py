"""dashboard.figure_style: component colours and their blends."""

from __future__ import annotations

import numpy as np
from plotly.colors import hex_to_rgb

from dashboard import figure_style
from tests.figure_checks import rgb_string


def test_component_colors_distinct_up_to_12_then_cycle():
    colors = figure_style.component_colors(12)
    assert len(set(colors)) == 12
    assert all(c.startswith("#") and len(c) == 7 for c in colors)
    assert figure_style.component_colors(14)[12:] == colors[:2]
    assert figure_style.component_colors(0) == []


def test_blend_of_one_hot_row_is_the_component_colour():
    post = np.eye(4)[[2, 0]]
    colors = figure_style.component_colors(4)
    assert figure_style.blend_colors(post) == [rgb_string(colors[2]), rgb_string(colors[0])]


def test_blend_of_fifty_fifty_row_is_the_midpoint():
    first, second = (np.array(hex_to_rgb(c)) for c in figure_style.component_colors(2))
    (blend,) = figure_style.blend_colors(np.array([[0.5, 0.5]]))
    channels = np.array([int(v) for v in blend[4:-1].split(",")])
    assert np.abs(channels - (first + second) / 2).max() <= 0.5
