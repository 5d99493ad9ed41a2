"""The seed's reference numbers, pinned, and the written-out chain rule against autograd."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lab import chain, tensors
from lab.gradients import run
from lab.xvalues import InputError, XSpec
from tests.latex_reading import read, value


def close(values, expected, tol=1e-4):
    return all(abs(a - b) <= tol for a, b in zip(values, expected)) and len(values) == len(expected)


def test_seed_chain_numbers():
    result = chain.run_chain(3, 1.0, 2.0, 2.0, "mean")
    assert round(result.y, 4) == 6.6667
    assert close(result.grad, [0.6667, 1.3333, 2.0000])
    assert result.y_repr == "tensor(6.6667, grad_fn=<MeanBackward0>)"
    assert result.grad_repr == "tensor([0.6667, 1.3333, 2.0000])"


def test_seed_chain_code_is_the_seed_chain():
    result = chain.run_chain(3, 1.0, 2.0, 2.0, "mean")
    assert "x = torch.arange(3, dtype=torch.float32, requires_grad=True)" in result.code
    assert [line for line in result.code.splitlines() if line.startswith("z")] == [
        "z1 = x + 1", "z2 = z1 ** 2", "z3 = z2 + 2"]
    assert "y = z3.mean()" in result.code


def test_exercise_3_numbers():
    result = chain.run_exercise_3(1, 5)
    assert round(result.y, 4) == -34.1407
    assert close(result.grad, [0.7290, 0.7163, -3.4180, -15.4071, -20.0476])
    # the derivative the page writes, read back by a LaTeX parser, gives autograd's numbers
    derivative = read(result.shown.derivative)
    assert close([value(derivative, result.x, i) for i in range(5)], result.grad)
    assert all(result.agrees(result.symbolic)) and all(result.agrees(result.numeric))


def test_exercise_3_through_minus_two_is_marked_not_crashed():
    result = chain.run_exercise_3(-3, 1)
    assert math.isinf(result.y)
    assert math.isinf(result.grad[1])
    assert [note.key for note in result.notes] == ["nonfinite.div"]
    assert result.notes[0].values["where"] == "-2"


def test_zero_to_a_negative_power_is_explained():
    result = chain.run_chain(3, 0.0, -1.0, 0.0, "sum")
    assert math.isinf(result.y)
    assert result.notes[0].key == "nonfinite.pow"


@pytest.mark.parametrize("dtype", ["int64", "int32", "int16", "int8", "uint8", "bool"])
def test_integer_dtype_requires_grad_gives_pytorchs_message(dtype):
    report = tensors.inspect("2, 3", dtype, True)
    assert report.error == "Only Tensors of floating point and complex dtype can require gradients"
    assert report.error_kind == "integer_grad"
    assert not tensors.can_require_grad(dtype)
    with pytest.raises(RuntimeError, match="floating point and complex"):
        torch.tensor([2, 3], dtype=getattr(torch, dtype), requires_grad=True)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16", "complex64"])
def test_float_dtypes_can_require_grad(dtype):
    report = tensors.inspect("2., 3.", dtype, True, backward=dtype != "complex64")
    assert report.error == "" and report.requires_grad and report.is_leaf
    assert report.printed == repr(torch.tensor([2., 3.], dtype=getattr(torch, dtype),
                                               requires_grad=True))
    if dtype != "complex64":
        assert report.grad.startswith("tensor([4., 6.]")


def test_seed_tensor_prints_like_pytorch():
    assert tensors.inspect("2., 3.", "float32", False).printed == "tensor([2., 3.])"
    assert tensors.inspect("2., 3.", "float32", True).printed == "tensor([2., 3.], requires_grad=True)"


def test_complex_backward_reports_pytorchs_message():
    report = tensors.inspect("2., 3.", "complex64", True, backward=True)
    assert report.error_kind == "complex_backward"
    assert "real scalar outputs" in report.error


@pytest.mark.parametrize("text", ["", "abc", "1,,2", "1, 2, x", "__import__('os')"])
def test_bad_tensor_values_are_refused(text):
    with pytest.raises(InputError):
        tensors.inspect(text, "float32", False)


def test_empty_range_is_refused():
    with pytest.raises(InputError) as error:
        run("x", XSpec.arange(3, 0))
    assert error.value.message.key == "x.empty_range"


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 20), a=st.sampled_from([v / 2 for v in range(-10, 11)]),
       p=st.sampled_from([v / 2 for v in range(-6, 9)]),
       c=st.sampled_from([v / 2 for v in range(-10, 11)]), reduce=st.sampled_from(["mean", "sum"]))
def test_the_formulas_written_for_the_chain_are_what_autograd_computes(n, a, p, c, reduce):
    """y and ∂y/∂xᵢ as the page writes them, read back by sympy's LaTeX parser, evaluated
    at x: y and x.grad, at every setting of the sliders (degenerate ones included)."""
    result = chain.run_chain(n, a, p, c, reduce, dtype="float64")
    y = value(read(result.shown.y), result.x)
    if math.isfinite(result.y):
        assert y == pytest.approx(result.y, rel=1e-9, abs=1e-12)
    derivative = read(result.shown.derivative)
    for i, auto in enumerate(result.grad):
        written = value(derivative, result.x, i)
        if math.isfinite(written) and math.isfinite(auto):
            assert auto == pytest.approx(written, rel=1e-9, abs=1e-12)
        else:        # 0 to a negative power: inf or nan in both
            assert not math.isfinite(auto) or math.isnan(written), (auto, written)


def test_answers_are_checked_with_hints():
    result = chain.run_chain(3, 1.0, 2.0, 2.0, "mean")
    checks = chain.check_answers(["2/3", "4", "1.9", "", "abc"][:3], result)
    assert [c.correct for c in checks] == [True, False, False]
    assert checks[1].hint == "backward.hint_forgot_n"   # 4 = 3 × 4/3: forgot the 1/n
    assert checks[2].hint == "backward.hint_chain"
    unreadable = chain.check_answers(["two"], result)[0]
    assert unreadable.correct is None and unreadable.hint == "backward.hint_unreadable"


@pytest.mark.parametrize("typed, right, hint", [
    ("0.667", [True, False, False], ""),          # 2/3 to the digits typed
    ("1.33", [False, True, False], ""),           # 4/3 to the digits typed (issue 20)
    ("1.333e0", [False, True, False], ""),
    ("4/3", [False, True, False], ""),            # a fraction must be exact
    ("1.3", [False, False, False], "backward.hint_round_less"),   # rounded too much
    ("1.34", [False, False, False], "backward.hint_round_less"),  # rounded wrongly
    ("1.5", [False, False, False], "backward.hint_chain"),
])
def test_a_decimal_is_right_to_the_digits_typed_and_a_near_miss_says_round_less(
        typed, right, hint):
    result = chain.run_chain(3, 1.0, 2.0, 2.0, "mean")        # x.grad = 2/3, 4/3, 2
    for i in range(3):
        check = chain.check_answers([""] * i + [typed], result)[i]
        assert check.correct is right[i], (typed, i)
    if hint:
        assert chain.check_answers(["", typed], result)[1].hint == hint
