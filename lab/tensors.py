"""The seed's first section: a tensor, its dtype, and whether it can require gradients."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lab.formula import python_number
from lab.xvalues import InputError, parse_values
from lab.i18n import Message, Typed

TENSOR_DTYPES = ("float32", "float64", "float16", "bfloat16", "complex64",
          "int64", "int32", "int16", "int8", "uint8", "bool")
INFERRED = ""          # no dtype argument: PyTorch infers it from the values as written
MAX_VALUES = 100
# Exercise 2's prediction for torch.tensor([2, 3], requires_grad=True): it works, or PyTorch
# raises an error (ids, the same in every language).
GUESSES = ("works", "error")


def can_require_grad(dtype: str) -> bool:
    """Only floating point and complex tensors can: an integer has no infinitesimal step."""
    kind = getattr(torch, dtype)
    return kind.is_floating_point or kind.is_complex


def _as_written(text: str, values: tuple[float, ...]) -> list:
    """The values as Python literals as typed: ``2, 3`` are ints, ``2., 3.`` floats."""
    items = [item.strip() for item in text.replace(";", ",").split(",")]
    whole = all(item.lstrip("+-").isdigit() for item in items)
    return [int(v) for v in values] if whole else list(values)


@dataclass
class TensorReport:
    code: str
    printed: str = ""             # print(t1)
    dtype: str = ""
    requires_grad: bool | None = None
    is_leaf: bool | None = None
    grad: str = "None"            # print(t1.grad)
    y_printed: str = ""           # print(y) after the optional backward
    error: str = ""               # PyTorch's own message, verbatim
    error_type: str = ""          # its exception's class, e.g. "RuntimeError"
    error_kind: str = ""          # "integer_grad", "no_graph", "complex_backward", "conversion"


def tensor_code(values: list, dtype: str, requires_grad: bool, backward: bool) -> str:
    exact = dtype == INFERRED or can_require_grad(dtype)
    shown = ", ".join(repr(v) if isinstance(v, int) else python_number(v, shortest=not exact)
                      for v in values)
    args = [f"[{shown}]"] + ([f"dtype=torch.{dtype}"] if dtype != INFERRED else [])
    if requires_grad:
        args.append("requires_grad=True")
    lines = ["import torch", "", f"t1 = torch.tensor({', '.join(args)})", "print(t1)",
             "print(t1.dtype, t1.requires_grad, t1.is_leaf)"]
    if backward:
        lines += ["y = (t1 ** 2).sum()", "y.backward()", "print(y)"]
    lines.append("print(t1.grad)")
    return "\n".join(lines) + "\n"


def inspect(values_text: str, dtype: str, requires_grad: bool, backward: bool = False
            ) -> TensorReport:
    """Create the tensor as the code shows and report what PyTorch says about it.

    ``dtype=INFERRED`` passes no dtype: PyTorch infers it from the values as typed
    (``2, 3`` is int64, ``2., 3.`` float32). A bad typed list raises ``InputError``;
    PyTorch's own errors are reported in ``error`` verbatim, never raised.
    """
    if dtype not in TENSOR_DTYPES + (INFERRED,):
        raise InputError(Message("x.bad_option", option="dtype", value=Typed(dtype)))
    values = _as_written(values_text, parse_values(values_text, limit=MAX_VALUES))
    report = TensorReport(code=tensor_code(values, dtype, requires_grad, backward))
    kind = {} if dtype == INFERRED else {"dtype": getattr(torch, dtype)}
    try:
        t1 = torch.tensor(values, requires_grad=requires_grad, **kind)
    except (RuntimeError, ValueError) as error:    # ValueError: an integer past 64 bits
        report.error, report.error_type = str(error), type(error).__name__
        report.error_kind = "integer_grad" if "floating point" in str(error) else "conversion"
        return report
    report.printed = repr(t1)
    report.dtype = str(t1.dtype)
    report.requires_grad = t1.requires_grad
    report.is_leaf = t1.is_leaf
    if backward:
        try:
            y = (t1 ** 2).sum()
            y.backward()
            report.y_printed = repr(y)
        except RuntimeError as error:
            report.error, report.error_type = str(error), type(error).__name__
            report.error_kind = ("no_graph" if not requires_grad else
                                 "complex_backward" if t1.is_complex() else "conversion")
    report.grad = repr(t1.grad) if t1.grad is not None else "None"
    return report
