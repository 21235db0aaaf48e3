"""One BLAS thread per server process, unless the environment asks for more.

numpy's OpenBLAS starts one thread per core and, after each product, keeps its threads spinning for a
while in case another product follows. A Step on the matrix page makes a few products of ~2 ms each,
so on this project's 2-core VM a server with two BLAS threads spent 216-222 ms of CPU on a Step whose
script took 111-112 ms, against 118-120 ms of CPU (and 115-118 ms) with one thread
(``OPENBLAS_NUM_THREADS=1|2 python benchmarks/bench_dashboard.py --clicks 15``, netflix K = 12, two runs
of each, 2026-12-01). The spinning thread takes a core from the browser drawing the Step beside it, or
from the other sessions of a class: a server's sessions are its parallelism, not one product's threads.

The limit is set at run time (``threadpoolctl``, which scikit-learn brings), since Streamlit has
imported numpy before the app runs. ``OPENBLAS_NUM_THREADS``, ``OMP_NUM_THREADS`` or
``MKL_NUM_THREADS`` set in the server's environment win: ``benchmarks/bench_step_browser.py
--blas-threads 2`` measures the other choice.
"""

from __future__ import annotations

import os
import threading

from threadpoolctl import threadpool_info, threadpool_limits

__all__ = ["ENVIRONMENT", "keep", "limit", "threads"]

#: Variables that name a thread count for the BLAS; when any is set, :func:`limit` leaves the BLAS as it is.
ENVIRONMENT = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")

_lock = threading.Lock()
_done = False


def limit() -> None:
    """One thread for every BLAS this process has loaded, once per process; nothing when the environment
    names a thread count (see :data:`ENVIRONMENT`)."""
    global _done
    with _lock:
        if _done:
            return
        _done = True
        if any(os.environ.get(name) for name in ENVIRONMENT):
            return
        threadpool_limits(limits=1, user_api="blas")


def keep() -> None:
    """Leave this process's BLAS as it is: a later :func:`limit` does nothing. For a process that runs the
    app among other work (a test worker, whose other tests must not find their BLAS changed by the app's
    first run: em_core chooses each product's orientation by timing it, once per process)."""
    global _done
    with _lock:
        _done = True


def threads() -> list[int]:
    """The thread count of each BLAS loaded in this process (numpy's, SciPy's)."""
    return [pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"]
