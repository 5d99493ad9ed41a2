"""Each classic mistake reproduces PyTorch's real output: the test runs the shown code itself."""

import contextlib
import io
import warnings

import pytest

from lab import glosses, mistakes


def run_shown_code(code: str):
    """Run the script the page shows, the way Python would: (printed, error, warning)."""
    printed = io.StringIO()
    error = ""
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(printed):
        warnings.simplefilter("always")
        try:
            exec(compile(code, "<shown code>", "exec"), {})
        except RuntimeError as problem:
            error = f"{type(problem).__name__}: {problem}"
    warning = next((str(w.message) for w in caught if issubclass(w.category, UserWarning)), "")
    return printed.getvalue().rstrip("\n"), error, warning


@pytest.mark.parametrize("mistake", [True, False])
@pytest.mark.parametrize("key", mistakes.KEYS)
def test_lab_reports_exactly_what_the_shown_code_does(key, mistake):
    result = mistakes.run(key, mistake)
    printed, error, warning = run_shown_code(result.code)
    assert result.output == printed
    assert (f"{result.error_type}: {result.error}" if result.error else "") == error
    assert result.warning == glosses.shown(warning) and warning.startswith(result.warning)
    assert result.code == mistakes.code(key, mistake)


EXPECTED_ERRORS = {
    "twice": "Trying to backward through the graph a second time",
    "vector": "grad can be implicitly created only for scalar outputs",
    "no_grad": "element 0 of tensors does not require grad and does not have a grad_fn",
    "inplace": "modified by an inplace operation",
    "integer": "Only Tensors of floating point and complex dtype can require gradients",
    "leaf_update": "a leaf Variable that requires grad is being used in an in-place operation.",
    "numpy": "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.",
}


@pytest.mark.parametrize("key", mistakes.KEYS)
def test_the_mistake_shows_and_the_fix_removes_it(key):
    wrong, fixed = mistakes.run(key, True), mistakes.run(key, False)
    assert not fixed.error and fixed.output
    assert wrong.code != fixed.code
    if key in EXPECTED_ERRORS:
        assert wrong.error_type == "RuntimeError" and EXPECTED_ERRORS[key] in wrong.error
    else:                                   # a surprising output, no error
        assert not wrong.error and wrong.output != fixed.output


def test_surprising_outputs_verbatim():
    assert mistakes.run("accumulate", True).output == "tensor([2., 4., 6.])\ntensor([ 4.,  8., 12.])"
    assert mistakes.run("accumulate", False).output == "tensor([2., 4., 6.])\ntensor([2., 4., 6.])"
    nonleaf = mistakes.run("nonleaf", True)
    assert nonleaf.output == "False None" and "retain_grad()" in nonleaf.warning
    assert mistakes.run("nonleaf", False).output == "False tensor([ 4.,  8., 12.])"
    assert "is at version 1; expected version 0 instead" in mistakes.run("inplace", True).error
    # the fixed double backward accumulates: twice exp(x)
    assert mistakes.run("twice", False).output == "tensor([ 5.4366, 14.7781, 40.1711])"


def test_a_warning_is_shown_without_the_place_in_pytorchs_build():
    _, _, warning = run_shown_code(mistakes.run("nonleaf", True).code)
    assert "(Triggered internally at /" in warning
    shown = mistakes.run("nonleaf", True).warning
    assert shown.endswith("for more information.") and "Triggered" not in shown
