"""``python -m em_core fit --holdout FRACTION``: EM and the baselines scored on the same hidden ratings.

The numbers in the JSON are recomputed here straight from em_core (hide, init, em.run, fill_matrix)
and the baselines package.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from em_core import em
from em_core.baselines import METHODS, NUMPY_METHODS, score_on
from em_core.data import load_dataset
from em_core.holdout import hide, holdout_rmse
from em_core.mixture import bic, init, rmse
from tests.test_cli import REPO, assert_one_error_line, cli, cli_process

#: The top-level keys of a --holdout run; without --holdout only the first four.
HOLDOUT_KEYS = {"dataset", "algorithm", "shape", "observed", "runs", "best_per_k", "holdout", "baselines_holdout"}
ROW_KEYS = {"k", "seed", "log_likelihood", "bic", "rmse", "rmse_missing", "rmse_holdout"}


def fit_by_hand(X_train: np.ndarray, ks, seeds) -> dict[int, tuple]:
    """For each K the (seed, mixture, LL) with the highest log-likelihood, first seed on ties."""
    best = {}
    for K in ks:
        for seed in seeds:
            mixture, _, ll = em.run(X_train, *init(X_train, K, seed))
            if K not in best or ll > best[K][2]:
                best[K] = (seed, mixture, ll)
    return best


# ---------------------------------------------------------------- the JSON


def test_holdout_json_equals_a_direct_computation(capsys):
    ks, seeds, fraction, holdout_seed = (2, 3), (0, 1, 2), 0.2, 5
    status, out, err = cli(
        capsys,
        *("--data", "demo-small", "--k", *map(str, ks), "--seeds", *map(str, seeds)),
        *("--holdout", str(fraction), "--holdout-seed", str(holdout_seed), "--json"),
    )
    assert (status, err) == (0, "")
    summary = json.loads(out)
    assert set(summary) == HOLDOUT_KEYS

    dataset = load_dataset("demo-small")
    X, gold = dataset.X, dataset.gold
    holdout = hide(X, fraction, holdout_seed)
    assert summary["holdout"] == {"fraction": fraction, "seed": holdout_seed, "n_hidden": holdout.n_hidden}
    assert holdout.n_hidden == round(fraction * (X != 0).sum())

    best = fit_by_hand(holdout.X_train, ks, seeds)
    for row in summary["best_per_k"]:
        seed, mixture, ll = best[row["k"]]
        X_pred = em.fill_matrix(holdout.X_train, mixture)
        assert set(row) == ROW_KEYS
        assert row["seed"] == seed
        assert row["log_likelihood"] == pytest.approx(ll, rel=1e-12)  # fitted on X_train, not on X
        assert row["bic"] == pytest.approx(bic(holdout.X_train, mixture, ll), rel=1e-12)
        # scored against the ORIGINAL ratings on the hidden entries
        assert row["rmse_holdout"] == pytest.approx(rmse(X, X_pred, holdout.hidden), rel=1e-12)
        # the gold scores are those of the completion of X_train; "missing" includes the hidden entries
        assert row["rmse"] == pytest.approx(rmse(gold, X_pred), rel=1e-12)
        assert row["rmse_missing"] == pytest.approx(rmse(gold, X_pred, holdout.X_train == 0), rel=1e-12)

    # the baselines: the numpy ones (KNN needs scikit-learn and ~5 s on 1200 x 1200, so the CLI leaves it out)
    assert list(summary["baselines_holdout"]) == list(NUMPY_METHODS)
    for name, value in summary["baselines_holdout"].items():
        X_pred = METHODS[name][1](holdout.X_train)
        assert value == pytest.approx(score_on(X, X_pred, holdout.hidden), rel=1e-12)


def test_without_holdout_the_json_has_no_holdout_fields(capsys):
    status, out, _ = cli(capsys, "--data", "demo-small", "--k", "2", "--json")
    assert status == 0
    summary = json.loads(out)
    assert set(summary) == {"dataset", "algorithm", "shape", "observed", "runs", "best_per_k"}
    assert "rmse_holdout" not in summary["best_per_k"][0]


def test_same_holdout_seed_same_numbers_other_seed_other_entries(capsys):
    def run(seed: str) -> dict:
        status, out, _ = cli(
            capsys, "--data", "demo-small", "--k", "3", "--holdout", "0.3", "--holdout-seed", seed, "--json"
        )
        assert status == 0
        summary = json.loads(out)
        for r in summary["runs"]:
            r.pop("seconds")
        return summary

    first, again, other = run("1"), run("1"), run("2")
    assert first == again
    assert other["holdout"]["n_hidden"] == first["holdout"]["n_hidden"]
    assert other["best_per_k"] != first["best_per_k"]


def test_holdout_seed_defaults_to_0(capsys):
    _, out, _ = cli(capsys, "--data", "demo-small", "--k", "2", "--holdout", "0.25", "--json")
    summary = json.loads(out)
    assert summary["holdout"]["seed"] == 0
    (row,) = summary["best_per_k"]
    X = load_dataset("demo-small").X
    holdout = hide(X, 0.25, 0)
    _, mixture, _ = fit_by_hand(holdout.X_train, (2,), (0,))[2]
    assert row["rmse_holdout"] == pytest.approx(holdout_rmse(X, holdout, em.fill_matrix(holdout.X_train, mixture)))


def test_a_file_without_gold_gets_a_held_out_score(capsys, tmp_path):
    X = np.random.RandomState(0).randint(1, 6, size=(30, 8)).astype(float)
    X[np.random.RandomState(1).random_sample(X.shape) < 0.3] = 0
    path = tmp_path / "mine.txt"
    np.savetxt(path, X, fmt="%d")
    status, out, err = cli(capsys, "--data", str(path), "--k", "2", "--holdout", "0.1", "--json")
    assert (status, err) == (0, "")
    (row,) = json.loads(out)["best_per_k"]
    assert (row["rmse"], row["rmse_missing"]) == (None, None)  # no gold, but a score all the same
    assert np.isfinite(row["rmse_holdout"])


# ---------------------------------------------------------------- the table


def test_table_shows_the_held_out_rmse_of_em_and_of_the_baselines(capsys):
    status, out, err = cli(capsys, "--data", "demo-small", "--k", "2", "3", "--holdout", "0.2")
    assert (status, err) == (0, "")
    _, json_out, _ = cli(capsys, "--data", "demo-small", "--k", "2", "3", "--holdout", "0.2", "--json")
    summary = json.loads(json_out)
    lines = out.splitlines()

    best_at = lines.index("best per K")
    assert lines[best_at + 1].split() == [
        *("K", "seed", "log_likelihood", "BIC", "RMSE", "RMSE", "missing", "RMSE", "held-out")
    ]
    for line, row in zip(lines[best_at + 2 : best_at + 4], summary["best_per_k"], strict=True):
        assert line.split()[0] == str(row["k"])
        assert line.split()[-1] == f"{row['rmse_holdout']:.6f}"

    held_at = next(i for i, line in enumerate(lines) if line.startswith("held out:"))
    n_hidden = summary["holdout"]["n_hidden"]
    assert lines[held_at] == f"held out: {n_hidden} observed ratings (20 % of them, seed 0), fitted without them"
    assert lines[held_at + 1].split() == ["baseline", "RMSE", "held-out"]
    shown = dict(line.split() for line in lines[held_at + 2 :])
    assert shown == {name: f"{value:.6f}" for name, value in summary["baselines_holdout"].items()}


def test_table_without_holdout_is_unchanged(capsys):
    _, out, _ = cli(capsys, "--data", "demo-small", "--k", "2")
    assert "held-out" not in out and "held out" not in out


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0", "got 0.0"),  # the ends are excluded
        ("1", "got 1.0"),
        ("1.5", "got 1.5"),
        ("-0.1", "got -0.1"),
        ("nan", "got nan"),
        ("ten", "got 'ten'"),  # not a number at all: still one line, not argparse's usage
    ],
)
def test_bad_fraction_is_one_error_line(value, shown, capsys):
    assert_one_error_line(
        *cli(capsys, "--data", "demo-small", "--k", "2", "--holdout", value),
        "held-out fraction must be a number strictly between 0 and 1",
        shown,
        "e.g. 0.1 hides 10 %",
    )


def test_fraction_too_small_for_the_data_names_the_data(capsys, tmp_path):
    path = tmp_path / "three.txt"
    path.write_bytes(b"1 0 3\n0 2 0\n")
    assert_one_error_line(
        *cli(capsys, "--data", str(path), "--k", "1", "--holdout", "0.1"),
        "three.txt: X has 3 observed rating(s) and 0.1 of them rounds to 0",
    )


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (["--holdout-seed", "3"], ["--holdout-seed needs --holdout FRACTION"]),
        (["--holdout", "0.1", "--holdout-seed", "-1"], ["--holdout-seed: seed must be a whole number from 0"]),
        (
            ["--holdout", "0.1", "--algorithm", "kmeans"],
            ["--holdout scores a completion, which only --algorithm em makes", "kmeans"],
        ),
        (["--holdout", "0.1", "--algorithm", "naive-em"], ["only --algorithm em", "naive-em"]),
    ],
    ids=["seed-without-holdout", "negative-holdout-seed", "kmeans", "naive-em"],
)
def test_bad_holdout_settings_are_one_error_line(args, fragments, capsys):
    data = "demo-2d" if "--algorithm" in args else "demo-small"
    assert_one_error_line(*cli(capsys, "--data", data, "--k", "2", *args), *fragments)


# ---------------------------------------------------------------- what a real terminal shows


def test_process_bad_fraction_is_one_line_without_traceback():
    result = cli_process("fit", "--data", "demo-small", "--k", "2", "--holdout", "2")
    assert_one_error_line(result.returncode, result.stdout, result.stderr, "strictly between 0 and 1")


def test_holdout_run_does_not_import_scikit_learn():
    code = (
        "import sys\n"
        "from em_core.cli import main\n"
        "assert main(['fit', '--data', 'demo-small', '--k', '2', '--holdout', '0.2', '--json']) == 0\n"
        "assert not [m for m in sys.modules if m.startswith('sklearn')], 'scikit-learn was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.course
def test_netflix_holdout_json_equals_a_direct_computation(course_dir):
    # about 5 s on an idle machine: reading the file, EM K=12 and the four baselines on 1200 x 1200
    result = cli_process("fit", "--data", "netflix", "--k", "12", "--holdout", "0.1", "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    X = load_dataset("netflix").X
    holdout = hide(X, 0.1, 0)
    assert summary["holdout"] == {"fraction": 0.1, "seed": 0, "n_hidden": holdout.n_hidden}
    _, mixture, ll = fit_by_hand(holdout.X_train, (12,), (0,))[12]
    (row,) = summary["best_per_k"]
    assert row["log_likelihood"] == pytest.approx(ll, rel=1e-12)
    X_pred = em.fill_matrix(holdout.X_train, mixture)
    assert row["rmse_holdout"] == pytest.approx(holdout_rmse(X, holdout, X_pred), rel=1e-12)
    # EM beats the means on netflix's held-out ratings (measured: EM 0.893, item mean 0.951, global 1.043)
    assert row["rmse_holdout"] < summary["baselines_holdout"]["item_mean"] < summary["baselines_holdout"]["global_mean"]
