"""x as a run receives it: ``torch.arange(start, stop, step)`` or typed values, checked.

Sizes are bounded here (``MAX_ELEMENTS``); a list or a range that cannot be run raises
``InputError`` with the message a student reads.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from lab import formula as formulas
from lab.formula import FormulaError, format_number, python_number
from lab.i18n import Message, Typed, UserError

MAX_ELEMENTS = 10_000
# How a page lets a student make x: torch.arange(start, stop, step) or typed values.
X_MODES = ("torch.arange", "torch.tensor")
DEFAULT_VALUES = "1, 2, 3, 4, 5"
VALUES_MAX_CHARS = 60_000
# What typed values may take of a link: with the formula box at its worst (its 300
# characters at 9 each, 2,700) and the other controls, the address stays under the lab's
# LINK_MAX (lab.ui.links; a test adds them up). A longer list stays out of the link.
VALUES_LINK_MAX = 4_000


@dataclass(frozen=True)
class XSpec:
    """How x is created: ``torch.arange(start, stop, step)`` or ``torch.tensor(values)``."""

    values: tuple[float, ...] | None = None
    start: float = 0.0
    stop: float = 3.0
    step: float = 1.0

    @classmethod
    def arange(cls, start: float, stop: float, step: float = 1.0) -> "XSpec":
        return cls(None, float(start), float(stop), float(step))

    @classmethod
    def of(cls, values) -> "XSpec":
        return cls(tuple(float(v) for v in values))

    def check(self) -> None:
        if self.values is not None:
            if not self.values:
                raise InputError(Message("x.empty"))
            if len(self.values) > MAX_ELEMENTS:
                raise InputError(Message("x.too_many", limit=MAX_ELEMENTS, count=len(self.values)))
            if not all(math.isfinite(v) for v in self.values):
                raise InputError(Message("x.not_finite"))
            return
        if not all(math.isfinite(v) for v in (self.start, self.stop, self.step)):
            raise InputError(Message("x.not_finite"))
        if self.step == 0:
            raise InputError(Message("x.zero_step"))
        span = (self.stop - self.start) / self.step
        count = math.ceil(span) if math.isfinite(span) else MAX_ELEMENTS + 1
        if count <= 0:
            raise InputError(Message("x.empty_range", start=format_number(self.start),
                                     stop=format_number(self.stop),
                                     step=format_number(self.step)))
        if count > MAX_ELEMENTS:
            raise InputError(Message("x.too_many", limit=MAX_ELEMENTS, count=count))

    def tensor(self, dtype: torch.dtype, requires_grad: bool = True) -> torch.Tensor:
        self.check()
        if self.values is not None:
            return torch.tensor(self.values, dtype=dtype, requires_grad=requires_grad)
        return torch.arange(self.start, self.stop, self.step, dtype=dtype,
                            requires_grad=requires_grad)

    def code(self, dtype: str) -> str:
        if self.values is not None:
            shown = ", ".join(python_number(v, shortest=False) for v in self.values)
            return f"x = torch.tensor([{shown}], dtype=torch.{dtype}, requires_grad=True)"
        parts = [python_number(self.start), python_number(self.stop)]
        if self.step != 1:
            parts.append(python_number(self.step))
        if parts[0] == "0" and len(parts) == 2:
            parts = parts[1:]
        return f"x = torch.arange({', '.join(parts)}, dtype=torch.{dtype}, requires_grad=True)"


class InputError(UserError):
    """Input that cannot be run (empty x, too many elements...), with its message."""


def parse_values(text: str, limit: int = MAX_ELEMENTS) -> tuple[float, ...]:
    """A typed list such as ``1, 2.5, -3, 2/3``: each item a number formula without x."""
    if not isinstance(text, str) or not text.strip():
        raise InputError(Message("x.empty"))
    items = [item for item in text.replace(";", ",").split(",")]
    if len(items) > limit:
        raise InputError(Message("x.too_many", limit=limit, count=len(items)))
    values = []
    for position, item in enumerate(items, start=1):
        try:
            values.append(_plain_number(item))
        except ValueError:
            try:
                values.append(formulas.parse_number(item))
            except FormulaError:
                raise InputError(Message("x.bad_item", position=position,
                                         item=Typed(item.strip()))) from None
    return tuple(values)


def _plain_number(item: str) -> float:
    """A plain decimal such as ``-2.5e3`` without the formula parser (10,000 items stay fast)."""
    text = item.strip()
    if not text or not all(c in "0123456789.eE+-" for c in text):
        raise ValueError(item)
    return float(text)
