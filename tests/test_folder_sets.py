"""Folder sets (em_core.data.FOLDER_SETS): movielens-small is offered when a folder of EM_DATA_DIR holds
its ratings.csv and movies.csv, and loads as a CSR matrix with its real ids and titles."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import scipy.sparse as sp

from em_core.data import FOLDER_SETS, available_datasets, folder_set_dir, load_dataset, read_only
from em_core.errors import DataError
from tests.helpers import movielens_missing_reason, movielens_small_dir

RATINGS = "userId,movieId,rating,timestamp\n7,30,4.0,964982703\n7,10,5.0,964981247\n2,30,3.5,964982224\n"
MOVIES = 'movieId,title,genres\n10,"Heat, The (1995)",Action\n30,Toy Story (1995),Animation\n99,Unrated (2000),Drama\n'


@pytest.fixture
def small_folder(tmp_path, monkeypatch):
    """A folder with a three-rating MovieLens ratings.csv and movies.csv, second in EM_DATA_DIR."""
    folder = tmp_path / "ml"
    folder.mkdir()
    (folder / "ratings.csv").write_text(RATINGS)
    (folder / "movies.csv").write_text(MOVIES)
    monkeypatch.setenv("EM_DATA_DIR", f"{tmp_path / 'course'}:{folder}")
    return folder


def test_a_folder_with_both_files_is_offered_and_loads_sparse_with_ids_and_titles(small_folder):
    assert "movielens-small" in available_datasets()
    assert folder_set_dir("movielens-small") == small_folder
    dataset = load_dataset("movielens-small")
    assert sp.issparse(dataset.X) and dataset.X.format == "csr"
    assert dataset.kind == "ratings" and dataset.gold is None
    np.testing.assert_array_equal(dataset.user_ids, [2, 7])
    np.testing.assert_array_equal(dataset.item_ids, [10, 30])
    np.testing.assert_array_equal(dataset.X.toarray(), [[0.0, 3.5], [5.0, 4.0]])
    assert dataset.item_titles == {10: "Heat, The (1995)", 30: "Toy Story (1995)"}  # only the rated items


def test_without_the_folder_the_set_is_not_offered_and_loading_it_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EM_DATA_DIR", str(tmp_path))
    (tmp_path / "ratings.csv").write_text(RATINGS)  # movies.csv missing: not a complete folder set
    assert "movielens-small" not in available_datasets()
    with pytest.raises(DataError, match=r"needs ratings\.csv and movies\.csv in one folder of .*EM_DATA_DIR"):
        load_dataset("movielens-small")


def test_read_only_freezes_a_csr_matrix(small_folder):
    dataset = read_only(load_dataset("movielens-small"))
    for array in (dataset.X.data, dataset.X.indices, dataset.X.indptr):
        assert not array.flags.writeable


@pytest.fixture(scope="module")
def movielens_folder():
    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    return folder


def test_movielens_small_is_the_file_read_as_a_matrix(movielens_folder):
    assert FOLDER_SETS["movielens-small"][:2] == ("ratings.csv", "movies.csv")
    dataset = load_dataset("movielens-small")
    assert dataset.X.shape == (610, 9724) and dataset.X.nnz == 100_836
    with open(movielens_folder / "ratings.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    users = np.searchsorted(dataset.user_ids, [int(row["userId"]) for row in rows])
    items = np.searchsorted(dataset.item_ids, [int(row["movieId"]) for row in rows])
    ratings = np.array([float(row["rating"]) for row in rows])
    np.testing.assert_array_equal(np.asarray(dataset.X[users, items]).ravel(), ratings)
    with open(movielens_folder / "movies.csv", newline="", encoding="utf-8") as handle:
        titles = {int(row["movieId"]): row["title"].strip() for row in csv.DictReader(handle)}  # 11 end in a space
    assert len(dataset.item_titles) == 9724
    assert all(dataset.item_titles[int(item)] == titles[int(item)] for item in dataset.item_ids)
