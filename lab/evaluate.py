"""Evaluate a sympy expression with float64 torch operations: no code is generated or run.

The symbolic check, the formulas read back in tests and the local derivatives shown inside
backward() all turn sympy's answer into numbers through ``evaluate``.
"""

from __future__ import annotations

import functools
import math
import operator

import sympy
import torch

from lab.ops import notation

# Functions of any number of arguments, folded pairwise.
_FOLDED = {"Add": operator.add, "Mul": operator.mul, "Max": torch.maximum,
           "Min": torch.minimum}
_COMPARE = {"StrictGreaterThan": torch.gt, "GreaterThan": torch.ge, "StrictLessThan": torch.lt,
            "LessThan": torch.le, "Equality": torch.eq, "Unequality": torch.ne}


def to_float(value) -> float:
    """A sympy number as a float: ±inf past float's range, nan for anything complex."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf
    except (TypeError, ValueError):
        return math.nan


def evaluate(expr, values: dict, like: torch.Tensor) -> torch.Tensor:
    """``expr`` with ``values`` (symbol -> tensor) put in, shaped like ``like``.

    Shared subtrees (the chain rule repeats inner functions) are computed once.
    """
    return _Evaluator(values, like)(expr)


class _Evaluator:
    def __init__(self, values: dict, like: torch.Tensor):
        self.memo = dict(values)
        self.like = like

    def __call__(self, e) -> torch.Tensor:
        if e not in self.memo:
            self.memo[e] = self._node(e)
        return self.memo[e]

    def filled(self, value: float) -> torch.Tensor:
        return torch.full_like(self.like, value)

    def _node(self, e) -> torch.Tensor:
        name = type(e).__name__
        if e.is_number:          # any constant: 2, pi/2, log(3), or I (complex: nan, as torch)
            return self.filled(to_float(e))
        if name in _FOLDED:
            return functools.reduce(_FOLDED[name], (self(a) for a in e.args))
        if e.is_Pow:
            base, exponent = e.args
            return self(base) ** (to_float(exponent) if exponent.is_Number else self(exponent))
        known = notation(name)             # sin, RealAbs, sign…: the registry's torch function
        if known is not None and known.torch is not None:
            return known.torch(self(e.args[0]))
        if isinstance(e, sympy.Heaviside):
            return self._step(e)
        if isinstance(e, sympy.Piecewise):
            return self._pieces(e)
        raise ValueError(f"cannot evaluate {name}")

    def _step(self, e) -> torch.Tensor:
        """θ(a): 0 below 0, 1 above, its second argument at 0 (½ if none), nan for nan."""
        a = self(e.args[0])
        at_zero = to_float(e.args[1]) if len(e.args) > 1 else 0.5
        step = torch.where(a > 0, 1.0, torch.where(a < 0, 0.0, at_zero)).to(self.like.dtype)
        return torch.where(torch.isnan(a), a, step)

    def _pieces(self, e) -> torch.Tensor:
        out = self.filled(math.nan)
        done = torch.zeros_like(self.like, dtype=torch.bool)
        for value, condition in e.args:
            mask = self._condition(condition) & ~done
            out = torch.where(mask, self(value), out)
            done = done | mask
        return out

    def _condition(self, c) -> torch.Tensor:
        name = type(c).__name__
        if c is sympy.true or c is sympy.false:
            return torch.full_like(self.like, c is sympy.true, dtype=torch.bool)
        if name in _COMPARE:
            return _COMPARE[name](self(c.args[0]), self(c.args[1]))
        if isinstance(c, (sympy.And, sympy.Or)):
            combine = operator.and_ if isinstance(c, sympy.And) else operator.or_
            return functools.reduce(combine, (self._condition(a) for a in c.args))
        if isinstance(c, sympy.Not):
            return ~self._condition(c.args[0])
        if isinstance(c, sympy.ITE):
            test, yes, no = (self._condition(a) for a in c.args)
            return torch.where(test, yes, no)
        raise ValueError(f"cannot evaluate condition {c}")
