"""Numbers written for people (em_core.wording): separators, a real minus sign, changes a reader can see."""

from __future__ import annotations

import math

import pytest

from em_core import wording

M = "\u2212"  # the minus sign a reader sees, not a hyphen


@pytest.mark.parametrize(
    "value, decimals, text",
    [
        (-1412.34, 1, f"{M}1,412.3"),
        (1390234.4223, 4, "1,390,234.4223"),
        (-0.04, 1, "0.0"),  # rounds to 0: no sign
        (0.25, 2, "0.25"),
        (math.inf, 1, "∞"),
        (-math.inf, 1, f"{M}∞"),
        (math.nan, 1, "NaN"),
    ],
)
def test_number(value, decimals, text):
    assert wording.number(value, decimals) == text


@pytest.mark.parametrize(
    "change, text",
    [
        (1.4, "+1.4"),
        (-546.64, f"{M}546.6"),
        (0.031, "+0.031"),  # two significant digits
        (-0.0004, f"{M}0.00040"),
        (3.2e-7, "+3.2e" + M + "07"),  # beyond MAX_DECIMALS: scientific
        (0.0, "±0"),
        (1102921.07, "+1,102,921.1"),
    ],
)
def test_signed(change, text):
    assert wording.signed(change) == text


def test_change_reads_like_the_issue():
    assert wording.change(-1412.3, -1410.9) == f"{M}1,412.3 → {M}1,410.9 (+1.4)"


def test_change_shows_the_digits_a_small_change_needs():
    # a gain of 0.00025 would vanish at one decimal: both values get the change's 5 decimals
    assert wording.change(0.08729, 0.08754) == "0.08729 → 0.08754 (+0.00025)"


@pytest.mark.parametrize(
    "value, noun, plural, text",
    [
        (1, "point", None, "1 point"),
        (23, "point", None, "23 points"),
        (2994, "missing entry", "missing entries", "2,994 missing entries"),
        (0, "user", None, "0 users"),
    ],
)
def test_count(value, noun, plural, text):
    assert wording.count(value, noun, plural) == text


def test_share():
    assert wording.share(0.0889) == "8.9 %"
