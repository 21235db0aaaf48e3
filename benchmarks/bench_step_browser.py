"""How long a Step click takes in a real browser, from the click until the new iteration is shown
and the page is idle again (Streamlit's script state "notRunning", no stale element).

Starts ``streamlit run app.py`` on a free port of 127.0.0.1, opens "EM for matrix completion" in
Debian's chromium (Playwright) on the course's Netflix matrix with K = 12 (demo-large when
EM_DATA_DIR lacks it), presses Step ``--clicks`` times and reports the median and p90, and the
bytes the server sent over the websocket per Step. Beside ``bench_dashboard.py`` (AppTest: the
server's time only).

Run from the repository root::

    EM_DATA_DIR=../shared/data/course python benchmarks/bench_step_browser.py --clicks 10
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from em_core.data import available_datasets  # noqa: E402
from tests.browser_page import AppPage  # noqa: E402
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.streamlit_server import StreamlitServer  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clicks", type=int, default=10, help="Step clicks to time (default 10)")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("chromium not found (Debian's chromium package); nothing measured")
        return 1
    dataset = "netflix" if "netflix" in available_datasets() else "demo-large"
    with StreamlitServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        app = AppPage.new_context(browser, server.url, timeout_ms=120_000)
        received: list[int] = []
        app.page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: received.append(len(frame))))
        app.goto(f"/em_matrix?dataset={dataset}&k=12&seed=0")
        app.wait_opened("EM for matrix completion")
        app.wait_charts()
        per_step = []
        for _ in range(args.clicks):
            before = len(received)
            app.press("Step")
            app.wait_stepped()
            app.wait_charts()
            per_step.append(sum(received[before:]))
        app.close()
        browser.close()
    seconds = sorted(app.step_seconds)
    p90 = seconds[min(len(seconds) - 1, int(round(0.9 * (len(seconds) - 1))))]
    print(f"machine: {platform.node()} ({platform.machine()}), python {platform.python_version()}")
    print(f"{dataset}, K=12, {len(seconds)} Step clicks, chromium, click to new iteration and idle:")
    print(f"  median {statistics.median(seconds) * 1000:.0f} ms, p90 {p90 * 1000:.0f} ms")
    print(f"  websocket payload per Step: median {statistics.median(per_step) / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
