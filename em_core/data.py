"""Reading rating matrices and point sets: files, uploads, the course's files and built-in sets.

Text files hold one row per line, values separated by white space (the course's format)
or commas (CSV); 0 means a missing rating. Every problem raises :class:`DataError` naming
the file, the line, what was wrong and how to fix it.
"""

from __future__ import annotations

import errno
import functools
import io
import itertools
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from em_core import builtin, ratings_file
from em_core.errors import DataError
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
    return list(BUILTIN) + [name for name in COURSE_FILES if course_available(name)]


def _searched() -> str:
    """The data folders, for a message: ``/a`` or ``/a or /b (/b does not exist)``."""
    folders = " or ".join(str(folder) for folder in data_dirs())
    missing = missing_data_dirs()
    if missing:
        folders += f" ({', '.join(map(str, missing))} does not exist)"
    return folders


# ---------------------------------------------------------------- parsing


def _lines(text: str) -> list[str]:
    """Split at the line ends an editor shows: ``\\n``, ``\\r\\n`` and a lone ``\\r``."""
    return _one_line_end(text).split("\n")


def _one_line_end(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _decode(content: bytes | str, source: str) -> str:
    """The text of a file, refusing UTF-16/32, binary, non-UTF-8 and empty content."""
    if isinstance(content, str):
        if "\x00" in content:
            raise DataError(
                f"{source} looks like a binary file (it contains NUL bytes); "
                "give a text file with one row of numbers per line"
            )
        text = content.removeprefix("\ufeff")
        return _not_blank(text, source)
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
    return _not_blank(text, source)


def _not_blank(text: str, source: str) -> str:
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


#: Bytes that are white space to ``str.split`` and to numpy's reader alike (ASCII).
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 32]] = True
#: A blank line between two lines that hold something.
_BLANK_LINE_INSIDE = re.compile(r"\n\s*\n")


def parse_matrix(
    content: bytes | str, source: str = "input", max_values: int | None = None
) -> tuple[np.ndarray, Sequence[int]]:
    """Parse a whitespace- or comma-separated matrix.

    The text is read in blocks of about :data:`_BLOCK_CHARS` characters. numpy's C reader
    (``np.loadtxt``) reads a well-formed block; a block it refuses is read again line by line,
    which finds the line, the column and the fix for the message (and reads the few valid
    rows numpy does not, such as values split at non-ASCII white space). Time and memory
    stay proportional to the file's size, whatever it holds.

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
    line_numbers : sequence of int, length n
        The file line of each row (blank lines are skipped): a ``range`` when the file has
        no blank line between rows, else an integer array.
    """
    text = _one_line_end(_decode(content, source))
    head = list(itertools.islice(_non_blank(text), 2))
    if len(head) > 1 and _looks_like_header(_split(head[0][1])):
        if all(_is_number(token) for token in _split(head[1][1])):
            line_no, line = head[0]
            raise DataError(
                f"{source} line {line_no} looks like a header row ({line.strip()[:40]!r}); "
                "remove it so the file holds numbers only"
            )
    reader = _Reader(source, len(_split(head[0][1])), max_values, "," if "," in text else None)
    start, first_line = 0, 1
    while start < len(text):
        end = text.find("\n", start + _BLOCK_CHARS)
        end = len(text) if end < 0 else end + 1
        block = text[start:end]
        reader.read(block, first_line)
        start, first_line = end, first_line + block.count("\n")
    return reader.result()


#: Characters read at a time: numpy reads a block at once; a block it refuses is read line by line.
_BLOCK_CHARS = 2**20
#: Bytes that are white space to ``str.split`` and to numpy's reader alike (ASCII).
_ASCII_SPACE = np.zeros(256, dtype=bool)
_ASCII_SPACE[[9, 10, 11, 12, 13, 32]] = True
#: A blank line between two lines that hold something.
_BLANK_LINE_INSIDE = re.compile(r"\n\s*\n")


class _Reader:
    """The rows of a matrix file, block by block, with the file line of each."""

    def __init__(self, source: str, width: int, max_values: int | None, delimiter: str | None) -> None:
        self.source, self.width, self.max_values, self.delimiter = source, width, max_values, delimiter
        self.blocks: list[np.ndarray] = []
        self.lines: list[Sequence[int]] = []
        self.n_rows = 0

    def read(self, block: str, first_line: int) -> None:
        rows = self._fast(block, first_line)
        if rows is None:
            rows = self._careful(block, first_line)
        X, lines = rows
        if X.shape[0]:
            self.blocks.append(X)
            self.lines.append(lines)
            self.n_rows += X.shape[0]

    def _room(self) -> int | None:
        """Rows the value limit still allows, plus one to see it passed."""
        if self.max_values is None:
            return None
        return max(self.max_values // max(self.width, 1) - self.n_rows, 0) + 1

    def _fast(self, block: str, first_line: int) -> tuple[np.ndarray, Sequence[int]] | None:
        """``np.loadtxt`` on a well-formed block; None when it refuses, or reads what the careful reader must judge."""
        if not block.strip():
            return np.empty((0, self.width)), range(0)
        try:
            X = np.loadtxt(
                io.StringIO(block),
                delimiter=self.delimiter,
                comments=None,
                quotechar=None,
                dtype=float,
                ndmin=2,
                max_rows=self._room(),
            )
        except ValueError:
            return None
        if X.shape[1] != self.width or not np.isfinite(X).all():
            return None  # a ragged row, NaN, inf or an overflow: the careful reader names it
        lines = _row_lines(block, X.shape[0], first_line)
        if lines is None:
            return None
        self._check_size(X.shape[0], lines)
        return X, lines

    def _careful(self, block: str, first_line: int) -> tuple[np.ndarray, Sequence[int]]:
        """Line by line, stopping at the first problem with its line, column and fix."""
        chunks, line_numbers = [], []
        pending: list[tuple[int, list[str]]] = []
        for line_no, line in _non_blank(block, first_line):
            tokens = _split(line)
            if len(tokens) != self.width:
                raise DataError(
                    f"{self.source} line {line_no}: expected {self.width} values like the first row, "
                    f"found {len(tokens)}; give every row the same number of values"
                )
            line_numbers.append(line_no)
            self._check_size(len(line_numbers), line_numbers)
            pending.append((line_no, tokens))
            if len(pending) * self.width >= _CHUNK_VALUES:
                chunks.append(_rows(pending, self.source))
                pending = []
        if pending:
            chunks.append(_rows(pending, self.source))
        X = np.concatenate(chunks) if chunks else np.empty(0)
        return X.reshape(len(line_numbers), self.width), np.array(line_numbers, dtype=int)

    def _check_size(self, new_rows: int, lines: Sequence[int]) -> None:
        rows = self.n_rows + new_rows
        if self.max_values is not None and rows * self.width > self.max_values:
            allowed = self.max_values // max(self.width, 1) - self.n_rows
            raise DataError(
                f"{self.source} line {lines[allowed]}: the matrix grows past {self.max_values:,} values "
                f"({self.n_rows + allowed + 1:,} rows of {self.width:,}), more than the dashboard holds; use a "
                "smaller matrix, or the command line (python -m em_core fit ...) which has no such limit"
            )

    def result(self) -> tuple[np.ndarray, Sequence[int]]:
        X = self.blocks[0] if len(self.blocks) == 1 else np.concatenate(self.blocks)
        ranges = all(isinstance(lines, range) for lines in self.lines)
        if ranges and all(a.stop == b.start for a, b in itertools.pairwise(self.lines)):
            return X, range(self.lines[0].start, self.lines[-1].stop)
        return X, np.concatenate([np.asarray(lines, dtype=int) for lines in self.lines])


def _row_lines(block: str, n_rows: int, first_line: int) -> Sequence[int] | None:
    """The file line of each of the ``n_rows`` non-blank lines of ``block`` (None if the count disagrees)."""
    leading = block[: len(block) - len(block.lstrip())].count("\n")
    if not _BLANK_LINE_INSIDE.search(block.strip()):
        start = first_line + leading
        return range(start, start + n_rows)
    codes = np.frombuffer(block.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(codes == 10)
    ink = np.flatnonzero(~_ASCII_SPACE[codes])
    lines = np.unique(np.searchsorted(ends, ink)) + first_line
    return lines if lines.size == n_rows else None


def _non_blank(text: str, first_line: int = 1) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of each line holding something, without a list of all lines."""
    for line_no, line in enumerate(io.StringIO(text, newline="\n"), start=first_line):
        if line.strip():
            yield line_no, line.rstrip("\n")


#: Values converted at a time by the careful reader.
_CHUNK_VALUES = 2**16


def _rows(pending: list[tuple[int, list[str]]], source: str) -> np.ndarray:
    """Several rows' tokens at once; on any problem, the row that has it says which."""
    try:
        values = np.array([token for _, tokens in pending for token in tokens], dtype=float)
    except ValueError:
        values = None
    if values is None or not np.isfinite(values).all():
        for line_no, tokens in pending:
            _row(tokens, source, line_no)
    return values


def load_matrix(path: str | os.PathLike) -> np.ndarray:
    """Read a matrix file; see :func:`parse_matrix`."""
    path = Path(path)
    return parse_matrix(read_file(path), path.name)[0]


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
    text = _decode(content, name)
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


#: The largest file :func:`load_dataset` reads, in bytes: the command line's limit (uploads to the
#: dashboard keep its own, 20 MB). The course's Netflix matrix is 2.9 MB.
MAX_FILE_BYTES = 200 * 10**6

_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def read_file(path: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a regular file of at most ``max_bytes``; anything else is a :class:`DataError`.

    A named pipe, a device (``/dev/zero``, ``/dev/urandom``), a folder or a symbolic link loop
    is refused with one line naming the path, without reading from it (the file is opened
    non-blocking, so a pipe without a writer cannot hold the caller); a file over the limit is
    refused before it is read, and the reading stops one byte past the limit should it grow.
    """
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as err:
        raise _open_error(path, err) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise DataError(f"{path} is a folder, not a file; give the path of a matrix file")
        if not stat.S_ISREG(info.st_mode):
            what = _NOT_REGULAR.get(stat.S_IFMT(info.st_mode), "not a regular file")
            raise DataError(f"{path} is {what}, not a regular file; save the data to a file and give its path")
        if info.st_size > max_bytes:
            _too_big(path, max_bytes)
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as stream:
            content = stream.read(max_bytes + 1)
        if len(content) > max_bytes:
            _too_big(path, max_bytes)
        return content
    except OSError as err:
        raise DataError(f"{path}: cannot read the file ({err.strerror or err}); check the file") from None
    finally:
        os.close(fd)


def _too_big(path: Path, max_bytes: int):
    raise DataError(
        f"{path} is larger than {max_bytes / 1e6:g} MB, the most EM Lab reads from one file; "
        "use a smaller file (fewer rows, or a sample of them)"
    )


def _open_error(path: Path, err: OSError) -> DataError:
    if err.errno == errno.ELOOP:
        return DataError(
            f"{path} is a symbolic link loop (following its links leads back to them); "
            "point the link at a real file or give the file's own path"
        )
    if err.errno == errno.ENOENT and path.is_symlink():
        return DataError(f"{path} is a symbolic link to {os.readlink(path)}, which does not exist; check the link")
    if err.errno == errno.ENOENT:
        return DataError(f"{path}: no such file; check the path")
    if err.errno == errno.EACCES:
        return DataError(f"{path}: permission denied; check the file's permissions")
    return DataError(f"{path}: cannot open the file ({err.strerror or err}); check the path")


def _exists(path: Path) -> bool:
    """Whether something is at ``path``, a broken or looping link included (``Path.exists`` says no to those)."""
    return os.path.lexists(path)


def load_dataset(
    name_or_path: str | os.PathLike, gold: str | os.PathLike | None = None, kind: str | None = None
) -> Dataset:
    """Load a built-in set (``demo-2d``, ``demo-small``, ``demo-large``), a course set
    (``toy``, ``test``, ``netflix``, from the first folder of :func:`data_dirs` holding each file)
    or a file, with an optional gold file.

    ``kind`` applies to files (default "ratings"); named sets know their own. Files are read
    with :func:`read_file` (regular files of at most :data:`MAX_FILE_BYTES`).
    """
    key = str(name_or_path)
    if key in BUILTIN and gold is None:
        return _builtin(key)
    if (key in BUILTIN or key in COURSE_FILES) and gold is not None and not _exists(Path(key)):
        raise DataError(
            f"{key!r} is a named data set and brings its own gold matrix (if any); "
            "give a gold file only with a matrix file"
        )
    if key in COURSE_FILES and gold is None and not _exists(Path(key)):
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
    if not _exists(path):
        names = ", ".join(list(BUILTIN) + list(COURSE_FILES))
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
    return ratings_file.with_titles_beside(dataset, path)
