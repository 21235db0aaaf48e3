"""The squared distances of the last E-step on a prepared matrix, for means that come back unchanged.

Once a mixture settles, many of its means come back from one M-step to the next bit for bit: a
component collapsed onto one user keeps that user's ratings and its kept initial values (on the
course's Netflix matrix, 7 of 12 components from the course's start). A distance depends only on
the data and the mean, so :func:`em_core._kernels.sq_distances` takes such a column from the memo
instead of from a pass over the data.
"""

from __future__ import annotations

import numpy as np


class DistanceMemo:
    """The means and squared distances of the last E-step on one prepared matrix (see the module).

    A reused column is the one a product would give up to the order of the sums inside BLAS (a
    product of fewer columns may block them differently: a difference in the last bit, as between
    a batch of fits and the same fits one by one).

    The last call's entry is replaced whole, so threads sharing one prepared matrix never read
    one call's means with another's distances; they only find fewer columns to reuse.

    ``max_entries`` bounds the numbers kept (means and distances together): a call with more is
    not remembered. ``sys.getsizeof`` of a memo counts that bound, so a cache that sizes what it
    holds by it (the dashboard's, :func:`dashboard.byte_cache.nbytes`) counts what the memo may
    come to hold, not the nothing it holds when first stored.
    """

    #: Coordinates sampled for a mean's key; the last call's first mean with that key is then
    #: compared with it bit for bit.
    KEY_COORDINATES = 16

    def __init__(self, max_entries: int) -> None:
        self.max_entries = int(max_entries)
        # (key -> first column with it, means, distances) of the last call
        self._last: tuple[dict[bytes, int], np.ndarray, np.ndarray] | None = None

    def __sizeof__(self) -> int:
        return object.__sizeof__(self) + 8 * self.max_entries

    def clear(self) -> None:
        """Forget the last call (a benchmark that times a step with every mean new)."""
        self._last = None

    def _keys(self, mu: np.ndarray) -> list[bytes]:
        step = max(1, mu.shape[1] // self.KEY_COORDINATES)
        sample = np.ascontiguousarray(mu[:, ::step])
        return [row.tobytes() for row in sample]

    def reusable(self, mu: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """For each row of ``mu``, the column of the last call's distances with its exact mean (-1 if
        none), and those distances."""
        found = np.full(mu.shape[0], -1, dtype=np.intp)
        last = self._last
        if last is None or last[1].shape[1] != mu.shape[1]:
            return found, None
        index, old_mu, old_sq = last
        candidates = [(j, index[key]) for j, key in enumerate(self._keys(mu)) if key in index]
        if candidates:
            new, old = np.array(candidates).T
            # bit for bit: 0.0 and -0.0 differ
            same = (mu[new].view(np.uint64) == old_mu[old].view(np.uint64)).all(axis=1)
            found[new[same]] = old[same]
        return found, old_sq

    def remember(self, mu: np.ndarray, sq: np.ndarray) -> None:
        """Keep ``mu`` and a copy of its distances ``sq`` (the caller may overwrite ``sq``); past
        ``max_entries``, forget instead."""
        if mu.size + sq.size > self.max_entries:
            self._last = None
            return
        index: dict[bytes, int] = {}
        for j, key in enumerate(self._keys(mu)):
            index.setdefault(key, j)
        self._last = (index, np.array(mu, dtype=float, order="C", copy=True), sq.copy())
