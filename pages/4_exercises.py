"""The seed's proposed exercises: the student answers or predicts, then sees."""

import streamlit as st

from lab import chain, graphs, tensors
from lab.i18n import Typed
from lab.ui import cached, views
from lab.ui.links import linked, linked_tabs
from lab.ui.shell import code_panel, page, section, tr


def exercise_1() -> None:
    """Exercise 1 is asked on page 2, before backward() answers it."""
    st.markdown(tr("exercises.ex1_task"))
    st.page_link("pages/2_backward.py", label=tr("exercises.ex1_link"),
                 icon=":material/arrow_forward:")


@section
def exercise_2() -> None:
    st.markdown(tr("exercises.ex2_task"))
    question = cached.tensor_report("2, 3", tensors.INFERRED, True, False)
    st.code(question.code.splitlines()[2], language="python", wrap_lines=True)   # the tutorial's
    labels = {guess: tr(f"exercises.ex2_{guess}") for guess in tensors.GUESSES}
    guess = linked(st.radio, "ex2_guess", label=tr("exercises.ex2_guess"),
                   options=tensors.GUESSES, format_func=labels.get)
    # The student's reason stays in this page: not in the link, not sent anywhere.
    why = st.text_area(tr("exercises.ex2_why"), key="ex2_why", max_chars=1000, height=80)
    if not linked(st.toggle, "ex2_check", label=tr("exercises.ex2_check")):
        st.caption(tr("exercises.ex2_ask"))
        return
    views.verdict(None if guess is None else guess == "error",
                  tr("exercises.ex2_guess_right"), tr("exercises.ex2_guess_wrong"),
                  tr("exercises.ex2_no_guess"))
    if why.strip():
        st.caption(tr("exercises.ex2_your_reason", why=Typed(why.strip())))
    st.markdown(tr("exercises.ex2_answer"))
    views.tensor_report(question)
    st.markdown(tr("exercises.ex2_after"))
    floats = linked(st.toggle, "ex2_floats", label=tr("exercises.ex2_floats"))
    if floats:
        views.tensor_report(cached.tensor_report("2., 3.", tensors.INFERRED, True, False))
    st.info(tr("exercises.ex2_remember"), icon=":material/lightbulb:")
    code_panel(question.code, expanded=True, name="exercise2")


@section
def exercise_3() -> None:
    st.markdown(tr("exercises.ex3_task"))
    text, x_spec = chain.exercise_3_input(1, 5)
    result = cached.gradient_run(text, x_spec, "mean", "float32", graph=True)
    st.latex(result.shown.y)
    guess = linked(st.text_input, "ex3_guess", label=tr("exercises.ex3_guess"), max_chars=40)
    st.caption(tr("exercises.ex3_guess_help"))
    if not linked(st.toggle, "ex3_reveal", label=tr("exercises.ex3_reveal")):
        return
    views.guess_feedback(chain.check_guess(guess, result.y))
    views.formulas(result)
    views.value_metric(result)
    views.notes(result)
    views.gradient_table(result)
    views.graph_panel(result.dot, "exercise3_graph", key="ex3_graph")
    st.info(tr("exercises.ex3_remember"), icon=":material/lightbulb:")
    code_panel(graphs.torchviz_code(text, x_spec, "mean", "float32", False, False),
               name="exercise3")


with page("exercises", asks_first=True):
    # The open exercise is in the link as ?exercise=2 (a number: the same in both languages).
    one, two, three = linked_tabs("exercise", [tr("exercises.tab1"), tr("exercises.tab2"),
                                               tr("exercises.tab3")])
    with one:
        exercise_1()
    with two:
        exercise_2()
    with three:
        exercise_3()
