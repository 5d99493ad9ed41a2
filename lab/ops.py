"""The operations of the formula language: one registry entry per operation.

An entry holds everything the lab knows about one operation, in one place:

- ``compute``: how PyTorch computes it (on tensors, or on a tensor and a float);
- ``code``: the line of PyTorch a student reads, as a template over its arguments;
- ``form``: its sympy form. Every formula and derivative the lab shows is printed from
  these forms (``lab.printing``) and the symbolic check differentiates them;
- ``nodes``: the backward nodes PyTorch records for it, each with the sympy form of what
  that node computes from its inputs. A node's local derivative is the derivative of its
  form (inside backward() and ``lab.node_maths``), never a formula typed per node;
- its name in the catalogue is ``ops.<name>`` (lab/locales).

An entry also says how it is written (``latex``, ``unicode``: ``lab.printing`` reads them),
where a finite difference must not straddle it (``breaks``: ``lab.numeric``), which note
explains its inf or nan (``nonfinite``) and whether it has a corner (``corner``:
``lab.corners``); ``notation`` gives the printers and ``lab.evaluate`` each sympy function's
name and torch function. Adding an operation such as ``cosh`` is one entry below plus its
name in the catalogue (``ops.cosh``): no other module names an operation.
``tests/test_ops.py`` walks the registry and checks every entry against autograd and sympy,
and adds one through the registry alone.

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

def _no_breaks(args) -> tuple:
    return ()


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
    latex: str = ""                 # LaTeX name of its sympy function: r"\sin" ("": none)
    unicode: str = ""               # how a graph label writes it: "ln(%s)" ("": "name(%s)")
    # Where it breaks: (argument index, value) pairs at which a finite difference straddling
    # the value is not to be trusted (a corner, a pole, a domain's edge), from its arguments
    # (a step's names and constants).
    breaks: Callable[[tuple], tuple[tuple[int, float], ...]] = _no_breaks
    nonfinite: str = "other"        # the note when it makes inf or nan: nonfinite.<this>

    def node_names(self) -> tuple[str, ...]:
        return tuple(self.nodes)


def _binary(name: str, symbol: str, compute: Callable, form: Callable,
            nodes: dict[str, Callable], **more) -> Operation:
    return Operation(name, 2, compute, "{a} %s {b}" % symbol, form, nodes, symbol, "binary",
                     **more)


def _function(name: str, compute: Callable, form: Callable, node: str = "",
              code: str = "", **more) -> Operation:
    """A function of one tensor, computed as ``torch.<name>`` (or ``code``) with one
    backward node (``<Name>Backward0`` unless given)."""
    node = node or "".join(part.capitalize() for part in name.split("_")) + "Backward0"
    return Operation(name, 1, compute, code or f"torch.{name}({{a}})", form, {node: form},
                     **more)


def _reduction(name: str, compute: Callable, node: str, node_form: Callable) -> Operation:
    return Operation(name, 1, compute, f"{{a}}.{name}()", node_form, {node: node_form},
                     kind="reduction")


def _at(value: float) -> Callable:
    """Breaks where its (only) input is ``value``."""
    return lambda args: ((0, value),)


def _power_breaks(args) -> tuple:
    """``z ** p`` breaks at z = 0 unless p is a whole number ≥ 0 (a negative power: a pole;
    a fractional one: the edge of its domain); ``c ** z`` never does."""
    exponent = args[1]
    if isinstance(exponent, float) and exponent >= 0 and exponent.is_integer():
        return ()
    return ((0, 0.0),)


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
             "ReciprocalBackward0": lambda a: 1 / a, "MulBackward0": operator.mul},
            breaks=lambda args: ((1, 0.0),), nonfinite="div"),
    _binary("pow", "**", operator.pow, operator.pow,
            {"PowBackward0": operator.pow,                     # z ** p
             "PowBackward1": operator.pow,                     # z ** w
             "PowBackward2": lambda a, c: c ** a},             # c ** z
            breaks=_power_breaks, nonfinite="pow"),
    Operation("neg", 1, operator.neg, "-{a}", operator.neg, {"NegBackward0": operator.neg},
              "-", "unary"),
    _function("sin", torch.sin, sympy.sin, latex=r"\sin"),
    _function("cos", torch.cos, sympy.cos, latex=r"\cos"),
    _function("tan", torch.tan, sympy.tan, latex=r"\tan", nonfinite="tan"),
    _function("exp", torch.exp, sympy.exp, nonfinite="overflow"),
    _function("log", torch.log, sympy.log, latex=r"\ln", unicode="ln(%s)", breaks=_at(0.0),
              nonfinite="log"),
    _function("sqrt", torch.sqrt, lambda a: sympy.sqrt(a), breaks=_at(0.0), nonfinite="sqrt"),
    _function("abs", torch.abs, RealAbs, corner=True, unicode="|%s|", breaks=_at(0.0)),
    _function("tanh", torch.tanh, sympy.tanh, latex=r"\tanh"),
    _function("sigmoid", torch.sigmoid, Sigmoid, unicode="σ(%s)"),
    _function("relu", torch.relu, Relu, corner=True, unicode="max(0, %s)", breaks=_at(0.0)),
    _function("cosh", torch.cosh, sympy.cosh, latex=r"\cosh", nonfinite="overflow"),
    _function("sinh", torch.sinh, sympy.sinh, latex=r"\sinh", nonfinite="overflow"),
    _function("atan", torch.atan, sympy.atan, latex=r"\arctan", unicode="arctan(%s)"),
    # ln(1 + a), computed without losing a small a's digits
    _function("log1p", torch.log1p, lambda a: sympy.log(1 + a), node="Log1PBackward0",
              breaks=_at(-1.0), nonfinite="log1p"),
    # ln(1 + eᵃ), a smooth relu
    _function("softplus", torch.nn.functional.softplus,
              lambda a: sympy.log(1 + sympy.exp(a)),
              code="torch.nn.functional.softplus({a})"),
    _reduction("mean", torch.mean, "MeanBackward0", Mean),
    _reduction("sum", torch.sum, "SumBackward0", Total),
)

OPERATIONS: dict[str, Operation] = {entry.name: entry for entry in _ENTRIES}
BINARY = tuple(name for name, op in OPERATIONS.items() if op.kind == "binary")
FUNCTIONS = tuple(name for name, op in OPERATIONS.items() if op.kind == "function")
REDUCTIONS = tuple(name for name, op in OPERATIONS.items() if op.kind == "reduction")


def function_names() -> tuple[str, ...]:
    """What a formula may call by name (sin, mean…), read from the registry when asked: an
    entry added later is there too."""
    return tuple(name for name, op in OPERATIONS.items() if op.kind in ("function", "reduction"))


def function_list() -> str:
    """The formula language's functions, as the help texts and messages list them."""
    return ", ".join(function_names())


# Each backward node PyTorch records for these operations, and the form of what it computes.
NODE_FORMS: dict[str, Callable] = {node: form for op in _ENTRIES
                                   for node, form in op.nodes.items()}

# ---- the sympy functions the forms are made of, and how the lab writes and computes them --

# Functions that are no operation of the language but that sympy brings in: sgn(a) and the
# step θ(a) in derivatives (of |a| and relu), |a| when it simplifies √(a²): sympy's class
# name -> (LaTeX name, Unicode shape, torch function).
_FROM_SYMPY = {"sign": (r"\operatorname{sgn}", "sgn(%s)", torch.sign),
               "Heaviside": (r"\theta", "θ(%s)", None),
               "Abs": ("", "|%s|", torch.abs)}


@dataclass(frozen=True)
class Notation:
    """A sympy function of one argument as the lab writes and computes it."""

    latex: str                       # r"\sin", or "" (sympy's own printing)
    unicode: str                     # "sin(%s)"
    torch: Callable | None           # its float64 torch function (lab.evaluate)


@functools.lru_cache(maxsize=8)
def _notations(key: tuple) -> dict[str, Notation]:
    found = {name: Notation(tex, shape, fn) for name, (tex, shape, fn) in _FROM_SYMPY.items()}
    probe = sympy.Dummy(real=True)
    for op in OPERATIONS.values():
        if op.kind != "function":
            continue
        applied = op.form(probe)
        if isinstance(applied, sympy.Function) and applied.args == (probe,):
            name = type(applied).__name__
            found[name] = Notation(op.latex, op.unicode or f"{op.name}(%s)", op.compute)
    return found


def notation(sympy_name: str) -> Notation | None:
    """How the lab writes and computes the sympy function ``sympy_name`` (``sin``,
    ``RealAbs``, ``sign``), from the registry; None for anything else."""
    return _notations(tuple(OPERATIONS)).get(sympy_name)


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
