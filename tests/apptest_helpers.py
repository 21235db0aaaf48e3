"""Drive the dashboard through Streamlit's AppTest: open a page, pick a data set, press buttons, read what shows.

Used by ``tests/test_app.py`` and ``tests/test_app_extras.py``. Every :meth:`Dashboard.run` fails the test
when the app raised, so each test also proves that the steps it takes show no traceback.
"""

from __future__ import annotations

import base64
import contextlib
import json
from typing import NamedTuple

import numpy as np
from streamlit import config
from streamlit.runtime.state.common import TESTING_KEY
from streamlit.testing.v1 import AppTest

from dashboard.live_chart import FRAME_TITLE
from em_core.data import available_datasets
from tests.helpers import REPO, STATUS_START, Status, parse_status

__all__ = ["PAGES", "STEPPERS", "Dashboard", "Status", "decode_plotly"]

APP = REPO / "app.py"
#: Seconds one script run may take (loading netflix into a fresh process is the slowest).
TIMEOUT = 60

#: Short page name -> the page file st.navigation knows.
PAGES = {
    "data": "app_pages/data.py",
    "kmeans": "app_pages/kmeans_2d.py",
    "em2d": "app_pages/em_2d.py",
    "matrix": "app_pages/em_matrix.py",
    "completion": "app_pages/completion.py",
    "model_selection": "app_pages/model_selection.py",
    "check_numbers": "app_pages/check_numbers.py",
    "side_by_side": "app_pages/side_by_side.py",
    "your_points": "app_pages/your_points.py",
    "recommendations": "app_pages/recommendations.py",
    "real_data": "app_pages/real_data.py",
    "lesson": "app_pages/lesson.py",
}


class Stepper(NamedTuple):
    """A page with stepping controls."""

    prefix: str  # of its widget keys: f"{prefix}_step", f"{prefix}_view", ...
    slot: str  # its fit in st.session_state["fits"]
    algorithm: str  # em_core.experiment name
    half_labels: tuple[str, str]  # the E-step and M-step buttons


STEPPERS = {
    "kmeans": Stepper("km", "kmeans", "kmeans", ("Assign", "Update")),
    "em2d": Stepper("em2d", "em2d", "naive-em", ("E-step", "M-step")),
    "matrix": Stepper("emx", "matrix", "em", ("E-step", "M-step")),
}


def decode_plotly(value):
    """Plotly 6+ sends numpy arrays as ``{"dtype", "bdata", "shape"}``; give them back as arrays."""
    if isinstance(value, dict):
        if "bdata" in value and "dtype" in value:
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            shape = value.get("shape")
            if shape is not None:
                dims = [int(n) for n in str(shape).split(",")] if isinstance(shape, str) else list(shape)
                array = array.reshape(dims)
            return array
        return {key: decode_plotly(item) for key, item in value.items()}
    if isinstance(value, list):
        return [decode_plotly(item) for item in value]
    return value


def _pin_dataset_labels(at: AppTest) -> None:
    """Give AppTest the data-set labels the page last showed.

    Before each run AppTest turns every widget's value into what a browser would send; for a
    selectbox that is the *label* of the chosen option, which it gets by calling the widget's
    ``format_func`` in the test, outside any script run. The sidebar's ``format_func``
    (``session.dataset_label``) reads ``st.session_state["uploaded"]`` to label the upload,
    and outside a script run that reads as empty: AppTest computes ``"upload: ?"``, which is
    not among the options, and fails before the app runs. A browser sends the label it shows,
    so this maps each option to the label the last run rendered, as a browser would.
    """
    boxes = [box for box in at.selectbox if box.key == "dataset"]
    if not boxes:
        return
    box = boxes[0]
    keys = available_datasets()
    if len(box.options) == len(keys) + 1:
        keys.append("upload")
    labels = dict(zip(keys, box.options, strict=True))
    at.session_state[TESTING_KEY][box.id] = lambda key: labels.get(key, str(key))


@contextlib.contextmanager
def _full_error_details():
    """The app's .streamlit/config.toml redacts exceptions (showErrorDetails = "none"); a failing test shows them."""
    before = config.get_option("client.showErrorDetails")
    config.set_option("client.showErrorDetails", "full")
    try:
        yield
    finally:
        config.set_option("client.showErrorDetails", before)


class Dashboard:
    """One browser session of EM Lab.

    ``Dashboard("demo-small", page="matrix", em_seed=1)`` opens the app, picks the data set,
    sets the sidebar's number inputs and switches to the page, in that order.
    ``Dashboard(link={"dataset": "test", "k": "4"})`` opens it from a link with those query parameters;
    ``Dashboard(page="em2d", link={"dataset": "demo-2d", "it": "3"})`` opens that page's own link, as a
    browser opens a shared URL (the page runs first, so the link's ``it`` is replayed there).
    """

    def __init__(
        self, dataset: str | None = None, page: str | None = None, *, link: dict[str, str] | None = None, **numbers
    ):
        self.at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
        for key, value in (link or {}).items():
            self.at.query_params[key] = value
        if link is not None and page is not None:
            self.at.switch_page(PAGES[page])
            page = None
        self.run()
        if dataset is not None:
            self.choose(dataset)
        for key, value in numbers.items():
            self.set_number(key, value)
        if page is not None:
            self.open(page)

    # ------------------------------------------------------------ actions

    def run(self) -> Dashboard:
        _pin_dataset_labels(self.at)
        with _full_error_details():
            self.at.run()
        if self.at.exception:
            details = "\n\n".join(f"{e.message}\n" + "\n".join(e.stack_trace) for e in self.at.exception)
            raise AssertionError(f"the app raised an exception:\n{details}")
        return self

    def open(self, page: str) -> Dashboard:
        self.at.switch_page(PAGES[page])
        return self.run()

    def choose(self, dataset: str) -> Dashboard:
        self.at.selectbox(key="dataset").set_value(dataset)
        return self.run()

    def set_number(self, key: str, value) -> Dashboard:
        self.at.number_input(key=key).set_value(value)
        return self.run()

    def set_toggle(self, key: str, value: bool) -> Dashboard:
        self.at.toggle(key=key).set_value(value)
        return self.run()

    def click(self, key: str) -> Dashboard:
        self.at.button(key=key).click()
        return self.run()

    def step(self, prefix: str, times: int) -> int:
        """Press Step up to ``times`` times, stopping when the button is disabled (converged)."""
        done = 0
        while done < times and not self.button(f"{prefix}_step").disabled:
            self.click(f"{prefix}_step")
            done += 1
        return done

    def scrub(self, prefix: str, iteration: int) -> Dashboard:
        self.at.slider(key=f"{prefix}_view").set_value(iteration)
        return self.run()

    def upload(
        self,
        name: str,
        content: bytes,
        gold_name: str | None = None,
        gold: bytes | None = None,
        kind: str | None = None,
    ) -> Dashboard:
        """Put files in the sidebar's uploaders (and choose what they hold), then rerun."""
        if kind is not None:
            self.at.radio(key="upload_kind").set_value(kind)
        self.at.file_uploader(key="upload_matrix").set_value((name, content, "text/plain"))
        if gold is not None:
            self.at.file_uploader(key="upload_gold").set_value((gold_name, gold, "text/plain"))
        return self.run()

    # ------------------------------------------------------------ what shows

    @property
    def dataset(self) -> str:
        return self.at.session_state["dataset"]

    def fit(self, slot: str):
        """The FitSlot of a page (``.state`` is the em_core FitState)."""
        return self.at.session_state["fits"][slot]

    def button(self, key: str):
        return self.at.button(key=key)

    def widget_keys(self) -> set[str]:
        """The keys of the buttons, sliders, inputs and toggles on the page (sidebar included)."""
        at = self.at
        widgets = [*at.button, *at.slider, *at.number_input, *at.toggle, *at.selectbox, *at.radio]
        return {w.key for w in widgets if w.key}

    @property
    def errors(self) -> list[str]:
        return [e.value for e in self.at.error]

    @property
    def infos(self) -> list[str]:
        return [i.value for i in self.at.info]

    @property
    def captions(self) -> list[str]:
        return [c.value for c in self.at.caption]

    @property
    def titles(self) -> list[str]:
        return [t.value for t in self.at.title]

    def metrics(self) -> dict[str, str]:
        return {m.label: m.value for m in self.at.metric}

    def status(self) -> Status:
        """The status line of a stepping page."""
        lines = [m.value for m in self.at.markdown if STATUS_START.match(m.value)]
        if len(lines) != 1:
            raise AssertionError(f"expected one status line, found {lines!r}")
        return parse_status(lines[0])

    def places(self) -> dict[str, tuple[int, ...]]:
        """Where the status line (``"status"``) and each live chart (by its key) sit in the page's tree: the
        child index at each level from the main column.

        Streamlit matches an element across reruns by its place: a status line that moves leaves its old
        copy on screen, stale, until the run ends; a live chart that moves is mounted anew (a new frame
        loads plotly.js and draws from nothing) instead of being redrawn in place.
        """

        def walk(node, place):
            for index, child in getattr(node, "children", {}).items():
                here = (*place, index)
                if child.type == "markdown" and STATUS_START.match(child.value):
                    yield "status", here
                elif child.type == "component_instance" and child.proto.component_name == FRAME_TITLE:
                    yield child.key, here
                yield from walk(child, here)

        found: dict[str, tuple[int, ...]] = {}
        for name, place in walk(self.at.main, ()):
            if name in found:
                raise AssertionError(f"two of {name!r} on the page: at {found[name]} and {place}")
            found[name] = place
        return found

    def status_place(self) -> tuple[int, ...]:
        """Where the status line sits (:meth:`places`)."""
        return self.places()["status"]

    def chart_keys(self) -> set[str]:
        """The keys of the page's plotly charts: ``st.plotly_chart``'s and live charts (:mod:`dashboard.live_chart`)."""
        return {chart.key for chart in self.at.get("plotly_chart")} | {
            chart.key for chart in self.at.get("component_instance") if chart.proto.component_name == FRAME_TITLE
        }

    def chart_spec(self, key: str) -> str:
        """The JSON the browser gets for the chart ``key``: an ``st.plotly_chart``'s spec, or the figure a
        live chart (:mod:`dashboard.live_chart`) was sent."""
        specs = [chart.proto.spec for chart in self.at.get("plotly_chart") if chart.key == key]
        specs += [
            json.loads(chart.proto.json_args)["spec"]
            for chart in self.at.get("component_instance")
            if chart.proto.component_name == FRAME_TITLE and chart.key == key
        ]
        if len(specs) != 1:
            raise AssertionError(f"expected one chart {key!r}, found {len(specs)}")
        return specs[0]

    def figure(self, key: str) -> dict:
        """The plotly figure with this key, as the JSON dict the browser gets (arrays decoded)."""
        return decode_plotly(json.loads(self.chart_spec(key)))
