"""Drawing the computational graph: torchviz's ``make_dot``, and export to SVG/PNG."""

from __future__ import annotations

import re
import shutil

import graphviz

from lab import formula as formulas
from lab.formula import forward
from lab.gradients import DTYPES, code
from lab.i18n import comment
from lab.xvalues import XSpec

EXPORT_FORMATS = ("dot", "svg", "png")
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
    dot.graph_attr.update(bgcolor="transparent")
    dot.node_attr.update(fontsize="14")         # torchviz's 10 pt reads as ~8 px on a page
    dot.edge_attr.update(color="#7f7f7f")
    return _stable_ids(dot.source)


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
