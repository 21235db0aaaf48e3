"""What several test files share: the repository's root, seeded data, the course files, Debian's chromium,
the status line of a stepping page, and whether this is a CI run.

Import it as ``from tests.helpers import ...`` (``tests`` is a package; ``conftest.py`` holds only fixtures
and hooks). ``.ci/run`` asks this module for :data:`CHROMIUM` too, so the browser is found one way everywhere.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import NamedTuple

import numpy as np

from em_core.data import COURSE_FILES as COURSE_SETS

#: The repository's root (where app.py and pyproject.toml are).
REPO = Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------- CI


def ci_run() -> bool:
    """Whether the environment variable ``CI`` is set to a true value (``1``, ``true``, ``yes``, ``on``)."""
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


# ---------------------------------------------------------------- seeded data


def random_ratings(n: int, d: int, missing: float, seed: int) -> np.ndarray:
    """Seeded ratings 1-5 with a share of entries set to 0 (missing).

    Returns
    -------
    X : ndarray of shape (n, d)
        Each entry is missing (0) with probability ``missing``.
    """
    rng = np.random.RandomState(seed)
    X = rng.randint(1, 6, size=(n, d)).astype(float)
    X[rng.random_sample((n, d)) < missing] = 0.0
    return X


# ---------------------------------------------------------------- the course files

#: Every file of the course's netflix.tar.gz that a test reads: the data sets em_core knows, and the solutions.
COURSE_FILES = (
    *(name for matrix, gold, _ in COURSE_SETS.values() for name in (matrix, gold) if name),
    "test_solutions.txt",
)

#: How every skip for missing course files starts (the CI hook recognises it).
COURSE_MISSING = "course data not found"


def course_missing_reason(folder: Path, missing: list[str]) -> str:
    """Why a course test skips, and how a newcomer gets the files."""
    what = "none of its files" if len(missing) == len(COURSE_FILES) else f"missing {', '.join(missing)}"
    return (
        f"{COURSE_MISSING} in {folder} ({what}): get the course's netflix.tar.gz and put its "
        f"{', '.join(COURSE_FILES)} in this repository's data/ folder, or set EM_DATA_DIR to the folder "
        "that holds them"
    )


# ---------------------------------------------------------------- MovieLens

#: How every skip for a missing MovieLens folder starts (the CI hook recognises "EM_DATA_DIR" in it).
MOVIELENS_MISSING = "MovieLens latest-small not found in EM_DATA_DIR"


def movielens_small_dir() -> Path | None:
    """The first folder of EM_DATA_DIR holding MovieLens latest-small's ratings.csv and movies.csv."""
    from em_core.data import data_dirs

    for folder in data_dirs():
        if (folder / "ratings.csv").is_file() and (folder / "movies.csv").is_file():
            return folder
    return None


def movielens_missing_reason() -> str:
    """Why a MovieLens test skips, and how a newcomer gets the files (never copied into this repository)."""
    return (
        f"{MOVIELENS_MISSING}: download ml-latest-small.zip from grouplens.org/datasets/movielens, unpack it, "
        "and add its folder (the one with ratings.csv and movies.csv) to EM_DATA_DIR, separated by ':'"
    )


# ---------------------------------------------------------------- Debian's chromium

#: Debian's chromium on PATH (never a browser Playwright downloads); None when it is not installed.
CHROMIUM = shutil.which("chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: How every skip for a missing browser reads (the CI hook recognises it).
CHROMIUM_MISSING = "no chromium on PATH; install Debian's with: apt-get install -y chromium"


# ---------------------------------------------------------------- the status line of a stepping page

#: The start of a status line, as Streamlit's markdown source or as the browser renders it (no ``**``).
STATUS_START = re.compile(r"Initial (?:mixture|centres) \(|\**Iteration \d+\**(?: ·|$)")
_ITERATION = re.compile(
    r"Iteration (?P<iteration>\d+)"
    r"(?: · (?P<half>[^·]+ done, [^·]+ next))?"
    r"(?: · (?P<label>log-likelihood|cost) (?P<score>-?[\d,]+\.\d{6}))?"
    r"(?: · converged after (?P<converged>\d+) iterations)?"
    r"(?: · stopped at the cap of \d+ iterations, before the stopping rule held)?"
    r"(?: · showing iteration (?P<showing>\d+))?"
)


class Status(NamedTuple):
    """A stepping page's status line, parsed (``dashboard.controls.status_line`` writes it)."""

    text: str
    iteration: int  # iterations done (0 before the first step); t + 1 between the halves of iteration t + 1
    initial: bool  # before the first half-step: "Initial mixture (the course's init). Press ..."
    half_step: bool  # between an E-step and its M-step: "E-step done, M-step next"
    score_label: str | None  # "log-likelihood" or "cost"
    score_text: str | None  # the score as shown: 6 decimals with thousands commas
    converged: bool
    showing: int | None = None  # scrubbed back: the earlier iteration the view shows

    @property
    def score(self) -> float | None:
        return None if self.score_text is None else float(self.score_text.replace(",", ""))


def parse_status(text: str) -> Status:
    """Read a status line: Streamlit's markdown (``**Iteration 3** · ...``) or the browser's text of it."""
    plain = text.replace("**", "").strip()
    if plain.startswith(("Initial mixture (", "Initial centres (")):
        return Status(text, 0, True, False, None, None, False)
    found = _ITERATION.fullmatch(plain)
    if found is None:
        raise AssertionError(f"not a status line: {text!r}")
    return Status(
        text,
        int(found["iteration"]),
        False,
        found["half"] is not None,
        found["label"],
        found["score"],
        found["converged"] is not None,
        None if found["showing"] is None else int(found["showing"]),
    )
