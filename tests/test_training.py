"""Page 8's engine: gradient descent on a line, its mistakes, and the code that reproduces it.

The references here are worked out independently of lab.training: the MSE's gradient and
Hessian by hand (float64), the update rule replayed with torch scalars, PyTorch's own error
raised in the test, and the shown code executed by a separate Python.
"""

import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from lab import export, training
from lab.xvalues import InputError
from lab.training import DATASETS, LEARNING_RATES, TOO_LARGE, Loop, train

DEFAULT = Loop()
SET_2, SET_3 = list(DATASETS)[1:]


def by_hand(run, w: float, b: float) -> tuple[float, float, float]:
    """L, ∂L/∂w, ∂L/∂b of the mean squared error at (w, b), in float64:
    L = mean((w·x + b − y)²), ∂L/∂w = 2·mean((w·x + b − y)·x), ∂L/∂b = 2·mean(w·x + b − y)."""
    x, y = np.asarray(run.x, dtype=float), np.asarray(run.y, dtype=float)
    error = w * x + b - y
    return float(np.mean(error ** 2)), float(2 * np.mean(error * x)), float(2 * np.mean(error))


def hessian_by_hand(run) -> np.ndarray:
    x = np.asarray(run.x, dtype=float)
    return 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])


def test_the_data_are_the_seeded_points():
    # torch.manual_seed(0); torch.randn(8): the first draws of PyTorch's CPU generator.
    noise = [1.5410, -0.2934, -2.1788, 0.5684, -1.0845, -1.3986, 0.4033, 0.8380]
    run = train(DEFAULT)
    x = np.linspace(0, 2, 8)
    assert run.x == pytest.approx(x.tolist(), abs=1e-6)
    assert run.y == pytest.approx((2 * x - 1 + 0.3 * np.array(noise)).tolist(), abs=1e-4)
    assert train(Loop(data=SET_3)).x[-1] == 5.0


def test_first_step_loss_and_gradient_are_the_mse_by_hand():
    run = train(DEFAULT)
    loss, dw, db = by_hand(run, -1.0, 2.0)
    assert run.loss[0] == pytest.approx(loss, rel=1e-6) == pytest.approx(3.96275, rel=1e-5)
    assert run.grad_w[0] == pytest.approx(dw, rel=1e-5) == pytest.approx(-2.44306, rel=1e-5)
    assert run.grad_b[0] == pytest.approx(db, rel=1e-5) == pytest.approx(0.12034, rel=1e-4)
    for k in (1, 17, 50):                       # and at later points of the path
        loss, dw, db = by_hand(run, run.w[k], run.b[k])
        assert run.loss[k] == pytest.approx(loss, rel=1e-5)
        if k < run.last:
            assert (run.grad_w[k], run.grad_b[k]) == pytest.approx((dw, db), rel=1e-4, abs=1e-6)


def test_every_step_is_w_minus_lr_times_the_gradient():
    run = train(Loop(lr=0.3, steps=30))
    for k in range(run.last):
        for value, grad, after in ((run.w[k], run.grad_w[k], run.w[k + 1]),
                                   (run.b[k], run.grad_b[k], run.b[k + 1])):
            assert (torch.tensor(value) - 0.3 * torch.tensor(grad)).item() == after
    assert len(run.loss) == len(run.w) == 31 and len(run.grad_w) == 30


def test_sgd_takes_the_same_steps_rounded_once():
    """torch.optim.SGD updates with ``w.add_(w.grad, alpha=-lr)``: w − lr·g rounded once, where
    ``w -= lr * w.grad`` rounds lr·g first. Replayed step by step, the SGD run is exactly that
    update, within one float32 rounding of the hand update; whole runs agree to float32
    precision and the page's six digits."""
    for data in DATASETS:
        hand, sgd = train(Loop(data=data, lr=0.05)), train(Loop(data=data, lr=0.05, sgd=True))
        for k in range(sgd.last):
            w, g = torch.tensor(sgd.w[k]), torch.tensor(sgd.grad_w[k])
            assert w.clone().add_(g, alpha=-0.05).item() == sgd.w[k + 1]
            by_hand_update = (w - 0.05 * g).item()
            assert abs(by_hand_update - sgd.w[k + 1]) <= abs(np.spacing(np.float32(sgd.w[k + 1])))
        for a, b in ((hand.w, sgd.w), (hand.b, sgd.b), (hand.loss, sgd.loss)):
            assert a == pytest.approx(b, rel=2e-5, abs=1e-6)
    hand, sgd = train(DEFAULT), train(Loop(sgd=True))
    shown = [(f"{r.loss[0]:.6g}", f"{r.loss[-1]:.6g}", f"{r.w[-1]:.6g}", f"{r.b[-1]:.6g}")
             for r in (hand, sgd)]
    assert shown[0] == shown[1] == ("3.96275", "0.195678", "1.61159", "-0.581933")


def test_forgetting_zero_grad_accumulates_the_sum_of_the_gradients():
    run = train(Loop(zero_grad=False, steps=30))
    assert run.own_grad_w is not None and train(DEFAULT).own_grad_w is None
    total = torch.tensor(0.0)
    for k in range(run.last):
        total = total + torch.tensor(run.own_grad_w[k])      # backward() adds to .grad
        assert run.grad_w[k] == total.item()
        _, dw, db = by_hand(run, run.w[k], run.b[k])
        assert (run.own_grad_w[k], run.own_grad_b[k]) == pytest.approx((dw, db), rel=1e-4,
                                                                       abs=1e-5)
    assert run.grad_w[5] != pytest.approx(run.own_grad_w[5], rel=0.01)
    # and the path never settles: after 200 steps it still swings where zero_grad has arrived
    swinging, plain = train(Loop(zero_grad=False, steps=200)), train(Loop(steps=200))
    assert abs(plain.w[-1] - plain.best[0]) < 0.01
    assert max(abs(w - swinging.best[0]) for w in swinging.w[-30:]) > 0.5


def test_update_outside_no_grad_raises_pytorchs_own_error():
    w = torch.tensor(1.0, requires_grad=True)
    (w * 3).backward()
    with pytest.raises(RuntimeError) as raised:
        w -= 0.1 * w.grad
    run = train(Loop(no_grad=False))
    assert run.error == str(raised.value) == (
        "a leaf Variable that requires grad is being used in an in-place operation.")
    assert run.error_type == "RuntimeError"
    assert run.last == 0 and len(run.grad_w) == 1       # step 0's forward and backward ran
    assert not train(Loop(no_grad=False, sgd=True)).error   # SGD updates under no_grad itself


def test_a_divergent_rate_stops_at_the_first_non_finite_loss():
    run = train(Loop(lr=TOO_LARGE, steps=200))
    assert run.stopped == run.last < 200
    assert math.isinf(run.loss[-1]) and all(math.isfinite(v) for v in run.loss[:-1])
    assert all(b > a for a, b in zip(run.loss[1:-1], run.loss[2:-1]))     # growing all along
    assert len(run.grad_w) == run.last                   # no backward() of the inf loss
    assert run.behaviour == "diverges" and run.rate > 2
    # a divergent rate that stays finite in 50 steps does not stop
    slow = train(Loop(lr=0.5))
    assert slow.stopped is None and slow.last == 50 and slow.loss[-1] > 1e6 * slow.loss[0]


def test_curvature_is_the_hessian_worked_by_hand():
    for data in DATASETS:
        run = train(Loop(data=data, steps=1))
        assert run.curvature == pytest.approx(np.linalg.eigvalsh(hessian_by_hand(run)).tolist(),
                                              rel=1e-5)
    assert train(DEFAULT).curvature[1] == pytest.approx(4.47397, rel=1e-5)


def test_least_squares_is_where_the_gradient_vanishes():
    for data in DATASETS:
        run = train(Loop(data=data, steps=1))
        w, b, loss = run.best
        best_loss, dw, db = by_hand(run, w, b)
        assert (dw, db) == pytest.approx((0, 0), abs=1e-5)
        assert loss == pytest.approx(best_loss, rel=1e-5)


def _steep_component(run) -> list[float]:
    """The distance to the minimum along the Hessian's steepest eigenvector, per step."""
    values, vectors = np.linalg.eigh(hessian_by_hand(run))
    steep = vectors[:, 1]
    return [float(steep @ (np.array([w, b]) - np.array(run.best[:2])))
            for w, b in zip(run.w, run.b) if math.isfinite(w) and math.isfinite(b)]


@pytest.mark.parametrize("data", list(DATASETS))
def test_behaviour_from_the_curvature_is_what_the_run_does(data):
    """converges smoothly: the steep distance shrinks without changing sign; converges
    zig-zagging: it changes sign and shrinks; keeps swinging (no zero_grad): it changes sign
    and does not die out; diverges: the run overflows or ends with a loss above its first
    one. No rate on the scale sits within 2 % of a border, so a student never gets a coin
    toss."""
    for lr in LEARNING_RATES + (TOO_LARGE,):
        for zero_grad in (True, False):
            run = train(Loop(data=data, lr=lr, steps=200, zero_grad=zero_grad))
            for border in ((1, 2) if zero_grad else (4,)):
                assert abs(run.rate - border) > 0.02 * border, (lr, run.rate)
            steep = _steep_component(run)
            noise = max(1e-4 * abs(steep[0]), 1e-5)        # float32 jitter at the minimum
            flips = sum(1 for a, b in zip(steep, steep[1:])
                        if a * b < 0 and min(abs(a), abs(b)) > noise)
            if run.behaviour == "diverges":
                assert run.stopped is not None or run.loss[-1] > run.loss[0], (lr, zero_grad)
            elif run.behaviour == "keeps_swinging":
                assert not zero_grad and flips >= 1 and run.stopped is None, lr
                # the swing neither dies out nor grows: its last extremes are as large as
                # its first ones
                assert max(map(abs, steep[-50:])) > 0.3 * max(map(abs, steep[:50])), lr
            elif run.behaviour == "converges_zigzag":
                assert zero_grad and flips >= 1 and run.stopped is None, lr
                assert abs(steep[-1]) < abs(steep[0]) and run.loss[-1] < run.loss[0]
            else:
                assert run.behaviour == "converges_smoothly"
                assert zero_grad and flips == 0 and run.stopped is None, lr
                assert abs(steep[-1]) < abs(steep[0]) and run.loss[-1] < run.loss[0]


def test_the_loss_surface_is_the_mse_on_its_grid():
    run = train(DEFAULT)
    surface = run.surface
    assert len(surface.w) == len(surface.b) == training.GRID == len(surface.log_loss)
    for i, j in ((0, 0), (20, 12), (40, 40)):
        loss, _, _ = by_hand(run, surface.w[i], surface.b[j])
        assert surface.log_loss[j][i] == pytest.approx(math.log10(loss), rel=1e-4, abs=1e-5)
    for w, b in ((-1.0, 2.0), run.best[:2], (run.w[-1], run.b[-1])):    # start, minimum, end
        assert surface.w[0] < w < surface.w[-1] and surface.b[0] < b < surface.b[-1]
    far = train(Loop(lr=TOO_LARGE)).surface            # a diverging path is not chased
    assert far.w[-1] - far.w[0] < 10


@pytest.mark.parametrize("loop", [Loop(steps=0), Loop(steps=201), Loop(lr=0.0), Loop(lr=6.0),
                                  Loop(lr=float("nan")), Loop(w0=5.5), Loop(b0=float("inf")),
                                  Loop(data="y = x")])
def test_out_of_bounds_loops_are_refused_with_a_message(loop):
    with pytest.raises(InputError) as refused:
        train(loop)
    assert refused.value.message.key.startswith("learning.bad_")


# ---- the code the page shows reproduces its numbers ------------------------------------------

def printed_numbers(source: str, tmp_path) -> tuple[list[float], str]:
    """Run an exported script in a fresh Python: the numbers it printed, and its stderr."""
    path = tmp_path / "learning.py"
    path.write_text(source)
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                          timeout=120)
    numbers = [float(line.rsplit(" ", 1)[1]) for line in done.stdout.splitlines()]
    return numbers, done.stderr


@pytest.mark.parametrize("loop", [DEFAULT, Loop(sgd=True, steps=120), Loop(zero_grad=False),
                                  Loop(data=SET_3, lr=0.1, w0=2.5, b0=-3.0),
                                  Loop(data=SET_2, lr=TOO_LARGE, sgd=True, zero_grad=False)],
                         ids=["default", "sgd", "no-zero-grad", "data-3", "diverging"])
def test_exported_script_prints_exactly_the_runs_numbers(loop, tmp_path):
    run = train(loop)
    numbers, stderr = printed_numbers(export.script(run.code, "Learning"), tmp_path)
    assert numbers == [run.loss[0], run.loss[-1], run.w[-1], run.b[-1]], stderr
    if run.stopped is not None:
        assert math.isinf(numbers[1])


def test_exported_script_with_the_update_outside_no_grad_raises_the_same_error(tmp_path):
    run = train(Loop(no_grad=False))
    numbers, stderr = printed_numbers(export.script(run.code, "Learning"), tmp_path)
    assert numbers == []
    assert stderr.strip().splitlines()[-1] == f"{run.error_type}: {run.error}"


def test_a_converging_zigzag_is_converging_and_a_near_miss_is_almost():
    """Issue 20: lr = 0.3 zig-zags while it converges; "converges smoothly" is then almost
    right, never wrong, and the run ends nearer the least-squares fit than lr = 0.1's."""
    zigzag, smooth = train(Loop(lr=0.3)), train(Loop(lr=0.1))
    assert zigzag.behaviour == "converges_zigzag" and smooth.behaviour == "converges_smoothly"
    assert zigzag.judge("converges_zigzag") == "right"
    assert zigzag.judge("converges_smoothly") == "almost"
    assert zigzag.judge("diverges") == zigzag.judge("keeps_swinging") == "wrong"
    assert abs(zigzag.loss[-1] - zigzag.best[2]) < abs(smooth.loss[-1] - smooth.best[2])
    sgd = train(Loop(data="0.8x+2", lr=0.1, sgd=True))
    assert sgd.behaviour == "converges_zigzag" and sgd.judge("converges_smoothly") == "almost"
