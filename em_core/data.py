"""Reading rating matrices and point sets: files, uploads, the course's files and built-in sets.

Text files hold one row per line, values separated by white space (the course's format)
or commas (CSV); 0 means a missing rating. Every problem raises :class:`DataError` naming
the file, the line, what was wrong and how to fix it.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from em_core import builtin, ratings_file
from em_core.errors import DataError
from em_core.validation import check_has_observed

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
}

KINDS = ("ratings", "points")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A matrix ready for EM.

    Attributes
    ----------
    name : str
    X : ndarray of shape (n, d)
        For ``kind="ratings"`` 0 means missing; for ``kind="points"`` every value counts.
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


def data_dir() -> Path:
    """The folder holding the course files: ``$EM_DATA_DIR``, else ``data/`` beside em_core."""
    env = os.environ.get("EM_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (Path(__file__).resolve().parent.parent / "data").resolve()


def course_available(name: str) -> bool:
    """Whether the course data set ``name`` has its files in :func:`data_dir`."""
    matrix, gold, _ = COURSE_FILES[name]
    folder = data_dir()
    return (folder / matrix).is_file() and (gold is None or (folder / gold).is_file())


def available_datasets() -> list[str]:
    """Names that :func:`load_dataset` accepts right now: built-in sets, then course sets present."""
    return list(BUILTIN) + [name for name in COURSE_FILES if course_available(name)]


# ---------------------------------------------------------------- parsing


def _lines(text: str) -> list[str]:
    """Split at the line ends an editor shows: ``\\n``, ``\\r\\n`` and a lone ``\\r``."""
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _decode(content: bytes, source: str) -> str:
    if content[:4] in (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"):
        raise DataError(f"{source} is UTF-32 text; save it as UTF-8 (or plain ASCII) text")
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise DataError(f"{source} is UTF-16 text; save it as UTF-8 (or plain ASCII) text")
    if b"\x00" in content:
        raise DataError(
            f"{source} looks like a binary file (it contains NUL bytes); "
            "give a text file with one row of numbers per line"
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = len(_lines(content[: err.start].decode("utf-8-sig", errors="replace")))
        raise DataError(
            f"{source} line {line}: byte 0x{content[err.start]:02x} is not UTF-8 text; "
            "save the file as UTF-8 (or plain ASCII) text"
        ) from None
    if not text.strip():
        what = "is empty" if not text else "holds only white space"
        raise DataError(f"{source} {what}; give rows of numbers, one row per line")
    return text


def _split(line: str) -> list[str]:
    if "," in line:
        return [token.strip() for token in line.split(",")]
    return line.split()


def _not_finite(token: str) -> str:
    word = token.strip().lower().lstrip("+-")
    if word == "nan":
        return f"{token!r} is not a number (NaN)"
    if word in ("inf", "infinity"):
        return f"{token!r} is infinite"
    return f"{token!r} is too large (it overflows to infinity)"


def _row(tokens: list[str], source: str, line_no: int) -> np.ndarray:
    try:
        values = np.array(tokens, dtype=float)
    except ValueError:
        for col, token in enumerate(tokens, start=1):
            if not token:
                raise DataError(
                    f"{source} line {line_no} column {col} is empty; "
                    "give a number in every column, with 0 for a missing rating"
                ) from None
            try:
                float(token)
            except ValueError:
                raise DataError(
                    f"{source} line {line_no} column {col}: {token!r} is not a number; "
                    "use numbers only, separated by spaces or commas, with 0 for a missing rating"
                ) from None
        raise
    if not np.all(np.isfinite(values)):
        col = int(np.argmin(np.isfinite(values))) + 1
        raise DataError(
            f"{source} line {line_no} column {col}: {_not_finite(tokens[col - 1])}; "
            "use finite numbers, with 0 for a missing rating"
        )
    return values


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _looks_like_header(tokens: list[str]) -> bool:
    """A row with a word in it (letters that do not spell a number such as ``nan``)."""
    return any(not _is_number(token) and any(ch.isalpha() for ch in token) for token in tokens)


def parse_matrix(
    content: bytes | str, source: str = "input", max_values: int | None = None
) -> tuple[np.ndarray, list[int]]:
    """Parse a whitespace- or comma-separated matrix.

    Parameters
    ----------
    content : bytes or str
        The file's content.
    source : str
        The name used in error messages (usually the file name).
    max_values : int, optional
        Refuse a matrix with more than this many values (rows x columns), as soon as
        the reading gets there.

    Returns
    -------
    X : ndarray of shape (n, d)
    line_numbers : list of int
        The file line of each row (blank lines are skipped).
    """
    text = _decode(content if isinstance(content, bytes) else content.encode("utf-8"), source)
    numbered = [(i, line) for i, line in enumerate(_lines(text), start=1) if line.strip()]
    if len(numbered) > 1 and _looks_like_header(_split(numbered[0][1])):
        if all(_is_number(token) for token in _split(numbered[1][1])):
            line_no, line = numbered[0]
            raise DataError(
                f"{source} line {line_no} looks like a header row ({line.strip()[:40]!r}); "
                "remove it so the file holds numbers only"
            )
    rows, line_numbers = [], []
    width = None
    for line_no, line in numbered:
        tokens = _split(line)
        if width is None:
            width = len(tokens)
        elif len(tokens) != width:
            raise DataError(
                f"{source} line {line_no}: expected {width} values like the first row, "
                f"found {len(tokens)}; give every row the same number of values"
            )
        if max_values is not None and (len(rows) + 1) * width > max_values:
            raise DataError(
                f"{source} line {line_no}: the matrix grows past {max_values:,} values ({len(rows) + 1:,} rows of "
                f"{width:,}), more than the dashboard holds; use a smaller matrix, or the command line "
                "(python -m em_core fit ...) which has no such limit"
            )
        rows.append(_row(tokens, source, line_no))
        line_numbers.append(line_no)
    return np.vstack(rows), line_numbers


def load_matrix(path: str | os.PathLike) -> np.ndarray:
    """Read a matrix file; see :func:`parse_matrix`."""
    path = Path(path)
    return parse_matrix(_read(path), path.name)[0]


def check_gold(
    X: np.ndarray, gold: np.ndarray, source: str, gold_source: str, gold_lines: list[int] | None = None
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
        line = gold_lines[r] if gold_lines else r + 1
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
    text = _decode(content, name)
    triplets = ratings_file.read_triplets(text, name, max_values) if kind == "ratings" else None
    if triplets is not None:
        if gold is not None:
            raise DataError(
                f"{gold_name}: a gold matrix goes with a matrix file, but {name} holds rating triplets "
                f"({triplets.file_format.description}); score on held-out ratings instead (--holdout)"
            )
        X, user_ids, item_ids, file_format = triplets
        return Dataset(name, X, None, kind, source, user_ids, item_ids, None, file_format)
    X, _ = parse_matrix(text, name, max_values)
    if kind == "ratings":
        check_has_observed(X, name)
    gold_matrix = None
    if gold is not None:
        gold_matrix, gold_lines = parse_matrix(gold, gold_name, max_values)
        check_gold(X, gold_matrix, name, gold_name, gold_lines)
    return Dataset(name=name, X=X, gold=gold_matrix, kind=kind, source=source)


@functools.lru_cache(maxsize=4)
def _builtin(name: str) -> Dataset:
    kind = BUILTIN[name][1]
    if name == "demo-2d":
        return read_only(Dataset(name, builtin.blobs_2d(), None, kind, "built-in"))
    X, gold = builtin.small_ratings() if name == "demo-small" else builtin.large_ratings()
    return read_only(Dataset(name, X, gold, kind, "built-in"))


def read_only(dataset: Dataset) -> Dataset:
    """Make the data set's arrays read-only, for a data set that is cached and shared: a write
    would change it for every caller."""
    dataset.X.flags.writeable = False
    if dataset.gold is not None:
        dataset.gold.flags.writeable = False
    return dataset


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise DataError(f"{path} is a folder, not a file; give the path of a matrix file") from None
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err.strerror or err}); check its permissions") from None


def load_dataset(
    name_or_path: str | os.PathLike, gold: str | os.PathLike | None = None, kind: str | None = None
) -> Dataset:
    """Load a built-in set (``demo-2d``, ``demo-small``, ``demo-large``), a course set
    (``toy``, ``test``, ``netflix`` from :func:`data_dir`) or a file, with an optional gold file.

    ``kind`` applies to files (default "ratings"); named sets know their own.
    """
    key = str(name_or_path)
    if key in BUILTIN and gold is None:
        return _builtin(key)
    if (key in BUILTIN or key in COURSE_FILES) and gold is not None and not Path(key).exists():
        raise DataError(
            f"{key!r} is a named data set and brings its own gold matrix (if any); "
            "give a gold file only with a matrix file"
        )
    if key in COURSE_FILES and gold is None and not Path(key).exists():
        matrix_file, gold_file, course_kind = COURSE_FILES[key]
        folder = data_dir()
        missing = [f for f in (matrix_file, gold_file) if f and not (folder / f).is_file()]
        if missing:
            raise DataError(
                f"course data set {key!r} needs {', '.join(missing)} in {folder}; put the course "
                "files there or set EM_DATA_DIR to the folder that holds them"
            )
        gold_bytes = _read(folder / gold_file) if gold_file else None
        return dataset_from_bytes(
            _read(folder / matrix_file), matrix_file, gold_bytes, gold_file or "gold", kind=course_kind, source="course"
        )
    path = Path(key)
    if not path.exists():
        names = ", ".join(list(BUILTIN) + list(COURSE_FILES))
        raise DataError(f"{key}: no such file or data set; give a file path or one of: {names}")
    gold_path = Path(gold) if gold is not None else None
    dataset = dataset_from_bytes(
        _read(path),
        path.name,
        _read(gold_path) if gold_path else None,
        gold_path.name if gold_path else "gold",
        kind=kind or "ratings",
        source="file",
    )
    return ratings_file.with_titles_beside(dataset, path)
