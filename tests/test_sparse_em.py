"""EM, completion, held-out scoring and mean baselines on a CSR rating matrix give the dense path's numbers."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import baselines, em, holdout, sparse_completion, sparse_kernels, sparse_ratings
from em_core.errors import DataError
from em_core.mixture import init, rmse
from tests.helpers import movielens_missing_reason, movielens_small_dir, random_ratings

#: Dense and sparse sum in different orders; everything a user reads agrees to this.
RTOL = 1e-9


def assert_same_mixture(dense, sparse):
    for name, a, b in zip(("mu", "var", "p"), dense, sparse, strict=True):
        np.testing.assert_allclose(b, a, rtol=RTOL, atol=RTOL * np.abs(a).max(), err_msg=name)


def assert_same_fit(X, K, seed, n_steps=None):
    """init, every E- and M-step, and the converged run agree between X and its CSR form."""
    S = sp.csr_matrix(X)
    mixture, post = init(X, K, seed)
    s_mixture, s_post = init(S, K, seed)
    assert_same_mixture(mixture, s_mixture)
    np.testing.assert_array_equal(s_post, post)
    dense_run, sparse_run = em.run(X, mixture, post), em.run(S, s_mixture, s_post)
    assert sparse_run[2] == pytest.approx(dense_run[2], rel=RTOL)
    assert_same_mixture(dense_run[0], sparse_run[0])
    np.testing.assert_allclose(sparse_run[1], dense_run[1], rtol=0, atol=RTOL)
    return S, dense_run


def movielens_ratings() -> Path:
    """MovieLens latest-small's ratings.csv in a folder of EM_DATA_DIR; skips saying so when absent."""
    folder = movielens_small_dir()
    if folder is None:
        pytest.skip(movielens_missing_reason())
    return folder / "ratings.csv"


# ---------------------------------------------------------------- the course's matrices and MovieLens


@pytest.mark.course
@pytest.mark.parametrize("name, K", [("test_incomplete.txt", 4), ("netflix_incomplete.txt", 12)])
def test_course_fit_is_the_same_on_csr(course_matrix, name, K):
    X = course_matrix(name)
    S, (mixture, post, _) = assert_same_fit(X, K, seed=0)
    X_pred = em.fill_matrix(X, mixture)
    np.testing.assert_allclose(em.fill_matrix(S, mixture), X_pred, rtol=RTOL)
    users = np.array([0, 3, X.shape[0] - 1])
    np.testing.assert_allclose(sparse_completion.fill_rows(S, mixture, users), X_pred[users], rtol=RTOL)


@pytest.mark.course
def test_course_rmse_on_stored_entries_is_the_dense_rmse_on_the_mask(course_matrix):
    X, gold = course_matrix("test_incomplete.txt"), course_matrix("test_complete.txt")
    mixture, post, _ = em.run(X, *init(X, 4, 0))
    missing = X == 0
    dense = rmse(gold, em.fill_matrix(X, mixture), missing)
    at = sp.csr_matrix(missing)
    gold_at = sp.csr_matrix(np.where(missing, gold, 0.0))
    assert rmse(gold_at, sparse_completion.predict_at(sp.csr_matrix(X), mixture, at)) == pytest.approx(dense, rel=RTOL)


@pytest.mark.course
def test_netflix_held_out_scores_are_the_same_on_csr(course_matrix):
    X = course_matrix("netflix_incomplete.txt")
    S = sp.csr_matrix(X)
    dense, sparse = holdout.hide(X, 0.1, seed=3), holdout.hide(S, 0.1, seed=3)
    # the same ratings hidden, the same left to fit on
    assert (sp.csr_matrix(dense.hidden) != sparse.hidden).nnz == 0
    assert (sp.csr_matrix(dense.X_train) != sparse.X_train).nnz == 0
    assert sparse.n_hidden == dense.n_hidden
    for name in ("global_mean", "user_mean", "item_mean"):
        complete = getattr(baselines, name)
        want = holdout.holdout_rmse(X, dense, complete(dense.X_train))
        got = holdout.holdout_rmse(S, sparse, complete(sparse.X_train, at=sparse.hidden))
        assert got == pytest.approx(want, rel=RTOL), name
    mixture, _, _ = em.run(dense.X_train, *init(dense.X_train, 4, 0))
    want = holdout.holdout_rmse(X, dense, em.fill_matrix(dense.X_train, mixture))
    predicted = sparse_completion.predict_at(sparse.X_train, mixture, sparse.hidden)
    assert holdout.holdout_rmse(S, sparse, predicted) == pytest.approx(want, rel=RTOL)
    assert baselines.score_on(S, predicted, sparse.hidden) == pytest.approx(want, rel=RTOL)


def test_movielens_small_fit_is_the_same_on_csr():
    from em_core.data import load_dataset

    X = load_dataset(movielens_ratings()).X  # 610 x 9724, 1.7 % observed
    S, (mixture, _, _) = assert_same_fit(X, K=4, seed=0)
    users = np.array([0, 100, 609])
    np.testing.assert_allclose(
        sparse_completion.fill_rows(S, mixture, users), em.fill_matrix(X, mixture)[users], rtol=RTOL
    )


# ---------------------------------------------------------------- properties on both forms


@st.composite
def rating_matrices(draw):
    """Ratings 1-5 or far from 0, at least one observed; users or items may have none."""
    n, d = draw(st.integers(1, 25)), draw(st.integers(1, 8))
    element = draw(
        st.sampled_from(
            [st.sampled_from([1.0, 2.0, 3.0, 4.0, 5.0]), st.floats(-50.0, 1e4, allow_subnormal=False).filter(bool)]
        )
    )
    values = draw(hnp.arrays(np.float64, (n, d), elements=element))
    observed = draw(hnp.arrays(np.bool_, (n, d)))
    observed.flat[draw(st.integers(0, n * d - 1))] = True
    return np.where(observed, values, 0.0)


@given(rating_matrices(), st.integers(0, 2**32 - 1), st.data())
def test_steps_are_the_same_on_both_forms(X, seed, data):
    K = data.draw(st.integers(1, X.shape[0]))
    min_variance = data.draw(st.sampled_from([0.25, 1e-3]))
    S = sp.csr_matrix(X)
    mixture, _ = init(X, K, seed)
    assert_same_mixture(mixture, init(S, K, seed)[0])
    for _ in range(3):
        post, ll = em.estep(X, mixture)
        s_post, s_ll = em.estep(S, mixture)
        assert s_ll == pytest.approx(ll, rel=RTOL)
        np.testing.assert_allclose(s_post, post, rtol=0, atol=RTOL)
        np.testing.assert_allclose(s_post.sum(axis=1), 1.0)
        new = em.mstep(X, post, mixture, min_variance)
        assert_same_mixture(new, em.mstep(S, post, mixture, min_variance))
        mixture = new
    np.testing.assert_allclose(em.fill_matrix(S, mixture), em.fill_matrix(X, mixture), rtol=RTOL)


@given(rating_matrices(), st.floats(0.05, 0.9), st.integers(0, 2**32 - 1))
def test_hide_draws_the_same_ratings_on_both_forms(X, fraction, seed):
    try:
        dense = holdout.hide(X, fraction, seed)
    except DataError as err:  # too few ratings for this fraction: the sparse form says the same
        with pytest.raises(DataError, match=re.escape(str(err))):
            holdout.hide(sp.csr_matrix(X), fraction, seed)
        return
    sparse = holdout.hide(sp.csr_matrix(X), fraction, seed)
    np.testing.assert_array_equal(sparse.hidden.toarray(), dense.hidden)
    np.testing.assert_array_equal(sparse.X_train.toarray(), dense.X_train)


@given(rating_matrices(), st.integers(1, 5))
def test_top_unseen_are_the_best_unseen_completed_entries(X, n_top):
    S = sp.csr_matrix(X)
    mixture, _, _ = em.run(X, *init(X, 1, 0))
    top = sparse_completion.top_unseen(S, mixture, n_top)
    X_pred = np.where(X != 0, -np.inf, em.fill_matrix(X, mixture))
    for u in range(X.shape[0]):
        unseen = np.flatnonzero(X[u] == 0)
        want = unseen[np.argsort(-X_pred[u, unseen], kind="stable")][:n_top]
        got = top.items[u][top.items[u] >= 0]
        np.testing.assert_allclose(X_pred[u, got], X_pred[u, want], rtol=RTOL)
        assert not np.isin(got, np.flatnonzero(X[u])).any()  # never an item the user rated
        assert got.size == min(n_top, unseen.size)


@given(
    hnp.arrays(
        np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=9), elements=st.sampled_from([0.0, 1.0, -np.inf])
    ),
    st.data(),
)
def test_best_columns_is_a_stable_sort_cut_short(values, data):
    n_top = data.draw(st.integers(1, values.shape[1]))  # many ties: a sort's order among equals is kept
    want = np.argsort(-values, axis=1, kind="stable")[:, :n_top]
    np.testing.assert_array_equal(sparse_completion.best_columns(values, n_top), want)


# ---------------------------------------------------------------- blocks, threads, cache


def test_blocks_and_threads_do_not_change_the_numbers(monkeypatch):
    X = random_ratings(300, 40, missing=0.9, seed=1)
    mixture, post = init(X, 5, 0)
    whole = sparse_kernels.prepare(sp.csr_matrix(X), block_ratings=10**9)
    blocked = sparse_kernels.prepare(sp.csr_matrix(X), block_ratings=97)
    assert len(whole.blocks) == 1 and len(blocked.blocks) > 5
    post, _ = em.estep(whole, mixture)
    np.testing.assert_allclose(em.estep(blocked, mixture)[0], post, rtol=0, atol=1e-12)
    assert_same_mixture(em.mstep(whole, post, mixture), em.mstep(blocked, post, mixture))
    threaded = em.mstep(blocked, post, mixture)
    monkeypatch.setattr(sparse_kernels, "THREADS", 1)
    for a, b in zip(threaded, em.mstep(blocked, post, mixture), strict=True):
        np.testing.assert_array_equal(a, b)  # sums are added in block order, whatever the threads


def test_a_csr_matrix_modified_in_place_is_prepared_again():
    X = random_ratings(30, 6, missing=0.5, seed=2)
    S = sp.csr_matrix(X)
    mixture, _ = init(X, 3, 0)
    algorithm = em.algorithm()
    algorithm.estep(S, mixture)
    S.data[0] += 1.0
    X.flat[np.flatnonzero(X)[0]] += 1.0
    np.testing.assert_allclose(algorithm.estep(S, mixture)[0], em.estep(X, mixture)[0], rtol=0, atol=RTOL)


def test_a_sweep_prepares_its_csr_matrix_once(monkeypatch):
    S = sp.csr_matrix(random_ratings(40, 8, missing=0.7, seed=3))
    calls = []
    prepare = sparse_kernels.prepare
    monkeypatch.setattr(sparse_kernels, "prepare", lambda X, *a: calls.append(1) or prepare(X, *a))
    for K in (1, 2, 3):  # one algorithm per fit, as a sweep over K makes them
        mixture, _ = init(S, K, 0)
        algorithm = em.algorithm()
        post, _ = algorithm.estep(S, mixture)
        algorithm.mstep(S, post, mixture)
    assert len(calls) <= 1


# ---------------------------------------------------------------- dense or sparse


@pytest.mark.parametrize(
    "shape, n_ratings, form",
    [
        ((1200, 1200), 1_108_800, "dense"),  # the course's netflix matrix, 77 % observed
        ((610, 9724), 100_836, "sparse"),  # movielens-small, 1.7 %
        ((162_541, 59_047), 25_000_095, "sparse"),  # MovieLens-25M: 9.6e9 cells would never fit
        ((20_000, 20_000), 200_000_000, "sparse"),  # half observed, but 4e8 cells is too many for memory
    ],
)
def test_choose_form_by_size_and_density(shape, n_ratings, form):
    assert sparse_ratings.choose_form(*shape, n_ratings) == form


def test_as_form_converts_and_forces():
    X = random_ratings(20, 30, missing=0.99, seed=0)
    X[0, 0] = 3.0
    assert sp.issparse(sparse_ratings.as_form(X))  # 1 % observed: sparse by itself
    assert sparse_ratings.as_form(X, "dense") is X
    np.testing.assert_array_equal(sparse_ratings.as_form(sp.csr_matrix(X), "dense"), X)
    huge = sp.csr_matrix(([4.0], ([0], [0])), shape=(100_000, 100_000))
    with pytest.raises(DataError, match="100000 x 100000 matrix has 10,000,000,000 cells.*keep it sparse"):
        sparse_ratings.as_form(huge, "dense")
    with pytest.raises(DataError, match="form must be 'auto', 'dense' or 'sparse', got 'csr'"):
        sparse_ratings.as_form(X, "csr")


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "make, message",
    [
        (
            lambda: sp.csr_matrix(([3.0, 0.0], ([0, 1], [0, 2])), shape=(2, 3)),
            "row 2 column 3 stores a 0, but in a sparse matrix every stored entry is a rating.*eliminate_zeros",
        ),
        (
            lambda: sp.coo_matrix(([3.0], ([0], [0])), shape=(2, 3)),
            "expected a scipy.sparse CSR matrix, got a sparse matrix in COO format; convert it with X.tocsr",
        ),
        (lambda: sp.csr_matrix((2, 3)), "no stored rating"),
        (lambda: sp.csr_matrix((0, 3)), r"the matrix is empty \(0 x 3\)"),
        (lambda: sp.csr_matrix(([np.nan], ([1], [1])), shape=(2, 3)), "row 2 column 2 is nan, not a finite number"),
        (lambda: sp.csr_matrix(([1e300], ([0], [1])), shape=(2, 3)), "row 1 column 2: 1e\\+300 is too large"),
        # duplicates: CSR built from raw arrays keeps both entries of (1, 1)
        (lambda: sp.csr_matrix(([2.0, 4.0], [1, 1], [0, 0, 2]), shape=(2, 3)), "row 2 column 2 is stored twice"),
    ],
)
def test_bad_csr_input_says_what_and_how_to_fix(make, message):
    with pytest.raises(DataError, match=message):
        init(make(), 1, 0)


def test_sparse_results_need_the_entries_to_score():
    S = sp.csr_matrix(random_ratings(5, 4, missing=0.5, seed=0))
    with pytest.raises(DataError, match="pass at= the entries to predict"):
        baselines.user_mean(S)
    with pytest.raises(DataError, match="X_pred has no value at row 1 column 1"):
        rmse(sp.csr_matrix(([3.0], ([0], [0])), shape=(5, 4)), sp.csr_matrix(([3.0], ([1], [1])), shape=(5, 4)))
    with pytest.raises(DataError, match="needs the dense form"):
        baselines.soft_impute(S)
    mixture, _ = init(S, 2, 0)
    with pytest.raises(DataError, match="users must be row numbers from 0 to 4, got 0..5"):
        sparse_completion.fill_rows(S, mixture, [0, 5])
    with pytest.raises(DataError, match="n_top must be a whole number >= 1, got 0"):
        sparse_completion.top_unseen(S, mixture, 0)


def test_a_dense_completion_scores_its_predictions_of_zero_on_csr_ratings():
    # a mean coordinate no one rated keeps the course's initial 0, so a dense completion can predict 0;
    # scoring it on CSR ratings must read that 0, not refuse the entry as unpredicted
    gold = sp.csr_matrix(np.array([[4.0, 2.0], [0.0, 5.0]]))
    X_pred = np.array([[4.0, 0.0], [1.0, 5.0]])
    assert rmse(gold, X_pred) == pytest.approx(np.sqrt((0.0 + 4.0 + 0.0) / 3))
    hidden = sp.csr_matrix(([1.0], ([0], [1])), shape=(2, 2))
    assert rmse(gold, X_pred, hidden) == pytest.approx(2.0)
    with pytest.raises(DataError, match="X_pred is 1 x 2 but the entries to score are in a 2 x 2 matrix"):
        rmse(gold, X_pred[:1])
