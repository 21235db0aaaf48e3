"""The command line: the JSON contract, the table, and bad input ending in one readable line, never a traceback.

Most runs call :func:`em_core.cli.main` in-process; a few start ``python -m em_core`` to see what a
user's terminal sees.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from em_core import em, experiment, kmeans, naive_em
from em_core.cli import main
from em_core.data import load_dataset
from em_core.mixture import bic, init, rmse
from tests.badfiles import bad_cases, valid_cases

REPO = Path(__file__).resolve().parents[1]
COURSE_RUNS = {"em": em.run, "kmeans": kmeans.run, "naive-em": naive_em.run}


def cli(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit status, stdout, stderr)."""
    status = main(["fit", *args])
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

    assert set(summary) == {"dataset", "algorithm", "runs", "best_per_k"}
    assert (summary["dataset"], summary["algorithm"]) == ("demo-small", "em")
    assert [(r["k"], r["seed"]) for r in summary["runs"]] == [(r["k"], r["seed"]) for r in runs]
    for row, want in zip(summary["runs"], runs, strict=True):
        assert set(row) == {"k", "seed", "log_likelihood", "iterations", "seconds"}
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
    assert lines[2].split() == ["K", "seed", "log_likelihood", "iters", "seconds"]

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
    assert (result.returncode, result.stderr) == (0, "")
    summary = json.loads(result.stdout)
    assert summary["best_per_k"][0]["k"] == 2
