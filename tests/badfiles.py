"""A corpus of bad and valid input files, generated in code (no stored binaries).

Import it as::

    from tests.badfiles import bad_cases, valid_cases

That works under ``python -m pytest`` run from the repo root, the project's documented
way to run the tests: ``python -m`` puts the repo root on ``sys.path`` (which is also how
``em_core`` is found), and ``tests/`` has no ``__init__.py``, so it imports as a
namespace package.

Each :class:`BadCase` is what a user might upload or pass to the CLI: the matrix file
(``case.filename``), an optional gold file (``case.gold_filename``) and a K. Loading it
the way the CLI and the dashboard do (parse, check the gold file, check K; kind
"ratings") must raise :class:`em_core.DataError` whose message matches ``case.message``
with ``re.search``. Every message regex names the file the problem is in, the line when
there is one, what was wrong, and (after a ``;``) the fix.

Each :class:`ValidCase` must load, giving exactly ``case.rows``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

#: The first bytes of a real PNG file: signature, then the IHDR chunk of a 1 x 1 image.
PNG_HEADER = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"


@dataclass(frozen=True)
class BadCase:
    """A bad input and the error a user must read.

    Attributes
    ----------
    name : str
        Readable id; also the stem of the file names.
    content : bytes
        The matrix file.
    gold : bytes or None
        The gold (complete) matrix file, if any.
    k : int
        The K to try (valid unless the case is about K).
    message : str
        A regex the user-facing error message must match (``re.search``).
    line : int or None
        The line of the blamed file the message names, when there is one.
    blames_gold : bool
        Whether the problem is in the gold file (so the message names ``gold_filename``).
    """

    name: str
    content: bytes
    gold: bytes | None
    k: int
    message: str
    line: int | None = None
    blames_gold: bool = False

    @property
    def filename(self) -> str:
        return f"{self.name}.txt"

    @property
    def gold_filename(self) -> str:
        return f"{self.name}-gold.txt"

    @property
    def blamed_file(self) -> str:
        """The file the message must name."""
        return self.gold_filename if self.blames_gold else self.filename


@dataclass(frozen=True)
class ValidCase:
    """An unusual but valid input and the matrix it must give.

    Attributes
    ----------
    name : str
    content : bytes
    rows : tuple of tuple of float
        The expected matrix, written out by hand.
    gold : bytes or None
        A gold file to load with it.
    gold_rows : tuple of tuple of float or None
        The expected gold matrix.
    """

    name: str
    content: bytes
    rows: tuple[tuple[float, ...], ...]
    gold: bytes | None = None
    gold_rows: tuple[tuple[float, ...], ...] | None = None

    @property
    def filename(self) -> str:
        return f"{self.name}.txt"

    @property
    def gold_filename(self) -> str:
        return f"{self.name}-gold.txt"

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.rows), len(self.rows[0])


def _bad(
    name: str,
    content: bytes,
    what: str,
    fix: str,
    *,
    line: int | None = None,
    gold: bytes | None = None,
    k: int = 1,
    blames_gold: bool = False,
) -> BadCase:
    """A case whose message must read ``<file>[ line N]...<what>...; ...<fix>`` (``what``, ``fix``: regexes)."""
    file = f"{name}-gold.txt" if blames_gold else f"{name}.txt"
    where = re.escape(file) + (rf" line {line}\b" if line is not None else "")
    message = rf"{where}.*{what}.*; .*{fix}"
    return BadCase(name, content, gold, k, message, line, blames_gold)


# the phrases a message must contain, shared by several cases
_NOT_A_NUMBER = "is not a number", "use numbers only"
_NOT_FINITE_FIX = "use finite numbers, with 0 for a missing rating"
_RAGGED_FIX = "give every row the same number of values"
_WHITE_SPACE = "holds only white space", "give rows of numbers, one row per line"
_BINARY = "looks like a binary file", "give a text file with one row of numbers per line"
_NOT_UTF8_FIX = "save the file as UTF-8"
_HEADER = "looks like a header row", "remove it so the file holds numbers only"
_K_FIX = "choose K from 1 to"
_OK = b"1 2\n3 4\n5 6\n"  # a valid 3 x 2 matrix, for the cases about gold files and K
_TOO_LARGE = "is too large for EM on a {} matrix", "rescale the data, dividing every value by the same power of 10"


def bad_cases() -> list[BadCase]:
    """The bad inputs, each with the message a user must read."""
    return [
        _bad("empty", b"", "is empty", "give rows of numbers, one row per line"),
        _bad("spaces-only", b"  \t  ", *_WHITE_SPACE),
        _bad("newlines-only", b"\n\n\n", *_WHITE_SPACE),
        # Notepad's "empty" UTF-8 file is just the byte-order mark
        _bad("bom-only", b"\xef\xbb\xbf", "is empty", "give rows of numbers"),
        # no-break spaces are white space too, though not ASCII
        _bad("unicode-spaces-only", "\u00a0 \u3000\n".encode(), *_WHITE_SPACE),
        _bad("ragged-short", b"1 2 3\n4 5 6\n7 8\n", "expected 3 values.*found 2", _RAGGED_FIX, line=3),
        _bad("ragged-long", b"1 2\n3 4\n5 6 7\n", "expected 2 values.*found 3", _RAGGED_FIX, line=3),
        # blank lines count: the message gives the line a text editor shows
        _bad("ragged-after-blank-lines", b"1 2 3\n\n\n4 5\n", "expected 3 values.*found 2", _RAGGED_FIX, line=4),
        _bad("ragged-crlf", b"1 2\r\n3 4\r\n5\r\n", "expected 2 values.*found 1", _RAGGED_FIX, line=3),
        # "1,2,3" is CSV; "4 5,6" splits at its one comma into "4 5" and "6"
        _bad("mixed-delimiters", b"1,2,3\n4 5,6\n", "expected 3 values.*found 2", _RAGGED_FIX, line=2),
        _bad(
            "word-in-the-middle",
            b"1 2 3\n4 five 6\n7 8 9\n",
            "column 2: 'five' " + _NOT_A_NUMBER[0],
            _NOT_A_NUMBER[1],
            line=2,
        ),
        # a single line of words is not taken for a header: there are no numbers after it
        _bad("word-one-line", b"hello\n", "column 1: 'hello' " + _NOT_A_NUMBER[0], _NOT_A_NUMBER[1], line=1),
        _bad("header-spaces", b"user item1 item2\n1 2 3\n4 5 6\n", r"\('user item1 item2'\)", _HEADER[1], line=1),
        _bad("header-csv", b"a,b,c\n1,2,3\n4,5,6\n", _HEADER[0], _HEADER[1], line=1),
        _bad("header-one-column", b"rating\n1\n2\n", _HEADER[0], _HEADER[1], line=1),
        _bad("semicolons", b"1;2;3\n4;5;6\n", "'1;2;3' " + _NOT_A_NUMBER[0], "separated by spaces or commas", line=1),
        _bad("quoted-csv", b'"1","2"\n"3","4"\n', "column 1: '\"1\"' " + _NOT_A_NUMBER[0], _NOT_A_NUMBER[1], line=1),
        _bad("nan", b"1 2\n3 nan\n", r"column 2: 'nan' is not a number \(NaN\)", _NOT_FINITE_FIX, line=2),
        _bad("inf", b"1 inf\n2 3\n", "column 2: 'inf' is infinite", _NOT_FINITE_FIX, line=1),
        _bad("minus-inf", b"1 2\n-inf 3\n", "column 1: '-inf' is infinite", _NOT_FINITE_FIX, line=2),
        _bad("overflow", b"1 2\n3 1e999\n", "column 2: '1e999' is too large", _NOT_FINITE_FIX, line=2),
        _bad("empty-csv-field", b"1,,3\n4,5,6\n", "column 2 is empty", "give a number in every column", line=1),
        _bad("trailing-comma", b"1,2,\n3,4,\n", "column 3 is empty", "give a number in every column", line=1),
        _bad("nul-bytes", b"1 2\n3\x004\n", *_BINARY),
        _bad("png", PNG_HEADER, *_BINARY),
        _bad("utf16-le-bom", b"\xff\xfe" + "1 2\n3 4\n".encode("utf-16-le"), "is UTF-16 text", "save it as UTF-8"),
        _bad("utf16-be-bom", b"\xfe\xff" + "1 2\n3 4\n".encode("utf-16-be"), "is UTF-16 text", "save it as UTF-8"),
        _bad("utf32-le-bom", b"\xff\xfe\x00\x00" + "1 2\n".encode("utf-32-le"), "is UTF-32 text", "save it as UTF-8"),
        _bad("latin1", "1 2\n3 4\n5 6 # né\n".encode("latin-1"), "byte 0xe9 is not UTF-8", _NOT_UTF8_FIX, line=3),
        # old Mac line ends: the line count must follow them too
        _bad("latin1-cr-line-ends", b"1 2\r3 4\r\xb5 6\r", "byte 0xb5 is not UTF-8", _NOT_UTF8_FIX, line=3),
        _bad("all-zeros", b"0 0 0\n0 0 0\n", "no observed entry", "give at least one non-zero rating"),
        _bad("k-too-large", _OK, r"K must be between 1 and 3 \(the number of rows\), got 4", _K_FIX, k=4),
        _bad("k-zero", _OK, "got 0", _K_FIX + " 3", k=0),
        _bad("k-negative", _OK, "got -2", _K_FIX + " 3", k=-2),
        _bad(
            "gold-other-shape",
            _OK,
            r"is 2 x 2 but gold-other-shape\.txt is 3 x 2",
            "must have the same shape",
            gold=b"1 2\n3 4\n",
            blames_gold=True,
        ),
        # the blank line makes row 2 of the gold file its line 3: the message must give the line
        _bad(
            "gold-contradicts",
            b"1 0\n0 2\n3 4\n",
            r"column 2 is 3 but the observed rating in gold-contradicts\.txt is 2",
            "must agree with every observed rating",
            line=3,
            gold=b"1 5\n\n5 3\n3 4\n",
            blames_gold=True,
        ),
        _bad(
            "gold-with-a-word",
            _OK,
            "column 1: 'x' " + _NOT_A_NUMBER[0],
            _NOT_A_NUMBER[1],
            line=2,
            gold=b"1 2\nx 4\n5 6\n",
            blames_gold=True,
        ),
        _bad("gold-empty", _OK, "is empty", "give rows of numbers", gold=b"", blames_gold=True),
        # ratings about 1e200 made `fit` spin for ever: the squares overflow, the LL turns NaN, the rule never holds
        _bad(
            "huge-ratings",
            b"1e200 2e200 3e200 4e200 5e200 1e200\n" * 30,
            r"column 1: 1e\+200 " + _TOO_LARGE[0].format("30 x 6") + r" \(the largest usable magnitude is 1\.24e\+152",
            _TOO_LARGE[1],
            line=1,
        ),
        # one value is enough; the bound falls as the matrix grows (n d max^2 must stay finite)
        _bad(
            "one-huge-value",
            b"1 2 3\n4 5 6\n" * 20 + b"1 -1e153 3\n",
            r"column 2: -1e\+153 " + _TOO_LARGE[0].format("41 x 3"),
            _TOO_LARGE[1],
            line=41,
        ),
        _bad(
            "huge-gold",
            b"1 0\n0 2\n",
            r"column 2: 1e\+300 " + _TOO_LARGE[0].format("2 x 2"),
            _TOO_LARGE[1],
            line=1,
            gold=b"1 1e300\n4 2\n",
            blames_gold=True,
        ),
    ]


def valid_cases() -> list[ValidCase]:
    """Unusual inputs that are fine, with the matrix each must give."""
    return [
        # a user with no observed rating: EM gives them the prior
        ValidCase("user-without-ratings", b"1 2 3\n0 0 0\n4 5 1\n", ((1, 2, 3), (0, 0, 0), (4, 5, 1))),
        ValidCase("item-nobody-rated", b"1 0 3\n4 0 5\n", ((1, 0, 3), (4, 0, 5))),
        ValidCase("crlf", b"1 2\r\n3 4\r\n", ((1, 2), (3, 4))),
        ValidCase("cr-only", b"1 2\r3 4\r", ((1, 2), (3, 4))),
        ValidCase("tabs", b"1\t2\t3\n4\t5\t6\n", ((1, 2, 3), (4, 5, 6))),
        ValidCase("aligned-columns", b"  1   2\n 10  20\n", ((1, 2), (10, 20))),
        ValidCase("trailing-blank-lines", b"1 2\n3 4\n\n\n  \n", ((1, 2), (3, 4))),
        ValidCase("leading-blank-lines", b"\n\n1 2\n3 4\n", ((1, 2), (3, 4))),
        ValidCase("no-final-newline", b"1 2\n3 4", ((1, 2), (3, 4))),
        ValidCase("single-column", b"1\n2\n3\n", ((1,), (2,), (3,))),
        ValidCase("single-row", b"1 2 3\n", ((1, 2, 3),)),
        ValidCase("single-value", b"5\n", ((5,),)),
        ValidCase("utf8-bom", b"\xef\xbb\xbf1 2\n3 4\n", ((1, 2), (3, 4))),
        ValidCase("csv", b"1,2,3\n4,5,6\n", ((1, 2, 3), (4, 5, 6))),
        ValidCase("csv-with-spaces", b"1, 2, 3\n4 ,5 , 6\n", ((1, 2, 3), (4, 5, 6))),
        ValidCase("decimals-and-exponents", b"1.5 2e0\n-3 .25\n", ((1.5, 2), (-3, 0.25))),
        ValidCase("with-gold", b"1 0\n0 2\n", ((1, 0), (0, 2)), gold=b"1 4\n\n3 2\n", gold_rows=((1, 4), (3, 2))),
        # magnitudes float64 holds: a fit on them must end with a finite result
        ValidCase("tiny-values", b"1e-300 2e-300\n3e-300 5e-324\n", ((1e-300, 2e-300), (3e-300, 5e-324))),
        ValidCase("near-the-bound", b"1e150 -1e150\n2 1\n", ((1e150, -1e150), (2, 1))),
        ValidCase(
            "mixed-scales-per-column",
            b"1e-200 3 2e100\n2e-200 0 1e100\n5e-200 1 0\n",
            ((1e-200, 3, 2e100), (2e-200, 0, 1e100), (5e-200, 1, 0)),
        ),
        ValidCase(
            "wider-than-long",
            b"1 0 3 4 5 0 2 1\n0 2 3 0 1 5 5 4\n",
            ((1, 0, 3, 4, 5, 0, 2, 1), (0, 2, 3, 0, 1, 5, 5, 4)),
        ),
    ]


@dataclass(frozen=True)
class PathCase:
    """Something at a path that is not a matrix file: a pipe, a device, a folder, a link loop.

    ``make(folder)`` creates it in ``folder`` (or names a device) and returns its path; loading it
    must end at once (never wait on a pipe or read a device without end) with a :class:`DataError`
    whose message matches ``message`` (``re.search``, after the path).
    """

    name: str
    make: Callable[[Path], Path]
    message: str


def _fifo(folder: Path) -> Path:
    os.mkfifo(folder / "ratings.txt")
    return folder / "ratings.txt"


def _folder(folder: Path) -> Path:
    (folder / "ratings.txt").mkdir()
    return folder / "ratings.txt"


def _symlink_loop(folder: Path) -> Path:
    (folder / "ratings.txt").symlink_to(folder / "loop.txt")
    (folder / "loop.txt").symlink_to(folder / "ratings.txt")
    return folder / "ratings.txt"


def _dangling_symlink(folder: Path) -> Path:
    (folder / "ratings.txt").symlink_to(folder / "gone.txt")
    return folder / "ratings.txt"


_NOT_REGULAR_FIX = "not a regular file; save the data to a file and give its path"


def path_cases() -> list[PathCase]:
    """Paths that are not regular files, each with the message a user must read."""
    return [
        # a pipe with no writer: opening it for reading would wait for ever
        PathCase("fifo", _fifo, r"is a named pipe \(FIFO\), " + _NOT_REGULAR_FIX),
        # devices without end: reading them would fill the memory
        PathCase("dev-zero", lambda folder: Path("/dev/zero"), "is a character device, " + _NOT_REGULAR_FIX),
        PathCase("dev-urandom", lambda folder: Path("/dev/urandom"), "is a character device, " + _NOT_REGULAR_FIX),
        PathCase("folder", _folder, "is a folder, not a file; give the path of a matrix file"),
        # not "no such file": the path is there, its links go round in a circle
        PathCase("symlink-loop", _symlink_loop, "is a symbolic link loop .*; point the link at a real file"),
        PathCase("dangling-symlink", _dangling_symlink, r"is a symbolic link to .*gone\.txt, which does not exist"),
    ]
