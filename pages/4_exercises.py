"""The seed's proposed exercises: the student answers, predicts or writes the code first,
then sees."""

import streamlit as st

from lab import chain, graphs, questions, tensors
from lab.cell.examples import EXERCISE_3
from lab.i18n import Typed
from lab.site import BY_ID
from lab.ui import cached, cell_views, class_views, views
from lab.ui.cell_views import code_panel
from lab.ui.links import linked, linked_tabs
from lab.ui.shell import page, page_object, section, tr


def exercise_1() -> None:
    """Exercise 1 is asked on page 2, before backward() answers it."""
    st.markdown(tr("exercises.ex1_task"))
    st.page_link(page_object(BY_ID["backward"]), label=tr("exercises.ex1_link"),
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
    gate = class_views.gate("ex2", commit="ex2_check")      # in a class: held till revealed
    checked = linked(st.toggle, "ex2_check", label=tr("exercises.ex2_check"))
    if checked:                                              # committed: sent to a class
        class_views.commit("ex2", questions.ex2_option(guess))
    class_views.at_question("ex2", gate)
    if gate.held or not (checked or gate.revealed):
        if not checked:
            st.caption(tr("exercises.ex2_ask"))
        return
    views.verdict(None if guess is None else guess == "error",
                  tr("exercises.ex2_guess_right"), tr("exercises.ex2_guess_wrong"),
                  tr("exercises.ex2_no_guess"))
    if why.strip():
        st.caption(tr("exercises.ex2_your_reason", why=Typed(why.strip())))
    st.markdown(tr("exercises.ex2_answer"))
    views.tensor_report(question)
    st.info(tr("exercises.ex2_remember"), icon=":material/lightbulb:")
    st.markdown(tr("exercises.ex2_after"))
    program = cell_views.program_box("ex2_code", tr("code.program"), height=160)
    cell_views.output(cell_views.run(program), "ex2")


@section
def exercise_3() -> None:
    st.markdown(tr("exercises.ex3_task"))
    program = cell_views.program_box("ex3_code", tr("code.program"), height=300)
    gate = class_views.gate("ex3_code")                     # in a class: held till revealed
    result = grade = None
    if program.strip() == EXERCISE_3.strip():         # nothing written yet: nothing to check
        st.caption(tr("exercises.ex3_start"))
    else:
        result = cell_views.run(program)
        cell_views.output(result, "ex3", graphs=False)
        grade = cached.exercise_3_grade(program)
        st.markdown(f"**{tr('exercises.ex3_check')}**")
        text = "\n\n".join(tr(m.key, **m.values) for m in grade.messages)
        (st.success if grade.correct else st.warning)(
            text, icon=":material/check_circle:" if grade.correct else ":material/info:")
        first = grade.messages[0].key if grade.messages else None       # each run: sent
        class_views.commit("ex3_code", questions.ex3_code_option(grade.correct, first),
                           token=class_views.program_token(program))
    class_views.at_question("ex3_code", gate, sends="answers.sends_code")
    if gate.held or grade is None and not gate.revealed:
        return
    if not gate.revealed and not linked(st.toggle, "ex3_reference",
                                        label=tr("exercises.ex3_reference")):
        st.caption(tr("exercises.ex3_reference_help"))
        return
    text, x_spec = chain.exercise_3_input(1, 5)
    reference = cached.gradient_run(text, x_spec, "mean", "float32", graph=True)
    if grade is not None:
        views.comparison(tr("exercises.ex3_compare"), grade)
        yours, lab = st.columns(2)
        with yours:
            st.markdown(f"**{tr('exercises.ex3_yours')}**")
            for index, drawing in enumerate(result.drawings):
                views.graph_panel(drawing, f"exercise3_yours_{index + 1}",
                                  key=f"ex3_yours_{index}")
    else:                                 # revealed to a class before this student wrote
        lab = st.container()
    with lab:
        st.markdown(f"**{tr('exercises.ex3_lab')}**")
        views.graph_panel(reference.drawing, "exercise3_graph", key="ex3_graph")
    views.formulas(reference)
    views.value_metric(reference)
    views.gradient_table(reference)
    st.info(tr("exercises.ex3_remember"), icon=":material/lightbulb:")
    code_panel(graphs.torchviz_code(text, x_spec, "mean", "float32", False, False),
               name="exercise3")


with page("exercises", asks_first=True):
    # The open exercise is in the link as ?exercise=2 (a number: the same in both languages).
    one, two, three = linked_tabs("exercise", [tr("exercises.tab1"), tr("exercises.tab2"),
                                               tr("exercises.tab3")])
    # Only the open tab's exercise runs (Streamlit's lazy tabs: linked_tabs tracks the open one).
    for tab, exercise in ((one, exercise_1), (two, exercise_2), (three, exercise_3)):
        if tab.open:
            with tab:
                exercise()
