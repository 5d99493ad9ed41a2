"""The cell prints exactly what CPython prints for the same program.

Every program here also runs in one real CPython worker (a subprocess started once for the
module, running each program in a fresh namespace): stdout must be identical, memory
addresses aside (``0x7f…``), and torchviz's id()-based node names renumbered where a
program prints a graph's DOT. A program that raises must raise the same exception type
with the same message in both.
"""

import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import gradients, graphs, mistakes, ops, second, tensors, training
from lab.cell import run_program
from lab.formula import parse
from lab.drawing import _stable_ids
from lab.i18n import localized
from lab.training import Loop
from lab.xvalues import XSpec

SEED = Path("/work/shared/seed/000_e84ce06ec6d47df3.txt")

# The worker: one JSON program per line in, one JSON result per line out.
WORKER = r"""
import contextlib, io, json, sys, warnings
warnings.simplefilter("ignore")
import torch
for line in sys.stdin:
    source = json.loads(line)
    out = io.StringIO()
    error = None
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "<cell>", "exec"), {"__name__": "__main__"})
    except Exception as problem:
        error = [type(problem).__name__, str(problem)]
    torch.set_grad_enabled(True)
    sys.stdout.write(json.dumps({"stdout": out.getvalue(), "error": error}) + "\n")
    sys.stdout.flush()
"""


class CPython:
    """A real CPython with torch, kept running for the whole module."""

    def __init__(self, folder: Path):
        self.process = subprocess.Popen([sys.executable, "-c", WORKER], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, cwd=folder)

    def run(self, source: str) -> dict:
        self.process.stdin.write(json.dumps(source) + "\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def cpython(tmp_path_factory):
    worker = CPython(tmp_path_factory.mktemp("cpython"))
    yield worker
    worker.close()


def normalised(text: str) -> str:
    return re.sub(r"0x[0-9a-f]+", "0x…", _stable_ids(text))


def same_as_cpython(cpython: CPython, source: str, fails: bool = False):
    """Run ``source`` in the cell and in CPython: same stdout, same exception (if any)."""
    result = run_program(source)
    reference = cpython.run(source)
    assert normalised(result.stdout) == normalised(reference["stdout"]), source
    if reference["error"] is None:
        assert result.error is None, (source, result.error)
    else:
        assert result.error is not None and result.error.kind == "pytorch", result.error
        assert [result.error.exception, result.error.text] == reference["error"]
    assert (result.error is not None) == fails, source
    return result


# ---- 1. the tutorial's cells, verbatim, in order (all but "!pip install torchviz") -----------

TUTORIAL_CELLS = [
    "import torch\n\nt1 = torch.tensor([2.,3.])\nprint(t1)\nprint(t1.requires_grad)\n",
    "t1 = torch.tensor([2.,3.], requires_grad=True)\nprint(t1)\nprint(t1.requires_grad)",
    ("x = torch.arange(3, dtype=torch.float32, requires_grad=True)\nz = x+1\nz = z**2\n"
     "z = z+2\ny = z.mean()\nprint(y)\n"),
    "y.backward()\nprint(x.grad)",
    'from torchviz import make_dot\n\ndot = make_dot(y, params={"x": x})\n\ndot',
]
TUTORIAL = "\n".join(TUTORIAL_CELLS) + "\n"


def test_the_tutorial_cells_are_the_seeds_own():
    if not SEED.exists():
        pytest.skip("the seed is not on this machine")
    seed = SEED.read_text()
    for cell in TUTORIAL_CELLS:
        assert cell.strip() in seed


def test_the_tutorial_runs_as_in_cpython(cpython):
    result = same_as_cpython(cpython, TUTORIAL)
    assert result.stdout.splitlines() == [
        "tensor([2., 3.])", "False", "tensor([2., 3.], requires_grad=True)", "True",
        "tensor(6.6667, grad_fn=<MeanBackward0>)", "tensor([0.6667, 1.3333, 2.0000])"]
    assert result.shown is None and result.shown_graph == 0 and len(result.graphs) == 1
    assert "MeanBackward0" in result.graphs[0] and "\n\tn1 [" in result.graphs[0]
    x = result.tensor("x")
    assert x.grad == pytest.approx((2 / 3, 4 / 3, 2.0)) and x.is_leaf
    assert result.tensor("y").nodes == ("MeanBackward0", "AddBackward0", "PowBackward0",
                                        "AddBackward0", "AccumulateGrad")


# ---- 2. the PyTorch halves of micrograd's test_engine.py, with prints ----------------------

MICROGRAD_SANITY = """import torch
x = torch.Tensor([-4.0]).double()
x.requires_grad = True
z = 2 * x + 2 + x
q = z.relu() + z * x
h = (z * z).relu()
y = h + q + q * x
y.backward()
xpt, ypt = x, y
print(ypt.data.item(), xpt.grad.item())
print(ypt, xpt.grad)
assert ypt.data.item() == -20.0
assert xpt.grad.item() == 46.0
"""

MICROGRAD_MORE_OPS = """import torch
a = torch.Tensor([-4.0]).double()
b = torch.Tensor([2.0]).double()
a.requires_grad = True
b.requires_grad = True
c = a + b
d = a * b + b**3
c = c + c + 1
c = c + 1 + c + (-a)
d = d + d * 2 + (b + a).relu()
d = d + 3 * d + (b - a).relu()
e = c - d
f = e**2
g = f / 2.0
g = g + 10.0 / f
g.backward()
apt, bpt, gpt = a, b, g
tol = 1e-6
print(gpt.data.item(), apt.grad.item(), bpt.grad.item())
print(f"{gpt.data.item():.10f} {apt.grad.item():+.6e} {bpt.grad.item()!r}")
assert abs(gpt.data.item() - 24.70408163265306) < tol
assert abs(apt.grad.item() - 138.83381924198252) < tol
assert abs(bpt.grad.item() - 645.5772594752186) < tol
"""


@pytest.mark.parametrize("source", [MICROGRAD_SANITY, MICROGRAD_MORE_OPS],
                         ids=["sanity_check", "more_ops"])
def test_micrograd_engine_tests_run_as_in_cpython(cpython, source):
    same_as_cpython(cpython, source)


# ---- 3. programs generated from the formula registry -------------------------------------

VALUES = st.sampled_from([-2.0, -1.5, -0.5, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0])
CONSTANTS = st.sampled_from(["2", "0.5", "3.0", "1e-3", "-1.25"])
SPECS = st.sampled_from([".4f", ">12.3e", "+.2g", "08.3f", "", ",.1f", "^10.2%"])


def _forms(operation, args: list[str]) -> list[str]:
    """Every way the cell accepts to write ``operation``: the registry's code, the torch
    function and the tensor method of the same name."""
    forms = [operation.code.format(**dict(zip("ab", (f"({a})" for a in args))))]
    if hasattr(torch, operation.name):
        forms.append(f"torch.{operation.name}({', '.join(args)})")
    if hasattr(torch.Tensor, operation.name):
        forms.append(f"({args[0]}).{operation.name}({', '.join(args[1:])})")
    return forms


@st.composite
def expressions(draw, depth: int = 0) -> str:
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        return draw(st.sampled_from(["a", "b"]))
    operation = draw(st.sampled_from(list(ops.OPERATIONS.values())))
    args = [draw(expressions(depth + 1)) for _ in range(operation.arity)]
    if operation.kind == "binary" and draw(st.booleans()):          # a number on one side
        constant = draw(CONSTANTS)
        args = [args[0], constant] if draw(st.booleans()) else [constant, args[0]]
        return operation.code.format(a=f"({args[0]})", b=f"({args[1]})")
    return draw(st.sampled_from(_forms(operation, args)))


@st.composite
def programs(draw) -> str:
    a = draw(st.lists(VALUES, min_size=3, max_size=3))
    b = draw(st.lists(VALUES, min_size=3, max_size=3))
    reduction = draw(st.sampled_from(["sum", "mean"]))
    spec = draw(SPECS)
    return "\n".join([
        "import torch",
        f"a = torch.tensor({a}, requires_grad=True)",
        f"b = torch.tensor({b}, requires_grad=True)",
        f"y = ({draw(expressions())}).{reduction}()",
        "y.backward()",
        "print(y)",
        "print(a.grad, b.grad)",
        "value = y.item()",
        f'print(f"y = {{value:{spec}}}", round(value, 3), value)',
        'print(f"{a.grad!r} {y.requires_grad} {y.grad_fn.name()}")',
        f"print(y > {draw(CONSTANTS)}, a >= b, (a < 1) == (b < 1), 0 < value < 10 or value)",
        "for i, v in enumerate(b.tolist()):",
        f'    print(i, f"{{v:{spec}}}", v if v > 0 else -v, sep="|")',
    ]) + "\n"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(source=programs())
def test_registry_programs_print_as_in_cpython(cpython_session, source):
    result = run_program(source)
    reference = cpython_session.run(source)
    assert normalised(result.stdout) == normalised(reference["stdout"]), source
    error = None if result.error is None else [result.error.exception, result.error.text]
    assert error == reference["error"], source


@pytest.fixture(scope="module")
def cpython_session(cpython):
    return cpython      # hypothesis forbids function-scoped fixtures; this one lives longer


# ---- 4. the code behind the lab's own panels -----------------------------------------------

GRADIENT_CASES = [
    ("(x + 1)**2 + 2", XSpec.arange(0, 3), "mean", "float32"),
    ("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6), "mean", "float64"),
    ("x + log(0)", XSpec.of([1.0, 2.0]), "sum", "float32"),             # float("-inf")
    ("x * exp(1000)", XSpec.of([0.5, -1.0]), "mean", "float64"),          # float("inf")
    ("relu(x - 1) + abs(x) + sigmoid(x) + tanh(x) + sqrt(x)", XSpec.arange(-1, 1, 0.25),
     "sum", "float32"),
    ("mean(x) * x ** 3 - 2 / x", XSpec.of([0.5, 1.5, -2.0]), "mean", "float32"),
]


@pytest.mark.parametrize("text,x_spec,reduce,dtype", GRADIENT_CASES)
def test_gradient_panels_run_as_in_cpython(cpython, text, x_spec, reduce, dtype):
    formula = parse(text)
    same_as_cpython(cpython, gradients.code(formula, x_spec, reduce, dtype))
    twice = gradients.code(formula, x_spec, reduce, dtype, before_backward=second.code(formula))
    same_as_cpython(cpython, localized(twice, "en"))


@pytest.mark.parametrize("attrs,saved", [(False, False), (True, False), (True, True)])
def test_torchviz_panel_runs_as_in_cpython(cpython, attrs, saved):
    source = graphs.torchviz_code("sin(x)*exp(x) + 1/(x+2)", XSpec.arange(1, 6), "mean",
                                  "float32", attrs, saved)
    result = same_as_cpython(cpython, localized(source, "es"))
    assert len(result.graphs) == 1 and result.graphs[0] in normalised(result.stdout)


@pytest.mark.parametrize("values,dtype,requires_grad,backward,fails", [
    ([2.0, 3.0], "float32", True, True, False),
    ([2.0, 3.0], "float64", False, False, False),
    ([0.1, 1e40], "float16", False, False, False),
    ([2, 3], "int64", True, True, True),                # PyTorch's RuntimeError
    ([2, 3], "", False, True, True),                    # backward() without requires_grad
])
def test_tensor_panel_runs_as_in_cpython(cpython, values, dtype, requires_grad, backward,
                                         fails):
    source = tensors.tensor_code(values, dtype, requires_grad, backward)
    result = same_as_cpython(cpython, source, fails=fails)
    if fails:
        assert result.error.why is not None and result.error.fix is not None


LOOPS = [Loop(), Loop(sgd=True), Loop(sgd=True, zero_grad=False), Loop(zero_grad=False),
         Loop(lr=training.TOO_LARGE, steps=60), Loop(no_grad=False, steps=3),
         Loop(data=list(training.DATASETS)[2], lr=0.02, steps=200, w0=4.0, b0=-4.0)]


@pytest.mark.parametrize("loop", LOOPS, ids=range(len(LOOPS)))
def test_training_panels_run_as_in_cpython(cpython, loop):
    source = localized(training.code(loop), "en")
    result = same_as_cpython(cpython, source, fails=not loop.no_grad)
    if not loop.no_grad:
        update = source.splitlines().index("    w -= lr * w.grad                    "
                                           "# outside torch.no_grad()") + 1
        assert result.error.why == "mistakes.leaf_update_why" and result.error.line == update


@pytest.mark.parametrize("key,mistake", list(itertools.product(mistakes.KEYS, (True, False))))
def test_mistake_panels_run_as_in_cpython(cpython, key, mistake):
    source = localized(mistakes.code(key, mistake), "en")
    same_as_cpython(cpython, source, fails=bool(mistakes.run(key, mistake).error))


def test_warnings_are_recorded_not_printed(cpython):
    result = same_as_cpython(cpython, localized(mistakes.code("nonleaf", True), "en"))
    assert result.warnings == (mistakes.run("nonleaf", True).warning,)
