"""Views of the real-data comparison: the table and the bar chart show em_core's numbers, failed methods
are named and left out of the chart, the bar to beat is marked, and the command line repeats the comparison."""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import results_figures
from dashboard.results_figures import COURSE_COLOR, command_line, comparison_table, rmse_bars
from em_core.real_data_comparison import Comparison, MethodRow
from em_core.real_data_options import standard_variants
from tests.figure_checks import serialise, traces

ROWS = (
    MethodRow("em:course", "EM as in the course", 12, (1.20, 1.22), 3.0),
    MethodRow("em:residuals", "EM on residuals", 12, (0.89, 0.90), 4.0),
    MethodRow("user_item_bias", "User + item bias", None, (0.88, 0.885), 0.1),
    MethodRow("knn", "KNN (10 nearest users)", None, (float("nan"), float("nan")), 0.0, "ImportError: no sklearn"),
)
RESULT = Comparison("movielens-small", (610, 9724), 100_836, 0.1, (0, 1), (10_084, 10_084), (12,), (0,), ROWS)


def test_table_has_one_row_per_method_with_each_split_and_the_mean():
    table = comparison_table(RESULT)
    assert list(table.columns) == ["method", "K", "RMSE split 1", "RMSE split 2", "mean RMSE", "seconds", "note"]
    assert list(table["method"]) == [row.label for row in ROWS]
    assert list(table["RMSE split 2"][:3]) == [1.22, 0.90, 0.885]
    assert table["mean RMSE"][1] == pytest.approx(0.895)
    assert list(table["K"]) == ["12", "12", "—", "—"]
    assert list(table["note"]) == ["", "", "", "n/a: ImportError: no sklearn"]


def test_bars_show_the_mean_with_the_spread_and_mark_the_bias_baseline():
    fig = rmse_bars(RESULT)
    serialise(fig)  # no NaN reaches the browser, the house template
    (bars,) = traces(fig, "bar")
    assert list(bars.y) == ["EM as in the course (K = 12)", "EM on residuals (K = 12)", "User + item bias"]
    np.testing.assert_allclose(bars.x, [1.21, 0.895, 0.8825])
    np.testing.assert_allclose(bars.error_x.array, [0.01, 0.005, 0.0025])
    np.testing.assert_allclose(bars.error_x.arrayminus, [0.01, 0.005, 0.0025])
    assert bars.marker.color[0] == COURSE_COLOR
    # each mean in a column right of the plot, on its bar's row, clear of the whiskers and the dashed line
    values = [a for a in fig.layout.annotations if a.xref == "paper" and a.x == 1.0]
    assert [(a.y, a.text) for a in values] == list(zip(bars.y, ["1.2100", "0.8950", "0.8825"], strict=True))
    assert all(a.xanchor == "left" for a in values) and fig.layout.margin.r >= 60
    assert bars.text is None
    (line,) = fig.layout.shapes
    assert line.x0 == line.x1 == pytest.approx(0.8825)
    assert fig.layout.xaxis.range[0] <= 0.88 < 1.22 <= fig.layout.xaxis.range[1]


def test_no_scored_method_gives_a_message_not_an_empty_axis():
    failed = Comparison("x", (2, 2), 3, 0.1, (0,), (1,), (1,), (0,), (ROWS[3],))
    fig = rmse_bars(failed)
    assert not traces(fig, "bar") and fig.layout.annotations[0].text == "No method could be scored"


def test_command_line_names_every_setting():
    command = command_line(RESULT, standard_variants(), "movielens-small")
    assert command == (
        "python -m em_core compare --data movielens-small --k 12 --seeds 0 --holdout 0.1 --holdout-seeds 0 1 "
        "--variants course item-mean-start residuals prior item-mean-start+residuals+prior --prior-strength 20 "
        "--baselines user_item_bias knn"
    )
    assert results_figures.REFERENCE == "user_item_bias"
