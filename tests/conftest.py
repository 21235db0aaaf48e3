"""Fixtures and hooks for every test: the course files, Debian's chromium, Hypothesis profiles, and CI's rules.

Helpers that tests import live in ``tests/helpers.py``; nothing imports this file.

Under CI (``CI`` set to a true value) a run cannot pass by skipping:

- a folder named in ``EM_DATA_DIR`` (one, or several separated by ``:``) that does not exist stops the run
  before any test;
- a test marked ``course`` or ``browser`` that skips, or any test skipped because data in ``EM_DATA_DIR`` or
  chromium is missing, is reported as a failure with the skip's reason;
- the run ends with one line of passed / skipped / failed per marker.

Tests that ask for ``course_dir`` or ``course_matrix`` are marked ``course``, and tests that use a browser
``browser``, whether or not their file says so.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

from dashboard import blas_threads
from em_core.data import data_dirs, missing_data_dirs
from tests.helpers import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    CHROMIUM_MISSING,
    COURSE_FILES,
    COURSE_MISSING,
    ci_run,
    course_missing_reason,
)

# The app limits its process to one BLAS thread when it first runs (dashboard/blas_threads.py). Under
# AppTest the app runs inside a test worker: that would change the BLAS under every test the worker runs
# after it (em_core times each class of product once per process to choose its orientation, so a batch and
# a single fit could end up summing in different orders). The workers keep theirs; the servers the browser
# tests start, and tests/test_blas_threads.py's fresh interpreters, run the app's own choice.
blas_threads.keep()

# CI runs more examples; a local run stays quick. EM_HYPOTHESIS_PROFILE chooses one outright (.ci/run's check of
# the lowest versions uses "dev": it looks for what breaks on old releases, the full run looks hard).
settings.register_profile("ci", max_examples=200, deadline=None)
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile(os.environ.get("EM_HYPOTHESIS_PROFILE") or ("ci" if ci_run() else "dev"))

#: Markers CI refuses to see skipped, and the fixtures that imply them.
STRICT_MARKERS = {
    "course": {"course_dir", "course_matrix"},
    "browser": {"browser", "context", "page", "app_server"},
    "deploy": set(),  # nginx in front of replicas (tests/test_deploy.py): .ci/run installs nginx
}


def for_want_of_data_or_browser(reason: str) -> bool:
    """Whether a skip's reason says that data (course files, MovieLens, ... in EM_DATA_DIR) or chromium is missing,
    whatever the test's markers."""
    return reason.startswith((COURSE_MISSING, CHROMIUM_MISSING)) or "EM_DATA_DIR" in reason


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def course_dir() -> Path:
    """The folder of the course files; skips the test (saying where to get them) when they are not there."""
    folders = data_dirs()
    missing = {}
    for folder in folders:
        missing[folder] = [name for name in COURSE_FILES if not (folder / name).is_file()]
        if not missing[folder]:
            return folder
    folder = min(folders, key=lambda f: len(missing[f]))
    pytest.skip(course_missing_reason(folder, missing[folder]))


@pytest.fixture(scope="session")
def course_matrix(course_dir):
    """Load a course file by name: ``course_matrix("toy_data.txt")``."""

    def load(name: str) -> np.ndarray:
        return np.loadtxt(course_dir / name)

    return load


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright launches Debian's chromium (never a downloaded browser)."""
    if CHROMIUM is None:
        pytest.skip(CHROMIUM_MISSING)
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


# ---------------------------------------------------------------- CI's rules


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(MarkerSummary(), "em-lab-marker-summary")
    if ci_run():
        absent = [str(folder) for folder in missing_data_dirs()]
        if absent:
            raise pytest.UsageError(
                f"CI: EM_DATA_DIR names a folder that does not exist: {', '.join(absent)}; point it at the folders "
                "of the data (e.g. EM_DATA_DIR=../shared/data/course:../shared/data/movielens-small), or unset CI "
                "for a local run"
            )


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook reads the groups (--dist loadgroup)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    grouped = config.pluginmanager.hasplugin("xdist")  # its marker exists (not with -p no:xdist)
    for item in items:
        for marker, fixtures in STRICT_MARKERS.items():
            if fixtures & set(getattr(item, "fixturenames", ())) and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        if grouped and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(worker_group(item)))
    items[:] = slow_files_first(items)


#: Markers of the tests that take longest: a real server, a browser, many sessions.
SLOW_MARKERS = ("browser", "deploy", "load")
#: The pytest-xdist group of every test that starts a server (SLOW_MARKERS): one worker runs them one file
#: after another while the other runs the rest. Two at once (two servers, two chromiums on 2 cores) made
#: the browser's drawing lag far behind the servers: on 2026-12-01 a fresh-clone CI run and two runs of six
#: browser files failed a test each time (a Play frame skipped, one click's point added twice, a stale
#: status line left in the page), where each of them passed alone and beside two busy loops.
SERVER_GROUP = "servers"


def worker_group(item: pytest.Item) -> str:
    """Its pytest-xdist group (``--dist loadgroup``): :data:`SERVER_GROUP` or, for any other test, its file
    (as ``--dist loadfile`` would: a file's module-scoped fixtures start once)."""
    if any(item.get_closest_marker(marker) for marker in SLOW_MARKERS):
        return SERVER_GROUP
    return item.path.name


def slow_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """The files with a browser, deploy or load test first, each file's tests in their own order.

    pytest-xdist's workers take whole groups in this order (``--dist loadgroup --no-loadscope-reorder``):
    started first, the long group of the tests that start servers (test_concurrency.py alone takes minutes)
    runs beside the quick ones instead of last, alone.
    """
    slow = {item.path for item in items if any(item.get_closest_marker(m) for m in SLOW_MARKERS)}
    return sorted(items, key=lambda item: item.path not in slow)  # sorted is stable


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple):  # (path, line, "Skipped: reason")
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    strict = [marker for marker in STRICT_MARKERS if item.get_closest_marker(marker)]
    # the report carries them (pytest-xdist sends a report's attributes from its worker to the main process,
    # where MarkerSummary counts: the items themselves stay in the workers)
    report.strict_markers = strict
    if not (ci_run() and report.skipped) or hasattr(report, "wasxfail"):
        return report
    reason = _skip_reason(report)
    if strict or for_want_of_data_or_browser(reason):
        report.outcome = "failed"
        report.longrepr = f"CI does not accept a skipped {'/'.join(strict) or 'data or browser'} test: {reason}"
    return report


class MarkerSummary:
    """Counts each test once by its outcome (failed in any phase, else skipped, else passed), per strict marker,
    and ends the run with one line of them. It reads the markers from the reports (``strict_markers``, set by
    the conftest's ``pytest_runtest_makereport``), so it counts the same with pytest-xdist's workers."""

    def __init__(self) -> None:
        self.markers: dict[str, tuple[str, ...]] = {}  # nodeid -> its strict markers
        self.outcomes: dict[str, str] = {}  # nodeid -> "passed", "skipped", "xfailed" or "failed"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.markers.setdefault(report.nodeid, tuple(getattr(report, "strict_markers", ())))
        if report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.skipped:  # an expected failure reports as skipped: counted apart, it is no skip
            self.outcomes.setdefault(report.nodeid, "xfailed" if hasattr(report, "wasxfail") else "skipped")
        elif report.when == "call":
            self.outcomes.setdefault(report.nodeid, "passed")

    def line(self) -> str:
        counts: dict[str, Counter] = {marker: Counter() for marker in (*STRICT_MARKERS, "unmarked")}
        for nodeid, outcome in self.outcomes.items():
            for marker in self.markers.get(nodeid) or ("unmarked",):
                counts[marker][outcome] += 1
        return "per marker: " + " | ".join(
            f"{marker} {c['passed']} passed, {c['skipped']} skipped, {c['failed']} failed"
            + (f", {c['xfailed']} xfailed" if c["xfailed"] else "")
            for marker, c in counts.items()
        )

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.outcomes:  # not after --collect-only
            terminalreporter.write_line(self.line())
