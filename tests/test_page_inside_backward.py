"""AppTest: page 7, inside backward(): computations, the step slider and buttons, both modes,
and every formula the page shows read back with a LaTeX parser at many settings."""

import re

import pytest

from tests.chain_rule_rows import check_page_latex
from tests.conftest import CODE, open_page

PAGE = "pages/7_inside_backward.py"
EX3, FORMULA = "ex3", "formula"          # the radio's URL values (ids)


def dot(at) -> str:
    return at.get("graphviz_chart")[0].proto.spec


def latexes(at) -> list[str]:
    """The page's st.latex bodies (Streamlit wraps each in $$ … $$)."""
    return [l.value.removeprefix("$$\n").removesuffix("\n$$") for l in at.latex]


def highlighted(at) -> list[str]:
    """Ids of the graph nodes drawn as the current step."""
    return re.findall(r'^  "(\w+)" \[.*penwidth="5"', dot(at), re.M)


def heading(at) -> str:
    return next(m.value for m in at.markdown if re.search(r"\d+ (of|de) \d+", m.value))


def order(at) -> list[list[str]]:
    frame = next(f.value for f in at.dataframe if f.value.columns[0] in ("step", "paso"))
    return frame.values.tolist()


def test_default_is_the_seed_chain_at_the_first_backward_step():
    at = open_page(PAGE, opened=(CODE,))
    assert not at.exception and not at.error
    assert at.slider(key="step").value == 1 and at.slider(key="step").max == 5
    assert heading(at) == "Step 1 of 5 of the backward pass: **MeanBackward0** runs"
    assert highlighted(at) == ["f1"]
    assert "∂y/∂y = 1" in dot(at) and ">?</TD>" in dot(at)     # z3's gradient not yet known
    assert "leaf tensor x" in dot(at) and "current step" in dot(at)     # the legend, beneath
    # never disabled: a disabled button drops the keyboard's focus to the page
    assert not at.button(key="prev").disabled and not at.button(key="next").disabled
    assert any("z3.retain_grad()" in c.value for c in at.code)
    # backward() starts from ∂y/∂y = 1: the first rule is 1 · (local derivative), not circular
    assert any(r"\frac{\partial y}{\partial y} = 1" in m.value and "starts here" in m.value
               for m in at.markdown)
    assert any(r"\frac{\partial y}{\partial \mathrm{z3}_{i}} = 1 \cdot \frac{1}{3}" in l
               for l in latexes(at))
    assert order(at) == [["▶ 1", "MeanBackward0", "y", "1", "z3ᵢ"]]   # only the steps so far


def test_buttons_and_slider_walk_the_steps_to_x_grad():
    at = open_page(PAGE)
    at.button(key="next").click().run()
    assert at.slider(key="step").value == 2 and highlighted(at) == ["f2"]
    assert heading(at) == "Step 2 of 5 of the backward pass: **AddBackward0** runs"
    assert [row[0] for row in order(at)] == ["1", "▶ 2"]
    at.button(key="next").click().run()
    assert heading(at).endswith("**PowBackward0** runs")
    assert any(r"\frac{\partial \mathrm{z2}_{i}}{\partial \mathrm{z1}_{i}} = 2 \mathrm{z1}_{i}"
               == l for l in latexes(at))
    assert any(r"0.333333 \cdot 2 = 0.666667" in l for l in latexes(at))
    assert "∂z2ᵢ/∂z1ᵢ = 2·z1ᵢ" in dot(at)
    at.button(key="prev").click().run()
    assert at.slider(key="step").value == 2
    at.slider(key="step").set_value(5).run()
    assert not at.exception
    assert heading(at) == "Step 5 of 5 of the backward pass: **AccumulateGrad** runs"
    at.button(key="next").click().run()                  # at the last step: stays there
    assert at.slider(key="step").value == 5 and not at.exception
    assert "x.grad = [0.666667, 1.33333, 2]" in at.success[0].value
    assert ">?</TD>" not in dot(at) and ">1.33333</TD>" in dot(at)
    assert len(order(at)) == 5


def test_chain_sliders_change_the_numbers():
    at = open_page(PAGE, {"step": "5"})
    at.slider(key="p").set_value(3.0).run()
    assert not at.exception
    # y = mean((x + 1)^3 + 2): dy/dx = 3·(x + 1)^2 / 3 = [1, 4, 9]
    assert "x.grad = [1, 4, 9]" in at.success[0].value
    assert "∂z2ᵢ/∂z1ᵢ = 3·z1ᵢ²" in dot(at)


def test_forward_mode_shows_values_appearing_node_by_node():
    at = open_page(PAGE, {"comp": EX3})
    at.radio(key="mode").set_value("forward").run()
    assert not at.exception
    assert at.slider(key="step").max == 8
    at.slider(key="step").set_value(2).run()
    assert heading(at) == "Step 2 of 8 of the forward pass: **z1** is computed"
    assert "z1 = torch.sin(x)" in [c.value for c in at.code]
    assert r"\mathrm{z1}_{i} = \sin\left(x_{i}\right)" in latexes(at)
    assert set(highlighted(at)) == {"z1", "f4"}
    assert "dashed" in dot(at) and "∂y/∂z1" not in dot(at)
    assert "AccumulateGrad" not in dot(at)          # it belongs to the backward pass
    assert len(order(at)) == 2
    at.slider(key="step").set_value(6).run()               # z5 = 1 / z4: two nodes
    assert set(highlighted(at)) == {"z5", "f7", "f8"}
    assert any("z4.reciprocal() * 1" in info.value for info in at.info)


def test_exercise_3_last_step_adds_up_three_branches():
    at = open_page(PAGE, {"comp": EX3, "step": "9"})
    assert not at.exception
    assert heading(at) == "Step 9 of 9 of the backward pass: **AccumulateGrad** runs"
    assert ("x.grad = [0.728988, 0.716283, -3.41801, -15.4071, -20.0476]"
            in at.success[0].value)
    assert any(r"\left(-0.0222222\right) + 0.457471 + 0.293739 = 0.728988" in l
               for l in latexes(at))
    for gradient in ("0.728988", "0.716283", "-3.41801", "-15.4071", "-20.0476"):
        assert f">{gradient}</TD>" in dot(at)          # all five, whole, on the graph
    so_far = next(f.value for f in at.dataframe if "∂y/∂x so far" in f.value.columns)
    assert list(so_far["∂y/∂x so far"]) == ["0.728988", "0.716283", "-3.41801", "-15.4071",
                                            "-20.0476"]
    at.slider(key="step").set_value(5).run()          # x + 2 passes the first contribution
    so_far = next(f.value for f in at.dataframe if "∂y/∂x so far" in f.value.columns)
    assert list(so_far["∂y/∂x so far"])[:2] == ["-0.0222222", "-0.0125"]


def test_the_extra_mul_node_of_a_division_is_explained_where_it_appears():
    at = open_page(PAGE, {"comp": EX3, "step": "3"})
    assert heading(at).endswith("**MulBackward0** runs")
    assert any("z4.reciprocal() * 1" in info.value and "ReciprocalBackward0" in info.value
               for info in at.info)
    at.slider(key="step").set_value(2).run()          # AddBackward0: no division here
    assert not any("reciprocal()" in info.value for info in at.info)


def test_torchviz_switch_and_step_clamped_when_the_pass_gets_shorter():
    at = open_page(PAGE, {"comp": EX3, "step": "9"})
    at.toggle(key="torchviz").set_value(True).run()
    assert not at.exception
    assert "AccumulateGrad" in dot(at) and "lightblue" in dot(at) and "∂y/∂" not in dot(at)
    at.radio(key="mode").set_value("forward").run()         # 8 forward steps < 9
    assert not at.exception
    assert 1 <= at.slider(key="step").value <= at.slider(key="step").max == 8


def test_typed_formula_bad_input_shows_a_message_and_the_page_keeps_working():
    at = open_page(PAGE, {"comp": FORMULA})
    assert not at.exception and not at.error
    at.text_input(key="f").input("__import__('os')").run()
    assert not at.exception and len(at.error) == 1
    at.text_input(key="f").input("x * x").run()
    at.text_input(key="xs").input("1, two").run()
    assert not at.exception and "two" in at.error[0].value
    at.text_input(key="xs").input("1, 2").run()
    at.radio(key="r").set_value("sum").run()
    at.selectbox(key="dtype").select("float64").run()
    at.slider(key="step").set_value(at.slider(key="step").max).run()
    assert not at.exception and not at.error
    assert "x.grad = [2, 4]" in at.success[0].value          # d/dx Σ x·x = 2x
    at.slider(key="step").set_value(2).run()                 # MulBackward0: x per input slot
    assert latexes(at).count(r"\frac{\partial \mathrm{z1}_{i}}{\partial x_{i}} = x_{i}") == 2


def test_a_pytorch_convention_is_marked_and_explained():
    at = open_page(PAGE, {"comp": FORMULA, "f": "x**x", "xs": "0, 2", "step": "2"})
    assert heading(at).endswith("**PowBackward1** runs")
    assert any(r"(\ast)" in l for l in latexes(at))
    assert any("(∗)" in c.value and "0⁰" in c.value for c in at.caption)


def test_spanish_page_and_legend():
    at = open_page(PAGE, locale="es-ES")
    assert not at.exception
    assert heading(at) == "Paso 1 de 5 de la pasada hacia atrás: se ejecuta **MeanBackward0**"
    assert "tensor hoja x" in dot(at) and "forma (3)" in dot(at) and "Leyenda" in dot(at)
    assert any("gradiente entrante" in m.value for m in at.markdown)
    assert "gradiente entrante" in order_columns(at)


def order_columns(at) -> list[str]:
    return list(next(f.value for f in at.dataframe if f.value.columns[0] == "paso").columns)


# ---- every formula on the page, read back --------------------------------------------------

SETTINGS = [
    ({}, None),
    ({"n": "4", "a": "0.5", "p": "3.0", "c": "-1.0", "reduce": "sum"}, None),
    ({"n": "1", "a": "0.0", "p": "0.0", "c": "0.0"}, None),          # degenerate: all at once
    ({"n": "3", "a": "-1.0", "p": "1.0", "c": "2.0"}, None),
    ({"n": "4", "a": "1.0", "p": "-1.5", "c": "0.0"}, None),
    ({"comp": EX3}, None),
    ({"comp": EX3, "range": ["-6", "10"], "dtype": "float64"}, (1, 4, 9)),
] + [({"comp": FORMULA, "f": text, "xs": "0.5, 1, 2"}, None)
     for text in ("2/x", "2 - x", "2**x", "x*x", "mean(x)*x", "x**x",
                  "sin(x) + cos(x) + tan(x) + relu(x - 1.5)",
                  "exp(x)*log(x) + sqrt(x)*abs(x) - tanh(x)*sigmoid(x)")]


@pytest.mark.parametrize("query, steps", SETTINGS, ids=[str(i) for i in range(len(SETTINGS))])
def test_every_local_derivative_on_the_page_reads_back_as_its_numbers(query, steps):
    at = open_page(PAGE, dict(query))
    assert not at.exception and not at.error
    count = int(at.slider(key="step").max)
    checked = 0
    for step in steps or range(1, count + 1):
        at.slider(key="step").set_value(step).run()
        assert not at.exception
        checked += check_page_latex(latexes(at))
    assert checked > 0
    at.radio(key="mode").set_value("forward").run()          # and the forward pass's rows
    last = int(at.slider(key="step").max)
    for step in (1, last // 2 + 1, last):
        at.slider(key="step").set_value(step).run()
        checked += check_page_latex(latexes(at))
    assert not at.exception


# ---- a student's program (lab.cell.stepping) --------------------------------------------

PROGRAM = "program"


def leaf_table(at) -> dict[str, str]:
    frame = next(f.value for f in at.dataframe if f.value.columns[0] in ("leaf", "hoja"))
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 2]))


def test_a_program_with_two_leaves_is_stepped_to_the_grads_it_prints():
    at = open_page(PAGE, {"comp": PROGRAM})
    assert not at.exception and not at.error
    assert at.slider(key="step").max == 6
    assert heading(at) == "Step 1 of 6 of the backward pass: **MeanBackward0** runs"
    assert highlighted(at) == ["n1"]
    assert "w.grad = ?" in dot(at) and "line 8: y = torch.sigmoid(w * x + b).mean()" in dot(at)
    assert leaf_table(at) == {"b": "None", "w": "None"}
    at.slider(key="step").set_value(4).run()
    assert heading(at).endswith("**AccumulateGrad** runs") and highlighted(at) == ["n5"]
    assert leaf_table(at) == {"b": "0.183869", "w": "None"}
    at.button(key="next").click().run()
    assert heading(at).endswith("**MulBackward0** runs")
    passes = next(f.value for f in at.dataframe if f.value.columns[0] == "input")
    assert passes.values.tolist() == [["w", "0.159701"]]      # summed over x's 3 elements
    at.button(key="next").click().run()
    assert leaf_table(at) == {"b": "0.183869", "w": "0.159701"}
    assert "b.grad = 0.183869, w.grad = 0.159701" in at.success[0].value
    # what the program printed, from the same run: the grads the steps ended with
    printed = next(c.value for c in at.code if c.value.startswith("y = "))
    assert "dy/dw = tensor(0.1597)" in printed and "dy/db = tensor(0.1839)" in printed
    assert [row[1] for row in order(at)] == ["MeanBackward0", "SigmoidBackward0", "AddBackward0",
                                            "AccumulateGrad", "MulBackward0", "AccumulateGrad"]


def test_a_typed_program_in_spanish_and_the_ones_that_cannot_be_stepped():
    at = open_page(PAGE, {"comp": PROGRAM, "lang": "es"})
    at.text_area(key="program").input(
        "import torch\na = torch.tensor(3., requires_grad=True)\nb = a * a\nb.backward()\n"
        "b = a * 2\n").run()
    assert not at.exception and not at.error
    assert heading(at) == "Paso 1 de 2 de la pasada hacia atrás: se ejecuta **MulBackward0**"
    assert "línea 3: b = a * a" in dot(at)       # b's name when backward() ran (rebound after)
    at.slider(key="step").set_value(2).run()
    assert leaf_table(at) == {"a": "6"}
    at.text_area(key="program").input("import torch\nx = torch.ones(2, requires_grad=True)\n"
                                     "print(x * 2)\n").run()
    assert any("no llama a `.backward()`" in i.value for i in at.info)
    assert not at.get("graphviz_chart")
    assert "tensor([2., 2.], grad_fn=<MulBackward0>)" in [c.value for c in at.code]
    at.text_area(key="program").input("import torch\nx = torch.ones(2, requires_grad=True)\n"
                                     "y = x\nfor i in range(70):\n    y = y * 1.5\n"
                                     "y.sum().backward()\n").run()          # sum, 70 ×, x
    assert "72 nodos" in at.warning[0].value and not at.get("graphviz_chart")
    at.text_area(key="program").input("import os\n").run()
    assert at.error and not at.exception and not at.get("graphviz_chart")


def test_the_cell_page_opens_its_program_here():
    at = open_page("pages/6_code.py")
    link = next(l for l in at.get("page_link") if l.proto.page == "inside_backward")
    assert "Step through its backward() on page 7" in link.proto.label
    assert "comp=program" in link.proto.query_string and "program=" in link.proto.query_string


@pytest.mark.parametrize("source, said", [
    ("import torch\nx = torch.tensor(2., requires_grad=True)\nx.backward()\n",
     "was called on a leaf"),
    ("import torch\nx = torch.tensor(2., requires_grad=True)\n"
     "g, = torch.autograd.grad(x * x, x)\nprint(g)\n", "steps through `.backward()` only"),
])
def test_a_program_with_nothing_to_step_through_says_why(source, said):
    at = open_page(PAGE, {"comp": PROGRAM, "program": source})
    assert not at.exception and not at.error and not at.get("graphviz_chart")
    assert any(said in i.value for i in at.info)


def test_backward_with_a_gradient_starts_from_it():
    at = open_page(PAGE, {"comp": PROGRAM, "program": (
        "import torch\nx = torch.tensor([1., 2.], requires_grad=True)\ny = x * 3\n"
        "y.backward(gradient=torch.tensor([1., 0.5]))\n")})
    assert any("on `y`, with [1, 0.5]: `∂y/∂y` = 1 when" in m.value for m in at.markdown)
    at.slider(key="step").set_value(2).run()
    assert leaf_table(at) == {"x": "[3, 1.5]"}
