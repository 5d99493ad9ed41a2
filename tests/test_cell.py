"""Unit tests of the PyTorch cell (lab.cell): limits, places, refusals, the values a program
can hold, threads, pickling, the registry as the source of the math, why/fix."""

import contextlib
import io
import math
import pickle
import re
import threading

import pytest
import sympy
import torch

from lab import mistakes, ops
from lab.cell import CellResult, Limits, explain, run_program
from lab.cell.allowed import is_allowed_value, table
from lab.cell.interpreter import interpret
from lab.i18n import LANGUAGES, MISSING, localized

pytestmark = pytest.mark.quick

T = "import torch\n"
LEAF = T + "x = torch.tensor([1., 2., 3.], requires_grad=True)\n"


def refused(source: str, key: str, line: int | None = None, column: int | None = None,
            limits: Limits | None = None, kind: str = "refused") -> CellResult:
    result = run_program(source, limits or Limits())
    assert result.error is not None, source
    assert (result.error.kind, result.error.message.key) == (kind, key), result.error
    if line is not None:
        assert result.error.line == line
    if column is not None:
        assert result.error.column == column
    for lang in LANGUAGES:
        text = result.error.one_line(lang)
        assert "⟦" not in text and MISSING.format("") not in text
        assert not re.search(r"\{[a-z_]+\}", text)                # every placeholder filled
    return result


def stopped(source: str, key: str, limits: Limits | None = None, **where) -> CellResult:
    return refused(source, key, limits=limits, kind="limit", **where)


# ---- limits, each checked before the work it guards --------------------------------------------

def test_source_size_lines_and_depth():
    stopped("x = 1\n" * 3, "cell.too_long", Limits(max_chars=10))
    stopped("x = 1\n" * 5, "cell.too_many_lines", Limits(max_lines=4))
    refused("x = " + "-" * 50 + "1", "cell.too_deep", limits=Limits(max_depth=40))
    refused("x = " + "(" * 500 + ")" * 500, "cell.syntax")        # Python's own nesting limit
    assert run_program("x = " + "-" * 30 + "1").ok


def test_steps_count_statements_and_loop_turns():
    source = "total = 0\nfor i in range(100):\n    total += i\nprint(total)"
    assert run_program(source, Limits(max_steps=203)).stdout == "4950\n"    # 3 + 2 per turn
    stopped(source, "cell.too_many_steps", Limits(max_steps=202), line=4)
    stopped(source, "cell.too_many_steps", Limits(max_steps=151), line=3)
    stopped("print(sum(range(1000)))", "cell.too_many_steps", Limits(max_steps=500))


def test_tensor_elements_are_checked_before_allocation():
    stopped(T + "torch.ones(101)", "cell.tensor_too_big", Limits(max_elements=100), line=2)
    stopped(T + "torch.ones(101, 1) * torch.ones(1, 100)", "cell.tensor_too_big")
    assert run_program(T + "torch.ones(100, 1) * torch.ones(1, 100)").ok   # 10,000: allowed
    stopped(T + "x = torch.ones(10, 1)\ny = x.view(1, -1)\nz = x * y", "cell.tensor_too_big",
            Limits(max_elements=50), line=4, column=5)
    stopped(T + "torch.zeros(0, 10 ** 9)", "cell.tensor_too_big")   # no element, huge span
    result = run_program(T + "x = torch.ones(100)\nprint(x.sum())", Limits(max_elements=100))
    assert result.ok and result.stdout == "tensor(100.)\n"


def test_the_whole_run_has_a_budget_of_elements():
    source = T + "x = torch.ones(1000)\nfor i in range(100):\n    x = x + 1\nprint(x[0])"
    assert run_program(source).stdout == "tensor(101.)\n"
    stopped(source, "cell.too_much_work", Limits(max_produced=50_000), line=4)


def test_integers_lists_and_strings_are_sized_before_they_are_made():
    stopped("x = 2 ** 10 ** 10", "cell.int_too_big", column=5)
    stopped("x = 3 ** 3000", "cell.int_too_big")
    stopped("x = 2 ** 4000\ny = x * x", "cell.int_too_big", line=2)
    assert run_program("print(2 ** 100 * 3 // 7, -2 ** 63, 7 % 3, (-8) // 3)").stdout == (
        f"{2 ** 100 * 3 // 7} {-2 ** 63} 1 -3\n")
    stopped("[0] * 10 ** 9", "cell.sequence_too_long")
    stopped("int('z' * 900, 36)", "cell.int_too_big")
    assert run_program("print(int('ff', 16), int('0x1f', 0), int(' 42 '))").stdout == "255 31 42\n"
    stopped("'ab' * 60_000", "cell.sequence_too_long")
    stopped("a = [1, 2]\nfor i in range(20):\n    a = a + a", "cell.sequence_too_long", line=3)
    stopped("a = [1]\nfor i in range(20):\n    a += a", "cell.sequence_too_long")
    stopped("a = []\nfor i in range(20):\n    a.append(i)", "cell.sequence_too_long",
            Limits(max_items=10))


def test_printed_output_and_format_widths_are_bounded():
    result = stopped("print('a' * 60)\nprint('b' * 60)", "cell.output_too_long",
                     Limits(max_output=100), line=2)
    assert result.stdout == "a" * 60 + "\n"                  # what ran before is kept
    stopped("print(f'{1:>1000000000}')", "cell.format_too_wide", column=7)
    stopped("w = 10 ** 9\nprint(f'{1:{w}}')", "cell.format_too_wide")
    stopped("print(f'{1.5:.100000f}')", "cell.format_too_wide")
    assert run_program("print(f'{1.5:>8.3f}|{2:03d}|{0.25:.1%}|{10**6:,}')").stdout == (
        "   1.500|002|25.0%|1,000,000\n")


def test_graphs_are_sized_before_backward_grad_and_make_dot():
    chain = LEAF + "y = x\nfor i in range(30):\n    y = y * 2\n"
    small = Limits(max_graph_nodes=20)
    stopped(chain + "y.sum().backward()", "cell.graph_too_big", small, line=6)
    stopped(chain + "torch.autograd.grad(y.sum(), x)", "cell.graph_too_big", small)
    stopped(chain + "from torchviz import make_dot\nmake_dot(y)", "cell.graph_too_big", small)
    assert run_program(chain + "y.sum().backward()\nprint(x.grad)").stdout == (
        "tensor([1.0737e+09, 1.0737e+09, 1.0737e+09])\n")


def test_make_dot_draws_a_readable_graph_and_refuses_one_past_its_recursion():
    """torchviz walks a graph recursively: a chain of thousands of nodes would meet
    Python's recursion limit. The drawing limit stops it first, with the lab's words."""
    chain = ("import torch\nfrom torchviz import make_dot\nx = torch.tensor([0.5], "
             "requires_grad=True)\ny = x\nfor i in range({n}):\n    y = torch.sin(y) * 2\n"
             "d = make_dot(y, params={{'x': x}})\n")
    drawn = run_program(chain.format(n=200))
    assert drawn.ok and drawn.graphs[0].count("SinBackward0") == 200
    result = stopped(chain.format(n=2400), "cell.drawing_too_big", line=7)
    assert result.error.message.values["nodes"] == 2 * 2400 + 1      # sin, mul per step; x


def test_nested_lists_are_weighed_before_they_are_shown_or_compared():
    doubling = "a = [1]\nfor i in range(40):\n    a = [a, a]\n"
    stopped(doubling + "print(a)", "cell.too_big_to_show", line=4)
    stopped(doubling + "a == a", "cell.too_big_to_show")
    stopped("a = [1]\nfor i in range(150):\n    a = [a]\nprint(a)", "cell.too_nested")
    assert run_program("a = []\na.append(a)\nprint(a, [a])").stdout == "[[...]] [[[...]]]\n"
    refused(LEAF + "[x] == [x]", "cell.compare_containers")


def test_one_deadline_for_the_whole_run():
    limits = Limits(seconds=0.1, max_steps=10 ** 9, max_produced=10 ** 12)
    stopped("a = [0] * 10000\nfor i in range(10 ** 9):\n    b = a == a", "cell.timeout", limits)


# ---- where: line and column (from 1, in characters) ------------------------------------------

def test_errors_carry_the_line_and_column_where_python_would_point():
    result = run_program("x = 1\ny = x + foo")
    assert (result.error.kind, result.error.line, result.error.column) == ("pytorch", 2, 9)
    assert (result.error.exception, result.error.text) == ("NameError",
                                                          "name 'foo' is not defined")
    result = run_program("α = 'é'\nβ = α + 1")
    assert (result.error.line, result.error.column, result.error.exception) == (2, 5,
                                                                                "TypeError")
    assert result.error.text == 'can only concatenate str (not "int") to str'
    result = run_program("x = (1,\n")
    assert (result.error.kind, result.error.line, result.error.column) == ("refused", 1, 5)
    assert result.error.message.values["detail"] == "'(' was never closed"
    refused("x = 1\nfor i in range(2):\n    y = lambda: i", "cell.no_functions", 3, 9)
    refused("ok = 1\n   \nz = [v for v in range(3)]", "cell.no_comprehensions", 3, 5)
    refused("é = 1; é.__class__", "cell.private_attribute", 1, 8)
    result = run_program(LEAF + "y = (x *\n     [1, 2])")
    assert (result.error.line, result.error.kind) == (3, "refused")


def test_the_place_is_written_in_the_pages_language():
    result = run_program("x = 1\ny = foo")
    assert result.error.where("en") == "line 2, column 5"
    assert result.error.where("es") == "la línea 2, columna 5"
    assert result.error.one_line("es") == "la línea 2, columna 5: NameError: name 'foo' is not defined"


# ---- Python's and PyTorch's own errors, verbatim -----------------------------------------------

@pytest.mark.parametrize("source,exception,text", [
    ("1 / 0", "ZeroDivisionError", "division by zero"),
    ("1.0 // 0", "ZeroDivisionError", "float floor division by zero"),
    ("[1, 2][5]", "IndexError", "list index out of range"),
    ("{'a': 1}['b']", "KeyError", "'b'"),
    ("assert 1 == 2, 'not equal'", "AssertionError", "not equal"),
    ("assert False", "AssertionError", ""),
    ("x = 1\nx()", "TypeError", "'int' object is not callable"),
    ("a, b = [1, 2, 3]", "ValueError", "too many values to unpack (expected 2)"),
    ("a, b = 1", "TypeError", "cannot unpack non-iterable int object"),
    ("int('x')", "ValueError", "invalid literal for int() with base 10: 'x'"),
    ("None + 1", "TypeError", "unsupported operand type(s) for +: 'NoneType' and 'int'"),
    ("max([])", "ValueError", "max() arg is an empty sequence"),
    (T + "torch.ones(3) + torch.ones(2)", "RuntimeError",
     "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0"),
    (T + "x = torch.tensor(1., requires_grad=True)\nx.backward()\nx.backward()", None, None),
    (T + "torch.tensor([1, 2], requires_grad=True)", "RuntimeError",
     "Only Tensors of floating point and complex dtype can require gradients"),
    (T + "torch.ones(3)[5]", "IndexError",
     "index 5 is out of bounds for dimension 0 with size 3"),
    (T + "x = torch.ones(3)\nx.backward()", "RuntimeError",
     "element 0 of tensors does not require grad and does not have a grad_fn"),
    (LEAF + "x.grad.zero_()", "AttributeError", "'NoneType' object has no attribute 'zero_'"),
    (LEAF + "x.tensor", "AttributeError", "'Tensor' object has no attribute 'tensor'"),
    ("(1, 2).sum()", "AttributeError", "'tuple' object has no attribute 'sum'"),
    (T + "torch.float32.float", "AttributeError",
     "'torch.dtype' object has no attribute 'float'"),
    ("round(5, 1.5)", "TypeError", "'float' object cannot be interpreted as an integer"),
    (T + "x = torch.ones(2, 3)\nprint(x.numel(), x.dim(), x.size(1), x.shape[0])", None, None),
])
def test_runtime_errors_are_reported_as_python_words_them(source, exception, text):
    try:
        expected = None
        namespace = {}
        exec(compile(source, "<test>", "exec"), namespace)  # noqa: S102 - the real thing
    except Exception as problem:  # noqa: BLE001
        expected = (type(problem).__name__, str(problem))
    result = run_program(source)
    if expected is None:
        assert result.ok
        return
    assert result.error.kind == "pytorch"
    assert (result.error.exception, result.error.text) == expected
    if exception is not None:
        assert expected == (exception, text)
    assert result.error.render("en") == f"{expected[0]}: {expected[1]}".rstrip(": ")


def test_output_before_an_error_is_kept_and_grad_mode_restored():
    source = T + "print('before')\nwith torch.no_grad():\n    print(torch.is_grad_enabled)\n"
    refused(source, "cell.attribute")                      # refused before anything runs
    source = T + "print('before')\nwith torch.no_grad():\n    y = torch.ones(2) + torch.ones(3)"
    result = run_program(source)
    assert result.stdout == "before\n" and result.error.exception == "RuntimeError"
    assert torch.is_grad_enabled()
    result = run_program(T + "with torch.no_grad():\n    z = torch.ones(2, requires_grad=True) * 2"
                         "\nprint(z.requires_grad)\nw = torch.ones(1, requires_grad=True) * 2"
                         "\nprint(w.requires_grad)")
    assert result.stdout == "False\nTrue\n" and torch.is_grad_enabled()


# ---- what the cell refuses, named --------------------------------------------------------------

@pytest.mark.parametrize("source,key", [
    ("!pip install torchviz", "cell.torchviz_installed"),
    ("%pip install torchviz", "cell.torchviz_installed"),
    ("!ls", "cell.shell_line"),
    ("%matplotlib inline", "cell.shell_line"),
    ("import os", "cell.import"),
    ("while True:\n    pass", "cell.no_while"),
    ("[i for i in range(3)]", "cell.no_comprehensions"),
    ("def f():\n    return 1", "cell.no_functions"),
    ("x = 2 ^ 3", "cell.caret"),
    ("x = 1 << 2", "cell.operator"),
    ("open('f')", "cell.name_not_available"),
    ("__import__", "cell.dunder"),
    ("x = 1\nx.real", "cell.attribute"),
    ("'a'.upper()", "cell.string_method"),
    ("'%d' % 3", "cell.string_method"),
    ("x = {1: 2}", "cell.dict_keys"),
    ("print(*[1])", "cell.no_star"),
    ("e = enumerate([1])", "cell.for_only"),
    (T + "n = torch.no_grad()", "cell.context_only"),
    (T + "with torch.ones(1):\n    pass", "cell.with_only"),
    (T + "torch.randn(2)", "cell.unseeded"),
    (T + "torch.Tensor(3)", "cell.uninitialised"),
    (T + "torch.sin(torch.ones(1), out=torch.ones(1))", "cell.bad_arguments"),
    (T + "torch.ones(2).to('cpu')", "cell.dtype_only"),
    (T + "torch.ones(2) // 2", "cell.tensor_operator"),
    (T + "torch.ones(2) + [1, 2]", "cell.operand"),
    (T + "print(torch.ones(2).numpy() + 1)", "cell.numpy_value"),
    (T + "x = torch.ones(1, requires_grad=True) * 2\nx.grad_fn(torch.ones(1))",
     "cell.not_callable"),
    (T + "torch.optim.SGD(torch.ones(2), lr=1)", "cell.params"),
    (T + "x = torch.ones(2, dtype=torch.complex64)\nx.tolist()", "cell.complex"),
    ("x = (-8) ** 0.5", "cell.complex"),
    ("break", "cell.syntax"),
    (T + "torch.zeros(torch.tensor(3))", "cell.sizes"),
    (T + "torch.linspace(0, 1, torch.tensor(10 ** 9))", "cell.sizes"),
    (T + "torch.ones(1).view(torch.tensor(1))", "cell.sizes"),
    (T + "torch.ones(2).shape.numel()", "cell.attribute_of"),          # real, not allowed
    (T + "torch.Tensor.sin", "cell.attribute_of"),
])
def test_refusals_say_what_and_where(source, key):
    refused(source, key)


def test_a_notebooks_pip_line_is_answered_at_its_line():
    result = refused("import torch\n\n!pip install torchviz\nx = 1", "cell.torchviz_installed",
                     line=3, column=1)
    assert "from torchviz import make_dot" in result.error.render("en")
    assert "ya está instalado" in result.error.render("es")
    refused("x = 1\n  %pip install numpy", "cell.shell_line", line=2, column=3)
    # a "!" inside a string is Python, not a shell line
    assert run_program("print('''\n!pip install torchviz\n''')").stdout == (
        "\n!pip install torchviz\n\n")


# ---- what a program holds, and what it shows -------------------------------------------------

PROGRAMS = [
    LEAF + "y = (x ** 2).sum()\ny.backward()\ng = x.grad\nn = y.grad_fn.next_functions\n"
    "v = n[0][0].next_functions[0][0].variable\na = x.detach().numpy()\nl = x.tolist()\n"
    "s = x.shape\nd = x.dtype\nk = {'x': x}\nr = range(3)\nt = (1, 2.5, None)\n"
    "gen = torch.Generator().manual_seed(1)\nopt = torch.optim.SGD([x], lr=0.1)\nopt.step()\n"
    "from torchviz import make_dot\ndot = make_dot(y)\nsrc = dot.source\nf = torch.sin\n"
    "m = x.sin\nns = torch.autograd\nitem = y.item()\nb = bool(y)\nsz = x.size(0)\n",
    mistakes.code("twice", False), mistakes.code("nonleaf", False),
    T + "torch.manual_seed(0)\nw = torch.randn(3, requires_grad=True)\nlosses = []\n"
    "for step, value in enumerate([1.0, 2.0]):\n    loss = (w * value).sum()\n"
    "    losses.append(loss.item())\n    df, = torch.autograd.grad(loss, w)\n",
]


def walk(value, seen=None):
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield value
    if isinstance(value, (list, tuple)):
        for item in value:
            yield from walk(item, seen)
    elif isinstance(value, dict):
        for item in value.values():
            yield from walk(item, seen)


@pytest.mark.parametrize("source", PROGRAMS, ids=range(len(PROGRAMS)))
def test_a_program_only_ever_holds_the_allowed_kinds_of_value(source):
    result, interpreter = interpret(localized(source, "en"))
    assert result.ok, result.error
    for name, value in interpreter.names.items():
        for inner in walk(value):
            assert is_allowed_value(inner), (name, type(inner))


def test_a_bare_last_expression_is_shown_as_a_notebook_shows_it():
    assert run_program(LEAF + "x * 2").shown == (
        "tensor([2., 4., 6.], grad_fn=<MulBackward0>)")
    assert run_program("x = 1\nx").shown == "1"
    assert run_program("print('a')").shown is None
    assert run_program("x = 1").shown is None
    result = run_program(LEAF + "from torchviz import make_dot\nd1 = make_dot(x.sum())\n"
                                "d2 = make_dot((x * 2).sum(), params={'x': x})\nd1")
    assert result.shown is None and result.shown_graph == 0 and len(result.graphs) == 2
    assert "\tn1 [" in result.graphs[1] and '"x\n (3)"' in result.graphs[1].replace("\\n", "\n")


def test_tensor_summaries_keep_plain_numbers():
    result = run_program(LEAF + "z = x * 2\ny = z.sum()\ny.backward()\nbig = torch.arange(50.)")
    x, z, y, big = (result.tensor(name) for name in ("x", "z", "y", "big"))
    assert x.is_leaf and x.grad == (2.0, 2.0, 2.0) and x.nodes == () and x.grad_fn is None
    assert z.grad is None and not z.is_leaf and z.grad_fn == "MulBackward0"
    assert y.nodes == ("SumBackward0", "MulBackward0", "AccumulateGrad") and y.shape == ()
    assert y.repr == "tensor(12., grad_fn=<SumBackward0>)" and y.dtype == "torch.float32"
    assert len(big.values) == 20 and big.numel == 50 and result.warnings == ()


def test_print_writes_what_cpython_writes():
    source = ("print(1, 'a', None, [1.5, (2,)], sep='-', end='!\\n')\nprint()\nprint('x', end='')\n"
              "print(1, 2, sep=None, end=None)\nv = 2.5\nprint(f'{v!r:>6}|{\"s\"!s}|{v=}|{v:{3}}')")
    assert run_program(source).stdout == "1-a-None-[1.5, (2,)]!\n\nx1 2\n   2.5|s|v=2.5|2.5\n"
    result = run_program("print(1, sep=2)")
    assert (result.error.exception, result.error.text) == ("TypeError",
                                                          "sep must be None or a string, not int")


# Programs that make mistakes page 7 no longer shows (it keeps six): the cell explains them.
INTEGER = "import torch\nx = torch.tensor([2, 3], requires_grad=True)\ny = (x ** 2).sum()\n"
LEAF_UPDATE = ("import torch\nw = torch.tensor([1., 2., 3.], requires_grad=True)\n"
               "loss = (w ** 2).sum()\nloss.backward()\nw -= 0.1 * w.grad\nprint(w)\n")
NUMPY = "import torch\nx = torch.tensor([1., 2., 3.], requires_grad=True)\nprint((x ** 2).numpy())\n"


def test_results_pickle_as_plain_data():
    result = run_program(INTEGER)
    assert pickle.loads(pickle.dumps(result)) == result and result.error.why is not None
    result = run_program(LEAF + "y = (x ** 2).sum()\ny.backward()\nprint(x.grad)\n"
                                "from torchviz import make_dot\nmake_dot(y)\n1 / 0")
    again = pickle.loads(pickle.dumps(result))
    assert again == result and again.tensors[0].grad == (2.0, 4.0, 6.0)
    refusal = run_program("import os")
    assert pickle.loads(pickle.dumps(refusal)) == refusal


# ---- threads and the process's state ----------------------------------------------------------

def test_two_programs_in_two_threads_do_not_disturb_each_other():
    quiet = T + ("x = torch.ones(3, requires_grad=True)\nwith torch.no_grad():\n"
                 "    for i in range(300):\n        y = x * 2\nprint(y.requires_grad)")
    busy = T + ("x = torch.ones(3, requires_grad=True)\nfor i in range(300):\n"
                "    y = (x * 2).sum()\ny.backward()\nprint(y.requires_grad, x.grad)")
    seeded = T + "torch.manual_seed(7)\nprint(torch.randn(4))"
    alone = {name: run_program(source).stdout for name, source in
             (("quiet", quiet), ("busy", busy), ("seeded", seeded))}
    together, barrier = {}, threading.Barrier(3)

    def run(name, source):
        barrier.wait()
        for _ in range(5):
            together.setdefault(name, set()).add(run_program(source).stdout)

    threads = [threading.Thread(target=run, args=item) for item in
               (("quiet", quiet), ("busy", busy), ("seeded", seeded))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert together == {name: {text} for name, text in alone.items()}
    assert alone["quiet"] == "False\n" and alone["busy"] == "True tensor([2., 2., 2.])\n"


def test_manual_seed_uses_the_runs_own_generator():
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(3)
        expected = torch.randn(5)
        torch.manual_seed(3)
        expected_rand = torch.rand(2, 3)
    finally:
        torch.random.set_rng_state(state)
    before = torch.random.get_rng_state()
    result = run_program(T + "torch.manual_seed(3)\nprint(torch.randn(5))\n"
                             "torch.manual_seed(3)\nprint(torch.rand(2, 3))")
    assert result.stdout == f"{expected}\n{expected_rand}\n"
    assert torch.equal(torch.random.get_rng_state(), before)       # untouched
    assert torch.get_num_threads() == torch.get_num_threads()


# ---- the registry is the source of the math -------------------------------------------------

def test_every_registry_operation_is_callable_in_each_of_its_forms():
    entries = table()
    for name, operation in ops.OPERATIONS.items():
        written = operation.code.format(a="a", b="b").split("(")[0]   # torch.nn.functional.softplus
        assert f"torch.{name}" in entries or written in entries or operation.kind == "unary"
        if hasattr(torch.Tensor, name):
            assert f"Tensor.{name}" in entries


def test_a_new_registry_operation_is_callable_with_no_edit(monkeypatch):
    program = T + "x = torch.tensor([0.5, 1.0], requires_grad=True)\ny = torch.erf(x).sum()\n" \
                  "y.backward()\nprint(y, x.grad, x.erf())"
    refused(program, "cell.attribute")
    monkeypatch.setitem(ops.OPERATIONS, "erf", ops._function("erf", torch.erf, sympy.erf))
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    y = torch.erf(x).sum()
    y.backward()
    expected = " ".join(str(v) for v in (y, x.grad, x.erf()))
    assert run_program(program).stdout == expected + "\n"


def test_a_registry_operation_from_torch_nn_functional_is_callable_both_ways(monkeypatch):
    program = T + "import torch.nn.functional as F\nx = torch.tensor([-1.0, 2.0])\n" \
                  "print(F.silu(x), torch.nn.functional.silu(x))"
    refused(program, "cell.attribute")
    silu = ops._function("silu", torch.nn.functional.silu, lambda a: a / (1 + sympy.exp(-a)),
                         code="torch.nn.functional.silu({a})")
    monkeypatch.setitem(ops.OPERATIONS, "silu", silu)
    expected = torch.nn.functional.silu(torch.tensor([-1.0, 2.0]))
    assert run_program(program).stdout == f"{expected!s} {expected!s}\n"


# ---- why and fix, from one table -------------------------------------------------------------

@pytest.mark.parametrize("source,why", [
    (INTEGER, "tensors.why_integer"),
    (localized(mistakes.code("twice", True), "en"), "cell.why_twice"),
    (localized(mistakes.code("vector", True), "en"), "mistakes.vector_why"),
    (localized(mistakes.code("inplace", True), "en"), "cell.why_inplace"),
    (LEAF_UPDATE, "mistakes.leaf_update_why"), (NUMPY, "mistakes.numpy_why"),
], ids=["integer", "twice", "vector", "inplace", "leaf_update", "numpy"])
def test_pytorchs_errors_come_with_why_and_fix(source, why):
    result = run_program(source)
    assert result.error.kind == "pytorch" and result.error.why == why
    assert result.error.fix == why.replace("why", "fix")
    assert result.error.gloss("es") and result.error.gloss("en") is None


def test_the_nonleaf_warning_is_recorded_and_explained():
    result = run_program(LEAF + "z = x * 2\ny = (z ** 2).sum()\ny.backward()\nprint(z.grad)\n"
                                "print(z.grad)")
    assert result.stdout == "None\nNone\n" and len(result.warnings) == 1
    assert explain(result.warnings[0]) == ("mistakes.nonleaf_why", "mistakes.nonleaf_fix")
    assert explain("no such message") is None
    no_graph = run_program(T + "x = torch.ones(2)\nx.sum().backward()")
    assert (no_graph.error.why, no_graph.error.fix) == ("cell.why_no_graph", "cell.fix_no_graph")


def test_comparisons_and_boolean_operators_follow_python():
    source = (LEAF + "print(x > 1, x == x, 0 < 1 < 2, 1 < 0 < x, x is None, x is not None)\n"
              "print(1 and x, 0 or x, None or 0, 1 in [1, 2], 'a' not in 'bc', 2 in x)\n"
              "print(x.grad == None, x.dtype == torch.float32, x.shape == (3,))")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "<test>", "exec"), {})  # noqa: S102 - the real thing
    assert run_program(source).stdout == printed.getvalue()
    assert printed.getvalue().startswith("tensor([False,  True,  True]) tensor([True, True,")
    result = run_program(LEAF + "if x > 1:\n    pass")
    assert result.error.text == "Boolean value of Tensor with more than one value is ambiguous"


def test_floats_print_as_python_prints_them():
    assert run_program("print(float('inf'), float('-inf'), float('nan'), 0.1 + 0.2, 1e308 * 10,"
                       " round(2.675, 2), abs(-0.0), int(2.9), 10 / 4)").stdout == (
        f"inf -inf nan {0.1 + 0.2} inf {round(2.675, 2)} 0.0 2 2.5\n")
    assert math.isnan(float("nan"))
