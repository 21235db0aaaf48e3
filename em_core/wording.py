"""Numbers written for people, in the sentences em_core generates (:mod:`em_core.narration`,
:mod:`em_core.diagnostics`): thousands separators, a real minus sign (U+2212), a change with its
sign and enough digits to be seen, e.g. ``"LL −1,412.3 → −1,410.9 (+1.4)"``.
"""

from __future__ import annotations

import math

MINUS = "\u2212"
#: A change is shown with this many significant digits ...
SIGNIFICANT = 2
#: ... and at most this many decimals; a smaller change is written in scientific notation.
MAX_DECIMALS = 6


def number(value: float, decimals: int = 1) -> str:
    """``-1412.34`` -> ``"−1,412.3"``; a value that rounds to 0 has no sign."""
    value = float(value)
    if not math.isfinite(value):
        return {math.inf: "∞", -math.inf: f"{MINUS}∞"}.get(value, "NaN")
    if round(value, decimals) == 0:
        value = 0.0
    return f"{value:,.{decimals}f}".replace("-", MINUS)


def decimals_for(change: float, minimum: int = 1) -> int:
    """Decimals that show ``change`` with :data:`SIGNIFICANT` significant digits (at least ``minimum``)."""
    change = abs(float(change))
    if change == 0 or not math.isfinite(change):
        return minimum
    return max(minimum, SIGNIFICANT - 1 - math.floor(math.log10(change)))


def signed(change: float, decimals: int | None = None) -> str:
    """``1.4`` -> ``"+1.4"``, ``-0.031`` -> ``"−0.031"``, ``0`` -> ``"±0"``; tiny changes as ``"+3.2e−07"``."""
    change = float(change)
    if change == 0:
        return "±0"
    if decimals is None:
        decimals = decimals_for(change)
    if decimals > MAX_DECIMALS:
        return f"{change:+.1e}".replace("-", MINUS)
    text = number(change, decimals)
    return text if text.startswith(MINUS) else f"+{text}"


def change(old: float, new: float) -> str:
    """``"−1,412.3 → −1,410.9 (+1.4)"``: both values with the decimals the change needs (at most
    :data:`MAX_DECIMALS`)."""
    delta = float(new) - float(old)
    decimals = min(decimals_for(delta), MAX_DECIMALS)
    return f"{number(old, decimals)} → {number(new, decimals)} ({signed(delta)})"


def count(value: int, noun: str, plural: str | None = None) -> str:
    """``1, "point"`` -> ``"1 point"``, ``1234, "point"`` -> ``"1,234 points"``."""
    value = int(value)
    word = noun if value == 1 else (plural or f"{noun}s")
    return f"{value:,} {word}"


def share(fraction: float) -> str:
    """``0.0889`` -> ``"8.9 %"``."""
    return f"{number(100.0 * float(fraction), 1)} %"
