"""Memory of one dashboard process as sessions upload large matrices: the byte budgets must bound it.

Each session (an AppTest session in this process, as a server runs them) uploads its own ``--rows`` x
``--columns`` rating matrix and opens "Completion vs gold"; after each one the script prints the process's
RSS and what the upload store and the largest caches hold, against their budgets (dashboard.limits).

    EM_DATA_DIR=... python benchmarks/bench_upload_memory.py --sessions 8 --rows 2000 --columns 3000
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard import caches, session  # noqa: E402
from tests.apptest_helpers import Dashboard  # noqa: E402

MIB = 2**20


def rss_mb() -> float:
    """This process's resident memory now, in MB (/proc/self/status)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def held(store) -> str:
    return f"{store.nbytes / MIB:.0f}/{store.budget / MIB:.0f} MiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=8)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--columns", type=int, default=3000)
    args = parser.parse_args()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.node()} ({os.cpu_count()} cores), python {platform.python_version()}, load {load}")
    rng = np.random.default_rng(0)
    print(f"start: RSS {rss_mb():.0f} MB")
    for number in range(args.sessions):
        M = rng.integers(0, 6, size=(args.rows, args.columns))
        M[:, 0] = 1 + number % 5  # every user has a rating
        M[0, 1] = number + 1  # every upload is different
        content = "\n".join(" ".join(map(str, row)) for row in M).encode()
        start = time.perf_counter()
        app = Dashboard(em_k=2)
        app.upload(f"big{number}.txt", content)
        app.open("completion")
        del app, content, M
        gc.collect()
        print(
            f"session {number + 1}: {time.perf_counter() - start:.0f} s, RSS {rss_mb():.0f} MB; uploads "
            f"{held(session.UPLOADS)}, completions {held(caches.completion.store)}, matrix figures "
            f"{held(caches.matrix_figure.store)}"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
