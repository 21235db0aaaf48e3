"""The n-sigma ellipses of a 2-D mixture (em_core.ellipses): axes and angle against known covariances, the outline at
the Mahalanobis radius, circles for spherical components, and the refusals."""

from __future__ import annotations

import numpy as np
import pytest

from em_core.covariance_em import CovarianceMixture
from em_core.ellipses import sigma_ellipses
from em_core.errors import DataError
from em_core.mixture import GaussianMixture


def rotation(angle: float) -> np.ndarray:
    return np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])


@pytest.mark.parametrize("angle", [0.0, np.pi / 6, -np.pi / 3, np.pi / 2])
def test_ellipse_axes_and_angle_of_a_known_covariance(angle):
    # variance 9 along the direction at `angle`, 1 across it: half-axes 3 and 1 at 1 sigma
    R = rotation(angle)
    cov = R @ np.diag([9.0, 1.0]) @ R.T
    mixture = CovarianceMixture(np.array([[1.0, -2.0]]), cov[None], np.array([1.0]), "full")
    one, two = sigma_ellipses(mixture), sigma_ellipses(mixture, n_sigma=2.0)
    np.testing.assert_allclose(one.half_axes, [[3.0, 1.0]], rtol=1e-12)
    np.testing.assert_allclose(two.half_axes, [[6.0, 2.0]], rtol=1e-12)
    assert one.angle[0] == pytest.approx(angle, abs=1e-12)
    np.testing.assert_array_equal(one.center, [[1.0, -2.0]])


def test_ellipse_outline_lies_at_the_mahalanobis_radius():
    R = rotation(0.4)
    cov = R @ np.diag([4.0, 0.25]) @ R.T
    mixture = CovarianceMixture(np.array([[2.0, 3.0]]), cov[None], np.array([1.0]), "full")
    points = sigma_ellipses(mixture, n_sigma=2.0).outline(0, n_points=50)
    diff = points - mixture.mu[0]
    np.testing.assert_allclose(np.einsum("ij,jk,ik->i", diff, np.linalg.inv(cov), diff), 4.0, rtol=1e-12)
    np.testing.assert_array_equal(points[0], points[-1])


def test_spherical_and_diag_ellipses():
    spherical = GaussianMixture(np.zeros((2, 2)), np.array([4.0, 0.25]), np.array([0.5, 0.5]))
    circles = sigma_ellipses(spherical)
    np.testing.assert_allclose(circles.half_axes, [[2.0, 2.0], [0.5, 0.5]])
    np.testing.assert_array_equal(circles.angle, [0.0, 0.0])
    diag = CovarianceMixture(np.zeros((2, 2)), np.array([[1.0, 4.0], [9.0, 1.0]]), np.array([0.5, 0.5]), "diag")
    axes = sigma_ellipses(diag)
    np.testing.assert_allclose(axes.half_axes, [[2.0, 1.0], [3.0, 1.0]])
    np.testing.assert_allclose(axes.angle, [np.pi / 2, 0.0], atol=1e-15)


def test_ellipses_need_2d_and_a_positive_radius():
    mixture = GaussianMixture(np.zeros((1, 3)), np.ones(1), np.ones(1))
    with pytest.raises(DataError, match="ellipses are drawn for 2-D data; this mixture has 3 dimensions"):
        sigma_ellipses(mixture)
    flat = GaussianMixture(np.zeros((1, 2)), np.ones(1), np.ones(1))
    for bad in (0, -1.0, float("nan"), "two"):
        with pytest.raises(DataError, match="n_sigma must be a positive number, got .*; use 1 or 2"):
            sigma_ellipses(flat, bad)
