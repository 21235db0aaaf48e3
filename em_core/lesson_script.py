"""An instructor's script: a fixed sequence of dashboard states for a lecture, read from a small text file.

The format (``docs/lesson_scripts/README.md`` has it with an example): one state per block, blocks
separated by blank lines, one ``key: value`` per line, ``#`` starting a comment line::

    # EM on the toy data, first E-step
    title: The first E-step
    page: em2d
    dataset: toy | demo-2d
    k: 3
    seed: 0
    iteration: 0
    after: estep
    highlight: point 17
    notes: Ask: which points will change colour?
    notes: Then press E.

=============  ========  =======================================================================
key            needed    value
=============  ========  =======================================================================
title          yes       what the slide is called (at most :data:`MAX_TITLE` characters)
page           yes       one of :data:`PAGES`
dataset        yes       a data set name; alternatives separated by ``|``, the first available used
k              yes       components, 1..:data:`MAX_K`
seed           no (0)    0..2**32-1
iteration      no (0)    full iterations done, 0..:data:`MAX_ITERATION`, or ``end`` (converged)
after          no        ``mstep`` (default) or ``estep``: the E-step of the next iteration done too
highlight      no        ``point N``, ``user N``, ``component N`` or ``cell U,I`` (1-based)
notes          no        speaker notes; repeat the key for more lines (hidden when projecting)
=============  ========  =======================================================================

Every problem raises :class:`~em_core.errors.DataError` with one line naming the file, the line
and the fix, e.g. ``"my.txt line 7: k is 'three', not a whole number; write k: 3"``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from em_core.errors import DataError
from em_core.validation import MAX_SEED

#: The pages a state can show (the dashboard's names for its stepping and result pages).
PAGES = ("kmeans", "em2d", "matrix", "completion", "model_selection")
#: The algorithm each page steps.
PAGE_ALGORITHMS = {"kmeans": "kmeans", "em2d": "naive-em", "matrix": "em", "completion": "em", "model_selection": ""}
KEYS = ("title", "page", "dataset", "k", "seed", "iteration", "after", "highlight", "notes")
REQUIRED = ("title", "page", "dataset", "k")
HIGHLIGHT_KINDS = ("point", "user", "component", "cell")
MAX_K = 200
MAX_ITERATION = 1000
MAX_TITLE = 80
MAX_STATES = 100
#: A script file larger than this is not a script (a lecture has tens of states).
MAX_BYTES = 64 * 1024
#: Where the scripts shipped with EM Lab live; ``?script=default`` is ``default.txt`` there.
SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "docs" / "lesson_scripts"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


class Highlight(NamedTuple):
    """What a state points at: ``kind`` in :data:`HIGHLIGHT_KINDS`, 0-based ``index`` (a cell: ``(user, item)``)."""

    kind: str
    index: tuple[int, ...]

    @property
    def text(self) -> str:
        if self.kind == "cell":
            return f"user {self.index[0] + 1}, item {self.index[1] + 1}"
        noun = "j=" if self.kind == "component" else f"{self.kind} "
        return f"{noun}{self.index[0] + 1}"


class ScriptState(NamedTuple):
    """One state of a script; ``line`` is where its block starts in the file (for messages)."""

    title: str
    page: str
    datasets: tuple[str, ...]
    k: int
    seed: int = 0
    iteration: int | None = 0  # None: to convergence ("end")
    after_estep: bool = False
    highlight: Highlight | None = None
    notes: tuple[str, ...] = ()
    line: int = 0


class Script(NamedTuple):
    name: str
    states: tuple[ScriptState, ...]


def _int(value: str, key: str, low: int, high: int, where: str) -> int:
    if not re.fullmatch(r"\d+", value):
        raise DataError(f"{where}: {key} is {value!r}, not a whole number; write {key}: {low}")
    number = int(value)
    if not low <= number <= high:
        raise DataError(f"{where}: {key} is {number}, outside {low}..{high}; choose one in that range")
    return number


def _highlight(value: str, where: str) -> Highlight:
    fix = "write e.g. highlight: point 17, user 3, component 2 or cell 3,5 (counted from 1)"
    parts = value.split(None, 1)
    if len(parts) != 2 or parts[0].lower() not in HIGHLIGHT_KINDS:
        raise DataError(f"{where}: highlight {value!r} is not understood; {fix}")
    kind, rest = parts[0].lower(), parts[1].replace(" ", "")
    numbers = rest.split(",")
    if len(numbers) != (2 if kind == "cell" else 1) or not all(re.fullmatch(r"[1-9]\d{0,6}", n) for n in numbers):
        raise DataError(
            f"{where}: highlight {value!r} needs {'two numbers' if kind == 'cell' else 'one number'} from 1; {fix}"
        )
    return Highlight(kind, tuple(int(n) - 1 for n in numbers))


def _state(fields: dict[str, str], notes: list[str], name: str, line: int) -> ScriptState:
    where = f"{name} state starting at line {line}"
    missing = [key for key in REQUIRED if key not in fields]
    if missing:
        raise DataError(f"{where}: no {', '.join(missing)}; every state needs {', '.join(REQUIRED)}")
    return ScriptState(
        title=fields["title"],
        page=fields["page"],
        datasets=tuple(part.strip() for part in fields["dataset"].split("|")),
        k=int(fields["k"]),
        seed=int(fields.get("seed", "0")),
        iteration=None if fields.get("iteration") == "end" else int(fields.get("iteration", "0")),
        after_estep=fields.get("after", "mstep") == "estep",
        highlight=_highlight(fields["highlight"], where) if "highlight" in fields else None,
        notes=tuple(notes),
        line=line,
    )


def _check_value(key: str, value: str, where: str) -> str:
    """Check one ``key: value`` line; returns the value as kept."""
    if not value:
        raise DataError(f"{where}: {key} has no value; write {key}: followed by its value")
    if key == "title" and len(value) > MAX_TITLE:
        raise DataError(f"{where}: the title has {len(value)} characters; keep it to {MAX_TITLE}")
    if key == "page" and value not in PAGES:
        raise DataError(f"{where}: page {value!r} is not one of {', '.join(PAGES)}; use one of them")
    if key == "dataset" and not all(_NAME.fullmatch(part.strip()) for part in value.split("|")):
        raise DataError(f"{where}: dataset {value!r} is not a data set name; write e.g. dataset: toy | demo-2d")
    if key == "k":
        _int(value, key, 1, MAX_K, where)
    if key == "seed":
        _int(value, key, 0, MAX_SEED, where)
    if key == "iteration" and value != "end":
        _int(value, key, 0, MAX_ITERATION, where)
    if key == "after" and value not in ("estep", "mstep"):
        raise DataError(f"{where}: after is {value!r}; write after: estep or after: mstep")
    if key == "highlight":
        _highlight(value, where)
    return value


def parse_script(text: str, name: str = "script") -> Script:
    """Read a script; every problem is one :class:`DataError` line naming ``name``, the line and the fix."""
    states: list[ScriptState] = []
    fields: dict[str, str] = {}
    notes: list[str] = []
    start = 0
    lines = text.splitlines()
    for number, raw in enumerate([*lines, ""], start=1):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            if fields or notes:
                states.append(_state(fields, notes, name, start))
                if len(states) > MAX_STATES:
                    raise DataError(f"{name}: more than {MAX_STATES} states; split the lecture into several scripts")
            fields, notes = {}, []
            continue
        where = f"{name} line {number}"
        if not fields and not notes:
            start = number
        key, colon, value = line.partition(":")
        key, value = key.strip().lower(), value.strip()
        if not colon:
            raise DataError(f"{where}: {clip(line)!r} has no ':'; write key: value (keys: {', '.join(KEYS)})")
        if key not in KEYS:
            raise DataError(f"{where}: unknown key {clip(key)!r}; use one of {', '.join(KEYS)}")
        if key == "notes":
            notes.append(value)
            continue
        if key in fields:
            raise DataError(f"{where}: a second {key} in one state; leave a blank line between states")
        fields[key] = _check_value(key, value, where)
    if not states:
        raise DataError(f"{name}: no state found; write blocks of key: value lines (see docs/lesson_scripts/README.md)")
    return Script(name, tuple(states))


def clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_script(content: bytes, name: str) -> Script:
    """A script from a file's bytes (an upload): size and encoding checked, then :func:`parse_script`."""
    if len(content) > MAX_BYTES:
        raise DataError(f"{name}: {len(content):,} bytes; a script is at most {MAX_BYTES:,} bytes of text")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = content[: err.start].count(b"\n") + 1
        raise DataError(
            f"{name} line {line}: byte {err.start + 1} is not UTF-8 text; save the script as UTF-8"
        ) from None
    return parse_script(text, name)


def shipped_scripts() -> list[str]:
    """The names of the scripts in :data:`SCRIPTS_DIR` (``default`` first)."""
    names = sorted(path.stem for path in SCRIPTS_DIR.glob("*.txt"))
    return sorted(names, key=lambda n: n != "default")


def load_script(name: str) -> Script:
    """A shipped script by name (``?script=default``)."""
    if not _NAME.fullmatch(name) or name not in shipped_scripts():
        raise DataError(f"no script {clip(name)!r}; the shipped ones are {', '.join(shipped_scripts())}")
    path = SCRIPTS_DIR / f"{name}.txt"
    return read_script(path.read_bytes(), path.name)


def resolve_dataset(state: ScriptState, available: list[str]) -> str:
    """The first of the state's data sets that is available here."""
    for dataset in state.datasets:
        if dataset in available:
            return dataset
    raise DataError(
        f"state {state.title!r} (line {state.line}) needs {' or '.join(state.datasets)}, none available here; "
        "add a built-in set (demo-2d, demo-small) as an alternative after |"
    )


def check_against(state: ScriptState, n: int, d: int, dataset: str) -> None:
    """Check K and the highlight against the data set the state resolved to (its size is known only now)."""
    where = f"state {state.title!r} (line {state.line})"
    if state.k > n:
        raise DataError(f"{where}: k {state.k} is more than the {n} rows of {dataset}; lower k")
    if state.highlight is None:
        return
    kind, index = state.highlight
    sizes = {"point": (n,), "user": (n,), "component": (state.k,), "cell": (n, d)}[kind]
    for value, size in zip(index, sizes, strict=True):
        if value >= size:
            raise DataError(
                f"{where}: highlight {state.highlight.text} is outside {dataset}'s 1..{size}; fix the number"
            )
