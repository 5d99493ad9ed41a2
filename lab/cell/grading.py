"""The tutorial's exercise 3, checked: a student's run of the cell against the lab's own.

"Implement y = mean(sin(xᵢ)·exp(xᵢ) + 1/(xᵢ+2)), create a tensor with the numbers from 1
to 5, evaluate the function and compute the gradient." The reference is the lab's own
program for that formula (``lab.gradients.code`` of ``lab.chain.EXERCISE_3`` on
``torch.arange(1, 6)``), run through the same cell; the student's y, x.grad and the
backward nodes of y's graph are compared with it, and the first thing wrong gets its own
message.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections import Counter
from dataclasses import dataclass

from lab import glosses, ops
from lab.cell.interpreter import run_program
from lab.cell.result import CellResult, TensorSummary
from lab.i18n import Message

EXPECTED_X = (1.0, 2.0, 3.0, 4.0, 5.0)
REFERENCE_DTYPE = "float32"
FLOAT64 = "torch.float64"


@dataclass(frozen=True)
class Numbers:
    """One run's x, y, x.grad and y's backward nodes (None where the run has none)."""

    x: tuple[float, ...] | None
    y: tuple[float, ...] | None
    grad: tuple[float, ...] | None
    nodes: tuple[str, ...]
    dtype: str | None

    @classmethod
    def of(cls, result: CellResult) -> Numbers:
        x, y = result.tensor("x"), result.tensor("y")
        return cls(x.values if x else None, y.values if y else None, x.grad if x else None,
                   y.nodes if y else (), x.dtype if x else None)


@dataclass(frozen=True)
class Grade:
    """Right or not, what to tell the student (catalogue messages, most important first),
    and both runs' numbers so that a page can show them side by side."""

    correct: bool
    messages: tuple[Message, ...]
    student: Numbers
    reference: Numbers


def reference_program() -> str:
    """The lab's own program for exercise 3 (what its pages show)."""
    from lab import chain, formula, gradients

    text, x_spec = chain.exercise_3_input(1, 5)
    return gradients.code(formula.parse(text), x_spec, "mean", REFERENCE_DTYPE)


@functools.lru_cache(maxsize=1)
def reference() -> CellResult:
    return run_program(reference_program())


def _close(values, expected, scale: float = 1.0) -> bool:
    from lab.gradients import TOLERANCES

    rtol, atol = TOLERANCES[REFERENCE_DTYPE]
    return (values is not None and len(values) == len(expected)
            and all(math.isclose(v, scale * e, rel_tol=rtol, abs_tol=atol)
                    for v, e in zip(values, expected)))


def _shown(values: tuple[float, ...]) -> str:
    from lab.formula import format_number

    return ", ".join(format_number(v) for v in values[:8]) + (", …" if len(values) > 8 else "")


def _arange_slip(values: tuple[float, ...]) -> bool:
    """x = torch.arange(5), arange(1, 5), arange(6): consecutive whole numbers from 0 or 1
    to 4 or 5, the usual slips with arange's start and its excluded stop."""
    whole = all(float(v).is_integer() for v in values)
    return (whole and len(values) >= 2 and values[0] in (0, 1) and values[-1] in (4, 5)
            and all(b - a == 1 for a, b in itertools.pairwise(values)))


def _code_of(node: str) -> str:
    """The registry code of the operation that records ``node`` (``torch.sin(…)``)."""
    for operation in ops.OPERATIONS.values():
        if node in operation.nodes:
            return operation.code.format(a="…", b="…")
    return node


def _graph_messages(student: tuple[str, ...], expected: tuple[str, ...]) -> list[Message]:
    """Which backward nodes the student's graph lacks or has in excess."""
    mine, theirs = Counter(student), Counter(expected)
    missing = [Message("cell.grade_missing_node", node=node, code=_code_of(node))
               for node in theirs if node not in mine]
    extra = [Message("cell.grade_extra_node", node=node, code=_code_of(node))
             for node in mine if node not in theirs]
    return missing + extra


def _error_message(result: CellResult) -> Message:
    known = glosses.recognise(result.error.text) if result.error.kind == "pytorch" else None
    key = known[0] if known else None
    return Message({"pytorch.integer_grad": "cell.grade_integer",
                    "pytorch.no_grad_fn": "cell.grade_no_requires_grad",
                    "pytorch.not_scalar": "cell.grade_not_scalar"}.get(key, "cell.grade_error"))


def _x_message(x: TensorSummary) -> Message | None:
    if not x.dtype.startswith(("torch.float", "torch.bfloat", "torch.complex")):
        return Message("cell.grade_integer")
    if x.shape == (5,) and _close(x.values, EXPECTED_X):
        return None
    if _arange_slip(x.values):
        return Message("cell.grade_arange", values=_shown(x.values))
    return Message("cell.grade_x_values", values=_shown(x.values))


def check_exercise_3(result: CellResult) -> Grade:
    """Grade a student's run of exercise 3 against the reference run."""
    expected = Numbers.of(reference())
    student = Numbers.of(result)

    def grade(*messages: Message, correct: bool = False) -> Grade:
        return Grade(correct, messages, student, expected)

    if result.error is not None:
        return grade(_error_message(result))
    x, y = result.tensor("x"), result.tensor("y")
    if x is None:
        return grade(Message("cell.grade_no_x"))
    problem = _x_message(x)
    if problem is not None:
        return grade(problem)
    if y is None:
        return grade(Message("cell.grade_no_y"))
    if not x.requires_grad:
        return grade(Message("cell.grade_no_requires_grad"))
    if y.numel != 1:
        return grade(Message("cell.grade_not_scalar"))
    if x.grad is None:
        return grade(Message("cell.grade_no_backward"))
    if _close(y.values, expected.y) and _close(x.grad, expected.grad):
        note = (Message("cell.grade_float64"),) if x.dtype == FLOAT64 else ()
        return grade(Message("cell.grade_right"), *note, correct=True)
    if ("SumBackward0" in y.nodes and "MeanBackward0" not in y.nodes
            and _close(y.values, expected.y, scale=len(EXPECTED_X))):
        return grade(Message("cell.grade_sum"))
    return grade(*_graph_messages(y.nodes, expected.nodes), Message("cell.grade_wrong_values"))
