"""The formulas with the numbers, as LaTeX: the terms of :mod:`em_core.explain` written out for ``st.latex``.

Each ``latex_*`` function turns one of em_core's ``*_terms`` records into a KaTeX-compatible
``aligned`` block that shows the formula symbolically and then with the numbers substituted.
em_core computes every number; this module only formats them.

Indices: the ``*_terms`` functions take 0-based indices (``u = 0`` is the first row of X); the
``latex_*`` functions print them 1-based (``u = 1`` is row 0), as the course's notation numbers
users, components and items from 1.
"""

from __future__ import annotations

import math

from em_core.explain import EStepTerms, MStepTerms, StoppingTerms
from em_core.mixture import VAR_FLOOR

#: Significant digits of the numbers in the LaTeX strings.
DIGITS = 6
#: Up to this many components the E-step writes out every term of the log-sum-exp.
MAX_TERMS = 6


def latex_number(value: float, digits: int = DIGITS) -> str:
    """``value`` with ``digits`` significant digits, as LaTeX (``1.5 \\times 10^{-7}``)."""
    value = float(value)
    if math.isnan(value):
        return r"\text{NaN}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = f"{value:.{digits}g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = f"10^{{{int(exponent)}}}"
    if mantissa in ("1", "-1"):
        return mantissa[:-1] + power
    return rf"{mantissa} \times {power}"


def _numbers(terms: EStepTerms | MStepTerms | StoppingTerms) -> dict[str, str]:
    """Every float field of ``terms`` as LaTeX."""
    return {name: latex_number(value) for name, value in terms._asdict().items() if isinstance(value, float)}


def _paren(value: float) -> str:
    """A number to write after an operator: a negative one in parentheses."""
    text = latex_number(value)
    return rf"\left({text}\right)" if text.startswith("-") else text


def _signed_sum(values: list[float]) -> str:
    """``a - b + c`` from the terms ``[a, -b, c]``."""
    parts = [latex_number(values[0])]
    for value in values[1:]:
        text = latex_number(value)
        parts.append(f"- {text[1:]}" if text.startswith("-") else f"+ {text}")
    return " ".join(parts)


def _aligned(lines: list[str]) -> str:
    return r"\begin{aligned}" + r" \\ ".join(lines) + r"\end{aligned}"


def latex_estep(terms: EStepTerms, u: int, j: int) -> str:
    """The E-step for user ``u`` and component ``j``: a KaTeX ``aligned`` block for ``st.latex``.

    Each formula is written symbolically, then with the numbers of ``terms`` substituted
    (6 significant digits). ``u`` and ``j`` are the 0-based indices given to
    :func:`estep_terms`; they are printed 1-based (``u = 0``, the first row of X, shows as ``u = 1``).
    """
    t = _numbers(terms)
    K = len(terms.f_row)
    total = rf"\log \sum_{{l=1}}^{{{K}}} e^{{f(u,l)}}"
    lines = [
        rf"&u = {u + 1},\; j = {j + 1},\; |C_u| = {terms.n_observed},\; K = {K}",
        r"f(u,j) &= \log(p_j + 10^{-16}) - \frac{|C_u|}{2}\log(2\pi\sigma_j^2)"
        r" - \frac{\|x_{C_u} - \mu_{j,C_u}\|^2}{2\sigma_j^2}",
        rf"&= \log({t['p_j']} + 10^{{-16}}) - \frac{{{terms.n_observed}}}{{2}}\log(2\pi \cdot {t['var_j']})"
        rf" - \frac{{{t['sq_dist']}}}{{2 \cdot {t['var_j']}}}",
        rf"&= {_signed_sum([terms.log_p, terms.log_norm, terms.quad])}",
        rf"&= {t['f']}",
    ]
    if K <= MAX_TERMS:
        exponentials = " + ".join(rf"e^{{{latex_number(value)}}}" for value in terms.f_row)
        lines.append(rf"{total} &= \log\left({exponentials}\right) = {t['logsumexp']}")
    else:
        lines.append(rf"{total} &= {t['logsumexp']}")
    lines += [
        rf"p(j \mid u) &= \exp\left(f(u,j) - {total}\right)"
        rf" = \exp\left({t['f']} - {_paren(terms.logsumexp)}\right) = \exp\left({t['log_post']}\right)",
        rf"&= {t['post']}",
    ]
    if terms.n_observed == 0:
        lines.append(r"&\text{(no observed rating: } f(u,j) = \log(p_j + 10^{-16})\text{; the posterior is the prior)}")
    return _aligned(lines)


def latex_mstep(terms: MStepTerms, j: int, i: int, min_variance: float = 0.25) -> str:
    """The M-step for component ``j`` and item ``i``: a KaTeX ``aligned`` block for ``st.latex``.

    Each formula is written symbolically, then with the numbers of ``terms`` substituted
    (6 significant digits). ``j`` and ``i`` are the 0-based indices given to
    :func:`mstep_terms`; they are printed 1-based (``j = 0`` shows as ``j = 1``).
    ``min_variance`` is the floor the terms were computed with.
    """
    t = _numbers(terms)
    floor = latex_number(max(float(min_variance), VAR_FLOOR))
    weighted = r"\sum_{u=1}^{n} p(j \mid u)"
    lines = [
        rf"&j = {j + 1},\; i = {i + 1},\; n = {terms.n_users}",
        rf"\hat p_j &= \frac{{1}}{{n}} {weighted} = \frac{{{t['nk']}}}{{{terms.n_users}}} = {t['p_hat']}",
        rf"\text{{support}}_{{j,i}} &= {weighted}\, [i \in C_u] = {t['support']}",
    ]
    if terms.updated:
        lines.append(
            rf"\hat\mu_{{j,i}} &= \frac{{{weighted}\, x_{{ui}}\, [i \in C_u]}}{{{weighted}\, [i \in C_u]}}"
            rf" = \frac{{{t['weighted_sum']}}}{{{t['support']}}} = {t['mu_hat']}"
            r" \quad \text{(support} \ge 1\text{: updated)}"
        )
    else:
        lines.append(rf"\hat\mu_{{j,i}} &= \mu_{{j,i}} = {t['mu_hat']} \quad \text{{(support}} < 1\text{{: kept)}}")
    if terms.weight_total > 0:
        lines += [
            rf"\hat\sigma_j^2 &= \max\left(\frac{{{weighted}\, \|x_{{C_u}} - \hat\mu_{{j,C_u}}\|^2}}"
            rf"{{{weighted}\, |C_u|}},\ \sigma^2_{{\min}}\right)",
            rf"&= \max\left(\frac{{{t['sse']}}}{{{t['weight_total']}}},\ {floor}\right)"
            rf" = \max\left({t['var_raw']},\ {floor}\right)",
            rf"&= {t['var_hat']}" + (r" \quad \text{(at the floor)}" if terms.floored else ""),
        ]
    else:
        lines.append(
            rf"\hat\sigma_j^2 &= \max(\sigma_j^2,\ \sigma^2_{{\min}}) = \max\left({t['var_old']},\ {floor}\right)"
            rf" = {t['var_hat']} \quad \text{{(no observed weight: the variance is kept)}}"
        )
    return _aligned(lines)


def latex_stopping(terms: StoppingTerms) -> str:
    """The stopping rule with the two log-likelihoods substituted: a KaTeX ``aligned`` block."""
    t = _numbers(terms)
    relation, verdict = (r"\le", r"\text{stop}") if terms.stop else (">", r"\text{continue}")
    new = r"\ell_{\text{new}}"
    lines = [
        rf"\Delta\ell &= {new} - \ell_{{\text{{old}}}} = {t['ll_new']} - {_paren(terms.ll_old)} = {t['gain']}",
        rf"\text{{tol}} \cdot |{new}| &= {t['tol']} \cdot {latex_number(abs(terms.ll_new))} = {t['threshold']}",
        rf"\Delta\ell = {t['gain']} &\;{relation}\; {t['threshold']} \;\Rightarrow\; {verdict}",
    ]
    return _aligned(lines)
