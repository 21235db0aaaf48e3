"""Where a fit starts (em_core.initialisation): the course's init unchanged, k-means++ against scikit-learn's draws
and reproducible by seed, means given by hand or in a file, each bad input refused in one line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.cluster import kmeans_plusplus as sklearn_kmeans_plusplus

from em_core import builtin, initialisation, naive_em
from em_core.errors import DataError
from em_core.initialisation import given_means, initial_mixture, kmeans_plusplus, kmeans_plusplus_rows, load_means
from em_core.mixture import init

REPO = Path(__file__).resolve().parents[1]


def course_variances(X: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """The course's init formula, written out: the mean over all n*d entries of (X - mu_j)**2."""
    return np.array([np.mean((X - m) ** 2) for m in mu])


# ---------------------------------------------------------------- k-means++


@pytest.mark.parametrize("K", [1, 2, 4, 7])
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_kmeans_plusplus_draws_the_rows_sklearn_draws(K, seed):
    X = builtin.blobs_2d()
    _, theirs = sklearn_kmeans_plusplus(X, K, random_state=seed, n_local_trials=1)
    np.testing.assert_array_equal(kmeans_plusplus_rows(X, K, seed), theirs)


@pytest.mark.course
@pytest.mark.parametrize("K, seed", [(3, 0), (4, 4), (12, 2)])
def test_kmeans_plusplus_on_toy_data(course_matrix, K, seed):
    X = course_matrix("toy_data.txt")
    _, theirs = sklearn_kmeans_plusplus(X, K, random_state=seed, n_local_trials=1)
    np.testing.assert_array_equal(kmeans_plusplus_rows(X, K, seed), theirs)


def test_kmeans_plusplus_is_reproducible_by_seed():
    X = builtin.blobs_2d()
    first, again = kmeans_plusplus(X, 4, seed=3), kmeans_plusplus(X, 4, seed=3)
    for a, b in zip(first[0], again[0], strict=True):
        np.testing.assert_array_equal(a, b)
    draws = {tuple(kmeans_plusplus_rows(X, 4, seed)) for seed in range(10)}
    assert len(draws) == 10  # every seed its own start


def test_kmeans_plusplus_spreads_the_means_over_the_clusters():
    # four well separated clusters: D^2 sampling almost always puts one mean in each; a uniform draw rarely does
    rng = np.random.RandomState(0)
    centres = np.array([[0.0, 0.0], [50.0, 0.0], [0.0, 50.0], [50.0, 50.0]])
    X = np.repeat(centres, 25, axis=0) + rng.standard_normal((100, 2))
    spread = [len({int(r) // 25 for r in kmeans_plusplus_rows(X, 4, seed)}) == 4 for seed in range(20)]
    uniform = [len({int(r) // 25 for r in init(X, 4, seed)[0].mu[:, 0].round(-1).astype(int)}) for seed in range(20)]
    assert sum(spread) >= 19, spread
    assert sum(spread) > sum(u == 4 for u in uniform)


def test_kmeans_plusplus_derives_the_rest_as_the_course_init():
    X = builtin.blobs_2d()
    mixture, post = kmeans_plusplus(X, 3, seed=5)
    np.testing.assert_array_equal(mixture.mu, X[kmeans_plusplus_rows(X, 3, 5)])
    np.testing.assert_allclose(mixture.var, course_variances(X, mixture.mu), rtol=1e-12)
    np.testing.assert_array_equal(mixture.p, np.full(3, 1 / 3))
    np.testing.assert_array_equal(post, np.full((X.shape[0], 3), 1 / 3))


def test_kmeans_plusplus_with_fewer_distinct_rows_than_k_repeats_a_row():
    X = np.array([[1.0, 1.0], [1.0, 1.0], [5.0, 5.0]])
    rows = kmeans_plusplus_rows(X, 3, seed=0)
    assert {tuple(X[r]) for r in rows} == {(1.0, 1.0), (5.0, 5.0)}


# ---------------------------------------------------------------- the course's init and means by hand


@pytest.mark.parametrize("K, seed", [(1, 0), (3, 0), (4, 7)])
def test_course_strategy_is_init_exactly(K, seed):
    X = builtin.blobs_2d()
    ours, theirs = initial_mixture(X, K, seed, "course"), init(X, K, seed)
    for a, b in zip((*ours[0], ours[1]), (*theirs[0], theirs[1]), strict=True):
        np.testing.assert_array_equal(a, b)


def test_given_means_equal_to_the_course_draw_give_the_course_init():
    X = builtin.blobs_2d()
    course, course_post = init(X, 4, seed=2)
    mixture, post = given_means(X, course.mu)
    np.testing.assert_array_equal(mixture.var, course.var)
    np.testing.assert_array_equal(mixture.p, course.p)
    np.testing.assert_array_equal(post, course_post)


def test_given_means_anywhere_in_the_plane():
    X = builtin.blobs_2d()
    means = np.array([[0.0, 0.0], [10.0, -3.5]])  # not data rows
    mixture, _ = initial_mixture(X, 2, init_with=means)
    np.testing.assert_array_equal(mixture.mu, means)
    np.testing.assert_allclose(mixture.var, course_variances(X, means), rtol=1e-12)
    assert not np.shares_memory(mixture.mu, means)


def test_given_means_in_one_dimension_may_be_a_flat_list():
    X = np.array([[0.0], [1.0], [5.0], [6.0]])
    mixture, _ = given_means(X, [0.5, 5.5])
    np.testing.assert_array_equal(mixture.mu, [[0.5], [5.5]])


X_2D = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0], [5.0, 5.0]])


@pytest.mark.parametrize(
    "means, message",
    [
        ([1.0, 2.0], r"means: expected K means of 2 numbers each \(a K x 2 array\), got shape \(2,\)"),
        ([[1.0, 2.0, 3.0]], "means: each mean has 3 values but the data have 2 columns; give 2 numbers per mean"),
        ([[1.0, 2.0], [np.nan, 0.0]], "means row 2 column 1 is nan, not a finite number; give finite means"),
        ([[1.0, 2.0], [3.0, np.inf]], "means row 2 column 2 is inf, not a finite number"),
        (
            [[1.0, 2.0], [3.0, 4.0], [1.0, 2.0]],
            r"means row 3 repeats the mean of row 1 \(1, 2\); give 3 different means",
        ),
        (
            np.zeros((5, 2)) + np.arange(5)[:, None],
            "means: 5 means but the data have only 4 rows; give at most 4 means",
        ),
        (np.empty((0, 2)), r"got shape \(0, 2\)"),
        ([["a", "b"]], "not an array of numbers; give one mean per row"),
    ],
)
def test_bad_means_are_refused_in_one_line(means, message):
    with pytest.raises(DataError, match=message):
        given_means(X_2D, means)


def test_initial_mixture_refuses_a_k_other_than_the_means_and_an_unknown_strategy():
    with pytest.raises(DataError, match="means holds 2 means but K is 3; give K = 2 or 3 means"):
        initial_mixture(X_2D, 3, init_with=np.array([[0.0, 0.0], [1.0, 1.0]]))
    with pytest.raises(
        DataError, match=r"unknown initialisation 'kmeans'; choose course or kmeans\+\+, or give the means"
    ):
        initial_mixture(X_2D, 2, init_with="kmeans")


# ---------------------------------------------------------------- a file of means


def test_load_means_reads_one_mean_per_line(tmp_path):
    path = tmp_path / "means.txt"
    path.write_text("0 0\n\n10, -3.5\n")
    means_file = load_means(path)
    np.testing.assert_array_equal(means_file.means, [[0.0, 0.0], [10.0, -3.5]])
    assert means_file.name == "means.txt"
    assert list(means_file.line_numbers) == [1, 3]
    mixture, _ = initial_mixture(builtin.blobs_2d(), 2, init_with=means_file)
    np.testing.assert_array_equal(mixture.mu, means_file.means)


@pytest.mark.parametrize(
    "text, message",
    [
        ("1 2\n3 x\n", "means.txt line 2 column 2: 'x' is not a number"),
        ("1 2\n3\n", "means.txt line 2"),
        ("", "means.txt is empty"),
    ],
)
def test_a_bad_means_file_names_its_line(tmp_path, text, message):
    path = tmp_path / "means.txt"
    path.write_text(text)
    with pytest.raises(DataError, match=message):
        load_means(path)


def test_means_from_a_file_are_checked_with_its_line_numbers(tmp_path):
    path = tmp_path / "means.txt"
    path.write_text("1 2\n\n3 4\n1 2\n")
    with pytest.raises(
        DataError, match=r"means.txt line 4 repeats the mean of line 1 \(1, 2\); give 3 different means"
    ):
        initial_mixture(X_2D, 3, init_with=load_means(path))
    path.write_text("1 2 3\n")
    with pytest.raises(DataError, match="means.txt: each mean has 3 values but the data have 2 columns"):
        initial_mixture(X_2D, 1, init_with=load_means(path))


def test_a_missing_means_file_is_one_line(tmp_path):
    with pytest.raises(DataError, match="nowhere.txt: no such file; check the path"):
        load_means(tmp_path / "nowhere.txt")


def test_strategies_are_named_once():
    assert initialisation.STRATEGIES == ("course", "kmeans++")


# ---------------------------------------------------------------- through the command line


def naive_em_cli(*args: str) -> subprocess.CompletedProcess:
    """``python -m em_core fit --data demo-2d --algorithm naive-em ... --quiet``, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "em_core", "fit", "--data", "demo-2d", "--algorithm", "naive-em", *args, "--quiet"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_init_kmeans_plusplus_runs_from_the_kmeans_plusplus_start():
    done = naive_em_cli("--k", "3", "--seeds", "4", "--init", "kmeans++", "--json")
    assert done.returncode == 0, done.stderr
    X = builtin.blobs_2d()
    expected = naive_em.run(X, *kmeans_plusplus(X, 3, seed=4))[2]
    assert json.loads(done.stdout)["runs"][0]["log_likelihood"] == pytest.approx(expected, rel=1e-12)


def test_cli_init_file_runs_from_those_means_whatever_the_seed(tmp_path):
    means = tmp_path / "means.txt"
    means.write_text("-3 2\n2 3\n1 -2\n")
    done = naive_em_cli("--k", "3", "--seeds", "0", "1", "--init", str(means), "--json")
    assert done.returncode == 0, done.stderr
    X = builtin.blobs_2d()
    expected = naive_em.run(X, *given_means(X, np.loadtxt(means)))[2]
    scores = [r["log_likelihood"] for r in json.loads(done.stdout)["runs"]]
    assert scores == pytest.approx([expected, expected], rel=1e-12)


@pytest.mark.parametrize(
    "text, k, message",
    [
        (None, "3", "--init {path}: no such file; give course, kmeans\\+\\+ or the path of a file of means"),
        ("0 0\n1 1\n", "3", "--init means.txt holds 2 means but --k asks for 3; give --k 2"),
        ("0 0\n1 1\n0 0\n", "3", r"means.txt line 3 repeats the mean of line 1 \(0, 0\); give 3 different means"),
        ("0 0 0\n", "1", "means.txt: each mean has 3 values but the data have 2 columns; give 2 numbers per mean"),
        ("0 0\n1 nan\n", "2", "means.txt line 2 column 2: 'nan' is not a number \\(NaN\\)"),
    ],
)
def test_cli_bad_init_is_one_line_and_status_2(tmp_path, text, k, message):
    path = tmp_path / "means.txt"
    if text is not None:
        path.write_text(text)
    done = naive_em_cli("--k", k, "--init", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and re.fullmatch("error: " + message.format(path=re.escape(str(path))) + ".*", lines[0]), (
        lines
    )


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_init_seeds_gives_each_seed_its_own_course_init(sparse):
    """A sweep starts all seeds of one K from one check and one set of column moments: each start
    must be bit for bit the one ``init`` gives that seed alone (a moment shared wrongly, or a seed's
    draw taken from another's generator, shows here)."""
    import scipy.sparse as sp

    from em_core.mixture import init_seeds

    rng = np.random.default_rng(3)
    X = np.where(rng.random((40, 9)) < 0.3, 0.0, rng.integers(1, 6, (40, 9)).astype(float))
    X[5] = 1e4 + rng.random(9)  # a row far from the rest: the variances' centring matters
    data = sp.csr_matrix(X) if sparse else X
    seeds = [0, 7, 3, 7]
    starts = init_seeds(data, 5, seeds)
    assert len(starts) == len(seeds)
    for seed, (mixture, post) in zip(seeds, starts, strict=True):
        alone, alone_post = init(data, 5, seed)
        for field in mixture._fields:
            np.testing.assert_array_equal(getattr(mixture, field), getattr(alone, field), err_msg=f"{seed} {field}")
        np.testing.assert_array_equal(post, alone_post)
    assert not np.array_equal(starts[0][0].mu, starts[1][0].mu)  # the seeds draw different rows
