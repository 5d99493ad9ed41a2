"""No formula the language accepts raises on any page (issue 20).

Random formulas of depth 6 built from the whole operation registry go through every
page's computation, f″ included, at 10,000 elements and at a few points around the
corners and poles: the playground's run (plot, graph, f″), page 6's trace with its
annotated graph at every step, and page 3's torchviz drawing with every option. A
formula may make inf or nan (the page explains it); it may not raise.
"""

import random

import pytest

from lab.annotated import annotated_dot
from lab.backward import trace
from lab.formula import FormulaError, parse
from lab.gradients import run
from lab.graphs import torchviz_drawing
from lab.ops import OPERATIONS
from lab.xvalues import XSpec

TEN_THOUSAND = XSpec.arange(-5, 5, 0.001)
AROUND_ZERO = XSpec.of([-2, -1, 0, 1, 2])
FUNCTIONS = [name for name, op in OPERATIONS.items() if op.kind == "function"]
REDUCTIONS = [name for name, op in OPERATIONS.items() if op.kind == "reduction"]
SYMBOLS = [op.symbol for op in OPERATIONS.values() if op.kind == "binary"]


def formula(r: random.Random, depth: int) -> str:
    """A random formula of the registry's operations, at most ``depth`` deep."""
    if depth == 0 or r.random() < 0.2:
        return r.choice(["x", "x", "x", "1", "2", "0.5", "-1", "pi"])
    kind = r.random()
    if kind < 0.4:
        return f"{r.choice(FUNCTIONS)}({formula(r, depth - 1)})"
    if kind < 0.45:
        return f"{r.choice(REDUCTIONS)}({formula(r, depth - 1)})"
    if kind < 0.5:
        return f"-({formula(r, depth - 1)})"
    symbol = r.choice(SYMBOLS)
    if symbol == "**":
        return f"({formula(r, depth - 1)})**{r.choice(['2', '3', '0.5', '-1', 'x'])}"
    return f"({formula(r, depth - 1)}) {symbol} ({formula(r, depth - 1)})"


def accepted(seed: int, count: int) -> list[str]:
    """``count`` random formulas the language accepts (deterministic for ``seed``)."""
    r, found = random.Random(seed), []
    while len(found) < count:
        text = formula(r, 6)
        try:
            parse(text)
        except FormulaError:
            continue
        found.append(text)
    return found


# Every function of the registry on its own and around a corner, and the cases that raised
# before (issue 20): abs's zero tensor in f″, sympy's endless recursion on sin(-x-1), a
# derivative sympy left unevaluated in abs(relu(x)).
NAMED = ([f"{name}(x)" for name in FUNCTIONS] + [f"{name}(x - 1)" for name in FUNCTIONS]
         + ["sin(-x-1)", "cos(-x-1)", "x*sin(-1-x)", "abs(relu(x))", "relu(x)*x",
            "abs(x)**2", "sqrt(abs(x))", "relu(-x)*relu(x)"])


@pytest.mark.parametrize("text", NAMED + accepted(20, 60))
def test_the_playground_runs_every_accepted_formula(text):
    for x_spec, reduce, dtype in ((TEN_THOUSAND, "mean", "float32"),
                                  (AROUND_ZERO, "sum", "float64")):
        result = run(text, x_spec, reduce, dtype, plot=True, graph=True, second=True)
        assert len(result.grad) == len(result.x)
        if result.second is not None:
            assert len(result.second.autograd) == len(result.x)


@pytest.mark.parametrize("text", NAMED[:len(FUNCTIONS)] + accepted(21, 40))
def test_page_6_and_page_3_draw_every_accepted_formula(text):
    for x_spec in (AROUND_ZERO, TEN_THOUSAND):
        steps = trace(text, x_spec, "mean", "float32")
        for mode in ("forward", "backward"):
            for index in range(len(steps.steps(mode))):
                assert annotated_dot(steps, "es", mode, index, legend=True)
        assert torchviz_drawing(text, x_spec, "mean", "float32", True, True)
