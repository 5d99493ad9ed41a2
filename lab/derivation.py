"""The formulas a page shows for a computation: y, ∂y/∂xᵢ and the chain rule link by link.

Every one is a sympy object built from the formula's own steps with the registry's forms
(``lab.ops``) and printed by ``lab.printing``; nothing is typed per case. The derivative
printed is the very object ``lab.symbolic`` evaluates for the tables
(``derivative_of_text``). Indices count from 0, like ``x[0]`` and the tables:
x = (x₀, …, x_{n−1}). ``tests/test_formulas_on_screen.py`` reads the pages' formulas
back with a LaTeX parser and compares them with the pages' numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from lab.formula import Formula, parse
from lab.i18n import Message
from lab.ops import OPERATIONS, node_form
from lab.printing import element, latex, partial
from lab.symbolic import (PER_ELEMENT_UP_TO, X, SymbolicTimeout, budget, chain_shaped,
                          constant, derivative_of_text, element_symbols, expression,
                          per_element_derivatives)

I = sympy.Symbol("i", integer=True)
N = sympy.Symbol("n", integer=True, positive=True)
Y = sympy.Symbol("y", real=True)
VECTOR = sympy.Symbol("x", real=True)       # the whole tensor, inside an inner mean/sum
LATEX_UP_TO = 4000                          # characters of LaTeX worth showing


@dataclass(frozen=True)
class Link:
    """One step of the forward pass, element by element, and its local derivatives."""

    tensor: str                  # "z2", or "y"
    statement: str               # z_{2} = z_{1}^{2}
    locals: tuple[str, ...]      # ∂z₂/∂z₁ = 2 z₁, in LaTeX


@dataclass(frozen=True)
class Shown:
    """What a page writes for a computation (LaTeX), or why part of it is missing."""

    y: str                       # y = \frac{1}{n} \sum_{i=0}^{n - 1} (…)
    derivative: str              # ∂y/∂x_i = …, in LaTeX ("" if skipped)
    links: tuple[Link, ...]      # the chain rule link by link (elementwise formulas)
    note: Message | None = None


def _symbol(name: str):
    """A tensor of the forward pass as one of its elements: x -> xᵢ, z3 -> z3ᵢ."""
    return X if name == "x" else element(name)


def links(formula: Formula, reduce: str) -> tuple[Link, ...]:
    """Each step ``z_k = op(…)`` and ∂z_k/∂(each tensor it uses), from the registry's forms."""
    out = []
    for step in formula.body_steps():
        args = [_symbol(a) if isinstance(a, str) else constant(a) for a in step.args]
        tensors = list(dict.fromkeys(a for a in step.args if isinstance(a, str)))

        def link(step=step, args=args, tensors=tensors) -> Link:
            form = OPERATIONS[step.op].form(*args)
            locals_ = tuple(f"{partial(_symbol(step.name), _symbol(a))} = "
                            f"{latex(sympy.diff(form, _symbol(a)))}" for a in tensors)
            return Link(step.name, f"{latex(_symbol(step.name))} = {latex(form)}", locals_)

        out.append(chain_shaped(link))
    last = _symbol(formula.body)
    total = node_form(f"{(formula.reduction or reduce).capitalize()}Backward0", [last], [N])
    out.append(Link("y", f"y = {latex(total)}", (f"{partial(Y, last)} = "
                                                    f"{latex(sympy.diff(total, last))}",)))
    return tuple(out)


@lru_cache(maxsize=256)
def _elementwise(text: str, mean: bool) -> Shown:
    formula = parse(text)
    y = sympy.Sum(expression(formula), (I, 0, N - 1))
    derivative = derivative_of_text(text)
    scale = 1 / N if mean else 1
    return Shown(f"y = {latex(y * scale)}",
                 f"{partial(Y, X)} = {latex(derivative * scale)}",
                 links(formula, "mean" if mean else "sum"))


@lru_cache(maxsize=64)
def _mixing(text: str, mean: bool, n: int) -> Shown:
    """An inner mean/sum mixes the elements: y as a function of the whole x, and the
    derivative for x₀ written out element by element (small n only)."""
    formula = parse(text)
    f = expression(formula, reductions_as_functions=True).subs(X, VECTOR)
    reduce = "mean" if mean else "sum"
    y = f"y = {latex(node_form(f'{reduce.capitalize()}Backward0', [f], [N]))}"
    if n > PER_ELEMENT_UP_TO:
        return Shown(y, "", (), Message("checks.symbolic_too_many", limit=PER_ELEMENT_UP_TO))
    first = per_element_derivatives(text, n, mean)[0]
    return Shown(y, f"{partial(Y, element_symbols(n)[0])} = {latex(first)}", ())


def shown(formula: Formula, reduce: str, n: int) -> Shown | None:
    """The formulas for ``formula`` reduced by ``reduce`` over ``n`` elements, printed
    within the symbolic time budget (None when the budget ran out)."""
    mean = (formula.reduction or reduce) == "mean"
    try:
        with budget(("shown", formula.text, mean, formula.elementwise or n)):
            found = (_elementwise(formula.text, mean) if formula.elementwise
                     else _mixing(formula.text, mean, n))
    except SymbolicTimeout:
        return None
    if len(found.derivative) > LATEX_UP_TO or len(found.y) > LATEX_UP_TO:
        return Shown(found.y if len(found.y) <= LATEX_UP_TO else "", "", found.links,
                     Message("checks.latex_too_long", limit=LATEX_UP_TO))
    return found


@lru_cache(maxsize=256)
def at_points(text: str, mean: bool, xs: tuple[float, ...]) -> tuple[str, ...]:
    """∂y/∂x_k = its exact value at each point of x: the derivative shown, with x_k put in
    (exercise 1's worked solution: whole numbers give the fractions a student types)."""
    derivative = derivative_of_text(text)
    scale = sympy.Rational(1, len(xs)) if mean else 1
    return tuple(f"{partial(Y, symbol)} = {latex(derivative.subs(X, constant(v)) * scale)}"
                 for symbol, v in zip(element_symbols(len(xs)), xs))
