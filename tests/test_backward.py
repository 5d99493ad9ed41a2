"""Inside backward(): the recorded graph, the steps, the annotated DOT, against real autograd."""

import contextlib
import io
import math
import re

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab import backward, chain, graphs
from lab.annotated import annotated_dot
from lab.formula import FormulaError
from lab.gradients import InputError, XSpec, forward
from lab import formula as formulas


def seed_trace():
    return backward.trace(*chain.chain_input(3, 1.0, 2.0, 2.0), "mean", "float32")


def exercise_3_trace():
    return backward.trace(*chain.exercise_3_input(1, 5), "mean", "float32")


def close(a, b, rel=1e-5, abs_=1e-6):
    return all(math.isclose(u, v, rel_tol=rel, abs_tol=abs_) or (math.isnan(u) and math.isnan(v))
               or (math.isinf(u) and u == v) for u, v in zip(a, b)) and len(a) == len(b)


# ---- the seed's chain and exercise 3: pinned numbers --------------------------------------

def test_seed_chain_values_gradients_and_order():
    trace = seed_trace()
    assert round(trace.y, 4) == 6.6667
    assert [round(g, 4) for g in trace.x_grad] == [0.6667, 1.3333, 2.0]
    assert [s.name for s in trace.backward_steps] == [
        "MeanBackward0", "AddBackward0", "PowBackward0", "AddBackward0", "AccumulateGrad"]
    assert [s.tensor for s in trace.forward_steps] == ["x", "z1", "z2", "z3", "y"]
    # the last step's accumulated gradient is autograd's x.grad
    assert close(trace.backward_steps[-1].x_grad, trace.x_grad, rel=0, abs_=0)


def test_seed_chain_dot_holds_every_value_and_gradient():
    dot = annotated_dot(seed_trace())
    for text in ("x = [0, 1, 2] (3)", "∂y/∂x = [0.6667, 1.333, 2] (3)",
                 "z1 = [1, 2, 3] (3)", "∂y/∂z1 = [0.6667, 1.333, 2] (3)",
                 "z2 = [1, 4, 9] (3)", "∂y/∂z2 = [0.3333, 0.3333, 0.3333] (3)",
                 "z3 = [3, 6, 11] (3)", "y = 6.667", "∂y/∂y = 1",
                 "PowBackward0\\n∂(a^2)/∂a = 2·a^(2−1)", "MeanBackward0\\n∂(mean(a))/∂a = 1/3",
                 "AccumulateGrad\\nx.grad += ∂y/∂x"):
        assert text in dot, text


def test_exercise_3_numbers_and_contributions_adding_up():
    trace = exercise_3_trace()
    assert round(trace.y, 4) == -34.1407
    assert [round(g, 4) for g in trace.x_grad] == [0.7290, 0.7163, -3.4180, -15.4071, -20.0476]
    # x feeds three branches (x + 2, exp, sin): three contributions, each step adds one
    adds = [(i, p) for i, s in enumerate(trace.backward_steps) for p in s.passes if p.adds_to_x]
    assert len(adds) == 3
    running = torch.zeros(5)
    for index, one in adds:
        running += torch.tensor(one.passed)
        assert close(trace.backward_steps[index].x_grad, running.tolist())
    first = trace.backward_steps[adds[0][0]]
    assert first.x_grad != trace.backward_steps[-1].x_grad     # partial before the end
    assert close(trace.backward_steps[-1].x_grad, trace.x_grad, rel=0, abs_=0)
    assert "(-0.02222) + 0.4575 + 0.2937 = 0.729" in trace.backward_steps[-1].latex[0]


def test_exercise_3_dot_holds_values_gradients_and_the_unnamed_reciprocal():
    dot = annotated_dot(exercise_3_trace())
    for text in ("∂y/∂x = [0.729, 0.7163, -3.418, …] (5)", "y = -34.14",
                 "z1 = [0.8415, 0.9093, 0.1411, …] (5)", "∂y/∂z1 = [0.5437, 1.478, 4.017, …] (5)",
                 "z2 = [2.718, 7.389, 20.09, …] (5)", "∂y/∂z4 = [-0.02222, -0.0125, -0.008, …] (5)",
                 "MulBackward0\\n∂(a·b)/∂a = b\\n∂(a·b)/∂b = a",
                 "ReciprocalBackward0\\n∂(1/a)/∂a = −1/a²", "SinBackward0\\n∂(sin a)/∂a = cos a"):
        assert text in dot, text
    trace = exercise_3_trace()
    reciprocal = [n for n in trace.nodes if n.label == "ReciprocalBackward0"]
    assert len(reciprocal) == 1 and reciprocal[0].tensor == ""      # belongs to no named tensor
    step = next(s for s in trace.backward_steps if s.name == "ReciprocalBackward0")
    assert step.output == "(1/z4)"


def test_dot_is_byte_identical_across_runs_and_has_no_addresses():
    for make in (seed_trace, exercise_3_trace):
        first, second = make(), make()
        for mode, step in (("backward", None), ("backward", 3), ("forward", 2)):
            a = annotated_dot(first, "es", mode, step)
            assert a == annotated_dot(second, "es", mode, step)
            assert not re.search(r"0x[0-9a-f]{6,}|\d{9,}", a)


def test_chain_rule_latex_per_element_numbers():
    trace = exercise_3_trace()
    mul = next(s for s in trace.backward_steps if s.name == "MulBackward0" and len(s.passes) == 2)
    assert r"\frac{\partial y}{\partial z_{1}}" in mul.latex[0]
    assert r"i=0:&\quad 0.2 \times 2.718 = 0.5437" in mul.latex[0]
    assert r"i=3:&\quad 0.2 \times (-0.7568) = -0.1514" in mul.latex[1]


# ---- the highlighted step and the two modes -----------------------------------------------

def node_line(dot, node_id):
    return next(line for line in dot.splitlines() if line.startswith(f'  "{node_id}" ['))


def test_backward_step_highlights_the_running_node_and_hides_unknown_gradients():
    trace = seed_trace()
    dot = annotated_dot(trace, "en", "backward", 0)
    assert 'penwidth="5"' in node_line(dot, trace.backward_steps[0].node)
    assert sum('penwidth="5"' in line for line in dot.splitlines()
               if not line.strip().startswith('"legend')) == 1
    assert "∂y/∂z1 = ?" in dot and "∂y/∂y = 1" in dot
    last = annotated_dot(trace, "en", "backward", len(trace.backward_steps) - 1)
    assert "?" not in last and "∂y/∂x = [0.6667, 1.333, 2] (3)" in last
    middle = annotated_dot(trace, "en", "backward", 3)     # AddBackward0 of z1 = x + 1 ran
    assert "∂y/∂x so far = [0.6667, 1.333, 2] (3)" in middle


def test_forward_step_shows_created_nodes_and_leaves_the_rest_pending():
    trace = exercise_3_trace()
    dot = annotated_dot(trace, "en", "forward", 1)          # z1 = sin(x)
    assert "z1 = [0.8415, 0.9093, 0.1411, …] (5)" in dot
    assert "∂y/∂" not in dot.split("subgraph")[0].replace("∂y/∂x", "")   # no gradients yet
    assert 'label="z2"' in node_line(dot, "z2") and "dashed" in node_line(dot, "z2")
    assert 'penwidth="5"' in node_line(dot, "z1")
    assert trace.forward_steps[5].nodes == ("z5", "f7", "f8")          # 1/z4: two nodes


def test_legend_is_in_the_page_language():
    assert "Leyenda" in annotated_dot(seed_trace(), "es")
    assert "Legend" in annotated_dot(seed_trace(), "en")


@pytest.mark.skipif(not graphs.dot_available(), reason="Graphviz's dot is not installed")
def test_svg_export_renders_the_annotated_graph():
    svg = graphs.export(annotated_dot(seed_trace(), "en", "backward", 2), "svg").decode()
    assert "<svg" in svg and "PowBackward0" in svg


def test_shown_code_runs_and_prints_the_same_order():
    trace = exercise_3_trace()
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(trace.code, "<shown code>", "exec"), {})      # the lab's own script
    names = [match.group(1) for match in re.finditer(
        r"^(?:torch::autograd::)?(\w+Backward\d|AccumulateGrad) ", printed.getvalue(), re.M)]
    assert names == [s.name for s in trace.backward_steps]
    assert "tensor([  0.7290,   0.7163,  -3.4180, -15.4071, -20.0476])" in printed.getvalue()


def test_bad_input_raises_messages_not_tracebacks():
    with pytest.raises(FormulaError):
        backward.trace("x.__class__", XSpec.of([1.0]))
    with pytest.raises(InputError):
        backward.trace("x", XSpec.of([1.0]), dtype="int64")
    with pytest.raises(InputError):
        backward.trace("x", XSpec.of([]))


# ---- random formulas over the whitelist ---------------------------------------------------

UNARY = ("sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "-")
BINARY = ("+", "-", "*", "/", "**")


def formula_texts():
    leaves = st.one_of(st.just("x"), st.sampled_from(["1", "2", "0.5", "3", "pi"]))

    def grow(children):
        unary = st.tuples(st.sampled_from(UNARY), children).map(
            lambda t: f"-({t[1]})" if t[0] == "-" else f"{t[0]}({t[1]})")
        binary = st.tuples(children, st.sampled_from(BINARY), children).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})")
        reduction = st.tuples(st.sampled_from(["mean", "sum"]), children).map(
            lambda t: f"{t[0]}({t[1]})")
        return st.one_of(unary, binary, binary, reduction)

    return st.recursive(leaves, grow, max_leaves=6).filter(lambda text: "x" in text)


def x_values():
    return st.lists(st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
                    min_size=1, max_size=4)


def real_autograd(text, values, reduce):
    """x.grad and the graph's node count from a fresh run, independent of lab.backward."""
    x = torch.tensor(values, requires_grad=True)
    y = forward(formulas.parse(text), x, reduce)["y"]
    seen, stack = set(), [y.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(next_node for next_node, _ in node.next_functions)
    y.backward()
    return x.grad.tolist(), len(seen)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(text=formula_texts(), values=x_values(), reduce=st.sampled_from(["mean", "sum"]))
def test_random_formulas_steps_match_autograd(text, values, reduce):
    try:
        formulas.parse(text)
    except FormulaError:
        return                                     # e.g. a formula that folds to a constant
    trace = backward.trace(text, XSpec.of(values), reduce, "float32")
    grad, node_count = real_autograd(text, values, reduce)
    assert len(trace.backward_steps) == trace.function_count == node_count
    assert trace.backward_steps[-1].name == "AccumulateGrad"
    assert close(list(trace.backward_steps[-1].x_grad), grad[:backward.KEEP], rel=1e-5, abs_=1e-6)
    assert close(trace.x_grad, grad, rel=0, abs_=0)
    # every node's upstream × local derivative is what it really passed on
    for step in trace.backward_steps:
        for one in step.passes:
            if not one.local or not one.passed:
                continue
            upstream = torch.tensor(step.upstream)
            local = torch.tensor(one.local)
            product = upstream * local if upstream.numel() > 1 else upstream[0] * local
            expected = product.sum().reshape(1) if one.summed else product
            passed = torch.tensor(one.passed)
            finite = torch.isfinite(expected) & torch.isfinite(passed)
            assert torch.allclose(expected[finite], passed[finite], rtol=1e-4, atol=1e-5), (
                step.name, one.local_text)


def test_kinds_differ_by_colour_and_by_shape_with_explicit_text_colours():
    from lab.annotated import INK, STYLES

    looks = {kind: (style["shape"], style.get("peripheries", "1")) for kind, style in
             STYLES.items()}
    assert len(set(looks.values())) == len(STYLES)                      # shapes differ
    assert len({style["fillcolor"] for style in STYLES.values()}) == len(STYLES)
    dot = annotated_dot(seed_trace())
    assert f'fontcolor="{INK}"' in dot.splitlines()[2]                 # node default
    assert 'bgcolor="transparent"' in dot and 'edge [' in dot and 'fontcolor="#7A7A7A"' in dot


# ---- the command line's graph styles ------------------------------------------------------

def cli(capsys, *args):
    from lab import cli as command_line

    status = command_line.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_cli_graph_draws_the_annotated_graph_by_default(capsys):
    status, out, err = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3")
    assert status == 0 and not err
    assert out == annotated_dot(seed_trace())                   # the same DOT as the page's
    status, same, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3", "--annotated")
    assert same == out
    status, spanish, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--x", "0:3", "--lang", "es")
    assert "Leyenda" in spanish


def test_cli_graph_torchviz_and_its_options(capsys):
    status, out, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--torchviz")
    assert status == 0 and "lightblue" in out and "∂y/∂" not in out
    status, out, _ = cli(capsys, "graph", "(x + 1)**2 + 2", "--show-saved")   # implies torchviz
    assert status == 0 and "orange" in out
    status, out, err = cli(capsys, "graph", "x", "--annotated", "--show-saved")
    assert status == 2 and not out and err.count("\n") == 1 and "--torchviz" in err
