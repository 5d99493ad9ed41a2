"""Page 6's widgets and views: which computation, the step controls, the step panel, the order."""

from __future__ import annotations

import streamlit as st

from lab import chain
from lab.backward import ACCUMULATE, BackwardTrace, short
from lab.formula import MAX_LENGTH
from lab.gradients import DTYPES, XSpec, parse_values
from lab.ops import REDUCTIONS
from lab.ui.inputs import chain_inputs
from lab.ui.shell import tr
from lab.ui.verbatim import code_span
from lab.ui.views import fmt, table

# The URL keeps a radio's label: these are the same in every language, so a link made in
# one language reopens the same computation in the other.
COMPUTATIONS = {"chain": "(x + a)**p + c", "ex3": chain.EXERCISE_3, "formula": "f(x)"}
MODES = ("backward", "forward")
DEFAULT_FORMULA = "x**2 * sigmoid(x) - 1/x"
DEFAULT_VALUES = "1, 2, 3"


def computation_inputs() -> tuple[str, XSpec, str, str]:
    """The computation to look inside: (formula text, x, reduction, dtype).

    A typed list of x values that cannot be read raises ``InputError``.
    """
    choice = st.radio(tr("inside.computation"), tuple(COMPUTATIONS), key="comp",
                      bind="query-params", horizontal=True, format_func=COMPUTATIONS.get,
                      help=tr("inside.computation_help"))
    if choice == "chain":
        inputs = chain_inputs()
        text, x_spec = chain.chain_input(inputs["n"], inputs["a"], inputs["p"], inputs["c"])
        return text, x_spec, inputs["reduce"], "float32"
    if choice == "ex3":
        columns = st.columns([3, 1])
        low, high = columns[0].slider(tr("exercises.ex3_range"), -6, 10, (1, 5), 1, key="range",
                                      bind="query-params", help=tr("exercises.ex3_range_help"))
        dtype = columns[1].selectbox(tr("inside.dtype"), tuple(DTYPES), key="dtype",
                                     bind="query-params")
        text, x_spec = chain.exercise_3_input(low, high)
        return text, x_spec, "mean", dtype
    columns = st.columns([4, 2, 1, 1])
    text = columns[0].text_input(tr("inside.formula"), DEFAULT_FORMULA, key="f",
                                 bind="query-params", max_chars=MAX_LENGTH,
                                 help=tr("inside.formula_help"))
    values = columns[1].text_input(tr("inside.values"), DEFAULT_VALUES, key="xs",
                                   bind="query-params", max_chars=400,
                                   help=tr("inside.values_help"))
    reduce = columns[2].radio(tr("inside.reduce"), REDUCTIONS, key="r", bind="query-params")
    dtype = columns[3].selectbox(tr("inside.dtype"), tuple(DTYPES), key="dtype",
                                 bind="query-params")
    return text, XSpec.of(parse_values(values)), reduce, dtype


def view_options() -> tuple[bool, str]:
    """(torchviz drawing instead of the annotated graph?, "backward" or "forward")."""
    row = st.container(horizontal=True, gap="large")   # one block (README, Performance)
    mode = row.radio(tr("inside.mode"), MODES, key="mode", bind="query-params",
                     horizontal=True, help=tr("inside.mode_help"), width="content")
    torchviz = row.toggle(tr("inside.torchviz"), False, key="torchviz",
                          bind="query-params", help=tr("inside.torchviz_help"))
    return torchviz, mode


def _move(delta: int, count: int) -> None:
    st.session_state["step"] = max(1, min(count, st.session_state.get("step", 1) + delta))


def step_controls(count: int) -> int:
    """A step slider kept in the URL, with previous/next buttons; returns the step (1-based)."""
    current = st.session_state.get("step")
    if isinstance(current, int) and not 1 <= current <= count:
        st.session_state["step"] = max(1, min(count, current))
    row = st.container(horizontal=True, vertical_alignment="bottom")
    step = row.slider(tr("inside.step"), 1, count, key="step", bind="query-params",
                      help=tr("inside.step_help"))
    row.button(tr("inside.previous"), key="prev", on_click=_move, args=(-1, count),
               disabled=step <= 1, icon=":material/arrow_back:")
    row.button(tr("inside.next"), key="next", on_click=_move, args=(1, count),
               disabled=step >= count, icon=":material/arrow_forward:")
    return step


def step_panel(trace: BackwardTrace, mode: str, index: int) -> None:
    """What happens at one step: the code and values (forward) or the chain rule (backward)."""
    steps = trace.steps(mode)
    if mode == "forward":
        step = steps[index]
        st.markdown(tr("inside.forward_step", k=index + 1, n=len(steps), tensor=step.tensor))
        st.code(step.statement, language="python", wrap_lines=True)
        st.latex(step.latex)
        st.caption(tr("inside.forward_note"))
        return
    step = steps[index]
    size = trace.node("x").size
    st.markdown(tr("inside.backward_step", k=index + 1, n=len(steps), name=step.name))
    if step.name == ACCUMULATE:
        st.markdown(tr("inside.accumulate"))
    else:
        st.markdown(tr("inside.receives", output=code_span(step.output)))
    for latex in step.latex:
        st.latex(latex)
    if any(one.summed for one in step.passes):
        st.caption(tr("inside.summed"))
    for slot in step.constant_slots:
        st.caption(tr("inside.constant_input", slot=slot))
    st.markdown(f"**{tr('inside.x_grad_so_far')}**", help=tr("inside.x_grad_help"))
    if step.x_grad is None:
        st.caption(tr("inside.x_grad_none"))
    else:
        x = trace.node("x")
        shown = len(step.x_grad)
        table({"i": list(range(shown)), "x_i": [fmt(v) for v in x.values[:shown]],
               tr("inside.x_grad_row"): [fmt(v) for v in step.x_grad]})
        if size > shown:
            st.caption(tr("inside.elements_cut", shown=shown, total=size))
    if index == len(steps) - 1:
        st.success(tr("inside.final", grad=short(trace.x_grad, size, first=5)),
                   icon=":material/check_circle:")


def order_table(trace: BackwardTrace, mode: str, index: int) -> None:
    """Every step at a glance, the current one marked."""
    st.subheader(tr("inside.order_forward" if mode == "forward" else "inside.order"))
    marks = ["▶ " if i == index else "" for i in range(len(trace.steps(mode)))]
    if mode == "forward":
        rows = {tr("inside.col_step"): [f"{m}{i + 1}" for i, m in enumerate(marks)],
                tr("inside.col_tensor"): [s.tensor for s in trace.forward_steps],
                tr("inside.col_code"): [s.statement.replace("\n", "; ")
                                        for s in trace.forward_steps],
                tr("inside.col_values"): [short(trace.node(s.tensor).values,
                                                trace.node(s.tensor).size)
                                          for s in trace.forward_steps]}
    else:
        size = trace.node("x").size
        steps = trace.backward_steps
        rows = {tr("inside.col_step"): [f"{m}{i + 1}" for i, m in enumerate(marks)],
                tr("inside.col_node"): [s.name for s in steps],
                tr("inside.col_output"): [s.output for s in steps],
                tr("inside.col_upstream"): [short(s.upstream, s.upstream_size) for s in steps],
                tr("inside.col_passes"): [", ".join(p.tensor for p in s.passes) or "x.grad"
                                          for s in steps],
                tr("inside.col_x_grad"): ["—" if s.x_grad is None else short(s.x_grad, size)
                                          for s in steps]}
    table(rows)
