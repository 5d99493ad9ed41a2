"""The operation registry (lab/ops.py): every entry agrees with PyTorch and with sympy.

For each operation, on a tensor and a constant in every position: ``compute`` is what
PyTorch computes, ``form`` (sympy) gives the same values, the ``code`` template gives
them too, the backward nodes PyTorch records are the ones the entry names, and every
node's local derivative (the derivative of its sympy form, ``ops.node_form``) times the
gradient it receives is exactly what the real node passes on.
"""

import pytest
import sympy
import torch

from lab.i18n import LANGUAGES, t
from lab.ops import OPERATIONS, apply, node_form
from lab.evaluate import evaluate

pytestmark = pytest.mark.quick

X = torch.tensor([0.3, 0.7, 1.9], dtype=torch.float64)
W = torch.tensor([1.1, 0.4, 2.5], dtype=torch.float64)
C = 2.5


def cases(name):
    """The operation's arguments: tensors, or a tensor beside the constant C."""
    if OPERATIONS[name].arity == 1:
        return [(X,)]
    return [(X, W), (X, C), (C, X)]


def symbols_for(args):
    names = iter(sympy.symbols("a b", real=True))
    return [next(names) if isinstance(a, torch.Tensor) else sympy.Float(a) for a in args]


def values(expr, args, symbols):
    env = {s: a for s, a in zip(symbols, args) if isinstance(a, torch.Tensor)}
    return evaluate(sympy.sympify(expr), env, X)


def graph(root):
    """Every node reachable from ``root``, with its inputs."""
    seen, stack = [], [root]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.append(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    return seen


def name_of(node) -> str:
    return node.name().rsplit("::", 1)[-1]


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_operation_has_a_name_in_both_catalogues(name):
    for lang in LANGUAGES:
        assert "⟦" not in t(f"ops.{name}", lang)


@pytest.mark.parametrize("name", [n for n, op in OPERATIONS.items() if op.kind != "reduction"])
def test_compute_form_and_code_agree(name):
    op = OPERATIONS[name]
    for args in cases(name):
        expected = apply(name, list(args)).expand_as(X)
        symbols = symbols_for(args)
        assert torch.allclose(values(op.form(*symbols), args, symbols), expected), name
        shown = {slot: (f"v_{slot}" if isinstance(a, torch.Tensor) else repr(a))
                 for slot, a in zip("ab", args)}
        scope = {"torch": torch, **{f"v_{slot}": a for slot, a in zip("ab", args)}}
        # The registry's own template, run on this test's tensors (no user text here).
        result = eval(op.code.format(**shown), scope)    # noqa: S307
        assert torch.allclose(result, expected), op.code


@pytest.mark.parametrize("name", [n for n, op in OPERATIONS.items() if op.kind == "reduction"])
def test_reductions(name):
    assert torch.allclose(apply(name, [X]), X.mean() if name == "mean" else X.sum())
    assert OPERATIONS[name].code.format(a="z") == f"z.{name}()"


@pytest.mark.parametrize("name", OPERATIONS)
def test_node_forms_differentiated_are_what_pytorch_passes_on(name):
    """For every node PyTorch records, upstream × ∂(node form)/∂input == what it passes."""
    op = OPERATIONS[name]
    recorded = set()
    for args in cases(name):
        leaves = [a.clone().requires_grad_(True) if isinstance(a, torch.Tensor) else a
                  for a in args]
        out = apply(name, leaves)
        constants = [a for a in args if not isinstance(a, torch.Tensor)]
        if op.kind == "reduction":
            constants = [X.numel()]
        # Walk the step's nodes from its output down to the leaves, carrying each node's
        # sympy value (leaves are symbols) and the gradient it receives.
        symbols = {id(leaf): s for leaf, s in zip(leaves, symbols_for(args))
                   if isinstance(leaf, torch.Tensor)}
        env = {s: a for leaf, a in zip(leaves, args) if isinstance(leaf, torch.Tensor)
               for s in [symbols[id(leaf)]]}
        expression = {}

        def value_of(node):
            """The sympy value a node outputs (a leaf's symbol for AccumulateGrad)."""
            if node in expression:
                return expression[node]
            if name_of(node) == "AccumulateGrad":
                expression[node] = symbols[id(node.variable)]
                return expression[node]
            inputs = [None if nxt is None else value_of(nxt) for nxt, _ in node.next_functions]
            expression[node] = node_form(name_of(node), inputs, constants)
            return expression[node]

        upstream = {out.grad_fn: torch.linspace(0.5, 1.5, out.numel(),
                                                dtype=torch.float64).reshape(out.shape)}
        for node in graph(out.grad_fn):
            if name_of(node) == "AccumulateGrad":
                continue
            recorded.add(name_of(node))
            slots = [sympy.Dummy(real=True) if nxt is not None else None
                     for nxt, _ in node.next_functions]
            form = node_form(name_of(node), slots, constants)
            passed = node(upstream[node])
            passed = passed if isinstance(passed, tuple) else (passed,)
            for slot, (nxt, _), got in zip(slots, node.next_functions, passed):
                if slot is None:
                    continue
                here = {s: value_of(nxt) for s in [slot]}
                local = sympy.diff(form, slot)
                for other, (other_next, _) in zip(slots, node.next_functions):
                    if other is not None and other is not slot:
                        local = local.subs(other, value_of(other_next))
                local = evaluate(local.subs(here), env, X)
                expected = (upstream[node] * local)
                if got.numel() < expected.numel():
                    expected = expected.sum()
                assert torch.allclose(got, expected.reshape(got.shape)), (name, name_of(node))
                upstream[nxt] = got
    assert recorded <= set(op.nodes), (name, recorded)
    assert recorded == set(op.nodes), ("an entry names a node PyTorch never records", name)


def test_an_operation_added_to_the_registry_alone_reaches_every_part(monkeypatch, capsys):
    """One entry, nothing else: the formula language, the symbolic check and both printers,
    page 7's trace, the help texts, the command line and the PyTorch cell all know it."""
    from lab import formula, ops
    from lab.backward import trace
    from lab.cell import run_program
    from lab.cli import main
    from lab.gradients import run
    from lab.printing import latex, unicode
    from lab.xvalues import XSpec

    erf = ops._function("erf", torch.erf, sympy.erf, latex=r"\operatorname{erf}")
    monkeypatch.setitem(ops.OPERATIONS, "erf", erf)
    monkeypatch.setitem(ops.NODE_FORMS, "ErfBackward0", sympy.erf)
    assert formula.parse("erf(x) * x").steps[0].op == "erf"                # the language
    assert "erf" in ops.function_list()                                     # the help texts
    x = sympy.Symbol("x")
    assert latex(sympy.erf(x) ** 2) == r"\operatorname{erf}^{2}\left(x\right)"   # printers
    assert unicode(sympy.erf(x)) == "erf(x)"
    result = run("erf(x) * x", XSpec.of([-1.0, 0.5, 2.0]), "mean", "float64")
    assert all(result.symbolic_marks()) and all(result.numeric_marks())   # checks agree
    steps = trace("erf(x)", XSpec.of([0.5, 1.0]))
    assert "ErfBackward0" in [f.name for f in steps.functions]
    assert main(["grad", "erf(x)", "--x", "0,1"]) == 0                      # the CLI
    assert capsys.readouterr().out.count("2 agree, 0 disagree") == 2     # symbolic, numeric
    cell = run_program("import torch\nx = torch.tensor([0.5], requires_grad=True)\n"
                       "torch.erf(x).sum().backward()\nprint(x.grad)")
    assert cell.ok and cell.stdout.startswith("tensor([0.8788")              # the cell
