"""Reading user-item-rating files ("triplets") into a rating matrix, keeping the real ids.

A triplet file lists one rating per line: ``user item rating [timestamp]``. Read here:

- MovieLens ``ratings.csv`` (header ``userId,movieId,rating,timestamp``);
- MovieLens-100k ``u.data`` (tab-separated, no header);
- MovieLens ``ratings.dat`` (``UserID::MovieID::Rating::Timestamp``);
- any comma-, tab- or space-separated file with user, item and rating columns, with a header
  naming them (in any order, other columns ignored) or without one (then the columns are
  user, item, rating and an optional timestamp).

Rows of the matrix are the users sorted by id, columns the items sorted by id (numerically),
so ``user_ids[r]`` and ``item_ids[c]`` name the real user and item of ``X[r, c]``.

Matrix or triplets?
-------------------
The course's files are matrices (one row per user, 0 = missing), and a small matrix with 3 or
4 columns can look like a triplet file. The rule, in order:

1. The first line is a header naming a user and an item column (``userId``, ``user_id``,
   ``user``, ``uid``, ``customer``; ``movieId``, ``item``, ``iid``, ``product`` ...): triplets.
   It must name a rating column too (``rating``, ``score``, ``stars``).
2. Fields are separated by ``::`` (MovieLens ``ratings.dat``): triplets.
3. Otherwise the file is a triplet *candidate* only if it has 3 or 4 columns, every value is a
   number and columns 1 and 2 are whole numbers >= 0 written without a decimal point
   (``5``, not ``5.0``). Anything else is a matrix.
4. A candidate is read as triplets when its ids go beyond the rating scale (an id above 10
   and above twice the largest rating) or its 4th column holds Unix times (every value
   >= 10**8, i.e. after March 1973).
5. A candidate without that evidence is a matrix when the triplet reading is impossible or
   pointless: column 3 holds a 0 or a non-finite value (0 is a missing rating in a matrix, never
   a rating in a triplet file), a (user, item) pair repeats, or no user has two ratings.
6. Anything left (a few rows of small whole numbers, e.g. ``1 2 5 / 1 3 4 / 2 1 3``) is
   refused with one message naming both readings and how to pick one: a header line for
   triplets, a decimal point in column 1 for a matrix.

Errors raise :class:`~em_core.errors.DataError` naming the file, the line and the fix.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from pathlib import Path
from typing import NamedTuple, NoReturn

import numpy as np
import scipy.sparse as sp

from em_core.errors import DataError


class FileFormat(NamedTuple):
    """What a rating file was read as: a short ``name`` for code and a ``description`` for people."""

    name: str
    description: str


MATRIX = FileFormat("matrix", "rating matrix: one row per user, one column per item, 0 = missing")
MOVIELENS_CSV = FileFormat("movielens-csv", "MovieLens ratings.csv: header userId,movieId,rating,timestamp")
MOVIELENS_100K = FileFormat(
    "movielens-100k", "MovieLens-100k u.data: user, item, rating, timestamp; tab-separated, no header"
)
MOVIELENS_DAT = FileFormat("movielens-dat", "MovieLens ratings.dat: UserID::MovieID::Rating::Timestamp")

#: The items file MovieLens ships beside each of its ratings files; :func:`titles_beside` reads it.
ITEMS_FILE = {"movielens-csv": "movies.csv", "movielens-100k": "u.item", "movielens-dat": "movies.dat"}

#: Largest dense matrix (users x items values) built from a triplet file when the caller sets no
#: ``max_values``: 800 MB of float64. MovieLens-1M (6,040 x 3,706) fits; MovieLens-10M does not.
DENSE_LIMIT = 100_000_000

#: Column names (lower case, without spaces, ``_`` and ``-``) that a header may use.
USER_COLUMNS = frozenset({"user", "userid", "uid", "customer", "customerid"})
ITEM_COLUMNS = frozenset({"item", "itemid", "iid", "movie", "movieid", "product", "productid"})
RATING_COLUMNS = frozenset({"rating", "score", "stars"})

#: Evidence that whole numbers are ids and not ratings (rule 4 of the module docstring).
ID_ABOVE = 10
UNIX_TIME_FROM = 1e8

_SEPARATOR_NAMES = {",": "comma-separated", "\t": "tab-separated", None: "space-separated", "::": "'::'-separated"}
_SHORT_NAMES = {",": "csv", "\t": "tsv", None: "text", "::": "dat"}
_FIELD = "\x1f"  # what "::" becomes before numpy reads the file (numpy takes one-character separators)


class RatingTriplets(NamedTuple):
    """A triplet file as a dense rating matrix.

    Attributes
    ----------
    X : ndarray of shape (n_users, n_items), or scipy.sparse.csr_matrix
        The ratings; 0 where the user did not rate the item (CSR: the stored entries are the
        ratings, when :func:`read_triplets` was asked for ``sparse=True``).
    user_ids : ndarray of shape (n_users,), int64
        The file's user id of each row, ascending.
    item_ids : ndarray of shape (n_items,), int64
        The file's item id of each column, ascending.
    file_format : FileFormat
        The format detected.
    """

    X: np.ndarray
    user_ids: np.ndarray
    item_ids: np.ndarray
    file_format: FileFormat


class _Layout(NamedTuple):
    """Where the numbers are: the separator, the columns to read and the lines they start at."""

    delimiter: str | None
    columns: tuple[int, int, int]  # user, item, rating (0-based)
    n_columns: int | None  # every line's field count, for files without a header
    body: str  # the lines after any header
    first_line: int  # the file line of the body's first line
    file_format: FileFormat

    @property
    def needs_evidence(self) -> bool:
        """No header and no '::': triplets only by rules 3-6 of the module docstring."""
        return self.n_columns is not None and self.delimiter != "::"


# ---------------------------------------------------------------- reading the ratings


def read_triplets(
    text: str, source: str = "input", max_values: int | None = None, sparse: bool = False
) -> RatingTriplets | None:
    """Read a triplet file, or return None when the text is a rating matrix.

    Parameters
    ----------
    text : str
        The decoded file.
    source : str
        The name used in error messages (usually the file name).
    max_values : int, optional
        Refuse a file whose dense matrix (users x items) has more values than this;
        :data:`DENSE_LIMIT` when not given.

    Returns
    -------
    RatingTriplets or None
        None when the module's rule reads the file as a matrix (see the module docstring).

    Raises
    ------
    DataError
        A triplet file with a bad line (non-numeric id, non-finite rating, a rating of 0, a
        repeated (user, item) pair), a header with no rating column or no ratings, a dense
        matrix over the limit, or a file that reads both ways.

    ``sparse=True`` returns ``X`` as a CSR matrix whose stored entries are the ratings (no
    dense matrix is built, so ``max_values`` does not apply).
    """
    layout = _layout(text, source)
    if layout is None:
        return None
    table = _parse(layout)
    if table is None:
        if layout.needs_evidence:
            return None  # numbers numpy cannot read as user, item, rating: the matrix reader says why
        _diagnose(layout, source)
    if table.size == 0:
        raise DataError(f"{source} has a header line but no ratings; add one line per rating below it")
    if layout.needs_evidence and not _ids_beyond_ratings(table):
        if _not_triplets(table):
            return None
        _refuse_ambiguous(table, layout, source)
    return _to_matrix(table, layout, source, DENSE_LIMIT if max_values is None else max_values, sparse)


def _layout(text: str, source: str) -> _Layout | None:
    """Find the header, separator and columns of a triplet file; None for a matrix file."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"(?m)^[^\S\n]+$", "", text)  # a line of spaces is a blank line
    match = re.search(r"[^\n]+", text)
    if match is None:
        return None
    first_line = text.count("\n", 0, match.start()) + 1
    first = match.group()
    delimiter = _delimiter(first)
    names = [re.sub(r"[\s_\-\"']", "", field).lower() for field in _fields(first, delimiter)]
    if any(name in USER_COLUMNS for name in names) and any(name in ITEM_COLUMNS for name in names):
        return _header_layout(text[match.end() + 1 :], first_line, first, names, source)
    n_columns = len(_fields(first, delimiter))
    if n_columns not in (3, 4):
        if delimiter == "::":
            raise DataError(
                f"{source} line {first_line}: {n_columns} fields separated by '::', but a ratings.dat "
                "line holds 3 or 4 (user::item::rating::timestamp); fix the line or the separator"
            )
        return None
    if delimiter == "::":
        file_format = MOVIELENS_DAT
    elif delimiter == "\t" and n_columns == 4:
        file_format = MOVIELENS_100K
    else:
        file_format = _generic_format(delimiter, "no header")
    return _Layout(delimiter, (0, 1, 2), n_columns, text[match.start() :], first_line, file_format)


def _header_layout(body: str, header_line: int, header: str, names: list[str], source: str) -> _Layout:
    missing = [
        what
        for what, accepted in (("user", USER_COLUMNS), ("item", ITEM_COLUMNS), ("rating", RATING_COLUMNS))
        if not any(name in accepted for name in names)
    ]
    if missing:
        found = ", ".join(repr(field) for field in _fields(header, _delimiter(header)))
        raise DataError(
            f"{source} line {header_line}: the header names no {missing[0]} column (found {found}); "
            f"name the columns user, item and rating (e.g. userId,movieId,rating,timestamp)"
        )
    columns = tuple(
        next(i for i, name in enumerate(names) if name in accepted)
        for accepted in (USER_COLUMNS, ITEM_COLUMNS, RATING_COLUMNS)
    )
    match = re.search(r"[^\n]+", body)
    delimiter = _delimiter(match.group()) if match else _delimiter(header)
    if delimiter == "," and header.strip() == "userId,movieId,rating,timestamp":
        file_format = MOVIELENS_CSV
    else:
        file_format = _generic_format(delimiter, f"header {header.strip()!r}")
    return _Layout(delimiter, columns, None, body, header_line + 1, file_format)


def _generic_format(delimiter: str | None, header: str) -> FileFormat:
    return FileFormat(
        f"triplets-{_SHORT_NAMES[delimiter]}",
        f"user, item, rating per line: {_SEPARATOR_NAMES[delimiter]}, {header}",
    )


def _delimiter(line: str) -> str | None:
    for delimiter in ("::", "\t", ","):
        if delimiter in line:
            return delimiter
    return None


def _fields(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return [field.strip() for field in line.split(delimiter)]


def _parse(layout: _Layout) -> np.ndarray | None:
    """The body as a structured array (user, item: int64; rating: float64); None when numpy cannot."""
    dtype = [("user", np.int64), ("item", np.int64), ("rating", np.float64)]
    usecols = layout.columns
    if layout.n_columns is not None:  # no header: every line has the first line's columns
        dtype += [("time", np.float64)] * (layout.n_columns - 3)
        usecols = None
    body, delimiter = layout.body, layout.delimiter
    if delimiter == "::":
        body, delimiter = body.replace("::", _FIELD), _FIELD
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # numpy's "input contained no data"
            return np.loadtxt(
                io.StringIO(body), delimiter=delimiter, dtype=dtype, usecols=usecols, comments=None, ndmin=1
            )
    except ValueError:
        return None


def _ids_beyond_ratings(table: np.ndarray) -> bool:
    """Rule 4: ids no rating scale reaches, or a column of Unix times."""
    if table["user"].min() < 0 or table["item"].min() < 0:
        return False
    ratings = table["rating"][np.isfinite(table["rating"])]
    scale = float(np.abs(ratings).max()) if ratings.size else 0.0
    largest_id = max(int(table["user"].max()), int(table["item"].max()))
    unix_times = "time" in table.dtype.names and bool(np.all(table["time"] >= UNIX_TIME_FROM))
    return largest_id > max(ID_ABOVE, 2 * scale) or unix_times


def _not_triplets(table: np.ndarray) -> bool:
    """Rule 5: the triplet reading is impossible or pointless, so the file is a matrix."""
    users, items, ratings = table["user"], table["item"], table["rating"]
    if users.min() < 0 or items.min() < 0 or not np.all(np.isfinite(ratings)) or np.any(ratings == 0):
        return True
    cells = _cells(table)
    return cells.repeat is not None or cells.user_ids.size == users.size


def _refuse_ambiguous(table: np.ndarray, layout: _Layout, source: str) -> NoReturn:
    n_rows, n_columns = table.size, layout.n_columns
    n_users, n_items = np.unique(table["user"]).size, np.unique(table["item"]).size
    header = (layout.delimiter or " ").join(["user", "item", "rating", "timestamp"][:n_columns])
    raise DataError(
        f"{source} reads two ways: as a {n_rows} x {n_columns} rating matrix, or as {n_rows} ratings "
        f"(user, item, rating) of {n_users} users x {n_items} items; add the first line {header!r} "
        "to read it as ratings, or write the values of column 1 with a decimal point (5.0) to read it as a matrix"
    )


def _to_matrix(
    table: np.ndarray, layout: _Layout, source: str, max_values: int, sparse: bool = False
) -> RatingTriplets:
    users, items, ratings = table["user"], table["item"], table["rating"]
    for column, what in ((users, "user"), (items, "item")):
        if column.min() < 0:
            row = int(np.argmax(column < 0))
            raise DataError(
                f"{source} line {_file_line(layout, row)}: {what} id {column[row]} is negative; "
                "give ids as whole numbers of 0 or more"
            )
    if not np.all(np.isfinite(ratings)):
        row = int(np.argmin(np.isfinite(ratings)))
        raise DataError(
            f"{source} line {_file_line(layout, row)}: the rating is {ratings[row]} (not a finite number); "
            "give every rating as a finite number"
        )
    if np.any(ratings == 0):
        row = int(np.argmax(ratings == 0))
        raise DataError(
            f"{source} line {_file_line(layout, row)}: a rating of 0, but 0 means missing in EM Lab; "
            "remove the line (a ratings file lists only the ratings given) or give a non-zero rating"
        )
    user_ids, rows, item_ids, cols, repeat = _cells(table)
    if repeat is not None:
        first, again = repeat
        raise DataError(
            f"{source} line {_file_line(layout, again)}: user {users[again]} rated item {items[again]} again "
            f"(first on line {_file_line(layout, first)}); keep one rating per user and item"
        )
    n_values = user_ids.size * item_ids.size
    if sparse:
        X = sp.csr_matrix((ratings.astype(float), (rows, cols)), shape=(user_ids.size, item_ids.size))
        return RatingTriplets(X, user_ids, item_ids, layout.file_format)
    if n_values > max_values:
        raise DataError(
            f"{source}: {ratings.size:,} ratings of {user_ids.size:,} users x {item_ids.size:,} items make a "
            f"dense matrix of {n_values:,} values, more than the {max_values:,} allowed here; "
            "use a subset of the users or items (sparse matrices are not supported yet)"
        )
    X = np.zeros((user_ids.size, item_ids.size))
    X[rows, cols] = ratings
    return RatingTriplets(X, user_ids, item_ids, layout.file_format)


class _Cells(NamedTuple):
    """Where each rating goes: ``X[rows[k], cols[k]]`` holds rating ``k``."""

    user_ids: np.ndarray  # (n_users,), ascending
    rows: np.ndarray  # (n_ratings,)
    item_ids: np.ndarray  # (n_items,), ascending
    cols: np.ndarray  # (n_ratings,)
    repeat: tuple[int, int] | None  # the ratings of the earliest repeated (user, item) pair


def _cells(table: np.ndarray) -> _Cells:
    user_ids, rows = np.unique(table["user"], return_inverse=True)
    item_ids, cols = np.unique(table["item"], return_inverse=True)
    repeat = _first_repeat(rows.astype(np.int64) * item_ids.size + cols)
    return _Cells(user_ids, rows, item_ids, cols, repeat)


def _first_repeat(keys: np.ndarray) -> tuple[int, int] | None:
    """The rows of the earliest repeated key, ``(first row, repeating row)``, or None."""
    order = np.argsort(keys, kind="stable")
    same = keys[order[1:]] == keys[order[:-1]]
    if not same.any():
        return None
    again = order[1:][same]
    k = int(np.argmin(again))
    return int(order[:-1][same][k]), int(again[k])


def _numbered(layout: _Layout):
    """``(file line, line)`` for each non-blank line of the body."""
    for offset, line in enumerate(layout.body.split("\n")):
        if line:
            yield layout.first_line + offset, line


def _file_line(layout: _Layout, row: int) -> int:
    """The file line of the ``row``-th rating (0-based); only called to word an error."""
    for i, (line_no, _) in enumerate(_numbered(layout)):
        if i == row:
            return line_no
    raise IndexError(row)


def _diagnose(layout: _Layout, source: str) -> NoReturn:
    """Name the first line numpy could not read (a triplet file identified by its header or '::')."""
    user, item, rating = layout.columns
    for line_no, line in _numbered(layout):
        fields = _fields(line, layout.delimiter)
        if layout.n_columns and len(fields) != layout.n_columns:
            raise DataError(
                f"{source} line {line_no}: expected {layout.n_columns} values like the first line, found "
                f"{len(fields)}; give every line a user, an item and a rating"
            )
        if len(fields) <= max(layout.columns):  # a header names the columns: a line needs up to the last of them
            raise DataError(
                f"{source} line {line_no}: {len(fields)} values, but the header puts the user, item and rating in "
                f"columns {user + 1}, {item + 1} and {rating + 1}; give every line a user, an item and a rating"
            )
        for col, what in ((user, "user"), (item, "item")):
            if not re.fullmatch(r"[+-]?\d+", fields[col]):
                raise DataError(
                    f"{source} line {line_no} column {col + 1}: {fields[col]!r} is not a whole-number {what} id; "
                    "write ids as whole numbers (1, 2, 3, ...)"
                )
        try:
            float(fields[rating])
        except ValueError:
            raise DataError(
                f"{source} line {line_no} column {rating + 1}: {fields[rating]!r} is not a number; "
                "give each rating as a number (4, 3.5, ...)"
            ) from None
        timestamps = range(3, len(fields)) if layout.n_columns else ()
        for col in timestamps:
            try:
                float(fields[col])
            except ValueError:
                raise DataError(
                    f"{source} line {line_no} column {col + 1}: {fields[col]!r} is not a number; "
                    "give the timestamp as a number, or leave the column out"
                ) from None
    raise DataError(f"{source}: cannot read the ratings; give one user, item, rating per line")


# ---------------------------------------------------------------- titles


def parse_titles(content: bytes, source: str = "items") -> dict[int, str]:
    """Read an items file: item id -> title.

    Reads MovieLens ``movies.csv`` (``movieId,title,genres``, titles with commas in quotes),
    ``u.item`` (``|``-separated, Latin-1), ``movies.dat`` (``::``-separated, Latin-1) and any
    ``id,title`` CSV or TSV (with a header naming an id and a ``title`` column, or without one).
    UTF-8 is tried first, then Latin-1.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("latin-1")
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        raise DataError(f"{source} is empty; give one item per line: id, title")
    if "::" in first:
        split = (line.split("::") for line in lines)
    elif re.match(r"\s*\d+\|", first):
        split = (line.split("|") for line in lines)
    else:  # one record per line: MovieLens quotes titles with commas but never breaks a line in one
        split = csv.reader(lines, delimiter="\t" if "\t" in first else ",")
    rows = [(line_no, fields) for line_no, fields in enumerate(split, start=1) if "".join(fields).strip()]
    header = [re.sub(r"[\s_\-]", "", field).lower() for field in rows[0][1]]
    id_col, title_col = 0, 1
    if not header[0].isdigit():
        if "title" not in header:
            raise DataError(
                f"{source} line {rows[0][0]}: the header names no title column; name it 'title' (movieId,title,...)"
            )
        title_col = header.index("title")
        id_col = next((i for i, name in enumerate(header) if name in ITEM_COLUMNS | {"id"}), 0)
        rows = rows[1:]
    titles: dict[int, str] = {}
    for line_no, fields in rows:
        if len(fields) <= max(id_col, title_col) or not fields[id_col].strip().isdigit():
            raise DataError(
                f"{source} line {line_no}: expected a whole-number id and a title, found {'|'.join(fields)[:60]!r}; "
                "give one item per line: id, title"
            )
        item = int(fields[id_col])
        if item in titles:
            raise DataError(f"{source} line {line_no}: item {item} has a second title; keep one line per item")
        titles[item] = fields[title_col].strip()
    return titles


def load_titles(path: str | os.PathLike) -> dict[int, str]:
    """Read an items file from disk; see :func:`parse_titles`."""
    path = Path(path)
    try:
        content = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot read the items file ({err.strerror or err}); check the path") from None
    return parse_titles(content, path.name)


def titles_beside(path: str | os.PathLike, file_format: FileFormat) -> dict[int, str] | None:
    """The titles from the MovieLens items file next to a MovieLens ratings file, if it is there."""
    items_file = ITEMS_FILE.get(file_format.name)
    if items_file is None:
        return None
    items_path = Path(path).parent / items_file
    return load_titles(items_path) if items_path.is_file() else None
