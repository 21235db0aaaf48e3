"""A 2-D view of high-dimensional rows: the first two principal components."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import svds

from em_core.mixture import GaussianMixture


class Projection(NamedTuple):
    """An orthonormal projection ``z = (x - center) @ axes.T``.

    Attributes
    ----------
    center : ndarray of shape (d,)
    axes : ndarray of shape (2, d)
        Orthonormal rows: the first two principal directions.
    explained : ndarray of shape (2,)
        Share of the total variance along each axis.
    """

    center: np.ndarray
    axes: np.ndarray
    explained: np.ndarray

    def apply(self, X: np.ndarray) -> np.ndarray:
        """Project rows of shape (n, d) to shape (n, 2)."""
        return (np.asarray(X, dtype=float) - self.center) @ self.axes.T


def principal_axes(X: np.ndarray) -> Projection:
    """The first two principal components of ``X`` (rows are samples).

    Signs are fixed so that each axis' largest loading is positive, so the picture does
    not flip between two calls on nearly the same matrix. With fewer than two columns
    the missing axis is zero.

    Parameters
    ----------
    X : ndarray of shape (n, d)
        A complete matrix (e.g. the completed rating matrix).
    """
    X = np.asarray(X, dtype=float)
    n, d = X.shape
    center = X.mean(axis=0)
    Xc = X - center
    total = float((Xc * Xc).sum())
    axes = np.zeros((2, d))
    explained = np.zeros(2)
    if total > 0 and n > 1:
        k = min(2, d, n)
        if min(n, d) > 3:
            _, s, vt = svds(Xc, k=k, random_state=0)
            order = np.argsort(s)[::-1]
            s, vt = s[order], vt[order]
        else:
            _, s, vt = np.linalg.svd(Xc, full_matrices=False)
            s, vt = s[:k], vt[:k]
        axes[:k] = vt
        explained[:k] = s**2 / total
    for row in axes:
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return Projection(center, axes, explained)


def project_mixture(projection: Projection, mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Means of shape (K, 2) and standard deviations of shape (K,) in the projected plane.

    A spherical Gaussian stays spherical with the same sigma under an orthonormal projection.
    """
    return projection.apply(mixture.mu), np.sqrt(mixture.var)
