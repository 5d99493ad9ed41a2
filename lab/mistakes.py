"""Autograd's classic mistakes, each a small live experiment run by real PyTorch.

Every experiment has two versions, chosen by ``mistake``: the one that makes the
mistake and the fixed one. ``run(key, mistake)`` executes it with plain Python calls
(nothing is ``exec``-uted) and reports what PyTorch printed, warned or raised,
verbatim, together with the code of that version (its comments are catalogue keys,
``lab.i18n.comment``, shown in the page's language). A test runs the shown code itself
and checks that it prints and raises exactly what the lab reports.

The page asks first: each experiment offers a few predictions of what its mistake does
(``options``), and ``outcome`` says which one happened, from the run itself.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import torch

from lab import glosses
from lab.i18n import comment


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
    """One mistake: the code of each version, the same steps as Python calls, and what a
    student may predict of the mistake (option ids; ``outcome`` picks the one that
    happened in a run of the mistake)."""

    param: str                                # its URL parameters: ?acc=, ?acc_run=…
    lines: Callable[[bool], list[str]]        # mistake -> the lines of its script
    body: Callable[[bool, Callable], None]    # mistake, print -> runs those lines
    options: tuple[str, ...]
    outcome: Callable[["MistakeRun"], str]


def _printed_or_error(run: "MistakeRun") -> str:
    return "error" if run.error else "prints"


def _twice_the_first(run: "MistakeRun") -> str:
    if run.error:
        return "error"
    first, second = run.output.splitlines()[:2]
    return "same" if first == second else "grows"


def _none_or_values(run: "MistakeRun") -> str:
    if run.error:
        return "error"
    return "none" if run.output.rstrip().endswith("None") else "prints"


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


EXPERIMENTS = {
    "accumulate": Experiment("acc", lambda mistake: [
        LEAF,
        "for step in range(2):",
        "    y = (x ** 2).sum()",
        "    y.backward()",
        "    print(x.grad)"] + ([] if mistake else ["    x.grad.zero_()"]), _accumulate,
        ("same", "grows", "error"), _twice_the_first),
    "twice": Experiment("twice", lambda mistake: [
        LEAF,
        "y = x.exp().sum()   " + comment("mistakes.code_exp_saves"),
        "y.backward()" if mistake else "y.backward(retain_graph=True)",
        "y.backward()",
        "print(x.grad)"], _twice, ("prints", "doubled", "error"), _printed_or_error),
    "vector": Experiment("vec", lambda mistake: [
        LEAF,
        "y = x ** 2          " + comment("mistakes.code_three_numbers"),
        "y.backward()" if mistake else "y.backward(gradient=torch.ones_like(y))",
        "print(x.grad)"], _vector, ("prints", "error"), _printed_or_error),
    "nonleaf": Experiment("leaf", lambda mistake: [
        LEAF,
        "z = x * 2"] + ([] if mistake else ["z.retain_grad()"]) + [
        "y = (z ** 2).sum()",
        "y.backward()",
        "print(z.is_leaf, z.grad)"], _nonleaf, ("prints", "none", "error"), _none_or_values),
    "no_grad": Experiment("nograd", lambda mistake: [LEAF] + (
        ["with torch.no_grad():", "    z = x * 2"] if mistake else ["z = x * 2"]) + [
        "y = (z ** 2).sum()",
        "y.backward()",
        "print(x.grad)"], _no_grad, ("prints", "none", "error"), _none_or_values),
    "inplace": Experiment("inplace", lambda mistake: [
        LEAF,
        "z = x.exp()         " + comment("mistakes.code_exp_saves_z"),
        "z += 1" if mistake else "z = z + 1",
        "y = z.sum()",
        "y.backward()",
        "print(x.grad)"], _inplace, ("prints", "shifted", "error"), _printed_or_error),
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
    warning = next((glosses.shown(str(w.message)) for w in caught
                    if issubclass(w.category, UserWarning)), "")
    return MistakeRun(key, mistake, code(key, bool(mistake)), "\n".join(printed), error,
                      error_type, warning)


def outcome(key: str) -> str:
    """Which of the experiment's options its mistake does, from a real run."""
    return EXPERIMENTS[key].outcome(run(key, True))
