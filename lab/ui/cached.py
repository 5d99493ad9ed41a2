"""Cached entry points into lab's core: plain inputs in, plain results out.

Results hold floats and strings only (never live tensors), so a cached copy is as
good as a fresh run; the cache is shared by every session of the server.
"""

from __future__ import annotations

import streamlit as st

from lab import backward, cell, chain, derivation, graphs, gradients, mistakes, tensors, training
from lab.drawing import Drawing
from lab.xvalues import XSpec

ENTRIES = 512
RUNS = 32


@st.cache_data(max_entries=RUNS, show_spinner=False)
def gradient_run(text: str, x_spec: XSpec, reduce: str, dtype: str, plot: bool = False,
                 graph: bool = False, second: bool = False) -> gradients.GradientRun:
    """One run and everything its page shows. A 10,000-element playground run is ~1 MB, so
    fewer of these are kept than of the small results below: 32 hold ~65 MB less than 128
    did (docs/performance.md, "Memory")."""
    return gradients.run(text, x_spec, reduce, dtype, plot=plot, graph=graph, second=second)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def torchviz_drawing(text: str, x_spec: XSpec, reduce: str, dtype: str, show_attrs: bool,
                     show_saved: bool) -> Drawing:
    return graphs.torchviz_drawing(text, x_spec, reduce, dtype, show_attrs, show_saved)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def tensor_report(values_text: str, dtype: str, requires_grad: bool,
                  backward: bool) -> tensors.TensorReport:
    return tensors.inspect(values_text, dtype, requires_grad, backward)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def derivative_at_points(text: str, reduce: str, xs: tuple[float, ...]) -> tuple[str, ...]:
    return derivation.at_points(text, reduce == "mean", xs)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def chain_run(n: int, a: float, p: float, c: float, reduce: str) -> gradients.GradientRun:
    return chain.run_chain(n, a, p, c, reduce, plot=True)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def backward_trace(text: str, x_spec: XSpec, reduce: str, dtype: str) -> backward.BackwardTrace:
    return backward.trace(text, x_spec, reduce, dtype)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def mistake_run(key: str, mistake: bool) -> mistakes.MistakeRun:
    return mistakes.run(key, mistake)


@st.cache_data(max_entries=ENTRIES, show_spinner=False)
def mistake_outcome(key: str) -> str:
    return mistakes.outcome(key)


@st.cache_data(max_entries=128, show_spinner=False)
def training_run(loop: training.Loop) -> training.TrainingRun:
    """A learning run: at most 200 steps of 8 points and a 41 x 41 grid (~60 kB per result)."""
    return training.train(loop)


@st.cache_data(max_entries=128, show_spinner=False)
def cell_run(program: str) -> cell.CellResult:
    """A program run in the PyTorch cell: the same text always prints the same (the cell's
    random numbers come from the program's own seed), so runs are shared by text."""
    return cell.run_program(program)


@st.cache_data(max_entries=128, show_spinner=False)
def exercise_3_grade(program: str):
    """Exercise 3: the student's program against the lab's own (lab.cell.grading)."""
    from lab.cell.grading import check_exercise_3

    return check_exercise_3(cell_run(program))
