"""Run a formula through real PyTorch autograd and check it three ways.

``run()`` takes plain inputs and returns a ``GradientRun`` holding only plain
values (floats, strings), so it can be cached and rendered by every view:
tables, plots, graphs and the code that reproduces the numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from lab import derivation, symbolic
from lab.corners import corners
from lab.drawing import Drawing, draw_torchviz
from lab import formula as formulas
from lab.derivation import Shown
from lab.formula import Formula, forward, python_number
from lab.i18n import Message, Typed
from lab.numeric import NUMERIC_LOOP_UP_TO, numeric_check
from lab.ops import OPERATIONS, REDUCTIONS
from lab.xvalues import InputError, XSpec
from lab.second import Second, autograd_second
from lab.second import code as second_code
from lab.second import second as second_derivative
from lab.symbolic import shared_budget as symbolic_budget


DTYPES = {"float32": torch.float32, "float64": torch.float64}
TOLERANCES = {"float32": (1e-4, 1e-5), "float64": (1e-7, 1e-9)}   # (rtol, atol) vs float64 refs
SIGNIFICANT = 6                   # digits shown; a float32/float64 gap above this shows
PRECISION_VISIBLE = 0.5 * 10 ** (1 - SIGNIFICANT)   # relative gap that changes the 6th digit


@dataclass
class GradientRun:
    """Everything the views show for one run; plain values only."""

    text: str
    x_spec: XSpec
    reduce: str                   # the reduction applied to f ("mean"/"sum")
    dtype: str
    x: list[float]
    y: float
    y_repr: str                   # print(y), exactly as PyTorch prints it
    grad: list[float]             # x.grad from autograd
    grad_repr: str                # print(x.grad)
    symbolic: list[float] | None  # the derivative shown (``shown``), evaluated at x
    numeric: list[float] | None
    grad64: list[float]           # autograd in float64, for the precision lesson
    tolerance: tuple[float, float]
    code: str
    notes: list[Message] = field(default_factory=list)
    shown: Shown | None = None    # the formulas the page writes (lab.derivation)
    # Estimated error of each finite difference (None where it is too unreliable to compare).
    numeric_error: list[float | None] | None = None
    # Elements where the formula has a corner (its one-sided slopes differ, lab.corners):
    # no derivative to compare.
    kinks: list[bool] = field(default_factory=list)
    curve: Curve | None = None    # the plot's points (``plot=True``, elementwise formulas)
    second: Second | None = None  # f″ at x (``second=True``, elementwise formulas)
    drawing: Drawing = field(default_factory=Drawing)   # torchviz's, of this run's graph

    @property
    def n(self) -> int:
        return len(self.x)

    def agrees(self, reference: list[float] | None,
               slack: list[float | None] | None = None) -> list[bool | None]:
        """Per element: |autograd − reference| ≤ atol + rtol·|reference| (+ slack[i]).

        None where it cannot be compared: a value is inf/nan, the formula has a corner
        there, or the slack is None (an unreliable reference). Given ``self.numeric``, the
        slack defaults to ``self.numeric_error``: finite differences carry their own error.
        """
        if reference is None:
            return [None] * self.n
        if slack is None and reference is self.numeric:
            slack = self.numeric_error
        rtol, atol = self.tolerance
        marks = []
        for i, (a, b) in enumerate(zip(self.grad, reference)):
            extra = 0.0 if slack is None else slack[i]
            if (extra is None or not (math.isfinite(a) and math.isfinite(b))
                    or (self.kinks and self.kinks[i])):
                marks.append(None)
            else:
                marks.append(abs(a - b) <= atol + rtol * abs(b) + extra)
        return marks

    def symbolic_marks(self) -> list[bool | None]:
        return self.agrees(self.symbolic)

    def numeric_marks(self) -> list[bool | None]:
        """Against finite differences, allowing for their own estimated error."""
        return self.agrees(self.numeric, self.numeric_error)


def statement(step) -> str:
    """One step as the line of Python the generated code runs: ``z3 = z1 * z2``."""
    def show(a):
        if isinstance(a, str):
            return a
        text = python_number(a)
        return f"({text})" if text.startswith("-") else text

    template = OPERATIONS[step.op].code
    return f"{step.name} = " + template.format(**dict(zip("ab", map(show, step.args))))


def code(formula: Formula, x_spec: XSpec, reduce: str, dtype: str,
         before_backward: str = "", after_backward: str = "") -> str:
    """The PyTorch script that reproduces the run; the lab's numbers come from the same steps.
    ``before_backward`` and ``after_backward`` are lines a page adds around the pass."""
    lines = ["import torch", "", f"# y = {reduce}({formula.text})" if not formula.reduction
             else f"# y = {formula.text}", x_spec.code(dtype)]
    lines += [statement(step) for step in formula.steps]
    if formula.reduction is None:
        lines.append(f"y = {formula.output}.{reduce}()")
    else:
        lines.append(f"y = {formula.output}")
    if before_backward:
        lines += ["", before_backward.rstrip("\n"), ""]
    lines += ["y.backward()", "print(y)", "print(x.grad)"]
    if after_backward:
        lines.append(after_backward.rstrip("\n"))
    return "\n".join(lines) + "\n"


def _point(value: float) -> str:
    """An x value in a sentence, as the table shows it (6 significant digits)."""
    return f"{value:.6g}"


def _nonfinite_notes(formula: Formula, tensors: dict, x: torch.Tensor) -> list[Message]:
    """Explain the first step whose value stops being finite, and where."""
    for step in formula.steps:
        value = tensors[step.name].detach()
        inputs_finite = all(
            torch.isfinite(tensors[a].detach()).all() for a in step.args if isinstance(a, str))
        bad = ~torch.isfinite(value)
        if inputs_finite and bad.any():
            where = ""
            if value.shape == x.shape:
                where = ", ".join(_point(v) for v in x.detach()[bad][:5].tolist())
            kind = OPERATIONS[step.op].nonfinite        # the registry's note for it
            return [Message(f"nonfinite.{kind}", step=Typed(step.source or formula.text),
                            where=where or "—")]
    return []


def _autograd(formula: Formula, x_spec: XSpec | torch.Tensor, reduce: str, dtype: str,
              before_backward=None):
    """x (a fresh leaf) and every named tensor after ``y.backward()``.

    ``before_backward(tensors)`` runs between the passes (torchviz needs the saved tensors).
    """
    if isinstance(x_spec, XSpec):
        x = x_spec.tensor(DTYPES[dtype])
    else:
        x = x_spec.detach().to(DTYPES[dtype]).requires_grad_(True)
    tensors = forward(formula, x, reduce)
    if before_backward is not None:
        before_backward(tensors)
    tensors["y"].backward()
    return x, tensors


def check_options(reduce: str, dtype: str) -> None:
    """Refuse an unknown reduction or dtype with a message (``InputError``)."""
    if reduce not in REDUCTIONS:
        raise InputError(Message("x.bad_option", option="reduce", value=Typed(reduce)))
    if dtype not in DTYPES:
        raise InputError(Message("x.bad_option", option="dtype", value=Typed(dtype)))


def run(text: str, x_spec: XSpec, reduce: str = "mean", dtype: str = "float32",
        checks: bool = True, plot: bool = False, graph: bool = False,
        second: bool = False) -> GradientRun:
    """One computation, everything its page shows: y and x.grad from autograd, the checks
    against sympy and finite differences, the formulas to write, the plot's points
    (``plot``), torchviz's drawing of the very graph backward() walked (``graph``) and the
    second derivative f″ checked against sympy (``second``, lab.second).

    Raises ``FormulaError`` or ``InputError`` with a message for the user.
    """
    check_options(reduce, dtype)
    formula = formulas.parse(text)
    x_spec.check()
    drawing = {}
    if graph:
        def draw(tensors):
            drawing["torchviz"] = draw_torchviz(tensors["y"], tensors["x"])
    x, tensors = _autograd(formula, x_spec, reduce, dtype, draw if graph else None)
    y = tensors["y"]
    notes = _notes(formula, tensors, x)
    suspect, kinks, second_kinks = corners(formula, tensors, x, reduce)
    points = x.detach().reshape(-1).tolist()

    def where(mask: list[bool]) -> str:
        return ", ".join([_point(v) for v, k in zip(points, mask) if k][:5])

    if any(kinks):
        notes.append(Message("checks.kink", where=where(kinks)))
    smooth = [s and not k for s, k in zip(suspect, kinks)]
    if any(smooth):
        notes.append(Message("checks.smooth_corner", where=where(smooth)))
    if second and formula.elementwise and any(s and not k for s, k in zip(second_kinks, kinks)):
        notes.append(Message("checks.second_kink",
                             where=where([s and not k for s, k in zip(second_kinks, kinks)])))
    # The float64 reference runs at the very same points (x cast to float64), so any gap
    # comes from float32 arithmetic, not from float32 rounding of the points themselves.
    if dtype == "float64":
        grad64 = x.grad.tolist()
    else:
        _, t64 = _autograd(formula, x.detach(), reduce, "float64")
        grad64 = t64["x"].grad.tolist()

    symbolic, numeric, numeric_error, shown, twice = None, None, None, None, None
    with symbolic_budget():             # the sympy work of this run shares one budget
        if checks:
            symbolic, shown = _symbolic(formula, x, reduce, notes)
            fd = numeric_check(formula, x.detach(), reduce, smooth)
            if fd is None:
                notes.append(Message("checks.numeric_too_many", limit=NUMERIC_LOOP_UP_TO))
            else:
                numeric, numeric_error = fd
        if second:
            twice = second_derivative(formula, x.detach(), second_kinks)

    grad = x.grad.tolist()
    for note in twice.notes if twice else ():
        notes.append(note)
    result = GradientRun(
        text=text, x_spec=x_spec, reduce=formula.reduction or reduce, dtype=dtype,
        x=x.detach().tolist(), y=float(y.detach()), y_repr=repr(y), grad=grad,
        grad_repr=repr(x.grad), symbolic=symbolic, numeric=numeric, grad64=grad64,
        tolerance=TOLERANCES[dtype], notes=notes, shown=shown, numeric_error=numeric_error,
        code=code(formula, x_spec, reduce, dtype,
                  before_backward=second_code(formula) if twice else ""),
        kinks=kinks, curve=curve(formula, x.detach(), second) if plot else None,
        drawing=drawing.get("torchviz", Drawing()), second=twice)
    if dtype == "float32":
        gap = _largest_gap(grad, grad64)
        if gap is not None and gap[0] > PRECISION_VISIBLE:
            result.notes.append(Message("checks.precision_gap", gap=f"{gap[0]:.1e}",
                                        where=_point(result.x[gap[1]])))
    return result


def _notes(formula: Formula, tensors: dict, x: torch.Tensor) -> list[Message]:
    """Where y or x.grad stop being finite numbers, and why."""
    notes = _nonfinite_notes(formula, tensors, x)
    if not math.isfinite(float(tensors["y"].detach())) and not notes:
        notes.append(Message("nonfinite.other", step=Typed(formula.text), where="—"))
    if not notes and not bool(torch.isfinite(x.grad).all()):
        bad = ~torch.isfinite(x.grad)
        where = ", ".join(_point(v) for v in x.detach()[bad][:5].tolist())
        notes.append(Message("nonfinite.gradient", where=where))
    return notes


def _symbolic(formula: Formula, x: torch.Tensor, reduce: str, notes: list[Message]):
    """(sympy's ∂y/∂xᵢ at x, the formulas to show); a check that fails must not take the
    run down, so any failure becomes a note."""
    try:
        found = symbolic.gradient(formula, x, reduce)
        shown = derivation.shown(formula, reduce, x.numel())
    except Exception:   # noqa: BLE001
        notes.append(Message("checks.symbolic_failed"))
        return None, None
    for note in (found.note, shown.note if shown else None):
        if note is not None and note not in notes:
            notes.append(note)
    return (None if found.values is None else found.values.tolist()), shown


def _largest_gap(a: list[float], b: list[float]) -> tuple[float, int] | None:
    """The largest relative gap between two gradients, and where (near-zero values are
    measured against a millionth of the largest value, not against themselves)."""
    finite = [abs(v) for v in b if math.isfinite(v)]
    if not finite:
        return None
    floor = max(max(finite) * 1e-6, 1e-300)
    gaps = [(abs(u - v) / max(abs(v), floor), i) for i, (u, v) in enumerate(zip(a, b))
            if math.isfinite(u) and math.isfinite(v)]
    return max(gaps) if gaps else None


@dataclass
class Curve:
    """f and f′ (and f″ if asked) on a grid and at the points of x, from autograd in float64
    (elementwise formulas)."""

    t: list[float]
    f: list[float]
    df: list[float]
    x: list[float]
    fx: list[float]
    dfx: list[float]
    d2f: list[float] | None = None


def _slopes(formula: Formula, points: torch.Tensor) -> tuple[list, list]:
    """f(t) and f′(t) = d f(t)/dt at ``points``, elementwise, by autograd in float64."""
    t = points.detach().to(torch.float64).clone().requires_grad_(True)
    body = forward(formula, t, "sum")[formula.body]
    body.sum().backward()
    return body.detach().tolist(), t.grad.tolist()


def curve(formula: Formula, x: torch.Tensor, second: bool = False) -> Curve | None:
    """The plot's points: a grid around x and x itself; None if the formula is not
    elementwise (an inner mean/sum mixes the elements)."""
    if not formula.elementwise:
        return None
    points = x.detach().to(torch.float64)
    low, high = plot_range(points.tolist())
    t = grid(low, high)
    f, df = _slopes(formula, t)
    fx, dfx = _slopes(formula, points)
    d2f = autograd_second(formula, t).tolist() if second else None
    return Curve(t.tolist(), f, df, points.tolist(), fx, dfx, d2f)


def grid(low: float, high: float, points: int = 201) -> torch.Tensor:
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        high = low + 1.0
    return torch.linspace(low, high, points, dtype=torch.float64)


def plot_range(x: list[float], margin: float = 1.0) -> tuple[float, float]:
    finite = [v for v in x if math.isfinite(v)]
    if not finite:
        return -1.0, 1.0
    low, high = min(finite), max(finite)
    span = max(high - low, 1.0)
    return low - margin * span * 0.25, high + margin * span * 0.25
