"""Reading page 6's formulas back: each local derivative, parsed as standard notation
(``tests.latex_reading.read``) and evaluated at the values its rows show, must equal the
local derivative numbers of those rows, and incoming × local must equal what the node
passed on, row by row, except in rows the page marks (∗) (where PyTorch's backward takes a
convention, such as 0 for 0⁰). Forward rows (``\\sin\\left(1\\right) = 0.841471``) must hold
too. Numbers on screen have six significant digits, so a formula is evaluated over the
range its rounded inputs allow.
"""

from __future__ import annotations

import itertools
import math
import re

import sympy

from tests.latex_reading import read, reader_names

NUM = (r"(?:\\left\()?-?(?:[0-9.]+(?: \\times 10\^\{-?\d+\})?|\\infty|\\text\{nan\})"
       r"(?:\\right\))?")
MARK = r"(?P<mark> \\quad \(\\ast\))?"
ROW = re.compile(rf"^i = (\d+)((?:,\\ [^=]+? = {NUM})*):&\\quad ({NUM}) \\cdot ({NUM}) = "
                 rf"({NUM}){MARK}$")
VARIABLE = re.compile(rf",\\ ([^=]+?) = ({NUM})")
SUM = re.compile(rf"^\\textstyle\\sum_i:&\\quad ({NUM}){MARK}$")
FORWARD_ROW = re.compile(rf"^i = \d+:&\\quad (.+) = ({NUM})$")
PARTIAL = re.compile(r"^\\frac\{\\partial .+\}\{\\partial .+\} = ")
ROUNDING = 5e-6                  # half a unit in the sixth significant digit, relative


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


def shown_by(expr, at: dict, shown: float) -> bool | None:
    """Whether ``expr`` at the values ``at`` (and its own decimals), each anywhere within
    its rounding, can be ``shown``; None when it has no real value there."""
    quantities = [(s, v) for s, v in at.items() if v != 0] + [
        (f, float(f)) for f in expr.atoms(sympy.Float)]
    values = []
    for signs in itertools.product((-1, 1), repeat=min(len(quantities), 4)):
        nudged = {q: v * (1 + sign * ROUNDING) for (q, v), sign in zip(quantities, signs)}
        point = {**at, **nudged}
        value = complex(expr.xreplace({q: sympy.Float(v) for q, v in point.items()}).evalf(30))
        if abs(value.imag) > 1e-9 * max(1.0, abs(value.real)) or not math.isfinite(value.real):
            return None
        values.append(value.real)
    low, high = min(values), max(values)
    slack = ROUNDING * max(abs(low), abs(high), abs(shown)) + 1e-12
    return low - slack <= shown <= high + slack


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
            if not total.group("mark") and all(map(math.isfinite, [expected, *products])):
                assert close(sum(products), expected, abs_=1e-5 * len(products)), (row, products)
            continue
        match = ROW.match(row)
        assert match, row
        at = {sympy.Symbol(reader_names(name)): number(value)
              for name, value in VARIABLE.findall(match.group(2))}
        upstream, shown, passed = (number(match.group(k)) for k in (3, 4, 5))
        products.append(upstream * shown)
        if not all(map(math.isfinite, (shown, *at.values()))):
            continue
        assert shown_by(local, at, shown) in (True, None), (local_latex, row)
        if match.group("mark") or not all(map(math.isfinite, (upstream, passed))):
            continue                   # (∗): PyTorch's convention, said so on the page
        assert close(upstream * shown, passed, abs_=1e-5 * max(1.0, abs(upstream))), row
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


DECIMAL = re.compile(r"-?\d+\.\d+(?: \\times 10\^\{-?\d+\})?")


def check_forward_rows(latex: str) -> int:
    """Forward rows: the operation written with the numbers equals the value shown. The
    numbers with decimals (the tensors' values, rounded) are read as symbols first, so the
    operation is evaluated over the range their rounding allows."""
    checked = 0
    for row in rows_of(latex):
        match = FORWARD_ROW.match(row)
        if not match or any(word in row for word in (r"\text{nan}", r"\text{NaN}", r"\infty",
                                                      r"\cdots")):
            continue                       # ⋮, a shortened sum (⋯), or no number to check
        values = {}

        def symbol(found):
            name = f"v_{{{len(values)}}}"
            values[sympy.Symbol(name)] = number(found.group(0))
            return name

        operation = read(DECIMAL.sub(symbol, match.group(1)))
        verdict = shown_by(operation, values, number(match.group(2)))
        assert verdict in (True, None), row
        checked += verdict is True
    return checked
