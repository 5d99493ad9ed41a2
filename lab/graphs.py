"""Drawing the computational graph: torchviz's ``make_dot``, and export to SVG/PNG."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass

import graphviz

from lab import formula as formulas
from lab.formula import forward
from lab.gradients import DTYPES, code
from lab.i18n import comment
from lab.palette import SCREEN, Palette
from lab.xvalues import XSpec

EXPORT_FORMATS = ("dot", "svg", "png")
TORCHVIZ_FONT = 14              # points; torchviz's 10 read as ~8 px on a page
# The kinds of node torchviz draws, each in its own colour (named in the catalogue text).
TORCHVIZ_LEGEND = ("graph.legend_leaf", "graph.legend_function", "graph.legend_output",
                   "graph.legend_saved")


def torchviz_code(text: str, x_spec: XSpec, reduce: str, dtype: str, show_attrs: bool,
                  show_saved: bool) -> str:
    """The run's script with ``make_dot`` called before ``backward()`` (which frees saved tensors)."""
    args = ['y', 'params={"x": x}']
    if show_attrs:
        args.append("show_attrs=True")
    if show_saved:
        args.append("show_saved=True")
    drawing = ("from torchviz import make_dot\n"
               f"dot = make_dot({', '.join(args)})\n"
               "print(dot.source)  " + comment("torchviz.code_render"))
    return code(formulas.parse(text), x_spec, reduce, dtype, before_backward=drawing)


def _stable_ids(source: str) -> str:
    """torchviz names nodes by ``id()``; renumber them so the same graph gives the same DOT."""
    mapping: dict[str, str] = {}

    def rename(match: re.Match) -> str:
        return mapping.setdefault(match.group(0), f"n{len(mapping) + 1}")

    return re.sub(r"\b\d{6,}\b", rename, source)


def torchviz_dot(text: str, x_spec: XSpec, reduce: str = "mean", dtype: str = "float32",
                 show_attrs: bool = False, show_saved: bool = False) -> str:
    """``make_dot(y, params={"x": x})`` on a fresh forward pass, as DOT text."""
    formula = formulas.parse(text)
    x = x_spec.tensor(DTYPES[dtype])
    return drawing_of(forward(formula, x, reduce)["y"], x, show_attrs, show_saved)


def drawing_of(y, x, show_attrs: bool = False, show_saved: bool = False) -> str:
    """torchviz's drawing of the graph that ends in ``y`` (call it before ``backward()``,
    which frees the saved tensors ``show_saved`` draws), as stable DOT text."""
    from torchviz import make_dot

    dot = make_dot(y, params={"x": x}, show_attrs=show_attrs, show_saved=show_saved)
    return styled(_stable_ids(dot.source), SCREEN)


def _defaults(palette: Palette) -> dict[str, dict[str, str]]:
    graph = {"bgcolor": palette.graph_background}
    if palette.graph_size:
        graph["size"] = palette.graph_size
    return {"graph": graph,
            # a filled node without its own fill takes its border's colour: say grey
            "node": {"fontsize": f"{TORCHVIZ_FONT * palette.graph_font_scale:g}",
                     "color": palette.graph_ink,
                     "fillcolor": "lightgrey",
                     "fontcolor": palette.graph_ink,
                     "penwidth": f"{palette.graph_node_width:g}"},
            "edge": {"color": palette.graph_line, "fontcolor": palette.graph_line,
                     "penwidth": f"{palette.graph_edge_width:g}"}}


_ATTRIBUTE_LINE = re.compile(r"^(\s*)(graph|node|edge) \[(.*)\]\s*$", re.MULTILINE)


def styled(source: str, palette: Palette) -> str:
    """A drawing's DOT with ``palette``'s ground, ink, lines and type as its defaults.

    Each default goes at the end of the drawing's first ``graph [...]``, ``node [...]``
    and ``edge [...]`` statement (in a DOT attribute list the last value of a name wins),
    so colours a node sets itself (torchviz's fills, page 6's current step) are kept.
    """
    missing = {kind: " ".join(f'{name}="{value}"' for name, value in attributes.items())
               for kind, attributes in _defaults(palette).items()}

    def extend(match: re.Match) -> str:
        indent, kind, attributes = match.groups()
        added = missing.pop(kind, None)
        return match.group(0) if added is None else f"{indent}{kind} [{attributes} {added}]"

    source = _ATTRIBUTE_LINE.sub(extend, source)
    if missing:                     # a drawing without some of the three statements
        head, brace, body = source.partition("{")
        lines = "".join(f"\n\t{kind} [{added}]" for kind, added in missing.items())
        source = head + brace + lines + body
    return source


@dataclass(frozen=True)
class Drawing:
    """What a drawing shows, for its text alternative: node labels in DOT order, edges."""
    nodes: tuple[str, ...]
    edges: int


_NODE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\w+) \[(.*)\]\s*$')
_LABEL = re.compile(r'label=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_EDGE = re.compile(r'^\s*("(?:[^"\\]|\\.)*"|\w+) -> ("(?:[^"\\]|\\.)*"|\w+)(.*)$')


def _unquote(text: str) -> str:
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
    return " ".join(text.split())


def _one_line_statements(source: str) -> str:
    """``source`` with the line breaks inside quoted strings written as ``\\n`` (torchviz
    puts raw ones in its labels), so that every statement sits on a line of its own."""
    out, quoted, escaped = [], False, False
    for char in source:
        if quoted and char == "\n":
            out.append("\\n")
            continue
        out.append(char)
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
    return "".join(out)


def drawing(source: str) -> Drawing:
    """Read back the nodes and edges of a DOT drawing the lab made (torchviz's or page
    6's), nodes in the order the forward pass reaches them (inputs first). Legend entries
    (ids ``legend_…``) and invisible edges are not part of it."""
    labels: dict[str, str] = {}
    edges: list[tuple[str, str]] = []
    for line in _one_line_statements(source).splitlines():
        edge = _EDGE.match(line)
        if edge:
            if "invis" not in edge.group(3):
                edges.append((_unquote(edge.group(1)), _unquote(edge.group(2))))
            continue
        node = _NODE.match(line)
        name = _unquote(node.group(1)) if node else ""
        if node and name not in ("graph", "node", "edge") and not name.startswith("legend_"):
            label = _LABEL.search(node.group(2))
            labels[name] = _unquote(label.group(1)) if label else name
    return Drawing(tuple(labels[name] for name in _inputs_first(list(labels), edges)),
                   len(edges))


def _inputs_first(names: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """``names`` in topological order (Kahn), ties in their DOT order."""
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
    return order + [name for name in names if name not in order]       # a cycle: as drawn


def dot_available() -> bool:
    """True when Graphviz's ``dot`` program is installed (needed for SVG/PNG only)."""
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
