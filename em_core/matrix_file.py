"""Parsing a matrix file: rows of numbers separated by spaces, tabs or commas (0 = missing rating).

:func:`parse_matrix` reads text in blocks with numpy's C reader and falls back to a line-by-line
reader only to word an error: every message names the source, the line and the fix.
"""

from __future__ import annotations

import io
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from em_core.errors import DataError
from em_core.file_reading import read_file


def _lines(text: str) -> list[str]:
    """Split at the line ends an editor shows: ``\\n``, ``\\r\\n`` and a lone ``\\r``."""
    return _one_line_end(text).split("\n")


def _one_line_end(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def decode_text(content: bytes | str, source: str) -> str:
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
    text = _one_line_end(decode_text(content, source))
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
