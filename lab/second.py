"""The second derivative f″(xᵢ) of an elementwise formula: autograd twice, checked by sympy.

PyTorch differentiates the first derivative again when that derivative keeps a graph of
its own: ``df, = torch.autograd.grad(f.sum(), x, create_graph=True)``, then
``d2f, = torch.autograd.grad(df.sum(), x)``. Each f″(xᵢ) is compared with sympy's second
derivative of the same steps. At a corner (relu or abs of 0) f′ jumps and f″ does not
exist: those elements are not compared, and the page says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import sympy
import torch

from lab.formula import Formula, forward
from lab.i18n import Message, comment
from lab.printing import latex
from lab.evaluate import evaluate
from lab.symbolic import X, SymbolicTimeout, budget, chain_shaped, derivative_of_text

LATEX_UP_TO = 4000


@dataclass(frozen=True)
class Second:
    """f″ at the points of x: from autograd, from sympy, and the formula shown."""

    autograd: list[float]
    symbolic: list[float] | None     # None: sympy skipped (time budget, too long)
    latex: str                       # f''(x_i) = …   ("" if skipped)
    kinks: list[bool]                # where f″ does not exist (not compared)
    notes: tuple[Message, ...] = ()


def autograd_first(formula: Formula, x: torch.Tensor, keep_graph: bool = False
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """(t, f′(t)): a fresh leaf t at the points of x and f′ there by autograd; with
    ``keep_graph``, f′ keeps a graph of its own (``create_graph=True``)."""
    t = x.detach().clone().requires_grad_(True)
    body = forward(formula, t, "sum")[formula.body]
    df, = torch.autograd.grad(body.sum(), t, create_graph=keep_graph)
    return t, df


def autograd_second(formula: Formula, x: torch.Tensor) -> torch.Tensor:
    """f″(xᵢ) by differentiating f′ again (f′ computed with ``create_graph=True``)."""
    t, df = autograd_first(formula, x, keep_graph=True)
    if not df.requires_grad:                       # f′ is constant: f″ = 0
        return torch.zeros_like(t)
    d2f, = torch.autograd.grad(df.sum(), t, allow_unused=True, materialize_grads=True)
    # Where f′ no longer depends on t (abs: sgn's derivative), PyTorch answers with a
    # zero tensor that has no storage: tolist() refuses it. Adding it to real zeros
    # gives the same numbers in an ordinary tensor.
    return torch.zeros_like(t) + d2f.detach()


def code(formula: Formula) -> str:
    """The lines that print f″(x) in the page's script (run before y.backward())."""
    body = formula.body
    return "\n".join([
        comment("playground.code_second"),
        f"df, = torch.autograd.grad({body}.sum(), x, create_graph=True)",
        "d2f = (torch.autograd.grad(df.sum(), x, retain_graph=True)[0] if df.requires_grad",
        "       else torch.zeros_like(x))",
        "print(d2f)"])


@lru_cache(maxsize=256)
def second_of_text(text: str):
    """f″(xᵢ) as sympy: the derivative the page shows, differentiated again. A step
    function's derivative (DiracDelta, from relu or abs) is 0 wherever f″ exists."""
    found = chain_shaped(lambda: sympy.diff(derivative_of_text(text), X))
    return found.replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))


def second(formula: Formula, x: torch.Tensor, kinks: list[bool]) -> Second | None:
    """f″ at the points of x (elementwise formulas only; None otherwise); ``kinks``: where
    f″ does not exist (lab.corners), not compared.

    sympy's side can fail where autograd's does not (a derivative it leaves unevaluated):
    then only autograd's f″ is shown, with a note, and the run goes on.
    """
    if not formula.elementwise:
        return None
    values = autograd_second(formula, x).tolist()
    try:
        with budget(("second", formula.text)):
            found = second_of_text(formula.text)
            shown = "f''\\left(x_{i}\\right) = " + latex(found)
            x64 = x.detach().to(torch.float64)
            symbolic = evaluate(found, {X: x64}, x64).expand_as(x64).tolist()
    except SymbolicTimeout:
        return Second(values, None, "", kinks, (Message("checks.second_skipped"),))
    except (ValueError, TypeError, ArithmeticError, RecursionError, RuntimeError):
        return Second(values, None, "", kinks, (Message("checks.second_symbolic_failed"),))
    if len(shown) > LATEX_UP_TO:
        shown = ""
    return Second(values, symbolic, shown, kinks)


def agrees(second: Second, rtol: float, atol: float) -> list[bool | None]:
    """Per element: autograd's f″ within the run's tolerance of sympy's (None: not compared)."""
    if second.symbolic is None:
        return [None] * len(second.autograd)
    marks = []
    for a, s, kink in zip(second.autograd, second.symbolic, second.kinks):
        if kink or not (math.isfinite(a) and math.isfinite(s)):
            marks.append(None)
        else:
            marks.append(abs(a - s) <= atol + rtol * abs(s))
    return marks
