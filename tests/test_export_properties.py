"""Exported code runs for every accepted input and prints the lab's own numbers.

Formulas are generated over the whole whitelist, with constants that fold to inf, -inf,
nan and -0.0 (``x + log(0)`` once exported ``z1 = x + (-inf)``: a NameError). Each
exported script (``lab.export.script``) runs in another Python process, a worker that
runs one script file after another with ``runpy`` (a fresh namespace each, the way
``python script.py`` runs it; importing torch once keeps the test in seconds), and what it
prints is compared with the ``GradientRun`` of the same input: ``print(y)`` and
``print(x.grad)`` equal the run's ``y_repr`` and ``grad_repr``, and the numbers read back
from them equal ``y`` and ``grad`` (inf and nan included).
"""

from __future__ import annotations

import itertools
import json
import math
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from lab import backward, cli, export, graphs, tensors
from lab.formula import FUNCTIONS, parse, python_number
from lab.gradients import run
from lab.xvalues import XSpec

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
# No shrinking (a failure is reported as found) and a bounded number of examples.
QUICK = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow],
         "phases": [Phase.explicit, Phase.reuse, Phase.generate]}

WORKER = r"""
import contextlib, io, json, runpy, sys, traceback
for line in sys.stdin:
    printed, error = io.StringIO(), ""
    try:
        with contextlib.redirect_stdout(printed):
            runpy.run_path(json.loads(line), run_name="__main__")
    except BaseException:
        error = traceback.format_exc()
    print(json.dumps({"printed": printed.getvalue(), "error": error}), flush=True)
"""

# Constants that fold to a finite number, to inf or -inf, to nan, and to -0.0.
NON_FINITE = ["log(0)", "-log(0)", "1/0", "(-1/0)", "(0/0)", "exp(1000)", "sqrt(-1)", "(-0.0)"]
constants = st.one_of(st.integers(-3, 3).map(str), st.sampled_from(["0.5", "2/3", "pi", "e"]),
                      st.sampled_from(NON_FINITE))
leaves = st.one_of(st.just("x"), st.just("x"), constants)


def _extend(children):
    unary = st.builds(lambda f, a: f"{f}({a})", st.sampled_from(FUNCTIONS), children)
    binary = st.builds(lambda a, op, b: f"({a}) {op} ({b})",
                       children, st.sampled_from(["+", "-", "*", "/"]), children)
    power = st.builds(lambda a, p: f"({a})**{p}", children, st.sampled_from(["2", "-1", "0.5"]))
    return st.one_of(unary, children.map(lambda a: f"-({a})"), binary, power)


formulas = st.recursive(leaves, _extend, max_leaves=6).filter(
    lambda text: re.search(r"\bx\b", text) is not None)
POINTS = st.lists(st.floats(-3, 3, allow_nan=False).map(lambda v: round(v, 3)),
                  min_size=1, max_size=4)
X_SPECS = st.one_of(POINTS.map(XSpec.of),
                    st.builds(XSpec.arange, st.integers(-3, 0), st.integers(1, 4)))


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """``exported(source) -> printed lines``: the script run by the worker process."""
    folder = tmp_path_factory.mktemp("exported")
    worker = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=folder)
    count = itertools.count()

    def run_script(source: str) -> list[str]:
        path = folder / f"script_{next(count)}.py"
        path.write_text(source)
        worker.stdin.write(json.dumps(str(path)) + "\n")
        worker.stdin.flush()
        answer = json.loads(worker.stdout.readline())
        assert not answer["error"], f"{source}\n{answer['error']}"
        return answer["printed"].splitlines()

    yield run_script
    worker.stdin.close()
    worker.wait(timeout=30)
    worker.stdout.close()


NUMBER = re.compile(r"-?inf|nan|-?\d+\.?\d*(?:e[+-]?\d+)?")


def printed_numbers(line: str) -> list[float]:
    """The numbers of one printed tensor: ``tensor([1.0000, -inf], grad_fn=<...>)``."""
    inside = line[line.index("(") + 1:]
    inside = re.split(r",\s*(?:grad_fn|dtype|requires_grad)=", inside)[0].rstrip(")")
    return [float(token) for token in NUMBER.findall(inside)]


def same_number(shown: float, value: float) -> bool:
    """``shown`` is ``value`` as PyTorch prints it (4 decimals, or 4 in scientific form)."""
    if math.isnan(value) or math.isinf(value):
        return math.isnan(shown) if math.isnan(value) else shown == value
    return abs(shown - value) <= 5e-5 + 1e-4 * abs(value)


def assert_prints_the_run(lines: list[str], result) -> None:
    # PyTorch wraps a long tensor over several lines (float64 spells out its dtype)
    output = "\n".join(lines)
    assert f"{result.y_repr}\n{result.grad_repr}" in output, output   # page 7 prints more after
    assert same_number(printed_numbers(result.y_repr)[0], result.y)
    grad = printed_numbers(result.grad_repr)
    assert len(grad) == len(result.grad)
    assert all(same_number(s, v) for s, v in zip(grad, result.grad)), (grad, result.grad)


@settings(max_examples=60, **QUICK)
@given(text=formulas, x_spec=X_SPECS, reduce=st.sampled_from(["mean", "sum"]),
       dtype=st.sampled_from(["float32", "float64"]))
@example(text="x + log(0)", x_spec=XSpec.of([1.0, 2.0]), reduce="mean", dtype="float32")
@example(text="x + 1/0", x_spec=XSpec.of([1.0]), reduce="sum", dtype="float64")
@example(text="x*(0/0)", x_spec=XSpec.arange(0, 3), reduce="mean", dtype="float32")
@example(text="1/(x*(-0.0))", x_spec=XSpec.of([2.0]), reduce="sum", dtype="float32")
def test_exported_script_runs_and_prints_the_runs_numbers(exported, text, x_spec, reduce,
                                                           dtype):
    result = run(text, x_spec, reduce, dtype, checks=False)
    assert_prints_the_run(exported(export.script(result.code, "property test")), result)


@settings(max_examples=25, **QUICK)
@given(text=formulas)
def test_page_6_and_torchviz_code_run_for_generated_formulas(exported, text):
    x_spec = XSpec.of([0.5, 2.0])
    result = run(text, x_spec, "mean", "float32", checks=False)
    trace = backward.trace(text, x_spec, "mean", "float32")
    assert_prints_the_run(exported(trace.code), result)
    drawing = graphs.torchviz_code(text, x_spec, "mean", "float32", True, False)
    assert_prints_the_run(exported(drawing), result)


def test_generated_constants_do_fold_to_inf_and_nan():
    """The generator's constants reach the exported code as non-finite numbers."""
    folded = {python_number(float(step.args[1])) for text in NON_FINITE
              for step in parse(f"x + {text}").steps}
    assert {'float("inf")', 'float("-inf")', 'float("nan")', "-0.0"} <= folded


@pytest.mark.parametrize("value, source", [
    (math.inf, 'float("inf")'), (-math.inf, 'float("-inf")'), (math.nan, 'float("nan")'),
    (-0.0, "-0.0"), (2.0, "2"), (0.1, "0.1"), (1e300, "1e+300")])
def test_python_number_is_python_for_the_same_float(value, source):
    assert python_number(value) == source
    back = float(eval(source, {"__builtins__": {"float": float}}))    # noqa: S307 (our text)
    assert (math.isnan(back) and math.isnan(value)) or (
        back == value and math.copysign(1, back) == math.copysign(1, value))


def test_tensor_page_code_runs_with_inf_and_nan_values(exported):
    report = tensors.inspect("1/0, -log(0), 0/0, 2", "float32", True, True)
    lines = exported(report.code)
    assert lines[0] == report.printed and lines[-2:] == [report.y_printed, report.grad]


def test_cli_code_output_runs_for_a_formula_folding_to_inf(exported, capsys):
    assert cli.main(["grad", "x + log(0)", "--x", "1,2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["y"] == "-inf" and 'float("-inf")' in report["code"]
    result = run("x + log(0)", XSpec.of([1.0, 2.0]), "mean", "float32", checks=False)
    assert_prints_the_run(exported(report["code"]), result)
