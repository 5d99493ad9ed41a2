"""Your own PyTorch: a notebook cell that runs real PyTorch safely (lab.cell)."""

import streamlit as st

from lab.cell.examples import EXAMPLES
from lab.ui import cell_views
from lab.ui.shell import page, section, tr


def _use_example() -> None:
    """The example picker's callback: copy the chosen program into the box."""
    chosen = st.session_state.get("example")
    if chosen:
        st.session_state["program"] = EXAMPLES[chosen]


@section
def notebook() -> None:
    """The program and what it does: a run reruns this part only."""
    # An action, not a setting: it copies its program into the box (not in the link).
    labels = {key: tr(f"code.example_{key}") for key in EXAMPLES}
    st.selectbox(tr("code.example"), tuple(EXAMPLES), index=None, key="example",
                 format_func=labels.get, placeholder=tr("code.example_placeholder"),
                 on_change=_use_example)
    program = cell_views.program_box("program", tr("code.program"), height=320)
    cell_views.output(cell_views.run(program), "code")
    cell_views.step_through_link(program)


with page("code"):
    notebook()
