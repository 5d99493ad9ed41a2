"""The playground page in AppTest: every control moved, numbers follow, refusals are clear.

Expected numbers come from the seed (pinned) or from ``lab.gradients.run`` on the same
inputs, so the page is checked against the engine, not against itself.
"""

import json
import math

import pytest

from lab.gradients import run
from lab.xvalues import XSpec
from tests.conftest import CODE, open_page, texts

PAGE = "pages/5_playground.py"
EXERCISE_3 = "sin(x)*exp(x) + 1/(x+2)"


def metric(at) -> str:
    return at.metric[0].value


def shown(value: float) -> str:
    """A number as the page shows it (six significant digits)."""
    return f"{value:.6g}"


def table(at):
    return at.dataframe[0].value


def figure(at) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


@pytest.fixture(scope="module")
def opened():
    return open_page(PAGE, opened=(CODE, "precision_open"))


def test_opens_on_the_seed_with_every_view(opened):
    at = opened
    assert not at.exception and not at.error
    assert at.text_input(key="f").value == "(x + 1)**2 + 2"
    assert at.metric[0].value == "6.66667"                          # the seed's y
    frame = table(at)
    assert list(frame["x.grad (autograd)"]) == ["0.666667", "1.33333", "2"]
    assert {cell[-1] for cell in frame["symbolic (sympy)"]} == {"✓"}
    assert {cell[-1] for cell in frame["numeric (finite diff.)"]} == {"✓"}
    # float32 by default: the float64 comparison waits in an expander, drawn once opened
    assert any("autograd in float64" in f.value.columns for f in at.dataframe)
    latex = [element.value.strip("$\n") for element in at.latex]
    assert (r"y = \frac{1}{n} \sum_{i=0}^{n - 1} \left(\left(x_{i} + 1\right)^{2} + 2\right)"
            in latex)
    assert r"\frac{\partial y}{\partial x_{i}} = \frac{2}{n} \left(x_{i} + 1\right)" in latex
    traces = figure(at)["data"]
    tangents = [trace for trace in traces if trace.get("name") == "tangent lines at xᵢ"]
    assert len(tangents) == 1 and tangents[0]["x"].count(None) == 3
    assert "PowBackward0" in at.get("graphviz_chart")[0].proto.spec
    assert "x = torch.arange(3, dtype=torch.float32, requires_grad=True)" in texts(at)


def test_every_control_moves_the_numbers():
    at = open_page(PAGE)
    at.selectbox(key="ex").select(EXERCISE_3).run()               # the example fills the box
    assert at.text_input(key="f").value == EXERCISE_3
    expected = run(EXERCISE_3, XSpec.arange(0, 3))
    assert metric(at) == shown(expected.y)

    at.radio(key="xm").set_value("torch.tensor").run()
    at.text_input(key="xs").input("1, 2, 3, 4, 5").run()
    assert round(float(metric(at)), 4) == -34.1407                # the seed's exercise 3
    assert list(table(at)["x.grad (autograd)"]) == [
        f"{g:.6g}" for g in run(EXERCISE_3, XSpec.of([1, 2, 3, 4, 5])).grad]

    at.radio(key="r").set_value("sum").run()
    assert metric(at) == shown(run(EXERCISE_3, XSpec.of([1, 2, 3, 4, 5]), "sum").y)

    at.radio(key="dt").set_value("float64").run()
    assert not any("autograd in float64" in f.value.columns for f in at.dataframe)
    assert metric(at) == shown(run(EXERCISE_3, XSpec.of([1, 2, 3, 4, 5]), "sum", "float64").y)

    at.radio(key="xm").set_value("torch.arange").run()
    at.number_input(key="x0").set_value(-1.0).run()
    at.number_input(key="x1").set_value(1.0).run()
    at.number_input(key="dx").set_value(0.5).run()
    assert list(table(at)["x_i"]) == ["-1", "-0.5", "0", "0.5"]
    assert metric(at) == shown(run(EXERCISE_3, XSpec.arange(-1, 1, 0.5), "sum", "float64").y)

    at.text_input(key="f").input("relu(x)").run()
    assert "corner" in texts(at)                                  # relu at 0: not compared
    assert [cell[-1] for cell in table(at)["symbolic (sympy)"]] == ["✓", "✓", "—", "✓"]
    assert not at.exception


def test_a_refused_formula_shows_the_message_and_the_caret():
    at = open_page(PAGE)
    at.text_input(key="f").input("x + foo(x)").run()
    assert not at.exception and not at.metric
    assert at.error[0].value.startswith("“`foo`” is not an available function")
    assert "(column 5)" in at.error[0].value
    assert "x + foo(x)\n    ^^^" in [element.value for element in at.code]
    at.text_input(key="f").input("x**2").run()                    # the page still works
    assert not at.error and metric(at) == "1.66667"                # mean of 0, 1, 4


def test_bad_x_is_explained_and_the_other_controls_stay():
    at = open_page(PAGE)
    at.number_input(key="dx").set_value(0.0).run()
    assert "The step of the range cannot be 0." in at.error[0].value
    assert at.radio(key="r") and at.radio(key="dt")               # still on the page
    at.radio(key="xm").set_value("torch.tensor").run()
    at.text_input(key="xs").input("1, a").run()
    assert at.error[0].value.startswith("Value 2 (“`a`”) is not a number")
    at.text_input(key="f").input("x^2").run()                     # both problems at once
    assert len(at.error) == 2 and not at.exception


def test_ten_thousand_points_stay_bounded():
    at = open_page(PAGE, {"x0": "-5", "x1": "5", "dx": "0.001"})
    assert not at.exception
    assert len(table(at)) == 500 and "first 500 of 10000 rows" in texts(at)
    tangents = [t for t in figure(at)["data"] if t.get("name") == "tangent lines at xᵢ"][0]
    assert tangents["x"].count(None) <= 60


def test_a_link_reopens_the_state_in_spanish():
    at = open_page(PAGE, {"f": "sigmoid(x)", "xm": "torch.tensor", "xs": "0, 1", "r": "sum",
                          "dt": "float64"}, locale="es-ES")
    assert not at.exception
    assert at.title[0].value == "5 · Área de pruebas"
    assert metric(at) == shown(0.5 + 1 / (1 + math.exp(-1)))      # sigmoid(0) + sigmoid(1)
    assert [cell[-1] for cell in table(at)["simbólica (sympy)"]] == ["✓", "✓"]
    at.text_input(key="f").input("2x").run()
    assert at.error[0].value.startswith("«`2x`» no es ni un número ni un nombre")
