"""Seed section 1: tensors and requires_grad."""

import streamlit as st

from lab.tensors import TENSOR_DTYPES
from lab.xvalues import InputError
from lab.ui import cached, cell_views
from lab.ui.links import linked
from lab.ui.cell_views import code_panel
from lab.ui.shell import help_button, page, section, show_problem, tr
from lab.ui.views import tensor_report


@section
def experiment() -> None:
    """The tensor and its report; a change here reruns this part only."""
    left, right = st.columns([1, 1])
    with left:
        values = linked(st.text_input, "values", label=tr("tensors.values"), max_chars=400)
        dtype = linked(st.selectbox, "dtype", label=tr("tensors.dtype"), options=TENSOR_DTYPES)
        requires_grad = linked(st.toggle, "requires_grad", label="requires_grad")
        backward = linked(st.toggle, "backward", label=tr("tensors.backward"))
        help_button((tr("tensors.values"), tr("tensors.values_help")),
                    (tr("tensors.dtype"), tr("tensors.dtype_help")),
                    ("requires_grad", tr("tensors.requires_grad_help")),
                    (tr("tensors.backward"), tr("tensors.backward_help")))
    with right:
        try:
            report = cached.tensor_report(values, dtype, requires_grad, backward)
        except InputError as problem:
            show_problem(problem)
        else:
            tensor_report(report)
            code_panel(report.code, expanded=True, name="tensors")


@section
def tutorial_cells() -> None:
    """The tutorial's own cells, to run and change (lab.cell)."""
    st.header(tr("tensors.cells_title"), anchor=False)
    st.markdown(tr("tensors.cells_task"))
    program = cell_views.program_box("cell", tr("code.program"), height=240)
    cell_views.output(cell_views.run(program), "tensors_cell")


with page("tensors"):
    experiment()
    tutorial_cells()
