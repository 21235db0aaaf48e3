"""Check your own numbers (em_core.report): the course's test_solutions.txt layout with em_core's numbers."""

from __future__ import annotations

import re

import numpy as np
import pytest

from em_core import em
from em_core.errors import DataError
from em_core.mixture import init, rmse
from em_core.report import course_report
from tests.helpers import random_ratings
from tests.solutions import SECTIONS, parse_solutions

# numpy prints arrays with 8 digits, so a printed value is within 5e-9 of the exact one;
# 1e-6 is the tolerance the course's grader uses.
ATOL = 1e-6

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def numbers(text):
    """Every number in the text, in order."""
    return np.array([float(token) for token in _NUMBER.findall(text)])


def skeleton(line):
    """A line with each number replaced by '#' and runs of white space by one space."""
    return " ".join(_NUMBER.sub("#", line).split())


def outline(parsed):
    """Sections and, in each, the entry names, in order."""
    return [(section, list(entries)) for section, entries in parsed.items()]


def assert_same_numbers(actual, expected):
    assert outline(actual) == outline(expected)
    for section, entries in expected.items():
        for name, value in entries.items():
            got = actual[section][name]
            assert np.shape(got) == np.shape(value), f"{section} / {name}"
            np.testing.assert_allclose(got, value, rtol=0, atol=ATOL, err_msg=f"{section} / {name}")


# ---------------------------------------------------------------- the course's file


@pytest.fixture(scope="module")
def course_texts(course_dir):
    X = np.loadtxt(course_dir / "test_incomplete.txt")
    gold = np.loadtxt(course_dir / "test_complete.txt")
    report = course_report(X, K=4, seed=0, X_gold=gold)
    return report, (course_dir / "test_solutions.txt").read_text()


@pytest.mark.course
def test_report_has_the_courses_sections_and_numbers(course_texts):
    report, solutions = course_texts
    assert_same_numbers(parse_solutions(report), parse_solutions(solutions))


@pytest.mark.course
def test_every_number_of_the_report_matches_the_course(course_texts):
    report, solutions = course_texts
    got, expected = numbers(report), numbers(solutions)
    assert got.size == expected.size
    np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


@pytest.mark.course
def test_report_lines_match_the_course_layout(course_texts, record_property):
    report, solutions = course_texts
    got, expected = report.splitlines(), solutions.splitlines()
    assert len(got) == len(expected)
    # line by line the same words, brackets and count of numbers; only digits may differ
    assert [skeleton(line) for line in got] == [skeleton(line) for line in expected]
    identical = sum(a == b for a, b in zip(got, expected, strict=True))
    # how many lines are byte-identical depends on numpy's printing and on rounding in the last
    # digit of the full-precision scalars (LL, RMSE); recorded, not asserted
    record_property("byte_identical_lines", f"{identical}/{len(expected)}")
    assert report.endswith("\n") and solutions.endswith("\n")


# ---------------------------------------------------------------- without course files


@pytest.fixture(scope="module")
def ratings():
    X = random_ratings(15, 4, 0.3, seed=7)
    gold = np.where(X == 0, 3.0, X)
    return X, gold


def test_report_prints_what_em_core_computes(ratings):
    X, gold = ratings
    parsed = parse_solutions(course_report(X, K=3, seed=1, X_gold=gold))
    start, uniform = init(X, 3, seed=1)
    post, log_likelihood = em.estep(X, start)
    first = em.mstep(X, post, start)
    fitted, last_post, last_ll = em.run(X, start, uniform)
    X_pred = em.fill_matrix(X, fitted)
    expected = {
        "Input": {"X": X, "K": 3.0, "Mu": start.mu, "Var": start.var, "P": start.p},
        "After first E-step": {"post": post, "LL": log_likelihood},
        "After first M-step": {"Mu": first.mu, "Var": first.var, "P": first.p},
        "After a run": {
            "Mu": fitted.mu,
            "Var": fitted.var,
            "P": fitted.p,
            "post": last_post,
            "LL": last_ll,
            "X_gold": gold,
            "X_pred": X_pred,
            "RMSE": rmse(gold, X_pred),
        },
    }
    assert_same_numbers(parsed, expected)
    # scalars are printed with all their digits
    assert parsed["After a run"]["LL"] == last_ll
    assert parsed["After a run"]["RMSE"] == rmse(gold, X_pred)


def test_report_without_gold_stops_after_the_run(ratings):
    X, _ = ratings
    report = course_report(X, K=2)
    parsed = parse_solutions(report)
    assert list(parsed) == list(SECTIONS)
    assert list(parsed["After a run"]) == ["Mu", "Var", "P", "post", "LL"]
    assert report.splitlines()[-1].startswith("LL: ")


def test_report_ignores_print_options_set_elsewhere(ratings):
    X, gold = ratings
    plain = course_report(X, K=2, X_gold=gold)
    with np.printoptions(precision=2, suppress=True, linewidth=200):
        assert course_report(X, K=2, X_gold=gold) == plain


def test_report_uses_min_variance(ratings):
    X, _ = ratings
    high = parse_solutions(course_report(X, K=2, min_variance=50.0))
    np.testing.assert_array_equal(high["After a run"]["Var"], [50.0, 50.0])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"K": 0}, r"K must be between 1 and 15 \(the number of rows\), got 0"),
        ({"K": 16}, r"K must be between 1 and 15"),
        ({"seed": -1}, r"seed must be a whole number from 0 to 4294967295, got -1"),
        ({"min_variance": -0.5}, r"min variance must be a finite number >= 0"),
        ({"X_gold": np.ones((15, 3))}, r"X_gold is 15 x 3 but X is 15 x 4; the gold matrix must have the same shape"),
        (
            {"X_gold": np.full((15, 4), 9.0)},
            r"X_gold line 1 column 1 is 9 but the observed rating in X is 5; the gold matrix must agree",
        ),
    ],
)
def test_report_rejects_bad_input(ratings, kwargs, match):
    X, _ = ratings
    with pytest.raises(DataError, match=match):
        course_report(X, **kwargs)


def test_report_rejects_a_matrix_with_nothing_observed():
    with pytest.raises(DataError, match=r"X: no observed entry"):
        course_report(np.zeros((4, 3)), K=2)
