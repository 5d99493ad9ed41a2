"""The PyTorch cell on a page: a program box bound to the link, and what its run shows.

The run itself is ``lab.cell.run_program`` (an interpreter of the program's syntax tree
over real torch: nothing is evaluated as Python), cached by the program's text; this
module only draws: the output exactly as Python prints it, PyTorch's errors and warnings
verbatim with the line they came from, why and the fix, the graphs ``make_dot`` drew, and
every tensor with its ``.grad``.
"""

from __future__ import annotations

import streamlit as st

from lab.cell import Abandoned, CellResult, explain
from lab.cell.limits import Limits
from lab.i18n import localized
from lab.site import BY_ID
from lab.ui import cached
from lab.ui.links import PROGRAM_LINK_MAX, in_link, link_length, linked
from lab.ui.shell import (current, error_box, folded, lang, lecture, page_address, page_object,
                          tr)
from lab.ui.verbatim import code_span
from lab.ui.views import fmt, graph_panel, pytorch_said, table

MAX_SOURCE = Limits().max_chars
SHOWN_VALUES = 6


def program_box(name: str, label: str, height: int = 260) -> str:
    """The program's text box, bound to ``?name=``, with its Run button; a program too long
    for a link stays out of it, with a note. Returns the program."""
    program = linked(st.text_area, name, label=label, height=height, max_chars=MAX_SOURCE)
    row = st.container(horizontal=True, vertical_alignment="center")
    # Clicking the button commits the box's text (as Ctrl+Enter does) and runs it.
    row.button(tr("code.run"), key=f"{name}_button", type="primary",
               icon=":material/play_arrow:")
    row.caption(tr("code.run_help"))
    # Only a program too long for a link is left out of it: the page's own starting
    # program is left out too (a default is never written), and needs no note.
    if link_length(program) > PROGRAM_LINK_MAX:
        st.caption(tr("code.not_linked", length=link_length(program), limit=PROGRAM_LINK_MAX))
    return program


def run(program: str, stepped: bool = False):
    """The program's run (``stepped``: with its first backward() node by node, a
    ``ProgramTrace``); if its browser has gone meanwhile, this run of the page ends."""
    try:
        return (cached.program_trace if stepped else cached.cell_run)(program)
    except Abandoned:
        st.stop()


def step_through_link(program: str) -> None:
    """A link that opens the program on page 7, its backward pass ready to step through."""
    if link_length(program) > PROGRAM_LINK_MAX:
        return                                  # the box's own note says it is not linked
    st.page_link(page_object(BY_ID["inside_backward"]), label=tr("code.step_through"),
                 icon=":material/footprint:",
                 query_params={"comp": "program", "program": program, "lang": lang()})


def _error(result: CellResult) -> None:
    error, language = result.error, lang()
    where = error.where(language) or tr("code.in_program")
    if error.kind == "pytorch":
        said = pytorch_said(error.exception, error.text)
        error_box(f"{tr('code.raised', where=where)}\n\n{said}",
                  tr(error.why) if error.why else "", tr(error.fix) if error.fix else "")
    else:
        head = tr("code.refused" if error.kind == "refused" else "code.stopped", where=where)
        # what the student typed, inside a refusal, is shown literally
        st.error(f"{head} {error.render(language, show_typed=code_span)}",
                 icon=":material/block:")


def _warnings(result: CellResult) -> None:
    for text in result.warnings:
        why_fix = explain(text)
        body = f"{tr('mistakes.warned')}\n\n{pytorch_said('UserWarning', text)}"
        if why_fix:
            body += f"\n\n**{tr('app.why')}** {tr(why_fix[0])}\n\n**{tr('app.fix')}** {tr(why_fix[1])}"
        st.warning(body, icon=":material/warning:")


def _values(values, size: int) -> str:
    shown = ", ".join(fmt(v) for v in values[:SHOWN_VALUES])
    return f"[{shown}{', …' if size > SHOWN_VALUES else ''}]" if size != 1 else shown


def tensors_table(result: CellResult) -> None:
    """Every tensor the program left bound to a name: what it is and its ``.grad``."""
    if not result.tensors:
        return
    st.markdown(f"**{tr('code.tensors')}**")
    rows = {tr("code.col_name"): [], "shape": [], "dtype": [], "requires_grad": [],
            "grad_fn": [], tr("code.col_values"): [], ".grad": []}
    for summary in result.tensors:
        rows[tr("code.col_name")].append(summary.name)
        rows["shape"].append("(" + ", ".join(map(str, summary.shape)) + ")")
        rows["dtype"].append(summary.dtype.removeprefix("torch."))
        rows["requires_grad"].append(str(summary.requires_grad))
        rows["grad_fn"].append(summary.grad_fn or "—")
        rows[tr("code.col_values")].append(_values(summary.values, summary.numel))
        rows[".grad"].append("None" if summary.grad is None
                             else _values(summary.grad, summary.numel))
    table(rows, pinned=(tr("code.col_name"),))
    st.caption(tr("code.tensors_help"))


def output(result: CellResult, key: str, graphs: bool = True) -> None:
    """What the run printed (and showed), how it ended, its graphs and its tensors."""
    if result.stdout or result.ok:
        st.markdown(tr("code.printed"))
        st.code(result.stdout or tr("mistakes.no_output"), language=None, wrap_lines=True)
    if result.shown is not None:
        st.code(f"Out: {result.shown}", language=None, wrap_lines=True)
    _warnings(result)
    if result.error is not None:
        _error(result)
    if graphs:
        for index, drawing in enumerate(result.drawings):
            graph_panel(drawing, f"{key}_graph_{index + 1}", key=f"{key}_graph_{index}")
    tensors_table(result)


def open_in_cell(code: str) -> None:
    """A link that opens ``code`` (already in the page's language) in the cell page, ready to
    run (too long a program for a link gets a note instead)."""
    shown = code
    if link_length(shown) > PROGRAM_LINK_MAX:
        st.caption(tr("code.too_long_to_open"))
        return
    st.page_link(page_object(BY_ID["code"]), label=tr("code.open"), icon=":material/code:",
                 query_params={"program": shown, "lang": lang()})


def code_panel(code: str, expanded: bool = False, name: str = "autograd_lab") -> None:
    """The exact PyTorch code behind the numbers, downloadable as a script or notebook, and
    a link that opens it in the cell, where it runs unchanged."""
    if lecture():
        return
    from lab import export

    language = lang()
    code = localized(code, language)        # its comments in the page's language
    box = folded(tr("app.code"), "code_open", expanded=expanded)     # one a page
    if box is None:
        return
    with box:
        st.code(code, language="python", wrap_lines=True)
        frame = current()
        heading = frame.title if frame else "Autograd Lab"
        url = page_address(frame.page.url if frame else "")
        row = st.container(horizontal=True)     # one block, not three (docs/performance.md)
        row.download_button(tr("app.download_script"),
                            lambda: export.script(code, heading, url, language),
                            f"{name}.py", mime="text/x-python", key=f"{name}_py",
                            icon=":material/download:", on_click="ignore")
        row.download_button(tr("app.download_notebook"),
                            lambda: export.notebook(code, heading, url, language),
                            f"{name}.ipynb", mime="application/x-ipynb+json",
                            key=f"{name}_ipynb", icon=":material/download:", on_click="ignore")
        open_in_cell(code)
