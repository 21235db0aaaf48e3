"""How long the matrix page takes to open in a fresh browser, with EM Lab's plotly.js bundle against
plotly.py's full one, interleaved on one server.

A fresh page runs plotly.js in each live chart's frame (``dashboard/live_chart.py``) on the page's own
thread before its first chart draws, and Streamlit loads the code of the page's buttons meanwhile, so a
long plotly.js holds the whole page. This opens "EM for matrix completion" (``--dataset``, K = 12 on
netflix, else K = 3) ``--opens`` times per variant in a new browser context each time (nothing cached),
alternating which variant goes first: "bundle" as the server serves it (``live_chart_frame/
plotly-bundle.min.js``), "full" with plotly.py's ``plotly.min.js`` answered in its place (a Playwright
route). For each open it reports, in the page's clock from the start of navigation:

- ready: the page's elements drawn (no skeleton left where a widget's code was loading, the Step button
  there), every live chart's plotly.js loaded and every chart on screen drawn (a chart below the fold
  waits for the view): until then a click waits for the page's thread;
- the frames' long tasks: the sum of the main-thread tasks over 50 ms that Chromium attributes to the
  live charts' frames (plotly.js evaluated and the first figures drawn), and the longest of them.

Run from the repository root::

    EM_DATA_DIR=../shared/data/course python benchmarks/bench_page_open.py --opens 6
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from benchmarks.bench_step_browser import machine_line  # noqa: E402
from dashboard import live_chart  # noqa: E402
from em_core.data import available_datasets  # noqa: E402
from tests.browser_page import VIEWPORT  # noqa: E402
from tests.helpers import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.streamlit_server import StreamlitServer  # noqa: E402

#: Before the page loads: the long tasks of the top page, with the frame each is attributed to.
RECORD_LONG_TASKS = """
if (window === window.top) {
  window.__emLong = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const where = (entry.attribution || []).map((a) => a.containerSrc || "").join(" ");
      window.__emLong.push({start: entry.startTime, duration: entry.duration, where});
    }
  }).observe({type: "longtask", buffered: true});
}
"""

#: Resolves with performance.now() when the page is ready (see the module's docstring).
READY = """
(frameTitle) => new Promise((resolve) => {
  const ready = () => {
    const main = document.querySelector('[data-testid="stMain"]');
    if (!main || main.querySelector('[data-testid="stSkeleton"]')) return false;
    const step = Array.from(main.querySelectorAll("button")).some((b) => b.innerText.trim() === "Step");
    const frames = Array.from(document.querySelectorAll(`iframe[title="${frameTitle}"]`));
    const drawn = frames.every((frame) => {
      const body = frame.contentDocument && frame.contentDocument.body;
      if (!body) return false;
      const received = Number(body.dataset.received || 0);
      const drawn = body.dataset.deferred === "1" || Number(body.dataset.drawn) === received;
      return received > 0 && drawn && Boolean(body.dataset.plotly);  // plotly.js loaded, even below the fold
    });
    return step && frames.length > 0 && drawn;
  };
  const check = () => (ready() ? resolve(performance.now()) : setTimeout(check, 20));
  check();
})
"""


def open_once(browser, url: str, full_js: bytes | None) -> dict[str, float]:
    """Open ``url`` in a new context (``full_js`` answered for the bundle when given); the figures."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        if full_js is not None:
            context.route(
                f"**/{live_chart.SCRIPT.name}",
                lambda route: route.fulfill(status=200, body=full_js, content_type="application/javascript"),
            )
        context.add_init_script(RECORD_LONG_TASKS)
        page = context.new_page()
        page.goto(url)
        ready = page.evaluate(READY, live_chart.FRAME_TITLE)
        page.wait_for_timeout(500)  # the observer hears of a long task some time after it ended
        long_tasks = [task for task in page.evaluate("() => window.__emLong") if task["start"] < ready]
        frames = [task["duration"] for task in long_tasks if "/component/" in task["where"]]
        return {"ready": ready, "frames": sum(frames), "longest": max(frames, default=0.0)}
    finally:
        context.close()


def summary(label: str, runs: list[dict[str, float]]) -> str:
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    ready = ", ".join(f"{run['ready']:.0f}" for run in runs)
    return (
        f"  {label:6} ready median {median['ready']:.0f} ms ({ready}); frames' long tasks median "
        f"{median['frames']:.0f} ms, longest {median['longest']:.0f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--opens", type=int, default=6, help="opens per variant (default 6)")
    parser.add_argument("--dataset", default=None, help="data set (default: netflix where present, else demo-small)")
    args = parser.parse_args()
    if CHROMIUM is None:
        print("chromium not found (Debian's chromium package); nothing measured")
        return 1
    if live_chart.SCRIPT.traces is None:
        print(f"the server serves plotly.py's full bundle ({live_chart.SCRIPT.name}): nothing to compare")
        return 1
    dataset = args.dataset or ("netflix" if "netflix" in available_datasets() else "demo-small")
    k = 12 if dataset == "netflix" else 3
    full_js = live_chart.FULL_BUNDLE.read_bytes()
    print(machine_line())
    print(
        f"bundle: {live_chart.SCRIPT.name} ({live_chart.SCRIPT.source.stat().st_size / 1e6:.1f} MB) against "
        f"plotly.py's plotly.min.js ({len(full_js) / 1e6:.1f} MB)"
    )
    runs: dict[str, list[dict[str, float]]] = {"bundle": [], "full": []}
    # no file watcher: an edit in the tree during the run must not reload the app's modules mid-benchmark
    with StreamlitServer(extra_args=["--server.fileWatcherType", "none"]) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        url = f"{server.url}/em_matrix?dataset={dataset}&k={k}&seed=0"
        open_once(browser, url, None)  # the server's first run of the page (its caches) is nobody's
        for i in range(args.opens):
            order = ["bundle", "full"] if i % 2 == 0 else ["full", "bundle"]
            for variant in order:
                runs[variant].append(open_once(browser, url, full_js if variant == "full" else None))
        browser.close()
    print(f"{dataset}, K={k}, {args.opens} opens each in a new context, chromium, viewport {VIEWPORT}:")
    print(summary("bundle", runs["bundle"]))
    print(summary("full", runs["full"]))
    ratios = sorted(b["ready"] / f["ready"] for b, f in zip(runs["bundle"], runs["full"], strict=True))
    listed = ", ".join(f"{ratio:.2f}" for ratio in ratios)
    print(f"  ready, bundle / full, paired: median {statistics.median(ratios):.2f} ({listed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
