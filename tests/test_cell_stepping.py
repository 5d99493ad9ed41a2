"""Unit tests of a program's backward pass, node by node (lab.cell.stepping): the numbers
the hooks read against maths done here without autograd, autograd's own bookkeeping
(every node receives the sum of what its consumers passed it, after them), and the run
itself unchanged by the watching."""

import math
import pickle

import pytest
import torch

from lab.annotated import program_graph
from lab.cell import run_program
from lab.cell.examples import DESCENT, EXAMPLES, MICROGRAD, NEURON, TUTORIAL
from lab.cell.stepping import step_through
from lab.drawing import to_dot

pytestmark = pytest.mark.quick

T = "import torch\n"


def leaf_grads(trace) -> dict[str, tuple[float, ...]]:
    return {trace.node(step.node).tensor: step.grad for step in trace.steps if step.grad}


def test_a_neuron_two_leaves_against_the_chain_rule_by_hand():
    trace = step_through(NEURON)
    assert trace.result.ok and trace.root == "y" and trace.line == 9
    assert trace.backward_calls == 1
    # The same numbers without autograd: y = mean(s), s = sigmoid(w·x + b)
    w, b, x = 2.0, -1.0, torch.tensor([0.5, 1.0, 1.5])
    s = torch.sigmoid(w * x + b)
    dw, db = float((s * (1 - s) * x).mean()), float((s * (1 - s)).mean())
    grads = leaf_grads(trace)
    assert grads["w"] == pytest.approx((dw,), rel=1e-6)
    assert grads["b"] == pytest.approx((db,), rel=1e-6)
    # and what the program's own w.grad holds once it has run
    assert trace.result.tensor("w").grad == grads["w"]
    names = [trace.node(step.node).name for step in trace.steps]
    assert names[0] == "MeanBackward0" and names.count("AccumulateGrad") == 2
    first = trace.steps[0]
    assert first.received == (1.0,)                     # ∂y/∂y = 1
    sigmoid = next(n for n in trace.nodes if n.name == "SigmoidBackward0")
    assert sigmoid.code == "torch.sigmoid(w * x + b)" and sigmoid.line == 8
    assert sigmoid.values == pytest.approx(tuple(s.tolist()))


def test_micrograd_sanity_check_shared_leaf():
    trace = step_through(MICROGRAD)
    assert leaf_grads(trace) == {"x": (46.0,)}            # micrograd's own expected value
    root = trace.nodes[0]
    assert root.tensor == "y" and root.values == (-20.0,)
    assert [n.tensor for n in trace.leaves] == ["x"]


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_each_node_receives_what_its_consumers_passed_after_they_ran(name):
    trace = step_through(EXAMPLES[name])
    if not trace.steps:
        assert trace.backward_calls == 0                 # the examples that use grad()
        return
    position = {step.node: i for i, step in enumerate(trace.steps)}
    by_node = {step.node: step for step in trace.steps}
    for node in trace.nodes[1:]:
        consumers = [(c, slot) for c in trace.nodes for slot, source in enumerate(c.inputs)
                     if source == node.id]
        assert consumers, node
        assert all(position[c.id] < position[node.id] for c, _ in consumers)
        total = None
        for consumer, slot in consumers:
            values, _ = by_node[consumer.id].passed[slot]
            part = torch.tensor(values, dtype=torch.float64)
            total = part if total is None else total + part
        received = torch.tensor(by_node[node.id].received, dtype=torch.float64)
        assert torch.allclose(received, total, rtol=1e-5), (name, node)


def test_watching_changes_nothing_the_program_does():
    for source in EXAMPLES.values():
        watched, plain = step_through(source).result, run_program(source)
        assert (watched.stdout, watched.shown, watched.error, watched.tensors) == (
            plain.stdout, plain.shown, plain.error, plain.tensors)


def test_the_first_backward_of_a_loop_with_leaf_values_before_the_update():
    trace = step_through(DESCENT)
    assert trace.backward_calls == 5 and trace.root == "loss"
    w = trace.leaves[0]
    assert w.tensor == "w" and w.values == (0.0,)          # before `w -= lr * w.grad`
    assert leaf_grads(trace) == {"w": (-6.0,)}              # 2·(0 - 3)
    assert [n.code for n in trace.nodes if not n.leaf] == ["(w - 3) ** 2", "w - 3"]


def test_names_are_those_at_backward_time():
    trace = step_through(TUTORIAL)
    codes = {n.code: n.tensor for n in trace.nodes if not n.leaf}
    # z is rebound twice: only the last z is z when backward() runs
    assert codes == {"z.mean()": "y", "z + 2": "z", "z ** 2": "", "x + 1": ""}


def test_constant_inputs_and_broadcasting():
    trace = step_through(T + "x = torch.tensor([1., 2.], requires_grad=True)\n"
                         "b = torch.tensor(3., requires_grad=True)\n"
                         "y = (x * b + 1).sum()\ny.backward()\n")
    add = next(n for n in trace.nodes if n.code == "x * b + 1")
    assert add.inputs[1] is None                            # the constant 1
    mul = next(s for s in trace.steps if trace.node(s.node).code == "x * b")
    assert mul.passed[1] == ((3.0,), 1)                     # to b: summed over x's elements
    assert leaf_grads(trace) == {"x": (3.0, 3.0), "b": (3.0,)}


@pytest.mark.parametrize("source, kind", [
    (T + "x = torch.tensor([1., 2.], requires_grad=True)\nprint(x * 2)\n", None),
    (T + "x = torch.tensor([1., 2.], requires_grad=True)\n(x * 2).backward()\n", "pytorch"),
    (T + "import os\n", "refused"),
])
def test_no_backward_pass_to_step_through(source, kind):
    trace = step_through(source)
    assert trace.steps == () and trace.nodes == ()
    assert (trace.result.error.kind if trace.result.error else None) == kind


def test_an_error_after_backward_keeps_the_steps():
    trace = step_through(NEURON + "y.backward()\n")       # the second time: PyTorch's error
    assert trace.result.error.kind == "pytorch" and trace.backward_calls == 2
    assert len(trace.steps) == 6


def test_the_trace_is_plain_and_its_graph_draws_each_step():
    trace = step_through(NEURON)
    assert pickle.loads(pickle.dumps(trace)) == trace
    for index, step in enumerate(trace.steps):
        dot = to_dot(program_graph(trace, "es", index, legend=True))
        assert dot.count("▶") == 2                          # the node and the legend's sample
        node = trace.node(step.node)
        if node.leaf:
            assert f"{node.tensor}.grad = {step.grad[0]:.6g}" in dot
    before = to_dot(program_graph(trace, "en", 0))
    assert "w.grad = ?" in before and "b.grad = ?" in before
    assert "∂y/∂(w * x) =\\n?" in before and "línea 8" not in before
    assert "línea 8: w * x" in to_dot(program_graph(trace, "es", 0))
    assert math.isclose(float(to_dot(program_graph(trace, "en", 5)).split("w.grad = ")[1]
                              .split("<")[0]), leaf_grads(trace)["w"][0], rel_tol=1e-5)
