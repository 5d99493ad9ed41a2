"""A student's program, its backward pass node by node: the cell's run, watched.

``step_through(source)`` runs a program in the cell exactly as ``run_program`` does, and
watches two things. Every tensor an expression makes is noted with the code and line that
made it and its values (the forward pass, as it happens). The program's first
``backward()`` runs with a hook on every node of its graph, as ``lab.recording`` does for
a formula: what each node received, what it passed on along each input, and each leaf's
``.grad`` once its ``AccumulateGrad`` has run, in the order autograd ran them. Every number
is PyTorch's, read by its hooks; the result holds plain values only (it is cached).
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from lab.cell.interpreter import DEFAULT_LIMITS, Interpreter, _first, interpret
from lab.cell.limits import Limits
from lab.cell.result import CellResult
from lab.recording import ACCUMULATE, node_name

CODE_CHARS = 40                      # the code shown for a node, at most


@dataclass(frozen=True)
class GraphNode:
    """One node of the graph behind the program's ``backward()``."""

    id: str                          # "n1", "n2"…: breadth first from the root
    name: str                        # PyTorch's: "MulBackward0", "AccumulateGrad"
    inputs: tuple[str | None, ...]   # per ``next_functions`` slot: the input node (None: none)
    tensor: str                      # the program's name for what it makes (a leaf's name)
    code: str                        # the expression that made its output ("" unknown)
    line: int | None                 # the program's line that made it
    shape: tuple[int, ...]           # its output's (a leaf's) shape; () also for a scalar
    values: tuple[float, ...] | None  # its output's first values (None: not seen)

    @property
    def leaf(self) -> bool:
        return self.name == ACCUMULATE

    @property
    def label(self) -> str:
        """The program's name for it, else PyTorch's ("w", "AccumulateGrad")."""
        return self.tensor or self.name

    @property
    def output(self) -> str:
        """Its output as a ∂ names it: the program's name, else its code in brackets."""
        return self.tensor or (f"({self.code})" if self.code else self.name)

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    @property
    def made_by(self) -> str:
        """The code that made its output, with the name it got: "z = w * x" ("" unknown)."""
        return f"{self.tensor} = {self.code}" if self.tensor and self.code else self.code


@dataclass(frozen=True)
class Step:
    """One node running in the backward pass."""

    node: str
    received: tuple[float, ...]      # ∂root/∂(its output): the gradient it receives
    received_size: int
    passed: tuple[tuple[tuple[float, ...], int] | None, ...]  # per input slot: what it
    #                                  passed on (its first values, its size), None: nothing
    grad: tuple[float, ...] | None = None          # a leaf: its .grad after this step


@dataclass(frozen=True)
class ProgramTrace:
    """The run, and its first ``backward()`` node by node (empty when there was none)."""

    result: CellResult
    root: str = ""                   # what backward() was called on, as written: "y"
    line: int | None = None          # the line of that call
    nodes: tuple[GraphNode, ...] = ()
    steps: tuple[Step, ...] = ()
    backward_calls: int = 0          # backward() calls the program made (the first is shown)

    def node(self, node_id: str) -> GraphNode:
        return next(node for node in self.nodes if node.id == node_id)

    @property
    def leaves(self) -> tuple[GraphNode, ...]:
        return tuple(node for node in self.nodes if node.leaf)


class _Watcher(Interpreter):
    """The cell's interpreter, noting what each expression makes and hooking the first
    ``backward()``."""

    def __init__(self, source: str, *args, **kwargs):
        super().__init__(source, *args, **kwargs)
        self.source = source
        self.made: dict = {}         # grad_fn -> (code, line, shape, values); keeps them alive
        self.calls = 0
        self.watched: ProgramTrace | None = None    # the first backward(), once it ran

    def value(self, node: ast.AST):
        result = super().value(node)
        # Nodes are noted until the first backward() (they stay alive, within the run's
        # budget of elements produced: Limits.max_produced).
        if self.calls == 0 and isinstance(result, torch.Tensor) \
                and result.grad_fn is not None and result.grad_fn not in self.made:
            self.made[result.grad_fn] = (_code(self.source, node), getattr(node, "lineno", None),
                                         tuple(result.shape), _first(result))
        return result

    def backward(self, call, graph: list):
        self.calls += 1
        if self.calls > 1:
            return super().backward(call, graph)
        order, received, passed, grads = [], {}, {}, {}

        def before(node):
            def hook(grad_outputs):
                order.append(node)
                first = grad_outputs[0]
                received[node] = (() if first is None else _first(first),
                                  0 if first is None else first.numel())
            return hook

        def after(node):
            def hook(grad_inputs, grad_outputs):
                passed[node] = tuple(None if g is None else (_first(g), g.numel())
                                     for g in grad_inputs)
                variable = getattr(node, "variable", None)
                if variable is not None and variable.grad is not None:
                    grads[node] = _first(variable.grad)
            return hook

        names = {}                  # the program's names now, the first one wins
        for name, value in self.names.items():
            if isinstance(value, torch.Tensor):
                key = value.grad_fn if value.grad_fn is not None else value
                names.setdefault(id(key), name)
        ids = {node: f"n{number}" for number, node in enumerate(graph, start=1)}
        nodes = _graph_nodes(graph, ids, names, self.made)  # leaves' values before the update
        handles = []
        for node in graph:
            handles += [node.register_prehook(before(node)), node.register_hook(after(node))]
        try:
            result = super().backward(call, graph)
        finally:
            for handle in handles:
                handle.remove()
        call_node = self.node
        receiver = call_node.func.value if isinstance(call_node, ast.Call) and isinstance(
            call_node.func, ast.Attribute) else call_node
        steps = tuple(Step(ids[node], *received[node], passed.get(node, ()), grads.get(node))
                      for node in order if node in ids)
        self.watched = ProgramTrace(CellResult(""), _code(self.source, receiver),
                                    getattr(call_node, "lineno", None), nodes, steps)
        return result

    def trace(self, result: CellResult) -> ProgramTrace:
        if self.watched is None:
            return ProgramTrace(result, backward_calls=self.calls)
        return replace(self.watched, result=result, backward_calls=self.calls)


def _code(source: str, node: ast.AST) -> str:
    text = " ".join((ast.get_source_segment(source, node) or "").split())
    return text if len(text) <= CODE_CHARS else text[:CODE_CHARS - 1] + "…"


def _graph_nodes(graph: list, ids: dict, names: dict, made: dict) -> tuple[GraphNode, ...]:
    """The graph's nodes with the program's names, and what made each one."""
    nodes = []
    for node in graph:
        inputs = tuple(None if child is None else ids.get(child)
                       for child, _ in node.next_functions)
        variable = getattr(node, "variable", None)
        if variable is not None:                     # a leaf: AccumulateGrad
            nodes.append(GraphNode(ids[node], node_name(node), inputs,
                                   names.get(id(variable), ""), "", None,
                                   tuple(variable.shape), _first(variable)))
            continue
        code, line, shape, values = made.get(node, ("", None, (), None))
        nodes.append(GraphNode(ids[node], node_name(node), inputs, names.get(id(node), ""),
                               code, line, shape, values))
    return tuple(nodes)


def step_through(source: str, limits: Limits = DEFAULT_LIMITS,
                 abandon: Callable[[], bool] | None = None) -> ProgramTrace:
    """Run ``source`` in the cell with its first ``backward()`` recorded node by node."""
    result, watcher = interpret(source, limits, abandon, _Watcher)
    return ProgramTrace(result) if watcher is None else watcher.trace(result)
