"""Inside backward(): both passes walked step by step over the annotated autograd graph."""

import streamlit as st

from lab.formula import FormulaError
from lab.xvalues import InputError
from lab.ui import cached, cell_views, inside_views, views
from lab.ui.cell_views import code_panel
from lab.ui.shell import lang, lecture, page, section, show_problem, tr


@section
def walk(trace, text, x_spec, reduce, dtype) -> None:
    """The walk through one computation: a step or view change reruns only this part."""
    torchviz, mode = inside_views.view_options()
    step = inside_views.step_controls(len(trace.steps(mode)))
    for note in trace.notes:
        st.warning(tr(note.key, **note.values), icon=":material/warning:")

    def drawing() -> None:
        if torchviz:
            views.graph_panel(cached.torchviz_drawing(text, x_spec, reduce, dtype, False, False),
                              "torchviz_graph", key="inside_graph")
            st.caption(tr("inside_backward.torchviz_note"))
        else:
            inside_views.annotated_graph(trace, mode, step - 1, cached.step_drawing(
                text, x_spec, reduce, dtype, lang(), mode, step - 1))

    if lecture():
        # Projected, the step's explanation and the graph stand side by side (both in view).
        panel, graph = st.columns([2, 3], gap="large")
        with panel:
            inside_views.step_panel(trace, mode, step - 1)
        with graph:
            drawing()
    else:
        # The step's heading, its node in the graph, then its maths: the graph right under
        # Previous/Next, where a phone shows it (it was 700-900 px further down).
        inside_views.step_heading(trace, mode, step - 1)
        drawing()
        inside_views.step_panel(trace, mode, step - 1, heading=False)
    inside_views.order_table(trace, mode, step - 1)


@section
def program_walk() -> None:
    """A student's program: its first backward() stepped node by node (lab.cell.stepping)."""
    program = cell_views.program_box("program", tr("inside_backward.program"), height=240)
    trace = cell_views.run(program, stepped=True)
    if not inside_views.program_problem(trace):
        step = inside_views.step_controls(len(trace.steps))
        drawing = cached.program_step_drawing(program, lang(), step - 1)
        if lecture():
            panel, graph = st.columns([2, 3], gap="large")
            with panel:
                inside_views.program_heading(trace, step - 1)
                inside_views.program_panel(trace, step - 1)
            with graph:
                inside_views.program_graph(trace, step - 1, drawing)
        else:
            inside_views.program_heading(trace, step - 1)
            inside_views.program_graph(trace, step - 1, drawing)
            inside_views.program_panel(trace, step - 1)
        inside_views.program_order(trace, step - 1)
    st.subheader(tr("inside_backward.program_output"), anchor=False)
    cell_views.output(trace.result, "inside_program")


with page("inside_backward"):
    choice = inside_views.computation()
    if choice == "program":
        program_walk()
    else:
        try:
            text, x_spec, reduce, dtype = inside_views.computation_inputs(choice)
            trace = cached.backward_trace(text, x_spec, reduce, dtype)
        except (FormulaError, InputError) as problem:
            show_problem(problem)
        else:
            walk(trace, text, x_spec, reduce, dtype)
            code_panel(trace.code_for(lang()), name="inside_backward")   # the same at every step
