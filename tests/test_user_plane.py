"""em_core.projection.users_on_plane: the users' map on a kept plane (the matrix page's map, whose axes
stay those of the fit's first mixture) is users_on_components' map when the plane is the mixture's own."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from em_core import em, init
from em_core.data import load_dataset
from em_core.projection import completion_plane, users_on_components, users_on_plane
from tests.apptest_helpers import Dashboard
from tests.helpers import random_ratings


@pytest.mark.parametrize(
    "n, d, missing, K",
    [
        (60, 15, 0.6, 4),
        (40, 3, 0.3, 2),  # so few columns that the plane is found by a full SVD
        (30, 25, 0.9, 5),  # mostly missing
    ],
)
@pytest.mark.parametrize("csr", [False, True])
def test_on_its_own_plane_the_map_is_users_on_components(n, d, missing, K, csr):
    X = random_ratings(n, d, missing=missing, seed=n + d)
    mixture, _ = init(X, K, 1)
    X = sp.csr_matrix(X) if csr else X
    expected = users_on_components(X, mixture)
    got = users_on_plane(X, mixture, completion_plane(X, mixture))
    for name in expected._fields:
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=1e-7, atol=1e-9, err_msg=name)


def test_a_kept_plane_projects_the_new_completion_and_the_given_completion_is_used():
    X = random_ratings(50, 12, missing=0.5, seed=7)
    start, post = init(X, 3, 0)
    plane = completion_plane(X, start)
    later = em.mstep(X, em.estep(X, start)[0], start, 0.25)
    X_pred = em.fill_matrix(X, later)
    moved = users_on_plane(X, later, plane)
    np.testing.assert_allclose(moved.Z, (X_pred - plane.center) @ plane.axes.T)
    np.testing.assert_allclose(moved.means_2d, (later.mu - plane.center) @ plane.axes.T)
    centred = X_pred - X_pred.mean(axis=0)
    along = (centred @ plane.axes.T) ** 2
    np.testing.assert_allclose(moved.explained, along.sum(axis=0) / (centred**2).sum())
    given = users_on_plane(X, later, plane, X_pred=np.full_like(X_pred, 3.0))  # the caller's completion is used
    np.testing.assert_allclose(given.Z, np.broadcast_to((3.0 - plane.center) @ plane.axes.T, given.Z.shape))
    np.testing.assert_array_equal(given.explained, [0.0, 0.0])  # a constant completion has no variance
    csr = users_on_plane(sp.csr_matrix(X), later, plane)
    np.testing.assert_allclose(csr.Z, moved.Z, atol=1e-9)
    np.testing.assert_allclose(csr.explained, moved.explained, rtol=1e-9)


def test_the_matrix_page_draws_every_step_on_the_plane_of_the_fit_start():
    """The users' map does not turn between steps: each Step's points are the new completion projected on
    the principal plane of the fit's first mixture (not on a plane of their own)."""
    app = Dashboard("demo-small", page="matrix")
    X = load_dataset("demo-small").X
    slot = app.fit("matrix")
    plane = completion_plane(X, slot.initial)
    for _ in range(2):
        app.click("emx_step")
        mixture = app.fit("matrix").state.mixture
        points = next(trace for trace in app.figure("emx_pca")["data"] if trace.get("name") == "points")
        expected = users_on_plane(X, mixture, plane)
        np.testing.assert_allclose(np.column_stack([points["x"], points["y"]]), expected.Z, rtol=1e-12)
        layout = app.figure("emx_pca")["layout"]
        titles = [layout[axis]["title"]["text"] for axis in ("xaxis", "yaxis")]
        shares = expected.explained
        assert titles == [f"PC{i + 1} of the start ({share:.0%} of variance)" for i, share in enumerate(shares)]
        own = users_on_components(X, mixture)  # the plane the map used to turn to at every step
        assert not np.allclose(np.abs(own.Z), np.abs(expected.Z))
