"""A plotly chart that a rerun updates in place: the matrix page's per-Step charts.

``st.plotly_chart`` puts the figure in its element's identity, so a Step that changes a figure mounts
its chart anew: plotly.js plots it from scratch, and a WebGL scatter opens new WebGL contexts. On the
matrix page (netflix, K = 12) that was most of a Step's time in the browser (~1 s of ~1.2 s in
chromium). :func:`show` instead mounts a small component once per key (``live_chart_frame/index.html``,
which speaks Streamlit's component protocol by hand) and sends it each new figure, which it draws with
``Plotly.react``: plotly.js redraws what changed and keeps its contexts.

The frame loads the plotly.js that ships with plotly.py (``plotly/package_data/plotly.min.js``):
Streamlit serves a component's files from one folder, with symlinks resolved inside it, so the page and
a copy of that file are put in a folder of the temporary directory, one per plotly version
(:func:`frame_folder`). The copy's name holds plotly.py's version: the frame takes plotly.js from the
browser's cache where it has it (Streamlit serves component files with no lifetime, so a plain
``<script src>`` fetched it anew for every frame, and the server gzipped 4.8 MB each time), and a
cached file of another version must never be taken for it. The frame tells Streamlit it is ready before
plotly.js has loaded: Streamlit reports a frame that has not within 60 s as a "timeout error".

Keep a live chart's place in the page steady from one rerun to the next (the matrix page puts its
warnings, which come and go, in containers that are always there; :func:`dashboard.fit_page.run` holds
the stepping block in one): an element that moves is mounted anew, and a frame the browser moves is
reloaded, after which Streamlit (1.67) no longer hears it, so it stays blank until its next figure
(``tests/test_live_chart.py`` fails on the page without those containers).

A frame scrolled out of view keeps the figures it is sent and draws the newest when it comes within
200 px of the view (an ``IntersectionObserver``; it takes the figure's height at once, so the page does
not move when it draws): a Step draws only the charts on screen.

Each frame's ``<body>`` counts the figures it was sent (``data-received``) and those it has drawn and
painted (``data-drawn``), and has ``data-deferred="1"`` while a figure waits for the view: browser tests
(``tests/browser_page.py``, which brings each waiting chart into view) and
``benchmarks/bench_step_browser.py`` wait until the counts agree.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit.components.v1 as components

from dashboard import plotly_spec

__all__ = ["COMPONENT", "FRAME_TITLE", "frame_folder", "payload", "plotly_script_name", "show"]

#: The frame's page, kept in the repository.
_PAGE = Path(__file__).with_name("live_chart_frame") / "index.html"
#: Where the page names plotly.js's file (:func:`plotly_script_name`).
_SCRIPT_PLACEHOLDER = b"__PLOTLY_SCRIPT__"
#: The component's registered name (``declare_component`` prefixes the module's name).
COMPONENT = "live_chart"
#: Height of a figure that names none (plotly.js's own default).
DEFAULT_HEIGHT = 450


def plotly_script_name() -> str:
    """The name plotly.js is served under: plotly.py's version in it, so that a browser that keeps the
    file (the frame takes it from the browser's cache) never draws with the plotly.js of another version."""
    return f"plotly-{plotly.__version__}.min.js"


def frame_folder(root: str | os.PathLike | None = None) -> Path:
    """The folder the component is served from: the frame's page (naming the script below) and plotly.js,
    made once per plotly version and page (a server restarted after an upgrade gets a new folder); a copy
    of plotly.js cut short is made again."""
    script_name = plotly_script_name()
    page = _PAGE.read_bytes().replace(_SCRIPT_PLACEHOLDER, script_name.encode())
    source = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
    tag = hashlib.sha256(page).hexdigest()[:12]
    folder = Path(root or tempfile.gettempdir()) / f"em-lab-live-chart-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "index.html").exists():
        _place(folder / "index.html", lambda path: path.write_bytes(page))
    script = folder / script_name
    if not script.exists() or script.stat().st_size != source.stat().st_size:
        _place(script, lambda path: shutil.copyfile(source, path))
    return folder


def _place(target: Path, write) -> None:
    """``write(path)`` to a temporary name beside ``target``, then rename: replicas starting together
    never serve half a file."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    write(partial)
    os.replace(partial, target)


_component = components.declare_component(COMPONENT, path=str(frame_folder()))
#: The ``title`` of each live chart's ``<iframe>`` (the component's full name): how a browser finds them.
FRAME_TITLE = _component.name


def payload(figure: go.Figure) -> tuple[str, int]:
    """The figure's JSON as the frame reads it, and its height in CSS px.

    A :class:`dashboard.plotly_spec.SpecFigure` goes as its spec, unvalidated (its arrays already typed
    arrays); any other figure as plotly.py writes it for plotly.js."""
    spec = figure.spec() if isinstance(figure, plotly_spec.SpecFigure) else figure.to_plotly_json()
    height = spec.get("layout", {}).get("height")
    return pio.json.to_json_plotly(spec), int(height) if height is not None else DEFAULT_HEIGHT


def show(figure: go.Figure, key: str) -> None:
    """Show ``figure`` in the live chart ``key``: mounted on the first call, updated in place after.

    The figure's own height is the frame's height. An unchanged figure is sent as before, but the
    frame skips it (same revision), so it is not drawn again."""
    spec, height = payload(figure)
    revision = hashlib.blake2b(spec.encode(), digest_size=8).hexdigest()
    _component(spec=spec, height=height, revision=revision, key=key, default=None)
