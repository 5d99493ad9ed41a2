"""Autograd's classic mistakes, each a small live experiment run by real PyTorch.

Every experiment has two versions, chosen by ``mistake``: the one that makes the
mistake and the fixed one. ``run(key, mistake)`` executes it with plain Python calls
(nothing is ``exec``-uted) and reports what PyTorch printed, warned or raised,
verbatim, together with the code of that version. A test runs the shown code itself
and checks that it prints and raises exactly what the lab reports.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import torch


@dataclass(frozen=True)
class MistakeRun:
    key: str
    mistake: bool
    code: str            # the exact script of this version
    output: str          # what it printed, line by line
    error: str = ""      # PyTorch's exception message, verbatim ("" if none)
    error_type: str = ""  # e.g. "RuntimeError"
    warning: str = ""    # a warning PyTorch emitted, verbatim ("" if none)


def _script(lines: list[str]) -> str:
    return "\n".join(["import torch", ""] + lines) + "\n"


@dataclass(frozen=True)
class Experiment:
    """One mistake: the code of each version, and the same steps as Python calls."""

    lines: Callable[[bool], list[str]]        # mistake -> the lines of its script
    body: Callable[[bool, Callable], None]    # mistake, print -> runs those lines


LEAF = "x = torch.tensor([1., 2., 3.], requires_grad=True)"


def _leaf() -> torch.Tensor:
    return torch.tensor([1., 2., 3.], requires_grad=True)


def _accumulate(mistake: bool, out: Callable) -> None:
    x = _leaf()
    for _ in range(2):
        y = (x ** 2).sum()
        y.backward()
        out(x.grad)
        if not mistake:
            x.grad.zero_()


def _twice(mistake: bool, out: Callable) -> None:
    x = _leaf()
    y = x.exp().sum()
    y.backward(retain_graph=not mistake)
    y.backward()
    out(x.grad)


def _vector(mistake: bool, out: Callable) -> None:
    x = _leaf()
    y = x ** 2
    if mistake:
        y.backward()
    else:
        y.backward(gradient=torch.ones_like(y))
    out(x.grad)


def _nonleaf(mistake: bool, out: Callable) -> None:
    x = _leaf()
    z = x * 2
    if not mistake:
        z.retain_grad()
    y = (z ** 2).sum()
    y.backward()
    out(z.is_leaf, z.grad)


def _no_grad(mistake: bool, out: Callable) -> None:
    x = _leaf()
    if mistake:
        with torch.no_grad():
            z = x * 2
    else:
        z = x * 2
    y = (z ** 2).sum()
    y.backward()
    out(x.grad)


def _detach(mistake: bool, out: Callable) -> None:
    x = _leaf()
    z = (x * 2).detach() if mistake else x * 2
    y = (z * x).sum()
    y.backward()
    out(x.grad)


def _target(mistake: bool, out: Callable) -> None:
    w = torch.tensor(2., requires_grad=True)
    prediction = 3 * w
    target = 2 * w + 1 if mistake else (2 * w + 1).detach()
    loss = (prediction - target) ** 2
    loss.backward()
    out(w.grad)


def _inplace(mistake: bool, out: Callable) -> None:
    x = _leaf()
    z = x.exp()
    if mistake:
        z += 1
    else:
        z = z + 1
    y = z.sum()
    y.backward()
    out(x.grad)


def _leaf_update(mistake: bool, out: Callable) -> None:
    w = _leaf()
    loss = (w ** 2).sum()
    loss.backward()
    if mistake:
        w -= 0.1 * w.grad
    else:
        with torch.no_grad():
            w -= 0.1 * w.grad
    out(w)


def _numpy(mistake: bool, out: Callable) -> None:
    x = _leaf()
    y = x ** 2
    out(y.numpy() if mistake else y.detach().numpy())


def _integer(mistake: bool, out: Callable) -> None:
    x = torch.tensor([2, 3] if mistake else [2., 3.], requires_grad=True)
    y = (x ** 2).sum()
    y.backward()
    out(x.grad)


EXPERIMENTS = {
    "accumulate": Experiment(lambda mistake: [
        LEAF,
        "for step in range(2):",
        "    y = (x ** 2).sum()",
        "    y.backward()",
        "    print(x.grad)"] + ([] if mistake else ["    x.grad.zero_()"]), _accumulate),
    "twice": Experiment(lambda mistake: [
        LEAF,
        "y = x.exp().sum()   # exp saves its result for backward",
        "y.backward()" if mistake else "y.backward(retain_graph=True)",
        "y.backward()",
        "print(x.grad)"], _twice),
    "vector": Experiment(lambda mistake: [
        LEAF,
        "y = x ** 2          # three numbers, not one",
        "y.backward()" if mistake else "y.backward(gradient=torch.ones_like(y))",
        "print(x.grad)"], _vector),
    "nonleaf": Experiment(lambda mistake: [
        LEAF,
        "z = x * 2"] + ([] if mistake else ["z.retain_grad()"]) + [
        "y = (z ** 2).sum()",
        "y.backward()",
        "print(z.is_leaf, z.grad)"], _nonleaf),
    "no_grad": Experiment(lambda mistake: [LEAF] + (
        ["with torch.no_grad():", "    z = x * 2"] if mistake else ["z = x * 2"]) + [
        "y = (z ** 2).sum()",
        "y.backward()",
        "print(x.grad)"], _no_grad),
    "detach": Experiment(lambda mistake: [
        LEAF,
        "z = (x * 2).detach()" if mistake else "z = x * 2",
        "y = (z * x).sum()   # y = 2·x², dy/dx = 4·x",
        "y.backward()",
        "print(x.grad)"], _detach),
    "target": Experiment(lambda mistake: [
        "w = torch.tensor(2., requires_grad=True)",
        "prediction = 3 * w",
        ("target = 2 * w + 1            # built from w, meant as a fixed goal" if mistake
         else "target = (2 * w + 1).detach()   # built from w, kept as a fixed goal"),
        "loss = (prediction - target) ** 2",
        "loss.backward()",
        "print(w.grad)"], _target),
    "inplace": Experiment(lambda mistake: [
        LEAF,
        "z = x.exp()         # exp saves its result z for backward",
        "z += 1" if mistake else "z = z + 1",
        "y = z.sum()",
        "y.backward()",
        "print(x.grad)"], _inplace),
    "leaf_update": Experiment(lambda mistake: [
        LEAF.replace("x = ", "w = "),
        "loss = (w ** 2).sum()",
        "loss.backward()"] + (
        ["w -= 0.1 * w.grad     # one step of gradient descent"] if mistake else
        ["with torch.no_grad():", "    w -= 0.1 * w.grad     # one step of gradient descent"]) + [
        "print(w)"], _leaf_update),
    "numpy": Experiment(lambda mistake: [
        LEAF,
        "y = x ** 2",
        "print(y.numpy())     # e.g. to plot y" if mistake
        else "print(y.detach().numpy())     # e.g. to plot y"], _numpy),
    "integer": Experiment(lambda mistake: [
        "x = torch.tensor([2, 3], requires_grad=True)" if mistake
        else "x = torch.tensor([2., 3.], requires_grad=True)",
        "y = (x ** 2).sum()",
        "y.backward()",
        "print(x.grad)"], _integer),
}
KEYS = tuple(EXPERIMENTS)


def code(key: str, mistake: bool) -> str:
    """The script of one version, exactly as the page shows it."""
    return _script(EXPERIMENTS[key].lines(mistake))


def run(key: str, mistake: bool) -> MistakeRun:
    """Run one version for real: what it printed, warned and raised, verbatim."""
    if key not in EXPERIMENTS:
        raise KeyError(key)
    printed: list[str] = []

    def out(*values) -> None:
        printed.append(" ".join(str(v) for v in values))

    error = error_type = ""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            EXPERIMENTS[key].body(mistake, out)
        except RuntimeError as problem:
            error, error_type = str(problem), type(problem).__name__
    warning = next((str(w.message) for w in caught if issubclass(w.category, UserWarning)), "")
    return MistakeRun(key, mistake, code(key, bool(mistake)), "\n".join(printed), error,
                      error_type, warning)
