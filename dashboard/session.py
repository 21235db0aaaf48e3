"""Session state for the dashboard: the chosen data set and settings, and the page guards.

Every key is initialised once, here. Data sets are cached once per process (read-only
arrays shared by all sessions); a session holds only its settings and its fits (the fits
themselves are :mod:`dashboard.fits`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import streamlit as st

from dashboard import url
from dashboard.limits import MAX_VALUES, SUGGESTED_K, UPLOAD
from em_core import DataError
from em_core.data import (
    BUILTIN,
    COURSE_FILES,
    Dataset,
    available_datasets,
    data_dir,
    dataset_from_bytes,
    load_dataset,
    read_only,
)
from em_core.validation import check_k


@dataclass(frozen=True)
class Settings:
    """What the sidebar chose; every page reads this."""

    dataset_id: str
    dataset: Dataset
    K: int
    seed: int
    min_variance: float
    k_error: str | None = None  # set when K does not fit the data set


def init_state() -> None:
    """Initialise every session key once."""
    defaults = {
        "dataset": "demo-2d",
        "em_k": SUGGESTED_K["demo-2d"],
        "em_seed": 0,
        "em_min_variance": 0.25,
        "uploaded": None,  # dict(name, content, gold, gold_name, kind) of the last valid upload
        "upload_error": None,
        "upload_digest": None,
        "fits": {},
    }
    for key, value in defaults.items():
        if key not in st.session_state:
            st.session_state[key] = value
    url.read_once()


# ------------------------------------------------------------------ data


@st.cache_resource(max_entries=8, show_spinner="Loading data ...")
def load_named(name: str, folder: str) -> Dataset:
    """A built-in or course data set, loaded once per process (``folder`` keys the cache)."""
    dataset = load_dataset(name)
    return read_only(dataset)


@st.cache_resource(max_entries=16, show_spinner="Reading the upload ...")
def load_upload(digest: str, _content: bytes, name: str, _gold: bytes | None, gold_name: str, kind: str) -> Dataset:
    """An uploaded data set, validated by em_core and cached by its content digest."""
    return read_only(dataset_from_bytes(_content, name, _gold, gold_name, kind=kind, max_values=MAX_VALUES))


def upload_digest(content: bytes, gold: bytes | None, kind: str) -> str:
    digest = hashlib.sha256(content)
    digest.update(b"\0nogold\0" if gold is None else b"\0gold\0" + gold)
    digest.update(kind.encode())
    return digest.hexdigest()


def dataset_options() -> list[str]:
    options = available_datasets()
    if st.session_state.get("uploaded"):
        options.append(UPLOAD)
    return options


def dataset_label(key: str) -> str:
    if key == UPLOAD:
        upload = st.session_state.get("uploaded") or {}
        return f"upload: {upload.get('name', '?')}"
    if key in BUILTIN:
        return f"{key} (built-in)"
    if key in COURSE_FILES:
        return f"{key} (course)"
    return key


def try_upload(name: str, content: bytes, gold_name: str | None, gold: bytes | None, kind: str) -> str | None:
    """Validate an upload; on success make it the current data set. Returns the error message, if any."""
    digest = upload_digest(content, gold, kind)
    if digest == st.session_state.get("upload_digest"):
        return st.session_state.get("upload_error")
    st.session_state.upload_digest = digest
    try:
        load_upload(digest, content, name, gold, gold_name or "gold", kind)
    except DataError as err:
        st.session_state.upload_error = str(err)
        return str(err)
    st.session_state.upload_error = None
    st.session_state.uploaded = {
        "name": name,
        "content": content,
        "gold": gold,
        "gold_name": gold_name or "gold",
        "kind": kind,
        "digest": digest,
    }
    st.session_state.dataset = UPLOAD
    return None


def current_dataset(key: str) -> Dataset:
    if key == UPLOAD:
        up = st.session_state.uploaded
        return load_upload(up["digest"], up["content"], up["name"], up["gold"], up["gold_name"], up["kind"])
    return load_named(key, str(data_dir()))


def on_dataset_change() -> None:
    """Widget callback: a new data set gets its suggested K."""
    key = st.session_state.dataset
    if key in SUGGESTED_K:
        st.session_state.em_k = SUGGESTED_K[key]


def settings() -> Settings:
    """The current choice, as a plain value (the sidebar has run before any page)."""
    key = st.session_state.dataset
    dataset = current_dataset(key)
    K = int(st.session_state.em_k)
    k_error = None
    try:
        check_k(K, dataset.X.shape[0], dataset.name)
    except DataError as err:
        k_error = str(err)
    return Settings(key, dataset, K, int(st.session_state.em_seed), float(st.session_state.em_min_variance), k_error)


def content_key(s: Settings) -> str:
    """A key that names the data set's content (cache keys and fit keys use it)."""
    if s.dataset_id == UPLOAD:
        return "upload:" + st.session_state.uploaded["digest"]
    return f"{s.dataset_id}:{data_dir()}" if s.dataset_id in COURSE_FILES else s.dataset_id


def sync_url(s: Settings, iteration: int | None = None) -> None:
    """Put the current settings (and the iteration of the fit shown) in the URL."""
    url.write(s.dataset_id, s.K, s.seed, s.min_variance, iteration)


# ------------------------------------------------------------------ page guards

#: The built-in set a page switches to when the current one is of the wrong kind.
FALLBACK = {"points": "demo-2d", "ratings": "demo-small"}


def _switch_to(name: str) -> None:
    st.session_state.dataset = name
    on_dataset_change()


def require(s: Settings, kind: str | None = None, two_d: bool = False, need_k: bool = True) -> None:
    """Stop the page with a friendly message when its input is missing or of the wrong kind."""
    dataset = s.dataset
    wrong_kind = kind is not None and dataset.kind != kind
    wrong_shape = two_d and dataset.X.shape[1] != 2
    if wrong_kind or wrong_shape:
        want = "a 2-D point set" if two_d else ("a rating matrix" if kind == "ratings" else "a point set")
        fallback = FALLBACK["points" if two_d or kind == "points" else "ratings"]
        st.info(
            f"This page works on {want}; {dataset_label(s.dataset_id)} is "
            f"{dataset.X.shape[0]} x {dataset.X.shape[1]} {dataset.kind}. Choose another data set in the "
            "sidebar, or:",
            icon=":material/info:",
        )
        st.button(f"Use {fallback}", key="switch_dataset", on_click=_switch_to, args=(fallback,))
        st.stop()
    if need_k and s.k_error:
        st.error(s.k_error, icon=":material/error:")
        st.stop()
