"""The server's heap: garbage collected every few seconds, not after every script run, and the imports
never walked.

Streamlit runs a full garbage collection after every script run by default (``runner.postScriptGC``),
so that what a session lets go of in reference cycles (a closed session's objects hold one another) is
freed soon. A full collection walks every object Python tracks, under the interpreter lock all sessions
share, and on a class's server that walk grows with the class: the imports' objects (numpy, scipy,
pandas, plotly, Streamlit and this app: about 140,000, 55 ms a walk here), then every session's. After
every run it took longer than the demo-2d page's own run; with 100 students on demo-2d it made a Step
wait 5 s (p95) even behind two replicas. So .streamlit/config.toml turns it off, and this module does
the collector's work instead:

- :func:`freeze_imports` moves what exists once the app's modules are imported into the collector's
  permanent generation (``gc.freeze``), once per server process: those objects live as long as the
  process, and no collection walks them again. Objects freed by their reference count are freed as
  before. What the first session had made when it ran is frozen with the imports: if that one session
  leaves cycles behind when it closes, they are never collected.
- It also starts one thread that runs a full collection every :data:`COLLECT_EVERY` seconds, so that a
  closed session's memory is back within that time whatever Python's own thresholds do, at the cost
  of one walk of the sessions' objects per period instead of one per click.
"""

from __future__ import annotations

import gc
import importlib
import pkgutil
import threading
import time

import plotly.graph_objects

import dashboard

#: Seconds between two full collections of the sessions' objects.
COLLECT_EVERY = 10.0

_lock = threading.Lock()
_frozen = False


def freeze_imports() -> None:
    """Import every module of the dashboard (the pages import them lazily, page by page), collect, freeze
    what is left and start the collector thread; once per process (later calls return at once)."""
    global _frozen
    if _frozen:
        return
    with _lock:
        if _frozen:
            return
        for module in pkgutil.iter_modules(dashboard.__path__, "dashboard."):
            importlib.import_module(module.name)
        plotly.graph_objects.Figure()  # plotly.py imports its validators when a figure is first made
        gc.collect()
        gc.freeze()
        threading.Thread(target=_collect_now_and_then, name="em-lab-gc", daemon=True).start()
        _frozen = True


def _collect_now_and_then() -> None:
    while True:
        time.sleep(COLLECT_EVERY)
        gc.collect()


def frozen() -> bool:
    """Whether :func:`freeze_imports` has run in this process (and so its collector thread runs)."""
    return _frozen
