"""Learning with gradients: fit ŷ = w·x + b by gradient descent with real PyTorch autograd.

``train(loop)`` runs the training loop the page shows (``code(loop)``), op for op, and
returns a ``TrainingRun`` of plain floats and strings: the state at every step, the
gradients ``backward()`` left in ``.grad``, the loss surface on a grid, the surface's
curvature (from which the learning rate's fate follows) and PyTorch's own error when the
loop makes one. The loop's classic mistakes are switches of ``Loop``: forgetting to zero
the gradients, updating outside ``torch.no_grad()``, a learning rate too large.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import torch

from lab.formula import format_number
from lab.xvalues import InputError
from lab.i18n import Message, comment

MAX_STEPS = 200            # updates per run: a run takes a few ms per step at most
GRID = 41                  # contour grid points per axis (41 x 41 losses of 8 points)
INITIAL_RANGE = 5.0        # |w0|, |b0| at most
# A logarithmic scale (1, 2, 3, 5 per decade), from far too small to divergent for every
# data set below; no value sits on a data set's border between behaviours (a test checks).
LEARNING_RATES = (0.001, 0.002, 0.003, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5,
                  1.0, 2.0)
TOO_LARGE = 5.0            # the "learning rate too large" switch: inf within ~20 steps
# What gradient descent can do, as the prediction's choices: none overlaps another (a run
# that zig-zags while it converges converges), and each follows from lr·λ (``behaviour``).
BEHAVIOURS = ("converges_smoothly", "converges_zigzag", "keeps_swinging", "diverges")
CONVERGING = ("converges_smoothly", "converges_zigzag")
UPDATES = ("w -= lr * w.grad", "torch.optim.SGD")


@dataclass(frozen=True)
class DataSet:
    """``size`` points: x evenly spaced on [low, high], y on a line plus seeded noise."""

    slope: float
    intercept: float
    low: float
    high: float
    noise: float
    seed: int
    size: int = 8


    line: str = ""           # as the page writes it: "y = 2x − 1"

    @property
    def label(self) -> str:
        """The line and x's range: ``y = 2x − 1,  x ∈ [0, 2]``."""
        return f"{self.line},  x ∈ [{self.low:g}, {self.high:g}]".replace("-", "−")


# Keyed by ids, the same in every language (a link keeps the id).
DATASETS = {
    "2x-1": DataSet(2.0, -1.0, 0.0, 2.0, 0.3, 0, line="y = 2x − 1"),
    "3-x/2": DataSet(-0.5, 3.0, -1.0, 3.0, 0.3, 1, line="y = 3 − x/2"),
    "0.8x+2": DataSet(0.8, 2.0, 0.0, 5.0, 0.5, 2, line="y = 0.8x + 2"),
}
DEFAULT_DATA = next(iter(DATASETS))


@dataclass(frozen=True)
class Loop:
    """One training run's inputs; ``zero_grad=False`` and ``no_grad=False`` are mistakes."""

    data: str = DEFAULT_DATA
    lr: float = 0.1
    steps: int = 50
    w0: float = -1.0
    b0: float = 2.0
    sgd: bool = False            # torch.optim.SGD instead of the update by hand
    zero_grad: bool = True
    no_grad: bool = True         # the update by hand inside torch.no_grad() (SGD always is)

    def check(self) -> None:
        if self.data not in DATASETS:
            raise InputError(Message("learning.bad_data"))
        if not (isinstance(self.steps, int) and 1 <= self.steps <= MAX_STEPS):
            raise InputError(Message("learning.bad_steps", limit=MAX_STEPS))
        if not (math.isfinite(self.lr) and 0 < self.lr <= TOO_LARGE):
            raise InputError(Message("learning.bad_lr", limit=format_number(TOO_LARGE)))
        if not all(math.isfinite(v) and abs(v) <= INITIAL_RANGE for v in (self.w0, self.b0)):
            raise InputError(Message("learning.bad_start", limit=format_number(INITIAL_RANGE)))


@dataclass(frozen=True)
class Surface:
    """The loss on a grid: ``loss[j][i]`` at (w[i], b[j]); ``log_loss`` is its log10."""

    w: tuple[float, ...]
    b: tuple[float, ...]
    log_loss: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class TrainingRun:
    """Every number the page shows for one loop; plain values only (cacheable)."""

    loop: Loop
    x: tuple[float, ...]
    y: tuple[float, ...]
    w: tuple[float, ...]          # at steps 0..last: before each update, then after the last
    b: tuple[float, ...]
    loss: tuple[float, ...]
    grad_w: tuple[float, ...]     # w.grad right after each backward() (steps 0..)
    grad_b: tuple[float, ...]
    own_grad_w: tuple[float, ...] | None   # this step's own ∂L/∂w (only without zero_grad)
    own_grad_b: tuple[float, ...] | None
    best: tuple[float, float, float]       # least squares: w*, b*, its loss
    curvature: tuple[float, float]         # eigenvalues of the loss's Hessian (low, high)
    surface: Surface
    code: str
    error: str = ""               # PyTorch's exception message, verbatim
    error_type: str = ""

    @property
    def last(self) -> int:
        """The last step recorded (steps run, or where the run stopped)."""
        return len(self.loss) - 1

    @property
    def stopped(self) -> int | None:
        """The step of the first loss that is inf or nan, if any (the run ends there)."""
        return next((k for k, v in enumerate(self.loss) if not math.isfinite(v)), None)

    @property
    def rate(self) -> float:
        """lr·λ: the learning rate times the surface's steepest curvature."""
        return self.loop.lr * self.curvature[1]

    @property
    def behaviour(self) -> str:
        """What gradient descent does with this learning rate: one of ``BEHAVIOURS``.

        Along the Hessian's eigenvector of eigenvalue λ a step multiplies the distance to
        the minimum by 1 − lr·λ: up to 1 it shrinks straight in, between 1 and 2 it flips
        sign and shrinks (a zig-zag that converges), at 2 it keeps its size, beyond 2 it
        grows. Without zero_grad each update adds every earlier gradient (a ball without
        friction): the distance follows e[k+1] = (2 − lr·λ)·e[k] − e[k−1], which swings
        forever, neither shrinking nor growing, while lr·λ ≤ 4.
        """
        rate = self.rate
        if not self.loop.zero_grad:
            return "keeps_swinging" if rate <= 4 else "diverges"
        if rate <= 1:
            return "converges_smoothly"
        return "converges_zigzag" if rate < 2 else "keeps_swinging" if rate == 2 else "diverges"

    def judge(self, guess: str) -> str:
        """A prediction against ``behaviour``: "right", "almost" (it does converge, the other
        way) or "wrong"."""
        if guess == self.behaviour:
            return "right"
        if guess in CONVERGING and self.behaviour in CONVERGING:
            return "almost"
        return "wrong"


def points(data: DataSet) -> tuple[torch.Tensor, torch.Tensor]:
    """The data set, drawn exactly as ``code`` draws it."""
    generator = torch.Generator().manual_seed(data.seed)
    x = torch.linspace(data.low, data.high, data.size)
    y = data.slope * x + data.intercept + data.noise * torch.randn(data.size,
                                                                   generator=generator)
    return x, y


def mse(w, b, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The mean squared error of the line w·x + b, as the loop computes it."""
    return ((w * x + b - y) ** 2).mean()


def train(loop: Loop) -> TrainingRun:
    """Run the loop of ``code(loop)`` for real; stop at the first inf/nan loss or error."""
    loop.check()
    x, y = points(DATASETS[loop.data])
    w = torch.tensor(loop.w0, requires_grad=True)
    b = torch.tensor(loop.b0, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=loop.lr) if loop.sgd else None
    seen = {"w": [], "b": [], "loss": [], "grad_w": [], "grad_b": [], "own_w": [], "own_b": []}
    error = None
    try:
        _loop(loop, x, y, w, b, optimizer, seen)
    except RuntimeError as problem:          # updating a leaf outside torch.no_grad()
        error = problem
    accumulate = not loop.zero_grad
    return TrainingRun(
        loop, tuple(x.tolist()), tuple(y.tolist()), tuple(seen["w"]), tuple(seen["b"]),
        tuple(seen["loss"]), tuple(seen["grad_w"]), tuple(seen["grad_b"]),
        tuple(seen["own_w"]) if accumulate else None,
        tuple(seen["own_b"]) if accumulate else None,
        least_squares(x, y), curvature(x, y),
        surface(x, y, (loop.w0, loop.b0), least_squares(x, y)[:2],
                list(zip(seen["w"], seen["b"]))),
        code(loop), str(error) if error else "", type(error).__name__ if error else "")


def _loop(loop: Loop, x, y, w, b, optimizer, seen: dict) -> None:
    """The training loop, statement for statement as ``code`` prints it."""
    def record(loss: torch.Tensor) -> None:
        seen["w"].append(w.item())
        seen["b"].append(b.item())
        seen["loss"].append(loss.item())

    for _ in range(loop.steps):
        loss = mse(w, b, x, y)
        record(loss)
        if not torch.isfinite(loss):
            break
        if optimizer is not None and loop.zero_grad:
            optimizer.zero_grad()
        if not loop.zero_grad:
            own_w, own_b = torch.autograd.grad(loss, (w, b), retain_graph=True)
            seen["own_w"].append(own_w.item())
            seen["own_b"].append(own_b.item())
        loss.backward()
        seen["grad_w"].append(w.grad.item())
        seen["grad_b"].append(b.grad.item())
        if optimizer is not None:
            optimizer.step()
            continue
        with torch.no_grad() if loop.no_grad else contextlib.nullcontext():
            w -= loop.lr * w.grad
            b -= loop.lr * b.grad
        if loop.zero_grad:
            w.grad.zero_()
            b.grad.zero_()
    if torch.isfinite(loss):
        record(mse(w, b, x, y))             # the loss after the last update


def least_squares(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float, float]:
    """The best line (w*, b*) by least squares, and its loss: where descent should end."""
    columns = torch.stack([x, torch.ones_like(x)], dim=1)
    w, b = torch.linalg.lstsq(columns, y.unsqueeze(1)).solution.squeeze(1).tolist()
    return w, b, mse(w, b, x, y).item()


def curvature(x: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Eigenvalues (low, high) of the loss's Hessian in (w, b), from autograd.

    The loss is quadratic in (w, b), so its Hessian is the same everywhere.
    """
    hessian = torch.autograd.functional.hessian(lambda p: mse(p[0], p[1], x, y), torch.zeros(2))
    low, high = torch.linalg.eigvalsh(hessian).tolist()
    return low, high


def surface(x: torch.Tensor, y: torch.Tensor, start: tuple[float, float],
            best: tuple[float, float], path: list[tuple[float, float]]) -> Surface:
    """The loss on a ``GRID`` x ``GRID`` grid around the start, the minimum and the path.

    Path points far outside (a diverging run) are left out of the frame, not chased.
    """
    ws, bs = [start[0], best[0]], [start[1], best[1]]
    span = max(max(ws) - min(ws), max(bs) - min(bs), 1.0)
    near = [(w, b) for w, b in path if math.isfinite(w) and math.isfinite(b)
            and min(ws) - 2 * span <= w <= max(ws) + 2 * span
            and min(bs) - 2 * span <= b <= max(bs) + 2 * span]
    ws += [w for w, _ in near]
    bs += [b for _, b in near]
    pad = 0.2 * span
    grid_w = torch.linspace(min(ws) - pad, max(ws) + pad, GRID)
    grid_b = torch.linspace(min(bs) - pad, max(bs) + pad, GRID)
    w, b = torch.meshgrid(grid_w, grid_b, indexing="xy")      # shape (b, w)
    loss = ((w.unsqueeze(-1) * x + b.unsqueeze(-1) - y) ** 2).mean(dim=-1)
    log_loss = torch.log10(loss)
    return Surface(tuple(grid_w.tolist()), tuple(grid_b.tolist()),
                   tuple(tuple(row) for row in log_loss.tolist()))


# ---- the code the page shows --------------------------------------------------------------

def data_code(label: str) -> list[str]:
    data = DATASETS[label]
    sign = "-" if data.intercept < 0 else "+"
    return [
        comment("learning.code_data"),
        f"generator = torch.Generator().manual_seed({data.seed})",
        f"x = torch.linspace({format_number(data.low)}, {format_number(data.high)}, {data.size})",
        f"y = {format_number(data.slope)} * x {sign} {format_number(abs(data.intercept))}"
        f" + {format_number(data.noise)} * torch.randn({data.size}, generator=generator)"]


def _update_code(loop: Loop) -> list[str]:
    if loop.sgd:
        return ["    optimizer.step()                    # w -= lr * w.grad, b -= lr * b.grad"]
    if loop.no_grad:
        lines = ["    with torch.no_grad():               " + comment("learning.code_no_grad"),
                 "        w -= lr * w.grad",
                 "        b -= lr * b.grad"]
    else:
        lines = ["    w -= lr * w.grad                    " + comment("learning.code_outside"),
                 "    b -= lr * b.grad"]
    if loop.zero_grad:
        return lines + ["    w.grad.zero_()                      " + comment("learning.code_zero"),
                        "    b.grad.zero_()"]
    return lines + ["    " + comment("learning.code_zero_forgotten")]


def _step_code(loop: Loop) -> list[str]:
    lines = []
    if loop.sgd:
        lines.append("    optimizer.zero_grad()" if loop.zero_grad else
                     "    " + comment("learning.code_sgd_zero_forgotten"))
    if not loop.zero_grad:
        lines += ["    " + comment("learning.code_own_gradient"),
                  "    own_w, own_b = torch.autograd.grad(loss, (w, b), retain_graph=True)"]
    return lines + ["    loss.backward()                     # w.grad = ∂loss/∂w, b.grad = ∂loss/∂b"]


def code(loop: Loop) -> str:
    """The script of this loop, as the page shows it and ``train`` runs it (its comments
    are catalogue keys, ``lab.i18n.comment``, written in the page's language when shown)."""
    lines = ["import torch", ""] + data_code(loop.data) + [
        "",
        comment("learning.code_model"),
        f"w = torch.tensor({float(loop.w0)!r}, requires_grad=True)",
        f"b = torch.tensor({float(loop.b0)!r}, requires_grad=True)",
        f"lr = {float(loop.lr)!r}"]
    if loop.sgd:
        lines.append("optimizer = torch.optim.SGD([w, b], lr=lr)")
    lines += [
        "",
        "losses = []",
        f"for step in range({loop.steps}):",
        "    loss = ((w * x + b - y) ** 2).mean()   " + comment("learning.code_mse"),
        "    losses.append(loss.item())",
        "    if not torch.isfinite(loss):         " + comment("learning.code_diverged"),
        "        break"] + _step_code(loop) + _update_code(loop) + [
        "if torch.isfinite(loss):",
        "    losses.append(((w * x + b - y) ** 2).mean().item())   "
        + comment("learning.code_after_last"),
        "",
        'print("losses[0] =", losses[0])',
        'print(f"losses[{len(losses) - 1}] =", losses[-1])',
        'print("w =", w.item())',
        'print("b =", b.item())']
    return "\n".join(lines) + "\n"
