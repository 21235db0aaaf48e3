"""dashboard.plotly_spec: typed arrays decode to the values, a SpecFigure is sent as its spec without
plotly's validation yet stays a full figure, and every per-Step builder writes the spec plotly's own
validation would (so skipping it changes nothing the browser gets)."""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import plotly.basedatatypes
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.tools import return_figure_from_figure_or_data

from dashboard import curve_figures, matrix_figures, mixture_figures, presentation
from dashboard.byte_cache import nbytes
from dashboard.figure_style import TEMPLATE
from dashboard.plotly_spec import SpecFigure, chart_height, decoded, template, trace, typed
from em_core.experiment import algorithm_for
from em_core.mixture import GaussianMixture
from tests.apptest_helpers import Dashboard, decode_plotly
from tests.figure_checks import serialise, toy_mixture


@pytest.mark.parametrize(
    "values, dtype, sent",
    [
        (np.linspace(-2.5, 7.25, 12).reshape(3, 4), None, "f8"),
        (np.array([1.5, np.nan, -0.25]), "float32", "f4"),  # NaN stays NaN: plotly.js draws a gap
        (np.array([3, -100, 127]), None, "i1"),  # int64 narrowed as plotly.py narrows it
        (np.array([300, -2]), None, "i2"),
        (np.array([2**31 - 1, 0]), None, "i4"),
        (np.array([250], dtype=np.uint64), None, "u1"),
        (np.arange(6, dtype=np.int32).reshape(2, 3), None, "i4"),
    ],
)
def test_typed_arrays_decode_to_their_values(values, dtype, sent):
    spec = typed(values, dtype)
    assert spec["dtype"] == sent
    assert ("shape" in spec) == (np.ndim(values) == 2)
    back = decoded(json.loads(json.dumps(spec)))  # as the browser gets it
    np.testing.assert_array_equal(back, np.asarray(values).astype(back.dtype))
    np.testing.assert_array_equal(back.astype(float), np.asarray(values, dtype=float))


def test_typed_refuses_what_plotly_js_cannot_read():
    with pytest.raises(ValueError, match=r"integers from 0 to 4294967296 do not fit 32 bits"):
        typed(np.array([0, 2**32]))
    with pytest.raises(ValueError, match=r"1-D or 2-D values only, got shape \(2, 2, 2\)"):
        typed(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match=r"no typed array of complex128"):
        typed(np.zeros(2, dtype=complex))


def _figure() -> SpecFigure:
    z = np.arange(6, dtype=float).reshape(2, 3)
    return SpecFigure(
        [trace("heatmap", z=z, text=None, name="means"), trace("scatter", x=np.array([1, 2]), y=[None, 1.5])],
        dict(template=TEMPLATE, height=300, legend=dict(bgcolor="white"), xaxis=dict(range=np.array([0.5, 3.5]))),
    )


def test_a_spec_figure_is_sent_as_its_spec_without_validation(monkeypatch):
    fig = _figure()
    built = Counter()
    original = plotly.basedatatypes.BaseFigure.__init__
    monkeypatch.setattr(
        plotly.basedatatypes.BaseFigure,
        "__init__",
        lambda self, *args, **kwargs: (built.update(["figure"]), original(self, *args, **kwargs))[1],
    )
    # what st.plotly_chart does with a figure
    sent = pio.to_json(return_figure_from_figure_or_data(fig, validate_figure=True), validate=False)
    assert fig.pending and built == Counter()
    spec = json.loads(sent)
    assert spec["data"][0]["z"] == typed(np.arange(6, dtype=float).reshape(2, 3))  # numpy arrays go typed
    assert "text" not in spec["data"][0]  # a property given as None is left out, as plotly does
    assert spec["layout"]["xaxis"]["range"] == [0.5, 3.5]  # a range stays a list, as plotly writes it
    assert spec["layout"]["template"] == template(TEMPLATE)  # the full template: plotly.js knows no names
    assert nbytes(fig) >= len(sent) / 2
    assert chart_height(fig) == 300 and fig.pending  # what st.plotly_chart is given instead of reading the layout
    assert chart_height(go.Figure(layout=dict(height=250))) == 250 and chart_height(go.Figure()) is None


def test_update_layout_merges_into_the_spec_and_never_into_a_shared_one():
    fig, other = _figure(), _figure()
    shared = other.to_dict()["layout"]
    fig.update_layout(height=420, legend=dict(x=1.02))
    assert fig.pending
    assert fig.to_dict()["layout"]["height"] == 420
    assert fig.to_dict()["layout"]["legend"] == dict(bgcolor="white", x=1.02)
    assert shared["height"] == 300 and shared["legend"] == dict(bgcolor="white")
    fig.update_layout(title_text="magic underscores")  # not a plain merge: the figure is validated first
    assert not fig.pending and fig.layout.title.text == "magic underscores" and fig.layout.height == 420


def test_looking_inside_a_spec_figure_gives_the_validated_figure_with_arrays_decoded():
    fig = _figure()
    assert isinstance(fig, go.Figure)
    heatmap = fig.data[0]  # materialises
    assert not fig.pending and isinstance(heatmap, go.Heatmap)
    np.testing.assert_array_equal(heatmap.z, np.arange(6, dtype=float).reshape(2, 3))
    fig.update_xaxes(title_text="item")
    fig.add_trace(go.Bar(x=[1], y=[2]))
    spec = fig.to_dict()
    assert spec["layout"]["xaxis"]["title"]["text"] == "item" and len(spec["data"]) == 3
    assert fig.layout.template == pio.templates[TEMPLATE]


def _step_figures() -> dict[str, go.Figure]:
    """Every builder of a Step's charts (the matrix page's and the 2-D pages'), on the paths that differ."""
    rng = np.random.RandomState(0)
    mu = rng.uniform(1, 5, (12, 200))
    no_data = rng.rand(12, 200) < 0.2
    rule = algorithm_for("em", 0.25).converged
    ll = -5e4 + np.cumsum(np.r_[0.0, np.logspace(3, -4, 12)])
    ll[4] = ll[3] - 2.0  # a fall: drawn at the floor
    X, post, mixture = toy_mixture()
    previous = GaussianMixture(mixture.mu + 0.4, mixture.var * 1.3, mixture.p)
    users = rng.normal(size=(1500, 2))  # over 1,000 points: WebGL
    return {
        "means": matrix_figures.means_heatmap(mu, title="t", no_data=no_data, flags={1: "collapsed on user 3"}),
        "means of chosen items": matrix_figures.means_heatmap(mu, columns=np.array([5, 0, 9])),
        "huge means": matrix_figures.means_heatmap(np.array([[1e150, 2.0], [np.inf, 3.0]])),
        "LL curve": curve_figures.score_curve(ll, rule=rule, current=6),
        "LL after one E-step": curve_figures.score_curve(ll[:1], rule=rule, current=1),
        "cost curve": curve_figures.score_curve(ll[:5], "cost", current=3),
        "posterior": curve_figures.posterior_bars(post[0], prior=mixture.p, title="p(j | user 1)"),
        "2-D fit after an M-step": mixture_figures.points_figure(X, post, mixture, previous=previous),
        "2-D fit after an E-step": mixture_figures.points_figure(X, post, mixture, changed=np.array([0, 4])),
        "K-means": mixture_figures.points_figure(X, post, mixture, circles=False, show_weights=False),
        "users": mixture_figures.mixture_scatter(
            users, rng.dirichlet(np.ones(3), 1500), mixture.mu, np.sqrt(mixture.var), mixture.p, circles=False
        ),
    }


@pytest.mark.parametrize("name", list(_step_figures()))
def test_each_step_builder_writes_the_spec_plotly_validation_would(name):
    fig = _step_figures()[name]
    assert isinstance(fig, SpecFigure) and fig.pending
    sent = json.loads(pio.to_json(fig, validate=False))
    # plotly's own checks of the same spec: they raise on a wrong property and rewrite what they would
    # send differently (a colourscale by name, a number's type); nothing may change
    validated = json.loads(go.Figure(decode_plotly(sent)).to_json())
    assert _same(validated, sent)
    serialise(fig)  # sound JSON, no NaN or infinity, the house template


def _same(a, b) -> bool:
    """Decoded figure JSON equal, arrays by value (NaN equal to NaN)."""
    a, b = decode_plotly(a), decode_plotly(b)

    def equal(x, y) -> bool:
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            return np.array_equal(np.asarray(x, dtype=float), np.asarray(y, dtype=float), equal_nan=True)
        if isinstance(x, dict) and isinstance(y, dict):
            return x.keys() == y.keys() and all(equal(x[key], y[key]) for key in x)
        if isinstance(x, list) and isinstance(y, list):
            return len(x) == len(y) and all(equal(u, v) for u, v in zip(x, y, strict=True))
        return x == y

    return equal(a, b)


def test_a_step_on_the_matrix_page_validates_no_figure(monkeypatch):
    """The four charts of a Step are sent as specs: no go.Figure is validated (the ~0.9 s of CPU a Step spent)."""
    app = Dashboard("demo-small", page="matrix")
    app.click("emx_step")
    built = Counter()
    original = plotly.basedatatypes.BaseFigure.__init__

    def counted(self, *args, **kwargs):
        built[type(self).__name__] += 1
        original(self, *args, **kwargs)

    monkeypatch.setattr(plotly.basedatatypes.BaseFigure, "__init__", counted)
    app.click("emx_step")
    assert built == Counter()
    assert app.chart_keys() >= {"emx_ll", "emx_pca", "emx_means", "emx_post"}


def test_a_shared_spec_figure_is_built_once_and_reads_the_same_from_every_thread():
    """A cached chart is shared by sessions: one looking inside it while others send it changes nothing."""
    fig = _step_figures()["means"]
    expected = json.loads(fig.to_json())

    def look(index: int):
        return fig.layout.height if index % 2 else json.loads(pio.to_json(fig, validate=False))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(look, range(32)))
    assert not fig.pending
    assert all(result == expected["layout"]["height"] for result in results[1::2])
    assert all(_same(result, expected) for result in results[0::2])


def test_presentation_mode_sizes_the_matrix_charts_on_a_copy_of_the_shared_ones():
    """A projector session's 18 px charts never reach a session without the mode (the charts are cached)."""
    link = {"dataset": "demo-small", "k": "3", "seed": "0"}
    projector = Dashboard(page="matrix", link=link | {"present": "1"})
    projector.click("emx_step")
    plain = Dashboard(page="matrix", link=link)
    plain.click("emx_step")  # the same fit: every chart comes from the cache the projector filled
    for key in ("emx_ll", "emx_pca", "emx_means", "emx_post"):
        assert projector.figure(key)["layout"]["font"]["size"] == presentation.FONT_PX, key
        assert "font" not in plain.figure(key)["layout"], key
