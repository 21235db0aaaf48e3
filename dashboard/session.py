"""Session state for the dashboard: the chosen data set and settings, and the page guards.

Every key is initialised once, here. Data sets are cached once per process (read-only
arrays shared by all sessions); a session holds only its settings and its fits (the fits
themselves are :mod:`dashboard.fits`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass

import numpy as np
import streamlit as st

from dashboard import url, user_points
from dashboard.byte_cache import ByteLRU, nbytes
from dashboard.limits import (
    MAX_COLUMNS,
    MAX_POINTS_2D,
    MAX_ROWS,
    MAX_UPLOAD_LINES,
    MAX_VALUES,
    SUGGESTED_K,
    UPLOAD,
    UPLOAD_CACHE_BYTES,
    clip,
    literal,
    plain,
)
from em_core import DataError
from em_core.data import (
    BUILTIN,
    COURSE_FILES,
    FOLDER_SETS,
    Dataset,
    available_datasets,
    data_dirs,
    dataset_from_bytes,
    load_dataset,
    read_only,
)
from em_core.ratings_file import ITEMS_FILE
from em_core.stepping import MAX_ITER
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
    max_iter: int = MAX_ITER  # the sidebar's "Max iterations": the cap of Run, Play and model selection's fits


def init_state() -> None:
    """Initialise every session key once."""
    defaults = {
        "dataset": "demo-2d",
        "em_k": SUGGESTED_K["demo-2d"],
        "em_seed": 0,
        "em_min_variance": 0.25,
        "em_max_iter": MAX_ITER,
        "uploaded": None,  # dict(name, content, gold, gold_name, kind) of the last valid upload
        "upload_error": None,
        "upload_digest": None,
        # salts this session's upload digests, so no cache is shared with another session that
        # uploads the same bytes (its timing would tell that someone had)
        "upload_salt": secrets.token_hex(16),
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


class UploadStore(ByteLRU):
    """Parsed uploads keyed by their salted digest, within ``budget`` bytes of arrays in all.

    The least recently used upload leaves first; one larger than the budget is still kept
    while it is the newest (every session can use what it just uploaded).
    """

    def __init__(self, budget: int) -> None:
        super().__init__(budget, sizeof=self.size)

    @staticmethod
    def size(dataset: Dataset) -> int:
        return nbytes(dataset.X) + nbytes(dataset.gold)


#: Every session's parsed upload (per session: the digest is salted with the session's salt).
UPLOADS = UploadStore(UPLOAD_CACHE_BYTES)

_WHY_LINES = {
    "points": "every step of the 2-D pages computes every point's posterior, and a larger file takes long to read",
    "ratings": "the pages draw every row, and a larger file takes minutes to read",
}


def check_upload_size(content: bytes, name: str, kind: str) -> None:
    """Refuse, before parsing, a file with more lines than any upload the pages can show."""
    limit = MAX_POINTS_2D if kind == "points" else MAX_UPLOAD_LINES
    lines = content.count(b"\n") + (not content.endswith(b"\n"))
    if lines > limit:
        raise DataError(
            f"{clip(name)}: {lines:,} lines; the dashboard takes at most {limit:,} ({_WHY_LINES[kind]}); "
            "use the command line (python -m em_core) for larger files"
        )


def check_upload_shape(dataset: Dataset, name: str) -> None:
    """Refuse a parsed upload whose rows, columns or points cost more than the pages can draw."""
    n, d = dataset.X.shape
    if dataset.kind == "points" and d == 2 and n > MAX_POINTS_2D:
        why = f"at most {MAX_POINTS_2D:,} 2-D points (every step of the 2-D pages computes every point's posterior)"
    elif n > MAX_ROWS and not (dataset.kind == "points" and d == 2):
        why = f"at most {MAX_ROWS:,} rows (the pages draw the matrix as an n x d image, one row of pixels per row)"
    elif d > MAX_COLUMNS:
        why = f"at most {MAX_COLUMNS:,} columns (the matrix image and the means' heatmap have one column per item)"
    else:
        return
    raise DataError(
        f"{clip(name)}: {n:,} x {d:,}; the dashboard takes {why}; "
        "use the command line (python -m em_core) for larger files"
    )


def _parse_upload(upload: dict) -> Dataset:
    content, name, kind = upload["content"], upload["name"], upload["kind"]
    check_upload_size(content, name, kind)
    dataset = dataset_from_bytes(content, name, upload["gold"], upload["gold_name"], kind=kind, max_values=MAX_VALUES)
    check_upload_shape(dataset, name)
    return read_only(dataset)


def load_upload(upload: dict) -> Dataset:
    """The session's upload, parsed and validated by em_core (kept in :data:`UPLOADS`)."""
    dataset = UPLOADS.get(upload["digest"])
    if dataset is None:
        with st.spinner("Reading the upload ..."):
            dataset = _parse_upload(upload)
        UPLOADS.put(upload["digest"], dataset)
    return dataset


def upload_summary(dataset: Dataset) -> str:
    """What an upload was read as, for the upload box: the format em_core detected and the matrix it made
    (for a ratings file, that it has no titles: an upload comes without the items file beside it)."""
    X = dataset.X
    n, d = X.shape
    values = X.nnz if hasattr(X, "nnz") else int(np.count_nonzero(X)) if dataset.kind == "ratings" else X.size
    what = "ratings" if dataset.kind == "ratings" else "values"
    text = f"Read as {dataset.file_format.description}: {values:,} {what}, {n:,} rows × {d:,} columns."
    items_file = ITEMS_FILE.get(dataset.file_format.name)
    if items_file and not dataset.item_titles:
        text += f" Items are shown by id: titles come from a {items_file} beside the ratings (a folder in EM_DATA_DIR)."
    return text


def folders_key() -> str:
    """Every folder EM_DATA_DIR names (a course set can come from any of them), for cache and fit keys."""
    return os.pathsep.join(str(folder) for folder in data_dirs())


def upload_digest(content: bytes, gold: bytes | None, kind: str) -> str:
    """The upload's digest, salted with this session's salt (so it names this session's copy)."""
    digest = hashlib.sha256(st.session_state.upload_salt.encode())
    digest.update(content)
    digest.update(b"\0nogold\0" if gold is None else b"\0gold\0" + gold)
    digest.update(kind.encode())
    return digest.hexdigest()


def dataset_options() -> list[str]:
    options = available_datasets()
    if st.session_state.get("uploaded"):
        options.append(UPLOAD)
    options += user_points.dataset_options(st.session_state.get("em_k", 1), st.session_state.get("dataset"))
    return options


def dataset_label(key: str, markdown: bool = True) -> str:
    """How a data set is called on the pages; an upload's file name is plain text, cut short.

    ``markdown=False`` for places that show text as it is (a select box's options).
    """
    if key == UPLOAD:
        upload = st.session_state.get("uploaded") or {}
        name = str(upload.get("name", "?"))
        return "upload: " + (plain(name) if markdown else clip(name))
    if key in BUILTIN:
        return f"{key} (built-in)"
    if key in COURSE_FILES:
        return f"{key} (course)"
    if key in FOLDER_SETS:
        return f"{key} (from EM_DATA_DIR)"
    return key


def try_upload(name: str, content: bytes, gold_name: str | None, gold: bytes | None, kind: str) -> str | None:
    """Validate an upload; on success make it the current data set. Returns the error message, if any."""
    digest = upload_digest(content, gold, kind)
    if digest == st.session_state.get("upload_digest"):
        return st.session_state.get("upload_error")
    st.session_state.upload_digest = digest
    upload = {
        "name": name,
        "content": content,
        "gold": gold,
        "gold_name": gold_name or "gold",
        "kind": kind,
        "digest": digest,
    }
    try:
        dataset = load_upload(upload)
    except DataError as err:
        st.session_state.upload_error = str(err)
        return str(err)
    upload["summary"] = upload_summary(dataset)  # once: the upload box shows it on every rerun
    st.session_state.upload_error = None
    st.session_state.uploaded = upload
    st.session_state.dataset = UPLOAD
    return None


def current_dataset(key: str) -> Dataset:
    if key == UPLOAD:
        return load_upload(st.session_state.uploaded)
    if key == user_points.DATASET:
        return user_points.dataset()
    return load_named(key, folders_key())


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
    seed, min_variance = int(st.session_state.em_seed), float(st.session_state.em_min_variance)
    return Settings(key, dataset, K, seed, min_variance, k_error, iteration_cap())


def iteration_cap() -> int:
    """The iteration cap the sidebar set ("Max iterations"; em_core's MAX_ITER until changed)."""
    return int(st.session_state.get("em_max_iter", MAX_ITER))


def content_key(s: Settings) -> str:
    """A key that names the data set's content (cache keys and fit keys use it)."""
    if s.dataset_id == UPLOAD:
        return "upload:" + st.session_state.uploaded["digest"]
    if s.dataset_id == user_points.DATASET:
        return user_points.content_key()
    from_folders = s.dataset_id in COURSE_FILES or s.dataset_id in FOLDER_SETS
    return f"{s.dataset_id}:{folders_key()}" if from_folders else s.dataset_id


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
        st.error(literal(s.k_error), icon=":material/error:")
        st.stop()
