"""The command line: the JSON contract, the table, and bad input ending in one readable line, never a traceback.

Most runs call :func:`em_core.cli.main` in-process; a few start ``python -m em_core`` to see what a
user's terminal sees.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest

from em_core import em, experiment, kmeans, naive_em
from em_core.cli import main, strict_json
from em_core.data import load_dataset
from em_core.errors import DataError
from em_core.mixture import bic, init, rmse
from em_core.sparse_ratings import choose_form
from em_core.stepping import MAX_ITER
from tests.badfiles import bad_cases, path_cases, valid_cases

REPO = Path(__file__).resolve().parents[1]
COURSE_RUNS = {"em": em.run, "kmeans": kmeans.run, "naive-em": naive_em.run}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit status, stdout, stderr).

    ``--quiet`` unless asked for: the progress lines (one per finished run on a stderr that is not
    a terminal) have their own test, and stderr then holds only warnings and errors.
    """
    status = main(["fit", *args, "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def cli_process(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m em_core`` from the repo root, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "em_core", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )


def write(folder: Path, case) -> list[str]:
    """Write a corpus case into ``folder``; returns its --data (and --gold) arguments."""
    path = folder / case.filename
    path.write_bytes(case.content)
    args = ["--data", str(path)]
    if case.gold is not None:
        (folder / case.gold_filename).write_bytes(case.gold)
        args += ["--gold", str(folder / case.gold_filename)]
    return args


def assert_one_error_line(status: int, out: str, err: str, *fragments: str) -> str:
    """The user sees exit status 2, nothing on stdout and one ``error:`` line naming the problem."""
    assert status == 2
    assert out == ""
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def expected_runs(X: np.ndarray, algorithm: str, ks, seeds) -> list[dict]:
    """What em_core computes for each (K, seed), straight from the course functions."""
    runs = []
    for K in ks:
        for seed in seeds:
            mixture, _, score = COURSE_RUNS[algorithm](X, *init(X, K, seed))
            runs.append({"k": K, "seed": seed, "score": score, "mixture": mixture})
    return runs


def best_by_hand(runs: list[dict], K: int, algorithm: str) -> dict:
    """The first run of K with the highest log-likelihood (lowest cost)."""
    candidates = [r for r in runs if r["k"] == K]
    sign = 1 if algorithm == "kmeans" else -1
    return min(candidates, key=lambda r: sign * r["score"])


# ---------------------------------------------------------------- the JSON contract


def test_em_json_is_one_object_with_the_numbers_em_core_computes(capsys):
    ks, seeds = (3, 4), (0, 1, 2)
    status, out, err = cli(capsys, "--data", "demo-small", "--k", *map(str, ks), "--seeds", *map(str, seeds), "--json")
    assert (status, err) == (0, "")
    assert out.count("\n") == 1  # exactly one line, and json.loads takes all of it
    summary = json.loads(out)

    dataset = load_dataset("demo-small")
    X, gold = dataset.X, dataset.gold
    runs = expected_runs(X, "em", ks, seeds)
    # the seeds must disagree somewhere, or "best" would not be tested
    assert len({r["score"] for r in runs if r["k"] == 4}) > 1

    assert set(summary) == {"dataset", "algorithm", "shape", "observed", "runs", "best_per_k"}
    assert (summary["dataset"], summary["algorithm"]) == ("demo-small", "em")
    assert [(r["k"], r["seed"]) for r in summary["runs"]] == [(r["k"], r["seed"]) for r in runs]
    for row, want in zip(summary["runs"], runs, strict=True):
        assert set(row) == {"k", "seed", "log_likelihood", "iterations", "seconds", "stopped_by_cap"}
        assert row["log_likelihood"] == pytest.approx(want["score"], rel=1e-12)
        assert row["iterations"] == experiment.fit(X, "em", row["k"], row["seed"]).iterations

    assert [b["k"] for b in summary["best_per_k"]] == list(ks)
    missing = X == 0
    for row in summary["best_per_k"]:
        best = best_by_hand(runs, row["k"], "em")
        X_pred = em.fill_matrix(X, best["mixture"])
        assert set(row) == {"k", "seed", "log_likelihood", "bic", "rmse", "rmse_missing"}
        assert row["seed"] == best["seed"]
        assert row["log_likelihood"] == pytest.approx(best["score"], rel=1e-12)
        assert row["bic"] == pytest.approx(bic(X, best["mixture"], best["score"]), rel=1e-12)
        assert row["rmse"] == pytest.approx(rmse(gold, X_pred), rel=1e-12)
        assert row["rmse_missing"] == pytest.approx(rmse(gold, X_pred, missing), rel=1e-12)


def test_kmeans_json_reports_the_lowest_cost_and_no_bic(capsys):
    status, out, _ = cli(
        capsys, "--data", "demo-2d", "--algorithm", "kmeans", "--k", "3", "--seeds", "0", "2", "--json"
    )
    assert status == 0
    summary = json.loads(out)
    runs = expected_runs(load_dataset("demo-2d").X, "kmeans", (3,), (0, 2))
    assert runs[0]["score"] != runs[1]["score"]  # the two seeds end in different places
    assert [r["cost"] for r in summary["runs"]] == pytest.approx([r["score"] for r in runs], rel=1e-12)
    best = best_by_hand(runs, 3, "kmeans")
    assert summary["best_per_k"] == [
        {
            "k": 3,
            "seed": best["seed"],
            "cost": pytest.approx(best["score"], rel=1e-12),
            "rmse": None,
            "rmse_missing": None,
        }
    ]
    assert all("log_likelihood" not in r for r in summary["runs"])


def test_naive_em_json_has_bic_but_no_completion(capsys):
    status, out, _ = cli(capsys, "--data", "demo-2d", "--algorithm", "naive-em", "--k", "2", "--json")
    assert status == 0
    (row,) = json.loads(out)["best_per_k"]
    X = load_dataset("demo-2d").X
    (want,) = expected_runs(X, "naive-em", (2,), (0,))
    assert row["log_likelihood"] == pytest.approx(want["score"], rel=1e-12)
    assert row["bic"] == pytest.approx(bic(X, want["mixture"], want["score"]), rel=1e-12)
    assert (row["rmse"], row["rmse_missing"]) == (None, None)


def test_file_without_gold_gives_null_rmse(capsys, tmp_path):
    path = tmp_path / "mine.txt"
    path.write_bytes(b"1 0 3\n4 5 0\n0 2 1\n5 5 4\n")
    status, out, _ = cli(capsys, "--data", str(path), "--k", "1", "2", "--json")
    assert status == 0
    summary = json.loads(out)
    assert summary["dataset"] == "mine.txt"
    assert [(b["rmse"], b["rmse_missing"]) for b in summary["best_per_k"]] == [(None, None), (None, None)]


def test_gold_file_scores_a_file(capsys, tmp_path):
    (tmp_path / "m.txt").write_bytes(b"1 0 3\n4 5 0\n0 2 1\n5 5 4\n")
    (tmp_path / "g.txt").write_bytes(b"1 2 3\n4 5 5\n3 2 1\n5 5 4\n")
    status, out, _ = cli(capsys, "--data", str(tmp_path / "m.txt"), "--gold", str(tmp_path / "g.txt"), "--k", "2")
    assert status == 0
    dataset = load_dataset(tmp_path / "m.txt", tmp_path / "g.txt")
    (want,) = expected_runs(dataset.X, "em", (2,), (0,))
    X_pred = em.fill_matrix(dataset.X, want["mixture"])
    best_line = out.splitlines()[-1]
    assert f"{rmse(dataset.gold, X_pred):.6f}" in best_line
    assert f"{rmse(dataset.gold, X_pred, dataset.X == 0):.6f}" in best_line


@pytest.mark.course
def test_course_test_set_reproduces_the_course_solution(course_dir):
    # test_solutions.txt holds the course's LL and RMSE for test_incomplete.txt with K=4, seed 0
    solutions = (course_dir / "test_solutions.txt").read_text()
    course_ll = float(re.findall(r"^LL:\s*(\S+)", solutions, flags=re.M)[-1])
    course_rmse = float(re.search(r"^RMSE:\s*(\S+)", solutions, flags=re.M).group(1))
    result = cli_process("fit", "--data", "test", "--k", "4", "--seeds", "0", "--json")
    assert result.returncode == 0, result.stderr
    (row,) = json.loads(result.stdout)["best_per_k"]
    assert row["log_likelihood"] == pytest.approx(course_ll, rel=1e-9)
    assert row["rmse"] == pytest.approx(course_rmse, rel=1e-9)


# ---------------------------------------------------------------- the table


def test_without_json_a_readable_table(capsys):
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "2", "3", "--seeds", "0", "2")
    assert (status, err) == (0, "")
    with pytest.raises(json.JSONDecodeError):
        json.loads(out)
    lines = out.splitlines()
    assert lines[0].split() == ["demo-small", "(em)"]
    assert lines[2].split() == ["K", "seed", "log_likelihood", "iters", "seconds", "stopped"]

    dataset = load_dataset("demo-small")
    runs = expected_runs(dataset.X, "em", (2, 3), (0, 2))
    for line, want in zip(lines[3:7], runs, strict=True):
        assert line.split()[:3] == [str(want["k"]), str(want["seed"]), f"{want['score']:.4f}"]

    best_at = lines.index("best per K")
    assert lines[best_at + 1].split() == ["K", "seed", "log_likelihood", "BIC", "RMSE", "RMSE", "missing"]
    for line, K in zip(lines[best_at + 2 :], (2, 3), strict=True):
        best = best_by_hand(runs, K, "em")
        X_pred = em.fill_matrix(dataset.X, best["mixture"])
        assert line.split() == [
            str(K),
            str(best["seed"]),
            f"{best['score']:.4f}",
            f"{bic(dataset.X, best['mixture'], best['score']):.4f}",
            f"{rmse(dataset.gold, X_pred):.6f}",
            f"{rmse(dataset.gold, X_pred, dataset.X == 0):.6f}",
        ]


def test_table_shows_a_dash_where_there_is_no_score(capsys):
    status, out, _ = cli(capsys, "--data", "demo-2d", "--algorithm", "kmeans", "--k", "2")
    assert status == 0
    best_line = out.splitlines()[-1].split()
    assert best_line[:2] == ["2", "0"] and best_line[-2:] == ["-", "-"]
    assert "BIC" not in out


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("case", bad_cases(), ids=lambda c: c.name)
def test_bad_file_is_one_error_line(case, capsys, tmp_path):
    status, out, err = cli(capsys, *write(tmp_path, case), "--k", str(case.k), "--json")
    line = assert_one_error_line(status, out, err, case.blamed_file)
    assert re.search(case.message, line)


@pytest.mark.parametrize("case", valid_cases(), ids=lambda c: c.name)
def test_valid_edge_case_runs(case, capsys, tmp_path):
    status, out, err = cli(capsys, *write(tmp_path, case), "--k", "1", "--json")
    assert (status, err) == (0, "")
    summary = json.loads(out)
    assert summary["dataset"] == case.filename
    assert np.isfinite(summary["best_per_k"][0]["log_likelihood"])


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--data", "demo-small", "--k", "21"], ["demo-small: K must be between 1 and 20", "choose K from 1 to 20"]),
        (["--data", "demo-small", "--k", "2", "0"], ["got 0"]),
        (["--data", "demo-small", "--k", "2", "--seeds", "-1"], ["seed must be a whole number from 0"]),
        (["--data", "demo-small", "--k", "2", "--max-iter", "0"], ["iteration limit must be a whole number >= 1"]),
        (["--data", "demo-small", "--k", "2", "--min-variance", "-1"], ["min variance must be a finite number >= 0"]),
        (["--data", "demo-small", "--k", "2", "--min-variance", "nan"], ["got nan"]),
        (["--data", "no-such-set", "--k", "2"], ["no-such-set: no such file or data set", "demo-small"]),
    ],
    ids=["k-above-rows", "k-zero", "negative-seed", "max-iter-0", "negative-variance", "nan-variance", "unknown-set"],
)
def test_bad_settings_are_one_error_line(args, fragments, capsys):
    assert_one_error_line(*cli(capsys, *args), *fragments)


def test_missing_gold_file_and_folder_as_data(capsys, tmp_path):
    (tmp_path / "m.txt").write_bytes(b"1 2\n3 4\n")
    missing_gold = str(tmp_path / "gold.txt")
    assert_one_error_line(
        *cli(capsys, "--data", str(tmp_path / "m.txt"), "--gold", missing_gold, "--k", "1"), "gold.txt"
    )
    assert_one_error_line(*cli(capsys, "--data", str(tmp_path), "--k", "1"), "is a folder, not a file")


def test_course_set_without_its_files_says_where_to_put_them(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EM_DATA_DIR", str(tmp_path))
    assert_one_error_line(*cli(capsys, "--data", "netflix", "--k", "2"), "netflix_incomplete.txt", str(tmp_path))


@pytest.mark.parametrize(
    ("argv", "mentions"),
    [
        (["fit", "--data", "demo-small"], "--k"),  # --k is required
        (["fit", "--data", "demo-small", "--k", "two"], "--k"),
        (["fit", "--data", "demo-small", "--k", "2", "--algorithm", "gmm"], "--algorithm"),
        ([], "command"),
    ],
    ids=["missing-k", "k-not-a-number", "unknown-algorithm", "no-command"],
)
def test_argparse_misuse_exits_non_zero_without_traceback(argv, mentions, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    out, err = capsys.readouterr()
    assert info.value.code != 0
    assert out == ""
    assert "Traceback" not in err
    assert "usage: python -m em_core" in err
    assert mentions in err.splitlines()[-1]


# ---------------------------------------------------------------- what a real terminal shows


def test_process_bad_file_shows_one_line_and_no_traceback(tmp_path):
    case = next(c for c in bad_cases() if c.name == "latin1")
    result = cli_process("fit", *write(tmp_path, case), "--k", "1", "--json")
    assert_one_error_line(result.returncode, result.stdout, result.stderr, case.filename, "line 3")


def test_process_missing_k_shows_usage_and_no_traceback():
    result = cli_process("fit", "--data", "demo-small")
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert "the following arguments are required: --k" in result.stderr


def test_process_json_is_the_only_thing_on_stdout():
    result = cli_process("fit", "--data", "demo-small", "--k", "2", "--json")
    assert result.returncode == 0
    assert result.stderr.startswith("run 1/1: em K=2 seed=0: ")  # the progress goes to stderr
    summary = json.loads(result.stdout)
    assert summary["best_per_k"][0]["k"] == 2


# ---------------------------------------------------------------- hostile input: no hang, no memory filled, no NaN


class Measured(NamedTuple):
    """What a user's ``python -m em_core`` run did, with its wall time and peak memory."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    max_rss_mb: float


#: Runs its arguments as a child and writes the child's own peak RSS (KiB) to the file named first. A
#: child's peak RSS counts its parent's at the fork, so the CLI is forked from this small launcher
#: rather than from the test process (which may hold hundreds of MB by then).
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "proc = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(proc.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status))\n"
)


def cli_measured(*args: str, timeout: float = 60.0) -> Measured:
    """Run ``python -m em_core`` and measure it: wall time and the process's own peak RSS.

    A run still going after ``timeout`` seconds is killed and the test fails: that is a hang,
    not a slow run.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "max_rss_kib"
        command = [sys.executable, "-c", _LAUNCHER, str(peak), sys.executable, "-m", "em_core", *args]
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=REPO, stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            pytest.fail(f"python -m em_core {' '.join(args)} did not end within {timeout} s")
        seconds = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode, out.read().decode(), err.read().decode(), seconds, int(peak.read_text()) / 1024
        )


#: Peak memory of an em_core process that stops at its input (Python, numpy and scipy take ~65 MB);
#: reading /dev/zero took 5.4 GB before.
MAX_RSS_OF_A_REFUSAL_MB = 300


def test_huge_ratings_end_at_once_with_the_largest_usable_magnitude(tmp_path):
    # the 30 x 6 file of ratings ~1e200: `fit` ran at 100 % CPU until killed
    case = next(c for c in bad_cases() if c.name == "huge-ratings")
    run = cli_measured("fit", *write(tmp_path, case), "--k", "2", "--seeds", "0", "--quiet")
    line = assert_one_error_line(run.returncode, run.stdout, run.stderr, case.filename)
    assert "the largest usable magnitude is 1.24e+152" in line
    assert "Warning" not in run.stderr  # no RuntimeWarning with a file path
    print(f"huge ratings refused in {run.seconds:.2f} s, {run.max_rss_mb:.0f} MB")


@pytest.mark.parametrize("case", path_cases(), ids=lambda c: c.name)
@pytest.mark.parametrize("option", ["--data", "--gold"])
def test_a_path_that_is_not_a_file_is_one_line_at_once(case, option, tmp_path):
    path = case.make(tmp_path)
    if not os.path.lexists(path):
        pytest.skip(f"{path} does not exist on this system")
    data = ["--data", str(path)] if option == "--data" else ["--data", str(write_ok(tmp_path)), "--gold", str(path)]
    run = cli_measured("fit", *data, "--k", "1", timeout=30)
    line = assert_one_error_line(run.returncode, run.stdout, run.stderr, str(path))
    assert re.search(case.message, line), line
    assert "no such file" not in line
    assert run.max_rss_mb < MAX_RSS_OF_A_REFUSAL_MB, f"{run.max_rss_mb:.0f} MB to refuse {path}"
    print(f"{option} {case.name}: refused in {run.seconds:.2f} s, {run.max_rss_mb:.0f} MB")


def write_ok(folder: Path) -> Path:
    path = folder / "ok.txt"
    path.write_bytes(b"1 2\n3 4\n5 6\n")
    return path


def test_min_variance_1e308_is_one_clear_error(capsys):
    # it used to exit 0 with -Infinity and NaN in the "JSON"
    line = assert_one_error_line(*cli(capsys, "--data", "demo-small", "--k", "2", "--min-variance", "1e308", "--json"))
    assert "min variance 1e+308 is too large" in line and "the default is 0.25" in line


def test_strict_json_names_a_non_finite_value_instead_of_writing_it():
    summary = {"dataset": "x.txt", "runs": [{"k": 2, "log_likelihood": -1.5}], "best_per_k": [{"bic": float("-inf")}]}
    with pytest.raises(DataError) as info:
        strict_json(summary)
    assert str(info.value) == (
        "x.txt: best_per_k[0].bic is -inf, not a finite number, which JSON cannot hold; "
        "rescale the data (divide every value by the same power of 10)"
    )
    assert json.loads(strict_json({"a": [1.5, None, "nan"]})) == {"a": [1.5, None, "nan"]}


def test_a_closed_pipe_ends_quietly():
    # `python -m em_core fit ... --json | true`: the reader is gone before the JSON is written
    command = f"{shlex.quote(sys.executable)} -m em_core fit --data demo-small --k 2 3 --seeds 0 1 2 --json | true"
    result = subprocess.run(["bash", "-c", command], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert all(line.startswith("run ") for line in result.stderr.splitlines()), result.stderr  # progress only
    # the same with the pipe closed for certain: exit status 1, as Python's documentation recommends
    proc = subprocess.Popen(
        [sys.executable, "-m", "em_core", "fit", "--data", "demo-small", "--k", "2", "--json", "--quiet"],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert err == ""


def test_progress_without_a_terminal_is_one_plain_line_per_finished_run():
    result = cli_process("fit", "--data", "demo-small", "--k", "2", "3", "--seeds", "0", "1", "2", "--json")
    assert result.returncode == 0
    summary = json.loads(result.stdout)  # stdout stays pure JSON
    assert "\r" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == len(summary["runs"]) == 6
    for i, (line, run) in enumerate(zip(lines, summary["runs"], strict=True), start=1):
        assert line == (
            f"run {i}/6: em K={run['k']} seed={run['seed']}: log_likelihood {run['log_likelihood']:.4f} "
            f"after {run['iterations']} iterations (converged)"
        )
    quiet = cli_process("fit", "--data", "demo-small", "--k", "2", "3", "--seeds", "0", "1", "2", "--json", "--quiet")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert json.loads(quiet.stdout)["runs"] == [
        {**r, "seconds": pytest.approx(r["seconds"], abs=10)} for r in summary["runs"]
    ]


def test_help_shows_the_iteration_cap_and_quiet():
    result = cli_process("fit", "--help")
    text = " ".join(result.stdout.split())
    assert result.returncode == 0
    assert f"--max-iter N stop a run after N iterations if its stopping rule has not held (default: {MAX_ITER})" in text
    assert "--quiet" in text and "one line per finished run" in text
    assert f"folders in EM_DATA_DIR, separated by '{os.pathsep}' as in PATH" in text


def test_a_run_stopped_by_the_cap_says_so_in_the_json_the_table_and_on_stderr(capsys):
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "3", "--seeds", "0", "1", "--max-iter", "2", "--json")
    assert status == 0
    runs = json.loads(out)["runs"]
    assert [(r["iterations"], r["stopped_by_cap"]) for r in runs] == [(2, True), (2, True)]
    assert err.splitlines() == [
        f"warning: em K=3 seed={seed} stopped at the iteration cap (--max-iter 2) before its stopping rule held; "
        "raise --max-iter to let it converge"
        for seed in (0, 1)
    ]
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "3", "--seeds", "0", "--max-iter", "2")
    lines = out.splitlines()
    assert lines[2].split()[-1] == "stopped" and lines[3].split()[-1] == "cap"
    # a run that converges says "rule"
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "3", "--seeds", "0")
    assert (status, err) == (0, "") and out.splitlines()[3].split()[-1] == "rule"
    assert (
        json.loads(cli(capsys, "--data", "demo-small", "--k", "3", "--json")[1])["runs"][0]["stopped_by_cap"] is False
    )


# ---------------------------------------------------------------- compare: EM variants against the baselines


def compare_cli(capsys, *args: str) -> tuple[int, str, str]:
    status = main(["compare", *args, "--quiet"])
    out, err = capsys.readouterr()
    return status, out, err


def test_compare_json_is_em_cores_comparison(capsys):
    from em_core import real_data_comparison, real_data_options

    status, out, err = compare_cli(
        capsys, "--data", "demo-small", "--k", "2", "3", "--holdout", "0.2", "--holdout-seeds", "0", "1",
        "--variants", "course", "residuals+prior", "--prior-strength", "4", "--baselines", "user_mean",
        "user_item_bias", "--json",
    )  # fmt: skip
    assert (status, err) == (0, "")
    summary = json.loads(out)
    variants = [real_data_options.COURSE, real_data_options.EMOptions(residuals=True, prior_strength=4.0)]
    X = load_dataset("demo-small").X
    expected = real_data_comparison.compare(
        X, [2, 3], variants, holdout_seeds=[0, 1], fraction=0.2, methods=["user_mean", "user_item_bias"]
    )
    assert summary["shape"] == [20, 5] and summary["observed"] == int((X != 0).sum())
    assert summary["holdout"] == {"fraction": 0.2, "seeds": [0, 1], "n_hidden": list(expected.n_hidden)}
    assert [(r["name"], r["k"], r["rmse_holdout"]) for r in summary["rows"]] == [
        (row.name, row.k, list(row.rmse)) for row in expected.rows
    ]
    assert summary["verdict"] == expected.verdict


def test_compare_prints_the_table_with_the_verdict(capsys):
    status, out, _ = compare_cli(capsys, "--data", "demo-small", "--k", "2", "--baselines", "user_item_bias")
    assert status == 0
    lines = out.splitlines()
    assert lines[0].startswith("demo-small: 20 x 5, 81 ratings; 10 % held out per split")
    labels = [line[:52].strip() for line in lines[3:9]]
    assert labels == [
        "EM as in the course",
        "EM, item-mean start",
        "EM on residuals",
        "EM, prior λ = 20",
        "EM on residuals, item-mean start, prior λ = 20",
        "User + item bias",
    ]
    assert "the user + item bias baseline" in lines[-1]  # the verdict closes the table


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--k", "2", "--prior-strength", "-1"], "the prior strength must be a finite number >= 0, got -1.0"),
        (["--k", "2", "--holdout", "1.5"], "the held-out fraction must be a number strictly between 0 and 1"),
        (["--k", "99"], "demo-small"),  # more components than the 20 users
    ],
)
def test_compare_bad_input_is_one_line(capsys, args, fragment):
    status, out, err = compare_cli(capsys, "--data", "demo-small", *args)
    assert_one_error_line(status, out, err, fragment)


@pytest.mark.parametrize(
    "lines, algorithm, shape, observed",
    [
        # rating triplets: users x items, one rating per line
        (["userId,movieId,rating", "7,30,4", "7,10,5", "2,30,3.5", "9,20,1"], "em", [3, 3], 4),
        # a matrix file: 0 is missing, so only the non-zero values are ratings
        (["5 0 3", "0 1 4", "2 0 0"], "em", [3, 3], 5),
        # complete points: every value counts
        (["0.5 1.0", "2.0 -1.0", "0 0", "3 3"], "kmeans", [4, 2], 8),
    ],
)
def test_json_gives_the_shape_and_the_number_of_observed_values(capsys, tmp_path, lines, algorithm, shape, observed):
    path = tmp_path / "data.csv"
    path.write_text("\n".join(lines) + "\n")
    status, out, err = cli(capsys, "--data", str(path), "--algorithm", algorithm, "--k", "1", "--seeds", "0", "--json")
    assert (status, err) == (0, "")
    summary = json.loads(out)
    assert (summary["shape"], summary["observed"]) == (shape, observed)
    assert summary["shape"] == list(load_dataset(path, kind="ratings" if algorithm == "em" else "points").X.shape)


def test_form_auto_fits_a_sparse_ratings_file_as_csr_with_the_dense_numbers(capsys, tmp_path):
    # a MovieLens-like triplet file (~3 % observed): auto keeps it sparse, and every number is the dense one's
    rng = np.random.RandomState(5)
    users, items = rng.randint(1, 80, 400), rng.randint(1, 200, 400)
    pairs = sorted(set(zip(users.tolist(), items.tolist(), strict=True)))
    lines = ["userId,movieId,rating", *(f"{u},{i},{rng.randint(1, 6)}" for u, i in pairs)]
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    assert choose_form(*load_dataset(path).X.shape, len(pairs)) == "sparse"
    runs = {}
    for form in ("auto", "dense", "sparse"):
        args = ("--data", str(path), "--k", "1", "3", "--seeds", "0", "1", "--holdout", "0.2", "--form", form, "--json")
        status, out, err = cli(capsys, *args)
        assert (status, err) == (0, ""), err
        runs[form] = json.loads(out)
    for form in ("auto", "sparse"):
        for mine, dense in zip(runs[form]["best_per_k"], runs["dense"]["best_per_k"], strict=True):
            assert mine["log_likelihood"] == pytest.approx(dense["log_likelihood"], rel=1e-9)
            assert mine["rmse_holdout"] == pytest.approx(dense["rmse_holdout"], rel=1e-9)
        for name, value in runs["dense"]["baselines_holdout"].items():
            assert runs[form]["baselines_holdout"][name] == pytest.approx(value, rel=1e-9), name


def test_form_sparse_with_a_gold_matrix_is_one_line(capsys):
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "2", "--seeds", "0", "--form", "sparse")
    assert_one_error_line(status, out, err, "drop --form sparse")
