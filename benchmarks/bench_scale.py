"""EM on CSR rating matrices of MovieLens-25M's shape: seconds per iteration and peak memory.

1. Scale: synthetic matrices of 162,541 users x 59,047 items (MovieLens-25M's shape) with 1 M,
   10 M and 25 M ratings, heavy-tailed user and item activity (seeded), K = 12. Each size runs in
   a fresh Python process, so its peak RSS is its own: the data are generated, converted to CSR,
   then :func:`em_core.init` and a few EM iterations (``em.algorithm()``'s E- and M-step, the
   steps ``em.run`` takes) are timed. Goals: <= 3 s per iteration and <= 4 GB peak RSS at 25 M.
2. Crossover: one EM iteration on the dense and on the sparse form of the same matrix, over a
   range of shares observed, in interleaved rounds: where sparse becomes the faster one is
   what :data:`em_core.sparse_ratings.CROSSOVER_DENSITY` is set from.

Run from the repository root::

    python benchmarks/bench_scale.py                     # all three sizes, then the crossover
    python benchmarks/bench_scale.py --ratings 25000000  # one size only (in this process)
    python benchmarks/bench_scale.py --crossover         # the crossover only

Wall seconds depend on what else the machine runs; the CPU seconds of this process (all its
threads) are printed beside them, with the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy
import scipy.sparse as sp

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

from em_core import em, init, sparse_kernels  # noqa: E402

#: MovieLens-25M's shape (GroupLens, ml-25m README).
N_USERS, N_ITEMS = 162_541, 59_047
SIZES = (1_000_000, 10_000_000, 25_000_000)
K = 12
SEED = 0
ITERATIONS = 3
GOAL_SECONDS, GOAL_BYTES = 3.0, 4 * 10**9
#: Crossover shapes and shares observed.
CROSSOVER_SHAPES = ((2000, 2000), (1200, 1200))
CROSSOVER_DENSITIES = (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5)
#: Users per generation chunk (bounds the generator's temporaries).
GENERATE_USERS = 10_000


# ---------------------------------------------------------------- data


def activity(n: int, total: int, minimum: int, cap: int, rng: np.random.Generator) -> np.ndarray:
    """Heavy-tailed counts (a Pareto tail above ``minimum``, at most ``cap``) summing to about ``total``, shape (n,).

    The tail's scale is found by bisection, so the mass the cap cuts off is given to the others.
    """
    tail = rng.pareto(1.2, n)
    low, high = 0.0, float(total)
    for _ in range(60):  # bisection on the scale of the tail
        scale = (low + high) / 2
        if np.minimum(minimum + (scale * tail).astype(np.int64), cap).sum() < total:
            low = scale
        else:
            high = scale
    return np.minimum(minimum + (high * tail).astype(np.int64), cap)


def sorted_unique(keys: np.ndarray) -> np.ndarray:
    """The distinct values of ``keys``, sorted (a sort and a comparison: numpy 2.4's hashing
    ``np.unique`` is far slower on these structured int64 keys)."""
    keys = np.sort(keys)
    return keys[np.concatenate([[True], keys[1:] != keys[:-1]])] if keys.size else keys


def synthetic_ratings(
    n_users: int = N_USERS, n_items: int = N_ITEMS, n_ratings: int = 25_000_000, seed: int = SEED
) -> sp.csr_matrix:
    """A seeded CSR matrix of ratings 0.5-5 in steps of 0.5, with heavy-tailed activity.

    Users: at least ``min(20, n_ratings / 2 n_users)`` ratings each (MovieLens keeps users with
    20 or more) plus a Pareto tail, at most a quarter of the items. Items: Zipf-like popularity
    ``1 / (rank + 20)`` over a random order of ids. Each user's items are drawn by stratified
    sampling of the popularity (one draw per stratum, so few repeats), repeats dropped and made up
    by uniform draws, then the total trimmed to exactly ``n_ratings``. Ratings: 3.5 + user bias +
    item bias + noise, rounded to halves and clipped. Numpy throughout, in chunks of users.
    """
    rng = np.random.default_rng(seed)
    minimum = max(1, min(20, n_ratings // (2 * n_users)))
    counts = activity(n_users, int(1.02 * n_ratings), minimum, n_items // 4, rng)
    cdf = np.cumsum(1.0 / (np.arange(n_items) + 20.0))
    cdf /= cdf[-1]
    item_of_rank = rng.permutation(n_items)
    keys = []
    for start in range(0, n_users, GENERATE_USERS):  # chunks of users, vectorised within
        c = counts[start : start + GENERATE_USERS]
        users = np.repeat(np.arange(start, start + c.size, dtype=np.int64), c)
        offsets = np.arange(users.size) - np.repeat(np.cumsum(c) - c, c)
        strata = (offsets + rng.random(users.size)) / np.repeat(c, c)
        ranks = np.minimum(np.searchsorted(cdf, strata, side="right"), n_items - 1)
        chunk = sorted_unique(users * n_items + item_of_rank[ranks])
        for _ in range(8):  # repeats are made up by uniform draws (mostly unseen tail items)
            short = c - np.bincount(chunk // n_items - start, minlength=c.size)
            if not short.any():
                break
            more = np.repeat(np.arange(start, start + c.size), short) * n_items
            chunk = sorted_unique(np.concatenate([chunk, more + rng.integers(0, n_items, more.size)]))
        keys.append(chunk)
    keys = np.concatenate(keys)
    if keys.size > n_ratings:
        keys = np.delete(keys, rng.choice(keys.size, keys.size - n_ratings, replace=False))
    users, items = keys // n_items, (keys % n_items).astype(np.int32)
    del keys
    value = 3.5 + rng.normal(0, 0.4, n_users)[users] + rng.normal(0, 0.5, n_items)[items]
    value += rng.normal(0, 0.9, value.size)
    ratings = np.clip(np.round(value * 2) / 2, 0.5, 5.0)
    indptr = np.concatenate([[0], np.cumsum(np.bincount(users, minlength=n_users))])
    return sp.csr_matrix((ratings, items, indptr), shape=(n_users, n_items))


def density_matrix(n: int, d: int, density: float, seed: int = SEED) -> np.ndarray:
    """Dense ratings 1-5 with each entry observed with probability ``density`` (0 = missing), shape (n, d)."""
    rng = np.random.default_rng(seed)
    X = rng.integers(1, 6, (n, d)).astype(float)
    X[rng.random((n, d)) >= density] = 0.0
    X[np.arange(n), rng.integers(0, d, n)] = 3.0  # every user rates something
    return X


# ---------------------------------------------------------------- the machine


def machine() -> dict:
    """CPU model, vector extensions, cores, BLAS and thread counts, memory, load."""
    cpu, flags = platform.processor() or "unknown", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu in ("unknown", ""):
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    blas = [
        f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture', '?')}, {i.get('num_threads')} threads)"
        for i in threadpool_info()
    ]
    return {
        "cpu": cpu,
        "avx2": "avx2" in flags,
        "avx512f": "avx512f" in flags,
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "sparse_threads": sparse_kernels.THREADS,
        "blas": blas,
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def peak_rss_bytes() -> int:
    """This process's peak resident set size (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- 1. scale


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def scale(n_ratings: int, iterations: int = ITERATIONS) -> dict:
    """Generate, init and time ``iterations`` EM iterations at one size, in this process."""
    load_before = os.getloadavg()[0]
    X, generate_s, _ = timed(lambda: synthetic_ratings(n_ratings=n_ratings))
    rss_data = peak_rss_bytes()
    per_user, per_item = np.diff(X.indptr), np.bincount(X.indices, minlength=X.shape[1])
    tracemalloc.start()
    (mixture, post), init_s, _ = timed(lambda: init(X, K, SEED))
    algorithm = em.algorithm()
    rounds = []
    for _ in range(iterations):  # the steps em.run takes, on the matrix prepared once by the algorithm
        (post, ll), e_wall, e_cpu = timed(lambda m=mixture: algorithm.estep(X, m))
        (mixture, _), m_wall, m_cpu = timed(lambda p=post, m=mixture: algorithm.mstep(X, p, m))
        rounds.append((e_wall + m_wall, e_cpu + m_cpu, e_wall, m_wall, ll))
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    first, later = rounds[0], rounds[1:] or rounds
    return {
        "ratings": int(X.nnz),
        "shape": list(X.shape),
        "ratings_per_user": {
            "min": int(per_user.min()),
            "median": float(np.median(per_user)),
            "max": int(per_user.max()),
        },
        "ratings_per_item": {"median": float(np.median(per_item)), "max": int(per_item.max())},
        "generate_s": round(generate_s, 2),
        "init_s": round(init_s, 3),
        "first_iteration_s": round(first[0], 3),  # includes preparing the matrix once
        "iteration_s": round(statistics.median(r[0] for r in later), 3),
        "iteration_cpu_s": round(statistics.median(r[1] for r in later), 3),
        "estep_s": round(statistics.median(r[2] for r in later), 3),
        "mstep_s": round(statistics.median(r[3] for r in later), 3),
        "log_likelihoods": [round(r[4], 4) for r in rounds],
        "peak_rss_after_data_gb": round(rss_data / 1e9, 3),
        "peak_rss_gb": round(peak_rss_bytes() / 1e9, 3),
        "traced_peak_em_gb": round(traced_peak / 1e9, 3),
        "load_average_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }


def scale_in_subprocess(n_ratings: int) -> dict:
    """:func:`scale` in a fresh interpreter (so each size's peak RSS is its own)."""
    out = subprocess.run(
        [sys.executable, __file__, "--ratings", str(n_ratings), "--json"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    return json.loads(out.stdout)


# ---------------------------------------------------------------- 2. crossover


def one_iteration(X, mixture) -> float:
    """CPU seconds of one E-step + M-step of a fit (its matrix prepared before, as in a fit)."""
    algorithm = em.algorithm()
    post, _ = algorithm.estep(X, mixture)
    algorithm.mstep(X, post, mixture)  # warm: prepared, orientation timed
    start = time.process_time()
    post, _ = algorithm.estep(X, mixture)
    algorithm.mstep(X, post, mixture)
    return time.process_time() - start


def crossover(rounds: int = 5) -> list[dict]:
    """Dense and sparse CPU seconds per iteration over the shares observed, medians of interleaved rounds.

    On one thread each (one BLAS thread, one sparse thread), timed in CPU seconds of this process:
    the ratio of the two is then the ratio of work, which a busy machine disturbs far less than
    wall time (two BLAS threads on two loaded cores wait on each other).
    """
    sparse_kernels.THREADS = 1
    with threadpool_limits(1):
        return _crossover(rounds)


def _crossover(rounds: int) -> list[dict]:
    rows = []
    for n, d in CROSSOVER_SHAPES:
        for density in CROSSOVER_DENSITIES:
            X = density_matrix(n, d, density)
            S = sp.csr_matrix(X)
            mixture, _ = init(X, K, SEED)
            dense, sparse = [], []
            for r in range(rounds):  # alternate which goes first
                pair = [(dense, X), (sparse, S)] if r % 2 == 0 else [(sparse, S), (dense, X)]
                for times, matrix in pair:
                    times.append(one_iteration(matrix, mixture))
            dense_s, sparse_s = statistics.median(dense), statistics.median(sparse)
            rows.append(
                {
                    "shape": [n, d],
                    "density": round(float(S.nnz) / (n * d), 4),
                    "dense_ms": round(1e3 * dense_s, 2),
                    "sparse_ms": round(1e3 * sparse_s, 2),
                    "faster": "sparse" if sparse_s < dense_s else "dense",
                }
            )
    return rows


# ---------------------------------------------------------------- report


def print_scale(result: dict) -> None:
    ok_time = "ok" if result["iteration_s"] <= GOAL_SECONDS else "OVER"
    ok_mem = "ok" if result["peak_rss_gb"] * 1e9 <= GOAL_BYTES else "OVER"
    print(
        f"{result['ratings'] / 1e6:5.1f} M ratings: {result['iteration_s']:.2f} s/iteration "
        f"(CPU {result['iteration_cpu_s']:.2f} s; E {result['estep_s']:.2f} + M {result['mstep_s']:.2f}) [{ok_time}], "
        f"first {result['first_iteration_s']:.2f} s, init {result['init_s']:.2f} s; "
        f"peak RSS {result['peak_rss_gb']:.2f} GB [{ok_mem}] (after data {result['peak_rss_after_data_gb']:.2f}, "
        f"traced EM {result['traced_peak_em_gb']:.2f}); generated in {result['generate_s']:.0f} s; "
        f"load {result['load_average_1min'][0]}->{result['load_average_1min'][1]}"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ratings", type=int, help="one size only, in this process")
    parser.add_argument("--crossover", action="store_true", help="the dense/sparse crossover only")
    parser.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    if args.ratings:
        result = scale(args.ratings)
        print(json.dumps(result)) if args.json else print_scale(result)
        return
    report = {"machine": machine()}
    if not args.json:
        print("machine:", json.dumps(report["machine"]))
    if not args.crossover:
        report["scale"] = []
        for n_ratings in SIZES:
            result = scale_in_subprocess(n_ratings)
            report["scale"].append(result)
            if not args.json:
                print_scale(result)
    report["crossover"] = crossover()
    if args.json:
        print(json.dumps(report))
        return
    for row in report["crossover"]:
        print(
            f"crossover {row['shape'][0]}x{row['shape'][1]} at {100 * row['density']:5.1f} % observed: "
            f"dense {row['dense_ms']:8.2f} ms, sparse {row['sparse_ms']:8.2f} ms CPU (one thread each) "
            f"-> {row['faster']}"
        )


if __name__ == "__main__":
    main()
