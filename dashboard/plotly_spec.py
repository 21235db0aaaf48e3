"""Figures built as plain plotly specs: the per-Step charts skip plotly's validation.

A ``go.Figure`` validates every property it is given (a Step on the matrix page spent ~0.9 s of CPU
in those checks, a hundred times its E- and M-step). The builders on a Step's path instead write the
spec plotly.js reads, as plain dicts with numpy arrays as plotly typed arrays (:func:`typed`), and
wrap it in a :class:`SpecFigure`: a ``go.Figure`` whose ``to_dict()`` returns that spec, so
``st.plotly_chart`` sends it as it is (~1 ms).

A :class:`SpecFigure` stays a full ``go.Figure`` for everyone else: ``update_layout`` with plain
nested values merges into the spec's layout; anything else that reads or changes the figure
(``fig.data``, ``fig.layout``, ``update_xaxes`` ...) first turns it into the validated figure it
describes (typed arrays back to numpy arrays), so tests and page code see what they always saw, and
plotly checks the spec there.
"""

from __future__ import annotations

import base64
import functools
import json
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["SpecFigure", "chart_height", "decoded", "spec_nbytes", "template", "trace", "typed"]

#: numpy dtypes plotly.js reads as typed arrays, by their plotly.js names.
_DTYPES = {
    "int8": "i1",
    "uint8": "u1",
    "int16": "i2",
    "uint16": "u2",
    "int32": "i4",
    "uint32": "u4",
    "float32": "f4",
    "float64": "f8",
}
_NUMPY = {short: np.dtype(name) for name, short in _DTYPES.items()}


def typed(values, dtype: str | np.dtype | None = None) -> dict:
    """``values`` (1-D or 2-D) as a plotly typed array ``{"dtype", "bdata"[, "shape"]}``.

    ``dtype`` (e.g. ``"float32"``) converts first: use it only where that type holds the values
    exactly enough for what is shown. int64 goes as int32 (plotly.js has no 64-bit integers).
    NaN stays NaN: plotly.js draws it as a gap.
    """
    array = np.asarray(values)
    if dtype is not None:
        array = array.astype(dtype, copy=False)
    elif array.dtype.kind in "iu" and array.dtype.itemsize == 8:
        array = array.astype(_narrowest(array), copy=False)
    name = _DTYPES.get(array.dtype.name)
    if name is None:
        raise ValueError(f"typed: plotly.js has no typed array of {array.dtype}; convert to one of {sorted(_DTYPES)}")
    if array.ndim not in (1, 2):
        raise ValueError(f"typed: 1-D or 2-D values only, got shape {array.shape}")
    spec = {"dtype": name, "bdata": base64.b64encode(np.ascontiguousarray(array).tobytes()).decode("ascii")}
    if array.ndim == 2:
        spec["shape"] = f"{array.shape[0]}, {array.shape[1]}"
    return spec


def trace(kind: str, **properties) -> dict:
    """A trace spec of type ``kind``; a property given as None is left out (as plotly's constructors do)."""
    return dict(type=kind, **{name: value for name, value in properties.items() if value is not None})


def _narrowest(array: np.ndarray) -> np.dtype:
    """The smallest integer type of plotly.js that holds a 64-bit integer array (as plotly.py picks it)."""
    low, high = (int(array.min()), int(array.max())) if array.size else (0, 0)
    kinds = ("uint8", "uint16", "uint32") if array.dtype.kind == "u" else ("int8", "int16", "int32")
    for kind in kinds:
        limits = np.iinfo(kind)
        if limits.min <= low and high <= limits.max:
            return np.dtype(kind)
    raise ValueError(f"typed: integers from {low} to {high} do not fit 32 bits (plotly.js has no 64-bit arrays)")


#: Types of list items that need no encoding and no walking (a list of 1,200 hover texts is common).
_SCALARS = frozenset({str, float, int, bool, type(None)})
_NUMBERS = frozenset({float, int, bool, type(None)})


def _encoded(node: Any, key: str = "") -> Any:
    """``node`` with its numpy arrays as typed arrays, as ``go.Figure.to_dict`` writes them (an axis
    ``range`` stays a list; an empty or non-numeric array becomes a list)."""
    if isinstance(node, np.ndarray):
        numeric = node.dtype.name in _DTYPES or (node.dtype.kind in "iu" and node.dtype.itemsize == 8)
        return typed(node) if numeric and node.size and key != "range" and node.ndim <= 2 else node.tolist()
    if isinstance(node, dict):
        return {name: _encoded(value, name) for name, value in node.items()}
    if isinstance(node, list) and not _SCALARS.issuperset(map(type, node)):
        return [_encoded(value) for value in node]
    return node


def _is_typed(value: Any) -> bool:
    return isinstance(value, dict) and "bdata" in value and "dtype" in value


def decoded(value: Any) -> Any:
    """A typed array (:func:`typed`) back as a numpy array; any other value as it is."""
    if not _is_typed(value):
        return value
    array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=_NUMPY[value["dtype"]])
    if "shape" in value:
        array = array.reshape([int(part) for part in str(value["shape"]).split(",")])
    return array


def _decoded_tree(node: Any) -> Any:
    """``node`` with every typed array inside it decoded (new containers; leaves shared)."""
    if _is_typed(node):
        return decoded(node)
    if isinstance(node, dict):
        return {key: _decoded_tree(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_decoded_tree(value) for value in node]
    return node


#: The name of each template spec :func:`template` made, by the spec's id (they live as long as the module).
_TEMPLATE_NAMES: dict[int, str] = {}


@functools.cache
def template(name: str) -> dict:
    """The full spec of a named plotly template (plotly.js knows no names), made once and shared:
    never change it (:meth:`SpecFigure.update_layout` merges into new dicts)."""
    spec = json.loads(json.dumps(pio.templates[name].to_plotly_json()))
    _TEMPLATE_NAMES[id(spec)] = name
    return spec


def _merged(base: Mapping, update: Mapping) -> dict:
    """``base`` updated by ``update`` recursively (dicts merge, anything else replaces); new dicts only."""
    result = dict(base)
    for key, value in update.items():
        old = result.get(key)
        result[key] = _merged(old, value) if isinstance(old, dict) and isinstance(value, Mapping) else value
    return result


def _plain(update: Mapping) -> bool:
    """Whether ``update`` can merge into a spec as it is: no magic underscores, no template by name,
    no list that plotly would merge item by item (annotations, shapes)."""
    for key, value in update.items():
        if "_" in key or key == "template" or isinstance(value, (list, tuple)):
            return False
        if isinstance(value, Mapping) and not _plain(value):
            return False
    return True


@functools.cache
def _template_nbytes(name: str) -> int:
    return len(json.dumps(template(name)))


def spec_nbytes(node: Any) -> int:
    """About the bytes of a spec's JSON: strings by length, numbers as 6, containers followed (a
    shared :func:`template` counted once per name, not walked)."""
    if isinstance(node, str):
        return len(node)
    if isinstance(node, dict):
        return sum(
            len(key)
            + (_template_nbytes(_TEMPLATE_NAMES[id(value)]) if id(value) in _TEMPLATE_NAMES else spec_nbytes(value))
            for key, value in node.items()
        )
    if isinstance(node, (list, tuple)):
        kinds = set(map(type, node))
        if kinds == {str}:
            return sum(map(len, node)) + 3 * len(node)
        if kinds <= _NUMBERS:
            return 6 * len(node)
        return sum(spec_nbytes(value) for value in node) + len(node)
    if isinstance(node, np.ndarray):
        return node.nbytes
    return 8


def chart_height(figure: go.Figure) -> int | None:
    """The figure's layout height, read from a :class:`SpecFigure`'s spec without validating it.

    Pass it to ``st.plotly_chart(figure, height=...)``: with its default ``height="content"`` Streamlit
    reads ``figure.layout.height``, which turns a SpecFigure into the validated figure (the slow part).
    """
    height = figure.to_dict()["layout"].get("height") if isinstance(figure, SpecFigure) else figure.layout.height
    return None if height is None else int(height)


#: Held while a SpecFigure turns into the validated figure (rare: only when code looks inside one).
_BUILDING = threading.RLock()


class SpecFigure(go.Figure):
    """A ``go.Figure`` made from a prebuilt spec, validated only if someone looks inside it.

    Parameters
    ----------
    data : list of dict
        The traces, each with its ``type``; arrays as :func:`typed` arrays (or plain lists).
    layout : dict
        The layout; its ``template`` the full spec (:func:`template`), not a name.
    """

    def __init__(self, data: list[dict] | dict, layout: dict | None = None) -> None:
        if isinstance(data, Mapping) and layout is None:  # a whole spec (how plotly copies and pickles)
            data, layout = data.get("data", []), data.get("layout", {})
        # go.Figure.__init__ is not run: a BaseFigure's state is made when it is first needed
        # (:meth:`__getattr__`), from the spec
        layout = dict(layout or {})
        named = layout.pop("template", None)
        layout = _encoded(layout)
        if named is not None:  # a name, as in figure_style.style_layout, becomes the full template
            layout["template"] = template(named) if isinstance(named, str) else named
        object.__setattr__(self, "_pending", {"data": _encoded(list(data)), "layout": layout})
        object.__setattr__(self, "_spec_bytes", None)

    def __getattr__(self, name: str) -> Any:
        # only reached for attributes not set: a pending figure's BaseFigure state. A cached figure is shared
        # by sessions: it is built once, under a lock, and stays its spec (for spec()) until it is built.
        if name.startswith("__"):
            raise AttributeError(name)
        with _BUILDING:
            if self.__dict__.get("_building"):  # BaseFigure.__init__ asking for what it has not set yet
                raise AttributeError(name)
            pending = self.__dict__.get("_pending")
            if pending is not None:
                object.__setattr__(self, "_building", True)
                try:
                    go.Figure.__init__(
                        self, data=_decoded_tree(pending["data"]), layout=_decoded_tree(pending["layout"])
                    )
                finally:
                    object.__setattr__(self, "_building", False)
                object.__setattr__(self, "_pending", None)
        return object.__getattribute__(self, name)

    @property
    def pending(self) -> bool:
        """True while the figure is still its spec (nothing has looked inside it)."""
        return self.__dict__.get("_pending") is not None

    def spec(self) -> dict:
        """The figure as plotly.js reads it: ``{"data": [...], "layout": {...}}`` (the caller must not change it)."""
        pending = self.__dict__.get("_pending")
        if pending is None:
            return go.Figure.to_dict(self)
        return {"data": pending["data"], "layout": pending["layout"]}

    def to_dict(self) -> dict:
        return self.spec()

    def to_plotly_json(self) -> dict:
        return self.spec()

    def spec_nbytes(self) -> int:
        """About the bytes of the figure's JSON, counted once (for :mod:`dashboard.byte_cache`)."""
        if self.__dict__.get("_spec_bytes") is None or not self.pending:
            object.__setattr__(self, "_spec_bytes", spec_nbytes(self.spec()))
        return self.__dict__["_spec_bytes"]

    def update_layout(self, dict1=None, overwrite: bool = False, **kwargs) -> SpecFigure:
        update = dict(dict1 or {}, **kwargs)
        pending = self.__dict__.get("_pending")
        if pending is not None and not overwrite and _plain(update):
            pending["layout"] = _merged(pending["layout"], update)
            object.__setattr__(self, "_spec_bytes", None)
            return self
        return go.Figure.update_layout(self, update, overwrite=overwrite)
