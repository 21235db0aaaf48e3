"""Many users at once: one ``streamlit run app.py`` serving many browser sessions.

Each Playwright browser context has its own cookies, so its own Streamlit session: a student in a
classroom. ``test_eight_sessions_no_cross_talk`` steps EM in eight such sessions at once (nine with
the course files), each with its own page, data set, K and seed, and checks that every one ends on the
numbers em_core gives for its own settings. ``test_memory_bounded`` measures the server's resident
memory while sessions fit the 1200 x 1200 matrix, and checks that closed sessions leave memory the
next ones reuse.

The figures go to test-artifacts/concurrency.json (and print with ``pytest -n 0 -s``).
"""

from __future__ import annotations

import functools
import json
import re
import statistics
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import Browser, expect

from em_core import init, stepping
from em_core.data import Dataset, course_available, load_dataset
from em_core.experiment import algorithm_for
from tests.browser_page import AppPage
from tests.helpers import REPO
from tests.streamlit_server import StreamlitServer

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
FIGURES = ARTIFACTS / "concurrency.json"

TIMEOUT_MS = 60_000  # a first render, one Step, or a Run to convergence on 1200 x 1200 while the others run theirs
IDLE_SECONDS = 20.0  # for the server to notice closed browser contexts

TITLES = {"em_matrix": "EM for matrix completion", "em_2d": "EM on complete 2-D data"}
ALGORITHM = {"em_matrix": "em", "em_2d": "naive-em"}
MIN_VARIANCE = 0.25  # the sidebar's default; the links do not set it

# ---------------------------------------------------------------- what each session does


@functools.lru_cache(maxsize=8)
def cached_dataset(name: str) -> Dataset:
    return load_dataset(name)  # the course's netflix files take a second or two to parse


@dataclass(frozen=True)
class Visit:
    """One student: a page opened by its link, then ``steps`` presses of Step."""

    page: str  # "em_matrix" or "em_2d"
    dataset: str
    K: int
    seed: int
    steps: int
    replay: int = 0  # the link's ``it``: Steps the page replays when it opens

    def link(self) -> str:
        query = {"dataset": self.dataset, "k": self.K, "seed": self.seed}
        if self.replay:
            query["it"] = self.replay
        return f"/{self.page}?{urlencode(query)}"

    def expected(self, max_steps: int | None = None) -> tuple[int, str]:
        """The iteration and the log-likelihood (as the page prints it) that em_core gives.

        ``max_steps=None``: exactly ``replay + steps`` Steps, none of them after convergence (the
        button is disabled then); otherwise up to ``max_steps`` Steps, stopping at convergence.
        """
        X = cached_dataset(self.dataset).X
        algorithm = algorithm_for(ALGORITHM[self.page], MIN_VARIANCE)
        mixture, post = init(X, self.K, self.seed)
        state = stepping.start(mixture, post, max_history=1)
        if max_steps is not None:
            state = stepping.run(algorithm, X, state, max_iter=max_steps)
        else:
            for _ in range(self.replay + self.steps):
                assert not state.converged, f"{self} converges after {state.iteration} steps: ask for fewer"
                state = stepping.step(algorithm, X, state)
        return state.iteration, f"{state.score:,.6f}"

    def held_mb(self, iteration: int) -> float:
        """What this session's fit keeps after ``iteration`` steps: the mixtures of its history
        (as many as em_core.stepping's HISTORY_BYTES allows) and the latest posterior."""
        X = cached_dataset(self.dataset).X
        mixture, post = init(X, self.K, self.seed)
        kept = min(iteration + 1, stepping.history_limit(mixture, stepping.HISTORY_BYTES))
        return (kept * sum(array.nbytes for array in mixture) + post.nbytes) / 2**20


VISITS = [
    Visit("em_matrix", "demo-small", 2, 0, 3),
    Visit("em_matrix", "demo-small", 3, 1, 4),
    Visit("em_matrix", "demo-small", 4, 2, 2),
    Visit("em_matrix", "demo-small", 3, 3, 2, replay=3),  # the link replays 3 Steps, then 2 more by hand
    Visit("em_2d", "demo-2d", 3, 1, 4),
    Visit("em_2d", "demo-2d", 5, 3, 3),
    Visit("em_2d", "demo-2d", 2, 0, 1, replay=2),
    Visit("em_matrix", "demo-large", 12, 3, 3),  # converges at 4: the last Step before the button greys
]
COURSE_VISITS = [Visit("em_matrix", "test", 4, 2, 3)]  # when EM_DATA_DIR holds the course files


# ---------------------------------------------------------------- one browser session


def new_tab(browser: Browser, server: StreamlitServer) -> AppPage:
    """One student: a browser context of its own (its own cookies, so its own Streamlit session)."""
    return AppPage.new_context(browser, server.url, TIMEOUT_MS)


def shown(tab: AppPage) -> tuple[int, str | None]:
    """The iteration and the score as the status line shows them."""
    status = tab.status()
    return status.iteration, status.score_text


def open_all(tabs: list[AppPage], visits: list[Visit]) -> None:
    """Start every page loading, then wait for each: the server renders them side by side."""
    for tab, visit in zip(tabs, visits, strict=True):
        tab.goto(visit.link())
    for tab, visit in zip(tabs, visits, strict=True):
        tab.wait_opened(TITLES[visit.page])
        assert tab.status().iteration == visit.replay, f"{visit}: the link's it={visit.replay} was not replayed"


def step_round_robin(tabs: list[AppPage], clicks: list[int]) -> None:
    """Press Step in every session that has presses left, then wait for them all; repeat.

    Each round puts one rerun per session in flight at the same time, so the server's script
    threads really run side by side; the sessions drop out at different rounds.
    """
    left = list(clicks)
    while any(left):
        pressed = [i for i, n in enumerate(left) if n]
        for i in pressed:
            tabs[i].press("Step")
            left[i] -= 1
        for i in pressed:
            tabs[i].wait_stepped()


def close_all(tabs: list[AppPage]) -> None:
    for tab in tabs:
        tab.close()


# ---------------------------------------------------------------- the server from outside


def rss_mb(pid: int, field_name: str = "VmRSS") -> float:
    """Resident memory of process ``pid`` in MB (``VmHWM``: its peak so far)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) / 1024  # kB
    raise AssertionError(f"no {field_name} in /proc/{pid}/status")


def settled_rss_mb(pid: int) -> float:
    """RSS once the script threads are done: the least of a few readings 0.3 s apart."""
    readings = []
    for _ in range(4):
        time.sleep(0.3)
        readings.append(rss_mb(pid))
    return min(readings)


def metrics(server: StreamlitServer) -> dict[str, float]:
    """Streamlit's /_stcore/metrics: active sessions and the bytes each cache holds."""
    with urllib.request.urlopen(f"{server.url}/_stcore/metrics", timeout=10) as response:
        text = response.read().decode()
    values = {}
    for line in text.splitlines():
        if line.startswith("active_sessions "):
            values["active_sessions"] = float(line.split()[1])
        found = re.match(r'cache_memory_bytes\{cache_type="(\w+)",cache="([\w.]*)"\} (\S+)', line)
        if found:
            values[found[2] or found[1]] = float(found[3])
    return values


def wait_active_sessions(server: StreamlitServer, count: int) -> None:
    deadline = time.monotonic() + IDLE_SECONDS
    while (active := metrics(server).get("active_sessions")) != count:
        assert time.monotonic() < deadline, f"the server still counts {active} sessions, expected {count}"
        time.sleep(0.2)  # polling interval, not a wait for the app


def server_log_problems(server: StreamlitServer) -> list[str]:
    text = server.log_path.read_text(errors="replace")
    return [line for line in text.splitlines() if "Traceback" in line or "Error" in line]


def save_figures(name: str, figures: dict) -> None:
    print(f"\n{name}: " + json.dumps(figures, indent=2))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    saved = json.loads(FIGURES.read_text()) if FIGURES.exists() else {}
    saved[name] = figures
    FIGURES.write_text(json.dumps(saved, indent=2) + "\n")


# ---------------------------------------------------------------- the tests


def test_eight_sessions_no_cross_talk(browser: Browser):
    visits = VISITS + (COURSE_VISITS if course_available("test") else [])
    expected = [visit.expected() for visit in visits]
    started = time.monotonic()
    with StreamlitServer(log_path=ARTIFACTS / "streamlit-concurrency.log") as server:
        tabs = [new_tab(browser, server) for _ in visits]
        try:
            open_all(tabs, visits)
            step_round_robin(tabs, [visit.steps for visit in visits])
            for tab, visit, (iteration, ll) in zip(tabs, visits, expected, strict=True):
                assert shown(tab) == (iteration, ll), f"{visit} shows another session's fit?"
                sidebar = tab.sidebar
                expect(sidebar.get_by_role("spinbutton", name="K (components)")).to_have_value(str(visit.K))
                expect(sidebar.get_by_role("spinbutton", name="Seed")).to_have_value(str(visit.seed))
                # the URL follows this session's own fit (session.sync_url)
                assert f"dataset={visit.dataset}&k={visit.K}&seed={visit.seed}" in tab.page.url
                assert f"it={iteration}" in tab.page.url
                tab.expect_no_exception()
                tab.expect_clean()
            assert metrics(server)["active_sessions"] == len(visits)
        finally:
            close_all(tabs)
        assert not server_log_problems(server), "\n".join(server_log_problems(server))
    latencies = [seconds for tab in tabs for seconds in tab.step_seconds]
    save_figures(
        "test_eight_sessions_no_cross_talk",
        {
            "sessions": len(visits),
            "steps_per_session": {visit.link(): visit.steps for visit in visits},
            "step_seconds_median": round(statistics.median(latencies), 2),
            "step_seconds_max": round(max(latencies), 2),
            "console_errors_allowed": sum(len(tab.ignored) for tab in tabs),  # ALLOWED_CONSOLE
            "duration_s": round(time.monotonic() - started, 1),
        },
    )


MEMORY_SESSIONS = 4
MAX_STEPS = 100  # Run to convergence must stop by itself before this
TTL_SECONDS = 2
# The server runs with two glibc malloc settings, so that RSS follows what the app holds. By default
# glibc keeps freed blocks in per-thread arenas, and each session's script thread renders with
# several 11.5 MB arrays (the completed matrix, its projection's temporaries): where that slack lands
# depends on how the threads happened to overlap, and RSS after identical batches of four sessions
# swung by 60-165 MB. With these, blocks of a megabyte or more are mmap-ed and handed back when freed,
# and all threads share one arena, so what one session frees the next can reuse. Smaller blocks (a
# mixture is 116 kB) stay in the heap: closed sessions' memory is measured as reused, not returned.
SERVER_ENV = {"MALLOC_MMAP_THRESHOLD_": str(2**20), "MALLOC_ARENA_MAX": "1"}
# What one session holds, by design (dashboard/session.py): its fit's history of mixtures (em_core's
# HISTORY_BYTES caps it at 8 MiB; a K=12 mixture on 1200 items is 116 kB, and these fits converge after
# 16-27 iterations, so 2-3 MB), the latest posterior (1200 x 12 floats, 115 kB), its step log (about
# 30 kB per E-step beyond the history's mixtures: 4.3 MB in all for the 27-iteration fit, which
# tests/test_load.py checks without a server), its widgets' state and Streamlit's own objects for a
# session (about a megabyte). The data set is shared (st.cache_resource, loaded by the warm-up); the
# one result cache this page fills (dashboard.caches.user_map: the users on two axes, 19 kB a mixture,
# within its byte budget) is counted here, as a session's share. Issue 15's bound: 10 MB a student.
PRIVATE_MB = 10


def test_memory_bounded(browser: Browser, monkeypatch: pytest.MonkeyPatch):
    if course_available("netflix"):  # converges after 16-27 iterations from these seeds
        name, seeds, warm_seed = "netflix", (0, 1, 3, 4), 2
    else:  # demo-large converges after 4-7
        name, seeds, warm_seed = "demo-large", (0, 1, 4, 2), 3
    visits = [Visit("em_matrix", name, 12, seed, 0) for seed in seeds[:MEMORY_SESSIONS]]
    expected = [visit.expected(max_steps=MAX_STEPS) for visit in visits]
    assert all(iteration < MAX_STEPS for iteration, _ in expected), expected
    for variable, value in SERVER_ENV.items():
        monkeypatch.setenv(variable, value)  # StreamlitServer passes the environment on
    started = time.monotonic()
    extra = ["--server.disconnectedSessionTTL", str(TTL_SECONDS)]
    opened: list[AppPage] = []  # closed at the end whatever happens

    def open_tab(server: StreamlitServer) -> AppPage:
        opened.append(new_tab(browser, server))
        return opened[-1]

    with StreamlitServer(log_path=ARTIFACTS / "streamlit-memory.log", extra_args=extra) as server:
        pid = server.pid

        def batch() -> list[AppPage]:
            """N students open the big matrix and press Run to convergence, all at once."""
            tabs = [open_tab(server) for _ in visits]
            open_all(tabs, visits)
            for tab in tabs:
                tab.press("Run to convergence")
            for tab in tabs:
                tab.wait_converged()
            for tab, visit, expected_shown in zip(tabs, visits, expected, strict=True):
                assert shown(tab) == expected_shown, visit
                tab.expect_clean()
            return tabs

        try:
            # warm: the data set loaded, the page's modules imported, one completed matrix cached
            warm = open_tab(server)
            warm.goto(Visit("em_matrix", name, 12, warm_seed, 0).link())
            warm.wait_opened(TITLES["em_matrix"])
            rss_warm = settled_rss_mb(pid)

            first = batch()
            sessions_held = int(metrics(server)["active_sessions"])
            rss_first = settled_rss_mb(pid)

            # Closing: Streamlit keeps a disconnected session for disconnectedSessionTTL seconds, so that
            # a dropped connection can resume it, and then forgets it; but its TTL cache only removes the
            # expired sessions when something is next written to it, i.e. on the next disconnect. In a
            # classroom that is the next student who leaves; here, a short visit to the Data page.
            close_all(first)
            wait_active_sessions(server, 1)
            time.sleep(TTL_SECONDS + 1)  # past the TTL of every closed session
            leaver = open_tab(server)
            leaver.goto("/")
            leaver.wait_opened("Data", status=False)
            leaver.close()
            wait_active_sessions(server, 1)
            rss_closed = settled_rss_mb(pid)

            second = batch()  # the same work again: it should fit in the memory the first batch freed
            rss_second = settled_rss_mb(pid)
            peak = rss_mb(pid, "VmHWM")
            warm.expect_clean()
        finally:
            close_all(opened)
        log_problems = server_log_problems(server)

    n = len(visits)
    fits_mb = sum(visit.held_mb(iteration) for visit, (iteration, _) in zip(visits, expected, strict=True))
    private = (rss_first - rss_warm) / n
    regrowth = rss_second - rss_first
    figures = {
        "dataset": name,
        "K": 12,
        "server_env": SERVER_ENV,
        "sessions_held": sessions_held,
        "steps_taken": {f"seed {visit.seed}": it for visit, (it, _) in zip(visits, expected, strict=True)},
        "rss_mb": {
            "warm": round(rss_warm, 1),
            "after_first_batch": round(rss_first, 1),
            "after_close_and_ttl": round(rss_closed, 1),
            "after_second_batch": round(rss_second, 1),
            "peak": round(peak, 1),
        },
        "per_session_mb": round(private, 1),
        "fits_held_mb": round(fits_mb, 1),
        "second_batch_growth_mb": round(regrowth, 1),
        "run_seconds_max": round(max(s for tab in first + second for s in tab.step_seconds), 2),
        "duration_s": round(time.monotonic() - started, 1),
    }
    save_figures("test_memory_bounded", figures)
    assert sessions_held == n + 1, figures  # the warm session and the batch, all held at once
    assert not log_problems, "\n".join(log_problems)
    assert private < PRIVATE_MB, figures
    # Reuse: had the first batch's sessions stayed in memory, the second batch would need new memory
    # for its own fits (fits_mb: their histories, 10.5 MB on netflix; measured +11 to +17 MB when the
    # closed sessions were never dropped, -5 to +1 MB when they were); it must need less than half.
    # demo-large converges sooner (3.5 MB of fits), so there the check is only as fine as the 2 MB floor.
    assert regrowth < max(fits_mb / 2, 2.0), figures
