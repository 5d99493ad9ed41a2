"""Inside backward(), the page's widgets and views: the computation, the step controls, the
step panel, the annotated graph with its legend, and the order table."""

from __future__ import annotations

import json
from html import escape

import streamlit as st

from lab import chain
from lab.annotated import SHOWN, vector_text
from lab.backward import (COMPUTATIONS, MODES, BackwardStep, BackwardTrace, ForwardStep,
                          order_rows)
from lab.formula import MAX_LENGTH
from lab.gradients import DTYPES
from lab.xvalues import XSpec, parse_values
from lab.ops import REDUCTIONS, function_list
from lab.recording import ACCUMULATE
from lab.ui import views
from lab.ui.inputs import chain_inputs, stepper
from lab.ui.links import linked
from lab.ui.shell import help_button, lang, tr
from lab.ui.verbatim import code_span
from lab.ui.views import fmt, table

# How each computation is named in the radio (the options are ids: lab.backward).
COMPUTATION_LABELS = {"chain": "(x + a)**p + c", "ex3": chain.EXERCISE_3, "formula": "f(x)"}
GRAPH_KEY = "annotated_graph"
# The drawing is centred (its text keeps the size it was laid out with: lab/ui/css/base.css).
GRAPH_STYLE = f"""<style>
.st-key-{GRAPH_KEY} [data-testid="stGraphVizChart"] svg {{ display: block; margin: 0 auto; }}
</style>"""


def computation() -> str:
    """Which computation to look inside (an id of ``lab.backward.COMPUTATIONS``)."""
    labels = {**COMPUTATION_LABELS, "program": tr("inside_backward.computation_program")}
    choice = linked(st.radio, "comp", label=tr("inside_backward.computation"),
                    options=COMPUTATIONS, horizontal=True, format_func=labels.get)
    st.caption(tr("inside_backward.computation_help"))
    return choice


def computation_inputs(choice: str) -> tuple[str, XSpec, str, str]:
    """The inputs of a formula's computation: (formula text, x, reduction, dtype).

    A typed list of x values that cannot be read raises ``InputError``.
    """
    if choice == "chain":
        inputs = chain_inputs()
        text, x_spec = chain.chain_input(inputs["n"], inputs["a"], inputs["p"], inputs["c"])
        return text, x_spec, inputs["reduce"], "float32"
    if choice == "ex3":
        columns = st.columns([3, 1])
        with columns[0]:
            low, high = linked(st.slider, "range", label=tr("inside_backward.range"),
                               min_value=-6, max_value=10, step=1)
        with columns[1]:
            dtype = linked(st.selectbox, "dtype", label=tr("inside_backward.dtype"),
                           options=tuple(DTYPES))
        text, x_spec = chain.exercise_3_input(low, high)
        return text, x_spec, "mean", dtype
    columns = st.columns([4, 2, 1, 1])
    with columns[0]:
        text = linked(st.text_input, "f", label=tr("inside_backward.formula"),
                      max_chars=MAX_LENGTH)
        st.caption(tr("inside_backward.formula_help", functions=function_list()))
    with columns[1]:
        values = linked(st.text_input, "xs", label=tr("inside_backward.values"), max_chars=400)
        st.caption(tr("inside_backward.values_help"))
    with columns[2]:
        reduce = linked(st.radio, "r", label=tr("inside_backward.reduce"), options=REDUCTIONS,
                        captions=[tr(f"backward.reduce_{name}") for name in REDUCTIONS])
    with columns[3]:
        dtype = linked(st.selectbox, "dtype", label=tr("inside_backward.dtype"),
                       options=tuple(DTYPES))
    return text, XSpec.of(parse_values(values)), reduce, dtype


def view_options() -> tuple[bool, str]:
    """(torchviz drawing instead of the annotated graph?, "backward" or "forward")."""
    row = st.container(horizontal=True, gap="large")   # one block (docs/performance.md)
    with row:
        # The options are the URL's values (the same in every language); the captions name
        # the passes in the page's language.
        mode = linked(st.radio, "mode", label=tr("inside_backward.mode"), options=MODES,
                      horizontal=True, width="content",
                      captions=[tr(f"inside_backward.mode_{name}") for name in MODES])
        torchviz = linked(st.toggle, "torchviz", label=tr("inside_backward.torchviz"))
        help_button((tr("inside_backward.mode"), tr("inside_backward.mode_help")),
                    (tr("inside_backward.torchviz"), tr("inside_backward.torchviz_help")),
                    (tr("inside_backward.step"), tr("inside_backward.step_help")))
    st.caption(tr("grad.notation"))
    return torchviz, mode


def step_controls(count: int) -> int:
    """A step slider kept in the URL, with previous/next buttons; returns the step (1-based)."""
    return stepper(1, count, "step", tr("inside_backward.step"),
                   ("prev", tr("inside_backward.previous")), ("next", tr("inside_backward.next")))


def _notes(step) -> None:
    for note in step.notes:
        st.info(tr(note.key, **note.values), icon=":material/info:")


def _announce(words: str) -> None:
    """The step in words, for screen readers, as it changes: Streamlit's text is no live
    region, so a hidden one says it. Raw HTML in markdown becomes React elements, which
    keep their place from run to run (always right under the step's heading): the region
    stays, its words change. The words are the lab's (a step number, a PyTorch node name
    or a tensor's name), escaped."""
    st.markdown(f'<div role="status" aria-live="polite" class="lab-sr-only">'
                f'{escape(words)}</div>', unsafe_allow_html=True)


def _forward_panel(trace: BackwardTrace, step: ForwardStep, index: int, count: int) -> None:
    st.code(step.statement, language="python", wrap_lines=True)
    for latex in step.latex:
        st.latex(latex)
    _notes(step)
    st.caption(tr("inside_backward.forward_note"))


def _backward_panel(trace: BackwardTrace, step: BackwardStep, index: int, count: int) -> None:
    if step.name == ACCUMULATE:
        st.markdown(tr("inside_backward.accumulate"))
        for latex in step.latex:
            st.latex(latex)
    else:
        if step.form_latex:
            st.markdown(tr("inside_backward.computed", form=f"${step.form_latex}$"))
        st.markdown(tr("inside_backward.starts" if index == 0 else "inside_backward.receives",
                       grad=f"${step.incoming_latex}$"))
        _notes(step)
        for one in step.passes:
            st.latex(one.local_latex)
            if one.rule_latex:
                st.latex(one.rule_latex)
        if any(one.rule_latex for one in step.passes):
            st.caption(tr("inside_backward.rows"))
            size = trace.tensor("x").size
            if size > SHOWN:
                st.caption(tr("inside_backward.elements_cut", shown=SHOWN, total=size))
        if any(one.summed for one in step.passes):
            st.caption(tr("inside_backward.summed"))
        if any(one.departures for one in step.passes):
            st.caption(tr("inside_backward.convention"))
        for value in step.constants:
            st.caption(tr("inside_backward.constant_input", value=value))
    _x_grad_so_far(trace, step)
    if index == count - 1:
        st.success(tr("inside_backward.final", grad=vector_text(trace.x_grad, len(trace.x_grad))),
                   icon=":material/check_circle:")


def _x_grad_so_far(trace: BackwardTrace, step: BackwardStep) -> None:
    st.markdown(f"**{tr('inside_backward.x_grad_so_far')}**")
    st.caption(tr("inside_backward.x_grad_help"))
    if step.x_grad is None:
        st.caption(tr("inside_backward.x_grad_none"))
        return
    x = trace.tensor("x")
    shown = len(step.x_grad)
    table({"i": list(range(shown)), "x_i": [fmt(v) for v in x.values[:shown]],
           tr("inside_backward.x_grad_row"): [fmt(v) for v in step.x_grad]})
    if x.size > shown:
        st.caption(tr("inside_backward.elements_cut", shown=shown, total=x.size))


def step_heading(trace: BackwardTrace, mode: str, index: int) -> None:
    """The step in one line ("Step 2 of 5 of the backward pass: **AddBackward0** runs"),
    which a screen reader hears as it changes (``_announce``)."""
    steps = trace.steps(mode)
    step = steps[index]
    if mode == "forward":
        st.markdown(tr("inside_backward.forward_step", k=index + 1, n=len(steps),
                       tensor=trace.tensor(step.tensor).label))
    else:
        st.markdown(tr("inside_backward.backward_step", k=index + 1, n=len(steps),
                       name=step.name))
    _announce(step_words(trace, mode, index))


def step_panel(trace: BackwardTrace, mode: str, index: int, heading: bool = True) -> None:
    """What happens at one step: the code and values (forward) or the chain rule (backward),
    under its heading (``heading=False``: drawn already, by ``step_heading``)."""
    if heading:
        step_heading(trace, mode, index)
    steps = trace.steps(mode)
    if mode == "forward":
        _forward_panel(trace, steps[index], index, len(steps))
    else:
        _backward_panel(trace, steps[index], index, len(steps))


def step_words(trace: BackwardTrace, mode: str, index: int) -> str:
    """The step in words, plain text: "Step 3 of 5 of the backward pass: PowBackward0"."""
    steps = trace.steps(mode)
    step = steps[index]
    name = trace.tensor(step.tensor).label if mode == "forward" else step.name
    return tr(f"inside_backward.{mode}_step_plain", k=index + 1, n=len(steps), name=name)


# The current step's node stays in view. In lecture mode the graph stands beside the
# step's explanation in a box as tall as the screen allows (lab/ui/css/lecture.css); on a
# phone the graph is wider than the screen and scrolls sideways (lab/ui/css/base.css).
# Once the browser has drawn the graph, this script scrolls each box that scrolls (the
# lecture box, the graph's own) so that the node (marked ▶, with that id) is at its
# centre. It never scrolls the page: a projected page opens at its top (scrolling the node
# "into view" pinned it to the screen's bottom edge, 340 px down). Streamlit cannot scroll
# to an element.
KEEP_IN_VIEW = """<script>/* {state} */
(() => {{
  const wanted = {ids}, started = Date.now();
  const look = () => {{
    const node = [...document.querySelectorAll(
        '.st-key-{graph} [data-testid="stGraphVizChart"] g.node')]
      .find(g => wanted.includes(g.querySelector("title")?.textContent)
                 && g.textContent.includes("▶"));
    if (!node) {{ if (Date.now() - started < 4000) setTimeout(look, 100); return; }}
    const outer = node.closest('.st-key-{graph}');
    for (const box of [outer, outer.querySelector('[data-testid="stGraphVizChart"]')]) {{
      const n = node.getBoundingClientRect(), b = box.getBoundingClientRect();
      box.scrollTop += (n.top + n.height / 2) - (b.top + b.height / 2);
      box.scrollLeft += (n.left + n.width / 2) - (b.left + b.width / 2);
    }}
  }};
  look();
}})();
</script>"""


def keep_in_view(trace: BackwardTrace, mode: str, index: int) -> None:
    """The script that scrolls the current step's node to the centre of its box
    (KEEP_IN_VIEW; it runs again whenever the step changes its text)."""
    step = trace.steps(mode)[index]
    ids = list(step.nodes) if mode == "forward" else [step.node]
    st.html(KEEP_IN_VIEW.format(state=escape(f"{mode} {index}"), ids=json.dumps(ids),
                                graph=GRAPH_KEY), unsafe_allow_javascript=True)


def annotated_graph(trace: BackwardTrace, mode: str, index: int, drawing) -> None:
    """The annotated graph at this step (``drawing``: lab.annotated's, with its legend
    beneath it), and its downloads; its text alternative names the step."""
    st.html(GRAPH_STYLE)
    with st.container(key=GRAPH_KEY):
        views.graph_panel(drawing, "annotated_graph", legend=(), key="inside_graph",
                          current=step_words(trace, mode, index))
    keep_in_view(trace, mode, index)
    st.caption(tr("annotated.legend_arrows"))


def order_table(trace: BackwardTrace, mode: str, index: int) -> None:
    """The steps up to the current one (marked), in the order they run."""
    st.header(tr("inside_backward.order_forward" if mode == "forward" else "inside_backward.order"), anchor=False)
    keys = (("col_step", "col_tensor", "col_code", "col_values") if mode == "forward" else
            ("col_step", "col_node", "col_output", "col_upstream", "col_passes"))
    rows = order_rows(trace, mode, index)
    table({tr(f"inside_backward.{key}"): [row[i] for row in rows] for i, key in enumerate(keys)},
          pinned=(tr("inside_backward.col_step"),))


# ---- a student's program (lab.cell.stepping) ------------------------------------------------

STEPPED_NODES = 60          # the largest graph this page draws and steps through


def program_problem(trace) -> bool:
    """Say why a program's backward pass cannot be stepped through, if it cannot (no
    backward(), or too big a graph); True when so."""
    if not trace.steps:
        if trace.line is not None:            # backward() ran, on a leaf: no node
            st.info(tr("inside_backward.program_no_nodes", line=trace.line),
                    icon=":material/info:")
        elif trace.result.ok:
            st.info(tr("inside_backward.program_no_backward"), icon=":material/info:")
        return True
    if len(trace.nodes) > STEPPED_NODES:
        st.warning(tr("inside_backward.program_too_big", nodes=len(trace.nodes),
                      limit=STEPPED_NODES), icon=":material/warning:")
        return True
    if trace.backward_calls > 1:
        st.info(tr("inside_backward.program_first", calls=trace.backward_calls,
                   line=trace.line), icon=":material/info:")
    return False


def _program_words(trace, index: int) -> str:
    step = trace.steps[index]
    return tr("inside_backward.backward_step_plain", k=index + 1, n=len(trace.steps),
              name=trace.node(step.node).name)


def program_heading(trace, index: int) -> None:
    """The step in one line, and in words for a screen reader (as ``step_heading``)."""
    step = trace.steps[index]
    st.markdown(tr("inside_backward.backward_step", k=index + 1, n=len(trace.steps),
                   name=trace.node(step.node).name))
    _announce(_program_words(trace, index))


def program_graph(trace, index: int, drawing) -> None:
    """The program's graph at this step (``drawing``: lab.annotated's), with its legend and
    downloads."""
    st.html(GRAPH_STYLE)
    with st.container(key=GRAPH_KEY):
        views.graph_panel(drawing, "program_graph", legend=(), key="inside_graph",
                          current=_program_words(trace, index))
    step = trace.steps[index]
    st.html(KEEP_IN_VIEW.format(state=escape(f"program {index}"), ids=json.dumps([step.node]),
                                graph=GRAPH_KEY), unsafe_allow_javascript=True)


def _input_label(trace, node_id: str) -> str:
    node = trace.node(node_id)
    return node.label if node.leaf else f"{node.name}: {node.output}"


def program_panel(trace, index: int) -> None:
    """What one node did: what made it, what it received, what it passed on to each input
    (a leaf: its .grad now), and the leaves' .grad so far."""
    step = trace.steps[index]
    node = trace.node(step.node)
    if node.leaf:
        leaf = node.label
        st.markdown(tr("inside_backward.program_accumulate", leaf=code_span(leaf),
                       values=vector_text(step.received, step.received_size),
                       grad=code_span(f"{leaf}.grad"),
                       now=vector_text(step.grad or (), step.received_size)))
    else:
        if node.code:
            key = "program_made" if node.values is not None else "program_made_unseen"
            st.markdown(tr(f"inside_backward.{key}", line=node.line,
                           code=code_span(node.made_by),
                           values=vector_text(node.values or (), node.size)))
        else:
            st.markdown(tr("inside_backward.program_part"))
        values = vector_text(step.received, step.received_size)
        if index == 0:
            st.markdown(tr("inside_backward.program_starts", root=code_span(trace.root),
                           grad=code_span(f"∂{trace.root}/∂{trace.root}"), values=values))
        else:
            grad = code_span(f"∂{trace.root}/∂{node.output}")
            st.markdown(tr("inside_backward.program_receives", grad=grad, values=values))
        pairs = [(source, passed) for source, passed in zip(node.inputs, step.passed)
                 if source is not None]
        if pairs:
            st.markdown(tr("inside_backward.program_passes"))
            table({tr("inside_backward.col_input"): [_input_label(trace, s) for s, _ in pairs],
                   tr("inside_backward.col_passed"): ["None" if p is None else vector_text(*p)
                                                      for _, p in pairs]},
                  pinned=(tr("inside_backward.col_input"),))
        for slot, source in enumerate(node.inputs):
            if source is None:
                st.caption(tr("inside_backward.program_no_input", slot=slot))
        st.caption(tr("inside_backward.program_rule"))
    _leaves_so_far(trace, index)
    if index == len(trace.steps) - 1:
        grads = ", ".join(f"{leaf.label}.grad = {vector_text(g, leaf.size)}"
                          for leaf, g in _leaf_grads(trace, index) if g is not None)
        st.success(tr("inside_backward.program_final", grads=code_span(grads, limit=None)),
                   icon=":material/check_circle:")


def _leaf_grads(trace, index: int) -> list:
    """(leaf, its .grad after step ``index`` or None) for every leaf."""
    written = {s.node: s.grad for s in trace.steps[:index + 1] if s.grad is not None}
    return [(leaf, written.get(leaf.id)) for leaf in trace.leaves]


def _leaves_so_far(trace, index: int) -> None:
    st.markdown(f"**{tr('inside_backward.program_leaves')}**")
    st.caption(tr("inside_backward.program_leaves_help"))
    rows = _leaf_grads(trace, index)
    table({tr("inside_backward.col_leaf"): [leaf.label for leaf, _ in rows],
           tr("inside_backward.col_values"): [vector_text(leaf.values, leaf.size)
                                              for leaf, _ in rows],
           tr("inside_backward.col_grad"): ["None" if grad is None
                                            else vector_text(grad, leaf.size)
                                            for leaf, grad in rows]},
          pinned=(tr("inside_backward.col_leaf"),))


def program_order(trace, index: int) -> None:
    """The steps up to the current one (marked), in the order autograd ran them."""
    st.header(tr("inside_backward.order"), anchor=False)
    rows = {tr(f"inside_backward.{key}"): [] for key in
            ("col_step", "col_node", "col_code_line", "col_upstream", "col_passes")}
    columns = list(rows.values())
    for i, step in enumerate(trace.steps[:index + 1]):
        node = trace.node(step.node)
        code = node.made_by or (node.tensor if node.leaf else "")
        to = ", ".join(_input_label(trace, s) for s in node.inputs if s is not None)
        for column, cell in zip(columns, (f"▶ {i + 1}" if i == index else str(i + 1), node.name,
                                          f"{code} ({node.line})" if node.line else code,
                                          vector_text(step.received, step.received_size),
                                          to or f"{node.label}.grad")):
            column.append(cell)
    table(rows, pinned=(tr("inside_backward.col_step"),))
