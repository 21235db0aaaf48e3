"""How long each dashboard page takes to open on real rating data, and the server's memory.

Drives the real app with Streamlit's AppTest (no browser) on MovieLens latest-small (610 x 9,724,
100,836 ratings, kept sparse), and on the course's Netflix matrix (1200 x 1200, dense) for
comparison when EM_DATA_DIR has it. For each page: a fresh session opens it (the first open
loads the data set into the process's caches, as a server's first visitor does; later pages
find it there) and runs it again (a rerun, as a widget change does); then a Step on the matrix
page and Run EM to convergence on the Recommendations page. AppTest adds its own polling to
every run, so the times are upper bounds of the server's. Memory is the process's resident set
(current and peak) after each data set.

Run from the repository root::

    EM_DATA_DIR=../shared/data/course:../shared/data/movielens-small python benchmarks/bench_pages_real.py
    python benchmarks/bench_pages_real.py --json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from em_core.data import available_datasets  # noqa: E402
from tests.apptest_helpers import PAGES, Dashboard  # noqa: E402

K = {"movielens-small": 4, "netflix": 12}


def rss_mb() -> tuple[float, float]:
    """The process's resident set now and at its peak, in MB."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    now = pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux
    return now, peak


def timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def measure(name: str) -> dict:
    # the first visit: a session opens the app and picks the data set (read from disk, then cached)
    first_visit = timed(lambda: Dashboard(name, em_k=K[name]))
    rows = {}
    for page in PAGES:
        app = Dashboard(name, em_k=K[name])
        first = timed(lambda app=app, page=page: app.open(page))
        again = timed(app.run)
        rows[page] = {"open_s": round(first, 3), "rerun_s": round(again, 3)}
    app = Dashboard(name, page="matrix", em_k=K[name])
    step = timed(lambda: app.click("emx_step"))
    app = Dashboard(name, page="recommendations", em_k=K[name])
    run = timed(lambda: app.click("rec_run"))
    now, peak = rss_mb()
    return {
        "first_visit_s": round(first_visit, 3),
        "pages": rows,
        "step_s": round(step, 3),
        "run_to_convergence_s": round(run, 3),
        "rss_mb": round(now),
        "peak_rss_mb": round(peak),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)
    names = [name for name in ("movielens-small", "netflix") if name in available_datasets()]
    if "movielens-small" not in names:
        print("movielens-small not found: add its folder to EM_DATA_DIR (see the README)", file=sys.stderr)
        return 2
    start_rss = rss_mb()[0]
    app_start = timed(Dashboard)  # imports and the first run of the app on a built-in set, before any real data
    result = {
        "app_start_s": round(app_start, 3),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "rss_before_mb": round(start_rss),
        "datasets": {name: measure(name) for name in names},
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['machine']}; load average {result['load_average']}; RSS before any data {start_rss:.0f} MB")
    print(f"app start (imports, first run on demo-2d): {app_start:.2f} s")
    for name, found in result["datasets"].items():
        print(f"\n{name} (K = {K[name]}): first visit (reads the data set) {found['first_visit_s']:.2f} s")
        print("  then each page in a new session: open / rerun, seconds under AppTest")
        for page, row in found["pages"].items():
            print(f"  {page:16} {row['open_s']:6.2f} {row['rerun_s']:6.2f}")
        step, run = found["step_s"], found["run_to_convergence_s"]
        print(f"  Step on the matrix page {step:.2f} s; Run to convergence {run:.2f} s")
        print(f"  RSS after: {found['rss_mb']} MB (peak {found['peak_rss_mb']} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
