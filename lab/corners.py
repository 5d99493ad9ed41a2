"""Where a formula has no derivative: decided for the whole formula from one-sided slopes.

An operation with a corner (``Operation.corner``: abs, relu) makes a point *suspect* where
its input is exactly 0, but whether the whole formula has a corner there depends on the
rest of it: ``relu(x)`` has one at 0, ``x·relu(x)`` (x² on the right, 0 on the left) does
not, and only its second derivative jumps. So at each suspect point the derivative is
taken just left and just right of it, in float64 by autograd, at two distances ``h`` and
``h/16``: a slope that is continuous changes about 16 times less over the shorter span,
while at a corner the gap stays (a jump) or grows (a cusp such as ``sqrt(abs(x))``).
The same test on f′ tells where f″ does not exist.
"""

from __future__ import annotations

import torch

from lab.formula import Formula, forward
from lab.ops import OPERATIONS
from lab.second import autograd_first, autograd_second

STEP = 1e-6           # relative distance of the one-sided points (float64)
SHRINK = 16           # the second, shorter distance: STEP / SHRINK
KEEPS = 0.5           # a gap that keeps this much of itself over the shorter span: a corner
NOISE = 1e-9          # gaps below this (relative to the slopes) are rounding
LOOP_UP_TO = 200      # per-element tests of a formula that mixes its elements


def suspects(formula: Formula, tensors: dict[str, torch.Tensor], x: torch.Tensor
             ) -> torch.Tensor:
    """Elements where the input of an operation with a corner is exactly 0 (a boolean mask
    shaped like x); an inner mean/sum spreads a suspect to every element."""
    mask = torch.zeros(x.shape, dtype=torch.bool)
    for step in formula.steps:
        if OPERATIONS[step.op].corner and isinstance(step.args[0], str):
            zero = tensors[step.args[0]].detach() == 0
            mask = mask | (zero if zero.shape == x.shape else zero.any())
    if mask.any() and not formula.elementwise:
        mask = torch.ones_like(mask)
    return mask


def _slopes(formula: Formula, points: torch.Tensor, order: int) -> torch.Tensor:
    """f′ (``order`` 1) or f″ (``order`` 2) of an elementwise formula at ``points``."""
    if order == 1:
        return autograd_first(formula, points)[1]
    return autograd_second(formula, points)


def _jumps(left_far, right_far, left_near, right_near) -> torch.Tensor:
    """True where the gap between the one-sided values does not shrink with the distance."""
    far = (right_far - left_far).abs()
    near = (right_near - left_near).abs()
    scale = left_near.abs() + right_near.abs() + 1.0
    decided = torch.isfinite(far) & torch.isfinite(near)
    return ~decided | ((near > NOISE * scale) & (near >= KEEPS * far))


def elementwise(formula: Formula, x: torch.Tensor, suspect: torch.Tensor, order: int
                ) -> torch.Tensor:
    """Where the ``order``-th derivative of an elementwise formula does not exist, among
    the suspect elements (a mask shaped like x)."""
    found = torch.zeros(x.shape, dtype=torch.bool)
    if not suspect.any():
        return found
    at = x.detach().to(torch.float64)[suspect]
    h = STEP * torch.clamp(at.abs(), min=1.0)
    values = [_slopes(formula, at + sign * step, order)
              for step in (h, h / SHRINK) for sign in (-1, 1)]
    found[suspect] = _jumps(*values)
    return found


def mixing(formula: Formula, x: torch.Tensor, reduce: str, suspect: torch.Tensor
           ) -> torch.Tensor:
    """Where ∂y/∂xᵢ does not exist, for a formula with an inner mean/sum: each suspect
    element moved alone (at most LOOP_UP_TO of them; beyond, every suspect is kept)."""
    count = int(suspect.sum())
    if count == 0 or count > LOOP_UP_TO:
        return suspect.clone()
    x64 = x.detach().to(torch.float64).reshape(-1)
    found = torch.zeros(x64.shape, dtype=torch.bool)

    def slope(i: int, shift: float) -> float:
        t = x64.clone()
        t[i] += shift
        t.requires_grad_(True)
        y = forward(formula, t, reduce)["y"]
        grad, = torch.autograd.grad(y, t)
        return float(grad[i])

    for i in torch.nonzero(suspect.reshape(-1)).reshape(-1).tolist():
        h = STEP * max(1.0, abs(float(x64[i])))
        values = [torch.tensor(slope(i, sign * step), dtype=torch.float64)
                  for step in (h, h / SHRINK) for sign in (-1, 1)]
        found[i] = bool(_jumps(*values))
    return found.reshape(x.shape)


def corners(formula: Formula, tensors: dict[str, torch.Tensor], x: torch.Tensor,
            reduce: str) -> tuple[list[bool], list[bool], list[bool]]:
    """Per element of x: (suspect, f′ does not exist, f″ does not exist).

    f″ is decided for elementwise formulas only (the lab shows it for those); where f′
    does not exist, neither does f″.
    """
    suspect = suspects(formula, tensors, x)
    if formula.elementwise:
        first = elementwise(formula, x, suspect, 1)
        second = first | elementwise(formula, x, suspect & ~first, 2)
    else:
        first = mixing(formula, x, reduce, suspect)
        second = first
    flat = (lambda mask: mask.reshape(-1).tolist())
    return flat(suspect), flat(first), flat(second)
