"""The formulas as LaTeX (dashboard.formula_latex): every number of em_core's terms shows, in KaTeX's shape."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given

from dashboard.formula_latex import latex_estep, latex_mstep, latex_number, latex_stopping
from em_core.explain import estep_terms, mstep_terms, stopping_terms
from em_core.mixture import GaussianMixture
from tests.test_explain import problems


@pytest.mark.parametrize(
    "value, text",
    [
        (0.25, "0.25"),
        (-12.345678, "-12.3457"),  # 6 significant digits
        (5.0, "5"),
        (1.5e-7, r"1.5 \times 10^{-7}"),
        (1e-6, "10^{-6}"),  # no "1 \times"
        (-1e-20, "-10^{-20}"),
        (123456789.0, r"1.23457 \times 10^{8}"),
        (float("nan"), r"\text{NaN}"),
        (float("-inf"), r"-\infty"),
    ],
)
def test_latex_number(value, text):
    assert latex_number(value) == text


def assert_katex_shaped(latex):
    """Balanced braces and \\left/\\right, one aligned block, no Python exponent (1e-05) left in."""
    assert latex.startswith(r"\begin{aligned}") and latex.endswith(r"\end{aligned}")
    assert latex.count("{") == latex.count("}")
    depth = 0
    for char in latex:
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0
    assert latex.count(r"\left") == latex.count(r"\right")
    assert not re.search(r"\de[+-]?\d", latex)
    assert "nan" not in latex.lower().replace(r"\text{nan}", "")


@given(problems())
def test_latex_shows_the_terms(problem):
    X, mixture, post, u, j, i, empty_user, empty_item = problem
    for user in (u, empty_user):
        terms = estep_terms(X, mixture, user, j)
        latex = latex_estep(terms, user, j)
        assert_katex_shaped(latex)
        assert rf"u = {user + 1},\; j = {j + 1}" in latex  # shown 1-based
        for value in (terms.f, terms.logsumexp, terms.post, terms.sq_dist):
            assert latex_number(value) in latex
        assert ("no observed rating" in latex) == (terms.n_observed == 0)
    for item in (i, empty_item):
        terms = mstep_terms(X, post, mixture, j, item)
        latex = latex_mstep(terms, j, item)
        assert_katex_shaped(latex)
        assert rf"j = {j + 1},\; i = {item + 1}" in latex
        for value in (terms.p_hat, terms.mu_hat, terms.var_hat):
            assert latex_number(value) in latex
        assert ("updated" in latex) == terms.updated
        assert ("kept)" in latex) == (not terms.updated)


def test_latex_mstep_edge_cases():
    X = np.array([[3.0, 3.0], [3.0, 3.0], [0.0, 0.0]])
    post = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    mixture = GaussianMixture(np.full((2, 2), 2.0), np.array([9.0, 7.0]), np.array([0.5, 0.5]))
    floored = latex_mstep(mstep_terms(X, post, mixture, 0, 0), 0, 0)
    assert r"\text{(at the floor)}" in floored and r"\max\left(0,\ 0.25\right)" in floored
    empty = latex_mstep(mstep_terms(X, post, mixture, 1, 0), 1, 0)
    assert "no observed weight" in empty and r"\max\left(7,\ 0.25\right)" in empty
    for latex in (floored, empty):
        assert_katex_shaped(latex)


@pytest.mark.parametrize("ll_old, ll_new, verdict", [(-200.0, -100.0, "continue"), (-100.0, -100.0, "stop")])
def test_latex_stopping(ll_old, ll_new, verdict):
    latex = latex_stopping(stopping_terms(ll_old, ll_new))
    assert_katex_shaped(latex)
    assert rf"\text{{{verdict}}}" in latex
    assert r"= -100 - \left(" + latex_number(ll_old) + r"\right)" in latex
    assert r"10^{-6} \cdot 100 = 0.0001" in latex
