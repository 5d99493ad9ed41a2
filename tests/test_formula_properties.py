"""Property-based tests over random formula trees built from the whole whitelist.

1. Every generated formula parses back from its own text, and the parsed formula
   computes what the tree says (evaluated here directly with torch, not through lab).
2. Autograd, the symbolic derivative and the numeric one agree, in float64, wherever
   all three are finite and the point is away from corners and poles. The tolerance is
   the one every run states: |autograd − symbolic| ≤ 1e-7·|symbolic| + 1e-9, and for
   the numeric check the same plus the finite differences' own estimated error.
"""

import math
import re

import pytest
import torch
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st

from lab.formula import FUNCTIONS, REDUCTIONS, parse
from lab.formula import forward
from lab.gradients import run
from lab.xvalues import XSpec

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
# No shrinking: a failure is reported as found. Shrinking a failing formula re-runs sympy
# hundreds of times (up to minutes per test), and the suite must stay short.
QUICK = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow],
         "phases": [Phase.explicit, Phase.reuse, Phase.generate]}

BINARY = {"+": torch.add, "-": torch.sub, "*": torch.mul, "/": torch.div, "**": torch.pow}


def torch_function(name: str):
    """The torch function a formula's name means, found in torch itself (not through the
    registry): torch.sin, torch.nn.functional.softplus."""
    return getattr(torch, name, None) or getattr(torch.nn.functional, name)


constants = st.one_of(st.integers(-4, 4).map(str), st.sampled_from(["0.5", "2.5", "1e-3",
                                                                     "pi", "e", "2/3"]))
leaves = st.one_of(st.just("x"), st.just("x"), constants)


def _extend(children):
    unary = st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS), children)
    negative = children.map(lambda a: f"-({a})")
    binary = st.builds(lambda a, op, b: f"({a}) {op} ({b})",
                       children, st.sampled_from(["+", "-", "*", "/"]), children)
    power = st.builds(lambda a, p: f"({a})**{p}", children, st.sampled_from(["2", "3", "-1",
                                                                              "0.5", "(1/3)"]))
    return st.one_of(unary, negative, binary, power)


formulas = st.recursive(leaves, _extend, max_leaves=8).filter(
    lambda t: re.search(r"\bx\b", t) is not None)
with_reductions = st.builds(lambda r, a, b: f"{r}({a}) * ({b})",
                            st.sampled_from(REDUCTIONS), formulas, formulas)


def evaluate(text: str, x: torch.Tensor) -> torch.Tensor:
    """The tree's value, by walking Python's own parse of the text (a test oracle)."""
    import ast

    def ev(node):
        if isinstance(node, ast.Expression):
            return ev(node.body)
        # Constants are 0-d tensors, as in the generated code: sum(2) is 2, not 2·n.
        if isinstance(node, ast.Constant):
            return torch.tensor(float(node.value), dtype=x.dtype)
        if isinstance(node, ast.Name):
            if node.id == "x":
                return x
            return torch.tensor({"pi": math.pi, "e": math.e}[node.id], dtype=x.dtype)
        if isinstance(node, ast.UnaryOp):
            return -ev(node.operand)
        if isinstance(node, ast.BinOp):
            symbol = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
            if isinstance(node.op, ast.Pow) and not _uses_x(node.right):
                # A constant exponent is a Python float in the generated code (z ** 0.5),
                # and PyTorch computes tensor ** 0.5 as sqrt: (-inf) ** 0.5 is nan there,
                # where torch.pow with a tensor exponent gives inf.
                return ev(node.left) ** float(ev(node.right))
            return BINARY[symbol[type(node.op)]](ev(node.left), ev(node.right))
        name = node.func.id
        inner = ev(node.args[0])
        if name in REDUCTIONS:
            return getattr(inner, name)()
        return torch_function(name)(inner)

    return ev(ast.parse(text, mode="eval")).expand_as(x)


def _uses_x(node) -> bool:
    import ast

    return any(isinstance(n, ast.Name) and n.id == "x" for n in ast.walk(node))


def same(a: torch.Tensor, b: torch.Tensor) -> bool:
    both_nan = torch.isnan(a) & torch.isnan(b)
    close = torch.isclose(a, b, rtol=1e-12, atol=1e-12)
    return bool((both_nan | close | (a == b)).all())


# Points in [-3, 3], away from the underflow range (x*x == 0 for |x| < 1e-162 turns
# exact identities such as x/x into 0/0): 0 itself, or |x| >= 1e-3.
POINT = st.floats(-3, 3, allow_nan=False).filter(lambda v: v == 0 or abs(v) >= 1e-3)
POINTS = torch.tensor([-2.3, -0.7, 0.35, 1.1, 2.9], dtype=torch.float64)


@settings(max_examples=300, **QUICK)
@given(text=st.one_of(formulas, with_reductions))
def test_every_generated_formula_parses_back_and_computes_its_tree(text):
    formula = parse(text)
    assert formula.text == text
    assert repr(parse(text)) == repr(formula)          # the same text, the same steps (nan-safe)
    body = forward(formula, POINTS.clone(), "sum")[formula.output]
    assert same(body.expand_as(POINTS) if body.dim() == 0 else body, evaluate(text, POINTS))


def _comparable(result, i: int) -> bool:
    values = (result.grad[i], result.symbolic[i], result.numeric[i], result.y)
    return all(math.isfinite(v) for v in values) and not result.kinks[i]


def _largest_magnitude(text: str, points: list[float], reduce: str, i: int) -> float:
    """The largest |value| or |gradient| of any tensor of the forward pass at element i."""
    x = torch.tensor(points, dtype=torch.float64, requires_grad=True)
    tensors = forward(parse(text), x, reduce)
    for tensor in tensors.values():
        if tensor is not x and tensor.requires_grad:
            tensor.retain_grad()
    tensors["y"].backward()
    found = []
    for tensor in tensors.values():
        for t in (tensor.detach(), tensor.grad):
            if t is not None and t.numel() == len(points) and math.isfinite(float(t.reshape(-1)[i])):
                found.append(abs(float(t.reshape(-1)[i])))
    return max(found, default=0.0)


@settings(max_examples=120, **QUICK)
@given(text=formulas, points=st.lists(POINT, min_size=1, max_size=6, unique=True),
       reduce=st.sampled_from(["mean", "sum"]))
def test_autograd_symbolic_and_numeric_agree_wherever_finite(text, points, reduce):
    result = run(text, XSpec.of(points), reduce, "float64")
    if result.symbolic is None:                         # skipped, with a note saying why
        assert {n.key for n in result.notes} & {"checks.symbolic_timeout",
                                                "checks.symbolic_nonfinite"}
        return
    compared = [i for i in range(result.n) if _comparable(result, i)]
    assume(compared)
    rtol, atol = result.tolerance
    symbolic_marks, numeric_marks = result.symbolic_marks(), result.numeric_marks()
    for i in compared:
        a, s = result.grad[i], result.symbolic[i]
        # Both are float64 but follow different expression trees: allow the rounding of
        # the largest value that went into the gradient, as well as the stated tolerance.
        scale = _largest_magnitude(text, points, reduce, i)
        assert abs(a - s) <= atol + rtol * abs(s) + 1e-13 * scale, (text, points[i], a, s)
        if abs(a - s) <= atol + rtol * abs(s):
            assert symbolic_marks[i] is True
        assert numeric_marks[i] is not False, (text, points[i], a, result.numeric[i],
                                               result.numeric_error[i])


@settings(max_examples=25, **QUICK)
@given(text=with_reductions, n=st.integers(1, 5))
def test_inner_reductions_agree_element_by_element(text, n):
    points = [0.3 + 0.45 * i for i in range(n)]
    result = run(text, XSpec.of(points), "sum", "float64")
    assert result.numeric is not None, text
    if result.symbolic is None:
        # sympy is skipped only for a constant that is not a real number ((-1)**0.5 is nan
        # in PyTorch, i in sympy), and the page says so
        assert "checks.symbolic_nonfinite" in [note.key for note in result.notes], text
        return
    symbolic_marks, numeric_marks = result.symbolic_marks(), result.numeric_marks()
    assert [i for i in range(n) if _comparable(result, i) and symbolic_marks[i] is False] == [], text
    assert [i for i in range(n)
            if math.isfinite(result.grad[i]) and numeric_marks[i] is False] == [], text


@pytest.mark.parametrize("text", ["sin(x)*exp(x) + 1/(x+2)", "(x + 1)**2 + 2", "sigmoid(2*x - 1)",
                                  "x**3 - 2*x**2 + x - 1"])
def test_the_examples_agree_in_float32_too(text):
    result = run(text, XSpec.arange(-1.5, 5, 0.25), "mean", "float32")
    assert all(mark is not False for mark in result.symbolic_marks())
    assert all(mark is not False for mark in result.numeric_marks())
