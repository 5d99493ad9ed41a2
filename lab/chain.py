"""The seed's computational graph and its exercises, as formulas for the engine.

Every number and formula comes from the formula engine (``lab.gradients``, with the
formulas it shows from ``lab.derivation``); this module only writes the seed's
computations as formulas and checks exercise 1's typed answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lab.formula import format_number, parse_number
from lab.formula import FormulaError
from lab.gradients import GradientRun, run
from lab.xvalues import XSpec

EXERCISE_3 = "sin(x)*exp(x) + 1/(x+2)"


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


ANSWER_RTOL = 1e-3
ANSWER_ATOL = 1e-3


def check_answers(typed: list[str], result: GradientRun) -> list[AnswerCheck]:
    """Compare hand-worked partial derivatives with autograd's, within a tolerance."""
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
            checks.append(AnswerCheck(text, None, expected, None, "exercises.hint_unreadable"))
            continue
        correct = math.isfinite(value) and abs(value - expected) <= (
            ANSWER_ATOL + ANSWER_RTOL * abs(expected))
        hint = ""
        if not correct:
            if result.reduce == "mean" and math.isclose(value, expected * n, rel_tol=1e-3,
                                                        abs_tol=1e-3):
                hint = "exercises.hint_forgot_n"
            elif result.reduce == "sum" and math.isclose(value, expected / n, rel_tol=1e-3,
                                                         abs_tol=1e-6):
                hint = "exercises.hint_sum_no_n"
            else:
                hint = "exercises.hint_chain"
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
