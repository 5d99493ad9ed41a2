"""Exercise 3 graded against the lab's own program, run through the same cell: one case per
kind of feedback, and the numbers a page shows side by side."""

import pytest

from lab.cell import run_program
from lab.cell.grading import check_exercise_3, reference, reference_program
from lab.i18n import LANGUAGES, MISSING

pytestmark = pytest.mark.quick

T = "import torch\n"
FORMULA = "torch.sin(x) * torch.exp(x) + 1 / (x + 2)"
X = "x = torch.arange(1, 6, dtype=torch.float32, requires_grad=True)\n"


def grade(source: str):
    result = check_exercise_3(run_program(source))
    for message in result.messages:
        for lang in LANGUAGES:
            assert MISSING.format(message.key) not in message.render(lang)
    return result


def keys(result) -> list[str]:
    return [message.key for message in result.messages]


def test_the_reference_is_the_labs_own_program_and_the_seeds_numbers():
    assert "torch.arange(1, 6, dtype=torch.float32, requires_grad=True)" in reference_program()
    result = reference()
    assert result.ok and result.stdout.splitlines() == [
        "tensor(-34.1407, grad_fn=<MeanBackward0>)",
        "tensor([  0.7290,   0.7163,  -3.4180, -15.4071, -20.0476])"]


@pytest.mark.parametrize("source", [
    T + X + f"y = torch.mean({FORMULA})\ny.backward()",
    T + X + "y = (x.sin() * x.exp() + (x + 2) ** -1).mean()\ny.backward()\nprint(x.grad)",
    T + "x = torch.tensor([1., 2., 3., 4., 5.], requires_grad=True)\n"
        f"y = ({FORMULA}).sum() / 5\ny.backward()",
    T + "x = torch.linspace(1, 5, 5)\nx.requires_grad_()\n"
        "a = torch.sin(x)\nb = torch.exp(x)\nc = 1 / (x + 2)\ny = (a * b + c).mean()\n"
        "y.backward()",
])
def test_right_answers_in_several_spellings(source):
    result = grade(source)
    assert result.correct and keys(result) == ["cell.grade_right"]
    assert result.student.y == pytest.approx(result.reference.y, rel=1e-6)
    assert result.student.grad == pytest.approx(result.reference.grad, rel=1e-5)
    assert result.reference.x == (1.0, 2.0, 3.0, 4.0, 5.0)


def test_float64_is_accepted_with_a_note():
    result = grade(T + "x = torch.arange(1, 6, dtype=torch.float64, requires_grad=True)\n"
                       f"y = torch.mean({FORMULA})\ny.backward()")
    assert result.correct and keys(result) == ["cell.grade_right", "cell.grade_float64"]
    assert result.student.dtype == "torch.float64"


@pytest.mark.parametrize("source,key", [
    (T + "t = torch.arange(1., 6., requires_grad=True)", "cell.grade_no_x"),
    (T + X + f"z = torch.mean({FORMULA})\nz.backward()", "cell.grade_no_y"),
    (T + "x = torch.arange(5, dtype=torch.float32, requires_grad=True)\n"
         f"y = torch.mean({FORMULA})\ny.backward()", "cell.grade_arange"),
    (T + "x = torch.arange(1, 5, dtype=torch.float32, requires_grad=True)\n"
         f"y = torch.mean({FORMULA})\ny.backward()", "cell.grade_arange"),
    (T + "x = torch.tensor([1., 2., 3.], requires_grad=True)\n"
         f"y = torch.mean({FORMULA})\ny.backward()", "cell.grade_x_values"),
    (T + "x = torch.arange(1, 6, requires_grad=True)", "cell.grade_integer"),
    (T + "x = torch.arange(1, 6)\ny = torch.mean(torch.sin(x) * torch.exp(x) + 1 / (x + 2))",
     "cell.grade_integer"),
    (T + "x = torch.arange(1., 6.)\n" f"y = torch.mean({FORMULA})\ny.backward()",
     "cell.grade_no_requires_grad"),
    (T + "x = torch.arange(1., 6.)\n" f"y = torch.mean({FORMULA})",
     "cell.grade_no_requires_grad"),
    (T + X + f"y = torch.mean({FORMULA})", "cell.grade_no_backward"),
    (T + X + f"y = {FORMULA}\ny.backward()", "cell.grade_not_scalar"),
    (T + X + f"y = {FORMULA}\ny.backward(gradient=torch.ones(5))", "cell.grade_not_scalar"),
    (T + X + f"y = ({FORMULA}).sum()\ny.backward()", "cell.grade_sum"),
    (T + X + "y = (x ** 2 +", "cell.grade_error"),
])
def test_each_mistake_gets_its_own_feedback(source, key):
    result = grade(source)
    assert not result.correct and keys(result)[0] == key, keys(result)


def test_the_arange_hint_names_what_x_holds():
    result = grade(T + "x = torch.arange(5, dtype=torch.float32, requires_grad=True)")
    assert result.messages[0].render("en").startswith("x holds 0, 1, 2, 3, 4, not the numbers")
    assert "torch.arange(1, 6)" in result.messages[0].render("es")


def test_an_integer_x_keeps_pytorchs_error_why_and_fix():
    run = run_program(T + "x = torch.tensor([1, 2, 3, 4, 5], requires_grad=True)")
    assert run.error.why == "tensors.why_integer" and run.error.fix == "tensors.fix_integer"
    assert keys(check_exercise_3(run)) == ["cell.grade_integer"]


@pytest.mark.parametrize("formula,missing,extra", [
    ("torch.sin(x) + 1 / (x + 2)", ["ExpBackward0"], []),
    ("torch.cos(x) * torch.exp(x) + 1 / (x + 2)", ["SinBackward0"], ["CosBackward0"]),
    ("torch.sin(x) * torch.exp(x) + 1 / x", [], []),
    ("torch.sin(x) * torch.exp(x) - 1 / (x + 2)", [], ["SubBackward0"]),
])
def test_a_wrong_formula_names_the_missing_or_extra_operation(formula, missing, extra):
    result = grade(T + X + f"y = torch.mean({formula})\ny.backward()")
    assert not result.correct and keys(result)[-1] == "cell.grade_wrong_values"
    named = {(m.key, m.values["node"]) for m in result.messages if "node" in m.values}
    assert {n for k, n in named if k == "cell.grade_missing_node"} >= set(missing)
    assert {n for k, n in named if k == "cell.grade_extra_node"} == set(extra)
    if missing == ["ExpBackward0"]:
        assert "`torch.exp(…)`" in result.messages[0].render("en")


def test_the_grade_carries_both_runs_numbers():
    result = grade(T + X + f"y = torch.mean({FORMULA}) * 2\ny.backward()")
    assert not result.correct
    assert result.student.y == pytest.approx((2 * result.reference.y[0],), rel=1e-6)
    assert len(result.student.grad) == 5 and result.student.x == result.reference.x
    assert "MulBackward0" in result.student.nodes
