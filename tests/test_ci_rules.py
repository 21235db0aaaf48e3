"""CI cannot pass by skipping (tests/conftest.py): run small test files under ``CI=1`` and read the verdict.

Each case runs ``python -m pytest`` in a subprocess from the repository's root on a file written to a
temporary folder, with this project's conftest loaded as a plugin (``-p tests.conftest``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import COURSE_FILES, REPO

SAMPLE = """
import pytest


def test_needs_the_course_files(course_dir):
    pass


@pytest.mark.browser
def test_a_browser_test_that_skips():
    pytest.skip("the page did not open")


def test_needs_other_data():
    pytest.skip("MovieLens not found in EM_DATA_DIR")


def test_an_ordinary_skip():
    pytest.skip("nothing to do on this platform")


@pytest.mark.browser
@pytest.mark.xfail(reason="a known bug", strict=True)
def test_a_known_bug():
    assert False


def test_plain():
    pass
"""


def run_pytest(folder: Path, ci: str, data: str, *options: str) -> subprocess.CompletedProcess:
    (folder / "test_sample.py").write_text(SAMPLE)
    env = {**os.environ, "CI": ci, "EM_DATA_DIR": data}
    command = [sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q", *options]
    command += ["-o", "addopts=-ra", "--rootdir", str(folder), str(folder / "test_sample.py")]
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)


# The README's command runs the tests in two pytest-xdist workers: the verdict and the per-marker line are the same.
@pytest.mark.parametrize(
    "options",
    [(), ("-n", "2"), ("-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder")],  # the last: pyproject's
    ids=["one-process", "two-workers", "two-workers-by-group"],
)
def test_under_ci_a_skip_for_want_of_data_or_a_browser_fails_and_says_why(tmp_path, options):
    empty = tmp_path / "data"
    empty.mkdir()
    result = run_pytest(tmp_path, "1", str(empty), *options)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "CI does not accept a skipped course test: course data not found in" in out
    assert "get the course's netflix.tar.gz and put its " + ", ".join(COURSE_FILES) in out
    assert "CI does not accept a skipped browser test: the page did not open" in out
    assert "CI does not accept a skipped data or browser test: MovieLens not found in EM_DATA_DIR" in out
    # the course test skipped in its setup (an error), the others in their body (failures); a skip CI has
    # no reason to refuse stays a skip
    # an expected failure is no skip: the per-marker line counts it apart
    assert re.search(r"^2 failed, 1 passed, 1 skipped, 1 xfailed, .*1 error in ", out, flags=re.M), out
    lines = [line for line in out.splitlines() if line.startswith("per marker: ")]
    assert lines == [
        "per marker: course 0 passed, 0 skipped, 1 failed | browser 0 passed, 0 skipped, 1 failed, 1 xfailed"
        " | deploy 0 passed, 0 skipped, 0 failed | unmarked 1 passed, 1 skipped, 1 failed"
    ], out


def test_outside_ci_the_same_tests_skip_and_say_where_to_get_the_files(tmp_path):
    empty = tmp_path / "data"
    empty.mkdir()
    result = run_pytest(tmp_path, "0", str(empty))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 4 skipped" in result.stdout
    assert "(none of its files): get the course's netflix.tar.gz and put its toy_data.txt, test_incomplete.txt" in (
        result.stdout
    )
    assert "in this repository's data/ folder, or set EM_DATA_DIR to the folder that holds them" in result.stdout


def test_under_ci_a_missing_data_folder_stops_the_run_before_any_test(tmp_path):
    missing = tmp_path / "no-such-folder"
    result = run_pytest(tmp_path, "true", f"{tmp_path}:{missing}")  # the first folder exists, the second not
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout + result.stderr
    assert f"CI: EM_DATA_DIR names a folder that does not exist: {missing}; point it at" in result.stderr
    assert "passed" not in result.stdout
