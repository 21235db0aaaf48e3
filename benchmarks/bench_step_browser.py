"""How long a Step click takes in a real browser, from the click until the new iteration is shown
and the page is idle again (Streamlit's script state "notRunning", no stale element).

Starts ``streamlit run app.py`` on 127.0.0.1 (``--port``, else a free one), opens "EM for matrix
completion" in Debian's chromium (Playwright) on the course's Netflix matrix with K = 12 (demo-large
when EM_DATA_DIR lacks it; ``--page em_2d``: "EM on complete 2-D data" on demo-2d with K = 3),
presses Step ``--clicks`` times and reports:

- click to idle, timed inside the page: from the click event until the status line shows the new
  iteration, Streamlit's script state is "notRunning", no element is stale, and two animation frames
  have passed (the charts drawn and painted; a chart scrolled out of view draws when it comes into
  view, ``dashboard/live_chart_frame/index.html``, and is counted as left for then). A MutationObserver
  watches for that, so the page is not polled from outside while it works (Playwright's own polling,
  100 ms to 1 s apart, ran its locator scripts in the page's main thread and added its intervals to the
  figure: "as a test sees it");
- click until the page handles the run's last websocket message: an upper bound of the server's
  part, since a page busy drawing the charts that came first handles the later messages late (the
  server alone, without a browser: ``load_sessions.py --sessions 1``, or ``bench_dashboard.py``);
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

from dashboard import live_chart  # noqa: E402
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
    key = getattr(getattr(element, name), "id", "") if name in ("plotly_chart", "component_instance") else ""
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


#: Installed before the page loads: the arrival time of every websocket message, in the page's clock.
RECORD_MESSAGES = """
(() => {
  window.__emMessages = [];
  const Native = window.WebSocket;
  function Recorded(...args) {
    const ws = new Native(...args);
    ws.addEventListener("message", () => window.__emMessages.push(performance.now()));
    return ws;
  }
  Recorded.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Recorded[name] = Native[name];
  window.WebSocket = Recorded;
})();
"""

#: Armed just before a click: resolves with the click's time, the idle time and the messages between.
#: Idle is: the status line shows the wanted iteration, Streamlit's script state is "notRunning", no element
#: is stale, and every live chart (dashboard/live_chart.py) has drawn and painted the figure it was sent.
ARM = """
([wanted, frameTitle]) => {
  const live = () => Array.from(document.querySelectorAll(`iframe[title="${frameTitle}"]`));
  const count = (frame, name) => Number(frame.contentDocument?.body?.dataset[name] ?? -1);
  const deferred = (frame) => frame.contentDocument?.body?.dataset.deferred === "1";
  const before = new Map(live().map((frame) => [frame, count(frame, "received")]));
  window.__emStep = new Promise((resolve) => {
    let clicked = null;
    document.addEventListener("click", () => { if (clicked === null) clicked = performance.now(); },
                              { capture: true, once: true });
    const done = () => {
      if (clicked === null) return false;
      const app = document.querySelector('[data-testid="stApp"]');
      if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
      if (document.querySelector('[data-stale="true"]')) return false;
      const lines = document.querySelectorAll('[data-testid="stMain"] [data-testid="stMarkdownContainer"]');
      return Array.from(lines).some((line) => line.textContent.includes(wanted));
    };
    const finish = () => {
      // a live chart draws in its own frame after the page is idle: wait for every chart that was sent a
      // new figure to have drawn it (painted: the frame waits two frames before it counts it drawn), or,
      // scrolled out of view, to wait for the view (data-deferred); a chart whose figure did not change
      // gets nothing new, so one that got nothing 300 ms after idle is not waited on
      const idle = performance.now();
      let painted = false;  // the page's own change: two frames
      requestAnimationFrame(() => requestAnimationFrame(() => { painted = true; }));
      const check = () => {
        const now = performance.now();
        const waiting = live().filter((frame) => {
          const received = count(frame, "received");
          if (received !== count(frame, "drawn")) return !deferred(frame);
          return received <= (before.get(frame) ?? -1) && now - idle < 300;
        });
        if (waiting.length || !painted) { requestAnimationFrame(check); return; }
        const unchanged = live().filter((frame) => count(frame, "received") <= (before.get(frame) ?? -1)).length;
        resolve({
          clicked, idle: performance.now(), pageIdle: idle, unchanged, charts: live().length,
          deferred: live().filter(deferred).length,
          messages: window.__emMessages.filter((t) => t >= clicked),
        });
      };
      check();
    };
    const observer = new MutationObserver(() => {
      if (!done()) return;
      observer.disconnect();
      finish();
    });
    observer.observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });
}
"""


#: The pages ``--page`` can step: their path, title and K.
PAGES = {
    "matrix": ("em_matrix", "EM for matrix completion", 12),
    "em_2d": ("em_2d", "EM on complete 2-D data", 3),
}


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
        help="BLAS threads of the server (sets OPENBLAS/OMP/MKL_NUM_THREADS, which the app then keeps; default: the "
        "app's own choice, one thread, dashboard/blas_threads.py)",
    )
    parser.add_argument(
        "--page",
        choices=sorted(PAGES),
        default="matrix",
        help="the page to step: 'matrix' (netflix, K = 12; demo-large without the course files, the default) or "
        "'em_2d' (demo-2d, K = 3: the points chart and the LL curve; it converges after 21 Steps)",
    )
    args = parser.parse_args()
    if args.blas_threads:
        for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[variable] = str(args.blas_threads)  # StreamlitServer passes the environment on
    if CHROMIUM is None:
        print("chromium not found (Debian's chromium package); nothing measured")
        return 1
    path, title, K = PAGES[args.page]
    dataset = ("netflix" if "netflix" in available_datasets() else "demo-large") if args.page == "matrix" else "demo-2d"
    print(machine_line())
    frames = Frames()
    # no file watcher: an edit in the tree during the run must not reload the app's modules mid-benchmark
    server = StreamlitServer(extra_args=["--server.fileWatcherType", "none"])
    if args.port:
        server.port = args.port
    per_step: list[dict[str, int]] = []
    counts: list[dict[str, int]] = []  # messages of each kind per Step
    messages: list[int] = []  # websocket messages per Step (bench_streamlit_floor.py counts its own so)
    server_seconds: list[float] = []
    server_cpu: list[float] = []
    in_page: list[float] = []
    page_idle: list[float] = []  # until the page's script state said idle, before the live charts drew
    unchanged, deferred, live_charts = 0, 0, 0
    with server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        app = AppPage.new_context(browser, server.url, timeout_ms=120_000)
        app.page.on("websocket", lambda ws: ws.on("framereceived", frames.on_frame))
        app.page.add_init_script(RECORD_MESSAGES)
        app.goto(f"/{path}?dataset={dataset}&k={K}&seed=0")
        app.wait_opened(title)
        app.wait_charts()
        for _ in range(args.clicks):
            before = len(frames.received)
            cpu_before = cpu_seconds(server.pid)
            app.page.evaluate(ARM, [f"Iteration {app.status().iteration + 1} ·", live_chart.FRAME_TITLE])
            app.press("Step")
            timing = app.page.evaluate("() => window.__emStep")
            in_page.append((timing["idle"] - timing["clicked"]) / 1000)
            page_idle.append((timing["pageIdle"] - timing["clicked"]) / 1000)
            unchanged += timing["unchanged"]
            deferred += timing["deferred"]
            live_charts = timing["charts"]
            if timing["messages"]:
                server_seconds.append((max(timing["messages"]) - timing["clicked"]) / 1000)
            app.wait_stepped()  # as a test sees it (polling), and the checks that the step is right
            app.wait_charts()  # brings the charts out of view into it in turn to draw, then scrolls back
            server_cpu.append(cpu_seconds(server.pid) - cpu_before)
            sizes: dict[str, int] = defaultdict(int)
            count: dict[str, int] = defaultdict(int)
            messages.append(len(frames.since(before)))
            for _at, size, label in frames.since(before):
                sizes[label] += size
                count[label] += 1
            per_step.append(dict(sizes))
            counts.append(dict(count))
        app.close()
        browser.close()
    seconds = app.step_seconds
    threads = args.blas_threads or "the app's default (one)"
    print(f"{title}: {dataset}, K={K}, {len(seconds)} Step clicks, chromium, BLAS threads: {threads}")
    print("click to new iteration and idle, timed in the page (MutationObserver, then two frames):")
    print(f"  median {statistics.median(in_page) * 1000:.0f} ms, p90 {percentile_90(in_page) * 1000:.0f} ms")
    print(
        f"  of which until the page itself was idle (before its {live_charts} live charts drew): median "
        f"{statistics.median(page_idle) * 1000:.0f} ms; live charts sent no new figure: {unchanged}, "
        f"scrolled out of view and so left to draw when seen: {deferred}, in {len(in_page)} clicks"
    )
    if server_seconds:
        print(
            f"  click to the run's last websocket message handled by the page (the server's part, at most): median "
            f"{statistics.median(server_seconds) * 1000:.0f} ms, "
            f"p90 {percentile_90(server_seconds) * 1000:.0f} ms"
        )
    print(
        f"  as a test sees it (Playwright polling the page): median {statistics.median(seconds) * 1000:.0f} ms, "
        f"p90 {percentile_90(seconds) * 1000:.0f} ms"
    )
    print(
        f"  server CPU time per Step (user + system, all its threads): median "
        f"{statistics.median(server_cpu) * 1000:.0f} ms, p90 {percentile_90(server_cpu) * 1000:.0f} ms"
    )
    totals = [sum(sizes.values()) for sizes in per_step]
    print(
        f"  websocket payload per Step: median {statistics.median(totals) / 1024:.1f} KiB in "
        f"{statistics.median(messages):.0f} messages"
    )
    labels = sorted({label for sizes in per_step for label in sizes}, key=lambda x: -sum(s.get(x, 0) for s in per_step))
    for label in labels:
        median = statistics.median(sizes.get(label, 0) for sizes in per_step)
        number = statistics.median(count.get(label, 0) for count in counts)
        print(f"    {label:32s} median {median / 1024:8.1f} KiB in {number:g} messages")
    print(machine_line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
