"""Seed section 2: a computational graph, y.backward() and x.grad against the chain rule."""

import streamlit as st

from lab import chain
from lab.ui import cached, views
from lab.ui.inputs import chain_inputs
from lab.ui.shell import code_panel, page, section, tr


@section
def chain_page() -> None:
    """The chain's sliders and everything they drive: a slider reruns this part only."""
    inputs = chain_inputs()
    result = cached.chain_run(**inputs)
    left, right = st.columns([1, 2])
    with left:
        views.value_metric(result)
        st.latex(chain.chain_latex(inputs["a"], inputs["p"], inputs["c"], inputs["reduce"]))
        st.latex(chain.chain_rule_latex(inputs["a"], inputs["p"], inputs["reduce"]))
    with right:
        views.notes(result)
        by_hand = cached.chain_rule(tuple(result.x), inputs["a"], inputs["p"], inputs["reduce"])
        views.gradient_table(result, {tr("chain.col_chain_rule"): by_hand}, checks=False)
    views.curve_chart(chain.chain_formula(inputs["a"], inputs["p"], inputs["c"]), result)
    code_panel(result.code, name="backward")


with page("chain"):
    chain_page()
