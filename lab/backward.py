"""Inside ``backward()``: one real run, presented step by step (plain values only).

``trace()`` is the whole story in four calls: parse the formula, record a real forward
and backward pass (``lab.recording``), work out each node's maths from the operation
registry (``lab.node_maths``), and present both passes as steps, LaTeX rows with the
numbers and graph nodes. The ``BackwardTrace`` it returns holds floats and strings only,
so the page can cache it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

import torch

from lab import formula as formulas
from lab import node_maths as maths_of
from lab import recording
from lab.annotated import (KEEP, SHOWN, FunctionNode, TensorNode, graph_parts, number, plain,
                           shown, vector_text)
from lab.formula import format_number
from lab.gradients import DTYPES, check_options, code, statement
from lab.xvalues import XSpec
from lab.i18n import Message, comment, localized
from lab.node_maths import NodeMaths
from lab.printing import element, latex, partial, summed_over_elements, tensor_of
from lab.recording import ACCUMULATE, Record


HOOKS_NOTE = comment("inside_backward.code_hooks")     # the code's comment on retain_grad
TERMS = 4                                 # contributions to x.grad written out per element
# What the inside-backward page can look inside: the seed's chain, exercise 3, a formula
# the student types, or a program they write (lab.cell.stepping): ids, the same in every
# language; and the two passes it walks.
COMPUTATIONS = ("chain", "ex3", "formula", "program")
MODES = ("backward", "forward")
DEFAULT_FORMULA = "x**2 * sigmoid(x) - 1/x"
DEFAULT_VALUES = "1, 2, 3"


# ---- numbers in LaTeX ---------------------------------------------------------------------

def tex_number(value: float) -> str:
    if math.isnan(value):
        return r"\text{nan}"
    if math.isinf(value):
        return r"\infty" if value > 0 else r"-\infty"
    text = number(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        return rf"{mantissa} \times 10^{{{int(exponent)}}}"
    return text


def tex_factor(value: float) -> str:
    """A number inside a product or a sum: negatives in brackets."""
    text = tex_number(value)
    return rf"\left({text}\right)" if text.startswith("-") else text


def _at(tensor, i: int) -> float:
    flat = tensor.reshape(-1)
    return float(flat[i if flat.numel() > 1 else 0])


# ---- the result ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Pass:
    """One gradient a node passes on, along one input edge."""

    tensor: str                      # what it is the gradient of: "z₁", "1/z₄"
    local_latex: str                 # ∂out/∂input = its local derivative
    rule_latex: str                  # the chain rule, then the numbers element by element
    local: tuple[float, ...]         # the local derivative's values (first KEEP)
    passed: tuple[float, ...]        # what the node passed on (first KEEP)
    summed: bool                     # broadcasting: the passed gradient sums over elements
    adds_to_x: bool                  # the target is x's AccumulateGrad
    departures: tuple[int, ...]      # elements where PyTorch takes a convention (0⁰…)


@dataclass(frozen=True)
class ForwardStep:
    tensor: str                      # "x", "z1"…, "y"
    statement: str                   # the line(s) of code that run
    latex: tuple[str, ...]           # the operation, then its numbers element by element
    nodes: tuple[str, ...]           # graph nodes this step adds
    notes: tuple[Message, ...] = ()


@dataclass(frozen=True)
class BackwardStep:
    node: str                        # id of the function node that runs
    name: str                        # PyTorch's name of it
    output: str                      # what it differentiates: "z₂", "y", "1/z₄", "x"
    form_latex: str                  # what it computed in the forward pass
    incoming_latex: str              # ∂y/∂output, the gradient it receives (∂y/∂y = 1 first)
    upstream: tuple[float, ...]      # the incoming gradient ∂y/∂output (first KEEP)
    upstream_size: int
    passes: tuple[Pass, ...]
    constants: tuple[str, ...]       # constant inputs: no gradient goes to them
    x_grad: tuple[float, ...] | None  # ∂y/∂x collected so far (None before any)
    latex: tuple[str, ...] = ()      # AccumulateGrad: x.grad as the sum of the contributions
    notes: tuple[Message, ...] = ()


@dataclass
class BackwardTrace:
    """One real forward and backward pass, node by node (plain values only)."""

    tensors: tuple[TensorNode, ...]
    functions: tuple[FunctionNode, ...]
    edges: tuple[tuple[str, str], ...]   # (from, to) in the direction of the forward pass
    forward_steps: tuple[ForwardStep, ...]
    backward_steps: tuple[BackwardStep, ...]
    x_grad: list[float]              # x.grad after the real backward(), every element
    code: str
    notes: list[Message] = field(default_factory=list)

    def code_for(self, lang: str) -> str:
        """The script, its comment on the hooks in the page's language."""
        return localized(self.code, lang)

    def tensor(self, name: str) -> TensorNode:
        return next(node for node in self.tensors if node.name == name)

    def steps(self, mode: str) -> tuple:
        return self.forward_steps if mode == "forward" else self.backward_steps


# ---- the run ------------------------------------------------------------------------------

def trace(text: str, x_spec: XSpec, reduce: str = "mean", dtype: str = "float32"
          ) -> BackwardTrace:
    """Run ``text`` forward and backward for real and present every node of the graph.

    Raises ``FormulaError`` or ``InputError`` with a message for the user.
    """
    check_options(reduce, dtype)
    formula = formulas.parse(text)
    x = x_spec.tensor(DTYPES[dtype])                           # checks x first
    record = recording.record(formula, x, reduce)              # hooks and the real backward()
    maths = maths_of.node_maths(record)                        # forms and local derivatives
    tensors, functions, edges = graph_parts(record, maths)     # the graph, in plain values
    x_grad = record.x_grad.reshape(-1).tolist()
    return BackwardTrace(
        tensors=tensors, functions=functions, edges=edges,
        forward_steps=_forward_steps(record, maths, x_spec, dtype),
        backward_steps=_backward_steps(record, maths),
        x_grad=x_grad, code=backward_code(formula, x_spec, reduce, dtype),
        notes=[] if all(math.isfinite(v) for v in x_grad) else [Message("inside_backward.nonfinite")])


def backward_code(formula, x_spec: XSpec, reduce: str, dtype: str) -> str:
    """The run's script, printing what every step of the backward pass hands on: each
    intermediate tensor keeps its gradient (``retain_grad``), so after ``y.backward()``
    ``z.grad`` is ∂y/∂z, the gradient its backward node received."""
    names = [step.name for step in formula.steps if step.name != formula.output
             or formula.reduction is None]
    lines = [HOOKS_NOTE] + [f"{name}.retain_grad()" for name in names]
    after = [f'print("{name}.grad =", {name}.grad)' for name in reversed(names)]
    return code(formula, x_spec, reduce, dtype, before_backward="\n".join(lines),
                after_backward="\n".join(after))


# ---- the forward pass -----------------------------------------------------------------------

def _step_notes(record: Record, index: int) -> tuple[Message, ...]:
    """``c / z`` records two nodes: PyTorch computes it as ``z.reciprocal() * c``."""
    if index == 0:
        return ()
    _, op, args = record.steps[index - 1]
    if op == "div" and not isinstance(args[0], str):
        return (Message("inside_backward.reciprocal_times", c=format_number(args[0]), z=args[1]),)
    return ()


def _statement(record: Record, index: int) -> str:
    formula = record.formula
    if index > len(formula.steps):
        return f"y = {formula.output}.{record.reduce}()"
    step = formula.steps[index - 1]
    return statement(step) + (f"\ny = {step.name}" if index == len(record.steps) else "")


def _numbers_in(expr, record: Record, count: int) -> list[str]:
    """``expr`` printed with element i of each tensor in place of its symbol, for the
    first ``count`` elements (printed once, with a mark per symbol, then filled in)."""
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    marks = {s: f"⟨{k}⟩" for k, s in enumerate(symbols)}
    template = latex(expr, symbol_names=marks, mul_symbol="dot")
    rows = []
    for i in range(count):
        row = template
        for s in symbols:
            row = row.replace(marks[s], tex_factor(_at(record.values[tensor_of(s)], i)))
        rows.append(row)
    return rows


def _forward_latex(record: Record, name: str, form, reduction: bool) -> tuple[str, ...]:
    """The step's operation from its node's form, then each element with its numbers."""
    value = record.values[name]
    if form is None:
        return (f"{latex(element(name, scalar=True))} = "            # the whole tensor
                + vector_latex(plain(value), value.numel()),)
    head = f"{latex(maths_of.symbol_of(record, name))} = {latex(form)}"
    if reduction:
        return (head + f" = {tex_number(float(value))}",)
    shown = _numbers_in(form, record, min(SHOWN, value.numel()))
    rows = [rf"i = {i}:&\quad {row} = {tex_number(_at(value, i))}" for i, row in enumerate(shown)]
    return head, _aligned(rows, value.numel())


def _forward_steps(record: Record, maths: dict[str, NodeMaths], x_spec: XSpec,
                   dtype: str) -> tuple[ForwardStep, ...]:
    steps = []
    for index, (name, op, _) in enumerate([("x", "", ())] + list(record.steps)):
        created = tuple(node.id for node in record.nodes if node.step == index)
        form = maths[record.producers[name]].form if index else None
        line = x_spec.code(dtype) if index == 0 else _statement(record, index)
        reduction = op in formulas.REDUCTIONS
        steps.append(ForwardStep(name, line, _forward_latex(record, name, form, reduction),
                                 (name,) + created, _step_notes(record, index)))
    return tuple(steps)


def vector_latex(values, size: int) -> str:
    shown = [tex_number(v) for v in list(values)[:SHOWN]] + ([r"\ldots"] if size > SHOWN else [])
    return r"\left(" + r",\ ".join(shown) + r"\right)"


def _aligned(rows: list[str], size: int) -> str:
    if size > len(rows):
        rows = rows + [r"&\quad \vdots"]
    return r"\begin{aligned}" + r" \\ ".join(rows) + r"\end{aligned}"


# ---- the backward pass ----------------------------------------------------------------------

def _in_product(expr) -> str:
    text = latex(expr)
    return rf"\left({text}\right)" if expr.is_Add or text.startswith("-") else text


def _departures(upstream, local, passed, summed: bool) -> tuple[int, ...]:
    """Elements where PyTorch passed on something else than incoming × local: points where
    the formula has no value (0⁰, 0 · ln 0) and PyTorch's backward takes a convention."""
    expected = upstream * local
    expected = (expected.sum() if summed else expected).reshape(passed.shape)
    agree = torch.isclose(expected.to(passed.dtype), passed, rtol=1e-4, atol=1e-6,
                          equal_nan=True)
    return tuple(torch.nonzero(~agree.reshape(-1)).reshape(-1)[:KEEP].tolist())


def _rows(record: Record, local_expr, upstream, local, passed, summed: bool,
          departures: tuple[int, ...]) -> str:
    """Element by element: incoming × local = passed on (a sum when broadcasting); a row
    where PyTorch departs from the formula is marked (∗)."""
    size = local.numel()
    rows = []
    for i in range(min(SHOWN, size)):
        at = "".join(rf",\ {latex(s)} = {tex_number(_at(record.values[tensor_of(s)], i))}"
                     for s in sorted(local_expr.free_symbols, key=lambda s: s.name))
        product = _at(upstream, i) * _at(local, i)
        result = product if summed else _at(passed, i)
        mark = r" \quad (\ast)" if not summed and i in departures else ""
        rows.append(rf"i = {i}{at}:&\quad {tex_factor(_at(upstream, i))} \cdot "
                    rf"{tex_factor(_at(local, i))} = {tex_number(result)}{mark}")
    if summed:
        rows = rows + ([r"&\quad \vdots"] if size > SHOWN else [])
        mark = r" \quad (\ast)" if departures else ""
        rows.append(rf"{summed_over_elements()}:&\quad "
                    rf"{tex_number(float(passed.reshape(-1)[0]))}{mark}")
        return _aligned(rows, 0)
    return _aligned(rows, size)


def _pass(record: Record, node, maths: NodeMaths, slot: int, local, first: bool,
          shared: bool) -> Pass:
    source, local_expr = maths.inputs[slot], maths.locals[slot]
    upstream, passed = record.upstream[node.id], record.passed[node.id][slot]
    adds_to_x = record.node(node.inputs[slot]).name == ACCUMULATE
    local_latex = (partial(maths.output, source) + " = "
                   + ("?" if local_expr is None else latex(local_expr)))
    if local_expr is None or local is None or passed is None:
        return Pass(shown(source), local_latex, "", (), plain(passed), False, adds_to_x, ())
    incoming = "1" if first else partial(maths_of.symbol("y"), maths.output)
    assign = r"\mathrel{+}=" if shared else "="
    rule = (rf"{partial(maths_of.symbol('y'), source)} {assign} {incoming} \cdot "
            + _in_product(local_expr))
    summed = passed.numel() < local.numel()
    departures = _departures(upstream, local, passed, summed)
    rows = _rows(record, local_expr, upstream, local, passed, summed, departures)
    return Pass(shown(source), local_latex,
                r"\begin{gathered}" + rule + r" \\ " + rows + r"\end{gathered}",
                plain(local), plain(passed), summed, adds_to_x, departures)


def _accumulate_latex(contributions: list, total) -> tuple[str, ...]:
    """x.grad = the sum of what every branch passed to x, element by element."""
    head = rf"\texttt{{x.grad}} = {partial(maths_of.symbol('y'), maths_of.symbol('x'))}"
    if total is None:
        return (head,)
    def terms(i: int) -> str:
        shown = [tex_factor(_at(c, i)) for c in contributions]
        if len(shown) > TERMS:                  # a long sum would not fit the page's width
            shown = shown[:TERMS - 1] + [r"\cdots"] + shown[-1:]
        return " + ".join(shown)

    rows = [rf"i = {i}:&\quad {terms(i)}"
            + ("" if len(contributions) < 2 else f" = {tex_number(_at(total, i))}")
            for i in range(min(SHOWN, total.numel()))]
    return head, _aligned(rows, total.numel())


def _backward_steps(record: Record, maths: dict[str, NodeMaths]) -> tuple[BackwardStep, ...]:
    fed = Counter(source for source, _, _ in record.edges)     # gradients each node gets
    steps, so_far, contributions, y = [], None, [], maths_of.symbol("y")
    for index, node_id in enumerate(record.order):
        node, node_maths = record.node(node_id), maths[node_id]
        upstream = record.upstream[node_id]
        if node.name == ACCUMULATE:           # it receives the sum autograd buffered for x
            steps.append(BackwardStep(node_id, node.name, "x", "", partial(y, node_maths.output),
                                      plain(upstream), upstream.numel(), (), (), plain(upstream),
                                      _accumulate_latex(contributions, upstream)))
            continue
        locals_ = maths_of.local_values(record, node_id, node_maths)
        passes = []
        for slot, source in enumerate(node.inputs):
            if source is None:
                continue
            one = _pass(record, node, node_maths, slot, locals_[slot], index == 0,
                        fed[source] > 1)
            passes.append(one)
            passed = record.passed[node_id][slot]
            if one.adds_to_x and passed is not None:
                so_far = passed.clone() if so_far is None else so_far + passed
                contributions.append(passed)
        form = node_maths.form
        form_latex = "" if form is None else (
            f"{latex(node_maths.output)} = {latex(form)}" if node.tensor else latex(form))
        incoming = f"{partial(y, y)} = 1" if index == 0 else partial(y, node_maths.output)
        steps.append(BackwardStep(
            node_id, node.name, shown(node_maths.output), form_latex, incoming, plain(upstream),
            upstream.numel(), tuple(passes), tuple(_as_typed(c) for c in node_maths.constants),
            None if so_far is None else plain(so_far), (), _step_notes(record, node.step)))
    return tuple(steps)


def _as_typed(constant) -> str:
    """A constant as the formula wrote it (3.3, not the exact 33/10 the maths uses)."""
    return format_number(float(constant.doit()))


# ---- the order table ------------------------------------------------------------------------

def order_rows(trace: BackwardTrace, mode: str, index: int) -> list[tuple[str, ...]]:
    """The steps up to ``index`` (the current one marked): what the order table shows."""
    rows = []
    for i, step in enumerate(trace.steps(mode)[:index + 1]):
        mark = f"▶ {i + 1}" if i == index else str(i + 1)
        if mode == "forward":
            tensor = trace.tensor(step.tensor)
            rows.append((mark, tensor.label, step.statement.replace("\n", "; "),
                         vector_text(tensor.values, tensor.size)))
        else:
            to = ", ".join(p.tensor for p in step.passes) or "x.grad"
            rows.append((mark, step.name, step.output,
                         vector_text(step.upstream, step.upstream_size), to))
    return rows
