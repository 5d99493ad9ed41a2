"""The playground: any formula in x, its gradient checked three ways, its graph and code."""

import streamlit as st

from lab.ui import cached, views
from lab.ui.playground_views import formula_input, formula_problem, x_and_options_input
from lab.ui.cell_views import code_panel
from lab.ui.shell import folded, page, section, show_problem, tr


@section
def playground() -> None:
    """Inputs and results: a change here reruns this part only, not the page frame."""
    text = formula_input()
    x_spec, x_problem, reduce, dtype = x_and_options_input()
    problems = [p for p in (formula_problem(text), x_problem) if p is not None]
    for problem in problems:
        show_problem(problem)
    if problems:
        return
    result = cached.gradient_run(text, x_spec, reduce, dtype, plot=True, graph=True,
                                 second=True)
    views.formulas(result)
    left, right = st.columns([1, 3])
    with left:
        views.value_metric(result)
    with right:
        views.notes(result)
        views.gradient_table(result)
        if dtype == "float32":
            precision = folded(tr("playground.precision_title"), "precision_open")
            if precision:
                with precision:
                    views.precision_table(result)
    st.header(tr("playground.second_title"), anchor=False)
    views.second_derivative(result)
    views.curve_chart(result, tangents=True)
    st.header(tr("playground.graph_title"), anchor=False)
    views.graph_panel(result.drawing, "playground_graph", key="pg_graph")
    code_panel(result.code, name="playground")


with page("playground"):
    playground()
