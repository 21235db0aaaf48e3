"""Checks and data shared by the figure tests: the figure is sound JSON, its traces, seeded blobs."""

from __future__ import annotations

import base64
import io
import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from PIL import Image
from plotly.colors import hex_to_rgb

from dashboard import figure_style
from em_core.mixture import GaussianMixture

MB = 1_000_000


def _reject_constant(token: str):
    raise AssertionError(f"figure JSON contains {token}")


def _finite_numbers(node, path="fig"):
    """Walk decoded figure JSON; fail on any NaN/inf, including inside base64 typed arrays."""
    if isinstance(node, dict):
        if "bdata" in node and "dtype" in node:
            values = np.frombuffer(base64.b64decode(node["bdata"]), dtype=np.dtype(node["dtype"]))
            assert np.isfinite(values).all(), f"non-finite number in {path}"
            return
        for key, value in node.items():
            _finite_numbers(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _finite_numbers(value, f"{path}[{index}]")


def serialise(fig: go.Figure) -> str:
    """The JSON the browser gets, after checking the figure is sound: no NaN/inf, house template."""
    assert isinstance(fig, go.Figure)
    text = fig.to_json()
    _finite_numbers(json.loads(text, parse_constant=_reject_constant))
    assert fig.layout.template == pio.templates[figure_style.TEMPLATE]
    return text


def hover_text(trace, point: int) -> str:
    """The hover label plotly.js writes for ``point`` of ``trace``: its ``hovertemplate`` with
    ``%{customdata[k]:fmt}``, ``%{x:fmt}``, ``%{y:fmt}`` and ``%{hovertext}`` filled in (the formats the
    dashboard uses: ``d``, ``.2f``, ``.3g``, as d3-format writes them) and ``<extra>`` dropped."""
    values = {"x": trace.x[point], "y": trace.y[point]}
    if trace.customdata is not None:
        values.update({f"customdata[{k}]": v for k, v in enumerate(np.asarray(trace.customdata)[point])})
    if trace.hovertext is not None:
        values["hovertext"] = trace.hovertext[point]

    def fill(match: re.Match) -> str:
        value = values[match.group(1)]
        spec = match.group(2)
        if spec is None:
            return str(value)
        if spec == "d":
            return str(int(round(float(value))))
        text = format(float(value), spec)
        return re.sub(r"e([+-])0*(\d)", r"e\1\2", text) if spec.endswith("g") else text  # d3: 1e+5, not 1e+05

    text = re.sub(r"%\{([^:}]+)(?::([^}]+))?\}", fill, trace.hovertemplate)
    return re.sub(r"<extra>.*?</extra>", "", text)


def traces(fig: go.Figure, kind: str) -> list:
    return [trace for trace in fig.data if trace.type == kind]


def annotation_texts(fig: go.Figure) -> list[str]:
    return [annotation.text for annotation in fig.layout.annotations]


def rgb_string(hex_color: str) -> str:
    r, g, b = hex_to_rgb(hex_color)
    return f"rgb({r},{g},{b})"


def decode_image(trace) -> np.ndarray:
    """The RGB pixels of a go.Image trace's data-URI source, shape (n, d, 3)."""
    header, payload = trace.source.split(",", 1)
    assert header == "data:image/png;base64"
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(payload))).convert("RGB"))


def toy_mixture(seed: int = 0, n_per: int = 30):
    """Three well-separated 2-D blobs, a mixture near them and a posterior from distances."""
    rng = np.random.RandomState(seed)
    mu = np.array([[0.0, 0.0], [5.0, 1.0], [1.0, 6.0]])
    var = np.array([1.0, 0.25, 2.25])
    p = np.array([0.31, 0.44, 0.25])
    X = np.vstack([rng.normal(m, np.sqrt(v), (n_per, 2)) for m, v in zip(mu, var, strict=True)])
    post = np.exp(-((X[:, None, :] - mu[None]) ** 2).sum(axis=2))
    post /= post.sum(axis=1, keepdims=True)
    return X, post, GaussianMixture(mu, var, p)


def many_blobs(K: int, seed: int = 0, n_per: int = 20, weights=None):
    """K blobs on a circle of radius 10, their means, spreads and weights, and a one-hot posterior."""
    rng = np.random.RandomState(seed)
    angles = 2 * np.pi * np.arange(K) / K
    means = 10 * np.column_stack([np.cos(angles), np.sin(angles)])
    Z = np.vstack([rng.normal(m, 0.5, (n_per, 2)) for m in means])
    post = np.repeat(np.eye(K), n_per, axis=0)
    weights = np.full(K, 1.0 / K) if weights is None else np.asarray(weights, dtype=float)
    return Z, post, means, np.full(K, 0.5), weights


def mean_traces(fig: go.Figure) -> list:
    """The mean markers of a mixture scatter, component 1 first (one per legend entry)."""
    return [t for t in fig.data if t.showlegend and t.marker.symbol == "x"]


def axis_range(fig: go.Figure, axis: str) -> tuple[float, float]:
    low, high = getattr(fig.layout, axis).range
    return low, high
