"""Recording one real ``backward()``: the graph PyTorch built and what each node did.

``record()`` runs a formula forward exactly as ``lab.formula.forward`` does, collects
the graph from ``y.grad_fn`` through ``next_functions``, hooks every node
(``register_prehook`` sees the gradient a node receives, ``register_hook`` what it passes
on), calls the real ``y.backward()`` and returns a plain ``Record``. Nothing is read from
the tensors PyTorch saves for backward, so nothing depends on reading them before
``backward()`` frees them. The tensors in a record are detached copies: no graph, no hooks
behind them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import torch

from lab.formula import Formula
from lab.formula import forward

ACCUMULATE = "AccumulateGrad"


@dataclass(frozen=True)
class Node:
    """One node of the graph PyTorch recorded."""

    id: str                          # "f1", "f2"…: depth-first from y.grad_fn, inputs in order
    name: str                        # PyTorch's name: "MulBackward0", "AccumulateGrad"
    inputs: tuple[str | None, ...]   # per ``next_functions`` slot: the input node, None: constant
    tensor: str                      # the named tensor it produces ("x", "z1"…, "y"), "" if none
    step: int                        # forward step that creates it: 0 is x, k the k-th operation


@dataclass(frozen=True)
class Record:
    """One forward and backward pass, node by node, in plain values and detached tensors."""

    formula: Formula
    reduce: str                      # the reduction that made y (the formula's own, if any)
    steps: tuple[tuple[str, str, tuple], ...]  # forward steps after x: (tensor, op, args)
    nodes: tuple[Node, ...]
    order: tuple[str, ...]           # node ids in the order autograd ran them
    values: dict[str, torch.Tensor]  # forward value of each named tensor ("x", "z1"…, "y")
    upstream: dict[str, torch.Tensor]                       # node id -> gradient received
    passed: dict[str, tuple[torch.Tensor | None, ...]]      # node id -> passed on, per slot
    x_grad: torch.Tensor             # x.grad after backward()

    def node(self, node_id: str) -> Node:
        return self.by_id[node_id]

    @cached_property
    def by_id(self) -> dict[str, Node]:
        return {node.id: node for node in self.nodes}

    @cached_property
    def producers(self) -> dict[str, str]:
        """Named tensor -> id of the node that produces it (x: its AccumulateGrad)."""
        return {node.tensor: node.id for node in self.nodes if node.tensor}

    @property
    def edges(self) -> tuple[tuple[str, str, int], ...]:
        """(input node, node, slot) for every input that is not a constant."""
        return tuple((source, node.id, slot) for node in self.nodes
                     for slot, source in enumerate(node.inputs) if source is not None)


def node_name(node) -> str:
    """PyTorch's name without the C++ namespace: ``AccumulateGrad``, ``MulBackward0``."""
    return node.name().rsplit("::", 1)[-1]


def _collect(root) -> list:
    """Every node reachable from ``root`` through ``next_functions``, depth first."""
    nodes, stack, seen = [], [root], set()
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        nodes.append(node)
        stack.extend(reversed([next_node for next_node, _ in node.next_functions]))
    return nodes


def forward_steps(formula: Formula, reduce: str) -> tuple[tuple[str, str, tuple], ...]:
    """The operations after x as (tensor, op, args); the last tensor is named ``y``."""
    steps = [(step.name, step.op, step.args) for step in formula.steps]
    if formula.reduction is None:
        steps.append(("y", reduce, (formula.output,)))
    else:
        name, op, args = steps[-1]
        steps[-1] = ("y", op, args)
    return tuple(steps)


def _named(graph: list, tensors: dict, steps, x: torch.Tensor) -> dict:
    """Graph node -> (tensor it produces or "", forward step that creates it)."""
    owner: dict = {}

    def claim(node, name: str, index: int) -> None:
        """``node`` and the unnamed nodes beneath it belong to step ``index``."""
        if node is None or node in owner:
            return
        owner[node] = (name, index)
        for next_node, _ in node.next_functions:
            if next_node is not None and next_node not in named:
                claim(next_node, "", index)

    accumulate = next((n for n in graph if getattr(n, "variable", None) is x), None)
    named = {accumulate} if accumulate is not None else set()
    named |= {tensors[name].grad_fn for name, _, _ in steps}
    if accumulate is not None:
        owner[accumulate] = ("x", 0)
    for index, (name, _, _) in enumerate(steps, start=1):
        claim(tensors[name].grad_fn, name, index)
    return owner


def _hooked_backward(graph: list, y: torch.Tensor) -> tuple[list, dict, dict]:
    """The real ``y.backward()`` with every node hooked: (order, upstream, passed)."""
    order, upstream, passed = [], {}, {}

    def before(node):
        def hook(grad_outputs):
            order.append(node)
            upstream[node] = grad_outputs[0].detach().clone()
        return hook

    def after(node):
        def hook(grad_inputs, grad_outputs):
            passed[node] = tuple(None if g is None else g.detach().clone() for g in grad_inputs)
        return hook

    handles = []
    for node in graph:
        handles += [node.register_prehook(before(node)), node.register_hook(after(node))]
    try:
        y.backward()
    finally:
        for handle in handles:
            handle.remove()
    return order, upstream, passed


def record(formula: Formula, x: torch.Tensor, reduce: str) -> Record:
    """Run ``formula`` on ``x`` (a leaf that requires grad) forward and backward, recorded."""
    tensors = forward(formula, x, reduce)
    steps = forward_steps(formula, reduce)
    values = {"x": x.detach().clone()}
    values.update({name: tensors[name].detach().clone() for name, _, _ in steps})
    graph = _collect(tensors["y"].grad_fn)
    ids = {node: f"f{number}" for number, node in enumerate(graph, start=1)}
    owner = _named(graph, tensors, steps, x)
    nodes = tuple(Node(ids[node], node_name(node),
                       tuple(None if n is None else ids[n] for n, _ in node.next_functions),
                       *owner.get(node, ("", 0)))
                  for node in graph)
    order, upstream, passed = _hooked_backward(graph, tensors["y"])
    return Record(formula=formula, reduce=formula.reduction or reduce, steps=steps, nodes=nodes,
                  order=tuple(ids[node] for node in order), values=values,
                  upstream={ids[n]: g for n, g in upstream.items()},
                  passed={ids[n]: g for n, g in passed.items()},
                  x_grad=x.grad.detach().clone())
