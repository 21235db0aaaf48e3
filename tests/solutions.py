"""Read the course's ``test_solutions.txt``: numpy-printed arrays grouped under section headers.

The file looks like::

    Input:
    X:
    [[2. 5. 3. 0. 0.]
     ...]
    K: 4
    Mu:
    ...
    After first E-step:
    post:
    ...
    LL:-152.1...

A section starts at a header line ("Input:", "After first E-step:", "After first M-step:",
"After a run"); inside it each entry is ``Name: value``, where the value may continue on the
following lines (numpy prints a matrix one row per line, and wraps long rows).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

SECTIONS = ("Input", "After first E-step", "After first M-step", "After a run")

_HEADER = re.compile(r"^(?P<name>[A-Za-z][A-Za-z -]*?):?\s*$")
_ENTRY = re.compile(r"^(?P<key>[A-Za-z_][A-Za-z0-9_]*):\s*(?P<value>.*)$")
_ROW = re.compile(r"\[([^\[\]]*)\]")


def parse_value(text: str) -> np.ndarray | float:
    """A numpy-printed 1-D or 2-D array (``[...]`` or ``[[...] ...]``), or a plain number."""
    text = text.strip()
    if not text.startswith("["):
        return float(text)
    rows = [np.array(row.split(), dtype=float) for row in _ROW.findall(text)]
    if text.startswith("[["):
        widths = {row.size for row in rows}
        if len(widths) != 1:
            raise ValueError(f"ragged matrix: rows of {sorted(widths)} values in {text[:60]!r}")
        return np.vstack(rows)
    if len(rows) != 1:
        raise ValueError(f"expected one [...] for a vector, found {len(rows)} in {text[:60]!r}")
    return rows[0]


def parse_solutions(text: str) -> dict[str, dict[str, np.ndarray | float]]:
    """``{section: {name: value}}`` for every section of the solutions text."""
    raw: dict[str, dict[str, list[str]]] = {}
    section = key = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            key = None
            continue
        header = _HEADER.match(stripped)
        if header and header.group("name") in SECTIONS:
            section, key = header.group("name"), None
            raw[section] = {}
            continue
        entry = _ENTRY.match(stripped)
        if entry and section is not None:
            key = entry.group("key")
            raw[section][key] = [entry.group("value")]
        elif key is not None:
            raw[section][key].append(stripped)
        else:
            raise ValueError(f"line {line_no}: {stripped[:40]!r} is neither a section header nor 'Name: value'")
    missing = [name for name in SECTIONS if name not in raw]
    if missing:
        raise ValueError(f"sections not found: {', '.join(missing)}")
    return {name: {k: parse_value(" ".join(v)) for k, v in entries.items()} for name, entries in raw.items()}


def load_solutions(path: str | Path) -> dict[str, dict[str, np.ndarray | float]]:
    """Parse the solutions file at ``path``; see :func:`parse_solutions`."""
    return parse_solutions(Path(path).read_text())
