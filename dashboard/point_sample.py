"""Which points a scatter figure draws: all of them up to :data:`~dashboard.limits.MAX_DRAWN_POINTS`,
beyond it a seeded sample that keeps each component's share, and the note that says so.

A browser draws a few tens of thousands of markers smoothly; 200,000 make a figure of tens of MB
that every rerun sends again. Every figure builder that draws points takes its indices from
:func:`drawn_points` and, when they are fewer than the points, adds :func:`sample_note`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from dashboard.limits import MAX_DRAWN_POINTS


def drawn_points(n: int, post: np.ndarray | None = None, limit: int | None = None, seed: int = 0) -> np.ndarray:
    """The indices (sorted, 0-based) of the points a figure draws out of ``n``.

    Parameters
    ----------
    n : int
        How many points there are.
    post : ndarray of shape (n, K), optional
        Responsibilities: the sample keeps each strongest component's share of the points (its
        quota rounded by largest remainder, so a component with points keeps at least its share
        rounded down, and the total is exactly ``limit``).
    limit : int, optional
        The most points drawn; :data:`~dashboard.limits.MAX_DRAWN_POINTS` by default.
    seed : int
        The sample is the same on every call with the same inputs (no flicker between reruns).

    Returns
    -------
    ndarray of int, shape (min(n, limit),)
    """
    limit = MAX_DRAWN_POINTS if limit is None else int(limit)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    if post is None:
        return np.sort(rng.choice(n, size=limit, replace=False))
    labels = np.argmax(post, axis=1)
    counts = np.bincount(labels, minlength=post.shape[1])
    quota = limit * counts / n
    take = np.floor(quota).astype(int)
    remainder = np.argsort(-(quota - take), kind="stable")[: limit - take.sum()]
    take[remainder] += 1
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)])
    chosen = [rng.choice(order[starts[j] : starts[j + 1]], size=take[j], replace=False) for j in np.flatnonzero(take)]
    return np.sort(np.concatenate(chosen))


def sample_text(shown: int, total: int) -> str:
    return f"showing {shown:,} of {total:,} points (a seeded sample)"


def sample_annotation(shown: int, total: int) -> dict:
    """The annotation of :func:`sample_note`, as a dict (for a figure built as a spec)."""
    return dict(
        text=sample_text(shown, total),
        name="sample_note",
        xref="paper",
        yref="paper",
        x=0.0,
        y=1.0,
        xanchor="left",
        yanchor="bottom",
        showarrow=False,
        font=dict(size=12, color="#555"),
    )


def sample_note(fig: go.Figure, shown: int, total: int) -> go.Figure:
    """Say on ``fig`` (under its title, above the plot) that it draws ``shown`` of ``total`` points; nothing if all."""
    if shown < total:
        fig.add_annotation(sample_annotation(shown, total))
    return fig
