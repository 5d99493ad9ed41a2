"""AppTest: the home page and the seed's four pages, every control moved at least once."""

import pytest

from lab.ui.shell import PAGES
from tests.conftest import open_page, texts


def table(at, index=0):
    return at.dataframe[index].value


def test_home_links_every_section():
    at = open_page()
    assert not at.exception
    assert at.title[0].value == "Autograd Lab"
    # The sidebar lists home and every page, the body every page again, and the page ends
    # with the way on to page 1; each link's URL path is the one Streamlit derives from
    # the file name, as PAGES records it.
    links = [link.proto.page for link in at.get("page_link")]
    urls = [info.url for info in PAGES]
    assert sorted(links) == sorted([""] + urls + urls + [PAGES[0].url])


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
    at = open_page("pages/2_backward.py")
    assert not at.exception
    assert at.metric[0].value == "6.66667"
    frame = table(at)
    assert list(frame["x.grad (autograd)"]) == ["0.666667", "1.33333", "2"]
    assert list(frame["chain rule (formula above)"]) == ["0.666667 ✓", "1.33333 ✓", "2 ✓"]
    assert at.get("plotly_chart")


def test_chain_every_slider_and_the_reduction_change_the_numbers():
    at = open_page("pages/2_backward.py")
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
    assert not at.exception


def test_chain_zero_to_negative_power_explains_inf():
    at = open_page("pages/2_backward.py")
    at.slider(key="a").set_value(0.0).run()
    at.slider(key="p").set_value(-1.0).run()
    assert not at.exception
    assert "inf" in at.metric[0].value
    assert any("0 to a negative power" in w.value for w in at.warning)


# ---- page 3: torchviz ------------------------------------------------------------------------

def test_torchviz_graph_and_toggles():
    at = open_page("pages/3_torchviz.py")
    dot = at.get("graphviz_chart")[0].proto.spec
    for node in ("MeanBackward0", "PowBackward0", "AddBackward0", "AccumulateGrad"):
        assert node in dot
    assert "self_sym_numel" not in dot
    at.toggle(key="show_attrs").set_value(True).run()
    assert "exponent:            2.0" in at.get("graphviz_chart")[0].proto.spec
    at.toggle(key="show_saved").set_value(True).run()
    assert "fillcolor=orange" in at.get("graphviz_chart")[0].proto.spec
    at.slider(key="n").set_value(7).run()
    assert "x\n (7)" in at.get("graphviz_chart")[0].proto.spec
    at.radio(key="reduce").set_value("sum").run()
    assert "SumBackward0" in at.get("graphviz_chart")[0].proto.spec
    assert "make_dot(y, params={\"x\": x}, show_attrs=True, show_saved=True)" in texts(at)
    assert not at.exception


def test_torchviz_inputs_are_shared_with_page_2_through_the_url():
    at = open_page("pages/2_backward.py")
    at.slider(key="n").set_value(6).run()
    at.slider(key="p").set_value(3.0).run()
    assert len(table(at)) == 6
    # AppTest's first run after switch_page sends no widget state; a browser's does.
    at.switch_page("pages/3_torchviz.py").run().run()
    assert "x\n (6)" in at.get("graphviz_chart")[0].proto.spec
    assert "z2 = z1 ** 3" in texts(at)


def test_a_link_with_parameters_reopens_the_state():
    at = open_page("pages/2_backward.py", query={"n": "5", "a": "0.0", "reduce": "sum"})
    assert len(table(at)) == 5
    assert at.metric[0].value == "40"          # sum(x^2 + 2) over 0..4


# ---- page 4: exercises -------------------------------------------------------------------------

def test_exercise_1_checks_typed_answers():
    at = open_page("pages/4_exercises.py")
    boxes = [at.text_input(key=f"ex1_answer_{i}") for i in range(3)]
    assert all(box.value == "" and not box.placeholder for box in boxes)   # no answer shown
    at.text_input(key="ex1_answer_0").input("2/3").run()
    at.text_input(key="ex1_answer_1").input("4").run()
    assert any("right" in s.value for s in at.success)
    assert any("divided by n" in e.value for e in at.error)
    assert not at.tabs[0].toggle(key="ex1_solution").value           # hidden until asked
    at.slider(key="ex1_n").set_value(2).run()
    assert at.text_input(key="ex1_answer_1")
    assert not at.exception


def test_exercise_2_asks_first_then_shows_the_error_and_the_float_fix():
    at = open_page("pages/4_exercises.py")
    tab = at.tabs[1]
    assert not tab.error and not tab.toggle                         # nothing revealed yet
    assert "t1 = torch.tensor([2, 3], requires_grad=True)" in [c.value for c in tab.code]
    at.radio(key="ex2_guess").set_value("tensor([2, 3], requires_grad=True)").run()
    tab = at.tabs[1]
    assert any("Not quite" in w.value for w in tab.warning)
    assert any("floating point and complex" in e.value for e in tab.error)
    assert any("int64" in m.value for m in tab.markdown)
    at.radio(key="ex2_guess").set_value("RuntimeError").run()
    assert any("Right" in s.value for s in at.tabs[1].success)
    at.toggle(key="ex2_floats").set_value(True).run()
    assert not any("floating point and complex" in e.value for e in at.tabs[1].error)
    assert "tensor([2., 3.], requires_grad=True)" in [c.value for c in at.code]


def test_exercise_3_asks_for_y_then_reveals():
    at = open_page("pages/4_exercises.py")
    assert not at.tabs[2].metric and not at.tabs[2].dataframe       # nothing revealed yet
    at.text_input(key="ex3_guess").input("-34.14").run()
    at.toggle(key="ex3_reveal").set_value(True).run()
    assert any("is what PyTorch computes" in s.value for s in at.tabs[2].success)
    at.text_input(key="ex3_guess").input("12").run()
    assert any("is not what PyTorch computes" in w.value for w in at.tabs[2].warning)


def test_exercise_3_defaults_and_range():
    at = open_page("pages/4_exercises.py", query={"ex3_reveal": "true"})
    assert at.metric[0].value == "-34.1407"
    frame = table(at, -1)
    assert list(frame["x.grad (autograd)"]) == ["0.728988", "0.716283", "-3.41801", "-15.4071",
                                                "-20.0476"]
    assert {cell[-1] for cell in frame["symbolic (sympy)"]} == {"✓"}
    assert "SinBackward0" in at.get("graphviz_chart")[0].proto.spec
    at.slider(key="ex3_range").set_value((-3, 1)).run()
    assert not at.exception
    assert "inf" in at.metric[0].value
    assert any("divides by zero at x = -2" in w.value for w in at.warning)
    at.selectbox(key="ex3_dtype").select("float64").run()
    assert "dtype=torch.float64" in texts(at)
