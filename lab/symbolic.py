"""The symbolic derivative of a ``Formula``, built from the same steps as the torch run.

sympy objects are built directly from the parse tree (never ``sympify``), and the
derivative is evaluated by walking the sympy tree into float64 torch operations,
so no generated code is ever executed.

Time is bounded by construction, not by a clock:
- sympy computes exact powers of numbers (``Integer(3)**10**12`` would never end), and
  numbers can meet once ``x`` cancels out (``2**(0*x + 1e12)``). Any step whose sympy
  arguments are all numbers is therefore computed in float64 by torch instead.
- ``simplify`` can take seconds on a 4-operation formula, so it is never called: the
  derivative is shown as ``diff`` gives it, the chain rule written out.
- With an inner mean/sum, each element needs its own symbol and the tree can grow as
  n**depth; its size is estimated from the steps first, and big ones are skipped.
- Even so, sympy's assumption queries can call ``simplify`` behind the scenes (its LaTeX
  printer does, on nested negative exponents), so all sympy work runs under a time
  budget (``time_limit``): past it, the symbolic check is skipped with a note and the
  run goes on.
"""

from __future__ import annotations

import ctypes
import math
import threading
import time
from contextlib import contextmanager
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

import sympy
import torch
from sympy.core.parameters import distribute

from lab.formula import Formula, parse
from lab.i18n import Message
from lab.ops import OPERATIONS, REDUCTIONS, evaluate_constant
from lab.evaluate import evaluate, to_float
from lab.printing import latex as print_latex

# One element of x, as the pages write it: x = (x_0, …, x_{n−1}), like x[0] and the tables.
X = sympy.Symbol("x_{i}", real=True)
PER_ELEMENT_UP_TO = 8     # formulas with an inner mean/sum need one symbol per element
PER_ELEMENT_SIZE = 3000   # estimated nodes of y beyond which that expansion is skipped
BUDGET_SECONDS = 0.5      # sympy time per formula; beyond it the check is skipped


class SymbolicTimeout(BaseException):
    """Raised inside sympy when the budget is spent.

    A BaseException, so that no ``except Exception`` inside sympy can swallow it.
    """


def _raise_in(thread_id: int, exception) -> None:
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), exception)


@contextmanager
def time_limit(seconds: float):
    """Stop pure-Python work (sympy) in this thread after ``seconds``.

    A timer thread raises ``SymbolicTimeout`` in this thread when the time is up
    (CPython's ``PyThreadState_SetAsyncExc``: the exception arrives at the next
    bytecode, so nothing is slowed down before that). sympy is pure Python; the only
    long C calls it could make, exact powers of big numbers, are never given to it.
    Whatever happens, the exception never escapes this block unannounced: if the timer
    fired, the block ends with ``SymbolicTimeout``.
    """
    target = threading.get_ident()
    lock = threading.Lock()
    state = {"active": True, "fired": False}

    def fire():
        with lock:
            if state["active"]:
                state["fired"] = True
                _raise_in(target, ctypes.py_object(SymbolicTimeout))

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["active"] = False
        timer.cancel()
        if state["fired"]:
            _raise_in(target, None)      # drop it if it is still pending...
            raise SymbolicTimeout        # ...and report it here instead


class Symbolic(NamedTuple):
    """The symbolic side of a run (float64 values per element, or None when skipped)."""

    values: torch.Tensor | None
    note: Message | None        # why something was skipped


_TIMED_OUT: dict = {}


def constant(value: float):
    """A float as the nicest exact sympy number that equals it (pi/2, 1/3, 2), else a Float."""
    if not math.isfinite(value):
        return sympy.nan if math.isnan(value) else (sympy.oo if value > 0 else -sympy.oo)
    if value.is_integer() and abs(value) <= 2 ** 53:
        return sympy.Integer(int(value))
    for symbol, number in ((sympy.pi, math.pi), (sympy.E, math.e)):
        ratio = Fraction(value / number).limit_denominator(12)
        if ratio and abs(ratio.numerator) <= 100 and (
                ratio.numerator * number / ratio.denominator == value
                or float(ratio) * number == value):
            return sympy.Rational(ratio.numerator, ratio.denominator) * symbol
    ratio = Fraction(value).limit_denominator(1000)
    if abs(ratio.numerator) <= 10 ** 6 and ratio.numerator / ratio.denominator == value:
        return sympy.Rational(ratio.numerator, ratio.denominator)
    return sympy.Float(value)


def _apply(op: str, args: list):
    """One step in sympy, from its registry form; all-number arguments are computed by
    torch (see module doc)."""
    if all(getattr(a, "is_number", False) for a in args):
        return constant(evaluate_constant(op, *[to_float(a) for a in args]))
    return OPERATIONS[op].form(*args)


def expression(formula: Formula, xs=None, reductions_as_functions: bool = False):
    """f as sympy: one expression in ``X`` (elementwise), or a list with one per element.

    ``reductions_as_functions`` keeps an inner mean/sum as a named function (for showing
    the formula, not for differentiating it).
    """
    env = {"x": X if xs is None else list(xs)}

    def arg(a):
        return env[a] if isinstance(a, str) else constant(a)

    for step in formula.body_steps():
        args = [arg(a) for a in step.args]
        if step.op in REDUCTIONS:
            if reductions_as_functions:
                env[step.name] = sympy.Function(step.op)(args[0])
                continue
            items = args[0] if isinstance(args[0], list) else [args[0]]
            total = sympy.Add(*items)
            env[step.name] = total / len(items) if step.op == "mean" else total
            continue
        lists = [a for a in args if isinstance(a, list)]
        if lists:
            env[step.name] = [_apply(step.op, [a[i] if isinstance(a, list) else a
                                               for a in args]) for i in range(len(lists[0]))]
        else:
            env[step.name] = _apply(step.op, args)
    return env[formula.body]


def expanded_size(formula: Formula, n: int) -> int:
    """Nodes of y once every inner mean/sum is written out over ``n`` symbols (an estimate)."""
    size = {"x": 1}
    for step in formula.steps:
        inner = sum(size[a] if isinstance(a, str) else 1 for a in step.args)
        size[step.name] = (n * inner if step.op in REDUCTIONS else inner) + 1
    return n * size[formula.output]


def _has_nonfinite_constant(formula: Formula) -> bool:
    return any(isinstance(a, float) and not math.isfinite(a)
               for step in formula.steps for a in step.args)


def chain_shaped(work):
    """``work()`` with sympy's distribution of numbers over sums turned off, so that the
    chain rule keeps its shape (``2 (x_i + 1)``, not ``2 x_i + 2``).

    In that mode sympy recurses without end on some arguments (``sin(-x - 1)`` asks
    whether ``-(-x - 1)`` can lose its minus sign, which asks again): there ``work()``
    runs again as sympy writes things by default.
    """
    try:
        with distribute(False):
            return work()
    except RecursionError:
        sympy.core.cache.clear_cache()          # drop what the endless recursion cached
        return work()


@lru_cache(maxsize=256)
def derivative_of_text(text: str):
    """f′(x_i) of an elementwise formula as sympy, cached by text: the one object the pages
    print (lab.derivation) and evaluate (``gradient``), in the chain rule's shape."""
    return chain_shaped(lambda: sympy.diff(expression(parse(text)), X))


def gradient(formula: Formula, x: torch.Tensor, reduce: str) -> Symbolic:
    """∂y/∂x_i from sympy in float64, the LaTeX shown for it, within the time budget."""
    warm_up()
    key = (formula.text, formula.elementwise or x.numel())
    try:
        with budget(key):
            return _gradient(formula, x, reduce)
    except SymbolicTimeout:
        return Symbolic(None, Message("checks.symbolic_timeout", seconds=f"{BUDGET_SECONDS:g}"))


_shared = threading.local()      # .left: seconds left of this thread's shared budget


@contextmanager
def shared_budget(seconds: float | None = None):
    """Every ``budget`` inside shares ``seconds`` of sympy work in all: one run's symbolic
    check, its formulas and its f″ together, so that one input cannot buy three budgets
    (the costliest playground formula took 1.5 s of sympy with one budget each)."""
    _shared.left = BUDGET_SECONDS if seconds is None else seconds
    try:
        yield
    finally:
        _shared.left = None


@contextmanager
def budget(key):
    """Sympy work for ``key`` within BUDGET_SECONDS (or what is left of a ``shared_budget``);
    a key that ran out of a whole budget once is refused at once afterwards
    (``SymbolicTimeout``)."""
    if key in _TIMED_OUT:
        raise SymbolicTimeout
    left = getattr(_shared, "left", None)
    seconds = BUDGET_SECONDS if left is None else min(BUDGET_SECONDS, left)
    if seconds <= 0:
        raise SymbolicTimeout
    started = time.monotonic()
    try:
        with time_limit(seconds):
            yield
    except SymbolicTimeout:
        if seconds == BUDGET_SECONDS:
            if len(_TIMED_OUT) > 1000:
                _TIMED_OUT.clear()
            _TIMED_OUT[key] = True
        sympy.core.cache.clear_cache()   # drop objects whose assumptions were cut short
        raise
    finally:
        if left is not None:
            _shared.left = left - (time.monotonic() - started)


def _gradient(formula: Formula, x: torch.Tensor, reduce: str) -> Symbolic:
    x64 = x.detach().to(torch.float64)
    n = x64.numel()
    mean = (formula.reduction or reduce) == "mean"
    if _has_nonfinite_constant(formula):
        return Symbolic(None, Message("checks.symbolic_nonfinite"))
    if formula.elementwise:
        values = evaluate(derivative_of_text(formula.text), {X: x64}, x64)
        return Symbolic(values * (1.0 / n if mean else 1.0), None)
    if n > PER_ELEMENT_UP_TO:
        return Symbolic(None, Message("checks.symbolic_too_many", limit=PER_ELEMENT_UP_TO))
    if expanded_size(formula, n) > PER_ELEMENT_SIZE:
        return Symbolic(None, Message("checks.symbolic_too_big", limit=PER_ELEMENT_SIZE))
    grads = per_element_derivatives(formula.text, n, mean)
    symbols = element_symbols(n)
    env = {s: x64[i] for i, s in enumerate(symbols)}
    one = torch.ones((), dtype=torch.float64)
    return Symbolic(torch.stack([evaluate(g, env, one).reshape(()) for g in grads]), None)


def element_symbols(n: int) -> tuple:
    """x_0, …, x_{n−1}: one symbol per element, for formulas that mix elements."""
    return sympy.symbols(f"x_0:{n}", real=True)


@lru_cache(maxsize=64)
def per_element_derivatives(text: str, n: int, mean: bool) -> tuple:
    """∂y/∂x_k for k < n of a formula with an inner mean/sum, written out element by element."""
    symbols = element_symbols(n)
    f = expression(parse(text), symbols)
    items = f if isinstance(f, list) else [f]
    y = sympy.Add(*items)
    if mean and isinstance(f, list):
        y = y / n
    return chain_shaped(lambda: tuple(sympy.diff(y, s) for s in symbols))


_warmed = False


def warm_up() -> None:
    """sympy imports parts of itself on first use; do it once, outside any time budget."""
    global _warmed
    if _warmed:
        return
    _warmed = True
    warm = parse("relu(x)*abs(x)/sigmoid(x) + exp(-x)**0.5 + tan(x)**2")
    derivative = sympy.diff(expression(warm), X)
    print_latex(derivative)
    print_latex(expression(parse("mean(x) * x"), reductions_as_functions=True))
    print_latex(sympy.Sum(X, (sympy.Symbol("i"), 0, sympy.Symbol("n") - 1)))
    ones = torch.ones(2, dtype=torch.float64)
    evaluate(derivative, {X: ones}, ones)
    # f″ (lab.second) differentiates again: DiracDelta and sign's derivative, first used here
    again = sympy.diff(derivative, X).replace(sympy.DiracDelta, lambda *args: sympy.Integer(0))
    print_latex(again)
    evaluate(again, {X: ones}, ones)

