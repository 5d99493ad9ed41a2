"""Corners decided for the whole formula from one-sided slopes (issue 20), not from the mere
presence of relu or abs."""

import pytest

from lab.gradients import run
from lab.xvalues import XSpec

AROUND = XSpec.of([-1, 0, 1])


def keys(result) -> set[str]:
    return {note.key for note in result.notes}


@pytest.mark.parametrize("text, kink, second_kink", [
    ("relu(x)", True, True),               # slopes 0 and 1
    ("abs(x)", True, True),                # slopes -1 and 1
    ("relu(x)*x", False, True),            # x² on the right, 0 on the left: f′(0) = 0
    ("abs(x)**2", False, False),           # x² everywhere
    ("sqrt(abs(x))", True, True),          # a cusp: infinite slopes of opposite signs
    ("relu(x) - relu(x)", False, False),   # 0 everywhere
    ("relu(x) + relu(-x)", True, True),    # |x|
])
def test_a_corner_is_where_the_one_sided_slopes_differ(text, kink, second_kink):
    result = run(text, AROUND, "sum", "float64", second=True)
    assert result.kinks == [False, kink, False]
    assert result.second.kinks == [False, second_kink, False]
    assert ("checks.kink" in keys(result)) is kink
    assert ("checks.smooth_corner" in keys(result)) is not kink
    assert ("checks.second_kink" in keys(result)) is (second_kink and not kink)


def test_relu_x_times_x_is_differentiable_at_0_and_compared_there():
    """The playground's own "try this": f′(0) = 0 exists and is checked; only f″ jumps."""
    result = run("relu(x) * x", AROUND, "mean", "float32", second=True)
    assert result.grad[1] == 0.0
    assert result.symbolic_marks()[1] is True
    # Finite differences straddle the jump of f″ there: only O(h) accurate, so they are
    # either within their estimated error or left out, never a false ✗.
    assert result.numeric_marks()[1] is not False
    assert run("abs(x)**2", AROUND, "sum", "float64").numeric_marks()[1] is True
    marks = [note for note in result.notes if note.key == "checks.second_kink"]
    assert marks and marks[0].values["where"] == "0"


def test_a_formula_that_mixes_elements_is_tested_element_by_element():
    at_zero_mean = XSpec.of([-1, 0, 1])
    assert run("relu(mean(x))", at_zero_mean).kinks == [True, True, True]
    assert run("mean(x) * relu(mean(x))", at_zero_mean).kinks == [False, False, False]
    assert run("relu(mean(x))", XSpec.of([1, 2, 3])).kinks == [False, False, False]
