"""How fast the dashboard answers a Step click, and how large its matrix figures are.

Drives the real app with Streamlit's AppTest (no browser): opens "EM for matrix
completion" on the 1200 x 1200 matrix with K = 12 (the course's Netflix data when
EM_DATA_DIR has it, else the built-in demo-large), clicks Step, and times each click's
script run. AppTest adds its own polling to every run, so these are upper bounds of the
server's time. Also reports the JSON payload of each matrix figure on the completion page.

Run from the repository root::

    python benchmarks/bench_dashboard.py
    EM_DATA_DIR=../shared/data/course python benchmarks/bench_dashboard.py --clicks 20
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamlit.testing.v1 import AppTest  # noqa: E402

from em_core.data import available_datasets  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=15, help="Step clicks to time (default 15)")
    args = parser.parse_args()
    logging.getLogger("streamlit").setLevel(logging.ERROR)

    dataset = "netflix" if "netflix" in available_datasets() else "demo-large"
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["dataset"] = dataset
    at.query_params["k"] = "12"
    at.switch_page("app_pages/em_matrix.py")
    at.run()
    if at.exception:
        print(at.exception[0].value, file=sys.stderr)
        return 1
    at.button(key="emx_step").click().run()  # warm the caches of the first completion

    seconds, cpu = [], []
    for _ in range(args.clicks):
        start, start_cpu = time.perf_counter(), time.process_time()
        at.button(key="emx_step").click().run()
        seconds.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
        if at.session_state["fits"]["matrix"].state.converged:
            at.button(key="emx_reset").click().run()
    ms = sorted(s * 1000 for s in seconds)
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"machine: {platform.node()} ({os.cpu_count()} cores), load average {load}")
    print(f"data set: {dataset} (1200 x 1200, K = 12)")
    print(
        f"Step click, whole script run under AppTest: median {statistics.median(ms):.0f} ms, "
        f"p90 {ms[int(0.9 * (len(ms) - 1))]:.0f} ms, max {ms[-1]:.0f} ms over {len(ms)} clicks"
    )
    print(f"  CPU time per Step (this process, all threads): median {statistics.median(cpu) * 1000:.0f} ms")
    # the matrix page's charts are live charts (dashboard/live_chart.py): components whose arguments carry the spec
    charts = {chart.key: len(chart.proto.json_args) for chart in at.get("component_instance")}
    charts.update({chart.key: len(chart.proto.spec) for chart in at.get("plotly_chart")})
    print(f"  the charts a Step sends: {sum(charts.values()) / 1024:.0f} KiB in all")
    for key, size in charts.items():
        print(f"    {key:12s} {size / 1024:6.1f} KiB")

    at.switch_page("app_pages/completion.py")
    start = time.perf_counter()
    at.run()
    first = time.perf_counter() - start
    start = time.perf_counter()
    at.run()
    again = time.perf_counter() - start
    print(f"completion page: first render {first * 1000:.0f} ms, again (cached figures) {again * 1000:.0f} ms")
    for chart in at.get("plotly_chart"):
        size = len(chart.proto.spec.encode()) if hasattr(chart.proto, "spec") else len(chart.proto.figure.spec)
        print(f"  figure payload {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
