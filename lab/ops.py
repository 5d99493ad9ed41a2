"""The operations of the formula language: one registry entry per operation.

An entry holds everything the lab knows about one operation, in one place:

- ``compute``: how PyTorch computes it (on tensors, or on a tensor and a float);
- ``code``: the line of PyTorch a student reads, as a template over its arguments;
- ``form``: its sympy form. Every formula and derivative the lab shows is printed from
  these forms (``lab.printing``) and the symbolic check differentiates them;
- ``nodes``: the backward nodes PyTorch records for it, each with the sympy form of what
  that node computes from its inputs. A node's local derivative is the derivative of its
  form (page 6 and ``lab.node_maths``), never a formula typed per node;
- its name in the catalogue is ``ops.<name>`` (lab/locales).

Adding an operation such as ``cosh`` is one entry below plus its catalogue texts;
``tests/test_ops.py`` walks the registry and checks every entry against autograd and sympy.

Node forms take the node's inputs in PyTorch's order (``next_functions``), then the
constants of the step it belongs to, in the order the formula wrote them (a reduction
node gets the number of elements ``n`` instead). For example ``2 / z`` runs as
``z.reciprocal() * 2``: a ``ReciprocalBackward0`` node (form ``1/a``) feeding a
``MulBackward0`` node (form ``a·b``) whose second input is the constant 2.
"""

from __future__ import annotations

import functools
import inspect
import operator
from dataclasses import dataclass, field
from typing import Callable

import sympy
import torch


# ---- sympy functions the formula language needs beyond sympy's own ----------------------------

def _with_power(tex: str, exp) -> str:
    return tex if exp is None else r"\left(%s\right)^{%s}" % (tex, exp)


class RealAbs(sympy.Function):
    """``|a|`` of a real argument, with derivative ``sgn(a)``.

    sympy's ``Abs`` cannot assume its argument is real and differentiates through
    ``re``/``im``; every formula here is real-valued.
    """

    def fdiff(self, argindex=1):
        return sympy.sign(self.args[0])

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        # Plain bars: sympy's LaTeX parser reads |a| but not \left|a\right|.
        return _with_power(r"|%s|" % printer._print(self.args[0]), exp)


class Relu(sympy.Function):
    """``relu(a) = max(0, a)``; its derivative is the step function ``θ(a)``."""

    def fdiff(self, argindex=1):
        return sympy.Heaviside(self.args[0], 0)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        return _with_power(r"\max\left(0, %s\right)" % printer._print(self.args[0]), exp)


class Sigmoid(sympy.Function):
    """``σ(a) = 1 / (1 + e^(-a))``, with its textbook derivative ``σ(a)·(1 − σ(a))``.

    Kept as a function: written out, nested sigmoids make sympy's printer call
    ``simplify`` (seconds for ``sigmoid(sigmoid(sigmoid(x)))``).
    """

    def fdiff(self, argindex=1):
        return self * (1 - self)

    def _eval_is_extended_real(self):
        return self.args[0].is_extended_real

    def _latex(self, printer, exp=None):
        # a power brackets the whole σ(…): σ^2(a) reads as σ² times (a)
        return _with_power(r"\sigma\left(%s\right)" % printer._print(self.args[0]), exp)


class Mean(sympy.Function):
    """``mean(a)`` of a tensor of ``n`` elements, as a backward node sees it: one element's
    local derivative is ``1/n`` (printed as the sum it is: lab.printing)."""

    nargs = 2

    def fdiff(self, argindex=1):
        return 1 / self.args[1] if argindex == 1 else sympy.Integer(0)


class Total(sympy.Function):
    """``sum(a)`` over a tensor of ``n`` elements, as a backward node sees it: one element's
    local derivative is 1."""

    nargs = 2

    def fdiff(self, argindex=1):
        return sympy.Integer(1 if argindex == 1 else 0)


# ---- the registry -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Operation:
    name: str                       # the formula language's name: "add", "sin", "mean"
    arity: int
    compute: Callable               # how PyTorch computes it
    code: str                       # the code a student reads: "{a} + {b}", "torch.sin({a})"
    form: Callable                  # its sympy form, from sympy arguments
    nodes: dict[str, Callable] = field(default_factory=dict)   # backward node -> its form
    symbol: str = ""                # Python operator, for binary operations
    kind: str = "function"          # "binary", "unary", "function" or "reduction"
    corner: bool = False            # its graph has a corner where its input is 0 (abs, relu)

    def node_names(self) -> tuple[str, ...]:
        return tuple(self.nodes)


def _binary(name: str, symbol: str, compute: Callable, form: Callable,
            nodes: dict[str, Callable]) -> Operation:
    return Operation(name, 2, compute, "{a} %s {b}" % symbol, form, nodes, symbol, "binary")


def _function(name: str, compute: Callable, form: Callable, corner: bool = False) -> Operation:
    """A function of one tensor, computed as ``torch.<name>`` with one backward node."""
    node = "".join(part.capitalize() for part in name.split("_")) + "Backward0"
    return Operation(name, 1, compute, f"torch.{name}({{a}})", form, {node: form},
                     corner=corner)


def _reduction(name: str, compute: Callable, node: str, node_form: Callable) -> Operation:
    return Operation(name, 1, compute, f"{{a}}.{name}()", node_form, {node: node_form},
                     kind="reduction")


_ENTRIES = (
    _binary("add", "+", operator.add, operator.add,
            {"AddBackward0": operator.add}),
    _binary("sub", "-", operator.sub, operator.sub,
            {"SubBackward0": operator.sub,
             "RsubBackward1": lambda a, c: c - a}),            # c - z
    _binary("mul", "*", operator.mul, operator.mul,
            {"MulBackward0": operator.mul}),
    _binary("div", "/", operator.truediv, operator.truediv,
            {"DivBackward0": operator.truediv,
             # c / z runs as z.reciprocal() * c: two nodes
             "ReciprocalBackward0": lambda a: 1 / a, "MulBackward0": operator.mul}),
    _binary("pow", "**", operator.pow, operator.pow,
            {"PowBackward0": operator.pow,                     # z ** p
             "PowBackward1": operator.pow,                     # z ** w
             "PowBackward2": lambda a, c: c ** a}),            # c ** z
    Operation("neg", 1, operator.neg, "-{a}", operator.neg, {"NegBackward0": operator.neg},
              "-", "unary"),
    _function("sin", torch.sin, sympy.sin),
    _function("cos", torch.cos, sympy.cos),
    _function("tan", torch.tan, sympy.tan),
    _function("exp", torch.exp, sympy.exp),
    _function("log", torch.log, sympy.log),
    _function("sqrt", torch.sqrt, lambda a: sympy.sqrt(a)),
    _function("abs", torch.abs, RealAbs, corner=True),
    _function("tanh", torch.tanh, sympy.tanh),
    _function("sigmoid", torch.sigmoid, Sigmoid),
    _function("relu", torch.relu, Relu, corner=True),
    _reduction("mean", torch.mean, "MeanBackward0", Mean),
    _reduction("sum", torch.sum, "SumBackward0", Total),
)

OPERATIONS: dict[str, Operation] = {entry.name: entry for entry in _ENTRIES}
BINARY = tuple(name for name, op in OPERATIONS.items() if op.kind == "binary")
FUNCTIONS = tuple(name for name, op in OPERATIONS.items() if op.kind == "function")
REDUCTIONS = tuple(name for name, op in OPERATIONS.items() if op.kind == "reduction")
CALLABLE = FUNCTIONS + REDUCTIONS       # what a formula may call by name: sin(x), mean(x)


def function_list() -> str:
    """The formula language's functions, as the help texts and messages list them."""
    return ", ".join(CALLABLE)


# Each backward node PyTorch records for these operations, and the form of what it computes.
NODE_FORMS: dict[str, Callable] = {node: form for op in _ENTRIES
                                   for node, form in op.nodes.items()}


def apply(name: str, args):
    """Run one operation on tensors (or floats beside a tensor), as PyTorch does."""
    op = OPERATIONS[name]
    if op.kind == "reduction":
        return getattr(args[0], name)()
    return op.compute(*args)


def evaluate_constant(name: str, *args: float) -> float:
    """An operation on numbers alone, in float64 torch semantics (inf/nan, no exception)."""
    tensors = [torch.tensor(a, dtype=torch.float64) for a in args]
    return float(apply(name, tensors))


@functools.lru_cache(maxsize=None)       # inspect.signature costs ~1.5 ms a call
def _arity(form: Callable) -> int:
    nargs = getattr(form, "nargs", None)          # a sympy function class
    if isinstance(nargs, sympy.FiniteSet):
        return int(min(nargs))
    return len(inspect.signature(form).parameters)


def node_form(node: str, inputs: list, constants: list):
    """What backward node ``node`` computes, as sympy.

    ``inputs`` are its inputs in PyTorch's order (``next_functions``), each a sympy object
    or None where PyTorch sees a constant; ``constants`` are the constants of the formula
    step it belongs to, in the order the formula wrote them (``[n]`` for a reduction). They
    fill the constant inputs first, then the form's remaining parameters (an exponent,
    the ``c`` of ``c - z``, the ``n`` of a mean).
    """
    form = NODE_FORMS[node]
    pending = iter(constants)
    args = [next(pending) if a is None else a for a in inputs]
    args += [next(pending) for _ in range(_arity(form) - len(args))]
    return form(*args)
