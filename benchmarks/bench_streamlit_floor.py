"""What Streamlit itself costs for a Step on this machine: a click that reruns a fragment of N elements
and computes nothing, timed in chromium as ``bench_step_browser.py`` times the matrix page's Step.

``floor_app.py`` is the matrix page's stepping block without its work (six buttons, a status line, and N
captions that change on every Step). For each ``--elements`` count it starts ``streamlit run
benchmarks/floor_app.py``, presses Step ``--clicks`` times and reports the median click to idle (the
status line shows the new iteration, Streamlit's script state is "notRunning", no element is stale, two
frames painted; ``bench_step_browser.ARM``) and the websocket messages per Step. Set beside
``bench_step_browser.py`` (which prints the matrix page's messages per Step too), it says how much of the
matrix page's Step is Streamlit's rerun of its elements, before em_core, the figures and plotly.js.

Run from the repository root::

    python benchmarks/bench_streamlit_floor.py --elements 0 25 50 --clicks 12
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.bench_step_browser import ARM, RECORD_MESSAGES, Frames, machine_line, percentile_90  # noqa: E402
from tests.browser_page import AppPage  # noqa: E402
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.streamlit_server import StreamlitServer  # noqa: E402


def floor(elements: int, clicks: int, browser) -> tuple[list[float], list[int]]:
    """Click to idle (s) and websocket messages of each Step on the floor app with ``elements`` captions."""
    os.environ["EM_FLOOR_ELEMENTS"] = str(elements)  # StreamlitServer passes the environment on
    server = StreamlitServer(script="benchmarks/floor_app.py", extra_args=["--server.fileWatcherType", "none"])
    seconds, messages = [], []
    frames = Frames()
    with server:
        app = AppPage.new_context(browser, server.url)
        app.page.on("websocket", lambda ws: ws.on("framereceived", frames.on_frame))
        app.page.add_init_script(RECORD_MESSAGES)  # ARM reads the page's own record of them
        app.goto("/")
        app.wait_opened("Streamlit's floor", status=False)
        for iteration in range(1, clicks + 1):
            before = len(frames.received)
            app.page.evaluate(ARM, [f"Iteration {iteration} ·", "none"])
            app.button("Step").click()
            timing = app.page.evaluate("() => window.__emStep")
            seconds.append((timing["idle"] - timing["clicked"]) / 1000)
            app.wait_idle()
            messages.append(len(frames.since(before)))
        app.close()
    return seconds, messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--elements", type=int, nargs="+", default=[0, 25, 50], help="captions per run")
    parser.add_argument("--clicks", type=int, default=12, help="Step clicks per count (default 12, 2 of them warm-up)")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("chromium not found (Debian's chromium package); nothing measured")
        return 1
    print(machine_line())
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for elements in args.elements:
            seconds, messages = floor(elements, args.clicks, browser)
            kept = seconds[2:] or seconds  # the first clicks load the widgets' code
            print(
                f"{elements:4d} captions: click to idle median {statistics.median(kept) * 1000:.0f} ms, "
                f"p90 {percentile_90(kept) * 1000:.0f} ms; {statistics.median(messages):.0f} websocket messages "
                f"per Step ({len(kept)} clicks)"
            )
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
