"""The annotated graph: PyTorch's real autograd graph with values, gradients and local derivatives.

``graph_parts`` turns a ``Record`` and its nodes' maths into plain graph nodes (the
``BackwardTrace`` keeps them); ``annotated_dot`` draws them as DOT. Tensors show their
name, what they are and their values beside ∂y/∂tensor, element by element (whole up to
``SHOWN`` elements, with the tables' six significant digits); function nodes show
PyTorch's name and the local derivative they apply, written with the tensors' own names.
Arrows follow the forward pass, as torchviz draws them (x -> AccumulateGrad -> … -> y).
Leaves, intermediates, the output and functions differ by shape *and* colour (Okabe-Ito
palette); fonts, borders and edges are coloured explicitly so the graph reads on light
and dark backgrounds. Node ids come from the graph's structure, never from ``id()``, so
the same computation always gives byte-identical DOT. ``legend=True`` adds a legend
beneath the drawing: a row of sample nodes, in the page's language.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import sympy

from lab.i18n import t
from lab.node_maths import NodeMaths
from lab.palette import SCREEN, Palette
from lab.printing import unicode
from lab.recording import ACCUMULATE, Record

if TYPE_CHECKING:
    from lab.backward import BackwardTrace

KEEP = 20            # elements kept per tensor (views show fewer; sizes are kept whole)
SHOWN = 6            # elements written out whole: graph nodes, LaTeX rows, tables' cells


def number(value: float) -> str:
    """Six significant digits, as the lab's tables show them."""
    return f"{value:.6g}"


def vector_text(values, size: int) -> str:
    """``6.66667``, ``[0.666667, 1.33333, 2]``, or the first SHOWN, ``…`` and the size."""
    if size == 1 and values:
        return number(values[0])
    shown = ", ".join(number(v) for v in list(values)[:SHOWN])
    return f"[{shown}]" if size <= SHOWN else f"[{shown}, …] ({size})"


def plain(tensor) -> tuple[float, ...]:
    """A tensor's first KEEP values as floats (None: none)."""
    return () if tensor is None else tuple(tensor.detach().reshape(-1)[:KEEP].tolist())


def shown(expr) -> str:
    """A node's output or input as it appears in a ∂: a symbol as it is, else in brackets."""
    return unicode(expr) if isinstance(expr, sympy.Symbol) else f"({unicode(expr)})"


# ---- the graph as plain nodes ------------------------------------------------------------

@dataclass(frozen=True)
class TensorNode:
    """A named tensor of the run: ``x``, ``z1``…, ``y``."""

    name: str
    label: str                       # "z1": the code's name
    form: str                        # what it is, element by element: "z1ᵢ = sin(xᵢ)" ("" for x)
    shape: tuple[int, ...]
    values: tuple[float, ...]        # first KEEP
    grad: tuple[float, ...] | None   # ∂y/∂tensor, first KEEP

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass(frozen=True)
class FunctionNode:
    """A backward node: PyTorch's name and the local derivative it applies per input."""

    id: str
    name: str
    tensor: str                      # the named tensor it produces ("" if none)
    locals: tuple[str, ...]          # "∂z2ᵢ/∂z1ᵢ = 2·z1ᵢ", one per input that gets a gradient


def _local_lines(node, maths: NodeMaths) -> tuple[str, ...]:
    if node.name == ACCUMULATE:
        return ("x.grad += ∂y/∂x",)
    return tuple(f"∂{shown(maths.output)}/∂{shown(source)} = "
                 + ("?" if local is None else unicode(local))
                 for source, local in zip(maths.inputs, maths.locals) if source is not None)


def _edges(record: Record) -> tuple[tuple[str, str], ...]:
    """The drawing's edges, in the direction of the forward pass, as torchviz draws them:
    x -> AccumulateGrad -> … -> a function node -> the tensor it produces -> … -> y."""
    def drawn(node_id: str) -> str:
        tensor = record.node(node_id).tensor
        return tensor if tensor and tensor != "x" else node_id

    edges = []
    for node in record.nodes:
        if node.tensor == "x":
            edges.append(("x", node.id))
        elif node.tensor:
            edges.append((node.id, node.tensor))
        edges += [(drawn(source), node.id) for source in node.inputs if source is not None]
    return tuple(edges)


def graph_parts(record: Record, maths: dict[str, NodeMaths]) -> tuple[
        tuple[TensorNode, ...], tuple[FunctionNode, ...], tuple[tuple[str, str], ...]]:
    """The named tensors, the function nodes and the edges to draw, in plain values."""
    tensors = []
    for name, value in record.values.items():
        producer = record.producers.get(name)
        form = maths[producer].form if producer else None
        if form is not None:          # element by element: z2ᵢ = z1ᵢ² (lab.printing.element)
            form = f"{unicode(maths[producer].output)} = {unicode(form)}"
        grad = record.x_grad if name == "x" else record.upstream.get(producer)
        tensors.append(TensorNode(name, name, form or "",
                                  tuple(value.shape), plain(value),
                                  None if grad is None else plain(grad)))
    functions = tuple(FunctionNode(node.id, node.name, node.tensor,
                                   _local_lines(node, maths[node.id])) for node in record.nodes)
    return tuple(tensors), functions, _edges(record)


# ---- the drawing ---------------------------------------------------------------------------

# Okabe-Ito colours (safe for the common kinds of colour blindness).
SKY_BLUE, YELLOW, GREEN, VERMILLION = "#56B4E9", "#F0E442", "#009E73", "#D55E00"
GREY_FILL = "#E0E0E0"       # backward functions: neutral, like torchviz's grey boxes
INK = "#000000"             # text on every filled node
LINE = "#7A7A7A"            # edges, borders, loose text: ~4.3:1 on white and on #0E1117
FONT_SIZE = "12"            # the page draws graph text at this size (lab.ui.inside_views)
STYLES = {
    "leaf": {"shape": "box", "style": "filled", "peripheries": "2", "fillcolor": SKY_BLUE},
    "intermediate": {"shape": "box", "style": "filled", "fillcolor": YELLOW},
    "output": {"shape": "octagon", "style": "filled", "fillcolor": GREEN},
    "function": {"shape": "ellipse", "style": "filled", "fillcolor": GREY_FILL},
}
CURRENT = {"color": VERMILLION, "penwidth": "5"}
MARK = "▶ "          # the current step's node is marked in words too, not by colour alone
PENDING = {"style": "dashed", "fillcolor": "none", "fontcolor": LINE}
LEGEND = (("leaf", "annotated.legend_leaf"), ("intermediate", "annotated.legend_intermediate"),
          ("output", "annotated.legend_output"), ("function", "annotated.legend_function"))
MODES = ("forward", "backward")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _attributes(values: dict[str, str]) -> str:
    """DOT attributes; a label that starts with ``<`` is an HTML-like label."""
    return " ".join(f"{name}={value if name == 'label' and value.startswith('<') else _quote(value)}"
                    for name, value in values.items())


def _kind(tensor: TensorNode) -> str:
    return {"x": "leaf", "y": "output"}.get(tensor.name, "intermediate")


def _cells(*texts: str, bold: bool = False, span: int = 1, align: str = "RIGHT") -> str:
    """One row of a node's table (numbers aligned right, as in the lab's tables)."""
    wrap = (lambda text: f"<B>{text}</B>") if bold else (lambda text: text)
    width = f' COLSPAN="{span}"' if span > 1 else ""
    return "<TR>" + "".join(f'<TD ALIGN="{align}"{width}>{wrap(escape(text))}</TD>'
                            for text in texts) + "</TR>"


def _tensor_label(tensor: TensorNode, grad: str | None, grad_values, lang: str) -> str:
    """Name and what it is; then its values beside ∂y/∂tensor (``grad`` is the column's
    heading, None to leave it out; ``grad_values`` None shows ``?``)."""
    title = tensor.form or tensor.label
    shape = t("annotated.shape", lang, shape="(" + ", ".join(map(str, tensor.shape)) + ")")
    if tensor.size == 1:
        rows = [_cells(f"{title} = {number(tensor.values[0])}", bold=True, align="CENTER")]
        if grad is not None:
            shown = "?" if grad_values is None else number(grad_values[0])
            rows.append(_cells(f"{grad} = {shown}", align="CENTER"))
        return "<<TABLE BORDER=\"0\" CELLPADDING=\"2\">" + "".join(rows) + "</TABLE>>"
    columns = 2 if grad is None else 3
    rows = [_cells(f"{title}   {shape}", bold=True, span=columns, align="LEFT"),
            _cells("i", tensor.label, *([grad] if grad is not None else []))]
    for i in range(min(SHOWN, tensor.size)):
        cells = [str(i), number(tensor.values[i])]
        if grad is not None:
            cells.append("?" if grad_values is None else number(grad_values[i]))
        rows.append(_cells(*cells))
    if tensor.size > SHOWN:
        rows.append(_cells("⋮", "⋮", *(["⋮"] if grad is not None else [])))
    return "<<TABLE BORDER=\"0\" CELLPADDING=\"2\" CELLSPACING=\"0\">" + "".join(rows) + "</TABLE>>"


def _gradient_column(trace: BackwardTrace, tensor: TensorNode, mode: str, step: int | None,
                     lang: str) -> tuple[str | None, object]:
    """The gradient column of a tensor's table at this step: (heading, values or None)."""
    grad = f"∂y/∂{tensor.label}"
    if mode == "forward" and step is not None:
        return None, None                      # no gradient exists during the forward pass
    if step is None:
        return grad, tensor.grad
    producer = next(f.id for f in trace.functions if f.tensor == tensor.name)
    if any(s.node == producer for s in trace.backward_steps[:step + 1]):
        return grad, tensor.grad               # its grad_fn has run: it received it
    if tensor.name == "x" and trace.backward_steps[step].x_grad is not None:
        return t("annotated.so_far", lang, grad=grad), trace.backward_steps[step].x_grad
    return grad, None


def _marked(label: str) -> str:
    """A node's label with MARK before its first words (plain or HTML-like label)."""
    if not label.startswith("<"):
        return MARK + label
    return re.sub(r"(<TD[^>]*>(?:<B>)?)", lambda m: m.group(1) + escape(MARK), label, count=1)


def annotated_dot(trace: BackwardTrace, lang: str = "en", mode: str = "backward",
                  step: int | None = None, legend: bool = False,
                  palette: Palette = SCREEN) -> str:
    """The graph as DOT; with ``step`` (0-based), that step of ``mode`` is highlighted
    (a thick outline and ``▶`` before its name).

    Forward mode shows the nodes created so far (the rest dashed, still empty);
    backward mode shows each ∂y/∂tensor once autograd has computed it. ``palette``
    (lab.palette) gives the ground, the lines, the type's scale and the outline's width:
    lecture mode's is drawn for a projector.
    """
    if mode not in MODES:
        raise ValueError(mode)
    steps = trace.steps(mode)
    if step is not None:
        step = max(0, min(step, len(steps) - 1))
    current: set[str] = set()
    created: set[str] | None = None
    if step is not None and mode == "forward":
        created = {node for s in steps[:step + 1] for node in s.nodes}
        current = set(steps[step].nodes)
    elif step is not None:
        current = {steps[step].node}

    line, scale = (LINE if palette is SCREEN else palette.graph_line), palette.graph_font_scale
    current_style = dict(CURRENT, penwidth=f"{palette.graph_current_width:g}")
    lines = ["digraph autograd {",
             "  graph [" + _attributes({"bgcolor": palette.graph_background, "rankdir": "TB",
                                        "nodesep": "0.2", "ranksep": "0.25",
                                        "fontname": "Helvetica", "fontcolor": line}) + "]",
             "  node [" + _attributes({"fontname": "Helvetica",
                                       "fontsize": f"{float(FONT_SIZE) * scale:g}",
                                       "fontcolor": INK, "color": line,
                                       "penwidth": f"{palette.graph_node_width:g}",
                                       "margin": "0.06,0.03"}) + "]",
             "  edge [" + _attributes({"color": line, "arrowsize": "0.7",
                                       "penwidth": f"{palette.graph_edge_width:g}"}) + "]"]
    drawn = [(tensor.name, _kind(tensor), _tensor_label(
        tensor, *_gradient_column(trace, tensor, mode, step, lang), lang))
        for tensor in trace.tensors]
    # AccumulateGrad belongs to the backward pass (it writes x.grad): the forward pass goes
    # from x straight to the first operation.
    hidden = {f.id for f in trace.functions if f.name == ACCUMULATE} if mode == "forward" else set()
    drawn += [(f.id, "function", "\n".join((f.name,) + f.locals)) for f in trace.functions
              if f.id not in hidden]
    for node_id, kind, label in drawn:
        attributes = dict(STYLES[kind])
        if created is not None and node_id not in created:
            attributes.update(PENDING)
            label = next((f.name for f in trace.functions if f.id == node_id), None) or \
                trace.tensor(node_id).label
        if node_id in current:
            attributes.update(current_style)
            label = _marked(label)
        attributes["label"] = label
        lines.append(f"  {_quote(node_id)} [{_attributes(attributes)}]")
    edges = [("x" if source in hidden else source, target) for source, target in trace.edges
             if target not in hidden]
    for source, target in edges:
        highlighted = target in current and (created is None or source in created)
        width = f"{2 * palette.graph_edge_width:g}"
        suffix = f" [{_attributes({'color': VERMILLION, 'penwidth': width})}]" if highlighted else ""
        lines.append(f"  {_quote(source)} -> {_quote(target)}{suffix}")
    if legend:
        lines += _legend(lang, highlight=step is not None, pending=created is not None,
                         line=line, current=current_style)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _legend(lang: str, highlight: bool, pending: bool, line: str = LINE,
            current: dict = CURRENT) -> list[str]:
    """One sample node per kind, with the catalogue's words, in rows of three beneath y."""
    entries = [(f"legend_{kind}", dict(STYLES[kind]), t(key, lang)) for kind, key in LEGEND]
    if highlight:
        entries.append(("legend_current", dict(STYLES["function"], **current),
                        _marked(t("annotated.legend_current", lang))))
    if pending:
        entries.append(("legend_pending", dict(STYLES["intermediate"], **PENDING),
                        t("annotated.legend_pending", lang)))
    lines = ["  subgraph cluster_legend {",
             "    " + "; ".join(f"{name}={_quote(value)}" for name, value in (
                 ("label", t("annotated.legend", lang)), ("color", line), ("fontcolor", line),
                 ("style", "dashed"))) + ";"]
    for name, attributes, label in entries:
        attributes["label"] = label
        lines.append(f"    {_quote(name)} [{_attributes(attributes)}]")
    rows = [entries[i:i + 3] for i in range(0, len(entries), 3)]
    for row in rows:
        lines.append("    { rank=same; " + "; ".join(_quote(name) for name, _, _ in row) + " }")
    for upper, lower in zip(rows, rows[1:]):
        lines.append(f"    {_quote(upper[0][0])} -> {_quote(lower[0][0])} [style=invis]")
    lines.append("  }")
    middle = rows[0][len(rows[0]) // 2][0]
    lines.append(f'  "y" -> {_quote(middle)} [style=invis]')      # centred beneath the drawing
    return lines
