"""Shared fixtures: the course files (skipped with a reason when absent) and seeded data."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from em_core.data import data_dir

# CI runs more examples; a local run stays quick.
settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

COURSE_FILES = (
    "toy_data.txt",
    "test_incomplete.txt",
    "test_complete.txt",
    "test_solutions.txt",
    "netflix_incomplete.txt",
    "netflix_complete.txt",
)


@pytest.fixture(scope="session")
def course_dir() -> Path:
    """The folder of the course files; skips the test when they are not there."""
    folder = data_dir()
    missing = [name for name in COURSE_FILES if not (folder / name).is_file()]
    if missing:
        pytest.skip(
            f"course data not found in {folder} (missing {', '.join(missing)}); "
            "set EM_DATA_DIR=../shared/data/course to run this test"
        )
    return folder


@pytest.fixture(scope="session")
def course_matrix(course_dir):
    """Load a course file by name: ``course_matrix("toy_data.txt")``."""

    def load(name: str) -> np.ndarray:
        return np.loadtxt(course_dir / name)

    return load


def random_ratings(n: int, d: int, missing: float, seed: int) -> np.ndarray:
    """Seeded ratings 1-5 with a share of entries set to 0 (missing)."""
    rng = np.random.RandomState(seed)
    X = rng.randint(1, 6, size=(n, d)).astype(float)
    X[rng.random_sample((n, d)) < missing] = 0.0
    return X


# ---------------------------------------------------------------- browser tests

CHROMIUM = "/usr/bin/chromium"
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


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no chromium at {CHROMIUM}; install it with: apt-get install -y chromium")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}
