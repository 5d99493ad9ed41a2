"""AppTest: page 6, inside backward(): computations, the step slider and buttons, both modes."""

import re

from lab.ui.inside_views import COMPUTATIONS
from tests.conftest import open_page

PAGE = "pages/6_inside_backward.py"
EX3, FORMULA = COMPUTATIONS["ex3"], COMPUTATIONS["formula"]     # the radio's URL values


def dot(at) -> str:
    return at.get("graphviz_chart")[0].proto.spec


def highlighted(at) -> list[str]:
    """Ids of the graph nodes drawn as the current step (legend excluded)."""
    return re.findall(r'^  "(\w+)" \[.*penwidth="5"', dot(at), re.M)


def heading(at) -> str:
    return next(m.value for m in at.markdown if re.search(r"\d+ (of|de) \d+", m.value))


def test_default_is_the_seed_chain_at_the_first_backward_step():
    at = open_page(PAGE)
    assert not at.exception and not at.error
    assert at.slider(key="step").value == 1 and at.slider(key="step").max == 5
    assert heading(at) == "Backward step 1 of 5: **MeanBackward0** runs"
    assert highlighted(at) == ["f1"]
    assert "∂y/∂z1 = ?" in dot(at) and "Legend" in dot(at)
    assert at.button(key="prev").disabled and not at.button(key="next").disabled
    assert any("register_prehook" in c.value for c in at.code)


def test_buttons_and_slider_walk_the_steps_to_x_grad():
    at = open_page(PAGE)
    at.button(key="next").click().run()
    assert at.slider(key="step").value == 2 and highlighted(at) == ["f2"]
    assert heading(at) == "Backward step 2 of 5: **AddBackward0** runs"
    at.button(key="next").click().run()
    assert heading(at).endswith("**PowBackward0** runs")
    assert any(r"0.3333 \times 2 = 0.6667" in l.value for l in at.latex)
    at.button(key="prev").click().run()
    assert at.slider(key="step").value == 2
    at.slider(key="step").set_value(5).run()
    assert not at.exception
    assert heading(at) == "Backward step 5 of 5: **AccumulateGrad** runs"
    assert at.button(key="next").disabled
    assert "x.grad = [0.6667, 1.333, 2] (3)" in at.success[0].value
    assert "∂y/∂x = [0.6667, 1.333, 2] (3)" in dot(at) and "?" not in dot(at)


def test_chain_sliders_change_the_numbers():
    at = open_page(PAGE, {"step": "5"})
    at.slider(key="p").set_value(3.0).run()
    assert not at.exception
    # y = mean((x + 1)^3 + 2): dy/dx = 3·(x + 1)^2 / 3 = [1, 4, 9]
    assert "x.grad = [1, 4, 9] (3)" in at.success[0].value
    assert "∂(a^3)/∂a = 3·a^(3−1)" in dot(at)


def test_forward_mode_shows_values_appearing_node_by_node():
    at = open_page(PAGE, {"comp": EX3})
    at.radio(key="mode").set_value("forward").run()
    assert not at.exception
    assert at.slider(key="step").max == 8
    at.slider(key="step").set_value(2).run()
    assert heading(at) == "Forward step 2 of 8: **z1** is computed"
    assert "z1 = torch.sin(x)" in [c.value for c in at.code]
    assert set(highlighted(at)) == {"z1", "f4"}
    assert "dashed" in dot(at) and "∂y/∂z1" not in dot(at)


def test_exercise_3_last_step_adds_up_three_branches():
    at = open_page(PAGE, {"comp": EX3, "step": "9"})
    assert not at.exception
    assert heading(at) == "Backward step 9 of 9: **AccumulateGrad** runs"
    assert "x.grad = [0.729, 0.7163, -3.418, -15.41, -20.05] (5)" in at.success[0].value
    assert any("(-0.02222) + 0.4575 + 0.2937 = 0.729" in l.value for l in at.latex)
    so_far = next(f.value for f in at.dataframe if "∂y/∂x so far" in f.value.columns)
    assert list(so_far["∂y/∂x so far"]) == ["0.728988", "0.716283", "-3.41801", "-15.4071",
                                            "-20.0476"]
    at.slider(key="step").set_value(5).run()          # x + 2 passes the first contribution
    so_far = next(f.value for f in at.dataframe if "∂y/∂x so far" in f.value.columns)
    assert list(so_far["∂y/∂x so far"])[:2] == ["-0.0222222", "-0.0125"]


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
    assert "x.grad = [2, 4] (2)" in at.success[0].value          # d/dx Σ x·x = 2x


def test_spanish_page_and_legend():
    at = open_page(PAGE, locale="es-ES")
    assert not at.exception
    assert heading(at) == "Paso hacia atrás 1 de 5: se ejecuta **MeanBackward0**"
    assert "Leyenda" in dot(at)
