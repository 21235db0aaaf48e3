"""The 2-D view (em_core.projection): orthonormal axes, numpy's SVD as reference, projected mixtures."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from em_core import builtin, em, init
from em_core.mixture import GaussianMixture
from em_core.projection import UserMap, principal_axes, project_mixture, users_on_components
from tests.helpers import random_ratings


def correlated_data(n, d, seed):
    """Rows with a clear first and second direction (scales 10, 5, then 1)."""
    rng = np.random.RandomState(seed)
    scales = np.concatenate([[10.0, 5.0], np.ones(max(d - 2, 0))])[:d]
    rotation, _ = np.linalg.qr(rng.standard_normal((d, d)))
    return 3.0 + (rng.standard_normal((n, d)) * scales) @ rotation.T


def numpy_top_two(X):
    Xc = X - X.mean(axis=0)
    _, s, vt = np.linalg.svd(Xc, full_matrices=False)
    return vt[:2], s[:2] ** 2 / (s**2).sum()


def assert_axes_orthonormal(axes, k):
    np.testing.assert_allclose(axes[:k] @ axes[:k].T, np.eye(k), atol=1e-10)
    np.testing.assert_array_equal(axes[k:], 0.0)


# ---------------------------------------------------------------- against numpy's SVD

SHAPES = [
    # n, d
    (200, 6),  # scipy's sparse SVD path (min(n, d) > 3)
    (80, 40),
    (30, 3),  # numpy's dense SVD path
    (3, 5),  # fewer rows than columns
]


@pytest.mark.parametrize("n, d", SHAPES)
def test_axes_span_numpy_svds_top_two_subspace(n, d):
    X = correlated_data(n, d, seed=n + d)
    projection = principal_axes(X)
    reference, shares = numpy_top_two(X)
    assert_axes_orthonormal(projection.axes, 2)
    # the same plane: equal orthogonal projectors (each axis is also the same up to sign)
    np.testing.assert_allclose(projection.axes.T @ projection.axes, reference.T @ reference, atol=1e-8)
    np.testing.assert_allclose(np.abs(projection.axes @ reference.T), np.eye(2), atol=1e-8)
    np.testing.assert_allclose(projection.explained, shares, rtol=1e-8)
    np.testing.assert_allclose(projection.center, X.mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("n, d", SHAPES)
def test_signs_make_the_largest_loading_positive(n, d):
    for X in (correlated_data(n, d, seed=1), -correlated_data(n, d, seed=1)):
        axes = principal_axes(X).axes
        for row in axes:
            assert row[np.argmax(np.abs(row))] > 0


def test_projected_coordinates_carry_the_explained_variance():
    X = builtin.blobs_2d()
    projection = principal_axes(X)
    Z = projection.apply(X)
    total = ((X - X.mean(axis=0)) ** 2).sum()
    np.testing.assert_allclose((Z**2).sum(axis=0) / total, projection.explained, rtol=1e-10)
    # two columns: the plane is the whole space, so nothing is lost
    assert projection.explained.sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize(
    "X, expected_axes, expected_explained",
    [
        ([[1.0], [3.0], [2.0]], [[1.0], [0.0]], [1.0, 0.0]),  # one column: the second axis is zero
        ([[4.0, 4.0], [4.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [0.0, 0.0]),  # no spread at all
        ([[1.0, 2.0, 3.0]], [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], [0.0, 0.0]),  # a single row
    ],
)
def test_degenerate_data_gives_zero_axes_where_there_is_no_direction(X, expected_axes, expected_explained):
    projection = principal_axes(np.array(X))
    np.testing.assert_allclose(projection.axes, expected_axes, atol=1e-12)
    np.testing.assert_allclose(projection.explained, expected_explained, atol=1e-12)


def test_project_mixture_keeps_sigma_and_maps_means():
    X = correlated_data(50, 5, seed=3)
    projection = principal_axes(X)
    mixture = GaussianMixture(X[:3].copy(), np.array([0.25, 1.0, 4.0]), np.full(3, 1 / 3))
    means, sigmas = project_mixture(projection, mixture)
    np.testing.assert_array_equal(sigmas, [0.5, 1.0, 2.0])
    np.testing.assert_allclose(means, (X[:3] - X.mean(axis=0)) @ projection.axes.T, rtol=1e-12)
    np.testing.assert_allclose(means, projection.apply(X)[:3], rtol=1e-12)


# ---------------------------------------------------------------- properties


@st.composite
def matrices(draw):
    n = draw(st.integers(1, 30))
    d = draw(st.integers(1, 8))
    if draw(st.booleans()):
        # no magnitudes whose squares underflow (below ~1e-154): shares of a sum of squares lose meaning there
        elements = st.floats(-1e3, 1e3).filter(lambda v: v == 0 or abs(v) > 1e-100)
        return draw(hnp.arrays(np.float64, (n, d), elements=elements))
    # low rank (1 or 2) plus an offset: directions beyond the rank carry nothing
    rank = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, rank)) @ rng.standard_normal((rank, d)) + rng.standard_normal(d)


@given(matrices())
def test_axes_are_orthonormal_and_shares_are_proportions(X):
    projection = principal_axes(X)
    nonzero = int(np.count_nonzero(np.abs(projection.axes).sum(axis=1)))
    assert_axes_orthonormal(projection.axes, nonzero)
    # shares of one total: s**2 from the SVD and the total sum of squares are rounded apart,
    # so a share that is exactly 1 (rank-one data) can come out an ulp or two above it
    assert np.all(projection.explained >= 0) and np.all(projection.explained <= 1 + 1e-12)
    assert projection.explained.sum() <= 1 + 1e-12
    assert np.all(np.isfinite(projection.axes)) and np.all(np.isfinite(projection.center))


@given(matrices())
def test_axes_agree_with_numpy_where_the_plane_is_defined(X):
    projection = principal_axes(X)
    Xc = X - X.mean(axis=0)
    s = np.linalg.svd(Xc, compute_uv=False)
    total = (Xc**2).sum()
    if total == 0 or X.shape[0] < 2:
        np.testing.assert_array_equal(projection.explained, 0.0)
        return
    shares = np.zeros(2)
    shares[: min(2, s.size)] = s[:2] ** 2 / total
    # the shares are defined whatever the directions
    np.testing.assert_allclose(projection.explained, shares, rtol=1e-6, atol=1e-9)
    Z = projection.apply(X)
    np.testing.assert_allclose((Z**2).sum(axis=0) / total, projection.explained, rtol=1e-6, atol=1e-9)
    # the plane itself is defined when the second direction stands clear of the first and of the third
    s = np.concatenate([s, [0.0, 0.0]])
    if s[1] > 1e-3 * s[0] and s[0] - s[1] > 1e-3 * s[0] and s[1] - s[2] > 1e-3 * s[0]:
        reference = np.linalg.svd(Xc, full_matrices=False)[2][:2]
        np.testing.assert_allclose(projection.axes.T @ projection.axes, reference.T @ reference, atol=1e-6)


# ---------------------------------------------------------------- the completed matrix, dense or CSR


def fitted_mixture(X, K, seed, steps=3):
    mixture, _ = init(X, K, seed)
    for _ in range(steps):
        post, _ = em.estep(X, mixture)
        mixture = em.mstep(X, post, mixture)
    return mixture


@pytest.mark.parametrize(
    "n, d, missing, K",
    [
        (120, 40, 0.3, 3),
        (60, 300, 0.95, 4),  # wide and sparse, as MovieLens is
        (40, 5, 0.2, 2),  # few columns
        (3, 3, 0.3, 1),  # so small that the dense SVD is taken
    ],
)
def test_users_on_components_is_the_same_for_csr_without_completing_it(n, d, missing, K):
    X = random_ratings(n, d, missing, seed=n + d)
    X[np.arange(n), np.arange(n) % d] = 3.0  # every user has a rating
    mixture = fitted_mixture(X, K, seed=0)
    dense = users_on_components(X, mixture)
    # the reference: today's picture, the completed matrix projected on its principal axes
    X_pred = em.fill_matrix(X, mixture)
    projection = principal_axes(X_pred)
    np.testing.assert_allclose(dense.Z, projection.apply(X_pred), atol=1e-12)
    sparse = users_on_components(sp.csr_matrix(X), mixture)
    for name in UserMap._fields:
        np.testing.assert_allclose(getattr(sparse, name), getattr(dense, name), rtol=1e-7, atol=1e-9, err_msg=name)


def test_users_on_components_never_builds_the_dense_completion(monkeypatch):
    X = random_ratings(80, 50, 0.9, seed=5)
    X[:, 0] = 4.0
    mixture = fitted_mixture(X, 3, seed=1)

    def refuse(*args, **kwargs):
        raise AssertionError("the CSR path completed the whole matrix")

    monkeypatch.setattr(em, "fill_matrix", refuse)
    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    result = users_on_components(sp.csr_matrix(X), mixture)
    assert result.Z.shape == (80, 2) and np.all(np.isfinite(result.Z))
