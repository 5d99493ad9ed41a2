"""Cached entry points into lab's core: plain inputs in, plain results out.

Results hold floats and strings only (never live tensors), so a cached copy is as good as a
fresh run; the caches are shared by every session of the server and bounded in bytes
(``lab.ui.memo``): ~120 MB in all, sized from what a result weighs pickled (a 10,000-element
playground run ~1 MB, an inside-backward trace ~50-200 kB, the rest a few kB). Work that its
input says is heavy runs on the server's heavy lane (``lab.ui.lanes``).
"""

from __future__ import annotations

from lab import annotated, backward, cell, chain, derivation, graphs, gradients, mistakes, tensors, training
from lab.drawing import Drawing
from lab.ui.lanes import client_gone, heavy_formula, heavy_program
from lab.ui.memo import memo
from lab.xvalues import XSpec

MB = 1 << 20


def _heavy_run(text: str, x_spec: XSpec, *_, **__) -> bool:
    return heavy_formula(text, x_spec)


@memo(48 * MB, heavy=_heavy_run)
def gradient_run(text: str, x_spec: XSpec, reduce: str, dtype: str, plot: bool = False,
                 graph: bool = False, second: bool = False) -> gradients.GradientRun:
    """One run and everything its page shows."""
    return gradients.run(text, x_spec, reduce, dtype, plot=plot, graph=graph, second=second)


@memo(8 * MB, heavy=_heavy_run)
def torchviz_drawing(text: str, x_spec: XSpec, reduce: str, dtype: str, show_attrs: bool,
                     show_saved: bool) -> Drawing:
    return graphs.torchviz_drawing(text, x_spec, reduce, dtype, show_attrs, show_saved)


@memo(2 * MB)
def tensor_report(values_text: str, dtype: str, requires_grad: bool,
                  backward: bool) -> tensors.TensorReport:
    return tensors.inspect(values_text, dtype, requires_grad, backward)


@memo(2 * MB)
def derivative_at_points(text: str, reduce: str, xs: tuple[float, ...]) -> tuple[str, ...]:
    return derivation.at_points(text, reduce == "mean", xs)


@memo(8 * MB)
def chain_run(n: int, a: float, p: float, c: float, reduce: str) -> gradients.GradientRun:
    return chain.run_chain(n, a, p, c, reduce, plot=True)


@memo(32 * MB, heavy=_heavy_run)
def backward_trace(text: str, x_spec: XSpec, reduce: str, dtype: str) -> backward.BackwardTrace:
    return backward.trace(text, x_spec, reduce, dtype)


@memo(1 * MB)
def mistake_run(key: str, mistake: bool) -> mistakes.MistakeRun:
    return mistakes.run(key, mistake)


@memo(1 * MB)
def mistake_outcome(key: str) -> str:
    return mistakes.outcome(key)


@memo(8 * MB)
def training_run(loop: training.Loop) -> training.TrainingRun:
    """A learning run: at most 200 steps of 8 points and a 41 x 41 grid (~60 kB per result)."""
    return training.train(loop)


@memo(12 * MB, heavy=heavy_program)
def cell_run(program: str) -> cell.CellResult:
    """A program run in the PyTorch cell: the same text always prints the same (the cell's
    random numbers come from the program's own seed), so runs are shared by text. A run
    whose browser has gone stops (``cell.Abandoned``, not kept)."""
    return cell.run_program(program, abandon=client_gone)


@memo(4 * MB)
def step_drawing(text: str, x_spec: XSpec, reduce: str, dtype: str, lang: str, mode: str,
                 step: int) -> Drawing:
    """Page 7's annotated graph at one step, in every palette (a step move draws it again)."""
    return annotated.annotated_drawing(backward_trace(text, x_spec, reduce, dtype), lang, mode,
                                       step, legend=True)


@memo(2 * MB)
def program_step_drawing(program: str, lang: str, step: int) -> Drawing:
    """A program's graph at one step of its backward pass, in every palette."""
    return annotated.program_drawing(program_trace(program), lang, step, legend=True)


@memo(4 * MB, heavy=heavy_program)
def program_trace(program: str):
    """A program run in the cell with its first backward() recorded node by node (page 7)."""
    from lab.cell.stepping import step_through

    return step_through(program, abandon=client_gone)


@memo(2 * MB)
def exercise_3_grade(program: str):
    """Exercise 3: the student's program against the lab's own (lab.cell.grading)."""
    from lab.cell.grading import check_exercise_3

    return check_exercise_3(cell_run(program))
