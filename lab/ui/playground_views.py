"""The playground's inputs and its formula panel (Streamlit-aware; numbers come from lab)."""

from __future__ import annotations

import streamlit as st

from lab import formula as formulas
from lab.gradients import DTYPES
from lab.formula import EXAMPLES
from lab.xvalues import (DEFAULT_VALUES, MAX_ELEMENTS, VALUES_LINK_MAX, VALUES_MAX_CHARS, X_MODES,
                          InputError, XSpec, parse_values)
from lab.ops import REDUCTIONS, function_list, function_names
from lab.ui.links import in_link, link_length, linked, unlink
from lab.ui.shell import help_button, tr


def _use_example() -> None:
    """The example picker's callback: copy the chosen formula into the text box."""
    chosen = st.session_state.get("ex")
    if chosen:
        st.session_state["f"] = chosen


def formula_input() -> str:
    # Rows are horizontal containers: one layout block each, where columns cost one per
    # column more (every block is a message per rerun; docs/performance.md).
    with st.container(horizontal=True):
        text = linked(st.text_input, "f", label=tr("playground.formula"),
                      max_chars=formulas.MAX_LENGTH)
        # An action, not a setting: it copies its formula into the box (not in the link).
        st.selectbox(tr("playground.example"), EXAMPLES, index=None, key="ex",
                     placeholder=tr("playground.example_placeholder"), width=320,
                     on_change=_use_example)
    st.caption(tr("playground.formula_help", limit=formulas.MAX_LENGTH,
                  functions=function_list()) + " "
               + tr("playground.example_help"))
    return text


def _functions_named() -> str:
    """Every function of the language with its name in the page's language (the registry's
    entries, their names from the catalogue: ops.<name>)."""
    return ", ".join(f"`{name}` ({tr(f'ops.{name}')})" for name in function_names())


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
        mode = linked(st.radio, "xm", label=tr("playground.x_mode"), options=X_MODES,
                      horizontal=True, width="content")
        if mode == X_MODES[1]:
            typed = linked(st.text_input, "xs", label=tr("playground.values"),
                           max_chars=VALUES_MAX_CHARS)
            x_help = (tr("playground.values"), tr("playground.values_help", limit=MAX_ELEMENTS))
        else:
            unlink("xs")                # the values box is not on the page: not in the link
            x_help = (X_MODES[0], tr("playground.range_help", limit=MAX_ELEMENTS))
            start = linked(st.number_input, "x0", label=tr("playground.start"),
                           min_value=-1e6, max_value=1e6, step=0.5)
            stop = linked(st.number_input, "x1", label=tr("playground.stop"),
                          min_value=-1e6, max_value=1e6, step=0.5)
            step = linked(st.number_input, "dx", label=tr("playground.step"),
                          min_value=-1e6, max_value=1e6, step=0.1)
        reduce = linked(st.radio, "r", label=tr("playground.reduce"), options=REDUCTIONS,
                        horizontal=True, width="content",
                        captions=[tr(f"backward.reduce_{name}") for name in REDUCTIONS])
        dtype = linked(st.radio, "dt", label=tr("playground.dtype"), options=tuple(DTYPES),
                       horizontal=True, width="content")
        help_button((tr("playground.functions"), _functions_named()),
                    (tr("playground.x_mode"), tr("playground.x_mode_help")), x_help,
                    (tr("playground.reduce"), tr("playground.reduce_help")),
                    (tr("playground.dtype"), tr("playground.dtype_help")))
    # Always one element here, filled or not: the elements below (the graph) keep their
    # place, so the browser does not redraw them when the note comes and goes.
    note = st.empty()
    if mode == X_MODES[1] and not in_link("xs") and typed != DEFAULT_VALUES:
        note.info(tr("playground.values_not_linked", length=link_length(typed),
                     limit=VALUES_LINK_MAX), icon=":material/link_off:")
    try:
        spec = XSpec.of(parse_values(typed)) if mode == X_MODES[1] else \
            XSpec.arange(start, stop, step)
        spec.check()
    except InputError as problem:
        return None, problem, reduce, dtype
    return spec, None, reduce, dtype
