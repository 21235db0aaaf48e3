"""How long a Step click takes in a real browser, from the click until the new iteration is shown
and the page is idle again (Streamlit's script state "notRunning", no stale element).

Starts ``streamlit run app.py`` on 127.0.0.1 (``--port``, else a free one), opens "EM for matrix
completion" in Debian's chromium (Playwright) on the course's Netflix matrix with K = 12 (demo-large
when EM_DATA_DIR lacks it), presses Step ``--clicks`` times and reports:

- click to idle: the median and p90 over the clicks;
- the server's share: click until the websocket brings the run's ``script_finished`` message (the
  rest is the browser drawing what came);
- the bytes the server sent over the websocket per Step, split by element (a chart by its key; an
  element the browser already holds comes as a small reference, counted as "cached refs");
- the machine, its cores and its load average, since the figures mean little without them.

Beside ``bench_dashboard.py`` (AppTest: the server's time only). Run from the repository root::

    EM_DATA_DIR=../shared/data/course python benchmarks/bench_step_browser.py --clicks 10
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402

from em_core.data import available_datasets  # noqa: E402
from tests.browser_page import AppPage  # noqa: E402
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.streamlit_server import StreamlitServer  # noqa: E402


def element_label(message: ForwardMsg) -> str:
    """What a websocket message carries: ``"plotly_chart emx_pca"``, ``"markdown"``, ``"cached refs"``, ..."""
    kind = message.WhichOneof("type")
    if kind == "ref_hash":
        return "cached refs"
    if kind != "delta":
        return kind or "other"
    delta = message.delta
    if delta.WhichOneof("type") != "new_element":
        return delta.WhichOneof("type") or "delta"
    element = delta.new_element
    name = element.WhichOneof("type")
    key = getattr(getattr(element, name), "id", "") if name == "plotly_chart" else ""
    return f"{name} {key.rsplit('-', 1)[-1]}" if key else name


class Frames:
    """The websocket frames the browser received, with their time and what each carried."""

    def __init__(self) -> None:
        self.received: list[tuple[float, int, str]] = []  # (monotonic time, bytes, label)

    def on_frame(self, payload) -> None:
        data = payload if isinstance(payload, bytes) else payload.encode()
        try:
            label = element_label(ForwardMsg.FromString(data))
        except Exception:  # noqa: BLE001 - a frame that is no ForwardMsg is counted, not parsed
            label = "other"
        self.received.append((time.monotonic(), len(data), label))

    def since(self, index: int) -> list[tuple[float, int, str]]:
        return self.received[index:]


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process ``pid`` has used so far: a cost that load does not inflate."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile_90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]


def machine_line() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"machine: {platform.node()} ({platform.machine()}, {os.cpu_count()} cores), "
        f"python {platform.python_version()}, load average {load}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=10, help="Step clicks to time (default 10)")
    parser.add_argument("--port", type=int, default=0, help="port of 127.0.0.1 for the server (default: a free one)")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=0,
        help="BLAS threads of the server (OPENBLAS/OMP/MKL_NUM_THREADS; default: the library's own, one per core). "
        "A server of many sessions gains nothing from a Step's BLAS threads waiting on each other",
    )
    args = parser.parse_args()
    if args.blas_threads:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(args.blas_threads)  # StreamlitServer passes the environment on
    if CHROMIUM is None:
        print("chromium not found (Debian's chromium package); nothing measured")
        return 1
    dataset = "netflix" if "netflix" in available_datasets() else "demo-large"
    print(machine_line())
    frames = Frames()
    # no file watcher: an edit in the tree during the run must not reload the app's modules mid-benchmark
    server = StreamlitServer(extra_args=["--server.fileWatcherType", "none"])
    if args.port:
        server.port = args.port
    per_step: list[dict[str, int]] = []
    server_seconds: list[float] = []
    server_cpu: list[float] = []
    with server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        app = AppPage.new_context(browser, server.url, timeout_ms=120_000)
        app.page.on("websocket", lambda ws: ws.on("framereceived", frames.on_frame))
        app.goto(f"/em_matrix?dataset={dataset}&k=12&seed=0")
        app.wait_opened("EM for matrix completion")
        app.wait_charts()
        for _ in range(args.clicks):
            before = len(frames.received)
            cpu_before = cpu_seconds(server.pid)
            app.press("Step")
            app.wait_stepped()
            app.wait_charts()
            server_cpu.append(cpu_seconds(server.pid) - cpu_before)
            pressed_at = app._pressed[1]  # noqa: SLF001 - the page object's own click time
            sizes: dict[str, int] = defaultdict(int)
            finished = None
            for at, size, label in frames.since(before):
                sizes[label] += size
                if label == "script_finished" and finished is None:
                    finished = at
            per_step.append(dict(sizes))
            if finished is not None:
                server_seconds.append(finished - pressed_at)
        app.close()
        browser.close()
    seconds = app.step_seconds
    threads = args.blas_threads or "the library's default"
    print(f"{dataset}, K=12, {len(seconds)} Step clicks, chromium, BLAS threads: {threads}")
    print("click to new iteration and idle:")
    print(f"  median {statistics.median(seconds) * 1000:.0f} ms, p90 {percentile_90(seconds) * 1000:.0f} ms")
    if server_seconds:
        print(
            f"  of which the server, click to script_finished: median "
            f"{statistics.median(server_seconds) * 1000:.0f} ms, "
            f"p90 {percentile_90(server_seconds) * 1000:.0f} ms (the rest: the browser drawing)"
        )
    print(
        f"  server CPU time per Step (user + system, all its threads): median "
        f"{statistics.median(server_cpu) * 1000:.0f} ms, p90 {percentile_90(server_cpu) * 1000:.0f} ms"
    )
    totals = [sum(sizes.values()) for sizes in per_step]
    print(f"  websocket payload per Step: median {statistics.median(totals) / 1024:.1f} KiB")
    labels = sorted({label for sizes in per_step for label in sizes}, key=lambda x: -sum(s.get(x, 0) for s in per_step))
    for label in labels:
        median = statistics.median(sizes.get(label, 0) for sizes in per_step)
        print(f"    {label:32s} median {median / 1024:8.1f} KiB")
    print(machine_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
