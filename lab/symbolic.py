"""The symbolic derivative of a ``Formula``, built from the same steps as the torch run.

sympy objects are built directly from the parse tree (never ``sympify``), and the
derivative is evaluated by walking the sympy tree into float64 torch operations,
so no generated code is ever executed.
"""

from __future__ import annotations

from functools import lru_cache

import sympy
import torch

from lab.formula import Formula, format_number, parse

X = sympy.Symbol("x", real=True)
SIMPLIFY_UP_TO = 8        # sympy's simplify is slow on big trees; show diff() as is beyond
PER_ELEMENT_UP_TO = 8     # formulas with an inner mean/sum need one symbol per element


def _function(name: str, a):
    if name == "sigmoid":
        return 1 / (1 + sympy.exp(-a))
    if name == "relu":
        return sympy.Piecewise((a, a > 0), (0, True))
    if name == "abs":
        return sympy.Abs(a)
    return getattr(sympy, name)(a)


def _const(value: float):
    if value.is_integer():
        return sympy.Integer(int(value))
    return sympy.Float(value)


def expression(formula: Formula, xs=None):
    """f as sympy: one expression in ``X`` (elementwise), or a list with one per element."""
    env = {"x": X if xs is None else list(xs)}

    def arg(a):
        return env[a] if isinstance(a, str) else _const(a)

    def each(fn, *args):
        lists = [a for a in args if isinstance(a, list)]
        if not lists:
            return fn(*args)
        length = len(lists[0])
        return [fn(*[a[i] if isinstance(a, list) else a for a in args]) for i in range(length)]

    for step in formula.body_steps():
        args = [arg(a) for a in step.args]
        if step.op in ("mean", "sum"):
            items = args[0] if isinstance(args[0], list) else [args[0]]
            total = sympy.Add(*items)
            env[step.name] = total / len(items) if step.op == "mean" else total
        elif step.op == "neg":
            env[step.name] = each(lambda a: -a, *args)
        elif step.op in ("add", "sub", "mul", "div", "pow"):
            binary = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b,
                      "mul": lambda a, b: a * b, "div": lambda a, b: a / b,
                      "pow": lambda a, b: a ** b}[step.op]
            env[step.name] = each(binary, *args)
        else:
            env[step.name] = each(lambda a, op=step.op: _function(op, a), *args)
    return env[formula.body]


@lru_cache(maxsize=256)
def derivative_of_text(text: str) -> tuple[object, str]:
    """(d f / d x as sympy, its LaTeX) for an elementwise formula, cached by text."""
    formula = parse(text)
    derivative = sympy.diff(expression(formula), X)
    if formula.operations <= SIMPLIFY_UP_TO:
        derivative = sympy.simplify(derivative)
    return derivative, sympy.latex(derivative)


@lru_cache(maxsize=256)
def latex_of_text(text: str) -> str:
    return sympy.latex(expression(parse(text)))


def evaluate(expr, values: dict, like: torch.Tensor) -> torch.Tensor:
    """Evaluate a sympy expression with float64 torch ops (no code generation)."""
    def ev(e):
        if e in values:
            return values[e]
        if e.is_Number or e in (sympy.pi, sympy.E):
            return torch.full_like(like, float(e))
        if e.is_Add:
            out = ev(e.args[0])
            for a in e.args[1:]:
                out = out + ev(a)
            return out
        if e.is_Mul:
            out = ev(e.args[0])
            for a in e.args[1:]:
                out = out * ev(a)
            return out
        if e.is_Pow:
            base, exponent = e.args
            if exponent.is_Number:
                return ev(base) ** float(exponent)
            return ev(base) ** ev(exponent)
        if isinstance(e, sympy.Piecewise):
            out = torch.full_like(like, float("nan"))
            done = torch.zeros_like(like, dtype=torch.bool)
            for value, condition in e.args:
                mask = ev_condition(condition) & ~done
                out = torch.where(mask, ev(value), out)
                done = done | mask
            return out
        if isinstance(e, sympy.Abs):
            return torch.abs(ev(e.args[0]))
        if isinstance(e, sympy.sign):
            return torch.sign(ev(e.args[0]))
        if isinstance(e, sympy.Heaviside):
            a = ev(e.args[0])
            return torch.where(a > 0, 1.0, torch.where(a < 0, 0.0, 0.5)).to(like.dtype)
        name = type(e).__name__
        if name in ("sin", "cos", "tan", "exp", "log", "tanh", "cosh", "sinh"):
            return getattr(torch, name)(ev(e.args[0]))
        if name == "sec":
            return 1 / torch.cos(ev(e.args[0]))
        raise ValueError(f"cannot evaluate {name}")

    def ev_condition(c):
        if c is sympy.true:
            return torch.ones_like(like, dtype=torch.bool)
        if c is sympy.false:
            return torch.zeros_like(like, dtype=torch.bool)
        ops = {sympy.StrictGreaterThan: torch.gt, sympy.GreaterThan: torch.ge,
               sympy.StrictLessThan: torch.lt, sympy.LessThan: torch.le}
        for kind, fn in ops.items():
            if isinstance(c, kind):
                return fn(ev(c.args[0]), ev(c.args[1]))
        if isinstance(c, sympy.And):
            out = ev_condition(c.args[0])
            for a in c.args[1:]:
                out = out & ev_condition(a)
            return out
        raise ValueError(f"cannot evaluate condition {c}")

    return ev(expr)


def gradient(formula: Formula, x: torch.Tensor, reduce: str):
    """∂y/∂x_i from sympy in float64, and the LaTeX shown for it.

    Returns (values or None, latex or "", reason-key or None).
    """
    x64 = x.detach().to(torch.float64)
    n = x64.numel()
    if formula.elementwise:
        derivative, latex = derivative_of_text(formula.text)
        values = evaluate(derivative, {X: x64}, x64)
        scale = 1.0 / n if (formula.reduction or reduce) == "mean" else 1.0
        return values * scale, latex, None
    if n > PER_ELEMENT_UP_TO:
        return None, "", "checks.symbolic_too_many"
    symbols = sympy.symbols(f"x_0:{n}", real=True)
    f = expression(formula, symbols)
    items = f if isinstance(f, list) else [f]
    y = sympy.Add(*items)
    if (formula.reduction or reduce) == "mean" and isinstance(f, list):
        y = y / n
    grads = [sympy.diff(y, s) for s in symbols]
    env = {s: x64[i] for i, s in enumerate(symbols)}
    one = torch.ones((), dtype=torch.float64)
    values = torch.stack([evaluate(g, env, one).reshape(()) for g in grads])
    latex = r"\frac{\partial y}{\partial x_0} = " + sympy.latex(grads[0])
    return values, latex, None


def number_latex(value: float) -> str:
    return format_number(value)
