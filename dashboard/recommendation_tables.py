"""Tables of a user's items: what the mixture recommends and what the user rated highest.

Pure builders: a data set and em_core's results -> ``pandas.DataFrame``. Items are named by their
real id and title when the data set has them (MovieLens), else ``item <column number from 1>``;
users likewise by their real id, else their row number from 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from dashboard.matrix_views import rating_counts
from em_core.data import Dataset
from em_core.sparse_completion import TopItems


def user_ids(dataset: Dataset) -> np.ndarray:
    """The id of each row: the file's user ids, or 1..n for a matrix."""
    n = dataset.X.shape[0]
    return np.arange(1, n + 1) if dataset.user_ids is None else np.asarray(dataset.user_ids)


def item_ids(dataset: Dataset) -> np.ndarray:
    """The id of each column: the file's item ids, or 1..d for a matrix."""
    d = dataset.X.shape[1]
    return np.arange(1, d + 1) if dataset.item_ids is None else np.asarray(dataset.item_ids)


def row_of_user(dataset: Dataset, user_id: int) -> int | None:
    """The row (0-based) of the user with this id, or None when no user has it."""
    ids = user_ids(dataset)
    row = int(np.searchsorted(ids, user_id))
    return row if row < ids.size and ids[row] == user_id else None


def item_names(dataset: Dataset, columns: np.ndarray) -> list[str]:
    """The title of each column's item, or ``item <id>`` when the data set has no title for it."""
    titles = dataset.item_titles or {}
    ids = item_ids(dataset)[np.asarray(columns, dtype=int)]
    return [titles.get(int(item), f"item {int(item)}") for item in ids]


def user_ratings(dataset: Dataset, row: int) -> tuple[np.ndarray, np.ndarray]:
    """The columns a user rated and the ratings, as two arrays of shape (r,), columns ascending."""
    X = dataset.X
    if sp.issparse(X):
        line = sp.csr_matrix(X[row])
        keep = line.data != 0
        return line.indices[keep].astype(int), line.data[keep].astype(float)
    line = np.asarray(X[row], dtype=float)
    columns = np.flatnonzero(line)
    return columns, line[columns]


def recommended(dataset: Dataset, top: TopItems, position: int = 0) -> pd.DataFrame:
    """One user's recommendations, best first: rank, predicted rating, how many users rated the item
    (a prediction resting on one or two ratings is a guess), item id and title.

    Parameters
    ----------
    top : TopItems
        From :func:`em_core.sparse_completion.top_unseen`; ``position`` picks its row (a user).
    """
    found = top.items[position] >= 0
    columns = top.items[position][found]
    return pd.DataFrame(
        {
            "rank": np.arange(1, columns.size + 1),
            "predicted rating": top.scores[position][found],
            "users who rated it": rating_counts(dataset.X, axis=0)[columns],
            "item": item_ids(dataset)[columns],
            "title": item_names(dataset, columns),
        }
    )


def highest_rated(dataset: Dataset, row: int, n_top: int) -> pd.DataFrame:
    """A user's ``n_top`` highest ratings, highest first (ties: the lower item id first): rating, item id, title."""
    columns, ratings = user_ratings(dataset, row)
    order = np.lexsort((columns, -ratings))[:n_top]
    columns = columns[order]
    return pd.DataFrame(
        {
            "rating": ratings[order],
            "item": item_ids(dataset)[columns],
            "title": item_names(dataset, columns),
        }
    )
