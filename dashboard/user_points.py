"""The points and starting means a user places by hand, kept in the session.

Every key is initialised once (:func:`init_state`); the pages read and change them only through
the accessors here. The points become a data set the 2-D pages can use, "your points"
(:data:`DATASET`), once there are at least K of them (:func:`dataset_options`); the placed means
are the hand-placed start of a fit (:func:`placed_means`).

Every change (a point, a mean, a start from another set, a clear) can be undone, up to
:data:`UNDO_DEPTH` changes back.
"""

from __future__ import annotations

import hashlib
from functools import partial
from typing import NamedTuple

import numpy as np
import streamlit as st

from dashboard import downloads
from dashboard.click_canvas import Canvas, canvas_around
from dashboard.limits import MAX_K
from em_core import export
from em_core.data import BUILTIN, COURSE_FILES, Dataset, available_datasets, read_only

#: The data set id (and label) of the session's own points in the sidebar.
DATASET = "your points"
#: The most points a session may place or start from: every click reruns the page, which draws them all.
MAX_POINTS = 500
#: The most means a session may place (the sidebar's largest K).
MAX_MEANS = MAX_K
#: How many changes Undo can take back.
UNDO_DEPTH = 100

_STATE = "user_points_state"
_UNDO = "user_points_undo"


class Placed(NamedTuple):
    """What the user has placed: points, means, and the canvas they were placed on."""

    points: np.ndarray  # (n, 2)
    means: np.ndarray  # (m, 2)
    canvas: Canvas
    source: str  # "empty" or the name of the set it started from


def _empty() -> Placed:
    return Placed(np.empty((0, 2)), np.empty((0, 2)), canvas_around(None), "empty")


def init_state() -> None:
    """Initialise the session's keys once."""
    if _STATE not in st.session_state:
        st.session_state[_STATE] = _empty()
        st.session_state[_UNDO] = []


def _placed() -> Placed:
    init_state()
    return st.session_state[_STATE]


def _change(new: Placed) -> None:
    undo_stack = st.session_state[_UNDO]
    undo_stack.append(st.session_state[_STATE])
    del undo_stack[:-UNDO_DEPTH]
    st.session_state[_STATE] = new


def points() -> np.ndarray:
    """The placed points, shape (n, 2) (a read-only array; n may be 0)."""
    return _placed().points


def placed_means() -> np.ndarray | None:
    """The means placed by hand, shape (m, 2) in the order placed, or None when none is placed.

    Check them against the data and K with :func:`em_core.initialisation.initial_mixture`.
    """
    means = _placed().means
    return means if means.shape[0] else None


def canvas() -> Canvas:
    """The region the canvas shows (fitted to the set started from; 10 x 10 around 0 when empty)."""
    return _placed().canvas


def source() -> str:
    """Where the points started: "empty" or the name of a data set."""
    return _placed().source


def can_undo() -> bool:
    init_state()
    return bool(st.session_state[_UNDO])


def _frozen(X: np.ndarray) -> np.ndarray:
    X = np.array(X, dtype=float).reshape(-1, 2)
    X.flags.writeable = False
    return X


def add_point(x: float, y: float) -> str | None:
    """Add a point; returns why not when :data:`MAX_POINTS` are placed already or one sits there."""
    placed = _placed()
    if placed.points.shape[0] >= MAX_POINTS:
        return f"{MAX_POINTS} points is the most a session can place; undo or clear some first"
    if placed.points.shape[0] and np.any(np.all(placed.points == [x, y], axis=1)):
        # a second point there would not show: a double click, or a click made again because the first seemed
        # lost (under load in CI one click's point arrived twice), must not add an invisible copy
        return f"a point sits at ({x:g}, {y:g}) already; click elsewhere to add another"
    _change(placed._replace(points=_frozen(np.vstack([placed.points, [x, y]]))))
    return None


def add_mean(x: float, y: float, K: int) -> str | None:
    """Place a starting mean; returns why not when K means are placed already or one sits there."""
    placed = _placed()
    m = placed.means.shape[0]
    if m >= min(K, MAX_MEANS):
        return f"{m} means placed and K is {K}; undo one or clear the means to place it again"
    if m and np.any(np.all(placed.means == [x, y], axis=1)):
        return f"a mean sits at ({x:g}, {y:g}) already; K means must be distinct, click elsewhere"
    _change(placed._replace(means=_frozen(np.vstack([placed.means, [x, y]]))))
    return None


def start_from(X: np.ndarray, name: str) -> str | None:
    """Replace the points by a copy of ``X`` (n, 2) and fit the canvas to them; the means are kept."""
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        return f"{name} is not a 2-D point set"
    if X.shape[0] > MAX_POINTS:
        return f"{name} has {X.shape[0]:,} points; a session may place at most {MAX_POINTS}"
    _change(_placed()._replace(points=_frozen(X), canvas=canvas_around(X), source=name))
    return None


def clear_points() -> None:
    """No points; the canvas goes back to the default one."""
    _change(_placed()._replace(points=np.empty((0, 2)), canvas=canvas_around(None), source="empty"))


def clear_means() -> None:
    _change(_placed()._replace(means=np.empty((0, 2))))


def undo() -> None:
    """Take back the latest change (a point, a mean, a start, a clear)."""
    init_state()
    if st.session_state[_UNDO]:
        st.session_state[_STATE] = st.session_state[_UNDO].pop()


def starting_sets() -> list[str]:
    """The named 2-D point sets available here, to start from (built-in scenarios, the course's toy set)."""
    kinds = {name: kind for name, (_, kind) in BUILTIN.items()}
    kinds.update({name: kind for name, (_, _, kind) in COURSE_FILES.items()})
    return [name for name in available_datasets() if kinds.get(name) == "points"]


# ------------------------------------------------------------------ the points as a data set


def dataset_options(K: int, chosen: str | None = None) -> list[str]:
    """``[DATASET]`` once there are at least K points (or while it is the chosen set and not empty)."""
    n = points().shape[0]
    return [DATASET] if n >= max(int(K), 1) or (chosen == DATASET and n > 0) else []


def use_as_dataset() -> None:
    """Widget callback: make the placed points the sidebar's data set."""
    st.session_state.dataset = DATASET


def download_files() -> list[downloads.DownloadFile]:
    """The points as the course's text format (one point per line, space-separated) and as CSV."""
    X = points()
    return [
        downloads.DownloadFile("Points (.txt)", partial(export.matrix_text, X), "your_points.txt", "text/plain", "txt"),
        downloads.DownloadFile("Points (.csv)", partial(export.matrix_csv, X), "your_points.csv", "text/csv", "csv"),
    ]


def dataset() -> Dataset:
    """The placed points as a complete 2-D data set."""
    return read_only(Dataset(DATASET, np.array(points()), kind="points", source="session"))


def content_key() -> str:
    """Names the points' content (fit and cache keys change when a point is added)."""
    return "your-points:" + hashlib.sha256(np.ascontiguousarray(points()).tobytes()).hexdigest()[:20]
