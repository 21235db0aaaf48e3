"""A plotly chart that a rerun updates in place: the per-Step charts of the matrix page and the 2-D pages.

``st.plotly_chart`` puts the figure in its element's identity, so a Step that changes a figure mounts
its chart anew: plotly.js plots it from scratch, and a WebGL scatter opens new WebGL contexts. On the
matrix page (netflix, K = 12) that was most of a Step's time in the browser (~1 s of ~1.2 s in
chromium). :func:`show` instead mounts a small component once per key (``live_chart_frame/index.html``,
which speaks Streamlit's component protocol by hand) and sends it each new figure, which it draws with
``Plotly.react``: plotly.js redraws what changed and keeps its contexts.

The frame loads a plotly.js built with only the traces a live chart may draw
(``live_chart_frame/plotly-bundle.min.js``, those of plotly.js's cartesian bundle and ``scattergl``,
made by ``live_chart_frame/bundle/build.mjs``; MIT licence beside it) when it is the version of the
plotly.js that ships with plotly.py, and plotly.py's full bundle otherwise (:func:`plotly_script`). A
fresh page runs plotly.js on its own thread before its first chart draws: the full bundle (4.8 MB) held
the page 2.0–2.4 s (chromium, this project's VM), and the page's buttons, whose code Streamlit loads
when a page first shows one, came after it; the built bundle (1.8 MB) takes 0.40–0.54 s. A figure with
a trace outside the bundle is refused (:func:`payload`).
Streamlit serves a component's files from one folder, with symlinks resolved inside it, so the page and
a copy of the bundle are put in a folder of the temporary directory, one per bundle and page
(:func:`frame_folder`). The copy's name holds plotly.js's version (and the bundle's digest): the frame
takes plotly.js from the browser's cache where it has it (Streamlit serves component files with no
lifetime, so a plain ``<script src>`` fetched it anew for every frame, and the server gzipped it each
time), and a cached file of another version or build must never be taken for it. The frame tells
Streamlit it is ready before plotly.js has loaded: Streamlit reports a frame that has not within 60 s as
a "timeout error".

Keep a live chart's place in the page steady from one rerun to the next (the matrix page puts its
warnings, which come and go, in containers that are always there; :func:`dashboard.fit_page.run` holds
the stepping block in one): an element that moves is mounted anew, and a frame the browser moves is
reloaded, after which Streamlit (1.67) no longer hears it, so it stays blank until its next figure
(``tests/test_live_chart.py`` fails on the page without those containers).

A frame scrolled out of view keeps the figures it is sent and draws the newest when it comes within
200 px of the view (an ``IntersectionObserver``; it takes the figure's height at once, so the page does
not move when it draws): a Step draws only the charts on screen.

A key pressed while the focus is in a frame (a click on a chart's title or axes puts it there) is passed
on to the page, whose keyboard shortcuts (S for Step, the arrows to scrub) would not hear it otherwise; the
frame makes its ``<iframe>`` a block box (an inline one left a line's descent, ~8 px, under each chart).

Each frame's ``<body>`` counts the figures it was sent (``data-received``) and those it has drawn and
painted (``data-drawn``), and has ``data-deferred="1"`` while a figure waits for the view: browser tests
(``tests/browser_page.py``, which brings each waiting chart into view) and
``benchmarks/bench_step_browser.py`` wait until the counts agree.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import NamedTuple

import plotly
import plotly.graph_objects as go
import plotly.io as pio
import streamlit.components.v1 as components

from dashboard import plotly_spec

__all__ = [
    "BUNDLE",
    "BUNDLE_TRACES",
    "COMPONENT",
    "FULL_BUNDLE",
    "FRAME_TITLE",
    "SCRIPT",
    "PlotlyScript",
    "frame_folder",
    "payload",
    "plotly_js_version",
    "plotly_script",
    "show",
]

#: The frame's page, kept in the repository.
_PAGE = Path(__file__).with_name("live_chart_frame") / "index.html"
#: plotly.js with the traces below, kept in the repository (``live_chart_frame/bundle/README.md``).
BUNDLE = _PAGE.with_name("plotly-bundle.min.js")
#: The trace types :data:`BUNDLE` draws (``bundle/entry.js``; ``tests/test_live_chart.py`` reads them from
#: the built file).
BUNDLE_TRACES = frozenset(
    {
        "bar",
        "box",
        "contour",
        "heatmap",
        "histogram",
        "histogram2d",
        "histogram2dcontour",
        "image",
        "pie",
        "scatter",
        "scattergl",
        "scatterternary",
        "violin",
    }
)
#: Where the page names plotly.js's file (:func:`plotly_script`).
_SCRIPT_PLACEHOLDER = b"__PLOTLY_SCRIPT__"
#: The component's registered name (``declare_component`` prefixes the module's name).
COMPONENT = "live_chart"
#: Height of a figure that names none (plotly.js's own default).
DEFAULT_HEIGHT = 450
#: plotly.py's own plotly.js, every trace type in it (the frames' fallback).
FULL_BUNDLE = Path(plotly.__file__).with_name("package_data") / "plotly.min.js"
#: The version in a plotly.js bundle's first comment ("plotly.js v4.1.1", "plotly.js (cartesian - minified) v4.1.1").
_VERSION = re.compile(rb"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+\S*)")


class PlotlyScript(NamedTuple):
    """The plotly.js the frame loads: the file, the name it is served under, the trace types it draws."""

    source: Path
    name: str
    traces: frozenset[str] | None  # None: every trace type


def plotly_js_version(bundle: Path) -> str | None:
    """The plotly.js version a bundle names in its first comment; None when it names none."""
    with open(bundle, "rb") as file:
        found = _VERSION.search(file.read(512))
    return found.group(1).decode() if found else None


def plotly_script(full: Path = FULL_BUNDLE, bundle: Path = BUNDLE) -> PlotlyScript:
    """:data:`BUNDLE` when it is the version of ``full`` (plotly.py's own plotly.min.js by default), else
    ``full``: the figures plotly.py writes are for its own plotly.js.

    The name holds the version (plotly.py's where the file names none), and the bundle's a digest of its
    bytes too (rebuilt with more traces, it keeps its version): a browser keeps the file, and must never
    draw with an older one."""
    version = plotly_js_version(full)
    if version is not None and version == plotly_js_version(bundle):
        digest = hashlib.blake2b(bundle.read_bytes(), digest_size=4).hexdigest()
        return PlotlyScript(bundle, f"plotly-bundle-{version}-{digest}.min.js", BUNDLE_TRACES)
    return PlotlyScript(full, f"plotly-{version or plotly.__version__}.min.js", None)


def frame_folder(root: str | os.PathLike | None = None, script: PlotlyScript | None = None) -> Path:
    """The folder the component is served from: the frame's page (naming the script) and the script
    (:func:`plotly_script` by default), made once per script and page (a server restarted after an
    upgrade gets a new folder); a copy of the script cut short is made again."""
    script = script or plotly_script()
    page = _PAGE.read_bytes().replace(_SCRIPT_PLACEHOLDER, script.name.encode())
    tag = hashlib.sha256(page).hexdigest()[:12]
    folder = Path(root or tempfile.gettempdir()) / f"em-lab-live-chart-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "index.html").exists():
        _place(folder / "index.html", lambda path: path.write_bytes(page))
    copy = folder / script.name
    if not copy.exists() or copy.stat().st_size != script.source.stat().st_size:
        _place(copy, lambda path: shutil.copyfile(script.source, path))
    return folder


def _place(target: Path, write) -> None:
    """``write(path)`` to a temporary name beside ``target``, then rename: replicas starting together
    never serve half a file."""
    partial = target.with_name(f".{target.name}.{os.getpid()}")
    write(partial)
    os.replace(partial, target)


#: The plotly.js this server's frames load.
SCRIPT = plotly_script()
_component = components.declare_component(COMPONENT, path=str(frame_folder(script=SCRIPT)))
#: The ``title`` of each live chart's ``<iframe>`` (the component's full name): how a browser finds them.
FRAME_TITLE = _component.name


def payload(figure: go.Figure) -> tuple[str, int]:
    """The figure's JSON as the frame reads it, and its height in CSS px.

    A :class:`dashboard.plotly_spec.SpecFigure` goes as its spec, unvalidated (its arrays already typed
    arrays); any other figure as plotly.py writes it for plotly.js. A trace the frame's plotly.js cannot
    draw (:data:`SCRIPT`) is a ValueError: it would be left out of the chart without a word."""
    spec = figure.spec() if isinstance(figure, plotly_spec.SpecFigure) else figure.to_plotly_json()
    if SCRIPT.traces is not None:
        missing = {trace.get("type", "scatter") for trace in spec.get("data", ())} - SCRIPT.traces
        if missing:
            raise ValueError(
                f"a live chart draws with {SCRIPT.name}, which has no {', '.join(sorted(missing))} trace: "
                "draw this figure with st.plotly_chart"
            )
    height = spec.get("layout", {}).get("height")
    return pio.json.to_json_plotly(spec), int(height) if height is not None else DEFAULT_HEIGHT


def show(figure: go.Figure, key: str) -> None:
    """Show ``figure`` in the live chart ``key``: mounted on the first call, updated in place after.

    The figure's own height is the frame's height. An unchanged figure is sent as before, but the
    frame skips it (same revision), so it is not drawn again."""
    spec, height = payload(figure)
    revision = hashlib.blake2b(spec.encode(), digest_size=8).hexdigest()
    _component(spec=spec, height=height, revision=revision, key=key, default=None)
