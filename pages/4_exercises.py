"""The seed's three proposed exercises: the student answers or predicts, then sees."""

import streamlit as st

from lab import chain, graphs, tensors
from lab.gradients import DTYPES
from lab.xvalues import InputError
from lab.ui import cached, views
from lab.ui.carried import linked_tabs
from lab.ui.shell import code_panel, page, section, show_problem, tr


@section
def exercise_1() -> None:
    st.markdown(tr("exercises.ex1_task"))
    n = st.slider("n", 1, 6, 3, key="ex1_n", bind="query-params")
    st.caption(tr("chain.n_help"))
    result = cached.chain_run(n, 1.0, 2.0, 2.0, "mean")
    st.latex(result.shown.y)             # the function only: the derivative is the task
    columns = st.columns(n)
    typed = [columns[i].text_input(f"∂y/∂x{i}  (x{i} = {views.fmt(result.x[i])})", "",
                                   key=f"ex1_answer_{i}", bind="query-params", max_chars=40)
             for i in range(n)]
    views.answer_feedback(chain.check_answers(typed, result))
    if st.toggle(tr("exercises.ex1_solution"), False, key="ex1_solution",
                 bind="query-params"):
        views.chain_links(result)
        st.caption(tr("exercises.ex1_solution_values"))
        for row in cached.derivative_at_points(result.text, result.reduce, tuple(result.x)):
            st.latex(row)
        code_panel(result.code, name="exercise1")


GUESSES = ("tensor([2, 3], requires_grad=True)", "RuntimeError")


@section
def exercise_2() -> None:
    st.markdown(tr("exercises.ex2_task"))
    question = cached.tensor_report("2, 3", tensors.INFERRED, True, False)
    st.code(question.code.splitlines()[2], language="python", wrap_lines=True)    # the tutorial's line
    # The options are what PyTorch would print, the same in every language: a bound radio
    # keeps its option's text in the URL.
    guess = st.radio(tr("exercises.ex2_guess"), GUESSES, index=None, key="ex2_guess",
                     bind="query-params", horizontal=True)
    st.caption(tr("exercises.ex2_guess_help"))
    if guess is None:
        return
    right = guess == GUESSES[1]
    verdict = "ex2_guess_right" if right else "ex2_guess_wrong"
    (st.success if right else st.warning)(tr(f"exercises.{verdict}"))
    st.markdown(tr("exercises.ex2_answer"))
    st.caption(tr("exercises.ex2_after"))
    floats = st.toggle(tr("exercises.ex2_floats"), False, key="ex2_floats",
                       bind="query-params")
    report = cached.tensor_report("2., 3.", tensors.INFERRED, True, False) if floats \
        else question
    views.tensor_report(report)
    code_panel(report.code, expanded=True, name="exercise2")


@section
def exercise_3() -> None:
    st.markdown(tr("exercises.ex3_task"))
    controls = st.columns([3, 1])
    low, high = controls[0].slider(tr("exercises.ex3_range"), -6, 10, (1, 5), 1, key="ex3_range",
                                   bind="query-params")
    controls[0].caption(tr("exercises.ex3_range_help"))
    dtype = controls[1].selectbox("dtype", tuple(DTYPES), key="ex3_dtype",
                                  bind="query-params")
    text, x_spec = chain.exercise_3_input(low, high)
    try:
        result = cached.gradient_run(text, x_spec, "mean", dtype, graph=True)
    except InputError as problem:
        show_problem(problem)
        return
    st.latex(result.shown.y)
    guess = st.text_input(tr("exercises.ex3_guess"), "", key="ex3_guess", bind="query-params",
                          max_chars=40)
    st.caption(tr("exercises.ex3_guess_help"))
    if not st.toggle(tr("exercises.ex3_reveal"), False, key="ex3_reveal",
                     bind="query-params"):
        return
    views.guess_feedback(chain.check_guess(guess, result.y))
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
    # The open exercise is in the link as ?exercise=2 (a number: the same in both languages).
    one, two, three = linked_tabs("exercise", [tr("exercises.tab1"), tr("exercises.tab2"),
                                               tr("exercises.tab3")])
    with one:
        exercise_1()
    with two:
        exercise_2()
    with three:
        exercise_3()
