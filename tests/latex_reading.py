"""Reading back the formulas a page shows, as a reader would: with a real LaTeX parser.

``read(latex)`` parses one displayed formula with sympy's LaTeX parser (ANTLR backend)
as standard notation, and ``value(expr, x)`` evaluates the result at the page's own x.
Tests compare those numbers with the page's y and x.grad, so a formula on screen that
says something else than the page computes fails.

Standard names that the parser reads as plain symbols or unknown functions are given
their usual meaning here: ``e`` is Euler's number, ``σ`` the logistic sigmoid, ``θ`` the
Heaviside step (0 at 0, as PyTorch's relu′), ``\\operatorname{sgn}`` the sign, ``π`` and
``max`` their sympy selves; ``\\mathrm{z3}_{i}`` (element i of the code's z3) a symbol.
"""

from __future__ import annotations

import math
import re

import sympy
from sympy.parsing.latex import parse_latex

I = sympy.Symbol("i")
N = sympy.Symbol("n")


def _sigmoid(a):
    return 1 / (1 + sympy.exp(-a))


FUNCTIONS = {"sigma": _sigmoid, "theta": lambda a: sympy.Heaviside(a, 0),
             "sgn": sympy.sign, "max": sympy.Max, "min": sympy.Min}


def reader_names(latex: str) -> str:
    r"""The lab's tensor names as the parser reads symbols: ``\mathrm{z3}_{i}`` (element i of
    the code's z3, the notation the pages state) and ``\mathrm{z3}`` become ``z_{3}``."""
    return re.sub(r"\\mathrm\{z(\d+)\}(?:_\{i\})?", r"z_{\1}", latex)


def read(latex: str) -> sympy.Expr:
    """One displayed formula (or the right-hand side of ``lhs = rhs``) as sympy."""
    text = reader_names(latex.replace(r"\dfrac", r"\frac").replace(r"\,", " "))
    text = re.sub(r"\\operatorname\{(\w+)\}", r"\\\1", text)     # \operatorname{sgn} -> \sgn
    expr = parse_latex(text)
    if isinstance(expr, sympy.Eq):
        expr = expr.rhs
    expr = expr.subs({sympy.Symbol("e"): sympy.E, sympy.Symbol("pi"): sympy.pi})
    for name, meaning in FUNCTIONS.items():
        expr = expr.replace(sympy.Function(name), meaning)
    return expr


def element_symbol(i) -> sympy.Symbol:
    """The symbol the parser makes of ``x_{i}`` or ``x_{0}``."""
    return sympy.Symbol(f"x_{{{i}}}")


def value(expr: sympy.Expr, x: list[float], i: int | None = None) -> float:
    """``expr`` at the page's x: sums over i run over x; a free ``x_i`` is x[i]."""
    n = len(x)

    def summed(term, limits):
        index, low, high = limits
        low, high = int(low.subs(N, n)), int(high.subs(N, n))
        return sympy.Add(*[term.subs({element_symbol(index): x[k], index: k})
                           for k in range(low, high + 1)])

    expr = expr.replace(lambda e: isinstance(e, sympy.Sum),
                        lambda e: summed(e.function, e.limits[0]))
    values = {N: n}
    if i is not None:
        values[element_symbol(I)] = x[i]
    values.update({element_symbol(k): v for k, v in enumerate(x)})
    result = expr.subs(values).evalf(30)
    try:
        return float(result)
    except TypeError:
        return math.nan
