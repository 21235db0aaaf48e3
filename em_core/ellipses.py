"""The n-sigma ellipse of each component of a 2-D mixture, from the eigen-decomposition of its covariance.

For a covariance ``Sigma = V diag(lambda) V^T`` (eigenvalues ``lambda_1 >= lambda_2``), the points at
Mahalanobis distance ``s`` from the mean form an ellipse whose half-axes are ``s sqrt(lambda_1)`` along
the first eigenvector and ``s sqrt(lambda_2)`` along the second. A spherical component gives a circle.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from em_core.covariance_em import CovarianceMixture, covariance_matrices
from em_core.errors import DataError
from em_core.mixture import GaussianMixture


class Ellipses(NamedTuple):
    """One ellipse per component.

    Attributes
    ----------
    center : ndarray of shape (K, 2)
        The component means.
    half_axes : ndarray of shape (K, 2)
        The semi-major and semi-minor axis lengths (major first), in data units.
    angle : ndarray of shape (K,)
        The angle of the major axis from the +x axis, in radians, in (-pi/2, pi/2]; 0 for a circle.
    n_sigma : float
        The Mahalanobis radius drawn (1 for the 1-sigma ellipse).
    """

    center: np.ndarray
    half_axes: np.ndarray
    angle: np.ndarray
    n_sigma: float

    def outline(self, j: int, n_points: int = 73) -> np.ndarray:
        """Points on component ``j``'s ellipse, shape (n_points, 2); the first equals the last (a closed path)."""
        t = np.linspace(0.0, 2.0 * np.pi, n_points)
        a, b = self.half_axes[j]
        c, s = np.cos(self.angle[j]), np.sin(self.angle[j])
        x, y = a * np.cos(t), b * np.sin(t)
        return self.center[j] + np.column_stack([c * x - s * y, s * x + c * y])


def sigma_ellipses(mixture: GaussianMixture | CovarianceMixture, n_sigma: float = 1.0) -> Ellipses:
    """The ``n_sigma`` ellipse of every component of a 2-D mixture of any covariance type.

    Parameters
    ----------
    mixture : GaussianMixture or CovarianceMixture
        With means of shape (K, 2).
    n_sigma : float
        The Mahalanobis radius (1 for the 1-sigma ellipse, 2 for 2-sigma).

    Raises
    ------
    DataError
        For a mixture that is not 2-D, or ``n_sigma`` not a positive number.
    """
    d = mixture.mu.shape[1]
    if d != 2:
        raise DataError(
            f"ellipses are drawn for 2-D data; this mixture has {d} dimensions; project the data to 2-D first"
        )
    try:
        radius = float(n_sigma)
    except (TypeError, ValueError):
        radius = float("nan")
    if not np.isfinite(radius) or radius <= 0:
        raise DataError(f"n_sigma must be a positive number, got {n_sigma!r}; use 1 or 2")
    eigenvalues, eigenvectors = np.linalg.eigh(covariance_matrices(mixture))  # ascending
    half_axes = radius * np.sqrt(np.maximum(eigenvalues[:, ::-1], 0.0))
    major = eigenvectors[:, :, 1]
    angle = np.arctan2(major[:, 1], major[:, 0])
    # an axis has no direction: fold the angle into (-pi/2, pi/2]
    angle = np.where(angle > np.pi / 2, angle - np.pi, np.where(angle <= -np.pi / 2, angle + np.pi, angle))
    circle = np.isclose(eigenvalues[:, 0], eigenvalues[:, 1], rtol=1e-12, atol=0.0)
    return Ellipses(mixture.mu.copy(), half_axes, np.where(circle, 0.0, angle), radius)
