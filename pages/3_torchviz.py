"""Seed section 3: drawing the computational graph with torchviz's make_dot."""

import streamlit as st

from lab import chain, graphs
from lab.ui import cached, views
from lab.ui.inputs import chain_inputs
from lab.ui.links import linked
from lab.ui.cell_views import code_panel
from lab.ui.shell import help_button, page, section, tr


@section
def drawing() -> None:
    """The chain, make_dot's options and the graph: a change reruns this part only."""
    inputs = chain_inputs()
    text, x_spec = chain.chain_input(inputs["n"], inputs["a"], inputs["p"], inputs["c"])
    options = st.container(horizontal=True, gap="large")
    with options:
        show_attrs = linked(st.toggle, "show_attrs", label="show_attrs")
        show_saved = linked(st.toggle, "show_saved", label="show_saved")
        help_button(("show_attrs", tr("torchviz.show_attrs_help")),
                    ("show_saved", tr("torchviz.show_saved_help")))
    reduce = inputs["reduce"]
    views.graph_panel(cached.torchviz_drawing(text, x_spec, reduce, "float32", show_attrs,
                                              show_saved), "torchviz_graph")
    code_panel(graphs.torchviz_code(text, x_spec, reduce, "float32", show_attrs, show_saved),
               name="torchviz")


with page("torchviz"):
    drawing()
