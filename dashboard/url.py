"""Keep the data set, K, seed, min variance and iteration in the URL, so a link reopens the view.

The 2-D EM page's covariance type and start go in too (``cov=full``, ``init=kmeans++``), when they
are not the course's; means placed by hand live in the session only, so a link cannot carry them.
"""

from __future__ import annotations

import streamlit as st

from dashboard.limits import MAX_K, MAX_LINK_ITERATION, MAX_MIN_VARIANCE, MAX_SEED, SUGGESTED_K, UPLOAD, plain
from dashboard.presentation import KEY as PRESENT_KEY
from dashboard.user_points import DATASET as USER_POINTS
from em_core.covariance_em import COVARIANCE_TYPES
from em_core.data import available_datasets
from em_core.initialisation import STRATEGIES

#: Link parameter -> (the session key that keeps it, the values a link may give, the course's value).
PAGE_CHOICES = {
    "cov": ("em2d_covariance", COVARIANCE_TYPES, "spherical"),
    "init": ("em2d_init", STRATEGIES, "course"),
}


def _quoted(value: str) -> str:
    """A link's value as the warning shows it: plain text (never Markdown), cut short."""
    return f"'{plain(value)}'"


def _int(value: str, name: str, low: int, high: int, problems: list[str]) -> int | None:
    try:
        number = int(value)
    except ValueError:
        problems.append(f"{name}={_quoted(value)} is not a whole number")
        return None
    if not low <= number <= high:
        problems.append(f"{name}={plain(value)} is outside {low}..{high}")
        return None
    return number


def read_once() -> None:
    """Apply the link's parameters to a new session (before any widget is drawn)."""
    if st.session_state.get("url_read"):
        return
    st.session_state.url_read = True
    params = st.query_params
    problems: list[str] = []
    dataset = params.get("dataset")
    if dataset is not None:
        if dataset in available_datasets():
            st.session_state.dataset = dataset
            st.session_state.em_k = SUGGESTED_K.get(dataset, st.session_state.em_k)
        else:
            problems.append(f"data set {_quoted(dataset)} is not available here")
    if "k" in params:
        k = _int(params["k"], "k", 1, MAX_K, problems)
        if k is not None:
            st.session_state.em_k = k
    if "seed" in params:
        seed = _int(params["seed"], "seed", 0, MAX_SEED, problems)
        if seed is not None:
            st.session_state.em_seed = seed
    if "minvar" in params:
        try:
            minvar = float(params["minvar"])
            if not 0 <= minvar <= MAX_MIN_VARIANCE:
                raise ValueError
            st.session_state.em_min_variance = minvar
        except ValueError:
            problems.append(f"minvar={_quoted(params['minvar'])} is not a number in 0..{MAX_MIN_VARIANCE:g}")
    if "it" in params:
        iteration = _int(params["it"], "it", 0, MAX_LINK_ITERATION, problems)
        if iteration is not None:
            st.session_state.pending_iteration = iteration
    for name, (key, allowed, _) in PAGE_CHOICES.items():
        if name in params:
            if params[name] in allowed:
                st.session_state[key] = params[name]
            else:
                problems.append(f"{name}={_quoted(params[name])} is not one of {', '.join(allowed)}")
    if problems:
        st.session_state.url_problems = "The link's " + "; ".join(problems) + ". Using the defaults instead."


def write(dataset: str, K: int, seed: int, min_variance: float, iteration: int | None = None) -> None:
    """Mirror the current view in the URL (uploads cannot be linked, so they are left out)."""
    wanted = {"dataset": dataset, "k": str(K), "seed": str(seed), "minvar": f"{min_variance:g}"}
    if dataset in (UPLOAD, USER_POINTS):  # a session's own data: another session cannot open it
        wanted = {}
    if iteration is not None and wanted:
        wanted["it"] = str(iteration)
    for name, (key, allowed, default) in PAGE_CHOICES.items():
        value = st.session_state.get(key, default)
        if wanted and value != default and value in allowed:  # "hand" stays out: the means are not linkable
            wanted[name] = value
    if st.session_state.get(PRESENT_KEY):  # a link to a projected view opens in presentation mode
        wanted["present"] = "1"
    current = {
        key: st.query_params.get(key) for key in ("dataset", "k", "seed", "minvar", "it", *PAGE_CHOICES, "present")
    }
    if current != {key: wanted.get(key) for key in current}:
        st.query_params.from_dict(wanted)  # one message to the browser (clear, then update, sent two)
