"""Every page on MovieLens latest-small (610 x 9,724, CSR): it works or says plainly why not, and no page
draws the 5.9 million cells of the whole matrix."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from tests.apptest_helpers import PAGES, Dashboard
from tests.helpers import movielens_missing_reason, movielens_small_dir

N_USERS, N_ITEMS, N_RATINGS = 610, 9724, 100_836
#: Pages that need another kind of data say so and offer a built-in set (session.require).
NEEDS_POINTS = {"kmeans", "em2d", "side_by_side"}

pytestmark = pytest.mark.skipif(movielens_small_dir() is None, reason=movielens_missing_reason())


def open_page(page: str) -> Dashboard:
    app = Dashboard("movielens-small", em_k=4)
    app.open(page)
    assert app.dataset == "movielens-small"
    assert app.errors == []
    return app


def drawn_cells(app: Dashboard) -> list[int]:
    """Cells of every matrix drawn on the page: image pixels or heatmap values."""
    cells = []
    for key in app.chart_keys():
        figure = app.figure(key)
        for trace in figure["data"]:
            if trace.get("type") == "image":
                width, height = Image.open(io.BytesIO(base64.b64decode(trace["source"].split(",", 1)[1]))).size
                cells.append(width * height)
            elif trace.get("type") == "heatmap" and trace.get("z") is not None:
                cells.append(sum(len(row) for row in trace["z"]))
    return cells


@pytest.mark.parametrize("page_name", sorted(PAGES))
def test_every_page_works_on_movielens_small_or_says_why_not(page_name):
    app = open_page(page_name)
    if page_name in NEEDS_POINTS:
        assert any(info.startswith("This page works on") for info in app.infos)
    elif page_name == "check_numbers":
        assert any("sparse 610 x 9,724 matrix" in info for info in app.infos)
        assert len(app.at.code) == 0
    # never the whole matrix: 1,200 items at most across (the Netflix matrix's width)
    assert all(cells <= N_USERS * 1200 for cells in drawn_cells(app))


def test_data_page_counts_the_ratings_and_draws_the_most_rated_items():
    app = open_page("data")
    metrics = app.metrics()
    assert metrics["Rows (users)"] == f"{N_USERS:,}" and metrics["Columns (items)"] == f"{N_ITEMS:,}"
    assert metrics["Observed"] == f"{N_RATINGS / (N_USERS * N_ITEMS):.1%}"
    figure = app.figure("data_matrix")
    assert figure["layout"]["xaxis"]["title"]["text"] == "item (rank by ratings)"
    assert any(
        f"the {N_USERS} users (all) × the 1,200 most rated of {N_ITEMS:,} items" in caption for caption in app.captions
    )


def test_completion_page_counts_missing_entries_and_offers_no_n_by_d_download():
    app = open_page("completion")
    assert app.metrics()["Missing entries"] == f"{N_USERS * N_ITEMS - N_RATINGS:,}"
    labels = [file.label for file in app.at.session_state["cmp_files"]]
    assert not any(label.startswith("Completed matrix") for label in labels)
    assert any("No completed-matrix download here" in caption for caption in app.captions)
    # held-out scores of a sparse set live on the real-data page (Soft-Impute and KNN need the dense form)
    assert "cmp_holdout" not in app.widget_keys()
    assert any("'Results on real data' page" in caption for caption in app.captions)
    app.set_number("cmp_user", 1)
    table = app.at.dataframe[0].value
    assert len(table) == N_ITEMS - 232 and "title" in table.columns  # user 1 rated 232 movies


def test_matrix_page_steps_and_draws_the_means_of_the_most_rated_items():
    app = open_page("matrix")
    app.click("emx_step")
    assert app.status().iteration == 1
    means = app.figure("emx_means")
    assert means["layout"]["xaxis"]["title"]["text"] == "item (rank by ratings: the 1,200 most rated of 9,724)"
    assert len(app.figure("emx_pca")["data"][0]["x"]) == N_USERS
