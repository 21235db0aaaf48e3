"""Reading rating matrices and point sets: files, uploads, the course's files and built-in sets.

Text files hold one row per line, values separated by white space (the course's format)
or commas (CSV); 0 means a missing rating. Every problem raises :class:`DataError` naming
the file, the line, what was wrong and how to fix it.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from em_core import builtin, ratings_file, scenarios
from em_core.errors import DataError
from em_core.file_reading import path_exists, read_file
from em_core.matrix_file import decode_text, parse_matrix
from em_core.validation import check_has_observed, check_magnitude

#: Course data set name -> (matrix file, gold file or None, kind).
COURSE_FILES = {
    "toy": ("toy_data.txt", None, "points"),
    "test": ("test_incomplete.txt", "test_complete.txt", "ratings"),
    "netflix": ("netflix_incomplete.txt", "netflix_complete.txt", "ratings"),
}

#: Built-in data set name -> (description, kind).
BUILTIN = {
    "demo-2d": ("300 complete 2-D points from 4 clusters", "points"),
    "demo-small": ("20 x 5 ratings from 3 user types, with gold", "ratings"),
    "demo-large": ("1200 x 1200 ratings from 12 user types, 23 % missing, with gold", "ratings"),
    **{scenario.name: (scenario.title, "points") for scenario in scenarios.SCENARIOS.values()},
}

#: Rating-triplet sets found in a data folder: name -> (ratings file, items file, description).
#: Both files must sit in one folder of :func:`data_dirs`; the set is kept sparse (CSR).
FOLDER_SETS = {
    "movielens-small": (
        "ratings.csv",
        "movies.csv",
        "MovieLens latest-small: 100,836 ratings of 610 users x 9,724 movies (1.7 % observed), with titles",
    ),
}

KINDS = ("ratings", "points")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A matrix ready for EM.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n, d), or scipy.sparse.csr_matrix
        For ``kind="ratings"`` 0 means missing; for ``kind="points"`` every value counts. A
        folder set (:data:`FOLDER_SETS`) is CSR: its stored entries are the ratings.
    gold : ndarray of shape (n, d) or None
        The complete matrix, when known.
    kind : {"ratings", "points"}
    source : str
        Where it came from: "built-in", "course", "file" or "upload".
    user_ids, item_ids : ndarray of shape (n,) and (d,), or None
        The file's user id of each row and item id of each column, for a file of rating
        triplets (see :mod:`em_core.ratings_file`); None for a matrix, whose rows and columns
        are simply numbered.
    item_titles : dict of int to str, or None
        Item id -> title, when an items file gave them.
    file_format : ratings_file.FileFormat
        The format the file was read as, with a short description.
    """

    name: str
    X: np.ndarray
    gold: np.ndarray | None = None
    kind: str = "ratings"
    source: str = "file"
    user_ids: np.ndarray | None = None
    item_ids: np.ndarray | None = None
    item_titles: dict[int, str] | None = None
    file_format: ratings_file.FileFormat = ratings_file.MATRIX

    @property
    def observed(self) -> np.ndarray:
        """Boolean mask of observed entries, shape (n, d)."""
        if self.kind == "points":
            return np.ones(self.X.shape, dtype=bool)
        return self.X != 0


#: The folder used when ``EM_DATA_DIR`` is unset: ``data/`` beside em_core (git ignores it).
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"


def data_dirs() -> list[Path]:
    """The folders searched for the course files, in order.

    ``$EM_DATA_DIR`` may name several folders separated by ``os.pathsep`` (``:`` on Linux and
    macOS), as ``PATH`` does; empty entries are skipped. Unset or empty: ``data/`` beside em_core.
    """
    entries = [entry for entry in os.environ.get("EM_DATA_DIR", "").split(os.pathsep) if entry.strip()]
    if not entries:
        return [DEFAULT_DATA_DIR.resolve()]
    return [Path(entry).expanduser().resolve() for entry in entries]


def data_dir() -> Path:
    """The first folder of :func:`data_dirs` (where the course files are expected to go)."""
    return data_dirs()[0]


def missing_data_dirs() -> list[Path]:
    """The folders of :func:`data_dirs` that do not exist (or are not folders), for callers to report."""
    return [folder for folder in data_dirs() if not folder.is_dir()]


def course_file(file_name: str) -> Path | None:
    """``file_name`` in the first folder of :func:`data_dirs` that has it, or None."""
    for folder in data_dirs():
        if (folder / file_name).is_file():
            return folder / file_name
    return None


def course_available(name: str) -> bool:
    """Whether every file of the course data set ``name`` is in one of :func:`data_dirs`."""
    matrix, gold, _ = COURSE_FILES[name]
    return all(course_file(f) is not None for f in (matrix, gold) if f)


def available_datasets() -> list[str]:
    """Names that :func:`load_dataset` accepts right now: built-in sets, then course sets present.

    A folder of ``EM_DATA_DIR`` that does not exist is skipped here; :func:`missing_data_dirs`
    lists such folders, so that a caller can say so.
    """
    course = [name for name in COURSE_FILES if course_available(name)]
    return list(BUILTIN) + course + [name for name in FOLDER_SETS if folder_set_dir(name) is not None]


def folder_set_dir(name: str) -> Path | None:
    """The first folder of :func:`data_dirs` holding both files of the folder set ``name``, or None."""
    ratings, items, _ = FOLDER_SETS[name]
    for folder in data_dirs():
        if (folder / ratings).is_file() and (folder / items).is_file():
            return folder
    return None


def load_folder_set(name: str) -> Dataset:
    """A set of :data:`FOLDER_SETS` as a CSR rating matrix with its user ids, item ids and titles."""
    folder = folder_set_dir(name)
    ratings, items, _ = FOLDER_SETS[name]
    if folder is None:
        raise DataError(
            f"data set {name!r} needs {ratings} and {items} in one folder of {_searched()}; download it "
            "(MovieLens: grouplens.org/datasets/movielens) and add its folder to EM_DATA_DIR, separated by ':'"
        )
    text = decode_text(read_file(folder / ratings), ratings)
    triplets = ratings_file.read_triplets(text, ratings, sparse=True)
    if triplets is None:
        raise DataError(f"{folder / ratings}: expected one rating per line (user, item, rating), found a matrix")
    X, user_ids, item_ids, file_format = triplets
    dataset = Dataset(name, X, None, "ratings", "folder", user_ids, item_ids, None, file_format)
    return with_titles_beside(dataset, folder / ratings)


def _searched() -> str:
    """The data folders, for a message: ``/a`` or ``/a or /b (/b does not exist)``."""
    folders = " or ".join(str(folder) for folder in data_dirs())
    missing = missing_data_dirs()
    if missing:
        folders += f" ({', '.join(map(str, missing))} does not exist)"
    return folders


def check_gold(
    X: np.ndarray, gold: np.ndarray, source: str, gold_source: str, gold_lines: Sequence[int] | None = None
) -> np.ndarray:
    """The gold matrix must have X's shape and agree with every observed (non-zero) entry of X."""
    if gold.shape != X.shape:
        raise DataError(
            f"{gold_source} is {gold.shape[0]} x {gold.shape[1]} but {source} is "
            f"{X.shape[0]} x {X.shape[1]}; the gold matrix must have the same shape"
        )
    clash = (X != 0) & ~np.isclose(gold, X, rtol=0.0, atol=1e-9)
    if clash.any():
        r, c = np.argwhere(clash)[0]
        line = gold_lines[r] if gold_lines is not None else r + 1
        raise DataError(
            f"{gold_source} line {line} column {c + 1} is {gold[r, c]:g} but the observed rating "
            f"in {source} is {X[r, c]:g}; the gold matrix must agree with every observed rating"
        )
    return gold


def dataset_from_bytes(
    content: bytes,
    name: str,
    gold: bytes | None = None,
    gold_name: str = "gold",
    kind: str = "ratings",
    source: str = "upload",
    max_values: int | None = None,
) -> Dataset:
    """Build a :class:`Dataset` from file contents (an upload, or a file already read).

    ``kind="ratings"`` reads 0 as missing and needs at least one observed entry;
    ``max_values`` caps rows x columns (see :func:`parse_matrix`). A ratings file of
    ``user item rating [timestamp]`` lines is read by :func:`em_core.ratings_file.read_triplets`
    (the module says how it tells such a file from a matrix) and keeps its ids.
    """
    if kind not in KINDS:
        raise DataError(f"kind must be one of {KINDS}, got {kind!r}")
    text = decode_text(content, name)
    triplets = ratings_file.read_triplets(text, name, max_values) if kind == "ratings" else None
    if triplets is not None:
        if gold is not None:
            raise DataError(
                f"{gold_name}: a gold matrix goes with a matrix file, but {name} holds rating triplets "
                f"({triplets.file_format.description}); score on held-out ratings instead (--holdout)"
            )
        X, user_ids, item_ids, file_format = triplets
        check_magnitude(X, f"{name}: the rating matrix")
        return Dataset(name, X, None, kind, source, user_ids, item_ids, None, file_format)
    X, lines = parse_matrix(text, name, max_values)
    check_magnitude(X, name, lines)
    if kind == "ratings":
        check_has_observed(X, name)
    gold_matrix = None
    if gold is not None:
        gold_matrix, gold_lines = parse_matrix(gold, gold_name, max_values)
        check_gold(X, gold_matrix, name, gold_name, gold_lines)
        check_magnitude(gold_matrix, gold_name, gold_lines)
    return Dataset(name=name, X=X, gold=gold_matrix, kind=kind, source=source)


@functools.lru_cache(maxsize=8)
def _builtin(name: str) -> Dataset:
    kind = BUILTIN[name][1]
    if name in scenarios.SCENARIOS:
        return read_only(Dataset(name, builtin.scenario_points(name), None, kind, "built-in"))
    if name == "demo-2d":
        return read_only(Dataset(name, builtin.blobs_2d(), None, kind, "built-in"))
    X, gold = builtin.small_ratings() if name == "demo-small" else builtin.large_ratings()
    return read_only(Dataset(name, X, gold, kind, "built-in"))


def read_only(dataset: Dataset) -> Dataset:
    """Make the data set's arrays read-only, for a data set that is cached and shared: a write
    would change it for every caller. A CSR matrix's three arrays are made read-only."""
    for array in (dataset.X.data, dataset.X.indices, dataset.X.indptr) if sp.issparse(dataset.X) else (dataset.X,):
        array.flags.writeable = False
    if dataset.gold is not None:
        dataset.gold.flags.writeable = False
    return dataset


def load_dataset(
    name_or_path: str | os.PathLike, gold: str | os.PathLike | None = None, kind: str | None = None
) -> Dataset:
    """Load a built-in set (``demo-2d``, ``demo-small``, ``demo-large``), a course set
    (``toy``, ``test``, ``netflix``, from the first folder of :func:`data_dirs` holding each file),
    a folder set (``movielens-small``, kept sparse: :data:`FOLDER_SETS`) or a file, with an
    optional gold file.

    ``kind`` applies to files (default "ratings"); named sets know their own. Files are read
    with :func:`read_file` (regular files of at most :data:`MAX_FILE_BYTES`).
    """
    key = str(name_or_path)
    if key in BUILTIN and gold is None:
        return _builtin(key)
    if key in FOLDER_SETS and gold is None and not path_exists(Path(key)):
        return load_folder_set(key)
    if (key in BUILTIN or key in COURSE_FILES) and gold is not None and not path_exists(Path(key)):
        raise DataError(
            f"{key!r} is a named data set and brings its own gold matrix (if any); "
            "give a gold file only with a matrix file"
        )
    if key in COURSE_FILES and gold is None and not path_exists(Path(key)):
        matrix_file, gold_file, course_kind = COURSE_FILES[key]
        missing = [f for f in (matrix_file, gold_file) if f and course_file(f) is None]
        if missing:
            raise DataError(
                f"course data set {key!r} needs {', '.join(missing)} in {_searched()}; put the course "
                "files there or set EM_DATA_DIR to the folder that holds them"
            )
        gold_bytes = read_file(course_file(gold_file)) if gold_file else None
        return dataset_from_bytes(
            read_file(course_file(matrix_file)),
            matrix_file,
            gold_bytes,
            gold_file or "gold",
            kind=course_kind,
            source="course",
        )
    path = Path(key)
    if not path_exists(path):
        names = ", ".join(list(BUILTIN) + list(COURSE_FILES) + list(FOLDER_SETS))
        raise DataError(f"{key}: no such file or data set; give a file path or one of: {names}")
    gold_path = Path(gold) if gold is not None else None
    dataset = dataset_from_bytes(
        read_file(path),
        path.name,
        read_file(gold_path) if gold_path else None,
        gold_path.name if gold_path else "gold",
        kind=kind or "ratings",
        source="file",
    )
    return with_titles_beside(dataset, path)


def with_titles_beside(dataset: Dataset, path: str | os.PathLike) -> Dataset:
    """The data set with ``item_titles`` for its items, when its file has a MovieLens items file beside it."""
    titles = ratings_file.titles_beside(path, dataset.file_format)
    if titles is None or dataset.item_ids is None:
        return dataset
    joined = {int(item): titles[int(item)] for item in dataset.item_ids if int(item) in titles}
    return dataclasses.replace(dataset, item_titles=joined)
