"""Caches bounded by the bytes they hold, not by their number of entries.

Streamlit's own caches count entries (``max_entries``), and one entry can be a 20 x 20 matrix or a
6,000,000-value one; a class of students uploading large matrices would fill the server's memory
long before any entry count is reached. A :class:`ByteLRU` keeps values within a byte budget, least
recently used out first; :func:`byte_cache` puts one in front of a function, keyed like
``st.cache_data`` (every argument whose name starts with ``_`` is left out of the key).

Values are shared, not copied: every caller gets the same object, so cached arrays are made
read-only and cached figures must only be drawn, never changed.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import scipy.sparse

__all__ = ["ByteLRU", "byte_cache", "nbytes"]

_MISSING = object()


def nbytes(value: Any) -> int:
    """The bytes ``value`` holds: its arrays (dense or sparse) and strings, followed through
    containers, NamedTuples, dataclasses and plotly figures; other objects count their own size."""
    seen: set[int] = set()

    def size(item: Any) -> int:
        if id(item) in seen:
            return 0
        seen.add(id(item))
        if isinstance(item, np.ndarray):
            return item.nbytes if item.base is None or id(item.base) not in seen else 0
        if scipy.sparse.issparse(item):
            return sum(size(getattr(item, name, None)) for name in ("data", "indices", "indptr", "row", "col"))
        if isinstance(item, (str, bytes, bytearray, int, float, bool)) or item is None:
            return sys.getsizeof(item)
        if isinstance(item, dict):
            return sum(size(key) + size(entry) for key, entry in item.items())
        if isinstance(item, (list, tuple, set, frozenset)):
            return sys.getsizeof(item) + sum(size(entry) for entry in item)
        if dataclasses.is_dataclass(item):
            return sum(size(getattr(item, field.name)) for field in dataclasses.fields(item))
        if hasattr(type(item), "spec_nbytes"):  # a dashboard.plotly_spec.SpecFigure: its spec's size, counted once
            return item.spec_nbytes()
        if hasattr(item, "to_plotly_json"):  # a plotly figure: what it would send
            return size(item.to_plotly_json())
        return sys.getsizeof(item)

    return size(value)


def _hashable(value: Any) -> Hashable:
    """``value`` as a key: dicts (``**style``) and lists become tuples."""
    if isinstance(value, dict):
        return tuple(sorted((name, _hashable(entry)) for name, entry in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_hashable(entry) for entry in value)
    return value


def _read_only(value: Any) -> Any:
    """Mark the arrays directly inside ``value`` (itself, or a tuple's fields) read-only."""
    for item in value if isinstance(value, tuple) else (value,):
        if isinstance(item, np.ndarray):
            item.flags.writeable = False
    return value


class ByteLRU:
    """Values by key within ``budget`` bytes (as ``sizeof`` counts them), least recently used out first.

    A value larger than the whole budget is still kept while it is the newest, so a caller can use
    what it has just computed; it leaves with the next ``put``. Safe to share between threads.
    """

    def __init__(self, budget: int, sizeof: Callable[[Any], int] = nbytes) -> None:
        self.budget = int(budget)
        self._sizeof = sizeof
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._computing: dict[Hashable, threading.Lock] = {}

    @property
    def nbytes(self) -> int:
        """The bytes held now."""
        with self._lock:
            return self._bytes

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value of ``key`` (now the most recently used), or ``default``."""
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return default
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: Hashable, value: Any, size: int | None = None) -> None:
        """Keep ``value`` as the most recently used; drop the least recently used beyond the budget.

        ``size`` replaces what ``sizeof`` would count (a value whose arrays hide in closures).
        """
        size = self._sizeof(value) if size is None else int(size)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.budget and len(self._items) > 1:
                _, (_, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0

    def get_or_compute(
        self,
        key: Hashable,
        compute: Callable[[], Any],
        keep: Callable[[Any], bool] | None = None,
        weigh: Callable[[Any], int] | None = None,
    ):
        """The value of ``key``, computed by ``compute()`` (and kept if ``keep`` allows) when missing.

        Two threads missing the same key compute it once: the second waits for the first.
        """
        value = self.get(key, _MISSING)
        if value is not _MISSING:
            return value
        with self._lock:
            computing = self._computing.setdefault(key, threading.Lock())
        with computing:
            value = self.get(key, _MISSING)  # computed meanwhile by another session
            if value is _MISSING:
                try:
                    value = compute()
                    if keep is None or keep(value):
                        self.put(key, value, None if weigh is None else weigh(value))
                finally:
                    with self._lock:
                        self._computing.pop(key, None)
        return value


def byte_cache(
    budget: int, keep: Callable[[Any], bool] | None = None, weigh: Callable[[dict, Any], int] | None = None
) -> Callable:
    """Cache a function's results in a :class:`ByteLRU` of ``budget`` bytes.

    The key is the function and every argument whose name does not start with ``_`` (those must
    be hashable: the content key of a data set, K, a seed ...); the arrays are passed as ``_X``
    and are named by the key, as with ``st.cache_data``. A result for which ``keep(result)`` is
    False (a run a time limit cut short) is returned but not kept; an exception keeps nothing.
    ``weigh(arguments, result)`` gives a result's bytes when :func:`nbytes` cannot see them (an
    algorithm object whose prepared matrix lives in a closure); ``arguments`` maps names to values.
    The wrapped function has ``.store`` (its ByteLRU) and ``.clear()``.
    """

    def decorate(function: Callable) -> Callable:
        signature = inspect.signature(function)
        store = ByteLRU(budget)

        @functools.wraps(function)
        def cached(*args, **kwargs):
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            key = tuple((name, _hashable(value)) for name, value in bound.arguments.items() if not name.startswith("_"))
            size = None if weigh is None else (lambda value: weigh(bound.arguments, value))
            return store.get_or_compute(key, lambda: _read_only(function(*args, **kwargs)), keep, size)

        cached.store = store
        cached.clear = store.clear
        return cached

    return decorate
