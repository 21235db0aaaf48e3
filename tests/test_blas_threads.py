"""The server's BLAS threads (dashboard/blas_threads.py): one, unless the environment names a count.

With numpy's default (one thread per core) the second thread spun between a Step's products: on the
2-core VM a netflix Step cost the server ~220 ms of CPU for a ~112 ms script, a core taken from the
browser drawing it or from the other students' sessions. Each test runs in a fresh interpreter: the
limit is for the whole process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from dashboard.blas_threads import ENVIRONMENT
from tests.helpers import REPO

# the app's first run, under AppTest, in a process of its own; prints the BLAS thread counts after it
APP_RUN = """
import json, logging
import numpy, scipy.linalg  # both BLAS loaded, as in a server
logging.getLogger("streamlit").setLevel(logging.ERROR)
from streamlit.testing.v1 import AppTest
from dashboard import blas_threads
before = blas_threads.threads()
at = AppTest.from_file("app.py", default_timeout=60)
at.run()
assert not at.exception, at.exception
print(json.dumps({"before": before, "after": blas_threads.threads()}))
"""


def run(code: str, **variables: str) -> dict:
    env = {name: value for name, value in os.environ.items() if name not in ENVIRONMENT}
    env.update(variables, EM_DATA_DIR=str(REPO / "data"))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_app_runs_its_server_with_one_blas_thread():
    threads = run(APP_RUN)
    assert threads["after"], "numpy's BLAS is found (threadpoolctl knows the OpenBLAS numpy ships)"
    assert all(count == 1 for count in threads["after"]), threads
    if (os.cpu_count() or 1) > 1:
        assert max(threads["before"]) > 1, f"the library's default was more than one thread: {threads}"


def test_a_thread_count_the_environment_names_is_kept():
    threads = run(APP_RUN, OPENBLAS_NUM_THREADS="2")
    assert threads["before"] == threads["after"] and 2 in threads["after"], threads


def test_a_test_worker_keeps_its_blas_when_the_app_runs_in_it():
    """conftest.py keeps the workers' BLAS: the app's first run under AppTest must not change it under the
    tests the worker runs next (em_batch's "as if alone" depends on one BLAS for the whole process)."""
    from dashboard import blas_threads
    from tests.apptest_helpers import Dashboard

    before = blas_threads.threads()
    Dashboard("demo-2d", "em2d").step("em2d", 1)
    assert set(blas_threads.threads()) == set(before), "(SciPy's BLAS may load meanwhile: the counts, not the list)"


def test_keep_leaves_the_blas_to_a_process_that_asks():
    code = APP_RUN.replace("before = blas_threads.threads()", "blas_threads.keep()\nbefore = blas_threads.threads()")
    threads = run(code)
    assert threads["before"] == threads["after"], threads
