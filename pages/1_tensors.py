"""Seed section 1: tensors and requires_grad (and exercise 2, the integer dtype)."""

import streamlit as st

from lab.xvalues import InputError
from lab.tensors import TENSOR_DTYPES
from lab.ui import cached
from lab.ui.shell import code_panel, help_button, page, section, show_problem, tr
from lab.ui.views import tensor_report


@section
def experiment() -> None:
    """The tensor and its report; a change here reruns this part only."""
    left, right = st.columns([1, 1])
    values = left.text_input(tr("tensors.values"), "2., 3.", key="values", bind="query-params",
                             max_chars=400)
    dtype = left.selectbox(tr("tensors.dtype"), TENSOR_DTYPES, key="dtype", bind="query-params")
    requires_grad = left.toggle("requires_grad", False, key="requires_grad",
                                bind="query-params")
    backward = left.toggle(tr("tensors.backward"), False, key="backward", bind="query-params")
    with left:
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


with page("tensors"):
    experiment()
