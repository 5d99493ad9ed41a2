"""Every formula a page writes is the maths the page computes.

Pages 2, 4 and 5 are rendered (AppTest) at many settings, degenerate ones included. Each
displayed ``y = …`` and ``∂y/∂xᵢ = …`` is read back with sympy's LaTeX parser as standard
notation (tests/latex_reading.py), evaluated at the page's own x (its table), and must
give the page's own y (its metric) and x.grad (its table). Page 6's node formulas are
checked the same way in tests/test_page_inside_backward.py.
"""

import math

import pytest

from lab import chain
from tests.conftest import open_page
from tests.latex_reading import read, value

Y, DERIVATIVE = "y = ", r"\frac{\partial y}{\partial x_{i}} = "


def shown(where, head: str) -> list[str]:
    """The distinct formulas written in ``where`` (a page or a tab) that begin with
    ``head`` (not the link-by-link lines of the chain rule, in terms of z1ᵢ, z2ᵢ…)."""
    found = [el.value.strip("$\n") for el in where.latex]
    return sorted({f for f in found if f.startswith(head) and r"\mathrm{z" not in f})


def number(text: str) -> float:
    return float(text.replace("⚠", "").strip())


def check_page(at, where=None) -> None:
    """The y formula and derivative formula written in ``where`` (default: the whole page)
    against the metric and the table there."""
    assert not at.exception
    where = at if where is None else where
    frame = next(f.value for f in where.dataframe if "x_i" in f.value.columns)
    x = [number(v) for v in frame["x_i"]]
    grads = [number(v) for v in frame["x.grad (autograd)"]]
    (y_formula,) = shown(where, Y)
    y = value(read(y_formula), x)
    page_y = number(where.metric[0].value)
    if math.isfinite(page_y):
        assert y == pytest.approx(page_y, rel=2e-5, abs=1e-5), (y_formula, x)
    (derivative_formula,) = shown(where, DERIVATIVE)
    derivative = read(derivative_formula)
    for i, grad in enumerate(grads):
        written = value(derivative, x, i)
        if math.isfinite(grad) and math.isfinite(written):
            # the table shows 6 significant digits of a float32 x.grad
            assert written == pytest.approx(grad, rel=2e-5, abs=2e-6), (derivative_formula, i)
        else:
            assert not math.isfinite(grad) or math.isnan(written), (derivative_formula, i)


CHAIN_SETTINGS = [
    {},                                                            # the seed
    {"n": "5", "a": "-1.5", "p": "3", "c": "-2"},
    {"n": "6", "a": "2.5", "p": "-1.5", "c": "0.5", "reduce": "sum"},
    {"p": "0"}, {"p": "1"}, {"a": "0"}, {"c": "0"}, {"n": "1"},     # degenerate
    {"p": "0", "a": "-1"},                 # 0**0 at x = 0: no nan, the derivative is 0
    {"p": "-1", "a": "0"},                 # 1/x at x = 0: inf, marked not compared
    {"n": "20", "a": "-5", "p": "4", "c": "5", "reduce": "sum"},
    {"p": "0.5", "a": "-2"},               # sqrt of negatives: nan
]


@pytest.mark.parametrize("query", CHAIN_SETTINGS, ids=str)
def test_page_2_writes_what_it_computes(query):
    check_page(open_page("pages/2_backward.py", query={**query, "backward": "true"}))


def test_exercise_3_reference_writes_what_it_computes():
    at = open_page("pages/4_exercises.py", query={"exercise": "3", "ex3_reference": "true",
                                                  "ex3_code": "import torch"})
    check_page(at, at.tabs[2])


@pytest.mark.parametrize("n", [1, 3, 6])
def test_exercise_1_asks_with_the_function_and_answers_after_backward(n):
    """Page 2 asks exercise 1 with y only (the derivative is the task); once the student
    calls y.backward(), its worked solution gives each ∂y/∂x_k as the fraction to type."""
    at = open_page("pages/2_backward.py", query={"n": str(n)}, opened=("links_open",))
    (y_formula,) = shown(at, Y)
    expected = chain.run_chain(n, 1.0, 2.0, 2.0, "mean")
    assert value(read(y_formula), expected.x) == pytest.approx(expected.y, rel=1e-6)
    assert not shown(at, DERIVATIVE) and not at.dataframe
    at.toggle(key="backward").set_value(True).run()
    (derivative,) = shown(at, DERIVATIVE)
    for i in range(n):
        assert value(read(derivative), expected.x, i) == pytest.approx(expected.grad[i])
        (row,) = shown(at, rf"\frac{{\partial y}}{{\partial x_{{{i}}}}} = ")
        assert float(read(row)) == pytest.approx(expected.grad[i], rel=1e-6)


PLAYGROUND = [
    ("sin(x)*exp(x) + 1/(x+2)", "1, 2, 3", "mean"),
    ("sigmoid(2*x - 1)", "-1, 0, 0.5, 2", "sum"),
    ("x**3 - 2*x**2 + x - 1", "-2, 0.5, 3", "mean"),
    ("tanh(x) * log(x + 3) - sqrt(x + 2)", "-1, 0, 1.5", "sum"),
    ("abs(x - 1) + relu(x) * cos(x)", "-2, 0.5, 2", "mean"),
    ("tan(x/4) ** 2 - 2 ** x + exp(-x)", "0.3, 1, 2", "sum"),
    ("1 / (1 + x**2) - 3 / x", "0.5, 1, 4", "mean"),
    ("(x - 2.5) ** (1/3) * pi", "3, 4, 9", "sum"),
]


@pytest.mark.parametrize("text,values,reduce", PLAYGROUND)
def test_playground_writes_what_it_computes(text, values, reduce):
    at = open_page("pages/5_playground.py", query={"f": text, "xm": "torch.tensor",
                                                   "xs": values, "r": reduce})
    check_page(at)


def test_every_leibniz_label_is_printed_by_one_function_that_sympy_reads_as_a_derivative():
    """∂output/∂target on every page comes from ``lab.printing.partial``; sympy's parser
    reads it back as the derivative of its two printed symbols (or expressions)."""
    import sympy
    from sympy.parsing.latex import parse_latex

    from lab.printing import partial

    y, x, t = sympy.symbols("y x t")
    assert parse_latex(partial(y, x)) == sympy.Derivative(y, x)
    assert parse_latex(partial(y, y)) == sympy.Derivative(y, y)
    assert partial(y, sympy.Symbol("x_{i}")) == DERIVATIVE.removesuffix(" = ")
    assert partial(1 / t, t) == r"\frac{\partial \left(\frac{1}{t}\right)}{\partial t}"
