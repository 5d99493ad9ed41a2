"""The seed's three proposed exercises."""

import streamlit as st

from lab import chain, graphs
from lab.gradients import InputError
from lab.ui import cached, views
from lab.ui.shell import code_panel, page, section, show_problem, tr


@section
def exercise_1() -> None:
    st.markdown(tr("exercises.ex1_task"))
    n = st.slider("n", 1, 6, 3, key="ex1_n", bind="query-params", help=tr("chain.n_help"))
    result = cached.chain_run(n, 1.0, 2.0, 2.0, "mean")
    st.latex(result.shown.y)             # the function only: the derivative is the task
    columns = st.columns(n)
    typed = [columns[i].text_input(f"∂y/∂x{i}  (x{i} = {views.fmt(result.x[i])})", "",
                                   key=f"ex1_answer_{i}", bind="query-params",
                                   placeholder="2/3", max_chars=40)
             for i in range(n)]
    views.answer_feedback(chain.check_answers(typed, result))
    code_panel(result.code, name="exercise1")


@section
def exercise_2() -> None:
    st.markdown(tr("exercises.ex2_task"))
    floats = st.toggle(tr("exercises.ex2_floats"), False, key="ex2_floats", bind="query-params")
    report = cached.tensor_report("2., 3." if floats else "2, 3",
                                  "float32" if floats else "int64", True, False)
    views.tensor_report(report)
    code_panel(report.code, expanded=True, name="exercise2")
    if st.toggle(tr("exercises.ex2_reveal"), False, key="ex2_reveal", bind="query-params"):
        st.success(tr("exercises.ex2_answer"))


@section
def exercise_3() -> None:
    st.markdown(tr("exercises.ex3_task"))
    controls = st.columns([3, 1])
    low, high = controls[0].slider(tr("exercises.ex3_range"), -6, 10, (1, 5), 1, key="ex3_range",
                                   bind="query-params", help=tr("exercises.ex3_range_help"))
    dtype = controls[1].selectbox("dtype", ("float32", "float64"), key="ex3_dtype",
                                  bind="query-params")
    text, x_spec = chain.exercise_3_input(low, high)
    try:
        result = cached.gradient_run(text, x_spec, "mean", dtype, graph=True)
    except InputError as problem:
        show_problem(problem)
        return
    views.formulas(result)
    left, right = st.columns([1, 3])
    with left:
        views.value_metric(result)
    with right:
        views.notes(result)
        views.gradient_table(result)
    views.graph_panel(result.dot, "exercise3_graph", key="ex3_graph")
    code_panel(graphs.torchviz_code(text, x_spec, "mean", dtype, False, False),
               name="exercise3")


with page("exercises"):
    # Each exercise is a section: a widget in one tab reruns that tab alone.
    one, two, three = st.tabs([tr("exercises.tab1"), tr("exercises.tab2"),
                               tr("exercises.tab3")])
    with one:
        exercise_1()
    with two:
        exercise_2()
    with three:
        exercise_3()
