"""Graphs as data, and their renderings: DOT for Graphviz, a text alternative, each palette.

A ``Graph`` is nodes and edges (the annotated autograd graph inside backward() builds one:
lab.annotated); ``to_dot`` writes it in a palette (lab.palette) and ``Drawing`` keeps what a
page needs of a drawing: its DOT for every palette and the words of its text alternative (the
nodes from the inputs on, and how many arrows). torchviz's own drawing (``make_dot``: the
torchviz page, the playground and the cell) becomes a ``Drawing`` too: its palette set through
graphviz's attributes, its words read from the autograd graph it draws, not from its DOT text.
"""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass, field
from html import escape

import graphviz

from lab.palette import PALETTES, SCREEN, Palette

EXPORT_FORMATS = ("dot", "svg", "png")
TORCHVIZ_FONT = 14              # points; torchviz's 10 read as ~8 px on a page


# ---- the model ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Cell:
    """One cell of a node's table: numbers aligned right, as in the lab's tables."""

    text: str
    bold: bool = False
    span: int = 1
    align: str = "RIGHT"


@dataclass(frozen=True)
class Node:
    """A node: plain ``lines`` or a ``table`` of cells; ``words`` is what the text
    alternative says of it. ``style`` holds its own attributes (shape, fill…); ``current``
    marks the step a page is at (an outline in the palette's width, and ``MARK`` before its
    words: not by colour alone), ``pending`` a node not made yet (dashed, empty)."""

    id: str
    words: str
    lines: tuple[str, ...] = ()
    table: tuple[tuple[Cell, ...], ...] = ()
    style: tuple[tuple[str, str], ...] = ()
    current: bool = False
    pending: bool = False


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    current: bool = False            # an arrow into the current step
    invisible: bool = False          # layout only: not an arrow of the graph


@dataclass(frozen=True)
class Legend:
    """Sample nodes in rows beneath the graph, in a dashed box with a title."""

    title: str
    rows: tuple[tuple[Node, ...], ...]
    below: str                       # the node the box is centred beneath


@dataclass(frozen=True)
class Graph:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    legend: Legend | None = None
    graph_style: tuple[tuple[str, str], ...] = ()
    node_style: tuple[tuple[str, str], ...] = ()
    edge_style: tuple[tuple[str, str], ...] = ()


# ---- DOT -------------------------------------------------------------------------------------

def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


MARK = "▶ "                      # before the current step's words
CURRENT_COLOUR = "#D55E00"       # Okabe-Ito vermillion: the current step's outline and arrows


def _html(node: Node) -> str:
    """A table as Graphviz's HTML-like label, the mark before its first words."""
    mark = MARK if node.current else ""
    rows = []
    for index, row in enumerate(node.table):
        cells = []
        for number, cell in enumerate(row):
            text = escape((mark if index == number == 0 else "") + cell.text)
            text = f"<B>{text}</B>" if cell.bold else text
            span = f' COLSPAN="{cell.span}"' if cell.span > 1 else ""
            cells.append(f'<TD ALIGN="{cell.align}"{span}>{text}</TD>')
        rows.append("<TR>" + "".join(cells) + "</TR>")
    spacing = ' CELLSPACING="0"' if len(node.table) > 2 else ""
    return f'<<TABLE BORDER="0" CELLPADDING="2"{spacing}>' + "".join(rows) + "</TABLE>>"


def _attributes(pairs) -> str:
    return " ".join(f"{name}={value if value.startswith('<<') else _quote(value)}"
                    for name, value in pairs)


def _label(node: Node) -> str:
    if node.table:
        return _html(node)
    return (MARK if node.current else "") + "\n".join(node.lines)


def _node_line(node: Node, palette: Palette, indent: str = "  ") -> str:
    style = dict(node.style)
    if node.pending:
        style.update(style="dashed", fillcolor="none", fontcolor=palette.graph_line)
    if node.current:
        style.update(color=CURRENT_COLOUR, penwidth=f"{palette.graph_current_width:g}")
    style["label"] = _label(node)
    return f"{indent}{_quote(node.id)} [{_attributes(style.items())}]"


def to_dot(graph: Graph, palette: Palette = SCREEN) -> str:
    """The graph as DOT, in ``palette``'s ground, ink, lines and type."""
    scale = palette.graph_font_scale
    lines = ["digraph autograd {",
             "  graph [" + _attributes(graph.graph_style + (
                 ("bgcolor", palette.graph_background), ("fontcolor", palette.graph_line))
             ) + "]",
             "  node [" + _attributes(graph.node_style + (
                 ("fontsize", f"{float(dict(graph.node_style).get('fontsize', '12')) * scale:g}"),
                 ("color", palette.graph_line), ("penwidth", f"{palette.graph_node_width:g}"))
             ) + "]",
             "  edge [" + _attributes(graph.edge_style + (
                 ("color", palette.graph_line), ("penwidth", f"{palette.graph_edge_width:g}"))
             ) + "]"]
    lines += [_node_line(node, palette) for node in graph.nodes]
    for edge in graph.edges:
        style = ((("style", "invis"),) if edge.invisible else ()) + (
            (("color", CURRENT_COLOUR), ("penwidth", f"{2 * palette.graph_edge_width:g}"))
            if edge.current else ())
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)}"
                     + (f" [{_attributes(style)}]" if style else ""))
    if graph.legend is not None:
        lines += _legend_lines(graph.legend, palette)
    return "\n".join(lines + ["}"]) + "\n"


def _legend_lines(legend: Legend, palette: Palette) -> list[str]:
    lines = ["  subgraph cluster_legend {",
             "    " + "; ".join(f"{name}={_quote(value)}" for name, value in (
                 ("label", legend.title), ("color", palette.graph_line),
                 ("fontcolor", palette.graph_line), ("style", "dashed"))) + ";"]
    lines += [_node_line(node, palette, "    ") for row in legend.rows for node in row]
    for row in legend.rows:
        lines.append("    { rank=same; " + "; ".join(_quote(node.id) for node in row) + " }")
    for upper, lower in zip(legend.rows, legend.rows[1:]):
        lines.append(f"    {_quote(upper[0].id)} -> {_quote(lower[0].id)} [style=invis]")
    lines.append("  }")
    middle = legend.rows[0][len(legend.rows[0]) // 2].id
    lines.append(f"  {_quote(legend.below)} -> {_quote(middle)} [style=invis]")
    return lines


# ---- what a page keeps of a drawing ----------------------------------------------------------

@dataclass(frozen=True)
class Drawing:
    """A graph drawn for the pages: its DOT in every palette, and the words of its text
    alternative (node words from the inputs on, the number of arrows). Plain data."""

    dots: dict[str, str] = field(default_factory=dict)
    words: tuple[str, ...] = ()
    arrows: int = 0

    def dot(self, palette: Palette = SCREEN) -> str:
        return self.dots.get(palette.name, "")

    def __bool__(self) -> bool:
        return bool(self.dots)


def _inputs_first(names: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """``names`` in topological order (Kahn), ties in their given order."""
    incoming = {name: 0 for name in names}
    for _, target in edges:
        if target in incoming:
            incoming[target] += 1
    order, ready = [], [name for name in names if incoming[name] == 0]
    while ready:
        name = ready.pop(0)
        order.append(name)
        for source, target in edges:
            if source == name and target in incoming:
                incoming[target] -= 1
                if incoming[target] == 0:
                    ready.append(target)
    return order + [name for name in names if name not in order]       # a cycle: as given


def drawing_of(graph: Graph) -> Drawing:
    """The model drawn in every palette, with its text alternative."""
    arrows = [(edge.source, edge.target) for edge in graph.edges if not edge.invisible]
    words = {node.id: node.words for node in graph.nodes}
    order = _inputs_first(list(words), arrows)
    return Drawing({palette.name: to_dot(graph, palette) for palette in PALETTES},
                   tuple(words[node] for node in order), len(arrows))


# ---- torchviz's drawing of an autograd graph -----------------------------------------------

def _stable_ids(source: str) -> str:
    """torchviz names nodes by ``id()``; renumber them so the same graph gives the same DOT."""
    mapping: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        return mapping.setdefault(match.group(0), f"n{len(mapping) + 1}")

    return re.sub(r"(?<!#)\b\d{6,}\b", rename, source)       # not a colour: #000000


def _torchviz_style(palette: Palette) -> dict[str, dict[str, str]]:
    graph = {"bgcolor": palette.graph_background}
    if palette.graph_size:
        graph["size"] = palette.graph_size
    return {"graph": graph,
            # a filled node without its own fill takes its border's colour: say grey
            "node": {"fontsize": f"{TORCHVIZ_FONT * palette.graph_font_scale:g}",
                     "color": palette.graph_ink, "fillcolor": "lightgrey",
                     "fontcolor": palette.graph_ink,
                     "penwidth": f"{palette.graph_node_width:g}"},
            "edge": {"color": palette.graph_line, "fontcolor": palette.graph_line,
                     "penwidth": f"{palette.graph_edge_width:g}"}}


def _saved_words(node, nodes: dict, edges: list) -> None:
    """The tensors ``node`` saved for backward, as torchviz's ``show_saved`` draws them: one
    node per tensor object (a saved leaf is the leaf's node, named as the leaf, as Graphviz
    shows torchviz's DOT: its last label wins)."""
    import torch

    for attribute in dir(node):
        if not attribute.startswith("_saved_"):
            continue
        value, name = getattr(node, attribute), attribute[len("_saved_"):]
        tensors = ([(name, value)] if torch.is_tensor(value) else
                   [(f"{name}[{i}]", t) for i, t in enumerate(value) if torch.is_tensor(t)]
                   if isinstance(value, tuple) else [])
        for label, tensor in tensors:
            key = f"tensor{id(tensor)}"
            nodes.setdefault(key, f"{label} ({', '.join(map(str, tensor.shape))})")
            edges.append((key, id(node)))


def _autograd_words(outputs, params: dict, show_saved: bool = False
                    ) -> tuple[tuple[str, ...], int]:
    """What torchviz draws of the graph behind ``outputs``: a node per backward function,
    per named leaf (with its shape), per output and (``show_saved``) per saved tensor, as
    torchviz names it ("self (3)"), from the inputs on; and its arrows."""
    names = {id(tensor): name for name, tensor in params.items()}
    nodes, edges, stack, seen = {}, [], [], set()
    for number, output in enumerate(outputs):
        key = f"output{number}"
        nodes[key] = f"({', '.join(map(str, output.shape))})"
        if output.grad_fn is not None:
            edges.append((id(output.grad_fn), key))
            stack.append(output.grad_fn)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        nodes[id(node)] = node.name().rsplit("::", 1)[-1]
        variable = getattr(node, "variable", None)
        if variable is not None:
            leaf = f"tensor{id(variable)}"
            shape = ", ".join(map(str, variable.shape))
            nodes[leaf] = f"{names.get(id(variable), '')} ({shape})".strip()
            edges.append((leaf, id(node)))
        for child, _ in node.next_functions:
            if child is not None:
                edges.append((id(child), id(node)))
                stack.append(child)
        if show_saved:
            _saved_words(node, nodes, edges)
    order = _inputs_first(list(nodes), edges)
    return tuple(nodes[key] for key in order), len(edges)


def torchviz_drawing(digraph: graphviz.Digraph, outputs, params: dict | None = None,
                     show_saved: bool = False) -> Drawing:
    """torchviz's ``make_dot`` result as a ``Drawing``: its DOT in every palette (set through
    graphviz's own attributes), its words from the autograd graph of ``outputs`` (with the
    saved tensors when ``make_dot`` was asked to draw them)."""
    dots = {}
    for palette in PALETTES:
        styled = digraph.copy()                  # the program's own Digraph stays as made
        style = _torchviz_style(palette)
        styled.graph_attr.update(style["graph"])
        styled.node_attr.update(style["node"])
        styled.edge_attr.update(style["edge"])
        dots[palette.name] = _stable_ids(styled.source)
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    words, arrows = _autograd_words([o for o in outputs if hasattr(o, "grad_fn")],
                                    params or {}, show_saved)
    return Drawing(dots, words, arrows)


def draw_torchviz(y, x, show_attrs: bool = False, show_saved: bool = False) -> Drawing:
    """``make_dot(y, params={"x": x})`` drawn: call it before ``backward()``, which frees the
    saved tensors ``show_saved`` draws."""
    from torchviz import make_dot

    digraph = make_dot(y, params={"x": x}, show_attrs=show_attrs, show_saved=show_saved)
    return torchviz_drawing(digraph, y, {"x": x}, show_saved)


# ---- export ------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def dot_available() -> bool:
    """True when Graphviz's ``dot`` program is installed (needed for SVG/PNG only); asked
    once per process (every graph panel asks)."""
    return shutil.which("dot") is not None


class ExportUnavailable(RuntimeError):
    pass


def export(dot_source: str, fmt: str) -> bytes:
    """The graph as DOT text, or rendered to SVG/PNG by Graphviz's ``dot``."""
    if fmt == "dot":
        return dot_source.encode()
    if fmt not in EXPORT_FORMATS:
        raise ValueError(fmt)
    if not dot_available():
        raise ExportUnavailable("dot")
    return graphviz.Source(dot_source).pipe(format=fmt)
