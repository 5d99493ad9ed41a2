"""The playground's inputs and its formula panel (Streamlit-aware; numbers come from lab)."""

from __future__ import annotations

import streamlit as st

from lab import formula as formulas
from lab.gradients import DTYPES
from lab.xvalues import MAX_ELEMENTS, InputError, XSpec, parse_values
from lab.ops import REDUCTIONS
from lab.ui.carried import link_length, linked_text, unlink
from lab.ui.shell import help_button, tr

# The seed's function, exercise 3's, a sigmoid and a polynomial. The options are the
# formulas themselves: a bound widget writes its option to the URL, so they must not
# depend on the page language.
EXAMPLES = ("(x + 1)**2 + 2", "sin(x)*exp(x) + 1/(x+2)", "sigmoid(2*x - 1)",
            "x**3 - 2*x**2 + x - 1")
X_MODES = ("torch.arange", "torch.tensor")
VALUES_MAX_CHARS = 60_000
# What the values may take of a link: with the formula box at its worst
# (MAX_LENGTH * ENCODED_PER_CHARACTER = 2,700) and the other controls, the address stays
# under LINK_MAX (a test adds them up). A longer list stays out of the link, with a note.
VALUES_LINK_MAX = 4_000
DEFAULT_VALUES = "1, 2, 3, 4, 5"
BOUND = {"bind": "query-params", "persist_state": "session"}


def _use_example() -> None:
    """The example picker's callback: copy the chosen formula into the text box."""
    chosen = st.session_state.get("ex")
    if chosen:
        st.session_state["f"] = chosen


def formula_input() -> str:
    # Rows are horizontal containers: one layout block each, where columns cost one per
    # column more (every block is a message per rerun; README, "Performance").
    with st.container(horizontal=True):
        text = st.text_input(tr("playground.formula"), EXAMPLES[0], key="f",
                             max_chars=formulas.MAX_LENGTH, **BOUND)
        st.selectbox(tr("playground.example"), EXAMPLES, index=None, key="ex",
                     placeholder=tr("playground.example_placeholder"), width=320,
                     on_change=_use_example, **BOUND)
    st.caption(tr("playground.formula_help", limit=formulas.MAX_LENGTH) + " "
               + tr("playground.example_help"))
    return text


def formula_problem(text: str) -> formulas.FormulaError | None:
    """Why the formula is refused (message, column, caret), or None."""
    try:
        formulas.parse(text)
    except formulas.FormulaError as problem:
        return problem
    return None


def x_and_options_input() -> tuple[XSpec | None, InputError | None, str, str]:
    """x as ``torch.arange(start, stop, step)`` or ``torch.tensor(values)``, the reduction
    and the dtype, in one row.

    Returns (x's spec, or the problem to show: the other widgets still render), reduce, dtype.
    """
    with st.container(horizontal=True):
        mode = st.radio(tr("playground.x_mode"), X_MODES, key="xm", horizontal=True,
                        width="content", **BOUND)
        linked = True
        if mode == X_MODES[1]:
            typed, linked = linked_text(st.text_input, "xs", DEFAULT_VALUES, VALUES_LINK_MAX,
                                        VALUES_MAX_CHARS, label=tr("playground.values"))
            x_help = (tr("playground.values"), tr("playground.values_help", limit=MAX_ELEMENTS))
        else:
            unlink("xs")                # the values box is not on the page: not in the link
            x_help = (X_MODES[0], tr("playground.range_help", limit=MAX_ELEMENTS))
            start = st.number_input(tr("playground.start"), -1e6, 1e6, 0.0, 0.5,
                                    key="x0", **BOUND)
            stop = st.number_input(tr("playground.stop"), -1e6, 1e6, 3.0, 0.5,
                                   key="x1", **BOUND)
            step = st.number_input(tr("playground.step"), -1e6, 1e6, 1.0, 0.1,
                                   key="dx", **BOUND)
        reduce = st.radio(tr("playground.reduce"), REDUCTIONS, key="r", horizontal=True,
                          width="content", **BOUND)
        dtype = st.radio(tr("playground.dtype"), tuple(DTYPES), key="dt",
                         horizontal=True, width="content", **BOUND)
        help_button((tr("playground.x_mode"), tr("playground.x_mode_help")), x_help,
                    (tr("playground.reduce"), tr("playground.reduce_help")),
                    (tr("playground.dtype"), tr("playground.dtype_help")))
    # Always one element here, filled or not: the elements below (the graph) keep their
    # place, so the browser does not redraw them when the note comes and goes.
    note = st.empty()
    if not linked:
        note.info(tr("playground.values_not_linked", length=link_length(typed),
                     limit=VALUES_LINK_MAX), icon=":material/link_off:")
    try:
        spec = XSpec.of(parse_values(typed)) if mode == X_MODES[1] else \
            XSpec.arange(start, stop, step)
        spec.check()
    except InputError as problem:
        return None, problem, reduce, dtype
    return spec, None, reduce, dtype
