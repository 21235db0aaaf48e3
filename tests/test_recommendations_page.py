"""The Recommendations page (AppTest): a user's top predicted unseen items, with titles, beside what they
rated highest; the items are unseen by that user and the scores are em_core's predictions on the same fit."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import scipy.sparse as sp

from dashboard.session import UPLOADS
from em_core import em, sparse_completion
from em_core.data import load_dataset
from tests.apptest_helpers import Dashboard
from tests.helpers import movielens_missing_reason, movielens_small_dir

RTOL = 1e-9


def tables(app: Dashboard):
    """The recommended items and the highest-rated ones, as the page shows them."""
    recommended, rated = (frame.value for frame in app.at.dataframe)
    return recommended, rated


def assert_recommendations_are_the_fits_best_unseen(app: Dashboard, row: int, n_top: int):
    """Listed items are unseen by the user, scored as em_core completes them, and no unseen item scores higher."""
    mixture = app.fit("matrix").state.mixture  # the fit the page says it shows
    dataset = load_current(app)
    predicted = sparse_completion.fill_rows(dataset.X, mixture, [row])[0]
    if not sp.issparse(dataset.X):  # a matrix: em_core's dense completion too
        np.testing.assert_allclose(predicted, em.fill_matrix(dataset.X, mixture)[row], rtol=RTOL)
    rated = np.zeros(dataset.X.shape[1], dtype=bool)
    line = dataset.X[row]
    rated[np.asarray(line.nonzero()[-1])] = True
    recommended, _ = tables(app)
    columns = np.searchsorted(item_ids(dataset), recommended["item"].to_numpy())
    assert len(recommended) == min(n_top, int((~rated).sum()))
    assert not rated[columns].any(), "an item the user rated was recommended"
    np.testing.assert_allclose(recommended["predicted rating"], predicted[columns], rtol=RTOL)
    assert np.all(np.diff(recommended["predicted rating"]) <= 0)  # best first
    others = np.delete(np.flatnonzero(~rated), np.searchsorted(np.flatnonzero(~rated), columns))
    assert others.size == 0 or predicted[others].max() <= recommended["predicted rating"].min()
    return recommended


def load_current(app: Dashboard):
    """The data set the page shows, as em_core loads it (an upload: from the session's store)."""
    if app.dataset == "upload":
        return UPLOADS.get(app.at.session_state["uploaded"]["digest"])
    return load_dataset(app.dataset)


def item_ids(dataset):
    return np.arange(1, dataset.X.shape[1] + 1) if dataset.item_ids is None else dataset.item_ids


# ---------------------------------------------------------------- MovieLens latest-small


@pytest.fixture(scope="module")
def movielens():
    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    with open(folder / "movies.csv", newline="", encoding="utf-8") as handle:
        titles = {int(row["movieId"]): row["title"].strip() for row in csv.DictReader(handle)}
    ratings: dict[int, dict[int, float]] = {}
    with open(folder / "ratings.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            ratings.setdefault(int(row["userId"]), {})[int(row["movieId"])] = float(row["rating"])
    return titles, ratings


@pytest.mark.parametrize("user_id", [1, 414])  # user 414 rated the most movies (2,698)
def test_movielens_recommendations_are_unseen_titled_and_em_cores_predictions(movielens, user_id):
    titles, ratings = movielens
    app = Dashboard("movielens-small", page="recommendations", em_k=4)
    assert app.errors == [] and "iteration 0" in " ".join(app.captions)
    app.click("rec_run")
    assert app.fit("matrix").state.converged
    app.set_number("rec_user", user_id)
    row = user_id - 1  # MovieLens latest-small's users are 1..610, every one with ratings
    recommended = assert_recommendations_are_the_fits_best_unseen(app, row, 10)
    seen = ratings[user_id]
    assert not set(recommended["item"]) & set(seen)  # unseen, by the file itself
    assert list(recommended["title"]) == [titles[item] for item in recommended["item"]]
    _, rated = tables(app)
    best = sorted(seen.items(), key=lambda pair: (-pair[1], pair[0]))[:10]
    assert list(zip(rated["item"], rated["rating"], strict=True)) == best
    assert list(rated["title"]) == [titles[item] for item, _ in best]
    assert f"User {user_id} rated {len(seen):,} of 9,724 items" in " ".join(app.captions)


# ---------------------------------------------------------------- matrices without ids or titles


def test_a_course_style_matrix_names_items_by_number_and_follows_the_matrix_pages_fit():
    app = Dashboard("demo-small", page="matrix", em_k=3)
    app.step("emx", 4)
    app.open("recommendations")
    assert app.fit("matrix").state.iteration == 4  # the same fit as the matrix page, not a new one
    app.set_number("rec_user", 7)
    recommended = assert_recommendations_are_the_fits_best_unseen(app, 6, 10)
    assert list(recommended["title"]) == [f"item {item}" for item in recommended["item"]]
    X = load_current(app).X
    _, rated = tables(app)
    columns = np.flatnonzero(X[6])
    order = np.lexsort((columns, -X[6, columns]))
    np.testing.assert_array_equal(rated["item"], columns[order] + 1)
    np.testing.assert_array_equal(rated["rating"], X[6, columns[order]])


def test_fewer_unseen_items_than_asked_lists_them_all():
    app = Dashboard("demo-small", page="recommendations", em_k=3)
    app.at.slider(key="rec_n").set_value(5)
    app.click("rec_run")
    X = load_current(app).X
    row = int(np.argmax((X == 0).sum(axis=1) > 0))
    app.set_number("rec_user", row + 1)
    recommended = assert_recommendations_are_the_fits_best_unseen(app, row, 5)
    assert len(recommended) == int((X[row] == 0).sum()) < 5


def test_an_uploaded_triplet_file_keeps_its_user_ids_and_says_when_an_id_has_no_user():
    lines = ["user,item,rating"] + [
        f"{u},{i},{(u + i) % 5 + 1}" for u in (10, 30) for i in (100, 200, 300) if u + i != 310
    ]
    app = Dashboard(page="recommendations", em_k=1)
    app.upload("ratings.csv", ("\n".join(lines) + "\n").encode())
    assert app.errors == []
    assert app.at.number_input(key="rec_user").value == 10
    recommended, _ = tables(app)
    assert list(recommended["item"]) == [300] and list(recommended["title"]) == ["item 300"]
    app.set_number("rec_user", 20)
    assert any("No user has id 20" in info for info in app.infos)
    assert len(app.at.dataframe) == 0
