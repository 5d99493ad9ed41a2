"""The seed's computational graph and its exercises, as formulas for the engine.

Every number and formula comes from the formula engine (``lab.gradients``, with the
formulas it shows from ``lab.derivation``); this module only writes the seed's
computations as formulas and checks exercise 1's typed answers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from lab.formula import format_number, parse_number
from lab.formula import FormulaError
from lab.gradients import GradientRun, run
from lab.xvalues import XSpec

EXERCISE_3 = "sin(x)*exp(x) + 1/(x+2)"


@dataclass(frozen=True)
class Slider:
    """One of the chain's inputs, as its slider offers it."""

    name: str
    low: float
    high: float
    default: float
    step: float
    kind: type = float


# The seed's chain z = x + a; z = z ** p; z = z + c on x = torch.arange(n) (the backward, torchviz
# and inside-backward pages).
SLIDERS = (Slider("n", 1, 20, 3, 1, int), Slider("a", -5.0, 5.0, 1.0, 0.5),
           Slider("p", -3.0, 4.0, 2.0, 0.5), Slider("c", -5.0, 5.0, 2.0, 0.5))
DEFAULTS = {slider.name: slider.default for slider in SLIDERS}


def _signed(value: float) -> str:
    return f"+ {format_number(value)}" if value >= 0 else f"- {format_number(-value)}"


def chain_formula(a: float, p: float, c: float) -> str:
    """The seed's ``z = x + a; z = z ** p; z = z + c`` as one formula."""
    return f"(x {_signed(a)})**{format_number(p)} {_signed(c)}"


def chain_input(n: int, a: float, p: float, c: float) -> tuple[str, XSpec]:
    """The formula and ``x = torch.arange(n)`` of the seed's chain."""
    return chain_formula(a, p, c), XSpec.arange(0, n)


def run_chain(n: int, a: float, p: float, c: float, reduce: str, dtype: str = "float32",
              plot: bool = False) -> GradientRun:
    """``x = torch.arange(n)`` through the seed's chain, forward and backward."""
    return run(*chain_input(n, a, p, c), reduce, dtype, plot=plot)


def exercise_3_input(low: int, high: int) -> tuple[str, XSpec]:
    """Exercise 3's formula on ``x = low..high`` (step 1, both ends included)."""
    return EXERCISE_3, XSpec.arange(low, high + 1)


def run_exercise_3(low: int, high: int, dtype: str = "float32") -> GradientRun:
    return run(*exercise_3_input(low, high), "mean", dtype)


@dataclass
class AnswerCheck:
    typed: str
    value: float | None       # the typed answer as a number (None: unreadable)
    expected: float           # autograd's x.grad[i]
    correct: bool | None      # None when the box is empty or unreadable
    hint: str = ""            # catalogue key of the hint for a wrong answer


# A typed decimal is right when it is autograd's value rounded to the digits typed, with at
# least SIGNIFICANT_DIGITS of them (or exact); a fraction or an expression must match to
# float32's precision.
SIGNIFICANT_DIGITS = 3
EXACT_RTOL, EXACT_ATOL = 1e-5, 1e-6
NEAR = 0.02            # within 2 %: a rounding matter, not a wrong derivative
_DECIMAL = re.compile(r"^\s*[+-]?(?P<whole>\d*)(?:\.(?P<part>\d*))?(?:[eE](?P<exp>[+-]?\d+))?\s*$")


def decimals_typed(text: str) -> tuple[int, int] | None:
    """(decimal places, significant digits) of a plain decimal as typed (``1.33`` -> (2, 3),
    ``2.5e-1`` -> (2, 2)); None for a fraction or any other expression."""
    match = _DECIMAL.match(text)
    if not match or not (match.group("whole") or match.group("part")):
        return None
    whole, part = match.group("whole") or "", match.group("part") or ""
    places = len(part) - int(match.group("exp") or 0)
    significant = len((whole + part).lstrip("0")) or 1
    return places, significant


def _judge(text: str, value: float, expected: float) -> tuple[bool, bool]:
    """(right, a rounding matter): right to the digits typed, or close but rounded too much
    or wrongly."""
    if not math.isfinite(value):
        return False, False
    if abs(value - expected) <= EXACT_ATOL + EXACT_RTOL * abs(expected):
        return True, False
    typed = decimals_typed(text)
    near = abs(value - expected) <= NEAR * abs(expected)
    if typed is None:
        return False, near
    places, significant = typed
    rounds_to_it = abs(value - expected) <= 0.5 * 10.0 ** -places * (1 + 1e-9) + EXACT_ATOL
    if rounds_to_it and significant >= SIGNIFICANT_DIGITS:
        return True, False
    return False, rounds_to_it or near


def check_answers(typed: list[str], result: GradientRun) -> list[AnswerCheck]:
    """Hand-worked partial derivatives against autograd's: a decimal is right when it is
    autograd's value rounded to the digits typed (``0.667`` and ``1.33`` for 2/3 and 4/3),
    a fraction when it is exact; a near miss gets "round less", not a chain-rule hint."""
    checks = []
    n = result.n
    for i, text in enumerate(typed):
        expected = result.grad[i]
        if not text.strip():
            checks.append(AnswerCheck(text, None, expected, None))
            continue
        try:
            value = parse_number(text)
        except FormulaError:
            checks.append(AnswerCheck(text, None, expected, None, "backward.hint_unreadable"))
            continue
        correct, rounding = _judge(text, value, expected)
        hint = ""
        if not correct:
            if rounding:
                hint = "backward.hint_round_less"
            elif result.reduce == "mean" and math.isclose(value, expected * n, rel_tol=1e-3,
                                                          abs_tol=1e-3):
                hint = "backward.hint_forgot_n"
            elif result.reduce == "sum" and math.isclose(value, expected / n, rel_tol=1e-3,
                                                         abs_tol=1e-6):
                hint = "backward.hint_sum_no_n"
            else:
                hint = "backward.hint_chain"
        checks.append(AnswerCheck(text, value, expected, correct, hint))
    return checks


@dataclass
class GuessCheck:
    typed: str
    expected: float           # PyTorch's y
    correct: bool | None      # None: nothing typed, or not a number
    readable: bool = True     # False: something typed that is not a number


def check_guess(typed: str, expected: float) -> GuessCheck:
    """Exercise 3: the y a student worked out, against PyTorch's (to 3 significant digits)."""
    if not typed.strip():
        return GuessCheck(typed, expected, None)
    try:
        value = parse_number(typed)
    except FormulaError:
        return GuessCheck(typed, expected, None, readable=False)
    return GuessCheck(typed, expected, math.isfinite(value) and math.isclose(value, expected,
                                                                    rel_tol=5e-3, abs_tol=5e-3))
