"""Inside ``backward()``: the real autograd graph of a run, and the backward pass step by step.

``trace()`` runs a formula forward exactly as ``lab.gradients`` does, walks the graph
PyTorch recorded (``grad_fn``, ``next_functions``, ``AccumulateGrad.variable``),
hooks every node, and calls the real ``y.backward()``. The hooks record the order the
nodes run in, the gradient each receives (upstream) and the gradients it passes on.
The local derivative each node applies is written in plain maths per PyTorch node
type and evaluated from the tensors the node itself saved for backward, so that
upstream × local = passed on can be shown (and tested) element by element.

The result holds plain values only (floats and strings), so it can be cached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from lab import formula as formulas
from lab.formula import Formula, format_number
from lab.gradients import DTYPES, XSpec, check_options, code, forward, statement
from lab.i18n import Message

KEEP = 20            # elements kept per tensor (views show fewer; sizes are kept whole)
SHOWN = 5            # elements written out in the per-element LaTeX
ACCUMULATE = "AccumulateGrad"


@dataclass(frozen=True)
class NodeMaths:
    """What one PyTorch backward node computes, in plain text and in LaTeX.

    ``text``/``latex``: the forward operation; ``local_text``/``local_latex``: the
    local derivative ∂out/∂input for each input slot. Templates use ``{a}``, ``{b}``
    (the inputs), ``{c}`` (a constant input), ``{p}`` (an exponent) and ``{n}`` (a size).
    """

    text: str
    local_text: tuple[str, ...]
    latex: str
    local_latex: tuple[str, ...]


NODE_MATHS = {
    "AddBackward0": NodeMaths("{a} + {b}", ("1", "1"), "{a} + {b}", ("1", "1")),
    "SubBackward0": NodeMaths("{a} − {b}", ("1", "−1"), "{a} - {b}", ("1", "-1")),
    "RsubBackward1": NodeMaths("{c} − {a}", ("−1",), "{c} - {a}", ("-1",)),
    "MulBackward0": NodeMaths("{a}·{b}", ("{b}", "{a}"), r"{a} \cdot {b}", ("{b}", "{a}")),
    "DivBackward0": NodeMaths("{a}/{b}", ("1/{b}", "−{a}/{b}²"), r"\frac{{{a}}}{{{b}}}",
                           (r"\frac{{1}}{{{b}}}", r"-\frac{{{a}}}{{{b}^{{2}}}}")),
    "PowBackward0": NodeMaths("{a}^{p}", ("{p}·{a}^({p}−1)",), "{a}^{{{p}}}",
                           (r"{p} \cdot {a}^{{{p} - 1}}",)),
    "PowBackward1": NodeMaths("{a}^{b}", ("{b}·{a}^({b}−1)", "{a}^{b}·ln {a}"), "{a}^{{{b}}}",
                           (r"{b} \cdot {a}^{{{b} - 1}}", r"{a}^{{{b}}} \ln {a}")),
    "PowBackward2": NodeMaths("{c}^{a}", ("{c}^{a}·ln {c}",), "{c}^{{{a}}}",
                           (r"{c}^{{{a}}} \ln {c}",)),
    "NegBackward0": NodeMaths("−{a}", ("−1",), "-{a}", ("-1",)),
    "SinBackward0": NodeMaths("sin {a}", ("cos {a}",), r"\sin {a}", (r"\cos {a}",)),
    "CosBackward0": NodeMaths("cos {a}", ("−sin {a}",), r"\cos {a}", (r"-\sin {a}",)),
    "TanBackward0": NodeMaths("tan {a}", ("1 + tan² {a}",), r"\tan {a}",
                           (r"1 + \tan^{{2}} {a}",)),
    "ExpBackward0": NodeMaths("exp {a}", ("exp {a}",), "e^{{{a}}}", ("e^{{{a}}}",)),
    "LogBackward0": NodeMaths("ln {a}", ("1/{a}",), r"\ln {a}", (r"\frac{{1}}{{{a}}}",)),
    "SqrtBackward0": NodeMaths("√{a}", ("1/(2√{a})",), r"\sqrt{{{a}}}",
                            (r"\frac{{1}}{{2\sqrt{{{a}}}}}",)),
    "AbsBackward0": NodeMaths("|{a}|", ("sign {a}",), r"\left|{a}\right|",
                           (r"\operatorname{{sign}} {a}",)),
    "TanhBackward0": NodeMaths("tanh {a}", ("1 − tanh² {a}",), r"\tanh {a}",
                            (r"1 - \tanh^{{2}} {a}",)),
    "SigmoidBackward0": NodeMaths("σ({a})", ("σ({a})·(1 − σ({a}))",), r"\sigma({a})",
                               (r"\sigma({a})\,(1 - \sigma({a}))",)),
    "ReluBackward0": NodeMaths("relu({a})", ("1 if {a} > 0, else 0",),
                            r"\operatorname{{relu}}({a})", (r"[{a} > 0]",)),
    "ReciprocalBackward0": NodeMaths("1/{a}", ("−1/{a}²",), r"\frac{{1}}{{{a}}}",
                                  (r"-\frac{{1}}{{{a}^{{2}}}}",)),
    "MeanBackward0": NodeMaths("mean({a})", ("1/{n}",), r"\operatorname{{mean}}({a})",
                            (r"\frac{{1}}{{{n}}}",)),
    "SumBackward0": NodeMaths("sum({a})", ("1",), r"\operatorname{{sum}}({a})", ("1",)),
}
UNKNOWN_MATHS = NodeMaths("?", (), "?", ())
SLOTS = ("a", "b")


FORWARD_LATEX = {
    "add": "{a} + {b}", "sub": "{a} - {b}", "mul": r"{a} \cdot {b}",
    "div": r"\frac{{{a}}}{{{b}}}", "pow": "{a}^{{{b}}}", "neg": "-{a}",
    "sin": r"\sin {a}", "cos": r"\cos {a}", "tan": r"\tan {a}", "exp": "e^{{{a}}}",
    "log": r"\ln {a}", "sqrt": r"\sqrt{{{a}}}", "abs": r"\left|{a}\right|",
    "tanh": r"\tanh {a}", "sigmoid": r"\sigma({a})", "relu": r"\operatorname{{relu}}({a})",
    "mean": r"\operatorname{{mean}}({a})", "sum": r"\operatorname{{sum}}({a})",
}


def node_name(node) -> str:
    """PyTorch's name without the C++ namespace: ``AccumulateGrad``, ``MulBackward0``."""
    return node.name().rsplit("::", 1)[-1]


def tex_name(name: str) -> str:
    """``z3`` -> ``z_{3}``; other names unchanged."""
    if name.startswith("z") and name[1:].isdigit():
        return f"z_{{{name[1:]}}}"
    return name


def tex_number(value: float, digits: int = 4) -> str:
    if math.isnan(value):
        return r"\text{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = f"{value:.{digits}g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def short(values, size: int, first: int = 3) -> str:
    """Values abbreviated legibly: the first few, ``…`` and the size: ``[0.2, 0.4, …] (5)``."""
    if size == 1 and values:
        return f"{values[0]:.4g}"
    shown = ", ".join(f"{v:.4g}" for v in list(values)[:first])
    more = ", …" if size > first else ""
    return f"[{shown}{more}] ({size})"


def vector_latex(values, size: int) -> str:
    if size == 1 and values:
        return tex_number(values[0])
    shown = ", ".join(tex_number(v) for v in list(values)[:SHOWN])
    more = r", \ldots" if size > SHOWN else ""
    return rf"\left[{shown}{more}\right]"


@dataclass(frozen=True)
class Pass:
    """One gradient a node passes on, along one of its input edges."""

    slot: int                  # input position: 0 is "a", 1 is "b"
    target: str                # id of the graph node that receives it
    tensor: str                # display name of the tensor it is the gradient of
    local_text: str            # e.g. "∂(a·b)/∂a = b"
    local: tuple[float, ...]   # the local derivative, element by element (first KEEP)
    passed: tuple[float, ...]  # the gradient passed on (first KEEP)
    size: int                  # elements in the passed gradient
    summed: bool               # broadcasting: the passed gradient sums over elements
    adds_to_x: bool            # the target is x's AccumulateGrad


@dataclass(frozen=True)
class GraphNode:
    """A tensor (``x``, ``z3``, ``y``) or a backward function node (``f1``, ``f2``…)."""

    id: str
    kind: str                  # "leaf", "intermediate", "output" or "function"
    label: str                 # tensor name, or PyTorch's node name
    shape: tuple[int, ...] = ()
    size: int = 0
    values: tuple[float, ...] = ()          # forward values (tensors), first KEEP
    grad: tuple[float, ...] | None = None    # ∂y/∂tensor (tensors), first KEEP
    locals: tuple[str, ...] = ()            # function nodes: local derivative per input
    tensor: str = ""           # function nodes: the named tensor they produce ("" if none)


@dataclass(frozen=True)
class ForwardStep:
    tensor: str                # "x", "z1", …, "y"
    statement: str             # the line(s) of code that run
    latex: str                 # the operation in LaTeX, element by element
    nodes: tuple[str, ...]     # graph nodes this step adds


@dataclass(frozen=True)
class BackwardStep:
    node: str                  # id of the function node that runs
    name: str                  # PyTorch's name of it
    output: str                # display name of the tensor it differentiates
    upstream: tuple[float, ...]   # ∂y/∂output as the node receives it (first KEEP)
    upstream_size: int
    passes: tuple[Pass, ...]
    constant_slots: tuple[str, ...]    # inputs that are constants and get no gradient
    x_grad: tuple[float, ...] | None   # ∂y/∂x collected so far (None before any)
    latex: tuple[str, ...]     # the chain rule at this node with the numbers, per input


@dataclass
class BackwardTrace:
    """One real forward and backward pass, recorded node by node (plain values only)."""

    text: str
    x_spec: XSpec
    reduce: str
    dtype: str
    nodes: tuple[GraphNode, ...]
    edges: tuple[tuple[str, str, str], ...]   # (from, to, input slot), forward direction
    forward_steps: tuple[ForwardStep, ...]
    backward_steps: tuple[BackwardStep, ...]
    y: float
    x_grad: list[float]        # x.grad after the real backward(), every element
    code: str
    notes: list[Message] = field(default_factory=list)

    def node(self, node_id: str) -> GraphNode:
        return next(node for node in self.nodes if node.id == node_id)

    @property
    def function_count(self) -> int:
        return sum(node.kind == "function" for node in self.nodes)

    def steps(self, mode: str) -> tuple:
        return self.forward_steps if mode == "forward" else self.backward_steps


def _plain(tensor: torch.Tensor | None) -> tuple[float, ...]:
    if tensor is None:
        return ()
    return tuple(tensor.detach().reshape(-1)[:KEEP].tolist())


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


def _scalar(value) -> float | None:
    if isinstance(value, torch.Tensor):
        return float(value.detach()) if value.numel() == 1 else None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _saved(node, name: str):
    return getattr(node, f"_saved_{name}", None)


def _local_derivatives(node) -> list:
    """The node's local derivative for each input slot, from the tensors PyTorch saved.

    They mirror PyTorch's backward formulas; a test checks upstream × local against
    what each node really passed on.
    """
    kind = node_name(node)
    self_, other = _saved(node, "self"), _saved(node, "other")
    result, exponent = _saved(node, "result"), _saved(node, "exponent")
    alpha = _scalar(_saved(node, "alpha"))
    alpha = 1.0 if alpha is None else alpha
    simple = {
        "AddBackward0": lambda: [1.0, alpha],
        "SubBackward0": lambda: [1.0, -alpha],
        "RsubBackward1": lambda: [-alpha],
        "NegBackward0": lambda: [-1.0],
        "MulBackward0": lambda: [other, self_],
        "DivBackward0": lambda: [1 / other, None if self_ is None else -self_ / (other * other)],
        "SinBackward0": lambda: [torch.cos(self_)],
        "CosBackward0": lambda: [-torch.sin(self_)],
        "TanBackward0": lambda: [1 + result * result],
        "ExpBackward0": lambda: [result],
        "LogBackward0": lambda: [1 / self_],
        "SqrtBackward0": lambda: [1 / (2 * result)],
        "AbsBackward0": lambda: [torch.sgn(self_)],
        "TanhBackward0": lambda: [1 - result * result],
        "SigmoidBackward0": lambda: [result * (1 - result)],
        "ReluBackward0": lambda: [(result > 0).to(result.dtype)],
        "ReciprocalBackward0": lambda: [-result * result],
        "MeanBackward0": lambda: [1.0 / _scalar(_saved(node, "self_sym_numel"))],
        "SumBackward0": lambda: [1.0],
    }
    if kind in simple:
        return simple[kind]()
    if kind == "PowBackward0":
        p = _scalar(exponent)
        return [torch.zeros_like(self_) if p == 0 else p * self_ ** (p - 1)]
    if kind == "PowBackward1":
        zero = torch.zeros_like(result)
        return [torch.where(exponent == 0, zero, exponent * self_ ** (exponent - 1)),
                torch.where((self_ == 0) & (exponent >= 0), zero, result * torch.log(self_))]
    if kind == "PowBackward2":
        base = _scalar(self_)
        if base == 0:
            return [torch.where(exponent >= 0, torch.zeros_like(result), -math.inf * result)]
        return [result * (math.log(base) if base > 0 else math.nan)]
    return [None] * len(node.next_functions)


def _constants(node) -> dict[str, str]:
    """The constants a node's maths refers to: a constant input c, an exponent p, a size n."""
    kind = node_name(node)
    values = {"c": "c", "p": "p", "n": "n"}
    saved_other = _scalar(_saved(node, "other"))
    if kind == "PowBackward0":
        values["p"] = format_number(_scalar(_saved(node, "exponent")))
    elif kind == "PowBackward2":
        values["c"] = format_number(_scalar(_saved(node, "self")))
    elif kind == "MeanBackward0":
        values["n"] = format_number(_scalar(_saved(node, "self_sym_numel")))
    elif saved_other is not None and _saved(node, "self") is None:
        values["c"] = format_number(saved_other)      # a·c or a/c with a constant c
    return values


class _Recorder:
    """One live run: the graph PyTorch built, and what its hooks saw during backward()."""

    def __init__(self, formula: Formula, x_spec: XSpec, reduce: str, dtype: str):
        self.formula, self.x_spec, self.reduce, self.dtype = formula, x_spec, reduce, dtype
        self.x = x_spec.tensor(DTYPES[dtype])
        self.tensors = forward(formula, self.x, reduce)
        self.graph = _collect(self.tensors["y"].grad_fn)
        self.ids = {node: f"f{number}" for number, node in enumerate(self.graph, start=1)}
        # x's AccumulateGrad node: the one whose ``variable`` is x itself.
        self.accumulate = next((n for n in self.graph
                                if getattr(n, "variable", None) is self.x), None)
        self.tensor_of = {self.accumulate: "x"} if self.accumulate is not None else {}
        for step in formula.steps:
            self.tensor_of[self.tensors[step.name].grad_fn] = step.name
        self.tensor_of[self.tensors["y"].grad_fn] = "y"
        self.constants = {node: _constants(node) for node in self.graph}
        self.locals = {node: _local_derivatives(node) for node in self.graph}
        self.plain, self.tex = {}, {}
        for node in self.graph:
            self._name(node)
        self.upstream, self.passed, self.order = {}, {}, []

    def _slots(self, node, names: dict) -> dict[str, str]:
        symbols = dict(self.constants[node])
        for slot, (next_node, _) in zip(SLOTS, node.next_functions):
            symbols[slot] = names[next_node] if next_node is not None else symbols["c"]
        for slot in SLOTS:
            symbols.setdefault(slot, symbols["c"])
        return symbols

    def _name(self, node) -> None:
        """The display names of a node's output: its tensor's name, else its maths on its
        inputs' names, e.g. ``(1/z4)`` for the reciprocal PyTorch runs inside ``1/z4``."""
        if node in self.plain:
            return
        if node in self.tensor_of:
            self.plain[node], self.tex[node] = self.tensor_of[node], tex_name(self.tensor_of[node])
            return
        for next_node, _ in node.next_functions:
            if next_node is not None:
                self._name(next_node)
        maths = NODE_MATHS.get(node_name(node), UNKNOWN_MATHS)
        self.plain[node] = "(" + maths.text.format(**self._slots(node, self.plain)) + ")"
        self.tex[node] = r"\left(" + maths.latex.format(**self._slots(node, self.tex)) + r"\right)"

    def local_texts(self, node) -> tuple[str, ...]:
        """``∂(a·b)/∂a = b`` for each input slot that receives a gradient."""
        if node is self.accumulate:
            return ("x.grad += ∂y/∂x",)
        maths = NODE_MATHS.get(node_name(node), UNKNOWN_MATHS)
        symbols = dict(self.constants[node], a="a", b="b")
        for slot, (next_node, _) in zip(SLOTS, node.next_functions):
            if next_node is None:
                symbols[slot] = symbols["c"]
        texts = []
        for index, (next_node, _) in enumerate(node.next_functions):
            if next_node is None or index >= len(maths.local_text):
                continue
            texts.append(f"∂({maths.text.format(**symbols)})/∂{SLOTS[index]} = "
                         f"{maths.local_text[index].format(**symbols)}")
        return tuple(texts)

    def run_backward(self) -> None:
        """The real ``y.backward()``, with a pre-hook and a hook on every node."""
        def before(node):
            def hook(grad_outputs):
                self.order.append(node)
                self.upstream[node] = grad_outputs[0].detach().clone()
            return hook

        def after(node):
            def hook(grad_inputs, grad_outputs):
                self.passed[node] = [None if g is None else g.detach().clone()
                                     for g in grad_inputs]
            return hook

        handles = []
        for node in self.graph:
            handles += [node.register_prehook(before(node)), node.register_hook(after(node))]
        try:
            self.tensors["y"].backward()
        finally:
            for handle in handles:
                handle.remove()

    # -- the plain result -------------------------------------------------------------
    def graph_nodes(self) -> tuple[tuple[GraphNode, ...], tuple[tuple[str, str, str], ...]]:
        tensor_nodes = [self._tensor_node("x", self.x, self.x.grad)]
        for name in [step.name for step in self.formula.steps] + ["y"]:
            tensor = self.tensors[name]
            if self.tensor_of.get(tensor.grad_fn) == name:
                tensor_nodes.append(self._tensor_node(name, tensor,
                                                      self.upstream.get(tensor.grad_fn)))
        functions, edges = [], []
        for node in self.graph:
            node_id = self.ids[node]
            functions.append(GraphNode(node_id, "function", node_name(node),
                                       locals=self.local_texts(node),
                                       tensor=self.tensor_of.get(node, "")))
            if node in self.tensor_of:
                tensor = self.tensor_of[node]
                edges.append((node_id, tensor, "") if tensor != "x" else (node_id, "x", ""))
            for slot, (next_node, _) in zip(SLOTS, node.next_functions):
                if next_node is not None:
                    source = self.tensor_of.get(next_node, self.ids[next_node])
                    edges.append((source, node_id, slot))
        return tuple(tensor_nodes + functions), tuple(edges)

    def _tensor_node(self, name: str, tensor: torch.Tensor, grad) -> GraphNode:
        kind = "leaf" if name == "x" else ("output" if name == "y" else "intermediate")
        return GraphNode(name, kind, name, tuple(tensor.shape), tensor.numel(), _plain(tensor),
                         None if grad is None else _plain(grad))

    def forward_steps(self) -> tuple[ForwardStep, ...]:
        """x, each step of the formula, and y: the nodes each one adds to the graph."""
        formula, tensors = self.formula, self.tensors
        owner: dict = {}

        def claim(node, index: int) -> None:
            """``node`` and the unnamed nodes beneath it are created by step ``index``."""
            if node is None or node in owner:
                return
            owner[node] = index
            for next_node, _ in node.next_functions:
                if next_node not in self.tensor_of:
                    claim(next_node, index)

        if self.accumulate is not None:
            owner[self.accumulate] = 0
        x = self.x
        steps = [ForwardStep("x", self.x_spec.code(self.dtype),
                             "x = " + vector_latex(_plain(x), x.numel()), ("x",))]
        for step in formula.steps:
            claim(tensors[step.name].grad_fn, len(steps))
            name = self.tensor_of.get(tensors[step.name].grad_fn, step.name)
            line = statement(step) + (f"\ny = {step.name}" if name == "y" else "")
            latex = _forward_latex(step.name, step.op, step.args, tensors)
            steps.append(ForwardStep(name, line, ("y = " if name == "y" else "") + latex,
                                     (name,)))
        if formula.reduction is None:
            claim(tensors["y"].grad_fn, len(steps))
            source = formula.output
            latex = rf"y = \operatorname{{{self.reduce}}}({tex_name(source)}) = " + tex_number(
                float(tensors["y"].detach()))
            steps.append(ForwardStep("y", f"y = {source}.{self.reduce}()", latex, ("y",)))
        created: dict[int, list[str]] = {}
        for node in self.graph:
            created.setdefault(owner.get(node, 0), []).append(self.ids[node])
        return tuple(ForwardStep(s.tensor, s.statement, s.latex,
                                 s.nodes + tuple(created.get(index, ())))
                     for index, s in enumerate(steps))

    def backward_steps(self) -> tuple[BackwardStep, ...]:
        incoming: dict = {}
        for node in self.graph:
            for next_node, _ in node.next_functions:
                if next_node is not None:
                    incoming[next_node] = incoming.get(next_node, 0) + 1
        steps, so_far, contributions = [], None, []
        for node in self.order:
            upstream = self.upstream[node]
            if node is self.accumulate:
                latex = (_accumulate_latex(contributions, so_far),)
                steps.append(BackwardStep(self.ids[node], ACCUMULATE, "x", _plain(upstream),
                                          upstream.numel(), (), (), _plain(so_far), latex))
                continue
            passes, latex = [], []
            texts = iter(self.local_texts(node))
            maths = NODE_MATHS.get(node_name(node), UNKNOWN_MATHS)
            for index, (next_node, _) in enumerate(node.next_functions):
                if next_node is None:
                    continue
                passed = self.passed[node][index]
                local = self.locals[node][index] if index < len(self.locals[node]) else None
                one = self._pass(node, index, next_node, next(texts, "?"), upstream, local,
                                 passed)
                passes.append(one)
                if one.adds_to_x and passed is not None:
                    so_far = passed.clone() if so_far is None else so_far + passed
                    contributions.append(one.passed)
                local_latex = (maths.local_latex[index].format(**self._slots(node, self.tex))
                               if index < len(maths.local_latex) else "?")
                latex.append(_chain_rule_latex(self.tex[node], one, _plain(upstream),
                                               upstream.numel(), local_latex,
                                               self.tex[next_node], incoming[next_node] > 1))
            constant_slots = tuple(slot for slot, (next_node, _) in zip(SLOTS, node.next_functions)
                                   if next_node is None)
            steps.append(BackwardStep(self.ids[node], node_name(node), self.plain[node],
                                      _plain(upstream), upstream.numel(), tuple(passes),
                                      constant_slots, None if so_far is None else _plain(so_far),
                                      tuple(latex)))
        return tuple(steps)

    def _pass(self, node, index, next_node, text, upstream, local, passed) -> Pass:
        target = self.ids[next_node]
        adds_to_x = next_node is self.accumulate
        if passed is None:
            return Pass(index, target, self.plain[next_node], text, (), (), 0, False, adds_to_x)
        if local is None:
            local_values, summed = (), False
        else:
            local_t = torch.as_tensor(local, dtype=upstream.dtype)
            shape = torch.broadcast_shapes(upstream.shape, local_t.shape, passed.shape)
            local_values = _plain(local_t.expand(shape))
            summed = passed.numel() < math.prod(shape)
        return Pass(index, target, self.plain[next_node], text, local_values, _plain(passed),
                    passed.numel(), summed, adds_to_x)


def _factor(value: float) -> str:
    """A number inside a product or a sum: negatives in parentheses."""
    text = tex_number(value)
    return f"({text})" if text.startswith("-") else text


def _two_lines(first: str, second: str) -> str:
    return r"\begin{gathered}" + first + r" \\ " + second + r"\end{gathered}"


def _element_lines(rows: list[str], size: int) -> str:
    if size > len(rows):
        rows = rows + [r"\vdots"]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


def _chain_rule_latex(output_tex: str, one: Pass, upstream: tuple[float, ...],
                      upstream_size: int, local_latex: str, target_tex: str,
                      several: bool) -> str:
    """∂y/∂target (+)= ∂y/∂out · ∂out/∂target, then the numbers element by element."""
    assign = r"\mathrel{+}=" if several else "="
    dy_out = rf"\frac{{\partial y}}{{\partial {output_tex}}}"
    head = (rf"\frac{{\partial y}}{{\partial {target_tex}}} {assign} {dy_out} \cdot "
            rf"\frac{{\partial {output_tex}}}{{\partial {target_tex}}} = {dy_out} \cdot "
            rf"\left({local_latex}\right)")
    if not one.local or not one.passed:
        return head

    def up(i: int) -> float:
        return upstream[i] if upstream_size > 1 else upstream[0]

    if one.summed:
        count = min(SHOWN, len(one.local))
        terms = [rf"{_factor(up(i))} \times {_factor(one.local[i])}" for i in range(count)]
        more = r" + \cdots" if len(one.local) > count else ""
        return _two_lines(head, r"\textstyle\sum_i: " + " + ".join(terms) + more
                          + f" = {tex_number(one.passed[0])}")
    rows = [rf"i={i}:&\quad {_factor(up(i))} \times {_factor(one.local[i])}"
            rf" = {tex_number(one.passed[i])}" for i in range(min(SHOWN, len(one.passed)))]
    return _two_lines(head, _element_lines(rows, one.size))


def _accumulate_latex(contributions: list[tuple[float, ...]], total) -> str:
    """x.grad = the sum of what every branch passed to x, element by element."""
    head = r"\texttt{x.grad} = \frac{\partial y}{\partial x}"
    if total is None:
        return head
    values = _plain(total)
    if len(contributions) < 2:
        return head + " = " + vector_latex(values, total.numel())
    rows = []
    for i in range(min(SHOWN, len(values))):
        terms = " + ".join(_factor(c[i]) for c in contributions)
        rows.append(rf"i={i}:&\quad {terms} = {tex_number(values[i])}")
    return _two_lines(head, _element_lines(rows, total.numel()))


def _forward_latex(name: str, op: str, args: tuple, tensors: dict) -> str:
    """``z_{3} = z_{1} \\cdot z_{2}``, then element by element with the numbers."""
    template = FORWARD_LATEX[op]
    symbols = {slot: tex_name(a) if isinstance(a, str) else tex_number(a)
               for slot, a in zip(SLOTS, args)}
    head = f"{tex_name(name)} = " + template.format(**symbols)
    result = tensors[name].detach().reshape(-1)
    if op in formulas.REDUCTIONS:
        return head + f" = {tex_number(float(result[0]))}"
    rows = []
    for i in range(min(SHOWN, result.numel())):
        numbers = {}
        for slot, a in zip(SLOTS, args):
            if isinstance(a, str):
                flat = tensors[a].detach().reshape(-1)
                numbers[slot] = _factor(float(flat[i if flat.numel() > 1 else 0]))
            else:
                numbers[slot] = _factor(a)
        rows.append(rf"i={i}:&\quad {template.format(**numbers)} = "
                    rf"{tex_number(float(result[i]))}")
    return _two_lines(head, _element_lines(rows, result.numel()))


def backward_code(formula: Formula, x_spec: XSpec, reduce: str, dtype: str) -> str:
    """The run's script with every graph node hooked before ``y.backward()``."""
    hooks = (
        "# Walk the graph from y.grad_fn and hook every node: each prints, when it runs,\n"
        "# the gradient it receives (upstream) and the gradients it passes on.\n"
        "nodes, stack = [], [y.grad_fn]\n"
        "while stack:\n"
        "    node = stack.pop()\n"
        "    if node is not None and node not in nodes:\n"
        "        nodes.append(node)\n"
        "        stack.extend(reversed([next_node for next_node, _ in node.next_functions]))\n"
        "for node in nodes:\n"
        "    node.register_prehook(lambda upstream, node=node: print(node.name(), upstream))\n"
        "    node.register_hook(lambda passed, upstream: print('  passes on', passed))")
    return code(formula, x_spec, reduce, dtype, before_backward=hooks)


def trace(text: str, x_spec: XSpec, reduce: str = "mean", dtype: str = "float32"
          ) -> BackwardTrace:
    """Run ``text`` forward and backward for real, recording every node of the graph.

    Raises ``FormulaError`` or ``InputError`` with a message for the user.
    """
    check_options(reduce, dtype)
    formula = formulas.parse(text)
    x_spec.check()
    recorder = _Recorder(formula, x_spec, reduce, dtype)
    forward_steps = recorder.forward_steps()
    recorder.run_backward()
    nodes, edges = recorder.graph_nodes()
    x_grad = recorder.x.grad.reshape(-1).tolist()
    notes = [] if all(math.isfinite(v) for v in x_grad) else [Message("inside.nonfinite")]
    return BackwardTrace(
        text=text, x_spec=x_spec, reduce=formula.reduction or reduce, dtype=dtype, nodes=nodes,
        edges=edges, forward_steps=forward_steps, backward_steps=recorder.backward_steps(),
        y=float(recorder.tensors["y"].detach()), x_grad=x_grad,
        code=backward_code(formula, x_spec, reduce, dtype), notes=notes)
