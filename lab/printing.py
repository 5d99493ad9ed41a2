"""Formulas as text: sympy objects printed in LaTeX for the pages, in plain Unicode for graphs.

Nothing here is typed per formula: every formula the lab shows is a sympy object built
from the operation registry (``lab.ops``) and printed by one of these two printers.

The LaTeX follows the notation a mathematician signs and a parser reads back
(``tests/test_formulas_on_screen.py`` parses what the pages show with sympy's LaTeX
parser): function arguments always in ``\\left(…\\right)`` and never in an extra pair of
braces (``\\sin{\\left(x\\right)} e^{x}`` reads as ``sin(x·e^x)``), sums bracket their
whole term, ``ln`` for the natural logarithm.
"""

from __future__ import annotations

import re

import sympy
import sympy.printing.precedence
from sympy.core.function import AppliedUndef
from sympy.printing.latex import LatexPrinter
from sympy.printing.str import StrPrinter

from lab.ops import notation



# The lab's one notation for tensors (stated on the pages, grad.notation): a tensor keeps the
# name the code gives it (x, z1, z2…, y) and a subscript is always an element, never a step:
# z1ᵢ is element i of z1, x₀ the first element of x. One number (y, a mean) has no index.
INDEX = "i"
_ELEMENT = re.compile(r"^(z\d+)\[(\w+)\]$")      # "z3[i]": element i of z3


def element(tensor: str, scalar: bool = False, index: str = INDEX) -> sympy.Symbol:
    r"""Element ``index`` of the tensor the code names ``tensor``, as a symbol (printed
    ``\mathrm{z3}_{i}`` and ``z3ᵢ``, ``x_{i}`` and ``xᵢ``); a ``scalar`` tensor is itself."""
    if scalar:
        return sympy.Symbol(tensor, real=True)
    if tensor == "x":
        return sympy.Symbol(f"x_{{{index}}}", real=True)
    return sympy.Symbol(f"{tensor}[{index}]", real=True)


def tensor_of(symbol: sympy.Symbol) -> str:
    """The code's name of the tensor a symbol stands for (``z3[i]`` -> ``z3``)."""
    found = _ELEMENT.match(symbol.name) or re.fullmatch(r"(x)_\{\w+\}", symbol.name)
    return found.group(1) if found else symbol.name


class _Latex(LatexPrinter):
    def _print_Symbol(self, expr, style="plain"):
        if expr in self._settings["symbol_names"]:         # numbers put in its place
            return self._settings["symbol_names"][expr]
        found = _ELEMENT.match(expr.name)
        if found:
            return r"\mathrm{%s}_{%s}" % found.groups()
        if re.fullmatch(r"z\d+", expr.name):            # a whole (one-number) tensor
            return r"\mathrm{%s}" % expr.name
        return super()._print_Symbol(expr, style)

    def _print_Mean(self, expr, exp=None):
        """mean over a tensor's n elements, as the sum it is: (1/n) Σᵢ aᵢ."""
        term, n = expr.args
        tex = r"\frac{1}{%s} %s" % (self._print(n), self._print(_summed(term, n)))
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    def _print_Total(self, expr, exp=None):
        tex = self._print(_summed(*expr.args))
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)

    def _print_Function(self, expr, exp=None):
        known = notation(type(expr).__name__)        # the registry's name: \sin, \ln, \cosh
        # (its one argument: θ(a, 0)'s second is only its value at 0, the convention kept)
        name = known.latex if known and known.latex else None
        if name is None and isinstance(expr, AppliedUndef):     # mean(x) inside a formula
            name = r"\operatorname{%s}" % type(expr).__name__
        if name is None:
            return super()._print_Function(expr, exp)
        if exp is not None:
            name += "^{%s}" % exp
        return r"%s\left(%s\right)" % (name, self._print(expr.args[0]))

    def _print(self, expr, **kwargs):
        # sympy's printer has methods of its own for some functions (log, sign, Heaviside…):
        # a function the registry names is written by that name whatever sympy would do.
        known = notation(type(expr).__name__) if isinstance(expr, sympy.Function) else None
        if known is not None and known.latex:
            return self._print_Function(expr, kwargs.get("exp"))
        return super()._print(expr, **kwargs)

    def _print_Abs(self, expr, exp=None):
        # Plain bars: sympy's LaTeX parser reads |a| but not \left|a\right|.
        tex = r"|%s|" % self._print(expr.args[0])
        return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


def _summed(term, n):
    """Σ over i = 0 … n−1 of ``term`` (an element aᵢ)."""
    return sympy.Sum(term, (sympy.Symbol(INDEX, integer=True), 0, n - 1))


# long_frac_ratio: a long numerator over a short denominator reads as (1/n)·(…).
_SETTINGS = {"ln_notation": True, "long_frac_ratio": 2}
_LATEX = _Latex(_SETTINGS)


def latex(expr, **settings) -> str:
    """``expr`` in LaTeX as the pages show it; ``settings`` go to sympy's LaTeX printer
    (``symbol_names`` and ``mul_symbol="dot"`` print an expression with numbers in place
    of its symbols)."""
    printer = _Latex({**_SETTINGS, **settings}) if settings else _LATEX
    return printer.doprint(sympy.sympify(expr))


def summed_over_elements() -> str:
    r"""The label of a row that adds what every element i passed (broadcasting):
    ``\textstyle\sum_i``, the one place that writes it."""
    return rf"\textstyle\sum_{INDEX}"


def partial(output, target) -> str:
    r"""``∂output/∂target`` in Leibniz's notation, both printed by ``latex`` (a compound
    expression in ``\left(…\right)``): the one place that writes the notation."""
    def shown(expr) -> str:
        expr = sympy.sympify(expr)
        return latex(expr) if isinstance(expr, sympy.Symbol) else rf"\left({latex(expr)}\right)"
    return rf"\frac{{\partial {shown(output)}}}{{\partial {shown(target)}}}"


_SUBSCRIPT = str.maketrans("0123456789i", "₀₁₂₃₄₅₆₇₈₉ᵢ")
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def subscripted(name: str) -> str:
    """A symbol's name in Unicode: ``z3[i]`` -> ``z3ᵢ``, ``x_{i}`` -> ``xᵢ``, ``x_{0}`` ->
    ``x₀``; a tensor's own name (``z3``, ``y``) as the code writes it."""
    found = _ELEMENT.match(name) or re.fullmatch(r"(x)_\{(\w+)\}", name)
    if not found:
        return name
    return found.group(1) + found.group(2).translate(_SUBSCRIPT)


class _Unicode(StrPrinter):
    """One line of Unicode: ``2·z1ᵢ``, ``σ(z2ᵢ)·(1 − σ(z2ᵢ))``, ``z1ᵢ²``, ``1/z4ᵢ``."""

    def _print_Symbol(self, expr):
        return subscripted(expr.name)

    def _print_Function(self, expr):
        known = notation(type(expr).__name__)      # the registry's shape: ln(%s), |%s|
        shape = known.unicode if known else type(expr).__name__ + "(%s)"
        return shape % self._print(expr.args[0])

    def _print_Mean(self, expr):
        return "(1/%s)·Σᵢ %s" % (self._print(expr.args[1]), self.parenthesize(expr.args[0], 50))

    def _print_Total(self, expr):
        return "Σᵢ %s" % self.parenthesize(expr.args[0], 50)

    _print_Heaviside = _print_Function       # StrPrinter has its own, with both arguments

    def _print_Pow(self, expr, rational=False):
        base, exponent = expr.args
        if exponent.is_Integer and exponent > 1:
            shown = self.parenthesize(base, sympy.printing.precedence.PRECEDENCE["Pow"])
            return shown + str(exponent).translate(_SUPERSCRIPT)
        return super()._print_Pow(expr, rational)


_UNICODE = _Unicode({"order": None})


def unicode(expr) -> str:
    """``expr`` as one line of Unicode, for graph labels (DOT has no LaTeX)."""
    text = _UNICODE.doprint(sympy.sympify(expr))
    return (text.replace("sqrt(", "√(").replace("**", "^").replace("*", "·")
            .replace(" - ", " − "))
