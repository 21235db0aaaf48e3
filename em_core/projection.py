"""A 2-D view of high-dimensional rows: the first two principal components.

:func:`principal_axes` takes a complete dense matrix. :func:`users_on_components` puts the users of
a rating matrix on the first two principal components of its completion (:func:`em_core.em.fill_matrix`);
for a CSR matrix it never forms that n x d completion: the completion is the low-rank ``post @ mu``
plus a sparse correction at the observed entries, and a truncated SVD (``scipy.sparse.linalg.svds``)
of that operator gives the same axes.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import LinearOperator, svds

from em_core import em
from em_core.mixture import GaussianMixture
from em_core.sparse_ratings import check_ratings, row_of_entries

#: The products ``post @ mu`` at the observed entries are taken this many entries at a time.
ENTRIES_PER_BLOCK = 2**20


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
        """Project rows of shape (n, d) to shape (n, 2): ``(X - center) @ axes.T``, taken as
        ``X @ axes.T - center @ axes.T`` (no n x d temporary: on a 1,200 x 1,200 matrix a Step's
        map projects in a third of the time)."""
        return np.asarray(X, dtype=float) @ self.axes.T - self.center @ self.axes.T


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
    return Projection(center, _signed(axes), explained)


def _signed(axes: np.ndarray) -> np.ndarray:
    """Each axis with its largest loading positive (in place; returned for convenience)."""
    for row in axes:
        if row.any() and row[np.argmax(np.abs(row))] < 0:
            row *= -1
    return axes


def project_mixture(projection: Projection, mixture: GaussianMixture) -> tuple[np.ndarray, np.ndarray]:
    """Means of shape (K, 2) and standard deviations of shape (K,) in the projected plane.

    A spherical Gaussian stays spherical with the same sigma under an orthonormal projection.
    """
    return projection.apply(mixture.mu), np.sqrt(mixture.var)


class UserMap(NamedTuple):
    """Users and components on the first two principal components of the completed matrix.

    Attributes
    ----------
    Z : ndarray of shape (n, 2)
        Each user's coordinates.
    means_2d : ndarray of shape (K, 2)
    sigmas : ndarray of shape (K,)
    explained : ndarray of shape (2,)
        Share of the completed matrix's total variance along each axis.
    """

    Z: np.ndarray
    means_2d: np.ndarray
    sigmas: np.ndarray
    explained: np.ndarray


class _Completion(NamedTuple):
    """The completion ``post @ mu + R`` of a CSR matrix, as factors: never n x d."""

    post: np.ndarray  # (n, K)
    mu: np.ndarray  # (K, d)
    residual: sp.csr_matrix  # (n, d): rating - (post @ mu) at the observed entries

    def column_sums(self) -> np.ndarray:
        return self.post.sum(axis=0) @ self.mu + np.asarray(self.residual.sum(axis=0)).ravel()

    def squared_norm(self) -> float:
        """``||post @ mu + R||_F^2`` without forming the product."""
        low_rank = float(np.sum((self.post.T @ self.post) * (self.mu @ self.mu.T)))
        cross = float(self.residual.data @ _low_rank_at(self.post, self.mu, self.residual))
        return low_rank + 2.0 * cross + float(self.residual.data @ self.residual.data)


def _low_rank_at(post: np.ndarray, mu: np.ndarray, at: sp.csr_matrix) -> np.ndarray:
    """``(post @ mu)`` at the stored entries of ``at``, shape (nnz,), a block of entries at a time."""
    rows, cols = row_of_entries(at.indptr), at.indices
    values = np.empty(at.nnz)
    for start in range(0, at.nnz, ENTRIES_PER_BLOCK):
        block = slice(start, start + ENTRIES_PER_BLOCK)
        values[block] = np.einsum("ek,ke->e", post[rows[block]], mu[:, cols[block]])
    return values


def _sparse_completion(X: sp.csr_matrix, mixture: GaussianMixture, post: np.ndarray) -> _Completion:
    X = check_ratings(X)
    predicted = _low_rank_at(post, mixture.mu, X)
    residual = sp.csr_matrix((X.data - predicted, X.indices, X.indptr), shape=X.shape)
    return _Completion(post, mixture.mu, residual)


def completion_axes(completion: _Completion) -> Projection:
    """The first two principal components of ``post @ mu + R`` by a truncated SVD of the centred operator."""
    post, mu, residual = completion
    n, d = residual.shape
    center = completion.column_sums() / n
    total = completion.squared_norm() - n * float(center @ center)
    axes = np.zeros((2, d))
    explained = np.zeros(2)
    k = min(2, d, n)
    if total > 1e-12 * max(completion.squared_norm(), 1.0) and n > 1:
        operator = LinearOperator(
            (n, d),
            matvec=lambda v: post @ (mu @ np.ravel(v)) + residual @ np.ravel(v) - center @ np.ravel(v),
            rmatvec=lambda u: mu.T @ (post.T @ np.ravel(u)) + residual.T @ np.ravel(u) - center * np.ravel(u).sum(),
            dtype=float,
        )
        if min(n, d) > 3:
            _, singular, vt = svds(operator, k=k, random_state=0)
            order = np.argsort(singular)[::-1]
            singular, vt = singular[order], vt[order]
        else:  # ARPACK needs k < min(n, d): so small a matrix is taken whole
            dense = operator @ np.eye(d)
            _, singular, vt = np.linalg.svd(dense, full_matrices=False)
            singular, vt = singular[:k], vt[:k]
        axes[:k] = vt
        explained[:k] = singular**2 / total
    return Projection(center, _signed(axes), explained)


def users_on_components(X, mixture: GaussianMixture) -> UserMap:
    """The users and the components on the first two principal components of ``fill_matrix(X, mixture)``.

    A dense ``X`` is completed and projected as it always was (:func:`principal_axes`). A CSR
    ``X`` is not completed: its completion is ``post @ mu`` plus a correction at the observed
    entries, and the axes come from a truncated SVD of that operator (the same plane, to the
    solver's precision); each user's coordinates are ``post @ (mu @ axes.T)`` plus the correction's.

    Parameters
    ----------
    X : ndarray of shape (n, d) (0 = missing), or scipy.sparse CSR matrix
    mixture : GaussianMixture

    Returns
    -------
    UserMap
    """
    if not sp.issparse(X):
        X_pred = em.fill_matrix(X, mixture)
        projection = principal_axes(X_pred)
        means_2d, sigmas = project_mixture(projection, mixture)
        return UserMap(projection.apply(X_pred), means_2d, sigmas, projection.explained)
    post, _ = em.estep(X, mixture)
    completion = _sparse_completion(X, mixture, post)
    projection = completion_axes(completion)
    Z = post @ (mixture.mu @ projection.axes.T) + completion.residual @ projection.axes.T
    means_2d, sigmas = project_mixture(projection, mixture)
    return UserMap(Z - projection.center @ projection.axes.T, means_2d, sigmas, projection.explained)


def completion_plane(X, mixture: GaussianMixture) -> Projection:
    """The plane of :func:`users_on_components`: the first two principal components of ``X``'s completion
    by ``mixture`` (dense or CSR), for :func:`users_on_plane` to keep, e.g. a fit's first plane."""
    if not sp.issparse(X):
        return principal_axes(em.fill_matrix(X, mixture))
    post, _ = em.estep(X, mixture)
    return completion_axes(_sparse_completion(X, mixture, post))


def users_on_plane(X, mixture: GaussianMixture, plane: Projection, X_pred: np.ndarray | None = None) -> UserMap:
    """The users and the components on a given ``plane``: no SVD, only a projection.

    With the plane of the fit's first mixture (:func:`completion_plane`) the map keeps its axes from
    step to step, so what moves is the users and the means, not the picture. With the plane of
    ``mixture`` itself it is :func:`users_on_components`' map.

    Parameters
    ----------
    X : ndarray of shape (n, d) (0 = missing), or scipy.sparse CSR matrix
    mixture : GaussianMixture
    plane : Projection
    X_pred : ndarray of shape (n, d), optional
        ``em.fill_matrix(X, mixture)`` of a dense ``X`` if the caller has it (else it is made here).

    Returns
    -------
    UserMap
        ``explained``: the share of this completion's total variance along each axis of ``plane``.
    """
    n = X.shape[0]
    if not sp.issparse(X):
        X_pred = em.fill_matrix(X, mixture) if X_pred is None else np.asarray(X_pred, dtype=float)
        Z = plane.apply(X_pred)
        center = X_pred.mean(axis=0)
        total = float(np.einsum("ij,ij->", X_pred, X_pred)) - n * float(center @ center)
    else:
        post, _ = em.estep(X, mixture)
        completion = _sparse_completion(X, mixture, post)
        Z = post @ (mixture.mu @ plane.axes.T) + completion.residual @ plane.axes.T - plane.center @ plane.axes.T
        center = completion.column_sums() / n
        total = completion.squared_norm() - n * float(center @ center)
    spread = ((Z - Z.mean(axis=0)) ** 2).sum(axis=0)
    explained = spread / total if total > 1e-12 * max(float(spread.sum()), 1.0) else np.zeros(2)
    means_2d, sigmas = project_mixture(plane, mixture)
    return UserMap(Z, means_2d, sigmas, explained)
