"""The server's heap (dashboard/heap.py): the imports' objects out of every collection, and one thread
that collects what sessions let go of every few seconds (Streamlit's collection after every run is off).

A full collection after every run walked some 140,000 objects of numpy, scipy, pandas, plotly, Streamlit
and the app on every click (55 ms here; on the demo-2d page longer than the page's run), under the lock
every session shares: a class of 10 on demo-2d waited up to 2.5 s (p95) for a Step. That closed sessions'
memory still comes back is tests/test_concurrency.py's memory test.
"""

from __future__ import annotations

import gc
import inspect
import sys
import threading

from dashboard import heap
from tests.apptest_helpers import Dashboard


def test_the_apps_modules_are_out_of_every_collection_and_one_thread_collects():
    app = Dashboard("demo-2d", "em2d")
    app.step("em2d", 2)
    assert heap.frozen(), "the app froze the imports' objects on its first run"
    collectors = [t for t in threading.enumerate() if t.name == "em-lab-gc"]
    assert len(collectors) == 1 and collectors[0].is_alive() and collectors[0].daemon, "one collector thread"
    walked = {id(o) for o in gc.get_objects()}  # what a collection walks (the frozen generation is not in it)
    functions = [
        value
        for name, module in list(sys.modules.items())
        if name.startswith("dashboard.") or name == "plotly.graph_objs._scatter"
        for value in vars(module).values()
        if inspect.isfunction(value) or inspect.isclass(value)
    ]
    assert len(functions) > 300, "every page's modules are imported (the pages import them lazily)"
    walked_functions = [f.__qualname__ for f in functions if id(f) in walked]
    assert not walked_functions, f"imported before the freeze, yet walked by every collection: {walked_functions[:10]}"
    # a second call is a no-op: what sessions made since stays collectable
    frozen = gc.get_freeze_count()
    heap.freeze_imports()
    assert gc.get_freeze_count() == frozen
