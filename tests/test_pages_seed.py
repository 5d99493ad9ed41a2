"""AppTest: the home page and the seed's four pages, every control moved at least once."""

import pytest

from lab.site import PAGES
from tests.browser.states import EXERCISE_3
from tests.conftest import CODE, open_page, texts

pytestmark = pytest.mark.quick

BACKWARD = {"backward": "true"}          # page 2 with y.backward() called


def table(at, index=0):
    return at.dataframe[index].value


def test_home_links_every_section():
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Autograd Lab"
    # The body links every page, and the page ends with the way on to page 1 (the sidebar's
    # list is Streamlit's own navigation, from lab.site).
    links = [link.proto.page for link in at.get("page_link")]
    assert links == [info.url for info in PAGES[1:]] + [PAGES[1].url]


# ---- page 1: tensors and requires_grad ---------------------------------------------------

def test_tensors_defaults_show_the_seed_tensor():
    at = open_page("pages/1_tensors.py")
    assert not at.exception and not at.error
    assert "tensor([2., 3.])" in [c.value for c in at.code]
    assert list(table(at).iloc[:, 1]) == ["torch.float32", "False", "True", "None"]


def test_tensors_requires_grad_and_backward_fill_grad():
    at = open_page("pages/1_tensors.py")
    at.toggle(key="requires_grad").set_value(True).run()
    assert "tensor([2., 3.], requires_grad=True)" in [c.value for c in at.code]
    assert table(at).iloc[1, 1] == "True"
    at.toggle(key="backward").set_value(True).run()
    assert table(at).iloc[3, 1] == "tensor([4., 6.])"
    assert not at.exception


@pytest.mark.parametrize("dtype", ["int64", "bool", "uint8"])
def test_integer_dtype_with_requires_grad_shows_the_error_box(dtype):
    at = open_page("pages/1_tensors.py")
    at.toggle(key="requires_grad").set_value(True).run()
    at.selectbox(key="dtype").select(dtype).run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Only Tensors of floating point and complex dtype can require gradients" in message
    assert "float32" in message and ".float()" in message
    # the rest of the page still works: the code is still shown
    assert any("requires_grad=True" in c.value for c in at.code)


@pytest.mark.parametrize("lang,why", [("en", "Why:"), ("es", "Por qué:")])
def test_backward_without_requires_grad_shows_pytorchs_error(lang, why):
    at = open_page("pages/1_tensors.py", query={"lang": lang})
    at.toggle(key="backward").set_value(True).run()
    assert not at.exception
    (message,) = [e.value for e in at.error]
    assert ("element 0 of tensors does not require grad and does not have a grad_fn"
            in message) and why in message and "requires_grad" in message
    assert "y.backward()" in " ".join(c.value for c in at.code)
    at.toggle(key="requires_grad").set_value(True).run()
    assert not at.error and table(at).iloc[3, 1] == "tensor([4., 6.])"


def test_float16_without_grad_prints_its_dtype():
    at = open_page("pages/1_tensors.py")
    at.selectbox(key="dtype").select("float16").run()
    assert "tensor([2., 3.], dtype=torch.float16)" in [c.value for c in at.code]


def test_bad_values_show_a_message_not_a_traceback():
    at = open_page("pages/1_tensors.py")
    at.text_input(key="values").input("1, two").run()
    assert not at.exception
    assert "two" in at.error[0].value
    at.text_input(key="values").input("1, 2/3, pi").run()
    assert not at.error
    assert "tensor([1.0000, 0.6667, 3.1416])" in [c.value for c in at.code]


# ---- page 2: computational graph and backward() -------------------------------------------

def test_chain_defaults_are_the_seed():
    at = open_page("pages/2_backward.py", query=BACKWARD)
    assert not at.exception
    assert at.metric[0].value == "6.66667"
    frame = table(at)
    assert list(frame["x.grad (autograd)"]) == ["0.666667", "1.33333", "2"]
    assert list(frame["chain rule (formula above)"]) == ["0.666667 ✓", "1.33333 ✓", "2 ✓"]
    assert at.get("plotly_chart")


def test_chain_asks_for_the_derivatives_before_backward_gives_them():
    """Exercise 1 first: boxes for ∂y/∂xᵢ, and nothing of the answer (no x.grad, no
    derivative, no plot of f′) until the student calls y.backward()."""
    at = open_page("pages/2_backward.py")
    assert not at.exception and not at.dataframe and not at.get("plotly_chart")
    assert "0.666667" not in texts(at) and "1.33333" not in texts(at)
    boxes = [at.text_input(key=f"ex1_{i}") for i in range(3)]
    assert all(box.value == "" and not box.placeholder for box in boxes)
    assert any("still `None`" in i.value for i in at.info)
    at.text_input(key="ex1_0").input("2/3").run()
    at.text_input(key="ex1_1").input("4").run()
    assert any("right" in s.value for s in at.success)
    assert any("divided by n" in e.value for e in at.error)
    at.slider(key="n").set_value(8).run()                  # boxes for the first six
    assert [box.key for box in at.main.text_input][-1] == "ex1_5"
    assert any("first 6 of the 8" in c.value for c in at.caption)
    at.toggle(key="backward").set_value(True).run()
    assert not at.exception and len(table(at)) == 8


def test_chain_every_slider_and_the_reduction_change_the_numbers():
    at = open_page("pages/2_backward.py", query=BACKWARD)
    at.slider(key="n").set_value(5).run()
    assert len(table(at)) == 5
    assert at.metric[0].value == "13"          # mean((x+1)^2 + 2) over 0..4
    at.slider(key="a").set_value(0.0).run()
    assert at.metric[0].value == "8"           # mean(x^2 + 2) over 0..4
    at.slider(key="p").set_value(3.0).run()
    assert at.metric[0].value == "22"          # mean(x^3) + 2 = 20 + 2
    at.slider(key="c").set_value(0.0).run()
    assert at.metric[0].value == "20"
    at.radio(key="reduce").set_value("sum").run()
    assert at.metric[0].value == "100"
    assert list(table(at)["x.grad (autograd)"]) == ["0", "3", "12", "27", "48"]
    assert any("their sum, so ∂y/∂xᵢ = f′(xᵢ)." in c.value for c in at.caption)
    at.button(key="n_up").click().run()                    # the step buttons
    assert at.slider(key="n").value == 6
    at.button(key="p_down").click().run()
    assert at.slider(key="p").value == 2.5
    assert not at.exception


def test_chain_zero_to_negative_power_explains_inf():
    at = open_page("pages/2_backward.py", query=BACKWARD)
    at.slider(key="a").set_value(0.0).run()
    at.slider(key="p").set_value(-1.0).run()
    assert not at.exception
    assert "inf" in at.metric[0].value
    assert any("0 to a negative power" in w.value for w in at.warning)


# ---- page 3: torchviz ------------------------------------------------------------------------

def test_torchviz_graph_and_toggles():
    at = open_page("pages/3_torchviz.py", opened=(CODE,))
    dot = at.get("graphviz_chart")[0].proto.spec
    for node in ("MeanBackward0", "PowBackward0", "AddBackward0", "AccumulateGrad"):
        assert node in dot
    assert "self_sym_numel" not in dot
    at.toggle(key="show_attrs").set_value(True).run()
    assert "exponent:            2.0" in at.get("graphviz_chart")[0].proto.spec
    assert "self (" not in at.get("graphviz_chart")[0].proto.alt
    at.toggle(key="show_saved").set_value(True).run()
    assert "fillcolor=orange" in at.get("graphviz_chart")[0].proto.spec
    # the text alternative names what is drawn: PowBackward0's saved input, too
    assert "self (3)" in at.get("graphviz_chart")[0].proto.alt
    at.slider(key="n").set_value(7).run()
    assert "x\n (7)" in at.get("graphviz_chart")[0].proto.spec
    at.radio(key="reduce").set_value("sum").run()
    assert "SumBackward0" in at.get("graphviz_chart")[0].proto.spec
    assert "make_dot(y, params={\"x\": x}, show_attrs=True, show_saved=True)" in texts(at)
    assert not at.exception


def test_torchviz_inputs_are_shared_with_page_2_through_the_url():
    at = open_page("pages/2_backward.py", query=BACKWARD, opened=(CODE,))
    at.slider(key="n").set_value(6).run()
    at.slider(key="p").set_value(3.0).run()
    assert len(table(at)) == 6
    # AppTest's first run after switch_page sends no widget state; a browser's does.
    at.switch_page("pages/3_torchviz.py").run().run()
    assert "x\n (6)" in at.get("graphviz_chart")[0].proto.spec
    assert "z2 = z1 ** 3" in texts(at)


def test_a_link_with_parameters_reopens_the_state():
    at = open_page("pages/2_backward.py", query={"n": "5", "a": "0.0", "reduce": "sum",
                                                **BACKWARD})
    assert len(table(at)) == 5
    assert at.metric[0].value == "40"          # sum(x^2 + 2) over 0..4


# ---- page 4: exercises -------------------------------------------------------------------------

def test_exercise_1_points_to_page_2():
    at = open_page("pages/4_exercises.py")
    assert at.tabs[0].get("page_link")[0].proto.page == "backward"


def test_exercise_2_asks_first_then_shows_the_error_and_lets_the_student_edit():
    at = open_page("pages/4_exercises.py", query={"exercise": "2"})
    tab = at.tabs[1]
    assert not tab.error and not tab.code[1:]                       # nothing revealed yet
    assert "t1 = torch.tensor([2, 3], requires_grad=True)" in [c.value for c in tab.code]
    at.radio(key="ex2_guess").set_value("works").run()
    at.text_area(key="ex2_why").input("whole numbers are fine").run()
    assert not at.tabs[1].error                                     # still not revealed
    at.toggle(key="ex2_check").set_value(True).run()
    tab = at.tabs[1]
    assert any("Not quite" in w.value for w in tab.warning)
    assert any("floating point and complex" in e.value for e in tab.error)
    assert any("whole numbers are fine" in c.value for c in tab.caption)    # their reason
    assert "ex2_why" not in at.query_params                          # kept in the page only
    at.radio(key="ex2_guess").set_value("error").run()
    assert any("Right" in s.value for s in at.tabs[1].success)
    at.text_area(key="ex2_code").input(
        "import torch\nt1 = torch.tensor([2., 3.], requires_grad=True)\nprint(t1)").run()
    assert "tensor([2., 3.], requires_grad=True)" in [c.value for c in at.tabs[1].code]


GOOD = EXERCISE_3          # the program the browser tests type


@pytest.mark.parametrize("program, said", [
    (GOOD, "Right: y and x.grad are what the reference computes."),
    (GOOD.replace(".mean()", ".sum()"), "write `.mean()` instead of `.sum()`"),
    (GOOD.replace("arange(1, 6", "arange(5"), "`torch.arange`'s stop is excluded"),
    (GOOD.replace(", requires_grad=True", ""), "create x with `requires_grad=True`"),
    (GOOD.replace("dtype=torch.float32, ", ""), "integers cannot require gradients"),
])
def test_exercise_3_checks_the_students_implementation(program, said):
    at = open_page("pages/4_exercises.py", query={"exercise": "3", "ex3_code": program})
    assert not at.exception
    assert any(said in box.value for box in list(at.tabs[2].success) + list(at.tabs[2].warning))
    assert not at.get("graphviz_chart")                  # the graphs wait until asked


def test_exercise_3_starts_from_comments_and_shows_the_lab_only_when_asked():
    at = open_page("pages/4_exercises.py", query={"exercise": "3"})
    assert "# 1. x: a tensor with the numbers from 1 to 5" in at.text_area(key="ex3_code").value
    assert not at.tabs[2].metric and not at.tabs[2].dataframe       # nothing revealed yet
    assert "-34.1407" not in texts(at)
    at.text_area(key="ex3_code").input(GOOD).run()
    at.toggle(key="ex3_reference").set_value(True).run()
    assert not at.exception
    assert at.metric[0].value == "-34.1407"
    assert len(at.get("graphviz_chart")) == 2                      # theirs and the lab's
    frame = next(f.value for f in at.dataframe if "x.grad (autograd)" in f.value.columns)
    assert list(frame["x.grad (autograd)"]) == ["0.728988", "0.716283", "-3.41801", "-15.4071",
                                                "-20.0476"]
    assert {cell[-1] for cell in frame["symbolic (sympy)"]} == {"✓"}
