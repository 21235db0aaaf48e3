"""Issue 14's crashes on valid input, as a user meets them: a 0/1 "likes" matrix (every rating 1) and a
hold-out that hides almost every rating end with a table, never a traceback; one failing baseline is n/a."""

from __future__ import annotations

import numpy as np
import pytest

from em_core import baselines
from tests.apptest_helpers import Dashboard
from tests.test_cli import cli_process

#: 60 users x 60 items, every rating 1 ("likes"): Soft-Impute's ARPACK start vector was zero on it.
LIKES = b"\n".join(b" ".join([b"1"] * 60) for _ in range(60)) + b"\n"


def _ran_cleanly(result) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_cli_scores_a_likes_matrix_on_held_out_ratings_without_a_traceback(tmp_path):
    path = tmp_path / "likes.txt"
    path.write_bytes(LIKES)
    result = cli_process("fit", "--data", str(path), "--k", "2", "--seeds", "0", "--holdout", "0.1")
    _ran_cleanly(result)
    assert "soft_impute" in result.stdout  # every baseline has its row (a number, or n/a)


@pytest.mark.course
def test_the_cli_hides_all_but_a_few_ratings_of_netflix_without_a_traceback(course_dir):
    result = cli_process("fit", "--data", "netflix", "--k", "2", "--seeds", "0", "--holdout", "0.999999")
    _ran_cleanly(result)


def test_completion_vs_gold_on_a_likes_matrix_shows_every_method_and_no_exception():
    app = Dashboard(em_k=2)
    app.upload("likes.txt", LIKES)
    app.open("completion")  # Dashboard.run fails the test on any exception the page raises
    assert app.at.toggle(key="cmp_holdout").value is True  # small: scored by itself, as before
    table = next(df.value for df in app.at.dataframe if "method" in df.value.columns)
    assert len(table) == 1 + len(baselines.METHODS) and np.isfinite(table["RMSE"].iloc[0])  # EM and every baseline
