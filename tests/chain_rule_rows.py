"""Reading page 6's formulas back: each local derivative, parsed as standard notation
(``tests.latex_reading.read``) and evaluated at the values its rows show, must equal the
local derivative numbers of those rows, and incoming × local must equal what the node
passed on, row by row. Forward rows (``\\sin\\left(1\\right) = 0.841471``) must hold too.
"""

from __future__ import annotations

import math
import re

import sympy

from tests.latex_reading import read

NUM = (r"(?:\\left\()?-?(?:[0-9.]+(?: \\times 10\^\{-?\d+\})?|\\infty|\\text\{nan\})"
       r"(?:\\right\))?")
ROW = re.compile(rf"^i = (\d+)((?:,\\ [^=]+? = {NUM})*):&\\quad ({NUM}) \\cdot ({NUM}) = ({NUM})$")
VARIABLE = re.compile(rf",\\ ([^=]+?) = ({NUM})")
SUM = re.compile(rf"^\\textstyle\\sum_i:&\\quad ({NUM})$")
FORWARD_ROW = re.compile(rf"^i = \d+:&\\quad (.+) = ({NUM})$")
PARTIAL = re.compile(r"^\\frac\{\\partial .+\}\{\\partial .+\} = ")


def number(text: str) -> float:
    text = text.removeprefix(r"\left(").removesuffix(r"\right)")
    if text == r"\text{nan}":
        return math.nan
    if text.endswith(r"\infty"):
        return -math.inf if text.startswith("-") else math.inf
    mantissa, _, exponent = text.partition(r" \times 10^")
    return float(mantissa) * (10 ** int(exponent.strip("{}")) if exponent else 1)


def close(a: float, b: float, rel: float = 1e-4, abs_: float = 1e-5) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


def rows_of(latex: str) -> list[str]:
    body = latex[latex.index(r"\begin{aligned}") + len(r"\begin{aligned}"):
                 latex.index(r"\end{aligned}")]
    return [row.strip() for row in body.split(r" \\ ")]


def check_rule(local_latex: str, rule_latex: str) -> int:
    """One local derivative and its chain-rule rows; returns the rows checked."""
    local = read(local_latex)
    checked, products = 0, []
    for row in rows_of(rule_latex):
        if row == r"&\quad \vdots":
            continue
        total = SUM.match(row)
        if total:
            expected = number(total.group(1))
            if math.isfinite(expected) and all(map(math.isfinite, products)):
                assert close(sum(products), expected, abs_=1e-5 * len(products)), (row, products)
            continue
        match = ROW.match(row)
        assert match, row
        at = {sympy.Symbol(name): number(value)
              for name, value in VARIABLE.findall(match.group(2))}
        upstream, shown, passed = (number(match.group(k)) for k in (3, 4, 5))
        if not all(map(math.isfinite, (upstream, shown, passed, *at.values()))):
            continue
        value = complex(local.subs(at).evalf(30))
        assert abs(value.imag) < 1e-12 and close(value.real, shown), (
            local_latex, row, value)
        assert close(upstream * shown, passed, abs_=1e-5 * max(1.0, abs(upstream))), row
        products.append(upstream * shown)
        checked += 1
    return checked


def check_page_latex(latexes: list[str]) -> int:
    """Every local derivative followed by its rows, and every forward row, in a page's
    st.latex elements (in order); returns how many rows were checked."""
    checked = 0
    for index, latex in enumerate(latexes):
        following = latexes[index + 1] if index + 1 < len(latexes) else ""
        if PARTIAL.match(latex) and "aligned" not in latex and "aligned" in following:
            checked += check_rule(latex, following)
        elif "aligned" in latex and not latex.startswith(r"\begin{gathered}"):
            checked += check_forward_rows(latex)
    return checked


def check_forward_rows(latex: str) -> int:
    """Forward rows: the operation written with the numbers equals the value shown."""
    checked = 0
    for row in rows_of(latex):
        match = FORWARD_ROW.match(row)
        if not match or r"\text{nan}" in row or r"\infty" in row:
            continue                       # ⋮, AccumulateGrad's sums, or no number to check
        shown = number(match.group(2))
        value = complex(read(match.group(1)).evalf(30))
        if math.isfinite(shown) and abs(value.imag) < 1e-12:
            assert close(value.real, shown), (row, value)
            checked += 1
    return checked
