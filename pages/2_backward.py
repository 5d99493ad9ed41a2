"""Seed section 2: a computational graph, y.backward() and x.grad against the chain rule."""

import streamlit as st

from lab.ui import cached, views
from lab.ui.inputs import chain_inputs
from lab.ui.shell import code_panel, page, section, tr


@section
def chain_page() -> None:
    """The chain's sliders and everything they drive: a slider reruns this part only."""
    inputs = chain_inputs()
    result = cached.chain_run(**inputs)
    views.formulas(result)
    left, right = st.columns([1, 3])
    with left:
        views.value_metric(result)
    with right:
        views.notes(result)
        views.gradient_table(result, (tr("chain.col_chain_rule"), result.symbolic),
                             checks=False)
    with st.expander(tr("chain.links_title")):
        views.chain_links(result)
    views.curve_chart(result)
    code_panel(result.code, name="backward")


with page("chain"):
    chain_page()
