"""The annotated graph: PyTorch's real autograd graph with values, gradients and local derivatives.

``graph_parts`` turns a ``Record`` and its nodes' maths into plain graph nodes (the
``BackwardTrace`` keeps them); ``annotated_graph`` makes them a ``lab.drawing.Graph`` at a
step of a pass, which ``annotated_drawing`` draws in every palette with its text
alternative. Tensors show their
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
from dataclasses import dataclass

import sympy

from lab.drawing import Cell, Drawing, Edge, Graph, Legend, Node, drawing_of, to_dot
from lab.i18n import t
from lab.node_maths import NodeMaths
from lab.palette import SCREEN, Palette
from lab.printing import unicode
from lab.recording import ACCUMULATE, Record


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
SKY_BLUE, YELLOW, GREEN = "#56B4E9", "#F0E442", "#009E73"
GREY_FILL = "#E0E0E0"       # backward functions: neutral, like torchviz's grey boxes
INK = "#000000"             # text on every filled node
FONT_SIZE = "12"            # the page draws graph text at this size (lab.ui.inside_views)
STYLES = {
    "leaf": {"shape": "box", "style": "filled", "peripheries": "2", "fillcolor": SKY_BLUE},
    "intermediate": {"shape": "box", "style": "filled", "fillcolor": YELLOW},
    "output": {"shape": "octagon", "style": "filled", "fillcolor": GREEN},
    "function": {"shape": "ellipse", "style": "filled", "fillcolor": GREY_FILL},
}
LEGEND = (("leaf", "annotated.legend_leaf"), ("intermediate", "annotated.legend_intermediate"),
          ("output", "annotated.legend_output"), ("function", "annotated.legend_function"))
MODES = ("forward", "backward")


def _kind(tensor: TensorNode) -> str:
    return {"x": "leaf", "y": "output"}.get(tensor.name, "intermediate")


def _style(kind: str) -> tuple[tuple[str, str], ...]:
    return tuple(STYLES[kind].items())


def _tensor_table(tensor: TensorNode, grad: str | None, grad_values, lang: str) -> tuple:
    """Name and what it is; then its values beside ∂y/∂tensor (``grad`` is the column's
    heading, None to leave it out; ``grad_values`` None shows ``?``)."""
    title = tensor.form or tensor.label
    shape = t("annotated.shape", lang, shape="(" + ", ".join(map(str, tensor.shape)) + ")")
    if tensor.size == 1:
        rows = [(Cell(f"{title} = {number(tensor.values[0])}", bold=True, align="CENTER"),)]
        if grad is not None:
            shown = "?" if grad_values is None else number(grad_values[0])
            rows.append((Cell(f"{grad} = {shown}", align="CENTER"),))
        return tuple(rows)
    columns = 2 if grad is None else 3
    rows = [(Cell(f"{title}   {shape}", bold=True, span=columns, align="LEFT"),),
            tuple(Cell(text) for text in ("i", tensor.label) + ((grad,) if grad else ()))]
    for i in range(min(SHOWN, tensor.size)):
        cells = [str(i), number(tensor.values[i])]
        if grad is not None:
            cells.append("?" if grad_values is None else number(grad_values[i]))
        rows.append(tuple(Cell(text) for text in cells))
    if tensor.size > SHOWN:
        rows.append(tuple(Cell("⋮") for _ in range(columns)))
    return tuple(rows)


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


def annotated_graph(trace: BackwardTrace, lang: str = "en", mode: str = "backward",
                    step: int | None = None, legend: bool = False) -> Graph:
    """The graph as data (lab.drawing); with ``step`` (0-based), that step of ``mode`` is
    the current one (a thick outline and ``▶`` before its name).

    Forward mode shows the nodes created so far (the rest dashed, still empty), and goes
    from x straight to the first operation (AccumulateGrad belongs to the backward pass);
    backward mode shows each ∂y/∂tensor once autograd has computed it.
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
    hidden = {f.id for f in trace.functions if f.name == ACCUMULATE} if mode == "forward" else set()

    def waiting(node_id: str) -> bool:
        return created is not None and node_id not in created

    nodes = []
    for tensor in trace.tensors:
        pending = waiting(tensor.name)
        table = () if pending else _tensor_table(
            tensor, *_gradient_column(trace, tensor, mode, step, lang), lang)
        nodes.append(Node(tensor.name, tensor.form or tensor.label,
                          lines=(tensor.label,) if pending else (), table=table,
                          style=_style(_kind(tensor)), current=tensor.name in current,
                          pending=pending))
    for function in trace.functions:
        if function.id in hidden:
            continue
        pending = waiting(function.id)
        nodes.append(Node(function.id, function.name,
                          lines=(function.name,) + (() if pending else function.locals),
                          style=_style("function"), current=function.id in current,
                          pending=pending))
    edges = tuple(Edge("x" if source in hidden else source, target,
                       current=target in current and not waiting("x" if source in hidden
                                                                  else source))
                  for source, target in trace.edges if target not in hidden)
    return Graph(tuple(nodes), edges,
                 _legend(lang, step is not None, created is not None) if legend else None,
                 graph_style=(("rankdir", "TB"), ("nodesep", "0.2"), ("ranksep", "0.25"),
                              ("fontname", "Helvetica")),
                 node_style=(("fontname", "Helvetica"), ("fontsize", FONT_SIZE),
                             ("fontcolor", INK), ("margin", "0.06,0.03")),
                 edge_style=(("arrowsize", "0.7"),))


def annotated_drawing(trace: BackwardTrace, lang: str = "en", mode: str = "backward",
                      step: int | None = None, legend: bool = False) -> Drawing:
    """The annotated graph drawn in every palette, with its text alternative."""
    return drawing_of(annotated_graph(trace, lang, mode, step, legend))


def annotated_dot(trace: BackwardTrace, lang: str = "en", mode: str = "backward",
                  step: int | None = None, legend: bool = False,
                  palette: Palette = SCREEN) -> str:
    """The annotated graph as DOT in ``palette`` (lecture mode's is drawn for a projector)."""
    return to_dot(annotated_graph(trace, lang, mode, step, legend), palette)


def _legend(lang: str, highlight: bool, pending: bool, kinds=LEGEND, below: str = "y") -> Legend:
    """One sample node per kind, with the catalogue's words, in rows of three beneath
    ``below``."""
    entries = [Node(f"legend_{kind}", t(key, lang), lines=(t(key, lang),),
                    style=_style(kind)) for kind, key in kinds]
    if highlight:
        entries.append(Node("legend_current", t("annotated.legend_current", lang),
                            lines=(t("annotated.legend_current", lang),),
                            style=_style("function"), current=True))
    if pending:
        entries.append(Node("legend_pending", t("annotated.legend_pending", lang),
                            lines=(t("annotated.legend_pending", lang),),
                            style=_style("intermediate"), pending=True))
    rows = tuple(tuple(entries[i:i + 3]) for i in range(0, len(entries), 3))
    return Legend(t("annotated.legend", lang), rows, below)


# ---- a student's program (lab.cell.stepping) ------------------------------------------------

PROGRAM_LEGEND = (("leaf", "annotated.legend_program_leaf"),
                  ("function", "annotated.legend_program_function"),
                  ("output", "annotated.legend_program_output"))


def program_graph(trace, lang: str = "en", step: int | None = None,
                  legend: bool = False) -> Graph:
    """A program's graph (a ``lab.cell.stepping.ProgramTrace``) at one step of its backward
    pass: leaves as tables of values beside their ``.grad`` (? until their AccumulateGrad
    has run), function nodes with PyTorch's name, the code that made them, their values and
    the gradient they received once they have run. Arrows follow the forward pass."""
    done = {s.node: s for s in trace.steps[:(len(trace.steps) if step is None else step + 1)]}
    current = None if step is None else trace.steps[step].node
    root = trace.nodes[0].id
    nodes = []
    for node in trace.nodes:
        if node.leaf:
            grad = done[node.id].grad if node.id in done else None
            name = node.label
            tensor = TensorNode(node.id, name, "", node.shape, node.values or (), grad)
            table = _tensor_table(tensor, f"{name}.grad", grad, lang)
            nodes.append(Node(node.id, name, table=table, style=_style("leaf"),
                              current=node.id == current))
            continue
        lines = [node.name]
        if node.code:
            lines.append(t("annotated.program_line", lang, line=node.line, code=node.made_by))
        if node.values is not None:
            lines.append(t("annotated.program_value", lang,
                           values=vector_text(node.values, node.size)))
        received = done.get(node.id)
        grad = "?" if received is None else vector_text(received.received,
                                                        received.received_size)
        lines += [f"∂{trace.root}/∂{node.output} =", grad]   # two lines: narrower
        words = f"{node.name} ({node.code})" if node.code else node.name
        nodes.append(Node(node.id, words, lines=tuple(lines),
                          style=_style("output" if node.id == root else "function"),
                          current=node.id == current))
    edges = tuple(Edge(source, node.id, current=node.id == current)
                  for node in trace.nodes for source in node.inputs if source is not None)
    return Graph(tuple(nodes), edges,
                 _legend(lang, step is not None, False, PROGRAM_LEGEND, root) if legend else None,
                 graph_style=(("rankdir", "TB"), ("nodesep", "0.2"), ("ranksep", "0.25"),
                              ("fontname", "Helvetica")),
                 node_style=(("fontname", "Helvetica"), ("fontsize", FONT_SIZE),
                             ("fontcolor", INK), ("margin", "0.06,0.03")),
                 edge_style=(("arrowsize", "0.7"),))


def program_drawing(trace, lang: str = "en", step: int | None = None,
                    legend: bool = False) -> Drawing:
    return drawing_of(program_graph(trace, lang, step, legend))
