"""Second derivatives (lab/second.py): autograd twice, against sympy, in the page and its code."""

import math
import subprocess
import sys

import pytest
import torch

from lab import export
from lab.gradients import run
from lab.xvalues import XSpec
from lab.second import agrees
from tests.conftest import CODE, open_page
from tests.latex_reading import read, value

FORMULAS = ["sin(x)*exp(x) + 1/(x+2)", "sigmoid(2*x - 1)", "tan(x/3)**2 - log(x + 4)",
            "sqrt(x + 3) * x**3", "(x + 5)**(1/3) - tanh(x)", "abs(x - 1)*x", "relu(x)*x",
            "2**x - exp(-x**2)", "x"]
POINTS = [-1.5, -0.2, 0.0, 0.7, 1.0, 2.5]


@pytest.mark.parametrize("text", FORMULAS)
def test_autograd_twice_agrees_with_sympy_and_with_the_formula_shown(text):
    result = run(text, XSpec.of(POINTS), "mean", "float64", second=True)
    found = result.second
    marks = agrees(found, *result.tolerance)
    for i, (a, s) in enumerate(zip(found.autograd, found.symbolic)):
        if found.kinks[i]:
            assert marks[i] is None
        elif math.isfinite(a):
            assert marks[i] is True and a == pytest.approx(s, rel=1e-9, abs=1e-9), (text, i)
    # the formula written on the page, read back, gives the same numbers
    written = read(found.latex)
    for i, a in enumerate(found.autograd):
        if math.isfinite(a) and not found.kinks[i]:
            assert value(written, result.x, i) == pytest.approx(a, rel=1e-9, abs=1e-9), (text, i)


def test_second_derivative_by_hand():
    """f = x³: f″ = 6x, at known points; f = sin: f″ = −sin."""
    cube = run("x**3", XSpec.of([-1.0, 0.5, 2.0]), "sum", "float64", second=True).second
    assert cube.autograd == pytest.approx([-6.0, 3.0, 12.0])
    sine = run("sin(x)", XSpec.of([0.3, 1.2]), "sum", "float64", second=True).second
    assert sine.autograd == pytest.approx([-math.sin(0.3), -math.sin(1.2)])


def test_corners_are_not_compared_and_said():
    result = run("relu(x)*x", XSpec.of([-1.0, 0.0, 1.0]), "sum", "float32", second=True)
    assert result.second.kinks == [False, True, False]
    assert agrees(result.second, *result.tolerance) == [True, None, True]
    assert "checks.second_kink" in [n.key for n in result.notes]


def test_only_elementwise_formulas_and_only_when_asked():
    assert run("mean(x)*x", XSpec.of([1.0, 2.0]), second=True).second is None
    assert run("x**2", XSpec.of([1.0])).second is None


def test_the_code_prints_the_second_derivative_the_page_shows(tmp_path):
    result = run("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6), "mean", "float32", second=True)
    path = tmp_path / "second.py"
    path.write_text(export.script(result.code, "test"))
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    printed = out.split("tensor(")[1]
    numbers = [float(v) for v in printed.split("]")[0].strip("[").split(",")]
    assert numbers == pytest.approx(result.second.autograd, rel=1e-3)
    assert out.rstrip().endswith(result.grad_repr)
    assert repr(torch.tensor(result.second.autograd)) in out


@pytest.mark.parametrize("lang", ["en", "es"])
def test_playground_shows_f_second_checked_and_plotted(lang):
    at = open_page("pages/5_playground.py", query={"f": "relu(x)*x + sin(x)", "lang": lang,
                                                   "xm": "torch.tensor", "xs": "-1, 0, 1, 2"},
                   opened=(CODE,))
    assert not at.exception
    expected = run("relu(x)*x + sin(x)", XSpec.of([-1, 0, 1, 2]), "mean", "float32",
                   second=True).second
    frame = next(f.value for f in at.dataframe if any("f″" in c for c in f.value.columns))
    autograd = [c for c in frame.columns if "autograd" in c][0]
    assert list(frame[autograd]) == [f"{v:.6g}" for v in expected.autograd]
    assert [cell[-1] for cell in frame[[c for c in frame.columns if "sympy" in c][0]]] == [
        "✓", "—", "✓", "✓"]
    assert any(el.value.strip("$\n").startswith("f''") for el in at.latex)
    import json
    traces = json.loads(at.get("plotly_chart")[0].proto.spec)["data"]
    assert any(trace.get("name") == "f″(t)" for trace in traces)
    code = "\n".join(c.value for c in at.code)
    assert "create_graph=True" in code and ("# f″(x)" in code)
