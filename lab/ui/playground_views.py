"""The playground's inputs and its formula panel (Streamlit-aware; numbers come from lab)."""

from __future__ import annotations

import streamlit as st

from lab import formula as formulas
from lab.gradients import MAX_ELEMENTS, GradientRun, InputError, XSpec, parse_values
from lab.ui.shell import tr

# The seed's function, exercise 3's, a sigmoid and a polynomial. The options are the
# formulas themselves: a bound widget writes its option to the URL, so they must not
# depend on the page language.
EXAMPLES = ("(x + 1)**2 + 2", "sin(x)*exp(x) + 1/(x+2)", "sigmoid(2*x - 1)",
            "x**3 - 2*x**2 + x - 1")
X_MODES = ("torch.arange", "torch.tensor")
VALUES_MAX_CHARS = 60_000
BOUND = {"bind": "query-params", "persist_state": "session"}


def _use_example() -> None:
    """The example picker's callback: copy the chosen formula into the text box."""
    chosen = st.session_state.get("ex")
    if chosen:
        st.session_state["f"] = chosen


def formula_input() -> str:
    left, right = st.columns([3, 2])
    text = left.text_input(tr("playground.formula"), EXAMPLES[0], key="f",
                           max_chars=formulas.MAX_LENGTH,
                           help=tr("playground.formula_help", limit=formulas.MAX_LENGTH),
                           **BOUND)
    right.selectbox(tr("playground.example"), EXAMPLES, index=None, key="ex",
                    placeholder=tr("playground.example_placeholder"),
                    help=tr("playground.example_help"), on_change=_use_example, **BOUND)
    return text


def formula_problem(text: str) -> formulas.FormulaError | None:
    """Why the formula is refused (message, column, caret), or None."""
    try:
        formulas.parse(text)
    except formulas.FormulaError as problem:
        return problem
    return None


def x_input() -> tuple[XSpec | None, InputError | None]:
    """x as ``torch.arange(start, stop, step)`` or ``torch.tensor(values)``.

    Returns the spec, or the problem to show (the other widgets still render).
    """
    columns = st.columns([2, 1, 1, 1])
    mode = columns[0].radio(tr("playground.x_mode"), X_MODES, key="xm", horizontal=True,
                            help=tr("playground.x_mode_help"), **BOUND)
    try:
        if mode == X_MODES[1]:
            typed = st.text_input(tr("playground.values"), "1, 2, 3, 4, 5", key="xs",
                                  max_chars=VALUES_MAX_CHARS,
                                  help=tr("playground.values_help", limit=MAX_ELEMENTS),
                                  **BOUND)
            spec = XSpec.of(parse_values(typed))
        else:
            range_help = tr("playground.range_help", limit=MAX_ELEMENTS)
            start = columns[1].number_input(tr("playground.start"), -1e6, 1e6, 0.0, 0.5,
                                            key="x0", help=range_help, **BOUND)
            stop = columns[2].number_input(tr("playground.stop"), -1e6, 1e6, 3.0, 0.5,
                                           key="x1", help=range_help, **BOUND)
            step = columns[3].number_input(tr("playground.step"), -1e6, 1e6, 1.0, 0.1,
                                           key="dx", help=range_help, **BOUND)
            spec = XSpec.arange(start, stop, step)
        spec.check()
    except InputError as problem:
        return None, problem
    return spec, None


def options_input() -> tuple[str, str]:
    left, right = st.columns(2)
    reduce = left.radio(tr("playground.reduce"), ("mean", "sum"), key="r", horizontal=True,
                        help=tr("playground.reduce_help"), **BOUND)
    dtype = right.radio(tr("playground.dtype"), ("float32", "float64"), key="dt",
                        horizontal=True, help=tr("playground.dtype_help"), **BOUND)
    return reduce, dtype


def formula_panel(result: GradientRun) -> None:
    """f as sympy reads it, y, and the symbolic derivative, in LaTeX."""
    if result.formula_latex:
        st.caption(tr("playground.formula_is"))
        st.latex(f"f(x) = {result.formula_latex}")
        scale = r"\frac{1}{n}" if result.reduce == "mean" else ""
        st.latex(rf"y = {scale}\sum_{{i}} f(x_i)")
    if result.symbolic_latex:
        st.caption(tr("playground.derivative_is"))
        derivative = result.symbolic_latex
        if not derivative.startswith(r"\frac{\partial y}"):
            derivative = f"f'(x) = {derivative}"
        st.latex(derivative)
