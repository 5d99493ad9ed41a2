"""Seed section 2: a computational graph and backward(). Ask first: the student works out
∂y/∂xᵢ by hand (the tutorial's exercise 1), then calls y.backward() and compares."""

import streamlit as st

from lab import chain, questions
from lab.ui import cached, class_views, views
from lab.ui.inputs import chain_inputs
from lab.ui.links import linked
from lab.ui.cell_views import code_panel
from lab.ui.shell import folded, page, remember, section, tr

ANSWER_BOXES = 6          # boxes for the first elements of x (n goes up to 20)


@section
def chain_page() -> None:
    """The chain's sliders and everything they drive: a slider reruns this part only."""
    inputs = chain_inputs()
    result = cached.chain_run(**inputs)
    st.latex(result.shown.y)                      # the function: the derivative is the task
    views.value_metric(result)
    st.header(tr("backward.ex1_title"), anchor=False)
    st.markdown(tr("backward.ex1_task"))
    shown = min(result.n, ANSWER_BOXES)
    columns = st.columns(shown)
    typed = [linked(columns[i].text_input, f"ex1_{i}", max_chars=40,
                    label=f"∂y/∂x{i}  (x{i} = {views.fmt(result.x[i])})") for i in range(shown)]
    if result.n > shown:
        st.caption(tr("backward.ex1_first", shown=shown, n=result.n))
    checks = chain.check_answers(typed, result)
    gate = class_views.gate("ex1", commit="backward")       # in a class: held till revealed
    views.answer_feedback(checks, judged=not gate.held)
    ran = linked(st.toggle, "backward", label=tr("backward.run"))
    if ran:                                                  # committed: sent to a class
        for i, check in enumerate(checks):
            class_views.commit(questions.part_id("ex1", i),
                               questions.ex1_option(check.correct, check.hint))
    class_views.at_question("ex1", gate)
    if gate.held or not (ran or gate.revealed):
        if not ran:
            st.info(tr("backward.not_yet"), icon=":material/hourglass_empty:")
        code_panel(result.code, name="backward")
        return
    views.formulas(result, y=False)
    views.notes(result)
    views.gradient_table(result, (tr("backward.col_chain_rule"), result.symbolic),
                         checks=False)
    steps = folded(tr("backward.links_title"), "links_open")
    if steps:
        with steps:
            views.chain_links(result)
            st.caption(tr("backward.values_at_points"))
            for row in cached.derivative_at_points(result.text, result.reduce,
                                                   tuple(result.x)):
                st.latex(row)
    views.curve_chart(result)
    code_panel(result.code, name="backward")
    remember("backward")


with page("backward", asks_first=True):
    chain_page()
