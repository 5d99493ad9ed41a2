"""The numeric check: ∂y/∂xᵢ by central finite differences in float64, with their own error.

Used beside autograd and sympy (``lab.gradients.run``); estimates that straddle a corner, a
pole or a domain's edge (the registry's ``breaks``), or whose own estimated error is too
large, are not compared.
"""

from __future__ import annotations

import torch

from lab.formula import Formula, forward
from lab.ops import OPERATIONS

NUMERIC_LOOP_UP_TO = 200          # per-element finite differences for non-elementwise formulas

FD_STEP = 6e-6                    # relative step of the central differences (float64)
FD_RELIABLE = 0.01                # an estimate whose own error exceeds 1% is not compared


def _watched(formula: Formula) -> list[tuple[str, float]]:
    """(tensor, value) pairs where a tensor crossing the value means a corner, a pole or a
    domain's edge: each operation's ``breaks`` in the registry (relu/abs/sqrt/log inputs
    at 0, log1p's at -1, denominators, bases raised to a power not a whole number ≥ 0)."""
    found = set()
    for step in formula.steps:
        for index, value in OPERATIONS[step.op].breaks(step.args):
            if isinstance(step.args[index], str):
                found.add((step.args[index], value))
    return sorted(found)


def _sign_changes(formula: Formula, up: dict, down: dict, elementwise: bool) -> torch.Tensor:
    """True where a watched tensor crosses its value between the two points."""
    changed = torch.zeros((), dtype=torch.bool)
    for name, value in _watched(formula):
        flipped = torch.sign(up[name] - value) != torch.sign(down[name] - value)
        changed = changed | (flipped if elementwise else flipped.any())
    return changed


def numeric_check(formula: Formula, x: torch.Tensor, reduce: str,
                  smooth: list[bool] | None = None):
    """(∂y/∂x_i by central differences, the estimated error of each, or None if unreliable).

    The error estimate adds the truncation error (Richardson: the same difference with a
    step twice as long) and the rounding error (float64 epsilon times |f| over the step).
    An estimate is not used where the steps straddle a corner or a pole (a relu/abs input
    or a denominator changes sign), or where its own error exceeds 1% of it; ``smooth``
    marks the elements where a relu/abs input is 0 but the whole formula was found smooth
    (lab.corners): straddling that point is harmless there.
    """
    eps = torch.finfo(torch.float64).eps
    with torch.no_grad():
        x = x.detach().to(torch.float64)
        h = FD_STEP * torch.clamp(x.abs(), min=1.0)
        scale = 1.0 / x.numel() if (formula.reduction or reduce) == "mean" else 1.0
        if formula.elementwise:
            def slope(step):
                up, down = x + step, x - step
                t_up, t_down = forward(formula, up, reduce), forward(formula, down, reduce)
                f_up, f_down = t_up[formula.body], t_down[formula.body]
                return ((f_up - f_down) / (up - down), f_up.abs() + f_down.abs(),
                        _sign_changes(formula, t_up, t_down, True))

            d1, size, _ = slope(h)
            d2, _, straddles = slope(2 * h)
            error = ((d2 - d1).abs() / 3 + 4 * eps * size / (2 * h)) * scale
            d1 = d1 * scale
        else:
            if x.numel() > NUMERIC_LOOP_UP_TO:
                return None
            d1, error = torch.empty_like(x), torch.empty_like(x)
            straddles = torch.zeros_like(x, dtype=torch.bool)
            for i in range(x.numel()):
                estimates = []
                for step in (h[i], 2 * h[i]):
                    up, down = x.clone(), x.clone()
                    up[i] += step
                    down[i] -= step
                    t_up, t_down = forward(formula, up, reduce), forward(formula, down, reduce)
                    estimates.append(((t_up["y"] - t_down["y"]) / (up[i] - down[i]),
                                      t_up["y"].abs() + t_down["y"].abs()))
                (first, size), (second, _) = estimates
                d1[i] = first
                error[i] = (second - first).abs() / 3 + 4 * eps * size / (2 * h[i])
                straddles[i] = _sign_changes(formula, t_up, t_down, False)
    if smooth is not None:
        straddles = straddles & ~torch.tensor(smooth, dtype=torch.bool).reshape(x.shape)
    reliable = (torch.isfinite(error) & ~straddles
                & (error <= FD_RELIABLE * d1.abs() + 1e-8 * scale))
    errors = [float(e) if ok else None for e, ok in zip(error.tolist(), reliable.tolist())]
    return d1.tolist(), errors
