"""The dashboard's caches keep a byte budget, not a number of entries (issues 14 and 15)."""

from __future__ import annotations

import threading

import numpy as np
import plotly.graph_objects as go
import pytest
import scipy.sparse

from dashboard import caches, fits
from dashboard.byte_cache import ByteLRU, byte_cache, nbytes
from dashboard.limits import CACHE_BYTES
from em_core import init
from em_core.data import load_dataset
from tests.apptest_helpers import Dashboard

MB = 2**20


def test_nbytes_counts_arrays_inside_results_sparse_matrices_and_figures():
    X = np.zeros((100, 50))
    assert nbytes(X) == 40_000
    assert nbytes(caches.Completion(X, 1.0, None)) >= 40_000
    sparse = scipy.sparse.random(1000, 1000, density=0.01, format="csr", random_state=0)
    assert nbytes(sparse) >= sparse.data.nbytes + sparse.indices.nbytes + sparse.indptr.nbytes
    figure = go.Figure(go.Heatmap(z=np.zeros((300, 300))))
    assert nbytes(figure) >= 300 * 300 * 8  # what the figure would send


def test_the_least_recently_used_leaves_first_and_the_budget_holds():
    store = ByteLRU(budget=3 * MB)
    for key in "abc":
        store.put(key, np.zeros(MB // 8))  # 1 MiB each
    assert store.get("a") is not None  # a is now the most recently used
    store.put("d", np.zeros(MB // 8))
    assert "b" not in store and all(key in store for key in "acd")
    assert store.nbytes <= store.budget


def test_one_value_larger_than_the_budget_is_kept_only_while_it_is_the_newest():
    store = ByteLRU(budget=MB)
    store.put("small", np.zeros(10))
    store.put("huge", np.zeros(MB))  # 8 MiB
    assert "huge" in store and "small" not in store
    store.put("next", np.zeros(10))
    assert "huge" not in store and store.nbytes <= store.budget


def test_many_threads_putting_large_entries_never_leave_more_than_the_budget():
    store = ByteLRU(budget=8 * MB)
    seen = []

    def session(number: int) -> None:
        for entry in range(20):
            store.put((number, entry), np.full(MB // 8, float(number)))  # 1 MiB
            seen.append(store.nbytes)

    threads = [threading.Thread(target=session, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert max(seen) <= store.budget and len(store) == 8


def test_a_cached_function_computes_once_per_key_even_when_sessions_ask_at_once():
    calls = []
    gate = threading.Event()

    @byte_cache(MB)
    def slow(key: str, _X: np.ndarray) -> np.ndarray:
        calls.append(key)
        gate.wait(5)
        return _X * 2

    results = []
    threads = [threading.Thread(target=lambda: results.append(slow("k", np.ones(3)))) for _ in range(4)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert calls == ["k"] and len(results) == 4 and all(r is results[0] for r in results)
    with pytest.raises(ValueError, match="read-only"):
        results[0][0] = 5.0  # shared between sessions, so never changed in place


def test_a_result_the_keep_rule_refuses_is_returned_but_not_kept():
    @byte_cache(MB, keep=lambda value: value > 0)
    def sign(x: int) -> int:
        return x

    assert sign(-1) == -1 and len(sign.store) == 0
    assert sign(2) == 2 and len(sign.store) == 1


#: Each cache in dashboard.caches and the name of its budget in limits.CACHE_BYTES.
CACHES = {
    "completion": caches.completion,
    "user_map": caches.user_map,
    "error_figures": caches.error_figures,
    "matrix_figure": caches.matrix_figure,
    "fitted": caches.fitted,
    "baselines": caches.baselines_on_gold,
    "holdout": caches.holdout_scores,
    "report": caches.report,
}


@pytest.mark.parametrize("name", sorted(CACHES))
def test_every_result_cache_of_the_dashboard_has_its_named_byte_budget(name):
    assert CACHES[name].store.budget == CACHE_BYTES[name]
    if name == "user_map":  # the planes the users' maps are drawn on share the maps' budget
        assert caches.user_plane.store.budget == CACHE_BYTES[name]


def test_sessions_with_large_uploads_leave_the_completion_cache_within_its_budget(monkeypatch):
    # five sessions, each with its own 200 x 150 upload (240 kB completed): a budget of two of them
    monkeypatch.setattr(caches.completion.store, "budget", 2 * 200 * 150 * 8 + 4096)
    caches.completion.clear()
    rng = np.random.default_rng(0)
    for number in range(5):
        M = rng.integers(0, 6, size=(200, 150))
        M[:, 0] = 1 + number  # every user has a rating; every upload is different
        app = Dashboard(em_k=2)
        app.upload(f"ratings{number}.txt", "\n".join(" ".join(map(str, row)) for row in M).encode())
        app.open("completion")
        assert caches.completion.store.nbytes <= caches.completion.store.budget
    assert len(caches.completion.store) == 2


def test_the_named_data_sets_completion_is_the_same_whether_cached_or_not():
    dataset = load_dataset("demo-small")
    mixture, _ = init(dataset.X, 3, 0)
    caches.completion.clear()
    first = caches.get_completion("demo-small", dataset.X, dataset.gold, mixture)
    second = caches.get_completion("demo-small", dataset.X, dataset.gold, mixture)
    assert first is second and first.rmse_all is not None


def test_the_fit_pages_shared_algorithms_are_kept_within_their_budget_by_the_data_they_prepare(monkeypatch):
    X = np.ones((100, 100))  # 80 kB: an algorithm counts three times that
    monkeypatch.setattr(fits.shared_algorithm.store, "budget", 2 * fits.PREPARED_COPIES * X.nbytes)
    fits.shared_algorithm.clear()
    first = fits.shared_algorithm("a", "em", 0.25, "spherical", X)
    assert fits.shared_algorithm("a", "em", 0.25, "spherical", X) is first  # one per data set, shared
    for content in "bc":
        fits.shared_algorithm(content, "em", 0.25, "spherical", X)
    store = fits.shared_algorithm.store
    assert len(store) == 2 and store.nbytes <= store.budget
    assert fits.shared_algorithm("a", "em", 0.25, "spherical", X) is not first  # "a" left first
