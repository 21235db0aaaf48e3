"""em_core.sparse_completion for the dashboard's views: the completion at chosen users x items, and top-N
recommendations, from a CSR or a dense matrix, equal to em.fill_matrix's entries."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from em_core import em, sparse_completion
from em_core.errors import DataError
from em_core.mixture import init
from tests.helpers import random_ratings

RTOL = 1e-9


def fitted(X, K=3, seed=0):
    mixture, post, _ = em.run(X, *init(X, K, seed))
    return mixture


@settings(max_examples=30, deadline=None)
@given(
    st.integers(4, 30),
    st.integers(2, 25),
    st.floats(0.0, 0.9),
    st.integers(0, 10_000),
    st.sampled_from(["dense", "csr"]),
)
def test_fill_block_is_fill_matrix_at_the_chosen_users_and_items(n, d, missing, seed, form):
    X = random_ratings(n, d, missing, seed)
    X[:, 0] = 3.0  # every user has a rating
    mixture = fitted(X, K=min(3, n), seed=0)
    rng = np.random.RandomState(seed)
    users = rng.choice(n, size=rng.randint(1, n + 1), replace=False)
    items = rng.choice(d, size=rng.randint(1, d + 1), replace=False)
    block = sparse_completion.fill_block(X if form == "dense" else sp.csr_matrix(X), mixture, users, items)
    np.testing.assert_allclose(block, em.fill_matrix(X, mixture)[np.ix_(users, items)], rtol=RTOL)
    observed = X[np.ix_(users, items)] != 0
    np.testing.assert_array_equal(block[observed], X[np.ix_(users, items)][observed])  # ratings stay exact


def test_top_unseen_of_a_dense_matrix_is_the_csr_answer():
    X = random_ratings(40, 12, 0.5, seed=4)
    mixture = fitted(X)
    dense = sparse_completion.top_unseen(X, mixture, 5)
    sparse = sparse_completion.top_unseen(sp.csr_matrix(X), mixture, 5)
    np.testing.assert_array_equal(dense.items, sparse.items)
    np.testing.assert_allclose(dense.scores, sparse.scores, rtol=RTOL)
    X_pred = em.fill_matrix(X, mixture)
    rows = np.repeat(np.arange(40)[:, None], 5, axis=1)
    found = dense.items >= 0
    np.testing.assert_allclose(dense.scores[found], X_pred[rows[found], dense.items[found]], rtol=RTOL)
    assert not (X[rows[found], dense.items[found]] != 0).any()


@pytest.mark.parametrize(
    "users, items, message",
    [
        ([0, 9], [0], "users must be row numbers from 0 to 5, got 0..9"),
        ([0], [4, -1], "items must be column numbers from 0 to 3, got -1..4"),
        ([0], [], "items must be a non-empty list of column numbers"),
    ],
)
def test_fill_block_refuses_rows_and_columns_out_of_range(users, items, message):
    X = random_ratings(6, 4, 0.3, seed=1)
    X[:, 0] = 2.0
    mixture, _ = init(X, 2, 0)
    with pytest.raises(DataError, match=message):
        sparse_completion.fill_block(sp.csr_matrix(X), mixture, np.array(users, dtype=int), np.array(items, dtype=int))
